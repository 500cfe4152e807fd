/* The model layer on synthetic GGUF models (no fixtures needed): every ISA
 * agrees with the scalar path, batching changes nothing, weight types load,
 * and broken models or bad inputs give clear errors, never a crash. */
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
#include "model/gguf.h"
#include "model/model.h"
#include "tests/fixtures.h"
#include "tests/synth_model.h"

static const char *write_model(const char *tag, const synth_opts *o)
{
    static char path[16][512];
    static int n;
    char *p = path[n++ % 16];
    snprintf(p, 512, "%s/%s.gguf", test_tmpdir(), tag);
    assert_int_equal(synth_bert_write(p, o), 0);
    return p;
}

static ember_model *load_ok(const char *path)
{
    char err[512];
    ember_model *m = ember_model_load(path, err, sizeof err);
    if (!m) fail_msg("load %s: %s", path, err);
    return m;
}

static void expect_load_error(const synth_opts *o, const char *tag, const char *needle)
{
    const char *p = write_model(tag, o);
    char err[512] = "";
    ember_model *m = ember_model_load(p, err, sizeof err);
    if (m) fail_msg("%s: loaded a broken model", tag);
    if (!strstr(err, needle)) fail_msg("%s: error '%s' does not mention '%s'", tag, err, needle);
}

static const char *TEXTS[] = {
    "hello world", "the quick brown fox jumps over the lazy dog.", "", "paris is the capital of france",
    "[CLS] [SEP]", "zzz qqq unknownword", "a", "what? the cat sat on the mat!",
};

static void test_isa_agree_and_batching(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    ember_model *m = load_ok(write_model("embed", &o));
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_EMBEDDER);
    assert_int_equal(info.dim, 32);
    const int n = 8, H = 32;
    float ref[8 * 32], got[8 * 32], one[32];
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 1;
    ember_ctx *c = ember_ctx_create(m, &p, NULL, 0);
    assert_non_null(c);
    c->k = kern_ops_for(KERN_ISA_SCALAR);
    assert_int_equal(ember_embed(c, TEXTS, NULL, n, 0, ref), EMBER_OK);
    for (int i = 0; i < n; i++) {
        double nrm = 0;
        for (int j = 0; j < H; j++) nrm += (double)ref[i * H + j] * ref[i * H + j];
        assert_true(fabs(nrm - 1.0) < 1e-5);
    }
    for (int isa = 1; isa < KERN_ISA_COUNT; isa++) {
        if (!(c->k = kern_ops_for((kern_isa)isa))) continue;
        assert_int_equal(ember_embed(c, TEXTS, NULL, n, 0, got), EMBER_OK);
        for (int i = 0; i < n * H; i++)
            if (fabs(got[i] - ref[i]) > 1e-5) fail_msg("%s differs from scalar at %d: %g vs %g", c->k->name, i, got[i], ref[i]);
        for (int i = 0; i < n; i++) { /* one text at a time == batched */
            assert_int_equal(ember_embed(c, &TEXTS[i], NULL, 1, 0, one), EMBER_OK);
            for (int j = 0; j < H; j++) assert_float_equal(one[j], got[i * H + j], 1e-6);
        }
    }
    ember_ctx_free(c);
    /* tiny max_batch: many chunks, same answer */
    p.max_batch = 3;
    p.n_threads = 2;
    c = ember_ctx_create(m, &p, NULL, 0);
    assert_int_equal(ember_embed(c, TEXTS, NULL, n, 0, got), EMBER_OK);
    for (int i = 0; i < n * H; i++) assert_float_equal(got[i], ref[i], 1e-5);
    ember_ctx_free(c);
    ember_model_free(m);
}

static void test_weight_types(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    ember_model *m32 = load_ok(write_model("w32", &o));
    float a[8 * 32], b[8 * 32];
    ember_ctx *c = ember_ctx_create(m32, NULL, NULL, 0);
    assert_int_equal(ember_embed(c, TEXTS, NULL, 8, 0, a), EMBER_OK);
    ember_ctx_free(c);
    uint32_t types[2] = {GGML_TYPE_F16, GGML_TYPE_BF16};
    for (int t = 0; t < 2; t++) {
        o.wtype = types[t];
        ember_model *m = load_ok(write_model(t ? "wbf16" : "wf16", &o));
        ember_model_info info;
        ember_model_get_info(m, &info);
        assert_string_equal(info.weight_type, t ? "bf16" : "f16");
        c = ember_ctx_create(m, NULL, NULL, 0);
        assert_int_equal(ember_embed(c, TEXTS, NULL, 8, 0, b), EMBER_OK);
        double cosmin = 1;
        for (int i = 0; i < 8; i++) {
            double d = 0;
            for (int j = 0; j < 32; j++) d += (double)a[i * 32 + j] * b[i * 32 + j];
            if (d < cosmin) cosmin = d;
        }
        /* rounded weights: close to the f32 model, not identical */
        assert_true(cosmin > (t ? 0.99 : 0.999));
        ember_ctx_free(c);
        ember_model_free(m);
    }
    ember_model_free(m32);
}

