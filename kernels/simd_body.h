/* Every SIMD kernel, written once against the vector vocabulary of the ISA
 * file that includes this (vec_avx2.h, vec_avx512.h, vec_neon.h, or the
 * portable vec_emu.h at 4, 8 or 16 lanes), in the ggml manner.  The int8 dot
 * and the 4-bit PQ scan have a block per ISA (plain C for the emulated
 * tables).  Included only by kernels/simd_<isa>.c.
 *
 * The vocabulary: vf (VL floats) and vi (VL64 64-bit lanes) with loads,
 * stores, arithmetic and reductions, and where VF_TRANSPOSE is set a VL x VL
 * transpose (vf_transpose) for the packing; GEMM_MR (and optionally
 * GEMM_SB_N, GEMM_BCAST_*, and GEMM_QUAD_* with vf_broadcast4,
 * vf_hsum4_lanes and the vf4 words) set the GEMM's register blocking.  Its contract on
 * counts: vf_load_n, vf_store_n and vf_pad_mask take a lane count n in
 * [0, VL] (lanes past n neither read nor written, or -inf), vf_store_first
 * 4 or 6 on 8 lanes (all AVX2's has), any count on 16; the body never passes
 * another (vec_emu.h traps on one, so the tests catch it on any
 * machine; a real ISA may silently compute garbage: x86 shifts count mod 32). */
#include "kernels/kernels_internal.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define NR (2 * VL)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, CAT(_, KERN_ISA_ID))

/* e^x for x <= 0 (softmax after the row maximum is taken off, GELU's
 * e^(-z^2)), about 1 ulp; below -87.3 it gives e^-87.3.  n = round(x log2 e)
 * stays in [-126, 0], so 2^n is one exponent, no split. */
static inline vf vexp_le0(vf x)
{
    x = vf_max(x, vf_set1(-87.3f));
    vf n = vf_round(vf_mul(x, vf_set1(1.44269504088896341f)));
    vf r = vf_fnma(n, vf_set1(0.693359375f), x);
    r = vf_fnma(n, vf_set1(-2.12194440e-4f), r);
    vf p = vf_set1(1.9875691500e-4f);
    p = vf_fma(p, r, vf_set1(1.3981999507e-3f));
    p = vf_fma(p, r, vf_set1(8.3334519073e-3f));
    p = vf_fma(p, r, vf_set1(4.1665795894e-2f));
    p = vf_fma(p, r, vf_set1(1.6666665459e-1f));
    p = vf_fma(p, r, vf_set1(5.0000001201e-1f));
    p = vf_fma(vf_mul(p, r), r, vf_add(r, vf_set1(1.0f)));
    return vf_mul(p, vf_pow2i(n));
}

static inline vf w_vec(const void *W, kern_wtype wt, size_t i)
{
    if (wt == KERN_W_F32) return vf_load((const float *)W + i);
    return wt == KERN_W_F16 ? vf_from_f16((const uint16_t *)W + i) : vf_from_bf16((const uint16_t *)W + i);
}

#ifdef VF_TRANSPOSE
/* r[i] = the VL elements at src[i0 + i ld ..] for i < n, zero for n <= i < VL,
 * then transposed: r[j] holds element j of every row.  The packing of GEMM
 * and attention operands goes through this. */
static inline __attribute__((always_inline)) void load_rows_t(const void *src, kern_wtype wt, size_t i0, size_t ld, int n, vf r[VL])
{
#pragma GCC unroll 16
    for (int i = 0; i < VL; i++) r[i] = i < n ? w_vec(src, wt, i0 + (size_t)i * ld) : vf_zero();
    vf_transpose(r);
}
#endif

/* GELU(x) = x * Phi(x), Phi from erf by Abramowitz & Stegun 7.1.26
 * (|error| <= 1.5e-7 on erf), written so that Phi of large negative x keeps
 * its relative accuracy: Phi(x) = 0.5 * erfc(|x|/sqrt2) for x < 0. */
static inline vf vgelu(vf x)
{
    vf z = vf_mul(vf_abs(x), vf_set1(0.70710678118654752f));
    vf t = vf_div(vf_set1(1.0f), vf_fma(z, vf_set1(0.3275911f), vf_set1(1.0f)));
    vf p = vf_set1(1.061405429f);
    p = vf_fma(p, t, vf_set1(-1.453152027f));
    p = vf_fma(p, t, vf_set1(1.421413741f));
    p = vf_fma(p, t, vf_set1(-0.284496736f));
    p = vf_fma(p, t, vf_set1(0.254829592f));
    vf half_erfc = vf_mul(vf_mul(vf_mul(p, t), vexp_le0(vf_mul(vf_sub(vf_zero(), z), z))), vf_set1(0.5f));
    /* x >= 0: 1 - half_erfc ; x < 0: half_erfc */
    vf signed_part = vf_copysign(vf_sub(vf_set1(0.5f), half_erfc), x);
    return vf_mul(x, vf_add(vf_set1(0.5f), signed_part));
}

static void FN(gelu)(float *x, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL) vf_store(x + i, vgelu(vf_load(x + i)));
    if (i < n) vf_store_n(x + i, vgelu(vf_load_n(x + i, (int)(n - i))), (int)(n - i));
}

static float FN(dot)(const float *a, const float *b, size_t n)
{
    vf acc0 = vf_zero(), acc1 = vf_zero();
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        acc0 = vf_fma(vf_load(a + i), vf_load(b + i), acc0);
        acc1 = vf_fma(vf_load(a + i + VL), vf_load(b + i + VL), acc1);
    }
    for (; i + VL <= n; i += VL) acc0 = vf_fma(vf_load(a + i), vf_load(b + i), acc0);
    if (i < n) acc1 = vf_fma(vf_load_n(a + i, (int)(n - i)), vf_load_n(b + i, (int)(n - i)), acc1);
    return vf_hsum(vf_add(acc0, acc1));
}

static float FN(l2sq)(const float *a, const float *b, size_t n)
{
    vf acc0 = vf_zero(), acc1 = vf_zero();
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        vf d0 = vf_sub(vf_load(a + i), vf_load(b + i)), d1 = vf_sub(vf_load(a + i + VL), vf_load(b + i + VL));
        acc0 = vf_fma(d0, d0, acc0);
        acc1 = vf_fma(d1, d1, acc1);
    }
    for (; i + VL <= n; i += VL) { vf d = vf_sub(vf_load(a + i), vf_load(b + i)); acc0 = vf_fma(d, d, acc0); }
    if (i < n) { vf d = vf_sub(vf_load_n(a + i, (int)(n - i)), vf_load_n(b + i, (int)(n - i))); acc1 = vf_fma(d, d, acc1); }
    return vf_hsum(vf_add(acc0, acc1));
}

static float FN(dot_f32_i8)(const float *q, const int8_t *x, size_t n)
{
    vf acc0 = vf_zero(), acc1 = vf_zero();
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        acc0 = vf_fma(vf_load(q + i), vf_from_i8(x + i), acc0);
        acc1 = vf_fma(vf_load(q + i + VL), vf_from_i8(x + i + VL), acc1);
    }
    float tail = 0;
    for (; i < n; i++) tail += q[i] * x[i];
    return vf_hsum(vf_add(acc0, acc1)) + tail;
}

static uint32_t FN(hamming)(const uint64_t *a, const uint64_t *b, size_t n_words)
{
    uint64_t d0 = 0, d1 = 0;
    size_t i = 0;
    for (; i + 2 <= n_words; i += 2) {
        d0 += (uint64_t)__builtin_popcountll(a[i] ^ b[i]);
        d1 += (uint64_t)__builtin_popcountll(a[i + 1] ^ b[i + 1]);
    }
    if (i < n_words) d0 += (uint64_t)__builtin_popcountll(a[i] ^ b[i]);
    return (uint32_t)(d0 + d1);
}

/* The panel keeps 8 vectors' word w side by side: one query word, broadcast,
 * meets 8 vectors at once; four groups run together for independent add
 * chains.  Without a 64-bit popcount, byte counts (nibble table) are summed
 * over up to 31 words before widening (31 * 8 < 256: no byte overflows). */
#define HP_G 4                   /* groups per step */
#define HP_R (HP_G * 8 / VL64)   /* registers per step */
#define HP_AT(p, r, w) ((p) + (((r) / (8 / VL64)) * gs + (w) * (8 / VL64) + (r) % (8 / VL64)) * VL64)

/* keep the lanes below the bound: rarely any once the caller's bound is tight */
static inline __attribute__((always_inline)) size_t FN(hamming_keep)(const vi *acc, uint32_t base, vi below,
                                                                     uint32_t *pos, uint32_t *dist, size_t n, const int R)
{
    _Pragma("GCC unroll 8")
    for (int r = 0; r < R; r++) {
        unsigned m = vi_lt64_mask(acc[r], below);
        if (!m) continue;
        uint64_t t[VL64];
        vi_store(t, acc[r]);
        for (; m; m &= m - 1) {
            int l = __builtin_ctz(m);
            pos[n] = base + (uint32_t)(r * VL64 + l);
            dist[n++] = (uint32_t)t[l];
        }
    }
    return n;
}

#ifndef vi_popcnt64
/* Byte counts of the six words w .. w + 5 of register r XOR the query (qv:
 * those words broadcast), through carry-save adders first: bits of weight
 * 1, 2 and 4 of each lane's sum, so three nibble-table counts, not six (half
 * the shuffles).  At most 48 a byte. */
static inline __attribute__((always_inline)) vi FN(hamming_csa6)(const uint64_t *p, size_t gs, int r, size_t w, const vi *qv)
{
    vi x[6];
    _Pragma("GCC unroll 6")
    for (int i = 0; i < 6; i++) x[i] = vi_xor(vi_load(HP_AT(p, r, w + i)), qv[i]);
    vi u = vi_xor(x[0], x[1]), s1 = vi_xor(u, x[2]), c1 = vi_or(vi_and(x[0], x[1]), vi_and(u, x[2]));
    vi v = vi_xor(x[3], x[4]), s2 = vi_xor(v, x[5]), c2 = vi_or(vi_and(x[3], x[4]), vi_and(v, x[5]));
    vi one = vi_xor(s1, s2), c3 = vi_and(s1, s2);
    vi y = vi_xor(c1, c2), two = vi_xor(y, c3), four = vi_or(vi_and(c1, c2), vi_and(y, c3));
    vi cnt = vi_popcnt8(four);
    cnt = vi_add8(vi_add8(cnt, cnt), vi_popcnt8(two));
    return vi_add8(vi_add8(cnt, cnt), vi_popcnt8(one));
}

/* words w0..w1 (at most 31) counted in bytes, six at a time through the
 * adders (768-bit codes 1.37x the plain byte counts here), then added to acc
 * as 64-bit lanes */
static inline __attribute__((always_inline)) void FN(hamming_bytes)(const uint64_t *q, const uint64_t *p, size_t gs, size_t w0,
                                                                    size_t w1, vi *acc, const int R)
{
    vi b[HP_R];
    _Pragma("GCC unroll 8")
    for (int r = 0; r < R; r++) b[r] = vi_zero();
    size_t w = w0;
    for (; w + 6 <= w1; w += 6) {
        vi qv[6];
        _Pragma("GCC unroll 6")
        for (int i = 0; i < 6; i++) qv[i] = vi_set1_64(q[w + i]);
        _Pragma("GCC unroll 8")
        for (int r = 0; r < R; r++) b[r] = vi_add8(b[r], FN(hamming_csa6)(p, gs, r, w, qv));
    }
    _Pragma("GCC unroll 12")
    for (; w < w1; w++) {
        vi qw = vi_set1_64(q[w]);
        _Pragma("GCC unroll 8")
        for (int r = 0; r < R; r++) b[r] = vi_add8(b[r], vi_popcnt8(vi_xor(vi_load(HP_AT(p, r, w)), qw)));
    }
    _Pragma("GCC unroll 8")
    for (int r = 0; r < R; r++) acc[r] = vi_add64(acc[r], vi_sum8_64(b[r]));
}

/* 384 bits: the one group of six words straight into acc (no byte counters
 * to carry): 1.10 ns a code here, 1.2x the loop above at this width and
 * 1.38x the plain byte counts */
static inline __attribute__((always_inline)) void FN(hamming_384)(const uint64_t *q, const uint64_t *p, size_t gs, vi *acc,
                                                                  const int R)
{
    vi qv[6];
    _Pragma("GCC unroll 6")
    for (int i = 0; i < 6; i++) qv[i] = vi_set1_64(q[i]);
    _Pragma("GCC unroll 8")
    for (int r = 0; r < R; r++) acc[r] = vi_add64(acc[r], vi_sum8_64(FN(hamming_csa6)(p, gs, r, 0, qv)));
}
#endif

static inline __attribute__((always_inline)) size_t FN(hamming_groups)(const uint64_t *q, size_t n_words, const uint64_t *p, uint32_t base,
                                                                       vi below, uint32_t *pos, uint32_t *dist, size_t n, const int R)
{
    const size_t gs = n_words * 8 / VL64; /* registers per group */
    vi acc[HP_R];
    _Pragma("GCC unroll 8")
    for (int r = 0; r < R; r++) acc[r] = vi_zero();
#ifdef vi_popcnt64
    _Pragma("GCC unroll 12")
    for (size_t w = 0; w < n_words; w++) {
        vi qw = vi_set1_64(q[w]);
        _Pragma("GCC unroll 8")
        for (int r = 0; r < R; r++) acc[r] = vi_add64(acc[r], vi_popcnt64(vi_xor(vi_load(HP_AT(p, r, w)), qw)));
    }
#else
    /* the usual widths fit one chunk, written apart so that it is unrolled
     * whole: inside the chunk loop -O2 kept a loop (a third slower) */
    if (n_words == 6) FN(hamming_384)(q, p, gs, acc, R);
    else if (n_words <= 31) FN(hamming_bytes)(q, p, gs, 0, n_words, acc, R);
    else
        for (size_t w0 = 0; w0 < n_words; w0 += 31)
            FN(hamming_bytes)(q, p, gs, w0, n_words - w0 < 31 ? n_words : w0 + 31, acc, R);
#endif
    return FN(hamming_keep)(acc, base, below, pos, dist, n, R);
}

/* int8 dot.  VNNI multiplies unsigned by signed bytes: a ^ 0x80 is a + 128
 * as unsigned, so sum (a + 128) b - 128 sum b (sum b by a second dpbusd with
 * ones).  Without VNNI: widen to int16 and multiply-add pairs. */
