"""usearch (from PyPI, in BUILD/venv) on the files bench_index wrote, with
ember's parameters where usearch has them (connectivity = M,
expansion_add = ef_construction, expansion_search = ef): HNSW over f32
(inner product) and over i8 (usearch's own quantization of the f32 vectors;
cosine, as usearch advises for i8: the vectors are normalised, so the order is
the inner product's), and its exact Hamming search over sign bits + int8
rescore, ember's binary rows.  JSON lines like bench_index; each row names
usearch's version and the kernels it picked (hardware_acceleration).
Bytes per vector: serialized_length over n (+ the int8 copies for rescoring).
    usearch_bench.py DIR THREADS [ONLY]   (ONLY: comma list of hnsw, binary, ivfpq; default all)"""
import os
import sys
import time

T = int(sys.argv[2])
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(T)

import numpy as np  # noqa: E402
import usearch  # noqa: E402
from usearch.index import Index  # noqa: E402

from index_peer import (EF_CONSTRUCTION, EF_SEARCH, FAMILIES, M, RESCORE_MULTS, Int8Rescorer, emit, emit_rss,  # noqa: E402
                        load_dir, recall, sign_bits, timed)


def kernels_lib():
    from importlib import metadata
    for lib in ("numkong", "simsimd"):
        try:
            return f"{lib} {metadata.version(lib)}"
        except metadata.PackageNotFoundError:
            pass
    return "its own kernels"


def f32_sums_in_f64():
    """Whether usearch's f32 inner product accumulates in f64 (NumKong's
    kernels widen each product: exact, and slower than f32 sums): terms of
    about 1e6 that cancel in pairs, among small ones, in a random order.  In
    f32 the small terms are lost against the large partial sums whatever the
    order of the lanes; in f64 they all survive."""
    rng = np.random.default_rng(0)
    big = rng.uniform(1e6, 2e6, 96).astype(np.float32)
    a = rng.permutation(np.concatenate([big, -big, rng.uniform(0.5, 1, 192).astype(np.float32)]))
    ref = float(a.astype(np.float64).sum())
    ix = Index(ndim=len(a), metric="ip", dtype="f32")
    ix.add(np.arange(2, dtype=np.uint64), np.stack([a, np.ones_like(a)]))
    return abs(1 - float(ix.pairwise_distance(0, 1)) - ref) < 1e-4 * abs(ref)


def isa(ix, what):
    """hardware_acceleration: the CPU generation whose instructions the picked
    kernels need ("skylake": AVX-512 F/VL/BW/DQ; "icelake": + VNNI, VPOPCNTDQ)"""
    return f"usearch {usearch.__version__} ({KERNELS}), {ix.hardware_acceleration} kernels for {what}"


d_ = sys.argv[1]
ONLY = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else FAMILIES
X, Q, gt = load_dir(d_)
n, d = X.shape
k = gt.shape[1]
keys = np.arange(n, dtype=np.uint64)
KERNELS = kernels_lib()

if "hnsw" in ONLY:
    F64 = f32_sums_in_f64()
    for dtype, metric, name in (("f32", "ip", "hnsw f32"), ("i8", "cos", "hnsw i8 (usearch's own f32 to i8 cast)")):
        ix = Index(ndim=d, metric=metric, dtype=dtype, connectivity=M, expansion_add=EF_CONSTRUCTION)
        t = time.perf_counter(); ix.add(keys, X, threads=T); tb = time.perf_counter() - t
        bpv = ix.serialized_length / n
        for ef in EF_SEARCH:
            ix.expansion_search = ef
            m, t = timed(lambda: ix.search(Q, k, threads=T))
            emit("usearch", name, T, f"ef={ef}", recall(m.keys.astype(np.int64), gt), len(Q) / t, tb, bpv, isa(ix, f"{dtype} {metric}" + (", sums in f64" if dtype == "f32" and F64 else "")))
        del ix

if "binary" in ONLY:
    # exact (flat) Hamming search through an index: usearch's add builds a
    # graph the exact search does not use (its build time is in build_s);
    # its index-free usearch.index.search(exact=True) was slower here
    t = time.perf_counter()
    ix = Index(ndim=d, metric="hamming", dtype="b1")
    ix.add(keys, sign_bits(X), threads=T)
    rescore = Int8Rescorer(X, T)
    tb = time.perf_counter() - t
    bpv = ix.serialized_length / n + rescore.bytes_per_vec()
    Qb = sign_bits(Q)
    for mult in RESCORE_MULTS:
        ids, t = timed(lambda: rescore(Q, ix.search(Qb, k * mult, threads=T, exact=True).keys.astype(np.int64), k))
        emit("usearch", "binary + int8 rescore (flat)", T, f"rescore x{mult}", recall(ids, gt), len(Q) / t, tb, bpv, isa(ix, "b1 hamming"))
    del ix, rescore

emit_rss("usearch", T, "one Python process: the data set, then each index in turn")
