/* A portable vector vocabulary for kernels/simd_body.h: plain arrays of
 * EMU_VL (4, 8 or 16) lanes, no intrinsics, so the body's width-dependent
 * logic (tails, masks, key panels, transposes, register blocking) runs on
 * any CPU at each width a real ISA has.  The shapes mirror the real tables:
 * 4 lanes as NEON, 8 as AVX2 (the broadcast GEMM and the 8 x 8
 * transposes), 16 as AVX-512 (the quad GEMM tiles, the broadcast GEMM's
 * wider tiles, the 16 x 16 transposes, the 64-bit popcount of VPOPCNTDQ;
 * 4 and 8 take the byte counts and adders).  For tests and debugging only (EMBER_ISA=emu16):
 * never chosen by dispatch, and no faster than the scalar reference.
 *
 * The vocabulary's contract on counts (vf_load_n, vf_store_n, vf_pad_mask:
 * lanes in [0, VL]; vf_store_first: 4 or 6 on 8 lanes, all AVX2 has) is
 * checked here on every call: a count out of range traps (SIGILL), so a
 * kernel that computes one fails its test on any machine, whatever the real
 * ISA would have done with it.  Lanes past a masked count are neither read
 * nor written, as with the real masked loads and stores, so ASan sees any
 * other over-read. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels_internal.h"

#define VEC_EMU 1
#define VL EMU_VL
#if VL != 4 && VL != 8 && VL != 16
#error "EMU_VL must be 4, 8 or 16"
#endif
#define VL64 (VL / 2)
/* the blocking of the real ISA of this width */
#include "kernels/gemm_shapes.h"

/* vf: VL / 4 vectors of 4 floats, vi: VL64 / 2 of two 64-bit lanes, in GCC /
 * clang vector extensions: whole 16-byte operators, lowered to what the
 * target has (SSE2 on x86-64, NEON on AArch64, scalar code elsewhere).  16
 * bytes at most, so no vector type is wider than every target's registers
 * (a wider one changes the calling convention with the ISA: GCC notes it). */
typedef float emu_f4 __attribute__((vector_size(16)));
typedef int32_t emu_i4 __attribute__((vector_size(16)));
typedef double emu_d4 __attribute__((vector_size(32))); /* never a parameter */
typedef uint64_t emu_u2 __attribute__((vector_size(16)));
typedef uint8_t emu_b16 __attribute__((vector_size(16)));
#define EMU_Q (VL / 4)
typedef struct { emu_f4 q[EMU_Q]; } vf;
typedef struct { emu_f4 q; } vf4;
typedef struct { emu_u2 q[VL64 / 2]; } vi;
#define EMU_LANE(v, i) ((v).q[(i) / 4][(i) % 4])

/* n if 0 <= n <= max, else a trap: the count contract above */
static inline int emu_count(int n, int max)
{
    if (n < 0 || n > max) __builtin_trap();
    return n;
}

static inline vf vf_load(const float *p) { vf r; memcpy(&r, p, sizeof r); return r; }
static inline void vf_store(float *p, vf v) { memcpy(p, &v, sizeof v); }
/* each operation spelt out per 16-byte chunk, no loop: in the unrolled
 * kernels thousands of two-trip loops sent clang's loop passes superlinear
 * under -fsanitize=address,undefined -fno-sanitize-recover (9 minutes for
 * emu8's Hamming panels) */
#if VL == 4
#define EMU_EACH(X) X(0)
#elif VL == 8
#define EMU_EACH(X) X(0) X(1)
#else
#define EMU_EACH(X) X(0) X(1) X(2) X(3)
#endif
static inline vf vf_set1(float x)
{
    vf r;
#define X(i) r.q[i] = (emu_f4){x, x, x, x};
    EMU_EACH(X)
#undef X
    return r;
}
#define vf_zero() vf_set1(0.0f)
#define vf_broadcast(p) vf_set1(*(p))
#define EMU_OP2(name, expr) \
    static inline vf name(vf a, vf b) { EMU_EACH(expr) return a; }