static int32_t FN(dot_i8)(const int8_t *a, const int8_t *b, size_t n)
{
    size_t i = 0;
#if defined(VEC_EMU)
    /* VNNI's form in plain C, 4 VL bytes a step (4 bytes to a 32-bit lane),
     * the tail by a masked load: the bias and the masks at every width.
     * Sums mod 2^32 as the hardware's: exact once 128 sum b is taken off. */
    uint32_t acc[VL] = {0}, sb[VL] = {0};
    for (; i < n; i += 4 * VL) {
        const int cnt = emu_count(n - i >= 4 * VL ? 4 * VL : (int)(n - i), 4 * VL);
        int8_t va[4 * VL] = {0}, vb[4 * VL] = {0};
        memcpy(va, a + i, (size_t)cnt);
        memcpy(vb, b + i, (size_t)cnt);
        for (int l = 0; l < 4 * VL; l++) {
            acc[l / 4] += ((uint8_t)va[l] ^ 0x80u) * (uint32_t)vb[l];
            sb[l / 4] += (uint32_t)vb[l];
        }
    }
    uint32_t s = 0, t = 0;
    for (int l = 0; l < VL; l++) { s += acc[l]; t += sb[l]; }
    return (int32_t)(s - 128u * t);
#elif defined(__AVX512VNNI__)
    /* sum (a + 128) b by dpbusd in two chains of 64 bytes a step, the tail
     * masked; sum b by SAD of b + 128 (a masked-out byte counts 128), so one
     * dpbusd per 64 bytes; then one reduction */
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0, sb = acc0;
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    size_t counted = 0;
    for (; i + 128 <= n; i += 128, counted += 128) {
        __m512i va0 = _mm512_loadu_si512(a + i), vb0 = _mm512_loadu_si512(b + i);
        __m512i va1 = _mm512_loadu_si512(a + i + 64), vb1 = _mm512_loadu_si512(b + i + 64);
        acc0 = _mm512_dpbusd_epi32(acc0, _mm512_xor_si512(va0, bias), vb0);
        acc1 = _mm512_dpbusd_epi32(acc1, _mm512_xor_si512(va1, bias), vb1);
        sb = _mm512_add_epi64(sb, _mm512_add_epi64(_mm512_sad_epu8(_mm512_xor_si512(vb0, bias), _mm512_setzero_si512()),
                                                   _mm512_sad_epu8(_mm512_xor_si512(vb1, bias), _mm512_setzero_si512())));
    }
    for (; i < n; i += 64, counted += 64) {
        __mmask64 mk = n - i >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - i)) - 1);
        __m512i va = _mm512_maskz_loadu_epi8(mk, a + i), vb = _mm512_maskz_loadu_epi8(mk, b + i);
        acc0 = _mm512_dpbusd_epi32(acc0, _mm512_xor_si512(va, bias), vb);
        sb = _mm512_add_epi64(sb, _mm512_sad_epu8(_mm512_xor_si512(vb, bias), _mm512_setzero_si512()));
    }
    /* sum b = sum (b + 128) - 128 counted, so sum a b = sum acc - 128 sum sb
     * + 16384 counted, mod 2^32 as the hardware sums; a 64-bit SAD lane stays
     * below 2^25 (n < 2^17), so its low 32-bit half shifted by 7 is exact and
     * its high half 0: one 32-bit reduction of acc - (sb << 7) */
    __m512i t = _mm512_sub_epi32(_mm512_add_epi32(acc0, acc1), _mm512_slli_epi32(sb, 7));
    return (int32_t)((uint32_t)_mm512_reduce_add_epi32(t) + 16384u * (uint32_t)counted);
#elif defined(__AVX512BW__)
    __m512i acc = _mm512_setzero_si512();
    for (; i + 32 <= n; i += 32)
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(a + i))),
                                                      _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + i)))));
    int32_t s = _mm512_reduce_add_epi32(acc);
#elif defined(__ARM_NEON)
    /* products of two int8 fit int16 (at most 2^14), pairs of them do not:
     * each half widened and pair-added into int32 */
    int32x4_t acc = vdupq_n_s32(0);
    for (; i + 16 <= n; i += 16) {
        int8x16_t va = vld1q_s8(a + i), vb = vld1q_s8(b + i);
        acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
        acc = vpadalq_s16(acc, vmull_high_s8(va, vb));
    }
    int32_t s = vaddvq_s32(acc);
#else
    __m256i acc = _mm256_setzero_si256();
    for (; i + 16 <= n; i += 16)
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))),
                                                      _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)))));
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    int32_t s = _mm_cvtsi128_si32(h);
#endif
#if !defined(__AVX512VNNI__) && !defined(VEC_EMU)
    for (; i < n; i++) s += (int32_t)a[i] * b[i];
    return s;
#endif
}

/* Codewords four registers at a time (one when ksub < 4 VL: 16 codewords),
 * the query dims broadcast. */
static void FN(pq_lut)(const float *q, const float *cbt, int m, int ds, int ksub, int l2, float *lut)
{
    for (int j = 0; j < m; j++) {
        const float *cb = cbt + (size_t)j * ds * ksub, *qj = q + (size_t)j * ds;
        float *o = lut + (size_t)j * ksub;
        int c = 0;
        for (; c + 4 * VL <= ksub; c += 4 * VL) {
            vf a0 = vf_zero(), a1 = vf_zero(), a2 = vf_zero(), a3 = vf_zero();
            for (int t = 0; t < ds; t++) {
                const float *row = cb + (size_t)t * ksub + c;
                vf v = vf_set1(qj[t]);
                if (l2) {
                    vf e0 = vf_sub(v, vf_load(row)), e1 = vf_sub(v, vf_load(row + VL));
                    vf e2 = vf_sub(v, vf_load(row + 2 * VL)), e3 = vf_sub(v, vf_load(row + 3 * VL));
                    a0 = vf_fma(e0, e0, a0); a1 = vf_fma(e1, e1, a1); a2 = vf_fma(e2, e2, a2); a3 = vf_fma(e3, e3, a3);
                } else {
                    a0 = vf_fma(v, vf_load(row), a0); a1 = vf_fma(v, vf_load(row + VL), a1);
                    a2 = vf_fma(v, vf_load(row + 2 * VL), a2); a3 = vf_fma(v, vf_load(row + 3 * VL), a3);
                }
            }
            vf_store(o + c, a0); vf_store(o + c + VL, a1); vf_store(o + c + 2 * VL, a2); vf_store(o + c + 3 * VL, a3);
        }
        for (; c + VL <= ksub; c += VL) {
            vf a = vf_zero();
            for (int t = 0; t < ds; t++) {
                vf v = vf_set1(qj[t]), w = vf_load(cb + (size_t)t * ksub + c);
                if (l2) { vf e = vf_sub(v, w); a = vf_fma(e, e, a); }
                else a = vf_fma(v, w, a);
            }
            vf_store(o + c, a);
        }
        for (; c < ksub; c++) {
            float a = 0;
            for (int t = 0; t < ds; t++) {
                float w = cb[(size_t)t * ksub + c], e = qj[t] - w;
                a += l2 ? e * e : qj[t] * w;
            }
            o[c] = a;
        }
    }
}

/* 4-bit PQ fast scan (Andre et al.'s idea, FAISS's "fast scan"): one 256-bit
 * register holds the 16-entry byte tables of two sub-spaces, one shuffle looks
 * up 16 codes of each.  Bytes are summed in 16-bit lanes as (even + 256 odd)
 * and as odd alone; the even sums come out by a subtraction (exact while a
 * sum stays below 2^16: m <= 256).  256-bit on every x86 table: the tables
 * are 16 bytes wide whatever the register. */
static void FN(pq4_scan)(const uint8_t *blocks, size_t n_blocks, int m, const uint8_t *lut, uint16_t *out)
{
#if defined(VEC_EMU)
    /* the x86 block below in plain C, lane by lane: the 16-bit sums of
     * (even + 256 odd) and of odd, the subtraction, the two halves added */
    const int pairs = m / 2;
    for (size_t b = 0; b < n_blocks; b++) {
        const uint8_t *c = blocks + b * (size_t)pairs * 32;
        uint16_t a0[16] = {0}, a1[16] = {0}, a2[16] = {0}, a3[16] = {0};
        for (int p = 0; p < pairs; p++) {
            const uint8_t *cv = c + 32 * p, *t = lut + 32 * p;
            for (int k = 0; k < 16; k++) {
                /* 16-bit lane k: bytes 2k, 2k + 1, looked up in their 128-bit half's table */
                const uint8_t *th = t + (k / 8) * 16;
                uint16_t rl = (uint16_t)(th[cv[2 * k] & 15] | th[cv[2 * k + 1] & 15] << 8);
                uint16_t rh = (uint16_t)(th[cv[2 * k] >> 4] | th[cv[2 * k + 1] >> 4] << 8);
                a0[k] = (uint16_t)(a0[k] + rl);
                a1[k] = (uint16_t)(a1[k] + (rl >> 8));
                a2[k] = (uint16_t)(a2[k] + rh);
                a3[k] = (uint16_t)(a3[k] + (rh >> 8));
            }
        }
        uint16_t *o = out + b * 32;
        for (int k = 0; k < 8; k++) {
            o[2 * k] = (uint16_t)(a0[k] - (a1[k] << 8) + a0[k + 8] - (a1[k + 8] << 8));
            o[2 * k + 1] = (uint16_t)(a1[k] + a1[k + 8]);
            o[16 + 2 * k] = (uint16_t)(a2[k] - (a3[k] << 8) + a2[k + 8] - (a3[k + 8] << 8));
            o[16 + 2 * k + 1] = (uint16_t)(a3[k] + a3[k + 8]);
        }
    }
#elif defined(__ARM_NEON)
    /* one 16-byte table lookup per sub-space and nibble, sums widened into
     * 16-bit lanes (mod 2^16, as the reference) */
    const uint8x16_t lo4 = vdupq_n_u8(0x0f);
    const int pairs = m / 2;
    for (size_t b = 0; b < n_blocks; b++) {
        const uint8_t *c = blocks + b * (size_t)pairs * 32;
        uint16x8_t a0 = vdupq_n_u16(0), a1 = a0, a2 = a0, a3 = a0; /* vectors 0..7, 8..15, 16..23, 24..31 */
        for (int p = 0; p < pairs; p++) {
            uint8x16_t c0 = vld1q_u8(c + 32 * p), c1 = vld1q_u8(c + 32 * p + 16);
            uint8x16_t t0 = vld1q_u8(lut + 32 * p), t1 = vld1q_u8(lut + 32 * p + 16);
            uint8x16_t lo0 = vqtbl1q_u8(t0, vandq_u8(c0, lo4)), lo1 = vqtbl1q_u8(t1, vandq_u8(c1, lo4));
            uint8x16_t hi0 = vqtbl1q_u8(t0, vshrq_n_u8(c0, 4)), hi1 = vqtbl1q_u8(t1, vshrq_n_u8(c1, 4));
            a0 = vaddq_u16(a0, vaddl_u8(vget_low_u8(lo0), vget_low_u8(lo1)));
            a1 = vaddq_u16(a1, vaddl_high_u8(lo0, lo1));
            a2 = vaddq_u16(a2, vaddl_u8(vget_low_u8(hi0), vget_low_u8(hi1)));
            a3 = vaddq_u16(a3, vaddl_high_u8(hi0, hi1));
        }
        uint16_t *o = out + b * 32;
        vst1q_u16(o, a0);
        vst1q_u16(o + 8, a1);
        vst1q_u16(o + 16, a2);
        vst1q_u16(o + 24, a3);
    }
#else
    const __m256i lo4 = _mm256_set1_epi8(0x0f);
    const int pairs = m / 2;
    for (size_t b = 0; b < n_blocks; b++) {
        const uint8_t *c = blocks + b * (size_t)pairs * 32;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int p = 0; p < pairs; p++) {
            __m256i cv = _mm256_loadu_si256((const __m256i *)(const void *)(c + 32 * p));
            __m256i t = _mm256_loadu_si256((const __m256i *)(const void *)(lut + 32 * p));
            __m256i rl = _mm256_shuffle_epi8(t, _mm256_and_si256(cv, lo4));                         /* vectors 0..15 */
            __m256i rh = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(cv, 4), lo4)); /* 16..31 */
            a0 = _mm256_add_epi16(a0, rl);
            a1 = _mm256_add_epi16(a1, _mm256_srli_epi16(rl, 8));
            a2 = _mm256_add_epi16(a2, rh);
            a3 = _mm256_add_epi16(a3, _mm256_srli_epi16(rh, 8));
        }
        /* 16-bit lane k: even = vector 2k, odd = vector 2k + 1; the two
         * 128-bit halves are the even and odd sub-spaces of each pair */
        __m256i e0 = _mm256_sub_epi16(a0, _mm256_slli_epi16(a1, 8)), e1 = _mm256_sub_epi16(a2, _mm256_slli_epi16(a3, 8));
        __m128i ev0 = _mm_add_epi16(_mm256_castsi256_si128(e0), _mm256_extracti128_si256(e0, 1));
        __m128i od0 = _mm_add_epi16(_mm256_castsi256_si128(a1), _mm256_extracti128_si256(a1, 1));
        __m128i ev1 = _mm_add_epi16(_mm256_castsi256_si128(e1), _mm256_extracti128_si256(e1, 1));
        __m128i od1 = _mm_add_epi16(_mm256_castsi256_si128(a3), _mm256_extracti128_si256(a3, 1));
        __m128i *o = (__m128i *)(void *)(out + b * 32);
        _mm_storeu_si128(o, _mm_unpacklo_epi16(ev0, od0));
        _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(ev0, od0));
        _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(ev1, od1));
        _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(ev1, od1));
    }
#endif
}

/* n_words is a run-time value; the common widths get a constant one (fully
 * unrolled word loop) */
#define HP_RUN(NW)                                                                                        \
    do {                                                                                                  \
        for (; g + HP_G <= n_groups; g += HP_G)                                                           \
            n = FN(hamming_groups)(q, NW, panel + g * (NW) * 8, (uint32_t)g * 8, bv, pos, dist, n, HP_R); \
        for (; g < n_groups; g++)                                                                         \
            n = FN(hamming_groups)(q, NW, panel + g * (NW) * 8, (uint32_t)g * 8, bv, pos, dist, n, 8 / VL64); \
    } while (0)

