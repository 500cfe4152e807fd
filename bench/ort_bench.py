"""ONNX Runtime peer: runs an exported model on the token ids ember used, with
the same threads, and prints timings as JSON (one line).

    ort_bench.py MODEL.onnx IDS.json THREADS REPEATS OUT.f32

IDS.json: {"ids": [[...], ...], "type_ids": [[...], ...]} (equal lengths).
OUT.f32: the first output, float32, row-major.  Runs in the venv of
bench/venv.sh (onnxruntime and numpy from PyPI)."""
import json
import resource
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    model, ids_path, threads, repeats, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    with open(ids_path) as f:
        inp = json.load(f)
    ids = np.asarray(inp["ids"], dtype=np.int64)
    batch, seq = ids.shape
    feeds = {
        "input_ids": ids,
        "token_type_ids": np.asarray(inp["type_ids"], dtype=np.int64),
        "attention_mask": np.ones((batch, seq), dtype=np.int64),  # the bench never pads
    }
    opt = ort.SessionOptions()
    opt.intra_op_num_threads = threads  # the calling thread counts as one of them, as ember's
    opt.inter_op_num_threads = 1
    opt.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opt.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model, opt, providers=["CPUExecutionProvider"])
    first = sess.get_outputs()[0].name
    for _ in range(2):  # warm-up
        out = sess.run([first], feeds)[0]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        out = sess.run([first], feeds)[0]
        times.append((time.perf_counter_ns() - t0) / 1e6)
    times.sort()
    np.ascontiguousarray(out, dtype=np.float32).tofile(out_path)
    print(json.dumps({
        "min_ms": times[0], "median_ms": times[len(times) // 2],
        # Linux reports ru_maxrss in KiB
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "batch": int(batch), "seq": int(seq), "threads": threads, "ort_version": ort.__version__,
    }))


if __name__ == "__main__":
    main()
