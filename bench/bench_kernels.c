/* Every kernel operation on each SIMD table this CPU has and on the default
 * one (kern_ops_get: the best table, operation by operation, dispatch.c),
 * one thread, in interleaved rounds: the figures behind dispatch.c's
 * per-operation choices.  Prints a markdown table: microseconds per batch
 * of calls (the median of as many batches as fill 20 ms; the best such
 * median over the rounds), and the default's speed against the fastest
 * table's, paired within each round (median and range).  Not part of
 * `make bench`:
 *   make build/bench/bench_kernels && build/bench/bench_kernels [ROUNDS]
 * EMBER_ISA must be unset (it would replace the default table). */
#include "kernels/kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t u64rand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}
static float frand(void) { return (float)((u64rand() >> 40) * (1.0 / 8388608.0)) - 1.0f; }

/* operands, big enough for every shape below */
#define NV 1000 /* vectors per distance batch */
static struct {
    float *a, *w, *c, *pack, *qkv, *out, *attn, *x, *y, *g, *b, *cb, *lut, *gate, *up, *cs, *sn;
    int8_t *i8, *q8;
    uint64_t *bits, *qbits, *panel;
    uint8_t *blocks, *lut8;
    uint16_t *pq4;
    uint32_t pos[NV], dist[NV];
} d;

static volatile double sink;

typedef enum { OP_GEMM, OP_ATTN, OP_ATTN_CAUSAL, OP_LN, OP_RMS, OP_ROPE, OP_SILU, OP_GELU, OP_DOT, OP_L2, OP_DOTF8, OP_DOTI8, OP_HAM, OP_HPANEL, OP_PQLUT, OP_PQ4 } op_kind;
/* p, q: the shape; for the distances q is the rows' offset in bytes from
 * 64-byte alignment (an index file's rows are aligned, one built in memory
 * has malloc's 16); for causal attention p keys, q the head size (32: the
 * plain attention's layout, 128: Qwen3-0.6B's 16 query heads over 8 KV
 * heads), the last token only when q is negative */
typedef struct { op_kind kind; const char *name; int p, q; const char *shape; } op_def;

static const op_def OPS[] = {
    {OP_GEMM, "gemm", 1, 0, "1 x 1152 x 384"},     {OP_GEMM, "gemm", 8, 0, "8 x 1152 x 384"},
    {OP_GEMM, "gemm", 16, 0, "16 x 1152 x 384"},   {OP_GEMM, "gemm", 20, 0, "20 x 1152 x 384"},
    {OP_GEMM, "gemm", 48, 0, "48 x 1152 x 384"},   {OP_GEMM, "gemm", 128, 0, "128 x 1152 x 384"},
    {OP_GEMM, "gemm", 512, 0, "512 x 1152 x 384"}, {OP_ATTN, "attention", 5, 0, "12 heads x 32, 5 keys"},
    {OP_ATTN, "attention", 8, 0, "12 heads x 32, 8 keys"}, {OP_ATTN, "attention", 16, 0, "12 heads x 32, 16 keys"},
    {OP_ATTN, "attention", 48, 0, "12 heads x 32, 48 keys"}, {OP_ATTN, "attention", 128, 0, "12 heads x 32, 128 keys"},
    {OP_ATTN, "attention", 512, 0, "12 heads x 32, 512 keys"}, {OP_ATTN_CAUSAL, "attention_causal", 128, 32, "12 heads x 32, 128 keys"},
    {OP_ATTN_CAUSAL, "attention_causal", 512, 32, "12 heads x 32, 512 keys"},
    {OP_ATTN_CAUSAL, "attention_causal", 256, 128, "16 heads x 128 (8 KV), 256 keys"},
    {OP_ATTN_CAUSAL, "attention_causal", 256, -128, "16 heads x 128 (8 KV), 256 keys, last query"},
    {OP_LN, "layernorm", 48, 0, "48 rows x 384"},
    {OP_RMS, "rmsnorm", 48, 1024, "48 rows x 1024"},   {OP_RMS, "rmsnorm", 48 * 24, 128, "48 x 24 heads x 128"},
    {OP_ROPE, "rope", 48, 0, "48 tokens x 24 heads x 128"}, {OP_SILU, "silu_mul", 48, 0, "48 rows x 3072"},
    {OP_GELU, "gelu", 48, 0, "48 rows x 1536"},     {OP_DOT, "dot", 384, 0, "1000 x 384"},
    {OP_DOT, "dot", 384, 16, "1000 x 384, rows at 16 mod 64"},
    {OP_L2, "l2sq", 384, 0, "1000 x 384"},          {OP_DOTF8, "dot_f32_i8", 384, 0, "1000 x 384"},
    {OP_DOTF8, "dot_f32_i8", 384, 16, "1000 x 384, rows at 16 mod 64"},
    {OP_DOTI8, "dot_i8", 64, 0, "1000 x 64"},       {OP_DOTI8, "dot_i8", 384, 0, "1000 x 384"},
    {OP_DOTI8, "dot_i8", 384, 16, "1000 x 384, rows at 16 mod 64"},
    {OP_DOTI8, "dot_i8", 1024, 0, "1000 x 1024"},   {OP_HAM, "hamming", 6, 0, "1000 x 384 bits"},
    {OP_HPANEL, "hamming_panel", 4, 0, "1000 x 256 bits"}, {OP_HPANEL, "hamming_panel", 6, 0, "1000 x 384 bits"},
    {OP_HPANEL, "hamming_panel", 12, 0, "1000 x 768 bits"}, {OP_PQLUT, "pq_lut", 48, 256, "48 x 256 codewords of 8"},
    {OP_PQ4, "pq4_scan", 96, 0, "32000 codes, m 96"},
};

