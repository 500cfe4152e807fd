#!/usr/bin/env python3
"""Writes tests/data/models/jina-reranker-v2-tiny: a random-weight folder in
the exact layout of jinaai/jina-reranker-v2-base-multilingual, with goldens
from a float64 reference forward written here from Jina's published modeling
code (modeling_xlm_roberta.py, block.py, mha.py, mlp.py, embedding.py of the
model repository).  Deterministic: the same files every run.

Run once by hand from the repository root (not part of `make test`):

    build/venv/bin/python tests/check/gen_jinav2_tiny.py [--crosscheck] [--jina-code DIR]

Needs numpy, torch, safetensors, tokenizers and transformers.  The
tokenizer's vocabulary and precompiled_charsmap come from
gen_xlmr_embed_tiny.py (a made-up XLM-R-style vocabulary, a charsmap of a
few nmt_nfkc rules in SentencePiece's format): nothing is read from the
shared fixtures.

--crosscheck runs the reference's inputs through transformers'
XLMRobertaForSequenceClassification on the same weights renamed to its
module names, in float64, and prints the largest logit difference.
--jina-code DIR also runs Jina's own modeling code from DIR (a folder with
the model repository's .py files), loading model.safetensors by its own
state_dict names (strict), which checks the tensor names as well.

What is real: config.json's keys and values but the sizes, the tensor names
and dtype (bf16), the tokenizer files' structure (XLM-R's: Unigram with
unk_id 3, <s> <pad> </s> <unk> first and <mask> last, Precompiled charsmap
then Replace(" {2,}", " "), Metaspace always-prepend, the <s> A </s></s> B
</s> template), tokenizer_config.json and special_tokens_map.json.  What is
not: the weights (seeded normal numbers), the vocabulary (a few hundred
made-up pieces and scores) and the charsmap (a few dozen normalization
rules: spaces, full-width forms, ligatures, a composition)."""
import argparse
import json
import math
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_xlmr_embed_tiny import CHARSMAP_RULES, build_charsmap, vocabulary  # noqa: E402

OUT_DEFAULT = "tests/data/models/jina-reranker-v2-tiny"
SEED = 2406
HIDDEN, LAYERS, HEADS, FFN = 32, 2, 4, 128
MAX_POS, PAD_ID, EPS = 1026, 1, 1e-5
MODEL_MAX_LENGTH = 1024
N_VOCAB = 512

LONG = ("Bread is one of the oldest prepared foods. Evidence from thirty thousand years ago in Europe "
        "revealed starch residue on rocks used for pounding plants. The Chorleywood bread process was "
        "developed in 1961; it uses the intense mechanical working of dough to dramatically reduce the "
        "fermentation period. ")
WATER = ("The water cycle describes how water evaporates from the surface of the earth, rises into the "
         "atmosphere, cools and condenses into clouds, and falls again to the surface as precipitation. ")

