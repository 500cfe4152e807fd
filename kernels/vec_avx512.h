/* The AVX-512 vector vocabulary that kernels/simd_body.h is written against. */
#include <immintrin.h>
#include <stdint.h>

#define VL 16
#include "kernels/gemm_shapes.h"
typedef __m512 vf;
typedef __m512i vi;
#define vf_load(p) _mm512_loadu_ps(p)
#define vf_store(p, v) _mm512_storeu_ps(p, v)
#define vf_set1(x) _mm512_set1_ps(x)
#define vf_zero() _mm512_setzero_ps()
#define vf_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define vf_fnma(a, b, c) _mm512_fnmadd_ps(a, b, c)
#define vf_add(a, b) _mm512_add_ps(a, b)
#define vf_sub(a, b) _mm512_sub_ps(a, b)
#define vf_mul(a, b) _mm512_mul_ps(a, b)
#define vf_div(a, b) _mm512_div_ps(a, b)
#define vf_max(a, b) _mm512_max_ps(a, b)
#define vf_min(a, b) _mm512_min_ps(a, b)
#define vf_abs(a) _mm512_abs_ps(a)
#define vf_hsum(v) _mm512_reduce_add_ps(v)
#define vf_hmax(v) _mm512_reduce_max_ps(v)
/* the four sums of a, b, c, d, in that order: in-lane transposes, then the lanes */
static inline __m128 vf_hsum4(vf a, vf b, vf c, vf d)
{
    vf ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    vf cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    vf s = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}
typedef __m128 vf4; /* four floats: the quad tiles' output blocks */
#define vf4_store(p, v) _mm_storeu_ps(p, v)
#define vf4_load(p) _mm_loadu_ps(p)
#define vf4_add(a, b) _mm_add_ps(a, b)
#define vf4_zero() _mm_setzero_ps()
/* the quad GEMM tiles (simd_body.h): the 4 floats at p in every 128-bit
 * block, or the first n (0..4, the rest 0, nothing past p + n read) */
#define vf_broadcast4(p) _mm512_broadcast_f32x4(_mm_loadu_ps(p))
#define vf_broadcast4_n(p, n) _mm512_broadcast_f32x4(_mm_maskz_loadu_ps((__mmask8)((1u << (n)) - 1u), p))
/* per 128-bit block q: lane 4 q + 0 the sum of a's four lanes in block q,
 * then b's, c's, d's, each as (l0 + l2) + (l1 + l3) */
static inline vf vf_hsum4_lanes(vf a, vf b, vf c, vf d)
{
    vf ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    vf cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    return _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
}
#define vf_round(x) _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* 2^n for integral-valued float n in [-126, 127] */
#define vf_pow2i(n) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
/* copysign(a, sign of s) for a >= 0 */
#define vf_copysign(a, s) _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_and_si512(_mm512_castps_si512(s), _mm512_set1_epi32((int)0x80000000))))
/* lanes < n; defined for any n (a shift by n < 0 or n > 31 is not: x86
 * takes the count mod 32, and a negative one gave a full mask) */
static inline __mmask16 vf_mask_n(int n) { return (__mmask16)(n <= 0 ? 0u : n >= 16 ? 0xffffu : (1u << n) - 1u); }
#define vf_load_n(p, n) _mm512_maskz_loadu_ps(vf_mask_n(n), p)
#define vf_broadcast(p) _mm512_set1_ps(*(p))
/* 0 in lanes < n, -inf in the others */
#define vf_pad_mask(n) _mm512_mask_blend_ps(vf_mask_n(n), _mm512_set1_ps(-__builtin_inff()), _mm512_setzero_ps())
#define vf_store_n(p, v, n) _mm512_mask_storeu_ps(p, vf_mask_n(n), v)
/* the first n lanes of v to p (n a constant at each use: the mask folds) */
#define vf_store_first(p, v, n) _mm512_mask_storeu_ps(p, vf_mask_n(n), v)
/* r[i][j] <- r[j][i] for the 16 x 16 block in r[0..15]: pairs of rows
 * interleaved, then pairs of pairs (each 128-bit lane now holds a column of
 * four rows), then the lanes gathered in two steps */
