/* Every kernel of every ISA this CPU has, and of the emulated tables (the
 * SIMD body at 4, 8 and 16 lanes in portable C, on every machine), against
 * the scalar reference, with the tails of 1 .. VL - 1 of each width.  An
 * emulated table traps on a masked count outside [0, VL]: such a test ends
 * with "Illegal instruction", the last line printed naming the table before. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static uint64_t u64rand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}
/* uniform in [-128, 127] (a float scaled and cast could leave int8's range: undefined) */
static int8_t i8rand(void) { return (int8_t)((int)(u64rand() >> 56) - 128); }

static float *falloc(size_t n)
{
    float *p = NULL;
    assert_int_equal(posix_memalign((void **)&p, 64, (n ? n : 1) * sizeof(float)), 0);
    return p;
}

/* What the test runs now ("emu16 gemm M40 ..."), said on stderr when an
 * emulated table traps on a masked count out of range: cmocka itself names
 * only the signal.  Set before each call; the handler is put in front of
 * cmocka's (installed for each test) and hands the trap back to it. */
static char where[200];
static struct sigaction cmocka_ill;
static void say_where(int sig)
{
    static const char head[] = "trapped in: ";
    (void)!write(2, head, sizeof head - 1);
    (void)!write(2, where, strlen(where));
    (void)!write(2, "\n", 1);
    /* the trap runs again on return: now cmocka's failure (SIGILL), or the
     * default action (SIGTRAP, __builtin_trap on AArch64) */
    if (sig == SIGILL) sigaction(SIGILL, &cmocka_ill, NULL);
    else signal(sig, SIG_DFL);
}
static void name_traps(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    struct sigaction now;
    sigaction(SIGILL, NULL, &now);
    if (now.sa_handler == say_where) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = say_where;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGILL, &sa, &cmocka_ill);
    sigaction(SIGTRAP, &sa, NULL);
}