PAIRS = [
    ("pair-capital-pos", "What is the capital of France?", "Paris is the capital and largest city of France."),
    ("pair-capital-neg", "What is the capital of France?", "Berlin is the capital of Germany."),
    ("pair-short", "bread", "Bread is a staple food."),
    ("pair-empty-doc", "how to bake bread", ""),
    ("pair-empty-query", "", "A document without a query."),
    ("pair-punct", "what's 2+2?", "2 + 2 = 4 (four); see: arithmetic!"),
    ("pair-case", "MACHINE LEARNING", "Machine learning is a field of study in artificial intelligence."),
    ("pair-de", "Wie backt man Brot?", "Man mischt Mehl, Wasser, Salz und Hefe und backt den Teig im Ofen."),
    ("pair-fr", "Qu'est-ce que la photosynthèse ?", "La photosynthèse est le processus par lequel les plantes vertes produisent de l'énergie."),
    ("pair-es", "¿Dónde está la biblioteca?", "La biblioteca está al lado del café."),
    ("pair-ru", "Что такое фотосинтез?", "Фотосинтез — процесс образования органических веществ."),
    ("pair-zh", "什么是机器学习？", "机器学习是人工智能的一个分支。"),
    ("pair-ja", "日本の首都はどこですか", "東京は日本の首都です。"),
    ("pair-ar", "ما هي عاصمة مصر؟", "القاهرة هي عاصمة مصر وأكبر مدنها."),
    ("pair-ko", "서울은 어느 나라의 수도입니까?", "서울은 대한민국의 수도이다."),
    ("pair-el", "Τι είναι το ψωμί;", "Ψωμί είναι ένα βασικό τρόφιμο."),
    ("pair-emoji", "pizza 🍕", "I love pizza 🍕🍕 and coffee ☕"),
    ("pair-fullwidth", "ＡＢＣ ｂ５ （ｃ）！", "Ｃ０１ ａｂｃ，ＡＢ：１５？"),
    ("pair-ligature", "ﬁnancial oﬀer ① ② ™", "ﬁve ﬀ … x² ½ Ⅻ ℃ 5㎏ µ ſ ĳ"),
    ("pair-compose", "cafe\u0301 a\u0300 la carte", "u\u0308ber e\u0301te\u0301 \u1100\u1161"),
    ("pair-katakana", "ｶﾞ ｶ ﾞ", "ｶﾞｶﾞ ガ"),
    ("pair-whitespace", "  spaced   query\t", "\nnew\nlines\r\nand  spaces \u00a0 nbsp\u3000ideographic"),
    ("pair-control", "zero\u200bwidth\u2009thin", "bell\x07 vt\x0b ff\x0c soh\x01 bom\ufeff ls\u2028 nnbsp\u202fend"),
    ("pair-specials", "what is <mask> here", "a literal </s> and <s> in the text <mask>end"),
    ("pair-url", "example domain", "https://example.org is reserved for documentation."),
    ("pair-code", "reverse a list in python", "Use lst.reverse() to reverse in place, or lst[::-1] for a copy."),
    ("pair-numbers", "population of Paris 2023", "2,102,650 residents in January 2023"),
    ("pair-single-chars", "a", "b"),
    ("pair-same", "identical text", "identical text"),
    ("pair-long-word", "pneumonoultramicroscopicsilicovolcanoconiosis", "A lung disease caused by inhaling very fine silica dust."),
    ("pair-long-doc", "When was the Chorleywood bread process developed?", LONG * 22),
    ("pair-long-query", LONG * 22, "Bread."),
    ("pair-long-both", WATER * 16, LONG * 12),
]
# pairs cut to a small max_length (longest_first)
SHORT_MAX = 20
PAIRS_SHORT = [
    ("short-doc", "What is the capital of France?", "Paris is the capital and largest city of France, on the Seine."),
    ("short-both", "How does the water cycle work in the atmosphere?", "Water evaporates from oceans, condenses into clouds and falls as rain."),
    ("short-query", "a b c d e f g h i j k l m n o p q r s t u v w x y z", "short"),
]
# one query against several documents in one padded batch (how a reranker is called)
BATCHES = [
    ("batch-capital", "What is the capital of France?",
     ["Paris is the capital and largest city of France.", "Berlin is the capital of Germany.", "",
      "ＡＢＣ ﬁnancial oﬀer", "Фотосинтез — процесс.", "b"]),
    ("batch-pizza", "pizza 🍕", ["I love pizza 🍕🍕 and coffee ☕", "bread", LONG]),
]
# single texts as an embedder would see them (<s> A </s>): the first token's
# final hidden state (XLMRobertaModel.encode with emb_pooler "cls") and the
# mean over the tokens (its default)
EMBED_TEXTS = [
    ("embed-capital", "What is the capital of France?"),
    ("embed-multi", "ＡＢＣ ﬁnancial — Фотосинтез 🍕 cafe\u0301"),
    ("embed-empty", ""),
]


def all_texts():
    out = []
    for _, q, d in PAIRS + PAIRS_SHORT:
        out += [q, d]
    for _, q, docs in BATCHES:
        out += [q] + docs
    return out + [t for _, t in EMBED_TEXTS]


