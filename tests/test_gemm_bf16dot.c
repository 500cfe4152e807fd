/* gemm_bf16dot, bf16 weights times activations rounded to bf16 (AVX-512-
 * BF16's vdpbf16ps, AMX's TDPBF16PS), against its scalar reference
 * kern_gemm_bf16dot_ref: the definition by hand (rounding, subnormals, the
 * order of a pair's two products, an odd K), then every row count to 40
 * and past each form's edges, odd N and K, k chunks and blocks, on the
 * emulated table (emu16, every machine) and on the real ones (avx512bf16,
 * skipped on a CPU without AVX-512-BF16; amxbf16, skipped where AMX is not
 * usable), 2 threads bit-identical to 1, padding never written.
 *
 * Tolerance.  Table and reference multiply the same rounded operands, and
 * a product of two bf16 is exact in f32, so they differ only where they add
 * in another order: up to 4 rows avx512bf16's lanes each sum every 16th
 * pair and are then added (simd_body.h, BH_DOT_MAX_M); from 5 rows it adds
 * in the reference's order.  amxbf16 from KERN_BF16DOT_AMX_MIN_M rows sums
 * each 32 k of a row in two partial sums (even k, odd k: 16 products
 * each, from zero), adds the two, then adds that to the running sum.
 * The reference's rounding error is at most (K + 1) u S' (u = 2^-24,
 * S' = |bias| + sum |bf16(a) w|), the vdpbf16ps lanes' and AMX's less
 * (with AMX each product and the bias pass through at most 15 roundings
 * in their partial sum, 1 adding the two, and one per 32 k adding to the
 * running sum: within (K / 32 + 18) u S' of the exact sum, held as such).
 * Those bounds are about K times looser than what happens: with operands
 * of both signs the errors are a random walk over partial sums about
 * sqrt(K) smaller than S'.  The tables are held to 16 u S' from the
 * reference plus the reference's own distance from the exact sum (the
 * worst distance is printed: about 1 u S' here).  That distance counts
 * where the bias is far larger than the products (the operands across
 * 2^-20 .. 2^20 below): the reference then rounds at the bias's scale once
 * a product, about sqrt(K) u S' in all, where AMX adds its 32-k sums, a
 * 32nd as many roundings.  A product lost or counted twice (about S' / K)
 * exceeds the bound for every K below; the emulated table, whose lanes are
 * the reference's own steps, must give the reference's bits from 5 rows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

#define U 0x1p-24
#define TOL_ULPS 16.0
#define EXACT_FROM_M 5 /* simd_body.h: BH_DOT_MAX_M + 1 */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static void *xalloc(size_t bytes)
{
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, 64, bytes ? bytes : 64), 0);
    return p;
}

static float bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* What one table did over the shapes: for the summary line */
typedef struct { int shapes, exact_shapes, seq_shapes; double worst, worst_beyond, worst_exact; } tally;

/* The tables under test: emu16 (emulated), avx512bf16 or amxbf16 (real) */
static const kern_ops *table(kern_isa isa)
{
    const kern_ops *k = kern_ops_for(isa);
    if (k) assert_non_null(k->gemm_bf16dot);
    return k;
}

/* Whether k sums in the reference's order at M rows: the emulated table
 * and avx512bf16 from EXACT_FROM_M rows, amxbf16 between those and AMX */
static int reference_order(const kern_ops *k, int M)
{
    return M >= EXACT_FROM_M && (k->isa != KERN_ISA_AMXBF16 || M < KERN_BF16DOT_AMX_MIN_M);
}

/* One shape: A uniform in [-1, 1) scaled by 2^e per row (e in
 * [-spread, spread]), W and the bias likewise, against the reference. */
