/* The architectures ember runs, one entry per GGUF general.architecture
 * (the pattern of the kernel ops table and the CLI's command table): each
 * binds its tensors, sizes and carves its scratch, runs its forward pass
 * over a packed batch and, for rerankers, scores a pair from its kept row.
 * load.c looks the file's architecture up here (arch.c holds the table),
 * context.c sizes scratch through it, embed.c calls it; what the rest of
 * the library needs of a model's shape is in model_dims, which every
 * architecture fills. */
#ifndef EMBER_MODEL_ARCH_H
#define EMBER_MODEL_ARCH_H

#include "ember.h"

#include <stddef.h>
#include <stdint.h>

/* The shape every architecture has, read by embed.c, info and the
 * tokenizer binding (zero for a vocabulary-only file). */
typedef struct {
    int hidden;    /* width of the final hidden states: the embedding dimension */
    int n_layers, n_heads, ffn;
    int n_ctx;     /* the longest input it can position */
    int n_vocab;   /* rows of the token embedding: every token id is below */
    int n_types;   /* rows of the token-type table; 0: none, type ids are ignored */
    float eps;     /* its normalisation's epsilon */
} model_dims;

typedef struct model_arch {
    const char *name; /* general.architecture */
    /* Binds m's weights as views into m->gguf and fills m->dims, m->kind,
     * m->pooling and m->wtype: 0, or -1 with a message (unbind then frees
     * what was allocated).  Called only for a file with weights. */
    int (*bind)(ember_model *m, char *err, size_t errlen);
    void (*unbind)(ember_model *m);
    /* Scratch for c's shape (c->max_rows tokens a pass, sequences of at
     * most c->max_tokens, c->n_threads): its size in floats, then its
     * carving out of one 64-byte aligned block of that many. */
    size_t (*scratch_floats)(const ember_ctx *c);
    void (*scratch_init)(ember_ctx *c, float *block);
    /* The forward pass over a packed batch: ids, type_ids, pos_ids (n_rows)
     * back to back, off (n_seq + 1) the row offsets of the sequences.
     * keep == NULL: the final hidden states of every row, (n_rows, hidden).
     * Otherwise one row per sequence (the one pooled or scored): only those
     * need the last layer past its key and value projections; returns
     * their final states, (n_seq, hidden), row i for sequence i.  Into c's
     * scratch, with c->k's kernels. */
    const float *(*forward)(ember_ctx *c, const int32_t *ids, const int32_t *type_ids, const int32_t *pos_ids,
                            const int *off, int n_seq, const int *keep);
    /* A reranker's logit from a pair's kept row h (hidden floats), with
     * c->head_tmp (2 * hidden floats); NULL if it has no reranker (its
     * bind then never sets EMBER_KIND_RERANKER). */
    float (*rank_head)(ember_ctx *c, const float *h);
    /* the row the rank head reads: 0 a pair's first token (BERT's [CLS]),
     * 1 its last (a decoder's) */
    int rank_last;
} model_arch;

/* The entry for general.architecture name, or NULL. */
const model_arch *model_arch_find(const char *name);
/* "'bert'", "'bert', 'qwen3'": the names known, for messages. */
void model_arch_names(char *out, size_t cap);

extern const model_arch model_arch_bert;
extern const model_arch model_arch_jinabert; /* bert_bind.c: JinaBERT on bert.c */
extern const model_arch model_arch_qwen3;
#endif
