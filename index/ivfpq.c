/* IVF-PQ: a k-means coarse quantizer, product quantization (8 bits per
 * sub-vector) of the residuals, asymmetric distances through per-query
 * lookup tables, nprobe lists per query, optional exact refine. */
#include "index/index_internal.h"
#include "index/kmeans.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KSUB 256

int ivfpq_train(emb_index *x, const float *v, size_t n, int n_threads, char *err, size_t errlen)
{
    const int dim = x->dim, m = x->pq_m, ds = x->dsub;
    size_t need = (size_t)(x->nlist > KSUB ? x->nlist : KSUB);
    if (n < need)
        return snprintf(err, errlen, "IVF-PQ trains on the first batch: it needs at least %zu vectors (nlist %d, 256 codewords), got %zu",
                        need, x->nlist, n), -1;
    /* sample: 64 points per centroid (at least 16384, at most n) */
    size_t ns = (size_t)x->nlist * 64 > n ? n : (size_t)x->nlist * 64;
    if (ns < 16384) ns = n < 16384 ? n : 16384;
    size_t stride = n / ns;
    float *s = calloc(ns * dim, sizeof(float)), *res = malloc(ns * dim * sizeof(float));
    if (!s || !res) { free(s); free(res); return snprintf(err, errlen, "out of memory training"), -1; }
    for (size_t i = 0; i < ns; i++) memcpy(s + i * dim, v + i * stride * dim, (size_t)dim * sizeof(float));
    if (kmeans_train(s, ns, dim, dim, x->nlist, 12, x->p.seed, n_threads, x->centroids) < 0) {
        free(s); free(res);
        return snprintf(err, errlen, "k-means failed (out of memory?)"), -1;
    }
    for (size_t i = 0; i < ns; i++) {
        int l = kmeans_nearest(s + i * dim, x->centroids, x->nlist, dim, NULL);
        for (int d = 0; d < dim; d++) res[i * dim + d] = s[i * dim + d] - x->centroids[(size_t)l * dim + d];
    }
    /* codebooks: 256 centroids each, trained on up to 40 points per centroid */
    size_t npq = ns < (size_t)KSUB * 40 ? ns : (size_t)KSUB * 40;
    for (int j = 0; j < m; j++)
        if (kmeans_train(res + (size_t)j * ds, npq, ds, dim, KSUB, 12, x->p.seed + 1 + (uint64_t)j, n_threads,
                         x->pq + (size_t)j * KSUB * ds) < 0) {
            free(s); free(res);
            return snprintf(err, errlen, "PQ training failed"), -1;
        }
    free(s); free(res);
    x->trained = 1;
    return 0;
}

void ivfpq_encode(const emb_index *x, const float *v, uint32_t *list, uint8_t *code)
{
    const int dim = x->dim, ds = x->dsub;
    int l = kmeans_nearest(v, x->centroids, x->nlist, dim, NULL);
    *list = (uint32_t)l;
    for (int j = 0; j < x->pq_m; j++) {
        float sub[256];
        for (int t = 0; t < ds; t++) sub[t] = v[j * ds + t] - x->centroids[(size_t)l * dim + j * ds + t];
        code[j] = (uint8_t)kmeans_nearest(sub, x->pq + (size_t)j * KSUB * ds, KSUB, ds, NULL);
    }
}

int ivfpq_build_lists(emb_index *x)
{
    uint32_t *off = calloc((size_t)x->nlist + 1, sizeof *off), *idx = malloc((x->n ? x->n : 1) * sizeof *idx);
    if (!off || !idx) { free(off); free(idx); return -1; }
    for (size_t i = 0; i < x->n; i++) off[x->list_of[i] + 1]++;
    for (int l = 0; l < x->nlist; l++) off[l + 1] += off[l];
    uint32_t *pos = malloc((size_t)x->nlist * sizeof *pos);
    if (!pos) { free(off); free(idx); return -1; }
    memcpy(pos, off, (size_t)x->nlist * sizeof *pos);
    for (size_t i = 0; i < x->n; i++) idx[pos[x->list_of[i]]++] = (uint32_t)i;
    free(pos);
    free(x->list_off);
    free(x->list_idx);
    x->list_off = off;
    x->list_idx = idx;
    return 0;
}

size_t ivfpq_scratch_floats(const emb_index *x) { return (size_t)x->pq_m * KSUB + 2 * (size_t)x->nlist + 16; }

typedef struct { float d; int l; } lsel;
static int lsel_cmp(const void *a, const void *b)
{
    const lsel *p = a, *q = b;
    return p->d < q->d ? -1 : p->d > q->d ? 1 : p->l - q->l;
}

int ivfpq_search(const emb_index *x, const float *q, int cap, int nprobe, idx_hit *heap, float *scratch)
{
    const int dim = x->dim, m = x->pq_m, ds = x->dsub, ip = x->metric != IDX_L2;
    float *lut = scratch;
    lsel *ls = (lsel *)(void *)(scratch + (size_t)m * KSUB);
    if (nprobe > x->nlist) nprobe = x->nlist;
    /* lists to visit: nearest centroids (largest q.c for inner product) */
    for (int l = 0; l < x->nlist; l++) {
        const float *c = x->centroids + (size_t)l * dim;
        ls[l].d = ip ? -x->k->dot_f32(q, c, (size_t)dim) : x->k->l2sq_f32(q, c, (size_t)dim);
        ls[l].l = l;
    }
    qsort(ls, (size_t)x->nlist, sizeof *ls, lsel_cmp);
    if (ip) /* q . r^ does not depend on the list: one table */
        for (int j = 0; j < m; j++)
            for (int c = 0; c < KSUB; c++)
                lut[j * KSUB + c] = x->k->dot_f32(q + j * ds, x->pq + ((size_t)j * KSUB + c) * ds, (size_t)ds);
    int n = 0;
    float res[256];
    for (int p = 0; p < nprobe; p++) {
        int l = ls[p].l;
        float base = ip ? ls[p].d : 0.0f; /* -q.c */
        if (!ip) {
            const float *c = x->centroids + (size_t)l * dim;
            for (int j = 0; j < m; j++) {
                for (int t = 0; t < ds; t++) res[t] = q[j * ds + t] - c[j * ds + t];
                for (int cc = 0; cc < KSUB; cc++)
                    lut[j * KSUB + cc] = x->k->l2sq_f32(res, x->pq + ((size_t)j * KSUB + cc) * ds, (size_t)ds);
            }
        }
        for (uint32_t t = x->list_off[l]; t < x->list_off[l + 1]; t++) {
            uint32_t i = x->list_idx[t];
            if (x->deleted[i]) continue;
            const uint8_t *code = x->codes + (size_t)i * m;
            float s = 0;
            for (int j = 0; j < m; j++) s += lut[j * KSUB + code[j]];
            idx_heap_push(heap, &n, cap, ip ? base - s : s, i);
        }
    }
    return n;
}