static void test_dispatch(void **s)
{
    (void)s;
    const kern_ops *k = kern_ops_get();
    assert_non_null(k);
    assert_true(k == kern_ops_get());
    assert_non_null(kern_ops_for(KERN_ISA_SCALAR));
    /* the emulated tables exist everywhere, and dispatch never picks one unasked */
    for (int i = KERN_ISA_FIRST_EMU; i < KERN_ISA_COUNT; i++) assert_non_null(kern_ops_for((kern_isa)i));
    const char *forced = getenv("EMBER_ISA");
    if (!forced || strncmp(forced, "emu", 3) != 0) assert_true(k->isa < KERN_ISA_FIRST_EMU);
    /* each operation of the default table is a real table's this CPU has,
     * at most the default's own ISA (dispatch.c may take an operation from a
     * narrower table, never from an emulated one) */
    if (!forced || !*forced) {
#define FROM_A_REAL_TABLE(op)                                                                       \
        do {                                                                                         \
            int found = 0;                                                                           \
            for (int i = 0; i <= (int)k->isa; i++) found |= kern_ops_for((kern_isa)i) && kern_ops_for((kern_isa)i)->op == k->op; \
            if (!found) fail_msg("default table: %s is no real table's", #op);                      \
        } while (0)
        FROM_A_REAL_TABLE(gemm_f32); FROM_A_REAL_TABLE(layernorm_f32); FROM_A_REAL_TABLE(gelu_f32);
        FROM_A_REAL_TABLE(attention_f32); FROM_A_REAL_TABLE(dot_f32); FROM_A_REAL_TABLE(l2sq_f32);
        FROM_A_REAL_TABLE(dot_f32_i8); FROM_A_REAL_TABLE(dot_i8); FROM_A_REAL_TABLE(hamming);
        FROM_A_REAL_TABLE(hamming_panel); FROM_A_REAL_TABLE(pq_lut); FROM_A_REAL_TABLE(pq4_scan);
        FROM_A_REAL_TABLE(attention_causal_f32); FROM_A_REAL_TABLE(rmsnorm_f32); FROM_A_REAL_TABLE(rope_f32);
        FROM_A_REAL_TABLE(silu_mul_f32); FROM_A_REAL_TABLE(gemm_bf16dot); FROM_A_REAL_TABLE(attention_alibi_f32);
#undef FROM_A_REAL_TABLE
        assert_int_equal(k->isa, kern_ops_for(k->isa)->isa);
    }
    for (int i = 0; i < KERN_ISA_COUNT; i++) {
        const kern_ops *o = kern_ops_for((kern_isa)i);
        if (o) { assert_int_equal(o->isa, i); assert_true(kern_cpu_has((kern_isa)i)); assert_string_equal(o->name, kern_isa_name((kern_isa)i)); }
        printf("isa %d: %s\n", i, o ? o->name : "not supported here");
    }
}

/* One shape on every table but the scalar one, the oracle (computed once):
 * within a tolerance of it, padding columns never written, 2 threads
 * bit-identical to 1. */
static void check_gemm(int M, int N, int K, int pad, kern_wtype wt, int with_bias)
{
    const kern_ops *ref = kern_ops_for(KERN_ISA_SCALAR);
    int lda = K + pad, ldw = K + pad, ldc = N + pad;
    float *A = falloc((size_t)M * lda), *Wf = falloc((size_t)N * ldw), *bias = falloc((size_t)N);
    uint16_t *Wh = malloc((size_t)N * ldw * sizeof(uint16_t) + 2);
    float *C1 = falloc((size_t)M * ldc), *C2 = falloc((size_t)M * ldc), *C3 = falloc((size_t)M * ldc);
    float *pack = falloc(kern_gemm_scratch_floats(2));
    for (size_t i = 0; i < (size_t)M * lda; i++) A[i] = frand();
    for (size_t i = 0; i < (size_t)N * ldw; i++) {
        float w = frand();
        if (wt == KERN_W_F16) Wh[i] = kern_f32_to_f16(w);
        if (wt == KERN_W_BF16) Wh[i] = kern_f32_to_bf16(w);
        Wf[i] = w;
    }
    for (int i = 0; i < N; i++) bias[i] = frand();
    const void *W = wt == KERN_W_F32 ? (const void *)Wf : (const void *)Wh;
    const float *b = with_bias ? bias : NULL;
    ref->gemm_f32(M, N, K, A, lda, W, wt, ldw, b, C1, ldc, pack, 1);
    double tol = 2e-6 * sqrt((double)K) + 1e-6;
    for (int isa = KERN_ISA_SCALAR + 1; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        name_traps("%s gemm M%d N%d K%d wt%d", k->name, M, N, K, wt);
        for (size_t i = 0; i < (size_t)M * ldc; i++) C2[i] = C3[i] = 12345.0f; /* sentinels in the padding */
        k->gemm_f32(M, N, K, A, lda, W, wt, ldw, b, C2, ldc, pack, 1);
        k->gemm_f32(M, N, K, A, lda, W, wt, ldw, b, C3, ldc, pack, 2);
        for (int m = 0; m < M; m++)
            for (int n = 0; n < ldc; n++) {
                size_t i = (size_t)m * ldc + n;
                if (n >= N) { /* never written */
                    assert_true(C2[i] == 12345.0f && C3[i] == 12345.0f);
                    continue;
                }
                /* f32 sums round relative to their partial sums: tails of |C| well above
                 * sqrt(K) / 3 (the typical size here) get a proportionally wider bound */
                if (fabs(C1[i] - C2[i]) > tol * fmax(1.0, fabs(C1[i]) / 8.0))
                    fail_msg("%s gemm M%d N%d K%d wt%d bias%d: C[%d][%d] = %.7g, ref %.7g", k->name, M, N, K, wt,
                             with_bias, m, n, C2[i], C1[i]);
                if (memcmp(&C2[i], &C3[i], sizeof(float)) != 0)
                    fail_msg("%s gemm M%d N%d K%d: 2 threads differ from 1 at [%d][%d]", k->name, M, N, K, m, n);
            }
    }
    free(A); free(Wf); free(Wh); free(bias); free(C1); free(C2); free(C3); free(pack);
}

static void test_gemm(void **s)
{
    (void)s;
    static const int sizes[] = {1, 3, 7, 16, 17, 33, 65, 100, 385};
    for (int a = 0; a < 9; a++)
        for (int b = 0; b < 9; b += 2)
            for (int c = 0; c < 9; c += 3) {
                int M = sizes[a], N = sizes[b], K = sizes[c];
                check_gemm(M, N, K, (a + b) % 3, (kern_wtype)((a + c) % 3), (b / 2) % 2);
            }
    /* model-like shapes crossing the KC and NC blocks (packed path: > 256 rows) */
    check_gemm(33, 600, 520, 0, KERN_W_F32, 1);
    check_gemm(333, 600, 1000, 1, KERN_W_F32, 1);
    check_gemm(2049, 40, 390, 0, KERN_W_BF16, 0);
    check_gemm(16, 384, 1536, 0, KERN_W_F16, 1);
    /* the row counts around each form's edges (broadcast W from 9 to 256
     * rows on 8 lanes: blocks of 16, or 24 then 16; on 16 lanes the quad
     * tiles from 5 to 24 rows, groups of 4, then broadcast W from 25:
     * blocks of 32, or 48 then 32), odd N for partial tiles, K past the k
     * chunk (4096 at <= 16 rows on 8 lanes, 2728 for quad tiles, less
     * above) */
    static const int rows[] = {4, 5, 8, 9, 12, 13, 15, 16, 17, 20, 21, 24, 25, 31, 32, 40, 47, 48, 49, 100, 159, 255, 256, 257};
    for (int i = 0; i < (int)(sizeof rows / sizeof rows[0]); i++) {
        int M = rows[i];
        check_gemm(M, 7 + 6 * (i % 5), 9 + M, i % 3, (kern_wtype)(i % 3), i % 2);
    }
    check_gemm(13, 29, 4096 + 40, 1, KERN_W_F32, 1);
    check_gemm(11, 14, 8192 + 9, 0, KERN_W_BF16, 0);
    check_gemm(200, 13, 700, 2, KERN_W_F16, 1);
    check_gemm(21, 9, 3000 + 1, 2, KERN_W_BF16, 1);  /* 6 quad groups on 16 lanes, 2 chunks */
    check_gemm(6, 17, 5460 + 2, 0, KERN_W_F16, 0);   /* 2 quad groups, 3 chunks, a k tail of 2 */
    check_gemm(40, 21, 2000 + 3, 1, KERN_W_BF16, 1); /* blocks of 48 rows on 16 lanes, 2 chunks */
    check_gemm(100, 19, 700, 0, KERN_W_F32, 0);      /* 48 + 32 + 32 rows, 2 chunks */
    /* every row count to past the broadcast form's end, each block layout
     * of each width: N odd across the tile widths (4, 5, 6, 8, 12), K odd */
    static const int ncols[] = {1, 5, 13, 37};
    for (int M = 1; M <= 300; M++)
        check_gemm(M, ncols[M % 4], 9 + 2 * (M % 16), M % 3, (kern_wtype)((M / 3) % 3), (M / 2) % 2);
    /* every tail of every width (VL 4, 8, 16; tiles of 2 VL columns, 6, 8
     * or 12 rows, 3 or 4 small-M columns): each of M, N, K from 1 to
     * 2 x 16 + 1 with the others fixed, on each path (<= 16 rows; the
     * broadcast W of 9..256 rows on 8 lanes; packed tiles above) */
    for (int v = 1; v <= 33; v++) {
        check_gemm(1 + v % 4, v, 19, v % 3, (kern_wtype)(v % 3), v % 2);  /* N, small M */
        check_gemm(13, v, 21, 0, (kern_wtype)((v + 1) % 3), (v + 1) % 2); /* N, 13 rows */
        check_gemm(30, v + 2, 9, 1, (kern_wtype)((v + 2) % 3), v % 2);    /* N, packed */
        check_gemm(258, v, 10, 1, (kern_wtype)(v % 3), v % 2);            /* packed on 8 lanes too */
        check_gemm(3, 7, v, v % 3, (kern_wtype)(v % 3), 1);                /* K */
        check_gemm(12, 35, v, 0, (kern_wtype)((v + 1) % 3), 0);
        check_gemm(30, 9, v, 2, (kern_wtype)((v + 2) % 3), 1);
        check_gemm(259, 17, v, 0, (kern_wtype)((v + 1) % 3), (v + 1) % 2);
        check_gemm(v, 37, 21 + v % 2, v % 3, (kern_wtype)(v % 3), v % 2); /* M */
    }
    for (int M = 34; M <= 41; M++) check_gemm(M, 11, 17, 1, KERN_W_F32, 1);
    for (int M = 257; M <= 264; M++) check_gemm(M, 13, 11, M % 3, (kern_wtype)(M % 3), M % 2);
}

/* Each GEMM form gives a row of C the same bits whatever M and the thread
 * count (kern_ops.gemm_form_f32): every row of an M-row call equals that
 * row computed alone, on every table, for each form gemm_form returns,
 * with M crossing the forms' internal edges (quad calls of 24 rows,
 * broadcast blocks, the packed form past 256 rows) and K past the chunks
 * (2728 for the quad tiles, the broadcast form's by M). */
static void test_gemm_forms_row_bits(void **s)
{
    (void)s;
    static const int Ms[] = {2, 7, 23, 30, 50, 130, 300};
    static const int Ks[] = {37, 3001};
    const int N = 21, Mmax = 300, Kmax = 3001;
    float *A = malloc(sizeof(float) * (size_t)Mmax * Kmax), *W = malloc(sizeof(float) * (size_t)N * Kmax);
    float *C = malloc(sizeof(float) * (size_t)Mmax * N), *C2 = malloc(sizeof(float) * (size_t)Mmax * N);
    float *one = malloc(sizeof(float) * (size_t)N), bias[21];
    float *pack = aligned_alloc(64, ((kern_gemm_scratch_floats(2) * sizeof(float) + 63) / 64) * 64);
    assert_true(A && W && C && C2 && one && pack);
    for (size_t i = 0; i < (size_t)Mmax * Kmax; i++) A[i] = frand();
    for (size_t i = 0; i < (size_t)N * Kmax; i++) W[i] = frand();
    for (int i = 0; i < N; i++) bias[i] = frand();
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        name_traps("gemm forms on %s", k->name);
        int seen[3] = {0};
        for (int base = 1; base <= Mmax; base++) seen[k->gemm_form(base)] = 1;
        for (int f = 0; f < 3; f++) {
            if (!seen[f]) continue;
            for (int ki = 0; ki < 2; ki++)
                for (int mi = 0; mi < (int)(sizeof Ms / sizeof Ms[0]); mi++) {
                    const int M = Ms[mi], K = Ks[ki], nt = 1 + mi % 2;
                    if (K > 100 && M > 50 && isa >= KERN_ISA_FIRST_EMU) continue; /* the emulated tables are slow */
                    k->gemm_form_f32(f, M, N, K, A, K, W, KERN_W_F32, K, bias, C, N, pack, nt);
                    for (int r = 0; r < M; r += 1 + M / 9) {
                        k->gemm_form_f32(f, 1, N, K, A + (size_t)r * K, K, W, KERN_W_F32, K, bias, one, N, pack, 1);
                        if (memcmp(one, C + (size_t)r * N, sizeof(float) * (size_t)N) != 0)
                            fail_msg("%s: form %d, row %d of %d (K %d, %d threads) differs from the row alone", k->name,
                                     f, r, M, K, nt);
                    }
                }
        }
        /* gemm_f32 is the form gemm_form names */
        for (int M = 1; M <= 40; M += 13) {
            k->gemm_f32(M, N, 50, A, 50, W, KERN_W_F32, 50, bias, C, N, pack, 1);
            k->gemm_form_f32(k->gemm_form(M), M, N, 50, A, 50, W, KERN_W_F32, 50, bias, C2, N, pack, 1);
            if (memcmp(C2, C, sizeof(float) * (size_t)M * N) != 0) fail_msg("%s: gemm_f32 of %d rows is not its form", k->name, M);
        }
    }
    free(A); free(W); free(C); free(C2); free(one); free(pack);
}

