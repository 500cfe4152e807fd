/* Long (query, document) pairs (ember_ctx_set_long_mode on a reranker).
 * Truncation, the default, is HuggingFace's longest_first: the query whole
 * when it takes at most half of what the specials leave.  In sliding mode
 * a pair that fits is scored bit for bit as in truncate mode, and a long
 * one gets the largest logit of its document's windows, each window
 * checked against the pair (query, the window's words) reranked by hand
 * in truncate mode.  On a synthetic BERT cross-encoder (always) and the
 * BERT, XLM-R and Qwen3-Reranker fixtures (skipped without them). */
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
#include "tools/commands.h"

#define TEXT_CAP 8192

static ember_model *load_ok(const char *path)
{
    char err[512];
    ember_model *m = ember_model_load(path, err, sizeof err);
    if (!m) fail_msg("load %s: %s", path, err);
    return m;
}

static const char *synth_rank_path(void)
{
    static char p[512];
    synth_opts o = synth_defaults();
    o.rank = 1;
    snprintf(p, sizeof p, "%s/synth-rank.gguf", test_tmpdir());
    assert_int_equal(synth_bert_write(p, &o), 0);
    return p;
}

static ember_ctx *ctx_ok(const ember_model *m, int max_batch, int max_tokens, int sliding, int overlap)
{
    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = max_batch;
    p.max_tokens = max_tokens;
    p.n_threads = 1;
    char err[512];
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    if (!c) fail_msg("context: %s", err);
    if (sliding && ember_ctx_set_long_mode(c, EMBER_LONG_SLIDING, overlap) != EMBER_OK)
        fail_msg("set_long_mode: %s", ember_ctx_error(c));
    return c;
}

/* Words from .. to-1 as a text without the space before its first word
 * (the prompt's format puts one there); its length in *len. */
static const char *words(const words_vocab *v, int from, int to, char *buf, size_t *len)
{
    *len = words_text(v, from, to, buf, TEXT_CAP) - 1;
    return buf + 1;
}

static float rerank1(ember_ctx *c, const char *q, size_t ql, const char *d, size_t dl)
{
    float logit;
    if (ember_rerank(c, q, ql, &d, &dl, 1, &logit) != EMBER_OK) fail_msg("rerank: %s", ember_ctx_error(c));
    return logit;
}

static void expect_same_bits(float got, float want, const char *what, const char *which)
{
    if (memcmp(&got, &want, sizeof got) != 0)
        fail_msg("%s: %s: %.9g, expected %.9g bit for bit", what, which, (double)got, (double)want);
}

/* Tokens a cross-encoder's pair template adds. */
static int pair_specials(ember_ctx *c)
{
    int32_t ids[16];
    int n = 0;
    assert_int_equal(ember_tokenize(c, "", 0, "", 0, 1, 0, ids, NULL, 16, &n), EMBER_OK);
    return n;
}

/* The most document words (query q) that are scored whole in truncate
 * context t: what a window of the document holds beside that query. */
static int fitting_words(ember_ctx *t, const words_vocab *v, const char *q, size_t ql)
{
    static char buf[TEXT_CAP];
    int k = 0;
    for (;; k++) {
        size_t dl;
        const char *d = words(v, 0, k + 1, buf, &dl);
        rerank1(t, q, ql, d, dl);
        if (ember_ctx_truncated(t)) return k;
        assert_true(k < 400);
    }
}

/* (1) Truncation (the default) is longest_first: with B the tokens the
 * specials leave, a query of at most B/2 tokens is kept whole and the
 * document cut to the rest; past that the shorter side keeps B/2 (rounded
 * down) unless it has fewer, and the longer one the rest.  Each case is
 * the same bits as the pair written already cut. */
