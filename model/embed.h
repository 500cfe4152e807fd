/* The pieces of the embedding loop (embed.c) that the sliding windows of
 * long texts (sliding.c) share: staging a tokenized input, checking its ids,
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
#endif
