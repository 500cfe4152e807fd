/* kernels — the numeric layer: one scalar reference per kernel, ISA variants
 * beside it (*_avx2.c, *_avx512.c, *_vnni.c, *_neon.c), chosen once through a
 * dispatch table filled from CPUID, and the same SIMD code over portable
 * vectors (simd_emu4.c, simd_emu8.c, simd_emu16.c) for the tests on every
 * machine.  Includes nothing else of ember's.
 *
 * Layout conventions: row-major, explicit leading dimensions (in floats).
 * Linear weights are stored as HuggingFace/torch keep them, W[N][K]
 * (out_features x in_features), and are never copied or re-laid out in place:
 * GEMM packs the blocks it needs into caller-supplied scratch.
 *
 * Determinism: every kernel gives bit-identical output for any thread count
 * (the reduction order of each output element never depends on threads). */
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    KERN_ISA_SCALAR = 0,
    KERN_ISA_AVX2   = 1, /* AVX2 + FMA + F16C */
    KERN_ISA_AVX512 = 2, /* AVX-512 F/BW/VL/DQ */
    KERN_ISA_AVX512VNNI = 3, /* AVX-512 above + VNNI + VPOPCNTDQ (Ice Lake, Zen 4) */
    KERN_ISA_AVX512BF16 = 4, /* AVX-512 VNNI above + BF16 (Sapphire Rapids, Zen 4): adds gemm_bf16dot */
    KERN_ISA_NEON   = 5, /* AArch64 Advanced SIMD (every ARMv8-A core) */
    /* the avx512bf16 table with gemm_bf16dot on AMX (TDPBF16PS) from
     * KERN_BF16DOT_AMX_MIN_M rows: Sapphire Rapids onwards, where Linux
     * grants the process AMX's tile data (kern_cpu_has asks for it) */
    KERN_ISA_AMXBF16 = 6,
    /* The SIMD body over portable C vectors of 4, 8 and 16 lanes (the
     * shapes of NEON, AVX2 and AVX-512): on every machine, for tests and
     * debugging; never chosen by dispatch, only by EMBER_ISA. */
    KERN_ISA_EMU4   = 7,
    KERN_ISA_EMU8   = 8,
    KERN_ISA_EMU16  = 9,
    KERN_ISA_COUNT,
    KERN_ISA_FIRST_EMU = KERN_ISA_EMU4 /* the real ISAs come before */
} kern_isa;

/* Storage type of a weight matrix; GEMM widens to f32 while packing. */
typedef enum { KERN_W_F32 = 0, KERN_W_F16 = 1, KERN_W_BF16 = 2, KERN_W_COUNT } kern_wtype;

/* What a weight type is (wtype.c), for every reader and writer of weights
 * outside the GEMM: elements come in blocks of `block` elements stored in
 * `block_bytes` bytes (a row holds whole blocks), widened to f32 and
 * narrowed from f32 (round to nearest even) n elements at a time, n a
 * multiple of block, src or dst at any alignment.  No file format here:
 * a type's id in GGUF is model/'s. */
typedef struct {
    const char *name;   /* "f32", "f16", "bf16" */
    int block;          /* elements per block */
    int block_bytes;    /* bytes per block */
    void (*to_f32)(const void *src, float *dst, size_t n);
    void (*from_f32)(const float *src, void *dst, size_t n);
} kern_wtype_traits;

/* The traits of wt, or NULL when wt is not a kern_wtype. */
const kern_wtype_traits *kern_wtype_traits_of(kern_wtype wt);
/* Bytes of n elements of wt (n a multiple of its block). */
size_t kern_wtype_bytes(kern_wtype wt, size_t n);

/* gemm_f32's forms (kern_ops.gemm_form): the dot products of a few rows,
 * AVX-512's quad tiles, and the sums from the bias in k order that the
 * broadcast and packed forms share */
enum { KERN_GEMM_DOT = 0, KERN_GEMM_QUAD = 1, KERN_GEMM_SUM = 2 };

