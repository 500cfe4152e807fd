"""FAISS (the faiss-cpu wheel from PyPI, in BUILD/venv) on the files
bench_index wrote, with ember's parameters: IndexFlatIP, IndexHNSWFlat,
IndexIVFPQ (8-bit), IndexIVFPQFastScan (4-bit), IndexBinaryFlat + int8
rescore.  JSON lines like bench_index; each row names the FAISS build and the
SIMD level it runs (the wheel carries several and picks one at import).
Bytes per vector: the serialized index over n (+ the int8 copies for rescoring).
    faiss_bench.py DIR THREADS [ONLY]   (ONLY: comma list of hnsw, binary, ivfpq; default all)"""
import os
import sys
import time

T = int(sys.argv[2])
# thread pools sized before numpy / faiss load them (a "1 thread" flat
# search would otherwise take every core through BLAS)
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(T)

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from index_peer import (EF_CONSTRUCTION, EF_SEARCH, FAMILIES, M, NPROBE, RESCORE_MULTS, Int8Rescorer,  # noqa: E402
                        emit, emit_rss, load_dir, recall, sign_bits, timed)


def faiss_isa():
    """which FAISS runs: the wheel's version, and the SIMD level (FAISS >= 1.12
    dispatches at run time within one library; older wheels load one of
    several modules, swigfaiss_avx512, _avx2 or the generic one)"""
    from importlib import metadata
    try:
        ver = "faiss-cpu " + metadata.version("faiss-cpu")
    except metadata.PackageNotFoundError:
        ver = "faiss " + faiss.__version__
    opts = " ".join(faiss.get_compile_options().split())
    cfg = getattr(faiss, "SIMDConfig", None)
    if cfg is not None and hasattr(cfg, "get_level_name"):
        how = "dynamic dispatch" if cfg.has_dynamic_dispatch() else "static"
        return f"{ver}, SIMD level {cfg.get_level_name()} ({how}; compiled: {opts})"
    mod = next((m for m in sorted(sys.modules) if m.startswith("faiss.swigfaiss")), "faiss.swigfaiss")
    level = mod.split("swigfaiss")[1].lstrip("_").upper() or "generic"
    return f"{ver}, module {mod} ({level}; compiled: {opts})"


def size_per_vec(ix, n):
    ser = faiss.serialize_index_binary if isinstance(ix, faiss.IndexBinary) else faiss.serialize_index
    return ser(ix).nbytes / n


d_ = sys.argv[1]
ONLY = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else FAMILIES
X, Q, gt = load_dir(d_)
n, d = X.shape
k = gt.shape[1]
faiss.omp_set_num_threads(T)
ISA = faiss_isa()

ix = faiss.IndexFlatIP(d)
ix.add(X)
(_, I), t = timed(lambda: ix.search(Q, k))
emit("faiss", "flat f32", T, "-", recall(I, gt), len(Q) / t, 0, size_per_vec(ix, n), ISA)
del ix

if "hnsw" in ONLY:
    ix = faiss.IndexHNSWFlat(d, M, faiss.METRIC_INNER_PRODUCT)
    ix.hnsw.efConstruction = EF_CONSTRUCTION
    t = time.perf_counter(); ix.add(X); tb = time.perf_counter() - t
    bpv = size_per_vec(ix, n)
    for ef in EF_SEARCH:
        ix.hnsw.efSearch = ef
        (_, I), t = timed(lambda: ix.search(Q, k))
        emit("faiss", "hnsw f32", T, f"ef={ef}", recall(I, gt), len(Q) / t, tb, bpv, ISA)
    del ix

if "ivfpq" in ONLY:
    # ember's: nlist = 4 sqrt(n), 48-byte codes (dim / 8 sub-quantizers of 8
    # bits, or dim / 4 of 4 bits for the fast-scan kernel)
    nlist = int(4 * np.sqrt(n))
    for m, bits, name in ((d // 8, 8, "ivfpq"), (d // 4, 4, "ivfpq 4-bit fast-scan")):
        cls = faiss.IndexIVFPQ if bits == 8 else faiss.IndexIVFPQFastScan
        ix = cls(faiss.IndexFlatIP(d), d, nlist, m, bits, faiss.METRIC_INNER_PRODUCT)
        t = time.perf_counter(); ix.train(X); ix.add(X); tb = time.perf_counter() - t
        bpv = size_per_vec(ix, n)
        for p in NPROBE:
            ix.nprobe = p
            (_, I), t = timed(lambda: ix.search(Q, k))
            emit("faiss", f"{name} nlist {nlist} m {m}", T, f"nprobe={p}", recall(I, gt), len(Q) / t, tb, bpv, ISA)
        del ix

if "binary" in ONLY:
    # ember's binary + int8 rescore: the Hamming top k x mult by FAISS, then
    # the float query against int8 copies of those candidates
    t = time.perf_counter()
    ix = faiss.IndexBinaryFlat(d)
    ix.add(sign_bits(X))
    rescore = Int8Rescorer(X, T)
    tb = time.perf_counter() - t
    bpv = size_per_vec(ix, n) + rescore.bytes_per_vec()
    Qb = sign_bits(Q)
    for mult in RESCORE_MULTS:
        I, t = timed(lambda: rescore(Q, ix.search(Qb, k * mult)[1], k))
        emit("faiss", "binary + int8 rescore (flat)", T, f"rescore x{mult}", recall(I, gt), len(Q) / t, tb, bpv, ISA)
    del ix, rescore

emit_rss("faiss", T, "one Python process: the data set, then each index in turn")
