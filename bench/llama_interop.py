"""llama_interop.py LLAMA_PEER FIXTURES OUT_DIR EMBED.gguf RERANK.gguf

ember's GGUF files of the tiny Qwen3 fixtures (qwen3-embed-tiny,
qwen3-rerank-tiny, converted by `ember convert`) run by llama.cpp through
bench/llama_peer, against the fixtures' float64 goldens: every untruncated,
uninstructed single case, once as llama.cpp runs by default (f16 K/V, flash
attention) and once with LLAMA_PEER_KV_F32=1 (f32 K/V, no flash attention),
the reranker in both of llama.cpp's modes (rank pooling, causal-LM logits).
Prints one line per configuration; exits 1 when the f32 configuration is
off by more than 1e-4 (normalised embedding components, logit(yes) -
logit(no)): the files would not mean the same to both engines."""
import json
import math
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen3_peers import rerank_prompt  # noqa: E402


def run(peer, gguf, text, mode, kv_f32, out_dir):
    tpath, opath = os.path.join(out_dir, "interop.txt"), os.path.join(out_dir, "interop.f32")
    with open(tpath, "w", encoding="utf-8") as f:
        f.write(text)
    env = dict(os.environ, LLAMA_PEER_KV_F32="1" if kv_f32 else "0")
    subprocess.run([peer, gguf, tpath, "1", "1", "1", opath, mode], env=env, check=True, capture_output=True)
    with open(opath, "rb") as f:
        d = f.read()
    return struct.unpack("%df" % (len(d) // 4), d)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    peer, fix, out_dir, emb, rr = sys.argv[1:]
    bad = False
    cases = [json.loads(l) for l in open(os.path.join(fix, "models/qwen3-embed-tiny/goldens.jsonl"))]
    cases = [c for c in cases if c.get("kind") == "single" and not c.get("truncated") and not c.get("instruction")]
    for kv in (False, True):
        worst = 0.0
        for c in cases:
            v = run(peer, emb, c["text"], "embed", kv, out_dir)
            n = math.sqrt(sum(x * x for x in c["embedding"]))
            worst = max(worst, max(abs(a - b / n) for a, b in zip(v, c["embedding"])))
        print(f"llama.cpp embed, {'f32 K/V' if kv else 'default f16 K/V + flash attention'}: {len(cases)} cases, "
              f"max |diff| from the golden {worst:.2e}")
        bad |= kv and worst > 1e-4
    cases = [json.loads(l) for l in open(os.path.join(fix, "models/qwen3-rerank-tiny/goldens.jsonl"))]
    cases = [c for c in cases if c.get("kind") == "single" and not c.get("truncated") and not c.get("instruction")
             and "logit_yes" in c]
    for mode in ("rerank", "rerank-lm"):
        for kv in (False, True):
            worst = max(abs(run(peer, rr, rerank_prompt(c["query"], c["document"]), mode, kv, out_dir)[0]
                            - (c["logit_yes"] - c["logit_no"])) for c in cases)
            print(f"llama.cpp {mode}, {'f32 K/V' if kv else 'default f16 K/V + flash attention'}: {len(cases)} "
                  f"pairs, max |logit diff| from the golden {worst:.2e}")
            bad |= kv and worst > 1e-4
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
