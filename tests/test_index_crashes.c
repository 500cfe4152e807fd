/* Regression inputs found by fuzzing (shared fixtures crashes/index/ and the
 * project's tests/fuzz/crashes/index/): each
 * file has its checksums recomputed as the fuzz harness did, then goes
 * through the harness's sequence on the public API (open, info, search two
 * queries, text look-ups, add a few vectors, delete, compact, save).  Each
 * must be refused with a message or behave correctly; `make sanitize` runs
 * this under ASan + UBSan, which must stay silent.  New finds dropped into
 * the folder are covered without a change here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"
#include "index/index.h"
#include "tests/fixtures.h"

static void spit(const char *p, const void *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* Every hit is a real id with a real score, or padding (-1, NaN) after the last one. */
static void check_hits(const char *name, const int64_t *ids, const float *sc, int k)
{
    int padded = 0;
    for (int j = 0; j < k; j++) {
        if (ids[j] == -1) { padded = 1; if (!isnan(sc[j])) fail_msg("%s: padding with score %g", name, sc[j]); continue; }
        if (padded) fail_msg("%s: hit %d (id %lld) after padding", name, j, (long long)ids[j]);
        if (ids[j] < 0) fail_msg("%s: hit %d has id %lld", name, j, (long long)ids[j]);
        if (isnan(sc[j])) fail_msg("%s: hit %d (id %lld) has score NaN", name, j, (long long)ids[j]);
    }
}

/* The harness's sequence; returns 1 if the file opened. */
static int exercise(const char *path, const char *name, const char *saved)
{
    char err[512] = "";
    ember_index *x = ember_index_open(path, err, sizeof err);
    if (!x) {
        if (!err[0]) fail_msg("%s: refused without a message", name);
        return 0;
    }
    ember_index_info info;
    ember_index_get_info(x, &info);
    assert_true(info.dim >= 1 && info.dim <= 65536);
    int dim = info.dim, k = 5;
    float *q = malloc(sizeof(float) * 4 * (size_t)dim);
    for (int i = 0; i < 4 * dim; i++) q[i] = (float)((i * 37 % 11) - 5) / 5.0f;
    int64_t ids[2 * 5];
    float sc[2 * 5];
    ember_status st = ember_index_search(x, q, 2, k, NULL, ids, sc, 1, err, sizeof err);
    if (st != EMBER_OK && !err[0]) fail_msg("%s: search failed without a message", name);
    if (st == EMBER_OK) {
        check_hits(name, ids, sc, k);
        check_hits(name, ids + k, sc + k, k);
        for (int j = 0; j < 2 * k; j++) {
            size_t len = 0;
            const char *t = ember_index_text(x, ids[j], &len);
            if (t) assert_true(len > 0);
        }
    }
    size_t len;
    (void)ember_index_text(x, 0, &len);
    (void)ember_index_text(x, INT64_MAX, &len);
    int64_t add_ids[3] = {900000001, 900000002, 900000003};
    static const char *const add_texts[3] = {"added one", "added two", "added three"};
    st = ember_index_add(x, q + dim, add_ids, add_texts, 3, 1);
    if (st != EMBER_OK && !ember_index_error(x)[0]) fail_msg("%s: add failed without a message", name);
    for (int j = 0; j < 3 && st == EMBER_OK; j++) {
        const char *t = ember_index_text(x, add_ids[j], &len);
        if (!t || len != strlen(add_texts[j]) || memcmp(t, add_texts[j], len) != 0)
            fail_msg("%s: the text of the vector just added is \"%.*s\", not \"%s\"", name, t ? (int)len : 6, t ? t : "(none)", add_texts[j]);
    }
    if (st == EMBER_OK && ember_index_delete(x, add_ids[1]) != EMBER_OK)
        fail_msg("%s: the id just added cannot be deleted: %s", name, ember_index_error(x));
    if (ember_index_compact(x, 1) != EMBER_OK && !ember_index_error(x)[0]) fail_msg("%s: compact failed without a message", name);
    if (ember_index_save(x, saved) == EMBER_OK) {
        /* what was saved must open again */
        ember_index *y = ember_index_open(saved, err, sizeof err);
        if (!y) fail_msg("%s: the index saved after the sequence does not open: %s", name, err);
        st = ember_index_search(y, q, 1, k, NULL, ids, sc, 1, err, sizeof err);
        if (st == EMBER_OK) check_hits(name, ids, sc, k);
        ember_index_free(y);
    } else if (!ember_index_error(x)[0]) fail_msg("%s: save failed without a message", name);
    ember_index_free(x);
    free(q);
    return 1;
}

