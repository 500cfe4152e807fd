/* Scalar references: LayerNorm, RMSNorm, exact GELU, SiLU gating, RoPE,
 * dot, attention (causal, and with ALiBi's bias, too). */
#include "kernels/kernels_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

size_t hamming_panel_ref(const uint64_t *q, size_t n_words, const uint64_t *panel, size_t n_groups, uint32_t below,
                         uint32_t *pos, uint32_t *dist)
{
    size_t n = 0;
    for (size_t g = 0; g < n_groups; g++)
        for (size_t v = 0; v < 8; v++) {
            uint32_t d = 0;
            for (size_t w = 0; w < n_words; w++) {
                uint64_t x = q[w] ^ panel[(g * n_words + w) * 8 + v];
                while (x) { x &= x - 1; d++; }
            }
            if (d < below) { pos[n] = (uint32_t)(g * 8 + v); dist[n++] = d; }
        }
    return n;
}

int32_t dot_i8_ref(const int8_t *a, const int8_t *b, size_t n)
{
    int32_t acc = 0;
    for (size_t i = 0; i < n; i++) acc += (int32_t)a[i] * b[i];
    return acc;
}

void pq_lut_ref(const float *q, const float *cbt, int m, int ds, int ksub, int l2, float *lut)
{
    for (int j = 0; j < m; j++)
        for (int c = 0; c < ksub; c++) {
            double acc = 0;
            for (int t = 0; t < ds; t++) {
                double w = cbt[((size_t)j * ds + t) * ksub + c], v = q[j * ds + t];
                acc += l2 ? (v - w) * (v - w) : v * w;
            }
            lut[(size_t)j * ksub + c] = (float)acc;
        }
}

size_t kern_pq4_blocks_bytes(size_t n, int m) { return (n + 31) / 32 * (size_t)m * 16; }

void kern_pq4_pack(const uint8_t *codes, size_t n, int m, uint8_t *blocks)
{
    memset(blocks, 0, kern_pq4_blocks_bytes(n, m));
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = blocks + i / 32 * (size_t)m * 16 + i % 16;
        int hi = i % 32 >= 16;
        for (int j = 0; j < m; j++) {
            int c = (codes[i * (size_t)(m / 2) + j / 2] >> (4 * (j & 1))) & 15;
            b[(j / 2) * 32 + (j & 1) * 16] |= (uint8_t)(hi ? c << 4 : c);
        }
    }
}

void pq4_scan_ref(const uint8_t *blocks, size_t n_blocks, int m, const uint8_t *lut, uint16_t *out)
{
    for (size_t b = 0; b < n_blocks; b++)
        for (int v = 0; v < 32; v++) {
            uint32_t s = 0;
            for (int j = 0; j < m; j++) {
                uint8_t byte = blocks[b * (size_t)m * 16 + (j / 2) * 32 + (j & 1) * 16 + v % 16];
                s += lut[16 * j + (v < 16 ? byte & 15 : byte >> 4)];
            }
            out[b * 32 + v] = (uint16_t)s;
        }
}

size_t kern_hamming_panel_words(size_t n, size_t n_words) { return (n + 7) / 8 * 8 * n_words; }

void kern_hamming_pack(const uint64_t *rows, size_t ld_words, size_t n, size_t n_words, uint64_t *panel)
{
    for (size_t g = 0; g * 8 < n; g++)
        for (size_t w = 0; w < n_words; w++)
            for (size_t v = 0; v < 8; v++) {
                size_t i = g * 8 + v;
                panel[(g * n_words + w) * 8 + v] = i < n ? rows[i * ld_words + w] : 0;
            }
}

/* One query over keys j < nk: sum_j softmax_j(scale q.k[j] - slope |qpos - j|)
 * v[j] into out (slope 0: no bias, qpos unused); s: nk floats of scores.
 * The bias in float as the SIMD tables form it: the scaled score, plus
 * -slope times the exact distance, each product rounded once. */