static void check_truncation_rule(const ember_model *m, int max_tokens, const char *what)
{
    ember_ctx *t = ctx_ok(m, 4, max_tokens, 0, -1);
    words_vocab v;
    words_find(t, &v);
    const int B = max_tokens - pair_specials(t);
    static char qb[TEXT_CAP], db[TEXT_CAP], qcb[TEXT_CAP], dcb[TEXT_CAP];
    /* query words, document words, and what longest_first keeps of each */
    const int cases[4][4] = {
        { 3, 40, 3, B - 3 },                       /* short query: whole */
        { B / 2, 40, B / 2, B - B / 2 },           /* half exactly: whole */
        { B / 2 + 2, 40, B / 2, B - B / 2 },       /* longer query, longer document: halves */
        { 40, 2, B - 2, 2 },                       /* short document: whole, the query cut */
    };
    for (int i = 0; i < 4; i++) {
        size_t ql, dl, qcl, dcl;
        const char *q = words(&v, 100, 100 + cases[i][0], qb, &ql), *d = words(&v, 0, cases[i][1], db, &dl);
        const char *qc = words(&v, 100, 100 + cases[i][2], qcb, &qcl), *dc = words(&v, 0, cases[i][3], dcb, &dcl);
        float got = rerank1(t, q, ql, d, dl);
        assert_int_equal(ember_ctx_truncated(t), 1);
        float want = rerank1(t, qc, qcl, dc, dcl);
        assert_int_equal(ember_ctx_truncated(t), 0);
        char which[64];
        snprintf(which, sizeof which, "longest_first case %d", i);
        expect_same_bits(got, want, what, which);
    }
    /* a query longer than the document when both pass B/2: the query
     * keeps the odd token */
    const int Bq = B - B / 2, Bd = B / 2;
    size_t ql, dl, qcl, dcl;
    const char *q = words(&v, 100, 100 + B, qb, &ql), *d = words(&v, 0, B - 1, db, &dl);
    const char *qc = words(&v, 100, 100 + Bq, qcb, &qcl), *dc = words(&v, 0, Bd, dcb, &dcl);
    expect_same_bits(rerank1(t, q, ql, d, dl), rerank1(t, qc, qcl, dc, dcl), what, "longest_first, the query longer");
    ember_ctx_free(t);
}

/* (2) Pairs that fit: the same bits in both modes, alone and in a batch
 * around long ones (whose first window is their cut pair, batched where
 * truncation batches it). */
static void check_fits_identical(const ember_model *m, int max_tokens, const char *what)
{
    ember_ctx *t = ctx_ok(m, 32, max_tokens, 0, -1), *s = ctx_ok(m, 32, max_tokens, 1, -1);
    words_vocab v;
    words_find(t, &v);
    static char qb[TEXT_CAP], b0[TEXT_CAP], b1[TEXT_CAP], b2[TEXT_CAP], b3[TEXT_CAP];
    size_t ql, lens[5];
    const char *q = words(&v, 100, 103, qb, &ql);
    const char *docs[5];
    docs[0] = words(&v, 0, 3, b0, &lens[0]);
    docs[1] = words(&v, 0, 90, b1, &lens[1]);
    docs[2] = words(&v, 5, 9, b2, &lens[2]);
    docs[3] = words(&v, 7, 70, b3, &lens[3]);
    docs[4] = "";
    lens[4] = 0;
    float ft[5], fs[5];
    assert_int_equal(ember_rerank(t, q, ql, docs, lens, 5, ft), EMBER_OK);
    assert_int_equal(ember_rerank(s, q, ql, docs, lens, 5, fs), EMBER_OK);
    assert_int_equal(ember_ctx_truncated(t), 2);
    assert_int_equal(ember_ctx_split(t), 0);
    assert_int_equal(ember_ctx_truncated(s), 0);
    assert_int_equal(ember_ctx_split(s), 2);
    assert_true(ember_ctx_windows(s) >= 4);
    for (int i = 0; i < 5; i++) {
        if (i == 1 || i == 3) {
            /* a long one's best window is at least its first, the cut pair */
            if (!(fs[i] >= ft[i])) fail_msg("%s: doc %d: sliding %.9g below its cut pair's %.9g", what, i, (double)fs[i], (double)ft[i]);
            continue;
        }
        char which[48];
        snprintf(which, sizeof which, "doc %d (fits) in a batch", i);
        expect_same_bits(fs[i], ft[i], what, which);
        expect_same_bits(rerank1(s, q, ql, docs[i], lens[i]), rerank1(t, q, ql, docs[i], lens[i]), what,
                         "a pair that fits, alone");
        assert_int_equal(ember_ctx_split(s), 0);
        assert_int_equal(ember_ctx_windows(s), 0);
    }
    /* a long one alone: as in the batch, up to the rounding of other batch shapes */
    float one = rerank1(s, q, ql, docs[1], lens[1]);
    if (fabsf(one - fs[1]) > 1e-5f * (1 + fabsf(one))) fail_msg("%s: doc 1 alone %.9g, in a batch %.9g", what, (double)one, (double)fs[1]);
    ember_ctx_free(t);
    ember_ctx_free(s);
}

