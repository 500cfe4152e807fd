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

double kmeans_train(const float *x, size_t n, int dim, int ld, int k, int iters, uint64_t seed,
                    int n_threads, float *c)
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
        #pragma omp parallel for num_threads(n_threads) schedule(static)
        for (size_t i = 0; i < n; i++) assign[i] = kmeans_nearest(x + i * ld, c, k, dim, &dist[i]);
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
    }
    free(assign); free(dist); free(sum); free(cnt); free(perm);
    return obj / n;
}