#define X(i) a.q[i] += b.q[i];
EMU_OP2(vf_add, X)
#undef X
#define X(i) a.q[i] -= b.q[i];
EMU_OP2(vf_sub, X)
#undef X
#define X(i) a.q[i] *= b.q[i];
EMU_OP2(vf_mul, X)
#undef X
#define X(i) a.q[i] /= b.q[i];
EMU_OP2(vf_div, X)
#undef X
/* x86's rule: the second operand when either is NaN */
static inline emu_f4 emu_select(emu_i4 m, emu_f4 a, emu_f4 b) { return (emu_f4)(((emu_i4)a & m) | ((emu_i4)b & ~m)); }
#define X(i) a.q[i] = emu_select(a.q[i] > b.q[i], a.q[i], b.q[i]);
EMU_OP2(vf_max, X)
#undef X
#define X(i) a.q[i] = emu_select(a.q[i] < b.q[i], a.q[i], b.q[i]);
EMU_OP2(vf_min, X)
#undef X
/* a with the sign bit of s added (a >= 0: copysign) */
#define X(i) a.q[i] = (emu_f4)((emu_i4)a.q[i] | ((emu_i4)b.q[i] & (int32_t)INT32_MIN));
EMU_OP2(vf_copysign, X)
#undef X
#define X(i) a.q[i] = (emu_f4)((emu_i4)a.q[i] & 0x7fffffff);
static inline vf vf_abs(vf a) { EMU_EACH(X) return a; }
#undef X
/* a b + c: the product exact in double, the sum rounded to double, then to
 * float: fmaf's single rounding but for double-rounding ties (about one in
 * 2^29); a call to fmaf per lane made the GEMM several times slower */
#define EMU_D(x) __builtin_convertvector(x, emu_d4)
#define X(i) c.q[i] = __builtin_convertvector(EMU_D(a.q[i]) * EMU_D(b.q[i]) + EMU_D(c.q[i]), emu_f4);
static inline vf vf_fma(vf a, vf b, vf c) { EMU_EACH(X) return c; }
#undef X
/* c - a b */
#define X(i) c.q[i] = __builtin_convertvector(EMU_D(c.q[i]) - EMU_D(a.q[i]) * EMU_D(b.q[i]), emu_f4);
static inline vf vf_fnma(vf a, vf b, vf c) { EMU_EACH(X) return c; }
#undef X
#undef EMU_EACH
/* to nearest, ties to even (the default rounding mode) */
static inline vf vf_round(vf a)
{
    for (int i = 0; i < VL; i++) EMU_LANE(a, i) = nearbyintf(EMU_LANE(a, i));
    return a;
}
/* 2^n for integral-valued n in [-126, 127], built in the exponent field as
 * the real ISAs do; a float outside int32 converts to INT32_MIN as x86's
 * cvtps2dq does (a C cast would be undefined) */
static inline vf vf_pow2i(vf n)
{
    for (int i = 0; i < VL; i++) {
        float x = EMU_LANE(n, i);
        uint32_t e = x >= -2147483648.0f && x < 2147483648.0f ? (uint32_t)(int32_t)nearbyintf(x) : 0x80000000u;
        e = (e + 127u) << 23;
        memcpy(&x, &e, 4);
        EMU_LANE(n, i) = x;
    }
    return n;
}

/* pairwise, as the real reductions */
static inline float vf_hsum(vf v)
{
    float t[VL];
    memcpy(t, &v, sizeof t);
    for (int w = VL / 2; w >= 1; w /= 2)
        for (int i = 0; i < w; i++) t[i] += t[i + w];
    return t[0];
}
static inline float vf_hmax(vf v)
{
    float t[VL];
    memcpy(t, &v, sizeof t);
    for (int w = VL / 2; w >= 1; w /= 2)
        for (int i = 0; i < w; i++) t[i] = t[i] > t[i + w] ? t[i] : t[i + w];
    return t[0];
}
/* the four sums of a, b, c, d, in that order */
static inline vf4 vf_hsum4(vf a, vf b, vf c, vf d)
{
    vf4 r = {{vf_hsum(a), vf_hsum(b), vf_hsum(c), vf_hsum(d)}};
    return r;
}
static inline void vf4_store(float *p, vf4 v) { memcpy(p, &v, sizeof v); }
static inline vf4 vf4_load(const float *p) { vf4 r; memcpy(&r, p, sizeof r); return r; }
static inline vf4 vf4_add(vf4 a, vf4 b) { a.q += b.q; return a; }
static inline vf4 vf4_zero(void) { vf4 r = {{0, 0, 0, 0}}; return r; }
#if VL == 16
/* the quad GEMM tiles (AVX-512's): the 4 floats at p in every 4-lane block,
 * or the first n (0..4, the rest 0, nothing past p + n read) */
