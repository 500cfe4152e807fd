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

int gemm_form_ref(int M)
{
    (void)M;
    return KERN_GEMM_SUM;
}

void gemm_form_f32_ref(int form, int M, int N, int K, const float *A, int lda, const void *W, kern_wtype wt,
                       int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    (void)form;
    gemm_f32_ref(M, N, K, A, lda, W, wt, ldw, bias, C, ldc, pack, n_threads);
}

/* gemm_bf16dot's definition, lane by lane: each sum from the bias (or
 * zero), pair by pair in k order, an odd K's last pair zero-padded. */
void kern_gemm_bf16dot_ref(int M, int N, int K, const float *A, int lda, const uint16_t *W, int ldw,
                           const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    (void)pack;
    (void)n_threads; /* unused without OpenMP */
    #pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const float *a = A + (size_t)m * lda;
            const uint16_t *w = W + (size_t)n * ldw;
            float acc = bias ? bias[n] : 0.0f;
            for (int k = 0; k < K; k += 2) {
                const int two = k + 1 < K;
                uint32_t ap = kern_bf16_round(a[k]) | (uint32_t)(two ? kern_bf16_round(a[k + 1]) : 0) << 16;
                uint32_t wp = w[k] | (uint32_t)(two ? w[k + 1] : 0) << 16;
                acc = kern_dpbf16_lane(acc, ap, wp);
            }
            C[(size_t)m * ldc + n] = acc;
        }
}