/* (3) A long pair's logit is the largest of its windows': window k holds
 * document words k * (W - overlap) on (the last one shifted back to end
 * with the document), W being what the query leaves; each is reranked by
 * hand as the pair (query as cut, the window's words) in truncate mode.
 * qw query words (cut to the cross-encoder's half when longer), n_words
 * document words = mult * W + extra.  max_batch 1 runs every window
 * alone, so the logit is exactly a window's.  Returns the best window. */
static int check_windows_max(const ember_model *m, int cross, int max_batch, int max_tokens, int overlap, int qw,
                             int mult, int extra, const char *what)
{
    ember_ctx *t = ctx_ok(m, 32, max_tokens, 0, -1), *s = ctx_ok(m, max_batch, max_tokens, 1, overlap);
    words_vocab v;
    words_find(t, &v);
    static char qb[TEXT_CAP], qcb[TEXT_CAP], db[TEXT_CAP], wb[TEXT_CAP];
    size_t ql, qcl;
    const char *q = words(&v, 100, 100 + qw, qb, &ql);
    /* the query every window holds, and the window beside it */
    int qk = qw, W;
    const int B = cross ? max_tokens - pair_specials(t) : 0;
    if (cross) {
        if (qk > B / 2) qk = B / 2; /* as long as the document is longer */
        W = B - qk;
        if (qk == qw) assert_int_equal(fitting_words(t, &v, q, ql), W);
    } else {
        W = fitting_words(t, &v, q, ql);
    }
    const int n_words = mult * W + extra;
    if (cross && qw > B / 2 && qw > n_words) { /* a query longer than the document keeps the odd token */
        qk = B - B / 2;
        W = B / 2;
    }
    const char *qc = words(&v, 100, 100 + qk, qcb, &qcl);
    assert_true(W >= 4);
    assert_true(n_words > W);
    size_t dl = words_text(&v, 0, n_words, db, TEXT_CAP);
    words_expect_ids(t, &v, db, dl, n_words);
    const char *d = db + 1;
    dl--;
    const int ov = overlap < 0 ? W / 4 : overlap, stride = W - ov;
    const int n_win = 1 + (n_words - W + stride - 1) / stride;
    float got = rerank1(s, q, ql, d, dl);
    assert_int_equal(ember_ctx_split(s), 1);
    assert_int_equal(ember_ctx_windows(s), n_win);
    assert_int_equal(ember_ctx_truncated(s), 0);
    float best = -INFINITY;
    int arg = -1;
    for (int k = 0; k < n_win; k++) {
        int from = k == n_win - 1 ? n_words - W : k * stride;
        size_t wl;
        const char *w = words(&v, from, from + W, wb, &wl);
        float l = rerank1(t, qc, qcl, w, wl);
        assert_int_equal(ember_ctx_truncated(t), 0); /* the window fits, exactly */
        if (l > best) { best = l; arg = k; }
    }
    if (max_batch == 1) expect_same_bits(got, best, what, "the best window, every window alone");
    else if (fabsf(got - best) > 1e-5f * (1 + fabsf(best)))
        fail_msg("%s: %.9g, the best window %.9g (window %d of %d)", what, (double)got, (double)best, arg, n_win);
    /* in truncate mode: the first window */
    float cut = rerank1(t, q, ql, d, dl);
    assert_int_equal(ember_ctx_truncated(t), 1);
    if (arg > 0 && fabsf(cut - got) <= 1e-6f) fail_msg("%s: window %d is best, yet the logit is the cut pair's", what, arg);
    ember_ctx_free(t);
    ember_ctx_free(s);
    return arg;
}

/* (4) Pairs whose document does not slide: a cross-encoder's short
 * document beside a long query, or a chat prompt whose query leaves no
 * room for the document, stay cut as in truncate mode and are counted so. */
