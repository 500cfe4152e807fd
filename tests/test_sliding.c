/* Long texts as sliding windows (ember_ctx_set_long_mode): a text that fits
 * is embedded bit for bit as in truncate mode; a long one is the mean of
 * its windows, each checked against the window embedded by hand as its own
 * input (rerankers: test_sliding_rerank.c).  On a synthetic BERT (always) and the
 * BERT and Qwen3 fixtures (skipped without them), documents and, for
 * Qwen3, instructed queries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"
#include "tests/fixtures.h"
#include "tests/goldens.h"
#include "tests/synth_model.h"
#include "tests/words.h"

#define TASK "Find it"

static ember_model *load_ok(const char *path)
{
    char err[512];
    ember_model *m = ember_model_load(path, err, sizeof err);
    if (!m) fail_msg("load %s: %s", path, err);
    return m;
}

static const char *synth_path(int rank)
{
    static char p[2][512];
    synth_opts o = synth_defaults();
    o.rank = rank;
    snprintf(p[rank], sizeof p[rank], "%s/synth-%s.gguf", test_tmpdir(), rank ? "rank" : "embed");
    assert_int_equal(synth_bert_write(p[rank], &o), 0);
    return p[rank];
}

static ember_ctx *ctx_ok(const ember_model *m, int max_batch, int max_tokens)
{
    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = max_batch;
    p.max_tokens = max_tokens;
    p.n_threads = 1;
    char err[512];
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    if (!c) fail_msg("context: %s", err);
    return c;
}

/* Special tokens of a single text (the template's). */
static int n_specials(ember_ctx *c)
{
    int32_t ids[16];
    int n = 0;
    assert_int_equal(ember_tokenize(c, "", 0, NULL, 0, 1, 0, ids, NULL, 16, &n), EMBER_OK);
    return n;
}

/* Tokens of Qwen3's query prompt alone, "Instruct: TASK\nQuery:". */
static int prompt_tokens(ember_ctx *c, const ember_model_info *info)
{
    assert_string_equal(info->query_prompt, "Instruct: {task}\nQuery:{text}");
    const char *p = "Instruct: " TASK "\nQuery:";
    int32_t ids[64];
    int n = 0;
    assert_int_equal(ember_tokenize(c, p, strlen(p), NULL, 0, 0, 0, ids, NULL, 64, &n), EMBER_OK);
    return n;
}

/* (1) Texts that fit: the same bits in both modes, alone and in a batch
 * around a long one (whose first window is its cut text: the batch is
 * chunked as in truncate mode). */
static void check_short_identical(const ember_model *m, int max_tokens, int flags, const char *what)
{
    ember_model_info info;
    ember_model_get_info(m, &info);
    const int H = info.dim;
    ember_ctx *t = ctx_ok(m, 32, max_tokens), *s = ctx_ok(m, 32, max_tokens);
    if (flags & EMBER_EMBED_QUERY) {
        assert_int_equal(ember_ctx_set_instruction(t, TASK), EMBER_OK);
        assert_int_equal(ember_ctx_set_instruction(s, TASK), EMBER_OK);
    }
    assert_int_equal(ember_ctx_set_long_mode(s, EMBER_LONG_SLIDING, -1), EMBER_OK);
    words_vocab v;
    words_find(t, &v);
    char a[256], b[4096], d[256];
    words_text(&v, 0, 3, a, sizeof a);
    words_text(&v, 0, 60, b, sizeof b);
    words_text(&v, 5, 9, d, sizeof d);
    const char *texts[4] = { a, b, d, "" };
    float *ft = malloc(4 * (size_t)H * sizeof(float)), *fs = malloc(4 * (size_t)H * sizeof(float));
    for (int raw = 0; raw < 2; raw++) {
        int fl = flags | (raw ? EMBER_EMBED_NO_NORMALIZE : 0);
        assert_int_equal(ember_embed(t, texts, NULL, 4, fl, ft), EMBER_OK);
        assert_int_equal(ember_embed(s, texts, NULL, 4, fl, fs), EMBER_OK);
        assert_int_equal(ember_ctx_truncated(t), 1);
        assert_int_equal(ember_ctx_truncated(s), 0);
        assert_int_equal(ember_ctx_split(t), 0);
        assert_int_equal(ember_ctx_split(s), 1);
        for (int i = 0; i < 4; i++)
            if (i != 1 && memcmp(ft + (size_t)i * H, fs + (size_t)i * H, (size_t)H * sizeof(float)) != 0)
                fail_msg("%s: text %d (short) differs between truncate and sliding mode", what, i);
        /* and alone */
        assert_int_equal(ember_embed(t, texts, NULL, 1, fl, ft), EMBER_OK);
        assert_int_equal(ember_embed(s, texts, NULL, 1, fl, fs), EMBER_OK);
        assert_memory_equal(ft, fs, (size_t)H * sizeof(float));
        assert_int_equal(ember_ctx_split(s), 0);
        assert_int_equal(ember_ctx_windows(s), 0);
    }
    free(ft);
    free(fs);
    ember_ctx_free(t);
    ember_ctx_free(s);
}

