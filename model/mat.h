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
#endif
