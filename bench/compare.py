"""compare.py EMBER.f32 ORT.f32 embed|cross BATCH: prints the agreement check
(min cosine for embeddings, max |diff| for logits); exits 1 if it fails."""
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
if kind == "cross":
    d = max(abs(p - q) for p, q in zip(x, y))
    print(f"max |logit diff| {d:.2e}" + ("" if d < 1e-3 else " FAIL"))
    sys.exit(0 if d < 1e-3 else 1)
dim = n // batch
worst = 1.0
for i in range(batch):
    u, v = x[i * dim:(i + 1) * dim], y[i * dim:(i + 1) * dim]
    c = sum(p * q for p, q in zip(u, v)) / ((sum(p * p for p in u) * sum(q * q for q in v)) ** 0.5)
    worst = min(worst, c)
print(f"min cosine {worst:.6f}" + ("" if worst >= 0.9999 else " FAIL"))
sys.exit(0 if worst >= 0.9999 else 1)