/* Every file of one folder through the sequence; how many there were. */
static int run_folder(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char path[1024], saved[1024];
    snprintf(path, sizeof path, "%s/crash.emb", test_tmpdir());
    snprintf(saved, sizeof saved, "%s/saved.emb", test_tmpdir());
    int files = 0, opened = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char src[2048];
        snprintf(src, sizeof src, "%s/%s", dir, de->d_name);
        size_t len;
        char *img = test_slurp(src, &len);
        if (!img) continue;
        idx_file_reseal(img, len); /* as the harness: only images that start like an index */
        spit(path, img, len);
        free(img);
        opened += exercise(path, de->d_name, saved);
        files++;
    }
    closedir(d);
    printf("%s: %d crash inputs, %d opened\n", dir, files, opened);
    return files;
}

/* the shared finds, then the project's own (tests/fuzz/crashes/index) */
static void test_crash_inputs(void **s)
{
    (void)s;
    assert_true(run_folder("tests/fuzz/crashes/index") > 0);
    char dir[1024];
    if (!fixture_path(dir, sizeof dir, "crashes/index")) { skip(); return; }
    assert_true(run_folder(dir) > 0);
}

/* Section kinds of the file format (index/file.c) */
enum { S_CODES = 1, S_IDS = 2, S_DELETED = 3, S_TEXT_OFF = 4, S_CALIB = 6, S_NORMS = 7, S_CENTROIDS = 13, S_PQ = 14, S_REFINE = 16 };

/* The image of the index file at path with len bytes written at byte `at`
 * of section `kind`, checksums recomputed; written to out. */
static void poke_as(const char *path, const char *out, int kind, size_t at, const void *bytes, size_t len, int reseal)
{
    size_t n;
    char *img = test_slurp(path, &n);
    assert_non_null(img);
    uint32_t ns;
    memcpy(&ns, img + 68, 4); /* n_sections */
    int found = 0;
    for (uint32_t i = 0; i < ns; i++) {
        uint32_t k;
        uint64_t off, size;
        memcpy(&k, img + 128 + 32 * i, 4);
        memcpy(&off, img + 128 + 32 * i + 8, 8);
        memcpy(&size, img + 128 + 32 * i + 16, 8);
        if ((int)k != kind) continue;
        assert_true(at + len <= size);
        memcpy(img + off + at, bytes, len);
        found = 1;
    }
    if (!found) fail_msg("no section %d in %s", kind, path);
    if (reseal) assert_int_equal(idx_file_reseal(img, n), 0);
    spit(out, img, n);
    free(img);
}

static void poke(const char *path, const char *out, int kind, size_t at, const void *bytes, size_t len)
{
    poke_as(path, out, kind, at, bytes, len, 1);
}

static void refused(const char *path, const char *says)
{
    char err[512];
    ember_index *x = ember_index_open(path, err, sizeof err);
    if (x) fail_msg("opened, but should be refused for '%s'", says);
    if (!strstr(err, says)) fail_msg("'%s' does not say '%s'", err, says);
}

static ember_index *small(ember_index_type t, ember_metric m, ember_store st, int dim, int n, int pq_bits, int refine)
{
    char err[256];
    ember_index_params p = ember_index_default_params();
    p.nlist = 4;
    p.pq_m = 2;
    p.pq_bits = pq_bits;
    p.refine = refine;
    ember_index *x = ember_index_create(t, m, st, dim, &p, err, sizeof err);
    if (!x) fail_msg("%s", err);
    float *v = malloc(sizeof(float) * (size_t)n * dim);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)n);
    for (int i = 0; i < n * dim; i++) v[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
    for (int i = 0; i < n; i++) ids[i] = i;
    assert_int_equal(ember_index_add(x, v, ids, NULL, (size_t)n, 1), EMBER_OK);
    free(v);
    free(ids);
    return x;
}

/* Every float section is checked when a file is opened: crafted values
 * that get past the checksums are refused by name, as is a negative id. */
