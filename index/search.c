/* Queries: exact scan with a bounded heap, or HNSW; binary + rescore; many
 * queries spread over OpenMP threads (each query's answer is independent of
 * the thread count).  Each thread's buffers come from a scratch block of the
 * index's pool (scratch.c), reused by the searches that follow: a stream of
 * single queries allocates nothing once the first has run. */
#include "index/index.h"
#include "index/hnsw.h"
#include "index/ivfpq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int flat_search(const emb_index *x, const idx_query *q, int k, idx_hit *heap)
{
    int n = 0;
    for (size_t i = 0; i < x->n; i++)
        if (!x->deleted[i]) idx_heap_push(heap, &n, k, idx_dist(x, q, (uint32_t)i), (uint32_t)i);
    return n;
}

/* Exact f32 search as blocks of queries x blocks of vectors through the GEMM
 * kernel (C = Q . X^T: the stored vectors are already in W layout), then a
 * bounded heap per query.  The kernel packs each vector block once per call,
 * so a call takes as many queries as the threads allow (up to FQ): with 128
 * the packing cost over a third of the multiply-adds. */
#define FQ 512
#define FX 512
static int flat_gemm_search(const emb_index *x, const float *queries, size_t nq, int k,
                            int64_t *out_ids, float *out_scores, int n_threads)
{
    const int dim = x->dim, l2 = x->metric == IDX_L2;
    const float *X = (const float *)x->codes;
    float *xx = NULL;
    if (l2) {
        xx = malloc((x->n ? x->n : 1) * sizeof(float));
        if (!xx) return -1;
        for (size_t i = 0; i < x->n; i++) xx[i] = x->k->dot_f32(X + i * dim, X + i * dim, (size_t)dim);
    }
    int fail = 0;
    size_t fq = (nq + (size_t)n_threads - 1) / (size_t)n_threads; /* a block per thread at least */
    fq = (fq + 11) / 12 * 12; /* whole register tiles of the kernel */
    fq = fq < 48 ? 48 : fq > FQ ? FQ : fq; /* clamped after rounding: qq holds FQ */
    size_t nblk = (nq + fq - 1) / fq;
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1 && nblk > 1)
    {
        idx_scratch *b = idx_scratch_take(x);
        float *qb = b ? idx_scratch_alloc(b, fq * dim * sizeof(float)) : NULL;
        float *sc = b ? idx_scratch_alloc(b, fq * FX * sizeof(float)) : NULL; /* fq: one query needs no 1 MB block */
        float *pack = b ? idx_scratch_alloc(b, kern_gemm_scratch_floats(1) * sizeof(float)) : NULL;
        idx_hit *heap = b ? idx_scratch_alloc(b, fq * k * sizeof(idx_hit)) : NULL;
        int *hn = b ? idx_scratch_alloc(b, fq * sizeof(int)) : NULL;
        float qq[FQ];
        int ok = qb && sc && pack && heap && hn;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(dynamic, 1)
        for (size_t bi = 0; bi < nblk; bi++) {
            if (!ok) continue;
            size_t q0 = bi * fq;
            int m = nq - q0 < fq ? (int)(nq - q0) : (int)fq;
            for (int i = 0; i < m; i++) {
                memcpy(qb + (size_t)i * dim, queries + (q0 + i) * dim, (size_t)dim * sizeof(float));
                if (x->metric == IDX_COSINE) {
                    double s2 = 0;
                    for (int d = 0; d < dim; d++) s2 += (double)qb[i * dim + d] * qb[i * dim + d];
                    if (s2 > 0) for (int d = 0; d < dim; d++) qb[i * dim + d] *= (float)(1 / sqrt(s2));
                }
                qq[i] = x->k->dot_f32(qb + (size_t)i * dim, qb + (size_t)i * dim, (size_t)dim);
                hn[i] = 0;
            }
            for (size_t x0 = 0; x0 < x->n; x0 += FX) {
                int nx = x->n - x0 < FX ? (int)(x->n - x0) : FX;
                x->k->gemm_f32(m, nx, dim, qb, dim, X + x0 * dim, KERN_W_F32, dim, NULL, sc, FX, pack, 1);
                for (int i = 0; i < m; i++) {
                    const float *si = sc + (size_t)i * FX;
                    idx_hit *h = heap + (size_t)i * k;
                    float worst = hn[i] == k ? h[0].d : INFINITY;
                    for (int j = 0; j < nx; j++) {
                        float d = l2 ? qq[i] - 2 * si[j] + xx[x0 + j] : -si[j];
                        if (d > worst || x->deleted[x0 + j]) continue; /* cannot enter: skip the call */
                        idx_heap_push(h, &hn[i], k, d, (uint32_t)(x0 + j));
                        if (hn[i] == k) worst = h[0].d;
                    }
                }
            }
            for (int i = 0; i < m; i++) {
                idx_hit *h = heap + (size_t)i * k;
                idx_hits_sort(h, hn[i]);
                for (int j = 0; j < k; j++) {
                    out_ids[(q0 + i) * k + j] = j < hn[i] ? x->ids[h[j].i] : -1;
                    out_scores[(q0 + i) * k + j] = j < hn[i] ? idx_score(x, h[j].d) : NAN;
                }
            }
        }
        idx_scratch_give(x, b);
    }
    free(xx);
    return fail ? -1 : 0;
}

