"""What the Python index peers (faiss_bench.py, usearch_bench.py) share: the
files bench_index wrote, recall@k, best-of-3 timing, the JSON rows, and the
int8 rescoring of the binary peers.  Imported after the script has sized the
thread pools (numpy loads BLAS on import)."""
import json
import resource
from concurrent.futures import ThreadPoolExecutor

import numpy as np

REPEATS = 3
# the ONLY families of bench/run_index.sh
FAMILIES = "hnsw,binary,ivfpq"
# bench_index's HNSW setting and sweeps, and its binary rescoring multipliers
M, EF_CONSTRUCTION = 16, 200
EF_SEARCH = (10, 16, 24, 32, 40, 48, 64, 128, 256)
NPROBE = (4, 16, 64)
RESCORE_MULTS = (1, 4, 6, 10)


def load(path, dtype):
    with open(path, "rb") as f:
        r, c = np.frombuffer(f.read(8), dtype=np.uint32)
        return np.frombuffer(f.read(), dtype=dtype).reshape(int(r), int(c))


def load_dir(d):
    """data, queries, exact top-k ids"""
    return load(f"{d}/data.bin", np.float32), load(f"{d}/queries.bin", np.float32), load(f"{d}/gt.bin", np.int64)


def timed(fn):
    """Result of the last of REPEATS runs and the best (shortest) time."""
    import time
    best = None
    for _ in range(REPEATS):
        t = time.perf_counter(); r = fn(); t = time.perf_counter() - t
        best = t if best is None or t < best else best
    return r, best


def recall(ids, gt):
    k = gt.shape[1]
    return sum(len(set(ids[i, :k].tolist()) & set(gt[i].tolist())) for i in range(len(gt))) / gt.size


def emit(engine, index, threads, param, rec, qps, build, bytes_per_vec, isa):
    print(json.dumps({"engine": engine, "index": index, "threads": threads, "param": param, "recall": round(rec, 4),
                      "qps": round(qps, 1), "build_s": round(build, 2), "bytes_per_vec": round(bytes_per_vec),
                      "isa": isa}), flush=True)


def emit_rss(engine, threads, what):
    """this process's peak RSS: the data set and every index it built, one after another"""
    mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"engine": engine, "peak_rss_mb": round(mb, 1), "threads": threads, "what": what}), flush=True)


def sign_bits(v):
    """ember's binary codes: one bit a dimension, set where it is positive (the bit order differs, the Hamming distances do not)"""
    return np.packbits(v > 0, axis=1)


class Int8Rescorer:
    """ember's binary + int8 rescore done beside a peer's Hamming search: int8
    copies calibrated as ember calibrates them (per-dimension ranges, 255
    steps from the smallest value to the largest, index/distance.c), and the
    float query against the copies of each query's candidates:
    q . (c * step + offset) = (q * step) . c + q . offset.  Numpy, blocks of
    queries spread over the threads (numpy lets go of the GIL in them)."""

    BLOCK = 64

    def __init__(self, x, threads):
        lo, hi = x.min(axis=0), x.max(axis=0)
        step = np.maximum((hi - lo) / 255.0, np.maximum(np.abs(lo), np.abs(hi)) * 2.0 ** -20)
        self.step = np.maximum(step, np.finfo(np.float32).tiny).astype(np.float32)
        self.offset = (lo + 128.0 * self.step).astype(np.float32)
        self.codes = np.clip(np.rint((x - self.offset) / self.step), -128, 127).astype(np.int8)
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def __call__(self, q, cand, k):
        """the k best of each query's candidate ids (rows of cand), best first"""
        out = np.empty((len(q), k), dtype=np.int64)

        def block(s):
            qb, cb = q[s:s + self.BLOCK], cand[s:s + self.BLOCK]
            score = np.einsum("qkd,qd->qk", self.codes[cb], qb * self.step) + (qb @ self.offset)[:, None]
            best = np.argsort(-score, axis=1, kind="stable")[:, :k]
            out[s:s + self.BLOCK] = np.take_along_axis(cb, best, axis=1)

        starts = range(0, len(q), self.BLOCK)
        if self.pool:
            list(self.pool.map(block, starts))
        else:
            for s in starts:
                block(s)
        return out

    def bytes_per_vec(self):
        return self.codes.shape[1]
