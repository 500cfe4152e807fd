#!/usr/bin/python3
"""report_index.py RESULTS.jsonl N NQ CPU: the Vector index section of bench/RESULTS.md."""
import datetime
import json
import math
import sys

from cpu_desc import describe

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
n, nq, cpu = sys.argv[2], sys.argv[3], describe(sys.argv[4].strip())
HNSWLIB = "hnswlib (-march=native)"
PEERS = (HNSWLIB, "faiss", "usearch")
# what each engine ran: every row names it (the kernel table, the compiler's
# choice, the SIMD level of the FAISS build, usearch's kernels per vector type)
isa = {}
for r in rows:
    if "isa" in r and r["isa"] not in isa.setdefault(r["engine"], []):
        isa[r["engine"]].append(r["isa"])
print("## Vector index: ember vs hnswlib, FAISS and usearch\n")
print(f"Made by `make bench-index N={n} NQ={nq}` (bench/run_index.sh) on {datetime.date.today()}, CPU: {cpu}.  "
      f"Data: {n} normalised 384-d vectors in 100 clusters of skewed sizes, each spread along 24 latent directions "
      f"plus noise (seeded, bench/bench_index.c); {nq} queries near, not on, data points; recall@10 against the exact "
      "inner-product top 10.  HNSW everywhere M=16, ef_construction=200 (usearch: connectivity 16, expansion_add 200, "
      "expansion_search = ef); ember searches with a beam of 8 on layer 1 "
      "seeding layer 0 (ef_upper, its default) and is also shown with hnswlib's greedy descent (ef_upper 1).  "
      "OMP_WAIT_POLICY=PASSIVE for every engine "
      "(FAISS's OpenMP and BLAS pools fight on 2 cores otherwise).  hnswlib is compiled here with -O3 -march=native; "
      "FAISS (the faiss-cpu wheel) and usearch come from PyPI into the build folder's venv (bench/venv.sh).  "
      "QPS: best of 3 runs of all queries "
      "in one call spread over the threads (ember, FAISS, usearch) or one thread per query stripe (hnswlib C++).  "
      "Binary + int8 rescore, the peers: FAISS's IndexBinaryFlat or usearch's exact Hamming search gives the top 10 x mult "
      "by Hamming distance over sign bits, then numpy rescores those with the float query against int8 copies calibrated "
      "as ember's (per-dimension ranges), blocks of queries spread over the threads; usearch's b1 index also builds an "
      "HNSW graph that its exact search does not use (in its build time and bytes).  usearch's i8 HNSW is its own "
      "f32-to-i8 cast, searched by cosine, with no f32 refine; where its f32 kernels say \"sums in f64\" (probed at run "
      "time by bench/usearch_bench.py), its f32 inner product widens every product to f64: exact, and slower.  "
      "Bytes per vector: ember's index info; hnswlib's element size; FAISS and usearch, their serialized index over n "
      "(+ the int8 copies for the binary rescoring).\n")
if isa:
    print("What each engine ran:\n")
    for e, v in isa.items():
        print(f"- {e}: " + ("kernel table " if e == "ember" else "") + "; ".join(v))
    print()


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


def vs_peer(e, e_pts, peer, p_pts, target):
    """ember's q/s over a peer's at a recall, with what a narrowest-beam lower bound makes of the ratio"""
    p_ = at_recall(p_pts, target)
    if not (e and p_):
        return None
    low_e, low_p = bool(floor_note(e_pts, target)), bool(floor_note(p_pts, target))
    re_, rp = sorted(e_pts)[0][0], sorted(p_pts)[0][0]
    # ember's narrowest beam above the target alone: the trailing floor_note says the ratio is a lower bound
    note = (f" (both at ef=10, recall {re_:.3f} vs {rp:.3f})" if low_e and low_p else
            f" ({peer}'s ef=10 already reaches {rp:.3f}: an upper bound)" if low_p else "")
    return f"{e / p_:.2f}x {peer}{note}"


reruns = [r for r in rows if "rerun" in r]
if reruns:
    print("Rows re-measured since the last full run (flat rows: the latest of them; ratios are only taken within one run): "
          + "; ".join(f"{r['rerun']} by `{r['cmd']}` on {r['date']}" for r in reruns)
          + (".\n" if {r["rerun"] for r in reruns} >= {"hnsw", "binary", "ivfpq"} else ".  The other families come from the last full run.\n"))
