"""report_qwen3.py RESULTS.jsonl: the Markdown table of `make bench-qwen3`:
per shape, threads and weight type, ember's, llama.cpp's and ONNX Runtime's
best median over the rounds, and the ratio within each round (median, range),
as bench/report.py does for the BERT shapes.  llama.cpp runs the same GGUF
file as ember (same weight type); ONNX Runtime runs the float32 ONNX graph
only, so each of ember's f32 and bf16 rows is set against ORT f32."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    key = (r["engine"], r["kind"], r["batch"], r.get("tokens"), r["threads"], r["dtype"])
    if r["engine"] != "ember":  # a peer's token count is its prompt's; the shape is ember's
        key = (r["engine"], r["kind"], r["batch"], None, r["threads"], r["dtype"])
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
      f"ONNX Runtime {next((r.get('onnxruntime') for r in rows if r['engine'] == 'onnxruntime'), 'not run')}")
print()
print("| model | batch x tokens | threads | weights | ember ms | llama.cpp ms | ORT f32 ms | items/s ember | "
      "ember / llama.cpp | paired | ember / ORT f32 | paired | peak RSS MB ember / llama.cpp / ORT | check llama.cpp; ORT |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for key in sorted(k for k in groups if k[0] == "ember"):
    _, kind, B, L, T, dt = key
    em = groups[key]
    best = min(em, key=lambda r: r["median_ms"])
    lbest, lratio, lpaired = versus(em, groups.get(("llama.cpp", kind, B, None, T, dt), []))
    obest, oratio, opaired = versus(em, groups.get(("onnxruntime", kind, B, None, T, "f32"), []))
    print(f"| {kind} | {B} x {L} | {T} | {dt} | {best['median_ms']:.1f} | {ms(lbest)} | {ms(obest)} | "
          f"{best['per_s']:.2f} | {lratio} | {lpaired} | {oratio} | {opaired} | "
          f"{best['max_rss_mb']:.0f} / {rss(lbest)} / {rss(obest)} | "
          f"{check(lbest)}; {check(obest)} |")
