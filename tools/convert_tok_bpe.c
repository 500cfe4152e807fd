/* Byte-level BPE tokenizers (tokenizer.json model.type "BPE") ->
 * tokenizer.ggml.model "gpt2", as llama.cpp's converter writes it: the
 * byte-level token strings as they are, added tokens as their text, of type
 * control (special, or spelled <|...|> as llama.cpp's does_token_look_special
 * says) or user-defined, ids the tokenizer lacks below config.json's
 * vocab_size as unused [PADn], merges as "left right", the split pattern by
 * name (tokenizer.ggml.pre "qwen2" or "gpt-2"), bos / eos / eot / pad and
 * add_bos_token / add_eos_token from tokenizer_config.json and the
 * post-processor as its SpecialVocab finds them.  ember.tokenizer.* adds what
 * llama.cpp does not record: the NFC normalizer, ignore_merges, the added
 * tokens with HF's lstrip / rstrip (RoBERTa's <mask> takes the spaces before
 * it) and the post-processor's exact templates.
 *
 * Anything of the pipeline ember would not reproduce is refused by name:
 * another split pattern or normalizer, byte fallback, dropout, subword
 * prefixes and suffixes, added tokens that match single words only or are
 * matched after normalization (NFC). */
#include "tools/convert_internal.h"
#include "model/gguf_keys.h"
#include "tokenizer/bpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TJ "tokenizer.json"

static int is_null(const json_value *v) { return !v || json_type_of(v) == JSON_NULL; }

/* model: what HF's BPE model does besides the ranked merges is refused */
static int check_model(conv *c, const json_value *model)
{
    const json_value *d = json_object_get(model, "dropout");
    if (!is_null(d) && json_number(d) != 0) return cfail(c, TJ ": BPE dropout is not supported");
    if (json_bool(json_object_get(model, "byte_fallback"))) return cfail(c, TJ ": BPE byte_fallback is not supported");
    static const char *const affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        size_t len = 0;
        const char *s = json_string(json_object_get(model, affixes[i]), &len);
        if (s && len) return cfail(c, TJ ": BPE %s \"%s\" is not supported", affixes[i], s);
    }
    c->ignore_merges = json_bool(json_object_get(model, "ignore_merges"));
    return 0;
}

/* normalizer: none, or NFC (alone or as a one-element Sequence) */
static int read_normalizer(conv *c, const json_value *n)
{
    c->nfc = 0;
    if (is_null(n)) return 0;
    const char *t = json_string(json_object_get(n, "type"), NULL);
    if (t && strcmp(t, "Sequence") == 0 && json_array_len(json_object_get(n, "normalizers")) == 1) {
        n = json_array_at(json_object_get(n, "normalizers"), 0);
        t = json_string(json_object_get(n, "type"), NULL);
    }
    if (!t || strcmp(t, "NFC") != 0)
        return cfail(c, TJ ": normalizer %s is not supported with a BPE model (only NFC, or none)", t ? t : "(no type)");
    c->nfc = 1;
    return 0;
}

/* pre_tokenizer: Sequence [Split(Qwen2's pattern, Isolated), ByteLevel
 * without its own regex], or ByteLevel alone with its regex (GPT-2's
 * pattern); never a prefix space */