static void test_crafted_sections(void **s)
{
    (void)s;
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/good.emb", test_tmpdir());
    snprintf(b, sizeof b, "%s/crafted.emb", test_tmpdir());
    float nan = NAN, inf = INFINITY, neg = -1.0f;
    int64_t minus1 = -1;
    uint8_t dead = 1;
    /* the fix-up keeps a valid file valid; a change without it fails the checksum */
    ember_index *x = small(EMBER_INDEX_FLAT, EMBER_METRIC_IP, EMBER_STORE_F32, 4, 3, 8, 0);
    assert_int_equal(ember_index_save(x, a), EMBER_OK);
    ember_index_free(x);
    poke(a, b, S_CODES, 0, "", 0);
    x = ember_index_open(b, NULL, 0);
    assert_non_null(x);
    ember_index_free(x);
    float one = 1.0f;
    poke_as(a, b, S_CODES, 0, &one, 4, 0);
    refused(b, "checksum");
    poke(a, b, S_CODES, 5 * 4, &nan, 4);
    refused(b, "vector 1 holds a non-finite value");
    poke(a, b, S_IDS, 8, &minus1, 8);
    refused(b, "vector 1 has id -1");
    poke(a, b, S_DELETED, 1, &dead, 1);  /* a tombstone: its id is never seen */
    /* ...but the header counts tombstones: that file is refused for that */
    refused(b, "tombstones");
    /* int8: scales > 0 and finite offsets; L2 norms finite */
    x = small(EMBER_INDEX_FLAT, EMBER_METRIC_L2, EMBER_STORE_INT8, 4, 3, 8, 0);
    assert_int_equal(ember_index_save(x, a), EMBER_OK);
    ember_index_free(x);
    poke(a, b, S_CALIB, 0, &nan, 4);
    refused(b, "int8 calibration of dimension 0 is out of range");
    poke(a, b, S_CALIB, 4, &neg, 4);
    refused(b, "int8 calibration of dimension 1");
    poke(a, b, S_CALIB, 4 * 4 + 8, &inf, 4); /* offset of dimension 2 */
    refused(b, "int8 calibration of dimension 2");
    poke(a, b, S_NORMS, 4, &nan, 4);
    refused(b, "vector 1 has norm");
    /* IVF-PQ, 4-bit with refine copies: centroids, codebooks, copies */
    x = small(EMBER_INDEX_IVFPQ, EMBER_METRIC_IP, EMBER_STORE_F32, 8, 300, 4, 1);
    assert_int_equal(ember_index_save(x, a), EMBER_OK);
    ember_index_free(x);
    poke(a, b, S_PQ, 12, &nan, 4);
    refused(b, "PQ codebook value 3 is not finite");
    poke(a, b, S_CENTROIDS, 9 * 4, &inf, 4);
    refused(b, "IVF-PQ centroid 1 holds a non-finite value");
    poke(a, b, S_REFINE, 17 * 4, &nan, 4);
    refused(b, "refine vector 2 holds a non-finite value");
    char junk[200] = "NOTANIDX";
    assert_int_equal(idx_file_reseal(junk, sizeof junk), -1);
    assert_int_equal(idx_file_reseal(junk, 10), -1);
}

/* The text offsets must end where the text section does: the next add
 * appends there, and a shorter end gave the added vector the stale bytes
 * between as part of its text (a fuzzing find). */
static void test_text_offsets_end(void **s)
{
    (void)s;
    char a[1024], b[1024], err[256];
    snprintf(a, sizeof a, "%s/texts.emb", test_tmpdir());
    snprintf(b, sizeof b, "%s/texts-short.emb", test_tmpdir());
    ember_index *x = ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_IP, EMBER_STORE_F32, 4, NULL, err, sizeof err);
    assert_non_null(x);
    const float v[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    const int64_t ids[3] = {1, 2, 3};
    const char *const texts[3] = {"one", "two", "three"};
    assert_int_equal(ember_index_add(x, v, ids, texts, 3, 1), EMBER_OK);
    assert_int_equal(ember_index_save(x, a), EMBER_OK);
    ember_index_free(x);
    /* text_off[3], the end, moved back from 11 to 6: still in order */
    uint64_t end = 6;
    poke(a, b, S_TEXT_OFF, 3 * 8, &end, 8);
    refused(b, "text offsets end at 6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_inputs),
        cmocka_unit_test(test_crafted_sections),
        cmocka_unit_test(test_text_offsets_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
