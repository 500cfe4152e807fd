/* SentencePiece Unigram tokenizers (tokenizer.json model.type "Unigram") ->
 * tokenizer.ggml.model "t5", as llama.cpp's converter writes it: the pieces
 * as they are, their scores (f32), types (the unknown piece unknown when it
 * is an added token, other added tokens control when special and
 * user-defined when not, <0xXX> pieces byte with byte_fallback), ids the
 * tokenizer lacks below config.json's vocab_size as unused [PADn], the
 * precompiled_charsmap, add_space_prefix and remove_extra_whitespaces,
 * unk / bos / eos / pad / mask ids and add_bos_token / add_eos_token as its
 * SpecialVocab finds them.  ember.tokenizer.* adds what llama.cpp does not
 * record: the normalizer Sequence step by step, the pre-tokenizers, the
 * scores in f64 as HF reads them (serde_json's parse is an ULP off the
 * correctly rounded value for many; json_number_hf), the unknown piece's
 * score, how many tokens are model pieces, byte_fallback, the added tokens
 * with lstrip / rstrip, and the post-processor's templates.
 *
 * What ember would not reproduce is refused by name: another normalizer or
 * pre-tokenizer, a Replace regex other than " {2,}", no unk_id, added tokens
 * matched after normalization or as single words. */
#include "tools/convert_internal.h"
#include "model/gguf_keys.h"
#include "tools/base64.h"
#include "tokenizer/unicode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TJ "tokenizer.json"

static int is_null(const json_value *v) { return !v || json_type_of(v) == JSON_NULL; }

static const char *type_of(const json_value *v) { return json_string(json_object_get(v, "type"), NULL); }

/* a string the options point to, owned by c */
static int keep_str(conv *c, const char *s, size_t n, const char **out, uint32_t *out_len)
{
    int k = 0;
    while (k < 2 * UG_MAX_NORM && c->ug_strs[k]) k++;
    if (k == 2 * UG_MAX_NORM || !(c->ug_strs[k] = malloc(n + 1))) return cfail(c, "out of memory");
    memcpy(c->ug_strs[k], s, n);
    c->ug_strs[k][n] = '\0';
    *out = c->ug_strs[k];
    *out_len = (uint32_t)n;
    return 0;
}

static int add_step(conv *c, const json_value *n)
{
    const char *t = type_of(n);
    unigram_options *o = &c->ug;
    if (!t) return cfail(c, TJ ": a normalizer without a type");
    if (o->n_norm == UG_MAX_NORM) return cfail(c, TJ ": more than %d normalizers", UG_MAX_NORM);
    ug_norm_step *st = &o->norm[o->n_norm];
    memset(st, 0, sizeof *st);
    if (strcmp(t, "Precompiled") == 0) {
        size_t len;
        const char *b64 = json_string(json_object_get(n, "precompiled_charsmap"), &len);
        if (!b64 || c->ug_charsmap) return cfail(c, TJ ": a Precompiled normalizer %s", b64 ? "twice" : "without its precompiled_charsmap");
        if (base64_decode(b64, len, &c->ug_charsmap, &o->charsmap_len))
            return cfail(c, TJ ": Precompiled: precompiled_charsmap is not base64");
        if (o->charsmap_len == 0) return 0; /* HF: no rules, nothing to do */
        o->charsmap = c->ug_charsmap;
        st->kind = UG_NORM_PRECOMPILED;
    } else if (strcmp(t, "Replace") == 0) {
        const json_value *pat = json_object_get(n, "pattern");
        size_t pl, cl;
        const char *lit = json_string(json_object_get(pat, "String"), &pl);
        const char *rx = json_string(json_object_get(pat, "Regex"), &pl);
        const char *content = json_string(json_object_get(n, "content"), &cl);
        if (!content) return cfail(c, TJ ": Replace without a content");
        if (rx && !(pl == 5 && memcmp(rx, " {2,}", 5) == 0))
            return cfail(c, TJ ": Replace with the regex %.*s is not supported (only \" {2,}\")", (int)(pl > 80 ? 80 : pl), rx);
        if (!rx && (!lit || !pl)) return cfail(c, TJ ": Replace without a String or Regex pattern");
        st->kind = rx ? UG_NORM_SPACES : UG_NORM_REPLACE;
        if ((lit && keep_str(c, lit, pl, &st->from, &st->from_len)) || keep_str(c, content, cl, &st->to, &st->to_len))
            return -1;
    } else if (strcmp(t, "Strip") == 0) {
        st->kind = UG_NORM_STRIP;
        st->left = json_bool(json_object_get(n, "strip_left"));
        st->right = json_bool(json_object_get(n, "strip_right"));
        if (!st->left && !st->right) return 0;
    } else if (strcmp(t, "Lowercase") == 0) {
        st->kind = UG_NORM_LOWERCASE;
    } else {
        return cfail(c, TJ ": normalizer %s is not supported with a Unigram model (Precompiled, Replace, Strip, "
                     "Lowercase, in a Sequence or alone)", t);
    }
    o->n_norm++;
    return 0;
}

