#include "index/kmeans.h"
#include "kernels/kernels.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

int kmeans_nearest(const float *v, const float *c, int k, int dim, float *dist)
{
    const kern_ops *ko = kern_ops_get();
    int best = 0;
    float bd = FLT_MAX;
    for (int j = 0; j < k; j++) {
        float d = ko->l2sq_f32(v, c + (size_t)j * dim, (size_t)dim);
        if (d < bd) { bd = d; best = j; }
    }
    if (dist) *dist = bd;
    return best;
}

int kmeans_assign(const float *x, size_t n, int dim, int ld, const float *c, int k, int n_threads,
                  int *assign, float *dist)
{
    const kern_ops *ko = kern_ops_get();
    float *cn = malloc((size_t)k * sizeof(float));
    if (!cn) return -1;
    for (int j = 0; j < k; j++) cn[j] = ko->dot_f32(c + (size_t)j * dim, c + (size_t)j * dim, (size_t)dim);
    size_t kb = (size_t)(1 << 20) / (size_t)k; /* a block's scores stay within 4 MB */
    kb = kb < 16 ? 16 : kb > 256 ? 256 : kb;
    size_t nblk = (n + kb - 1) / kb;
    int fail = 0;
    if (n_threads < 1) n_threads = 1;
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1 && nblk > 1)
    {
        float *sc = malloc(kb * (size_t)k * sizeof(float)), *pack = NULL;
        if (posix_memalign((void **)&pack, 64, kern_gemm_scratch_floats(1) * sizeof(float)) != 0) pack = NULL;
        if (!sc || !pack) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblk; b++) {
            if (!sc || !pack) continue;
            size_t i0 = b * kb;
            int m = n - i0 < kb ? (int)(n - i0) : (int)kb;
            ko->gemm_f32(m, k, dim, x + i0 * ld, ld, c, KERN_W_F32, dim, NULL, sc, k, pack, 1);
            for (int i = 0; i < m; i++) {
                const float *si = sc + (size_t)i * k;
                int best = 0;
                float bd = FLT_MAX;
                for (int j = 0; j < k; j++) {
                    float d = cn[j] - 2 * si[j];
                    if (d < bd) { bd = d; best = j; }
                }
                assign[i0 + i] = best;
                if (dist) {
                    const float *xi = x + (i0 + i) * ld;
                    float d = ko->dot_f32(xi, xi, (size_t)dim) + bd;
                    dist[i0 + i] = d > 0 ? d : 0;
                }
            }
        }
        free(sc);
        free(pack);
    }
    free(cn);
    return fail ? -1 : 0;
}

double kmeans_train(const float *x, size_t n, int dim, int ld, int k, int iters, uint64_t seed,
                    int n_threads, float *c, void (*on_iter)(void *ctx), void *ctx)
{
    if (n == 0 || k < 1 || dim < 1 || (size_t)k > n) return -1;
    int *assign = malloc(n * sizeof *assign);
    float *dist = malloc(n * sizeof *dist);
    double *sum = malloc((size_t)k * dim * sizeof *sum);
    size_t *cnt = malloc((size_t)k * sizeof *cnt), *perm = malloc(n * sizeof *perm);
    if (!assign || !dist || !sum || !cnt || !perm) { free(assign); free(dist); free(sum); free(cnt); free(perm); return -1; }
    /* init: k distinct points drawn by a seeded partial Fisher-Yates shuffle */
    uint64_t s = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (int j = 0; j < k; j++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t r = (size_t)j + (size_t)(s % (n - (size_t)j));
        size_t t = perm[j]; perm[j] = perm[r]; perm[r] = t;
        memcpy(c + (size_t)j * dim, x + perm[j] * ld, (size_t)dim * sizeof(float));
    }
    double obj = 0;
    for (int it = 0; it < iters; it++) {
        if (kmeans_assign(x, n, dim, ld, c, k, n_threads, assign, dist) != 0) { obj = -1; break; }
        memset(sum, 0, (size_t)k * dim * sizeof *sum);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        obj = 0;
        for (size_t i = 0; i < n; i++) {
            double *sj = sum + (size_t)assign[i] * dim;
            for (int t = 0; t < dim; t++) sj[t] += x[i * ld + t];
            cnt[assign[i]]++;
            obj += dist[i];
        }
        for (int j = 0; j < k; j++) {
            if (cnt[j] == 0) {
                /* empty cluster: restart it on the point farthest from its centroid */
                size_t far = 0;
                for (size_t i = 1; i < n; i++) if (dist[i] > dist[far]) far = i;
                memcpy(c + (size_t)j * dim, x + far * ld, (size_t)dim * sizeof(float));
                dist[far] = 0;
                continue;
            }
            for (int t = 0; t < dim; t++) c[(size_t)j * dim + t] = (float)(sum[(size_t)j * dim + t] / cnt[j]);
        }
        if (on_iter) on_iter(ctx);
    }
    free(assign); free(dist); free(sum); free(cnt); free(perm);
    return obj < 0 ? -1 : obj / n;
}
