/* ember_embed / ember_rerank / ember_tokenize: tokenize into a packed chunk,
 * run the encoder when the chunk is full, pool or score each sequence; a
 * text too long for one sequence goes to sliding.c when the context asks. */
#include "model/embed.h"
#include "tokenizer/unicode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

ember_status embed_tok_status(int code)
{
    switch (code) {
    case TOK_ERR_TEXT: return EMBER_ERR_TEXT;
    case TOK_ERR_SPACE: return EMBER_ERR_LIMIT;
    default: return EMBER_ERR_ARG;
    }
}

/* Writes fmt with its {names} filled into c->fmt (grown as needed): its
 * length, or -1 (out of memory, message set). */
static long fill_prompt(ember_ctx *c, const char *fmt, int n, const char *const *names, const char *const *vals,
                        const size_t *lens)
{
    size_t need = prompt_format(fmt, n, names, vals, lens, c->fmt, c->fmt_cap);
    if (need > c->fmt_cap) {
        /* amortised: the buffer grows to the longest prompt written so far */
        size_t cap = need + need / 2 + 256;
        char *p = realloc(c->fmt, cap);
        if (!p) { snprintf(c->err, sizeof c->err, "out of memory writing a %zu-byte prompt", need); return -1; }
        c->fmt = p;
        c->fmt_cap = cap;
        prompt_format(fmt, n, names, vals, lens, c->fmt, c->fmt_cap);
    }
    return (long)need;
}

static const char *task_of(const ember_ctx *c, size_t *len)
{
    const char *t = c->task ? c->task : c->m->prompts.task ? c->m->prompts.task : "";
    *len = strlen(t);
    return t;
}

/* An input as the template wraps it: a text as it is (prefix 0), a query
 * or document written into its prompt, whose first `prefix` bytes come
 * before the text (tail set when the prompt goes on after the text), a
 * cross-encoder's document (prefix 0), or a pair written into a reranker's
 * chat format, its first `prefix` bytes what precedes the document; cut:
 * it was longer than max_tokens. */
typedef struct { const char *text; size_t len, prefix; int tail, cut; } wrapped;

/* A decoder reranker's input: the chat prompt's fixed prefix, the pair in
 * its format cut to what max_tokens leaves, the fixed suffix (as the model
 * card builds it: the ends are tokenized apart and never cut); *w: the
 * pair in its format (c->fmt). */
static int tokenize_rerank_prompt(ember_ctx *c, const char *q, size_t ql, const char *d, size_t dl, const char *who,
                                  wrapped *w)
{
    const ember_model *m = c->m;
    const int np = m->n_rerank_prefix, ns = m->n_rerank_suffix, budget = c->max_tokens - np - ns;
    if (budget < 1)
        return snprintf(c->err, sizeof c->err, "max_tokens %d leaves no room beside the rerank prompt's %d tokens",
                        c->max_tokens, np + ns), TOK_ERR_ARG;
    size_t tl;
    const char *task = task_of(c, &tl);
    const char *names[3] = {"task", "query", "document"}, *vals[3] = {task, q, d};
    const size_t lens[3] = {tl, ql, dl};
    long len = fill_prompt(c, m->prompts.rerank_format, 3, names, vals, lens);
    if (len < 0) return TOK_ERR_SPACE;
    char why[256];
    /* one token past the budget tells a cut pair; the cut is then the first budget */
    int n = tok_encode(m->tok, &m->tpl, c->fmt, (size_t)len, NULL, 0, 0, budget + 1, c->tok_ids + np, NULL, budget + 1,
                       why, sizeof why);
    if (n < 0) { snprintf(c->err, sizeof c->err, "%s%s", who, why); return n; }
    *w = (wrapped){ c->fmt, (size_t)len, (size_t)len - dl, 0, n > budget };
    if (n > budget) n = budget;
    memcpy(c->tok_ids, m->rerank_prefix_ids, (size_t)np * sizeof(int32_t));
    memcpy(c->tok_ids + np + n, m->rerank_suffix_ids, (size_t)ns * sizeof(int32_t));
    memset(c->tok_types, 0, (size_t)(np + n + ns) * sizeof(int32_t));
    return np + n + ns;
}