static int read_normalizer(conv *c, const json_value *n)
{
    if (is_null(n)) return 0;
    const char *t = type_of(n);
    if (t && strcmp(t, "Sequence") == 0) {
        const json_value *seq = json_object_get(n, "normalizers");
        for (size_t i = 0; i < json_array_len(seq); i++)
            if (add_step(c, json_array_at(seq, i))) return -1;
        return 0;
    }
    return add_step(c, n);
}

static int read_metaspace(conv *c, const json_value *m)
{
    unigram_options *o = &c->ug;
    size_t rl;
    const char *r = json_string(json_object_get(m, "replacement"), &rl);
    uint32_t cp;
    if (!r || uni_utf8_decode((const uint8_t *)r, rl, &cp) != (int)rl)
        return cfail(c, TJ ": Metaspace needs a replacement of one character");
    o->metaspace = 1;
    o->replacement = cp;
    /* HF: prepend_scheme (default always); add_prefix_space false means never */
    const json_value *ps = json_object_get(m, "prepend_scheme"), *ap = json_object_get(m, "add_prefix_space");
    size_t pl;
    const char *p = json_string(ps, &pl);
    o->prepend = p ? unigram_prepend_from_name(p, pl) : UG_PREPEND_ALWAYS;
    if (o->prepend < 0) return cfail(c, TJ ": Metaspace prepend_scheme %s is not supported", p);
    if (json_type_of(ap) == JSON_BOOL && !json_bool(ap)) {
        if (p && o->prepend != UG_PREPEND_NEVER) return cfail(c, TJ ": Metaspace add_prefix_space false with prepend_scheme %s", p);
        o->prepend = UG_PREPEND_NEVER;
    }
    const json_value *sp = json_object_get(m, "split");
    o->split = is_null(sp) ? 1 : json_bool(sp);
    return 0;
}

/* pre_tokenizer: Metaspace, WhitespaceSplit, or Sequence[WhitespaceSplit, Metaspace] */
static int read_pre_tokenizer(conv *c, const json_value *p)
{
    unigram_options *o = &c->ug;
    o->metaspace = 0;
    if (is_null(p)) return 0;
    const json_value *one[1] = { p }, *const *steps = one;
    const json_value *two[2];
    size_t n = 1;
    const char *t = type_of(p);
    if (t && strcmp(t, "Sequence") == 0) {
        const json_value *seq = json_object_get(p, "pretokenizers");
        n = json_array_len(seq);
        if (n < 1 || n > 2) return cfail(c, TJ ": pre_tokenizer Sequence of %zu is not supported", n);
        for (size_t i = 0; i < n; i++) two[i] = json_array_at(seq, i);
        steps = two;
    }
    for (size_t i = 0; i < n; i++) {
        const char *st = type_of(steps[i]);
        if (st && strcmp(st, "WhitespaceSplit") == 0 && i == 0 && !o->whitespace_split) {
            o->whitespace_split = 1;
        } else if (st && strcmp(st, "Metaspace") == 0 && i == n - 1) {
            if (read_metaspace(c, steps[i])) return -1;
        } else {
            return cfail(c, TJ ": pre_tokenizer %s is not supported with a Unigram model (Metaspace, WhitespaceSplit, "
                         "Sequence[WhitespaceSplit, Metaspace])", st ? st : "(no type)");
        }
    }
    return 0;
}

