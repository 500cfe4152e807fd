/* libFuzzer harness for the SentencePiece Unigram tokenizer.  The first
 * input byte picks what the rest is:
 *   even: text for one of eight small Unigram tokenizers (a hand-made
 *         charsmap, Replace / Strip / Lowercase, WhitespaceSplit, every
 *         Metaspace scheme, byte_fallback, lstrip / rstrip), chosen by bits
 *         1..3.  Properties: ids in range, counting equals encoding, every
 *         early stop gives a prefix, invalid UTF-8 refused only where there
 *         is some.
 *   odd:  edits to a valid precompiled_charsmap (pairs of a 16-bit offset
 *         and a byte XORed in there, the trie size among them): the blob
 *         is either refused with a message or loads, and then a tokenizer
 *         over it encodes a fixed text without fault. */
#include "tests/fuzz/util.h"

#include "tokenizer/charsmap.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unigram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_IN = 4096, N_UNITS = 1024, N_BASE = 12, N_TOK = N_BASE + 256 };

static unigram *U[8];
static uint8_t BLOB[4 + 4 * N_UNITS + 16];
static size_t BLOB_LEN;
static const char *TOKS[N_TOK];
static uint32_t LENS[N_TOK];
static int32_t TYPES[N_TOK];
static double SCORES[N_TOK];

/* "A" -> "a", "AB" -> "xyz", U+00E9 -> "" (the layout of tokenizer/charsmap.h) */
static void build_charsmap(void)
{
    static uint32_t u[N_UNITS];
    u[0] = 256u << 10;
    u[256 ^ 'A'] = 'A' | 1u << 8 | 512u << 10;
    u[833] = 1u << 31 | 0;
    u[833 ^ 'B'] = 'B' | 1u << 8 | 256u << 10;
    u[515] = 1u << 31 | 2;
    u[256 ^ 0xC3] = 0xC3 | 128u << 10;
    u[323 ^ 0xA9] = 0xA9 | 1u << 8 | 64u << 10;
    u[(323 ^ 0xA9) ^ 64] = 1u << 31 | 6;
    uint32_t ts = 4 * N_UNITS;
    memcpy(BLOB, &ts, 4);
    memcpy(BLOB + 4, u, sizeof u);
    memcpy(BLOB + 4 + ts, "a\0xyz\0\0", 7);
    BLOB_LEN = 4 + ts + 7;
}

static unigram *make(int cfg, const uint8_t *blob, size_t blob_len, char *err, size_t errlen)
{
    unigram_options o = unigram_options_default();
    o.unk_id = 0;
    o.charsmap = blob;
    o.charsmap_len = blob_len;
    static const int32_t l[] = { 9 }, r[] = { 10 };
    o.norm[o.n_norm++].kind = UG_NORM_PRECOMPILED;
    if (cfg & 1) {
        o.norm[o.n_norm].kind = UG_NORM_STRIP;
        o.norm[o.n_norm].left = o.norm[o.n_norm].right = 1;
        o.n_norm++;
        o.norm[o.n_norm++].kind = UG_NORM_LOWERCASE;
        o.norm[o.n_norm].kind = UG_NORM_REPLACE;
        o.norm[o.n_norm].from = "ab";
        o.norm[o.n_norm].from_len = 2;
        o.norm[o.n_norm].to = "\xE2\x96\x81";
        o.norm[o.n_norm++].to_len = 3;
    }
    o.norm[o.n_norm].kind = UG_NORM_SPACES;
    o.norm[o.n_norm].to = cfg & 2 ? "\xE2\x96\x81" : " ";
    o.norm[o.n_norm++].to_len = cfg & 2 ? 3 : 1;
    o.whitespace_split = (cfg & 2) != 0;
    o.prepend = cfg % 3;
    o.split = (cfg & 4) == 0;
    o.byte_fallback = (cfg & 4) != 0;
    o.lstrip = l;
    o.n_lstrip = 1;
    o.rstrip = r;
    o.n_rstrip = 1;
    return unigram_create(N_TOK, TOKS, LENS, TYPES, SCORES, &o, err, errlen);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    static const char *const base[N_BASE] = { "<unk>", "\xE2\x96\x81", "a", "b", "\342\226\201a", "ab", "xyz",
                                              "\xE2\x96\x81xy", "a b", "<m>", "</s>", "\xC3\xA9" };
    static char bytes[256][8];
    for (int i = 0; i < N_BASE; i++) {
        TOKS[i] = base[i];
        LENS[i] = (uint32_t)strlen(base[i]);
        TYPES[i] = i == 0 ? 2 : i >= 9 && i <= 10 ? 3 : 1;
        SCORES[i] = -1.0 - (i % 5);
    }
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        TOKS[N_BASE + b] = bytes[b];
        LENS[N_BASE + b] = 6;
        TYPES[N_BASE + b] = 6;
        SCORES[N_BASE + b] = -20.0;
    }
    build_charsmap();
    for (int c = 0; c < 8; c++) {
        char err[256];
        U[c] = make(c, BLOB, BLOB_LEN, err, sizeof err);
        FUZZ_CHECK(U[c] != NULL, "unigram_create %d: %s", c, err);
    }
    return 0;
}

