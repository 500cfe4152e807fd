"""Writes tests/data/models/e5-tiny and tests/data/models/bge-m3-tiny: random-weight
XLMRobertaModel embedders in the on-disk layout of intfloat/multilingual-e5-base
(mean pooling, "query: " / "passage: " prefixes) and of BAAI/bge-m3 (CLS pooling,
8192 positions after the XLM-R offset), each with goldens.jsonl from transformers'
own XLMRobertaModel in float64.

Run by hand, once, in the project's venv (torch, transformers, tokenizers,
safetensors, numpy):

    build/venv/bin/python tests/check/gen_xlmr_embed_tiny.py [--out tests/data/models]

Deterministic: the same files every run (weights from per-tensor seeds, no
clock, no hub).  Nothing is downloaded.

What is real and what is not (SOURCE.md in each folder says the same):
  * config.json: the keys and values of the real model's, but hidden 32, 2
    layers, 4 heads, intermediate 64, a vocabulary of the pieces below and (for
    bge-m3) 130 positions instead of 8194: the 8194-row table alone would be
    1 MB at this width.  Every weight is random.
  * model.safetensors: the real tensor names (the bare XLMRobertaModel, with
    its pooler; e5 also with the `embeddings.position_ids` buffer older
    checkpoints carry), F32.
  * tokenizer.json: the structure XLM-R's converter writes (Unigram, unk_id 3,
    <s> <pad> </s> <unk> first and <mask> last, Sequence[Precompiled,
    Replace(" {2,}", " ")], Metaspace, TemplateProcessing <s> $A </s> /
    <s> $A </s> </s> $B </s>); e5 in the older serialisation (Metaspace with
    add_prefix_space only), bge-m3 in tokenizers 0.15's (add_prefix_space and
    prepend_scheme).  The pieces are a small hand-made vocabulary with made-up
    scores, and the precompiled charsmap is a small one built here (a few
    NFKC-like rules: fullwidth letters, ligatures, NBSP, a composing accent,
    a zero-width space removed) in SentencePiece's format: a darts-clone
    double array and its pool of replacements.
  * The sentence-transformers files as the real repositories have them.
    multilingual-e5 ships no config_sentence_transformers.json: its prefixes
    are given to `ember convert --query-prefix "query: " --document-prefix
    "passage: "`, and the test also converts a copy with that file added.

Goldens: token ids from HuggingFace `tokenizers` on tokenizer.json, the
forward pass from transformers.XLMRobertaModel loaded from the folder and
run in float64, pooling (mean over the attention mask, or the first token)
and L2 normalisation as sentence-transformers' Pooling and Normalize modules
do; e5's texts with their prefixes.
"""
import argparse
import base64
import json
import os
import struct
import zlib

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import XLMRobertaConfig, XLMRobertaModel

SEED = 1507
HIDDEN, LAYERS, HEADS, FFN = 32, 2, 4, 64

# ---------------------------------------------------------------- charsmap

# A few of the rules SentencePiece's nmt_nfkc map has: key -> replacement.
CHARSMAP_RULES = {
    "\u00a0": " ",          # no-break space
    "\u3000": " ",          # ideographic space
    "\u2002": " ",          # en space
    "\u200b": "",           # zero-width space: removed
    "\ufb01": "fi",         # ligatures
    "\ufb02": "fl",
    "\u2026": "...",        # ellipsis
    "\u2122": "TM",
    "\u2460": "1",          # circled digits
    "\u2461": "2",
    "\u212b": "\u00c5",     # angstrom sign -> A with ring
    "e\u0301": "\u00e9",    # e + combining acute composed (a key of two characters)
    "\uff76": "\u30ab",     # halfwidth katakana ka
}
for _c in range(26):  # fullwidth A-Z, a-z
    CHARSMAP_RULES[chr(0xFF21 + _c)] = chr(0x41 + _c)
    CHARSMAP_RULES[chr(0xFF41 + _c)] = chr(0x61 + _c)
