/* libFuzzer harness: the input is an index file.  Unless built with
 * FUZZ_INDEX_RAW, an input that starts with the magic gets its header CRC
 * and every section's CRC recomputed first, so crafted content reaches the
 * readers behind the checksums (raw, the checksums refuse every mutation).
 * Then ember_index_open, info, search two queries, text look-ups, add a few
 * vectors, delete, compact, save, and the saved file must open again. */
#include "tests/fuzz/util.h"

#include "ember.h"
#include "index/index.h" /* idx_file_reseal */

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* Deterministic vectors (the harness needs no randomness of its own): the
 * first varied, the second all zeros (a zero vector meets a zero offset or
 * scale in a file's quantizer exactly), the third varied again. */
static void fill(float *v, int rows, int dim, float phase)
{
    for (int r = 0; r < rows; r++)
        for (int d = 0; d < dim; d++) {
            size_t i = (size_t)r * (size_t)dim + (size_t)d;
            v[i] = r == 1 ? 0.0f : sinf(phase + 0.7f * (float)i) + (d % 5 == 0 ? -0.25f : 0.1f);
        }
}

static void search_and_read(const ember_index *x, int dim, int k, const ember_search_params *sp)
{
    float *q = malloc(2 * (size_t)dim * sizeof *q);
    int64_t ids[2 * 8];
    float scores[2 * 8];
    FUZZ_CHECK(q != NULL, "out of memory for 2 x %d floats", dim);
    fill(q, 2, dim, 0.3f);
    char err[256];
    if (ember_index_search(x, q, 2, k, sp, ids, scores, 1, err, sizeof err) == EMBER_OK) {
        for (int i = 0; i < 2 * k; i++) {
            size_t len = 0;
            const char *t = ids[i] == -1 ? NULL : ember_index_text(x, ids[i], &len);
            volatile unsigned char sum = 0;
            for (size_t j = 0; t && j < len; j++) sum = (unsigned char)(sum + (unsigned char)t[j]);
            (void)sum;
        }
    }
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[4096], saved[4096];
    if (!path[0]) {
        fuzz_tmp_path(path, sizeof path, "input.emb");
        fuzz_tmp_path(saved, sizeof saved, "saved.emb");
    }
    uint8_t *buf = malloc(size ? size : 1);
    FUZZ_CHECK(buf != NULL, "out of memory for %zu bytes", size);
    memcpy(buf, data, size);
#ifndef FUZZ_INDEX_RAW
    idx_file_reseal(buf, size); /* leaves anything without the magic alone */
#endif
    fuzz_write_file(path, buf, size);
    free(buf);

    char err[256];
    ember_index *x = ember_index_open(path, err, sizeof err);
    if (!x) return 0;
    ember_index_info info;
    ember_index_get_info(x, &info);
    FUZZ_CHECK(info.dim >= 1 && info.dim <= 65536, "opened an index of dimension %d", info.dim);
    const int dim = info.dim;
    ember_search_params sp = ember_search_default_params();
    search_and_read(x, dim, 5, &sp);
    sp.ef_search = 1; sp.rescore_mult = 1; sp.nprobe = 1; sp.refine_factor = 1; sp.ef_upper = 1;
    search_and_read(x, dim, 1, &sp);

    enum { N_ADD = 3 };
    float *v = malloc(N_ADD * (size_t)dim * sizeof *v);
    FUZZ_CHECK(v != NULL, "out of memory for %d x %d floats", N_ADD, dim);
    fill(v, N_ADD, dim, 1.1f);
    const int64_t add_ids[N_ADD] = { 1000001, 1000002, 1000003 };
    const char *const texts[N_ADD] = { "added one", NULL, "" };
    if (ember_index_add(x, v, add_ids, texts, N_ADD, 1) == EMBER_OK) {
        size_t len = 0;
        const char *t = ember_index_text(x, 1000001, &len);
        FUZZ_CHECK(t && len == 9 && memcmp(t, "added one", 9) == 0, "the text of an added vector reads \"%.*s\" (%zu bytes), not \"added one\"",
                   t ? (int)(len < 64 ? len : 64) : 6, t ? t : "(NULL)", len);
    }
    free(v);
    ember_index_delete(x, 1000002);
    ember_index_delete(x, 0);
    ember_index_compact(x, 1);
    search_and_read(x, dim, 5, &sp);
    if (ember_index_save(x, saved) == EMBER_OK) {
        ember_index *y = ember_index_open(saved, err, sizeof err);
        FUZZ_CHECK(y != NULL, "an index it saved does not open again: %s", err);
        search_and_read(y, dim, 3, &sp);
        ember_index_free(y);
    }
    ember_index_free(x);
    return 0;
}
