/* WordPiece tokenizers -> tokenizer.ggml.model "bert" (llama.cpp's
 * convention: tokens in the phantom-space spelling, special added tokens
 * of type control) plus ember.tokenizer.* for BertNormalizer's flags and
 * the post-processor's templates.  From tokenizer.json, or from vocab.txt
 * with tokenizer_config.json and special_tokens_map.json. */
#include "tools/convert_internal.h"
#include "model/gguf_keys.h"
#include "tokenizer/wordpiece.h"

#include <stdlib.h>
#include <string.h>

/* [CLS], [SEP], [PAD], [MASK] by their settings or BERT's names, and
 * tokenizer.json's padding id */
static void find_specials(conv *c)
{
    c->cls = conv_find_special(c, "cls_token", "[CLS]");
    c->sep = conv_find_special(c, "sep_token", "[SEP]");
    c->pad = conv_find_special(c, "pad_token", "[PAD]");
    c->mask = conv_find_special(c, "mask_token", "[MASK]");
    const json_value *pd = json_object_get(json_object_get(c->tok_json, "padding"), "pad_id");
    if (json_type_of(pd) == JSON_NUMBER && json_number(pd) >= 0 && json_number(pd) < c->n_tok) c->pad = (int32_t)json_number(pd);
}

static int read_json(conv *c)
{
    const json_value *tj = c->tok_json, *model = json_object_get(tj, "model");
    const char *prefix = json_string(json_object_get(model, "continuing_subword_prefix"), NULL);
    if (prefix && strcmp(prefix, "##") != 0) return cfail(c, "tokenizer.json: continuing_subword_prefix \"%s\" is not supported (only ##)", prefix);
    const json_value *vocab = json_object_get(model, "vocab"), *added = json_object_get(tj, "added_tokens");
    if (json_type_of(vocab) != JSON_OBJECT || json_object_len(vocab) == 0) return cfail(c, "tokenizer.json: model.vocab is not a non-empty object");
    /* the vocabulary is the union of model.vocab and added_tokens, dense from 0 */
    double maxid = -1;
    for (size_t i = 0; i < json_object_len(vocab); i++) {
        const json_value *v = json_object_value_at(vocab, i);
        double d = json_number(v);
        if (json_type_of(v) != JSON_NUMBER || d < 0 || d >= (1 << 24) || d != (double)(int32_t)d)
            return cfail(c, "tokenizer.json: vocab entry %s has a bad id", json_object_key_at(vocab, i, NULL));
        if (d > maxid) maxid = d;
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *v = json_object_get(json_array_at(added, i), "id");
        double d = json_number(v);
        if (json_type_of(v) != JSON_NUMBER || d < 0 || d >= (1 << 24) || d != (double)(int32_t)d)
            return cfail(c, "tokenizer.json: added_tokens[%zu] has a bad id", i);
        if (d > maxid) maxid = d;
    }
    if (conv_alloc_vocab(c, (uint32_t)maxid + 1)) return -1;
    for (size_t i = 0; i < json_object_len(vocab); i++) {
        size_t len;
        const char *k = json_object_key_at(vocab, i, &len);
        if (conv_set_token(c, (uint32_t)json_number(json_object_value_at(vocab, i)), k, len, "tokenizer.json vocab")) return -1;
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *a = json_array_at(added, i);
        size_t len;
        const char *s = json_string(json_object_get(a, "content"), &len);
        uint32_t id = (uint32_t)json_number(json_object_get(a, "id"));
        if (!s) return cfail(c, "tokenizer.json: added_tokens[%zu] has no content", i);
        if (conv_set_token(c, id, s, len, "tokenizer.json added_tokens")) return -1;
        /* llama.cpp's bert convention: special added tokens are control;
         * others matched in the raw text as they are (normalized false) are
         * user-defined, which the tokenizer matches the same way.  Those
         * HF matches in the normalized text stay normal (not matched). */
        const json_value *norm = json_object_get(a, "normalized");
        if (json_bool(json_object_get(a, "special"))) c->tok_types[id] = WP_TYPE_CONTROL;
        else if (json_type_of(norm) == JSON_BOOL && !json_bool(norm)) c->tok_types[id] = WP_TYPE_USER;
    }
    for (uint32_t i = 0; i < c->n_tok; i++)
        if (!c->hf_toks[i]) return cfail(c, "tokenizer.json: vocabulary id %u is missing (ids must be dense)", i);

    size_t ulen;
    const char *unk = json_string(json_object_get(model, "unk_token"), &ulen);
    if (!unk) return cfail(c, "tokenizer.json: model.unk_token missing");
    c->unk = conv_tok_lookup(c, unk, ulen);
    if (c->unk < 0) return cfail(c, "tokenizer.json: unk_token %s is not in the vocabulary", unk);
    const json_value *mc = json_object_get(model, "max_input_chars_per_word");
    c->max_chars = 100;
    if (mc && json_type_of(mc) != JSON_NULL) {
        double d = json_number(mc);
        if (json_type_of(mc) != JSON_NUMBER || d < 1 || d > WP_MAX_WORD_CHARS || d != (double)(int)d)
            return cfail(c, "tokenizer.json: max_input_chars_per_word must be an integer in [1, %d]", WP_MAX_WORD_CHARS);
        c->max_chars = (uint32_t)d;
    }

    const json_value *norm = json_object_get(tj, "normalizer");
    if (norm && json_type_of(norm) != JSON_NULL) {
        const char *nt = json_string(json_object_get(norm, "type"), NULL);
        if (!nt || strcmp(nt, "BertNormalizer") != 0)
            return cfail(c, "tokenizer.json: normalizer %s is not supported (only BertNormalizer)", nt ? nt : "(no type)");
        const json_value *sa = json_object_get(norm, "strip_accents");
        c->lowercase = json_bool(json_object_get(norm, "lowercase"));
        c->strip_accents = (!sa || json_type_of(sa) == JSON_NULL) ? c->lowercase : json_bool(sa);
        c->cjk = json_bool(json_object_get(norm, "handle_chinese_chars"));
        c->clean_text = json_bool(json_object_get(norm, "clean_text"));
    }
    const json_value *pre = json_object_get(tj, "pre_tokenizer");
    const char *pt = json_string(json_object_get(pre, "type"), NULL);
    if (pt && strcmp(pt, "BertPreTokenizer") != 0)
        return cfail(c, "tokenizer.json: pre_tokenizer %s is not supported (only BertPreTokenizer)", pt);
    if (conv_read_post_processor(c, json_object_get(tj, "post_processor"))) return -1;
    find_specials(c);
    return 0;
}

