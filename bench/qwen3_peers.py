"""Qwen3 peers of `make bench-qwen3`, on the same weights and texts as ember.

    qwen3_peers.py llama-embed GGUF TEXT.json THREADS REPEATS OUT.f32
    qwen3_peers.py llama-rerank GGUF TEXT.json THREADS REPEATS OUT.f32
    qwen3_peers.py hf-embed HF_DIR TEXT.json OUT.f32
    qwen3_peers.py hf-rerank HF_DIR TEXT.json OUT.f32

TEXT.json is bench_embed's --text-out ({"query", "text", "batch"}): the
batch holds `batch` copies of text (for the reranker: the pair (query,
text) `batch` times, written into Qwen3-Reranker's prompt exactly as ember
writes it).  llama-*: llama.cpp through llama-cpp-python (its embedding and
rank pooling, the GGUF ember wrote), timed as ember is (one warm-up, then
REPEATS calls of the whole batch), one JSON line on stdout.  hf-*:
transformers' Qwen3Model / Qwen3ForCausalLM in float32 on CPU, the reference
of correctness: writes the normalised last-token embeddings, or logit(yes) -
logit(no).  OUT.f32: row-major float32."""
import json
import resource
import sys
import time

PREFIX = ("<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
          "provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n")
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
TASK = "Given a web search query, retrieve relevant passages that answer the query"


def rerank_prompt(query, doc):
    return PREFIX + "<Instruct>: %s\n<Query>: %s\n<Document>: %s" % (TASK, query, doc) + SUFFIX


def load(path):
    with open(path) as f:
        t = json.load(f)
    return t["query"], t["text"], int(t["batch"])


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def llama(mode, gguf, text_path, threads, repeats, out_path):
    import numpy as np
    import llama_cpp
    query, text, batch = load(text_path)
    rerank = mode == "llama-rerank"
    inputs = [rerank_prompt(query, text) if rerank else text] * batch
    # one context holds the whole batch, one sequence per input (as ember runs it)
    n_tok = len(llama_cpp.Llama(model_path=gguf, vocab_only=True, verbose=False).tokenize(inputs[0].encode(), add_bos=False, special=True))
    n_ctx = (n_tok + 8) * batch
    m = llama_cpp.Llama(model_path=gguf, embedding=True, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx,
                        n_threads=threads, n_threads_batch=threads, verbose=False,
                        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_RANK if rerank else llama_cpp.LLAMA_POOLING_TYPE_LAST)
    # the prompt's <|im_start|> etc. are special tokens: Llama.embed tokenizes
    # with special=False, so they would be split as text
    plain = m.tokenize
    m.tokenize = lambda text, add_bos=True, special=False: plain(text, add_bos=add_bos, special=True)
    out = m.embed(inputs, normalize=False)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        out = m.embed(inputs, normalize=False)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    times.sort()
    arr = np.asarray(out, dtype=np.float64)
    if rerank:
        # rank pooling with two labels: llama.cpp's softmax over (yes, no);
        # ember's logit is logit(yes) - logit(no), whose sigmoid is p(yes)
        p = np.clip(arr[:, 0], 1e-12, 1 - 1e-12)
        arr = np.log(p / (1 - p))
    else:
        arr = arr / np.linalg.norm(arr, axis=1, keepdims=True)
    np.ascontiguousarray(arr, dtype=np.float32).tofile(out_path)
    print(json.dumps({"min_ms": times[0], "median_ms": times[len(times) // 2], "max_rss_mb": rss_mb(),
                      "batch": batch, "tokens": n_tok, "threads": threads,
                      "llama_cpp_python": llama_cpp.__version__}))


def hf(mode, hf_dir, text_path, out_path):
    import numpy as np
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(2)
    query, text, batch = load(text_path)
    tok = AutoTokenizer.from_pretrained(hf_dir)
    with torch.no_grad():
        if mode == "hf-embed":
            model = AutoModel.from_pretrained(hf_dir, torch_dtype=torch.float32).eval()
            ids = tok([text], return_tensors="pt")
            h = model(**ids).last_hidden_state[:, -1, :].double()
            res = (h / h.norm(dim=1, keepdim=True)).numpy()
        else:
            model = AutoModelForCausalLM.from_pretrained(hf_dir, torch_dtype=torch.float32).eval()
            ids = tok([rerank_prompt(query, text)], return_tensors="pt", add_special_tokens=False)
            logits = model(**ids).logits[:, -1, :].double()
            yes, no = tok.convert_tokens_to_ids("yes"), tok.convert_tokens_to_ids("no")
            res = (logits[:, yes] - logits[:, no]).numpy()
    np.ascontiguousarray(np.repeat(res, batch, axis=0), dtype=np.float32).tofile(out_path)
    print(json.dumps({"tokens": int(ids["input_ids"].shape[1]), "transformers": __import__("transformers").__version__,
                      "torch": torch.__version__}))


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    mode = sys.argv[1]
    if mode in ("llama-embed", "llama-rerank") and len(sys.argv) == 7:
        llama(mode, sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif mode in ("hf-embed", "hf-rerank") and len(sys.argv) == 5:
        hf(mode, sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
