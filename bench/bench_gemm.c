/* GEMM: ember's kernels (each ISA) vs OpenBLAS cblas_sgemm on the model's
 * shapes, C = A . W^T, 1 and 2 threads, and as a fraction of this core's FMA
 * peak (measured here by an FMA-throughput loop).  Prints a markdown table.
 * Built by `make bench` with BENCH_LIBS=-lopenblas. */
#include "kernels/kernels.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

void openblas_set_num_threads(int);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* the SIMD paths this build has, best first; the scalar one last */
#if defined(__aarch64__)
static const kern_isa ISAS[] = {KERN_ISA_NEON, KERN_ISA_SCALAR};
#else
static const kern_isa ISAS[] = {KERN_ISA_AVX512, KERN_ISA_AVX2, KERN_ISA_SCALAR};
#endif
#define NI ((int)(sizeof ISAS / sizeof *ISAS))

/* FMA-throughput loops: n steps of independent chains, the lanes summed into
 * *sink so the compiler keeps the work */
#if defined(__x86_64__)
__attribute__((target("avx512f,fma"))) static void fma_avx512(long n, float *sink) /* 16 chains x 16 lanes */
{
    __m512 a[16], b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; i++) a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++)
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
    for (int i = 0; i < 16; i++) *sink += _mm512_reduce_add_ps(a[i]);
}

__attribute__((target("avx2,fma"))) static void fma_avx2(long n, float *sink) /* 12 chains x 8 lanes */
{
    __m256 a[12], b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
    float tmp[8];
    for (int i = 0; i < 12; i++) { _mm256_storeu_ps(tmp, a[i]); *sink += tmp[0]; }
}
#elif defined(__aarch64__)
static void fma_neon(long n, float *sink) /* 24 chains x 4 lanes: enough for 4 pipes of 4-6 cycles' latency */
{
    float32x4_t a[24], b = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
    for (int i = 0; i < 24; i++) a[i] = vdupq_n_f32((float)i);
    for (long k = 0; k < n; k++)
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++) a[i] = vfmaq_f32(c, a[i], b);
    for (int i = 0; i < 24; i++) *sink += vaddvq_f32(a[i]);
}
#endif

/* FLOP/s of one core through loop (flops_per_step a step): the fastest of 8
 * short loops, so a descheduled moment spoils one, not the figure */
static double peak_of(void (*loop)(long, float *), double flops_per_step)
{
    const long n = 2500000;
    double t = 1e30;
    float sink = 0;
    for (int trial = 0; trial < 8; trial++) {
        double t0 = now();
        loop(n, &sink);
        t0 = now() - t0;
        if (t0 < t) t = t0;
    }
    if (sink == 12345.0f) printf("?");
    return flops_per_step * n / t;
}

/* FMA peak of the best SIMD path, and its name for the report */
static double peak_flops(const char **name)
{
#if defined(__x86_64__)
    if (kern_cpu_has(KERN_ISA_AVX512)) { *name = "AVX-512"; return peak_of(fma_avx512, 2.0 * 16 * 16); }
    if (kern_cpu_has(KERN_ISA_AVX2)) { *name = "AVX2"; return peak_of(fma_avx2, 2.0 * 12 * 8); }
#elif defined(__aarch64__)
    *name = "NEON";
    return peak_of(fma_neon, 2.0 * 24 * 4);
#endif
    *name = "none";
    return 0;
}

