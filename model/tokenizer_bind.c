/* Builds the runtime tokenizer from the GGUF's tokenizer.ggml.* keys (the
 * llama.cpp convention) and ember.tokenizer.* keys (normaliser flags and the
 * post-processor template): "bert" files get WordPiece, "gpt2" files the
 * byte-level BPE of the split pattern tokenizer.ggml.pre names, "t5" files
 * SentencePiece Unigram (tokenizer_bind_unigram.c).  BERT files
 * without ember keys get BERT's normaliser defaults and the pair layout the
 * model's token-type table implies (see default_pair_layout); BPE files
 * without them the template llama.cpp's add_bos_token / add_eos_token say. */
#include "model/model.h"
#include "model/gguf_keys.h"
#include "model/tokenizer_bind.h"
#include "tokenizer/bpe.h"
#include "tokenizer/wordpiece.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* Reads an i32 template array and its type ids; 1 if present and valid. */
static int read_template(const gguf_file *f, const char *key, const char *types_key,
                         tok_item *items, int *n_items, int32_t n_vocab, char *err, size_t errlen)
{
    uint32_t et, et2;
    uint64_t n, n2;
    const void *d, *d2;
    int rc = gguf_get_arr(f, key, &et, &n, &d);
    if (rc == -1) return 0;
    if (rc != 0) return ERR("%s must be an int32 array", key);
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

/* A file without ember's pair template (llama.cpp's converter writes none):
 * the layout follows from the token-type table, as it does in HuggingFace.
 * Two or more rows: BERT, [CLS] A [SEP] B [SEP] with B of type 1.  One row:
 * the RoBERTa family (XLM-R, bge-reranker), <s> A </s></s> B </s>, all of
 * type 0 (llama.cpp's own rerank prompt for these models).  No table: the
 * layout cannot be told, which only matters to a cross-encoder. */
int model_default_pair_layout(ember_model *m, int32_t cls, int32_t sep, char *err, size_t errlen)
{
    if (!m->has_weights || m->dims.n_types >= 2) return 0; /* tok_template_bert's */
    if (m->dims.n_types == 1) {
        tok_template *t = &m->tpl;
        t->n_pair = 6;
        t->pair[0] = (tok_item){ cls, 0 };
        t->pair[1] = (tok_item){ TOK_SEQ_A, 0 };
        t->pair[2] = (tok_item){ sep, 0 };
        t->pair[3] = (tok_item){ sep, 0 };
        t->pair[4] = (tok_item){ TOK_SEQ_B, 0 };
        t->pair[5] = (tok_item){ sep, 0 };
        return 0;
    }
    if (m->kind == EMBER_KIND_RERANKER)
        return ERR("no pair template (ember.tokenizer.template_pair) and no token_types.weight to tell "
                   "the pair layout (BERT or RoBERTa) from; ember will not score pairs it cannot lay out");
    return 0;
}

/* Every type id a template gives must have a row in the token-type table. */
static int check_template_types(const ember_model *m, const tok_item *it, int n, const char *which,
                                char *err, size_t errlen)
{
    if (!m->has_weights || m->dims.n_types == 0) return 0;
    for (int i = 0; i < n; i++)
        if (it[i].type_id >= m->dims.n_types)
            return ERR("the %s template uses token type %d but token_types.weight has %d row%s", which,
                       it[i].type_id, m->dims.n_types, m->dims.n_types == 1 ? "" : "s");
    return 0;
}

void model_vocab_free(model_vocab *v)
{
    free(v->toks);
    free(v->lens);
    free(v->types);
}

int model_vocab_read(const gguf_file *f, uint64_t n_tok, int kidx, model_vocab *v, char *err, size_t errlen)
{
    v->n = n_tok;
    v->toks = malloc(n_tok * sizeof *v->toks);
    v->lens = malloc(n_tok * sizeof *v->lens);
    v->types = NULL;
    if (!v->toks || !v->lens) { model_vocab_free(v); return ERR("out of memory"); }
    for (uint64_t i = 0; i < n_tok; i++) {
        size_t len;
        gguf_str_arr_at(f, kidx, i, &v->toks[i], &len);
        if (len > UINT32_MAX) {
            model_vocab_free(v);
            return ERR("tokenizer.ggml.tokens: token %llu is %zu bytes long", (unsigned long long)i, len);
        }
        v->lens[i] = (uint32_t)len;
    }
    uint32_t et; uint64_t nt; const void *td;
    int trc = gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &nt, &td);
    if (trc == -2 || (trc == 0 && (et != GGUF_TYPE_INT32 || nt != n_tok))) {
        model_vocab_free(v);
        return ERR("tokenizer.ggml.token_type must be an int32 array of %llu entries", (unsigned long long)n_tok);
    }
    if (trc == 0) {
        v->types = malloc(n_tok * sizeof *v->types);
        if (!v->types) { model_vocab_free(v); return ERR("out of memory"); }
        memcpy(v->types, td, n_tok * sizeof *v->types);
    }
    return 0;
}

