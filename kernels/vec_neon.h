/* The AArch64 NEON vector vocabulary that kernels/simd_body.h is written
 * against: 128-bit vectors of 4 floats, 32 registers.  NEON (Advanced SIMD)
 * with FMA and f16 conversion is part of every ARMv8-A core, so this table
 * needs no feature test. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define VL 4
#include "kernels/gemm_shapes.h"
typedef float32x4_t vf;
#define vf_load(p) vld1q_f32(p)
#define vf_store(p, v) vst1q_f32(p, v)
#define vf_set1(x) vdupq_n_f32(x)
#define vf_zero() vdupq_n_f32(0.0f)
#define vf_fma(a, b, c) vfmaq_f32(c, a, b)
#define vf_fnma(a, b, c) vfmsq_f32(c, a, b)
#define vf_add(a, b) vaddq_f32(a, b)
#define vf_sub(a, b) vsubq_f32(a, b)
#define vf_mul(a, b) vmulq_f32(a, b)
#define vf_div(a, b) vdivq_f32(a, b)
#define vf_max(a, b) vmaxq_f32(a, b)
#define vf_min(a, b) vminq_f32(a, b)
#define vf_abs(a) vabsq_f32(a)
#define vf_hsum(v) vaddvq_f32(v)
#define vf_hmax(v) vmaxvq_f32(v)
/* the four sums of a, b, c, d, in that order */
static inline float32x4_t vf_hsum4(vf a, vf b, vf c, vf d) { return vpaddq_f32(vpaddq_f32(a, b), vpaddq_f32(c, d)); }
#define vf4_store(p, v) vst1q_f32(p, v)
#define vf_broadcast(p) vld1q_dup_f32(p)
#define vf_round(x) vrndnq_f32(x)
#define vf_pow2i(n) vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23))
#define vf_copysign(a, s) \
    vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vandq_u32(vreinterpretq_u32_f32(s), vdupq_n_u32(0x80000000u))))
static inline uint32x4_t vf_mask_n(int n)
{
    static const int32_t lanes[4] = {0, 1, 2, 3};
    return vcltq_s32(vld1q_s32(lanes), vdupq_n_s32(n));
}
/* lanes past n are neither read nor written (no fault past the end) */
static inline vf vf_load_n(const float *p, int n)
{
    if (n >= VL) return vld1q_f32(p);
    float t[VL] = {0};
    if (n > 0) memcpy(t, p, (size_t)n * sizeof(float));
    return vld1q_f32(t);
}
static inline void vf_store_n(float *p, vf v, int n)
{
    if (n >= VL) { vst1q_f32(p, v); return; }
    float t[VL];
    vst1q_f32(t, v);
    if (n > 0) memcpy(p, t, (size_t)n * sizeof(float));
}
/* 0 in lanes < n, -inf in the others */
static inline vf vf_pad_mask(int n) { return vbslq_f32(vf_mask_n(n), vdupq_n_f32(0.0f), vdupq_n_f32(-__builtin_inff())); }
static inline vf vf_from_f16(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
static inline vf vf_from_bf16(const uint16_t *p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
static inline vf vf_from_i8(const int8_t *p)
{
    int32_t w;
    memcpy(&w, p, sizeof w); /* exactly VL bytes */
    int16x8_t h = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w)));
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(h)));
}
/* 64-bit integer lanes for the Hamming panel: 2 per register */
typedef uint64x2_t vi;
#define VL64 2
#define vi_zero() vdupq_n_u64(0)
#define vi_load(p) vld1q_u64((const uint64_t *)(p))
#define vi_store(p, v) vst1q_u64((uint64_t *)(p), v)
#define vi_set1_64(x) vdupq_n_u64((uint64_t)(x))
#define vi_xor(a, b) veorq_u64(a, b)
#define vi_and(a, b) vandq_u64(a, b)
#define vi_or(a, b) vorrq_u64(a, b)
#define vi_add8(a, b) vreinterpretq_u64_u8(vaddq_u8(vreinterpretq_u8_u64(a), vreinterpretq_u8_u64(b)))
#define vi_add64(a, b) vaddq_u64(a, b)
/* bytes -> 64-bit lane sums */
#define vi_sum8_64(a) vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(vreinterpretq_u8_u64(a))))
/* per-byte popcount: one instruction here */
#define vi_popcnt8(x) vreinterpretq_u64_u8(vcntq_u8(vreinterpretq_u8_u64(x)))
/* bit r of the result: lane r of a < lane r of b */
static inline unsigned vi_lt64_mask(vi a, vi b)
{
    uint64x2_t c = vcltq_u64(a, b);
    return (unsigned)(vgetq_lane_u64(c, 0) & 1) | (unsigned)((vgetq_lane_u64(c, 1) & 1) << 1);
}
#define KERN_OPS_NAME kern_ops_neon
#define KERN_ISA_ID KERN_ISA_NEON
#define KERN_ISA_STR "neon"
