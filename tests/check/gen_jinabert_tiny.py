#!/usr/bin/env python3
"""Writes tests/data/models/jinabert-tiny/: a random-weight JinaBERT reranker
in the HuggingFace layout of jinaai/jina-reranker-v1-tiny-en and -turbo-en
(JinaBertForSequenceClassification on jinaai/jina-bert-implementation's
modeling code; a RoBERTa-style byte-level BPE tokenizer, llama.cpp's
"jina-v1-en"), and goldens.jsonl from a float64 numpy forward pass written
here from that modeling code's semantics:

  embeddings   word + token type (no position table: ALiBi), LayerNorm
  each layer   self-attention with ALiBi's symmetric bias: head h adds
               -slope_h |i - j| to scores / sqrt(head_dim) (the ALiBi
               paper's slopes, _get_alibi_head_slopes), softmax, then
               LayerNorm(dense(ctx) + x)                  (BertSelfOutput)
               JinaBertGLUMLP: h = gated_layers(a) (no bias), gelu(h[:I])
               (torch nn.GELU(): exact erf) * h[I:], LayerNorm(wo(.) + a)
  head         pooler tanh(dense(h[<s>])), classifier (one logit)

Token ids come from the HuggingFace `tokenizers` library on the written
tokenizer.json (truncation longest_first), whose <mask> has lstrip as
transformers 4's RobertaTokenizerFast writes it.  RobertaTokenizer returns no
token_type_ids (its model_input_names), so the model sees type 0 on every
token: the goldens record what is fed.

Deterministic: one generator per tensor seeded with (SEED, crc32(name)); the
BPE vocabulary is trained by `tokenizers` on the text below.  Needs numpy,
safetensors and tokenizers (the project's tooling venv); with --torch, an
independent float32 torch forward (SDPA with the bias as a float mask, the
modeling code's attn_implementation "torch" path) is compared with the
float64 goldens.

    python3 tests/check/gen_jinabert_tiny.py [OUT_DIR] [--torch]
"""
import json
import math
import os
import sys
import zlib

import numpy as np
from safetensors.numpy import save_file
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

SEED = 1515
HIDDEN, LAYERS, HEADS, INTER = 36, 2, 12, 72  # 12 heads as the real ones: slopes past a power of two
TYPE_VOCAB, MAX_POS, EPS = 2, 8192, 1e-12
BPE_VOCAB = 500  # trained size; config.json's vocab_size pads it to a multiple of 64, as the real 61056
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

CORPUS = """\
Paris is the capital and largest city of France. Berlin is the capital of Germany and its most populous city.
The Great Wall of China is a series of fortifications in northern China. Mount Everest is Earth's highest
mountain above sea level. The Pacific Ocean is the largest and deepest of Earth's oceans. A reranker reads a
query and a document together and scores how well the document answers the query. Cross-encoders are slower
than bi-encoders but more accurate, so they rerank the few candidates that a vector index returns. Attention
with linear biases lets a model read sequences longer than those it was trained on: each head penalises
distant tokens by a slope times their distance. The gated feed-forward layer multiplies one projection,
passed through an activation, by another. Search engines, question answering and retrieval augmented
generation all rank passages. What is the capital of France? Who wrote the theory of relativity? How tall is
the tallest mountain? Which ocean is the deepest? The quick brown fox jumps over the lazy dog. Machine
learning models turn text into vectors; nearest neighbours in that space share meaning. Tokenizers split text
into pieces the model knows, byte by byte when nothing else fits. Numbers like 1234 and 56.78 and dates like
2024-05-17 appear in documents too, as do e-mail addresses, URLs and code such as def f(x): return x * 2.
"""


def slopes(n):
    """_get_alibi_head_slopes of jina-bert-implementation, in Python floats"""
    def pow2(k):
        start = 2 ** (-(2 ** -(math.log2(k) - 3)))
        return [start * start ** i for i in range(k)]
    if math.log2(n).is_integer():
        return pow2(n)
    c = 2 ** math.floor(math.log2(n))
    return pow2(c) + slopes(2 * c)[0::2][: n - c]


def rng_for(name):
    return np.random.Generator(np.random.PCG64([SEED, zlib.crc32(name.encode())]))