#define VF_TRANSPOSE 1
static inline __attribute__((always_inline)) void vf_transpose(vf r[16])
{
    vf t[16], s[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* s[4 j + c], 128-bit lane l: column 4 l + c of rows 4 j .. 4 j + 3 */
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        s[4 * j] = _mm512_shuffle_ps(t[4 * j], t[4 * j + 2], 0x44);
        s[4 * j + 1] = _mm512_shuffle_ps(t[4 * j], t[4 * j + 2], 0xEE);
        s[4 * j + 2] = _mm512_shuffle_ps(t[4 * j + 1], t[4 * j + 3], 0x44);
        s[4 * j + 3] = _mm512_shuffle_ps(t[4 * j + 1], t[4 * j + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        /* lanes 0 and 2 (columns c, 8 + c), 1 and 3 (4 + c, 12 + c) of rows 0..7 and 8..15 */
        vf u0 = _mm512_shuffle_f32x4(s[c], s[4 + c], 0x88), u1 = _mm512_shuffle_f32x4(s[c], s[4 + c], 0xDD);
        vf u2 = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0x88), u3 = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(u0, u2, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(u1, u3, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
    }
}
/* 8 or 16 halves -> floats */
static inline vf vf_from_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
static inline vf vf_from_bf16(const uint16_t *p)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
static inline vf vf_from_i8(const int8_t *p) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p))); }
/* 64-bit integer lanes for the Hamming panel: 8 per register */
#define VL64 8
#define vi_zero() _mm512_setzero_si512()
#define vi_load(p) _mm512_loadu_si512((const void *)(p))
#define vi_store(p, v) _mm512_storeu_si512((void *)(p), v)
#define vi_set1_64(x) _mm512_set1_epi64((long long)(x))
#define vi_xor(a, b) _mm512_xor_si512(a, b)
#define vi_and(a, b) _mm512_and_si512(a, b)
#define vi_or(a, b) _mm512_or_si512(a, b)
#define vi_add8(a, b) _mm512_add_epi8(a, b)
#define vi_add64(a, b) _mm512_add_epi64(a, b)
#define vi_sum8_64(a) _mm512_sad_epu8(a, _mm512_setzero_si512())
#ifdef __AVX512VPOPCNTDQ__
#define vi_popcnt64(x) _mm512_popcnt_epi64(x)
#else
static inline vi vi_popcnt8(vi x)
{
    const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
    const __m512i lo = _mm512_set1_epi8(0x0f);
    return _mm512_add_epi8(_mm512_shuffle_epi8(lut, _mm512_and_si512(x, lo)),
                           _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(x, 4), lo)));
}
#endif
#ifdef __AVX512BF16__
/* bf16 pairs for gemm_bf16dot: a vbh holds 16 of them, pair i in 32-bit
 * lane i, element 2 i in its low half (vdpbf16ps's layout); loads and
 * stores at any alignment */
#define VF_DPBF16 1
typedef __m512i vbh;
#define vbh_load(p) _mm512_loadu_si512((const void *)(p))   /* 16 pairs (uint32_t *) */
#define vbh_load_w(p) _mm512_loadu_si512((const void *)(p)) /* 32 bf16 (uint16_t *) as 16 pairs */
/* the first n bf16 at p (n in [0, 32]), zeros after, nothing past them read */
static inline vbh vbh_load_w_n(const uint16_t *p, int n)
{
    return _mm512_maskz_loadu_epi16((__mmask32)(n <= 0 ? 0u : n >= 32 ? 0xffffffffu : (1u << n) - 1u), p);
}
#define vbh_set1(x) _mm512_set1_epi32((int)(x))
#define vbh_store(p, v) _mm512_storeu_si512((void *)(p), v)
/* the 32 floats lo, hi to bf16 (nearest even, subnormals to zero), in order */
#define vbh_round(lo, hi) ((vbh)_mm512_cvtne2ps_pbh(hi, lo))
/* per lane: acc + the high halves' product, then + the low halves' */
#define vf_dpbf16(acc, a, b) _mm512_dpbf16_ps(acc, (__m512bh)(a), (__m512bh)(b))
#endif
#define vi_lt64_mask(a, b) ((unsigned)_mm512_cmplt_epu64_mask(a, b))
#define KERN_OPS_NAME kern_ops_avx512
#define KERN_ISA_ID KERN_ISA_AVX512
#define KERN_ISA_STR "avx512"
