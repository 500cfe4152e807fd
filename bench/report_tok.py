"""report_tok.py RESULTS.jsonl: the Markdown table of `make bench-tokenizers`:
per tokenizer, ember's and HuggingFace tokenizers' throughput (MB/s of text,
one thread; the best of the rounds' median passes) and the ratio ember / HF
for each of HF's two modes (encode per document, encode_batch run serially),
with the ratio within each round (median, range) when every round has both."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
first = rows[0] if rows else {}
cpu = f"{first.get('cpu', '?')} (family {first.get('cpu_family', '?')})"
hf = next((r["version"] for r in rows if r["engine"] == "tokenizers"), None)
print(f"CPU: {cpu}; HuggingFace tokenizers {hf or 'not run'}; one thread; "
      f"corpus: {first.get('docs', '?')} documents, {first.get('bytes', 0) / 1e6:.2f} MB")
print()
print("| tokenizer | algorithm | tokens | ember MB/s | HF encode MB/s | HF encode_batch MB/s | "
      "ember / HF encode | ember / HF encode_batch | paired (vs the faster HF mode) |")
print("|---|---|---|---|---|---|---|---|---|")
names = list(dict.fromkeys(r["tokenizer"] for r in rows))
for name in names:
    mine = [r for r in rows if r["tokenizer"] == name]
    em = [r for r in mine if r["engine"] == "ember"]
    if not em:
        continue
    enc = [r for r in mine if r.get("mode") == "encode"]
    bat = [r for r in mine if r.get("mode") == "encode_batch"]
    best = lambda rs: max(r["mb_per_s"] for r in rs) if rs else None  # noqa: E731
    e, h1, h2 = best(em), best(enc), best(bat)
    ratio = lambda h: f"{e / h:.2f}x" if h else ""  # noqa: E731
    paired = ""
    if enc and bat and len(enc) == len(em) == len(bat):
        p = [x["mb_per_s"] / max(a["mb_per_s"], b["mb_per_s"]) for x, a, b in zip(em, enc, bat)]
        paired = f"{statistics.median(p):.2f}x ({min(p):.2f}-{max(p):.2f}, {len(p)})"
    fmt = lambda v: f"{v:.2f}" if v else "not run"  # noqa: E731
    print(f"| {name} | {em[0].get('algorithm', '?')} | {em[0]['tokens']} | {fmt(e)} | {fmt(h1)} | {fmt(h2)} | "
          f"{ratio(h1)} | {ratio(h2)} | {paired} |")