int model_read_ids(const gguf_file *f, const char *key, uint64_t n_tok, int32_t **ids, int *n, char *err, size_t errlen)
{
    uint32_t et;
    uint64_t cnt;
    const void *d;
    int rc = gguf_get_arr(f, key, &et, &cnt, &d);
    *ids = NULL;
    *n = 0;
    if (rc == -1) return 0;
    if (rc != 0 || et != GGUF_TYPE_INT32 || cnt > n_tok) return ERR("%s must be an int32 array of token ids", key);
    if (cnt == 0) return 0;
    if (!(*ids = malloc(cnt * sizeof **ids))) return ERR("out of memory");
    memcpy(*ids, d, cnt * sizeof **ids);
    *n = (int)cnt;
    return 0;
}

/* WordPiece ("bert"): the tokenizer and BERT's template. */
static int bind_wordpiece(ember_model *m, uint64_t n_tok, int kidx, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    /* every scalar key first: nothing to free when one is refused */
    const uint32_t last = (uint32_t)n_tok - 1;
    uint32_t unk, cls, sep, pad, mcl;
    int lower, strip, cjk, clean;
    if (model_key_u32(f, "tokenizer.ggml.unknown_token_id", 0, last, 0, 100, &unk, err, errlen) ||
        model_key_u32(f, "tokenizer.ggml.padding_token_id", 0, last, 0, 0, &pad, err, errlen) ||
        model_key_u32(f, "ember.tokenizer.max_input_chars_per_word", 1, WP_MAX_WORD_CHARS, 0, 100, &mcl, err, errlen) ||
        model_key_bool(f, "ember.tokenizer.lowercase", 1, &lower, err, errlen) ||
        model_key_bool(f, "ember.tokenizer.strip_accents", 1, &strip, err, errlen) ||
        model_key_bool(f, "ember.tokenizer.handle_chinese_chars", 1, &cjk, err, errlen) ||
        model_key_bool(f, "ember.tokenizer.clean_text", 1, &clean, err, errlen))
        return -1;
    /* [CLS] / [SEP] under llama.cpp's BERT names, else its bos / eos */
    uint64_t probe;
    const char *cls_key = gguf_get_uint(f, "tokenizer.ggml.cls_token_id", &probe) == -1
                              ? "tokenizer.ggml.bos_token_id" : "tokenizer.ggml.cls_token_id";
    const char *sep_key = gguf_get_uint(f, "tokenizer.ggml.seperator_token_id", &probe) == -1
                              ? "tokenizer.ggml.eos_token_id" : "tokenizer.ggml.seperator_token_id";
    if (model_key_u32(f, cls_key, 0, last, 0, 101, &cls, err, errlen) ||
        model_key_u32(f, sep_key, 0, last, 0, 102, &sep, err, errlen))
        return -1;
    if (unk > last || cls > last || sep > last) /* the BERT defaults, in a smaller vocabulary */
        return ERR("special token id out of range (unk %u, cls %u, sep %u; %llu tokens)",
                   unk, cls, sep, (unsigned long long)n_tok);

    model_vocab v;
    if (model_vocab_read(f, n_tok, kidx, &v, err, errlen)) return -1;
    wp_options opt = {
        .lowercase = lower, .strip_accents = strip, .handle_chinese_chars = cjk, .clean_text = clean,
        .max_input_chars_per_word = (int)mcl,
    };
    char why[256];
    wordpiece *wp = wordpiece_create((int32_t)n_tok, v.toks, v.lens, v.types, (int32_t)unk, &opt, why, sizeof why);
    model_vocab_free(&v);
    if (!wp) return ERR("tokenizer: %s", why);
    m->tok = tok_model_wrap(&wordpiece_ops, wp, why, sizeof why);
    if (!m->tok) return ERR("tokenizer: %s", why);
    m->pad_id = (int32_t)pad;
    m->tpl = tok_template_bert((int32_t)cls, (int32_t)sep);
    return 0;
}

/* The template llama.cpp's keys describe: bos when add_bos_token, eos when
 * add_eos_token, around A (single) and A B (pair); without either, HF's
 * default for a post-processor that adds nothing (B of type 1). */
