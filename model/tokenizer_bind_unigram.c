/* SentencePiece Unigram ("t5") from the GGUF keys.  ember's own files
 * carry the whole HF pipeline in ember.tokenizer.*; llama.cpp's carry its
 * settings, read as the HF pipeline they stand for: the charsmap, then
 * remove_extra_whitespaces as Replace(" {2,}", " "), Metaspace (U+2581,
 * split) prepending when add_space_prefix, the unknown piece scored from
 * the lowest normal piece (llama.cpp's rule), and the template bos / eos
 * with llama.cpp's defaults for this model (no bos, eos), or BERT's
 * [CLS] A [SEP] layout when the file names cls and sep tokens (XLM-R). */
#include "model/tokenizer_bind.h"
#include "model/gguf_keys.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unigram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* the scores: ember's f64 copy when there is one, else llama.cpp's f32 */
static int read_scores(const gguf_file *f, uint64_t n_tok, double **out, char *err, size_t errlen)
{
    uint32_t et;
    uint64_t n;
    const void *d;
    int rc = gguf_get_arr(f, KEY_E_SCORES_F64, &et, &n, &d);
    int f64 = rc == 0;
    if (rc == -2 || (f64 && (et != GGUF_TYPE_FLOAT64 || n != n_tok)))
        return ERR("%s must be a float64 array of %llu entries", KEY_E_SCORES_F64, (unsigned long long)n_tok);
    if (!f64 && ((rc = gguf_get_arr(f, KEY_TOK_SCORES, &et, &n, &d)) != 0 || et != GGUF_TYPE_FLOAT32 || n != n_tok))
        return ERR("%s %s (a float32 array of %llu entries: the pieces' scores)", KEY_TOK_SCORES,
                   rc == -1 ? "is missing" : "is malformed", (unsigned long long)n_tok);
    double *s = malloc(n_tok * sizeof *s);
    if (!s) return ERR("out of memory");
    for (uint64_t i = 0; i < n_tok; i++) {
        if (f64) {
            memcpy(&s[i], (const char *)d + 8 * i, 8);
        } else {
            float x;
            memcpy(&x, (const char *)d + 4 * i, 4);
            s[i] = x;
        }
    }
    *out = s;
    return 0;
}

/* ember.tokenizer.normalizers (with the Replace patterns and contents), or
 * the steps llama.cpp's keys stand for */
static int read_normalizers(const gguf_file *f, unigram_options *o, char *err, size_t errlen)
{
    uint64_t n, nf, nt;
    int k = gguf_get_str_arr(f, KEY_E_NORMALIZERS, &n);
    if (k == -1) {
        int rws;
        if (model_key_bool(f, KEY_TOK_REMOVE_WS, 0, &rws, err, errlen)) return -1;
        if (o->charsmap) o->norm[o->n_norm++].kind = UG_NORM_PRECOMPILED;
        if (rws) {
            ug_norm_step *st = &o->norm[o->n_norm++];
            st->kind = UG_NORM_SPACES;
            st->to = " ";
            st->to_len = 1;
        }
        return 0;
    }
    int kf = gguf_get_str_arr(f, KEY_E_NORM_FROM, &nf), kt = gguf_get_str_arr(f, KEY_E_NORM_TO, &nt);
    if (k < 0 || kf < 0 || kt < 0 || nf != n || nt != n || n > UG_MAX_NORM)
        return ERR("%s, %s and %s must be string arrays of one length (at most %d)", KEY_E_NORMALIZERS, KEY_E_NORM_FROM,
                   KEY_E_NORM_TO, UG_MAX_NORM);
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        ug_norm_step *st = &o->norm[i];
        gguf_str_arr_at(f, k, i, &s, &len);
        if (unigram_norm_from_name(s, len, st))
            return ERR("%s[%llu]: normalizer '%.*s' is not one ember has", KEY_E_NORMALIZERS, (unsigned long long)i,
                       (int)(len > 40 ? 40 : len), s);
        if (st->kind == UG_NORM_PRECOMPILED && !o->charsmap)
            return ERR("%s asks for the precompiled charsmap but %s is missing", KEY_E_NORMALIZERS, KEY_TOK_CHARSMAP);
        gguf_str_arr_at(f, kf, i, &st->from, &len);
        if (len > UINT32_MAX) return ERR("%s[%llu] too long", KEY_E_NORM_FROM, (unsigned long long)i);
        st->from_len = (uint32_t)len;
        gguf_str_arr_at(f, kt, i, &st->to, &len);
        if (len > UINT32_MAX) return ERR("%s[%llu] too long", KEY_E_NORM_TO, (unsigned long long)i);
        st->to_len = (uint32_t)len;
    }
    o->n_norm = (int)n;
    return 0;
}

static int read_pre(const gguf_file *f, unigram_options *o, char *err, size_t errlen)
{
    int add_prefix;
    if (model_key_bool(f, KEY_TOK_ADD_PREFIX, 0, &add_prefix, err, errlen) ||
        model_key_bool(f, KEY_E_WSPLIT, 0, &o->whitespace_split, err, errlen) ||
        model_key_bool(f, KEY_E_METASPACE, 1, &o->metaspace, err, errlen) ||
        model_key_bool(f, KEY_E_MS_SPLIT, 1, &o->split, err, errlen) ||
        model_key_bool(f, KEY_E_BYTE_FALLBACK, 0, &o->byte_fallback, err, errlen))
        return -1;
    const char *s;
    size_t len;
    int rc = gguf_get_str(f, KEY_E_MS_PREPEND, &s, &len);
    o->prepend = rc == 0 ? unigram_prepend_from_name(s, len) : add_prefix ? UG_PREPEND_ALWAYS : UG_PREPEND_NEVER;
    if (rc == -2 || o->prepend < 0) return ERR("%s must be always, first or never", KEY_E_MS_PREPEND);
    rc = gguf_get_str(f, KEY_E_MS_REPLACEMENT, &s, &len);
    if (rc == -2 || (rc == 0 && (len == 0 || len > 4 || uni_utf8_decode((const uint8_t *)s, len, &o->replacement) != (int)len)))
        return ERR("%s must be one character", KEY_E_MS_REPLACEMENT);
    return 0;
}

