"""report_qwen3.py RESULTS.jsonl: the Markdown table of `make bench-qwen3`:
per shape, threads and weight type, ember's and llama.cpp's best median
over the rounds, and the ratio within each round (median, range), as
bench/report.py does for the BERT shapes."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    key = (r["kind"], r["batch"], r.get("tokens"), r["threads"], r["dtype"])
    if r["engine"] == "llama.cpp":  # its token count is the prompt's; the shape is ember's
        key = (r["kind"], r["batch"], None, r["threads"], r["dtype"])
    groups.setdefault(key, []).append(r)
cpu = next((r.get("cpu", "") + " (family " + r.get("cpu_family", "?") + ")" for r in rows), "")
print(f"CPU: {cpu}; ember's kernel table: {next((r.get('isa_used') for r in rows if r['engine'] == 'ember'), '?')}")
print()
print("| model | batch x tokens | threads | weights | ember ms | llama.cpp ms | items/s ember | ember / llama.cpp | paired | peak RSS MB ember / llama.cpp | check |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for key in sorted(k for k in groups if k[2] is not None):
    kind, B, L, T, dt = key
    em = [r for r in groups[key] if r["engine"] == "ember"]
    ll = groups.get((kind, B, None, T, dt), [])
    best = min(em, key=lambda r: r["median_ms"])
    lbest = min(ll, key=lambda r: r["median_ms"]) if ll else None
    ratio = f"{lbest['median_ms'] / best['median_ms']:.2f}x" if lbest else ""
    paired = ""
    if ll and len(ll) == len(em):
        p = [l["median_ms"] / e["median_ms"] for e, l in zip(em, ll)]
        paired = f"{statistics.median(p):.2f}x ({min(p):.2f}-{max(p):.2f}, {len(p)})"
    print(f"| {kind} | {B} x {L} | {T} | {dt} | {best['median_ms']:.1f} | {lbest['median_ms'] if lbest else float('nan'):.1f} | "
          f"{best['per_s']:.2f} | {ratio} | {paired} | {best['max_rss_mb']:.0f} / {lbest['max_rss_mb'] if lbest else 0:.0f} | "
          f"{lbest.get('check', '') if lbest else ''} |")