def weights(vocab):
    """every tensor of the checkpoint, float32, named as the real one"""
    t = {}

    def normal(name, shape, std):
        t[name] = rng_for(name).normal(0.0, std, shape).astype(np.float32)

    def norm(prefix, n):  # deliberately not identity, so a norm bug cannot hide
        t[prefix + ".weight"] = (1.0 + rng_for(prefix + ".weight").normal(0.0, 0.1, n)).astype(np.float32)
        normal(prefix + ".bias", n, 0.1)

    def linear(prefix, rows, cols, bias=True):
        normal(prefix + ".weight", (rows, cols), 0.15)
        if bias:
            normal(prefix + ".bias", rows, 0.05)

    normal("bert.embeddings.word_embeddings.weight", (vocab, HIDDEN), 0.5)
    t["bert.embeddings.word_embeddings.weight"][1] = 0.0  # padding_idx (pad_token_id 1), as HF initialises it
    normal("bert.embeddings.token_type_embeddings.weight", (TYPE_VOCAB, HIDDEN), 0.5)
    norm("bert.embeddings.LayerNorm", HIDDEN)
    for l in range(LAYERS):
        p = "bert.encoder.layer.%d." % l
        for n in ("query", "key", "value"):
            linear(p + "attention.self." + n, HIDDEN, HIDDEN)
        linear(p + "attention.output.dense", HIDDEN, HIDDEN)
        norm(p + "attention.output.LayerNorm", HIDDEN)
        linear(p + "mlp.gated_layers", 2 * INTER, HIDDEN, bias=False)
        linear(p + "mlp.wo", HIDDEN, INTER)
        norm(p + "mlp.layernorm", HIDDEN)
    linear("bert.pooler.dense", HIDDEN, HIDDEN)
    linear("classifier", 1, HIDDEN)
    return t


# ---- the float64 reference ----

def layer_norm(x, g, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + EPS) * g + b


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def forward(w, ids, types, bugs=()):
    """the logit of one unpadded sequence; bugs: faults injected to show the goldens see them"""
    W = {k: v.astype(np.float64) for k, v in w.items()}
    n, hd = len(ids), HIDDEN // HEADS
    x = W["bert.embeddings.word_embeddings.weight"][ids] + W["bert.embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, W["bert.embeddings.LayerNorm.weight"], W["bert.embeddings.LayerNorm.bias"])
    # the model's alibi buffer is float32: slopes rounded to float, times -|i - j|
    sl = np.array(slopes(HEADS), dtype=np.float32).astype(np.float64)
    if "slope_order" in bugs:
        sl = np.sort(sl)[::-1]
    dist = np.abs(np.arange(n)[None, :] - np.arange(n)[:, None]).astype(np.float64)
    bias = -sl[:, None, None] * dist[None]
    if "no_alibi" in bugs:
        bias = np.zeros_like(bias)
    if "causal_alibi" in bugs:
        bias = np.where(np.arange(n)[None, :] > np.arange(n)[:, None], -np.inf, bias)
    for l in range(LAYERS):
        p = "bert.encoder.layer.%d." % l
        lin = lambda a, name: a @ W[p + name + ".weight"].T + W[p + name + ".bias"]
        q, k, v = (lin(x, "attention.self." + s).reshape(n, HEADS, hd).transpose(1, 0, 2) for s in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        ctx = ((s / s.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, HIDDEN)
        a = layer_norm(lin(ctx, "attention.output.dense") + x, W[p + "attention.output.LayerNorm.weight"],
                       W[p + "attention.output.LayerNorm.bias"])
        h = a @ W[p + "mlp.gated_layers.weight"].T
        gated, non_gated = (h[:, INTER:], h[:, :INTER]) if "gate_half" in bugs else (h[:, :INTER], h[:, INTER:])
        act = (0.5 * gated * (1 + np.tanh(math.sqrt(2 / math.pi) * (gated + 0.044715 * gated ** 3)))
               if "tanh_gelu" in bugs else gelu(gated))
        x = layer_norm(lin(act * non_gated, "mlp.wo") + a, W[p + "mlp.layernorm.weight"], W[p + "mlp.layernorm.bias"])
    pooled = np.tanh(x[0] @ W["bert.pooler.dense.weight"].T + W["bert.pooler.dense.bias"])
    return float(pooled @ W["classifier.weight"][0] + W["classifier.bias"][0])


def forward_torch(w, ids):
    """an independent float32 check: torch, SDPA with the ALiBi bias as a float mask"""
    import torch
    import torch.nn.functional as F
    T = {k: torch.from_numpy(v) for k, v in w.items()}
    n, hd = len(ids), HIDDEN // HEADS
    ids_t = torch.tensor(ids)
    x = F.embedding(ids_t, T["bert.embeddings.word_embeddings.weight"]) + T["bert.embeddings.token_type_embeddings.weight"][0]
    x = F.layer_norm(x, (HIDDEN,), T["bert.embeddings.LayerNorm.weight"], T["bert.embeddings.LayerNorm.bias"], EPS)
    rel = torch.abs(torch.arange(n)[None, :] - torch.arange(n)[:, None])
    alibi = (torch.Tensor(slopes(HEADS)) * -1)[:, None, None] * rel[None]
    for l in range(LAYERS):
        p = "bert.encoder.layer.%d." % l
        lin = lambda a, name: F.linear(a, T[p + name + ".weight"], T[p + name + ".bias"])
        q, k, v = (lin(x, "attention.self." + s).view(n, HEADS, hd).transpose(0, 1) for s in ("query", "key", "value"))
        ctx = F.scaled_dot_product_attention(q[None], k[None], v[None], alibi[None])[0].transpose(0, 1).reshape(n, HIDDEN)
        a = F.layer_norm(lin(ctx, "attention.output.dense") + x, (HIDDEN,), T[p + "attention.output.LayerNorm.weight"],
                         T[p + "attention.output.LayerNorm.bias"], EPS)
        h = F.linear(a, T[p + "mlp.gated_layers.weight"])
        m = torch.nn.GELU()(h[:, :INTER]) * h[:, INTER:]
        x = F.layer_norm(lin(m, "mlp.wo") + a, (HIDDEN,), T[p + "mlp.layernorm.weight"], T[p + "mlp.layernorm.bias"], EPS)
    pooled = torch.tanh(F.linear(x[0], T["bert.pooler.dense.weight"], T["bert.pooler.dense.bias"]))
    return float(F.linear(pooled, T["classifier.weight"], T["classifier.bias"])[0])


# ---- the folder ----

def write_tokenizer(out):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, min_frequency=1, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS.splitlines(), trainer=trainer)
    # as transformers 4's RobertaTokenizerFast (which saved the real files) writes it:
    # <mask> takes the whitespace before it (HF lstrip)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=False)
    tok.save(os.path.join(out, "tokenizer.json"))
    specials = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
                "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}
    cfg = dict(specials, add_prefix_space=False, clean_up_tokenization_spaces=True, errors="replace",
               model_max_length=MAX_POS, tokenizer_class="RobertaTokenizer", trim_offsets=True)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "special_tokens_map.json"), "w") as f:
        mask = {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False, "single_word": False}
        json.dump(dict(specials, mask_token=mask), f, indent=2, sort_keys=True)
        f.write("\n")
    return Tokenizer.from_file(os.path.join(out, "tokenizer.json"))


