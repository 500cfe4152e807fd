"""tok_peer.py TOKENIZER.json CORPUS EMBER_IDS [--repeats N] [--name NAME] [--no-special]

HuggingFace `tokenizers` (the Rust library behind transformers' fast
tokenizers) on the corpus of bench/bench_tokenizer.c, one thread, the same
protocol: every document whole (truncation and padding of the file turned
off), special tokens as usual.  Two modes, each one warm-up pass then N timed
passes: `encode` (Tokenizer.encode per document in a Python loop) and
`encode_batch` (all documents in one call, run serially: TOKENIZERS_PARALLELISM
false, RAYON_NUM_THREADS 1).  Each warm-up's ids are compared with ember's
(EMBER_IDS, written by bench_tokenizer --ids-out) before its timing counts: on
the first document that differs, it prints the document and both id lists
around the first difference and exits 1.  Prints one JSON line per mode."""
import os

# before tokenizers is imported: its Rayon pool and its parallelism switch
# are read once
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from array import array  # noqa: E402

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def read_docs(path):
    # bytes, split on '\n' only, as bench_tokenizer.c does (text mode would
    # also split on CR)
    with open(path, "rb") as f:
        return [l.decode("utf-8") for l in f.read().split(b"\n") if l]


def read_ember_ids(path, n_docs):
    """ember's ids as one int32 array, and each document's (start, count) in it."""
    a = array("i")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    spans, p = [], 0
    for _ in range(n_docs):
        if p >= len(a):
            sys.exit(f"tok_peer: {path} ends after {len(spans)} documents of {n_docs}")
        spans.append((p + 1, a[p]))
        p += 1 + a[p]
    if p != len(a):
        sys.exit(f"tok_peer: {path} holds more than {n_docs} documents")
    return a, spans


def check(mode, docs, i, got, ember):
    """Exits, saying where, when document i's ids (got) differ from ember's."""
    a, spans = ember
    s, n = spans[i]
    if array("i", got) == a[s:s + n]:
        return
    w = a[s:s + n].tolist()
    k = next((j for j in range(min(len(got), n)) if got[j] != w[j]), min(len(got), n))
    lo = max(0, k - 5)
    print(f"tok_peer: {mode}: document {i} differs from ember at id {k} "
          f"(tokenizers {len(got)} ids, ember {n}):\n"
          f"  text: {docs[i][:300]!r}{'...' if len(docs[i]) > 300 else ''}\n"
          f"  tokenizers ids[{lo}:]: {got[lo:k + 10]}\n"
          f"  ember      ids[{lo}:]: {w[lo:k + 10]}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tokenizer")
    ap.add_argument("corpus")
    ap.add_argument("ember_ids")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--name", default=None)
    ap.add_argument("--no-special", action="store_true")
    a = ap.parse_args()
    if a.repeats < 1:
        sys.exit("tok_peer: --repeats must be >= 1")
    tok = Tokenizer.from_file(a.tokenizer)
    # bert-base-uncased's file pads and cuts to 128: every document whole, as ember
    tok.no_truncation()
    tok.no_padding()
    docs = read_docs(a.corpus)
    ember = read_ember_ids(a.ember_ids, len(docs))
    special = not a.no_special
    nbytes = sum(len(d.encode("utf-8")) for d in docs)

    def run_encode():
        for d in docs:
            tok.encode(d, add_special_tokens=special)  # freed at once, as ember's buffer is reused

    def run_batch():
        tok.encode_batch(docs, add_special_tokens=special)  # freed inside the timing too

    # the warm-up passes also check every document's ids
    def warm_encode():
        tokens = 0
        for i, d in enumerate(docs):
            ids = tok.encode(d, add_special_tokens=special).ids
            check("encode", docs, i, ids, ember)
            tokens += len(ids)
        return tokens

    def warm_batch():
        tokens = 0
        for i, e in enumerate(tok.encode_batch(docs, add_special_tokens=special)):
            ids = e.ids
            check("encode_batch", docs, i, ids, ember)
            tokens += len(ids)
        return tokens

    for mode, warm, run in (("encode", warm_encode, run_encode), ("encode_batch", warm_batch, run_batch)):
        tokens = warm()
        wall, cpu = [], []
        for _ in range(a.repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            run()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        med = sorted(wall)[a.repeats // 2]
        print(json.dumps({
            "engine": "tokenizers", "version": tokenizers.__version__,
            "tokenizer": a.name or a.tokenizer, "mode": mode, "threads": 1,
            "docs": len(docs), "bytes": nbytes, "tokens": tokens, "repeats": a.repeats,
            "times_s": [round(t, 4) for t in wall], "median_s": round(med, 4),
            "cpu_median_s": round(sorted(cpu)[a.repeats // 2], 4),
            "mb_per_s": round(nbytes / 1e6 / med, 3), "mb_per_s_best": round(nbytes / 1e6 / min(wall), 3),
            "tokens_per_s": round(tokens / med), "check": "ids equal ember's on every document"}), flush=True)


if __name__ == "__main__":
    main()
