"""ONNX Runtime peer of `make bench-qwen3`, on the same weights and texts as ember.

    qwen3_ort.py export HF_DIR KIND OUT.onnx
    qwen3_ort.py run OUT.onnx KIND TEXT.json THREADS REPEATS OUT.f32

KIND: embed or rerank.  export: torch.onnx.export of transformers' Qwen3
(float32, eager attention, no KV cache, opset 17) wrapped so the graph takes
input_ids and attention_mask [batch, seq] (int64; position ids are 0..seq-1,
made in the graph: the bench never pads) and gives
  embed:  "embedding" [batch, hidden], the last position's hidden state after
          the final RMSNorm, not normalised (every position runs through every
          layer, as in transformers; only the last row is returned);
  rerank: "logit" [batch], logit(yes) - logit(no) at the last position: only
          the two rows "yes" and "no" of the LM head (the tied embedding) are
          in the graph, not the [vocab, hidden] projection.
The weights go to an external data file OUT.onnx.data (always, not only past
protobuf's 2 GB limit, so small models take the same path as the 0.6B ones).
The HF folder's absolute path is stored in the model's metadata (hf_dir):
`run` takes its tokenizer from there.  The export is checked against
transformers' own output on a few ids through ONNX Runtime (max |diff| printed).

run: same contract as qwen3_peers.py's llama-* modes.  TEXT.json is
bench_embed's --text-out ({"query", "text", "batch"}); the batch holds `batch`
copies of the text (embed: text plus the <|endoftext|> Qwen3-Embedding's
tokenizer appends; rerank: the pair in Qwen3-Reranker's prompt as
qwen3_peers.rerank_prompt writes it, no special tokens added).  The token ids
come from transformers' AutoTokenizer in a child process, so neither torch nor
transformers counts in this process's peak RSS.  One ORT CPU session
(intra-op THREADS, inter-op 1, sequential, ORT_ENABLE_ALL), one warm-up, then
REPEATS timed calls of the whole batch; writes the L2-normalised embeddings or
the logits to OUT.f32 (float32, row-major) and prints one JSON line.
Runs in the venv of bench/venv.sh (export: torch, transformers, onnx,
onnxruntime, numpy; run: onnxruntime, numpy, transformers)."""
import json
import os
import resource
import subprocess
import sys
import time

from qwen3_peers import load, rerank_prompt

OPSET = 17


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def tokenize(hf_dir, kind, text_path):
    """Token ids of one row of the bench's batch, as ember tokenizes it."""
    from transformers import AutoTokenizer
    query, text, _ = load(text_path)
    tok = AutoTokenizer.from_pretrained(hf_dir)
    if kind == "embed":
        return tok(text)["input_ids"]  # the post-processor appends <|endoftext|>
    return tok(rerank_prompt(query, text), add_special_tokens=False)["input_ids"]


def yes_no_ids(tok):
    return tok.convert_tokens_to_ids("yes"), tok.convert_tokens_to_ids("no")


