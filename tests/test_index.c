/* The vector index: exact search against brute force, HNSW recall bounds a
 * broken graph cannot reach, int8 and binary + rescore, delete/compact, file
 * round trips, and corrupt files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/index.h"
#include "index/kmeans.h"
#include "index/index_internal.h"
#include "tests/fixtures.h"

#if defined(__SANITIZE_ADDRESS__)
#define BIG_N 4000
#else
#define BIG_N 20000
#endif
#define DIM 64
#define NQ 200

static uint64_t rs = 12345;
static double urand(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (rs >> 11) * (1.0 / 9007199254740992.0); }
static double nrand(void) { double u = urand() + 1e-12, v = urand(); return sqrt(-2 * log(u)) * cos(6.283185307 * v); }

/* Clusters of skewed sizes, each spread anisotropically along a few latent
 * directions (real embeddings have low intrinsic dimension), plus a little
 * isotropic noise; normalised. */
static float *clustered(int n, int dim, int n_clusters, uint64_t seed)
{
    enum { LAT = 24 };
    rs = seed;
    float *c = malloc(sizeof(float) * (size_t)n_clusters * dim), *sc = malloc(sizeof(float) * (size_t)n_clusters * LAT);
    float *P = malloc(sizeof(float) * (size_t)dim * LAT);
    for (int i = 0; i < n_clusters * dim; i++) c[i] = (float)nrand();
    for (int i = 0; i < n_clusters * LAT; i++) sc[i] = (float)(0.2 + 1.0 * urand());
    for (int i = 0; i < dim * LAT; i++) P[i] = (float)(nrand() / sqrt(LAT));
    float *v = malloc(sizeof(float) * (size_t)n * dim);
    for (int i = 0; i < n; i++) {
        int k = (int)(n_clusters * pow(urand(), 2.0)); /* skewed sizes */
        float z[LAT];
        for (int j = 0; j < LAT; j++) z[j] = sc[k * LAT + j] * (float)nrand();
        double nn = 0;
        for (int d = 0; d < dim; d++) {
            float x = c[k * dim + d] + 0.1f * (float)nrand();
            for (int j = 0; j < LAT; j++) x += P[d * LAT + j] * z[j];
            v[i * dim + d] = x;
            nn += (double)x * x;
        }
        for (int d = 0; d < dim; d++) v[i * dim + d] /= (float)sqrt(nn);
    }
    free(c); free(sc); free(P);
    return v;
}

/* queries near, not on, data points */
static float *near_queries(const float *data, int n, int nq, int dim)
{
    float *q = malloc(sizeof(float) * (size_t)nq * dim);
    for (int i = 0; i < nq; i++) {
        int src = (int)(urand() * n);
        for (int d = 0; d < dim; d++) q[i * dim + d] = data[src * dim + d] + (float)(0.3 / sqrt(dim) * nrand());
    }
    return q;
}

static void brute(const float *data, int n, const float *q, int nq, int dim, int k, int l2, int64_t *out)
{
    for (int qi = 0; qi < nq; qi++) {
        float *best = malloc(sizeof(float) * (size_t)k);
        for (int j = 0; j < k; j++) { best[j] = INFINITY; out[qi * k + j] = -1; }
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int d = 0; d < dim; d++) {
                double a = q[qi * dim + d], b = data[i * dim + d];
                s += l2 ? (a - b) * (a - b) : -a * b;
            }
            float f = (float)s;
            if (f < best[k - 1]) {
                int j = k - 1;
                while (j > 0 && best[j - 1] > f) { best[j] = best[j - 1]; out[qi * k + j] = out[qi * k + j - 1]; j--; }
                best[j] = f;
                out[qi * k + j] = i;
            }
        }
        free(best);
    }
}

static double recall(const int64_t *got, const int64_t *truth, int nq, int k)
{
    int hit = 0;
    for (int q = 0; q < nq; q++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (got[q * k + i] == truth[q * k + j]) { hit++; break; }
    return (double)hit / (nq * k);
}

static int64_t *seq_ids(int n)
{
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)n);
    for (int i = 0; i < n; i++) ids[i] = i;
    return ids;
}

static emb_index *build_d(idx_type t, idx_metric m, idx_vec v, const float *data, int n, int threads, int rescore, int dim)
{
    char err[256];
    idx_params p = idx_default_params();
    p.rescore = rescore;
    emb_index *x = idx_create(t, m, v, dim, &p, err, sizeof err);
    if (!x) fail_msg("create: %s", err);
    int64_t *ids = seq_ids(n);
    if (idx_add(x, data, ids, NULL, (size_t)n, threads, err, sizeof err) != 0) fail_msg("add: %s", err);
    free(ids);
    return x;
}

static emb_index *build(idx_type t, idx_metric m, idx_vec v, const float *data, int n, int threads, int rescore)
{
    return build_d(t, m, v, data, n, threads, rescore, DIM);
}

static double search_recall(const emb_index *x, const float *q, const int64_t *truth, int k, int ef, int threads)
{
    int64_t *got = malloc(sizeof(int64_t) * NQ * k);
    float *sc = malloc(sizeof(float) * NQ * k);
    idx_search_params sp = idx_default_search_params();
    sp.ef_search = ef;
    char err[256];
    if (idx_search(x, q, NQ, k, &sp, got, sc, threads, err, sizeof err) != 0) fail_msg("search: %s", err);
    double r = recall(got, truth, NQ, k);
    free(got); free(sc);
    return r;
}

static void test_flat_exact(void **s)
{
    (void)s;
    int n = 3000, k = 10;
    float *data = clustered(n, DIM, 20, 1), *q = near_queries(data, n, NQ, DIM);
    int64_t *truth = malloc(sizeof(int64_t) * NQ * k), *got = malloc(sizeof(int64_t) * NQ * k);
    float *sc = malloc(sizeof(float) * NQ * k);
    idx_metric ms[3] = {IDX_IP, IDX_L2, IDX_COSINE};
    for (int mi = 0; mi < 3; mi++) {
        emb_index *x = build(IDX_FLAT, ms[mi], IDX_F32, data, n, 2, 0);
        /* cosine on unit vectors == ip up to the query's norm: same ranking */
        brute(data, n, q, NQ, DIM, k, ms[mi] == IDX_L2, truth);
        assert_int_equal(idx_search(x, q, NQ, k, NULL, got, sc, 2, NULL, 0), 0);
        double r = recall(got, truth, NQ, k);
        if (r < 0.999) fail_msg("flat %s recall %.4f (exact search must be exact)", idx_metric_name(ms[mi]), r);
        for (int i = 0; i + 1 < k; i++) /* best first */
            assert_true(ms[mi] == IDX_L2 ? sc[i] <= sc[i + 1] : sc[i] >= sc[i + 1]);
        idx_free(x);
    }
    free(data); free(q); free(truth); free(got); free(sc);
}