static void test_gelu(void **s)
{
    (void)s;
    const int n = 200003;
    float *x = falloc(n), *y = falloc(n);
    for (int i = 0; i < n; i++) x[i] = -10.0f + 20.0f * (float)i / (n - 1);
    x[0] = -88.0f; x[1] = 88.0f; x[2] = 0.0f; x[3] = -0.0f; x[4] = 1e-30f; x[5] = -1e30f; x[6] = 1e30f;
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        for (int len = 1; len <= 40; len++) { /* every tail length */
            name_traps("%s gelu n%d", k->name, len);
            memcpy(y, x + 1000, (size_t)len * sizeof(float));
            k->gelu_f32(y, (size_t)len);
            for (int i = 0; i < len; i++) {
                double xv = x[1000 + i], want = 0.5 * xv * (1.0 + erf(xv / sqrt(2.0)));
                assert_true(fabs(y[i] - want) <= 2e-7 * (1.0 + fabs(xv)));
            }
        }
        memcpy(y, x, (size_t)n * sizeof(float));
        k->gelu_f32(y, (size_t)n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double xv = x[i], want = 0.5 * xv * (1.0 + erf(xv / sqrt(2.0)));
            double err = fabs(y[i] - want);
            if (isinf(want) || fabs(xv) > 1e20) { assert_true(fabs(xv) < 1e20 || (xv > 0 ? y[i] == (float)xv : y[i] == 0.0f)); continue; }
            if (!(err <= 2e-7 * (1.0 + fabs(xv)))) fail_msg("%s gelu(%.9g) = %.9g, want %.9g", k->name, xv, y[i], want);
            if (err > worst) worst = err;
        }
        printf("%s gelu: worst |err| %.3g over [-10, 10]\n", k->name, worst);
    }
    free(x); free(y);
}

static void test_layernorm_dot(void **s)
{
    (void)s;
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        for (int n = 1; n <= 1100; n += (n < 70 ? 1 : 97)) {
            name_traps("%s layernorm / dot n%d", k->name, n);
            float *x = falloc(n), *r = falloc(n), *g = falloc(n), *b = falloc(n), *y = falloc(n);
            for (int i = 0; i < n; i++) { x[i] = 3.0f + frand(); r[i] = frand(); g[i] = 1 + frand() * 0.1f; b[i] = frand() * 0.1f; }
            for (int with_r = 0; with_r < 2; with_r++) {
                memcpy(y, x, (size_t)n * sizeof(float));
                k->layernorm_f32(y, with_r ? r : NULL, g, b, n, 1e-12f);
                double mean = 0, var = 0;
                for (int i = 0; i < n; i++) mean += x[i] + (with_r ? r[i] : 0);
                mean /= n;
                for (int i = 0; i < n; i++) { double d = x[i] + (with_r ? r[i] : 0) - mean; var += d * d; }
                var /= n;
                for (int i = 0; i < n; i++) {
                    double want = (x[i] + (with_r ? r[i] : 0) - mean) / sqrt(var + 1e-12) * g[i] + b[i];
                    if (n == 1) want = b[i];
                    if (fabs(y[i] - want) > 2e-5) fail_msg("%s layernorm n=%d i=%d: %.7g vs %.7g", k->name, n, i, y[i], want);
                }
            }
            double d = 0;
            for (int i = 0; i < n; i++) d += (double)x[i] * r[i];
            assert_true(fabs(k->dot_f32(x, r, (size_t)n) - d) <= 1e-5 * sqrt((double)n) * 4);
            free(x); free(r); free(g); free(b); free(y);
        }
    }
}

/* Attention of nq of L queries, heads of d, on every table against a float64
 * softmax; rows past nq must stay untouched. */
static void check_attention(int L, int nq, int d)
{
    const int ld = 3 * d + 5, ldo = d + 3;
    float *qkv = falloc((size_t)L * ld), *out = falloc((size_t)L * ldo);
    float *scr = falloc(kern_attention_scratch_floats(L, d));
    double *want = malloc((size_t)nq * d * sizeof(double)), *sc = malloc((size_t)L * sizeof(double));
    for (size_t i = 0; i < (size_t)L * ld; i++) qkv[i] = 2.0f * frand();
    const float scale = 1.0f / sqrtf((float)d);
    for (int i = 0; i < nq; i++) {
        double mx = -1e300, sum = 0;
        for (int j = 0; j < L; j++) {
            double dd = 0;
            for (int e = 0; e < d; e++) dd += (double)qkv[(size_t)i * ld + e] * qkv[(size_t)j * ld + d + e];
            sc[j] = dd * scale;
            if (sc[j] > mx) mx = sc[j];
        }
        for (int j = 0; j < L; j++) { sc[j] = exp(sc[j] - mx); sum += sc[j]; }
        for (int e = 0; e < d; e++) {
            double w = 0;
            for (int j = 0; j < L; j++) w += sc[j] / sum * qkv[(size_t)j * ld + 2 * d + e];
            want[(size_t)i * d + e] = w;
        }
    }
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        name_traps("%s attention L%d nq%d d%d", k->name, L, nq, d);
        for (size_t i = 0; i < (size_t)L * ldo; i++) out[i] = 12345.0f;
        k->attention_f32(L, nq, d, scale, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, out, ldo, scr);
        for (int i = nq; i < L; i++) assert_true(out[(size_t)i * ldo] == 12345.0f); /* rows past nq untouched */
        for (int i = 0; i < nq; i++)
            for (int e = 0; e < ldo; e++) {
                double got = out[(size_t)i * ldo + e];
                if (e >= d) {
                    if (got != 12345.0f) fail_msg("%s attention L%d d%d: out[%d][%d] past d written", k->name, L, d, i, e);
                }
                else if (fabs(got - want[(size_t)i * d + e]) > 2e-6)
                    fail_msg("%s attention L%d d%d [%d][%d]: %.7g vs %.7g", k->name, L, d, i, e, got, want[(size_t)i * d + e]);
            }
    }
    free(qkv); free(out); free(scr); free(want); free(sc);
}

