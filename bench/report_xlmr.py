"""report_xlmr.py RESULTS.jsonl MODEL.gguf MODEL.onnx HF_DIR IDS.json CPU:
the Markdown report of `make bench-xlmr` (ember vs ONNX Runtime on an
XLM-R-base-shaped cross-encoder): per thread count each engine's best median
over the rounds, pairs/s, ember's speed over ORT's on those and paired round
by round (median, range, count), peak RSS, and the weights a run touches
against ember's peak RSS (the embedding table must stay mapped, not copied).
Standard library only."""
import datetime
import json
import os
import statistics
import struct
import sys

from cpu_desc import describe

res, gguf, onnx_path, hf, ids_path, cpu = sys.argv[1:7]
rows = [json.loads(l) for l in open(res) if l.strip()]
MB = 1048576.0


def weights(path):
    """(bytes of every tensor but the word embeddings, word-embedding bytes, bytes a row) from the header"""
    with open(path, "rb") as f:
        hdr = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    other = table = row = 0
    for name, t in hdr.items():
        if name == "__metadata__":
            continue
        n = t["data_offsets"][1] - t["data_offsets"][0]
        if name.endswith("embeddings.word_embeddings.weight"):
            table, row = n, n // t["shape"][0]
        else:
            other += n
    return other, table, row


other, table, row = weights(os.path.join(hf, "model.safetensors"))
used = {i for r in json.load(open(ids_path))["ids"] for i in r}
# the rows the ids select; the pages holding them add at most a page a row either side
# the GGUF's keys and vocabulary (250,002 pieces and scores), read at load:
# the file less its tensors (those are the checkpoint's, but for the
# 2 position rows XLM-R never reads)
meta = max(0, os.path.getsize(gguf) - other - table)
touched = other + len(used) * row + meta
cfg = json.load(open(os.path.join(hf, "config.json")))


def size(p):
    return f"{os.path.getsize(p) / MB:,.1f}" if os.path.exists(p) else "-"


by = {}
for r in rows:
    by.setdefault((r["engine"], r["threads"]), []).append(r)
ember_rows = [r for r in rows if r["engine"] == "ember"]
B, L = (ember_rows[0]["batch"], ember_rows[0]["tokens"]) if ember_rows else (0, 0)
ort_v = next((r.get("ort_version") for r in rows if r["engine"] == "onnxruntime"), None)
rounds = max((len(v) for v in by.values()), default=0)
print("# XLM-R base cross-encoder: ember vs ONNX Runtime\n")
print(f"Made by `make bench-xlmr` (bench/run_xlmr.sh) on {datetime.date.today()}, CPU: {describe(cpu.strip())}, "
      f"{os.cpu_count()} cores; each engine in its own process.  Model: random weights "
      f"(bench/gen_xlmr.py: transformers' XLMRobertaForSequenceClassification) with XLM-R base's shapes: hidden "
      f"{cfg['hidden_size']}, {cfg['num_hidden_layers']} layers, {cfg['num_attention_heads']} heads, FFN "
      f"{cfg['intermediate_size']}, vocab {cfg['vocab_size']:,}, f32; ember runs it converted by `ember convert`, "
      f"ONNX Runtime {ort_v or '(not run)'} the same weights exported by bench/export_onnx.py, on ember's token ids, "
      f"with intra-op threads = the row's threads.  1 query x {B} documents, {L} tokens a pair.  Outputs checked "
      f"equal before a timing counts (max |logit diff| < {os.environ.get('TOL', '1e-4')}, `check`; "
      f"and against transformers' own float32 forward first).  Times: min / median over the repeats "
      f"after warm-up, {rounds} interleaved round(s); each engine's best median is kept; `paired` is ORT's median "
      f"over ember's in the same round (median, range, count).\n")
print("| threads | engine | min ms | median ms | pairs/s | ember / ORT | paired | peak RSS MB | check |")
print("|---|---|---|---|---|---|---|---|---|")
for T in sorted({r["threads"] for r in rows}):
    em, ort = by.get(("ember", T), []), by.get(("onnxruntime", T), [])
    for eng, rs in (("ember", em), ("onnxruntime", ort)):
        if not rs:
            continue
        best = min(rs, key=lambda r: r["median_ms"])
        ratio = paired = ""
        if eng == "ember" and ort:
            ratio = f"{min(r['median_ms'] for r in ort) / best['median_ms']:.2f}x"
            p = [o["median_ms"] / e["median_ms"] for e, o in zip(em, ort)]
            paired = f"{statistics.median(p):.2f}x ({min(p):.2f}-{max(p):.2f}, {len(p)})"
        name = f"ember {best.get('isa_used', '')}".strip() if eng == "ember" else "onnxruntime"
        rss = max(r["max_rss_mb"] for r in rs)
        check = best.get("check", "").replace("|", "\\|")
        print(f"| {T} | {name} | {best['min_ms']:.1f} | {best['median_ms']:.1f} | {B / best['median_ms'] * 1e3:,.1f} | "
              f"{ratio} | {paired} | {rss:,.0f} | {check} |")
print()
print("| weights | MB |\n|---|---|")
print(f"| model.safetensors (HF) | {size(os.path.join(hf, 'model.safetensors'))} |")
print(f"| GGUF (ember) | {size(gguf)} |")
print(f"| ONNX (ORT) | {size(onnx_path)} |")
print(f"| word-embedding table | {table / MB:,.1f} |")
print(f"| touched: every tensor but the word embeddings ({other / MB:,.1f}) + the {len(used)} embedding rows the "
      f"ids use ({len(used) * row / MB:.2f}) + the GGUF's keys and vocabulary, read at load ({meta / MB:.1f}) "
      f"| {touched / MB:,.1f} |")
print("\nONNX Runtime's peak RSS holds the graph's initializers, which it reads from the .onnx file into its own "
      "memory (the embedding table included); ember maps its GGUF file and touches the pages it reads.")
if ember_rows:
    rss = max(r["max_rss_mb"] for r in ember_rows)
    ctx = max(r["ctx_mb"] for r in ember_rows)
    within = lambda x: "within" if rss <= x else "OVER"  # noqa: E731
    print(f"\nember's peak RSS: {rss:,.0f} MB; touched weights + 64 MB = {touched / MB + 64:,.0f} MB: "
          f"{within(touched / MB + 64)}; with its context scratch ({ctx:,.1f} MB allocated for the largest shape, "
          f"the activations of {B} x {L} tokens among them) = {touched / MB + ctx + 64:,.0f} MB: "
          f"{within(touched / MB + ctx + 64)}.  A copied embedding table would add {table / MB:,.0f} MB.")
