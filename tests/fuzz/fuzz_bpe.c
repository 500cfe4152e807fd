/* libFuzzer harness: the input is text (any bytes) for the byte-level BPE
 * tokenizer.  A small vocabulary (the 256 byte symbols, merges over letters,
 * spaces, digits and a two-byte character, three added tokens, with lstrip
 * and rstrip under GPT-2's split) is built once; the first input byte picks
 * the split pattern.  Properties: ids in range, counting equals encoding,
 * every early stop gives a prefix, invalid UTF-8 is refused only where there
 * is some, and the NFC stream equals the whole-string NFC (decompose,
 * order, compose) of tokenizer/unicode.c. */
#include "tests/fuzz/util.h"

#include "tokenizer/bpe.h"
#include "tokenizer/nfc_stream.h"
#include "tokenizer/unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bpe *B[2];
enum { MAX_IN = 4096 };

static void build(void)
{
    static const char *const extra[] = { "ab", "abc", "\xC4\xA0\x61", "\xC4\xA0\x61\x62", "\xC4\xA0\xC4\xA0", "11",
                                         "\xC3\x83\xC2\xA9", "aa", "aaaa", "<x>", "<xy>", "<|e|>" };
    static const char *const merges[] = { "a b", "ab c", "\xC4\xA0 a", "\xC4\xA0\x61 b", "\xC4\xA0 \xC4\xA0", "1 1",
                                          "\xC3\x83 \xC2\xA9", "a a", "aa aa" };
    enum { NE = sizeof extra / sizeof *extra, NM = sizeof merges / sizeof *merges, N = 256 + NE };
    static char store[256][4];
    const char *toks[N];
    uint32_t lens[N], mlens[NM];
    int32_t types[N];
    for (int i = 0; i < 256; i++) {
        lens[i] = (uint32_t)uni_utf8_encode(bpe_byte_char((uint8_t)i), (uint8_t *)store[i]);
        toks[i] = store[i];
        types[i] = 1;
    }
    for (int i = 0; i < NE; i++) {
        toks[256 + i] = extra[i];
        lens[256 + i] = (uint32_t)strlen(extra[i]);
        types[256 + i] = extra[i][0] == '<' ? (i % 2 ? 3 : 4) : 1;
    }
    for (int i = 0; i < NM; i++) mlens[i] = (uint32_t)strlen(merges[i]);
    for (int p = 0; p < 2; p++) {
        char err[256];
        /* GPT-2's split with HF's lstrip / rstrip: <x> and <|e|> take the
         * whitespace before them, <xy> and <|e|> the whitespace after */
        static const int32_t ls[] = { 256 + 9, 256 + 11 }, rs[] = { 256 + 10, 256 + 11 };
        bpe_options o = { .pre = p ? BPE_PRE_GPT2 : BPE_PRE_QWEN2, .nfc = 1, .ignore_merges = p,
                          .lstrip = p ? ls : NULL, .n_lstrip = p ? 2 : 0, .rstrip = p ? rs : NULL, .n_rstrip = p ? 2 : 0 };
        B[p] = bpe_create(N, toks, lens, types, NM, merges, mlens, &o, err, sizeof err);
        FUZZ_CHECK(B[p] != NULL, "bpe_create: %s", err);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    build();
    return 0;
}

/* the whole-string NFC of valid UTF-8 against the stream */
static void check_nfc(const uint8_t *s, size_t n)
{
    static uint32_t cps[MAX_IN], ref[MAX_IN * UNI_MAX_DECOMP];
    int m = 0;
    for (size_t p = 0; p < n;) {
        int k = uni_utf8_decode(s + p, n - p, &cps[m]);
        if (k < 0) return;
        p += (size_t)k;
        m++;
    }
    int d = uni_nfd(cps, m, ref, MAX_IN * UNI_MAX_DECOMP);
    FUZZ_CHECK(d >= 0, "uni_nfd overflow");
    d = uni_nfc_compose(ref, d);
    nfc_stream st;
    nfc_stream_init(&st, s, n, 1);
    uint32_t cp;
    int i = 0, r;
    while ((r = nfc_stream_next(&st, &cp)) == 1) {
        FUZZ_CHECK(i < d && cp == ref[i], "NFC stream: code point %d is U+%04X, whole-string NFC U+%04X", i, cp,
                   i < d ? ref[i] : 0);
        i++;
    }
    FUZZ_CHECK(r == 0 && i == d, "NFC stream: %d code points (status %d), whole-string NFC %d", i, r, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_IN) return 0;
    const bpe *b = B[data[0] & 1];
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    static int32_t ids[3 * MAX_IN + 1], pre[3 * MAX_IN + 1];
    char err[256];
    int full = bpe_encode(b, text, n, ids, 3 * MAX_IN + 1, -1, err, sizeof err);
    int valid = 1;
    for (size_t p = 0; p < n;) {
        uint32_t cp;
        int k = uni_utf8_decode((const uint8_t *)text + p, n - p, &cp);
        if (k < 0) { valid = 0; break; }
        p += (size_t)k;
    }
    if (full == TOK_ERR_TEXT) {
        FUZZ_CHECK(!valid, "valid UTF-8 refused: %s", err);
        return 0;
    }
    /* NFC may make a text up to three times as long (bpe.h) */
    FUZZ_CHECK(full >= 0 && full <= 3 * (int)n, "encode returned %d for %zu bytes", full, n);
    FUZZ_CHECK(valid, "invalid UTF-8 accepted (%d ids)", full);
    for (int i = 0; i < full; i++)
        FUZZ_CHECK(ids[i] >= 0 && ids[i] < bpe_n_tokens(b), "id %d out of range", ids[i]);
    FUZZ_CHECK(bpe_encode(b, text, n, NULL, 0, -1, err, sizeof err) == full, "counting differs from encoding");
    for (int k = 1; k < full; k = k < 8 ? k + 1 : k * 2) {
        int got = bpe_encode(b, text, n, pre, k, k, err, sizeof err);
        FUZZ_CHECK(got == k && memcmp(pre, ids, (size_t)k * sizeof *ids) == 0, "stop at %d: not a prefix", k);
    }
    check_nfc((const uint8_t *)text, n);
    return 0;
}
