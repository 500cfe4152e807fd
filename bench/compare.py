"""compare.py EMBER.f32 PEER.f32 KIND BATCH [TOL]: prints the agreement check
and exits 1 if it fails.  KIND cross / qwen3-rerank: logits, max |diff| <
TOL (1e-3); embed / qwen3-embed: min cosine >= 1 - TOL (1e-4) per row;
KIND ending in -abs (qwen3-embed-abs): max |diff| of the vectors < TOL (1e-4)."""
import struct
import sys

a, b, kind, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = open(a, "rb").read()
y = open(b, "rb").read()
n = len(x) // 4
if len(y) != len(x):
    print("FAIL size mismatch")
    sys.exit(1)
x = struct.unpack(f"{n}f", x)
y = struct.unpack(f"{n}f", y)
if kind in ("cross", "qwen3-rerank") or kind.endswith("-abs"):
    tol = float(sys.argv[5]) if len(sys.argv) > 5 else (1e-3 if not kind.endswith("-abs") else 1e-4)
    d = max(abs(p - q) for p, q in zip(x, y))
    what = "logit" if not kind.endswith("-abs") else "value"
    print(f"max |{what} diff| {d:.2e}" + ("" if d < tol else " FAIL"))
    sys.exit(0 if d < tol else 1)
tol = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-4
dim = n // batch
worst = 1.0
for i in range(batch):
    u, v = x[i * dim:(i + 1) * dim], y[i * dim:(i + 1) * dim]
    c = sum(p * q for p, q in zip(u, v)) / ((sum(p * p for p in u) * sum(q * q for q in v)) ** 0.5)
    worst = min(worst, c)
print(f"min cosine {worst:.6f}" + ("" if worst >= 1 - tol else " FAIL"))
sys.exit(0 if worst >= 1 - tol else 1)