static inline vf vf_broadcast4_n(const float *p, int n)
{
    emu_f4 b = {0, 0, 0, 0};
    memcpy(&b, p, (size_t)emu_count(n, 4) * sizeof(float));
    vf r;
    for (int q = 0; q < EMU_Q; q++) r.q[q] = b;
    return r;
}
#define vf_broadcast4(p) vf_broadcast4_n(p, 4)
/* per 4-lane block q: lane 4 q + 0 the sum of a's four lanes in block q,
 * then b's, c's, d's, each as (l0 + l2) + (l1 + l3), as AVX-512's */
static inline vf vf_hsum4_lanes(vf a, vf b, vf c, vf d)
{
    vf r;
    for (int q = 0; q < EMU_Q; q++) {
        const emu_f4 *in[4] = {&a.q[q], &b.q[q], &c.q[q], &d.q[q]};
        for (int i = 0; i < 4; i++) r.q[q][i] = ((*in[i])[0] + (*in[i])[2]) + ((*in[i])[1] + (*in[i])[3]);
    }
    return r;
}
#endif

/* masked forms: lanes < n read or written, the others 0 / untouched */
static inline vf vf_load_n(const float *p, int n)
{
    vf r = vf_zero();
    memcpy(&r, p, (size_t)emu_count(n, VL) * sizeof(float));
    return r;
}
static inline void vf_store_n(float *p, vf v, int n) { memcpy(p, &v, (size_t)emu_count(n, VL) * sizeof(float)); }
/* 0 in lanes < n, -inf in the others */
static inline vf vf_pad_mask(int n)
{
    vf r;
    emu_count(n, VL);
    for (int i = 0; i < VL; i++) EMU_LANE(r, i) = i < n ? 0.0f : -INFINITY;
    return r;
}
/* the first n lanes: on 8 lanes n 4 or 6 (all AVX2's vf_store_first
 * writes), on 16 any count (AVX-512's is a masked store) */
static inline void vf_store_first(float *p, vf v, const int n)
{
    if (VL == 8 && n != 4 && n != 6) __builtin_trap();
    memcpy(p, &v, (size_t)emu_count(n, VL) * sizeof(float));
}
#if VL >= 8
/* r[i][j] <- r[j][i] for the VL x VL block in r[0 .. VL-1] (AVX2's 8 x 8,
 * AVX-512's 16 x 16) */
#define VF_TRANSPOSE 1
static inline void vf_transpose(vf r[VL])
{
    float t[VL][VL], u[VL][VL];
    memcpy(t, r, sizeof t);
    for (int i = 0; i < VL; i++)
        for (int j = 0; j < VL; j++) u[i][j] = t[j][i];
    memcpy(r, u, sizeof u);
}
#endif
static inline vf vf_from_f16(const uint16_t *p) { vf r; for (int i = 0; i < VL; i++) EMU_LANE(r, i) = kern_f16_to_f32(p[i]); return r; }
static inline vf vf_from_bf16(const uint16_t *p) { vf r; for (int i = 0; i < VL; i++) EMU_LANE(r, i) = kern_bf16_to_f32(p[i]); return r; }
static inline vf vf_from_i8(const int8_t *p) { vf r; for (int i = 0; i < VL; i++) EMU_LANE(r, i) = (float)p[i]; return r; }

#if VL == 16
/* AVX-512-BF16's bf16 pairs and vdpbf16ps (vec_avx512.h), for gemm_bf16dot
 * at the one width that has them: lane by lane through the scalar
 * reference's own steps (kernels_internal.h), so this table gives the
 * reference's bits wherever it sums in its order.  Pairs are put together
 * from their halves, whatever the machine's byte order.  Out of line: the
 * tiles call them dozens of times a step. */
#define VF_DPBF16 1
typedef struct { uint32_t u[VL]; } vbh;
static inline vbh vbh_load(const uint32_t *p) { vbh r; memcpy(&r, p, sizeof r); return r; }
static inline void vbh_store(uint32_t *p, vbh v) { memcpy(p, &v, sizeof v); }
static inline vbh vbh_load_w_n(const uint16_t *p, int n)
{
    vbh r;
    emu_count(n, 2 * VL);
    for (int i = 0; i < VL; i++)
        r.u[i] = (uint32_t)(2 * i < n ? p[2 * i] : 0) | (uint32_t)(2 * i + 1 < n ? p[2 * i + 1] : 0) << 16;
    return r;
}
#define vbh_load_w(p) vbh_load_w_n(p, 2 * VL)
static inline vbh vbh_set1(uint32_t x)
{
    vbh r;
    for (int i = 0; i < VL; i++) r.u[i] = x;
    return r;
}
static __attribute__((noinline)) vbh vbh_round(vf lo, vf hi)
{
    vbh r;
    for (int i = 0; i < VL; i++) {
        const vf *v = i < VL / 2 ? &lo : &hi;
        const int j = 2 * i % VL;
        r.u[i] = kern_bf16_round(EMU_LANE(*v, j)) | (uint32_t)kern_bf16_round(EMU_LANE(*v, j + 1)) << 16;
    }
    return r;
}
static __attribute__((noinline)) vf vf_dpbf16(vf acc, vbh a, vbh b)
{
    for (int i = 0; i < VL; i++) EMU_LANE(acc, i) = kern_dpbf16_lane(EMU_LANE(acc, i), a.u[i], b.u[i]);
    return acc;
}
#endif