/* The f32 query against the int8 rescoring copies: sum q (c * scale + offset)
 * = (q * scale) . c + q . offset, so one scaled query and the SIMD int8 dot. */
static void rescore_hits(const emb_index *x, const float *q, idx_hit *h, int m, float *qs)
{
    float c = 0;
    for (int d = 0; d < x->dim; d++) {
        qs[d] = q[d] * x->i8_scale[d];
        c += q[d] * x->i8_offset[d];
    }
    /* the copies are scattered: ask for all of them before the first dot */
    for (int i = 0; i < m; i++)
        for (int o = 0; o < x->dim; o += 64) __builtin_prefetch(x->rescore + (size_t)h[i].i * x->dim + o);
    for (int i = 0; i < m; i++)
        h[i].d = -(x->k->dot_f32_i8(qs, x->rescore + (size_t)h[i].i * x->dim, (size_t)x->dim) + c);
}

/* The k best of h[0..m), any order, into h[0..min(k, m)) sorted: a bounded
 * heap built in place (slot i is read before the heap can reach it). */
static int top_sorted(idx_hit *h, int m, int k)
{
    if (m > k) {
        int n = 0;
        for (int i = 0; i < m; i++) {
            idx_hit v = h[i];
            idx_heap_push(h, &n, k, v.d, v.i);
        }
        m = k;
    }
    idx_hits_sort(h, m);
    return m;
}

/* One query's candidates (any order) -> optional rescore -> k results. */
static void finish_query(const emb_index *x, const float *raw, idx_hit *h, int m, int k, int rescore, float *qs,
                         int64_t *out_ids, float *out_scores)
{
    if (rescore) rescore_hits(x, raw, h, m, qs);
    m = top_sorted(h, m, k);
    for (int i = 0; i < k; i++) {
        out_ids[i] = i < m ? x->ids[h[i].i] : -1;
        out_scores[i] = i < m ? (rescore ? -h[i].d : idx_score(x, h[i].d)) : NAN;
    }
}

/* Candidates of one query in the Hamming scan, in slot order.  Distances are
 * small integers, so keeping the kk smallest (d, slot) is a histogram count,
 * not a heap: hits are appended and the list is cut back to kk whenever it
 * doubles, which also tightens the bound the kernel filters with. */
typedef struct { uint32_t d, i; } bin_hit;

/* hist: nbits + 1 counters, all zero on entry and on return */
static int bin_cut(bin_hit *b, int n, int kk, uint32_t *hist, uint32_t *below)
{
    if (n < kk) return n;
    uint32_t D = UINT32_MAX, c = 0;
    for (int j = 0; j < n; j++) {
        hist[b[j].d]++;
        if (b[j].d < D) D = b[j].d;
    }
    while (c + hist[D] < (uint32_t)kk) c += hist[D++];
    for (int j = 0; j < n; j++) hist[b[j].d] = 0;
    int ties = kk - (int)c, m = 0; /* of distance D, the earliest slots win */
    for (int j = 0; j < n; j++)
        if (b[j].d < D || (b[j].d == D && ties-- > 0)) b[m++] = b[j];
    *below = D; /* a later slot at distance D would lose the tie */
    return m;
}

/* Exact Hamming search: blocks of queries x blocks of vectors; each vector
 * block is laid out once as a Hamming panel (8 vectors per register) and
 * every query of the block scans it from cache, BS vectors per kernel call,
 * getting back only those under its current bound. */
