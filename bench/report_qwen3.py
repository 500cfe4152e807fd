"""report_qwen3.py RESULTS.jsonl: the Markdown table of `make bench-qwen3`:
per shape, threads and weight type, ember's best median over the rounds
against each peer's (llama.cpp in each mode it ran, ONNX Runtime), and the
ratio within each round (median, range), as bench/report.py does for the
BERT shapes.  llama.cpp runs the same GGUF file as ember (same weight type);
ONNX Runtime runs the float32 ONNX graph only, so each of ember's f32 and
bf16 rows is set against ORT f32."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    key = (r["engine"], r["kind"], r["batch"], r.get("tokens"), r["threads"], r["dtype"])
    if r["engine"] != "ember":  # a peer's token count is its prompt's; the shape is ember's
        key = (r["engine"] + (" " + r["mode"] if "mode" in r else ""), r["kind"], r["batch"], None, r["threads"], r["dtype"])
    groups.setdefault(key, []).append(r)


def versus(em, peer):
    """The peer's best median, ember's speed-up on the best medians, and the
    speed-up paired round by round (when both ran the same rounds)."""
    if not peer:
        return None, "", ""
    best = min(em, key=lambda r: r["median_ms"])
    pbest = min(peer, key=lambda r: r["median_ms"])
    paired = ""
    if len(peer) == len(em):
        p = [q["median_ms"] / e["median_ms"] for e, q in zip(em, peer)]
        paired = f"{statistics.median(p):.2f}x ({min(p):.2f}-{max(p):.2f}, {len(p)})"
    return pbest, f"{pbest['median_ms'] / best['median_ms']:.2f}x", paired


def ms(r):
    return f"{r['median_ms']:.1f}" if r else ""


def check(r):  # the check's text ("max |logit diff| ...") inside a table cell
    return r.get("check", "").replace("|", "\\|") if r else ""


def rss(r):
    return f"{r['max_rss_mb']:.0f}" if r else "-"


cpu = next((r.get("cpu", "") + " (family " + r.get("cpu_family", "?") + ")" for r in rows), "")
print(f"CPU: {cpu}; ember's kernel table: {next((r.get('isa_used') for r in rows if r['engine'] == 'ember'), '?')}; "
      f"llama.cpp {next((r.get('llama_cpp') for r in rows if r['engine'] == 'llama.cpp'), 'not run')}; "
      f"ONNX Runtime {next((r.get('onnxruntime') for r in rows if r['engine'] == 'onnxruntime'), 'not run')}")
print()
print("| model | batch x tokens | threads | ember weights | peer | ember ms | peer ms | items/s ember | "
      "ember / peer | paired | peak RSS MB ember / peer | check |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
peers = sorted({k[0] for k in groups if k[0] != "ember"})
for key in sorted(k for k in groups if k[0] == "ember"):
    _, kind, B, L, T, dt = key
    em = groups[key]
    best = min(em, key=lambda r: r["median_ms"])
    for peer in peers:
        pdt = "f32" if peer == "onnxruntime" else dt
        pbest, ratio, paired = versus(em, groups.get((peer, kind, B, None, T, pdt), []))
        if not pbest:
            continue
        print(f"| {kind} | {B} x {L} | {T} | {dt} | {peer} {pdt} | {best['median_ms']:.1f} | {ms(pbest)} | "
              f"{best['per_s']:.2f} | {ratio} | {paired} | {best['max_rss_mb']:.0f} / {rss(pbest)} | {check(pbest)} |")