static void attend_ref(int nk, int d, float scale, float slope, int qpos, const float *q, const float *k, int ldk,
                       const float *v, int ldv, float *out, float *s)
{
    float mx = -INFINITY;
    for (int j = 0; j < nk; j++) {
        double acc = 0;
        for (int c = 0; c < d; c++) acc += (double)q[c] * k[(size_t)j * ldk + c];
        s[j] = (float)acc * scale;
        if (slope != 0.0f) s[j] += -slope * (float)abs(qpos - j);
        if (s[j] > mx) mx = s[j];
    }
    double sum = 0;
    for (int j = 0; j < nk; j++) { s[j] = expf(s[j] - mx); sum += s[j]; }
    for (int c = 0; c < d; c++) {
        double acc = 0;
        for (int j = 0; j < nk; j++) acc += (double)s[j] * v[(size_t)j * ldv + c];
        out[c] = (float)(acc / sum);
    }
}

/* scratch: L floats of scores */
void attention_f32_ref(int L, int nq, int d, float scale, const float *q, int ldq, const float *k, int ldk,
                       const float *v, int ldv, float *out, int ldo, float *scratch)
{
    for (int i = 0; i < nq; i++) attend_ref(L, d, scale, 0.0f, 0, q + (size_t)i * ldq, k, ldk, v, ldv, out + (size_t)i * ldo, scratch);
}

/* query i sees keys 0 .. q0 + i; scratch: L floats of scores */
void attention_causal_f32_ref(int L, int nq, int q0, int d, float scale, const float *q, int ldq, const float *k,
                              int ldk, const float *v, int ldv, float *out, int ldo, float *scratch)
{
    (void)L; /* keys past q0 + nq are never read */
    for (int i = 0; i < nq; i++)
        attend_ref(q0 + i + 1, d, scale, 0.0f, 0, q + (size_t)i * ldq, k, ldk, v, ldv, out + (size_t)i * ldo, scratch);
}

/* query i at position q0 + i sees every key, biased by its distance to it;
 * scratch: L floats of scores */
void attention_alibi_f32_ref(int L, int nq, int q0, int d, float scale, float slope, const float *q, int ldq,
                             const float *k, int ldk, const float *v, int ldv, float *out, int ldo, float *scratch)
{
    for (int i = 0; i < nq; i++)
        attend_ref(L, d, scale, slope, q0 + i, q + (size_t)i * ldq, k, ldk, v, ldv, out + (size_t)i * ldo, scratch);
}

void rmsnorm_f32_ref(float *out, const float *x, const float *g, int n, float eps)
{
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double inv = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = (float)(x[i] * inv * g[i]);
}

void rope_f32_ref(float *x, int n_heads, int head_dim, const float *cs, const float *sn)
{
    const int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *lo = x + (size_t)h * head_dim, *hi = lo + half;
        for (int i = 0; i < half; i++) {
            double a = lo[i], b = hi[i];
            lo[i] = (float)(a * cs[i] - b * sn[i]);
            hi[i] = (float)(b * cs[i] + a * sn[i]);
        }
    }
}

void silu_mul_f32_ref(float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double g = gate[i];
        gate[i] = (float)(g / (1.0 + exp(-g)) * up[i]);
    }
}

const kern_ops kern_ops_scalar = {
    .isa = KERN_ISA_SCALAR,
    .name = "scalar",
    .gemm_f32 = gemm_f32_ref,
    .gemm_form = gemm_form_ref,
    .gemm_form_f32 = gemm_form_f32_ref,
    .layernorm_f32 = layernorm_f32_ref,
    .gelu_f32 = gelu_f32_ref,
    .attention_f32 = attention_f32_ref,
    .attention_causal_f32 = attention_causal_f32_ref,
    .attention_alibi_f32 = attention_alibi_f32_ref,
    .rmsnorm_f32 = rmsnorm_f32_ref,
    .rope_f32 = rope_f32_ref,
    .silu_mul_f32 = silu_mul_f32_ref,
    .dot_f32 = dot_f32_ref,
    .l2sq_f32 = l2sq_f32_ref,
    .dot_f32_i8 = dot_f32_i8_ref,
    .hamming = hamming_ref,
    .hamming_panel = hamming_panel_ref,
    .pq_lut = pq_lut_ref,
    .pq4_scan = pq4_scan_ref,
    .dot_i8 = dot_i8_ref,
};
