#!/usr/bin/python3
"""report_index.py RESULTS.jsonl N NQ CPU: the Vector index section of bench/RESULTS.md."""
import datetime
import json
import math
import sys

from cpu_desc import describe

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
n, nq, cpu = sys.argv[2], sys.argv[3], describe(sys.argv[4].strip())
print("## Vector index: ember vs hnswlib and FAISS\n")
print(f"Made by `make bench-index N={n} NQ={nq}` (bench/run_index.sh) on {datetime.date.today()}, CPU: {cpu}.  "
      f"Data: {n} normalised 384-d vectors in 100 clusters of skewed sizes, each spread along 24 latent directions "
      f"plus noise (seeded, bench/bench_index.c); {nq} queries near, not on, data points; recall@10 against the exact "
      "inner-product top 10.  HNSW everywhere M=16, ef_construction=200; ember searches with a beam of 8 on layer 1 "
      "seeding layer 0 (ef_upper, its default) and is also shown with hnswlib's greedy descent (ef_upper 1).  "
      "OMP_WAIT_POLICY=PASSIVE for every engine "
      "(FAISS's OpenMP and BLAS pools fight on 2 cores otherwise).  hnswlib is measured twice: compiled here with "
      "-O3 -march=native from Debian's headers (the honest bar), and Debian's python build (no AVX).  QPS: best of 3 runs of all queries "
      "in one call spread over the threads (ember, FAISS, hnswlib python) or one thread per query stripe (hnswlib C++).  "
      "Debian's FAISS is a generic build (no AVX2): its 4-bit fast-scan kernels run on emulated SIMD, so that row is no bar.\n")


def at_recall(pts, target):
    """queries/s at a recall, interpolated (log q/s, linear recall) between the sweep points around it;
    when even the narrowest beam (ef = k) is above the target, that point's q/s: a lower bound"""
    pts = sorted(pts)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1 and r1 > r0:
            f = (target - r0) / (r1 - r0)
            return math.exp(math.log(q0) + f * (math.log(q1) - math.log(q0)))
    if pts and pts[0][0] >= target:
        return max(q for r, q in pts if r == pts[0][0])
    return None


def floor_note(pts, target):
    pts = sorted(pts)
    return f" (its narrowest beam, ef=10, already reaches recall {pts[0][0]:.3f}: a lower bound)" if pts and pts[0][0] > target else ""


reruns = [r for r in rows if "rerun" in r]
if reruns:
    print("Rows re-measured since the last full run (flat rows: the latest of them; ratios are only taken within one run): "
          + "; ".join(f"{r['rerun']} by `{r['cmd']}` on {r['date']}" for r in reruns)
          + (".\n" if {r["rerun"] for r in reruns} >= {"hnsw", "binary", "ivfpq"} else ".  The other families come from the last full run.\n"))