static void check(const kern_ops *k, int M, int N, int K, int pad, int with_bias, int spread, tally *t)
{
    const int lda = K + pad, ldw = K + pad, ldc = N + pad;
    float *A = xalloc((size_t)M * lda * sizeof(float)), *bias = xalloc((size_t)N * sizeof(float));
    uint16_t *W = xalloc((size_t)N * ldw * sizeof(uint16_t));
    float *C1 = xalloc((size_t)M * ldc * sizeof(float)), *C2 = xalloc((size_t)M * ldc * sizeof(float));
    float *C3 = xalloc((size_t)M * ldc * sizeof(float)), *pack = xalloc(kern_gemm_scratch_floats(2) * sizeof(float));
    double *Ar = xalloc((size_t)M * lda * sizeof(double)), *Wd = xalloc((size_t)N * ldw * sizeof(double));
    for (int m = 0; m < M; m++) {
        const float s = ldexpf(1.0f, spread ? (int)(frand() * spread) : 0);
        for (int i = 0; i < lda; i++) {
            A[(size_t)m * lda + i] = frand() * s;
            Ar[(size_t)m * lda + i] = kern_bf16_to_f32(kern_f32_to_bf16(A[(size_t)m * lda + i])); /* no subnormals here */
        }
    }
    for (int n = 0; n < N; n++) {
        const float s = ldexpf(1.0f, spread ? (int)(frand() * spread) : 0);
        for (int i = 0; i < ldw; i++) {
            W[(size_t)n * ldw + i] = kern_f32_to_bf16(frand() * s);
            Wd[(size_t)n * ldw + i] = kern_bf16_to_f32(W[(size_t)n * ldw + i]);
        }
        bias[n] = frand();
    }
    const float *b = with_bias ? bias : NULL;
    kern_gemm_bf16dot_ref(M, N, K, A, lda, W, ldw, b, C1, ldc, pack, 1);
    for (size_t i = 0; i < (size_t)M * ldc; i++) C2[i] = C3[i] = 12345.0f; /* sentinels in the padding */
    k->gemm_bf16dot(M, N, K, A, lda, W, ldw, b, C2, ldc, pack, 1);
    k->gemm_bf16dot(M, N, K, A, lda, W, ldw, b, C3, ldc, pack, 2);
    int exact = 1;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < ldc; n++) {
            const size_t i = (size_t)m * ldc + n;
            if (n >= N) {
                if (C2[i] != 12345.0f || C3[i] != 12345.0f) fail_msg("%s M%d N%d K%d: padding column %d written", k->name, M, N, K, n);
                continue;
            }
            /* S (unrounded A) and S' (rounded), and the f32 product of the unrounded A */
            double s = with_bias ? fabs(bias[n]) : 0, sr = s, x = with_bias ? bias[n] : 0, xr = x;
            for (int q = 0; q < K; q++) {
                const double a = A[(size_t)m * lda + q], ar = Ar[(size_t)m * lda + q], w = Wd[(size_t)n * ldw + q];
                s += fabs(a * w);
                sr += fabs(ar * w);
                x += a * w;
                xr += ar * w;
            }
            /* the reference is its definition: A's rounding (2^-8 relative) and an f32 sum */
            if (fabs(C1[i] - x) > 0x1p-8 * s + (K + 1) * U * sr + 1e-30)
                fail_msg("reference M%d N%d K%d: C[%d][%d] = %.9g, f64 of the unrounded A %.9g (sum |a w| %.3g)", M, N, K, m,
                         n, C1[i], x, s);
            /* the table against the reference: 16 u S' and the reference's
             * own error (its distance from the exact sum xr) */
            const double d = fabs((double)C2[i] - C1[i]) / (U * sr + 1e-30), e = fabs((double)C1[i] - xr) / (U * sr + 1e-30);
            const double dx = fabs((double)C2[i] - xr) / (U * sr + 1e-30);
            if (d > t->worst) t->worst = d;
            if (d - e > t->worst_beyond) t->worst_beyond = d - e;
            if (dx > t->worst_exact) t->worst_exact = dx;
            if (d > TOL_ULPS + e)
                fail_msg("%s M%d N%d K%d bias%d: C[%d][%d] = %.9g, reference %.9g (%.3g u S', the reference %.3g u S' from the exact sum)",
                         k->name, M, N, K, with_bias, m, n, C2[i], C1[i], d, e);
            /* AMX against the exact sum: at most (K / 32 + 18) u S', its worst case */
            if (k->isa == KERN_ISA_AMXBF16 && M >= KERN_BF16DOT_AMX_MIN_M &&
                dx > (K + 31) / 32 + 18)
                fail_msg("%s M%d N%d K%d: C[%d][%d] = %.9g, the exact sum %.9g (sum |a w| %.3g)", k->name, M, N, K, m, n,
                         C2[i], xr, sr);
            if (memcmp(&C2[i], &C1[i], sizeof(float)) != 0) exact = 0;
            if (memcmp(&C2[i], &C3[i], sizeof(float)) != 0)
                fail_msg("%s M%d N%d K%d: 2 threads differ from 1 at [%d][%d]", k->name, M, N, K, m, n);
        }
    t->shapes++;
    if (reference_order(k, M)) {
        t->seq_shapes++;
        t->exact_shapes += exact;
        if (!exact && k->isa >= KERN_ISA_FIRST_EMU)
            fail_msg("%s M%d N%d K%d: not the reference's bits from %d rows", k->name, M, N, K, EXACT_FROM_M);
    }
    free(A); free(bias); free(W); free(C1); free(C2); free(C3); free(pack); free(Ar); free(Wd);
}