static void test_reranker(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    o.rank = 1;
    ember_model *m = load_ok(write_model("rank", &o));
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_RERANKER);
    ember_ctx *c = ember_ctx_create(m, NULL, NULL, 0);
    float lg[8], one;
    assert_int_equal(ember_rerank(c, "what is the capital", 19, TEXTS, NULL, 8, lg), EMBER_OK);
    for (int i = 0; i < 8; i++) {
        assert_true(isfinite(lg[i]));
        assert_int_equal(ember_rerank(c, "what is the capital", 19, &TEXTS[i], NULL, 1, &one), EMBER_OK);
        assert_float_equal(one, lg[i], 1e-5);
    }
    /* the query matters and order of the pair matters */
    float other;
    assert_int_equal(ember_rerank(c, "dog", 3, &TEXTS[1], NULL, 1, &other), EMBER_OK);
    assert_true(other != lg[1]);
    float v[32];
    assert_int_equal(ember_embed(c, TEXTS, NULL, 1, 0, v), EMBER_ERR_UNSUPPORTED);
    assert_non_null(strstr(ember_ctx_error(c), "cross-encoder"));
    ember_ctx_free(c);
    ember_model_free(m);
}

static void test_bad_inputs(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    ember_model *m = load_ok(write_model("inputs", &o));
    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = 4;
    ember_ctx *c = ember_ctx_create(m, &p, NULL, 0);
    float v[4 * 32];
    /* invalid UTF-8 */
    const char *bad[] = {"ok", "caf\xc3", "\xff\xfe", "\xed\xa0\x80", "\xc0\xaf"};
    for (int i = 1; i < 5; i++) {
        const char *t[2] = {bad[0], bad[i]};
        assert_int_equal(ember_embed(c, t, NULL, 2, 0, v), EMBER_ERR_TEXT);
        assert_non_null(strstr(ember_ctx_error(c), "input 1"));
        assert_non_null(strstr(ember_ctx_error(c), "UTF-8"));
    }
    /* empty batch, empty text, special tokens only, embedded NUL */
    assert_int_equal(ember_embed(c, NULL, NULL, 0, 0, NULL), EMBER_OK);
    const char *e[] = {"", "[CLS][SEP][PAD]", "a\0b"};
    size_t el[] = {0, 15, 3};
    assert_int_equal(ember_embed(c, e, el, 3, 0, v), EMBER_OK);
    for (int i = 0; i < 3 * 32; i++) assert_true(isfinite(v[i]));
    /* a text far beyond the model's length: truncated, not refused */
    size_t big = 4u << 20;
    char *huge = malloc(big + 1);
    for (size_t i = 0; i < big; i++) huge[i] = (i % 4 == 3) ? ' ' : "cat"[i % 4];
    huge[big] = '\0';
    const char *h[1] = {huge};
    assert_int_equal(ember_embed(c, h, NULL, 1, 0, v), EMBER_OK);
    int32_t ids[128];
    int n;
    assert_int_equal(ember_tokenize(c, huge, big, NULL, 0, 1, 64, ids, NULL, 128, &n), EMBER_OK);
    assert_int_equal(n, 64);
    assert_int_equal(ember_tokenize(c, huge, big, NULL, 0, 1, 0, ids, NULL, 128, &n), EMBER_ERR_LIMIT);
    free(huge);
    /* bad arguments */
    assert_int_equal(ember_embed(c, h, NULL, -1, 0, v), EMBER_ERR_ARG);
    const char *nul[1] = {NULL};
    assert_int_equal(ember_embed(c, nul, NULL, 1, 0, v), EMBER_ERR_ARG);
    float lg;
    assert_int_equal(ember_rerank(c, "q", 1, e, NULL, 1, &lg), EMBER_ERR_UNSUPPORTED);
    ember_ctx_free(c);
    ember_ctx_params badp = ember_ctx_default_params();
    badp.max_batch = -1;
    char err[256];
    assert_null(ember_ctx_create(m, &badp, err, sizeof err));
    assert_non_null(strstr(err, "out of range"));
    ember_model_free(m);
}

