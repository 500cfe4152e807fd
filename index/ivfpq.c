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

/* Derived, rebuilt after every add and on open: the members of each list,
 * their codes copied contiguously (a list scan streams them), and the
 * codebooks transposed for the lookup-table kernel. */
int ivfpq_build_lists(emb_index *x)
{
    const int m = x->pq_m, ds = x->dsub;
    uint32_t *off = calloc((size_t)x->nlist + 1, sizeof *off), *idx = malloc((x->n ? x->n : 1) * sizeof *idx);
    uint32_t *pos = malloc((size_t)x->nlist * sizeof *pos);
    uint8_t *lc = malloc((x->n ? x->n : 1) * (size_t)m);
    float *pt = malloc((size_t)m * ds * KSUB * sizeof(float));
    if (!off || !idx || !pos || !lc || !pt) { free(off); free(idx); free(pos); free(lc); free(pt); return -1; }
    for (size_t i = 0; i < x->n; i++) off[x->list_of[i] + 1]++;
    size_t mx = 0;
    for (int l = 0; l < x->nlist; l++) {
        if (off[l + 1] > mx) mx = off[l + 1];
        off[l + 1] += off[l];
    }
    memcpy(pos, off, (size_t)x->nlist * sizeof *pos);
    for (size_t i = 0; i < x->n; i++) {
        uint32_t t = pos[x->list_of[i]]++;
        idx[t] = (uint32_t)i;
        memcpy(lc + (size_t)t * m, x->codes + i * (size_t)m, (size_t)m);
    }
    for (int j = 0; j < m; j++)
        for (int c = 0; c < KSUB; c++)
            for (int t = 0; t < ds; t++)
                pt[((size_t)j * ds + t) * KSUB + c] = x->pq[((size_t)j * KSUB + c) * ds + t];
    free(pos);
    free(x->list_off); free(x->list_idx); free(x->list_codes); free(x->pq_t);
    x->list_off = off;
    x->list_idx = idx;
    x->list_codes = lc;
    x->pq_t = pt;
    x->list_max = mx;
    return 0;
}

/* lut (m x 256) + probe heap (nlist hits) + one list's distances + a residual */
size_t ivfpq_scratch_floats(const emb_index *x)
{
    return (size_t)x->pq_m * KSUB + 2 * (size_t)x->nlist + x->list_max + (size_t)x->dim + 64;
}

/* out[i] = sum_j lut[j][code_i[j]]: four codes at a time for independent
 * add chains (the table reads are the cost; m <= 256 rows stay in L1/L2) */
static void pq_scan(const float *lut, int m, const uint8_t *codes, size_t n, float *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t *c0 = codes + i * m, *c1 = c0 + m, *c2 = c1 + m, *c3 = c2 + m;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int j = 0; j < m; j++) {
            const float *l = lut + (size_t)j * KSUB;
            s0 += l[c0[j]]; s1 += l[c1[j]]; s2 += l[c2[j]]; s3 += l[c3[j]];
        }
        out[i] = s0; out[i + 1] = s1; out[i + 2] = s2; out[i + 3] = s3;
    }
    for (; i < n; i++) {
        const uint8_t *c = codes + i * m;
        float s = 0;
        for (int j = 0; j < m; j++) s += lut[(size_t)j * KSUB + c[j]];
        out[i] = s;
    }
}

int ivfpq_search(const emb_index *x, const float *q, int cap, int nprobe, idx_hit *heap, float *scratch)
{
    const int dim = x->dim, m = x->pq_m, ds = x->dsub, ip = x->metric != IDX_L2;
    float *lut = scratch;
    idx_hit *probe = (idx_hit *)(void *)(lut + (size_t)m * KSUB);
    float *dl = (float *)(probe + x->nlist), *res = dl + x->list_max;
    if (nprobe > x->nlist) nprobe = x->nlist;
    /* lists to visit: nearest centroids (largest q.c for inner product) */
    int np = 0;
    for (int l = 0; l < x->nlist; l++) {
        const float *c = x->centroids + (size_t)l * dim;
        float d = ip ? -x->k->dot_f32(q, c, (size_t)dim) : x->k->l2sq_f32(q, c, (size_t)dim);
        if (np < nprobe || d < probe[0].d) idx_heap_push(probe, &np, nprobe, d, (uint32_t)l);
    }
    if (ip) x->k->pq_lut(q, x->pq_t, m, ds, 0, lut); /* q . r^ does not depend on the list: one table */
    int n = 0;
    float worst = INFINITY;
    for (int p = 0; p < np; p++) {
        uint32_t l = probe[p].i, b = x->list_off[l], e = x->list_off[l + 1];
        float base = ip ? probe[p].d : 0.0f; /* -q.c */
        if (!ip) { /* L2: the table is of the residual q - c */
            const float *c = x->centroids + (size_t)l * dim;
            for (int d = 0; d < dim; d++) res[d] = q[d] - c[d];
            x->k->pq_lut(res, x->pq_t, m, ds, 1, lut);
        }
        pq_scan(lut, m, x->list_codes + (size_t)b * m, e - b, dl);
        for (uint32_t t = b; t < e; t++) {
            float d = ip ? base - dl[t - b] : dl[t - b];
            uint32_t i = x->list_idx[t];
            if (d > worst || x->deleted[i]) continue;
            idx_heap_push(heap, &n, cap, d, i);
            if (n == cap) worst = heap[0].d;
        }
    }
    return n;
}
