/* ember_embed / ember_rerank / ember_tokenize: tokenize into a packed chunk,
 * run the encoder when the chunk is full, pool or score each sequence. */
#include "model/model.h"
#include "tokenizer/unicode.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FAIL(c, st, ...) (snprintf((c)->err, sizeof (c)->err, __VA_ARGS__), (st))

float ember_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

void ember_l2_normalize(float *v, int n)
{
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += (double)v[i] * v[i];
    if (ss <= 0.0) return;
    float inv = (float)(1.0 / sqrt(ss));
    for (int i = 0; i < n; i++) v[i] *= inv;
}

/* The status of a failed tok_encode, from the code it returned. */
static ember_status tok_status(int code)
{
    switch (code) {
    case TOK_ERR_TEXT: return EMBER_ERR_TEXT;
    case TOK_ERR_SPACE: return EMBER_ERR_LIMIT;
    default: return EMBER_ERR_ARG;
    }
}

/* Tokenizes one input into c->tok_ids / tok_types; the count, or a TOK_ERR_*
 * code (message set). */
static int tokenize_one(ember_ctx *c, const char *a, size_t alen, const char *b, size_t blen, const char *who)
{
    char why[256];
    int n = tok_encode(c->m->tok, &c->m->tpl, a, alen, b, blen, 1, c->max_tokens,
                       c->tok_ids, c->tok_types, c->max_tokens, why, sizeof why);
    if (n < 0) snprintf(c->err, sizeof c->err, "%s%s", who, why);
    return n;
}

static void stage(ember_ctx *c, int *n_seq, int n_tok)
{
    int r0 = c->off[*n_seq];
    for (int t = 0; t < n_tok; t++) {
        c->ids[r0 + t] = c->tok_ids[t];
        /* template types were checked against the table at load; a model
         * without one ignores them */
        c->type_ids[r0 + t] = c->m->dims.n_types ? c->tok_types[t] : 0;
        c->pos_ids[r0 + t] = t;
    }
    (*n_seq)++;
    c->off[*n_seq] = r0 + n_tok;
}

static int check_ids(ember_ctx *c, int n_tok, const char *who)
{
    for (int t = 0; t < n_tok; t++)
        if (c->tok_ids[t] < 0 || c->tok_ids[t] >= c->m->dims.n_vocab)
            return FAIL(c, -1, "%stoken id %d outside the embedding table", who, c->tok_ids[t]);
    return 0;
}

/* hs: every row's final state, or (kept) one row per sequence, the one
 * the forward pass kept for CLS / last-token pooling */
static void pool(const ember_ctx *c, const float *hs, int kept, int n_seq, int flags, float *out)
{
    const int H = c->m->dims.hidden;
    for (int s = 0; s < n_seq; s++) {
        int r0 = c->off[s], len = c->off[s + 1] - r0;
        float *o = out + (size_t)s * H;
        if (kept) {
            memcpy(o, hs + (size_t)s * H, (size_t)H * sizeof(float));
        } else { /* mean over every real token, [CLS] and [SEP] included */
            for (int i = 0; i < H; i++) {
                double acc = 0.0;
                for (int t = 0; t < len; t++) acc += hs[(size_t)(r0 + t) * H + i];
                o[i] = (float)(acc / len);
            }
        }
        if (c->m->normalize && !(flags & EMBER_EMBED_NO_NORMALIZE)) ember_l2_normalize(o, H);
    }
}

static ember_status need_weights(ember_ctx *c, ember_kind kind)
{
    if (!c->m->has_weights)
        return FAIL(c, EMBER_ERR_UNSUPPORTED, "this model file holds only a vocabulary (tokenization only)");
    if (c->m->kind != kind)
        return FAIL(c, EMBER_ERR_UNSUPPORTED, kind == EMBER_KIND_EMBEDDER
                    ? "this model is a cross-encoder (reranker); use rerank, not embed"
                    : "this model is an embedder (bi-encoder); use embed, not rerank");
    return EMBER_OK;
}

/* The one batching loop: tokenize each input (a text, or the pair (query,
 * text) when query != NULL), pack inputs into chunks of at most max_batch
 * sequences and max_rows tokens, run the encoder per chunk, then pool
 * (embeddings, out: n x hidden) or score the first token (logits, out: n). */
