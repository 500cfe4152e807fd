/* The search scratch an index keeps (index/scratch.c): blocks come back
 * from the pool with their arena grown to what was asked, aligned; the
 * visited marks keep their epoch across takes and are cleared when it
 * wraps; many threads take and give at once (run under make tsan). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "index/base.h"
#include "index/index.h"

static emb_index *small_index(void)
{
    char err[256];
    emb_index *x = idx_create(IDX_FLAT, IDX_L2, IDX_F32, 4, NULL, err, sizeof err);
    assert_non_null(x);
    return x;
}

static void test_arena_reuse(void **s)
{
    (void)s;
    emb_index *x = small_index();
    idx_scratch *a = idx_scratch_take(x);
    assert_non_null(a);
    /* more than any arena holds yet: chunks, each aligned and usable */
    unsigned char *p[5];
    size_t sz[5] = {100, 1, 5000, 64, 70000};
    for (int i = 0; i < 5; i++) {
        p[i] = idx_scratch_alloc(a, sz[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 64, 0);
        memset(p[i], i + 1, sz[i]);
    }
    for (int i = 0; i < 5; i++)
        for (size_t j = 0; j < sz[i]; j++)
            if (p[i][j] != i + 1) fail_msg("buffer %d overwritten at %zu", i, j);
    idx_scratch_give(x, a);
    /* the same block comes back, now one arena for all of it: the same
     * requests take consecutive places in it */
    idx_scratch *b = idx_scratch_take(x);
    assert_ptr_equal(a, b);
    unsigned char *q0 = idx_scratch_alloc(b, sz[0]), *prev = q0;
    for (int i = 1; i < 5; i++) {
        unsigned char *q = idx_scratch_alloc(b, sz[i]);
        assert_true(q > prev && q < q0 + 80000);
        assert_int_equal((uintptr_t)q % 64, 0);
        prev = q;
    }
    /* a second block while the first is out */
    idx_scratch *c = idx_scratch_take(x);
    assert_non_null(c);
    assert_ptr_not_equal(b, c);
    idx_scratch_give(x, c);
    idx_scratch_give(x, b);
    idx_scratch_give(x, NULL);
    idx_free(x); /* frees both blocks (ASan / LeakSanitizer would say otherwise) */
}

static void test_visited_epochs(void **s)
{
    (void)s;
    emb_index *x = small_index();
    idx_scratch *b = idx_scratch_take(x);
    idx_visited *v = idx_scratch_visited(b, 100);
    assert_non_null(v);
    assert_true(v->n >= 100);
    uint16_t e1 = idx_visited_begin(v);
    assert_int_equal(e1, 1);
    v->tag[7] = e1; /* node 7 visited in walk 1, never again */
    v->tag[99] = e1;
    /* a smaller index later: the marks are kept, node 99 beyond it too */
    idx_scratch_give(x, b);
    b = idx_scratch_take(x);
    v = idx_scratch_visited(b, 50);
    assert_true(v->n >= 100 && v->tag[7] == 1);
    for (int w = 2; w <= 65535; w++) {
        uint16_t e = idx_visited_begin(v);
        assert_true(e == w);
        v->tag[3] = e;
    }
    /* the wrap: epoch 1 again, and no node marked with the old 1 */
    assert_int_equal(idx_visited_begin(v), 1);
    for (size_t i = 0; i < v->n; i++)
        if (v->tag[i] == 1) fail_msg("node %zu still marked visited after the epoch wrapped", i);
    /* a bigger index: new marks, all clear */
    v->tag[5] = v->epoch;
    v = idx_scratch_visited(b, 1000);
    assert_non_null(v);
    assert_true(v->n >= 1000);
    uint16_t e = idx_visited_begin(v);
    for (size_t i = 0; i < v->n; i++) assert_true(v->tag[i] != e);
    idx_scratch_give(x, b);
    idx_free(x);
}

static void *churn(void *arg)
{
    const emb_index *x = arg;
    for (int r = 0; r < 2000; r++) {
        idx_scratch *b = idx_scratch_take(x);
        assert_non_null(b);
        size_t n = 64 + (size_t)(r % 7) * 1000;
        unsigned char *p = idx_scratch_alloc(b, n);
        assert_non_null(p);
        memset(p, r & 255, n);
        idx_visited *v = idx_scratch_visited(b, 256);
        uint16_t e = idx_visited_begin(v);
        v->tag[r % 256] = e;
        for (size_t i = 0; i < n; i++) assert_true(p[i] == (r & 255));
        idx_scratch_give(x, b);
    }
    return NULL;
}

static void test_pool_threads(void **s)
{
    (void)s;
    emb_index *x = small_index();
    pthread_t th[4];
    for (int t = 0; t < 4; t++) assert_int_equal(pthread_create(&th[t], NULL, churn, x), 0);
    for (int t = 0; t < 4; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
    idx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_reuse),
        cmocka_unit_test(test_visited_epochs),
        cmocka_unit_test(test_pool_threads),
    };
    return cmocka_run_group_tests_name("index_scratch", tests, NULL, NULL);
}
