/* libFuzzer harness: the input is an index file.  Unless built with
 * FUZZ_INDEX_RAW, an input that starts with the magic gets its header CRC
 * and every section's CRC recomputed first, so crafted content reaches the
 * readers behind the checksums (raw, the checksums refuse every mutation).
 * Then ember_index_open, info, search two queries, text look-ups, add a few
 * vectors, delete, compact, save, and the saved file must open again. */
#include "tests/fuzz/util.h"

#include "ember.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_INDEX_RAW
/* ---- CRC fix-up, local to this harness until index/ exports one ----
 * The layout is index/file.c's: a 128-byte header whose last 4 bytes are the
 * CRC-32 of the 124 before them, n_sections (u32) at byte 68, then the section
 * table right after the header, 32 bytes an entry: kind u32, reserved u32,
 * offset u64, size u64, crc u32 (CRC-32 of the section's bytes, 0 if empty),
 * pad u32.  Bitwise CRC-32 (IEEE, reflected, as zlib), independent of the
 * library's table-driven one. */
enum { HDR_SIZE = 128, HDR_CRC_AT = 124, HDR_NSEC_AT = 68, SEC_SIZE = 32, SEC_OFF_AT = 8, SEC_SIZE_AT = 16,
       SEC_CRC_AT = 24, MAX_SECTIONS = 20 };

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void index_crc_fixup(uint8_t *buf, size_t size)
{
    if (size < HDR_SIZE || memcmp(buf, "EMBERIDX", 8) != 0) return;
    uint32_t ns = get32(buf + HDR_NSEC_AT);
    if (ns > MAX_SECTIONS) ns = MAX_SECTIONS;
    for (uint32_t i = 0; i < ns && HDR_SIZE + (i + 1) * (size_t)SEC_SIZE <= size; i++) {
        uint8_t *s = buf + HDR_SIZE + i * (size_t)SEC_SIZE;
        uint64_t off = get64(s + SEC_OFF_AT), len = get64(s + SEC_SIZE_AT);
        if (off <= size && len <= size - off) put32(s + SEC_CRC_AT, len ? crc32_bitwise(buf + off, len) : 0);
    }
    put32(buf + HDR_CRC_AT, crc32_bitwise(buf, HDR_CRC_AT));
}
/* ---- end of the CRC fix-up ---- */
#endif

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
    index_crc_fixup(buf, size);
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
    const int64_t add_ids[N_ADD] = { 1000001, 1000002, -7 };
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
