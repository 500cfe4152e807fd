/* One-token words for window tests (words.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "tests/words.h"

void words_find(ember_ctx *c, words_vocab *v)
{
    static const char *cand[] = {
        "the", "a", "of", "and", "to", "in", "is", "it", "paris", "france", "capital", "city", "hello", "world",
        "quick", "brown", "fox", "dog", "lazy", "over", "jumps", "what", "cat", "sat", "on", "mat", "day", "night",
    };
    v->n = 0;
    for (size_t i = 0; i < sizeof cand / sizeof *cand && v->n < WORDS_MAX; i++) {
        char t[20];
        int32_t ids[8];
        int n = 0;
        int len = snprintf(t, sizeof t, " %s", cand[i]);
        if (ember_tokenize(c, t, (size_t)len, NULL, 0, 0, 0, ids, NULL, 8, &n) != EMBER_OK || n != 1) continue;
        snprintf(v->w[v->n], sizeof v->w[v->n], "%s", t);
        v->id[v->n++] = ids[0];
    }
    assert_true(v->n >= 8);
}

size_t words_text(const words_vocab *v, int from, int to, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = from; i < to; i++) len += (size_t)snprintf(buf + len, cap - len, "%s", v->w[(7 * i + 3) % v->n]);
    assert_true(len < cap);
    return len;
}

void words_expect_ids(ember_ctx *c, const words_vocab *v, const char *text, size_t len, int n_words)
{
    static int32_t ids[1024];
    int n = 0;
    assert_true(n_words <= 1024);
    assert_int_equal(ember_tokenize(c, text, len, NULL, 0, 0, 0, ids, NULL, 1024, &n), EMBER_OK);
    assert_int_equal(n, n_words);
    for (int i = 0; i < n; i++) assert_int_equal(ids[i], v->id[(7 * i + 3) % v->n]);
}