/* one function per common width: each gets its own register allocation (in
 * one function, adding the 384-bit adder path made the 768-bit loop spill) */
#define HP_FN(name, NW)                                                                                        \
    static __attribute__((noinline)) size_t name(const uint64_t *q, size_t n_words, const uint64_t *panel,    \
                                                 size_t n_groups, uint32_t below, uint32_t *pos, uint32_t *dist) \
    {                                                                                                      \
        size_t g = 0, n = 0;                                                                               \
        const vi bv = vi_set1_64(below);                                                                   \
        (void)n_words;                                                                                     \
        HP_RUN(NW);                                                                                        \
        return n;                                                                                          \
    }
HP_FN(FN(hamming_panel4), 4)
HP_FN(FN(hamming_panel6), 6)
HP_FN(FN(hamming_panel12), 12)
HP_FN(FN(hamming_panel_any), n_words)

static size_t FN(hamming_panel)(const uint64_t *q, size_t n_words, const uint64_t *panel, size_t n_groups,
                                uint32_t below, uint32_t *pos, uint32_t *dist)
{
    switch (n_words) {
    case 4: return FN(hamming_panel4)(q, n_words, panel, n_groups, below, pos, dist);   /* 256 bits */
    case 6: return FN(hamming_panel6)(q, n_words, panel, n_groups, below, pos, dist);   /* 384: MiniLM, bge-small, e5-small */
    case 12: return FN(hamming_panel12)(q, n_words, panel, n_groups, below, pos, dist); /* 768: BERT-base sizes */
    default: return FN(hamming_panel_any)(q, n_words, panel, n_groups, below, pos, dist);
    }
}

static void FN(layernorm)(float *x, const float *r, const float *g, const float *b, int n, float eps)
{
    vf s = vf_zero();
    int i = 0;
    for (; i + VL <= n; i += VL) {
        vf v = vf_load(x + i);
        if (r) { v = vf_add(v, vf_load(r + i)); vf_store(x + i, v); }
        s = vf_add(s, v);
    }
    if (i < n) {
        int t = n - i;
        vf v = vf_load_n(x + i, t);
        if (r) { v = vf_add(v, vf_load_n(r + i, t)); vf_store_n(x + i, v, t); }
        s = vf_add(s, v);
    }
    float mean = vf_hsum(s) / (float)n;
    vf m = vf_set1(mean), q = vf_zero();
    for (i = 0; i + VL <= n; i += VL) { vf d = vf_sub(vf_load(x + i), m); q = vf_fma(d, d, q); }
    if (i < n) {
        /* pad the tail with the mean so padded lanes add nothing */
        float tmp[VL];
        for (int j = 0; j < VL; j++) tmp[j] = i + j < n ? x[i + j] : mean;
        vf d = vf_sub(vf_load(tmp), m);
        q = vf_fma(d, d, q);
    }
    float var = vf_hsum(q) / (float)n;
    vf inv = vf_set1(1.0f / sqrtf(var + eps));
    for (i = 0; i + VL <= n; i += VL)
        vf_store(x + i, vf_fma(vf_mul(vf_sub(vf_load(x + i), m), inv), vf_load(g + i), vf_load(b + i)));
    if (i < n) {
        int t = n - i;
        vf v = vf_fma(vf_mul(vf_sub(vf_load_n(x + i, t), m), inv), vf_load_n(g + i, t), vf_load_n(b + i, t));
        vf_store_n(x + i, v, t);
    }
}

/* Sum of squares in two chains of f32 lanes, the tail masked (zeros add
 * nothing). */
static void FN(rmsnorm)(float *out, const float *x, const float *g, int n, float eps)
{
    vf s0 = vf_zero(), s1 = vf_zero();
    int i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        vf a = vf_load(x + i), b = vf_load(x + i + VL);
        s0 = vf_fma(a, a, s0);
        s1 = vf_fma(b, b, s1);
    }
    if (i + VL <= n) { vf a = vf_load(x + i); s0 = vf_fma(a, a, s0); i += VL; }
    if (i < n) { vf a = vf_load_n(x + i, n - i); s1 = vf_fma(a, a, s1); }
    vf inv = vf_set1(1.0f / sqrtf(vf_hsum(vf_add(s0, s1)) / (float)n + eps));
    for (i = 0; i + VL <= n; i += VL) vf_store(out + i, vf_mul(vf_mul(vf_load(x + i), inv), vf_load(g + i)));
    if (i < n) vf_store_n(out + i, vf_mul(vf_mul(vf_load_n(x + i, n - i), inv), vf_load_n(g + i, n - i)), n - i);
}

/* The rotate-half pairs (i, i + head_dim / 2) of each head, VL pairs a step,
 * the tail masked. */
static void FN(rope)(float *x, int n_heads, int head_dim, const float *cs, const float *sn)
{
    const int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *lo = x + (size_t)h * head_dim, *hi = lo + half;
        int i = 0;
        for (; i + VL <= half; i += VL) {
            vf a = vf_load(lo + i), b = vf_load(hi + i), c = vf_load(cs + i), s = vf_load(sn + i);
            vf_store(lo + i, vf_fnma(b, s, vf_mul(a, c)));
            vf_store(hi + i, vf_fma(a, s, vf_mul(b, c)));
        }
        if (i < half) {
            const int t = half - i;
            vf a = vf_load_n(lo + i, t), b = vf_load_n(hi + i, t), c = vf_load_n(cs + i, t), s = vf_load_n(sn + i, t);
            vf_store_n(lo + i, vf_fnma(b, s, vf_mul(a, c)), t);
            vf_store_n(hi + i, vf_fma(a, s, vf_mul(b, c)), t);
        }
    }
}

/* silu(g) = g sigmoid(g) through e = e^-|g| (vexp_le0's range, no
 * overflow): sigmoid(g) = 1 / (1 + e) for g >= 0, e / (1 + e) for g < 0,
 * both accurate to a few ulp (1 - 1 / (1 + e) would lose e's relative
 * accuracy for large |g|).  The numerator without a compare: max(e, min(g
 * 2^30, 1)) is 1 for g >= 2^-30, e for g < 0, and between them e, which
 * rounds to 1 there. */
static inline vf vsilu(vf g)
{
    vf e = vexp_le0(vf_sub(vf_zero(), vf_abs(g)));
    vf num = vf_max(e, vf_min(vf_mul(g, vf_set1(0x1p30f)), vf_set1(1.0f)));
    return vf_div(vf_mul(g, num), vf_add(vf_set1(1.0f), e));
}

static void FN(silu_mul)(float *gate, const float *up, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL) vf_store(gate + i, vf_mul(vsilu(vf_load(gate + i)), vf_load(up + i)));
    if (i < n) {
        const int t = (int)(n - i);
        vf_store_n(gate + i, vf_mul(vsilu(vf_load_n(gate + i, t)), vf_load_n(up + i, t)), t);
    }
}

static inline int clampv(int n) { return n < 0 ? 0 : n > VL ? VL : n; }


/* out rows r0 .. r0 + nr (nr <= AV_R) over dims c0 .. c0 + AV_V VL (FULL: all
 * present; else the first t dims, masked): sum_j p[r][j] v[j][.] * inv[r].
 * 12 accumulators, 6 rows x 2 vectors: a pass over the keys serves all six
 * queries of a score block, so V is read once per six queries (16 dims a
 * pass on AVX2).  3 rows x 4 vectors read it twice: A/B on AVX2, 12 heads of
 * 32 dims, 6 x 2 ran 1.01-1.07x its speed at L 16 to 512 (one L 128 run of
 * five 0.99x). */
#define AV_V 2
#define AV_R (12 / AV_V)
static inline __attribute__((always_inline)) void FN(attn_pv)(const int FULL, int L, const float *p, int Lp,
                                                             const float *v, int ldv, int c0, int t, int nr,
                                                             const float *inv, float *out, int ldo)
{
    vf acc[AV_R][AV_V];
    const float *pr[AV_R];
    int tv[AV_V];
#pragma GCC unroll 8
    for (int r = 0; r < AV_R; r++) {
        pr[r] = p + (size_t)(r < nr ? r : 0) * Lp;
#pragma GCC unroll 4
        for (int u = 0; u < AV_V; u++) acc[r][u] = vf_zero();
    }
#pragma GCC unroll 4
    for (int u = 0; u < AV_V; u++) tv[u] = clampv(t - u * VL);
    for (int j = 0; j < L; j++) {
        const float *vj = v + (size_t)j * ldv + c0;
        vf x[AV_V];
#pragma GCC unroll 4
        for (int u = 0; u < AV_V; u++) x[u] = FULL ? vf_load(vj + u * VL) : vf_load_n(vj + u * VL, tv[u]);
#pragma GCC unroll 8
        for (int r = 0; r < AV_R; r++) {
            vf b = vf_broadcast(pr[r] + j);
#pragma GCC unroll 4
            for (int u = 0; u < AV_V; u++) acc[r][u] = vf_fma(b, x[u], acc[r][u]);
        }
    }
    /* constant bounds: with r < nr as the bound, -O2 kept acc in memory */
#pragma GCC unroll 8
    for (int r = 0; r < AV_R; r++) {
        if (r >= nr) break;
        float *o = out + (size_t)r * ldo + c0;
        vf sc = vf_set1(inv[r]);
#pragma GCC unroll 4
        for (int u = 0; u < AV_V; u++)
            if (FULL) vf_store(o + u * VL, vf_mul(acc[r][u], sc));
            else vf_store_n(o + u * VL, vf_mul(acc[r][u], sc), tv[u]);
    }
}

