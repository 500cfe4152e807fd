#!/usr/bin/python3
"""report_index.py RESULTS.jsonl N NQ CPU: the Vector index section of bench/RESULTS.md."""
import datetime
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
n, nq, cpu = sys.argv[2], sys.argv[3], sys.argv[4].strip()
print("## Vector index: ember vs hnswlib and FAISS\n")
print(f"Made by `make bench-index N={n} NQ={nq}` (bench/run_index.sh) on {datetime.date.today()}, CPU: {cpu}.  "
      f"Data: {n} normalised 384-d vectors in 100 clusters of skewed sizes, each spread along 24 latent directions "
      f"plus noise (seeded, bench/bench_index.c); {nq} queries near, not on, data points; recall@10 against the exact "
      "inner-product top 10.  HNSW everywhere M=16, ef_construction=200.  OMP_WAIT_POLICY=PASSIVE for every engine "
      "(FAISS's OpenMP and BLAS pools fight on 2 cores otherwise).  hnswlib is measured twice: compiled here with "
      "-O3 -march=native from Debian's headers (the honest bar), and Debian's python build (no AVX).  QPS: best of 3 runs of all queries "
      "in one call spread over the threads (ember, FAISS, hnswlib python) or one thread per query stripe (hnswlib C++).\n")
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
