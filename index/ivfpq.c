/* IVF-PQ: a k-means coarse quantizer, product quantization of the residuals
 * (8 bits per sub-vector, or 4 bits scanned by the fast-scan kernel),
 * asymmetric distances through per-query lookup tables, nprobe lists per
 * query, optional exact refine. */
#include "index/ivfpq.h"
#include "index/kmeans.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KSUB 256 /* 8-bit codes */

#define KMEANS_ITERS 12

typedef struct { idx_ticker tk; size_t done; } train_progress;
static void train_step(void *p)
{
    train_progress *t = p;
    idx_tick(&t->tk, ++t->done);
}

idx_status ivfpq_train(emb_index *x, const float *v, size_t n, int n_threads, char *err, size_t errlen)
{
    const int dim = x->dim, m = x->pq_m, ds = x->dsub, ksub = x->ksub;
    size_t need = (size_t)(x->nlist > KSUB ? x->nlist : KSUB);
    if (n < need)
        return snprintf(err, errlen, "IVF-PQ trains on the first batch: it needs at least %zu vectors (nlist %d, 256 or more), got %zu",
                        need, x->nlist, n), IDX_ERR_ARG;
    /* sample: 64 points per centroid (at least 16384, at most n) */
    size_t ns = (size_t)x->nlist * 64 > n ? n : (size_t)x->nlist * 64;
    if (ns < 16384) ns = n < 16384 ? n : 16384;
    size_t stride = n / ns;
    float *s = calloc(ns * dim, sizeof(float)), *res = malloc(ns * dim * sizeof(float));
    if (!s || !res) { free(s); free(res); return snprintf(err, errlen, "out of memory training"), IDX_ERR_NOMEM; }
    for (size_t i = 0; i < ns; i++) memcpy(s + i * dim, v + i * stride * dim, (size_t)dim * sizeof(float));
    /* one step a k-means iteration: the coarse quantizer, then each codebook */
    train_progress tp = { .done = 0 };
    idx_tick_start(&tp.tk, x, "train", (size_t)KMEANS_ITERS * (1 + (size_t)m));
    /* the sizes are valid (nlist, ksub <= ns): k-means fails only for memory */
    if (kmeans_train(s, ns, dim, dim, x->nlist, KMEANS_ITERS, x->p.seed, n_threads, x->centroids, train_step, &tp) < 0) {
        free(s); free(res);
        return snprintf(err, errlen, "out of memory training the coarse quantizer"), IDX_ERR_NOMEM;
    }
    int *as = malloc(ns * sizeof(int));
    if (!as || kmeans_assign(s, ns, dim, dim, x->centroids, x->nlist, n_threads, as, NULL) != 0) {
        free(s); free(res); free(as);
        return snprintf(err, errlen, "out of memory training"), IDX_ERR_NOMEM;
    }
    for (size_t i = 0; i < ns; i++)
        for (int d = 0; d < dim; d++) res[i * dim + d] = s[i * dim + d] - x->centroids[(size_t)as[i] * dim + d];
    free(as);
    /* codebooks: ksub centroids each, trained on up to 40 points per
     * centroid (8-bit) or 256 (4-bit: 16 centroids learn cheaply) */
    size_t cap = (size_t)ksub * (ksub == KSUB ? 40 : 256), npq = ns < cap ? ns : cap;
    for (int j = 0; j < m; j++)
        if (kmeans_train(res + (size_t)j * ds, npq, ds, dim, ksub, KMEANS_ITERS, x->p.seed + 1 + (uint64_t)j, n_threads,
                         x->pq + (size_t)j * ksub * ds, train_step, &tp) < 0) {
            free(s); free(res);
            return snprintf(err, errlen, "out of memory training PQ codebook %d", j), IDX_ERR_NOMEM;
        }
    idx_tick_end(&tp.tk);
    free(s); free(res);
    x->trained = 1;
    return IDX_OK;
}

