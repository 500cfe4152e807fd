#!/usr/bin/python3
"""FAISS (Debian python3-faiss) and hnswlib (python3-hnswlib) on the files
bench_index wrote: IndexFlatIP, IndexHNSWFlat, IndexIVFPQ, IndexIVFPQFastScan, IndexBinaryFlat
(+ rescore is ember's only), hnswlib.Index.  JSON lines like bench_index.
    faiss_bench.py DIR THREADS [ONLY]   (ONLY: comma list of hnsw, binary, ivfpq; default all)"""
import json
import os
import sys
import time

# BLAS and OpenMP pools sized before numpy / faiss load them: Debian's
# OpenBLAS would otherwise take every core for a "1 thread" FAISS flat search
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = sys.argv[2] if len(sys.argv) > 2 else "1"

import numpy as np  # noqa: E402


def load(path, dtype):
    with open(path, "rb") as f:
        r, c = np.frombuffer(f.read(8), dtype=np.uint32)
        return np.frombuffer(f.read(), dtype=dtype).reshape(int(r), int(c))


REPEATS = 3


def timed(fn):
    """Result of the last of REPEATS runs and the best (shortest) time."""
    best = None
    for _ in range(REPEATS):
        t = time.time(); r = fn(); t = time.time() - t
        best = t if best is None or t < best else best
    return r, best


def recall(I, gt):
    k = gt.shape[1]
    return sum(len(set(I[i, :k].tolist()) & set(gt[i].tolist())) for i in range(len(gt))) / gt.size


def emit(engine, index, T, param, rec, qps, build, bpv):
    print(json.dumps({"engine": engine, "index": index, "threads": T, "param": param, "recall": round(rec, 4),
                      "qps": round(qps, 1), "build_s": round(build, 2), "bytes_per_vec": bpv}), flush=True)


d_ = sys.argv[1]
T = int(sys.argv[2])
ONLY = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else "hnsw,binary,ivfpq"
X = load(f"{d_}/data.bin", np.float32)
Q = load(f"{d_}/queries.bin", np.float32)
gt = load(f"{d_}/gt.bin", np.int64)
n, d = X.shape
k = gt.shape[1]
try:
    import faiss
    faiss.omp_set_num_threads(T)
    ix = faiss.IndexFlatIP(d)
    ix.add(X)
    (_, I), t = timed(lambda: ix.search(Q, k))
    emit("faiss", "flat f32", T, "-", recall(I, gt), len(Q) / t, 0, d * 4)
    if "hnsw" in ONLY:
        ix = faiss.IndexHNSWFlat(d, 16, faiss.METRIC_INNER_PRODUCT)
        ix.hnsw.efConstruction = 200
        t = time.time(); ix.add(X); tb = time.time() - t
        for ef in (10, 16, 24, 32, 40, 48, 64, 128, 256):
            ix.hnsw.efSearch = ef
            (_, I), t = timed(lambda: ix.search(Q, k))
            emit("faiss", "hnsw f32", T, f"ef={ef}", recall(I, gt), len(Q) / t, tb, d * 4 + 16 * 2 * 4)
    if "ivfpq" in ONLY:
        nlist, m = int(4 * np.sqrt(n)), d // 8
        ix = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        t = time.time(); ix.train(X); ix.add(X); tb = time.time() - t
        for p in (4, 16, 64):
            ix.nprobe = p
            (_, I), t = timed(lambda: ix.search(Q, k))
            emit("faiss", f"ivfpq nlist {nlist} m {m}", T, f"nprobe={p}", recall(I, gt), len(Q) / t, tb, m + 8)
        # 4-bit fast scan at the same code size (Debian's FAISS is a generic build:
        # its fast-scan kernels run on emulated SIMD)
        m4 = d // 4
        ix = faiss.IndexIVFPQFastScan(faiss.IndexFlatIP(d), d, nlist, m4, 4, faiss.METRIC_INNER_PRODUCT)
        t = time.time(); ix.train(X); ix.add(X); tb = time.time() - t
        for p in (4, 16, 64):
            ix.nprobe = p
            (_, I), t = timed(lambda: ix.search(Q, k))
            emit("faiss", f"ivfpq 4-bit fast-scan nlist {nlist} m {m4}", T, f"nprobe={p}", recall(I, gt), len(Q) / t, tb, m4 // 2 + 8)
    if "binary" in ONLY:
        Xb = np.packbits(X > 0, axis=1)
        Qb = np.packbits(Q > 0, axis=1)
        ix = faiss.IndexBinaryFlat(d)
        ix.add(Xb)
        (_, I), t = timed(lambda: ix.search(Qb, k))
        emit("faiss", "binary flat (no rescore)", T, "-", recall(I, gt), len(Q) / t, 0, d // 8)
except ImportError:
    print(json.dumps({"engine": "faiss", "skipped": "python3-faiss not installed"}))
if "hnsw" in ONLY:
    try:
        import hnswlib
        ix = hnswlib.Index(space="ip", dim=d)
        ix.init_index(max_elements=n, ef_construction=200, M=16, random_seed=42)
        ix.set_num_threads(T)
        t = time.time(); ix.add_items(X, np.arange(n)); tb = time.time() - t
        for ef in (10, 16, 24, 32, 40, 48, 64, 128, 256):
            ix.set_ef(ef)
            (I, _), t = timed(lambda: ix.knn_query(Q, k=k))
            emit("hnswlib (Debian python)", "hnsw f32", T, f"ef={ef}", recall(I, gt), len(Q) / t, tb, d * 4 + 16 * 2 * 4)
    except ImportError:
        print(json.dumps({"engine": "hnswlib", "skipped": "python3-hnswlib not installed"}))
