/* A portable vector vocabulary for kernels/simd_body.h: plain arrays of
 * EMU_VL (4, 8 or 16) lanes, no intrinsics, so the body's width-dependent
 * logic (tails, masks, key panels, transposes, register blocking) runs on
 * any CPU at each width a real ISA has.  The shapes mirror the real tables:
 * 4 lanes as NEON, 8 as AVX2 (the broadcast GEMM and the 8 x 8 transposes),
 * 16 as AVX-512 (the 64-bit popcount of VPOPCNTDQ; 4 and 8 take the byte
 * counts and adders).  For tests and debugging only (EMBER_ISA=emu16): never
 * chosen by dispatch, and no faster than the scalar reference.
 *
 * The vocabulary's contract on counts (vf_load_n, vf_store_n, vf_pad_mask:
 * lanes in [0, VL]; vf_store_first: 4 or 6, all AVX2 has) is checked here on
 * every call: a count out of range traps (SIGILL), so a kernel that computes
 * one fails its test on any machine, whatever the real ISA would have done
 * with it.  Lanes past a masked count are neither read nor written, as with
 * the real masked loads and stores, so ASan sees any other over-read. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

#define VEC_EMU 1
#define VL EMU_VL
#if VL == 4
#define GEMM_MR 8
#define GEMM_SB_N 4
#define VL64 2
#elif VL == 8
#define GEMM_MR 6
#define GEMM_SB_N 3
#define GEMM_BCAST_TF 6
#define VL64 4
#elif VL == 16
#define GEMM_MR 12
#define VL64 8
#else
#error "EMU_VL must be 4, 8 or 16"
#endif

typedef struct { float f[VL]; } vf;
typedef struct { float f[4]; } vf4;
typedef struct { uint64_t u[VL64]; } vi;

/* n if 0 <= n <= max, else a trap: the count contract above */
static inline int emu_count(int n, int max)
{
    if (n < 0 || n > max) __builtin_trap();
    return n;
}

#define EMU_MAP1(name, expr) \
    static inline vf name(vf a) { vf r; for (int i = 0; i < VL; i++) r.f[i] = (expr); return r; }
#define EMU_MAP2(name, expr) \
    static inline vf name(vf a, vf b) { vf r; for (int i = 0; i < VL; i++) r.f[i] = (expr); return r; }

static inline vf vf_load(const float *p) { vf r; memcpy(r.f, p, sizeof r.f); return r; }
static inline void vf_store(float *p, vf v) { memcpy(p, v.f, sizeof v.f); }
static inline vf vf_set1(float x) { vf r; for (int i = 0; i < VL; i++) r.f[i] = x; return r; }
#define vf_zero() vf_set1(0.0f)
#define vf_broadcast(p) vf_set1(*(p))
/* a b + c: the product exact in double, then the sum rounded (to double,
 * then float: fmaf's single rounding but for double-rounding ties, about one
 * in 2^29; inline, where a call to fmaf made the GEMM 3x slower) */
static inline vf vf_fma(vf a, vf b, vf c)
{
    for (int i = 0; i < VL; i++) c.f[i] = (float)((double)a.f[i] * b.f[i] + c.f[i]);
    return c;
}
/* c - a b */
static inline vf vf_fnma(vf a, vf b, vf c)
{
    for (int i = 0; i < VL; i++) c.f[i] = (float)(c.f[i] - (double)a.f[i] * b.f[i]);
    return c;
}
EMU_MAP2(vf_add, a.f[i] + b.f[i])
EMU_MAP2(vf_sub, a.f[i] - b.f[i])
EMU_MAP2(vf_mul, a.f[i] * b.f[i])
EMU_MAP2(vf_div, a.f[i] / b.f[i])
/* x86's rule: the second operand when either is NaN */
EMU_MAP2(vf_max, a.f[i] > b.f[i] ? a.f[i] : b.f[i])
EMU_MAP2(vf_min, a.f[i] < b.f[i] ? a.f[i] : b.f[i])
EMU_MAP1(vf_abs, fabsf(a.f[i]))
/* to nearest, ties to even (the default rounding mode) */
EMU_MAP1(vf_round, nearbyintf(a.f[i]))

static inline uint32_t emu_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float emu_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
/* a with the sign bit of s added (a >= 0: copysign) */
EMU_MAP2(vf_copysign, emu_float(emu_bits(a.f[i]) | (emu_bits(b.f[i]) & 0x80000000u)))
/* 2^n for integral-valued n in [-126, 127], built in the exponent field as
 * the real ISAs do; a float outside int32 converts to INT32_MIN as x86's
 * cvtps2dq does (a C cast would be undefined) */
static inline uint32_t emu_cvt_i32(float x)
{
    if (!(x >= -2147483648.0f && x < 2147483648.0f)) return 0x80000000u;
    return (uint32_t)(int32_t)nearbyintf(x);
}
EMU_MAP1(vf_pow2i, emu_float((emu_cvt_i32(a.f[i]) + 127u) << 23))