print("Summary (the issue's targets; ratios within this run):\n")
for T in sorted({r["threads"] for r in rows if "index" in r}):
    sel = [r for r in rows if r.get("threads") == T and "index" in r]
    hn = {}
    for r in sel:
        if r["index"] == "hnsw f32":
            hn.setdefault(r["engine"], []).append((r["recall"], r["qps"]))
    line = []
    e = at_recall(hn.get("ember", []), 0.95)
    for peer in ("hnswlib (-march=native)", "faiss"):
        p_ = at_recall(hn.get(peer, []), 0.95)
        if e and p_:
            line.append(f"{e / p_:.2f}x {peer}")
    if e:
        print(f"- {T} thread(s), HNSW at recall@10 0.95 (interpolated): ember {e:,.0f} q/s = " + ", ".join(line)
              + floor_note(hn.get("ember", []), 0.95))
    gr = at_recall([(r["recall"], r["qps"]) for r in sel if r["engine"] == "ember" and r["index"].startswith("hnsw f32, greedy")], 0.95)
    p_ = at_recall(hn.get("hnswlib (-march=native)", []), 0.95)
    if gr and p_:
        print(f"- {T} thread(s), HNSW f32 with the greedy descent of hnswlib (ef_upper 1) at recall@10 0.95: ember {gr:,.0f} q/s = "
              f"{gr / p_:.2f}x hnswlib (-march=native)")
    ipts = [(r["recall"], r["qps"]) for r in sel if r["engine"] == "ember" and r["index"] == "hnsw int8 walk + f32 refine"]
    ir = at_recall(ipts, 0.95)
    p_ = at_recall(hn.get("hnswlib (-march=native)", []), 0.95)
    if ir and p_:
        bpv = next(r["bytes_per_vec"] for r in sel if r["index"] == "hnsw int8 walk + f32 refine")
        print(f"- {T} thread(s), HNSW int8 walk + f32 refine ({bpv} bytes/vector) at recall@10 0.95: ember {ir:,.0f} q/s = "
              f"{ir / p_:.2f}x hnswlib (-march=native)" + floor_note(ipts, 0.95))
    bt = {r["engine"]: r["build_s"] for r in sel if r["index"] == "hnsw f32"}
    if "ember" in bt and "hnswlib (-march=native)" in bt:
        print(f"- {T} thread(s), HNSW build: ember {bt['ember']} s, hnswlib (-march=native) {bt['hnswlib (-march=native)']} s")
    for kind, label in (("ivfpq nlist", "IVF-PQ"), ("ivfpq 4-bit fast-scan", "IVF-PQ 4-bit fast-scan")):
        pq = {(r["engine"], r["param"]): r for r in sel if r["index"].startswith(kind) and "refine" not in r["index"]}
        for prm in ("nprobe=16",):
            a, b = pq.get(("ember", prm)), pq.get(("faiss", prm))
            if a and b:
                print(f"- {T} thread(s), {label} {prm}, 48-byte codes: ember {a['qps']:,.0f} q/s @ {a['recall']:.3f} vs FAISS "
                      f"{b['qps']:,.0f} q/s @ {b['recall']:.3f} ({a['qps'] / b['qps']:.2f}x)")
    pb = {r["engine"]: r["build_s"] for r in sel if r["index"].startswith("ivfpq nlist") and "refine" not in r["index"]}
    if "ember" in pb and "faiss" in pb:
        print(f"- {T} thread(s), IVF-PQ build (train + add, 8-bit): ember {pb['ember']} s, FAISS {pb['faiss']} s")
    e8 = {r["param"]: r for r in sel if r["engine"] == "ember" and r["index"].startswith("ivfpq nlist") and "refine" not in r["index"]}
    e4 = {r["param"]: r for r in sel if r["engine"] == "ember" and r["index"].startswith("ivfpq 4-bit") and "refine" not in r["index"]}
    if "nprobe=16" in e8 and "nprobe=16" in e4:
        a, b = e4["nprobe=16"], e8["nprobe=16"]
        print(f"- {T} thread(s), ember IVF-PQ nprobe=16, 4-bit fast-scan vs 8-bit at 48 bytes: {a['qps']:,.0f} vs {b['qps']:,.0f} q/s "
              f"({a['qps'] / b['qps']:.2f}x), recall {a['recall']:.3f} vs {b['recall']:.3f}")
    bn = [r for r in sel if r["index"].startswith("binary + int8") and r["recall"] >= 0.9]
    if bn:
        best = max(bn, key=lambda r: r["qps"])
        print(f"- {T} thread(s), binary + int8 rescore at recall@10 >= 0.9: {best['param']}, recall {best['recall']:.3f}, "
              f"{best['vs_exact']}x ember's exact f32 search")
print()
print("| engine | index | threads | param | recall@10 | queries/s | build s | bytes/vector |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    if "index" not in r:
        continue
    print(f"| {r['engine']} | {r['index']} | {r['threads']} | {r['param']} | {r['recall']:.4f} | {r['qps']:,.0f} | {r['build_s']} | {r['bytes_per_vec']} |")
for r in rows:
    if "peak_rss_mb" in r:
        print(f"\nember peak RSS ({r['threads']} threads, all its indexes built in one process): {r['peak_rss_mb']:.0f} MB")
    if "skipped" in r:
        print(f"\n{r['engine']}: skipped ({r['skipped']})")
print()