static void check_text(const unigram *u, const char *text, size_t n)
{
    static int32_t ids[8 * MAX_IN + 16], pre[8 * MAX_IN + 16];
    const int cap = 8 * MAX_IN + 16;
    char err[256];
    int full = unigram_encode(u, text, n, ids, cap, -1, err, sizeof err);
    int valid = 1;
    for (size_t p = 0; p < n;) {
        uint32_t cp;
        int k = uni_utf8_decode((const uint8_t *)text + p, n - p, &cp);
        if (k < 0) { valid = 0; break; }
        p += (size_t)k;
    }
    if (full == TOK_ERR_TEXT) {
        FUZZ_CHECK(!valid, "valid UTF-8 refused: %s", err);
        return;
    }
    FUZZ_CHECK(full >= 0, "encode returned %d for %zu bytes: %s", full, n, err);
    FUZZ_CHECK(valid, "invalid UTF-8 accepted (%d ids)", full);
    for (int i = 0; i < full; i++)
        FUZZ_CHECK(ids[i] >= 0 && ids[i] < unigram_n_tokens(u), "id %d out of range", ids[i]);
    FUZZ_CHECK(unigram_encode(u, text, n, NULL, 0, -1, err, sizeof err) == full, "counting differs from encoding");
    for (int k = 1; k < full; k = k < 8 ? k + 1 : k * 2) {
        int got = unigram_encode(u, text, n, pre, k, k, err, sizeof err);
        FUZZ_CHECK(got == k && memcmp(pre, ids, (size_t)k * sizeof *ids) == 0, "stop at %d: not a prefix", k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_IN) return 0;
    if (!(data[0] & 1)) {
        check_text(U[(data[0] >> 1) & 7], (const char *)data + 1, size - 1);
        return 0;
    }
    static uint8_t blob[sizeof BLOB];
    memcpy(blob, BLOB, BLOB_LEN);
    size_t len = BLOB_LEN;
    for (size_t i = 1; i + 2 < size; i += 3) {
        size_t at = (size_t)(data[i] | data[i + 1] << 8);
        if (at == 0xFFFF) len = (size_t)data[i + 2] * 17 % (BLOB_LEN + 1); /* cut the blob short */
        else if (at < BLOB_LEN) blob[at] ^= data[i + 2];
    }
    char err[256];
    unigram *u = make((data[0] >> 1) & 7, blob, len, err, sizeof err);
    if (!u) {
        FUZZ_CHECK(err[0] != '\0', "a refused charsmap without a message");
        return 0;
    }
    static const char text[] = "A AB \xC3\xA9 ABAB a\xCC\x81 x<m> \xC3\xA9\xCC\x81 Ab";
    check_text(u, text, sizeof text - 1);
    unigram_free(u);
    return 0;
}
