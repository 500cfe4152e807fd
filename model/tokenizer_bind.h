/* What the tokenizer binders share (tokenizer_bind.c: WordPiece, BPE and
 * the common keys; tokenizer_bind_unigram.c: SentencePiece Unigram). */
#ifndef EMBER_MODEL_TOKENIZER_BIND_H
#define EMBER_MODEL_TOKENIZER_BIND_H
#include "model/model.h"

/* tokenizer.ggml.tokens and token_type, as views into the mapping (the
 * strings) and a copy (the types, which may be unaligned there). */
typedef struct {
    uint64_t n;
    const char **toks;
    uint32_t *lens;
    int32_t *types; /* NULL when the file has no token_type */
} model_vocab;

int model_vocab_read(const gguf_file *f, uint64_t n_tok, int kidx, model_vocab *v, char *err, size_t errlen);
void model_vocab_free(model_vocab *v);

/* The template llama.cpp's keys describe: bos when add_bos, eos when
 * add_eos, around A (single) and A B (pair); without either, HF's default
 * for a post-processor that adds nothing (B of type 1). */
void model_default_template(tok_template *t, int add_bos, int32_t bos, int add_eos, int32_t eos);
/* Without ember's pair template: the pair layout the token-type table
 * implies (BERT's, or RoBERTa's with one row), from [CLS] and [SEP]. */
int model_default_pair_layout(ember_model *m, int32_t cls, int32_t sep, char *err, size_t errlen);

/* An int32 list of token ids under key (ember.tokenizer.lstrip / rstrip):
 * a copy in *ids (NULL, *n 0 when the key is absent or empty). */
int model_read_ids(const gguf_file *f, const char *key, uint64_t n_tok, int32_t **ids, int *n, char *err, size_t errlen);

/* SentencePiece Unigram ("t5"): m->tok, m->pad_id and m->tpl. */
int model_bind_unigram(ember_model *m, uint64_t n_tok, int kidx, char *err, size_t errlen);

#endif
