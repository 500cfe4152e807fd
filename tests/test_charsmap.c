/* The pieces under the Unigram normalizer: grapheme clusters (UAX #29,
 * against the UCD's GraphemeBreakTest.txt when the machine has it, and
 * hand-picked cases always) and the precompiled charsmap (a hand-built
 * double array looked up as HF looks it up, every corruption refused with
 * its reason). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/charsmap.h"
#include "tokenizer/grapheme.h"

/* the boundaries uni_gb_next gives cps: breaks[i] before cps[i] */
static void check_breaks(const uint32_t *cps, const int *want, int n, const char *what)
{
    uni_gb_state st;
    uni_gb_init(&st);
    for (int i = 0; i < n; i++) {
        int b = uni_gb_next(&st, cps[i]);
        if (b != want[i]) fail_msg("%s: before U+%04X (#%d): %s, expected %s", what, cps[i], i, b ? "break" : "no break",
                                   want[i] ? "break" : "no break");
    }
}

static void test_grapheme_cases(void **state)
{
    (void)state;
    static const struct { uint32_t cp[6]; int brk[6]; int n; const char *what; } c[] = {
        { { 'a', 'b' }, { 1, 1 }, 2, "letters" },
        { { '\r', '\n', 'a' }, { 1, 0, 1 }, 3, "CR LF" },
        { { 'a', 0x301, 0x302, 'b' }, { 1, 0, 0, 1 }, 4, "marks" },
        { { '\n', 0x301 }, { 1, 1 }, 2, "LF then a mark" },
        { { 0xB2, 0x301 }, { 1, 0 }, 2, "superscript two and a mark" },
        { { 0x600, 'a', 'b' }, { 1, 0, 1 }, 3, "Prepend" },
        { { 'a', 0x903 }, { 1, 0 }, 2, "SpacingMark" },
        { { 0x1F1EB, 0x1F1F7, 0x1F1FA, 0x1F1F8, 0x1F1EB }, { 1, 0, 1, 0, 1 }, 5, "regional indicators" },
        { { 0x1F468, 0x200D, 0x1F469 }, { 1, 0, 0 }, 3, "ZWJ sequence" },
        { { 'a', 0x200D, 0x1F469 }, { 1, 0, 1 }, 3, "ZWJ after a letter" },
        { { 0x1100, 0x1161, 0x11A8, 0xAC00, 0x11A8 }, { 1, 0, 0, 1, 0 }, 5, "Hangul" },
        { { 0x1, 0x301 }, { 1, 1 }, 2, "control then a mark" },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) check_breaks(c[i].cp, c[i].brk, c[i].n, c[i].what);
}

/* Every line of the UCD's GraphemeBreakTest.txt (÷ break, × none). */
static void test_grapheme_ucd(void **state)
{
    (void)state;
    FILE *f = fopen("/usr/share/unicode/auxiliary/GraphemeBreakTest.txt", "r");
    if (!f) {
        printf("GraphemeBreakTest.txt not here (Debian: unicode-data): only the hand-picked cases run\n");
        skip();
        return;
    }
    char line[4096];
    int n_lines = 0;
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        uint32_t cps[64];
        int brk[64], n = 0, pending = 1;
        for (char *p = line; *p;) {
            if (!strncmp(p, "\xC3\xB7", 2)) { pending = 1; p += 2; continue; } /* ÷ */
            if (!strncmp(p, "\xC3\x97", 2)) { pending = 0; p += 2; continue; } /* × */
            if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F')) {
                char *e;
                unsigned long v = strtoul(p, &e, 16);
                assert_true(n < 64);
                cps[n] = (uint32_t)v;
                brk[n++] = pending;
                p = e;
                continue;
            }
            p++;
        }
        if (n == 0) continue;
        char what[48];
        snprintf(what, sizeof what, "GraphemeBreakTest line %d", n_lines + 1);
        check_breaks(cps, brk, n, what);
        n_lines++;
    }
    fclose(f);
    printf("GraphemeBreakTest.txt: %d lines\n", n_lines);
    assert_true(n_lines > 500);
}

/* ---- the charsmap ---- */

enum { N_UNITS = 1024, LEAF = 1 << 8, VALUE = 1u << 31 };

static uint32_t off(uint32_t o) { return o << 10; } /* an offset below 2^21, unscaled */

/* "A" -> "a", "AB" -> "xyz", "\u00e9" (C3 A9) -> "" , in a 1024-unit array */
static size_t build(uint8_t *blob, uint32_t *unit, const char *pool, size_t pool_len)
{
    memset(unit, 0, N_UNITS * sizeof *unit);
    unit[0] = off(256);                          /* root: children at 256 ^ byte */
    unit[256 ^ 'A'] = 'A' | LEAF | off(512);     /* 321 -> node 833 */
    unit[833] = VALUE | 0;                       /* "a" */
    unit[833 ^ 'B'] = 'B' | LEAF | off(256);     /* 771 -> node 515 */
    unit[515] = VALUE | 2;                       /* "xyz" */
    unit[256 ^ 0xC3] = 0xC3 | off(128);          /* 451 -> node 323 */
    unit[323 ^ 0xA9] = 0xA9 | LEAF | off(64);    /* 490 -> node 426 */
    unit[(323 ^ 0xA9) ^ 64] = VALUE | 6;         /* "" */
    uint32_t ts = N_UNITS * 4;
    memcpy(blob, &ts, 4);
    for (int i = 0; i < N_UNITS; i++) memcpy(blob + 4 + 4 * i, &unit[i], 4);
    memcpy(blob + 4 + ts, pool, pool_len);
    return 4 + ts + pool_len;
}