#define ROUNDS 5
#define MAX_RUNS 201

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    const char *peak_name;
    double peak = peak_flops(&peak_name);
    /* a short query, a typical one, a longer one (or a few sentences), a batch */
    static const int MS[] = {8, 16, 48, 128, 4096}, NK[][2] = {{384, 384}, {1152, 384}, {1536, 384}, {384, 1536}};
    const int n_ms = (int)(sizeof MS / sizeof *MS);
    printf("Peak (one core, measured FMA throughput loop, %s): %.1f GFLOP/s; 2 threads: 2x that.  "
           "GFLOP/s = 2MNK / time; min / median of at least 7 runs after a warm-up (as many as fill 20 ms, up to %d), "
           "in %d interleaved rounds per engine (the best of each kept; `paired`: the ratio within each round, "
           "median and range).  Scalar path only at M <= 16, one round.\n\n",
           peak_name, peak / 1e9, MAX_RUNS, ROUNDS);
    /* engines 0 .. NI-1: ember's paths; NI: OpenBLAS.  bi: the path ember runs here */
    int bi = NI - 1;
    for (int e = NI - 1; e >= 0; e--)
        if (kern_ops_for(ISAS[e])) bi = e;
    const char *best = kern_isa_name(ISAS[bi]);
    printf("| M x N x K | threads |");
    for (int e = 0; e < NI; e++) printf(" ember %s |", kern_isa_name(ISAS[e]));
    printf(" OpenBLAS | %s / OpenBLAS | paired | %s %% of peak |\n|---|---|", best, best);
    for (int e = 0; e < NI + 4; e++) printf("---|");
    printf("\n");
    for (int mi = 0; mi < n_ms; mi++)
        for (int s = 0; s < 4; s++) {
            int M = MS[mi], N = NK[s][0], K = NK[s][1];
            float *A = malloc(sizeof(float) * (size_t)M * K), *W = malloc(sizeof(float) * (size_t)N * K), *C = malloc(sizeof(float) * (size_t)M * N);
            for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(i % 7) * 0.1f;
            for (size_t i = 0; i < (size_t)N * K; i++) W[i] = (float)(i % 5) * 0.1f;
            float *pack = aligned_alloc(64, ((kern_gemm_scratch_floats(2) * 4 + 63) / 64) * 64);
            double flops = 2.0 * M * N * K;
            for (int T = 1; T <= 2; T++) {
                double med[NI + 1] = {0}, mn[NI + 1] = {0}, rmed[ROUNDS][NI + 1] = {{0}};
                /* ROUNDS rounds of every engine in turn, each engine's best
                 * median and best run kept: a burst of noise on this shared
                 * machine then spoils one round, not a row */
                for (int round = 0; round < ROUNDS; round++)
                for (int e = 0; e <= NI; e++) {
                    const kern_ops *k = e < NI ? kern_ops_for(ISAS[e]) : NULL;
                    if (e < NI && (!k || (ISAS[e] == KERN_ISA_SCALAR && (M > 16 || round > 0)))) continue;
                    double t[MAX_RUNS];
                    int runs = 7;
                    for (int r = -1; r < runs; r++) {
                        double t0 = now();
                        if (k) k->gemm_f32(M, N, K, A, K, W, KERN_W_F32, K, NULL, C, N, pack, T);
                        else {
                            openblas_set_num_threads(T);
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, W, K, 0.0f, C, N);
                        }
                        double dt = now() - t0;
                        if (r >= 0) t[r] = dt;
                        /* short calls: enough runs to fill 20 ms, so one
                         * descheduled moment moves no median */
                        else if (dt > 0 && dt * 7 < 0.02) runs = 0.02 / dt > MAX_RUNS ? MAX_RUNS : (int)(0.02 / dt);
                    }
                    /* OpenBLAS's pthreads spin for a while after a call; timed
                     * beside them, a 2-thread OpenMP region waits for the
                     * scheduler (one such run read 0.6 GFLOP/s): let them sleep */
                    if (!k) usleep(300000);
                    qsort(t, (size_t)runs, sizeof *t, cmp);
                    rmed[round][e] = flops / t[runs / 2] / 1e9;
                    if (rmed[round][e] > med[e]) med[e] = rmed[round][e];
                    if (flops / t[0] / 1e9 > mn[e]) mn[e] = flops / t[0] / 1e9;
                }
                printf("| %d x %d x %d | %d |", M, N, K, T);
                for (int e = 0; e <= NI; e++)
                    if (med[e] > 0) printf(" %.1f / %.1f |", mn[e], med[e]);
                    else printf(" - |");
                double q[ROUNDS];
                for (int r = 0; r < ROUNDS; r++) q[r] = rmed[r][bi] / rmed[r][NI];
                qsort(q, ROUNDS, sizeof *q, cmp);
                printf(" %.2fx | %.2fx (%.2f-%.2f) | %.0f%% |\n", med[bi] / med[NI], q[ROUNDS / 2], q[0], q[ROUNDS - 1],
                       peak > 0 ? 100.0 * med[bi] / (peak * T / 1e9) : 0.0);
            }
            free(A); free(W); free(C); free(pack);
        }
    printf("\n(each cell: GFLOP/s from the fastest run / from the median run)\n");
    return 0;
}