/* Lane offsets of the keys of a panel, for ALiBi's distances (2 VL <= 32). */
static const float ATTN_LANE[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* Scores of AQ queries against the 2 VL keys of panel pan (keys j ..): s[r][.]
 * = scale q[r].k, the row maxima mx kept on the way.  TWO == 0 when the
 * panel's second vector is all padding (the last panel of a short sequence:
 * a 16-token query on 16 lanes), so neither computed nor stored: nothing
 * reads scores past L.  ROWS: each row r sees only keys below lim[r] (the
 * panels of causal attention where the block's queries part ways), else
 * every row the keys below L.  ALIBI: each score plus nslope (-slope, every
 * lane) times the distance from row r's position qp[r] to the key, both
 * exact in float (positions below 2^24), so the bias is one rounded
 * product as in the reference. */
#define AQ 6
static inline __attribute__((always_inline)) void FN(attn_scores)(const int TWO, const int ROWS, const int ALIBI,
                                                                 const float *pan, int d, const float *const *qi, vf vs,
                                                                 vf nslope, const float *qp, int L, const int *lim,
                                                                 int j, float *s, int Lp, vf *mx)
{
    vf a0[AQ], a1[AQ];
#pragma GCC unroll 8
    for (int r = 0; r < AQ; r++) a0[r] = a1[r] = vf_zero();
    for (int c = 0; c < d; c++) {
        vf k0 = vf_load(pan + (size_t)c * 2 * VL), k1 = TWO ? vf_load(pan + (size_t)c * 2 * VL + VL) : k0;
#pragma GCC unroll 8
        for (int r = 0; r < AQ; r++) {
            vf b = vf_broadcast(qi[r] + c);
            a0[r] = vf_fma(b, k0, a0[r]);
            if (TWO) a1[r] = vf_fma(b, k1, a1[r]);
        }
    }
    /* keys a row does not see (padding, j >= L; a later query's) must not
     * raise its maximum; past L - VL the second vector is all padding: a
     * count of 0, never negative */
    vf ok0 = j + VL <= L ? vf_set1(0.0f) : vf_pad_mask(clampv(L - j)),
       ok1 = j + 2 * VL <= L ? vf_set1(0.0f) : vf_pad_mask(clampv(L - j - VL));
#pragma GCC unroll 8
    for (int r = 0; r < AQ; r++) {
        if (ROWS) {
            ok0 = vf_pad_mask(clampv(lim[r] - j));
            ok1 = vf_pad_mask(clampv(lim[r] - j - VL));
        }
        vf s0 = vf_mul(a0[r], vs);
        vf off = vf_set1(ALIBI ? qp[r] - (float)j : 0.0f);
        if (ALIBI) s0 = vf_add(s0, vf_mul(nslope, vf_abs(vf_sub(off, vf_load(ATTN_LANE)))));
        vf_store(s + (size_t)r * Lp, s0);
        if (TWO) {
            vf s1 = vf_mul(a1[r], vs);
            if (ALIBI) s1 = vf_add(s1, vf_mul(nslope, vf_abs(vf_sub(off, vf_load(ATTN_LANE + VL)))));
            vf_store(s + (size_t)r * Lp + VL, s1);
            mx[r] = vf_max(mx[r], vf_max(vf_add(s0, ok0), vf_add(s1, ok1)));
        } else {
            mx[r] = vf_max(mx[r], vf_add(s0, ok0));
        }
    }
}

/* One head, AQ queries at a time, GEMM-like.  Scores against K kept
 * transposed (kt[c][j], rows padded with zero keys to a whole number of
 * 2 VL): AQ x 2 VL accumulators, per dim 2 loads and AQ broadcasts for
 * 2 AQ FMAs, the row maxima kept on the way.  Softmax over the keys each
 * query sees, left unnormalised (1/sum applied at the end).  Then out =
 * P.V, AV_R rows x AV_V VL dims of accumulators per pass over the keys.
 *
 * CAUSAL: query i at position q0 + i sees keys j <= q0 + i.  A block of
 * queries reads only the keys its last query sees (whole panels past them
 * skipped: half the work over a whole sequence); the panels below its first
 * query's position are scored as in the plain case, the one or two above
 * with a limit per row; a row's weights past its limit are zeroed for the
 * shared P.V pass (adding 0 v[j] changes no bit), so each query gets the
 * bits of the plain attention over its own keys.  Otherwise every query
 * sees all L keys.  ALIBI (never with CAUSAL): query i stands at q0 + i and
 * each score is biased by -slope times its distance to the key. */
static inline __attribute__((always_inline)) void FN(attend)(const int CAUSAL, const int ALIBI, int L, int n_q, int q0, int d,
                                                            float scale, float slope, const float *q, int ldq,
                                                            const float *k, int ldk, const float *v, int ldv, float *out,
                                                            int ldo, float *scratch)
{
    if (CAUSAL) L = q0 + n_q; /* the keys any query here sees */
    const int Lp = (L + 2 * VL - 1) / (2 * VL) * (2 * VL);
    /* K as panels of 2 VL keys (panel b: kt[b d 2VL + c 2VL + j]), read in
     * order by the score loop; V rows packed (vp[j d + c]) */
    float *s = scratch, *kt = scratch + (size_t)AQ * Lp, *vp = kt + (size_t)Lp * d;
    int dv = 0;
#ifdef VF_TRANSPOSE
    /* VL keys x VL dims per transpose; a group of padding keys only is
     * never read (attn_scores) */
    dv = d / VL * VL;
    for (int j0 = 0; j0 < L; j0 += VL) {
        float *pan = kt + (size_t)(j0 / (2 * VL)) * (2 * VL) * d + j0 % (2 * VL);
        for (int c = 0; c < dv; c += VL) {
            vf r[VL];
            load_rows_t(k, KERN_W_F32, (size_t)j0 * ldk + c, (size_t)ldk, L - j0, r);
#pragma GCC unroll 16
            for (int i = 0; i < VL; i++) vf_store(pan + (size_t)(c + i) * 2 * VL, r[i]);
        }
    }
#endif
    for (int j0 = 0; j0 < Lp && dv < d; j0 += 2 * VL) {
        float *pan = kt + (size_t)j0 * d;
        for (int j = 0; j < 2 * VL; j++)
            for (int c = dv; c < d; c++) pan[(size_t)c * 2 * VL + j] = j0 + j < L ? k[(size_t)(j0 + j) * ldk + c] : 0.0f;
    }
    if (d % VL == 0) /* whole vectors: no call per row (128-byte rows at d = 32) */
        for (int j = 0; j < L; j++)
            for (int c = 0; c < d; c += VL) vf_store(vp + (size_t)j * d + c, vf_load(v + (size_t)j * ldv + c));
    else
        for (int j = 0; j < L; j++) memcpy(vp + (size_t)j * d, v + (size_t)j * ldv, (size_t)d * sizeof(float));
    for (int i0 = 0; i0 < n_q; i0 += AQ) {
        const int nq = n_q - i0 < AQ ? n_q - i0 : AQ;
        const float *qi[AQ];
        /* keys row r sees (rows past nq: the last real row's), the keys the
         * block reads (its last row's) and those all its rows see; ALiBi's
         * query positions (rows past nq: the first row's, as its query) */
        int lim[AQ];
        float qp[AQ];
        for (int r = 0; r < AQ; r++) {
            qi[r] = q + (size_t)(i0 + (r < nq ? r : 0)) * ldq;
            lim[r] = CAUSAL ? q0 + i0 + (r < nq ? r : nq - 1) + 1 : L;
            qp[r] = (float)(q0 + i0 + (r < nq ? r : 0));
        }
        const int kb = CAUSAL ? lim[nq - 1] : L, kall = CAUSAL ? lim[0] : L;
        vf mx[AQ];
#pragma GCC unroll 8
        for (int r = 0; r < AQ; r++) mx[r] = vf_set1(-INFINITY);
        const vf vs = vf_set1(scale), nslope = vf_set1(-slope);
        for (int j = 0; j < kb; j += 2 * VL) {
            const float *pan = kt + (size_t)j * d;
            if (!CAUSAL || j + 2 * VL <= kall) {
                if (j + VL < kb) FN(attn_scores)(1, 0, ALIBI, pan, d, qi, vs, nslope, qp, kb, lim, j, s + j, Lp, mx);
                else FN(attn_scores)(0, 0, ALIBI, pan, d, qi, vs, nslope, qp, kb, lim, j, s + j, Lp, mx);
            } else {
                if (j + VL < kb) FN(attn_scores)(1, 1, 0, pan, d, qi, vs, nslope, qp, kb, lim, j, s + j, Lp, mx);
                else FN(attn_scores)(0, 1, 0, pan, d, qi, vs, nslope, qp, kb, lim, j, s + j, Lp, mx);
            }
        }
        float inv[AQ];
        for (int r = 0; r < nq; r++) {
            float *sr = s + (size_t)r * Lp;
            const int n = lim[r];
            vf vm = vf_set1(vf_hmax(mx[r])), sum = vf_zero();
            int j = 0;
            for (; j + VL <= n; j += VL) {
                vf e = vexp_le0(vf_sub(vf_load(sr + j), vm));
                vf_store(sr + j, e);
                sum = vf_add(sum, e);
            }
            if (j < n) {
                /* the lanes past n read as 0: 0 - vm, taken to 0 (vexp_le0's
                 * range; a row maximum near -88.7 made e^(-vm) infinite, and
                 * inf + -inf below a NaN) */
                vf e = vexp_le0(vf_min(vf_sub(vf_load_n(sr + j, n - j), vm), vf_zero()));
                vf_store_n(sr + j, e, n - j);
                /* the lanes past n zeroed (e + -inf, then max with 0; NaN
                 * kept, as max gives its second operand): a re-read of the
                 * masked store stalled store forwarding (AVX-512) */
                sum = vf_add(sum, vf_max(vf_zero(), vf_add(e, vf_pad_mask(n - j))));
            }
            inv[r] = 1.0f / vf_hsum(sum);
            /* keys this row does not see weigh 0 in the block's P.V */
            if (CAUSAL)
                for (j = n; j < kb; j++) sr[j] = 0.0f;
        }
        for (int r0 = 0; r0 < nq; r0 += AV_R) {
            const int nr = nq - r0 < AV_R ? nq - r0 : AV_R;
            for (int c0 = 0; c0 < d; c0 += AV_V * VL) {
                if (d - c0 >= AV_V * VL)
                    FN(attn_pv)(1, kb, s + (size_t)r0 * Lp, Lp, vp, d, c0, AV_V * VL, nr, inv + r0, out + (size_t)(i0 + r0) * ldo, ldo);
                else
                    FN(attn_pv)(0, kb, s + (size_t)r0 * Lp, Lp, vp, d, c0, d - c0, nr, inv + r0, out + (size_t)(i0 + r0) * ldo, ldo);
            }
        }
    }
}

static void FN(attention)(int L, int n_q, int d, float scale, const float *q, int ldq, const float *k, int ldk,
                          const float *v, int ldv, float *out, int ldo, float *scratch)
{
    if (d > KERN_ATTN_MAXD) { attention_f32_ref(L, n_q, d, scale, q, ldq, k, ldk, v, ldv, out, ldo, scratch); return; }
    FN(attend)(0, 0, L, n_q, 0, d, scale, 0.0f, q, ldq, k, ldk, v, ldv, out, ldo, scratch);
}

static void FN(attention_causal)(int L, int n_q, int q0, int d, float scale, const float *q, int ldq, const float *k,
                                 int ldk, const float *v, int ldv, float *out, int ldo, float *scratch)
{
    if (d > KERN_ATTN_MAXD) {
        attention_causal_f32_ref(L, n_q, q0, d, scale, q, ldq, k, ldk, v, ldv, out, ldo, scratch);
        return;
    }
    FN(attend)(1, 0, L, n_q, q0, d, scale, 0.0f, q, ldq, k, ldk, v, ldv, out, ldo, scratch);
}

static void FN(attention_alibi)(int L, int n_q, int q0, int d, float scale, float slope, const float *q, int ldq,
                                const float *k, int ldk, const float *v, int ldv, float *out, int ldo, float *scratch)
{
    if (d > KERN_ATTN_MAXD) {
        attention_alibi_f32_ref(L, n_q, q0, d, scale, slope, q, ldq, k, ldk, v, ldv, out, ldo, scratch);
        return;
    }
    FN(attend)(0, 1, L, n_q, q0, d, scale, slope, q, ldq, k, ldk, v, ldv, out, ldo, scratch);
}

/* ---- GEMM: C = A . W^T + bias, W (N, K) of type wt ---------------------- */

/* Widens row segment W[n][k0 .. k0+kk) into dst. */
static void w_row(const void *W, kern_wtype wt, int ldw, int n, int k0, int kk, float *dst)
{
    size_t base = (size_t)n * ldw + k0;
    int k = 0;
    if (wt == KERN_W_F32) { memcpy(dst, (const float *)W + base, (size_t)kk * sizeof(float)); return; }
    const uint16_t *src = (const uint16_t *)W + base;
    if (wt == KERN_W_F16) for (; k + VL <= kk; k += VL) vf_store(dst + k, vf_from_f16(src + k));
    else for (; k + VL <= kk; k += VL) vf_store(dst + k, vf_from_bf16(src + k));
    for (; k < kk; k++) dst[k] = wt == KERN_W_F16 ? kern_f16_to_f32(src[k]) : kern_bf16_to_f32(src[k]);
}


/* Packs W rows n0 .. n0+nn, columns k0 .. k0+kk into NR-wide panels:
 * dst[p][k][j] = W[n0 + p*NR + j][k0 + k], zero past nn. */
static void pack_w(const void *W, kern_wtype wt, int ldw, int n0, int nn, int k0, int kk, float *dst, float *row)
{
    int panels = (nn + NR - 1) / NR, kv = 0;
#ifdef VF_TRANSPOSE
    /* VL rows x VL k per transpose */
    kv = kk / VL * VL;
    for (int p = 0; p < panels; p++)
        for (int h = 0; h < NR / VL; h++) {
            float *d = dst + (size_t)p * kk * NR + h * VL;
            const int r0 = p * NR + h * VL;
            for (int k = 0; k < kv; k += VL) {
                vf r[VL];
                load_rows_t(W, wt, (size_t)(n0 + r0) * ldw + k0 + k, (size_t)ldw, nn - r0, r);
#pragma GCC unroll 16
                for (int j = 0; j < VL; j++) vf_store(d + (size_t)(k + j) * NR, r[j]);
            }
        }
    if (kv == kk) return;
#endif
    for (int p = 0; p < panels; p++) {
        float *d = dst + (size_t)p * kk * NR;
        for (int j = 0; j < NR; j++) {
            int n = p * NR + j;
            if (n < nn) {
                w_row(W, wt, ldw, n0 + n, k0 + kv, kk - kv, row);
                for (int k = kv; k < kk; k++) d[(size_t)k * NR + j] = row[k - kv];
            } else {
                for (int k = kv; k < kk; k++) d[(size_t)k * NR + j] = 0.0f;
            }
        }
    }
}

/* A rows m0 .. m0+mm (mm <= MR), columns k0 .. k0+kk -> ap[k][i], zero rows
 * past mm.  Writes sequentially, reading MR row streams. */
static void pack_a(const float *A, int lda, int m0, int mm, int k0, int kk, float *ap)
{
    const float *a[GEMM_MR];
    static const float zero[1] = {0.0f};
    for (int i = 0; i < GEMM_MR; i++) a[i] = i < mm ? A + (size_t)(m0 + i) * lda + k0 : zero;
    int k0v = 0;
#if defined(VF_TRANSPOSE) && GEMM_MR < VL
    /* VL k at a time: GEMM_MR rows of VL transposed as a VL x VL block, each
     * k's GEMM_MR values stored as a vector whose tail the next store overwrites */
    if (mm == GEMM_MR) {
        for (; k0v + VL <= kk; k0v += VL) {
            vf r[VL];
            load_rows_t(a[0], KERN_W_F32, (size_t)k0v, (size_t)lda, GEMM_MR, r);
#pragma GCC unroll 16
            for (int j = 0; j < VL; j++) {
                if (j == VL - 1 && k0v + VL == kk) vf_store_first(ap, r[j], GEMM_MR);
                else vf_store(ap, r[j]);
                ap += GEMM_MR;
            }
        }
    }
#endif
    if (mm == GEMM_MR) {
        for (int k = k0v; k < kk; k++, ap += GEMM_MR)
#pragma GCC unroll 16
            for (int i = 0; i < GEMM_MR; i++) ap[i] = a[i][k];
    } else {
        for (int k = 0; k < kk; k++, ap += GEMM_MR)
            for (int i = 0; i < GEMM_MR; i++) ap[i] = i < mm ? a[i][k] : 0.0f;
    }
}


/* A micro-kernel's C tile in registers, c0 and c1 (GEMM_MR rows of 2 VL
 * columns): the first K block starts the sums from the bias (or zero),
 * later blocks from C itself; rows >= mm and columns >= jn are neither read
 * nor written. */
static inline __attribute__((always_inline)) void tile_begin(vf *c0, vf *c1, const float *c, int ldc, int mm, int jn,
                                                             const float *bias, int first)
{
    const int j0 = clampv(jn), j1 = clampv(jn - VL);
    if (first) {
        vf b0 = bias ? vf_load_n(bias, j0) : vf_zero(), b1 = bias ? vf_load_n(bias + VL, j1) : vf_zero();
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++) { c0[i] = b0; c1[i] = b1; }
    } else if (jn == NR) {
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++) {
            const float *ci = c + (size_t)(i < mm ? i : 0) * ldc;
            c0[i] = vf_load(ci);
            c1[i] = vf_load(ci + VL);
        }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++) {
            const float *ci = c + (size_t)(i < mm ? i : 0) * ldc;
            c0[i] = vf_load_n(ci, j0);
            c1[i] = vf_load_n(ci + VL, j1);
        }
    }
}

static inline __attribute__((always_inline)) void tile_end(const vf *c0, const vf *c1, float *c, int ldc, int mm, int jn)
{
    const int j0 = clampv(jn), j1 = clampv(jn - VL);
    if (jn == NR) {
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++)
            if (i < mm) { vf_store(c + (size_t)i * ldc, c0[i]); vf_store(c + (size_t)i * ldc + VL, c1[i]); }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++)
            if (i < mm) { vf_store_n(c + (size_t)i * ldc, c0[i], j0); vf_store_n(c + (size_t)i * ldc + VL, c1[i], j1); }
    }
}

/* C[mm][jn] (+)= ap (kk x MR) . bp (kk x NR): the register-blocked core. */
static void ukernel(int kk, const float *ap, const float *bp, float *c, int ldc, int mm, int jn,
                    const float *bias, int first)
{
    vf c0[GEMM_MR], c1[GEMM_MR];
    tile_begin(c0, c1, c, ldc, mm, jn, bias, first);
    for (int k = 0; k < kk; k++) {
        vf b0 = vf_load(bp), b1 = vf_load(bp + VL);
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++) {
            vf a = vf_set1(ap[i]);
            c0[i] = vf_fma(a, b0, c0[i]);
            c1[i] = vf_fma(a, b1, c1[i]);
        }
        ap += GEMM_MR;
        bp += NR;
    }
    tile_end(c0, c1, c, ldc, mm, jn);
}