/* Exact Hamming search is exact: ids and distances equal a brute-force scan
 * (ties to the earlier vector), across several query and vector blocks, a
 * code width that is not a multiple of 64 bits, and deleted vectors. */
/* query blocks of the exact search near their cap (510 a thread once rounded
 * past the 512 the buffers hold): a batch answers as its queries one by one */
static void test_flat_block_edges(void **s)
{
    (void)s;
    const int n = 300, nq = 1020, k = 5; /* 2 threads: 510 each */
    float *data = clustered(n, DIM, 10, 9), *q = near_queries(data, n, nq, DIM);
    emb_index *x = build(IDX_FLAT, IDX_IP, IDX_F32, data, n, 1, 0);
    int64_t *all = malloc(sizeof(int64_t) * nq * k), one[5];
    float *sc = malloc(sizeof(float) * nq * k), s1[5];
    char err[256];
    for (int T = 1; T <= 2; T++) {
        int m = T == 1 ? 515 : nq;
        assert_int_equal(idx_search(x, q, (size_t)m, k, NULL, all, sc, T, err, sizeof err), 0);
        for (int i = 0; i < m; i += 7) {
            assert_int_equal(idx_search(x, q + (size_t)i * DIM, 1, k, NULL, one, s1, 1, err, sizeof err), 0);
            for (int j = 0; j < k; j++) assert_float_equal(sc[i * k + j], s1[j], 1e-4);
        }
    }
    idx_free(x);
    free(data); free(q); free(all); free(sc);
}

static void test_flat_binary_exact(void **s)
{
    (void)s;
    const int n = 9001, nq = 130, k = 7, bd = 200, nw = (bd + 63) / 64;
    float *data = clustered(n, bd, 30, 7), *q = near_queries(data, n, nq, bd);
    emb_index *x = build_d(IDX_FLAT, IDX_HAMMING, IDX_BIN, data, n, 1, 0, bd);
    for (int64_t id = 5; id < n; id += 97) assert_int_equal(idx_delete(x, id, NULL, 0), 0);
    uint64_t *bits = calloc((size_t)(n + nq) * nw, 8);
    for (int i = 0; i < n + nq; i++)
        for (int d = 0; d < bd; d++)
            if ((i < n ? data[(size_t)i * bd + d] : q[(size_t)(i - n) * bd + d]) > 0) bits[(size_t)i * nw + d / 64] |= 1ull << (d % 64);
    int64_t *got = malloc(sizeof(int64_t) * nq * k);
    float *sc = malloc(sizeof(float) * nq * k);
    for (int threads = 1; threads <= 2; threads++) {
        assert_int_equal(idx_search(x, q, (size_t)nq, k, NULL, got, sc, threads, NULL, 0), 0);
        for (int qi = 0; qi < nq; qi++) {
            int64_t best_id[7];
            int best_d[7], nb = 0;
            for (int i = 0; i < n; i++) {
                if (i >= 5 && (i - 5) % 97 == 0) continue;
                int d = 0;
                for (int w = 0; w < nw; w++) d += __builtin_popcountll(bits[(size_t)i * nw + w] ^ bits[(size_t)(n + qi) * nw + w]);
                int pos = nb < k ? nb++ : k;
                while (pos > 0 && best_d[pos - 1] > d) { if (pos < k) { best_d[pos] = best_d[pos - 1]; best_id[pos] = best_id[pos - 1]; } pos--; }
                if (pos < k) { best_d[pos] = d; best_id[pos] = i; }
            }
            for (int j = 0; j < k; j++)
                if (got[qi * k + j] != best_id[j] || sc[qi * k + j] != (float)best_d[j])
                    fail_msg("query %d hit %d: id %lld dist %g, want id %lld dist %d", qi, j, (long long)got[qi * k + j],
                             sc[qi * k + j], (long long)best_id[j], best_d[j]);
        }
    }
    idx_free(x);
    free(data); free(q); free(bits); free(got); free(sc);
}

static void test_hnsw_recall(void **s)
{
    (void)s;
    int n = BIG_N, k = 10;
    float *data = clustered(n, DIM, 50, 2), *q = near_queries(data, n, NQ, DIM);
    int64_t *truth = malloc(sizeof(int64_t) * NQ * k);
    brute(data, n, q, NQ, DIM, k, 0, truth);
    emb_index *x1 = build(IDX_HNSW, IDX_COSINE, IDX_F32, data, n, 1, 0);
    emb_index *x2 = build(IDX_HNSW, IDX_COSINE, IDX_F32, data, n, 2, 0);
    double r1 = search_recall(x1, q, truth, k, 64, 2), r2 = search_recall(x2, q, truth, k, 64, 2);
    double r_low = search_recall(x1, q, truth, k, 10, 1);
    printf("hnsw f32 n=%d: recall@10 ef64 %.4f (1-thread build) %.4f (2-thread build), ef10 %.4f\n", n, r1, r2, r_low);
    assert_true(r1 >= 0.95);
    assert_true(r2 >= 0.95);
    assert_true(fabs(r1 - r2) < 0.02);
    assert_true(r_low <= r1 + 1e-9); /* a wider beam never hurts */
    /* int8 and binary over the same data, against the exact f32 truth */
    emb_index *xi = build(IDX_HNSW, IDX_COSINE, IDX_I8, data, n, 2, 0);
    double ri = search_recall(xi, q, truth, k, 64, 2);
    /* binary codes need width: 384 bits, as a MiniLM embedding has */
    const int BD = 384;
    float *bdata = clustered(n, BD, 50, 5);
    float *bq = near_queries(bdata, n, NQ, BD);
    int64_t *btruth = malloc(sizeof(int64_t) * NQ * k);
    brute(bdata, n, bq, NQ, BD, k, 0, btruth);
    emb_index *xb = build_d(IDX_FLAT, IDX_HAMMING, IDX_BIN, bdata, n, 2, 0, BD);
    emb_index *xr = build_d(IDX_FLAT, IDX_HAMMING, IDX_BIN, bdata, n, 2, 1, BD);
    emb_index *xh = build_d(IDX_HNSW, IDX_HAMMING, IDX_BIN, bdata, n, 2, 1, BD);
    double rb = search_recall(xb, bq, btruth, k, 0, 2), rr = search_recall(xr, bq, btruth, k, 0, 2);
    double rh = search_recall(xh, bq, btruth, k, 64, 2);
    printf("int8 hnsw %.4f; dim %d: binary flat %.4f, binary flat + int8 rescore %.4f, binary hnsw + rescore %.4f\n", ri, BD, rb, rr, rh);
    assert_true(ri >= 0.9);
    assert_true(rr >= 0.9 && rr > rb);
    assert_true(rh >= 0.8);
    free(bdata); free(bq); free(btruth);
    idx_free(x1); idx_free(x2); idx_free(xi); idx_free(xb); idx_free(xr); idx_free(xh);
    free(data); free(q); free(truth);
}