#define BQ 256
#define BX 512
#define BS 512
#define PF_AHEAD 2
static int flat_bin_search(const emb_index *x, const float *queries, size_t nq, int k, int kk, int rescore,
                           int64_t *out_ids, float *out_scores, int n_threads)
{
    (void)n_threads; /* read by OpenMP only */
    const size_t nw = x->code_bytes / 8, qf = idx_query_floats(x) + 16, cap = 2 * (size_t)kk + BS;
    const uint64_t *rows = (const uint64_t *)(const void *)x->codes;
    int fail = 0;
    size_t nblk = (nq + BQ - 1) / BQ;
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1 && nblk > 1)
    {
        idx_scratch *sb = idx_scratch_take(x);
        float *qb = sb ? idx_scratch_alloc(sb, BQ * qf * sizeof(float)) : NULL;
        float *qs = sb ? idx_scratch_alloc(sb, (size_t)x->dim * sizeof(float)) : NULL;
        uint64_t *panel = sb ? idx_scratch_alloc(sb, kern_hamming_panel_words(BX, nw) * sizeof(uint64_t)) : NULL;
        uint32_t *pos = sb ? idx_scratch_alloc(sb, BS * sizeof(uint32_t)) : NULL;
        uint32_t *dist = sb ? idx_scratch_alloc(sb, BS * sizeof(uint32_t)) : NULL;
        uint32_t *hist = sb ? idx_scratch_alloc(sb, (nw * 64 + 1) * sizeof(uint32_t)) : NULL;
        bin_hit *cand = sb ? idx_scratch_alloc(sb, BQ * cap * sizeof(bin_hit)) : NULL;
        idx_hit *hits = sb ? idx_scratch_alloc(sb, (size_t)kk * sizeof(idx_hit)) : NULL;
        if (hist) memset(hist, 0, (nw * 64 + 1) * sizeof(uint32_t)); /* bin_cut leaves it zero */
        int cn[BQ];
        uint32_t below[BQ];
        idx_query q[BQ];
        int ok = qb && qs && panel && pos && dist && hist && cand && hits;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblk; b++) {
            if (!ok) continue;
            size_t q0 = b * BQ;
            int m = nq - q0 < BQ ? (int)(nq - q0) : BQ;
            for (int i = 0; i < m; i++) {
                idx_query_prepare(x, queries + (q0 + i) * x->dim, &q[i], qb + (size_t)i * qf);
                cn[i] = 0;
                below[i] = UINT32_MAX;
            }
            for (size_t x0 = 0; x0 < x->n; x0 += BX) {
                size_t nx = x->n - x0 < BX ? x->n - x0 : BX;
                kern_hamming_pack(rows + x0 * nw, nw, nx, nw, panel);
                for (int i = 0; i < m; i++) {
                    bin_hit *c = cand + (size_t)i * cap;
                    for (size_t s0 = 0; s0 < nx; s0 += BS) {
                        size_t ns = nx - s0 < BS ? nx - s0 : BS;
                        size_t got = x->k->hamming_panel(q[i].bits, nw, panel + s0 * nw, (ns + 7) / 8, below[i], pos, dist);
                        for (size_t j = 0; j < got; j++) {
                            size_t v = x0 + s0 + pos[j];
                            if (pos[j] >= ns || x->deleted[v]) continue; /* padding, tombstones */
                            c[cn[i]++] = (bin_hit){ dist[j], (uint32_t)v };
                        }
                        if (cn[i] >= 2 * kk) cn[i] = bin_cut(c, cn[i], kk, hist, &below[i]);
                    }
                }
            }
            for (int i = 0; i < m; i++) cn[i] = bin_cut(cand + (size_t)i * cap, cn[i], kk, hist, &below[i]);
            for (int i = 0; i < m; i++) {
                /* the rescoring copies are scattered in DRAM: request those of a
                 * query a few ahead while this one is scored */
                if (rescore && i + PF_AHEAD < m) {
                    const bin_hit *c = cand + (size_t)(i + PF_AHEAD) * cap;
                    for (int j = 0; j < cn[i + PF_AHEAD]; j++)
                        for (int o = 0; o < x->dim; o += 64) __builtin_prefetch(x->rescore + (size_t)c[j].i * x->dim + o);
                }
                const bin_hit *c = cand + (size_t)i * cap;
                for (int j = 0; j < cn[i]; j++) hits[j] = (idx_hit){ (float)c[j].d, c[j].i };
                finish_query(x, q[i].raw, hits, cn[i], k, rescore, qs, out_ids + (q0 + i) * k, out_scores + (q0 + i) * k);
            }
        }
        idx_scratch_give(x, sb);
    }
    return fail ? -1 : 0;
}