/* C = A W^T for one row of A repeated M times and one column, each way */
static void by_hand(const kern_ops *k, int M, int K, const float *a, const uint16_t *w, int ld, float bias,
                    float want, const char *what)
{
    float *A = xalloc((size_t)M * ld * sizeof(float)), C[512];
    float *pack = xalloc(kern_gemm_scratch_floats(2) * sizeof(float));
    assert_true(M <= 512);
    for (int m = 0; m < M; m++) memcpy(A + (size_t)m * ld, a, (size_t)ld * sizeof(float));
    for (int t = 1; t <= 2; t++) {
        if (k) k->gemm_bf16dot(M, 1, K, A, ld, w, ld, &bias, C, 1, pack, t);
        else kern_gemm_bf16dot_ref(M, 1, K, A, ld, w, ld, &bias, C, 1, pack, t);
        for (int m = 0; m < M; m++)
            if (memcmp(&C[m], &want, sizeof want) != 0)
                fail_msg("%s, %s, %d rows: row %d gives %a, want %a", what, k ? k->name : "reference", M, m, C[m], want);
    }
    free(A); free(pack);
}

/* The definition on the reference, and on a table through each of its
 * forms (1 row: dot products; 5 and 40: broadcast W; 300: packed; on
 * amxbf16 16, 17, 40 and 300: AMX): Intel's pseudo-code, which Sapphire
 * Rapids follows to the bit. */
