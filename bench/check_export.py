"""Proves bench/export_onnx.py before it is used as a peer: a float64 numpy
BERT forward of our own must match the fixture goldens, and the exported ONNX
model run by ONNX Runtime (bench/ort_bench.py) must match them too.

    check_export.py FIXTURE_DIR WORK_DIR      (exit 0 = both checks pass)

FIXTURE_DIR: e.g. ../shared/fixtures/models/minilm-embed-tiny,
minilm-cross-tiny or xlmr-cross-tiny (goldens.jsonl with input_ids and embedding_normalized or
logits).  Runs in the venv of bench/venv.sh (numpy, onnx, onnxruntime from
PyPI); the exporter and the ORT peer run on the same python."""
import json
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_onnx import read_safetensors  # noqa: E402

TOL = 1e-5


def forward64(cfg, W, ids, tt):
    """One unpadded sequence, float64 throughout."""
    pre = next((p for p in ("bert.", "roberta.") if any(k.startswith(p) for k in W)), "")
    roberta = pre == "roberta."
    w = lambda n: W[pre + n].astype(np.float64)  # noqa: E731
    H, nh, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    hd, eps = H // nh, float(cfg.get("layer_norm_eps", 1e-12))
    erf = np.vectorize(math.erf)

    def ln(x, n):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w(n + ".weight") + w(n + ".bias")

    def lin(x, n):
        return x @ w(n + ".weight").T + w(n + ".bias")

    S = len(ids)
    # XLM-R: positions from padding_idx + 1 (no pad id inside an unpadded row)
    p0 = int(cfg.get("pad_token_id", 1)) + 1 if roberta else 0
    x = w("embeddings.word_embeddings.weight")[ids] + w("embeddings.position_embeddings.weight")[p0:p0 + S] \
        + w("embeddings.token_type_embeddings.weight")[tt]
    x = ln(x, "embeddings.LayerNorm")
    for l in range(L):
        p = f"encoder.layer.{l}."
        q = lin(x, p + "attention.self.query").reshape(S, nh, hd).transpose(1, 0, 2)
        k = lin(x, p + "attention.self.key").reshape(S, nh, hd).transpose(1, 0, 2)
        v = lin(x, p + "attention.self.value").reshape(S, nh, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        c = (s @ v).transpose(1, 0, 2).reshape(S, H)
        x = ln(lin(c, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        f = lin(x, p + "intermediate.dense")
        g = 0.5 * f * (1.0 + erf(f / math.sqrt(2.0)))
        x = ln(lin(g, p + "output.dense") + x, p + "output.LayerNorm")
    if cfg["architectures"][0].endswith("ForSequenceClassification"):
        c = lambda n: W[n].astype(np.float64)  # noqa: E731  (the head has no model prefix)
        if roberta:
            t = np.tanh(x[0] @ c("classifier.dense.weight").T + c("classifier.dense.bias"))
            return t @ c("classifier.out_proj.weight").T + c("classifier.out_proj.bias")
        t = np.tanh(lin(x[0], "pooler.dense"))
        return t @ c("classifier.weight").T + c("classifier.bias")
    m = x.mean(0)
    return m / np.linalg.norm(m)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    fix, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    cfg = json.load(open(os.path.join(fix, "config.json")))
    W = read_safetensors(os.path.join(fix, "model.safetensors"))
    cross = cfg["architectures"][0].endswith("ForSequenceClassification")
    key = "logits" if cross else "embedding_normalized"
    gold = [json.loads(s) for s in open(os.path.join(fix, "goldens.jsonl")) if s.strip()]
    gold = [g for g in gold if key in g and "input_ids" in g]
    rows = []  # batch goldens become one unpadded row each (the bench never pads)
    for g in gold:
        if g["input_ids"] and isinstance(g["input_ids"][0], list):
            for i, m in enumerate(g["attention_mask"]):
                n = sum(m)
                rows.append({"input_ids": g["input_ids"][i][:n], "token_type_ids": g["token_type_ids"][i][:n],
                             key: g[key][i]})
        else:
            rows.append(g)
    gold = rows
    if not gold:
        sys.exit(f"check_export: no goldens with input_ids and {key} in {fix}")

    worst_ref = 0.0
    for g in gold:
        ref = forward64(cfg, W, g["input_ids"], g["token_type_ids"])
        worst_ref = max(worst_ref, float(np.abs(ref - np.asarray(g[key])).max()))
    print(f"numpy float64 reference vs goldens: {len(gold)} inputs, max |diff| {worst_ref:.2e}")

    onnx_path = os.path.join(work, "fixture.onnx")
    subprocess.run([sys.executable, os.path.join(here, "export_onnx.py"), fix, onnx_path], check=True)
    worst_ort = 0.0
    by_len = {}
    for g in gold:
        by_len.setdefault(len(g["input_ids"]), []).append(g)
    for n, group in sorted(by_len.items()):
        ids_path, out_path = os.path.join(work, "ids.json"), os.path.join(work, "ort.f32")
        json.dump({"ids": [g["input_ids"] for g in group], "type_ids": [g["token_type_ids"] for g in group]},
                  open(ids_path, "w"))
        subprocess.run([sys.executable, os.path.join(here, "ort_bench.py"), onnx_path, ids_path, "1", "1", out_path],
                       check=True, stdout=subprocess.DEVNULL)
        got = np.fromfile(out_path, dtype=np.float32).reshape(len(group), -1)
        for row, g in zip(got, group):
            worst_ort = max(worst_ort, float(np.abs(row - np.asarray(g[key])).max()))
    print(f"ONNX Runtime on the export vs goldens: {len(gold)} inputs, max |diff| {worst_ort:.2e}")
    ok = worst_ref < TOL and worst_ort < TOL
    print("check_export: " + ("PASS" if ok else f"FAIL (tolerance {TOL})"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