/* PQ code of v's residual to centroid l */
static void encode_residual(const emb_index *x, const float *v, int l, uint8_t *code)
{
    const int dim = x->dim, ds = x->dsub;
    if (x->pq_bits == 4) memset(code, 0, x->code_bytes);
    for (int j = 0; j < x->pq_m; j++) {
        float sub[256];
        for (int t = 0; t < ds; t++) sub[t] = v[j * ds + t] - x->centroids[(size_t)l * dim + j * ds + t];
        int c = kmeans_nearest(sub, x->pq + (size_t)j * x->ksub * ds, x->ksub, ds, NULL);
        if (x->pq_bits == 4) code[j / 2] |= (uint8_t)(c << (4 * (j & 1)));
        else code[j] = (uint8_t)c;
    }
}

/* Lists and codes of n vectors stored from slot first: chunks of them (put
 * on the unit sphere for cosine) meet the centroids in the GEMM, then are
 * encoded over the threads. */
int ivfpq_encode_batch(emb_index *x, const float *vecs, size_t n, size_t first, int n_threads)
{
    const int dim = x->dim;
    const size_t chunk = 4096;
    float *t = malloc((n < chunk ? n : chunk) * (size_t)dim * sizeof(float));
    int *as = malloc((n < chunk ? n : chunk) * sizeof(int));
    if (!t || !as) { free(t); free(as); return -1; }
    if (n_threads < 1) n_threads = 1;
    int fail = 0;
    idx_ticker tk;
    idx_tick_start(&tk, x, "encode", n);
    for (size_t c0 = 0; c0 < n && !fail; c0 += chunk) {
        idx_tick(&tk, c0);
        size_t m = n - c0 < chunk ? n - c0 : chunk;
        memcpy(t, vecs + c0 * dim, m * (size_t)dim * sizeof(float));
        if (x->metric == IDX_COSINE)
            for (size_t i = 0; i < m; i++) idx_l2_normalize(t + i * dim, dim);
        if (kmeans_assign(t, m, dim, dim, x->centroids, x->nlist, n_threads, as, NULL) != 0) { fail = 1; break; }
        #pragma omp parallel for num_threads(n_threads) schedule(static) if (n_threads > 1)
        for (size_t i = 0; i < m; i++) {
            x->list_of[first + c0 + i] = (uint32_t)as[i];
            encode_residual(x, t + i * dim, as[i], x->codes + (first + c0 + i) * x->code_bytes);
        }
    }
    if (!fail) idx_tick_end(&tk);
    free(t); free(as);
    return fail ? -1 : 0;
}

/* 4-bit: each list's codes as fast-scan blocks of 32, from a block boundary */
static int build_blocks(emb_index *x, const uint32_t *off, const uint32_t *idx, size_t mx)
{
    const int m = x->pq_m;
    uint32_t *boff = malloc(((size_t)x->nlist + 1) * sizeof *boff);
    uint8_t *tmp = malloc((mx ? mx : 1) * x->code_bytes);
    if (!boff || !tmp) { free(boff); free(tmp); return -1; }
    size_t nb = 0;
    for (int l = 0; l < x->nlist; l++) {
        boff[l] = (uint32_t)nb;
        nb += (off[l + 1] - off[l] + 31) / 32;
    }
    boff[x->nlist] = (uint32_t)nb;
    uint8_t *blocks = malloc(nb ? nb * (size_t)m * 16 : 1);
    if (!blocks) { free(boff); free(tmp); return -1; }
    for (int l = 0; l < x->nlist; l++) {
        size_t len = off[l + 1] - off[l];
        for (size_t t = 0; t < len; t++) memcpy(tmp + t * x->code_bytes, x->codes + idx[off[l] + t] * x->code_bytes, x->code_bytes);
        if (len) kern_pq4_pack(tmp, len, m, blocks + (size_t)boff[l] * m * 16);
    }
    free(tmp);
    free(x->list_boff); free(x->list_codes);
    x->list_boff = boff;
    x->list_codes = blocks;
    return 0;
}