static void check_stays_cut(const ember_model *m, int cross, int max_tokens, const char *what)
{
    ember_ctx *t = ctx_ok(m, 4, max_tokens, 0, -1), *s = ctx_ok(m, 4, max_tokens, 1, -1);
    words_vocab v;
    words_find(t, &v);
    static char qb[TEXT_CAP], db[TEXT_CAP];
    size_t ql, dl;
    const char *q = words(&v, 100, 100 + 3 * max_tokens, qb, &ql), *d = words(&v, 0, 2, db, &dl);
    float ft = rerank1(t, q, ql, d, dl), fs = rerank1(s, q, ql, d, dl);
    assert_int_equal(ember_ctx_truncated(s), 1);
    assert_int_equal(ember_ctx_split(s), 0);
    expect_same_bits(fs, ft, what, "a short document beside a long query");
    if (!cross) { /* and a long document beside it */
        d = words(&v, 0, 3 * max_tokens, db, &dl);
        ft = rerank1(t, q, ql, d, dl);
        fs = rerank1(s, q, ql, d, dl);
        assert_int_equal(ember_ctx_truncated(s), 1);
        assert_int_equal(ember_ctx_split(s), 0);
        expect_same_bits(fs, ft, what, "a query that fills the prompt");
    }
    ember_ctx_free(t);
    ember_ctx_free(s);
}

/* Every check on a cross-encoder of max_tokens 16. */
static void check_cross(const ember_model *m, const char *what)
{
    check_truncation_rule(m, 16, what);
    check_fits_identical(m, 16, what);
    check_stays_cut(m, 1, 16, what);
    int later = 0;
    later += check_windows_max(m, 1, 1, 16, -1, 3, 3, 2, what) > 0;  /* every window alone: exact */
    later += check_windows_max(m, 1, 32, 16, -1, 3, 5, 1, what) > 0;
    later += check_windows_max(m, 1, 2, 16, 0, 2, 4, 0, what) > 0;   /* abutting windows, passes of 2 */
    later += check_windows_max(m, 1, 3, 16, 5, 4, 3, 3, what) > 0;
    later += check_windows_max(m, 1, 1, 16, -1, 9, 3, 1, what) > 0;  /* a query past half: cut to it */
    later += check_windows_max(m, 1, 4, 17, 2, 12, 2, 5, what) > 0;  /* the query cut to half */
    later += check_windows_max(m, 1, 1, 16, -1, 40, 2, 1, what) > 0; /* the query longer than the document */
    /* the max is not always the first window's: the test would not see a
     * score that ignored the other windows */
    if (!later) fail_msg("%s: the first window was the best in every case", what);
}

static void test_synth_cross(void **state)
{
    (void)state;
    ember_model *m = load_ok(synth_rank_path());
    check_cross(m, "synthetic cross-encoder");
    ember_model_free(m);
}

static void test_fixture_cross(void **state)
{
    (void)state;
    const char *names[] = { "minilm-cross-tiny", "xlmr-cross-tiny" };
    int ran = 0;
    for (int i = 0; i < 2; i++) {
        const char *gguf = golden_converted(names[i], "f32");
        if (!gguf) continue;
        ember_model *m = load_ok(gguf);
        check_cross(m, names[i]);
        ember_model_free(m);
        ran++;
    }
    if (!ran) skip();
}

static void test_fixture_qwen3(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-rerank-tiny", "f32");
    if (!gguf) { skip(); return; }
    ember_model *m = load_ok(gguf);
    const char *what = "qwen3-rerank-tiny";
    check_fits_identical(m, 96, what);
    check_stays_cut(m, 0, 96, what);
    int later = 0;
    later += check_windows_max(m, 0, 1, 96, -1, 3, 3, 2, what) > 0;
    later += check_windows_max(m, 0, 32, 96, -1, 5, 4, 1, what) > 0;
    later += check_windows_max(m, 0, 2, 96, 0, 2, 3, 0, what) > 0;
    later += check_windows_max(m, 0, 3, 80, 3, 4, 3, 3, what) > 0;
    if (!later) fail_msg("%s: the first window was the best in every case", what);
    /* another instruction: the windows carry it (they are checked against
     * pairs reranked with it) */
    ember_ctx *t = ctx_ok(m, 4, 96, 0, -1), *s = ctx_ok(m, 4, 96, 1, -1);
    assert_int_equal(ember_ctx_set_instruction(t, "Find a city"), EMBER_OK);
    assert_int_equal(ember_ctx_set_instruction(s, "Find a city"), EMBER_OK);
    words_vocab v;
    words_find(t, &v);
    static char qb[TEXT_CAP], db[TEXT_CAP], wb[TEXT_CAP];
    size_t ql, dl, wl;
    const char *q = words(&v, 100, 103, qb, &ql), *d = words(&v, 0, 200, db, &dl);
    float got = rerank1(s, q, ql, d, dl);
    const int W = fitting_words(t, &v, q, ql), stride = W - W / 4;
    const int n_win = 1 + (200 - W + stride - 1) / stride;
    assert_int_equal(ember_ctx_windows(s), n_win);
    float best = -INFINITY;
    for (int k = 0; k < n_win; k++) {
        int from = k == n_win - 1 ? 200 - W : k * stride;
        const char *w = words(&v, from, from + W, wb, &wl);
        float l = rerank1(t, q, ql, w, wl);
        if (l > best) best = l;
    }
    if (fabsf(got - best) > 1e-5f * (1 + fabsf(best))) fail_msg("%s, instructed: %.9g, best window %.9g", what, (double)got, (double)best);
    ember_ctx_free(t);
    ember_ctx_free(s);
    ember_model_free(m);
}