static void test_attention(void **s)
{
    (void)s;
    static const int Ls[] = {1, 2, 5, 17, 64, 129}, ds[] = {16, 32, 64, 24, 20}; /* 20: dims past the last 8 */
    for (int a = 0; a < 6; a++)
        for (int c = 0; c < 5; c++) {
            int L = Ls[a];
            /* every query, or the first few (a pooled token): 1, 5, 6 of L */
            check_attention(L, c == 0 ? L : (c == 1 ? 1 : (L < 5 + c ? L : 5 + c - 2 + (a % 2))), ds[c]);
        }
    /* the tails of every width: keys in panels of 2 VL (8, 16, 32), their
     * second vector all padding when L mod 2 VL < VL; dims in passes of 2 VL;
     * queries in blocks of 6.  L over 1 .. 3 x 16 + 2 (every L mod 32 and
     * 16), then d over 1 .. 4 x 16 + 2 */
    static const int dl[] = {1, 5, 8, 12, 16, 23, 31, 33};
    for (int L = 1; L <= 50; L++) check_attention(L, L % 3 || L < 7 ? L : 1 + L % 7, dl[L % 8]);
    for (int d = 1; d <= 66; d++) check_attention(1 + d * 7 % 40, 1 + d * 7 % 40, d);
    /* every score far below 0 (-200 and -204): the keys padding a panel
     * must not set the row maximum, or every weight underflows (clamped
     * alike: the mean of V instead of the softmax).  Every L mod 32. */
    for (int L = 1; L <= 66; L++) {
        const int d = 16, ld = 3 * d;
        float *qkv = falloc((size_t)L * ld), *out = falloc((size_t)L * d), *scr = falloc(kern_attention_scratch_floats(L, d));
        for (int j = 0; j < L; j++)
            for (int e = 0; e < d; e++) {
                qkv[(size_t)j * ld + e] = 10.0f;
                qkv[(size_t)j * ld + d + e] = j % 2 ? -5.1f : -5.0f;
                qkv[(size_t)j * ld + 2 * d + e] = (float)(j % 7) - 3.0f + 0.1f * e;
            }
        for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
            const kern_ops *k = kern_ops_for((kern_isa)isa);
            if (!k) continue;
            name_traps("%s attention L%d, scores -200", k->name, L);
            k->attention_f32(L, L, d, 0.25f, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, out, d, scr);
            for (int e = 0; e < d; e++) {
                double want = 0, sum = 0;
                for (int j = 0; j < L; j++) {
                    double p = exp(j % 2 ? -4.0 : 0.0); /* scores -204 / -200 */
                    want += p * qkv[(size_t)j * ld + 2 * d + e];
                    sum += p;
                }
                want /= sum;
                for (int i = 0; i < L; i++)
                    if (!(fabs(out[(size_t)i * d + e] - want) < 1e-5))
                        fail_msg("%s attention L%d, scores -200: out[%d][%d] = %g, want %g", k->name, L, i, e, out[(size_t)i * d + e], want);
            }
        }
        free(qkv); free(out); free(scr);
    }
}

/* ---- the decoder (Qwen3) operations: RMSNorm, RoPE, SwiGLU, causal
 * attention, each table against the scalar reference ------------------- */

static const int odd_n[] = {1, 3, 17, 64, 127, 1024 + 5};

/* out-of-place and in place (same bits), rows one float off 64-byte
 * alignment, x left alone when out is elsewhere, nothing written past n */
static void test_rmsnorm(void **s)
{
    (void)s;
    const kern_ops *ref = kern_ops_for(KERN_ISA_SCALAR);
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) { /* by hand: [3, 4] has mean square 12.5 */
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        float x[2] = {3.0f, 4.0f}, g[2] = {1.0f, 1.0f}, o[2];
        k->rmsnorm_f32(o, x, g, 2, 0.0f);
        if (fabs(o[0] - 3 / sqrt(12.5)) > 1e-7 || fabs(o[1] - 4 / sqrt(12.5)) > 1e-7)
            fail_msg("%s rmsnorm [3, 4]: %.9g %.9g", k->name, o[0], o[1]);
        float h[2] = {-2.0f, 0.5f};
        k->rmsnorm_f32(x, x, h, 2, 0.0f); /* in place, with weights */
        if (fabs(x[0] + 6 / sqrt(12.5)) > 2e-7 || fabs(x[1] - 2 / sqrt(12.5)) > 1e-7) fail_msg("%s rmsnorm in place by hand", k->name);
    }
    for (int t = 0; t < 6 + 40; t++) {
        const int n = t < 6 ? odd_n[t] : t - 5; /* the sizes, then every tail of 2 x 16 lanes */
        float *x = falloc((size_t)n + 1) , *g = falloc((size_t)n + 1), *w = falloc((size_t)n + 1);
        float *y = falloc((size_t)n + 2), *z = falloc((size_t)n + 1);
        for (int i = 0; i <= n; i++) { x[i] = 2.0f * frand() + (i % 7 == 0 ? 5.0f : 0.0f); g[i] = 1.0f + 0.2f * frand(); }
        ref->rmsnorm_f32(w, x + 1, g + 1, n, 1e-6f);
        for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
            const kern_ops *k = kern_ops_for((kern_isa)isa);
            if (!k) continue;
            name_traps("%s rmsnorm n%d", k->name, n);
            y[n + 1] = 12345.0f;
            memcpy(z, x, ((size_t)n + 1) * sizeof(float));
            k->rmsnorm_f32(y + 1, x + 1, g + 1, n, 1e-6f);
            k->rmsnorm_f32(z + 1, z + 1, g + 1, n, 1e-6f);
            assert_true(y[n + 1] == 12345.0f);
            for (int i = 0; i < n; i++) {
                if (fabs(y[1 + i] - w[i]) > 1e-6 * fabs(w[i]))
                    fail_msg("%s rmsnorm n%d [%d]: %.9g vs %.9g", k->name, n, i, y[1 + i], w[i]);
                if (memcmp(&y[1 + i], &z[1 + i], sizeof(float)) != 0) fail_msg("%s rmsnorm n%d: in place differs at %d", k->name, n, i);
            }
        }
        /* the reference itself against the formula in float64 */
        double ss = 0;
        for (int i = 1; i <= n; i++) ss += (double)x[i] * x[i];
        for (int i = 0; i < n; i++) assert_true(fabs(w[i] - x[1 + i] / sqrt(ss / n + 1e-6) * g[1 + i]) <= 1e-7 * fabs(w[i]) + 1e-30);
        free(x); free(g); free(w); free(y); free(z);
    }
}