static void run(const kern_ops *k, const op_def *o)
{
    switch (o->kind) {
    case OP_GEMM:
        k->gemm_f32(o->p, 1152, 384, d.a, 384, d.w, KERN_W_F32, 384, d.b, d.c, 1152, d.pack, 1);
        break;
    case OP_ATTN:
        for (int h = 0; h < 12; h++)
            k->attention_f32(o->p, o->p, 32, 0.17677669f, d.qkv + h * 32, 3 * 384, d.qkv + 384 + h * 32, 3 * 384,
                             d.qkv + 768 + h * 32, 3 * 384, d.out + h * 32, 384, d.attn);
        break;
    case OP_ATTN_CAUSAL: {
        /* token rows of q (H heads), k and v (KV heads): query head h reads KV head h / (H / KV) */
        const int hd = o->q < 0 ? -o->q : o->q, H = hd == 32 ? 12 : 16, KV = hd == 32 ? 12 : 8;
        const int ld = (H + 2 * KV) * hd, last = o->q < 0, nq = last ? 1 : o->p, q0 = last ? o->p - 1 : 0;
        for (int h = 0; h < H; h++) {
            const float *kh = d.qkv + (H + h / (H / KV)) * hd, *vh = kh + KV * hd;
            k->attention_causal_f32(o->p, nq, q0, hd, 1.0f / sqrtf((float)hd), d.qkv + (size_t)q0 * ld + h * hd, ld, kh, ld,
                                    vh, ld, d.out + h * hd, H * hd, d.attn);
        }
        break;
    }
    case OP_RMS: /* whole rows, or the per-head q / k norms */
        for (int r = 0; r < o->p; r++) k->rmsnorm_f32(d.c + (size_t)r * o->q, d.y + (size_t)r * o->q, d.w, o->q, 1e-6f);
        break;
    case OP_ROPE:
        for (int t = 0; t < o->p; t++) k->rope_f32(d.qkv + (size_t)t * 24 * 128, 24, 128, d.cs, d.sn);
        break;
    case OP_SILU:
        for (int r = 0; r < o->p; r++) k->silu_mul_f32(d.gate + (size_t)r * 3072, d.up + (size_t)r * 3072, 3072);
        break;
    case OP_LN:
        for (int r = 0; r < o->p; r++) k->layernorm_f32(d.x + (size_t)r * 384, d.y + (size_t)r * 384, d.g, d.b, 384, 1e-12f);
        break;
    case OP_GELU:
        for (int r = 0; r < o->p; r++) k->gelu_f32(d.x + (size_t)r * 1536, 1536);
        break;
    case OP_DOT: case OP_L2: case OP_DOTF8: case OP_DOTI8: case OP_HAM: {
        /* independent calls, as a scan makes them: summed in a register,
         * kept by one volatile store (a volatile sum would chain the calls) */
        double s = 0;
        for (int r = 0; r < NV; r++) {
            if (o->kind == OP_DOT) s += k->dot_f32(d.y + (size_t)r * 384 + o->q / 4, d.g, 384);
            else if (o->kind == OP_L2) s += k->l2sq_f32(d.y + (size_t)r * 384 + o->q / 4, d.g, 384);
            else if (o->kind == OP_DOTF8) s += k->dot_f32_i8(d.g, d.i8 + (size_t)r * 384 + o->q, 384);
            else if (o->kind == OP_DOTI8) s += k->dot_i8(d.q8, d.i8 + (size_t)r * o->p + o->q, (size_t)o->p);
            else s += k->hamming(d.qbits, d.bits + (size_t)r * 6, 6);
        }
        sink = s;
        break;
    }
    case OP_HPANEL:
        k->hamming_panel(d.qbits, (size_t)o->p, d.panel, NV / 8, (uint32_t)(o->p * 64 / 2 - 2 * o->p), d.pos, d.dist);
        break;
    case OP_PQLUT:
        k->pq_lut(d.g, d.cb, o->p, 8, o->q, 1, d.lut);
        break;
    case OP_PQ4:
        k->pq4_scan(d.blocks, 1000, o->p, d.lut8, d.pq4);
        break;
    }
}