typedef struct kern_ops {
    kern_isa isa;
    const char *name; /* kern_isa_name(isa): "scalar", "avx2", ..., "emu16" */

    /* C[M][N] = A[M][K] . W[N][K]^T (+ bias[N] when bias != NULL).
     * W holds elements of type wt (f32, f16 or bf16), row stride ldw elements.
     * A row stride lda, C row stride ldc (floats).
     * `pack` is scratch of kern_gemm_scratch_floats(n_threads) floats, 64-byte
     * aligned; `n_threads` >= 1 OpenMP threads are used inside (called from
     * serial code). */
    void (*gemm_f32)(int M, int N, int K, const float *A, int lda,
                     const void *W, kern_wtype wt, int ldw, const float *bias,
                     float *C, int ldc, float *pack, int n_threads);

    /* gemm_f32 is one of a few forms, chosen by M (gemm_form(M)), each
     * summing a row of C in its own order: a row's bits depend on the form,
     * never on M or the thread count within it.  gemm_form_f32 runs the
     * given form (a value gemm_form returned) on any M, so a caller whose
     * rows come from several inputs (ember_embed's batch) can give each
     * input's rows the form they get alone, and each input the bits it gets
     * alone.  The scalar table has one form. */
    int (*gemm_form)(int M);
    void (*gemm_form_f32)(int form, int M, int N, int K, const float *A, int lda,
                          const void *W, kern_wtype wt, int ldw, const float *bias,
                          float *C, int ldc, float *pack, int n_threads);

    /* The same product for bf16 weights with A rounded to bf16: C[M][N] =
     * bf16(A) . W^T (+ bias), W bf16 (row stride ldw elements), each A
     * element rounded to nearest even (a subnormal to zero), the products
     * summed in f32 by AVX-512-BF16's vdpbf16ps: along k in pairs (2p,
     * 2p + 1), per pair first + a[2p+1] w[2p+1] then + a[2p] w[2p], each an
     * f32 fused multiply-add rounded to nearest even with subnormal inputs
     * and results as zero (Intel's pseudo-code; an odd K's last pair has
     * zeros in its second half).  kern_gemm_bf16dot_ref is that, the sums
     * started from the bias (or zero) and run in k order.  From 5 rows on
     * the tables sum in exactly that order (emu16 gives its bits, and so
     * did Sapphire Rapids over tests/test_gemm_bf16dot.c); up to 4 rows each
     * lane sums every 16th pair and the lanes are then added, so the result
     * differs from the reference by summation order only.  Against the f32 product of the unrounded A, each output
     * is off by up to about 2^-8 sum |a w| (the rounding of A).  Arguments,
     * scratch and threads as gemm_f32's, every thread count giving the same
     * bits.  NULL in a table without it: every table but avx512bf16,
     * amxbf16 and emu16 (scalar included: asking for it elsewhere widens W
     * as gemm_f32 does).  amxbf16's runs on AMX from KERN_BF16DOT_AMX_MIN_M
     * rows (below, avx512bf16's): TDPBF16PS sums each 32 k of a row in
     * two f32 partial sums (even k, odd k) from zero, adds the two, then
     * adds that to the running sum started from the bias (subnormals as
     * zero, nearest even): another order than the reference's, so off by
     * its summation error only, and the same bits for every thread
     * count. */
    void (*gemm_bf16dot)(int M, int N, int K, const float *A, int lda, const uint16_t *W, int ldw,
                         const float *bias, float *C, int ldc, float *pack, int n_threads);

    /* x[i] = LayerNorm(x[i] + r[i]) * gamma + beta over n floats, in place;
     * r may be NULL.  Mean and variance over n, biased variance, eps inside sqrt. */
    void (*layernorm_f32)(float *x, const float *r, const float *gamma,
                          const float *beta, int n, float eps);

    /* x = x * 0.5 * (1 + erf(x / sqrt 2)) in place (exact GELU, |err| <= 1e-7 rel). */
    void (*gelu_f32)(float *x, size_t n);

    /* Scaled dot-product attention for ONE head of ONE sequence, no padding:
     * out[i] = sum_j softmax_j(scale * q[i].k[j]) v[j], i < nq queries (the
     * first nq rows of q; nq = L for the whole sequence), j < L, vectors of d.
     * q/k/v/out rows have strides ldq/ldk/ldv/ldo (floats).  `scratch` holds
     * kern_attention_scratch_floats(L, d) floats. Single-threaded (the caller
     * spreads heads and sequences over threads). */
    void (*attention_f32)(int L, int nq, int d, float scale,
                          const float *q, int ldq, const float *k, int ldk,
                          const float *v, int ldv, float *out, int ldo,
                          float *scratch);

    /* Causal scaled dot-product attention for ONE head of ONE sequence of L
     * tokens: query i (i < nq; q's rows) stands at position q0 + i and attends
     * to keys j <= q0 + i (q0 + nq <= L, nq >= 1).  nq = L, q0 = 0: the whole
     * sequence; nq = 1, q0 = L - 1: the last token only.  Otherwise exactly as
     * attention_f32 (strides in floats; scratch of
     * kern_attention_scratch_floats(L, d) floats; single-threaded), and the
     * same bits as attention_f32 over the first q0 + i + 1 keys for each
     * query, so queries split into chunks (q0, nq) give the same bits as one
     * call.  Only keys below q0 + nq are read; a query's later keys never
     * touch its output (their v finite and scores not infinite, nothing
     * else asked of them).  Accuracy as attention_f32's.
     * Grouped-query attention is the caller's: it passes the k / v pointers
     * of the KV head a query head maps to. */
    void (*attention_causal_f32)(int L, int nq, int q0, int d, float scale,
                                 const float *q, int ldq, const float *k, int ldk,
                                 const float *v, int ldv, float *out, int ldo, float *scratch);

    /* Attention with ALiBi's linear bias in its symmetric (encoder) form,
     * JinaBERT's, for ONE head of ONE sequence of L tokens: query i (i <
     * nq; q's rows) stands at position q0 + i (q0 + nq <= L) and attends to
     * every key j < L with
     *   score(i, j) = scale q[i].k[j] - slope |q0 + i - j|
     * (slope >= 0, the head's).  Each score is formed in float as the
     * reference does: the scaled dot product, plus the product of -slope
     * and the exact distance.  nq = L, q0 = 0: the whole sequence; nq = 1,
     * q0 = p: the token at p alone (a pooled row).  slope 0 gives the bits
     * of attention_f32.  Strides, scratch (kern_attention_scratch_floats(L,
     * d)), threads and accuracy as attention_f32's. */
    void (*attention_alibi_f32)(int L, int nq, int q0, int d, float scale, float slope,
                                const float *q, int ldq, const float *k, int ldk,
                                const float *v, int ldv, float *out, int ldo, float *scratch);

    /* out = x / sqrt(mean(x^2) + eps) * g over n floats (RMSNorm, no bias);
     * out may equal x (in place).  Sum of squares accumulated in f32 lanes
     * like layernorm_f32: relative error within (n / VL + 4) 2^-24 of the
     * exact result (VL: 4 to 16 lanes) in the worst case, under 2.5e-7
     * measured to n = 4096 (test_kernels holds it to 1e-6). */
    void (*rmsnorm_f32)(float *out, const float *x, const float *g, int n, float eps);

    /* Rotary position embedding, NeoX / rotate-half layout, in place on n_heads
     * heads of head_dim floats (head_dim even), head h at x + h * head_dim:
     * for i < head_dim / 2, with a = x[i], b = x[i + head_dim / 2]:
     *   x[i] = a * cs[i] - b * sn[i];  x[i + head_dim / 2] = b * cs[i] + a * sn[i]
     * cs / sn: (head_dim / 2) cosines and sines of this token's angles
     * (pos * theta^(-2i / head_dim), computed by the caller once per
     * position).  Each output within 2^-23 (|a| + |b|) of the exact value
     * (one product rounded, then a fused multiply-add). */
    void (*rope_f32)(float *x, int n_heads, int head_dim, const float *cs, const float *sn);

    /* gate[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i]
     * over n (SwiGLU).  Through the softmax's exp (e^-|gate|, about 1 ulp):
     * relative error <= 4e-7 against the float64 formula for gate >= -87.3
     * (2.2e-7 the worst test_kernels measures over [-87.3, 100]); below,
     * e^gate is taken as e^-87.3, an absolute error under 1.25e-38
     * |gate up|.  gate = -inf gives -inf (the formula: NaN). */
    void (*silu_mul_f32)(float *gate, const float *up, size_t n);

    /* sum a[i]*b[i]; and simple vector helpers used by pooling/heads. */
    float (*dot_f32)(const float *a, const float *b, size_t n);

    /* Distances for the vector index. */
    float (*l2sq_f32)(const float *a, const float *b, size_t n);   /* sum (a-b)^2 */
    float (*dot_f32_i8)(const float *q, const int8_t *x, size_t n); /* sum q[i]*x[i] */
    /* sum a[i]*b[i] over int8, exact in int32 for n < 2^17 (VNNI where present) */
    int32_t (*dot_i8)(const int8_t *a, const int8_t *b, size_t n);
    uint32_t (*hamming)(const uint64_t *a, const uint64_t *b, size_t n_words);
    /* Hamming distances from q to the 8 * n_groups vectors of a panel made by
     * kern_hamming_pack (a group holds word w of its 8 vectors at group + 8 w,
     * so one query word meets 8 vectors in one register).  Writes the panel
     * positions and distances of the vectors closer than `below`, in
     * position order, and returns how many (at most 8 * n_groups). */
    size_t (*hamming_panel)(const uint64_t *q, size_t n_words, const uint64_t *panel, size_t n_groups,
                            uint32_t below, uint32_t *pos, uint32_t *dist);

    /* Product-quantizer lookup tables over m sub-spaces of ds dims with ksub
     * codewords each (16 or 256), from codebooks stored transposed
     * (cbt[(j * ds + t) * ksub + c] is dim t of codeword c of sub-space j):
     * lut[j * ksub + c] = sum_t q[j * ds + t] * cbt[...] when l2 == 0,
     * sum_t (q[j * ds + t] - cbt[...])^2 when l2 != 0. */
    void (*pq_lut)(const float *q, const float *cbt, int m, int ds, int ksub, int l2, float *lut);

    /* 4-bit PQ fast scan over n_blocks blocks of 32 codes laid out by
     * kern_pq4_pack (m sub-spaces, m even, m <= 256): out[32 b + v] = sum_j
     * lut[16 j + code j of vector v of block b], lut holding m rows of 16
     * uint8 entries. */
    void (*pq4_scan)(const uint8_t *blocks, size_t n_blocks, int m, const uint8_t *lut, uint16_t *out);
} kern_ops;