static int read_pre_tokenizer(conv *c, const json_value *p)
{
    const char *t = json_string(json_object_get(p, "type"), NULL);
    const json_value *seq = json_object_get(p, "pretokenizers");
    if (t && strcmp(t, "ByteLevel") == 0) {
        const json_value *ur = json_object_get(p, "use_regex"); /* HF's default: true */
        if (json_bool(json_object_get(p, "add_prefix_space")))
            return cfail(c, TJ ": ByteLevel with add_prefix_space is not supported");
        if (!is_null(ur) && !json_bool(ur))
            return cfail(c, TJ ": ByteLevel without use_regex and without a Split is not supported (no split at all)");
        c->pre = BPE_PRE_GPT2;
        return 0;
    }
    if (!t || strcmp(t, "Sequence") != 0 || json_array_len(seq) != 2)
        return cfail(c, TJ ": pre_tokenizer %s is not supported with a BPE model (ember reads Sequence[Split(the Qwen2 "
                     "pattern), ByteLevel] and ByteLevel with GPT-2's)", t ? t : "(none)");
    const json_value *sp = json_array_at(seq, 0), *bl = json_array_at(seq, 1);
    const char *st = json_string(json_object_get(sp, "type"), NULL), *bt = json_string(json_object_get(bl, "type"), NULL);
    if (!st || strcmp(st, "Split") != 0 || !bt || strcmp(bt, "ByteLevel") != 0)
        return cfail(c, TJ ": pre_tokenizer Sequence[%s, %s] is not supported (ember reads Sequence[Split, ByteLevel])",
                     st ? st : "?", bt ? bt : "?");
    size_t pl = 0;
    const char *pat = json_string(json_object_get(json_object_get(sp, "pattern"), "Regex"), &pl);
    const char *beh = json_string(json_object_get(sp, "behavior"), NULL);
    if (!pat || pl != strlen(BPE_QWEN2_PATTERN) || memcmp(pat, BPE_QWEN2_PATTERN, pl) != 0)
        return cfail(c, TJ ": the Split pattern %.*s is not supported (ember has Qwen2's: %s)", (int)(pl > 200 ? 200 : pl),
                     pat ? pat : "(not a Regex)", BPE_QWEN2_PATTERN);
    if (!beh || strcmp(beh, "Isolated") != 0 || json_bool(json_object_get(sp, "invert")))
        return cfail(c, TJ ": Split behavior %s%s is not supported (only Isolated)", beh ? beh : "(none)",
                     json_bool(json_object_get(sp, "invert")) ? " inverted" : "");
    const json_value *ur = json_object_get(bl, "use_regex");
    if (is_null(ur) || json_bool(ur) || json_bool(json_object_get(bl, "add_prefix_space")))
        return cfail(c, TJ ": ByteLevel with use_regex or add_prefix_space is not supported (ember splits with the "
                     "Split pattern alone)");
    c->pre = BPE_PRE_QWEN2;
    return 0;
}

/* post_processor: ByteLevel (adds nothing), TemplateProcessing, or a
 * Sequence of ByteLevel and at most one TemplateProcessing */
static int read_post_processor(conv *c, const json_value *pp)
{
    const char *t = json_string(json_object_get(pp, "type"), NULL);
    if (is_null(pp) || (t && strcmp(t, "ByteLevel") == 0)) return conv_read_post_processor(c, NULL);
    if (!t || strcmp(t, "Sequence") != 0) return conv_read_post_processor(c, pp);
    const json_value *procs = json_object_get(pp, "processors"), *tpl = NULL;
    for (size_t i = 0; i < json_array_len(procs); i++) {
        const json_value *p = json_array_at(procs, i);
        const char *pt = json_string(json_object_get(p, "type"), NULL);
        if (pt && strcmp(pt, "ByteLevel") == 0) continue; /* offsets only */
        if (tpl || !pt || strcmp(pt, "TemplateProcessing") != 0)
            return cfail(c, TJ ": post_processor Sequence with %s is not supported (ByteLevel and one TemplateProcessing)",
                         pt ? pt : "(no type)");
        tpl = p;
    }
    return conv_read_post_processor(c, tpl);
}

static int set_merge(conv *c, uint32_t r, const char *a, size_t al, const char *b, size_t bl)
{
    if (!al || !bl || memchr(a, ' ', al) || memchr(b, ' ', bl))
        return cfail(c, TJ ": merge %u has an empty side or a space in a token (not a byte-level vocabulary)", r);
    c->merges[r] = malloc(al + bl + 2);
    if (!c->merges[r]) return cfail(c, "out of memory");
    memcpy(c->merges[r], a, al);
    c->merges[r][al] = ' ';
    memcpy(c->merges[r] + al + 1, b, bl);
    c->merges[r][al + 1 + bl] = '\0';
    c->merge_lens[r] = al + 1 + bl;
    return 0;
}

/* model.merges: "a b" strings or ["a", "b"] pairs (tokenizers >= 0.20) */
static int read_merges(conv *c, const json_value *merges)
{
    size_t n = json_array_len(merges);
    if (json_type_of(merges) != JSON_ARRAY) return cfail(c, TJ ": model.merges is not an array");
    if (n > (1u << 26)) return cfail(c, TJ ": %zu merges", n);
    c->n_merges = (uint32_t)n;
    c->merges = calloc(n ? n : 1, sizeof *c->merges);
    c->merge_lens = calloc(n ? n : 1, sizeof *c->merge_lens);
    if (!c->merges || !c->merge_lens) return cfail(c, "out of memory");
    for (uint32_t r = 0; r < n; r++) {
        const json_value *m = json_array_at(merges, r);
        size_t len, al, bl;
        const char *s = json_string(m, &len), *a, *b;
        if (s) {
            const char *sp = memchr(s, ' ', len);
            if (!sp) return cfail(c, TJ ": merge %u \"%s\" is not two tokens separated by a space", r, s);
            if (set_merge(c, r, s, (size_t)(sp - s), sp + 1, len - (size_t)(sp - s) - 1)) return -1;
        } else if (json_array_len(m) == 2 && (a = json_string(json_array_at(m, 0), &al)) &&
                   (b = json_string(json_array_at(m, 1), &bl))) {
            if (set_merge(c, r, a, al, b, bl)) return -1;
        } else {
            return cfail(c, TJ ": merge %u is neither \"a b\" nor [\"a\", \"b\"]", r);
        }
    }
    return 0;
}