static const char POOL[] = "a\0xyz\0\0";
#define POOL_LEN (sizeof POOL - 1)

static void expect(const ug_charsmap *m, const char *key, size_t n, const char *want)
{
    const char *rep;
    uint32_t rl;
    int r = ug_charsmap_match(m, (const uint8_t *)key, n, &rep, &rl);
    if (!want) {
        if (r) fail_msg("key %.*s matched", (int)n, key);
        return;
    }
    if (!r) fail_msg("key %.*s did not match", (int)n, key);
    assert_int_equal(rl, strlen(want));
    assert_memory_equal(rep, want, rl);
}

static void test_charsmap_lookup(void **state)
{
    (void)state;
    static uint8_t blob[4 + N_UNITS * 4 + 64];
    static uint32_t unit[N_UNITS];
    size_t len = build(blob, unit, POOL, POOL_LEN);
    ug_charsmap m;
    char err[256];
    if (ug_charsmap_init(&m, blob, len, err, sizeof err)) fail_msg("%s", err);
    expect(&m, "A", 1, "a");
    expect(&m, "AB", 2, "a");       /* the shortest key, as HF takes it */
    expect(&m, "B", 1, NULL);
    expect(&m, "\0A", 2, NULL);     /* a NUL ends the key */
    expect(&m, "\xC3\xA9", 2, "");  /* replaced by nothing */
    expect(&m, "\xC3", 1, NULL);
    ug_charsmap_free(&m);
}

static void expect_refused(const uint8_t *blob, size_t len, const char *why)
{
    ug_charsmap m;
    char err[256] = "";
    if (ug_charsmap_init(&m, blob, len, err, sizeof err) == 0) fail_msg("accepted; expected: %s", why);
    if (!strstr(err, why)) fail_msg("message \"%s\" does not say \"%s\"", err, why);
}

static void test_charsmap_corrupt(void **state)
{
    (void)state;
    static uint8_t blob[4 + N_UNITS * 4 + 64];
    static uint32_t unit[N_UNITS];
    size_t len = build(blob, unit, POOL, POOL_LEN);
    expect_refused(blob, 3, "too short");
    expect_refused(NULL, 0, "too short");
    uint32_t ts = 6;
    memcpy(blob, &ts, 4);
    expect_refused(blob, len, "multiple of 4");
    ts = 0;
    memcpy(blob, &ts, 4);
    expect_refused(blob, len, "multiple of 4");
    ts = (uint32_t)len;
    memcpy(blob, &ts, 4);
    expect_refused(blob, len, "does not fit");
    ts = 0xFFFFFFFCu;
    memcpy(blob, &ts, 4);
    expect_refused(blob, len, "does not fit");
    /* the pool is not UTF-8 */
    len = build(blob, unit, "a\0\xFF\0", 4);
    expect_refused(blob, len, "not UTF-8");
    /* a value past the pool */
    len = build(blob, unit, POOL, POOL_LEN);
    uint32_t bad = VALUE | 1000;
    memcpy(blob + 4 + 4 * 833, &bad, 4);
    expect_refused(blob, len, "outside the");
    /* a leaf whose value unit is past the array */
    len = build(blob, unit, POOL, POOL_LEN);
    bad = 'A' | LEAF | off(2048);
    memcpy(blob + 4 + 4 * (256 ^ 'A'), &bad, 4);
    expect_refused(blob, len, "outside the trie");
    /* a value inside a UTF-8 character */
    len = build(blob, unit, "\xC3\xA9\0xyz\0\0", 8);
    bad = VALUE | 1;
    memcpy(blob + 4 + 4 * 833, &bad, 4);
    expect_refused(blob, len, "inside a UTF-8 character");
    /* a blob over the limit */
    uint8_t *huge = calloc(UG_CHARSMAP_MAX + 8, 1);
    assert_non_null(huge);
    expect_refused(huge, UG_CHARSMAP_MAX + 8, "ember reads up to");
    free(huge);
}

/* A corrupt array can cycle: the check walks each position once per depth
 * and lookups stop at the key's length. */
static void test_charsmap_cycle(void **state)
{
    (void)state;
    static uint8_t blob[4 + N_UNITS * 4 + 64];
    static uint32_t unit[N_UNITS];
    size_t len = build(blob, unit, POOL, POOL_LEN);
    uint32_t loop = 'A' | off(0x41); /* node 321 -> 256 -> its child on 'A' is 321 again */
    memcpy(blob + 4 + 4 * (256 ^ 'A'), &loop, 4);
    ug_charsmap m;
    char err[256];
    if (ug_charsmap_init(&m, blob, len, err, sizeof err)) fail_msg("%s", err);
    const char *rep;
    uint32_t rl;
    assert_int_equal(ug_charsmap_match(&m, (const uint8_t *)"AAAAA", 5, &rep, &rl), 0);
    ug_charsmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grapheme_cases),
        cmocka_unit_test(test_grapheme_ucd),
        cmocka_unit_test(test_charsmap_lookup),
        cmocka_unit_test(test_charsmap_corrupt),
        cmocka_unit_test(test_charsmap_cycle),
    };
    return cmocka_run_group_tests_name("charsmap", tests, NULL, NULL);
}
