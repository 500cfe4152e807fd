"""Writes a random-weight XLM-RoBERTa cross-encoder folder in HuggingFace
layout with XLM-R base's shapes (bge-reranker-base's architecture), for
`make bench-xlmr`:

    gen_xlmr.py UNIGRAM_DIR OUT_DIR [--seed N] [--layers N] [--hidden N]
                [--heads N] [--ffn N]

config.json + model.safetensors: transformers' own
XLMRobertaForSequenceClassification(config) (num_labels 1) with its own
initialisation under torch.manual_seed(seed), saved by save_pretrained;
then, as the fixtures do, biases N(0, 0.02) and LayerNorms 1 + N(0, 0.1) /
N(0, 0.1) instead of transformers' zeros and ones, so that the check of
ember against ONNX Runtime would see a bias or norm dropped by either.
Defaults are XLM-R base: hidden 768, 12 layers, 12 heads, FFN 3072, vocab
250,002, max_position_embeddings 514, type_vocab_size 1, pad_token_id 1;
--layers etc. make a smaller model to try the bench out.

tokenizer.json: no XLM-R tokenizer.json is at hand (the fixtures' README says
why), so this builds one with XLM-R's exact structure from the SentencePiece
Unigram fixture in UNIGRAM_DIR (Pegasus' pieces, scores and precompiled
charsmap), as transformers' XLMRobertaConverter lays it out: <s> 0, <pad> 1,
</s> 2, <unk> 3 (unk_id), the model pieces, <mask> last (250,001, lstrip);
normalizer Sequence[Precompiled, Replace(" {2,}", " ")], Metaspace
pre-tokenizer (prepend always, split), TemplateProcessing `<s> $A </s>` /
`<s> $A </s> </s> $B </s>`.  The vocabulary is padded to 250,002 with
synthetic pieces made of private-use characters, scored below every real
piece, so the embedding table has XLM-R's real size while ordinary text
tokenizes exactly as with the fixture's pieces alone (no text the bench
feeds holds those characters).  tokenizer_config.json and
special_tokens_map.json are those xlm-roberta-base ships.

Needs torch, transformers (the venv of bench/venv.sh)."""
import argparse
import json
import os

VOCAB = 250002
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def added(i, content, lstrip=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": False, "special": True}


def tokenizer_json(src):
    with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as f:
        base = json.load(f)
    m = base["model"]
    if m.get("type") != "Unigram":
        raise SystemExit(f"gen_xlmr: {src}/tokenizer.json is not a Unigram tokenizer")
    norm = base["normalizer"]
    steps = norm.get("normalizers", [norm])
    charsmap = [s for s in steps if s.get("type") == "Precompiled"]
    if len(charsmap) != 1:
        raise SystemExit(f"gen_xlmr: {src}/tokenizer.json has no Precompiled normalizer")
    # the model pieces: every scored piece, i.e. not the added (special) tokens
    # nor zero-scored user symbols (Pegasus' <unk>, <n>), as XLM-R's
    # SentencePiece model puts only <unk> <s> </s> before its scored pieces
    special = {t["content"] for t in base.get("added_tokens", [])}
    pieces = [(p, s) for p, s in m["vocab"] if p not in special and s < 0.0]
    n_fill = VOCAB - len(SPECIALS) - len(pieces) - 1
    if n_fill < 0:
        raise SystemExit(f"gen_xlmr: {len(pieces)} pieces do not fit in {VOCAB}")
    lo = min(s for _, s in pieces)
    have = {p for p, _ in pieces}
    fill = []
    for i in range(n_fill):
        # two characters of the Private Use Area (U+E000..U+F8FF), scores
        # falling below the lowest real piece as SentencePiece's do
        p = chr(0xE000 + i // 6400) + chr(0xE000 + i % 6400)
        assert p not in have
        fill.append((p, lo - 1.0 - i * 1e-4))
    vocab = [[p, 0.0] for p in SPECIALS] + [[p, s] for p, s in pieces] + [[p, s] for p, s in fill] + [["<mask>", 0.0]]
    assert len(vocab) == VOCAB
    specials = {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in (("<s>", 0), ("</s>", 2))}
    seq = lambda x: {"Sequence": {"id": x, "type_id": 0}}  # noqa: E731
    tok = lambda x: {"SpecialToken": {"id": x, "type_id": 0}}  # noqa: E731
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(i, t) for i, t in enumerate(SPECIALS)] + [added(VOCAB - 1, "<mask>", lstrip=True)],
        "normalizer": {"type": "Sequence", "normalizers": [
            charsmap[0], {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": meta,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [tok("<s>"), seq("A"), tok("</s>")],
                           "pair": [tok("<s>"), seq("A"), tok("</s>"), tok("</s>"), seq("B"), tok("</s>")],
                           "special_tokens": specials},
        "decoder": meta,
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": False},
    }


def tokenizer_configs():
    dec = {str(i): {k: v for k, v in added(i, t).items() if k != "id"} for i, t in enumerate(SPECIALS)}
    dec[str(VOCAB - 1)] = {k: v for k, v in added(VOCAB - 1, "<mask>", lstrip=True).items() if k != "id"}
    cfg = {"added_tokens_decoder": dec, "bos_token": "<s>", "clean_up_tokenization_spaces": True, "cls_token": "<s>",
           "eos_token": "</s>", "mask_token": "<mask>", "model_max_length": 512, "pad_token": "<pad>",
           "sep_token": "</s>", "tokenizer_class": "XLMRobertaTokenizer", "unk_token": "<unk>"}
    smap = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
            "mask_token": {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
                           "single_word": False},
            "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}
    return cfg, smap


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("unigram_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--ffn", type=int, default=3072)
    a = ap.parse_args()
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    os.makedirs(a.out_dir, exist_ok=True)
    cfg = XLMRobertaConfig(vocab_size=VOCAB, hidden_size=a.hidden, num_hidden_layers=a.layers,
                           num_attention_heads=a.heads, intermediate_size=a.ffn, hidden_act="gelu",
                           max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5,
                           pad_token_id=1, bos_token_id=0, eos_token_id=2, num_labels=1,
                           position_embedding_type="absolute", architectures=["XLMRobertaForSequenceClassification"])
    torch.manual_seed(a.seed)
    model = XLMRobertaForSequenceClassification(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.add_(torch.randn_like(p) * 0.1)
            elif "LayerNorm.bias" in name:
                p.normal_(0.0, 0.1)
            elif name.endswith(".bias"):
                p.normal_(0.0, 0.02)
    model.save_pretrained(a.out_dir, safe_serialization=True)

    with open(os.path.join(a.out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(a.unigram_dir), f, ensure_ascii=False)
    tcfg, smap = tokenizer_configs()
    for name, obj in (("tokenizer_config.json", tcfg), ("special_tokens_map.json", smap)):
        with open(os.path.join(a.out_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2)
    n = sum(p.numel() for p in model.parameters())
    print(f"gen_xlmr: wrote {a.out_dir} (XLMRobertaForSequenceClassification, {a.layers} layers, hidden {a.hidden}, "
          f"{n / 1e6:.1f}M parameters, vocab {VOCAB}, seed {a.seed})")


if __name__ == "__main__":
    main()