/* IVF-PQ: blocks of queries meet the coarse centroids in one GEMM (q . c for
 * every list: the per-query centroid scan was half of a query's time at
 * 200k vectors and 1788 lists), then each query picks its lists, scans them
 * and is optionally refined.  Blocks do not depend on the thread count. */
#define IQ 64
static int ivf_search(const emb_index *x, const float *queries, size_t nq, int k, int kk, int nprobe, int refine,
                      int64_t *out_ids, float *out_scores, int n_threads)
{
    const int dim = x->dim, nl = x->nlist;
    (void)n_threads; /* read by OpenMP only */
    if (nprobe > nl) nprobe = nl;
    const size_t qf = idx_query_floats(x) + 16;
    size_t nblk = (nq + IQ - 1) / IQ;
    int fail = 0;
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1 && nblk > 1)
    {
        idx_scratch *sb = idx_scratch_take(x);
        float *qb = sb ? idx_scratch_alloc(sb, IQ * qf * sizeof(float)) : NULL;
        float *qm = sb ? idx_scratch_alloc(sb, (size_t)IQ * dim * sizeof(float)) : NULL;
        float *sc = sb ? idx_scratch_alloc(sb, (size_t)IQ * nl * sizeof(float)) : NULL;
        float *ivs = sb ? idx_scratch_alloc(sb, ivfpq_scratch_floats(x) * sizeof(float)) : NULL;
        float *pack = sb ? idx_scratch_alloc(sb, kern_gemm_scratch_floats(1) * sizeof(float)) : NULL;
        float *qs = sb ? idx_scratch_alloc(sb, (size_t)dim * sizeof(float)) : NULL;
        idx_hit *heap = sb ? idx_scratch_alloc(sb, (size_t)kk * sizeof(idx_hit)) : NULL;
        idx_hit *probe = sb ? idx_scratch_alloc(sb, (size_t)nprobe * sizeof(idx_hit)) : NULL;
        idx_query q[IQ];
        int ok = qb && qm && sc && ivs && pack && qs && heap && probe;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblk; b++) {
            if (!ok || !x->trained) continue;
            size_t q0 = b * IQ;
            int m = nq - q0 < IQ ? (int)(nq - q0) : IQ;
            for (int i = 0; i < m; i++) {
                idx_query_prepare(x, queries + (q0 + i) * dim, &q[i], qb + (size_t)i * qf);
                memcpy(qm + (size_t)i * dim, q[i].raw, (size_t)dim * sizeof(float));
            }
            x->k->gemm_f32(m, nl, dim, qm, dim, x->centroids, KERN_W_F32, dim, NULL, sc, nl, pack, 1);
            for (int i = 0; i < m; i++) {
                int np = ivfpq_probe(x, q[i].raw, sc + (size_t)i * nl, nprobe, probe);
                int h = ivfpq_scan(x, q[i].raw, kk, probe, np, heap, ivs);
                if (refine) /* exact distances on the kept f32 vectors */
                    for (int j = 0; j < h; j++) heap[j].d = idx_refine_dist(x, q[i].raw, heap[j].i);
                finish_query(x, q[i].raw, heap, h, k, 0, qs, out_ids + (q0 + i) * k, out_scores + (q0 + i) * k);
            }
        }
        idx_scratch_give(x, sb);
    }
    if (!x->trained) /* nothing stored yet */
        for (size_t i = 0; i < nq * (size_t)k; i++) { out_ids[i] = -1; out_scores[i] = NAN; }
    return fail ? -1 : 0;
}