/* (5) Overlaps: refused when not below the longest window a document can
 * have (max_tokens less the specials); one that a long query's window
 * does not exceed fails the call, which then counts nothing. */
static void test_overlap_errors(void **state)
{
    (void)state;
    ember_model *m = load_ok(synth_rank_path());
    ember_ctx *c = ctx_ok(m, 4, 16, 0, -1); /* 13 tokens beside [CLS] [SEP] [SEP] */
    assert_int_equal(ember_ctx_set_long_mode(c, EMBER_LONG_SLIDING, 13), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_ctx_error(c), "overlap"));
    assert_int_equal(ember_ctx_set_long_mode(c, EMBER_LONG_SLIDING, 12), EMBER_OK);
    words_vocab v;
    words_find(c, &v);
    static char qb[TEXT_CAP], db[TEXT_CAP];
    size_t lens[2];
    const char *docs[2];
    docs[0] = words(&v, 0, 2, qb, &lens[0]);
    docs[1] = words(&v, 0, 40, db, &lens[1]);
    float l[2];
    /* a one-word query leaves 12: an overlap of 12 leaves no stride */
    assert_int_equal(ember_rerank(c, "cat", 3, docs, lens, 2, l), EMBER_ERR_ARG);
    if (!strstr(ember_ctx_error(c), "docs[1]") || !strstr(ember_ctx_error(c), "overlap of 12"))
        fail_msg("message: %s", ember_ctx_error(c));
    assert_int_equal(ember_ctx_split(c), 0);
    assert_int_equal(ember_ctx_windows(c), 0);
    assert_int_equal(ember_ctx_truncated(c), 0);
    /* with an empty query it slides (13 a window, every 1) */
    assert_int_equal(ember_rerank(c, "", 0, docs, lens, 2, l), EMBER_OK);
    assert_int_equal(ember_ctx_split(c), 1);
    assert_int_equal(ember_ctx_windows(c), 28);
    /* and back to truncation */
    assert_int_equal(ember_ctx_set_long_mode(c, EMBER_LONG_TRUNCATE, -1), EMBER_OK);
    assert_int_equal(ember_rerank(c, "cat", 3, docs, lens, 2, l), EMBER_OK);
    assert_int_equal(ember_ctx_truncated(c), 1);
    assert_int_equal(ember_ctx_split(c), 0);
    ember_ctx_free(c);
    ember_model_free(m);
    /* a vocabulary-only file has nothing to slide */
    char src[1024], out[1024];
    if (fixture_path(src, sizeof src, "models/minilm-cross-tiny/config.json")) {
        *strrchr(src, '/') = '\0';
        snprintf(out, sizeof out, "%s/cross-vocab.gguf", test_tmpdir());
        char *argv[] = { "convert", src, out, "--vocab-only", NULL };
        assert_int_equal(cmd_convert(4, argv), 0);
        m = load_ok(out);
        c = ctx_ok(m, 4, 16, 0, -1);
        assert_int_equal(ember_ctx_set_long_mode(c, EMBER_LONG_SLIDING, -1), EMBER_ERR_UNSUPPORTED);
        assert_non_null(strstr(ember_ctx_error(c), "vocabulary"));
        ember_ctx_free(c);
        ember_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synth_cross),
        cmocka_unit_test(test_fixture_cross),
        cmocka_unit_test(test_fixture_qwen3),
        cmocka_unit_test(test_overlap_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