/* Lays out n row vectors (n_words each, rows ld_words apart) as a Hamming
 * panel of (n + 7) / 8 groups, zero-padding the last group; panel holds
 * kern_hamming_panel_words(n, n_words) words. */
size_t kern_hamming_panel_words(size_t n, size_t n_words);
void kern_hamming_pack(const uint64_t *rows, size_t ld_words, size_t n, size_t n_words, uint64_t *panel);

/* 4-bit PQ codes, m / 2 bytes a vector (code j in byte j / 2, low nibble for
 * even j), laid out for pq4_scan in (n + 31) / 32 blocks of 16 m bytes: for
 * each pair of sub-spaces (2p, 2p + 1) 32 bytes, the first 16 for 2p, the
 * next 16 for 2p + 1, byte v holding vector v's code in its low nibble and
 * vector v + 16's in its high one (so one 256-bit shuffle looks up 16 codes
 * of two sub-spaces).  The last block is zero-padded. */
size_t kern_pq4_blocks_bytes(size_t n, int m);
void kern_pq4_pack(const uint8_t *codes, size_t n, int m, uint8_t *blocks);

/* gemm_bf16dot's scalar reference (no table holds it: see gemm_bf16dot);
 * pack and n_threads as gemm_f32's reference takes them. */
/* amxbf16's gemm_bf16dot takes AMX from this many rows (kernels/
 * gemm_bf16dot_amx.c says why), avx512bf16's below. */
