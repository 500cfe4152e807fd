/* Long texts as overlapping windows (ember_ctx_set_long_mode; a reranker's
 * long pairs are in sliding_rerank.c): each window is wrapped and embedded
 * like any input, the text's vector is their mean.
 * Memory stays what the context holds: a pass of windows takes its content
 * tokens from the tokenizer starting at the first window's (slide_ids holds
 * one pass), and one window's vector is summed at a time (slide_vec). */
#include "model/embed.h"

#include <stdio.h>
#include <string.h>

#define FAIL(c, st, ...) (snprintf((c)->err, sizeof (c)->err, __VA_ARGS__), (st))

/* The longest window a document can have in c: max_tokens less the
 * specials (an embedder's text, a cross-encoder's pair) or less the fixed
 * ends of a reranker's chat prompt; a pair's query (and its instruction)
 * takes its share of that window, pair by pair. */
static int max_window(const ember_ctx *c)
{
    const ember_model *m = c->m;
    if (m->kind == EMBER_KIND_EMBEDDER) return c->max_tokens - tok_template_n_added(&m->tpl, 0);
    if (m->prompts.rerank_format) return c->max_tokens - m->n_rerank_prefix - m->n_rerank_suffix;
    return c->max_tokens - tok_template_n_added(&m->tpl, 1);
}

ember_status ember_ctx_set_long_mode(ember_ctx *c, ember_long_mode mode, int overlap)
{
    if (!c) return EMBER_ERR_ARG;
    if (mode != EMBER_LONG_TRUNCATE && mode != EMBER_LONG_SLIDING)
        return FAIL(c, EMBER_ERR_ARG, "long mode %d is neither EMBER_LONG_TRUNCATE nor EMBER_LONG_SLIDING", (int)mode);
    if (mode == EMBER_LONG_SLIDING) {
        if (!c->m->has_weights)
            return FAIL(c, EMBER_ERR_UNSUPPORTED, "sliding windows need a model: this model file holds only a vocabulary");
        const int window = max_window(c);
        if (overlap >= window)
            return FAIL(c, EMBER_ERR_ARG, "an overlap of %d tokens leaves windows nowhere to slide: a window holds "
                        "at most %d (max_tokens %d less the special tokens%s)", overlap, window < 0 ? 0 : window,
                        c->max_tokens, c->m->kind == EMBER_KIND_EMBEDDER ? "" : ", before the query's share");
    }
    c->long_mode = mode;
    c->long_overlap = overlap < 0 ? -1 : overlap;
    return EMBER_OK;
}

ember_status slide_embed(ember_ctx *c, const char *text, size_t len, size_t prefix, int tail, int flags,
                         const char *who, float *out)
{
    const ember_model *m = c->m;
    const int H = m->dims.hidden;
    const tok_template *tpl = &m->tpl;
    const int normalize = m->normalize && !(flags & EMBER_EMBED_NO_NORMALIZE);
    char why[256];
    /* the prompt's tokens (as many as it has alone) lead every window; a
     * space that ends it ("passage: ") goes with the text's first word
     * (WordPiece drops it, Metaspace and byte-level BPE start that word's
     * token with it), so it is not counted */
    size_t pl = prefix;
    while (pl > 0 && text[pl - 1] == ' ') pl--;
    int P = pl ? tok_model_encode(m->tok, text, pl, NULL, 0, -1, why, sizeof why) : 0;
    int total = P < 0 ? P : tok_model_encode(m->tok, text, len, NULL, 0, -1, why, sizeof why);
    if (total < 0) { snprintf(c->err, sizeof c->err, "%s%s", who, why); return embed_tok_status(total); }
    const int n_added = tok_template_n_added(tpl, 0), W = c->max_tokens - n_added - P, N = total - P;
    /* a prompt that fills max_tokens, or one that goes on after the text
     * (the windows would cut it): the text stays cut, as in truncate mode */
    if (W < 1 || tail) {
        if (normalize) ember_l2_normalize(out, H);
        c->n_truncated++;
        return EMBER_OK;
    }
    const int overlap = c->long_overlap < 0 ? W / 4 : c->long_overlap;
    if (overlap >= W)
        return FAIL(c, EMBER_ERR_ARG, "%san overlap of %d tokens leaves windows nowhere to slide: beside the "
                    "prompt a window holds %d", who, overlap, W);
    const int stride = W - overlap, n_win = slide_n_windows(N, W, overlap);
    /* where the content goes in a window: after the specials before the
     * text and the prompt's tokens, both in c->tok_ids already */
    int lead = 0;
    while (tpl->single[lead].id != TOK_SEQ_A) lead++;
    const int at = lead + P, a_type = tpl->single[lead].type_id;
    /* windows a pass: max_batch, and as many as fit in its rows */
    int per_pass = c->max_rows / c->max_tokens;
    if (per_pass > c->max_batch) per_pass = c->max_batch;
    for (int k0 = 1; k0 < n_win; k0 += per_pass) {
        const int nk = n_win - k0 < per_pass ? n_win - k0 : per_pass;
        const int s0 = slide_window_start(k0, n_win, stride, N, W);
        const int span = slide_window_start(k0 + nk - 1, n_win, stride, N, W) + W - s0;
        int got = tok_model_encode_from(m->tok, text, len, P + s0, c->slide_ids, c->max_rows, span, why, sizeof why);
        if (got < 0) { snprintf(c->err, sizeof c->err, "%s%s", who, why); return embed_tok_status(got); }
        if (got != span)
            return FAIL(c, EMBER_ERR_ARG, "%sthe tokenizer gave %d tokens from token %d on where it counted %d",
                        who, got, P + s0, span);
        int n_seq = 0;
        for (int k = 0; k < nk; k++) {
            const int s = slide_window_start(k0 + k, n_win, stride, N, W);
            memcpy(c->tok_ids + at, c->slide_ids + (s - s0), (size_t)W * sizeof(int32_t));
            for (int t = at; t < at + W; t++) c->tok_types[t] = a_type;
            int t = at + W;
            for (int i = lead + 1; i < tpl->n_single; i++, t++) {
                c->tok_ids[t] = tpl->single[i].id;
                c->tok_types[t] = tpl->single[i].type_id;
            }
            if (embed_check_ids(c, t, who)) return EMBER_ERR_FORMAT;
            embed_stage(c, &n_seq, t);
        }
        int kept;
        const float *hs = embed_forward(c, 0, n_seq, &kept);
        for (int k = 0; k < nk; k++) {
            embed_pool(c, hs, kept, k, EMBER_EMBED_NO_NORMALIZE, c->slide_vec);
            for (int i = 0; i < H; i++) out[i] += c->slide_vec[i];
        }
    }
    for (int i = 0; i < H; i++) out[i] /= (float)n_win;
    if (normalize) ember_l2_normalize(out, H);
    c->n_split++;
    c->n_windows += n_win;
    return EMBER_OK;
}