/* Derived, rebuilt after every add and on open: the members of each list,
 * their codes copied contiguously (a list scan streams them), and the
 * codebooks transposed for the lookup-table kernel. */
int ivfpq_build_lists(emb_index *x)
{
    const int m = x->pq_m, ds = x->dsub;
    uint32_t *off = calloc((size_t)x->nlist + 1, sizeof *off), *idx = malloc((x->n ? x->n : 1) * sizeof *idx);
    uint32_t *pos = malloc((size_t)x->nlist * sizeof *pos);
    const int b8 = x->pq_bits == 8, ks = x->ksub;
    uint8_t *lc = b8 ? malloc((x->n ? x->n : 1) * (size_t)m) : NULL;
    float *pt = malloc((size_t)m * ds * ks * sizeof(float));
    if (!off || !idx || !pos || !pt || (b8 && !lc)) { free(off); free(idx); free(pos); free(lc); free(pt); return -1; }
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
        if (b8) memcpy(lc + (size_t)t * m, x->codes + i * (size_t)m, (size_t)m);
    }
    free(pos);
    if (!b8) {
        if (build_blocks(x, off, idx, mx) != 0) { free(off); free(idx); free(pt); return -1; }
    } else {
        free(x->list_codes);
        x->list_codes = lc;
    }
    for (int j = 0; j < m; j++)
        for (int c = 0; c < ks; c++)
            for (int t = 0; t < ds; t++)
                pt[((size_t)j * ds + t) * ks + c] = x->pq[((size_t)j * ks + c) * ds + t];
    free(x->pq_t);
    x->pq_t = pt;
    float *nn = malloc((size_t)x->nlist * sizeof(float));
    if (!nn) { free(off); free(idx); return -1; }
    for (int l = 0; l < x->nlist; l++)
        nn[l] = x->k->dot_f32(x->centroids + (size_t)l * x->dim, x->centroids + (size_t)l * x->dim, (size_t)x->dim);
    free(x->cent_nn);
    x->cent_nn = nn;
    free(x->list_off); free(x->list_idx);
    x->list_off = off;
    x->list_idx = idx;
    x->list_max = mx;
    return 0;
}

/* lut (m x 256 floats; 4-bit: m x 16 floats and m x 16 bytes) + one list's
 * distances (4-bit: its blocks' 16-bit sums) + a residual */
size_t ivfpq_scratch_floats(const emb_index *x)
{
    return (size_t)x->pq_m * KSUB + x->list_max + 32 + (size_t)x->dim + 64;
}

/* 4-bit: float table of the m x 16 codewords (from the codebooks as
 * stored: small), then bytes for the fast scan.  cost = -q.r (inner
 * product) or |q - r|^2, shifted per sub-space to start at 0 and scaled by
 * one factor so the widest row spans 0..255: cost ~ bias + sum / scale. */
static void pq4_tables(const emb_index *x, const float *q, int l2, float *lut, uint8_t *q8, float *bias, float *inv_scale)
{
    const int m = x->pq_m;
    x->k->pq_lut(q, x->pq_t, m, x->dsub, 16, l2, lut);
    float width = 0, b = 0;
    for (int j = 0; j < m; j++) {
        float *row = lut + (size_t)j * 16, mn = INFINITY, mxv = -INFINITY;
        if (!l2) for (int c = 0; c < 16; c++) row[c] = -row[c]; /* cost: -q.r */
        for (int c = 0; c < 16; c++) { mn = row[c] < mn ? row[c] : mn; mxv = row[c] > mxv ? row[c] : mxv; }
        for (int c = 0; c < 16; c++) row[c] -= mn;
        b += mn;
        if (mxv - mn > width) width = mxv - mn;
    }
    float s = width > 0 ? 255.0f / width : 1.0f;
    for (int i = 0; i < m * 16; i++) {
        /* 0..255 by construction for finite tables; clamped (NaN to 0) so
         * that an overflowing one cannot make the conversion undefined */
        float v = lut[i] * s + 0.5f;
        q8[i] = v >= 0 && v < 256 ? (uint8_t)v : v >= 256 ? 255 : 0;
    }
    *bias = b;
    *inv_scale = 1.0f / s;
}