def write_config(out, vocab):
    cfg = {
        "_name_or_path": "fixtures/jinabert-tiny",
        "architectures": ["JinaBertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "attn_implementation": "torch",
        "auto_map": {
            "AutoConfig": "jinaai/jina-bert-implementation--configuration_bert.JinaBertConfig",
            "AutoModel": "jinaai/jina-bert-implementation--modeling_bert.JinaBertModel",
            "AutoModelForSequenceClassification":
                "jinaai/jina-bert-implementation--modeling_bert.JinaBertForSequenceClassification",
        },
        "classifier_dropout": None,
        "emb_pooler": "mean",
        "feed_forward_type": "geglu",
        "gradient_checkpointing": False,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "id2label": {"0": "LABEL_0"},
        "initializer_range": 0.02,
        "intermediate_size": INTER,
        "label2id": {"LABEL_0": 0},
        "layer_norm_eps": EPS,
        "max_position_embeddings": MAX_POS,
        "model_max_length": MAX_POS,
        "model_type": "bert",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "pad_token_id": 1,
        "position_embedding_type": "alibi",
        "torch_dtype": "float32",
        "transformers_version": "4.38.2",
        "type_vocab_size": TYPE_VOCAB,
        "use_cache": True,
        "vocab_size": vocab,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


LONG_DOC = " ".join(CORPUS.split()) + " " + " ".join(reversed(CORPUS.split()))
SINGLE = [  # (id, query, document, max_length)
    ("pair-capital-pos", "What is the capital of France?", "Paris is the capital and largest city of France.", MAX_POS),
    ("pair-capital-neg", "What is the capital of France?", "Berlin is the capital of Germany and its most populous city.", MAX_POS),
    ("pair-ocean", "Which ocean is the deepest?", "The Pacific Ocean is the largest and deepest of Earth's oceans.", MAX_POS),
    ("pair-short", "fox", "The quick brown fox jumps over the lazy dog.", MAX_POS),
    ("pair-one-token", "a", "b", MAX_POS),
    ("pair-empty-doc", "What is the capital of France?", "", MAX_POS),
    ("pair-query-longer", "How do rerankers use attention with linear biases to read long documents?", "ALiBi.", MAX_POS),
    ("pair-numbers", "When was it written?", "Dates like 2024-05-17 and numbers like 1234 and 56.78.", MAX_POS),
    ("pair-code", "double a value", "def f(x): return x * 2", MAX_POS),
    ("pair-unicode", "Où est la capitale ?", "Paris, naïve café, Zürich, 東京, Москва, 🙂 and ñ.", MAX_POS),
    ("pair-whitespace", "  spaced   query  ", "tabs\tand\nnewlines  and   runs of spaces ", MAX_POS),
    ("pair-special-text", "what is <mask>?", "a document naming </s> and <s> inside its text", MAX_POS),
    ("pair-case", "PARIS", "paris Paris PARIS pArIs", MAX_POS),
    ("pair-long-doc", "What is attention with linear biases?", LONG_DOC, MAX_POS),
    ("pair-long-both", LONG_DOC[:600], LONG_DOC, MAX_POS),
    ("trunc-doc-32", "What is the capital of France?", LONG_DOC, 32),
    ("trunc-both-24", LONG_DOC[:300], LONG_DOC[300:900], 24),
    ("trunc-query-long-16", LONG_DOC[:200], "Paris is the capital of France.", 16),
    ("trunc-exact-fit", "capital", "Paris is the capital.", 9),
    ("trunc-long-200", "Which ocean is the deepest?", LONG_DOC + " " + LONG_DOC, 200),
    ("pair-mask-spaces", "Paris is the   <mask> of France.", "<mask>  capital\t<mask>\n<mask>x", MAX_POS),
]
BATCHES = [
    ("batch-mixed", [("What is the capital of France?", d) for d in (
        "Paris is the capital and largest city of France.", "", "The Great Wall of China.",
        "Berlin is the capital of Germany and its most populous city.")], MAX_POS),
    ("batch-truncated", [(LONG_DOC[:100], LONG_DOC[:400]), ("short", "pair"), ("tokens", LONG_DOC)], 40),
]


def encode(tok, q, d, max_length):
    tok.enable_truncation(max_length, strategy="longest_first")
    e = tok.encode(q, d)
    tok.no_truncation()
    full = tok.encode(q, d)
    return e.ids, len(full.ids)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "models", "jinabert-tiny")
    os.makedirs(out, exist_ok=True)
    tok = write_tokenizer(out)
    n_tok = tok.get_vocab_size(with_added_tokens=True)
    vocab = (n_tok + 63) // 64 * 64
    write_config(out, vocab)
    w = weights(vocab)
    save_file(w, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})

    rows, logits_single = [], []
    for cid, q, d, ml in SINGLE:
        ids, n_full = encode(tok, q, d, ml)
        lg = forward(w, ids, [0] * len(ids))
        logits_single.append((ids, lg))
        rows.append({"id": cid, "kind": "single", "query": q, "document": d, "max_length": ml,
                     "truncated": n_full > len(ids), "num_tokens": len(ids), "num_tokens_untruncated": n_full,
                     "input_ids": ids, "attention_mask": [1] * len(ids), "token_type_ids": [0] * len(ids),
                     "logits": [lg], "score_sigmoid": [sigmoid(lg)]})
    pad = tok.token_to_id("<pad>")
    for cid, pairs, ml in BATCHES:
        enc = [encode(tok, q, d, ml)[0] for q, d in pairs]
        width = max(len(e) for e in enc)
        lgs = [forward(w, e, [0] * len(e)) for e in enc]
        rows.append({"id": cid, "kind": "batch", "pairs": [list(p) for p in pairs], "max_length": ml,
                     "padding_side": "right", "pad_token_id": pad,
                     "input_ids": [e + [pad] * (width - len(e)) for e in enc],
                     "attention_mask": [[1] * len(e) + [0] * (width - len(e)) for e in enc],
                     "token_type_ids": [[0] * width for _ in enc],
                     "logits": [[lg] for lg in lgs], "score_sigmoid": [[sigmoid(lg)] for lg in lgs]})
    with open(os.path.join(out, "goldens.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    # what the goldens see: each injected fault moves the logits far past the 2e-5 tolerance
    for bug in ("no_alibi", "causal_alibi", "slope_order", "gate_half", "tanh_gelu"):
        dev = max(abs(forward(w, ids, [0] * len(ids), (bug,)) - lg) for ids, lg in logits_single[:14])
        print("bug %-13s moves the logits by up to %.3g (%.0fx the tolerance)" % (bug, dev, dev / 2e-5))
    if "--torch" in sys.argv:
        dev = max(abs(forward_torch(w, ids) - lg) for ids, lg in logits_single)
        print("float32 torch forward vs the float64 goldens: max |diff| %.3g over %d cases" % (dev, len(logits_single)))
    print("wrote %s: %d tokens (vocab_size %d), %d golden rows" % (out, n_tok, vocab, len(rows)))


if __name__ == "__main__":
    main()