for _c in range(10):  # fullwidth digits
    CHARSMAP_RULES[chr(0xFF10 + _c)] = chr(0x30 + _c)


def build_charsmap(rules):
    """SentencePiece's precompiled_charsmap: u32 trie size, a darts-clone
    double array (one u32 unit a node: label in bits 0-7, has_leaf bit 8,
    offset in bits 10-31; the children of the node at p are at
    (p ^ offset) ^ byte, its leaf, holding the value with bit 31 set, at
    p ^ offset), then the replacements, each ended by a NUL."""
    pool = bytearray()
    where = {}
    for key in sorted(rules):
        v = rules[key].encode()
        if v not in where:
            where[v] = len(pool)
            pool += v + b"\0"
    trie = {}
    for key, val in rules.items():
        node = trie
        for b in key.encode():
            node = node.setdefault(b, {})
        node[None] = where[val.encode()]
    units = {}
    used_bases = set()

    def place(node, pos):
        labels = sorted(k for k in node if k is not None)
        need = labels + ([0] if None in node else [])
        base = 1
        while (base in used_bases or any((base ^ c) in units or (base ^ c) == 0 for c in need)):
            base += 1
        used_bases.add(base)
        off = pos ^ base
        assert off < (1 << 21)
        units[pos] = units.get(pos, 0) | (off << 10) | ((1 << 8) if None in node else 0)
        if None in node:
            units[base] = (1 << 31) | node[None]
        for c in labels:  # reserve every child before descending
            units[base ^ c] = c
        for c in labels:
            place(node[c], base ^ c)

    units[0] = 0
    place(trie, 0)
    n = max(units) + 1
    arr = [units.get(i, 0) for i in range(n)]
    blob = struct.pack("<I", 4 * n) + struct.pack("<%dI" % n, *arr) + bytes(pool)
    return blob


# ---------------------------------------------------------------- vocabulary

WORDS = """
the of and to a in is for on that with as by at it from this be are was an or
what which who how where when why capital city country largest river mountain ocean
france paris germany berlin china beijing japan tokyo spain madrid europe world
water people language languages text model search query passage document answer
good day night time year first new long small big red blue green music book
le la les de des du et est un une en pour qui que capitale ville grande
der die das und ist ein eine von mit für hauptstadt stadt größte
el los las es del con para ciudad más
il di che per non una della
""".split()

SUBWORDS = """
ing ed er es ly tion ment ness able al ic ous ive s t e n r d y a o i
ber lin par is fran ce ger man chi na ja pan mad rid haupt stadt cap ital
""".split()

# characters that get a piece of their own (others, like most emoji, are <unk>)
CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    ".,;:!?'\"()-/&%$€@#*+=<>[]_"
    "àâäéèêëîïôöùûüçñßÅå"
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяМРосква"
    "中国首都北京日本东京是的大城市水"
    "カタナ東京は日本の首都です"
    "مرحبا العالم"
    "नमस्ते दुनिया"
    "😀"
)


def vocabulary(n_target):
    """[(piece, score)], XLM-R's order: the four specials, the pieces, <mask>."""
    pieces = [(",", -3.4635), (".", -3.6256), ("\u2581", -3.9300), ("s", -5.0726)]
    seen = {p for p, _ in pieces}

    def add(p, s):
        if p not in seen and len(pieces) + 6 <= n_target:
            seen.add(p)
            pieces.append((p, round(s, 4)))

    chars = [ch for ch in dict.fromkeys(CHARS) if ch.strip()]
    for i, w in enumerate(WORDS):
        add("\u2581" + w, -6.0 - 0.01 * i)
    for i, ch in enumerate(chars):
        add(ch, -10.0 - 0.001 * i)
    for i, w in enumerate(SUBWORDS):
        add(w, -8.0 - 0.01 * i)
    for i, w in enumerate(WORDS):
        if len(w) > 1:
            add("\u2581" + w.capitalize(), -7.0 - 0.01 * i)
    for i, ch in enumerate(chars):
        add("\u2581" + ch, -10.5 - 0.001 * i)
    return [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces + [("<mask>", 0.0)]


def added(i, content, lstrip=False):
    return {"id": i, "special": True, "content": content, "single_word": False, "lstrip": lstrip,
            "rstrip": False, "normalized": False}


def tokenizer_json(vocab, charsmap, style):
    mask_id = len(vocab) - 1
    meta = {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True}
    if style == "0.15":
        meta["prepend_scheme"] = "always"
    tpl = lambda *items: [({"SpecialToken": {"id": x, "type_id": 0}} if x.startswith("<")
                           else {"Sequence": {"id": x, "type_id": 0}}) for x in items]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>"),
                         added(mask_id, "<mask>", lstrip=style == "0.15")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": meta,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": tpl("<s>", "A", "</s>"),
            "pair": tpl("<s>", "A", "</s>", "</s>", "B", "</s>"),
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                               "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
        "decoder": dict(meta),
        "model": {"type": "Unigram", "unk_id": 3, "vocab": [[p, s] for p, s in vocab]},
    }