def build_tokenizer(charsmap):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = vocabulary(N_VOCAB)
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<s>", "<pad>", "</s>", "<unk>")] +
                           [AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    return tok, len(vocab)


def tokenizer_config(n_vocab):
    dec = {}
    for i, t in [(0, "<s>"), (1, "<pad>"), (2, "</s>"), (3, "<unk>"), (n_vocab - 1, "<mask>")]:
        dec[str(i)] = {"content": t, "lstrip": t == "<mask>", "normalized": False, "rstrip": False,
                       "single_word": False, "special": True}
    return {"added_tokens_decoder": dec, "bos_token": "<s>", "clean_up_tokenization_spaces": True, "cls_token": "<s>",
            "eos_token": "</s>", "mask_token": "<mask>", "model_max_length": MODEL_MAX_LENGTH, "pad_token": "<pad>",
            "sep_token": "</s>", "tokenizer_class": "XLMRobertaTokenizer", "unk_token": "<unk>"}


SPECIAL_TOKENS_MAP = {
    "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
    "mask_token": {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False, "single_word": False},
    "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>",
}


def config_json(n_vocab):
    # the real config.json's keys, in its order, with the tiny sizes
    return {
        "_name_or_path": "jina-reranker-v2-base-multilingual",
        "architectures": ["XLMRobertaForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "auto_map": {
            "AutoConfig": "configuration_xlm_roberta.XLMRobertaFlashConfig",
            "AutoModel": "modeling_xlm_roberta.XLMRobertaModel",
            "AutoModelForSequenceClassification": "modeling_xlm_roberta.XLMRobertaForSequenceClassification",
        },
        "bos_token_id": 0, "classifier_dropout": None, "emb_pooler": None, "eos_token_id": 2, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "hidden_size": HIDDEN, "num_labels": 1, "id2label": {"0": "LABEL_0"},
        "initializer_range": 0.02, "intermediate_size": FFN, "label2id": {"LABEL_0": 0}, "layer_norm_eps": EPS,
        "max_position_embeddings": MAX_POS, "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
        "output_past": True, "pad_token_id": PAD_ID, "position_embedding_type": "absolute",
        "torch_dtype": "bfloat16", "transformers_version": "4.40.0", "type_vocab_size": 1, "use_cache": False,
        "use_flash_attn": True, "vocab_size": n_vocab,
    }


def tensor_shapes(n_vocab):
    """Jina's state_dict of XLMRobertaForSequenceClassification: name -> (shape, init)."""
    H, I = HIDDEN, FFN
    t = {
        "roberta.embeddings.word_embeddings.weight": ((n_vocab, H), "emb"),
        "roberta.embeddings.position_embeddings.weight": ((MAX_POS, H), "emb"),
        "roberta.embeddings.token_type_embeddings.weight": ((1, H), "emb"),
        "roberta.emb_ln.weight": ((H,), "ln_w"), "roberta.emb_ln.bias": ((H,), "ln_b"),
        "classifier.dense.weight": ((H, H), "w"), "classifier.dense.bias": ((H,), "b"),
        "classifier.out_proj.weight": ((1, H), "w"), "classifier.out_proj.bias": ((1,), "b"),
    }
    for l in range(LAYERS):
        p = "roberta.encoder.layers.%d." % l
        t.update({
            p + "mixer.Wqkv.weight": ((3 * H, H), "w"), p + "mixer.Wqkv.bias": ((3 * H,), "b"),
            p + "mixer.out_proj.weight": ((H, H), "w"), p + "mixer.out_proj.bias": ((H,), "b"),
            p + "norm1.weight": ((H,), "ln_w"), p + "norm1.bias": ((H,), "ln_b"),
            p + "mlp.fc1.weight": ((I, H), "w"), p + "mlp.fc1.bias": ((I,), "b"),
            p + "mlp.fc2.weight": ((H, I), "w"), p + "mlp.fc2.bias": ((H,), "b"),
            p + "norm2.weight": ((H,), "ln_w"), p + "norm2.bias": ((H,), "ln_b"),
        })
    return t


def make_weights(n_vocab):
    """Seeded normal weights rounded to bf16 (what the file holds): name ->
    float64 array with exactly the bf16 values."""
    import torch
    out = {}
    for name, (shape, kind) in tensor_shapes(n_vocab).items():
        rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
        x = rng.normal(0.0, {"emb": 0.1, "w": 0.1, "b": 0.05, "ln_w": 0.1, "ln_b": 0.1}[kind], size=shape)
        if kind == "ln_w":
            x = 1.0 + x
        if name == "roberta.embeddings.word_embeddings.weight":
            x[PAD_ID] = 0.0  # nn.Embedding(padding_idx=pad_token_id) starts that row at zero
        out[name] = torch.tensor(x, dtype=torch.float32).to(torch.bfloat16)
    return out


# ---- the reference forward, float64, from Jina's modeling code ----

_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x):  # F.gelu(approximate="none"): hidden_act "gelu"
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * g + b


