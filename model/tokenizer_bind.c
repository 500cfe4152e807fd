/* Builds the runtime tokenizer from the GGUF's tokenizer.ggml.* keys (the
 * llama.cpp convention) and ember.tokenizer.* keys (normaliser flags and the
 * post-processor template).  Files without ember keys get BERT defaults. */
#include "model/model.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

static int opt_bool(const gguf_file *f, const char *key, int def)
{
    int v;
    return gguf_get_bool(f, key, &v) == 0 ? v : def;
}

static int opt_u32(const gguf_file *f, const char *key, uint32_t *v)
{
    return gguf_get_u32(f, key, v) == 0;
}

/* Reads an i32 template array and its type ids; 1 if present and valid. */
static int read_template(const gguf_file *f, const char *key, const char *types_key,
                         tok_item *items, int *n_items, int32_t n_vocab, char *err, size_t errlen)
{
    uint32_t et, et2;
    uint64_t n, n2;
    const void *d, *d2;
    if (gguf_get_arr(f, key, &et, &n, &d) != 0) return 0;
    if (gguf_get_arr(f, types_key, &et2, &n2, &d2) != 0 || n2 != n)
        return ERR("%s present but %s missing or of another length", key, types_key);
    if (et != GGUF_TYPE_INT32 || et2 != GGUF_TYPE_INT32)
        return ERR("%s and %s must be int32 arrays", key, types_key);
    if (n == 0 || n > TOK_TEMPLATE_MAX)
        return ERR("%s has %llu items (1..%d allowed)", key, (unsigned long long)n, TOK_TEMPLATE_MAX);
    const int32_t *a = d, *t = d2;
    for (uint64_t i = 0; i < n; i++) {
        int32_t id, ty;
        memcpy(&id, a + i, 4);
        memcpy(&ty, t + i, 4);
        if (id < TOK_SEQ_B || id >= n_vocab || ty < 0 || ty > 255)
            return ERR("%s item %llu: id %d / type %d out of range", key, (unsigned long long)i, id, ty);
        items[i].id = id;
        items[i].type_id = ty;
    }
    *n_items = (int)n;
    return 1;
}

int model_tokenizer_bind(ember_model *m, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    const char *s;
    size_t n;
    if (gguf_get_str(f, "tokenizer.ggml.model", &s, &n) != 0)
        return ERR("missing key tokenizer.ggml.model (no tokenizer in this file)");
    if (!(n == 4 && memcmp(s, "bert", 4) == 0))
        return ERR("tokenizer model '%.*s' is not supported yet (ember reads 'bert' WordPiece)",
                   (int)(n > 40 ? 40 : n), s);

    uint64_t n_tok;
    int kidx = gguf_get_str_arr(f, "tokenizer.ggml.tokens", &n_tok);
    if (kidx < 0) return ERR("missing or malformed key tokenizer.ggml.tokens");
    if (n_tok == 0 || n_tok > (1u << 24)) return ERR("tokenizer.ggml.tokens has %llu entries", (unsigned long long)n_tok);
    if (m->has_weights && n_tok != (uint64_t)m->w.n_vocab)
        return ERR("tokenizer has %llu tokens but token_embd has %d rows", (unsigned long long)n_tok, m->w.n_vocab);

    const char **toks = malloc(n_tok * sizeof *toks);
    uint32_t *lens = malloc(n_tok * sizeof *lens);
    int32_t *types = NULL;
    if (!toks || !lens) { free(toks); free(lens); return ERR("out of memory"); }
    for (uint64_t i = 0; i < n_tok; i++) {
        size_t len;
        gguf_str_arr_at(f, kidx, i, &toks[i], &len);
        lens[i] = (uint32_t)len;
    }
    uint32_t et; uint64_t nt; const void *td;
    if (gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &nt, &td) == 0) {
        if (et != GGUF_TYPE_INT32 || nt != n_tok) {
            free(toks); free(lens);
            return ERR("tokenizer.ggml.token_type must be an int32 array of %llu entries", (unsigned long long)n_tok);
        }
        types = malloc(n_tok * sizeof *types);
        if (!types) { free(toks); free(lens); return ERR("out of memory"); }
        memcpy(types, td, n_tok * sizeof *types);
    }

    uint32_t unk = 100, cls = 101, sep = 102, pad = 0, mcl = 100;
    opt_u32(f, "tokenizer.ggml.unknown_token_id", &unk);
    if (!opt_u32(f, "tokenizer.ggml.cls_token_id", &cls)) opt_u32(f, "tokenizer.ggml.bos_token_id", &cls);
    if (!opt_u32(f, "tokenizer.ggml.seperator_token_id", &sep)) opt_u32(f, "tokenizer.ggml.eos_token_id", &sep);
    opt_u32(f, "tokenizer.ggml.padding_token_id", &pad);
    opt_u32(f, "ember.tokenizer.max_input_chars_per_word", &mcl);
    if (unk >= n_tok || cls >= n_tok || sep >= n_tok || pad >= n_tok) {
        free(toks); free(lens); free(types);
        return ERR("special token id out of range (unk %u, cls %u, sep %u, pad %u; %llu tokens)",
                   unk, cls, sep, pad, (unsigned long long)n_tok);
    }
    wp_options opt = {
        .lowercase = opt_bool(f, "ember.tokenizer.lowercase", 1),
        .strip_accents = opt_bool(f, "ember.tokenizer.strip_accents", 1),
        .handle_chinese_chars = opt_bool(f, "ember.tokenizer.handle_chinese_chars", 1),
        .clean_text = opt_bool(f, "ember.tokenizer.clean_text", 1),
        .max_input_chars_per_word = (int)mcl,
    };
    char why[256];
    m->wp = wordpiece_create((int32_t)n_tok, toks, lens, types, (int32_t)unk, &opt, why, sizeof why);
    free(toks); free(lens); free(types);
    if (!m->wp) return ERR("tokenizer: %s", why);
    m->pad_id = (int32_t)pad;

    m->tpl = tok_template_bert((int32_t)cls, (int32_t)sep);
    int r1 = read_template(f, "ember.tokenizer.template_single", "ember.tokenizer.template_single_types",
                           m->tpl.single, &m->tpl.n_single, (int32_t)n_tok, err, errlen);
    if (r1 < 0) return -1;
    int r2 = read_template(f, "ember.tokenizer.template_pair", "ember.tokenizer.template_pair_types",
                           m->tpl.pair, &m->tpl.n_pair, (int32_t)n_tok, err, errlen);
    if (r2 < 0) return -1;

    uint32_t msl = 0;
    int ctx = m->has_weights ? m->w.n_ctx : 512;
    m->max_tokens = opt_u32(f, "ember.max_seq_length", &msl) && msl > 0 && (int)msl < ctx ? (int)msl : ctx;
    m->normalize = opt_bool(f, "ember.normalize", m->pooling == EMBER_POOL_MEAN || m->pooling == EMBER_POOL_CLS);
    return 0;
}
