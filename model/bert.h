/* BERT-family encoder (BERT, XLM-RoBERTa after conversion, and JinaBERT:
 * BERT with ALiBi instead of a position table and a GEGLU feed-forward):
 * weights as views into the mmapped GGUF file, and the forward pass over a
 * packed batch of sequences (no padding: sequence i occupies rows off[i] ..
 * off[i+1]-1). */
#ifndef EMBER_MODEL_BERT_H
#define EMBER_MODEL_BERT_H

#include "kernels/kernels.h"
#include "model/mat.h"

typedef struct {
    model_mat q, k, v, o;       /* (hidden, hidden) each */
    const float *bq, *bk, *bv, *bo; /* (hidden) */
    const float *attn_norm_g, *attn_norm_b; /* (hidden) post-attention LayerNorm */
    model_mat up;               /* (ffn, hidden) */
    const float *bup;           /* (ffn); NULL in JinaBERT */
    model_mat gate;             /* (ffn, hidden) JinaBERT's GEGLU, gelu(gate.x) * up.x; 0 rows in BERT */
    model_mat down;             /* (hidden, ffn) */
    const float *bdown;         /* (hidden) */
    const float *out_norm_g, *out_norm_b; /* (hidden) post-FFN LayerNorm */
} bert_layer;

typedef struct {
    int hidden, n_layers, n_heads, ffn, n_ctx, n_vocab, n_types;
    float eps;
    model_mat tok_embd;         /* (vocab, hidden) */
    model_mat pos_embd;         /* (n_ctx, hidden); 0 rows in JinaBERT */
    model_mat type_embd;        /* (n_types, hidden), may have 0 rows */
    const float *embd_norm_g, *embd_norm_b; /* (hidden) */
    bert_layer *layers;         /* (n_layers) */
    /* JinaBERT: every head's ALiBi slope, the bias of a query at i on a key
     * at j being -alibi[h] |i - j|; NULL in BERT, which positions by pos_embd */
    float *alibi;               /* (n_heads) */
    int geglu;                  /* every layer has its gate (JinaBERT) */
    /* classification head (rerankers): logit = out . tanh(cls . h0 + cls_b) + out_b
     * (row 0 of out); every part is required */
    model_mat cls;  const float *cls_b;  /* (hidden, hidden) */
    model_mat cls_out; const float *cls_out_b; /* (1.., hidden) */
} bert_weights;

/* Scratch for one forward pass over at most max_rows tokens in sequences of
 * at most max_len tokens, with n_threads threads.  Sizes in floats. */
typedef struct {
    float *x, *h, *ctx, *u;     /* (rows, hidden) x3, (rows, max(ffn, 3 hidden)); GEGLU: 2 ffn, gate | up */
    int *form;                  /* (rows) each row's GEMM form (model_row_forms) */
    float *gemm_pack;           /* kern_gemm_scratch_floats(n_threads) */
    float *attn;                /* n_threads * kern_attention_scratch_floats(max_len, head dim) */
    size_t attn_stride;
    int max_rows, max_len, n_threads;
    int bf16_dot;               /* model_linear's: bf16 weights by gemm_bf16dot where the table has it */
} bert_scratch;

size_t bert_scratch_floats(const bert_weights *w, int max_rows, int max_len, int n_threads);
/* Carves the scratch out of one 64-byte aligned block of bert_scratch_floats
 * floats; bf16_dot: see model_linear. */
void bert_scratch_init(bert_scratch *s, const bert_weights *w, float *block,
                       int max_rows, int max_len, int n_threads, int bf16_dot);

/* Runs the encoder.  ids/type_ids/pos_ids: (n_rows) packed; off: (n_seq + 1)
 * row offsets.  keep == NULL: returns the final hidden states (n_rows, hidden)
 * in scratch.  Otherwise keep holds one row per sequence (a row of that
 * sequence, e.g. its first token for CLS pooling or a rank head) and only
 * those rows go through the last layer past its key and value projections:
 * returns their final states, (n_seq, hidden), row i for sequence i. */
const float *bert_forward(const bert_weights *w, const kern_ops *k, bert_scratch *s,
                          const int32_t *ids, const int32_t *type_ids,
                          const int32_t *pos_ids, const int *off, int n_seq, const int *keep);

/* Reranker head on the first token of one sequence. */
float bert_rank_head(const bert_weights *w, const kern_ops *k, const float *h0, float *tmp);
#endif