/* (2) A long text is the mean of its windows: window k's words embedded
 * by hand as their own input (its ids checked to be the window's), the
 * raw vectors averaged, then normalised. */
static void check_windows_mean(const ember_model *m, int max_batch, int max_tokens, int overlap, int flags, int n_words,
                               const char *what)
{
    ember_model_info info;
    ember_model_get_info(m, &info);
    const int H = info.dim;
    ember_ctx *t = ctx_ok(m, 32, max_tokens), *s = ctx_ok(m, max_batch, max_tokens);
    if (flags & EMBER_EMBED_QUERY) {
        assert_int_equal(ember_ctx_set_instruction(t, TASK), EMBER_OK);
        assert_int_equal(ember_ctx_set_instruction(s, TASK), EMBER_OK);
    }
    assert_int_equal(ember_ctx_set_long_mode(s, EMBER_LONG_SLIDING, overlap), EMBER_OK);
    words_vocab v;
    words_find(t, &v);
    static char text[4096], win[4096];
    size_t len = words_text(&v, 0, n_words, text, sizeof text);
    words_expect_ids(t, &v, text, len, n_words);
    const int P = flags & EMBER_EMBED_QUERY ? prompt_tokens(t, &info) : 0;
    const int W = max_tokens - n_specials(t) - P, ov = overlap < 0 ? W / 4 : overlap, stride = W - ov;
    assert_true(n_words > W);
    const int n_win = 1 + (n_words - W + stride - 1) / stride;
    float *got = malloc((size_t)H * sizeof(float)), *raw = malloc((size_t)H * sizeof(float));
    float *sum = calloc((size_t)H, sizeof(float)), *one = malloc((size_t)H * sizeof(float));
    const char *tp = text;
    assert_int_equal(ember_embed(s, &tp, &len, 1, flags, got), EMBER_OK);
    assert_int_equal(ember_ctx_split(s), 1);
    assert_int_equal(ember_ctx_windows(s), n_win);
    assert_int_equal(ember_ctx_truncated(s), 0);
    assert_int_equal(ember_embed(s, &tp, &len, 1, flags | EMBER_EMBED_NO_NORMALIZE, raw), EMBER_OK);
    for (int k = 0; k < n_win; k++) {
        int from = k == n_win - 1 ? n_words - W : k * stride;
        size_t wl = words_text(&v, from, from + W, win, sizeof win);
        const char *wp = win;
        assert_int_equal(ember_embed(t, &wp, &wl, 1, flags | EMBER_EMBED_NO_NORMALIZE, one), EMBER_OK);
        assert_int_equal(ember_ctx_truncated(t), 0); /* the window fills max_tokens exactly */
        for (int i = 0; i < H; i++) sum[i] += one[i];
    }
    for (int i = 0; i < H; i++) sum[i] /= (float)n_win;
    for (int i = 0; i < H; i++)
        if (fabsf(raw[i] - sum[i]) > 1e-6f)
            fail_msg("%s: raw dimension %d is %.9g, the windows' mean %.9g", what, i, (double)raw[i], (double)sum[i]);
    if (info.normalize) ember_l2_normalize(sum, H);
    for (int i = 0; i < H; i++)
        if (fabsf(got[i] - sum[i]) > 1e-6f)
            fail_msg("%s: dimension %d is %.9g, the windows' mean %.9g", what, i, (double)got[i], (double)sum[i]);
    /* and not the truncated text's vector */
    assert_int_equal(ember_embed(t, &tp, &len, 1, flags, one), EMBER_OK);
    double diff = 0;
    for (int i = 0; i < H; i++) diff += fabs(one[i] - got[i]);
    assert_true(diff > 1e-3);
    free(got); free(raw); free(sum); free(one);
    ember_ctx_free(t);
    ember_ctx_free(s);
}