/* Writes text a into its prompt in c->fmt: the context's literal prefix
 * (ember_ctx_set_prefix) when it has one, else the model's query format
 * (EMBER_EMBED_QUERY) or document format; *w says how (w->text is a itself
 * without a prompt).  0, or -1 (out of memory, message set). */
static int wrap_text(ember_ctx *c, const char *a, size_t alen, int flags, wrapped *w)
{
    const model_prompts *p = &c->m->prompts;
    size_t tl;
    const char *fmt = (flags & EMBER_EMBED_QUERY) ? p->query_format : p->document_format;
    const char *task = task_of(c, &tl);
    if (c->prefix) { /* literal: braces in it are no names, so it goes in as a value */
        fmt = *c->prefix ? "{task}{text}" : NULL;
        task = c->prefix;
        tl = strlen(c->prefix);
    }
    *w = (wrapped){ a, alen, 0, 0, 0 };
    if (!fmt) return 0;
    const char *names[2] = {"task", "text"}, *vals[2] = {task, a};
    const size_t lens[2] = {tl, alen};
    long len = fill_prompt(c, fmt, 2, names, vals, lens);
    if (len < 0) return -1;
    const size_t fl = strlen(fmt);
    const int tail = fl < 6 || strcmp(fmt + fl - 6, "{text}") != 0;
    *w = (wrapped){ c->fmt, (size_t)len, tail ? 0 : (size_t)len - alen, tail, 0 };
    return 0;
}

/* Tokenizes one input into c->tok_ids / tok_types, cut to max_tokens: a
 * text (written into its query or document prompt, if any; *w says how),
 * or a pair (query != NULL), in the model's rerank prompt if it has one;
 * the count, or a TOK_ERR_* code (message set). */
static int tokenize_one(ember_ctx *c, const char *q, size_t ql, const char *a, size_t alen, int flags, const char *who,
                        wrapped *w)
{
    const model_prompts *p = &c->m->prompts;
    *w = (wrapped){ a, alen, 0, 0, 0 };
    if (q && p->rerank_format) return tokenize_rerank_prompt(c, q, ql, a, alen, who, w);
    if (!q) {
        if (wrap_text(c, a, alen, flags, w)) return TOK_ERR_SPACE;
        a = w->text;
        alen = w->len;
    }
    char why[256];
    /* first with room for one token more than max_tokens: only an input
     * that fills it was cut, and only that one is encoded again, cut the
     * way HuggingFace cuts (its specials kept, longest_first for a pair) */
    int limit = c->max_tokens + 1, n;
    for (;;) {
        n = q ? tok_encode(c->m->tok, &c->m->tpl, q, ql, a, alen, 1, limit, c->tok_ids, c->tok_types, limit, why, sizeof why)
              : tok_encode(c->m->tok, &c->m->tpl, a, alen, NULL, 0, 1, limit, c->tok_ids, c->tok_types, limit, why, sizeof why);
        if (n < 0 || n <= c->max_tokens) break;
        w->cut = 1;
        limit = c->max_tokens;
    }
    if (n < 0) snprintf(c->err, sizeof c->err, "%s%s", who, why);
    return n;
}

void embed_stage(ember_ctx *c, int *n_seq, int n_tok)
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

int embed_check_ids(ember_ctx *c, int n_tok, const char *who)
{
    for (int t = 0; t < n_tok; t++)
        if (c->tok_ids[t] < 0 || c->tok_ids[t] >= c->m->dims.n_vocab)
            return FAIL(c, -1, "%stoken id %d outside the embedding table", who, c->tok_ids[t]);
    return 0;
}

const float *embed_forward(ember_ctx *c, int pair, int n_seq, int *kept)
{
    /* a rank head or CLS / last-token pooling reads one row per
     * sequence: only those rows need the whole last layer */
    const model_arch *a = c->m->arch;
    const int one_row = pair || c->m->pooling == EMBER_POOL_CLS || c->m->pooling == EMBER_POOL_LAST;
    const int last = pair ? a->rank_last : c->m->pooling == EMBER_POOL_LAST;
    for (int s = 0; one_row && s < n_seq; s++)
        c->keep[s] = last ? c->off[s + 1] - 1 : c->off[s];
    *kept = one_row;
    return a->forward(c, c->ids, c->type_ids, c->pos_ids, c->off, n_seq, one_row ? c->keep : NULL);
}

