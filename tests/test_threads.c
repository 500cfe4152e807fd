/* Sharing across threads, as ember.h promises it: one model used by four
 * threads through four contexts (each itself running OpenMP threads), and
 * one mapped index searched by four threads at once while nothing writes
 * it.  Every thread's answers must equal the serial ones bit for bit (the
 * kernels' results do not depend on the thread count).  `make tsan` runs
 * this suite, like the others, under ThreadSanitizer. */
#include "ember.h"
#include "tests/fixtures.h"
#include "tests/synth_model.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define N_WORKERS 4
#define ROUNDS 3

static const char *const TEXTS[] = {
    "the cat sat on the mat", "a dog ran in the park", "hello world", "",
    "quick brown fox jumps over the lazy dog and keeps running far away", "x y z",
};
#define N_TEXTS (int)(sizeof TEXTS / sizeof TEXTS[0])

/* ---- one model, four contexts ------------------------------------------ */

typedef struct {
    const ember_model *m;
    int dim, rank;
    /* N_TEXTS x dim embeddings (or N_TEXTS logits) of the serial run, one
     * text a call and all in one call: the two shapes may round apart */
    const float *want_one, *want_all;
    int mismatches;
    char err[256];
} model_job;

/* Each worker makes its own context (two OpenMP threads inside) and runs
 * the whole batch ROUNDS times, one text at a time and all at once. */
static void *model_worker(void *arg)
{
    model_job *j = arg;
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 2;
    ember_ctx *c = ember_ctx_create(j->m, &p, j->err, sizeof j->err);
    if (!c) return NULL;
    const size_t per = j->rank ? 1 : (size_t)j->dim;
    float *got = malloc(sizeof(float) * N_TEXTS * per);
    for (int r = 0; r < ROUNDS && got; r++) {
        ember_status s = EMBER_OK;
        if (j->rank) s = ember_rerank(c, "the cat", 7, TEXTS, NULL, N_TEXTS, got);
        else if (r % 2) s = ember_embed(c, TEXTS, NULL, N_TEXTS, 0, got);
        else
            for (int i = 0; i < N_TEXTS && s == EMBER_OK; i++) s = ember_embed(c, TEXTS + i, NULL, 1, 0, got + (size_t)i * per);
        if (s != EMBER_OK) { snprintf(j->err, sizeof j->err, "%s", ember_ctx_error(c)); break; }
        const float *want = j->rank || r % 2 ? j->want_all : j->want_one;
        if (memcmp(got, want, sizeof(float) * N_TEXTS * per) != 0) j->mismatches++;
    }
    free(got);
    ember_ctx_free(c);
    return NULL;
}

static void run_shared_model(int rank)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/threads-%s.gguf", test_tmpdir(), rank ? "rank" : "embed");
    synth_opts o = synth_defaults();
    o.rank = rank;
    assert_int_equal(synth_bert_write(path, &o), 0);
    ember_model *m = ember_model_load(path, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    /* the serial answer, from one context on one thread */
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 1;
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    assert_non_null(c);
    const size_t per = rank ? 1 : (size_t)info.dim;
    float *want_all = malloc(sizeof(float) * N_TEXTS * per), *want_one = malloc(sizeof(float) * N_TEXTS * per);
    if (rank) assert_int_equal(ember_rerank(c, "the cat", 7, TEXTS, NULL, N_TEXTS, want_all), EMBER_OK);
    else {
        assert_int_equal(ember_embed(c, TEXTS, NULL, N_TEXTS, 0, want_all), EMBER_OK);
        for (int i = 0; i < N_TEXTS; i++) assert_int_equal(ember_embed(c, TEXTS + i, NULL, 1, 0, want_one + (size_t)i * per), EMBER_OK);
    }
    ember_ctx_free(c);

    model_job jobs[N_WORKERS];
    pthread_t th[N_WORKERS];
    for (int t = 0; t < N_WORKERS; t++) {
        jobs[t] = (model_job){.m = m, .dim = info.dim, .rank = rank, .want_one = want_one, .want_all = want_all};
        assert_int_equal(pthread_create(&th[t], NULL, model_worker, &jobs[t]), 0);
    }
    for (int t = 0; t < N_WORKERS; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < N_WORKERS; t++) {
        if (jobs[t].err[0]) fail_msg("worker %d: %s", t, jobs[t].err);
        if (jobs[t].mismatches) fail_msg("worker %d: %d of %d rounds differ from the serial answer", t, jobs[t].mismatches, ROUNDS);
    }
    free(want_all);
    free(want_one);
    ember_model_free(m);
}

static void test_model_shared_embed(void **s) { (void)s; run_shared_model(0); }
static void test_model_shared_rerank(void **s) { (void)s; run_shared_model(1); }

/* ---- one mapped index, four searching threads --------------------------- */

#define DIM 48
#define NV 2000
#define NQ 40
#define K 10

static uint64_t rs = 7;
static float urand(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (float)((rs >> 11) * (1.0 / 9007199254740992.0)); }

typedef struct {
    const ember_index *x;
    const ember_search_params *sp;
    const float *q;
    /* the serial answers, queries one a call and all in one call */
    const int64_t *want_ids[2];
    const float *want_scores[2];
    int n_threads, mismatches, fails;
    char err[256];
} search_job;