def position_ids(ids):
    # create_position_ids_from_input_ids(input_ids, padding_idx=pad_token_id)
    mask = (ids != PAD_ID).astype(np.int64)
    return np.cumsum(mask, axis=1) * mask + PAD_ID


def forward(W, ids, attn_mask):
    """ids, attn_mask: (B, T).  Returns (logits (B, 1), last_hidden_state (B, T, H))."""
    B, T = ids.shape
    H, nh = HIDDEN, HEADS
    d = H // nh
    # XLMRobertaEmbeddings: word + position + token type 0 (the tokenizer gives no token_type_ids)
    x = W["roberta.embeddings.word_embeddings.weight"][ids] + W["roberta.embeddings.position_embeddings.weight"][position_ids(ids)]
    x = x + W["roberta.embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, W["roberta.emb_ln.weight"], W["roberta.emb_ln.bias"])  # emb_ln, then dropout (off)
    # SelfAttention: -10000 added to the scores of padded keys
    bias = np.where(attn_mask.astype(bool), 0.0, -10000.0)[:, None, None, :]
    for l in range(LAYERS):
        p = "roberta.encoder.layers.%d." % l
        qkv = x @ W[p + "mixer.Wqkv.weight"].T + W[p + "mixer.Wqkv.bias"]
        qkv = qkv.reshape(B, T, 3, nh, d)  # "... (three h d) -> ... three h d"
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        scores = np.einsum("bthd,bshd->bhts", q, k * (1.0 / math.sqrt(d))) + bias
        scores = scores - scores.max(-1, keepdims=True)
        att = np.exp(scores)
        att = att / att.sum(-1, keepdims=True)
        ctx = np.einsum("bhts,bshd->bthd", att, v).reshape(B, T, H)
        attn_out = ctx @ W[p + "mixer.out_proj.weight"].T + W[p + "mixer.out_proj.bias"]
        # Block(prenorm=False): norm1(attn + x), then norm2(mlp + that)
        x = layer_norm(attn_out + x, W[p + "norm1.weight"], W[p + "norm1.bias"])
        m = gelu(x @ W[p + "mlp.fc1.weight"].T + W[p + "mlp.fc1.bias"]) @ W[p + "mlp.fc2.weight"].T + W[p + "mlp.fc2.bias"]
        x = layer_norm(m + x, W[p + "norm2.weight"], W[p + "norm2.bias"])
    # XLMRobertaClassificationHead on <s>
    h = np.tanh(x[:, 0] @ W["classifier.dense.weight"].T + W["classifier.dense.bias"])
    return h @ W["classifier.out_proj.weight"].T + W["classifier.out_proj.bias"], x


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def encode_pair(tok, q, d, max_length):
    tok.enable_truncation(max_length=max_length, strategy="longest_first")
    full = tok.encode(q, d).ids
    tok.no_truncation()
    untrunc = len(tok.encode(q, d).ids)
    return full, untrunc


def make_goldens(tok, W):
    rows = []
    cases = [(c, q, d, MODEL_MAX_LENGTH) for c, q, d in PAIRS] + [(c, q, d, SHORT_MAX) for c, q, d in PAIRS_SHORT]
    for n, (cid, q, d, ml) in enumerate(cases):
        ids, untrunc = encode_pair(tok, q, d, ml)
        a = np.array([ids])
        logits, _ = forward(W, a, np.ones_like(a))
        row = {"id": cid, "kind": "single", "query": q, "document": d, "max_length": ml,
               "truncated": untrunc > len(ids), "num_tokens": len(ids), "num_tokens_untruncated": untrunc,
               "input_ids": ids, "attention_mask": [1] * len(ids), "token_type_ids": [0] * len(ids)}
        if n < 2:
            row["position_ids"] = position_ids(a)[0].tolist()
        row["logits"] = [float(logits[0, 0])]
        row["score_sigmoid"] = [float(sigmoid(logits[0, 0]))]
        rows.append(row)
    for cid, q, docs in BATCHES:
        enc = [encode_pair(tok, q, d, MODEL_MAX_LENGTH)[0] for d in docs]
        T = max(len(e) for e in enc)
        ids = np.array([e + [PAD_ID] * (T - len(e)) for e in enc])
        mask = np.array([[1] * len(e) + [0] * (T - len(e)) for e in enc])
        logits, _ = forward(W, ids, mask)
        for r, e in enumerate(enc):  # padding changes nothing
            alone, _ = forward(W, np.array([e]), np.ones((1, len(e)), dtype=np.int64))
            assert abs(alone[0, 0] - logits[r, 0]) < 1e-12, (cid, r, alone[0, 0], logits[r, 0])
        rows.append({"id": cid, "kind": "batch", "query": q, "documents": docs, "max_length": MODEL_MAX_LENGTH,
                     "padding_side": "right", "pad_token_id": PAD_ID, "input_ids": ids.tolist(),
                     "attention_mask": mask.tolist(), "logits": [[float(x)] for x in logits[:, 0]],
                     "score_sigmoid": [[float(sigmoid(x))] for x in logits[:, 0]]})
    tok.enable_truncation(max_length=MODEL_MAX_LENGTH, strategy="longest_first")
    for cid, text in EMBED_TEXTS:
        ids = tok.encode(text).ids
        _, hidden = forward(W, np.array([ids]), np.ones((1, len(ids)), dtype=np.int64))
        rows.append({"id": cid, "kind": "embed", "text": text, "max_length": MODEL_MAX_LENGTH, "input_ids": ids,
                     "cls": hidden[0, 0].tolist(), "mean": hidden[0].mean(0).tolist()})
    tok.no_truncation()
    return rows


def run_batches(rows, fn):
    """Largest |fn(ids, mask) - golden logit| over every case."""
    worst = 0.0
    for r in rows:
        if r["kind"] == "embed":
            continue
        ids = np.array(r["input_ids"] if r["kind"] == "batch" else [r["input_ids"]])
        mask = np.array(r["attention_mask"] if r["kind"] == "batch" else [r["attention_mask"]])
        want = np.array(r["logits"] if r["kind"] == "batch" else [r["logits"]])[:, 0]
        worst = max(worst, float(np.abs(fn(ids, mask) - want).max()))
    return worst


def crosscheck_transformers(rows, tensors, n_vocab):
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification
    cfg = XLMRobertaConfig(vocab_size=n_vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                           intermediate_size=FFN, hidden_act="gelu", max_position_embeddings=MAX_POS, type_vocab_size=1,
                           layer_norm_eps=EPS, pad_token_id=PAD_ID, num_labels=1, attn_implementation="eager")
    model = XLMRobertaForSequenceClassification(cfg).double().eval()
    H = HIDDEN
    sd = {}
    for name, t in tensors.items():
        t = t.double()
        n = name.replace("roberta.emb_ln.", "roberta.embeddings.LayerNorm.")
        if ".layers." in n:
            l = n.split(".")[3]
            p = "roberta.encoder.layer.%s." % l
            tail = n.split(".layers.%s." % l)[1]
            if tail.startswith("mixer.Wqkv."):
                kind = tail.split(".")[-1]
                for k, m in enumerate(("query", "key", "value")):
                    sd[p + "attention.self.%s.%s" % (m, kind)] = t[k * H:(k + 1) * H]
                continue
            n = p + {"mixer.out_proj": "attention.output.dense", "norm1": "attention.output.LayerNorm",
                     "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense",
                     "norm2": "output.LayerNorm"}[tail.rsplit(".", 1)[0]] + "." + tail.rsplit(".", 1)[1]
        sd[n] = t
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    assert not missing and not unexpected, (missing, unexpected)

    def fn(ids, mask):
        with torch.no_grad():
            return model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits[:, 0].numpy()
    worst_hidden = 0.0
    for r in rows:
        if r["kind"] == "embed":
            with torch.no_grad():
                h = model.roberta(input_ids=torch.tensor([r["input_ids"]])).last_hidden_state[0].numpy()
            worst_hidden = max(worst_hidden, float(np.abs(h[0] - r["cls"]).max()), float(np.abs(h.mean(0) - r["mean"]).max()))
    print("transformers XLMRobertaForSequenceClassification (float64, renamed weights): max |logit diff| %.3g, "
          "embedder rows max |diff| %.3g" % (run_batches(rows, fn), worst_hidden))


def crosscheck_jina(rows, out_dir, code_dir):
    """Jina's own modeling code, loading this folder's tensors by their names."""
    import importlib
    import torch
    import transformers.models.xlm_roberta.modeling_xlm_roberta as hf_xlmr
    from safetensors.torch import load_file
    if not hasattr(hf_xlmr, "create_position_ids_from_input_ids"):
        # moved in newer transformers; the function Jina's embedding.py imports
        def create_position_ids_from_input_ids(input_ids, padding_idx, past_key_values_length=0):
            mask = input_ids.ne(padding_idx).int()
            return (torch.cumsum(mask, dim=1).type_as(mask) + past_key_values_length) * mask + padding_idx
        hf_xlmr.create_position_ids_from_input_ids = create_position_ids_from_input_ids
    parent, pkg = os.path.split(os.path.abspath(code_dir))
    sys.path.insert(0, parent)
    conf = importlib.import_module(pkg + ".configuration_xlm_roberta")
    modeling = importlib.import_module(pkg + ".modeling_xlm_roberta")
    with open(os.path.join(out_dir, "config.json")) as f:
        cfg = conf.XLMRobertaFlashConfig(**json.load(f))
    model = modeling.XLMRobertaForSequenceClassification(cfg)
    model.load_state_dict(load_file(os.path.join(out_dir, "model.safetensors")), strict=True)
    model = model.double().eval()

    def fn(ids, mask):
        with torch.no_grad():
            return model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), return_dict=True).logits[:, 0].numpy()
    print("Jina's modeling_xlm_roberta.py (float64, this folder's safetensors, strict names): max |logit diff| %.3g"
          % run_batches(rows, fn))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT_DEFAULT)
    ap.add_argument("--crosscheck", action="store_true")
    ap.add_argument("--jina-code", default=None)
    a = ap.parse_args()
    from safetensors.torch import save_file
    charsmap = build_charsmap(CHARSMAP_RULES)
    tok, n_vocab = build_tokenizer(charsmap)
    os.makedirs(a.out, exist_ok=True)
    tok.save(os.path.join(a.out, "tokenizer.json"))
    for name, obj in [("config.json", config_json(n_vocab)), ("tokenizer_config.json", tokenizer_config(n_vocab)),
                      ("special_tokens_map.json", SPECIAL_TOKENS_MAP)]:
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
    tensors = make_weights(n_vocab)
    save_file(tensors, os.path.join(a.out, "model.safetensors"), metadata={"format": "pt"})
    W = {k: v.double().numpy() for k, v in tensors.items()}
    rows = make_goldens(tok, W)
    with open(os.path.join(a.out, "goldens.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    n_unk = sum(x == 3 for r in rows if r["kind"] == "single" for x in r["input_ids"])
    print("%s: vocab %d, charsmap %d bytes, %d goldens (%d <unk> ids), %d tensors"
          % (a.out, n_vocab, len(charsmap), len(rows), n_unk, len(tensors)))
    if a.crosscheck:
        crosscheck_transformers(rows, tensors, n_vocab)
    if a.jina_code:
        crosscheck_jina(rows, a.out, a.jina_code)


if __name__ == "__main__":
    main()