/* vocab.txt: one token a line, its line number its id; the normaliser from
 * tokenizer_config.json, the specials by name, BERT's (or RoBERTa's) template */
static int read_file(conv *c)
{
    char path[4096], msg[512];
    conv_file_exists(c->opt->hf_dir, "vocab.txt", path, sizeof path);
    size_t n;
    char *text = json_read_file(path, &n, msg, sizeof msg);
    if (!text) return cfail(c, "%s", msg);
    uint32_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
    if (n && text[n - 1] != '\n') lines++;
    int rc = -1;
    if (lines == 0) { cfail(c, "%s: empty vocabulary", path); goto out; }
    if (conv_alloc_vocab(c, lines)) goto out;
    size_t s = 0;
    for (uint32_t id = 0; id < lines; id++) {
        size_t e = s;
        while (e < n && text[e] != '\n') e++;
        size_t len = e - s;
        if (len && text[s + len - 1] == '\r') len--;
        if (conv_set_token(c, id, text + s, len, "vocab.txt")) goto out;
        s = e + 1;
    }
    const json_value *tc = c->tok_cfg;
    const json_value *lc = json_object_get(tc, "do_lower_case"), *sa = json_object_get(tc, "strip_accents"),
                     *cj = json_object_get(tc, "tokenize_chinese_chars");
    c->lowercase = lc ? json_bool(lc) : 1;
    c->strip_accents = (!sa || json_type_of(sa) == JSON_NULL) ? c->lowercase : json_bool(sa);
    c->cjk = cj ? json_bool(cj) : 1;
    c->clean_text = 1;
    c->max_chars = 100;

    c->unk = conv_find_special(c, "unk_token", "[UNK]");
    if (c->unk < 0) { cfail(c, "vocab.txt: no unknown token"); goto out; }
    find_specials(c);
    if (c->cls < 0 || c->sep < 0) { cfail(c, "vocab.txt: [CLS]/[SEP] tokens not found"); goto out; }
    if (conv_simple_template(c, c->cls, c->sep, (c->flags & CONV_ROBERTA) != 0)) goto out;
    int32_t sp[5] = { c->unk, c->cls, c->sep, c->pad, c->mask };
    for (int i = 0; i < 5; i++)
        if (sp[i] >= 0) c->tok_types[sp[i]] = WP_TYPE_CONTROL;
    rc = 0;
out:
    free(text);
    return rc;
}

static int set_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    bad |= gguf_writer_set_str(w, KEY_TOK_MODEL, "bert", 4);
    bad |= gguf_writer_set_str_arr(w, KEY_TOK_TOKENS, (const char *const *)c->toks, c->tok_lens, c->n_tok);
    bad |= gguf_writer_set_arr(w, KEY_TOK_TYPES, GGUF_TYPE_INT32, c->tok_types, c->n_tok);
    if (!c->opt->vocab_only) bad |= gguf_writer_set_u32(w, KEY_TOK_TYPE_COUNT, c->type_vocab);
    bad |= gguf_writer_set_u32(w, KEY_TOK_UNK, (uint32_t)c->unk);
    if (c->sep >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_SEP, (uint32_t)c->sep);
    if (c->pad >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_PAD, (uint32_t)c->pad);
    if (c->cls >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_CLS, (uint32_t)c->cls);
    if (c->mask >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_MASK, (uint32_t)c->mask);
    bad |= gguf_writer_set_bool(w, KEY_E_LOWER, c->lowercase);
    bad |= gguf_writer_set_bool(w, KEY_E_STRIP, c->strip_accents);
    bad |= gguf_writer_set_bool(w, KEY_E_CJK, c->cjk);
    bad |= gguf_writer_set_bool(w, KEY_E_CLEAN, c->clean_text);
    bad |= gguf_writer_set_u32(w, KEY_E_MAXCHARS, c->max_chars);
    if (bad) return cfail(c, "out of memory building the GGUF keys");
    return conv_set_template_keys(c, w);
}

const convert_tokenizer convert_tok_wordpiece = {
    .type = "WordPiece",
    .file = "vocab.txt",
    .vocab_arch = "bert",
    .gguf_token = wordpiece_phantom,
    .read_json = read_json,
    .read_file = read_file,
    .set_keys = set_keys,
};
