/* Scalar reference GEMM: the oracle every SIMD variant is tested against. */
#include "kernels/kernels_internal.h"

void gemm_f32_ref(int M, int N, int K, const float *A, int lda, const void *W, kern_wtype wt,
                  int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    (void)pack;
    (void)n_threads; /* unused without OpenMP */
    #pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++)
                acc += (double)A[(size_t)m * lda + k] * kern_w_at(W, wt, (size_t)n * ldw + k);
            C[(size_t)m * ldc + n] = (float)acc;
        }
}
