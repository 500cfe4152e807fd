/* A weight matrix as every architecture holds it: a view into the mapped
 * GGUF file, never copied, in any weight type the kernels read. */
#ifndef EMBER_MODEL_MAT_H
#define EMBER_MODEL_MAT_H

#include "kernels/kernels.h"

typedef struct {
    const void *w;   /* (rows, cols) row-major, element type wt */
    kern_wtype wt;
    int rows, cols;
} model_mat;

/* C[M][m->rows] = A . m^T (+ bias) through k's GEMM, with scratch pack for
 * n_threads: every weight multiplication of a forward pass comes here.
 * bf16_dot (ember_ctx_params.bf16_dot): a bf16 m goes through k's
 * gemm_bf16dot, activations rounded to bf16, where k has it; otherwise,
 * and for every other type, gemm_f32 widens m. */
static inline void model_linear(const kern_ops *k, int bf16_dot, int M, const float *A, int lda, const model_mat *m,
                                const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    if (bf16_dot && m->wt == KERN_W_BF16 && k->gemm_bf16dot)
        k->gemm_bf16dot(M, m->rows, m->cols, A, lda, (const uint16_t *)m->w, m->cols, bias, C, ldc, pack, n_threads);
    else
        k->gemm_f32(M, m->rows, m->cols, A, lda, m->w, m->wt, m->cols, bias, C, ldc, pack, n_threads);
}

/* Row r of m as floats (f16 / bf16 widened) into dst (m->cols floats). */
static inline void model_mat_row(const model_mat *m, int r, float *dst)
{
    kern_wtype_traits_of(m->wt)->to_f32((const char *)m->w + kern_wtype_bytes(m->wt, (size_t)r * (size_t)m->cols), dst,
                                        (size_t)m->cols);
}
#endif