static int looks_special(const char *s, size_t len)
{
    return len >= 4 && memcmp(s, "<|", 2) == 0 && memcmp(s + len - 2, "|>", 2) == 0;
}

static int read_vocab(conv *c, const json_value *vocab, const json_value *added)
{
    if (json_type_of(vocab) != JSON_OBJECT || json_object_len(vocab) == 0)
        return cfail(c, TJ ": model.vocab is not a non-empty object");
    double maxid = -1;
    for (size_t i = 0; i < json_object_len(vocab); i++) {
        const json_value *v = json_object_value_at(vocab, i);
        double d = json_number(v);
        if (json_type_of(v) != JSON_NUMBER || d < 0 || d >= (1 << 24) || d != (double)(int32_t)d)
            return cfail(c, TJ ": vocab entry %s has a bad id", json_object_key_at(vocab, i, NULL));
        if (d > maxid) maxid = d;
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *v = json_object_get(json_array_at(added, i), "id");
        double d = json_number(v);
        if (json_type_of(v) != JSON_NUMBER || d < 0 || d >= (1 << 24) || d != (double)(int32_t)d)
            return cfail(c, TJ ": added_tokens[%zu] has a bad id", i);
        if (d > maxid) maxid = d;
    }
    /* the embedding table's rows: ids past the tokenizer's are unused (llama.cpp's [PADn]) */
    uint32_t n = (uint32_t)maxid + 1;
    if (!c->opt->vocab_only && c->vocab > n) n = c->vocab;
    if (conv_alloc_vocab(c, n)) return -1;
    for (size_t i = 0; i < json_object_len(vocab); i++) {
        size_t len;
        const char *k = json_object_key_at(vocab, i, &len);
        if (conv_set_token(c, (uint32_t)json_number(json_object_value_at(vocab, i)), k, len, TJ " vocab")) return -1;
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *a = json_array_at(added, i);
        size_t len;
        const char *s = json_string(json_object_get(a, "content"), &len);
        uint32_t id = (uint32_t)json_number(json_object_get(a, "id"));
        if (!s) return cfail(c, TJ ": added_tokens[%zu] has no content", i);
        /* matched in the normalized text: the same as in the raw text only
         * without a normalizer */
        if (c->nfc && json_bool(json_object_get(a, "normalized")))
            return cfail(c, TJ ": added token %s is normalized (matched after NFC), which ember does not reproduce", s);
        if (conv_set_token(c, id, s, len, TJ " added_tokens")) return -1;
        c->tok_types[id] = json_bool(json_object_get(a, "special")) || looks_special(s, len) ? CONV_TOK_CONTROL
                                                                                            : CONV_TOK_USER;
        if (conv_added_flags(c, a, s, id)) return -1;
    }
    for (uint32_t i = 0; i < c->n_tok; i++) {
        if (c->hf_toks[i]) continue;
        if (i <= (uint32_t)maxid) return cfail(c, TJ ": vocabulary id %u is missing (ids must be dense)", i);
        char pad[32];
        int pl = snprintf(pad, sizeof pad, "[PAD%u]", i);
        if (conv_set_token(c, i, pad, (size_t)pl, "vocab_size")) return -1;
        c->tok_types[i] = CONV_TOK_UNUSED;
    }
    return 0;
}

/* llama.cpp's SpecialVocab: the tokens tokenizer_config.json names, then
 * what the template says (its first special token is bos, its last eos; an
 * eos replaced so becomes eot) */
static void find_specials(conv *c)
{
    c->bos = conv_find_special(c, "bos_token", "");
    c->eos = conv_find_special(c, "eos_token", "");
    c->pad = conv_find_special(c, "pad_token", "");
    c->eot = -1;
    c->add_bos = c->add_eos = -1;
    const json_value *ab = json_object_get(c->tok_cfg, "add_bos_token"), *ae = json_object_get(c->tok_cfg, "add_eos_token");
    if (json_type_of(ab) == JSON_BOOL) c->add_bos = json_bool(ab);
    if (json_type_of(ae) == JSON_BOOL) c->add_eos = json_bool(ae);
    if (c->n_single > 1 && c->tpl_single[0] >= 0) {
        c->add_bos = c->bos < 0 || c->tpl_single[0] == c->bos;
        if (c->bos < 0) c->bos = c->tpl_single[0];
    }
    int32_t last = c->tpl_single[c->n_single - 1];
    if (c->n_single > 1 && last >= 0) {
        if (c->eos >= 0 && c->eos != last) c->eot = c->eos;
        c->eos = last;
        c->add_eos = 1;
    }
}