/* heads of hd with this token's angles at pos: cs, sn of pos theta^(-2i/hd) */
static void rope_angles(int hd, int pos, float *cs, float *sn)
{
    for (int i = 0; i < hd / 2; i++) {
        double a = pos * pow(1e6, -2.0 * i / hd);
        cs[i] = (float)cos(a);
        sn[i] = (float)sin(a);
    }
}

static void check_rope(int n_heads, int hd, int pos)
{
    const kern_ops *ref = kern_ops_for(KERN_ISA_SCALAR);
    const size_t n = (size_t)n_heads * hd;
    float *x = falloc(n), *w = falloc(n), *y = falloc(n + 16), *cs = falloc((size_t)hd / 2), *sn = falloc((size_t)hd / 2);
    for (size_t i = 0; i < n; i++) x[i] = 3.0f * frand();
    rope_angles(hd, pos, cs, sn);
    memcpy(w, x, n * sizeof(float));
    ref->rope_f32(w, n_heads, hd, cs, sn);
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        name_traps("%s rope heads%d hd%d", k->name, n_heads, hd);
        memcpy(y, x, n * sizeof(float));
        for (int i = 0; i < 16; i++) y[n + i] = 12345.0f;
        k->rope_f32(y, n_heads, hd, cs, sn);
        for (int i = 0; i < 16; i++) assert_true(y[n + i] == 12345.0f);
        for (int h = 0; h < n_heads; h++)
            for (int i = 0; i < hd; i++) {
                size_t at = (size_t)h * hd + i, pair = (size_t)h * hd + (i + hd / 2) % hd;
                /* both within 2^-23 (|a| + |b|) of the exact value */
                if (fabs(y[at] - w[at]) > 2.4e-7 * (fabs(x[at]) + fabs(x[pair])))
                    fail_msg("%s rope heads%d hd%d pos%d [%d][%d]: %.9g vs %.9g", k->name, n_heads, hd, pos, h, i, y[at], w[at]);
            }
    }
    free(x); free(w); free(y); free(cs); free(sn);
}

static void test_rope(void **s)
{
    (void)s;
    static const int hds[] = {2, 6, 16, 64, 128};
    for (int a = 0; a < 5; a++)
        for (int heads = 1; heads <= 3; heads += 2) check_rope(heads, hds[a], 1 + 37 * a);
    for (int hd = 2; hd <= 2 * (2 * 16 + 1); hd += 2) check_rope(2, hd, hd * 11); /* every half-head tail */
    /* by hand on every table: angle 0 leaves a head alone, pi/2 takes (a, b)
     * to (-b, a), pi to (-a, -b), exactly; and pos 0 is angle 0 */
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        float x[2 * 40], y[2 * 40], cs[20], sn[20];
        for (int hd = 2; hd <= 40; hd += 2) {
            name_traps("%s rope by hand hd%d", k->name, hd);
            const int half = hd / 2;
            for (int i = 0; i < 2 * hd; i++) x[i] = frand();
            rope_angles(hd, 0, cs, sn);
            memcpy(y, x, sizeof x);
            k->rope_f32(y, 2, hd, cs, sn);
            assert_memory_equal(x, y, (size_t)(2 * hd) * sizeof(float));
            for (int quarter = 1; quarter <= 2; quarter++) {
                for (int i = 0; i < half; i++) { cs[i] = quarter == 1 ? 0.0f : -1.0f; sn[i] = quarter == 1 ? 1.0f : 0.0f; }
                memcpy(y, x, sizeof x);
                k->rope_f32(y, 2, hd, cs, sn);
                for (int h = 0; h < 2; h++)
                    for (int i = 0; i < half; i++) {
                        float a = x[h * hd + i], b = x[h * hd + half + i];
                        float lo = quarter == 1 ? -b : -a, hi = quarter == 1 ? a : -b;
                        if (y[h * hd + i] != lo || y[h * hd + half + i] != hi)
                            fail_msg("%s rope angle %d pi/2, hd%d [%d][%d]", k->name, quarter, hd, h, i);
                    }
            }
        }
    }
}

static double silu_exact(double g) { return g / (1.0 + exp(-g)); }

static void test_silu_mul(void **s)
{
    (void)s;
    const kern_ops *ref = kern_ops_for(KERN_ISA_SCALAR);
    /* the odd sizes and every tail, against the reference: gate in [-12, 12) */
    for (int t = 0; t < 6 + 40; t++) {
        const int n = t < 6 ? odd_n[t] : t - 5;
        float *g = falloc((size_t)n), *u = falloc((size_t)n), *w = falloc((size_t)n), *y = falloc((size_t)n + 1);
        for (int i = 0; i < n; i++) { g[i] = 12.0f * frand(); u[i] = 2.0f * frand(); }
        memcpy(w, g, (size_t)n * sizeof(float));
        ref->silu_mul_f32(w, u, (size_t)n);
        for (int i = 0; i < n; i++) assert_true(fabs(w[i] - silu_exact(g[i]) * u[i]) <= 6e-8 * fabs(w[i]) + 1e-37);
        for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
            const kern_ops *k = kern_ops_for((kern_isa)isa);
            if (!k) continue;
            name_traps("%s silu_mul n%d", k->name, n);
            memcpy(y, g, (size_t)n * sizeof(float));
            y[n] = 12345.0f;
            k->silu_mul_f32(y, u, (size_t)n);
            assert_true(y[n] == 12345.0f);
            for (int i = 0; i < n; i++)
                if (fabs(y[i] - w[i]) > 4e-7 * fabs(w[i]))
                    fail_msg("%s silu_mul n%d [%d]: silu(%.9g) * %.9g = %.9g, ref %.9g", k->name, n, i, g[i], u[i], y[i], w[i]);
        }
        free(g); free(u); free(w); free(y);
    }
    /* silu alone (up = 1) over [-100, 100] and the extremes: the worst
     * relative error against float64, the bound in kernels.h */
    const int n = 400003;
    float *g = falloc(n), *one = falloc(n), *y = falloc(n);
    for (int i = 0; i < n; i++) { g[i] = -100.0f + 200.0f * (float)i / (n - 1); one[i] = 1.0f; }
    g[0] = 0.0f; g[1] = -0.0f; g[2] = 1e-30f; g[3] = -1e-30f; g[4] = 1e30f; g[5] = -1e30f; g[6] = 1.0f; g[7] = -1.0f;
    g[8] = 0x1p-30f; g[9] = 0x1p-31f; g[10] = 0x1p-24f; g[11] = -87.3f; g[12] = 88.0f; g[13] = 3e38f; g[14] = -3e38f;
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        name_traps("%s silu sweep", k->name);
        memcpy(y, g, (size_t)n * sizeof(float));
        k->silu_mul_f32(y, one, (size_t)n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double want = silu_exact(g[i]), err = fabs(y[i] - want);
            if (g[i] < -87.3f) { /* e^g taken as e^-87.3 (or exact) */
                if (!(err <= 1.25e-38 * fabs(g[i]) && y[i] <= 0)) fail_msg("%s silu(%.9g) = %.9g", k->name, g[i], y[i]);
                continue;
            }
            if (!(err <= 4e-7 * fabs(want))) fail_msg("%s silu(%.9g) = %.9g, want %.9g", k->name, g[i], y[i], want);
            if (want != 0 && err / fabs(want) > worst) worst = err / fabs(want);
        }
        /* by hand: silu(0) = 0, silu(1) = 1 / (1 + 1/e), silu(-1) = -1 / (1 + e) */
        assert_true(y[0] == 0.0f && y[1] == 0.0f);
        assert_true(fabs(y[6] - 0.7310585786300049) < 1e-7 && fabs(y[7] + 0.2689414213699951) < 1e-7);
        assert_true(y[4] == 1e30f && y[13] == 3e38f);
        printf("%s silu: worst relative error %.3g over [-87.3, 100]\n", k->name, worst);
    }
    free(g); free(one); free(y);
}