/* hs: every row's final state, or (kept) one row per sequence, the one
 * the forward pass kept for CLS / last-token pooling */
void embed_pool(const ember_ctx *c, const float *hs, int kept, int s, int flags, float *o)
{
    const int H = c->m->dims.hidden;
    int r0 = c->off[s], len = c->off[s + 1] - r0;
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

/* Out rows first .. first + n (n x per floats) are all finite, or
 * EMBER_ERR_NUMERIC naming the first input that is not. */
static ember_status check_finite(ember_ctx *c, const char *arr, int first, int n, size_t per, const float *out)
{
    const float *o = out + (size_t)first * per;
    for (size_t j = 0; j < (size_t)n * per; j++)
        if (!isfinite(o[j]))
            return FAIL(c, EMBER_ERR_NUMERIC, "%s[%d]: non-finite value (%g) in the output of model %s: "
                        "its weights may be corrupt", arr, first + (int)(j / per), (double)o[j], c->m->path);
    return EMBER_OK;
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

#define WHO_LEN 32

/* tokenize_one on input i of a call of n (texts, or docs paired with
 * query), named in who (WHO_LEN bytes) when the call has several. */
static int tokenize_at(ember_ctx *c, const char *query, size_t query_len, const char *const *texts, const size_t *lens,
                       int n, int i, int flags, char *who, wrapped *w)
{
    if (n > 1) snprintf(who, WHO_LEN, "%s[%d]: ", query ? "docs" : "texts", i);
    return tokenize_one(c, query, query_len, texts[i], lens ? lens[i] : strlen(texts[i]), flags, who, w);
}

/* The one batching loop: tokenize each input (a text, or the pair (query,
 * text) when query != NULL), pack inputs into chunks of at most max_batch
 * sequences and max_rows tokens, run the encoder per chunk, then pool
 * (embeddings, out: n x hidden) or score the first token (logits, out: n).
 * An input too long for max_tokens is cut to fit, or, in a context of
 * sliding windows, staged as its first window (which is the cut input: the
 * chunks are those of truncation) and, once its chunk is pooled or scored,
 * given the rest of its windows (sliding.c, sliding_rerank.c). */
static ember_status run_chunks(ember_ctx *c, const char *query, size_t query_len, const char *const *texts,
                               const size_t *lens, int n, int flags, float *out)
{
    const int H = c->m->dims.hidden;
    const int sliding = c->long_mode == EMBER_LONG_SLIDING;
    /* messages name the caller's array and index (0-based, within this
     * call: never to be read as a line number), unless the call has one text */
    const char *arr = query ? "docs" : "texts";
    char who[WHO_LEN] = "";
    const size_t per = query ? 1 : (size_t)H;
    int n_seq = 0, first = 0;
    c->off[0] = 0;
    c->n_truncated = c->n_split = c->n_windows = 0;
    for (int i = 0; i <= n; i++) {
        int n_tok = 0;
        wrapped w = { NULL, 0, 0, 0, 0 };
        if (i < n) {
            if (!texts[i]) return FAIL(c, EMBER_ERR_ARG, "%s[%d] is NULL", arr, i);
            n_tok = tokenize_at(c, query, query_len, texts, lens, n, i, flags, who, &w);
            if (n_tok < 0) return embed_tok_status(n_tok);
            if (embed_check_ids(c, n_tok, who)) return EMBER_ERR_FORMAT;
            if (w.cut && !sliding) c->n_truncated++;
        }
        if (n_seq > 0 && (i == n || n_seq == c->max_batch || c->off[n_seq] + n_tok > c->max_rows)) {
            int kept, slid = 0;
            const float *hs = embed_forward(c, query != NULL, n_seq, &kept);
            for (int s = 0; s < n_seq; s++) {
                if (query) out[first + s] = c->m->arch->rank_head(c, hs + (size_t)s * H);
                else embed_pool(c, hs, kept, s, flags | (sliding && c->long_seq[s] ? EMBER_EMBED_NO_NORMALIZE : 0),
                                out + (size_t)(first + s) * H);
            }
            /* the long inputs' other windows, once the chunk's states are read */
            for (int s = 0; sliding && s < n_seq; s++) {
                if (!c->long_seq[s]) continue;
                wrapped lw;
                int k = tokenize_at(c, query, query_len, texts, lens, n, first + s, flags, who, &lw);
                ember_status st = k < 0 ? embed_tok_status(k)
                                : query ? slide_rerank(c, query, query_len, lw.text, lw.len, lw.prefix, k, who, out + first + s)
                                : slide_embed(c, lw.text, lw.len, lw.prefix, lw.tail, flags, who,
                                              out + (size_t)(first + s) * H);
                if (st) return st;
                slid = 1;
            }
            ember_status st = check_finite(c, arr, first, n_seq, per, out);
            if (st) return st;
            first += n_seq;
            n_seq = 0;
            /* the windows took c->tok_ids: this input's tokens again */
            if (slid && i < n && (n_tok = tokenize_at(c, query, query_len, texts, lens, n, i, flags, who, &w)) < 0)
                return embed_tok_status(n_tok);
        }
        if (i < n) {
            if (sliding) c->long_seq[n_seq] = w.cut;
            embed_stage(c, &n_seq, n_tok);
        }
    }
    return EMBER_OK;
}

ember_status ember_embed(ember_ctx *c, const char *const *texts, const size_t *lens,
                         int n, int flags, float *out)
{
    if (!c) return EMBER_ERR_ARG;
    if (n < 0 || (n > 0 && (!texts || !out))) return FAIL(c, EMBER_ERR_ARG, "embed: bad arguments (n %d)", n);
    ember_status st = need_weights(c, EMBER_KIND_EMBEDDER);
    if (!st) st = run_chunks(c, NULL, 0, texts, lens, n, flags, out);
    if (st) c->n_truncated = c->n_split = c->n_windows = 0;
    return st;
}

ember_status ember_rerank(ember_ctx *c, const char *query, size_t query_len,
                          const char *const *docs, const size_t *doc_lens, int n, float *logits)
{
    if (!c) return EMBER_ERR_ARG;
    c->n_truncated = c->n_split = c->n_windows = 0; /* what a failed call reports */
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
    st = run_chunks(c, query, query_len, docs, doc_lens, n, 0, logits);
    if (st) c->n_truncated = c->n_split = c->n_windows = 0;
    return st;
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
    if (n < 0) return FAIL(c, embed_tok_status(n), "%s", why);
    *n_out = n;
    return EMBER_OK;
}

ember_status ember_ctx_set_instruction(ember_ctx *c, const char *task)
{
    if (!c) return EMBER_ERR_ARG;
    char *t = NULL;
    if (task && *task) {
        size_t len = strlen(task);
        for (size_t p = 0; p < len;) {
            uint32_t cp;
            int k = uni_utf8_decode((const uint8_t *)task + p, len - p, &cp);
            if (k < 0) return FAIL(c, EMBER_ERR_TEXT, "instruction: invalid UTF-8 at byte offset %zu", p);
            p += (size_t)k;
        }
        if (!(t = malloc(len + 1))) return FAIL(c, EMBER_ERR_NOMEM, "out of memory");
        memcpy(t, task, len + 1);
    }
    free(c->task);
    c->task = t;
    return EMBER_OK;
}

ember_status ember_ctx_set_prefix(ember_ctx *c, const char *prefix)
{
    if (!c) return EMBER_ERR_ARG;
    char *t = NULL;
    if (prefix) {
        size_t len = strlen(prefix);
        for (size_t p = 0; p < len;) {
            uint32_t cp;
            int k = uni_utf8_decode((const uint8_t *)prefix + p, len - p, &cp);
            if (k < 0) return FAIL(c, EMBER_ERR_TEXT, "prefix: invalid UTF-8 at byte offset %zu", p);
            p += (size_t)k;
        }
        if (!(t = malloc(len + 1))) return FAIL(c, EMBER_ERR_NOMEM, "out of memory");
        memcpy(t, prefix, len + 1);
    }
    free(c->prefix);
    c->prefix = t;
    return EMBER_OK;
}