static void check_definition(const kern_ops *k)
{
    static const int rows_ref[] = {1, 2}, rows_tab[] = {1, 5, 15, 16, 17, 40, 300};
    const int *rows = k ? rows_tab : rows_ref, nr = k ? 7 : 2;
    for (int r = 0; r < nr; r++) {
        const int M = rows[r];
        /* A to bf16 to nearest, ties to even (1 + 2^-8: 1; 1 + 3 2^-8: 1 + 2^-6) */
        float a[4] = {1.0f + 0x1p-8f}, a2[4] = {-(1.0f + 0x3p-8f)};
        uint16_t one[4] = {0x3f80};
        by_hand(k, M, 1, a, one, 1, 0.0f, 1.0f, "a tie rounds to even");
        by_hand(k, M, 1, a2, one, 1, 0.0f, -(1.0f + 0x1p-6f), "a tie rounds to even (up)");
        /* a subnormal A is zero (bf16 would keep 2^-130, times 2^126: 1/16) */
        float sub[1] = {0x1p-130f};
        uint16_t big[1] = {0x7e80}; /* 2^126 */
        by_hand(k, M, 1, sub, big, 1, 0.0f, 0.0f, "a subnormal A is zero");
        /* a subnormal W is zero (2^-133 times 2^127 would be 1/64) */
        float huge[1] = {0x1p127f};
        uint16_t wsub[1] = {0x0001};
        by_hand(k, M, 1, huge, wsub, 1, 0.0f, 0.0f, "a subnormal W is zero");
        /* a subnormal result is zero: 2^-63 2^-64 */
        float small[1] = {0x1p-63f};
        uint16_t wsmall[1] = {0x1f80}; /* 2^-64 */
        by_hand(k, M, 1, small, wsmall, 1, 0.0f, 0.0f, "a subnormal result is zero");
        /* an odd K: the last pair's second half is zero, whatever lies past K */
        float odd[4] = {2.0f, 3.0f, 5.0f, bits_f(0x7fc00000u)};
        uint16_t wodd[4] = {0x3f80, 0x4000, 0x4040, 0x7fc0}; /* 1, 2, 3, NaN */
        by_hand(k, M, 3, odd, wodd, 4, 0.5f, 2.0f + 6.0f + 15.0f + 0.5f, "an odd K");
        /* the pair's odd product is added first, each step rounded: from 1,
         * + 2^-24 (a tie: 1), then - 1.5 2^-24 (a tie: 1 - 2^-23); the even
         * first gives 1 - 2^-24, one rounding of both 1.  The dot products
         * (1 row) start from zero and add the bias last, and AMX adds the
         * two products first (1 + -2^-25, a tie: 1): not this. */
        if (!k || reference_order(k, M)) {
            float ord[2] = {-0x3p-25f, 0x1p-24f};
            uint16_t w11[2] = {0x3f80, 0x3f80};
            by_hand(k, M, 2, ord, w11, 2, 1.0f, 1.0f - 0x1p-23f, "the odd product first");
        }
    }
}