static void test_broken_models(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    o.drop_tensor = "blk.1.ffn_down.weight";
    expect_load_error(&o, "drop", "missing tensor blk.1.ffn_down.weight");
    o = synth_defaults();
    o.bad_shape = "blk.0.attn_q.weight";
    expect_load_error(&o, "shape", "blk.0.attn_q.weight");
    o = synth_defaults();
    o.f16_norm = 1;
    expect_load_error(&o, "f16norm", "must be f32");
    o = synth_defaults();
    o.heads = 5;
    expect_load_error(&o, "heads", "implausible");
    o = synth_defaults();
    o.arch = "llama";
    expect_load_error(&o, "arch", "llama");
    o = synth_defaults();
    o.pooling = 9;
    expect_load_error(&o, "pool", "pooling_type");
    o = synth_defaults();
    o.bad_template = 1;
    expect_load_error(&o, "tpl", "template_single");
    o = synth_defaults();
    o.extra_vocab_tokens = 1;
    expect_load_error(&o, "vocab", "token_embd");
    o = synth_defaults();
    o.rank = 1;
    o.drop_tensor = "cls.output.weight";
    expect_load_error(&o, "head", "cls.output.weight");
    char err[256];
    assert_null(ember_model_load("/nonexistent/model.gguf", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/model.gguf"));
    assert_null(ember_model_load(NULL, err, sizeof err));
}

/* Truncating a valid model anywhere never crashes and always says why. */
static void test_truncated_models(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    o.layers = 1;
    const char *p = write_model("trunc-src", &o);
    FILE *f = fopen(p, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    char tp[512];
    snprintf(tp, sizeof tp, "%s/trunc.gguf", test_tmpdir());
    int checked = 0;
    for (long len = 0; len < size; len += len < 4096 ? 7 : 4099) {
        FILE *t = fopen(tp, "wb");
        fwrite(buf, 1, (size_t)len, t);
        fclose(t);
        char err[512] = "";
        ember_model *m = ember_model_load(tp, err, sizeof err);
        if (m) fail_msg("truncated at %ld of %ld bytes but loaded", len, size);
        assert_true(strlen(err) > 10);
        checked++;
    }
    free(buf);
    printf("%d truncations rejected\n", checked);
}

/* CLS / last-token pooling and rank heads run the last layer on one row per
 * sequence: those rows must come out as the full pass computes them, for
 * every ISA, thread count and batch shape (one sequence, several of uneven
 * length, one-token sequences). */
static void test_pooled_row_pass(void **s)
{
    (void)s;
    static const struct { uint32_t pooling; int rank; } kinds[] = {{2, 0}, {3, 0}, {4, 1}};
    for (int kd = 0; kd < 3; kd++) {
        synth_opts o = synth_defaults();
        o.pooling = kinds[kd].pooling;
        o.rank = kinds[kd].rank;
        o.layers = 3;
        ember_model *m = load_ok(write_model(kd == 0 ? "pool-cls" : kd == 1 ? "pool-last" : "pool-rank", &o));
        for (int threads = 1; threads <= 2; threads++) {
            ember_ctx_params p = ember_ctx_default_params();
            p.n_threads = threads;
            ember_ctx *c = ember_ctx_create(m, &p, NULL, 0);
            assert_non_null(c);
            const int H = m->w.hidden;
            for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
                if (!(c->k = kern_ops_for((kern_isa)isa))) continue;
                for (int shape = 0; shape < 3; shape++) {
                    /* texts 1, 0..7 (uneven), or 2 and 6 (one-token "" and "a" with specials: 2 and 3 rows) */
                    int first = shape == 0 ? 1 : 0, n = shape == 0 ? 1 : shape == 1 ? 8 : 2, rows = 0;
                    int keep[8];
                    c->off[0] = 0;
                    for (int i = 0; i < n; i++) {
                        const char *t = shape == 2 ? TEXTS[i ? 6 : 2] : TEXTS[first + i];
                        int nt = 0;
                        assert_int_equal(ember_tokenize(c, t, strlen(t), NULL, 0, 1, 0, c->ids + rows, c->type_ids + rows,
                                                        c->max_rows - rows, &nt), EMBER_OK);
                        for (int j = 0; j < nt; j++) c->pos_ids[rows + j] = j;
                        keep[i] = o.pooling == 3 ? rows + nt - 1 : rows;
                        rows += nt;
                        c->off[i + 1] = rows;
                    }
                    const float *full = bert_forward(&m->w, c->k, &c->s, c->ids, c->type_ids, c->pos_ids, c->off, n, NULL);
                    float want[8 * 64];
                    for (int i = 0; i < n; i++) memcpy(want + i * H, full + (size_t)keep[i] * H, (size_t)H * sizeof(float));
                    const float *got = bert_forward(&m->w, c->k, &c->s, c->ids, c->type_ids, c->pos_ids, c->off, n, keep);
                    for (int i = 0; i < n * H; i++)
                        if (fabs(got[i] - want[i]) > 1e-5)
                            fail_msg("pooling %u %s %d threads shape %d: row %d dim %d %g vs %g", o.pooling, c->k->name,
                                     threads, shape, i / H, i % H, got[i], want[i]);
                }
            }
            ember_ctx_free(c);
        }
        ember_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_agree_and_batching),
        cmocka_unit_test(test_weight_types),
        cmocka_unit_test(test_reranker),
        cmocka_unit_test(test_pooled_row_pass),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_broken_models),
        cmocka_unit_test(test_truncated_models),
    };
    return cmocka_run_group_tests_name("model_synth", tests, NULL, NULL);
}