static ember_status run_chunks(ember_ctx *c, const char *query, size_t query_len, const char *const *texts,
                               const size_t *lens, int n, int flags, float *out)
{
    const int H = c->m->dims.hidden;
    /* messages name the caller's array and index (0-based, within this
     * call: never to be read as a line number), unless the call has one text */
    const char *arr = query ? "docs" : "texts";
    char who[32] = "";
    int n_seq = 0, first = 0;
    c->off[0] = 0;
    for (int i = 0; i <= n; i++) {
        int n_tok = 0;
        if (i < n) {
            if (!texts[i]) return FAIL(c, EMBER_ERR_ARG, "%s[%d] is NULL", arr, i);
            size_t len = lens ? lens[i] : strlen(texts[i]);
            if (n > 1) snprintf(who, sizeof who, "%s[%d]: ", arr, i);
            n_tok = query ? tokenize_one(c, query, query_len, texts[i], len, who) : tokenize_one(c, texts[i], len, NULL, 0, who);
            if (n_tok < 0) return tok_status(n_tok);
            if (check_ids(c, n_tok, who)) return EMBER_ERR_FORMAT;
        }
        if (n_seq > 0 && (i == n || n_seq == c->max_batch || c->off[n_seq] + n_tok > c->max_rows)) {
            /* a rank head or CLS / last-token pooling reads one row per
             * sequence: only those rows need the whole last layer */
            const model_arch *a = c->m->arch;
            const int one_row = query || c->m->pooling == EMBER_POOL_CLS || c->m->pooling == EMBER_POOL_LAST;
            const int last = query ? a->rank_last : c->m->pooling == EMBER_POOL_LAST;
            for (int s = 0; one_row && s < n_seq; s++)
                c->keep[s] = last ? c->off[s + 1] - 1 : c->off[s];
            const float *hs = a->forward(c, c->ids, c->type_ids, c->pos_ids, c->off, n_seq, one_row ? c->keep : NULL);
            if (query)
                for (int s = 0; s < n_seq; s++)
                    out[first + s] = a->rank_head(c, hs + (size_t)s * H);
            else
                pool(c, hs, one_row, n_seq, flags, out + (size_t)first * H);
            const size_t per = query ? 1 : (size_t)H;
            const float *o = out + (size_t)first * per;
            for (size_t j = 0; j < (size_t)n_seq * per; j++)
                if (!isfinite(o[j]))
                    return FAIL(c, EMBER_ERR_NUMERIC, "%s[%d]: non-finite value (%g) in the output of model %s: "
                                "its weights may be corrupt", arr, first + (int)(j / per), (double)o[j], c->m->path);
            first += n_seq;
            n_seq = 0;
        }
        if (i < n) stage(c, &n_seq, n_tok);
    }
    return EMBER_OK;
}

ember_status ember_embed(ember_ctx *c, const char *const *texts, const size_t *lens,
                         int n, int flags, float *out)
{
    if (!c) return EMBER_ERR_ARG;
    if (n < 0 || (n > 0 && (!texts || !out))) return FAIL(c, EMBER_ERR_ARG, "embed: bad arguments (n %d)", n);
    ember_status st = need_weights(c, EMBER_KIND_EMBEDDER);
    return st ? st : run_chunks(c, NULL, 0, texts, lens, n, flags, out);
}

ember_status ember_rerank(ember_ctx *c, const char *query, size_t query_len,
                          const char *const *docs, const size_t *doc_lens, int n, float *logits)
{
    if (!c) return EMBER_ERR_ARG;
    if (!query || n < 0 || (n > 0 && (!docs || !logits))) return FAIL(c, EMBER_ERR_ARG, "rerank: bad arguments");
    ember_status st = need_weights(c, EMBER_KIND_RERANKER);
    if (st) return st;
    /* the query is checked here, once, so that a bad one is named as the
     * query and not as the first doc it was paired with */
    for (size_t p = 0; p < query_len;) {
        uint32_t cp;
        int k = uni_utf8_decode((const uint8_t *)query + p, query_len - p, &cp);
        if (k < 0) return FAIL(c, EMBER_ERR_TEXT, "query: invalid UTF-8 at byte offset %zu", p);
        p += (size_t)k;
    }
    return run_chunks(c, query, query_len, docs, doc_lens, n, 0, logits);
}

ember_status ember_tokenize(ember_ctx *c, const char *text, size_t len, const char *pair,
                            size_t pair_len, int add_special, int max_length,
                            int32_t *ids, int32_t *type_ids, int cap, int *n_out)
{
    if (!c) return EMBER_ERR_ARG;
    if (!text || !ids || cap < 0 || max_length < 0 || !n_out) return FAIL(c, EMBER_ERR_ARG, "tokenize: bad arguments");
    char why[256];
    int n = tok_encode(c->m->tok, &c->m->tpl, text, len, pair, pair_len, add_special, max_length,
                       ids, type_ids, cap, why, sizeof why);
    if (n < 0) return FAIL(c, tok_status(n), "%s", why);
    *n_out = n;
    return EMBER_OK;
}