#define KERN_BF16DOT_AMX_MIN_M 16

void kern_gemm_bf16dot_ref(int M, int N, int K, const float *A, int lda, const uint16_t *W, int ldw,
                           const float *bias, float *C, int ldc, float *pack, int n_threads);

/* Best table for this CPU (a real ISA, never an emulated one; dispatch.c
 * says why it is best operation by operation), or the one forced by
 * EMBER_ISA=scalar|avx2|avx512|avx512vnni|avx512bf16|neon|amxbf16|emu4|emu8|emu16.
 * An unknown or unsupported EMBER_ISA falls back to the best table and leaves
 * a note saying so.  Chosen once, thread-safe, never NULL. */
const kern_ops *kern_ops_get(void);
/* Why EMBER_ISA was not honoured, or NULL (also NULL when it is unset).
 * Made once with kern_ops_get's choice; the library never prints it. */
const char *kern_dispatch_note(void);
/* The name EMBER_ISA gives an ISA ("avx2", ...), whether or not this build has it. */
const char *kern_isa_name(kern_isa isa);
/* The table for one ISA, or NULL if this build or this CPU lacks it (the
 * emulated tables exist on every build and CPU). */
const kern_ops *kern_ops_for(kern_isa isa);
/* Whether the CPU (and OS) support an ISA. */
int kern_cpu_has(kern_isa isa);

size_t kern_gemm_scratch_floats(int n_threads);
size_t kern_attention_scratch_floats(int L, int d);

/* fp16 / bf16 conversions (scalar; used by the converter and loaders). */
float    kern_f16_to_f32(uint16_t h);
uint16_t kern_f32_to_f16(float f);
float    kern_bf16_to_f32(uint16_t h);
uint16_t kern_f32_to_bf16(float f);
#endif