/* pairwise, as the real reductions */
static inline float vf_hsum(vf v)
{
    for (int w = VL / 2; w >= 1; w /= 2)
        for (int i = 0; i < w; i++) v.f[i] += v.f[i + w];
    return v.f[0];
}
static inline float vf_hmax(vf v)
{
    for (int w = VL / 2; w >= 1; w /= 2)
        for (int i = 0; i < w; i++) v.f[i] = v.f[i] > v.f[i + w] ? v.f[i] : v.f[i + w];
    return v.f[0];
}
/* the four sums of a, b, c, d, in that order */
static inline vf4 vf_hsum4(vf a, vf b, vf c, vf d)
{
    vf4 r = {{vf_hsum(a), vf_hsum(b), vf_hsum(c), vf_hsum(d)}};
    return r;
}
static inline void vf4_store(float *p, vf4 v) { memcpy(p, v.f, sizeof v.f); }

/* masked forms: lanes < n read or written, the others 0 / untouched */
static inline vf vf_load_n(const float *p, int n)
{
    vf r = vf_zero();
    memcpy(r.f, p, (size_t)emu_count(n, VL) * sizeof(float));
    return r;
}
static inline void vf_store_n(float *p, vf v, int n) { memcpy(p, v.f, (size_t)emu_count(n, VL) * sizeof(float)); }
/* 0 in lanes < n, -inf in the others */
static inline vf vf_pad_mask(int n)
{
    vf r;
    emu_count(n, VL);
    for (int i = 0; i < VL; i++) r.f[i] = i < n ? 0.0f : -INFINITY;
    return r;
}
/* the first n lanes, n 4 or 6 (all AVX2's vf_store_first writes) */
static inline void vf_store_first(float *p, vf v, const int n)
{
    if (n != 4 && n != 6) __builtin_trap();
    memcpy(p, v.f, (size_t)emu_count(n, VL) * sizeof(float));
}
#if VL == 8
/* r[i][j] <- r[j][i] for the 8 x 8 block in r[0..7] */
static inline void vf_transpose8(vf r[8])
{
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++) {
            float t = r[i].f[j];
            r[i].f[j] = r[j].f[i];
            r[j].f[i] = t;
        }
}
#endif
static inline vf vf_from_f16(const uint16_t *p) { vf r; for (int i = 0; i < VL; i++) r.f[i] = kern_f16_to_f32(p[i]); return r; }
static inline vf vf_from_bf16(const uint16_t *p) { vf r; for (int i = 0; i < VL; i++) r.f[i] = kern_bf16_to_f32(p[i]); return r; }
static inline vf vf_from_i8(const int8_t *p) { vf r; for (int i = 0; i < VL; i++) r.f[i] = (float)p[i]; return r; }

/* 64-bit integer lanes for the Hamming panel; byte lanes by SWAR */
#define EMU_MAPI(name, expr) \
    static inline vi name(vi a, vi b) { vi r; for (int i = 0; i < VL64; i++) r.u[i] = (expr); return r; }
static inline vi vi_set1_64(uint64_t x) { vi r; for (int i = 0; i < VL64; i++) r.u[i] = x; return r; }
#define vi_zero() vi_set1_64(0)
static inline vi vi_load(const uint64_t *p) { vi r; memcpy(r.u, p, sizeof r.u); return r; }
static inline void vi_store(uint64_t *p, vi v) { memcpy(p, v.u, sizeof v.u); }
EMU_MAPI(vi_xor, a.u[i] ^ b.u[i])
EMU_MAPI(vi_and, a.u[i] & b.u[i])
EMU_MAPI(vi_or, a.u[i] | b.u[i])
EMU_MAPI(vi_add64, a.u[i] + b.u[i])
/* bytewise, mod 256: the low 7 bits added, the top bit by xor */
#define EMU_B7 0x7f7f7f7f7f7f7f7full
EMU_MAPI(vi_add8, ((a.u[i] & EMU_B7) + (b.u[i] & EMU_B7)) ^ ((a.u[i] ^ b.u[i]) & ~EMU_B7))
/* bytes -> 64-bit lane sums */
static inline vi vi_sum8_64(vi a)
{
    for (int i = 0; i < VL64; i++) {
        uint64_t s = 0;
        for (int b = 0; b < 8; b++) s += (a.u[i] >> (8 * b)) & 0xff;
        a.u[i] = s;
    }
    return a;
}
#if VL == 16
/* the VPOPCNTDQ path of the Hamming panel */
static inline vi vi_popcnt64(vi a)
{
    for (int i = 0; i < VL64; i++) a.u[i] = (uint64_t)__builtin_popcountll(a.u[i]);
    return a;
}
#define vi_popcnt64 vi_popcnt64
#else
/* per-byte popcount, the byte-count and adder path */
static inline vi vi_popcnt8(vi a)
{
    for (int i = 0; i < VL64; i++) {
        uint64_t x = a.u[i];
        x -= (x >> 1) & 0x5555555555555555ull;
        x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
        a.u[i] = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    }
    return a;
}
#endif
/* bit r of the result: lane r of a < lane r of b */
static inline unsigned vi_lt64_mask(vi a, vi b)
{
    unsigned m = 0;
    for (int i = 0; i < VL64; i++) m |= (unsigned)(a.u[i] < b.u[i]) << i;
    return m;
}
#undef EMU_MAP1
#undef EMU_MAP2
#undef EMU_MAPI