/* nq queries at positions q0 .. q0 + nq - 1 of a sequence of L (rows of q,
 * k, v interleaved: strides 3 d + 5, out d + 3) on every table against the
 * scalar reference; nothing written past d or below row nq; and each query
 * the same bits as the same table's plain attention over the keys it sees */
static void check_causal(int L, int nq, int q0, int d)
{
    const kern_ops *ref = kern_ops_for(KERN_ISA_SCALAR);
    const int ld = 3 * d + 5, ldo = d + 3;
    float *qkv = falloc((size_t)L * ld), *want = falloc((size_t)nq * ldo), *out = falloc(((size_t)nq + 1) * ldo);
    float *one = falloc((size_t)d), *scr = falloc(kern_attention_scratch_floats(L, d));
    for (size_t i = 0; i < (size_t)L * ld; i++) qkv[i] = 2.0f * frand();
    const float scale = 1.0f / sqrtf((float)d), *q = qkv + (size_t)q0 * ld, *k = qkv + d, *v = qkv + 2 * d;
    ref->attention_causal_f32(L, nq, q0, d, scale, q, ld, k, ld, v, ld, want, ldo, scr);
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *o = kern_ops_for((kern_isa)isa);
        if (!o) continue;
        name_traps("%s attention_causal L%d nq%d q0 %d d%d", o->name, L, nq, q0, d);
        for (size_t i = 0; i < ((size_t)nq + 1) * ldo; i++) out[i] = 12345.0f;
        o->attention_causal_f32(L, nq, q0, d, scale, q, ld, k, ld, v, ld, out, ldo, scr);
        for (int e = 0; e < ldo; e++) assert_true(out[(size_t)nq * ldo + e] == 12345.0f); /* row nq untouched */
        for (int i = 0; i < nq; i++) {
            for (int e = d; e < ldo; e++)
                if (out[(size_t)i * ldo + e] != 12345.0f) fail_msg("%s attention_causal: out[%d][%d] past d written", o->name, i, e);
            for (int e = 0; e < d; e++)
                if (!(fabs(out[(size_t)i * ldo + e] - want[(size_t)i * ldo + e]) <= 2e-6))
                    fail_msg("%s attention_causal L%d nq%d q0 %d d%d [%d][%d]: %.7g vs %.7g", o->name, L, nq, q0, d, i, e,
                             out[(size_t)i * ldo + e], want[(size_t)i * ldo + e]);
            /* a few queries (all of short sequences) against the plain attention */
            if (nq > 12 && i > 3 && i < nq - 3 && i % 17) continue;
            o->attention_f32(q0 + i + 1, 1, d, scale, q + (size_t)i * ld, ld, k, ld, v, ld, one, d, scr);
            if (memcmp(one, out + (size_t)i * ldo, (size_t)d * sizeof(float)) != 0)
                fail_msg("%s attention_causal L%d nq%d q0 %d d%d: query %d differs from attention_f32 over %d keys", o->name, L,
                         nq, q0, d, i, q0 + i + 1);
        }
    }
    free(qkv); free(want); free(out); free(one); free(scr);
}

static void test_attention_causal(void **s)
{
    (void)s;
    static const int Ls[] = {1, 2, 7, 33, 300}, ds[] = {2, 6, 16, 64, 128};
    for (int a = 0; a < 5; a++)
        for (int c = 0; c < 5; c++) {
            const int L = Ls[a], d = ds[c];
            check_causal(L, L, 0, d);     /* the whole sequence */
            check_causal(L, 1, L - 1, d); /* the last token */
            if (L >= 3) {
                check_causal(L, L / 3 + 1, L / 3, d); /* a middle chunk */
                check_causal(L, (L + 1) / 2, 0, d);   /* the first half */
                check_causal(L, 1, L / 2, d);         /* one query, later keys present */
            }
        }
    /* every L mod 2 VL and its chunks, every d tail; a head past
     * KERN_ATTN_MAXD (the reference's path) */
    static const int dl[] = {1, 5, 8, 12, 16, 23, 31, 33};
    for (int L = 1; L <= 50; L++) {
        check_causal(L, L, 0, dl[L % 8]);
        check_causal(L, 1 + L % 9 < L ? 1 + L % 9 : L, L - (1 + L % 9 < L ? 1 + L % 9 : L), dl[(L + 3) % 8]);
        if (L > 8) check_causal(L, 7, L / 2 - 3, dl[(L + 5) % 8]);
    }
    for (int d = 1; d <= 66; d += 5) check_causal(1 + d * 7 % 40, 1 + d * 7 % 40, 0, d);
    check_causal(9, 9, 0, 260);
    check_causal(9, 2, 4, 260);

    /* by hand, every table: the first query returns v[0] exactly, whatever
     * the later keys score (here far above it: a maximum taken over them
     * would underflow its weight); a query's later keys and values, even
     * huge, change none of its bits; queries in chunks give the bits of
     * one call (a caller's threads over rows) */
    for (int L = 1; L <= 40; L++) {
        const int d = 16, ld = 3 * d;
        float *qkv = falloc((size_t)L * ld), *junk = falloc((size_t)L * ld), *out = falloc((size_t)L * d);
        float *part = falloc((size_t)L * d), *scr = falloc(kern_attention_scratch_floats(L, d));
        for (int j = 0; j < L; j++)
            for (int e = 0; e < d; e++) {
                qkv[(size_t)j * ld + e] = 1.0f + 0.01f * frand();
                qkv[(size_t)j * ld + d + e] = j == 0 ? -20.0f : 20.0f + frand(); /* scores -80 and +80 */
                qkv[(size_t)j * ld + 2 * d + e] = 3.0f * frand();
            }
        for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
            const kern_ops *k = kern_ops_for((kern_isa)isa);
            if (!k) continue;
            name_traps("%s attention_causal by hand L%d", k->name, L);
            k->attention_causal_f32(L, L, 0, d, 0.25f, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, out, d, scr);
            assert_memory_equal(out, qkv + 2 * d, (size_t)d * sizeof(float));
            for (int i = 0; i < L * d; i++) assert_false(isnan(out[i]));
            const int m = L / 3 + 1; /* chunks [0, m), [m, L) */
            k->attention_causal_f32(L, m, 0, d, 0.25f, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, part, d, scr);
            if (m < L)
                k->attention_causal_f32(L, L - m, m, d, 0.25f, qkv + (size_t)m * ld, ld, qkv + d, ld, qkv + 2 * d, ld,
                                        part + (size_t)m * d, d, scr);
            assert_memory_equal(out, part, (size_t)L * d * sizeof(float));
            /* rows m .. L - 1 as k and v huge: the first chunk must not see them */
            memcpy(junk, qkv, (size_t)L * ld * sizeof(float));
            for (size_t i = (size_t)m * ld; i < (size_t)L * ld; i++) junk[i] = (i % 2 ? 1e30f : -3e29f);
            k->attention_causal_f32(L, m, 0, d, 0.25f, junk, ld, junk + d, ld, junk + 2 * d, ld, part, d, scr);
            assert_memory_equal(out, part, (size_t)m * d * sizeof(float));
        }
        free(qkv); free(junk); free(out); free(part); free(scr);
    }
}

