"""tok_corpus.py SOURCE OUT [--size BYTES] [--seed S] [--doc-min B] [--doc-max B]

The corpus of `make bench-tokenizers`: documents of mixed-language text built
from the real lines of SOURCE (tests/check/real_sentences.txt; lines starting
with '#' are its header), one document per line of OUT.  Deterministic for a
given SOURCE, size and seed (Python's random.Random, stable across Python 3
versions): the lines are shuffled, taken in that order (shuffled again each
time they run out) and joined by a space into documents of a length drawn
uniformly from doc-min .. doc-max bytes (a document ends after the line that
reaches its length, so one may be longer), until the documents hold at least
--size bytes.  Standard library only: no venv needed.  Prints one line with
the counts and the corpus's SHA-256."""
import argparse
import hashlib
import random
import sys


def build(lines, size, seed, doc_min, doc_max):
    rng = random.Random(seed)
    order, pos, total, docs = [], 0, 0, []
    while total < size:
        want = rng.randint(doc_min, doc_max)
        parts, n = [], 0
        while n < want:
            if pos == len(order):
                order = list(lines)
                rng.shuffle(order)
                pos = 0
            line = order[pos]
            pos += 1
            parts.append(line)
            n += len(line) + (1 if len(parts) > 1 else 0)
        doc = b" ".join(parts)
        docs.append(doc)
        total += len(doc)
    return docs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=10_000_000, help="bytes of text, newlines not counted")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--doc-min", type=int, default=256)
    ap.add_argument("--doc-max", type=int, default=4096)
    a = ap.parse_args()
    if a.size < 1 or a.doc_min < 1 or a.doc_max < a.doc_min:
        sys.exit("tok_corpus: --size and --doc-min must be >= 1 and --doc-max >= --doc-min")
    # bytes, split on '\n' only: a line may hold other separators (tabs here;
    # U+2028 or CR would be split by Python's text-mode line reading)
    with open(a.source, "rb") as f:
        lines = [l for l in f.read().split(b"\n") if l and not l.startswith(b"#")]
    if not lines:
        sys.exit(f"tok_corpus: no text lines in {a.source}")
    for l in lines:
        l.decode("utf-8")  # the tokenizers refuse invalid UTF-8: say it here
    docs = build(lines, a.size, a.seed, a.doc_min, a.doc_max)
    data = b"\n".join(docs) + b"\n"
    with open(a.out, "wb") as f:
        f.write(data)
    print(f"tok_corpus: {a.out}: {len(docs)} documents, {sum(map(len, docs))} bytes of text "
          f"from {len(lines)} lines (seed {a.seed}), sha256 {hashlib.sha256(data).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