def tokenizer_config(max_len, mask_lstrip):
    dec = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
                    "special": True} for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>"])}
    return dec, {"bos_token": "<s>", "clean_up_tokenization_spaces": True, "cls_token": "<s>", "eos_token": "</s>",
                 "mask_token": "<mask>", "model_max_length": max_len, "pad_token": "<pad>", "sep_token": "</s>",
                 "sp_model_kwargs": {}, "tokenizer_class": "XLMRobertaTokenizer", "unk_token": "<unk>"}


SPECIAL_MAP = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
               "mask_token": {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
                              "single_word": False},
               "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}

MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]


def pooling_config(cls):
    return {"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": cls, "pooling_mode_mean_tokens": not cls,
            "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}


# ---------------------------------------------------------------- weights

def tensor(name, shape, std, mean=0.0):
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    return torch.from_numpy((mean + std * rng.standard_normal(shape)).astype(np.float32))


def weights(model, pad_id):
    """Every parameter random (norms not identity, so a norm bug shows); the
    padding rows zero, as HF initialises them."""
    sd = {}
    for name, p in model.state_dict().items():
        if name.endswith("LayerNorm.weight"):
            t = tensor(name, tuple(p.shape), 0.1, 1.0)
        elif name.endswith("bias"):
            t = tensor(name, tuple(p.shape), 0.05)
        else:
            t = tensor(name, tuple(p.shape), 0.1)
        if name in ("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight"):
            t[pad_id] = 0
        sd[name] = t
    return sd


# ---------------------------------------------------------------- texts

TEXTS = [
    "What is the capital of France?",
    "Paris is the capital and largest city of France.",
    "Berlin ist die Hauptstadt und größte Stadt von Deutschland.",
    "Madrid es la capital de España.",
    "Москва — столица России.",
    "北京是中国的首都。",
    "東京は日本の首都です",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Ｆｕｌｌｗｉｄｔｈ ＴＥＸＴ ２０２４ and the ﬁrst ﬂag…",
    "caf\u0065\u0301 and caf\u00e9 \u212b",
    "no\u00a0break\u3000space\u2002here and zero\u200bwidth",
    "   many    spaces   between   words   ",
    "emoji 😀 and 🚀 rockets ™ ① ②",
    "a <mask> token and <s> in the text",
    "ｶタカナ",
    "",
]


def long_text(n):
    words = "the capital of the world is a city where people speak many languages and read long books".split()
    return " ".join(words[i % len(words)] for i in range(n))


# ---------------------------------------------------------------- models

def digits(v):
    """12 significant digits: far below any tolerance, a third shorter."""
    return [float("%.12g" % x) for x in v]


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def make_folder(out, name, spec):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
    vocab = vocabulary(spec["vocab_size"])
    V = len(vocab)
    cfg = dict(spec["config"], vocab_size=V)
    write_json(os.path.join(d, "config.json"), cfg)
    charsmap = build_charsmap(CHARSMAP_RULES)
    write_json(os.path.join(d, "tokenizer.json"), tokenizer_json(vocab, charsmap, spec["tok_style"]))
    dec, tc = tokenizer_config(spec["model_max_length"], spec["tok_style"] == "0.15")
    dec[str(V - 1)] = {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
                       "single_word": False, "special": True}
    write_json(os.path.join(d, "tokenizer_config.json"), dict({"added_tokens_decoder": dec}, **tc))
    write_json(os.path.join(d, "special_tokens_map.json"), SPECIAL_MAP)
    write_json(os.path.join(d, "modules.json"), MODULES)
    write_json(os.path.join(d, "1_Pooling", "config.json"), pooling_config(spec["cls"]))
    write_json(os.path.join(d, "sentence_bert_config.json"), {"max_seq_length": spec["max_seq_length"],
                                                             "do_lower_case": False})
    if spec.get("st_config"):
        write_json(os.path.join(d, "config_sentence_transformers.json"), spec["st_config"])

    hf_cfg = XLMRobertaConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "_name_or_path")})
    model = XLMRobertaModel(hf_cfg)
    sd = weights(model, cfg["pad_token_id"])
    if spec.get("position_ids"):
        sd["embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"], dtype=torch.int64)[None]
    save_file(dict(sorted(sd.items())), os.path.join(d, "model.safetensors"), metadata={"format": "pt"})

    # the reference: transformers' own class, from the folder, in float64
    ref = XLMRobertaModel.from_pretrained(d, add_pooling_layer=True).double().eval()
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    max_len = min(spec["max_seq_length"], cfg["max_position_embeddings"] - cfg["pad_token_id"] - 1)
    rows = []

    def embed(ids):
        with torch.no_grad():
            h = ref(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        h = h.last_hidden_state[0].numpy()
        v = h[0] if spec["cls"] else h.mean(axis=0)
        return v, v / np.linalg.norm(v)

    texts = TEXTS + [long_text(spec["long_words"])]
    for kind, prompt in spec["prompts"]:
        for i, t in enumerate(texts):
            full = prompt + t
            enc = tok.encode(full)
            ids_all = enc.ids
            tok.enable_truncation(max_len)
            ids = tok.encode(full).ids
            tok.no_truncation()
            raw, normed = embed(ids)
            rows.append({"id": "%s-%d" % (kind, i), "kind": kind, "prompt": prompt, "text": t,
                         "max_length": max_len, "truncated": len(ids_all) > len(ids), "input_ids": ids,
                         "embedding": digits(raw), "embedding_normalized": digits(normed)})
    # a batch with padding through the reference, checked against the single runs
    batch = [r for r in rows if r["kind"] == spec["prompts"][0][0]][:4]
    L = max(len(r["input_ids"]) for r in batch)
    ids = torch.tensor([r["input_ids"] + [cfg["pad_token_id"]] * (L - len(r["input_ids"])) for r in batch])
    mask = torch.tensor([[1] * len(r["input_ids"]) + [0] * (L - len(r["input_ids"])) for r in batch])
    with torch.no_grad():
        h = ref(input_ids=ids, attention_mask=mask).last_hidden_state.numpy()
    for b, r in enumerate(batch):
        n = len(r["input_ids"])
        v = h[b, 0] if spec["cls"] else h[b, :n].mean(axis=0)
        assert np.abs(v - np.array(r["embedding"])).max() < 1e-10, "padding changed a row"
    with open(os.path.join(d, "goldens.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(os.path.join(d, "SOURCE.md"), "w", encoding="utf-8") as f:
        f.write(source_md(name, spec, cfg, len(rows)))
    size = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(d) for fn in fns)
    print("%s: %d pieces, %d goldens (%d truncated), %d bytes" % (d, V, len(rows),
                                                                  sum(r["truncated"] for r in rows), size))


def source_md(name, spec, cfg, n_rows):
    real = cfg["_name_or_path"]
    pool = "the first token's state (CLS)" if spec["cls"] else "the mean of every token's state"
    prompts = ", ".join('%s "%s"' % (k, p) for k, p in spec["prompts"] if p) or "none"
    return f"""# {name}

Random weights in the on-disk layout of **{real}** (`XLMRobertaModel`), written by
`tests/check/gen_xlmr_embed_tiny.py` (its docstring says what is real and what is not).
Outputs are exact arithmetic, not semantics.

* hidden {HIDDEN}, {LAYERS} layers, {HEADS} heads, intermediate {FFN}, {cfg["vocab_size"]} pieces,
  max_position_embeddings {cfg["max_position_embeddings"]} (pad_token_id {cfg["pad_token_id"]}: positions start at
  {cfg["pad_token_id"] + 1}, so {cfg["max_position_embeddings"] - cfg["pad_token_id"] - 1} tokens fit), layer_norm_eps
  {cfg["layer_norm_eps"]}, F32; seed {SEED}, one generator per tensor.
* Pooling: {pool}, then L2 normalisation (modules.json, 1_Pooling/config.json).
* Prompts in the goldens: {prompts}.
* tokenizer.json: SentencePiece Unigram in XLM-R's structure with a small made-up vocabulary
  and a small precompiled charsmap built by the script (not the real 250,002 pieces).

`goldens.jsonl`: {n_rows} rows `{{"id", "kind", "prompt", "text", "max_length", "truncated",
"input_ids", "embedding", "embedding_normalized"}}`: ids from HuggingFace `tokenizers` on
prompt + text (cut to max_length, specials kept), embeddings from transformers'
`XLMRobertaModel` loaded from this folder in float64, pooled and normalised as
sentence-transformers does; "embedding" is before normalisation.  Checked by
`tests/test_xlmr_embed.c` within 1e-5.
"""


E5 = {
    "vocab_size": 400,
    "tok_style": "old",
    "cls": False,
    "max_seq_length": 512,
    "model_max_length": 512,
    "long_words": 540,
    "position_ids": True,
    "prompts": [("query", "query: "), ("passage", "passage: ")],
    "config": {
        "_name_or_path": "intfloat/multilingual-e5-base", "architectures": ["XLMRobertaModel"],
        "attention_probs_dropout_prob": 0.1, "bos_token_id": 0, "classifier_dropout": None, "eos_token_id": 2,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": HIDDEN, "initializer_range": 0.02,
        "intermediate_size": FFN, "layer_norm_eps": 1e-05, "max_position_embeddings": 514,
        "model_type": "xlm-roberta", "num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "output_past": True,
        "pad_token_id": 1, "position_embedding_type": "absolute", "torch_dtype": "float32",
        "transformers_version": "4.33.2", "type_vocab_size": 1, "use_cache": True},
}

BGE_M3 = {
    "vocab_size": 600,
    "tok_style": "0.15",
    "cls": True,
    "max_seq_length": 8192,
    "model_max_length": 8192,
    "long_words": 200,
    "prompts": [("text", "")],
    "st_config": {"__version__": {"sentence_transformers": "2.2.2", "transformers": "4.33.0",
                                  "pytorch": "2.1.2+cu121"}},
    "config": {
        "_name_or_path": "BAAI/bge-m3", "architectures": ["XLMRobertaModel"],
        "attention_probs_dropout_prob": 0.1, "bos_token_id": 0, "classifier_dropout": None, "eos_token_id": 2,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": HIDDEN, "initializer_range": 0.02,
        "intermediate_size": FFN, "layer_norm_eps": 1e-05, "max_position_embeddings": 130,
        "model_type": "xlm-roberta", "num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "output_past": True,
        "pad_token_id": 1, "position_embedding_type": "absolute", "torch_dtype": "float32",
        "transformers_version": "4.37.2", "type_vocab_size": 1, "use_cache": True},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/data/models")
    a = ap.parse_args()
    torch.manual_seed(SEED)
    make_folder(a.out, "e5-tiny", E5)
    make_folder(a.out, "bge-m3-tiny", BGE_M3)


if __name__ == "__main__":
    main()