static void gemm_cols(int M, int K, const float *A, int lda, const void *W, kern_wtype wt, int ldw,
                      const float *bias, float *C, int ldc, int n_begin, int n_end, float *pack)
{
    float *wp = pack, *ap = pack + (size_t)KERN_GEMM_KC * KERN_GEMM_NC;
    float row[KERN_GEMM_KC];
    /* blocks of equal size: no short last block whose C tiles cost as much to
     * reload as a full one's.  The K blocks set each sum's order and depend
     * on K alone; the N blocks only on this thread's columns. */
    const int nkb = (K + KERN_GEMM_KC - 1) / KERN_GEMM_KC, KCB = ((K + nkb - 1) / nkb + 7) & ~7;
    const int nnb = (n_end - n_begin + KERN_GEMM_NC - 1) / KERN_GEMM_NC;
    const int NCB = ((n_end - n_begin + nnb - 1) / nnb + NR - 1) / NR * NR;
    for (int n0 = n_begin; n0 < n_end; n0 += NCB) {
        int nn = n_end - n0 < NCB ? n_end - n0 : NCB;
        for (int k0 = 0; k0 < K; k0 += KCB) {
            int kk = K - k0 < KCB ? K - k0 : KCB;
            pack_w(W, wt, ldw, n0, nn, k0, kk, wp, row);
            for (int m0 = 0; m0 < M; m0 += GEMM_MR) {
                int mm = M - m0 < GEMM_MR ? M - m0 : GEMM_MR;
                pack_a(A, lda, m0, mm, k0, kk, ap);
                /* the next micro-panel's rows of A, a slice per tile */
                const int np = (nn + NR - 1) / NR, rl = (kk * 4 + 63) / 64;
                const int nxt = M - (m0 + GEMM_MR) < GEMM_MR ? M - (m0 + GEMM_MR) : GEMM_MR;
                const int pf_total = nxt > 0 ? nxt * rl : 0, pf_per = (pf_total + np - 1) / np;
                int pf_i = 0, pf_r = 0, pf_l = 0; /* line pf_l of row pf_r: no division per request */
                for (int p = 0; p * NR < nn; p++) {
                    int jn = nn - p * NR < NR ? nn - p * NR : NR;
                    for (int e = pf_i + pf_per; pf_i < e && pf_i < pf_total; pf_i++) {
                        __builtin_prefetch(A + (size_t)(m0 + GEMM_MR + pf_r) * lda + k0 + pf_l * 16, 0, 3);
                        if (++pf_l == rl) { pf_l = 0; pf_r++; }
                    }
                    /* past the first K block the next tile's C rows are read back: request them now */
                    if (k0 && (p + 1) * NR < nn)
                        for (int i = 0; i < mm; i++) __builtin_prefetch(C + (size_t)(m0 + i) * ldc + n0 + (p + 1) * NR, 0, 3);
                    ukernel(kk, ap, wp + (size_t)p * kk * NR, C + (size_t)m0 * ldc + n0 + p * NR, ldc, mm, jn,
                            bias ? bias + n0 + p * NR : NULL, k0 == 0);
                }
            }
        }
    }
}

/* Small M (a short query): packing W would cost as much as the product, so
 * read W rows in place and form blocks of 4 rows x SB_N columns of dot
 * products, all accumulators in registers (4 x 4 of 32 zmm; 4 x 3 of 16 ymm). */
#define SMALL_M 16
#ifndef GEMM_SB_N
#define GEMM_SB_N 4
#endif
#define SB_N GEMM_SB_N


static inline vf w_vec_n(const void *W, kern_wtype wt, size_t i, int n)
{
    if (wt == KERN_W_F32) return vf_load_n((const float *)W + i, n);
    float t[VL];
    for (int j = 0; j < VL; j++) t[j] = j < n ? kern_w_at(W, wt, i + j) : 0.0f;
    return vf_load(t);
}

/* wt is a constant in each instance: the step loop carries no type test */
static inline __attribute__((always_inline)) void gemm_small_t(int M, int K, const float *A, int lda, const void *W,
                                                              const kern_wtype wt, int ldw, const float *bias, float *C,
                                                              int ldc, int n_begin, int n_end)
{
    const int Kv = K - K % VL, kt = K - Kv;
    const size_t esz = wt == KERN_W_F32 ? 4 : 2, pf_row = (size_t)ldw * esz;
    /* W streams from memory once: the next block's rows are requested a
     * line or two per step, spread over all passes of this block, so memory
     * works while the later passes compute from cache */
    const int passes = (M + 3) / 4, steps = passes * (Kv / VL > 0 ? Kv / VL : 1);
    const int lines = (int)((SB_N * pf_row + 63) / 64), per_step = (lines + steps - 1) / steps;
    for (int n0 = n_begin; n0 < n_end; n0 += SB_N) {
        int nn = n_end - n0 < SB_N ? n_end - n0 : SB_N;
        const char *pf = (const char *)W + (size_t)(n0 + SB_N) * pf_row;
        const char *pf_end = n0 + SB_N < n_end ? (const char *)W + (size_t)(n_end < n0 + 2 * SB_N ? n_end : n0 + 2 * SB_N) * pf_row : pf;
        for (int m0 = 0; m0 < M; m0 += 4) {
            int mm = M - m0 < 4 ? M - m0 : 4;
            vf acc[4][SB_N];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < SB_N; j++) acc[i][j] = vf_zero();
            const float *a[4];
            size_t w[SB_N];
            for (int i = 0; i < 4; i++) a[i] = A + (size_t)(m0 + (i < mm ? i : 0)) * lda;
            for (int j = 0; j < SB_N; j++) w[j] = (size_t)(n0 + (j < nn ? j : 0)) * ldw;
            for (int k = 0; k < Kv; k += VL) {
                vf wv[SB_N];
                for (int t = 0; t < per_step && pf < pf_end; t++, pf += 64) __builtin_prefetch(pf, 0, 3);
#pragma GCC unroll 4
                for (int j = 0; j < SB_N; j++) wv[j] = w_vec(W, wt, w[j] + k);
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++) {
                    vf av = vf_load(a[i] + k);
#pragma GCC unroll 4
                    for (int j = 0; j < SB_N; j++) acc[i][j] = vf_fma(av, wv[j], acc[i][j]);
                }
            }
            if (kt) {
                for (int j = 0; j < SB_N; j++) {
                    vf wv = w_vec_n(W, wt, w[j] + Kv, kt);
                    for (int i = 0; i < 4; i++) acc[i][j] = vf_fma(vf_load_n(a[i] + Kv, kt), wv, acc[i][j]);
                }
            }
            for (int i = 0; i < mm; i++) {
                float s[4];
                vf4_store(s, vf_hsum4(acc[i][0], acc[i][1 % SB_N], acc[i][2 % SB_N], SB_N > 3 ? acc[i][3 % SB_N] : vf_zero()));
                for (int j = 0; j < nn; j++) C[(size_t)(m0 + i) * ldc + n0 + j] = s[j] + (bias ? bias[n0 + j] : 0.0f);
            }
        }
    }
}

static void gemm_small(int M, int K, const float *A, int lda, const void *W, kern_wtype wt, int ldw,
                       const float *bias, float *C, int ldc, int n_begin, int n_end)
{
    if (wt == KERN_W_F32) gemm_small_t(M, K, A, lda, W, KERN_W_F32, ldw, bias, C, ldc, n_begin, n_end);
    else if (wt == KERN_W_F16) gemm_small_t(M, K, A, lda, W, KERN_W_F16, ldw, bias, C, ldc, n_begin, n_end);
    else gemm_small_t(M, K, A, lda, W, KERN_W_BF16, ldw, bias, C, ldc, n_begin, n_end);
}

#ifdef GEMM_BCAST_TF2
/* From GEMM_BCAST_MIN_M rows to a few hundred, where the ISA sets the tile
 * widths GEMM_BCAST_TF* (AVX2, AVX-512): C^T = W . X^T.  The dot-product
 * form above feeds 12 FMAs from 7 vector loads and re-reads each W block
 * once per 4 rows, and the packed path below copies all of W for a handful
 * of rows; here X^T is packed in blocks of rows and meets each W element
 * broadcast from its row in place: per k, TV vector loads and TF broadcasts
 * feed TF TV FMAs.  With the rows rounded up to whole vectors (v of them),
 * an even v takes tiles of TF2 columns over blocks of 2 vectors; an odd v
 * tiles of TF3 columns over blocks of 3 vectors, then of 2; no block of one
 * vector, whose broadcasts outnumber its FMAs (on AVX2 an 8-row tail cost
 * 15% at 20..40 rows; on AVX-512 the quad tiles below take the rows up to
 * where v is 2).  W
 * streams from memory once, for the first row block; the later blocks find
 * the tile's rows in L1.  Each C element is the packed form's sum (from
 * the bias, one term per k in k order; bc_tile), so its bits depend on
 * neither M nor the thread count. */
_Static_assert(GEMM_BCAST_MIN_M > VL, "no one-vector blocks: every M here has two vectors or more");
#define BC_MAX2(a, b) ((a) > (b) ? (a) : (b))
#define BC_TF_MAX BC_MAX2(GEMM_BCAST_TF2, GEMM_BCAST_TF3)
#define BC_XT 65536          /* floats of X^T per chunk: 256 KB, stays in L2 */
#define BC_MAX_M 256         /* the packed path is faster from about 384 rows */
/* k per chunk at most: TF_MAX widened W rows of it beside X^T in a thread's scratch */
#define BC_KS_MAX (((size_t)KERN_GEMM_KC * KERN_GEMM_NC - BC_XT) / BC_TF_MAX / VL * VL)
_Static_assert(BC_TF_MAX <= VL, "a tile's accumulators are transposed as one VL x VL block");
_Static_assert(BC_KS_MAX >= 4 * VL, "bcast scratch");

/* vectors of rows (M rounded up to VL rows, P = v VL: the rows of X^T laid
 * out per chunk), the tile's columns, and the rows of the block starting at
 * row m0 */
static int bc_vectors(int M) { return (M + VL - 1) / VL; }
static int bc_tf(int M) { return bc_vectors(M) % 2 == 0 ? GEMM_BCAST_TF2 : GEMM_BCAST_TF3; }
static int bc_block(int M, int m0)
{
    const int v = bc_vectors(M);
    if (v % 2 == 0) return 2 * VL;
    int a = v / 3; /* v = 3 a + 2 b, a odd */
    if (a % 2 == 0) a--;
    return m0 < a * 3 * VL ? 3 * VL : 2 * VL;
}
static int bc_chunk(int M)
{
    int ks = BC_XT / (bc_vectors(M) * VL) / VL * VL;
    return ks > (int)BC_KS_MAX ? (int)BC_KS_MAX : ks;
}

/* xt[k][j] = A[j][k0 + k] for j < rows, 0 for rows <= j < rb (rb a multiple of VL), k < kc */
static void bc_pack_xt(const float *A, int lda, int rows, int rb, int k0, int kc, float *xt)
{
    int k = 0;
    for (; k + VL <= kc; k += VL)
        for (int h = 0; h < rb / VL; h++) {
            vf r[VL];
            load_rows_t(A, KERN_W_F32, (size_t)h * VL * lda + k0 + k, (size_t)lda, rows - h * VL, r);
#pragma GCC unroll 16
            for (int j = 0; j < VL; j++) vf_store(xt + (size_t)(k + j) * rb + h * VL, r[j]);
        }
    for (; k < kc; k++)
        for (int m = 0; m < rb; m++) xt[(size_t)k * rb + m] = m < rows ? A[(size_t)m * lda + k0 + k] : 0.0f;
}

/* Sums of a TF-column tile for rows m0 .. m0 + rows (rows <= TV VL) of C:
 * acc[i][.] starts from the bias (first k chunk, zero without one) or from
 * C^T, and adds w[i][k] x[k][.] in k order over kc steps; then C = acc^T.
 * Every C element is thus the packed form's sum, bias first and one term
 * per k after it, whatever the chunks.  pf != NULL: one line of each row
 * at pf[i] is requested per pf_step steps. */
static inline __attribute__((always_inline)) void bc_tile(const int TF, const int TV, int kc, const float *x,
                                                          const float *const *w, const char *const *pf, int pf_step,
                                                          size_t esz, float *C, int ldc, int rows, int nn,
                                                          const float *bias, int first)
{
    vf acc[BC_TF_MAX][3];
    if (first) {
#pragma GCC unroll 16
        for (int i = 0; i < TF; i++) acc[i][0] = acc[i][1] = acc[i][2] = bias && i < nn ? vf_set1(bias[i]) : vf_zero();
    } else {
        /* C^T: a row of C per vector, transposed to a column per vector */
#pragma GCC unroll 4
        for (int h = 0; h < TV; h++) {
            vf r[VL];
            const int mr = rows - h * VL < VL ? rows - h * VL : VL;
#pragma GCC unroll 16
            for (int m = 0; m < VL; m++) r[m] = m < mr ? vf_load_n(C + (size_t)(h * VL + m) * ldc, nn) : vf_zero();
            vf_transpose(r);
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) acc[i][h] = r[i];
        }
    }
    for (int k = 0; k < kc;) {
        const int ke = kc - k < pf_step ? kc : k + pf_step;
        if (pf) {
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) __builtin_prefetch(pf[i] + (size_t)k * esz, 0, 3);
        }
        for (; k < ke; k++, x += TV * VL) {
            vf x0 = vf_load(x), x1 = TV > 1 ? vf_load(x + VL) : x0, x2 = TV > 2 ? vf_load(x + 2 * VL) : x0;
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) {
                vf b = vf_broadcast(w[i] + k);
                acc[i][0] = vf_fma(b, x0, acc[i][0]);
                if (TV > 1) acc[i][1] = vf_fma(b, x1, acc[i][1]);
                if (TV > 2) acc[i][2] = vf_fma(b, x2, acc[i][2]);
            }
        }
    }
    /* acc^T, a row of C per vector: TF of its VL lanes are this tile's columns */
#pragma GCC unroll 4
    for (int h = 0; h < TV; h++) {
        vf r[VL];
#pragma GCC unroll 16
        for (int i = 0; i < VL; i++) r[i] = i < TF ? acc[i][h] : vf_zero();
        vf_transpose(r);
        const int mr = rows - h * VL < VL ? rows - h * VL : VL;
        for (int m = 0; m < mr; m++) {
            float *c = C + (size_t)(h * VL + m) * ldc;
            if (nn == TF) vf_store_first(c, r[m], TF); /* whole tile: no masked store on AVX2 */
            else vf_store_n(c, r[m], nn);
        }
    }
}

