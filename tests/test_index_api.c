/* The index through the public header only: create, train, add, search,
 * delete, compact, save, open, info, texts, and the errors a caller sees. */
#include "ember.h"
#include "tests/fixtures.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define DIM 32
#define N 3000

static uint64_t rs = 99;
static float urand(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (float)((rs >> 11) * (1.0 / 9007199254740992.0)); }

/* clustered unit vectors */
static float *vectors(int n)
{
    float *c = malloc(sizeof(float) * 20 * DIM), *v = malloc(sizeof(float) * (size_t)n * DIM);
    for (int i = 0; i < 20 * DIM; i++) c[i] = urand() * 2 - 1;
    for (int i = 0; i < n; i++) {
        int k = (int)(urand() * 20) % 20;
        float nn = 0;
        for (int d = 0; d < DIM; d++) {
            v[(size_t)i * DIM + d] = c[k * DIM + d] + 0.3f * (urand() * 2 - 1);
            nn += v[(size_t)i * DIM + d] * v[(size_t)i * DIM + d];
        }
        for (int d = 0; d < DIM; d++) v[(size_t)i * DIM + d] /= sqrtf(nn);
    }
    free(c);
    return v;
}

static void test_lifecycle(void **s)
{
    (void)s;
    char err[256], path[4096];
    float *v = vectors(N);
    int64_t *ids = malloc(sizeof(int64_t) * N);
    char **texts = malloc(sizeof(char *) * N);
    for (int i = 0; i < N; i++) {
        ids[i] = 1000000000000LL + i; /* 64-bit ids */
        texts[i] = malloc(32);
        snprintf(texts[i], 32, "doc %d", i);
    }
    ember_index *x = ember_index_create(EMBER_INDEX_HNSW, EMBER_METRIC_COSINE, EMBER_STORE_F32, DIM, NULL, err, sizeof err);
    assert_non_null(x);
    /* one thread: the graph, hence every answer below, is deterministic */
    assert_int_equal(ember_index_add(x, v, ids, (const char *const *)texts, N, 1), EMBER_OK);
    int64_t got[5];
    float sc[5];
    /* every vector finds itself first */
    for (int i = 0; i < N; i += 97) {
        assert_int_equal(ember_index_search(x, v + (size_t)i * DIM, 1, 5, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
        if (got[0] != ids[i]) fail_msg("vector %d: first hit %lld (score %g), itself expected", i, (long long)got[0], sc[0]);
        assert_true(fabsf(sc[0] - 1.0f) < 1e-4f && sc[0] >= sc[1]);
    }
    size_t len;
    const char *t = ember_index_text(x, ids[7], &len);
    assert_non_null(t);
    assert_true(len == 5 && memcmp(t, "doc 7", 5) == 0);
    /* delete: never returned again; deleting twice is an error with a message */
    assert_int_equal(ember_index_delete(x, ids[7]), EMBER_OK);
    assert_int_equal(ember_index_delete(x, ids[7]), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_index_error(x), "no vector"));
    assert_int_equal(ember_index_search(x, v + 7 * DIM, 1, 5, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
    for (int j = 0; j < 5; j++) assert_true(got[j] != ids[7]);
    ember_index_info info;
    ember_index_get_info(x, &info);
    assert_int_equal(info.count, N - 1);
    assert_int_equal(info.deleted, 1);
    assert_int_equal(info.store, EMBER_STORE_F32);
    assert_int_equal(ember_index_compact(x, 2), EMBER_OK);
    ember_index_get_info(x, &info);
    assert_int_equal(info.deleted, 0);
    /* save, open mapped, same answers */
    snprintf(path, sizeof path, "%s/api.emb", test_tmpdir());
    assert_int_equal(ember_index_save(x, path), EMBER_OK);
    ember_index *y = ember_index_open(path, err, sizeof err);
    assert_non_null(y);
    ember_index_get_info(y, &info);
    assert_true(info.mapped && info.count == N - 1 && info.dim == DIM);
    int64_t a[50], b[50];
    float sa[50], sb[50];
    assert_int_equal(ember_index_search(x, v, 5, 10, NULL, a, sa, 1, err, sizeof err), EMBER_OK);
    assert_int_equal(ember_index_search(y, v, 5, 10, NULL, b, sb, 1, err, sizeof err), EMBER_OK);
    assert_memory_equal(a, b, sizeof a);
    /* zeroed search parameters mean the defaults (ef_upper 0: 8); the
     * greedy descent (ef_upper 1) still finds each vector itself */
    ember_search_params z;
    memset(&z, 0, sizeof z);
    assert_int_equal(ember_index_search(y, v, 5, 10, &z, b, sb, 1, err, sizeof err), EMBER_OK);
    assert_memory_equal(a, b, sizeof a);
    z.ef_upper = 1;
    assert_int_equal(ember_index_search(y, v, 5, 10, &z, b, sb, 1, err, sizeof err), EMBER_OK);
    for (int i = 0; i < 5; i++) assert_true(b[i * 10] == a[i * 10]);
    z.ef_upper = -3;
    assert_int_equal(ember_index_search(y, v, 5, 10, &z, b, sb, 1, err, sizeof err), EMBER_ERR_ARG);
    assert_non_null(strstr(err, "ef_upper"));
    ember_index_free(x);
    ember_index_free(y);
    for (int i = 0; i < N; i++) free(texts[i]);
    free(texts); free(ids); free(v);
}

/* 8-bit and 4-bit codes alike through the public API */
static void test_ivfpq_train_then_add(void **s)
{
    (void)s;
    for (int bits = 8; bits >= 4; bits -= 4) {
    char err[256];
    float *v = vectors(N);
    int64_t *ids = malloc(sizeof(int64_t) * N);
    for (int i = 0; i < N; i++) ids[i] = i;
    ember_index_params p = ember_index_default_params();
    p.nlist = 16;
    p.pq_m = 8;
    p.pq_bits = bits;
    p.refine = 1;
    ember_index *x = ember_index_create(EMBER_INDEX_IVFPQ, EMBER_METRIC_IP, EMBER_STORE_F32, DIM, &p, err, sizeof err);
    assert_non_null(x);
    /* too few to train 256 codewords: refused with the reason */
    assert_int_equal(ember_index_train(x, v, 100, 1), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_index_error(x), "at least"));
    assert_int_equal(ember_index_train(x, v, N, 2), EMBER_OK);
    /* searching a trained, empty index: nothing, padded */
    int64_t got[10];
    float sc[10];
    assert_int_equal(ember_index_search(x, v, 1, 10, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
    assert_true(got[0] == -1 && isnan(sc[0]));
    /* then add in two batches */
    assert_int_equal(ember_index_add(x, v, ids, NULL, N / 2, 1), EMBER_OK);
    assert_int_equal(ember_index_add(x, v + (size_t)(N / 2) * DIM, ids + N / 2, NULL, N - N / 2, 1), EMBER_OK);
    assert_int_equal(ember_index_train(x, v, N, 1), EMBER_ERR_ARG); /* training is fixed now */
    ember_search_params sp = ember_search_default_params();
    sp.nprobe = 16;
    /* 16 codewords per 4 random dims are coarse: 4-bit codes need more
     * candidates for the refine to see the vector itself (40: 51 of 60) */
    sp.refine_factor = bits == 4 ? 10 : 4;
    int hits = 0;
    for (int i = 0; i < N; i += 50) {
        assert_int_equal(ember_index_search(x, v + (size_t)i * DIM, 1, 10, &sp, got, sc, 1, err, sizeof err), EMBER_OK);
        hits += got[0] == i;
    }
    assert_true(hits >= 55); /* of 60: refine makes the vector itself come first */
    ember_index_info info;
    ember_index_get_info(x, &info);
    assert_int_equal(info.bytes_per_vector, (size_t)(8 * bits / 8 + 8 + DIM * 4));
    ember_index_free(x);
    free(ids); free(v);
    }
}

/* An int8 or IVF-PQ index saved before its first vector is trained by the
 * first add after it is opened again (its file holds zeros for training). */
static void test_saved_before_training(void **s)
{
    (void)s;
    char err[256], path[4096];
    float *v = vectors(N);
    int64_t *ids = malloc(sizeof(int64_t) * N);
    for (int i = 0; i < N; i++) ids[i] = i;
    for (int kind = 0; kind < 2; kind++) {
        ember_index_params p = ember_index_default_params();
        p.nlist = 16;
        ember_index *x = kind ? ember_index_create(EMBER_INDEX_IVFPQ, EMBER_METRIC_L2, EMBER_STORE_F32, DIM, &p, err, sizeof err)
                              : ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_L2, EMBER_STORE_INT8, DIM, &p, err, sizeof err);
        assert_non_null(x);
        snprintf(path, sizeof path, "%s/untrained%d.emb", test_tmpdir(), kind);
        assert_int_equal(ember_index_save(x, path), EMBER_OK);
        ember_index_free(x);
        x = ember_index_open(path, err, sizeof err);
        if (!x) fail_msg("%s", err);
        assert_int_equal(ember_index_add(x, v, ids, NULL, N, 1), EMBER_OK);
        int64_t got[10];
        float sc[10];
        int self = 0;
        ember_search_params sp = ember_search_default_params();
        sp.nprobe = 16;
        for (int i = 0; i < N; i += 100) {
            assert_int_equal(ember_index_search(x, v + (size_t)i * DIM, 1, 10, &sp, got, sc, 1, err, sizeof err), EMBER_OK);
            for (int j = 0; j < 10; j++) self += got[j] == i;
        }
        if (self < 27) fail_msg("%s: %d of 30 vectors find themselves", kind ? "ivfpq" : "int8", self);
        ember_index_free(x);
    }
    free(v);
    free(ids);
}

/* Ids are unique and 0 .. 2^63-1: a batch with a negative id, an id twice
 * or an id already held is refused whole; upsert replaces (texts follow). */
static int count_id(const int64_t *got, int k, int64_t id)
{
    int c = 0;
    for (int j = 0; j < k; j++) c += got[j] == id;
    return c;
}

static void test_unique_ids(void **s)
{
    (void)s;
    char err[256], path[4096];
    for (int t = EMBER_INDEX_FLAT; t <= EMBER_INDEX_HNSW; t++) {
        ember_index *x = ember_index_create((ember_index_type)t, EMBER_METRIC_L2, EMBER_STORE_F32, 4, NULL, err, sizeof err);
        assert_non_null(x);
        float v[6 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0};
        int64_t ids[3] = {1, 2, 3};
        const char *texts[3] = {"one", "two", "three"};
        assert_int_equal(ember_index_add(x, v, ids, texts, 3, 1), EMBER_OK);
        ember_index_info info;
        /* an id already held: refused, the old text kept */
        int64_t again[1] = {3};
        const char *t3[1] = {"three again"};
        assert_int_equal(ember_index_add(x, v + 12, again, t3, 1, 1), EMBER_ERR_ARG);
        assert_non_null(strstr(ember_index_error(x), "id 3 is already in the index"));
        size_t len;
        const char *txt = ember_index_text(x, 3, &len);
        assert_true(txt && len == 5 && !memcmp(txt, "three", 5));
        /* twice in one batch, or one held among new ones: nothing of the batch is added */
        int64_t twice[3] = {4, 5, 4}, mixed[2] = {6, 2};
        assert_int_equal(ember_index_add(x, v, twice, NULL, 3, 1), EMBER_ERR_ARG);
        assert_non_null(strstr(ember_index_error(x), "id 4 appears more than once"));
        assert_int_equal(ember_index_add(x, v + 16, mixed, NULL, 2, 1), EMBER_ERR_ARG);
        assert_non_null(strstr(ember_index_error(x), "id 2 is already"));
        ember_index_get_info(x, &info);
        assert_int_equal(info.count, 3);
        assert_null(ember_index_text(x, 6, &len));
        /* negative ids: -1 pads results, so no negative id is an id */
        int64_t neg[2] = {7, -1}, minv[1] = {INT64_MIN}, maxv[1] = {INT64_MAX};
        assert_int_equal(ember_index_add(x, v, neg, NULL, 2, 1), EMBER_ERR_ARG);
        assert_non_null(strstr(ember_index_error(x), "id -1 (vector 1) is negative"));
        assert_int_equal(ember_index_add(x, v, minv, NULL, 1, 1), EMBER_ERR_ARG);
        /* the whole positive range, kept exactly through a file */
        const char *tmax[1] = {"max"};
        assert_int_equal(ember_index_add(x, v + 20, maxv, tmax, 1, 1), EMBER_OK);
        snprintf(path, sizeof path, "%s/ids%d.emb", test_tmpdir(), t);
        assert_int_equal(ember_index_save(x, path), EMBER_OK);
        ember_index_free(x);
        x = ember_index_open(path, err, sizeof err);
        assert_non_null(x);
        int64_t got[6];
        float sc[6];
        assert_int_equal(ember_index_search(x, v + 20, 1, 6, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
        assert_true(got[0] == INT64_MAX && sc[0] == 0);
        assert_true(got[4] == -1 && isnan(sc[4])); /* 4 vectors: padded after them */
        /* the opened (mapped) index knows its ids too */
        assert_int_equal(ember_index_add(x, v, maxv, NULL, 1, 1), EMBER_ERR_ARG);
        assert_non_null(strstr(ember_index_error(x), "9223372036854775807 is already"));
        /* upsert: 2 replaced (its text follows), 8 added; twice in a batch still refused */
        int64_t up[2] = {2, 8}, uptwice[2] = {8, 8};
        const char *tup[2] = {"two v2", "eight"};
        assert_int_equal(ember_index_upsert(x, v + 16, uptwice, NULL, 2, 1), EMBER_ERR_ARG);
        assert_int_equal(ember_index_upsert(x, v + 16, up, tup, 2, 1), EMBER_OK);
        ember_index_get_info(x, &info);
        assert_int_equal(info.count, 5);
        assert_int_equal(info.deleted, 1);
        txt = ember_index_text(x, 2, &len);
        assert_true(txt && len == 6 && !memcmp(txt, "two v2", 6));
        /* searched by its old vector or its new one, id 2 comes back once, as the new vector */
        for (int qv = 0; qv < 2; qv++) {
            assert_int_equal(ember_index_search(x, qv ? v + 16 : v + 4, 1, 6, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
            assert_int_equal(count_id(got, 6, 2), 1);
            if (qv) assert_true(got[0] == 2 && sc[0] == 0);
            else assert_true(got[0] != 2);
        }
        /* a deleted id may be used again */
        assert_int_equal(ember_index_delete(x, 1), EMBER_OK);
        int64_t one[1] = {1};
        assert_int_equal(ember_index_add(x, v, one, NULL, 1, 1), EMBER_OK);
        ember_index_free(x);
    }
}

/* Progress: each long phase reports from the calling thread, from 0 to its
 * total, at a bounded rate; nothing is printed by the library. */
typedef struct { char phase[8][16]; size_t first[8], last[8], total[8], calls[8]; int n, other_thread, backwards; pthread_t self; } progress_log;

static void log_progress(void *user, const char *phase, size_t done, size_t total)
{
    progress_log *l = user;
    if (!pthread_equal(pthread_self(), l->self)) l->other_thread = 1;
    if (l->n == 0 || strcmp(l->phase[l->n - 1], phase)) {
        assert_true(l->n < 8);
        snprintf(l->phase[l->n], 16, "%s", phase);
        l->first[l->n] = done;
        l->calls[l->n] = 0;
        l->n++;
    } else if (done < l->last[l->n - 1]) l->backwards = 1;
    l->last[l->n - 1] = done;
    l->total[l->n - 1] = total;
    l->calls[l->n - 1]++;
}

static void check_phase(const progress_log *l, int i, const char *phase, size_t total, double seconds)
{
    if (i >= l->n || strcmp(l->phase[i], phase)) fail_msg("phase %d is '%s', not '%s'", i, i < l->n ? l->phase[i] : "(none)", phase);
    assert_int_equal(l->first[i], 0);
    assert_int_equal(l->last[i], l->total[i]);
    if (total) assert_int_equal(l->total[i], total);
    /* at most every 100 ms, plus the first and the last call */
    if ((double)l->calls[i] > seconds / 0.1 + 3) fail_msg("%s: %zu calls in %.2f s", phase, l->calls[i], seconds);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_progress(void **s)
{
    (void)s;
    char err[256], path[4096];
    float *v = vectors(N);
    int64_t *ids = malloc(sizeof(int64_t) * N);
    for (int i = 0; i < N; i++) ids[i] = i;
    for (int threads = 1; threads <= 2; threads++) {
        progress_log l = { .n = 0 };
        l.self = pthread_self();
        ember_index *x = ember_index_create(EMBER_INDEX_HNSW, EMBER_METRIC_COSINE, EMBER_STORE_F32, DIM, NULL, err, sizeof err);
        ember_index_set_progress(x, log_progress, &l);
        double t0 = seconds_now();
        assert_int_equal(ember_index_add(x, v, ids, NULL, N, threads), EMBER_OK);
        snprintf(path, sizeof path, "%s/progress.emb", test_tmpdir());
        assert_int_equal(ember_index_save(x, path), EMBER_OK);
        double t1 = seconds_now();
        check_phase(&l, 0, "link", N, t1 - t0);
        check_phase(&l, 1, "write", 0, t1 - t0);
        assert_int_equal(l.n, 2);
        assert_false(l.other_thread);
        assert_false(l.backwards);
        /* and no callback once it is cleared */
        ember_index_set_progress(x, NULL, NULL);
        int64_t more = N;
        assert_int_equal(ember_index_add(x, v, &more, NULL, 1, threads), EMBER_OK);
        assert_int_equal(l.n, 2);
        ember_index_free(x);
    }
    /* IVF-PQ: the k-means iterations (coarse, then each codebook), then the codes */
    progress_log l = { .n = 0 };
    l.self = pthread_self();
    ember_index_params p = ember_index_default_params();
    p.nlist = 16;
    p.pq_m = 4;
    ember_index *x = ember_index_create(EMBER_INDEX_IVFPQ, EMBER_METRIC_L2, EMBER_STORE_F32, DIM, &p, err, sizeof err);
    ember_index_set_progress(x, log_progress, &l);
    double t0 = seconds_now();
    assert_int_equal(ember_index_add(x, v, ids, NULL, N, 2), EMBER_OK);
    double t1 = seconds_now();
    check_phase(&l, 0, "train", 12 * (1 + 4), t1 - t0);
    check_phase(&l, 1, "encode", N, t1 - t0);
    assert_false(l.other_thread);
    ember_index_free(x);
    free(v);
    free(ids);
}

/* ASan and TSan keep shadow memory: an address-space limit cannot work under either */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SHADOW_MEMORY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SHADOW_MEMORY 1
#endif
#endif

#ifndef UNDER_SHADOW_MEMORY
/* Bytes of address space this process holds (/proc/self/statm), 0 if unknown. */
static size_t address_space(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

/* Out of memory, reached with an address-space limit (the code base has no
 * allocation-failure hook): the status says so where the allocation failed
 * (delete said "no vector with id"), nothing changes, and the index works
 * on once memory is back. */
static void test_out_of_memory(void **s)
{
    (void)s;
#ifdef UNDER_SHADOW_MEMORY
    fprintf(stderr, "SKIP: an address-space limit cannot work under a sanitizer's shadow memory\n");
    skip();
#else
    enum { D = 128, NV = 65536 }; /* 32 MB of vectors, and a full array: one more doubles it */
    char err[256], path[4096];
    snprintf(path, sizeof path, "%s/big.emb", test_tmpdir());
    float *v = malloc(sizeof(float) * (size_t)NV * D);
    int64_t *ids = malloc(sizeof(int64_t) * NV);
    for (size_t i = 0; i < (size_t)NV * D; i++) v[i] = urand();
    for (int i = 0; i < NV; i++) ids[i] = i;
    ember_index *x = ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_L2, EMBER_STORE_F32, D, NULL, err, sizeof err);
    assert_int_equal(ember_index_add(x, v, ids, NULL, NV, 1), EMBER_OK);
    assert_int_equal(ember_index_save(x, path), EMBER_OK);
    ember_index *y = ember_index_open(path, err, sizeof err);
    assert_non_null(y);
    int64_t more[1] = {NV}, got[3];
    float sc[3];
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = address_space() + ((size_t)16 << 20); /* less than a copy of either index */
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
    void *(*volatile alloc)(size_t) = malloc; /* a call the compiler cannot elide */
    void *probe = alloc((size_t)48 << 20);
    if (probe) { /* qemu-user accepts the limit and does not apply it */
        free(probe);
        assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
        ember_index_free(x);
        ember_index_free(y);
        free(v);
        free(ids);
        fprintf(stderr, "SKIP: the address-space limit is not enforced here\n");
        skip();
        return;
    }
    ember_status del = ember_index_delete(y, 5);
    char del_msg[256];
    snprintf(del_msg, sizeof del_msg, "%s", ember_index_error(y));
    ember_status add_mapped = ember_index_add(y, v, more, NULL, 1, 1);
    ember_status compact = ember_index_compact(y, 1);
    ember_status grow = ember_index_add(x, v, more, NULL, 1, 1); /* in memory: growing it doubles the arrays */
    char grow_msg[256];
    snprintf(grow_msg, sizeof grow_msg, "%s", ember_index_error(x));
    assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
    if (del != EMBER_ERR_NOMEM) fail_msg("delete under the limit: status %d, '%s'", del, del_msg);
    assert_non_null(strstr(del_msg, "out of memory"));
    assert_int_equal(add_mapped, EMBER_ERR_NOMEM);
    assert_int_equal(compact, EMBER_ERR_NOMEM);
    if (grow != EMBER_ERR_NOMEM) fail_msg("add under the limit: status %d, '%s'", grow, grow_msg);
    assert_non_null(strstr(grow_msg, "out of memory"));
    /* nothing changed: counts, the mapping, what search finds */
    ember_index_info info;
    ember_index_get_info(y, &info);
    assert_true(info.count == NV && info.deleted == 0 && info.mapped);
    ember_index_get_info(x, &info);
    assert_int_equal(info.count, NV);
    assert_null(ember_index_text(x, NV, &(size_t){0}));
    assert_int_equal(ember_index_search(y, v + 5 * D, 1, 3, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
    assert_int_equal(got[0], 5);
    /* and with memory back, the same calls succeed */
    assert_int_equal(ember_index_delete(y, 5), EMBER_OK);
    assert_int_equal(ember_index_add(y, v, more, NULL, 1, 1), EMBER_OK);
    assert_int_equal(ember_index_add(x, v, more, NULL, 1, 1), EMBER_OK);
    ember_index_free(x);
    ember_index_free(y);
    free(v);
    free(ids);
#endif
}

/* A compact that runs out of memory after moving the vectors (rebuilding
 * the id table and the graph over them) keeps every vector, refuses every
 * other call while the structures are incomplete (a search or save then
 * would lose or misplace data without a word), and is finished by the next
 * compact once memory is back. */
static void test_compact_out_of_memory(void **s)
{
    (void)s;
#ifdef UNDER_SHADOW_MEMORY
    fprintf(stderr, "SKIP: an address-space limit cannot work under a sanitizer's shadow memory\n");
    skip();
#else
    enum { D = 16, NV = 40000 };
    char err[256], path[4096];
    snprintf(path, sizeof path, "%s/unbuilt.emb", test_tmpdir());
    float *v = malloc(sizeof(float) * (size_t)NV * D);
    int64_t *ids = malloc(sizeof(int64_t) * NV);
    for (size_t i = 0; i < (size_t)NV * D; i++) v[i] = urand();
    for (int i = 0; i < NV; i++) ids[i] = i;
    ember_index_params ip = ember_index_default_params();
    ip.M = 8;
    ip.ef_construction = 16;
    ember_index *x = ember_index_create(EMBER_INDEX_HNSW, EMBER_METRIC_L2, EMBER_STORE_F32, D, &ip, err, sizeof err);
    assert_non_null(x);
    assert_int_equal(ember_index_add(x, v, ids, NULL, NV, 1), EMBER_OK);
    for (int i = 0; i < 10; i++) assert_int_equal(ember_index_delete(x, i), EMBER_OK);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = address_space() + ((size_t)64 << 10); /* less than the new id table */
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
    void *(*volatile alloc)(size_t) = malloc;
    void *probe = alloc((size_t)1 << 20);
    if (probe) {
        free(probe);
        assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
        ember_index_free(x);
        free(v);
        free(ids);
        fprintf(stderr, "SKIP: the address-space limit is not enforced here\n");
        skip();
        return;
    }
    /* the heap's free chunks would serve the rebuild: take them all (in
     * blocks chained through their first word), then give back a little */
    void *hog = NULL, *p;
    size_t blk = (size_t)64 << 10;
    for (; blk >= 64; blk /= 2)
        while ((p = alloc(blk)) != NULL) { *(void **)p = hog; hog = p; }
    for (int i = 0; i < 4 && hog; i++) { p = *(void **)hog; free(hog); hog = p; }
    ember_status compact = ember_index_compact(x, 1);
    char compact_msg[256];
    snprintf(compact_msg, sizeof compact_msg, "%s", ember_index_error(x));
    int64_t got[3];
    float sc[3];
    ember_status search = ember_index_search(x, v + 20 * D, 1, 3, NULL, got, sc, 1, err, sizeof err);
    while (hog) { p = *(void **)hog; free(hog); hog = p; }
    assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
    if (compact != EMBER_ERR_NOMEM) fail_msg("compact under the limit: status %d, '%s'", compact, compact_msg);
    assert_non_null(strstr(compact_msg, "out of memory"));
    assert_int_equal(search, EMBER_ERR_NOMEM);
    assert_non_null(strstr(err, "incomplete"));
    /* with memory back, still refused until a compact finishes the job */
    assert_int_equal(ember_index_search(x, v + 20 * D, 1, 3, NULL, got, sc, 1, err, sizeof err), EMBER_ERR_NOMEM);
    assert_int_equal(ember_index_save(x, path), EMBER_ERR_NOMEM);
    assert_int_equal(ember_index_add(x, v, &(int64_t){NV}, NULL, 1, 1), EMBER_ERR_NOMEM);
    assert_int_equal(ember_index_delete(x, 11), EMBER_ERR_NOMEM);
    assert_int_equal(ember_index_compact(x, 1), EMBER_OK);
    ember_index_info info;
    ember_index_get_info(x, &info);
    assert_true(info.count == NV - 10 && info.deleted == 0);
    int found = 0;
    for (int i = 10; i < NV; i += 97) {
        assert_int_equal(ember_index_search(x, v + (size_t)i * D, 1, 1, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
        found += got[0] == i;
    }
    assert_true(found >= (NV - 10) / 97 * 9 / 10); /* an HNSW of M 8: nearly every vector finds itself */
    assert_int_equal(ember_index_search(x, v + 3 * D, 1, 1, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
    assert_true(got[0] != 3); /* deleted before the compact: gone */
    assert_int_equal(ember_index_save(x, path), EMBER_OK);
    ember_index_free(x);
    free(v);
    free(ids);
#endif
}

static void test_errors(void **s)
{
    (void)s;
    char err[256] = "";
    assert_null(ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_HAMMING, EMBER_STORE_F32, 8, NULL, err, sizeof err));
    assert_non_null(strstr(err, "hamming"));
    err[0] = 0;
    assert_null(ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_IP, EMBER_STORE_F32, 0, NULL, err, sizeof err));
    assert_true(err[0] != 0);
    assert_null(ember_index_open("/nonexistent/x.emb", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
    assert_null(ember_index_open(NULL, err, sizeof err));
    ember_index *x = ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_L2, EMBER_STORE_INT8, 4, NULL, err, sizeof err);
    assert_non_null(x);
    float q[4] = {0, 1, 0, 0}, bad[4] = {0, NAN, 0, 0};
    int64_t id = 1, got[2];
    float sc[2];
    assert_int_equal(ember_index_add(x, bad, &id, NULL, 1, 1), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_index_error(x), "non-finite"));
    assert_int_equal(ember_index_add(x, q, NULL, NULL, 1, 1), EMBER_ERR_ARG);
    assert_int_equal(ember_index_search(x, q, 1, 0, NULL, got, sc, 1, err, sizeof err), EMBER_ERR_ARG);
    assert_non_null(strstr(err, "k 0"));
    assert_int_equal(ember_index_save(x, "/nonexistent/dir/x.emb"), EMBER_ERR_IO);
    assert_non_null(strstr(ember_index_error(x), "cannot"));
    ember_index_free(x);
    ember_index_free(NULL);
    assert_int_equal(ember_index_add(NULL, q, &id, NULL, 1, 1), EMBER_ERR_ARG);
}

/* What the CLI needs, through the header: names and their parsing, the
 * build parameters in the info, metadata, ids. */
static void test_names_info_meta_ids(void **s)
{
    (void)s;
    char err[256] = "", path[4096], long_meta[300];
    assert_string_equal(ember_index_type_name(EMBER_INDEX_IVFPQ), "ivfpq");
    assert_string_equal(ember_metric_name(EMBER_METRIC_HAMMING), "hamming");
    assert_string_equal(ember_store_name(EMBER_STORE_INT8), "int8");
    assert_string_equal(ember_store_name((ember_store)9), "?");
    ember_index_type t = EMBER_INDEX_FLAT;
    ember_metric m = EMBER_METRIC_IP;
    ember_store st = EMBER_STORE_F32;
    assert_int_equal(ember_index_parse_names("hnsw", "l2", "binary", &t, &m, &st, err, sizeof err), EMBER_OK);
    assert_true(t == EMBER_INDEX_HNSW && m == EMBER_METRIC_L2 && st == EMBER_STORE_BINARY);
    assert_int_equal(ember_index_parse_names(NULL, "cosine", NULL, NULL, &m, NULL, err, sizeof err), EMBER_OK);
    assert_true(t == EMBER_INDEX_HNSW && m == EMBER_METRIC_COSINE);
    assert_int_equal(ember_index_parse_names("lsh", NULL, NULL, &t, NULL, NULL, err, sizeof err), EMBER_ERR_ARG);
    assert_non_null(strstr(err, "'lsh' (flat, hnsw, ivfpq)"));
    assert_int_equal(t, EMBER_INDEX_HNSW);
    assert_int_equal(ember_index_parse_names(NULL, NULL, "f16", NULL, NULL, &st, err, sizeof err), EMBER_ERR_ARG);
    assert_non_null(strstr(err, "f16"));
    assert_int_equal(ember_index_parse_names("flat", NULL, NULL, NULL, NULL, NULL, err, sizeof err), EMBER_ERR_ARG);
    assert_true(ember_index_refine_applies(EMBER_INDEX_IVFPQ, EMBER_STORE_F32));
    assert_true(ember_index_refine_applies(EMBER_INDEX_HNSW, EMBER_STORE_INT8));
    assert_false(ember_index_refine_applies(EMBER_INDEX_HNSW, EMBER_STORE_F32));
    assert_false(ember_index_refine_applies(EMBER_INDEX_FLAT, EMBER_STORE_INT8));
    /* the build parameters come back in the info, also from the file */
    ember_index_params p = ember_index_default_params();
    p.M = 12;
    p.ef_construction = 50;
    p.refine = 1;
    ember_index *x = ember_index_create(EMBER_INDEX_HNSW, EMBER_METRIC_COSINE, EMBER_STORE_INT8, DIM, &p, err, sizeof err);
    assert_non_null(x);
    float *v = vectors(300);
    int64_t ids[300];
    for (int i = 0; i < 300; i++) ids[i] = 10 + i;
    assert_int_equal(ember_index_add(x, v, ids, NULL, 300, 1), EMBER_OK);
    assert_int_equal(ember_index_id_max(x), 309);
    assert_true(ember_index_contains(x, 10) && ember_index_contains(x, 309) && !ember_index_contains(x, 9) && !ember_index_contains(x, 310));
    assert_int_equal(ember_index_delete(x, 309), EMBER_OK);
    assert_false(ember_index_contains(x, 309));
    assert_int_equal(ember_index_id_max(x), 309); /* deleted ids still count: numbering never reuses them */
    assert_int_equal(ember_index_duplicate_ids(x), 0);
    assert_string_equal(ember_index_meta(x), "");
    assert_int_equal(ember_index_set_meta(x, "model=m.gguf dim=32"), EMBER_OK);
    memset(long_meta, 'a', 256);
    long_meta[256] = '\0';
    assert_int_equal(ember_index_set_meta(x, long_meta), EMBER_ERR_LIMIT);
    assert_non_null(strstr(ember_index_error(x), "256 bytes"));
    assert_string_equal(ember_index_meta(x), "model=m.gguf dim=32");
    long_meta[255] = '\0';
    assert_int_equal(ember_index_set_meta(x, long_meta), EMBER_OK);
    assert_int_equal(ember_index_set_meta(x, "model=m.gguf dim=32"), EMBER_OK);
    snprintf(path, sizeof path, "%s/names.emb", test_tmpdir());
    assert_int_equal(ember_index_save(x, path), EMBER_OK);
    ember_index *y = ember_index_open(path, err, sizeof err);
    assert_non_null(y);
    ember_index_info in;
    ember_index_get_info(y, &in);
    assert_true(in.type == EMBER_INDEX_HNSW && in.store == EMBER_STORE_INT8 && in.M == 12 && in.ef_construction == 50 && in.refine == 1);
    assert_true(in.nlist == 0 && in.pq_m == 0 && in.pq_bits == 0 && in.rescore == 0 && in.mapped);
    assert_string_equal(ember_index_meta(y), "model=m.gguf dim=32");
    assert_int_equal(ember_index_id_max(y), 309);
    assert_true(ember_index_contains(y, 308) && !ember_index_contains(y, 309));
    ember_index_free(x);
    ember_index_free(y);
    /* IVF-PQ and binary parameters */
    p = ember_index_default_params();
    p.nlist = 4;
    p.pq_m = 8;
    p.pq_bits = 4;
    x = ember_index_create(EMBER_INDEX_IVFPQ, EMBER_METRIC_IP, EMBER_STORE_F32, DIM, &p, err, sizeof err);
    assert_non_null(x);
    ember_index_get_info(x, &in);
    assert_true(in.nlist == 4 && in.pq_m == 8 && in.pq_bits == 4 && in.M == 0 && in.refine == 0);
    ember_index_free(x);
    p = ember_index_default_params();
    p.rescore = 1;
    x = ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_HAMMING, EMBER_STORE_BINARY, DIM, &p, err, sizeof err);
    ember_index_get_info(x, &in);
    assert_true(in.rescore == 1 && in.M == 0 && in.ef_construction == 0);
    assert_int_equal(ember_index_id_max(x), -1);
    ember_index_free(x);
    assert_int_equal(ember_index_id_max(NULL), -1);
    assert_string_equal(ember_index_meta(NULL), "");
    free(v);
}

typedef struct { const char *path; ember_status st; double waited; } lock_waiter;

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *wait_for_lock(void *arg)
{
    lock_waiter *w = arg;
    char err[256];
    ember_index_lock *k = NULL;
    double t0 = seconds();
    w->st = ember_index_lock_acquire(w->path, 1, &k, err, sizeof err);
    w->waited = seconds() - t0;
    ember_index_lock_release(k);
    return NULL;
}

/* Writers take turns: a second taker is told at once (EMBER_ERR_BUSY) or
 * waits; taking the lock clears a killed writer's temporary. */
static void test_writer_lock(void **s)
{
    (void)s;
    char err[256], path[4096], tmp[4200], lockfile[4200];
    snprintf(path, sizeof path, "%s/locked.emb", test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s.tmp-0123456789abcdef", path);
    snprintf(lockfile, sizeof lockfile, "%s.lock", path);
    FILE *f = fopen(tmp, "w"); /* what a writer killed before its rename leaves */
    assert_non_null(f);
    fputs("partial", f);
    fclose(f);
    ember_index_lock *a = NULL, *b = (ember_index_lock *)&b;
    assert_int_equal(ember_index_lock_acquire(path, 0, &a, err, sizeof err), EMBER_OK);
    assert_non_null(a);
    assert_int_equal(access(tmp, F_OK), -1); /* swept */
    assert_int_equal(access(lockfile, F_OK), 0);
    assert_int_equal(ember_index_lock_acquire(path, 0, &b, err, sizeof err), EMBER_ERR_BUSY);
    assert_null(b);
    assert_non_null(strstr(err, "being written by another process"));
    assert_string_equal(ember_status_str(EMBER_ERR_BUSY), "held by another writer");
    /* a waiter gets it once it is released */
    lock_waiter w = { path, EMBER_ERR_ARG, 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_for_lock, &w), 0);
    usleep(200 * 1000);
    ember_index_lock_release(a);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(w.st, EMBER_OK);
    assert_true(w.waited > 0.1);
    assert_int_equal(ember_index_lock_acquire(path, 0, &a, err, sizeof err), EMBER_OK);
    ember_index_lock_release(a);
    ember_index_lock_release(NULL);
    /* no lock file can be made there */
    assert_int_equal(ember_index_lock_acquire("/nonexistent/dir/x.emb", 0, &a, err, sizeof err), EMBER_ERR_IO);
    assert_null(a);
    assert_non_null(strstr(err, "lock"));
    assert_int_equal(ember_index_lock_acquire(path, 0, NULL, err, sizeof err), EMBER_ERR_ARG);
    assert_int_equal(ember_index_lock_acquire(NULL, 0, &a, err, sizeof err), EMBER_ERR_ARG);
}

/* Searches reuse the scratch the index keeps: answers stay those of a
 * fresh index over more walks than the visited marks' epoch counts (it
 * wraps at 65535), and when the index grows, shrinks and grows again
 * between searches. */
static void test_search_scratch_reuse(void **s)
{
    (void)s;
    enum { NV = 200, NQ = 50, K = 5 };
    char err[256], path[4096];
    float *v = vectors(NV + 400);
    int64_t ids[NV + 400], first[NQ * K], got[K];
    float sc[K];
    for (int i = 0; i < NV + 400; i++) ids[i] = i;
    ember_index_params p = ember_index_default_params();
    p.M = 4;
    p.ef_construction = 20;
    ember_index *x = ember_index_create(EMBER_INDEX_HNSW, EMBER_METRIC_COSINE, EMBER_STORE_F32, DIM, &p, err, sizeof err);
    assert_int_equal(ember_index_add(x, v, ids, NULL, NV, 1), EMBER_OK);
    snprintf(path, sizeof path, "%s/scratch.emb", test_tmpdir());
    assert_int_equal(ember_index_save(x, path), EMBER_OK);
    ember_search_params sp = ember_search_default_params();
    sp.ef_search = 8;
    sp.ef_upper = 1; /* one walk a query: 70,000 queries pass the wrap */
    for (int q = 0; q < NQ; q++)
        assert_int_equal(ember_index_search(x, v + (size_t)q * 7 * DIM, 1, K, &sp, first + q * K, sc, 1, err, sizeof err), EMBER_OK);
    for (int r = 0; r < 70000; r++) {
        int q = r % NQ;
        assert_int_equal(ember_index_search(x, v + (size_t)q * 7 * DIM, 1, K, &sp, got, sc, 1, err, sizeof err), EMBER_OK);
        if (memcmp(got, first + q * K, sizeof got)) fail_msg("search %d (query %d) differs from the first one's answer", r, q);
    }
    /* the same answers from a fresh index on the same graph */
    ember_index *y = ember_index_open(path, err, sizeof err);
    for (int q = 0; q < NQ; q++) {
        assert_int_equal(ember_index_search(y, v + (size_t)q * 7 * DIM, 1, K, &sp, got, sc, 1, err, sizeof err), EMBER_OK);
        assert_memory_equal(got, first + q * K, sizeof got);
    }
    ember_index_free(y);
    /* grow (more marks), shrink, grow again (marks left from before): every vector finds itself */
    assert_int_equal(ember_index_add(x, v + (size_t)NV * DIM, ids + NV, NULL, 300, 1), EMBER_OK);
    for (int i = 0; i < NV + 300; i += 7) {
        assert_int_equal(ember_index_search(x, v + (size_t)i * DIM, 1, K, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
        assert_int_equal(got[0], i);
    }
    for (int i = 0; i < NV + 300; i += 2) assert_int_equal(ember_index_delete(x, i), EMBER_OK);
    assert_int_equal(ember_index_compact(x, 1), EMBER_OK);
    for (int i = 1; i < NV + 300; i += 14) {
        assert_int_equal(ember_index_search(x, v + (size_t)i * DIM, 1, K, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
        assert_int_equal(got[0], i);
    }
    assert_int_equal(ember_index_add(x, v + (size_t)(NV + 300) * DIM, ids + NV + 300, NULL, 100, 1), EMBER_OK);
    for (int i = NV + 300; i < NV + 400; i += 3) {
        assert_int_equal(ember_index_search(x, v + (size_t)i * DIM, 1, K, NULL, got, sc, 2, err, sizeof err), EMBER_OK);
        assert_int_equal(got[0], i);
    }
    ember_index_free(x);
    free(v);
}

/* int8 ranges from a first batch the reader must accept again: a constant
 * dimension far from 0 (its step rounded to 0 and the saved file was
 * refused), and cosine vectors of any length (ranges were taken from the
 * raw vectors, the normalised ones quantised against them were clamped);
 * ranges no float can decode are refused at the add. */
static void test_int8_calibration(void **s)
{
    (void)s;
    char err[256], path[4096];
    snprintf(path, sizeof path, "%s/calib.emb", test_tmpdir());
    enum { D = 3, NV = 40 };
    float v[NV * D];
    int64_t ids[NV];
    for (int i = 0; i < NV; i++) {
        v[i * D] = 100.0f;                                       /* constant */
        v[i * D + 1] = (float)(i % 7) - 3.0f;
        v[i * D + 2] = (float)(i * 13 % 11);
        ids[i] = i;
    }
    const ember_metric metrics[2] = {EMBER_METRIC_L2, EMBER_METRIC_COSINE};
    for (int mi = 0; mi < 2; mi++) {
        ember_index *x = ember_index_create(EMBER_INDEX_FLAT, metrics[mi], EMBER_STORE_INT8, D, NULL, err, sizeof err);
        assert_non_null(x);
        assert_int_equal(ember_index_add(x, v, ids, NULL, NV, 1), EMBER_OK);
        assert_int_equal(ember_index_save(x, path), EMBER_OK);
        ember_index_free(x);
        ember_index *y = ember_index_open(path, err, sizeof err);
        if (!y) fail_msg("%s: the saved int8 index does not open: %s", ember_metric_name(metrics[mi]), err);
        int found = 0;
        for (int i = 0; i < NV; i++) {
            int64_t got[3];
            float sc[3];
            assert_int_equal(ember_index_search(y, v + i * D, 1, 3, NULL, got, sc, 1, err, sizeof err), EMBER_OK);
            found += got[0] == i; /* the 40 vectors differ in direction as well */
        }
        if (found < NV) fail_msg("%s: %d of %d vectors find themselves first", ember_metric_name(metrics[mi]), found, NV);
        ember_index_free(y);
    }
    /* a range whose codes would decode beyond float range */
    ember_index *x = ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_L2, EMBER_STORE_INT8, 1, NULL, err, sizeof err);
    const float wide[2] = {-3e38f, 3e38f};
    const int64_t wid[2] = {1, 2};
    assert_int_equal(ember_index_add(x, wide, wid, NULL, 2, 1), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_index_error(x), "too wide for an int8 store"));
    ember_index_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_ivfpq_train_then_add),
        cmocka_unit_test(test_unique_ids),
        cmocka_unit_test(test_saved_before_training),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_compact_out_of_memory),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_names_info_meta_ids),
        cmocka_unit_test(test_writer_lock),
        cmocka_unit_test(test_search_scratch_reuse),
        cmocka_unit_test(test_int8_calibration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