static double recall_upper(const emb_index *x, const float *q, const int64_t *truth, int k, int ef, int ef_upper, int *lost)
{
    int64_t *got = malloc(sizeof(int64_t) * NQ * k);
    float *sc = malloc(sizeof(float) * NQ * k);
    idx_search_params sp = idx_default_search_params();
    sp.ef_search = ef;
    sp.ef_upper = ef_upper;
    char err[256];
    if (idx_search(x, q, NQ, k, &sp, got, sc, 2, err, sizeof err) != 0) fail_msg("search: %s", err);
    double r = recall(got, truth, NQ, k);
    *lost = 0; /* queries that found none of their k */
    for (int i = 0; i < NQ; i++) *lost += recall(got + (size_t)i * k, truth + (size_t)i * k, 1, k) == 0;
    free(got); free(sc);
    return r;
}

/* The beam on layer 1 that seeds layer 0 (ef_upper): on well separated
 * clusters a greedy descent can end in the wrong one and find none of the
 * k; the beam must not lose what greedy finds, may be wider than ef, and a
 * bad value is refused. */
static void test_hnsw_upper_beam(void **s)
{
    (void)s;
    int n = 20000, k = 10, lost1, lost8, lost64;
    const int D = 384; /* cluster centres nearly orthogonal, as in the 200k bench */
    float *data = clustered(n, D, 1000, 11), *q = near_queries(data, n, NQ, D);
    int64_t *truth = malloc(sizeof(int64_t) * NQ * k);
    brute(data, n, q, NQ, D, k, 0, truth);
    /* a sparse graph (M 8, ef_construction 40) over 1000 small clusters:
     * the descent's dead ends show at this size (at 200k x 384 with M 16
     * they cost 5% of the queries) */
    idx_params p = idx_default_params();
    p.M = 8;
    p.ef_construction = 40;
    char err[256];
    emb_index *x = idx_create(IDX_HNSW, IDX_IP, IDX_F32, D, &p, err, sizeof err);
    int64_t *ids = seq_ids(n);
    assert_int_equal(idx_add(x, data, ids, NULL, (size_t)n, 1, err, sizeof err), 0);
    free(ids);
    double g = recall_upper(x, q, truth, k, 10, 1, &lost1), b = recall_upper(x, q, truth, k, 10, 8, &lost8);
    double w = recall_upper(x, q, truth, k, 10, 64, &lost64); /* wider than ef */
    printf("hnsw n=%d, ef 10: recall@10 greedy descent %.4f (%d queries found none), layer-1 beam 8 %.4f (%d), 64 %.4f (%d)\n",
           n, g, lost1, b, lost8, w, lost64);
    assert_true(lost1 > 0);           /* the data shows the failure ... */
    assert_true(lost8 < lost1 && b > g); /* ... which the beam reduces */
    assert_true(lost64 <= lost8 && w >= b - 0.005);
    idx_search_params sp = idx_default_search_params();
    sp.ef_upper = -1;
    int64_t id;
    float sc;
    assert_int_equal(idx_search(x, q, 1, 1, &sp, &id, &sc, 1, err, sizeof err), IDX_ERR_ARG);
    assert_non_null(strstr(err, "ef_upper"));
    idx_free(x);
    free(data); free(q); free(truth);
}

/* int8 + refine: the graph of the f32 vectors, walked on int8 codes, hits
 * re-ranked on f32 copies: recall of the f32 graph, exact scores. */