static inline __attribute__((always_inline)) void gemm_bcast_t(const int TF, int M, int K, const float *A, int lda,
                                                              const void *W, const kern_wtype wt, int ldw,
                                                              const float *bias, float *C, int ldc, int n_begin,
                                                              int n_end, float *xt, float *wb)
{
    const size_t esz = wt == KERN_W_F32 ? 4 : 2;
    const int pf_step = (int)(64 / esz), KS = bc_chunk(M); /* one line of a row per pf_step steps */
    for (int k0 = 0; k0 < K; k0 += KS) {
        const int kc = K - k0 < KS ? K - k0 : KS;
        /* the first two tiles' rows (later ones are requested two tiles ahead) while X^T is packed */
        for (int n = n_begin; n < n_end && n < n_begin + 2 * TF; n++)
            for (size_t b = 0; b < (size_t)kc * esz; b += 64) __builtin_prefetch((const char *)W + ((size_t)n * ldw + k0) * esz + b, 0, 3);
        for (int m0 = 0, rb; m0 < M; m0 += rb) {
            rb = bc_block(M, m0);
            int rows = M - m0 < rb ? M - m0 : rb;
            bc_pack_xt(A + (size_t)m0 * lda, lda, rows, rb, k0, kc, xt + (size_t)m0 * kc);
        }
        for (int n0 = n_begin; n0 < n_end; n0 += TF) {
            const int nn = n_end - n0 < TF ? n_end - n0 : TF;
            const float *w[BC_TF_MAX];
            const char *pf[BC_TF_MAX]; /* the rows two tiles on: one tile ahead is too late for K = 384 */
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) {
                int n = n0 + (i < nn ? i : 0), p = n0 + 2 * TF + i < n_end ? n0 + 2 * TF + i : n;
                pf[i] = (const char *)W + ((size_t)p * ldw + k0) * esz;
                if (wt == KERN_W_F32) {
                    w[i] = (const float *)W + (size_t)n * ldw + k0;
                } else {
                    w_row(W, wt, ldw, n, k0, kc, wb + (size_t)i * kc);
                    w[i] = wb + (size_t)i * kc;
                }
            }
            for (int m0 = 0, rb; m0 < M; m0 += rb) {
                rb = bc_block(M, m0);
                const int rows = M - m0 < rb ? M - m0 : rb;
                const float *x = xt + (size_t)m0 * kc, *b = bias ? bias + n0 : NULL;
                const char *const *p = m0 ? NULL : pf;
                float *c = C + (size_t)m0 * ldc + n0;
                /* the block shapes each tile width meets (bc_tf, bc_block) */
                if (TF == GEMM_BCAST_TF3 && rb == 3 * VL) bc_tile(TF, 3, kc, x, w, p, pf_step, esz, c, ldc, rows, nn, b, k0 == 0);
                else bc_tile(TF, 2, kc, x, w, p, pf_step, esz, c, ldc, rows, nn, b, k0 == 0);
            }
        }
    }
}

#define BC_SHAPES(wt_)                                                                                                  \
    do {                                                                                                                \
        const int tf = bc_tf(M);                                                                                        \
        if (tf == GEMM_BCAST_TF2) gemm_bcast_t(GEMM_BCAST_TF2, M, K, A, lda, W, wt_, ldw, bias, C, ldc, n_begin, n_end, xt, wb); \
        else gemm_bcast_t(GEMM_BCAST_TF3, M, K, A, lda, W, wt_, ldw, bias, C, ldc, n_begin, n_end, xt, wb);             \
    } while (0)
static void gemm_bcast(int M, int K, const float *A, int lda, const void *W, kern_wtype wt, int ldw,
                       const float *bias, float *C, int ldc, int n_begin, int n_end, float *scratch)
{
    float *xt = scratch, *wb = scratch + BC_XT;
    if (wt == KERN_W_F32) BC_SHAPES(KERN_W_F32);
    else if (wt == KERN_W_F16) BC_SHAPES(KERN_W_F16);
    else BC_SHAPES(KERN_W_BF16);
}
#undef BC_SHAPES
#endif

#ifdef GEMM_QUAD_TF2
/* From GEMM_QUAD_MIN_M to 24 rows on 16 lanes (AVX-512): a lane holds one
 * row at one of four consecutive k, a vector four rows (a group) by four k,
 * and W's values at those four k are broadcast as a 128-bit block: per four
 * k, G vector loads of X and TF block broadcasts feed TF G FMAs, as the
 * broadcast form's blocks of two and three vectors do, where its block of
 * one vector would pay a broadcast per FMA and round 17..24 rows up to 32,
 * and the dot products a reduction per block of 4 rows (they stay below
 * GEMM_QUAD_MIN_M: one group of 4 rows pays a broadcast per FMA too).  Each sum is reduced over its four k
 * phases once per tile, (p0 + p2) + (p1 + p3), its k chunks set by K
 * alone: neither M nor the thread count changes a row's bits. */
#ifndef GEMM_BCAST_TF2
#error "the quad tiles share the broadcast form's scratch layout"
#endif
_Static_assert(VL == 16, "quad tiles: 4 rows x 4 k a vector");
#define QD_TF_MAX BC_MAX2(BC_MAX2(GEMM_QUAD_TF2, GEMM_QUAD_TF3), BC_MAX2(GEMM_QUAD_TF4, BC_MAX2(GEMM_QUAD_TF5, GEMM_QUAD_TF6)))
#define QD_G_MAX 6
#define QD_MAX_M (4 * QD_G_MAX)
/* row groups of 4 (2 to QD_G_MAX), the tile's columns, k per chunk (X packed as
 * kc G 4 floats within BC_XT, TF widened W rows of kc in the rest) */
static int qd_groups(int M) { return (M + 3) / 4; }
static int qd_tf(int M)
{
    const int g = qd_groups(M);
    return g <= 2 ? GEMM_QUAD_TF2 : g == 3 ? GEMM_QUAD_TF3 : g == 4 ? GEMM_QUAD_TF4 : g == 5 ? GEMM_QUAD_TF5 : GEMM_QUAD_TF6;
}
static int qd_chunk(void)
{
    /* the room of the most groups, whatever M: a sum's chunks, and so its
     * bits, depend on K alone */
    int ks = BC_XT / (QD_G_MAX * 4);
    const int ws = (int)(((size_t)KERN_GEMM_KC * KERN_GEMM_NC - BC_XT) / QD_TF_MAX);
    return (ks < ws ? ks : ws) / 4 * 4;
}

/* xq[k4][g][4 r + j] = A[4 g + r][k0 + 4 k4 + j], zero past M rows or kc */
static void qd_pack_x(const float *A, int lda, int M, int G, int k0, int kc, float *xq)
{
    const int kq = (kc + 3) / 4;
    for (int m = 0; m < 4 * G; m++) {
        float *d = xq + (size_t)(m / 4) * VL + (m % 4) * 4;
        const float *a = A + (size_t)(m < M ? m : 0) * lda + k0;
        int k4 = 0;
        if (m < M)
            for (; k4 < kc / 4; k4++) memcpy(d + (size_t)k4 * G * VL, a + 4 * k4, 4 * sizeof(float));
        for (; k4 < kq; k4++)
            for (int j = 0; j < 4; j++) d[(size_t)k4 * G * VL + j] = m < M && 4 * k4 + j < kc ? a[4 * k4 + j] : 0.0f;
    }
}

/* C rows 0 .. M (M <= 4 G) of a TF-column tile: acc[i][g] = sum over k of
 * w[i][k] x[k][g] by k phase; then C = sums + bias (first k chunk) or
 * C += sums.  pf: one line of each row at pf[i] is requested per pf_step
 * steps (a multiple of 4). */
static inline __attribute__((always_inline)) void qd_tile(const int TF, const int G, int kc, const float *x,
                                                          const float *const *w, const char *const *pf, int pf_step,
                                                          size_t esz, float *C, int ldc, int M, int nn,
                                                          const float *bias, int first)
{
    vf acc[QD_TF_MAX][QD_G_MAX], xv[QD_G_MAX];
#pragma GCC unroll 16
    for (int i = 0; i < TF; i++)
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) acc[i][g] = vf_zero();
    const int kv = kc / 4 * 4;
    for (int k = 0; k < kv;) {
        const int ke = kv - k < pf_step ? kv : k + pf_step;
#pragma GCC unroll 16
        for (int i = 0; i < TF; i++) __builtin_prefetch(pf[i] + (size_t)k * esz, 0, 3);
        for (; k < ke; k += 4, x += G * VL) {
#pragma GCC unroll 8
            for (int g = 0; g < G; g++) xv[g] = vf_load(x + g * VL);
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) {
                vf b = vf_broadcast4(w[i] + k);
#pragma GCC unroll 8
                for (int g = 0; g < G; g++) acc[i][g] = vf_fma(b, xv[g], acc[i][g]);
            }
        }
    }
    if (kv < kc) { /* the last k < 4: W read only up to kc, X zero past it */
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) xv[g] = vf_load(x + g * VL);
#pragma GCC unroll 16
        for (int i = 0; i < TF; i++) {
            vf b = vf_broadcast4_n(w[i] + kv, kc - kv);
#pragma GCC unroll 8
            for (int g = 0; g < G; g++) acc[i][g] = vf_fma(b, xv[g], acc[i][g]);
        }
    }
    /* four columns at a time: 128-bit block r of the phase sums is row 4 g + r */
#pragma GCC unroll 8
    for (int g = 0; g < G; g++)
#pragma GCC unroll 4
        for (int i0 = 0; i0 < TF; i0 += 4) {
            float t[VL];
            vf_store(t, vf_hsum4_lanes(acc[i0][g], i0 + 1 < TF ? acc[i0 + 1][g] : vf_zero(),
                                       i0 + 2 < TF ? acc[i0 + 2][g] : vf_zero(), i0 + 3 < TF ? acc[i0 + 3][g] : vf_zero()));
            for (int r = 0; r < 4 && 4 * g + r < M; r++) {
                float *c = C + (size_t)(4 * g + r) * ldc + i0;
                if (i0 + 4 <= nn) {
                    vf4 add = first ? (bias ? vf4_load(bias + i0) : vf4_zero()) : vf4_load(c);
                    vf4_store(c, vf4_add(vf4_load(t + 4 * r), add));
                } else {
                    for (int i = 0; i < nn - i0; i++) c[i] = t[4 * r + i] + (first ? (bias ? bias[i0 + i] : 0.0f) : c[i]);
                }
            }
        }
}

static inline __attribute__((always_inline)) void gemm_quad_t(const int TF, const int G, int M, int K, const float *A,
                                                             int lda, const void *W, const kern_wtype wt, int ldw,
                                                             const float *bias, float *C, int ldc, int n_begin,
                                                             int n_end, float *xq, float *wb)
{
    const size_t esz = wt == KERN_W_F32 ? 4 : 2;
    const int pf_step = (int)(64 / esz), KS = qd_chunk(); /* one line of a row per pf_step steps */
    for (int k0 = 0; k0 < K; k0 += KS) {
        const int kc = K - k0 < KS ? K - k0 : KS;
        for (int n = n_begin; n < n_end && n < n_begin + 2 * TF; n++)
            for (size_t b = 0; b < (size_t)kc * esz; b += 64) __builtin_prefetch((const char *)W + ((size_t)n * ldw + k0) * esz + b, 0, 3);
        qd_pack_x(A, lda, M, G, k0, kc, xq);
        for (int n0 = n_begin; n0 < n_end; n0 += TF) {
            const int nn = n_end - n0 < TF ? n_end - n0 : TF;
            const float *w[QD_TF_MAX];
            const char *pf[QD_TF_MAX]; /* the rows two tiles on */
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) {
                int n = n0 + (i < nn ? i : 0), p = n0 + 2 * TF + i < n_end ? n0 + 2 * TF + i : n;
                pf[i] = (const char *)W + ((size_t)p * ldw + k0) * esz;
                if (wt == KERN_W_F32) {
                    w[i] = (const float *)W + (size_t)n * ldw + k0;
                } else {
                    w_row(W, wt, ldw, n, k0, kc, wb + (size_t)i * kc);
                    w[i] = wb + (size_t)i * kc;
                }
            }
            qd_tile(TF, G, kc, xq, w, pf, pf_step, esz, C + n0, ldc, M, nn, bias ? bias + n0 : NULL, k0 == 0);
        }
    }
}

#define QD_SHAPES(wt_)                                                                                                    \
    do {                                                                                                                  \
        const int g = qd_groups(M);                                                                                       \
        if (g <= 2) gemm_quad_t(GEMM_QUAD_TF2, 2, M, K, A, lda, W, wt_, ldw, bias, C, ldc, n_begin, n_end, xq, wb);     \
        else if (g == 3) gemm_quad_t(GEMM_QUAD_TF3, 3, M, K, A, lda, W, wt_, ldw, bias, C, ldc, n_begin, n_end, xq, wb); \
        else if (g == 4) gemm_quad_t(GEMM_QUAD_TF4, 4, M, K, A, lda, W, wt_, ldw, bias, C, ldc, n_begin, n_end, xq, wb); \
        else if (g == 5) gemm_quad_t(GEMM_QUAD_TF5, 5, M, K, A, lda, W, wt_, ldw, bias, C, ldc, n_begin, n_end, xq, wb); \
        else gemm_quad_t(GEMM_QUAD_TF6, 6, M, K, A, lda, W, wt_, ldw, bias, C, ldc, n_begin, n_end, xq, wb);             \
    } while (0)
static void gemm_quad(int M, int K, const float *A, int lda, const void *W, kern_wtype wt, int ldw,
                      const float *bias, float *C, int ldc, int n_begin, int n_end, float *scratch)
{
    float *xq = scratch, *wb = scratch + BC_XT;
    if (wt == KERN_W_F32) QD_SHAPES(KERN_W_F32);
    else if (wt == KERN_W_F16) QD_SHAPES(KERN_W_F16);
    else QD_SHAPES(KERN_W_BF16);
}
#undef QD_SHAPES
#endif

/* One GEMM form on columns n_begin .. n_end of C, with one thread's scratch */
typedef void (*gemm_cols_fn)(int M, int K, const float *A, int lda, const void *W, kern_wtype wt, int ldw,
                             const float *bias, float *C, int ldc, int n_begin, int n_end, float *scratch);

