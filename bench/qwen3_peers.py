"""Qwen3 peers of `make bench-qwen3`, on the same weights and texts as ember.

    qwen3_peers.py prompt embed|rerank TEXT.json OUT.txt
    qwen3_peers.py hf-embed HF_DIR TEXT.json OUT.f32
    qwen3_peers.py hf-rerank HF_DIR TEXT.json OUT.f32

TEXT.json is bench_embed's --text-out ({"query", "text", "batch"}): the
batch holds `batch` copies of text (for the reranker: the pair (query,
text) `batch` times, written into Qwen3-Reranker's prompt exactly as ember
writes it).  prompt: the one input of bench/llama_peer.c (llama.cpp), the
text or the whole reranker prompt.  hf-*:
transformers' Qwen3Model / Qwen3ForCausalLM in float32 on CPU, the reference
of correctness: writes the normalised last-token embeddings, or logit(yes) -
logit(no).  OUT.f32: row-major float32."""
import json
import sys

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


def prompt(kind, text_path, out_path):
    """The one input llama_peer runs BATCH copies of: the text (embed), or
    the whole reranker prompt (rerank)."""
    query, text, _ = load(text_path)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(rerank_prompt(query, text) if kind == "rerank" else text)


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
    if mode == "prompt" and len(sys.argv) == 5 and sys.argv[2] in ("embed", "rerank"):
        prompt(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode in ("hf-embed", "hf-rerank") and len(sys.argv) == 5:
        hf(mode, sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
