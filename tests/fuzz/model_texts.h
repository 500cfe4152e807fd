/* The texts the model harnesses tokenize, embed and rerank with whatever
 * model the input turned into: ASCII, punctuation, accents, CJK, a long word,
 * an empty text. */
#ifndef EMBER_TESTS_FUZZ_MODEL_TEXTS_H
#define EMBER_TESTS_FUZZ_MODEL_TEXTS_H
#include "ember.h"

/* Tokenizes every text alone and as a pair (with and without specials,
 * truncated and not) and checks what comes back; embeds or reranks them when
 * the model is an embedder or a reranker.  Statuses other than OK are fine:
 * only memory errors and broken results are findings. */
void fuzz_exercise_model(const ember_model *m);
#endif
