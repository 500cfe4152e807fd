#!/usr/bin/env python3
"""ember against sentence-transformers on a trained model and real text
(`make check-real`, driven by tests/check/check_real.sh).

    check_real.py --ember build/ember --gguf MODEL.gguf --model-dir DIR \
                  --texts tests/check/real_sentences.txt --work build/real

DIR is the HuggingFace / sentence-transformers folder that MODEL.gguf was
converted from (f32).  Checks, over every text of the corpus:
  - token ids: `ember tokenize --max-length L` equals what
    SentenceTransformer.tokenize feeds the model (L = its max_seq_length), and
    for the texts longer than L, both keep the first L - 1 ids of the whole
    encoding and close with [SEP];
  - embeddings: `ember embed` against
    SentenceTransformer(DIR).encode(texts, normalize_embeddings=True):
    max |diff| <= 1e-5 in every component of every text;
  - neighbours: with the texts themselves as the corpus (each text's own row
    left out), every text has the same top-10 neighbours, in the same order.
    Two neighbours whose reference cosines differ by less than TIE (1e-6, an
    order of magnitude above the float32 noise of a cosine) may swap: a swap
    there is counted and shown, not failed; any other difference fails;
  - kernels: a subset (every 20th text and the first long ones) again under
    each EMBER_ISA given by --isa (default avx512,avx2,scalar; an ISA this CPU
    lacks is skipped with ember's note), within the same bound.
Prints the worst text with its figures; exits 1 on any failure.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

BOUND = 1e-5
TIE = 1e-6
TOP = 10


def read_texts(path):
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    return [l for l in lines if l.strip() and not l.startswith("#")]


def write_lines(path, texts):
    with open(path, "w", encoding="utf-8") as fh:
        for t in texts:
            fh.write(t + "\n")


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, env=env)
    if r.returncode != 0:
        sys.exit("check-real: %s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                    r.stderr.decode(errors="replace").strip()))
    return r


def ember_embed(args, path, out, isa=None):
    env = dict(os.environ)
    if isa:
        env["EMBER_ISA"] = isa
    t0 = time.perf_counter()
    r = run([args.ember, "embed", "-m", args.gguf, "-i", path, "--format", "npy", "-o", out], env)
    secs = time.perf_counter() - t0
    return np.load(out), secs, r.stderr.decode(errors="replace").strip()


def ember_tokenize(args, path, max_length=None):
    cmd = [args.ember, "tokenize", "-m", args.gguf, "-i", path]
    if max_length:
        cmd += ["--max-length", str(max_length)]
    out = run(cmd).stdout.decode()
    return [json.loads(l)["ids"] for l in out.splitlines()]


def short(t, n=110):
    t = t.replace("\t", "\\t")
    return t if len(t) <= n else t[:n] + "..."


def pooling(model):
    for m in model:
        cfg = getattr(m, "get_config_dict", lambda: {})()
        modes = [k[len("pooling_mode_"):] for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True]
        if "pooling_mode" in cfg:
            return str(cfg["pooling_mode"])
        if modes:
            return ",".join(modes)
    return "?"


def neighbours(emb):
    s = emb.astype(np.float64) @ emb.astype(np.float64).T
    np.fill_diagonal(s, -np.inf)
    # stable sort, best first; ties broken by index
    order = np.argsort(-s, axis=1, kind="stable")[:, :TOP]
    return order, s


def compare_neighbours(ref_emb, emb, texts):
    ref_order, ref_s = neighbours(ref_emb)
    order, _ = neighbours(emb)
    same_set = same_order = tie_swaps = 0
    failures = []
    for i in range(len(texts)):
        a, b = list(ref_order[i]), list(order[i])
        if set(a) == set(b):
            same_set += 1
        if a == b:
            same_order += 1
            continue
        # every position that differs must hold a neighbour whose reference
        # score is within TIE of the reference's own neighbour there (an
        # order swap, or a swap of the 10th with the 11th)
        row = ref_s[i]
        ok = all(abs(row[x] - row[y]) < TIE for x, y in zip(a, b) if x != y)
        if ok:
            tie_swaps += 1
        else:
            failures.append((i, a, b))
    return same_set, same_order, tie_swaps, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ember", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--isa", default="avx512,avx2,scalar")
    ap.add_argument("--name", default="model")
    ap.add_argument("--every", type=int, default=1, help="every Nth text only")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    import torch

    texts = read_texts(args.texts)[::args.every]
    path = os.path.join(args.work, "texts.txt")
    write_lines(path, texts)
    model = SentenceTransformer(args.model_dir, device="cpu")
    L = model.max_seq_length
    ok = True
    print("check-real [%s]: %d texts from %s%s; %s, max_seq_length %d, pooling %s; ember %s"
          % (args.name, len(texts), args.texts, " (every %d)" % args.every if args.every > 1 else "",
             args.model_dir, L, pooling(model), args.gguf))

    # token ids, what the model is fed
    ref_ids = []
    feed = getattr(model, "preprocess", None) or model.tokenize  # tokenize before 6.x
    for i in range(0, len(texts), 64):
        f = feed(texts[i:i + 64])
        for ids, mask in zip(f["input_ids"].tolist(), f["attention_mask"].tolist()):
            ref_ids.append([t for t, m in zip(ids, mask) if m])
    ids = ember_tokenize(args, path, L)
    full = ember_tokenize(args, path)
    bad = [i for i in range(len(texts)) if ids[i] != ref_ids[i]]
    long_ = [i for i in range(len(texts)) if len(full[i]) > L]
    cut_ok = [i for i in long_ if ids[i] == full[i][:L - 1] + [full[i][-1]]]
    print("  tokens: %d of %d texts give sentence-transformers' ids; %d texts over %d tokens "
          "(longest %d), %d of them cut to the first %d ids + [SEP] by both"
          % (len(texts) - len(bad), len(texts), len(long_), L, max(len(x) for x in full),
             len(cut_ok), L - 1))
    for i in bad[:5]:
        k = next(j for j, (x, y) in enumerate(zip(ids[i] + [None], ref_ids[i] + [None])) if x != y)
        print("    text %d differs at token %d: ember %s, sentence-transformers %s: %s"
              % (i + 1, k, ids[i][k:k + 5], ref_ids[i][k:k + 5], short(texts[i])))
    if bad or len(cut_ok) != len(long_):
        ok = False

    # embeddings
    t0 = time.perf_counter()
    with torch.inference_mode():
        ref = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    st_secs = time.perf_counter() - t0
    emb, em_secs, note = ember_embed(args, path, os.path.join(args.work, "emb.npy"))
    if emb.shape != ref.shape:
        sys.exit("check-real: ember gave %s vectors, sentence-transformers %s" % (emb.shape, ref.shape))
    diff = np.abs(emb.astype(np.float64) - ref.astype(np.float64)).max(axis=1)
    w = int(diff.argmax())
    cos = np.sum(emb.astype(np.float64) * ref, axis=1) / (
        np.linalg.norm(emb, axis=1) * np.linalg.norm(ref, axis=1))
    ntok = [len(x) for x in ids]
    print("  embeddings (%d dims): max |diff| %.3g (bound %g), median over texts %.3g, "
          "min cosine %.9f; %d texts over the bound; ember %.1f s, sentence-transformers %.1f s (%d tokens)"
          % (ref.shape[1], diff.max(), BOUND, float(np.median(diff)), cos.min(),
             int((diff > BOUND).sum()), em_secs, st_secs, sum(ntok)))
    print("    worst: text %d (%d tokens), |diff| %.3g: %s" % (w + 1, ntok[w], diff[w], short(texts[w])))
    lw = max(long_, key=lambda i: diff[i]) if long_ else None
    if lw is not None:
        print("    worst truncated text: text %d (%d tokens before the cut), |diff| %.3g"
              % (lw + 1, len(full[lw]), diff[lw]))
    for i in np.argsort(-diff)[: int(min(5, (diff > BOUND).sum()))]:
        print("    over the bound: text %d (%d tokens) |diff| %.3g: %s" % (i + 1, ntok[i], diff[i], short(texts[i])))
    if diff.max() > BOUND:
        ok = False

    # neighbours
    same_set, same_order, ties, failures = compare_neighbours(ref, emb, texts)
    print("  top-%d neighbours (the %d texts as corpus, self left out): same set for %d, "
          "same order for %d, %d differ only by swaps within %g of a tie, %d differ"
          % (TOP, len(texts), same_set, same_order, ties, TIE, len(failures)))
    for i, a, b in failures[:5]:
        print("    text %d: sentence-transformers %s, ember %s (text numbers): %s"
              % (i + 1, [int(x) + 1 for x in a], [int(x) + 1 for x in b], short(texts[i])))
    if failures:
        ok = False

    # the other kernels on a subset
    subset = sorted(set(range(0, len(texts), 20)) | set(long_[:4]))
    spath = os.path.join(args.work, "subset.txt")
    write_lines(spath, [texts[i] for i in subset])
    for isa in [x for x in args.isa.split(",") if x]:
        e, secs, note = ember_embed(args, spath, os.path.join(args.work, "emb-%s.npy" % isa), isa)
        if "not supported" in note:
            print("  EMBER_ISA=%s: skipped (%s)" % (isa, note))
            continue
        d = np.abs(e.astype(np.float64) - ref[subset]).max(axis=1)
        d_default = np.abs(e - emb[subset]).max()
        w = int(d.argmax())
        print("  EMBER_ISA=%s on %d texts (%d over %d tokens): max |diff| %.3g against "
              "sentence-transformers (text %d), %.3g against the default kernels; %.1f s"
              % (isa, len(subset), sum(1 for i in subset if i in long_), L, d.max(),
                 subset[w] + 1, d_default, secs))
        if d.max() > BOUND:
            ok = False

    print("check-real [%s]: %s" % (args.name, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
