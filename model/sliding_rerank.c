/* Long (query, document) pairs as overlapping windows of the document
 * (ember_ctx_set_long_mode on a reranker): every window is the query, as
 * the cut pair keeps it, and W tokens of the document, wrapped as the pair
 * is; the pair's logit is its best window's, as jina-reranker-v2's own
 * rerank() keeps the best window of a long document.
 * Memory stays what the context holds: a pass of windows takes its
 * document tokens from the tokenizer starting at the pass's first window
 * (slide_ids holds one pass), and each window is written over the
 * document part of the cut pair's tokens (c->tok_ids), whose query and
 * specials every window shares. */
#include "model/embed.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FAIL(c, st, ...) (snprintf((c)->err, sizeof (c)->err, __VA_ARGS__), (st))

/* Where a pair's windows come from and go. */
typedef struct {
    const char *text; /* the source of the document's tokens: the document, or the whole formatted pair */
    size_t len;
    int skip;         /* tokens of text before the document's first */
    int N;            /* the document's tokens */
    int W;            /* document tokens a window holds (< 1: none fit) */
    int at, tail;     /* tokens of the cut pair before its document part, and after it */
} pair_windows;

/* A cross-encoder's pair, [CLS] q [SEP] d [SEP] (XLM-R: <s> q </s></s> d
 * </s>), cut longest_first: the query is kept whole when it takes at most
 * half of what the specials leave (B), else cut to half (the odd token to
 * the longer side), and the document gets the rest.  Every window keeps
 * that query; its document share is the cut pair's.  0, or a TOK_ERR_*
 * code (message set). */
static int cross_windows(ember_ctx *c, const char *q, size_t ql, const char *d, size_t dl, const char *who,
                         pair_windows *pw)
{
    const ember_model *m = c->m;
    const tok_template *tpl = &m->tpl;
    const int B = c->max_tokens - tok_template_n_added(tpl, 1);
    char why[256];
    int D = tok_model_encode(m->tok, d, dl, NULL, 0, -1, why, sizeof why);
    /* past the larger of B and D, the query's length changes nothing */
    int Q = D < 0 ? D : tok_model_encode(m->tok, q, ql, NULL, 0, (D > B ? D : B) + 1, why, sizeof why);
    if (Q < 0) { snprintf(c->err, sizeof c->err, "%s%s", who, why); return Q; }
    int qk, dk, at = 0, i = 0;
    tok_truncate_longest_first(Q, D, B, &qk, &dk);
    for (; i < tpl->n_pair && tpl->pair[i].id != TOK_SEQ_B; i++) at += tpl->pair[i].id == TOK_SEQ_A ? qk : 1;
    *pw = (pair_windows){ d, dl, 0, D, dk, at, tpl->n_pair - i - 1 };
    return 0;
}

/* A reranker's chat prompt: its fixed prefix, the pair written into its
 * format ("...<Query>: {query}\n<Document>: {document}"), its fixed
 * suffix.  What precedes the document in the format (the instruction, the
 * query and their labels, as many tokens as it has alone, its trailing
 * whitespace left to the document) leads every window whole; the window
 * is what max_tokens leaves beside it.  A format that does not end with
 * the document leaves no window (W 0).  0, or a TOK_ERR_* code. */
static int prompt_windows(ember_ctx *c, const char *text, size_t len, size_t head, const char *who, pair_windows *pw)
{
    const ember_model *m = c->m;
    const char *rf = m->prompts.rerank_format;
    const size_t fl = strlen(rf), dl = strlen("{document}");
    memset(pw, 0, sizeof *pw);
    if (fl < dl || strcmp(rf + fl - dl, "{document}") != 0) return 0;
    while (head > 0 && (text[head - 1] == ' ' || text[head - 1] == '\t' || text[head - 1] == '\n' || text[head - 1] == '\r'))
        head--;
    char why[256];
    int P = tok_model_encode(m->tok, text, head, NULL, 0, -1, why, sizeof why);
    int total = P < 0 ? P : tok_model_encode(m->tok, text, len, NULL, 0, -1, why, sizeof why);
    if (total < 0) { snprintf(c->err, sizeof c->err, "%s%s", who, why); return total; }
    const int B = c->max_tokens - m->n_rerank_prefix - m->n_rerank_suffix;
    *pw = (pair_windows){ text, len, P, total - P, B - P, m->n_rerank_prefix + P, m->n_rerank_suffix };
    return 0;
}