void model_default_template(tok_template *t, int add_bos, int32_t bos, int add_eos, int32_t eos)
{
    memset(t, 0, sizeof *t);
    int b_type = add_bos || add_eos ? 0 : 1;
    if (add_bos) t->single[t->n_single++] = (tok_item){ bos, 0 };
    t->single[t->n_single++] = (tok_item){ TOK_SEQ_A, 0 };
    if (add_eos) t->single[t->n_single++] = (tok_item){ eos, 0 };
    if (add_bos) t->pair[t->n_pair++] = (tok_item){ bos, 0 };
    t->pair[t->n_pair++] = (tok_item){ TOK_SEQ_A, 0 };
    t->pair[t->n_pair++] = (tok_item){ TOK_SEQ_B, b_type };
    if (add_eos) t->pair[t->n_pair++] = (tok_item){ eos, 0 };
}

/* Byte-level BPE ("gpt2"): tokens, merges, the split pattern by name. */
static int bind_bpe(ember_model *m, uint64_t n_tok, int kidx, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    const char *s;
    size_t n;
    if (gguf_get_str(f, KEY_TOK_PRE, &s, &n) != 0)
        return ERR("missing key tokenizer.ggml.pre (the BPE split pattern; ember reads 'qwen2' and 'gpt-2')");
    int pre = bpe_pre_from_name(s, n);
    if (!pre)
        return ERR("BPE pre-tokenizer '%.*s' (tokenizer.ggml.pre) is not supported (ember reads 'qwen2' and 'gpt-2')",
                   (int)(n > 40 ? 40 : n), s);
    const uint32_t last = (uint32_t)n_tok - 1;
    uint32_t pad, bos, eos;
    int nfc, ignore_merges, add_bos, add_eos;
    if (model_key_u32(f, "tokenizer.ggml.padding_token_id", 0, last, 0, 0, &pad, err, errlen) ||
        model_key_u32(f, KEY_TOK_BOS, 0, last, 0, 0, &bos, err, errlen) ||
        model_key_u32(f, KEY_TOK_EOS, 0, last, 0, 0, &eos, err, errlen) ||
        model_key_bool(f, KEY_TOK_ADD_BOS, 0, &add_bos, err, errlen) ||
        model_key_bool(f, KEY_TOK_ADD_EOS, 0, &add_eos, err, errlen) ||
        model_key_bool(f, KEY_E_NFC, pre == BPE_PRE_QWEN2, &nfc, err, errlen) ||
        model_key_bool(f, KEY_E_IGNORE_MERGES, 0, &ignore_merges, err, errlen))
        return -1;
    uint64_t probe;
    if ((add_bos && gguf_get_uint(f, KEY_TOK_BOS, &probe) != 0) ||
        (add_eos && gguf_get_uint(f, KEY_TOK_EOS, &probe) != 0))
        return ERR("tokenizer.ggml.add_%s_token is set but tokenizer.ggml.%s_token_id is missing",
                   add_bos ? "bos" : "eos", add_bos ? "bos" : "eos");
    uint64_t n_merges;
    int midx = gguf_get_str_arr(f, KEY_TOK_MERGES, &n_merges);
    if (midx < 0) return ERR("missing or malformed key tokenizer.ggml.merges (a string array)");
    if (n_merges > (1u << 26)) return ERR("tokenizer.ggml.merges has %llu entries", (unsigned long long)n_merges);

    /* the added tokens that strip whitespace (ember's keys; HF's lstrip / rstrip) */
    bpe_options opt = { .pre = pre, .nfc = nfc, .ignore_merges = ignore_merges };
    int32_t *ls = NULL, *rs = NULL;
    model_vocab v = { 0 };
    if (model_read_ids(f, KEY_E_LSTRIP, n_tok, &ls, &opt.n_lstrip, err, errlen) ||
        model_read_ids(f, KEY_E_RSTRIP, n_tok, &rs, &opt.n_rstrip, err, errlen) ||
        model_vocab_read(f, n_tok, kidx, &v, err, errlen)) {
        free(ls); free(rs);
        return -1;
    }
    opt.lstrip = ls;
    opt.rstrip = rs;
    const char **ms = malloc((n_merges ? n_merges : 1) * sizeof *ms);
    uint32_t *ml = malloc((n_merges ? n_merges : 1) * sizeof *ml);
    if (!ms || !ml) { free(ms); free(ml); free(ls); free(rs); model_vocab_free(&v); return ERR("out of memory"); }
    for (uint64_t i = 0; i < n_merges; i++) {
        size_t len;
        gguf_str_arr_at(f, midx, i, &ms[i], &len);
        ml[i] = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    }
    char why[256];
    bpe *b = bpe_create((int32_t)n_tok, v.toks, v.lens, v.types, (int32_t)n_merges, ms, ml, &opt, why, sizeof why);
    free(ms); free(ml); free(ls); free(rs);
    model_vocab_free(&v);
    if (!b) return ERR("tokenizer: %s", why);
    m->tok = tok_model_wrap(&bpe_ops, b, why, sizeof why);
    if (!m->tok) return ERR("tokenizer: %s", why);
    m->pad_id = (int32_t)pad;
    model_default_template(&m->tpl, add_bos, (int32_t)bos, add_eos, (int32_t)eos);
    return 0;
}