static void test_hnsw_int8_refine(void **s)
{
    (void)s;
    int n = BIG_N, k = 10;
    char err[256];
    float *data = clustered(n, DIM, 50, 2), *q = near_queries(data, n, NQ, DIM);
    int64_t *truth = malloc(sizeof(int64_t) * NQ * k), *ids = seq_ids(n);
    brute(data, n, q, NQ, DIM, k, 0, truth);
    idx_params p = idx_default_params();
    p.refine = 1;
    emb_index *xr = idx_create(IDX_HNSW, IDX_COSINE, IDX_I8, DIM, &p, err, sizeof err);
    assert_non_null(xr);
    assert_int_equal(idx_add(xr, data, ids, NULL, (size_t)n / 2, 2, err, sizeof err), 0);
    assert_int_equal(idx_add(xr, data + (size_t)n / 2 * DIM, ids + n / 2, NULL, (size_t)n - n / 2, 2, err, sizeof err), 0);
    emb_index *xi = build(IDX_HNSW, IDX_COSINE, IDX_I8, data, n, 2, 0);
    double rr = search_recall(xr, q, truth, k, 64, 2), ri = search_recall(xi, q, truth, k, 64, 2);
    printf("hnsw int8 n=%d ef64: recall@10 %.4f, with f32 refine %.4f\n", n, ri, rr);
    assert_true(rr >= 0.95);
    assert_true(rr >= ri - 0.005);
    idx_info in;
    idx_get_info(xr, &in);
    assert_int_equal(in.refine, 1);
    assert_true(in.bytes_per_vector >= (size_t)DIM * 5);
    /* scores are exact cosines of the f32 vectors */
    int64_t got[10];
    float sc[10];
    for (int qi = 0; qi < 20; qi++) {
        assert_int_equal(idx_search(xr, q + qi * DIM, 1, k, NULL, got, sc, 1, err, sizeof err), 0);
        double qn = 0;
        for (int d = 0; d < DIM; d++) qn += (double)q[qi * DIM + d] * q[qi * DIM + d];
        for (int j = 0; j < k; j++) {
            double dot = 0;
            for (int d = 0; d < DIM; d++) dot += (double)q[qi * DIM + d] * data[got[j] * DIM + d];
            assert_float_equal(sc[j], dot / sqrt(qn), 1e-5);
            if (j) assert_true(sc[j] <= sc[j - 1]);
        }
    }
    /* the same from the mapped file; delete and compact keep the copies aligned */
    char path[512];
    snprintf(path, sizeof path, "%s/hnsw_refine.emb", test_tmpdir());
    assert_int_equal(idx_save(xr, path, err, sizeof err), 0);
    emb_index *xo = idx_open(path, err, sizeof err);
    assert_non_null(xo);
    assert_float_equal(search_recall(xo, q, truth, k, 64, 2), rr, 1e-12);
    for (int i = 0; i < n; i += 3) assert_int_equal(idx_delete(xo, i, NULL, 0), 0);
    assert_int_equal(idx_compact(xo, 2, err, sizeof err), 0);
    for (int qi = 0; qi < 20; qi++) {
        assert_int_equal(idx_search(xo, q + qi * DIM, 1, k, NULL, got, sc, 1, err, sizeof err), 0);
        double qn = 0;
        for (int d = 0; d < DIM; d++) qn += (double)q[qi * DIM + d] * q[qi * DIM + d];
        for (int j = 0; j < k; j++) {
            assert_true(got[j] % 3 != 0);
            double dot = 0;
            for (int d = 0; d < DIM; d++) dot += (double)q[qi * DIM + d] * data[got[j] * DIM + d];
            assert_float_equal(sc[j], dot / sqrt(qn), 1e-5);
        }
    }
    remove(path);
    /* L2: exact squared distances */
    emb_index *xl = idx_create(IDX_HNSW, IDX_L2, IDX_I8, DIM, &p, err, sizeof err);
    assert_int_equal(idx_add(xl, data, ids, NULL, 2000, 1, err, sizeof err), 0);
    assert_int_equal(idx_search(xl, q, 1, k, NULL, got, sc, 1, err, sizeof err), 0);
    for (int j = 0; j < k; j++) {
        double l2 = 0;
        for (int d = 0; d < DIM; d++) l2 += ((double)q[d] - data[got[j] * DIM + d]) * ((double)q[d] - data[got[j] * DIM + d]);
        assert_float_equal(sc[j], l2, 1e-4);
    }
    /* refine only where it re-ranks approximate distances */
    assert_null(idx_create(IDX_HNSW, IDX_IP, IDX_F32, DIM, &p, err, sizeof err));
    assert_non_null(strstr(err, "refine"));
    assert_null(idx_create(IDX_FLAT, IDX_IP, IDX_I8, DIM, &p, err, sizeof err));
    idx_free(xr); idx_free(xi); idx_free(xo); idx_free(xl);
    free(data); free(q); free(truth); free(ids);
}

static void test_delete_compact_texts(void **s)
{
    (void)s;
    int n = 2000, k = 10;
    float *data = clustered(n, DIM, 10, 3), *q = near_queries(data, n, NQ, DIM);
    for (int t = IDX_FLAT; t <= IDX_HNSW; t++) {
        char err[256];
        emb_index *x = idx_create((idx_type)t, IDX_IP, IDX_F32, DIM, NULL, err, sizeof err);
        int64_t *ids = malloc(sizeof(int64_t) * n);
        const char **texts = malloc(sizeof(char *) * n);
        char (*tb)[32] = malloc(32 * (size_t)n);
        for (int i = 0; i < n; i++) { ids[i] = 1000000000000LL + i; snprintf(tb[i], 32, "doc %d", i); texts[i] = i % 7 ? tb[i] : NULL; }
        assert_int_equal(idx_add(x, data, ids, texts, (size_t)n / 2, 2, err, sizeof err), 0);
        assert_int_equal(idx_add(x, data + (size_t)n / 2 * DIM, ids + n / 2, texts + n / 2, (size_t)n / 2, 2, err, sizeof err), 0);
        for (int i = 0; i < n; i += 3) assert_int_equal(idx_delete(x, ids[i], NULL, 0), 0);
        assert_int_equal(idx_delete(x, ids[0], err, sizeof err), IDX_ERR_ARG); /* already gone */
        assert_non_null(strstr(err, "no vector with id 1000000000000"));
        assert_int_equal(idx_delete(x, 42, NULL, 0), IDX_ERR_ARG);
        int64_t *got = malloc(sizeof(int64_t) * NQ * k);
        float *sc = malloc(sizeof(float) * NQ * k);
        for (int round = 0; round < 2; round++) {
            assert_int_equal(idx_search(x, q, NQ, k, NULL, got, sc, 2, err, sizeof err), 0);
            int found = 0;
            for (int i = 0; i < NQ * k; i++) {
                assert_true(got[i] >= 1000000000000LL);
                assert_true((got[i] - 1000000000000LL) % 3 != 0); /* deleted never returned */
                found += got[i] >= 0;
            }
            assert_true(found > NQ * k * 9 / 10);
            idx_info info;
            idx_get_info(x, &info);
            assert_int_equal(info.count, (size_t)(n - (n + 2) / 3));
            if (round == 0) {
                assert_int_equal(idx_compact(x, 2, err, sizeof err), 0);
                idx_get_info(x, &info);
                assert_int_equal(info.deleted, 0);
            }
        }
        size_t len;
        const char *txt = idx_text(x, ids[5], &len);
        assert_non_null(txt);
        assert_int_equal(len, 5);
        assert_memory_equal(txt, "doc 5", 5);
        assert_null(idx_text(x, ids[7], &len)); /* stored without text */
        assert_null(idx_text(x, ids[3], &len)); /* deleted */
        free(ids); free(texts); free(tb); free(got); free(sc);
        idx_free(x);
    }
    free(data); free(q);
}

static void spit(const char *p, const char *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
}

