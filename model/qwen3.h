/* Qwen3 decoder (Qwen3-Embedding, Qwen3-Reranker): weights as views into
 * the mmapped GGUF file (llama.cpp's tensor names), and the forward pass over
 * a packed batch of sequences, each causal within itself (no padding:
 * sequence i occupies rows off[i] .. off[i+1]-1). */
#ifndef EMBER_MODEL_QWEN3_H
#define EMBER_MODEL_QWEN3_H

#include "kernels/kernels.h"
#include "model/mat.h"

typedef struct {
    const float *attn_norm;     /* (hidden) RMSNorm before attention */
    model_mat q;                 /* (n_heads * head_dim, hidden) */
    model_mat k, v;              /* (n_kv_heads * head_dim, hidden) each */
    const float *q_norm, *k_norm; /* (head_dim) per-head RMSNorm of q and k, before RoPE */
    model_mat o;                 /* (hidden, n_heads * head_dim) */
    const float *ffn_norm;      /* (hidden) RMSNorm before the MLP */
    model_mat gate, up;          /* (ffn, hidden) each */
    model_mat down;              /* (hidden, ffn) */
} qwen3_layer;

typedef struct {
    int hidden, n_layers, n_heads, n_kv_heads, head_dim, ffn, n_ctx, n_vocab;
    float eps, rope_theta;
    model_mat tok_embd;          /* (vocab, hidden) */
    qwen3_layer *layers;        /* (n_layers) */
    const float *out_norm;      /* (hidden) final RMSNorm */
    /* reranker: the LM head's rows of the "yes" and "no" tokens, in that
     * order (llama.cpp's cls_out); logit = h . yes - h . no */
    model_mat cls_out;           /* (2, hidden) */
} qwen3_weights;

/* Scratch for one forward pass over at most max_rows tokens in sequences of
 * at most max_len tokens, with n_threads threads.  Per row it keeps only the
 * residual stream and the layer's keys and values; everything else lives in
 * blocks of QWEN3_BLOCK_ROWS rows. */
typedef struct {
    float *x;                   /* (max_rows, hidden) the residual stream */
    float *kv;                  /* (max_rows, 2 * n_kv_heads * head_dim): k | v of the current layer */
    float *cs, *sn;             /* (max_rows, head_dim / 2) RoPE cosines and sines of each row's position */
    float *h;                   /* (block, hidden) normed input, then a projection's output */
    float *q;                   /* (block, n_heads * head_dim) queries, then the attention output */
    float *u;                   /* (block, 2 * ffn) gate | up */
    int *rows;                  /* (block) the rows a block holds */
    int *block_form;            /* (block) their GEMM forms */
    int *form;                  /* (rows) each row's GEMM form (model_row_forms) */
    float *gemm_pack;           /* kern_gemm_scratch_floats(n_threads) */
    float *attn;                /* n_threads * attn_stride */
    size_t attn_stride;
    int max_rows, max_len, n_threads;
    int bf16_dot;               /* model_linear's: bf16 weights by gemm_bf16dot where the table has it */
} qwen3_scratch;

size_t qwen3_scratch_floats(const qwen3_weights *w, int max_rows, int max_len, int n_threads);
/* Carves the scratch out of one 64-byte aligned block of qwen3_scratch_floats floats;
 * bf16_dot: see model_linear. */
void qwen3_scratch_init(qwen3_scratch *s, const qwen3_weights *w, float *block,
                        int max_rows, int max_len, int n_threads, int bf16_dot);

/* Runs the decoder.  ids / pos_ids: (n_rows) packed; off: (n_seq + 1) row
 * offsets.  keep == NULL: returns every row's final (normed) state, (n_rows,
 * hidden).  Otherwise keep holds one row per sequence (its last token for
 * last-token pooling and the reranker) and only those rows go through the
 * last layer past its keys and values: returns their final states,
 * (n_seq, hidden), row i for sequence i. */
const float *qwen3_forward(const qwen3_weights *w, const kern_ops *k, qwen3_scratch *s,
                           const int32_t *ids, const int32_t *pos_ids, const int *off, int n_seq,
                           const int *keep);

/* Reranker score of one final state: logit("yes") - logit("no"). */
float qwen3_rank_head(const qwen3_weights *w, const kern_ops *k, const float *h, float *tmp);
#endif