/* The conversion must load: the vocabulary and merges through bpe_create. */
static int check_loads(conv *c)
{
    uint32_t *lens = malloc((size_t)c->n_tok * sizeof *lens), *mlens = malloc(((size_t)c->n_merges + 1) * sizeof *mlens);
    if (!lens || !mlens) { free(lens); free(mlens); return cfail(c, "out of memory"); }
    for (uint32_t i = 0; i < c->n_tok; i++) lens[i] = (uint32_t)c->tok_lens[i];
    for (uint32_t i = 0; i < c->n_merges; i++) mlens[i] = (uint32_t)c->merge_lens[i];
    bpe_options o = { .pre = c->pre, .nfc = c->nfc, .ignore_merges = c->ignore_merges,
                      .lstrip = c->lstrip, .n_lstrip = c->n_lstrip, .rstrip = c->rstrip, .n_rstrip = c->n_rstrip };
    char why[256];
    bpe *b = bpe_create((int32_t)c->n_tok, (const char *const *)c->toks, lens, c->tok_types, (int32_t)c->n_merges,
                        (const char *const *)c->merges, mlens, &o, why, sizeof why);
    free(lens);
    free(mlens);
    if (!b) return cfail(c, TJ ": %s", why);
    bpe_free(b);
    return 0;
}

static int read_json(conv *c)
{
    const json_value *tj = c->tok_json, *model = json_object_get(tj, "model");
    if (check_model(c, model) || read_normalizer(c, json_object_get(tj, "normalizer")) ||
        read_pre_tokenizer(c, json_object_get(tj, "pre_tokenizer")) ||
        read_vocab(c, json_object_get(model, "vocab"), json_object_get(tj, "added_tokens")) ||
        read_merges(c, json_object_get(model, "merges")) ||
        read_post_processor(c, json_object_get(tj, "post_processor")))
        return -1;
    find_specials(c);
    c->unk = -1;
    return check_loads(c);
}

static int set_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    const char *pre = bpe_pre_name(c->pre);
    bad |= gguf_writer_set_str(w, KEY_TOK_MODEL, "gpt2", 4);
    bad |= gguf_writer_set_str(w, KEY_TOK_PRE, pre, strlen(pre));
    bad |= gguf_writer_set_str_arr(w, KEY_TOK_TOKENS, (const char *const *)c->toks, c->tok_lens, c->n_tok);
    bad |= gguf_writer_set_arr(w, KEY_TOK_TYPES, GGUF_TYPE_INT32, c->tok_types, c->n_tok);
    bad |= gguf_writer_set_str_arr(w, KEY_TOK_MERGES, (const char *const *)c->merges, c->merge_lens, c->n_merges);
    if (c->bos >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_BOS, (uint32_t)c->bos);
    if (c->eos >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_EOS, (uint32_t)c->eos);
    if (c->eot >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_EOT, (uint32_t)c->eot);
    if (c->pad >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_PAD, (uint32_t)c->pad);
    if (c->add_bos >= 0) bad |= gguf_writer_set_bool(w, KEY_TOK_ADD_BOS, c->add_bos);
    if (c->add_eos >= 0) bad |= gguf_writer_set_bool(w, KEY_TOK_ADD_EOS, c->add_eos);
    /* an encoder's token-type rows (llama.cpp's jina-bert-v2 reads the key) */
    if (!c->opt->vocab_only && c->type_vocab) bad |= gguf_writer_set_u32(w, KEY_TOK_TYPE_COUNT, c->type_vocab);
    bad |= gguf_writer_set_bool(w, KEY_E_NFC, c->nfc);
    bad |= gguf_writer_set_bool(w, KEY_E_IGNORE_MERGES, c->ignore_merges);
    if (bad) return cfail(c, "out of memory building the GGUF keys");
    return conv_set_strip_keys(c, w) ? -1 : conv_set_template_keys(c, w);
}

const convert_tokenizer convert_tok_bpe = {
    .type = "BPE",
    .file = NULL,
    .vocab_arch = "qwen2", /* llama.cpp's ggml-vocab-qwen2.gguf names its model so */
    .gguf_token = NULL,
    .read_json = read_json,
    .read_file = NULL,
    .set_keys = set_keys,
};
