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

/* Row r of m as floats (f16 / bf16 widened) into dst (m->cols floats). */
static inline void model_mat_row(const model_mat *m, int r, float *dst)
{
    kern_wtype_traits_of(m->wt)->to_f32((const char *)m->w + kern_wtype_bytes(m->wt, (size_t)r * (size_t)m->cols), dst,
                                        (size_t)m->cols);
}
#endif