#if defined(GEMM_QUAD_TF2) || defined(GEMM_BCAST_TF2)
/* The quad and broadcast forms over the threads: tiles of tf columns, a
 * contiguous run of them per thread, each thread with its own scratch (its
 * X or X^T).  Called once per thread: the call through a pointer costs
 * nothing beside the tiles. */
static void gemm_column_tiles(gemm_cols_fn fn, int tf, int M, int N, int K, const float *A, int lda, const void *W,
                              kern_wtype wt, int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    const size_t per_thread = kern_gemm_scratch_floats(1);
    int tiles = (N + tf - 1) / tf, nt = n_threads < 1 ? 1 : n_threads;
    if (nt > tiles) nt = tiles;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
        int b0 = (int)((long)tiles * t / nt), b1 = (int)((long)tiles * (t + 1) / nt);
        int ne = b1 * tf < N ? b1 * tf : N;
        if (b0 * tf < ne) fn(M, K, A, lda, W, wt, ldw, bias, C, ldc, b0 * tf, ne, pack + (size_t)t * per_thread);
    }
}
#endif

/* The packed form (gemm_cols; bh_cols for gemm_bf16dot) over the threads. */
static void gemm_packed(gemm_cols_fn fn, int M, int N, int K, const float *A, int lda, const void *W, kern_wtype wt,
                        int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    const size_t per_thread = kern_gemm_scratch_floats(1);
    const int panels = (N + NR - 1) / NR;
    int nt = n_threads < 1 ? 1 : n_threads;
    if (nt > panels) nt = panels;
    if (nt == 1) { fn(M, K, A, lda, W, wt, ldw, bias, C, ldc, 0, N, pack); return; }
    /* threads take disjoint row chunks or column ranges: each element is
     * computed the same way whatever the thread count.  Rows when they
     * outnumber columns: a chunk then packs its own rows of A once (not all
     * of A once per thread) and all of W, the smaller operand. */
    const int by_rows = M > N, units = by_rows ? (M + GEMM_MR - 1) / GEMM_MR : panels, step = by_rows ? GEMM_MR : NR;
    if (nt > units) nt = units;
    #pragma omp parallel num_threads(nt)
    {
        int t = 0, T = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        T = omp_get_num_threads();
#endif
        float *pk = pack + (size_t)t * per_thread;
        if (by_rows) {
            /* row chunks taken as threads come free: a core that loses time
             * to another process does less.  A chunk repacks W, so about
             * 512 rows or more, at most 4 a thread, and of even size (no
             * sliver at the end that packs all of W for a few rows) */
            int want = units / (512 / GEMM_MR);
            if (want > 4 * T) want = 4 * T;
            if (want < T) want = T;
            const int cu = (units + want - 1) / want, chunks = (units + cu - 1) / cu;
            #pragma omp for schedule(dynamic, 1)
            for (int c = 0; c < chunks; c++) {
                int r0 = c * cu * GEMM_MR, r1 = r0 + cu * GEMM_MR < M ? r0 + cu * GEMM_MR : M;
                fn(r1 - r0, K, A + (size_t)r0 * lda, lda, W, wt, ldw, bias, C + (size_t)r0 * ldc, ldc, 0, N, pk);
            }
        } else {
            int b0 = (int)((long)units * t / T) * step, b1 = (int)((long)units * (t + 1) / T) * step;
            if (b1 > N) b1 = N;
            if (b0 < b1) fn(M, K, A, lda, W, wt, ldw, bias, C, ldc, b0, b1, pk);
        }
    }
}

/* The form gemm_f32 gives M rows: the dot products for a few, the quad
 * tiles (AVX-512) up to QD_MAX_M, then the broadcast and packed forms,
 * which sum alike (KERN_GEMM_SUM). */
static int FN(gemm_form)(int M)
{
#ifdef GEMM_QUAD_TF2
    if (M >= GEMM_QUAD_MIN_M && M <= QD_MAX_M) return KERN_GEMM_QUAD;
#endif
#ifdef GEMM_BCAST_TF2
    if (M >= GEMM_BCAST_MIN_M && M <= BC_MAX_M) return KERN_GEMM_SUM;
#endif
    return M <= SMALL_M ? KERN_GEMM_DOT : KERN_GEMM_SUM;
}

/* Every form takes any M: each computes a row of C alike whatever rows
 * share the call (the dot products 4 rows at a time, the quad tiles
 * QD_MAX_M rows a call, the sums from the bias in k order). */
static void FN(gemm_form_f32)(int form, int M, int N, int K, const float *A, int lda, const void *W, kern_wtype wt,
                              int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* empty sum: bias or zero */
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) C[(size_t)m * ldc + n] = bias ? bias[n] : 0.0f;
        return;
    }
    if (form == KERN_GEMM_DOT) {
        /* blocks of SB_N columns over the threads; each element computed alike */
        int blocks = (N + SB_N - 1) / SB_N, nt = n_threads < 1 ? 1 : n_threads;
        if (nt > blocks) nt = blocks;
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (int t = 0; t < nt; t++) {
            int b0 = (int)((long)blocks * t / nt), b1 = (int)((long)blocks * (t + 1) / nt);
            int ne = b1 * SB_N < N ? b1 * SB_N : N;
            if (b0 * SB_N < ne) gemm_small(M, K, A, lda, W, wt, ldw, bias, C, ldc, b0 * SB_N, ne);
        }
        return;
    }
#ifdef GEMM_QUAD_TF2
    if (form == KERN_GEMM_QUAD) {
        for (int m0 = 0; m0 < M; m0 += QD_MAX_M) {
            const int mm = M - m0 < QD_MAX_M ? M - m0 : QD_MAX_M;
            gemm_column_tiles(gemm_quad, qd_tf(mm), mm, N, K, A + (size_t)m0 * lda, lda, W, wt, ldw, bias,
                              C + (size_t)m0 * ldc, ldc, pack, n_threads);
        }
        return;
    }
#endif
#ifdef GEMM_BCAST_TF2
    if (M >= GEMM_BCAST_MIN_M && M <= BC_MAX_M) {
        gemm_column_tiles(gemm_bcast, bc_tf(M), M, N, K, A, lda, W, wt, ldw, bias, C, ldc, pack, n_threads);
        return;
    }
#endif
    gemm_packed(gemm_cols, M, N, K, A, lda, W, wt, ldw, bias, C, ldc, pack, n_threads);
}

static void FN(gemm)(int M, int N, int K, const float *A, int lda, const void *W, kern_wtype wt,
                     int ldw, const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    FN(gemm_form_f32)(FN(gemm_form)(M), M, N, K, A, lda, W, wt, ldw, bias, C, ldc, pack, n_threads);
}

#ifdef VF_DPBF16
/* ---- gemm_bf16dot: C = bf16(A) . W^T + bias, W bf16, by vf_dpbf16 ------ */

/* The forms of gemm_f32, by rows: up to BH_DOT_MAX_M the dot products (W
 * rows read in place against A rows rounded as they are read, a reduction
 * per block); up to BH_MAX_M W broadcast a pair at a time from its rows in
 * place against X^T packed as pairs; above, packed panels of W pairs and A
 * pairs under the register-blocked tile.  W is never widened: a pair of
 * it is one 32-bit word of its row, packed or broadcast as it is.  The
 * broadcast and packed forms start each sum from the bias (or from C past
 * the first k chunk) and add pair after pair in k order: the reference's
 * order, so its bits wherever vf_dpbf16 is exactly vdpbf16ps's pseudo-code.
 * The k chunks depend on M and K alone and a thread owns whole columns or
 * rows: any thread count gives the same bits. */
_Static_assert(VL == 16, "gemm_bf16dot: AVX-512's shapes (vdpbf16ps has no narrower home here)");
#ifndef VF_TRANSPOSE
#error "gemm_bf16dot's broadcast tiles are transposed to C's rows"
#endif
#define BH_DOT_MAX_M 4
#define BH_MAX_M 256
#define BH_XT 65536 /* words of X^T pairs per chunk: 256 KB, as the f32 broadcast form's */
/* broadcast tiles: columns over blocks of one, two and three vectors of rows
 * (16 accumulators + 1 X, 24 + 2, 24 + 3; W's pair a memory operand) */
#define BH_TF1 16
#define BH_TF2 12
#define BH_TF3 8
#define BH_TF_MAX 16
_Static_assert(BH_TF_MAX <= VL, "a tile's accumulators are transposed as one VL x VL block");
/* k per block of the packed form: 768 k of pairs in 256 columns are the
 * bytes of the f32 form's 384 k of floats */
#define BH_KC (2 * KERN_GEMM_KC)
_Static_assert(GEMM_MR * (BH_KC / 2) <= KERN_GEMM_KC * 16, "the A panel of pairs in its room of scratch");

/* w[0], w[1] as one pair, w[1] read only when two (else a zero half) */
static inline uint32_t bh_pair(const uint16_t *w, int two) { return (uint32_t)w[0] | (uint32_t)(two ? w[1] : 0) << 16; }

/* VL pairs of a row of A rounded from a, n floats there (zero past n) */
static inline vbh bh_row_pairs(const float *a, int n)
{
    if (n >= 2 * VL) return vbh_round(vf_load(a), vf_load(a + VL));
    return vbh_round(vf_load_n(a, clampv(n)), vf_load_n(a + VL, clampv(n - VL)));
}

/* x[kp][j] = pair kp of A row j from element k0 (kc elements, (kc + 1) / 2
 * pairs) for j < rows, zero for rows <= j < rb */
static void bh_pack_rows(const float *A, int lda, int rows, int rb, int k0, int kc, uint32_t *x)
{
    const int kcp = (kc + 1) / 2;
    for (int j = 0; j < rb; j++) {
        if (j >= rows) {
            for (int kp = 0; kp < kcp; kp++) x[(size_t)kp * rb + j] = 0;
            continue;
        }
        const float *a = A + (size_t)j * lda + k0;
        for (int kp = 0; kp < kcp; kp += VL) {
            uint32_t t[VL];
            vbh_store(t, bh_row_pairs(a + 2 * kp, kc - 2 * kp));
            const int e = kcp - kp < VL ? kcp - kp : VL;
            for (int i = 0; i < e; i++) x[(size_t)(kp + i) * rb + j] = t[i];
        }
    }
}

/* R (1 .. 4) rows: blocks of SB_N columns of dot products, each lane
 * summing every VL-th pair, the lanes added at the end */
static inline __attribute__((always_inline)) void bh_dot_t(const int R, int K, const float *A, int lda, const uint16_t *W,
                                                           int ldw, const float *bias, float *C, int ldc, int n_begin,
                                                           int n_end)
{
    const int Kv = K - K % (2 * VL), kt = K - Kv;
    for (int n0 = n_begin; n0 < n_end; n0 += SB_N) {
        const int nn = n_end - n0 < SB_N ? n_end - n0 : SB_N;
        vf acc[4][SB_N];
        const uint16_t *w[SB_N], *pf[SB_N]; /* the next block's rows, a line each per step */
#pragma GCC unroll 4
        for (int j = 0; j < SB_N; j++) {
            const int n = n0 + (j < nn ? j : 0), p = n0 + SB_N + j < n_end ? n0 + SB_N + j : n;
            w[j] = W + (size_t)n * ldw;
            pf[j] = W + (size_t)p * ldw;
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) acc[i][j] = vf_zero();
        }
        for (int k = 0; k < Kv; k += 2 * VL) {
            vbh wv[SB_N];
#pragma GCC unroll 4
            for (int j = 0; j < SB_N; j++) {
                __builtin_prefetch(pf[j] + k, 0, 3);
                wv[j] = vbh_load_w(w[j] + k);
            }
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) {
                const float *a = A + (size_t)i * lda + k;
                const vbh av = vbh_round(vf_load(a), vf_load(a + VL));
#pragma GCC unroll 4
                for (int j = 0; j < SB_N; j++) acc[i][j] = vf_dpbf16(acc[i][j], av, wv[j]);
            }
        }
        if (kt) { /* W read only to K, A zero past it */
            vbh wv[SB_N];
            for (int j = 0; j < SB_N; j++) wv[j] = vbh_load_w_n(w[j] + Kv, kt);
            for (int i = 0; i < R; i++) {
                const vbh av = bh_row_pairs(A + (size_t)i * lda + Kv, kt);
                for (int j = 0; j < SB_N; j++) acc[i][j] = vf_dpbf16(acc[i][j], av, wv[j]);
            }
        }
        for (int i = 0; i < R; i++) {
            float s[4];
            vf4_store(s, vf_hsum4(acc[i][0], acc[i][1 % SB_N], acc[i][2 % SB_N], SB_N > 3 ? acc[i][3 % SB_N] : vf_zero()));
            for (int j = 0; j < nn; j++) C[(size_t)i * ldc + n0 + j] = s[j] + (bias ? bias[n0 + j] : 0.0f);
        }
    }
}

static void bh_dot(int M, int K, const float *A, int lda, const uint16_t *W, int ldw, const float *bias, float *C,
                   int ldc, int n_begin, int n_end)
{
    if (M == 1) bh_dot_t(1, K, A, lda, W, ldw, bias, C, ldc, n_begin, n_end);
    else if (M == 2) bh_dot_t(2, K, A, lda, W, ldw, bias, C, ldc, n_begin, n_end);
    else if (M == 3) bh_dot_t(3, K, A, lda, W, ldw, bias, C, ldc, n_begin, n_end);
    else bh_dot_t(4, K, A, lda, W, ldw, bias, C, ldc, n_begin, n_end);
}

/* The broadcast form's rows in vectors (v), its tile width, the rows of the
 * block from row m0 (one vector when there is one; else as bc_block: blocks
 * of two vectors, or for an odd v an odd number of three-vector blocks
 * then two-vector ones), and its pairs per k chunk. */
static int bh_vectors(int M) { return (M + VL - 1) / VL; }
static int bh_tf(int M)
{
    const int v = bh_vectors(M);
    return v == 1 ? BH_TF1 : v % 2 == 0 ? BH_TF2 : BH_TF3;
}
static int bh_block(int M, int m0)
{
    const int v = bh_vectors(M);
    if (v == 1) return VL;
    if (v % 2 == 0) return 2 * VL;
    int a = v / 3; /* v = 3 a + 2 b, a odd */
    if (a % 2 == 0) a--;
    return m0 < a * 3 * VL ? 3 * VL : 2 * VL;
}
static int bh_chunk_pairs(int M) { return BH_XT / (bh_vectors(M) * VL); }