/* Every score of a row near -88.7: e^(-max) overflows float, which the
 * masked tail of the softmax once turned into a NaN sum.  Both attentions,
 * every L mod 2 VL; the weights all equal: out is the mean of V. */
static void test_attention_low_scores(void **s)
{
    (void)s;
    for (int L = 1; L <= 40; L++)
        for (int t = 0; t < 3; t++) {
            const int d = 16, ld = 3 * d;
            const float kv = t == 0 ? -22.18f : t == 1 ? -22.1f : -22.225f; /* scores -88.72, -88.4, -88.9 */
            float *qkv = falloc((size_t)L * ld), *out = falloc((size_t)L * d), *scr = falloc(kern_attention_scratch_floats(L, d));
            for (int j = 0; j < L; j++)
                for (int e = 0; e < d; e++) {
                    qkv[(size_t)j * ld + e] = 1.0f;
                    qkv[(size_t)j * ld + d + e] = kv;
                    qkv[(size_t)j * ld + 2 * d + e] = (float)(j % 5) + 0.25f * e;
                }
            for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
                const kern_ops *k = kern_ops_for((kern_isa)isa);
                if (!k) continue;
                for (int causal = 0; causal < 2; causal++) {
                    name_traps("%s attention%s L%d, scores %g", k->name, causal ? "_causal" : "", L, 4.0 * kv);
                    if (causal) k->attention_causal_f32(L, L, 0, d, 0.25f, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, out, d, scr);
                    else k->attention_f32(L, L, d, 0.25f, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, out, d, scr);
                    for (int i = 0; i < L; i++)
                        for (int e = 0; e < d; e++) {
                            double want = 0;
                            const int n = causal ? i + 1 : L;
                            for (int j = 0; j < n; j++) want += (double)(j % 5) + 0.25 * e;
                            want /= n;
                            if (!(fabs(out[(size_t)i * d + e] - want) < 1e-5))
                                fail_msg("%s attention%s L%d, scores %g: out[%d][%d] = %g, want %g", k->name, causal ? "_causal" : "",
                                         L, 4.0 * kv, i, e, out[(size_t)i * d + e], want);
                        }
                }
            }
            free(qkv); free(out); free(scr);
        }
}

static void test_distances(void **s)
{
    (void)s;
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        for (int n = 1; n <= 1000; n += (n < 80 ? 1 : 61)) {
            name_traps("%s l2sq / dot_f32_i8 / hamming n%d", k->name, n);
            float *a = falloc(n), *b = falloc(n);
            int8_t *x = malloc((size_t)n);
            size_t nw = ((size_t)n + 63) / 64;
            uint64_t *ba = malloc(nw * 8), *bb = malloc(nw * 8);
            double l2 = 0, di = 0;
            uint32_t ham = 0;
            for (int i = 0; i < n; i++) {
                a[i] = frand(); b[i] = frand();
                x[i] = (int8_t)(frand() * 127.9f); /* in (-128, 128) */
                l2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
                di += (double)a[i] * x[i];
            }
            for (size_t w = 0; w < nw; w++) {
                ba[w] = u64rand();
                bb[w] = u64rand();
                for (int bit = 0; bit < 64; bit++) ham += (uint32_t)(((ba[w] ^ bb[w]) >> bit) & 1);
            }
            if (fabs(k->l2sq_f32(a, b, (size_t)n) - l2) > 1e-5 * (1 + l2)) fail_msg("%s l2sq n=%d", k->name, n);
            if (fabs(k->dot_f32_i8(a, x, (size_t)n) - di) > 1e-4 * (1 + fabs(di)) + 1e-3) fail_msg("%s dot_i8 n=%d: %g vs %g", k->name, n, k->dot_f32_i8(a, x, (size_t)n), di);
            assert_int_equal(k->hamming(ba, bb, nw), ham);
            free(a); free(b); free(x); free(ba); free(bb);
        }
    }
}

/* Hamming panels: odd counts (padding), word counts across the 31-word byte
 * accumulation limit, all-ones words (largest counts) and rows with a stride. */
static void test_hamming_panel(void **s)
{
    (void)s;
    /* groups of 8 vectors, 4 at a time: 1 .. 6 groups; words 1 .. 7 (six
     * through the adders, the rest one by one), the unrolled 4, 6 and 12 */
    const size_t counts[] = {1, 7, 8, 9, 17, 25, 33, 41};
    const size_t words[] = {1, 2, 3, 4, 5, 6, 7, 12, 13, 31, 32, 37, 70};
    for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++)
        for (size_t wi = 0; wi < sizeof words / sizeof *words; wi++) {
            size_t n = counts[ci], nw = words[wi], ld = nw + 3;
            uint64_t *rows = malloc(n * ld * 8), *q = malloc(nw * 8);
            uint64_t *panel = malloc(kern_hamming_panel_words(n, nw) * 8);
            size_t ng = (n + 7) / 8;
            uint32_t *want = malloc(ng * 8 * 4), *got = malloc(ng * 8 * 4);
            for (size_t w = 0; w < nw; w++) q[w] = u64rand();
            for (size_t i = 0; i < n * ld; i++)
                rows[i] = i % 5 == 0 ? ~q[(i % ld) % nw] : u64rand();
            kern_hamming_pack(rows, ld, n, nw, panel);
            for (size_t i = 0; i < n; i++) {
                uint32_t d = 0;
                for (size_t w = 0; w < nw; w++)
                    for (int bit = 0; bit < 64; bit++) d += (uint32_t)(((q[w] ^ rows[i * ld + w]) >> bit) & 1);
                want[i] = d;
            }
            uint32_t *pos = malloc(ng * 8 * 4);
            for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
                const kern_ops *k = kern_ops_for((kern_isa)isa);
                if (!k) continue;
                name_traps("%s hamming_panel n%zu words%zu", k->name, n, nw);
                /* every distance, then only those below a bound (kept in order) */
                size_t c = k->hamming_panel(q, nw, panel, ng, UINT32_MAX, pos, got);
                assert_int_equal(c, ng * 8);
                for (size_t i = 0; i < n; i++)
                    if (pos[i] != i || got[i] != want[i])
                        fail_msg("%s hamming_panel n=%zu words=%zu vector %zu: %u vs %u", k->name, n, nw, i, got[i], want[i]);
                uint32_t below = want[n / 2] + 1;
                c = k->hamming_panel(q, nw, panel, ng, below, pos, got);
                size_t e = 0;
                for (size_t i = 0; i < ng * 8; i++) {
                    uint32_t d = 0;
                    if (i < n) d = want[i];
                    else for (size_t w = 0; w < nw; w++) d += (uint32_t)__builtin_popcountll(q[w]); /* zero padding */
                    if (d >= below) continue;
                    if (e >= c || pos[e] != i || got[e] != d) fail_msg("%s hamming_panel below %u: entry %zu", k->name, below, e);
                    e++;
                }
                assert_int_equal(c, e);
            }
            free(pos);
            free(rows); free(q); free(panel); free(want); free(got);
        }
}