print("Summary (the issue's targets; ratios within this run):\n")
for T in sorted({r["threads"] for r in rows if "index" in r}):
    sel = [r for r in rows if r.get("threads") == T and "index" in r]

    def pts(engine, index):
        return [(r["recall"], r["qps"]) for r in sel if r["engine"] == engine and r["index"] == index]

    def first(engine, index):
        return next((r for r in sel if r["engine"] == engine and r["index"].startswith(index) and "refine" not in r["index"]), None)

    ep = pts("ember", "hnsw f32")
    e = at_recall(ep, 0.95)
    if e:
        line = [v for v in (vs_peer(e, ep, p, pts(p, "hnsw f32"), 0.95) for p in PEERS) if v]
        print(f"- {T} thread(s), HNSW at recall@10 0.95 (interpolated): ember {e:,.0f} q/s = " + ", ".join(line)
              + floor_note(ep, 0.95))
    gp = pts("ember", "hnsw f32, greedy descent (ef_upper 1)")
    gr = at_recall(gp, 0.95)
    v = vs_peer(gr, gp, HNSWLIB, pts(HNSWLIB, "hnsw f32"), 0.95)
    if v:
        print(f"- {T} thread(s), HNSW f32 with the greedy descent of hnswlib (ef_upper 1) at recall@10 0.95: ember {gr:,.0f} q/s = {v}")
    ipts = pts("ember", "hnsw int8 walk + f32 refine")
    ir = at_recall(ipts, 0.95)
    if ir:
        bpv = next(r["bytes_per_vec"] for r in sel if r["engine"] == "ember" and r["index"] == "hnsw int8 walk + f32 refine")
        line = [v for v in (vs_peer(ir, ipts, HNSWLIB, pts(HNSWLIB, "hnsw f32"), 0.95),) if v]
        ui = [r for r in sel if r["engine"] == "usearch" and r["index"].startswith("hnsw i8")]
        if ui:
            u8 = vs_peer(ir, ipts, "usearch i8", [(r["recall"], r["qps"]) for r in ui], 0.95)
            top = max(r["recall"] for r in ui)
            line.append(f"{u8} ({ui[0]['bytes_per_vec']} bytes/vector)" if u8 else
                        f"usearch i8 ({ui[0]['bytes_per_vec']} bytes/vector) never reaches it (at most {top:.3f})")
        print(f"- {T} thread(s), HNSW int8 walk + f32 refine ({bpv} bytes/vector) at recall@10 0.95: ember {ir:,.0f} q/s = "
              + ", ".join(line) + floor_note(ipts, 0.95))
    bt = [(r["engine"], r["build_s"]) for r in (first(e_, "hnsw f32") for e_ in ("ember",) + PEERS) if r]
    if len(bt) > 1:
        print(f"- {T} thread(s), HNSW f32 build: " + ", ".join(f"{e_} {b} s" for e_, b in bt))
    for kind, label in (("ivfpq nlist", "IVF-PQ"), ("ivfpq 4-bit fast-scan", "IVF-PQ 4-bit fast-scan")):
        pq = {(r["engine"], r["param"]): r for r in sel if r["index"].startswith(kind) and "refine" not in r["index"]}
        for prm in ("nprobe=16",):
            a, b = pq.get(("ember", prm)), pq.get(("faiss", prm))
            if a and b:
                print(f"- {T} thread(s), {label} {prm}, 48-byte codes: ember {a['qps']:,.0f} q/s @ {a['recall']:.3f} vs FAISS "
                      f"{b['qps']:,.0f} q/s @ {b['recall']:.3f} ({a['qps'] / b['qps']:.2f}x)")
    for kind, label in (("ivfpq nlist", "8-bit"), ("ivfpq 4-bit", "4-bit fast-scan")):
        a, b = first("ember", kind), first("faiss", kind)
        if a and b:
            print(f"- {T} thread(s), IVF-PQ build (train + add, {label}): ember {a['build_s']} s, FAISS {b['build_s']} s")
    e8 = {r["param"]: r for r in sel if r["engine"] == "ember" and r["index"].startswith("ivfpq nlist") and "refine" not in r["index"]}
    e4 = {r["param"]: r for r in sel if r["engine"] == "ember" and r["index"].startswith("ivfpq 4-bit") and "refine" not in r["index"]}
    if "nprobe=16" in e8 and "nprobe=16" in e4:
        a, b = e4["nprobe=16"], e8["nprobe=16"]
        print(f"- {T} thread(s), ember IVF-PQ nprobe=16, 4-bit fast-scan vs 8-bit at 48 bytes: {a['qps']:,.0f} vs {b['qps']:,.0f} q/s "
              f"({a['qps'] / b['qps']:.2f}x), recall {a['recall']:.3f} vs {b['recall']:.3f}")
    bn = [r for r in sel if r["engine"] == "ember" and r["index"].startswith("binary + int8") and r["recall"] >= 0.9]
    if bn:
        best = max(bn, key=lambda r: r["qps"])
        peers = [r for r in sel if r["engine"] != "ember" and r["index"] == best["index"] and r["param"] == best["param"]]
        print(f"- {T} thread(s), binary + int8 rescore at recall@10 >= 0.9: {best['param']}, recall {best['recall']:.3f}, "
              f"{best['vs_exact']}x ember's exact f32 search"
              + "".join(f"; {best['qps'] / r['qps']:.2f}x {r['engine']} ({r['qps']:,.0f} q/s @ {r['recall']:.3f})" for r in peers))
print()
print("| engine | index | threads | param | recall@10 | queries/s | build s | bytes/vector |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    if "index" not in r:
        continue
    print(f"| {r['engine']} | {r['index']} | {r['threads']} | {r['param']} | {r['recall']:.4f} | {r['qps']:,.0f} | {r['build_s']} | {r['bytes_per_vec']} |")
said = set()
for r in rows:
    if "peak_rss_mb" in r:
        what = r.get("what", "all its indexes built in one process")
        print(f"\n{r['engine']} peak RSS ({r['threads']} threads, {what}): {r['peak_rss_mb']:.0f} MB")
    if "skipped" in r and (r["engine"], r["skipped"]) not in said:
        said.add((r["engine"], r["skipped"]))
        print(f"\n{r['engine']}: skipped ({r['skipped']})")
print()
