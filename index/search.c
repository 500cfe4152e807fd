/* Queries: exact scan with a bounded heap, or HNSW; binary + rescore; many
 * queries spread over OpenMP threads (each query's answer is independent of
 * the thread count). */
#include "index/index_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void *hnsw_scratch_new(const emb_index *x, int ef);
void hnsw_scratch_delete(void *p);

static int flat_search(const emb_index *x, const idx_query *q, int k, idx_hit *heap)
{
    int n = 0;
    for (size_t i = 0; i < x->n; i++)
        if (!x->deleted[i]) idx_heap_push(heap, &n, k, idx_dist(x, q, (uint32_t)i), (uint32_t)i);
    idx_hits_sort(heap, n);
    return n;
}

/* Exact f32 search as blocks of queries x blocks of vectors through the GEMM
 * kernel (C = Q . X^T: the stored vectors are already in W layout), then a
 * bounded heap per query. */
#define FQ 128
#define FX 1024
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
    size_t nblk = (nq + FQ - 1) / FQ;
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1 && nblk > 1)
    {
        float *qb = malloc((size_t)FQ * dim * sizeof(float)), *sc = malloc((size_t)FQ * FX * sizeof(float));
        float *pack = NULL;
        idx_hit *heap = malloc((size_t)FQ * k * sizeof(idx_hit));
        int *hn = malloc(FQ * sizeof(int));
        float qq[FQ];
        if (posix_memalign((void **)&pack, 64, kern_gemm_scratch_floats(1) * sizeof(float)) != 0) pack = NULL;
        int ok = qb && sc && pack && heap && hn;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblk; b++) {
            if (!ok) continue;
            size_t q0 = b * FQ;
            int m = nq - q0 < FQ ? (int)(nq - q0) : FQ;
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
                    for (int j = 0; j < nx; j++) {
                        if (x->deleted[x0 + j]) continue;
                        float d = l2 ? qq[i] - 2 * si[j] + xx[x0 + j] : -si[j];
                        idx_heap_push(h, &hn[i], k, d, (uint32_t)(x0 + j));
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
        free(qb); free(sc); free(pack); free(heap); free(hn);
    }
    free(xx);
    return fail ? -1 : 0;
}

int idx_search(const emb_index *x, const float *queries, size_t nq, int k, const idx_search_params *sp,
               int64_t *out_ids, float *out_scores, int n_threads, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    idx_search_params d = idx_default_search_params();
    if (!sp) sp = &d;
    if (k < 1 || k > 100000) return snprintf(err, errlen, "k %d out of range (1..100000)", k), -1;
    if (nq && (!queries || !out_ids || !out_scores)) return snprintf(err, errlen, "search: bad arguments"), -1;
    int rescore = x->p.rescore && x->rescore;
    int refine = x->type == IDX_IVFPQ && x->refine_vecs;
    int kk = rescore ? k * (sp->rescore_mult > 1 ? sp->rescore_mult : 1) : k; /* candidates */
    if (refine) kk = k * (sp->refine_factor > 1 ? sp->refine_factor : 1);
    int nprobe = sp->nprobe > 0 ? sp->nprobe : 16;
    if (n_threads < 1) n_threads = 1;
    if (x->type == IDX_FLAT && x->vt == IDX_F32 && nq > 0) {
        if (flat_gemm_search(x, queries, nq, k, out_ids, out_scores, n_threads) != 0)
            return snprintf(err, errlen, "out of memory during search"), -1;
        return 0;
    }
    int ef = sp->ef_search > 0 ? (sp->ef_search > kk ? sp->ef_search : kk) : (kk > 64 ? kk : 64);
    if (n_threads < 1) n_threads = 1;
    int fail = 0;
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1 && nq > 1)
    {
        float *qb = malloc((idx_query_floats(x) + 16) * sizeof(float));
        idx_hit *heap = malloc((size_t)(kk > ef ? kk : ef) * sizeof(idx_hit));
        uint32_t *ids = malloc((size_t)ef * sizeof(uint32_t));
        float *dist = malloc((size_t)ef * sizeof(float));
        void *hs = x->type == IDX_HNSW ? hnsw_scratch_new(x, ef) : NULL;
        float *ivs = x->type == IDX_IVFPQ ? malloc(ivfpq_scratch_floats(x) * sizeof(float)) : NULL;
        int ok = qb && heap && ids && dist && (x->type != IDX_HNSW || hs) && (x->type != IDX_IVFPQ || ivs);
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
                m = hnsw_search(x, &q, kk, ef, ids, dist, hs);
                for (int i = 0; i < m; i++) heap[i] = (idx_hit){ dist[i], ids[i] };
            } else if (x->type == IDX_IVFPQ) {
                m = x->trained ? ivfpq_search(x, q.raw, kk, nprobe, heap, ivs) : 0;
                idx_hits_sort(heap, m);
                if (refine) { /* exact distances on the kept f32 vectors */
                    for (int i = 0; i < m; i++) {
                        const float *rv = x->refine_vecs + (size_t)heap[i].i * x->dim;
                        heap[i].d = x->metric == IDX_L2 ? x->k->l2sq_f32(q.raw, rv, (size_t)x->dim)
                                                        : -x->k->dot_f32(q.raw, rv, (size_t)x->dim);
                    }
                    idx_hits_sort(heap, m);
                }
            } else {
                m = flat_search(x, &q, kk, heap);
            }
            if (rescore) {
                for (int i = 0; i < m; i++) heap[i].d = idx_rescore_dist(x, q.raw, heap[i].i);
                idx_hits_sort(heap, m);
            }
            for (int i = 0; i < k; i++) {
                out_ids[qi * k + i] = i < m ? x->ids[heap[i].i] : -1;
                out_scores[qi * k + i] = i < m ? (rescore ? -heap[i].d : idx_score(x, heap[i].d)) : NAN;
            }
        }
        free(qb); free(heap); free(ids); free(dist); free(ivs);
        hnsw_scratch_delete(hs);
    }
    if (fail) return snprintf(err, errlen, "out of memory during search"), -1;
    return 0;
}
