/* Texts made of words that are one token each in a model's vocabulary, so
 * that a test can write the text of any run of a long text's tokens (a
 * sliding window's) word by word (test_sliding.c, test_sliding_rerank.c). */
#ifndef EMBER_TESTS_WORDS_H
#define EMBER_TESTS_WORDS_H
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

#define WORDS_MAX 64

/* Each word written with a space before it (a byte-level BPE's " word"
 * token; WordPiece drops the space), and its id. */
typedef struct { char w[WORDS_MAX][24]; int32_t id[WORDS_MAX]; int n; } words_vocab;

/* The candidate words that are one token in c's model (at least 8, or the
 * test fails). */
void words_find(ember_ctx *c, words_vocab *v);
/* Words from .. to-1 of the endless text whose word i is v's word
 * (7i + 3) mod v->n, written into buf (cap bytes); its length. */
size_t words_text(const words_vocab *v, int from, int to, char *buf, size_t cap);
/* Fails the test unless text[0..len) encodes, without specials, to the
 * ids of words 0 .. n_words-1 (up to 1024). */
void words_expect_ids(ember_ctx *c, const words_vocab *v, const char *text, size_t len, int n_words);
#endif