idx_status idx_search(const emb_index *x, const float *queries, size_t nq, int k, const idx_search_params *sp,
                      int64_t *out_ids, float *out_scores, int n_threads, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    idx_search_params d = idx_default_search_params();
    if (!sp) sp = &d;
    idx_status built = idx_require_built(x, err, errlen);
    if (built != IDX_OK) return built;
    if (k < 1 || k > 100000) return snprintf(err, errlen, "k %d out of range (1..100000)", k), IDX_ERR_ARG;
    if (nq && (!queries || !out_ids || !out_scores)) return snprintf(err, errlen, "search: bad arguments"), IDX_ERR_ARG;
    for (size_t i = 0; i < nq * (size_t)x->dim; i++)
        if (!isfinite(queries[i])) return snprintf(err, errlen, "search: query %zu has a non-finite component", i / (size_t)x->dim), IDX_ERR_ARG;
    int rescore = x->p.rescore && x->rescore;
    int refine = x->type == IDX_IVFPQ && x->refine_vecs;
    int kk = rescore ? k * (sp->rescore_mult > 1 ? sp->rescore_mult : 1) : k; /* candidates */
    if (refine) kk = k * (sp->refine_factor > 1 ? sp->refine_factor : 1);
    int nprobe = sp->nprobe > 0 ? sp->nprobe : 16;
    if (n_threads < 1) n_threads = 1;
    if (x->type == IDX_FLAT && x->vt == IDX_F32 && nq > 0) {
        if (flat_gemm_search(x, queries, nq, k, out_ids, out_scores, n_threads) != 0)
            return snprintf(err, errlen, "out of memory during search"), IDX_ERR_NOMEM;
        return 0;
    }
    if (x->type == IDX_FLAT && x->vt == IDX_BIN && nq > 0) {
        if (flat_bin_search(x, queries, nq, k, kk, rescore, out_ids, out_scores, n_threads) != 0)
            return snprintf(err, errlen, "out of memory during search"), IDX_ERR_NOMEM;
        return 0;
    }
    if (x->type == IDX_IVFPQ && nq > 0) {
        if (ivf_search(x, queries, nq, k, kk, nprobe, refine, out_ids, out_scores, n_threads) != 0)
            return snprintf(err, errlen, "out of memory during search"), IDX_ERR_NOMEM;
        return 0;
    }
    int ef = sp->ef_search > 0 ? (sp->ef_search > kk ? sp->ef_search : kk) : (kk > 64 ? kk : 64);
    if (sp->ef_upper < 0 || sp->ef_upper > 100000) return snprintf(err, errlen, "ef_upper %d out of range (1..100000; 0: default)", sp->ef_upper), IDX_ERR_ARG;
    int ef_upper = sp->ef_upper > 0 ? sp->ef_upper : 8;
    int fail = 0;
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1 && nq > 1)
    {
        idx_scratch *sb = idx_scratch_take(x);
        float *qb = sb ? idx_scratch_alloc(sb, (idx_query_floats(x) + 16) * sizeof(float)) : NULL;
        idx_hit *heap = sb ? idx_scratch_alloc(sb, (size_t)(kk > ef ? kk : ef) * sizeof(idx_hit)) : NULL;
        uint32_t *ids = sb ? idx_scratch_alloc(sb, (size_t)ef * sizeof(uint32_t)) : NULL;
        float *dist = sb ? idx_scratch_alloc(sb, (size_t)ef * sizeof(float)) : NULL;
        float *qs = sb ? idx_scratch_alloc(sb, (size_t)x->dim * sizeof(float)) : NULL;
        void *hs = sb && x->type == IDX_HNSW ? hnsw_walk_scratch(x, sb, ef > ef_upper ? ef : ef_upper) : NULL;
        int ok = qb && heap && ids && dist && qs && (x->type != IDX_HNSW || hs);
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(dynamic, 4)
        for (size_t qi = 0; qi < nq; qi++) {
            if (!ok) continue;
            idx_query q;
            idx_query_prepare(x, queries + qi * x->dim, &q, qb);
            int m;
            if (x->type == IDX_HNSW) {
                m = hnsw_search(x, &q, kk, ef, ef_upper, ids, dist, hs);
                for (int i = 0; i < m; i++) heap[i] = (idx_hit){ dist[i], ids[i] };
            } else {
                m = flat_search(x, &q, kk, heap);
            }
            finish_query(x, q.raw, heap, m, k, rescore, qs, out_ids + qi * k, out_scores + qi * k);
        }
        idx_scratch_give(x, sb);
    }
    if (fail) return snprintf(err, errlen, "out of memory during search"), IDX_ERR_NOMEM;
    return IDX_OK;
}