/* median seconds of batches filling 20 ms, after a warm-up */
static double time_op(const kern_ops *k, const op_def *o)
{
    double t[201];
    int runs = 9;
    for (int r = -1; r < runs; r++) {
        double t0 = now();
        run(k, o);
        double dt = now() - t0;
        if (r >= 0) t[r] = dt;
        else if (dt > 0 && dt * runs < 0.02) runs = 0.02 / dt > 201 ? 201 : (int)(0.02 / dt);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    return t[runs / 2];
}

static void *alloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) { fprintf(stderr, "bench_kernels: out of memory\n"); exit(1); }
    return p;
}

int main(int argc, char **argv)
{
    const int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1 || rounds > 64) { fprintf(stderr, "usage: bench_kernels [ROUNDS 1..64]\n"); return 2; }
    if (getenv("EMBER_ISA") && *getenv("EMBER_ISA")) { fprintf(stderr, "bench_kernels: unset EMBER_ISA (it replaces the default table)\n"); return 2; }
    d.a = alloc(4u * 512 * 384); d.w = alloc(4u * 1152 * 384); d.c = alloc(4u * 512 * 1152);
    d.pack = alloc(4 * kern_gemm_scratch_floats(1)); d.qkv = alloc(4u * 512 * 4096); d.out = alloc(4u * 512 * 2048);
    d.attn = alloc(4 * kern_attention_scratch_floats(512, 128));
    d.gate = alloc(4u * 48 * 3072); d.up = alloc(4u * 48 * 3072); d.cs = alloc(4u * 64); d.sn = alloc(4u * 64); d.x = alloc(4u * 48 * 1536); d.y = alloc(4u * NV * 384 + 64);
    d.g = alloc(4u * 384); d.b = alloc(4u * 1152); d.cb = alloc(4u * 384 * 256); d.lut = alloc(4u * 48 * 256);
    d.i8 = alloc((size_t)NV * 1024 + 64); d.q8 = alloc(1024); d.bits = alloc(8u * NV * 12); d.qbits = alloc(8u * 12);
    d.panel = alloc(8 * kern_hamming_panel_words(NV, 12)); d.blocks = alloc(kern_pq4_blocks_bytes(32000, 96));
    d.lut8 = alloc(96 * 16); d.pq4 = alloc(2u * 32000);
    for (size_t i = 0; i < 512u * 384; i++) d.a[i] = frand();
    for (size_t i = 0; i < 1152u * 384; i++) d.w[i] = frand();
    for (size_t i = 0; i < 512u * 4096; i++) d.qkv[i] = 2 * frand();
    /* gate in [-2, -0.3], up = 1 + e^-gate: each gate a stable fixed point of
     * gate = silu(gate) up, so the repeated calls stay clear of subnormals */
    for (size_t i = 0; i < 48u * 3072; i++) { d.gate[i] = -1.15f + 0.85f * frand(); d.up[i] = 1.0f + expf(-d.gate[i]); }
    for (int i = 0; i < 64; i++) { d.cs[i] = cosf(100.0f * powf(1e6f, -i / 64.0f)); d.sn[i] = sinf(100.0f * powf(1e6f, -i / 64.0f)); }
    for (size_t i = 0; i < 48u * 1536; i++) d.x[i] = 3 * frand();
    for (size_t i = 0; i < (size_t)NV * 384; i++) d.y[i] = frand();
    for (size_t i = 0; i < 384; i++) d.g[i] = 1 + 0.1f * frand();
    for (size_t i = 0; i < 1152; i++) d.b[i] = 0.1f * frand();
    for (size_t i = 0; i < 384u * 256; i++) d.cb[i] = frand();
    for (size_t i = 0; i < (size_t)NV * 1024; i++) d.i8[i] = (int8_t)(u64rand() >> 56);
    for (size_t i = 0; i < 1024; i++) d.q8[i] = (int8_t)(u64rand() >> 56);
    for (size_t i = 0; i < 8u * NV * 12 / 8; i++) d.bits[i] = u64rand();
    for (size_t i = 0; i < 12; i++) d.qbits[i] = u64rand();
    uint8_t *codes = alloc(32000u * 48);
    for (size_t i = 0; i < 32000u * 48; i++) codes[i] = (uint8_t)(u64rand() >> 56);
    kern_pq4_pack(codes, 32000, 96, d.blocks);
    free(codes);
    for (int i = 0; i < 96 * 16; i++) d.lut8[i] = (uint8_t)(u64rand() >> 58);

    /* the SIMD tables this CPU has (not the scalar reference), then the default */
    const kern_ops *tab[KERN_ISA_COUNT + 1];
    int nt = 0;
    for (int i = KERN_ISA_SCALAR + 1; i < KERN_ISA_FIRST_EMU; i++)
        if (kern_ops_for((kern_isa)i)) tab[nt++] = kern_ops_for((kern_isa)i);
    if (nt == 0) { fprintf(stderr, "bench_kernels: no SIMD table on this CPU\n"); return 1; }
    tab[nt] = kern_ops_get();
    printf("Microseconds per batch (median of batches filling 20 ms, best of %d interleaved rounds), 1 thread; "
           "`default`: the table dispatch picks (%s, operation by operation); `default / fastest`: the fastest "
           "table's time over the default's, paired within each round (median, range).\n\n| operation | shape |",
           rounds, kern_ops_get()->name);
    for (int e = 0; e < nt; e++) printf(" %s |", tab[e]->name);
    printf(" default | fastest | default / fastest |\n|---|---|");
    for (int e = 0; e <= nt + 2; e++) printf("---|");
    printf("\n");
    for (size_t oi = 0; oi < sizeof OPS / sizeof *OPS; oi++) {
        const op_def *o = &OPS[oi];
        if (o->kind == OP_HPANEL) kern_hamming_pack(d.bits, (size_t)o->p, NV, (size_t)o->p, d.panel);
        double t[KERN_ISA_COUNT + 1][64], best[KERN_ISA_COUNT + 1];
        for (int r = 0; r < rounds; r++)
            for (int e = 0; e <= nt; e++) t[e][r] = time_op(tab[e], o);
        int fast = 0;
        for (int e = 0; e <= nt; e++) {
            double m[64];
            memcpy(m, t[e], sizeof(double) * (size_t)rounds);
            qsort(m, (size_t)rounds, sizeof *m, cmp);
            best[e] = m[0];
            if (e < nt && best[e] < best[fast]) fast = e;
        }
        double q[64];
        for (int r = 0; r < rounds; r++) q[r] = t[fast][r] / t[nt][r];
        qsort(q, (size_t)rounds, sizeof *q, cmp);
        printf("| %s | %s |", o->name, o->shape);
        for (int e = 0; e <= nt; e++) printf(" %.2f |", best[e] * 1e6);
        printf(" %s | %.2f (%.2f-%.2f) |\n", tab[fast]->name, q[rounds / 2], q[0], q[rounds - 1]);
    }
    return 0;
}