static int read_vocab(conv *c, const json_value *model, const json_value *added)
{
    const json_value *vocab = json_object_get(model, "vocab");
    size_t nv = json_array_len(vocab);
    if (json_type_of(vocab) != JSON_ARRAY || nv == 0 || nv >= (1u << 24))
        return cfail(c, TJ ": model.vocab is not a non-empty array of [piece, score]");
    double maxid = (double)nv - 1;
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *v = json_object_get(json_array_at(added, i), "id");
        double d = json_number(v);
        if (json_type_of(v) != JSON_NUMBER || d < 0 || d >= (1 << 24) || d != (double)(int32_t)d)
            return cfail(c, TJ ": added_tokens[%zu] has a bad id", i);
        if (d > maxid) maxid = d;
    }
    uint32_t n = (uint32_t)maxid + 1;
    if (!c->opt->vocab_only && c->vocab > n) n = c->vocab;
    if (conv_alloc_vocab(c, n)) return -1;
    if (!(c->scores = calloc(n, sizeof *c->scores))) return cfail(c, "out of memory");
    c->n_pieces = (uint32_t)nv;
    for (size_t i = 0; i < nv; i++) {
        const json_value *e = json_array_at(vocab, i), *sc = json_array_at(e, 1);
        size_t len;
        const char *s = json_string(json_array_at(e, 0), &len);
        if (!s || json_type_of(sc) != JSON_NUMBER || json_array_len(e) != 2)
            return cfail(c, TJ ": model.vocab[%zu] is not [piece, score]", i);
        if (conv_set_token(c, (uint32_t)i, s, len, TJ " vocab")) return -1;
        c->scores[i] = json_number_hf(sc);
        if (!isfinite(c->scores[i])) return cfail(c, TJ ": model.vocab[%zu] has a score that is not finite", i);
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *a = json_array_at(added, i);
        size_t len;
        const char *s = json_string(json_object_get(a, "content"), &len);
        uint32_t id = (uint32_t)json_number(json_object_get(a, "id"));
        if (!s) return cfail(c, TJ ": added_tokens[%zu] has no content", i);
        /* matched in the normalized text, which ember does not do */
        if (json_bool(json_object_get(a, "normalized")))
            return cfail(c, TJ ": added token %s is normalized (matched after the normalizers), which ember does not "
                         "reproduce", s);
        if (conv_set_token(c, id, s, len, TJ " added_tokens")) return -1;
        c->tok_types[id] = json_bool(json_object_get(a, "special")) ? CONV_TOK_CONTROL : CONV_TOK_USER;
        if (conv_added_flags(c, a, s, id)) return -1;
    }
    for (uint32_t i = 0; i < c->n_tok; i++) {
        if (c->hf_toks[i]) continue;
        if (i <= (uint32_t)maxid) return cfail(c, TJ ": vocabulary id %u is missing (ids must be dense)", i);
        char pad[32];
        int pl = snprintf(pad, sizeof pad, "[PAD%u]", i);
        if (conv_set_token(c, i, pad, (size_t)pl, "vocab_size")) return -1;
        c->tok_types[i] = CONV_TOK_UNUSED;
        c->scores[i] = -10000.0; /* llama.cpp's filler score */
    }
    c->ug.lstrip = c->lstrip;
    c->ug.n_lstrip = c->n_lstrip;
    c->ug.rstrip = c->rstrip;
    c->ug.n_rstrip = c->n_rstrip;
    return 0;
}

static int read_model(conv *c, const json_value *model)
{
    const json_value *uid = json_object_get(model, "unk_id");
    double d = json_number(uid);
    if (is_null(uid)) return cfail(c, TJ ": a Unigram model without unk_id is not supported");
    if (json_type_of(uid) != JSON_NUMBER || d < 0 || d >= c->n_pieces || d != (double)(int32_t)d)
        return cfail(c, TJ ": unk_id is not the id of a piece of model.vocab");
    c->unk = (int32_t)d;
    c->ug.unk_id = c->unk;
    c->ug.byte_fallback = json_bool(json_object_get(model, "byte_fallback"));
    c->ug.n_pieces = (int32_t)c->n_pieces;
    /* HF: the lowest score of model.vocab, minus 10 */
    double lo = INFINITY;
    for (uint32_t i = 0; i < c->n_pieces; i++)
        if (c->scores[i] < lo) lo = c->scores[i];
    c->ug.has_unk_score = 1;
    c->ug.unk_score = lo - 10.0;
    /* llama.cpp's types: the unknown piece, and byte pieces with byte_fallback */
    if (c->tok_types[c->unk] == CONV_TOK_CONTROL || c->tok_types[c->unk] == CONV_TOK_USER)
        c->tok_types[c->unk] = CONV_TOK_UNKNOWN;
    for (uint32_t i = 0; c->ug.byte_fallback && i < c->n_pieces; i++) {
        const char *t = c->hf_toks[i];
        if (c->tok_types[i] == CONV_TOK_NORMAL && strlen(t) == 6 && memcmp(t, "<0x", 3) == 0 && t[5] == '>')
            c->tok_types[i] = CONV_TOK_BYTE;
    }
    return 0;
}