def export(hf_dir, kind, out_path):
    import tempfile

    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(hf_dir)
    if kind == "embed":
        full = AutoModel.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager").eval()
        base, head = full, None
    else:
        full = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager").eval()
        base, head = full.model, full.lm_head.weight[list(yes_no_ids(tok))].detach().clone()

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.base = base
            if head is not None:
                self.register_buffer("yes_no", head)

        def forward(self, input_ids, attention_mask):
            pos = torch.arange(input_ids.shape[1], dtype=torch.int64).unsqueeze(0).expand_as(input_ids)
            h = self.base(input_ids=input_ids, attention_mask=attention_mask, position_ids=pos,
                          use_cache=False).last_hidden_state[:, -1, :]
            if head is None:
                return h
            two = torch.matmul(h, self.yes_no.t())
            return two[:, 0] - two[:, 1]

    wrap = Pooled().eval()
    gen = torch.Generator().manual_seed(5)
    ids = torch.randint(0, full.config.vocab_size, (2, 11), generator=gen)
    mask = torch.ones_like(ids)
    name = "embedding" if kind == "embed" else "logit"
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, name: {0: "batch"}}
    # the TorchScript exporter writes the weights inline below 2 GB and one
    # file per tensor above; export into a scratch folder, then save once
    # with all weights in one external file, whatever the size
    out_dir = os.path.dirname(os.path.abspath(out_path))
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        with torch.no_grad():
            torch.onnx.export(wrap, (ids, mask), raw, dynamo=False, opset_version=OPSET,
                              input_names=["input_ids", "attention_mask"], output_names=[name],
                              dynamic_axes=dyn, do_constant_folding=True)
        model = onnx.load(raw)  # with any external data the exporter wrote
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, {"hf_dir": os.path.abspath(hf_dir), "kind": kind})
    data = os.path.basename(out_path) + ".data"
    for stale in (out_path, out_path + ".data"):
        if os.path.exists(stale):
            os.remove(stale)
    onnx.save_model(model, out_path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data, size_threshold=1024)
    del model
    onnx.checker.check_model(out_path)  # by path: the external data is not loaded

    # the check: ORT on the exported graph against transformers' own heads
    # (for rerank the full LM head, so the two-row slice is checked as well),
    # on the traced shape and on another one (the trace must not have frozen
    # the batch or the length)
    def reject(why):
        for bad in (out_path, out_path + ".data"):  # so no later run takes it for a checked export
            os.remove(bad)
        sys.exit(f"qwen3_ort: {why}; {out_path} removed")

    sess = ort.InferenceSession(out_path, providers=["CPUExecutionProvider"])
    worst, scale = 0.0, 0.0
    for shape in ((2, 11), (3, 29)):
        ids = torch.randint(0, full.config.vocab_size, shape, generator=gen)
        mask = torch.ones_like(ids)
        got = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        with torch.no_grad():
            if kind == "embed":
                ref = full(input_ids=ids, attention_mask=mask).last_hidden_state[:, -1, :].numpy()
            else:
                yes, no = yes_no_ids(tok)
                logits = full(input_ids=ids, attention_mask=mask).logits[:, -1, :]
                ref = (logits[:, yes] - logits[:, no]).numpy()
        if got.shape != ref.shape:
            reject(f"the exported graph gives {list(got.shape)} on {list(shape)} ids, not {list(ref.shape)}")
        worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - ref))))
        scale = max(scale, float(np.max(np.abs(ref))))
    print(f"qwen3_ort: wrote {out_path} (+ {data}, {os.path.getsize(out_path + '.data') / 2**20:.1f} MiB): {kind}, "
          f"{name} [batch{', hidden' if kind == 'embed' else ''}]; vs transformers float32 on [2, 11] and [3, 29] "
          f"ids: max |diff| {worst:.2e} (max |value| {scale:.2e})")
    if not worst <= 1e-3 * max(1.0, scale):
        reject(f"the exported graph disagrees with transformers (max |diff| {worst:.2e})")


def run(onnx_path, kind, text_path, threads, repeats, out_path):
    import numpy as np
    import onnxruntime as ort

    _, _, batch = load(text_path)
    opt = ort.SessionOptions()
    opt.intra_op_num_threads = threads  # the calling thread counts as one of them, as ember's
    opt.inter_op_num_threads = 1
    opt.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opt.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(onnx_path, opt, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    if meta.get("kind") != kind:
        sys.exit(f"qwen3_ort: {onnx_path} was exported for {meta.get('kind')}, not {kind}")
    # tokenised in a child so that torch and transformers stay out of this process
    row = json.loads(subprocess.run([sys.executable, os.path.abspath(__file__), "ids", meta["hf_dir"], kind, text_path],
                                    check=True, capture_output=True, text=True).stdout)
    ids = np.asarray([row] * batch, dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}  # equal rows: no padding
    out = sess.run(None, feeds)[0]  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        out = sess.run(None, feeds)[0]
        times.append((time.perf_counter_ns() - t0) / 1e6)
    times.sort()
    res = out.astype(np.float64)
    if kind == "embed":
        res = res / np.linalg.norm(res, axis=1, keepdims=True)
    np.ascontiguousarray(res, dtype=np.float32).tofile(out_path)
    print(json.dumps({"min_ms": times[0], "median_ms": times[len(times) // 2], "max_rss_mb": rss_mb(),
                      "batch": batch, "tokens": len(row), "threads": threads, "onnxruntime": ort.__version__}))


def main():
    a = sys.argv[1:]
    kinds = ("embed", "rerank")
    if len(a) == 4 and a[0] == "export" and a[2] in kinds:
        export(a[1], a[2], a[3])
    elif len(a) == 7 and a[0] == "run" and a[2] in kinds:
        run(a[1], a[2], a[3], int(a[4]), int(a[5]), a[6])
    elif len(a) == 4 and a[0] == "ids" and a[2] in kinds:  # internal: run's tokeniser child
        print(json.dumps(tokenize(a[1], a[2], a[3])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
