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

/* model_linear over rows gathered from several inputs (ember_embed's
 * batch): form[i] is the GEMM form row i gets (kern_ops.gemm_form of the
 * rows of its input, from model_row_forms), or form NULL for rows that
 * each stand alone (a pooled row per input: the form of one row).  Each
 * run of rows of one form goes through gemm_form_f32, so every row gets
 * the bits its input gets alone, whatever else is in the batch.  bf16_dot's
 * product has no such forms: its rows, like gemm_f32's, are summed as M
 * decides. */
static inline void model_linear_forms(const kern_ops *k, int bf16_dot, int M, const int *form, const float *A,
                                      int lda, const model_mat *m, const float *bias, float *C, int ldc,
                                      float *pack, int n_threads)
{
    if (bf16_dot && m->wt == KERN_W_BF16 && k->gemm_bf16dot) {
        model_linear(k, bf16_dot, M, A, lda, m, bias, C, ldc, pack, n_threads);
        return;
    }
    for (int i0 = 0, i1; i0 < M; i0 = i1) {
        const int f = form ? form[i0] : k->gemm_form(1);
        for (i1 = i0 + 1; form && i1 < M && form[i1] == f; i1++) {}
        if (!form) i1 = M;
        k->gemm_form_f32(f, i1 - i0, m->rows, m->cols, A + (size_t)i0 * lda, lda, m->w, m->wt, m->cols, bias,
                         C + (size_t)i0 * ldc, ldc, pack, n_threads);
    }
}

/* form[t] for the rows of n_seq inputs packed back to back (input s: rows
 * off[s] .. off[s + 1]): the form gemm_f32 gives an input's rows alone. */
static inline void model_row_forms(const kern_ops *k, const int *off, int n_seq, int *form)
{
    for (int s = 0; s < n_seq; s++) {
        const int f = k->gemm_form(off[s + 1] - off[s]);
        for (int t = off[s]; t < off[s + 1]; t++) form[t] = f;
    }
}

/* Row r of m as floats (f16 / bf16 widened) into dst (m->cols floats). */
static inline void model_mat_row(const model_mat *m, int r, float *dst)
{
    kern_wtype_traits_of(m->wt)->to_f32((const char *)m->w + kern_wtype_bytes(m->wt, (size_t)r * (size_t)m->cols), dst,
                                        (size_t)m->cols);
}
#endif