/* llama.cpp's SpecialVocab: the tokens tokenizer_config.json names, then
 * what the template says (its first special token is bos, its last eos) */
static void find_specials(conv *c)
{
    c->bos = conv_find_special(c, "bos_token", "");
    c->eos = conv_find_special(c, "eos_token", "");
    c->pad = conv_find_special(c, "pad_token", "");
    c->mask_id = conv_find_special(c, "mask_token", "");
    c->add_bos = c->add_eos = -1;
    const json_value *ab = json_object_get(c->tok_cfg, "add_bos_token"), *ae = json_object_get(c->tok_cfg, "add_eos_token");
    if (json_type_of(ab) == JSON_BOOL) c->add_bos = json_bool(ab);
    if (json_type_of(ae) == JSON_BOOL) c->add_eos = json_bool(ae);
    if (c->n_single > 1 && c->tpl_single[0] >= 0) {
        c->add_bos = 1;
        if (c->bos < 0) c->bos = c->tpl_single[0];
    }
    int32_t last = c->tpl_single[c->n_single - 1];
    if (c->n_single > 1 && last >= 0) {
        c->eos = last;
        c->add_eos = 1;
    }
}

/* The conversion must load: the vocabulary and pipeline through unigram_create. */
static int check_loads(conv *c)
{
    uint32_t *lens = malloc((size_t)c->n_tok * sizeof *lens);
    if (!lens) return cfail(c, "out of memory");
    for (uint32_t i = 0; i < c->n_tok; i++) lens[i] = (uint32_t)c->tok_lens[i];
    char why[256];
    unigram *u = unigram_create((int32_t)c->n_tok, (const char *const *)c->toks, lens, c->tok_types, c->scores, &c->ug,
                                why, sizeof why);
    free(lens);
    if (!u) return cfail(c, TJ ": %s", why);
    unigram_free(u);
    return 0;
}

static int read_json(conv *c)
{
    const json_value *tj = c->tok_json, *model = json_object_get(tj, "model");
    c->ug = unigram_options_default();
    const json_value *pp = json_object_get(tj, "post_processor");
    if (read_vocab(c, model, json_object_get(tj, "added_tokens")) || read_model(c, model) ||
        read_normalizer(c, json_object_get(tj, "normalizer")) ||
        read_pre_tokenizer(c, json_object_get(tj, "pre_tokenizer")) || conv_read_post_processor(c, pp))
        return -1;
    find_specials(c);
    return check_loads(c);
}