/* 64-bit integer lanes for the Hamming panel, per chunk as above */
#if VL64 == 2
#define EMU_EACH(X) X(0)
#elif VL64 == 4
#define EMU_EACH(X) X(0) X(1)
#else
#define EMU_EACH(X) X(0) X(1) X(2) X(3)
#endif
static inline vi vi_set1_64(uint64_t x)
{
    vi r;
#define X(i) r.q[i] = (emu_u2){x, x};
    EMU_EACH(X)
#undef X
    return r;
}
#define vi_zero() vi_set1_64(0)
static inline vi vi_load(const uint64_t *p) { vi r; memcpy(&r, p, sizeof r); return r; }
static inline void vi_store(uint64_t *p, vi v) { memcpy(p, &v, sizeof v); }
#define X(i) a.q[i] ^= b.q[i];
static inline vi vi_xor(vi a, vi b) { EMU_EACH(X) return a; }
#undef X
#define X(i) a.q[i] &= b.q[i];
static inline vi vi_and(vi a, vi b) { EMU_EACH(X) return a; }
#undef X
#define X(i) a.q[i] |= b.q[i];
static inline vi vi_or(vi a, vi b) { EMU_EACH(X) return a; }
#undef X
#define X(i) a.q[i] += b.q[i];
static inline vi vi_add64(vi a, vi b) { EMU_EACH(X) return a; }
#undef X
/* bytewise, mod 256 */
#define X(i) a.q[i] = (emu_u2)((emu_b16)a.q[i] + (emu_b16)b.q[i]);
static inline vi vi_add8(vi a, vi b) { EMU_EACH(X) return a; }
#undef X
/* bytes -> 64-bit lane sums, by halves */
#define X(i)                                                                        \
    a.q[i] = (a.q[i] & 0x00ff00ff00ff00ffull) + ((a.q[i] >> 8) & 0x00ff00ff00ff00ffull); \
    a.q[i] = (a.q[i] & 0x0000ffff0000ffffull) + ((a.q[i] >> 16) & 0x0000ffff0000ffffull); \
    a.q[i] = (a.q[i] & 0xffffffffull) + (a.q[i] >> 32);
static inline vi vi_sum8_64(vi a) { EMU_EACH(X) return a; }
#undef X
#if VL == 16
/* the VPOPCNTDQ path of the Hamming panel */
static inline vi vi_popcnt64(vi a)
{
    for (int i = 0; i < VL64; i++) a.q[i / 2][i % 2] = (uint64_t)__builtin_popcountll(a.q[i / 2][i % 2]);
    return a;
}
#define vi_popcnt64 vi_popcnt64
#else
/* per-byte popcount (SWAR), the byte-count and adder path */
#define X(i)                                                                                    \
    a.q[i] -= (a.q[i] >> 1) & 0x5555555555555555ull;                                           \
    a.q[i] = (a.q[i] & 0x3333333333333333ull) + ((a.q[i] >> 2) & 0x3333333333333333ull);     \
    a.q[i] = (a.q[i] + (a.q[i] >> 4)) & 0x0f0f0f0f0f0f0f0full;
static inline vi vi_popcnt8(vi a) { EMU_EACH(X) return a; }
#undef X
#endif
/* bit r of the result: lane r of a < lane r of b */
static inline unsigned vi_lt64_mask(vi a, vi b)
{
    unsigned m = 0;
    for (int i = 0; i < VL64; i++) m |= (unsigned)(a.q[i / 2][i % 2] < b.q[i / 2][i % 2]) << i;
    return m;
}
#undef EMU_OP2
#undef EMU_EACH
#undef EMU_D