static void test_file_round_trip_and_corruption(void **s)
{
    (void)s;
    int n = 1500, k = 10;
    float *data = clustered(n, DIM, 10, 4), *q = near_queries(data, n, NQ, DIM);
    struct { idx_type t; idx_metric m; idx_vec v; int rescore; } kinds[] = {
        {IDX_FLAT, IDX_IP, IDX_F32, 0}, {IDX_HNSW, IDX_COSINE, IDX_F32, 0}, {IDX_HNSW, IDX_L2, IDX_I8, 0},
        {IDX_FLAT, IDX_HAMMING, IDX_BIN, 1}, {IDX_HNSW, IDX_HAMMING, IDX_BIN, 0}, {IDX_IVFPQ, IDX_L2, IDX_F32, 0},
    };
    char path[512], bad[512], err[256];
    snprintf(path, sizeof path, "%s/idx.emb", test_tmpdir());
    snprintf(bad, sizeof bad, "%s/bad.emb", test_tmpdir());
    int64_t *a = malloc(sizeof(int64_t) * NQ * k), *b = malloc(sizeof(int64_t) * NQ * k);
    float *sa = malloc(sizeof(float) * NQ * k), *sb = malloc(sizeof(float) * NQ * k);
    for (size_t c = 0; c < sizeof kinds / sizeof kinds[0]; c++) {
        emb_index *x = build(kinds[c].t, kinds[c].m, kinds[c].v, data, n, 2, kinds[c].rescore);
        idx_delete(x, 17, NULL, 0);
        idx_set_meta(x, "model=test dim=64");
        assert_int_equal(idx_save(x, path, err, sizeof err), 0);
        emb_index *y = idx_open(path, err, sizeof err);
        if (!y) fail_msg("open: %s", err);
        assert_string_equal(idx_meta(y), "model=test dim=64");
        assert_int_equal(idx_search(x, q, NQ, k, NULL, a, sa, 1, err, sizeof err), 0);
        assert_int_equal(idx_search(y, q, NQ, k, NULL, b, sb, 2, err, sizeof err), 0);
        assert_memory_equal(a, b, sizeof(int64_t) * NQ * k); /* mmapped == in memory */
        /* add to an opened index (copied into memory first), then save again */
        int64_t nid = 99999;
        assert_int_equal(idx_add(y, q, &nid, NULL, 1, 1, err, sizeof err), 0);
        assert_int_equal(idx_search(y, q, 1, 1, NULL, b, sb, 1, err, sizeof err), 0);
        assert_int_equal(b[0], 99999);
        idx_free(y);
        idx_free(x);

        size_t len;
        char *img = test_slurp(path, &len);
        /* flip one byte at many places: every one is caught (header or section checksum) */
        int caught = 0, tried = 0;
        for (size_t off = 0; off < len; off += len / 97 + 1) {
            img[off] ^= 0x5a;
            spit(bad, img, len);
            img[off] ^= 0x5a;
            emb_index *z = idx_open(bad, err, sizeof err);
            tried++;
            if (z) { idx_free(z); continue; } /* padding bytes carry no meaning */
            caught++;
        }
        assert_true(caught > tried * 8 / 10);
        /* truncation anywhere */
        for (size_t l = 0; l < len; l += len / 61 + 1) {
            spit(bad, img, l);
            emb_index *z = idx_open(bad, err, sizeof err);
            if (z) fail_msg("truncated to %zu of %zu bytes but opened", l, len);
        }
        free(img);
    }
    /* specific messages */
    size_t len;
    char *img = test_slurp(path, &len);
    memcpy(img, "NOTANIDX", 8);
    spit(bad, img, len);
    assert_null(idx_open(bad, err, sizeof err));
    assert_non_null(strstr(err, "bad magic"));
    free(img);
    img = test_slurp(path, &len);
    img[len - 1] ^= 1; /* last section's data */
    spit(bad, img, len);
    assert_null(idx_open(bad, err, sizeof err));
    assert_non_null(strstr(err, "checksum"));
    free(img);
    /* header fields with a valid header checksum: version, dimension, count */
    struct { size_t off; uint32_t val; const char *want; } edits[] = {
        {8, 2, "version"},          /* version */
        {28, 1u << 30, "dimension"}, /* dim */
        {32, 0xffffffffu, "count"},  /* low word of the vector count */
    };
    for (int e = 0; e < 3; e++) {
        img = test_slurp(path, &len);
        memcpy(img + edits[e].off, &edits[e].val, 4);
        if (edits[e].off == 32) { uint32_t hi = 0xffff; memcpy(img + 36, &hi, 4); }
        uint32_t crc = idx_crc32(0, img, 124);
        memcpy(img + 124, &crc, 4);
        spit(bad, img, len);
        assert_null(idx_open(bad, err, sizeof err));
        if (!strstr(err, edits[e].want)) fail_msg("edit %d: '%s' lacks '%s'", e, err, edits[e].want);
        free(img);
    }
    assert_null(idx_open("/nonexistent.emb", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
    free(a); free(b); free(sa); free(sb); free(data); free(q);
}

/* CRC-32 as zlib computes it: the check value, every split point (the
 * 8-byte steps and the byte tail), and chaining. */
/* The per-vector arrays of an index in memory start on a cache line (the
 * AVX-512 distances read whole lines of each row): after the first add,
 * after growing past the first capacity, and after a mapped file was copied
 * into memory to change it. */
static void test_memory_arrays_aligned(void **s)
{
    (void)s;
    int n = 3000;
    char err[256], path[] = "/tmp/ember_align_XXXXXX";
    float *data = clustered(n, DIM, 20, 1);
    emb_index *x = build(IDX_HNSW, IDX_IP, IDX_I8, data, 10, 1, 1);
    assert_int_equal((uintptr_t)x->codes % 64, 0);
    assert_int_equal((uintptr_t)x->rescore % 64, 0);
    int64_t *ids = seq_ids(n);
    for (int i = 0; i < n; i++) ids[i] += 10;
    assert_int_equal(idx_add(x, data + 10 * DIM, ids, NULL, (size_t)n - 10, 1, err, sizeof err), 0); /* past 1024 */
    assert_int_equal((uintptr_t)x->codes % 64, 0);
    assert_int_equal((uintptr_t)x->links0 % 64, 0);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(idx_save(x, path, err, sizeof err), 0);
    idx_free(x);
    x = idx_open(path, err, sizeof err);
    assert_non_null(x);
    assert_int_equal(idx_delete(x, 5, err, sizeof err), 0); /* copies the mapping into memory */
    assert_null(x->map);
    assert_int_equal((uintptr_t)x->codes % 64, 0);
    assert_int_equal((uintptr_t)x->rescore % 64, 0);
    idx_free(x);
    unlink(path);
    free(ids); free(data);
}

static void test_crc32(void **s)
{
    (void)s;
    assert_int_equal(idx_crc32(0, "123456789", 9), 0xcbf43926u);
    assert_int_equal(idx_crc32(0, "", 0), 0);
    unsigned char buf[100];
    for (int i = 0; i < 100; i++) buf[i] = (unsigned char)(i * 37 + 11);
    uint32_t whole = idx_crc32(0, buf, 100);
    /* bitwise reference */
    uint32_t c = ~0u;
    for (int i = 0; i < 100; i++) {
        c ^= buf[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    assert_int_equal(whole, ~c);
    for (int cut = 0; cut <= 100; cut++) assert_int_equal(idx_crc32(idx_crc32(0, buf, (size_t)cut), buf + cut, (size_t)(100 - cut)), whole);
}

/* A file whose checksums are all right but whose graph points outside the
 * index (a buggy or hostile writer) is refused on open, naming the link. */
static void test_file_bad_link(void **s)
{
    (void)s;
    char err[256], path[4096], bad[4096];
    int n = 300;
    float *data = clustered(n, DIM, 5, 11);
    emb_index *x = build(IDX_HNSW, IDX_IP, IDX_F32, data, n, 1, 0);
    snprintf(path, sizeof path, "%s/links.emb", test_tmpdir());
    snprintf(bad, sizeof bad, "%s/links-bad.emb", test_tmpdir());
    assert_int_equal(idx_save(x, path, err, sizeof err), 0);
    idx_free(x);
    size_t len;
    char *img = test_slurp(path, &len);
    uint32_t nsec;
    memcpy(&nsec, img + 68, 4); /* header: magic 8, six u32, two u64, then M, ef_c, rescore, max_level, entry, n_sections */
    int found = 0;
    for (uint32_t i = 0; i < nsec && i < 64; i++) {
        /* section table entry: kind, reserved, offset (8), size (8), crc, pad */
        char *e = img + 128 + 32 * (size_t)i;
        uint32_t kind;
        uint64_t off, size;
        memcpy(&kind, e, 4);
        memcpy(&off, e + 8, 8);
        memcpy(&size, e + 16, 8);
        if (kind != 10) continue; /* layer-0 links: count, then neighbours, per vector */
        assert_true(off + size <= len && size >= 8);
        uint32_t cnt, far = (uint32_t)n + 7;
        memcpy(&cnt, img + off, 4);
        assert_true(cnt >= 1);
        memcpy(img + off + 4, &far, 4); /* vector 0's first neighbour */
        uint32_t crc = idx_crc32(0, img + off, size);
        memcpy(e + 24, &crc, 4);
        found = 1;
    }
    assert_true(found);
    spit(bad, img, len);
    assert_null(idx_open(bad, err, sizeof err));
    if (!strstr(err, "links to")) fail_msg("unexpected message: %s", err);
    free(img); free(data);
}

/* nlist 64; 16 x 8-bit or 32 x 4-bit codes (16 bytes either way); trained
 * on the first half, then the rest added */
static emb_index *build_ivf(const float *data, int n, idx_metric metric, int pq_bits, int refine, int threads)
{
    char err[256];
    idx_params p = idx_default_params();
    p.nlist = 64;
    p.pq_bits = pq_bits;
    p.pq_m = pq_bits == 8 ? 16 : 32;
    p.refine = refine;
    emb_index *x = idx_create(IDX_IVFPQ, metric, IDX_F32, DIM, &p, err, sizeof err);
    if (!x) fail_msg("create: %s", err);
    int64_t *ids = seq_ids(n);
    if (idx_add(x, data, ids, NULL, (size_t)n / 2, threads, err, sizeof err) != 0) fail_msg("add: %s", err);
    if (idx_add(x, data + (size_t)n / 2 * DIM, ids + n / 2, NULL, (size_t)(n - n / 2), threads, err, sizeof err) != 0) fail_msg("add: %s", err);
    free(ids);
    return x;
}

static void test_ivfpq(void **s)
{
    (void)s;
    int n = BIG_N / 2, k = 10;
    float *data = clustered(n, DIM, 50, 6), *q = near_queries(data, n, NQ, DIM);
    int64_t *truth = malloc(sizeof(int64_t) * NQ * k);
    brute(data, n, q, NQ, DIM, k, 0, truth);
    emb_index *x = build_ivf(data, n, IDX_COSINE, 8, 0, 2), *xr = build_ivf(data, n, IDX_COSINE, 8, 1, 1);
    int64_t *a = malloc(sizeof(int64_t) * NQ * k), *b = malloc(sizeof(int64_t) * NQ * k);
    float *sa = malloc(sizeof(float) * NQ * k), *sb = malloc(sizeof(float) * NQ * k);
    idx_search_params sp = idx_default_search_params();
    char err[256];
    double r_probe[3];
    int probes[3] = {1, 16, 64};
    for (int i = 0; i < 3; i++) {
        sp.nprobe = probes[i];
        assert_int_equal(idx_search(x, q, NQ, k, &sp, a, sa, 2, err, sizeof err), 0);
        r_probe[i] = recall(a, truth, NQ, k);
    }
    sp.nprobe = 16;
    assert_int_equal(idx_search(xr, q, NQ, k, &sp, b, sb, 2, err, sizeof err), 0);
    double rr = recall(b, truth, NQ, k);
    printf("ivfpq n=%d nlist 64, 16 x 8-bit codes: recall@10 nprobe 1 %.3f, 16 %.3f, 64 %.3f; nprobe 16 + refine %.3f\n",
           n, r_probe[0], r_probe[1], r_probe[2], rr);
    assert_true(r_probe[1] >= 0.6);
    assert_true(rr >= 0.9);
    assert_true(r_probe[0] < r_probe[2] + 1e-9);
    /* same answers on 1 and 2 threads; the same index built on 1 thread is identical */
    assert_int_equal(idx_search(x, q, NQ, k, &sp, b, sb, 1, err, sizeof err), 0);
    assert_int_equal(idx_search(x, q, NQ, k, &sp, a, sa, 2, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof(int64_t) * NQ * k);
    emb_index *x1 = build_ivf(data, n, IDX_COSINE, 8, 0, 1);
    assert_int_equal(idx_search(x1, q, NQ, k, &sp, b, sb, 2, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof(int64_t) * NQ * k);
    /* delete, save, open */
    for (int i = 0; i < n; i += 5) idx_delete(xr, i, NULL, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/ivf.emb", test_tmpdir());
    assert_int_equal(idx_save(xr, path, err, sizeof err), 0);
    emb_index *y = idx_open(path, err, sizeof err);
    if (!y) fail_msg("open: %s", err);
    assert_int_equal(idx_search(xr, q, NQ, k, &sp, a, sa, 2, err, sizeof err), 0);
    assert_int_equal(idx_search(y, q, NQ, k, &sp, b, sb, 2, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof(int64_t) * NQ * k);
    for (int i = 0; i < NQ * k; i++) assert_true(a[i] % 5 != 0);
    /* too few vectors to train */
    idx_params p = idx_default_params();
    emb_index *t = idx_create(IDX_IVFPQ, IDX_L2, IDX_F32, DIM, &p, err, sizeof err);
    int64_t id = 0;
    assert_int_equal(idx_add(t, data, &id, NULL, 1, 1, err, sizeof err), IDX_ERR_ARG);
    assert_non_null(strstr(err, "at least"));
    p.pq_m = 7;
    assert_null(idx_create(IDX_IVFPQ, IDX_L2, IDX_F32, DIM, &p, err, sizeof err));
    assert_non_null(strstr(err, "divide"));
    idx_free(t); idx_free(y); idx_free(x); idx_free(x1); idx_free(xr);
    free(a); free(b); free(sa); free(sb); free(data); free(q); free(truth);
}

/* 4-bit PQ scanned by the fast-scan kernel: the hits it ranks are those of
 * an exact scan of the same codes (byte tables cost only rounding), scores
 * within the rounding bound, recall bounds, threads, files, refusals. */
static void test_ivfpq4(void **s)
{
    (void)s;
    int n = BIG_N / 2, k = 10;
    float *data = clustered(n, DIM, 50, 6), *q = near_queries(data, n, NQ, DIM);
    int64_t *truth = malloc(sizeof(int64_t) * NQ * k), *a = malloc(sizeof(int64_t) * NQ * k), *b = malloc(sizeof(int64_t) * NQ * k);
    float *sa = malloc(sizeof(float) * NQ * k), *sb = malloc(sizeof(float) * NQ * k);
    brute(data, n, q, NQ, DIM, k, 0, truth);
    emb_index *x = build_ivf(data, n, IDX_IP, 4, 0, 2), *xr = build_ivf(data, n, IDX_IP, 4, 1, 2);
    idx_info in;
    idx_get_info(x, &in);
    assert_int_equal(in.pq_bits, 4);
    assert_int_equal(in.bytes_per_vector, 16 + 8);
    char err[256];
    idx_search_params sp = idx_default_search_params();
    sp.nprobe = 64; /* every list: the exact scan below sees the same candidates */
    assert_int_equal(idx_search(x, q, NQ, k, &sp, a, sa, 2, err, sizeof err), 0);
    /* exact inner products with the decoded PQ vectors (centroid + codewords) */
    const int m = 32, ds = DIM / m;
    float *dec = malloc(sizeof(float) * (size_t)n * DIM), *ex = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            int c = (x->codes[(size_t)i * 16 + j / 2] >> (4 * (j & 1))) & 15;
            for (int t = 0; t < ds; t++)
                dec[(size_t)i * DIM + j * ds + t] = x->centroids[(size_t)x->list_of[i] * DIM + j * ds + t] + x->pq[((size_t)j * 16 + c) * ds + t];
        }
    double agree = 0;
    for (int qi = 0; qi < NQ; qi++) {
        const float *qv = q + (size_t)qi * DIM;
        /* rounding bound: half a step of the widest sub-space table per sub-space */
        float width = 0;
        for (int j = 0; j < m; j++) {
            float lo = INFINITY, hi = -INFINITY;
            for (int c = 0; c < 16; c++) {
                float v = 0;
                for (int t = 0; t < ds; t++) v += qv[j * ds + t] * x->pq[((size_t)j * 16 + c) * ds + t];
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            if (hi - lo > width) width = hi - lo;
        }
        float bound = m * 0.5f * width / 255 + 1e-5f;
        for (int i = 0; i < n; i++) {
            float v = 0;
            for (int d = 0; d < DIM; d++) v += qv[d] * dec[(size_t)i * DIM + d];
            ex[i] = v;
        }
        for (int h = 0; h < k; h++) {
            int64_t id = a[qi * k + h];
            if (fabsf(sa[qi * k + h] - ex[id]) > bound)
                fail_msg("query %d hit %d: fast-scan score %g, exact PQ score %g (bound %g)", qi, h, sa[qi * k + h], ex[id], bound);
        }
        /* the exact top 10 of the decoded vectors, by selection */
        for (int h = 0; h < k; h++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                int taken = 0;
                for (int g = 0; g < h; g++) taken |= b[qi * k + g] == i;
                if (!taken && (best < 0 || ex[i] > ex[best])) best = i;
            }
            b[qi * k + h] = best;
        }
    }
    agree = recall(a, b, NQ, k);
    double r16, rr, rl2;
    sp.nprobe = 16;
    assert_int_equal(idx_search(x, q, NQ, k, &sp, a, sa, 2, err, sizeof err), 0);
    r16 = recall(a, truth, NQ, k);
    assert_int_equal(idx_search(xr, q, NQ, k, &sp, b, sb, 2, err, sizeof err), 0);
    rr = recall(b, truth, NQ, k);
    emb_index *xl = build_ivf(data, n, IDX_L2, 4, 0, 2); /* L2: a table per list */
    int64_t *tl2 = malloc(sizeof(int64_t) * NQ * k);
    brute(data, n, q, NQ, DIM, k, 1, tl2);
    assert_int_equal(idx_search(xl, q, NQ, k, &sp, b, sb, 1, err, sizeof err), 0);
    rl2 = recall(b, tl2, NQ, k);
    printf("ivfpq n=%d nlist 64, 32 x 4-bit codes: top 10 of an exact scan of the codes found %.3f; recall@10 nprobe 16 %.3f (l2 %.3f), + refine %.3f\n",
           n, agree, r16, rl2, rr);
    assert_true(agree >= 0.95);
    assert_true(r16 >= 0.6);
    assert_true(rl2 >= 0.6);
    assert_true(rr >= 0.9);
    /* 1 and 2 threads alike; delete, save, open alike */
    assert_int_equal(idx_search(x, q, NQ, k, &sp, b, sb, 1, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof(int64_t) * NQ * k);
    for (int i = 0; i < n; i += 7) idx_delete(x, i, NULL, 0);
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/ivf4.emb", test_tmpdir());
    snprintf(bad, sizeof bad, "%s/ivf4bad.emb", test_tmpdir());
    assert_int_equal(idx_save(x, path, err, sizeof err), 0);
    emb_index *y = idx_open(path, err, sizeof err);
    if (!y) fail_msg("open: %s", err);
    idx_get_info(y, &in);
    assert_int_equal(in.pq_bits, 4);
    assert_int_equal(idx_search(x, q, NQ, k, &sp, a, sa, 2, err, sizeof err), 0);
    assert_int_equal(idx_search(y, q, NQ, k, &sp, b, sb, 2, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof(int64_t) * NQ * k);
    for (int i = 0; i < NQ * k; i++) assert_true(a[i] % 7 != 0);
    /* compact keeps the answers */
    assert_int_equal(idx_compact(y, 2, err, sizeof err), 0);
    assert_int_equal(idx_search(y, q, NQ, k, &sp, b, sb, 2, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof(int64_t) * NQ * k);
    idx_free(y);
    /* a header claiming 5-bit codes (checksum made valid) is refused by name */
    size_t len;
    char *img = test_slurp(path, &len);
    uint32_t five = 5;
    memcpy(img + 100, &five, 4);
    uint32_t crc = idx_crc32(0, img, 124);
    memcpy(img + 124, &crc, 4);
    spit(bad, img, len);
    assert_null(idx_open(bad, err, sizeof err));
    if (!strstr(err, "pq_bits 5")) fail_msg("unexpected message: %s", err);
    free(img);
    /* refusals */
    idx_params p = idx_default_params();
    p.pq_bits = 4;
    p.pq_m = 1; /* odd: two codes share a byte */
    assert_null(idx_create(IDX_IVFPQ, IDX_L2, IDX_F32, DIM, &p, err, sizeof err));
    assert_non_null(strstr(err, "even"));
    p.pq_m = 0;
    p.pq_bits = 5;
    assert_null(idx_create(IDX_IVFPQ, IDX_L2, IDX_F32, DIM, &p, err, sizeof err));
    assert_non_null(strstr(err, "8 or 4"));
    idx_free(x); idx_free(xr); idx_free(xl);
    free(a); free(b); free(sa); free(sb); free(data); free(q); free(truth); free(tl2); free(dec); free(ex);
}

static void test_kmeans(void **s)
{
    (void)s;
    int n = 5000, k = 32;
    float *data = clustered(n, DIM, 20, 7);
    float *c1 = malloc(sizeof(float) * k * DIM), *c2 = malloc(sizeof(float) * k * DIM);
    double o1 = kmeans_train(data, (size_t)n, DIM, DIM, k, 10, 9, 1, c1, NULL, NULL);
    double o2 = kmeans_train(data, (size_t)n, DIM, DIM, k, 10, 9, 2, c2, NULL, NULL);
    assert_memory_equal(c1, c2, sizeof(float) * k * DIM); /* deterministic for a seed */
    double o0 = kmeans_train(data, (size_t)n, DIM, DIM, k, 0, 9, 1, c2, NULL, NULL); /* init only */
    double oi = kmeans_train(data, (size_t)n, DIM, DIM, k, 1, 9, 1, c2, NULL, NULL);
    printf("kmeans objective: 1 iteration %.5f, 10 iterations %.5f\n", oi, o1);
    assert_true(o1 <= oi + 1e-9 && o1 == o2);
    (void)o0;
    assert_true(kmeans_train(data, 3, DIM, DIM, 4, 5, 1, 1, c2, NULL, NULL) < 0); /* more clusters than points */
    free(data); free(c1); free(c2);
}

static void test_bad_arguments(void **s)
{
    (void)s;
    char err[256];
    assert_null(idx_create(IDX_FLAT, IDX_HAMMING, IDX_F32, 8, NULL, err, sizeof err));
    assert_non_null(strstr(err, "hamming"));
    assert_null(idx_create(IDX_FLAT, IDX_IP, IDX_F32, 0, NULL, err, sizeof err));
    assert_null(idx_create(IDX_FLAT, IDX_IP, IDX_F32, 1 << 20, NULL, err, sizeof err));
    idx_params p = idx_default_params();
    p.M = 1;
    assert_null(idx_create(IDX_HNSW, IDX_IP, IDX_F32, 8, &p, err, sizeof err));
    emb_index *x = idx_create(IDX_HNSW, IDX_L2, IDX_F32, 4, NULL, err, sizeof err);
    float v[4] = {1, NAN, 0, 0};
    int64_t id = 1, out;
    float sc;
    assert_int_equal(idx_add(x, v, &id, NULL, 1, 1, err, sizeof err), IDX_ERR_ARG);
    assert_non_null(strstr(err, "non-finite"));
    /* a non-finite query is refused (it would reach float-to-int conversions) */
    assert_int_equal(idx_search(x, v, 1, 1, NULL, &out, &sc, 1, err, sizeof err), IDX_ERR_ARG);
    assert_non_null(strstr(err, "query 0 has a non-finite component"));
    v[1] = 0;
    assert_int_equal(idx_search(x, v, 1, 1, NULL, &out, &sc, 1, err, sizeof err), 0); /* empty index */
    assert_int_equal(out, -1);
    assert_int_equal(idx_search(x, v, 1, 0, NULL, &out, &sc, 1, err, sizeof err), IDX_ERR_ARG);
    idx_type t; idx_metric m; idx_vec vv;
    assert_int_equal(idx_parse_names("annoy", NULL, NULL, &t, &m, &vv, err, sizeof err), IDX_ERR_ARG);
    assert_non_null(strstr(err, "unknown index type"));
    idx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_exact),
        cmocka_unit_test(test_memory_arrays_aligned),
        cmocka_unit_test(test_flat_block_edges),
        cmocka_unit_test(test_flat_binary_exact),
        cmocka_unit_test(test_hnsw_recall),
        cmocka_unit_test(test_hnsw_upper_beam),
        cmocka_unit_test(test_hnsw_int8_refine),
        cmocka_unit_test(test_delete_compact_texts),
        cmocka_unit_test(test_file_round_trip_and_corruption),
        cmocka_unit_test(test_file_bad_link),
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_ivfpq),
        cmocka_unit_test(test_ivfpq4),
        cmocka_unit_test(test_kmeans),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