static int set_keys(conv *c, gguf_writer *w)
{
    const unigram_options *o = &c->ug;
    int bad = 0, spaces = 0, need_f64 = 0;
    float *f32 = malloc((size_t)c->n_tok * sizeof *f32);
    if (!f32) return cfail(c, "out of memory");
    for (uint32_t i = 0; i < c->n_tok; i++) {
        f32[i] = (float)c->scores[i];
        need_f64 |= (double)f32[i] != c->scores[i];
    }
    const char *names[UG_MAX_NORM], *from[UG_MAX_NORM], *to[UG_MAX_NORM];
    size_t fl[UG_MAX_NORM], tl[UG_MAX_NORM];
    for (int i = 0; i < o->n_norm; i++) {
        names[i] = unigram_norm_name(&o->norm[i]);
        spaces |= o->norm[i].kind == UG_NORM_SPACES;
        from[i] = o->norm[i].kind == UG_NORM_REPLACE ? o->norm[i].from : "";
        fl[i] = o->norm[i].kind == UG_NORM_REPLACE ? o->norm[i].from_len : 0;
        to[i] = o->norm[i].kind == UG_NORM_REPLACE || o->norm[i].kind == UG_NORM_SPACES ? o->norm[i].to : "";
        tl[i] = o->norm[i].kind == UG_NORM_REPLACE || o->norm[i].kind == UG_NORM_SPACES ? o->norm[i].to_len : 0;
    }
    size_t nl[UG_MAX_NORM];
    for (int i = 0; i < o->n_norm; i++) nl[i] = strlen(names[i]);
    uint8_t rep[4];
    int rl = uni_utf8_encode(o->metaspace ? o->replacement : 0x2581, rep);
    const char *ps = unigram_prepend_name(o->prepend);
    bad |= gguf_writer_set_str(w, KEY_TOK_MODEL, "t5", 2);
    bad |= gguf_writer_set_str(w, KEY_TOK_PRE, "default", 7);
    bad |= gguf_writer_set_str_arr(w, KEY_TOK_TOKENS, (const char *const *)c->toks, c->tok_lens, c->n_tok);
    bad |= gguf_writer_set_arr(w, KEY_TOK_SCORES, GGUF_TYPE_FLOAT32, f32, c->n_tok);
    bad |= gguf_writer_set_arr(w, KEY_TOK_TYPES, GGUF_TYPE_INT32, c->tok_types, c->n_tok);
    if (o->charsmap) bad |= gguf_writer_set_arr(w, KEY_TOK_CHARSMAP, GGUF_TYPE_UINT8, o->charsmap, o->charsmap_len);
    bad |= gguf_writer_set_bool(w, KEY_TOK_ADD_PREFIX, o->metaspace && o->prepend != UG_PREPEND_NEVER);
    bad |= gguf_writer_set_bool(w, KEY_TOK_REMOVE_WS, spaces);
    bad |= gguf_writer_set_u32(w, KEY_TOK_UNK, (uint32_t)c->unk);
    if (c->bos >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_BOS, (uint32_t)c->bos);
    if (c->eos >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_EOS, (uint32_t)c->eos);
    if (c->pad >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_PAD, (uint32_t)c->pad);
    if (c->mask_id >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_MASK, (uint32_t)c->mask_id);
    if (c->add_bos >= 0) bad |= gguf_writer_set_bool(w, KEY_TOK_ADD_BOS, c->add_bos);
    if (c->add_eos >= 0) bad |= gguf_writer_set_bool(w, KEY_TOK_ADD_EOS, c->add_eos);
    if (!c->opt->vocab_only) bad |= gguf_writer_set_u32(w, KEY_TOK_TYPE_COUNT, c->type_vocab);
    bad |= gguf_writer_set_str_arr(w, KEY_E_NORMALIZERS, names, nl, (uint64_t)o->n_norm);
    bad |= gguf_writer_set_str_arr(w, KEY_E_NORM_FROM, from, fl, (uint64_t)o->n_norm);
    bad |= gguf_writer_set_str_arr(w, KEY_E_NORM_TO, to, tl, (uint64_t)o->n_norm);
    bad |= gguf_writer_set_bool(w, KEY_E_WSPLIT, o->whitespace_split);
    bad |= gguf_writer_set_bool(w, KEY_E_METASPACE, o->metaspace);
    bad |= gguf_writer_set_str(w, KEY_E_MS_REPLACEMENT, (const char *)rep, (size_t)rl);
    bad |= gguf_writer_set_str(w, KEY_E_MS_PREPEND, ps, strlen(ps));
    bad |= gguf_writer_set_bool(w, KEY_E_MS_SPLIT, o->split);
    bad |= gguf_writer_set_bool(w, KEY_E_BYTE_FALLBACK, o->byte_fallback);
    bad |= gguf_writer_set_val(w, KEY_E_UNK_SCORE, GGUF_TYPE_FLOAT64, &o->unk_score);
    if (need_f64) bad |= gguf_writer_set_arr(w, KEY_E_SCORES_F64, GGUF_TYPE_FLOAT64, c->scores, c->n_tok);
    bad |= gguf_writer_set_u32(w, KEY_E_N_PIECES, c->n_pieces);
    free(f32);
    if (bad) return cfail(c, "out of memory building the GGUF keys");
    return conv_set_strip_keys(c, w) ? -1 : conv_set_template_keys(c, w);
}

const convert_tokenizer convert_tok_unigram = {
    .type = "Unigram",
    .file = NULL,
    .vocab_arch = "t5", /* llama.cpp's ggml-vocab of a T5 names its model so */
    .gguf_token = NULL,
    .read_json = read_json,
    .read_file = NULL,
    .set_keys = set_keys,
};