static void check_embedder(const ember_model *m, int max_tokens, int flags, const char *what)
{
    check_short_identical(m, max_tokens, flags, what);
    check_windows_mean(m, 32, max_tokens, -1, flags, 60, what);
    check_windows_mean(m, 2, max_tokens, -1, flags, 60, what); /* passes of 2 windows */
    check_windows_mean(m, 1, max_tokens, 0, flags, 37, what);  /* abutting windows, one a pass */
    check_windows_mean(m, 3, max_tokens, 5, flags, 41, what);
}

static void test_synth_bert(void **state)
{
    (void)state;
    ember_model *m = load_ok(synth_path(0));
    check_embedder(m, 16, 0, "synthetic bert");
    ember_model_free(m);
}

static void test_fixture_bert(void **state)
{
    (void)state;
    const char *gguf = golden_converted("minilm-embed-tiny", "f32");
    if (!gguf) { skip(); return; }
    ember_model *m = load_ok(gguf);
    check_embedder(m, 16, 0, "minilm-embed-tiny");
    ember_model_free(m);
}

static void test_fixture_qwen3(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-embed-tiny", "f32");
    if (!gguf) { skip(); return; }
    ember_model *m = load_ok(gguf);
    check_embedder(m, 16, 0, "qwen3-embed-tiny document");
    check_embedder(m, 28, EMBER_EMBED_QUERY, "qwen3-embed-tiny query");
    /* a prompt that fills max_tokens leaves no window: the query is cut */
    ember_ctx *s = ctx_ok(m, 4, 6);
    assert_int_equal(ember_ctx_set_instruction(s, TASK), EMBER_OK);
    assert_int_equal(ember_ctx_set_long_mode(s, EMBER_LONG_SLIDING, -1), EMBER_OK);
    float v[4096];
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_true(info.dim <= 4096);
    const char *q = "what is the capital of france";
    assert_int_equal(ember_embed(s, &q, NULL, 1, EMBER_EMBED_QUERY, v), EMBER_OK);
    assert_int_equal(ember_ctx_truncated(s), 1);
    assert_int_equal(ember_ctx_split(s), 0);
    ember_ctx_free(s);
    ember_model_free(m);
}

/* (3) Bad arguments: an unknown mode or an overlap as large as the window
 * is refused with a message; a failed call counts nothing. */
static void test_bad_arguments(void **state)
{
    (void)state;
    ember_model *m = load_ok(synth_path(0));
    ember_ctx *c = ctx_ok(m, 4, 16); /* a document's window: 14 tokens */
    assert_int_equal(ember_ctx_set_long_mode(NULL, EMBER_LONG_SLIDING, -1), EMBER_ERR_ARG);
    assert_int_equal(ember_ctx_set_long_mode(c, (ember_long_mode)7, -1), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_ctx_error(c), "7"));
    assert_int_equal(ember_ctx_set_long_mode(c, EMBER_LONG_SLIDING, 14), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_ctx_error(c), "overlap"));
    assert_int_equal(ember_ctx_set_long_mode(c, EMBER_LONG_SLIDING, 13), EMBER_OK);
    /* 18 words: windows at 0 and 4 (the last one shifted back); a failed
     * call then counts nothing */
    assert_int_equal(ember_ctx_set_long_mode(c, EMBER_LONG_SLIDING, -1), EMBER_OK);
    const char *texts[2] = { "the cat sat on the mat the dog sat on the mat the fox sat on the mat", NULL };
    float v[2 * 32];
    assert_int_equal(ember_embed(c, texts, NULL, 1, 0, v), EMBER_OK);
    assert_int_equal(ember_ctx_split(c), 1);
    assert_int_equal(ember_ctx_windows(c), 2);
    assert_int_equal(ember_embed(c, texts, NULL, 2, 0, v), EMBER_ERR_ARG);
    assert_int_equal(ember_ctx_split(c), 0);
    assert_int_equal(ember_ctx_windows(c), 0);
    ember_ctx_free(c);
    ember_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synth_bert),
        cmocka_unit_test(test_fixture_bert),
        cmocka_unit_test(test_fixture_qwen3),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