/* Queries one at a time and all at once, ROUNDS times each. */
static void *search_worker(void *arg)
{
    search_job *j = arg;
    int64_t ids[NQ * K];
    float sc[NQ * K];
    for (int r = 0; r < ROUNDS; r++) {
        ember_status s = EMBER_OK;
        if (r % 2) s = ember_index_search(j->x, j->q, NQ, K, j->sp, ids, sc, j->n_threads, j->err, sizeof j->err);
        else
            for (int i = 0; i < NQ && s == EMBER_OK; i++)
                s = ember_index_search(j->x, j->q + (size_t)i * DIM, 1, K, j->sp, ids + i * K, sc + i * K, 1, j->err, sizeof j->err);
        if (s != EMBER_OK) { j->fails++; break; }
        /* scores compared as bits: NAN pads equal themselves */
        if (memcmp(ids, j->want_ids[r % 2], sizeof ids) || memcmp(sc, j->want_scores[r % 2], sizeof sc)) j->mismatches++;
    }
    return NULL;
}

static void search_shared(ember_index_type type, ember_store store, ember_metric metric, const ember_index_params *ip,
                          const char *tag)
{
    char err[256], path[4096];
    float *v = malloc(sizeof(float) * NV * DIM), *q = malloc(sizeof(float) * NQ * DIM);
    int64_t *ids = malloc(sizeof(int64_t) * NV);
    for (int i = 0; i < NV * DIM; i++) v[i] = urand() * 2 - 1;
    for (int i = 0; i < NQ * DIM; i++) q[i] = urand() * 2 - 1;
    for (int i = 0; i < NV; i++) ids[i] = 5000 + i;
    ember_index *w = ember_index_create(type, metric, store, DIM, ip, err, sizeof err);
    if (!w) fail_msg("%s: %s", tag, err);
    if (ember_index_add(w, v, ids, NULL, NV, 2) != EMBER_OK) fail_msg("%s: add: %s", tag, ember_index_error(w));
    snprintf(path, sizeof path, "%s/threads-%s.emb", test_tmpdir(), tag);
    assert_int_equal(ember_index_save(w, path), EMBER_OK);
    ember_index_free(w);
    ember_index *x = ember_index_open(path, err, sizeof err);
    if (!x) fail_msg("%s: open: %s", tag, err);

    ember_search_params sp = ember_search_default_params();
    int64_t want_ids[2][NQ * K];
    float want_sc[2][NQ * K];
    for (int i = 0; i < NQ; i++)
        assert_int_equal(ember_index_search(x, q + (size_t)i * DIM, 1, K, &sp, want_ids[0] + i * K, want_sc[0] + i * K, 1, err, sizeof err), EMBER_OK);
    assert_int_equal(ember_index_search(x, q, NQ, K, &sp, want_ids[1], want_sc[1], 1, err, sizeof err), EMBER_OK);
    assert_true(want_ids[0][0] >= 5000 && want_ids[1][0] >= 5000);
    search_job jobs[N_WORKERS];
    pthread_t th[N_WORKERS];
    for (int t = 0; t < N_WORKERS; t++) {
        /* two of the four also split their batch over OpenMP threads */
        jobs[t] = (search_job){.x = x, .sp = &sp, .q = q, .want_ids = {want_ids[0], want_ids[1]}, .want_scores = {want_sc[0], want_sc[1]}, .n_threads = 1 + t % 2};
        assert_int_equal(pthread_create(&th[t], NULL, search_worker, &jobs[t]), 0);
    }
    for (int t = 0; t < N_WORKERS; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < N_WORKERS; t++) {
        if (jobs[t].fails) fail_msg("%s: worker %d: %s", tag, t, jobs[t].err);
        if (jobs[t].mismatches) fail_msg("%s: worker %d: %d of %d rounds differ from the serial answer", tag, t, jobs[t].mismatches, ROUNDS);
    }
    ember_index_free(x);
    free(v); free(q); free(ids);
}

static void test_index_shared_search(void **s)
{
    (void)s;
    ember_index_params p = ember_index_default_params();
    search_shared(EMBER_INDEX_FLAT, EMBER_STORE_F32, EMBER_METRIC_COSINE, &p, "flat-f32");
    search_shared(EMBER_INDEX_FLAT, EMBER_STORE_INT8, EMBER_METRIC_L2, &p, "flat-int8");
    p.rescore = 1;
    search_shared(EMBER_INDEX_FLAT, EMBER_STORE_BINARY, EMBER_METRIC_HAMMING, &p, "flat-binary-rescore");
    p = ember_index_default_params();
    p.M = 8;
    p.ef_construction = 40;
    search_shared(EMBER_INDEX_HNSW, EMBER_STORE_F32, EMBER_METRIC_IP, &p, "hnsw-f32");
    p.refine = 1;
    search_shared(EMBER_INDEX_HNSW, EMBER_STORE_INT8, EMBER_METRIC_COSINE, &p, "hnsw-int8-refine");
    p = ember_index_default_params();
    p.nlist = 16;
    p.pq_m = 12;
    p.refine = 1;
    search_shared(EMBER_INDEX_IVFPQ, EMBER_STORE_F32, EMBER_METRIC_L2, &p, "ivfpq8-refine");
    p.pq_bits = 4;
    search_shared(EMBER_INDEX_IVFPQ, EMBER_STORE_F32, EMBER_METRIC_IP, &p, "ivfpq4-refine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_shared_embed),
        cmocka_unit_test(test_model_shared_rerank),
        cmocka_unit_test(test_index_shared_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