/* without ember's templates: llama.cpp's bos / eos, or [CLS] A [SEP] */
static int default_template(ember_model *m, const gguf_file *f, uint32_t last, char *err, size_t errlen)
{
    uint64_t probe;
    uint32_t bos, eos, cls, sep;
    int add_bos, add_eos;
    if (gguf_get_uint(f, KEY_TOK_CLS, &probe) == 0 && gguf_get_uint(f, KEY_TOK_SEP, &probe) == 0) {
        if (model_key_u32(f, KEY_TOK_CLS, 0, last, 1, 0, &cls, err, errlen) ||
            model_key_u32(f, KEY_TOK_SEP, 0, last, 1, 0, &sep, err, errlen))
            return -1;
        m->tpl = tok_template_bert((int32_t)cls, (int32_t)sep);
        uint32_t et;
        uint64_t n;
        const void *d;
        return gguf_get_arr(f, KEY_E_TPL_PAIR, &et, &n, &d) == -1
                   ? model_default_pair_layout(m, (int32_t)cls, (int32_t)sep, err, errlen) : 0;
    }
    if (model_key_u32(f, KEY_TOK_BOS, 0, last, 0, 0, &bos, err, errlen) ||
        model_key_u32(f, KEY_TOK_EOS, 0, last, 0, last < 1 ? last : 1, &eos, err, errlen) ||
        model_key_bool(f, KEY_TOK_ADD_BOS, 0, &add_bos, err, errlen) ||
        model_key_bool(f, KEY_TOK_ADD_EOS, 1, &add_eos, err, errlen))
        return -1;
    if (add_bos && gguf_get_uint(f, KEY_TOK_BOS, &probe) != 0)
        return ERR("tokenizer.ggml.add_bos_token is set but tokenizer.ggml.bos_token_id is missing");
    model_default_template(&m->tpl, add_bos, (int32_t)bos, add_eos, (int32_t)eos);
    return 0;
}

int model_bind_unigram(ember_model *m, uint64_t n_tok, int kidx, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    const uint32_t last = (uint32_t)n_tok - 1;
    unigram_options o = unigram_options_default();
    uint32_t unk, pad, np;
    double unk_score;
    int rc = gguf_get_f64(f, KEY_E_UNK_SCORE, &unk_score);
    if (rc == -2) return ERR("%s must be a float", KEY_E_UNK_SCORE);
    o.has_unk_score = rc == 0;
    o.unk_score = rc == 0 ? unk_score : 0.0;
    if (model_key_u32(f, KEY_TOK_UNK, 0, last, 0, last < 2 ? last : 2, &unk, err, errlen) ||
        model_key_u32(f, KEY_TOK_PAD, 0, last, 0, 0, &pad, err, errlen) ||
        model_key_u32(f, KEY_E_N_PIECES, 0, (uint32_t)n_tok, 0, (uint32_t)n_tok, &np, err, errlen) ||
        read_pre(f, &o, err, errlen))
        return -1;
    o.unk_id = (int32_t)unk;
    o.n_pieces = (int32_t)np;
    uint32_t et;
    uint64_t n;
    const void *d;
    rc = gguf_get_arr(f, KEY_TOK_CHARSMAP, &et, &n, &d);
    if (rc == -2 || (rc == 0 && et != GGUF_TYPE_UINT8 && et != GGUF_TYPE_INT8))
        return ERR("%s must be a byte array", KEY_TOK_CHARSMAP);
    if (rc == 0 && n > 0) {
        o.charsmap = d;
        o.charsmap_len = (size_t)n;
    }
    if (read_normalizers(f, &o, err, errlen)) return -1;

    double *scores = NULL;
    int32_t *ls = NULL, *rs = NULL;
    model_vocab v = { 0 };
    if (read_scores(f, n_tok, &scores, err, errlen) ||
        model_read_ids(f, KEY_E_LSTRIP, n_tok, &ls, &o.n_lstrip, err, errlen) ||
        model_read_ids(f, KEY_E_RSTRIP, n_tok, &rs, &o.n_rstrip, err, errlen) ||
        model_vocab_read(f, n_tok, kidx, &v, err, errlen)) {
        free(scores);
        free(ls);
        free(rs);
        return -1;
    }
    o.lstrip = ls;
    o.rstrip = rs;
    char why[256];
    unigram *u = unigram_create((int32_t)n_tok, v.toks, v.lens, v.types, scores, &o, why, sizeof why);
    free(scores);
    free(ls);
    free(rs);
    model_vocab_free(&v);
    if (!u) return ERR("tokenizer: %s", why);
    m->tok = tok_model_wrap(&unigram_ops, u, why, sizeof why);
    if (!m->tok) return ERR("tokenizer: %s", why);
    m->pad_id = (int32_t)pad;
    return default_template(m, f, last, err, errlen);
}
