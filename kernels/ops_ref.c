/* Scalar references: LayerNorm, exact GELU, dot, attention. */
#include "kernels/kernels_internal.h"

#include <math.h>

void layernorm_f32_ref(float *x, const float *r, const float *g, const float *b, int n, float eps)
{
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) {
        if (r) x[i] += r[i];
        mean += x[i];
    }
    mean /= n;
    for (int i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= n;
    double inv = 1.0 / sqrt(var + eps);
    for (int i = 0; i < n; i++) x[i] = (float)((x[i] - mean) * inv * g[i] + b[i]);
}

void gelu_f32_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] * 0.70710678118654752440)));
}

float dot_f32_ref(const float *a, const float *b, size_t n)
{
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += (double)a[i] * b[i];
    return (float)acc;
}

float l2sq_f32_ref(const float *a, const float *b, size_t n)
{
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return (float)acc;
}

float dot_f32_i8_ref(const float *q, const int8_t *x, size_t n)
{
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += (double)q[i] * x[i];
    return (float)acc;
}

uint32_t hamming_ref(const uint64_t *a, const uint64_t *b, size_t n_words)
{
    uint32_t d = 0;
    for (size_t i = 0; i < n_words; i++) {
        uint64_t x = a[i] ^ b[i];
        while (x) { x &= x - 1; d++; } /* portable: no popcnt assumed */
    }
    return d;
}

/* scratch: L floats of scores */
void attention_f32_ref(int L, int d, float scale, const float *q, int ldq, const float *k, int ldk,
                       const float *v, int ldv, float *out, int ldo, float *scratch)
{
    float *s = scratch;
    for (int i = 0; i < L; i++) {
        float mx = -INFINITY;
        for (int j = 0; j < L; j++) {
            double acc = 0;
            for (int c = 0; c < d; c++) acc += (double)q[(size_t)i * ldq + c] * k[(size_t)j * ldk + c];
            s[j] = (float)acc * scale;
            if (s[j] > mx) mx = s[j];
        }
        double sum = 0;
        for (int j = 0; j < L; j++) { s[j] = expf(s[j] - mx); sum += s[j]; }
        for (int c = 0; c < d; c++) {
            double acc = 0;
            for (int j = 0; j < L; j++) acc += (double)s[j] * v[(size_t)j * ldv + c];
            out[(size_t)i * ldo + c] = (float)(acc / sum);
        }
    }
}

const kern_ops kern_ops_scalar = {
    .isa = KERN_ISA_SCALAR,
    .name = "scalar",
    .gemm_f32 = gemm_f32_ref,
    .layernorm_f32 = layernorm_f32_ref,
    .gelu_f32 = gelu_f32_ref,
    .attention_f32 = attention_f32_ref,
    .dot_f32 = dot_f32_ref,
    .l2sq_f32 = l2sq_f32_ref,
    .dot_f32_i8 = dot_f32_i8_ref,
    .hamming = hamming_ref,
};