static void test_dot_i8(void **s)
{
    (void)s;
    int8_t a[300], b[300];
    for (int n = 0; n <= 300; n += (n < 70 ? 1 : 23)) {
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < n; i++) {
                /* pass 1: the extremes, where a bias trick would overflow first */
                a[i] = pass ? (i & 1 ? 127 : -128) : i8rand();
                b[i] = pass ? (i & 2 ? -128 : 127) : i8rand();
            }
            int32_t want = 0;
            for (int i = 0; i < n; i++) want += a[i] * b[i];
            for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
                const kern_ops *k = kern_ops_for((kern_isa)isa);
                if (k) name_traps("%s dot_i8 n%d", k->name, n);
                if (k && k->dot_i8(a, b, (size_t)n) != want) fail_msg("%s dot_i8 n=%d pass %d: %d vs %d", k->name, n, pass, k->dot_i8(a, b, (size_t)n), want);
            }
        }
    }
}

static void test_pq_lut(void **s)
{
    (void)s;
    const int dss[] = {1, 4, 8, 12}, ksubs[] = {16, 256}, m = 5;
    for (size_t di = 0; di < sizeof dss / sizeof *dss; di++)
        for (int ki = 0; ki < 2; ki++) {
            int ds = dss[di], ksub = ksubs[ki];
            float *q = malloc(sizeof(float) * m * ds), *cbt = malloc(sizeof(float) * m * ds * ksub);
            float *want = malloc(sizeof(float) * m * ksub), *got = malloc(sizeof(float) * m * ksub);
            for (int i = 0; i < m * ds; i++) q[i] = frand() * 2 - 1;
            for (int i = 0; i < m * ds * ksub; i++) cbt[i] = frand() * 2 - 1;
            for (int l2 = 0; l2 < 2; l2++) {
                for (int j = 0; j < m; j++)
                    for (int c = 0; c < ksub; c++) {
                        double a = 0;
                        for (int t = 0; t < ds; t++) {
                            double v = q[j * ds + t], w = cbt[((size_t)j * ds + t) * ksub + c];
                            a += l2 ? (v - w) * (v - w) : v * w;
                        }
                        want[j * ksub + c] = (float)a;
                    }
                for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
                    const kern_ops *k = kern_ops_for((kern_isa)isa);
                    if (!k) continue;
                    name_traps("%s pq_lut ds%d ksub%d", k->name, ds, ksub);
                    k->pq_lut(q, cbt, m, ds, ksub, l2, got);
                    for (int i = 0; i < m * ksub; i++)
                        if (fabsf(got[i] - want[i]) > 1e-5f * (1 + fabsf(want[i])))
                            fail_msg("%s pq_lut ds=%d ksub=%d l2=%d entry %d: %g vs %g", k->name, ds, ksub, l2, i, got[i], want[i]);
                }
            }
            free(q); free(cbt); free(want); free(got);
        }
}

/* 4-bit fast scan: every ISA against sums taken straight from the unpacked
 * codes (which checks the packing too), largest table entries included */
static void test_pq4_scan(void **s)
{
    (void)s;
    const int ms[] = {2, 4, 6, 16, 96, 256};
    const size_t ns[] = {1, 31, 32, 33, 100};
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
            int m = ms[mi];
            size_t n = ns[ni], nb = (n + 31) / 32;
            uint8_t *codes = malloc(n * (size_t)(m / 2)), *lut = malloc((size_t)m * 16);
            uint8_t *blocks = malloc(kern_pq4_blocks_bytes(n, m));
            uint16_t *got = malloc(nb * 32 * sizeof(uint16_t));
            for (size_t i = 0; i < n * (size_t)(m / 2); i++) codes[i] = (uint8_t)(u64rand() >> 56);
            for (int i = 0; i < m * 16; i++) lut[i] = ni % 2 ? 255 : (uint8_t)(u64rand() >> 56);
            kern_pq4_pack(codes, n, m, blocks);
            for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
                const kern_ops *k = kern_ops_for((kern_isa)isa);
                if (!k) continue;
                name_traps("%s pq4_scan m%d n%zu", k->name, m, n);
                memset(got, 0xab, nb * 32 * sizeof(uint16_t));
                k->pq4_scan(blocks, nb, m, lut, got);
                for (size_t i = 0; i < n; i++) {
                    uint32_t want = 0;
                    for (int j = 0; j < m; j++) want += lut[16 * j + ((codes[i * (size_t)(m / 2) + j / 2] >> (4 * (j & 1))) & 15)];
                    if (got[i] != want) fail_msg("%s pq4_scan m=%d n=%zu vector %zu: %u vs %u", k->name, m, n, i, got[i], want);
                }
            }
            free(codes); free(lut); free(blocks); free(got);
        }
}

static void test_half(void **s)
{
    (void)s;
    assert_int_equal(kern_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(kern_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(kern_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(kern_f32_to_f16(65520.0f), 0x7c00);       /* rounds to inf */
    assert_int_equal(kern_f32_to_f16(INFINITY), 0x7c00);
    assert_true((kern_f32_to_f16(NAN) & 0x7fff) > 0x7c00);
    assert_int_equal(kern_f32_to_f16(5.9604645e-8f), 0x0001); /* smallest subnormal */
    assert_int_equal(kern_f32_to_f16(2.9802322e-8f), 0x0000); /* tie rounds to even (0) */
    assert_int_equal(kern_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie to even */
    assert_int_equal(kern_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
    assert_true(kern_f16_to_f32(0x0001) == 5.9604645e-8f);
    assert_true(isinf(kern_f16_to_f32(0xfc00)) && kern_f16_to_f32(0xfc00) < 0);
    /* every half round-trips */
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* nan payloads */
        assert_int_equal(kern_f32_to_f16(kern_f16_to_f32((uint16_t)h)), h);
    }
    assert_int_equal(kern_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(kern_f32_to_bf16(1.00390625f), 0x3f80); /* tie to even */
    assert_true(kern_bf16_to_f32(kern_f32_to_bf16(3.140625f)) == 3.140625f);
    assert_true(isnan(kern_bf16_to_f32(kern_f32_to_bf16(NAN))));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_half),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_gemm_forms_row_bits),
        cmocka_unit_test(test_gelu),
        cmocka_unit_test(test_layernorm_dot),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_rope),
        cmocka_unit_test(test_silu_mul),
        cmocka_unit_test(test_attention_causal),
        cmocka_unit_test(test_attention_low_scores),
        cmocka_unit_test(test_distances),
        cmocka_unit_test(test_hamming_panel),
        cmocka_unit_test(test_pq_lut),
        cmocka_unit_test(test_pq4_scan),
        cmocka_unit_test(test_dot_i8),
    };
    return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
