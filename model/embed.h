/* The pieces of the embedding loop (embed.c) that the sliding windows of
 * long texts (sliding.c) and long pairs (sliding_rerank.c) share: staging a tokenized input, checking its ids,
 * running the encoder over what is staged and pooling one sequence. */
#ifndef EMBER_MODEL_EMBED_H
#define EMBER_MODEL_EMBED_H

#include "model/model.h"

/* The status of a failed tok_encode / tok_model_encode, from its code. */
ember_status embed_tok_status(int code);
/* Appends c->tok_ids / tok_types (n_tok) to the chunk staged in c as its
 * sequence *n_seq, and counts it. */
void embed_stage(ember_ctx *c, int *n_seq, int n_tok);
/* 0 when the n_tok ids in c->tok_ids are all rows of the embedding table,
 * else -1 with the message (prefixed by who) set. */
int embed_check_ids(ember_ctx *c, int n_tok, const char *who);
/* Runs the encoder over the n_seq sequences staged in c, pairs (a rank
 * head reads them) or texts (pooled as the model pools): the final states,
 * every row's or (*kept set) only the one row per sequence that is read. */
const float *embed_forward(ember_ctx *c, int pair, int n_seq, int *kept);
/* Pools sequence s of embed_forward's states into o (hidden floats),
 * L2-normalised when the model normalises and flags do not say otherwise. */
void embed_pool(const ember_ctx *c, const float *hs, int kept, int s, int flags, float *o);

/* The rest of a long text's sliding windows (ember_ctx_set_long_mode):
 * text[0..len) is what the template wraps (a query or document already
 * written into its prompt), its first prefix bytes the prompt that leads
 * every window (tail: the prompt goes on after the text, and the text
 * stays cut);
 * c->tok_ids holds its encoding cut to max_tokens, which is its first
 * window (its specials and prompt tokens are read from there), and out
 * that window's pooled vector, before normalisation.  Embeds the other
 * windows, leaves the mean of all in out (normalised as embed_pool does)
 * and counts them.  Uses c's staging, which must hold nothing pending.
 * Message prefixed by who on failure. */
ember_status slide_embed(ember_ctx *c, const char *text, size_t len, size_t prefix, int tail, int flags,
                         const char *who, float *out);

/* The rest of a long pair's sliding windows (sliding_rerank.c): the pair
 * (query, document) was cut, and c->tok_ids holds its cut encoding (n_tok
 * tokens), which is its first window, and *logit that window's score.  For
 * a cross-encoder text[0..len) is the document; for a reranker with a chat
 * prompt it is the whole pair written into the prompt's format, its first
 * head bytes what comes before the document.  Scores the other windows,
 * leaves the largest logit of all in *logit and counts them (or, when the
 * pair has one window only, counts it cut).  Uses c's staging, which must
 * hold nothing pending.  Message prefixed by who on failure. */
ember_status slide_rerank(ember_ctx *c, const char *query, size_t query_len, const char *text, size_t len,
                          size_t head, int n_tok, const char *who, float *logit);

/* Windows of W tokens sharing overlap tokens over N content tokens (N > W,
 * 0 <= overlap < W): how many, and where window k of n starts (every
 * stride, the last one shifted back to end with the content). */
static inline int slide_n_windows(int N, int W, int overlap)
{
    const int stride = W - overlap;
    return 1 + (N - W + stride - 1) / stride;
}
static inline int slide_window_start(int k, int n, int stride, int N, int W)
{
    return k == n - 1 ? N - W : k * stride;
}
#endif