ember_status slide_rerank(ember_ctx *c, const char *query, size_t query_len, const char *text, size_t len,
                          size_t head, int n_tok, const char *who, float *logit)
{
    const ember_model *m = c->m;
    const int H = m->dims.hidden;
    pair_windows pw;
    int rc = m->prompts.rerank_format ? prompt_windows(c, text, len, head, who, &pw)
                                      : cross_windows(c, query, query_len, text, len, who, &pw);
    if (rc < 0) return embed_tok_status(rc);
    /* no room for the document beside what leads it, or all of it beside
     * a cut query: the pair stays cut, as in truncate mode */
    if (pw.W < 1 || pw.N <= pw.W) {
        c->n_truncated++;
        return EMBER_OK;
    }
    if (pw.at + pw.W + pw.tail != n_tok)
        return FAIL(c, EMBER_ERR_ARG, "%sthe cut pair has %d tokens where its windows count %d", who, n_tok,
                    pw.at + pw.W + pw.tail);
    const int N = pw.N, W = pw.W;
    const int overlap = c->long_overlap < 0 ? W / 4 : c->long_overlap;
    if (overlap >= W)
        return FAIL(c, EMBER_ERR_ARG, "%san overlap of %d tokens leaves windows nowhere to slide: beside the query a "
                    "window holds %d tokens of the document", who, overlap, W);
    const int stride = W - overlap, n_win = slide_n_windows(N, W, overlap);
    /* windows a pass: max_batch, and as many as fit in its rows */
    int per_pass = c->max_rows / n_tok;
    if (per_pass > c->max_batch) per_pass = c->max_batch;
    char why[256];
    for (int k0 = 1; k0 < n_win; k0 += per_pass) {
        const int nk = n_win - k0 < per_pass ? n_win - k0 : per_pass;
        const int s0 = slide_window_start(k0, n_win, stride, N, W);
        const int span = slide_window_start(k0 + nk - 1, n_win, stride, N, W) + W - s0;
        int got = tok_model_encode_from(m->tok, pw.text, pw.len, pw.skip + s0, c->slide_ids, c->max_rows, span, why,
                                        sizeof why);
        if (got < 0) { snprintf(c->err, sizeof c->err, "%s%s", who, why); return embed_tok_status(got); }
        if (got != span)
            return FAIL(c, EMBER_ERR_ARG, "%sthe tokenizer gave %d tokens from token %d on where it counted %d",
                        who, got, pw.skip + s0, span);
        int n_seq = 0;
        for (int k = 0; k < nk; k++) {
            const int s = slide_window_start(k0 + k, n_win, stride, N, W);
            memcpy(c->tok_ids + pw.at, c->slide_ids + (s - s0), (size_t)W * sizeof(int32_t));
            if (embed_check_ids(c, n_tok, who)) return EMBER_ERR_FORMAT;
            embed_stage(c, &n_seq, n_tok);
        }
        int kept;
        const float *hs = embed_forward(c, 1, n_seq, &kept);
        for (int k = 0; k < nk; k++) {
            const float l = m->arch->rank_head(c, hs + (size_t)k * H);
            /* a non-finite score is the pair's, for the caller's check to name */
            if (!isfinite(l)) { *logit = l; return EMBER_OK; }
            if (l > *logit) *logit = l;
        }
    }
    c->n_split++;
    c->n_windows += n_win;
    return EMBER_OK;
}