/* A TF-column tile of rows 0 .. rows (rows <= TV VL) over kcp pairs (the
 * last one W's element alone when odd): acc[i][h] holds column i of rows
 * h VL ..; it starts from the bias (first k chunk) or from C and leaves to
 * C, both through a transpose.  pf != NULL: a line of each row at pf[i]
 * is requested per 16 pairs. */
static inline __attribute__((always_inline)) void bh_tile(const int TF, const int TV, int kcp, int odd, const uint32_t *x,
                                                          const uint16_t *const *w, const uint16_t *const *pf, float *C,
                                                          int ldc, int rows, int nn, const float *bias, int first)
{
    vf acc[BH_TF_MAX][3];
    if (first) {
#pragma GCC unroll 16
        for (int i = 0; i < TF; i++) acc[i][0] = acc[i][1] = acc[i][2] = vf_set1(bias && i < nn ? bias[i] : 0.0f);
    } else {
#pragma GCC unroll 4
        for (int h = 0; h < TV; h++) {
            vf r[VL];
#pragma GCC unroll 16
            for (int m = 0; m < VL; m++) r[m] = h * VL + m < rows ? vf_load_n(C + (size_t)(h * VL + m) * ldc, nn) : vf_zero();
            vf_transpose(r);
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) acc[i][h] = r[i];
        }
    }
    const int full = kcp - odd;
    for (int kp = 0; kp < full;) {
        const int ke = full - kp < 16 ? full : kp + 16;
        if (pf) {
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) __builtin_prefetch(pf[i] + 2 * kp, 0, 3);
        }
        for (; kp < ke; kp++, x += TV * VL) {
            const vbh x0 = vbh_load(x), x1 = TV > 1 ? vbh_load(x + VL) : x0, x2 = TV > 2 ? vbh_load(x + 2 * VL) : x0;
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) {
                const vbh b = vbh_set1(bh_pair(w[i] + 2 * kp, 1));
                acc[i][0] = vf_dpbf16(acc[i][0], x0, b);
                if (TV > 1) acc[i][1] = vf_dpbf16(acc[i][1], x1, b);
                if (TV > 2) acc[i][2] = vf_dpbf16(acc[i][2], x2, b);
            }
        }
    }
    if (odd) { /* W's last element alone: its row ends there */
        const vbh x0 = vbh_load(x), x1 = TV > 1 ? vbh_load(x + VL) : x0, x2 = TV > 2 ? vbh_load(x + 2 * VL) : x0;
#pragma GCC unroll 16
        for (int i = 0; i < TF; i++) {
            const vbh b = vbh_set1(bh_pair(w[i] + 2 * full, 0));
            acc[i][0] = vf_dpbf16(acc[i][0], x0, b);
            if (TV > 1) acc[i][1] = vf_dpbf16(acc[i][1], x1, b);
            if (TV > 2) acc[i][2] = vf_dpbf16(acc[i][2], x2, b);
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < TV; h++) {
        vf r[VL];
#pragma GCC unroll 16
        for (int i = 0; i < VL; i++) r[i] = i < TF ? acc[i][h] : vf_zero();
        vf_transpose(r);
        const int mr = rows - h * VL < VL ? rows - h * VL : VL;
        for (int m = 0; m < mr; m++) vf_store_n(C + (size_t)(h * VL + m) * ldc, r[m], nn);
    }
}

static inline __attribute__((always_inline)) void bh_bcast_t(const int TF, int M, int K, const float *A, int lda,
                                                            const uint16_t *W, int ldw, const float *bias, float *C,
                                                            int ldc, int n_begin, int n_end, uint32_t *xt)
{
    const int KS = 2 * bh_chunk_pairs(M);
    for (int k0 = 0; k0 < K; k0 += KS) {
        const int kc = K - k0 < KS ? K - k0 : KS, kcp = (kc + 1) / 2;
        /* the first two tiles' rows (later ones are requested two tiles ahead) while X^T is packed */
        for (int n = n_begin; n < n_end && n < n_begin + 2 * TF; n++)
            for (size_t b = 0; b < (size_t)kc * 2; b += 64) __builtin_prefetch((const char *)(W + (size_t)n * ldw + k0) + b, 0, 3);
        for (int m0 = 0, rb; m0 < M; m0 += rb) {
            rb = bh_block(M, m0);
            bh_pack_rows(A + (size_t)m0 * lda, lda, M - m0 < rb ? M - m0 : rb, rb, k0, kc, xt + (size_t)m0 * kcp);
        }
        for (int n0 = n_begin; n0 < n_end; n0 += TF) {
            const int nn = n_end - n0 < TF ? n_end - n0 : TF;
            const uint16_t *w[BH_TF_MAX], *pf[BH_TF_MAX];
#pragma GCC unroll 16
            for (int i = 0; i < TF; i++) {
                const int n = n0 + (i < nn ? i : 0), p = n0 + 2 * TF + i < n_end ? n0 + 2 * TF + i : n;
                w[i] = W + (size_t)n * ldw + k0;
                pf[i] = W + (size_t)p * ldw + k0;
            }
            for (int m0 = 0, rb; m0 < M; m0 += rb) {
                rb = bh_block(M, m0);
                const int rows = M - m0 < rb ? M - m0 : rb;
                const uint32_t *x = xt + (size_t)m0 * kcp;
                const uint16_t *const *p = m0 ? NULL : pf;
                float *c = C + (size_t)m0 * ldc + n0;
                const float *b = bias ? bias + n0 : NULL;
                /* the block shapes each tile width meets (bh_tf, bh_block) */
                if (TF == BH_TF1) bh_tile(TF, 1, kcp, kc & 1, x, w, p, c, ldc, rows, nn, b, k0 == 0);
                else if (TF == BH_TF3 && rb == 3 * VL) bh_tile(TF, 3, kcp, kc & 1, x, w, p, c, ldc, rows, nn, b, k0 == 0);
                else bh_tile(TF, 2, kcp, kc & 1, x, w, p, c, ldc, rows, nn, b, k0 == 0);
            }
        }
    }
}

static void bh_bcast(int M, int K, const float *A, int lda, const void *W, kern_wtype wt, int ldw, const float *bias,
                     float *C, int ldc, int n_begin, int n_end, float *scratch)
{
    (void)wt; /* bf16 */
    uint32_t *xt = (uint32_t *)(void *)scratch;
    const int tf = bh_tf(M);
    if (tf == BH_TF1) bh_bcast_t(BH_TF1, M, K, A, lda, W, ldw, bias, C, ldc, n_begin, n_end, xt);
    else if (tf == BH_TF2) bh_bcast_t(BH_TF2, M, K, A, lda, W, ldw, bias, C, ldc, n_begin, n_end, xt);
    else bh_bcast_t(BH_TF3, M, K, A, lda, W, ldw, bias, C, ldc, n_begin, n_end, xt);
}

/* W rows n0 .. n0 + nn, elements k0 .. k0 + kk as NR-wide panels of pairs:
 * dst[p][kp][j] = pair kp of row n0 + p NR + j, zero past nn (an odd kk's
 * last pair W's element alone) */
static void bh_pack_w(const uint16_t *W, int ldw, int n0, int nn, int k0, int kk, uint32_t *dst)
{
    const int kcp = (kk + 1) / 2, full = kk / 2;
    for (int p = 0; p * NR < nn; p++) {
        uint32_t *d = dst + (size_t)p * kcp * NR;
        for (int j = 0; j < NR; j++) {
            const int n = p * NR + j;
            if (n >= nn) {
                for (int kp = 0; kp < kcp; kp++) d[(size_t)kp * NR + j] = 0;
                continue;
            }
            const uint16_t *src = W + (size_t)(n0 + n) * ldw + k0;
            for (int kp = 0; kp < full; kp++) d[(size_t)kp * NR + j] = bh_pair(src + 2 * kp, 1);
            if (kcp > full) d[(size_t)full * NR + j] = bh_pair(src + 2 * full, 0);
        }
    }
}

/* C[mm][jn] (+)= ap (kcp pairs x MR) . bp (kcp pairs x NR), ukernel's tile */
static void bh_ukernel(int kcp, const uint32_t *ap, const uint32_t *bp, float *c, int ldc, int mm, int jn,
                       const float *bias, int first)
{
    vf c0[GEMM_MR], c1[GEMM_MR];
    tile_begin(c0, c1, c, ldc, mm, jn, bias, first);
    for (int k = 0; k < kcp; k++) {
        const vbh b0 = vbh_load(bp), b1 = vbh_load(bp + VL);
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++) {
            const vbh a = vbh_set1(ap[i]);
            c0[i] = vf_dpbf16(c0[i], a, b0);
            c1[i] = vf_dpbf16(c1[i], a, b1);
        }
        ap += GEMM_MR;
        bp += NR;
    }
    tile_end(c0, c1, c, ldc, mm, jn);
}

/* gemm_cols with pairs: a KCB x NCB block of W packed, every row of A swept
 * over it MR rows at a time */
static void bh_cols(int M, int K, const float *A, int lda, const void *Wv, kern_wtype wt, int ldw, const float *bias,
                    float *C, int ldc, int n_begin, int n_end, float *pack)
{
    (void)wt; /* bf16 */
    const uint16_t *W = Wv;
    uint32_t *wp = (uint32_t *)(void *)pack, *ap = wp + (size_t)KERN_GEMM_KC * KERN_GEMM_NC;
    /* blocks of equal size, as gemm_cols's; even, so only K's last pair is ever short */
    const int nkb = (K + BH_KC - 1) / BH_KC, KCB = ((K + nkb - 1) / nkb + 7) & ~7;
    const int nnb = (n_end - n_begin + KERN_GEMM_NC - 1) / KERN_GEMM_NC;
    const int NCB = ((n_end - n_begin + nnb - 1) / nnb + NR - 1) / NR * NR;
    for (int n0 = n_begin; n0 < n_end; n0 += NCB) {
        const int nn = n_end - n0 < NCB ? n_end - n0 : NCB;
        for (int k0 = 0; k0 < K; k0 += KCB) {
            const int kk = K - k0 < KCB ? K - k0 : KCB, kcp = (kk + 1) / 2;
            bh_pack_w(W, ldw, n0, nn, k0, kk, wp);
            for (int m0 = 0; m0 < M; m0 += GEMM_MR) {
                const int mm = M - m0 < GEMM_MR ? M - m0 : GEMM_MR;
                bh_pack_rows(A + (size_t)m0 * lda, lda, mm, GEMM_MR, k0, kk, ap);
                for (int p = 0; p * NR < nn; p++) {
                    const int jn = nn - p * NR < NR ? nn - p * NR : NR;
                    /* past the first K block the next tile's C rows are read back: request them now */
                    if (k0 && (p + 1) * NR < nn)
                        for (int i = 0; i < mm; i++) __builtin_prefetch(C + (size_t)(m0 + i) * ldc + n0 + (p + 1) * NR, 0, 3);
                    bh_ukernel(kcp, ap, wp + (size_t)p * kcp * NR, C + (size_t)m0 * ldc + n0 + p * NR, ldc, mm, jn,
                               bias ? bias + n0 + p * NR : NULL, k0 == 0);
                }
            }
        }
    }
}

static void FN(gemm_bf16dot)(int M, int N, int K, const float *A, int lda, const uint16_t *W, int ldw,
                             const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* empty sum: bias or zero */
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) C[(size_t)m * ldc + n] = bias ? bias[n] : 0.0f;
        return;
    }
    if (M <= BH_DOT_MAX_M) {
        /* blocks of SB_N columns over the threads, as gemm_f32's small M */
        int blocks = (N + SB_N - 1) / SB_N, nt = n_threads < 1 ? 1 : n_threads;
        if (nt > blocks) nt = blocks;
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (int t = 0; t < nt; t++) {
            int b0 = (int)((long)blocks * t / nt), b1 = (int)((long)blocks * (t + 1) / nt);
            int ne = b1 * SB_N < N ? b1 * SB_N : N;
            if (b0 * SB_N < ne) bh_dot(M, K, A, lda, W, ldw, bias, C, ldc, b0 * SB_N, ne);
        }
        return;
    }
    if (M <= BH_MAX_M) {
        gemm_column_tiles(bh_bcast, bh_tf(M), M, N, K, A, lda, W, KERN_W_BF16, ldw, bias, C, ldc, pack, n_threads);
        return;
    }
    gemm_packed(bh_cols, M, N, K, A, lda, W, KERN_W_BF16, ldw, bias, C, ldc, pack, n_threads);
}
#endif

#ifdef VF_DPBF16
#define BODY_GEMM_BF16DOT FN(gemm_bf16dot)
#else
#define BODY_GEMM_BF16DOT NULL
#endif
/* The table of this body's operations under a name, with the given
 * gemm_bf16dot: the ISA file's own (KERN_OPS_NAME), and simd_bf16.c's
 * second one (amxbf16: the same code, AMX's gemm_bf16dot). */
#define BODY_TABLE(table_name, isa_id, isa_str, bf16dot) \
    const kern_ops table_name = {                        \
        .isa = isa_id,                                   \
        .name = isa_str,                                 \
        .gemm_f32 = FN(gemm),                            \
        .gemm_form = FN(gemm_form),                      \
        .gemm_form_f32 = FN(gemm_form_f32),              \
        .gemm_bf16dot = bf16dot,                         \
        .layernorm_f32 = FN(layernorm),                  \
        .gelu_f32 = FN(gelu),                            \
        .attention_f32 = FN(attention),                  \
        .attention_causal_f32 = FN(attention_causal),    \
        .attention_alibi_f32 = FN(attention_alibi),      \
        .rmsnorm_f32 = FN(rmsnorm),                      \
        .rope_f32 = FN(rope),                            \
        .silu_mul_f32 = FN(silu_mul),                    \
        .dot_f32 = FN(dot),                              \
        .l2sq_f32 = FN(l2sq),                            \
        .dot_f32_i8 = FN(dot_f32_i8),                    \
        .hamming = FN(hamming),                          \
        .hamming_panel = FN(hamming_panel),              \
        .pq_lut = FN(pq_lut),                            \
        .pq4_scan = FN(pq4_scan),                        \
        .dot_i8 = FN(dot_i8),                            \
    }
BODY_TABLE(KERN_OPS_NAME, KERN_ISA_ID, KERN_ISA_STR, BODY_GEMM_BF16DOT);
