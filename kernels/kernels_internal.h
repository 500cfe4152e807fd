/* Shared between the kernel files only: block sizes, weight widening, the
 * per-ISA tables. */
#ifndef EMBER_KERNELS_INTERNAL_H
#define EMBER_KERNELS_INTERNAL_H

#include "kernels/kernels.h"

#include <math.h>

/* GEMM blocking: a thread packs a KC x NC block of W (at most 384 KB: fits a
 * 512 KB L2 beside the A micro-panels) and sweeps every row of A over it, MR
 * rows (packed, zero-padded) at a time.  KC 384 keeps K = 384 in one block
 * (C written once); blocks are evened out below these bounds. */
#define KERN_GEMM_KC 384
#define KERN_GEMM_NC 256
/* attention keeps K transposed in scratch for heads up to this size */
#define KERN_ATTN_MAXD 256

static inline float kern_w_at(const void *W, kern_wtype wt, size_t i)
{
    switch (wt) {
    case KERN_W_F16: return kern_f16_to_f32(((const uint16_t *)W)[i]);
    case KERN_W_BF16: return kern_bf16_to_f32(((const uint16_t *)W)[i]);
    default: return ((const float *)W)[i];
    }
}

/* AVX-512-BF16's arithmetic, one lane at a time, for gemm_bf16dot's scalar
 * reference and the 16-lane emulation (vec_emu.h), so that the two agree
 * bit for bit.  Both follow Intel's pseudo-code for VCVTNE2PS2BF16 and
 * VDPBF16PS, which Sapphire Rapids matched bit for bit on random operands
 * of every kind (subnormals, infinities, NaNs up to their payloads). */
static inline float kern_daz(float x) { return fabsf(x) < 0x1p-126f ? copysignf(0.0f, x) : x; }
/* f32 -> bf16, nearest even, a subnormal to a zero of its sign */
static inline uint16_t kern_bf16_round(float x) { return kern_f32_to_bf16(kern_daz(x)); }
/* One f32 lane of vdpbf16ps: acc + the products of the bf16 pairs a and w
 * (element 2i in the low half of a word, 2i + 1 in the high), the high
 * halves' first; each step an FMA rounded to nearest even with subnormal
 * inputs and results as zero.  The product of two bf16 is exact in double,
 * and so is its sum with an f32 unless the two are more than 29 binades
 * apart, where the larger alone decides the f32: the one rounding to f32 of
 * the double is the FMA's. */
static inline float kern_bf16_step(float acc, uint16_t a, uint16_t w)
{
    const double p = (double)kern_daz(kern_bf16_to_f32(a)) * (double)kern_daz(kern_bf16_to_f32(w));
    return kern_daz((float)((double)kern_daz(acc) + p));
}
static inline float kern_dpbf16_lane(float acc, uint32_t a, uint32_t w)
{
    acc = kern_bf16_step(acc, (uint16_t)(a >> 16), (uint16_t)(w >> 16));
    return kern_bf16_step(acc, (uint16_t)a, (uint16_t)w);
}

extern const kern_ops kern_ops_scalar;
extern const kern_ops kern_ops_emu4, kern_ops_emu8, kern_ops_emu16;
#if defined(__x86_64__)
extern const kern_ops kern_ops_avx2;
extern const kern_ops kern_ops_avx512;
extern const kern_ops kern_ops_avx512vnni;
extern const kern_ops kern_ops_avx512bf16;
extern const kern_ops kern_ops_amxbf16;
/* amxbf16's gemm_bf16dot (gemm_bf16dot_amx.c) */
void kern_gemm_bf16dot_amx(int M, int N, int K, const float *A, int lda, const uint16_t *W, int ldw,
                           const float *bias, float *C, int ldc, float *pack, int n_threads);
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
extern const kern_ops kern_ops_neon;
#endif

/* scalar references, also used by the SIMD tables for tails */
void gemm_f32_ref(int M, int N, int K, const float *A, int lda, const void *W, kern_wtype wt,
                  int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads);
/* the reference's one form (every row alike, in double) */
int gemm_form_ref(int M);
void gemm_form_f32_ref(int form, int M, int N, int K, const float *A, int lda, const void *W, kern_wtype wt,
                       int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads);
void layernorm_f32_ref(float *x, const float *r, const float *g, const float *b, int n, float eps);
void gelu_f32_ref(float *x, size_t n);
void attention_f32_ref(int L, int nq, int d, float scale, const float *q, int ldq, const float *k, int ldk,
                       const float *v, int ldv, float *out, int ldo, float *scratch);
void attention_causal_f32_ref(int L, int nq, int q0, int d, float scale, const float *q, int ldq, const float *k,
                              int ldk, const float *v, int ldv, float *out, int ldo, float *scratch);
void attention_alibi_f32_ref(int L, int nq, int q0, int d, float scale, float slope, const float *q, int ldq,
                             const float *k, int ldk, const float *v, int ldv, float *out, int ldo, float *scratch);
void rmsnorm_f32_ref(float *out, const float *x, const float *g, int n, float eps);
void rope_f32_ref(float *x, int n_heads, int head_dim, const float *cs, const float *sn);
void silu_mul_f32_ref(float *gate, const float *up, size_t n);
float dot_f32_ref(const float *a, const float *b, size_t n);
float l2sq_f32_ref(const float *a, const float *b, size_t n);
float dot_f32_i8_ref(const float *q, const int8_t *x, size_t n);
uint32_t hamming_ref(const uint64_t *a, const uint64_t *b, size_t n_words);
int32_t dot_i8_ref(const int8_t *a, const int8_t *b, size_t n);
void pq_lut_ref(const float *q, const float *cbt, int m, int ds, int ksub, int l2, float *lut);
void pq4_scan_ref(const uint8_t *blocks, size_t n_blocks, int m, const uint8_t *lut, uint16_t *out);
size_t hamming_panel_ref(const uint64_t *q, size_t n_words, const uint64_t *panel, size_t n_groups, uint32_t below,
                         uint32_t *pos, uint32_t *dist);
#endif