static void run_shapes(const kern_ops *k)
{
    tally t = {0, 0, 0, 0.0, 0.0, 0.0};
    static const int ncols[] = {1, 5, 13, 37};
    /* every row count to 40 (1..4 the dot products, 5..16 broadcast blocks
     * of one vector, 17..32 of two, 33..40 of three) with N odd across the
     * tile widths (16, 12, 8) and K odd and even */
    for (int M = 1; M <= 40; M++) check(k, M, ncols[M % 4], 9 + 2 * (M % 16) + M % 2, M % 3, M % 2, 0, &t);
    /* each block layout of the broadcast form (3 then 2 vectors, ...), its
     * end, and the packed form past 256 rows */
    static const int rows[] = {47, 48, 49, 64, 65, 80, 81, 112, 113, 145, 176, 209, 240, 241, 255, 256, 257, 258, 300};
    for (int i = 0; i < (int)(sizeof rows / sizeof rows[0]); i++) check(k, rows[i], 7 + 6 * (i % 5), 17 + rows[i] % 9, i % 3, i % 2, 0, &t);
    /* every N to 33 and K to 70 on each form */
    for (int v = 1; v <= 33; v++) {
        check(k, 3, v, 19, v % 3, v % 2, 0, &t);
        check(k, 7, v, 21, 0, (v + 1) % 2, 0, &t);
        check(k, 20, v, 9, 1, v % 2, 0, &t);
        check(k, 40, v, 11, 2, (v + 1) % 2, 0, &t);
        check(k, 260, v, 13, 1, v % 2, 0, &t);
    }
    for (int K = 1; K <= 70; K++) {
        check(k, 2, 7, K, K % 3, 1, 0, &t);
        check(k, 17, 9, K, (K + 1) % 3, K % 2, 0, &t);
        check(k, 33, 13, K, 0, 1, 0, &t);
        check(k, 270, 5, K, 2, K % 2, 0, &t);
    }
    /* k chunks of the broadcast form (8192 k from 1 to 16 rows, 512 at
     * 256 rows), k blocks of the packed form (768), its column blocks (256)
     * and its thread split by rows (M > N) and by columns; K odd at the end
     * of several chunks; operands across 2^-20 .. 2^20 */
    check(k, 4, 9, 5001, 1, 1, 0, &t);
    check(k, 16, 20, 8192 + 35, 0, 1, 0, &t);
    check(k, 100, 30, 2345, 2, 1, 0, &t);
    check(k, 256, 41, 1100, 0, 0, 0, &t);
    check(k, 300, 300, 800, 1, 1, 0, &t);
    check(k, 600, 40, 1537, 0, 1, 0, &t);
    check(k, 37, 29, 777, 1, 1, 20, &t);
    check(k, 333, 35, 900, 2, 0, 20, &t);
    /* AMX's edges: 16-row groups and 32-row blocks of A, 32-column blocks
     * of W (the last one copied), its 32-k chunks (the last one copied),
     * k blocks (1024) and the row chunks of A (M past a thread's room) */
    static const int am[] = {16, 31, 32, 33, 47, 48, 63, 64, 65, 97};
    static const int an[] = {15, 16, 17, 31, 32, 33, 63, 64, 65, 96};
    static const int ak[] = {31, 32, 33, 63, 64, 65, 95, 96, 2, 1};
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j += 3) check(k, am[i], an[(i + j) % 10], ak[(i + 2 * j) % 10], j % 3, (i + j) % 2, 0, &t);
    check(k, 40, 70, 1023, 1, 1, 0, &t);
    check(k, 33, 64, 1024, 0, 1, 0, &t);
    check(k, 50, 33, 1025, 2, 0, 0, &t);
    check(k, 70, 97, 2049, 0, 1, 0, &t);
    check(k, 500, 65, 130, 1, 1, 0, &t);
    check(k, 230, 64, 3100, 0, 1, 10, &t);
    printf("%s gemm_bf16dot: %d shapes within %.3g u S' of the reference (worst; %.3g beyond the reference's own error)"
           " and %.3g u S' of the exact sum, %d of %d summed in its order bit-identical\n",
           k->name, t.shapes, t.worst, t.worst_beyond, t.worst_exact, t.exact_shapes, t.seq_shapes);
}

static void test_reference(void **s)
{
    (void)s;
    check_definition(NULL);
}

static void test_emulated(void **s)
{
    (void)s;
    check_definition(table(KERN_ISA_EMU16));
    run_shapes(table(KERN_ISA_EMU16));
}

static void test_real(void **s)
{
    (void)s;
    const kern_ops *k = table(KERN_ISA_AVX512BF16);
    if (!k) {
        printf("avx512bf16: this CPU has no AVX-512-BF16; its table is tested on emu16 only\n");
        skip();
        return;
    }
    check_definition(k);
    run_shapes(k);
}

static void test_amx(void **s)
{
    (void)s;
    const kern_ops *k = table(KERN_ISA_AMXBF16);
    if (!k) {
        printf("amxbf16: AMX-BF16 is not usable here (no AMX-TILE / AMX-BF16, the OS does not keep the tile state,"
               " or Linux did not grant it); skipped\n");
        skip();
        return;
    }
    check_definition(k);
    run_shapes(k);
}

/* Only avx512bf16, amxbf16 and emu16 have it; every other table widens. */
static void test_tables(void **s)
{
    (void)s;
    for (int i = 0; i < KERN_ISA_COUNT; i++) {
        const kern_ops *k = kern_ops_for((kern_isa)i);
        if (k) assert_int_equal(k->gemm_bf16dot != NULL, i == KERN_ISA_AVX512BF16 || i == KERN_ISA_AMXBF16 || i == KERN_ISA_EMU16);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_emulated),
        cmocka_unit_test(test_real),
        cmocka_unit_test(test_amx),
    };
    return cmocka_run_group_tests_name("gemm_bf16dot", tests, NULL, NULL);
}