int model_tokenizer_bind(ember_model *m, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    const char *s;
    size_t n;
    if (gguf_get_str(f, "tokenizer.ggml.model", &s, &n) != 0)
        return ERR("missing key tokenizer.ggml.model (no tokenizer in this file)");
    int is_bert = n == 4 && memcmp(s, "bert", 4) == 0, is_gpt2 = n == 4 && memcmp(s, "gpt2", 4) == 0;
    int is_t5 = n == 2 && memcmp(s, "t5", 2) == 0;
    if (!is_bert && !is_gpt2 && !is_t5)
        return ERR("tokenizer model '%.*s' is not supported yet (ember reads 'bert' WordPiece, 'gpt2' "
                   "byte-level BPE and 't5' SentencePiece Unigram)", (int)(n > 40 ? 40 : n), s);

    uint64_t n_tok;
    int kidx = gguf_get_str_arr(f, "tokenizer.ggml.tokens", &n_tok);
    if (kidx < 0) return ERR("missing or malformed key tokenizer.ggml.tokens");
    if (n_tok == 0 || n_tok > (1u << 24)) return ERR("tokenizer.ggml.tokens has %llu entries", (unsigned long long)n_tok);
    if (m->has_weights && n_tok != (uint64_t)m->dims.n_vocab)
        return ERR("tokenizer has %llu tokens but token_embd has %d rows", (unsigned long long)n_tok, m->dims.n_vocab);

    uint32_t msl;
    int normalize;
    if (model_key_u32(f, "ember.max_seq_length", 1, UINT32_MAX, 0, UINT32_MAX, &msl, err, errlen) ||
        /* without ember's key, pooled embeddings are normalised: what
         * sentence-transformers pipelines end with and llama.cpp's
         * embedding tools do by default */
        model_key_bool(f, "ember.normalize",
                       m->pooling == EMBER_POOL_MEAN || m->pooling == EMBER_POOL_CLS || m->pooling == EMBER_POOL_LAST,
                       &normalize, err, errlen))
        return -1;
    if (is_bert ? bind_wordpiece(m, n_tok, kidx, err, errlen)
                : is_gpt2 ? bind_bpe(m, n_tok, kidx, err, errlen) : model_bind_unigram(m, n_tok, kidx, err, errlen))
        return -1;

    int r1 = read_template(f, "ember.tokenizer.template_single", "ember.tokenizer.template_single_types",
                           m->tpl.single, &m->tpl.n_single, (int32_t)n_tok, err, errlen);
    if (r1 < 0) return -1;
    int r2 = read_template(f, "ember.tokenizer.template_pair", "ember.tokenizer.template_pair_types",
                           m->tpl.pair, &m->tpl.n_pair, (int32_t)n_tok, err, errlen);
    if (r2 < 0) return -1;
    /* BERT's pair template is still tok_template_bert's: [CLS] A [SEP] B [SEP] */
    if (is_bert && r2 == 0 && model_default_pair_layout(m, m->tpl.pair[0].id, m->tpl.pair[2].id, err, errlen) != 0)
        return -1;
    if (check_template_types(m, m->tpl.single, m->tpl.n_single, "single", err, errlen) ||
        check_template_types(m, m->tpl.pair, m->tpl.n_pair, "pair", err, errlen))
        return -1;

    /* the truncation length: sentence-transformers' max_seq_length, never
     * past the position table (the longest input the encoder can index) */
    uint32_t ctx = m->has_weights ? (uint32_t)m->dims.n_ctx : 512;
    m->max_tokens = (int)(msl < ctx ? msl : ctx);
    int is_pair = m->has_weights && m->kind == EMBER_KIND_RERANKER;
    int n_special = tok_template_n_added(&m->tpl, is_pair);
    if (m->max_tokens <= n_special)
        return ERR("the model takes at most %d tokens (bert.context_length, position_embd.weight, "
                   "ember.max_seq_length), no room for text beside the %s template's %d special tokens",
                   m->max_tokens, is_pair ? "pair" : "single", n_special);
    m->normalize = normalize;
    return 0;
}
