#!/usr/bin/env python3
"""What random weights cannot give (`make check-real`, after check_real.py).

    check_real_semantic.py --ember build/ember --gguf MODEL.gguf \
        --docs tests/check/real_search_docs.txt --work build/real \
        [--model-dir DIR] [--control RANDOM.gguf]

1. Paraphrases: every paraphrase pair scores (cosine of `ember embed`
   vectors) above every unrelated pair; the unrelated pairs are the first
   text of each paraphrase pair with the second text of the next one, so
   both sets use the same sentences.  With --model-dir, sentence-transformers'
   cosines are printed beside ember's.
2. Search: `ember index build` over the documents (one a line, ids from 0),
   then `ember search -k 3` for each question puts its answer first.  The
   bi-encoder alone: no package carries a trained cross-encoder as files.
3. With --control (a model of the same tokenizer and random weights, the
   shared fixtures' minilm-embed-tiny), the same two checks must NOT both
   hold: a check that random weights pass would prove nothing.
Exits 1 when a check fails.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

PARAPHRASES = [
    ("A man is playing a guitar.", "Someone is strumming a guitar."),
    ("The cat is sleeping on the sofa.", "A cat naps on the couch."),
    ("How do I reset my password?", "What are the steps to change a forgotten password?"),
    ("The stock market fell sharply today.", "Share prices dropped steeply in today's trading."),
    ("She bought a new car last week.", "Last week she purchased a new automobile."),
    ("The train to London was delayed by an hour.", "The London train arrived sixty minutes late."),
    ("It is raining heavily outside.", "There is a downpour outside right now."),
    ("The meeting has been moved to Friday.", "We rescheduled the meeting for Friday."),
    ("Children are playing football in the park.", "Kids are kicking a soccer ball around in the park."),
    ("The restaurant serves excellent Italian food.", "That restaurant has great Italian cuisine."),
    ("He is learning to speak Spanish.", "He is studying the Spanish language."),
    ("The doctor prescribed antibiotics for the infection.",
     "The physician gave her antibiotics to treat the infection."),
]
UNRELATED = [(PARAPHRASES[i][0], PARAPHRASES[(i + 1) % len(PARAPHRASES)][1])
             for i in range(len(PARAPHRASES))]

# question, id (line number from 0) of the answer in the documents
QUESTIONS = [
    ("How tall is the Eiffel Tower?", 3),
    ("What is the highest mountain in the world?", 5),
    ("How many bones does a grown-up person have?", 12),
    ("I forgot my login credentials, what should I do?", 29),
    ("When do I have to pay the bill?", 27),
    ("Which city is Germany's capital?", 1),
    ("How long should tea brew?", 17),
    ("Why does bread get bigger before baking?", 16),
    ("Who wrote the Git version control system?", 22),
    ("What happens when the moon blocks the sun?", 23),
]


def run(cmd, stdin=None):
    r = subprocess.run(cmd, capture_output=True, input=stdin)
    if r.returncode != 0:
        sys.exit("check-real: %s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                    r.stderr.decode(errors="replace").strip()))
    return r.stdout.decode()


def ember_vectors(ember, gguf, texts, work):
    path = os.path.join(work, "pairs.txt")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("".join(t + "\n" for t in texts))
    out = os.path.join(work, "pairs.npy")
    run([ember, "embed", "-m", gguf, "-i", path, "--format", "npy", "-o", out])
    return np.load(out)


def pair_scores(vec_of, pairs):
    return [float(np.dot(vec_of[a], vec_of[b])) for a, b in pairs]


def paraphrase_check(ember, gguf, work, st_model=None, quiet=False):
    texts = sorted({t for p in PARAPHRASES for t in p})
    v = ember_vectors(ember, gguf, texts, work)
    vec_of = dict(zip(texts, v))
    para, unrel = pair_scores(vec_of, PARAPHRASES), pair_scores(vec_of, UNRELATED)
    st_para = st_unrel = None
    if st_model is not None:
        r = st_model.encode(texts, normalize_embeddings=True)
        st_of = dict(zip(texts, r))
        st_para, st_unrel = pair_scores(st_of, PARAPHRASES), pair_scores(st_of, UNRELATED)
    holds = min(para) > max(unrel)
    if not quiet:
        for kind, pairs, sc, st in (("paraphrase", PARAPHRASES, para, st_para),
                                    ("unrelated", UNRELATED, unrel, st_unrel)):
            for k, (a, b) in enumerate(pairs):
                ref = "" if st is None else "  (sentence-transformers %.6f)" % st[k]
                print("    %-10s %.6f%s  %s | %s" % (kind, sc[k], ref, a, b))
    return holds, min(para), max(unrel)


def search_check(ember, gguf, docs, work, quiet=False):
    with open(docs, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    index = os.path.join(work, "facts.emb")
    run([ember, "index", "build", "-m", gguf, "-i", docs, "-o", index])
    right = 0
    for q, want in QUESTIONS:
        hits = [json.loads(l) for l in run([ember, "search", "-x", index, "-m", gguf, "-q", q, "-k", "3"]).splitlines()]
        first = hits[0]
        good = first["id"] == want
        right += good
        if not quiet:
            print("    %s %-50s -> %d %.4f (next %.4f)  %s%s"
                  % ("ok  " if good else "MISS", q, first["id"], first["score"], hits[1]["score"],
                     first["text"], "" if good else "   [wanted: %s]" % lines[want]))
    return right


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ember", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model-dir")
    ap.add_argument("--control")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    st_model = None
    if args.model_dir:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        st_model = SentenceTransformer(args.model_dir, device="cpu")
    ok = True

    print("check-real semantic: %d paraphrase pairs against %d unrelated pairs (%s)"
          % (len(PARAPHRASES), len(UNRELATED), args.gguf))
    holds, lo, hi = paraphrase_check(args.ember, args.gguf, args.work, st_model)
    print("  every paraphrase pair above every unrelated pair: %s (lowest paraphrase %.4f, "
          "highest unrelated %.4f)" % ("yes" if holds else "NO", lo, hi))
    ok &= holds

    print("check-real semantic: `ember search` (HNSW, cosine; bi-encoder alone, no trained "
          "cross-encoder at hand) over %s, %d questions" % (args.docs, len(QUESTIONS)))
    right = search_check(args.ember, args.gguf, args.docs, args.work)
    print("  answer first for %d of %d questions" % (right, len(QUESTIONS)))
    ok &= right == len(QUESTIONS)

    if args.control:
        cwork = os.path.join(args.work, "control")
        os.makedirs(cwork, exist_ok=True)
        c_holds, c_lo, c_hi = paraphrase_check(args.ember, args.control, cwork, quiet=True)
        c_right = search_check(args.ember, args.control, args.docs, cwork, quiet=True)
        print("  control, random weights (%s): paraphrases above unrelated: %s (lowest %.4f, "
              "highest unrelated %.4f); answer first for %d of %d"
              % (args.control, "yes" if c_holds else "no", c_lo, c_hi, c_right, len(QUESTIONS)))
        if c_holds and c_right == len(QUESTIONS):
            print("  the random-weight control passes too: these checks prove nothing")
            ok = False
    print("check-real semantic: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