static int pq4_search(const emb_index *x, const float *q, int cap, const idx_hit *probe, int np, idx_hit *heap,
                      float *lut, uint16_t *sums, float *res)
{
    const int dim = x->dim, m = x->pq_m, ip = x->metric != IDX_L2;
    uint8_t *q8 = (uint8_t *)(lut + (size_t)m * 16);
    float bias = 0, inv = 1;
    if (ip) pq4_tables(x, q, 0, lut, q8, &bias, &inv); /* one table: q.r does not depend on the list */
    int n = 0;
    float worst = INFINITY;
    for (int p = 0; p < np; p++) {
        uint32_t l = probe[p].i, b = x->list_off[l], len = x->list_off[l + 1] - b;
        if (!len) continue;
        if (!ip) {
            const float *c = x->centroids + (size_t)l * dim;
            for (int d = 0; d < dim; d++) res[d] = q[d] - c[d];
            pq4_tables(x, res, 1, lut, q8, &bias, &inv);
        }
        float base = (ip ? probe[p].d : 0.0f) + bias; /* -q.c for inner product */
        x->k->pq4_scan(x->list_codes + (size_t)x->list_boff[l] * m * 16, (len + 31) / 32, m, q8, sums);
        for (uint32_t t = 0; t < len; t++) {
            float d = base + sums[t] * inv;
            uint32_t i = x->list_idx[b + t];
            if (d > worst || x->deleted[i]) continue;
            idx_heap_push(heap, &n, cap, d, i);
            if (n == cap) worst = heap[0].d;
        }
    }
    return n;
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

/* The nprobe lists to visit (max-heap, count returned): the nearest
 * centroids, distance -q.c for inner product (the base of a list's
 * distances) and |c|^2 - 2 q.c for L2 (a rank only).  qc[l] = q.c when the
 * caller has them (a batch of queries through the GEMM), else NULL. */
int ivfpq_probe(const emb_index *x, const float *q, const float *qc, int nprobe, idx_hit *probe)
{
    const int dim = x->dim, ip = x->metric != IDX_L2;
    if (nprobe > x->nlist) nprobe = x->nlist;
    int np = 0;
    for (int l = 0; l < x->nlist; l++) {
        float s = qc ? qc[l] : x->k->dot_f32(q, x->centroids + (size_t)l * dim, (size_t)dim);
        float d = ip ? -s : x->cent_nn[l] - 2 * s;
        if (np < nprobe || d < probe[0].d) idx_heap_push(probe, &np, nprobe, d, (uint32_t)l);
    }
    return np;
}

int ivfpq_scan(const emb_index *x, const float *q, int cap, const idx_hit *probe, int np, idx_hit *heap, float *scratch)
{
    const int dim = x->dim, m = x->pq_m, ds = x->dsub, ip = x->metric != IDX_L2;
    float *lut = scratch, *dl = lut + (size_t)m * KSUB, *res = dl + x->list_max + 32;
    if (x->pq_bits == 4) return pq4_search(x, q, cap, probe, np, heap, lut, (uint16_t *)(void *)dl, res);
    if (ip) x->k->pq_lut(q, x->pq_t, m, ds, KSUB, 0, lut); /* q . r^ does not depend on the list: one table */
    int n = 0;
    float worst = INFINITY;
    for (int p = 0; p < np; p++) {
        uint32_t l = probe[p].i, b = x->list_off[l], e = x->list_off[l + 1];
        float base = ip ? probe[p].d : 0.0f; /* -q.c */
        if (!ip) { /* L2: the table is of the residual q - c */
            const float *c = x->centroids + (size_t)l * dim;
            for (int d = 0; d < dim; d++) res[d] = q[d] - c[d];
            x->k->pq_lut(res, x->pq_t, m, ds, KSUB, 1, lut);
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
