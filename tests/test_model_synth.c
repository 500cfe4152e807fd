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
#include <dirent.h>

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
    /* a bad doc is named by its index in docs[], a bad query as the query */
    const char *bad_docs[2] = {"fine", "caf\xc3"};
    assert_int_equal(ember_rerank(c, "dog", 3, bad_docs, NULL, 2, lg), EMBER_ERR_TEXT);
    assert_non_null(strstr(ember_ctx_error(c), "docs[1]"));
    assert_int_equal(ember_rerank(c, "d\xffg", 3, bad_docs, NULL, 1, lg), EMBER_ERR_TEXT);
    assert_non_null(strstr(ember_ctx_error(c), "query: invalid UTF-8 at byte offset 1"));
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
        assert_non_null(strstr(ember_ctx_error(c), "texts[1]"));
        assert_non_null(strstr(ember_ctx_error(c), "UTF-8"));
        /* one text: no index to name */
        assert_int_equal(ember_embed(c, &bad[i], NULL, 1, 0, v), EMBER_ERR_TEXT);
        assert_null(strstr(ember_ctx_error(c), "texts["));
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
            const int H = m->dims.hidden;
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
                    const float *full = m->arch->forward(c, c->ids, c->type_ids, c->pos_ids, c->off, n, NULL);
                    float want[8 * 64];
                    for (int i = 0; i < n; i++) memcpy(want + i * H, full + (size_t)keep[i] * H, (size_t)H * sizeof(float));
                    const float *got = m->arch->forward(c, c->ids, c->type_ids, c->pos_ids, c->off, n, keep);
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


/* ---- reliability: fuzz finds, integer keys, non-finite outputs, statuses,
 * EMBER_THREADS, pair layouts and incomplete reranker heads ---- */

/* What the fuzz harness did with each input (fixtures/crashes/README.md):
 * bytes to a file, load, a context with default parameters, tokenize /
 * embed / rerank a few short texts.  Each must end in a clear refusal or a
 * usable model with finite results; `make sanitize` runs it under ASan and
 * UBSan.  Every file of the folder is run, so later finds are covered. */
static void run_fuzz_input(const char *name, const char *bytes, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/fuzz-input.gguf", test_tmpdir());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    char err[512] = "";
    ember_model *m = ember_model_load(path, err, sizeof err);
    if (!m) {
        if (strlen(err) < 10) fail_msg("%s: refused without a reason ('%s')", name, err);
        printf("%s: refused: %s\n", name, err);
        return;
    }
    ember_model_info info;
    ember_model_get_info(m, &info);
    if (info.max_tokens < 1 || (m->has_weights && info.max_tokens > m->dims.n_ctx))
        fail_msg("%s: max_tokens %d outside the position table (%d rows)", name, info.max_tokens, m->dims.n_ctx);
    /* a model that loads must be usable with the default parameters */
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    if (!c) fail_msg("%s: loaded, but a default context fails: %s", name, err);
    const char *texts[3] = {"hello world", "", "Paris is the capital of France."};
    int32_t ids[256], types[256];
    for (int i = 0; i < 3; i++) {
        int n = 0;
        ember_status st = ember_tokenize(c, texts[i], strlen(texts[i]), i ? texts[0] : NULL, i ? 11 : 0, 1, 0,
                                         ids, types, 256, &n);
        if (st != EMBER_OK && strlen(ember_ctx_error(c)) < 10) fail_msg("%s: tokenize failed without a reason", name);
        for (int k = 0; st == EMBER_OK && k < n; k++) assert_true(ids[k] >= 0 && ids[k] < info.vocab_size);
    }
    float *out = malloc(3 * (size_t)(info.dim > 0 ? info.dim : 1) * sizeof(float));
    assert_non_null(out);
    ember_status st = ember_embed(c, texts, NULL, 3, 0, out);
    if (st == EMBER_OK)
        for (int i = 0; i < 3 * info.dim; i++) assert_true(isfinite(out[i]));
    else if (strlen(ember_ctx_error(c)) < 10) fail_msg("%s: embed failed without a reason", name);
    st = ember_rerank(c, "capital", 7, texts, NULL, 3, out);
    if (st == EMBER_OK)
        for (int i = 0; i < 3; i++) assert_true(isfinite(out[i]));
    else if (strlen(ember_ctx_error(c)) < 10) fail_msg("%s: rerank failed without a reason", name);
    printf("%s: loaded (%d tokens max), embed/rerank ran\n", name, info.max_tokens);
    free(out);
    ember_ctx_free(c);
    ember_model_free(m);
}

static int run_fuzz_folder(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *bytes = test_slurp(path, &len);
        assert_non_null(bytes);
        run_fuzz_input(e->d_name, bytes, len);
        free(bytes);
        n++;
    }
    closedir(d);
    printf("%d fuzz inputs of %s checked\n", n, dir);
    return n;
}

/* the project's own finds (tests/fuzz/crashes/model), then the shared ones */
static void test_fuzz_crash_inputs(void **s)
{
    (void)s;
    assert_true(run_fuzz_folder("tests/fuzz/crashes/model") > 0);
    char dir[512];
    if (!fixture_path(dir, sizeof dir, "crashes/model")) { skip(); return; }
    assert_true(run_fuzz_folder(dir) > 0);
}

/* Integer keys are range-checked in 64 bits before they are narrowed; a
 * wrong type or an out-of-range value is refused by name, never replaced by
 * a default or wrapped into another number. */
static void test_integer_keys(void **s)
{
    (void)s;
    static const struct {
        const char *key;
        uint32_t type;
        int64_t val;
        const char *refusal; /* NULL: loads */
        int max_tokens;      /* when it loads */
    } cases[] = {
        /* the fuzz find: 4160749327 was cast to int (-134217969); the position table bounds it */
        {"ember.max_seq_length", GGUF_TYPE_UINT32, 4160749327LL, NULL, 64},
        {"ember.max_seq_length", GGUF_TYPE_UINT32, 32, NULL, 32},
        {"ember.max_seq_length", GGUF_TYPE_UINT64, 1LL << 40, "ember.max_seq_length is 1099511627776", 0},
        {"ember.max_seq_length", GGUF_TYPE_INT32, -5, "ember.max_seq_length must be a non-negative integer", 0},
        {"ember.max_seq_length", GGUF_TYPE_UINT32, 0, "ember.max_seq_length is 0", 0},
        {"ember.tokenizer.max_input_chars_per_word", GGUF_TYPE_UINT32, 4294967295LL, "max_input_chars_per_word is 4294967295", 0},
        {"tokenizer.ggml.unknown_token_id", GGUF_TYPE_INT32, -1, "unknown_token_id must be a non-negative integer", 0},
        {"tokenizer.ggml.cls_token_id", GGUF_TYPE_UINT32, 4096, "cls_token_id is 4096", 0},
        {"bert.context_length", GGUF_TYPE_UINT64, (1LL << 32) + 64, "bert.context_length is 4294967360", 0},
        {"bert.block_count", GGUF_TYPE_UINT32, 0, "bert.block_count is 0", 0},
        {"bert.pooling_type", GGUF_TYPE_INT64, -1, "bert.pooling_type must be a non-negative integer", 0},
        /* no pooling (token vectors) was run as mean pooling without a word */
        {"bert.pooling_type", GGUF_TYPE_UINT32, 0, "bert.pooling_type 0 (none", 0},
        {"bert.context_length", GGUF_TYPE_UINT16, 2, "no room for text", 0},
        {"ember.normalize", GGUF_TYPE_UINT8, 1, "ember.normalize must be a bool", 0},
        {"ember.matryoshka.min_dim", GGUF_TYPE_UINT32, 0, "ember.matryoshka.min_dim is 0", 0},
        {"ember.matryoshka.min_dim", GGUF_TYPE_UINT32, 4096, "ember.matryoshka.min_dim is 4096", 0},
        {"ember.matryoshka.min_dim", GGUF_TYPE_UINT16, 8, NULL, 64},
        {"ember.matryoshka.dims", GGUF_TYPE_UINT32, 8, "ember.matryoshka.dims must be an array", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        synth_opts o = synth_defaults();
        o.int_key = cases[i].key;
        o.int_key_type = cases[i].type;
        o.int_key_val = cases[i].val;
        char tag[32];
        snprintf(tag, sizeof tag, "intkey%zu", i);
        if (cases[i].refusal) {
            expect_load_error(&o, tag, cases[i].refusal);
            continue;
        }
        ember_model *m = load_ok(write_model(tag, &o));
        ember_model_info info;
        ember_model_get_info(m, &info);
        assert_int_equal(info.max_tokens, cases[i].max_tokens);
        char err[256];
        ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
        if (!c) fail_msg("%s = %lld: %s", cases[i].key, (long long)cases[i].val, err);
        assert_int_equal(ember_ctx_max_tokens(c), cases[i].max_tokens);
        float v[32];
        assert_int_equal(ember_embed(c, TEXTS, NULL, 1, 0, v), EMBER_OK);
        ember_ctx_free(c);
        ember_model_free(m);
    }
}

/* A NaN weight: every output is NaN, and that is an error naming the file,
 * never a "successful" vector of NaNs. */
static void test_nonfinite_output(void **s)
{
    (void)s;
    for (int rank = 0; rank <= 1; rank++) {
        synth_opts o = synth_defaults();
        o.rank = rank;
        o.nan_tensor = "blk.0.attn_output.weight";
        const char *p = write_model(rank ? "nan-rank" : "nan-embed", &o);
        ember_model *m = load_ok(p);
        ember_ctx *c = ember_ctx_create(m, NULL, NULL, 0);
        assert_non_null(c);
        float out[4 * 32];
        ember_status st = rank ? ember_rerank(c, "what", 4, TEXTS, NULL, 4, out) : ember_embed(c, TEXTS, NULL, 4, 0, out);
        assert_int_equal(st, EMBER_ERR_NUMERIC);
        const char *e = ember_ctx_error(c);
        if (!strstr(e, "non-finite") || !strstr(e, p) || !strstr(e, "corrupt"))
            fail_msg("message '%s' does not name the model file %s as the cause", e, p);
        ember_ctx_free(c);
        ember_model_free(m);
    }
    assert_string_equal(ember_status_str(EMBER_ERR_NUMERIC), "non-finite output");
}

/* ember_tokenize's status comes from the tokenizer's error code, not from
 * the wording of its message. */
static void test_tokenize_status(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    ember_model *m = load_ok(write_model("tokstatus", &o));
    ember_ctx *c = ember_ctx_create(m, NULL, NULL, 0);
    int32_t ids[64];
    int n;
    /* max_length below the 2 special tokens: the caller's argument, not the text */
    assert_int_equal(ember_tokenize(c, "hello", 5, NULL, 0, 1, 1, ids, NULL, 64, &n), EMBER_ERR_ARG);
    assert_non_null(strstr(ember_ctx_error(c), "special tokens"));
    assert_int_equal(ember_tokenize(c, "hello world", 11, NULL, 0, 1, 0, ids, NULL, 3, &n), EMBER_ERR_LIMIT);
    assert_int_equal(ember_tokenize(c, "hello \xff", 7, NULL, 0, 1, 0, ids, NULL, 64, &n), EMBER_ERR_TEXT);
    assert_int_equal(ember_tokenize(c, "hello", 5, "\xc3", 1, 1, 0, ids, NULL, 64, &n), EMBER_ERR_TEXT);
    assert_int_equal(ember_tokenize(c, "hello", 5, NULL, 0, 1, 0, ids, NULL, 64, &n), EMBER_OK);
    assert_int_equal(n, 3);
    ember_ctx_free(c);
    ember_model_free(m);
}

/* EMBER_THREADS is read by the library (its users set it too): a value
 * that is not a thread count fails ember_ctx_create with a message. */
static void test_env_threads(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    ember_model *m = load_ok(write_model("threads", &o));
    const char *bad[] = {"0", "abc", "-2", "1025", "4x", "99999999999999999999"};
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("EMBER_THREADS", bad[i], 1);
        err[0] = '\0';
        ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
        if (c) fail_msg("EMBER_THREADS=%s accepted (%d threads)", bad[i], ember_ctx_threads(c));
        if (!strstr(err, "EMBER_THREADS") || !strstr(err, bad[i])) fail_msg("EMBER_THREADS=%s: message '%s'", bad[i], err);
    }
    setenv("EMBER_THREADS", "2", 1);
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(ember_ctx_threads(c), 2);
    ember_ctx_free(c);
    /* an explicit n_threads does not read the variable */
    setenv("EMBER_THREADS", "abc", 1);
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 1;
    c = ember_ctx_create(m, &p, err, sizeof err);
    assert_non_null(c);
    ember_ctx_free(c);
    unsetenv("EMBER_THREADS");
    ember_model_free(m);
}

/* ember_ctx_params.bf16_dot and EMBER_BF16_DOT: 1 / -1 / 0 (the variable:
 * "1", "0" or unset, anything else refused); on a bf16 BERT (biases:
 * gemm_bf16dot's bias path) the outputs move by the rounding of the
 * activations on each table that has it (1 and 2 threads alike) and not
 * at all on the others; never on f32 weights. */
static void test_bf16_dot(void **s)
{
    (void)s;
    synth_opts o = synth_defaults();
    ember_model *m32 = load_ok(write_model("dot32", &o));
    o.wtype = GGML_TYPE_BF16;
    ember_model *m = load_ok(write_model("dotbf16", &o));
    char err[256];
    ember_ctx_params p = ember_ctx_default_params();
    assert_int_equal(p.bf16_dot, 0);
    for (int bad = -2; bad <= 2; bad += 4) {
        p.bf16_dot = bad;
        err[0] = '\0';
        if (ember_ctx_create(m, &p, err, sizeof err)) fail_msg("bf16_dot = %d accepted", bad);
        if (!strstr(err, "bf16_dot")) fail_msg("bf16_dot = %d: message '%s'", bad, err);
    }
    const int has = kern_ops_get()->gemm_bf16dot != NULL;
    static const struct { const char *env; int param, want; } cases[] = {
        {NULL, 0, 0}, {"0", 0, 0}, {"", 0, 0}, {"1", 0, 1}, {"1", -1, 0}, {"0", 1, 1}, {"yes", 1, 1}, {NULL, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].env) setenv("EMBER_BF16_DOT", cases[i].env, 1);
        else unsetenv("EMBER_BF16_DOT");
        p.bf16_dot = cases[i].param;
        ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
        if (!c) fail_msg("EMBER_BF16_DOT=%s, bf16_dot %d: %s", cases[i].env ? cases[i].env : "(unset)", cases[i].param, err);
        if (ember_ctx_bf16_dot(c) != (cases[i].want && has))
            fail_msg("EMBER_BF16_DOT=%s, bf16_dot %d: ember_ctx_bf16_dot %d", cases[i].env ? cases[i].env : "(unset)",
                     cases[i].param, ember_ctx_bf16_dot(c));
        ember_ctx_free(c);
    }
    static const char *const bad_env[] = {"2", "yes", "-1", "1 "};
    p.bf16_dot = 0;
    for (size_t i = 0; i < sizeof bad_env / sizeof bad_env[0]; i++) {
        setenv("EMBER_BF16_DOT", bad_env[i], 1);
        err[0] = '\0';
        if (ember_ctx_create(m, &p, err, sizeof err)) fail_msg("EMBER_BF16_DOT=%s accepted", bad_env[i]);
        if (!strstr(err, "EMBER_BF16_DOT") || !strstr(err, bad_env[i])) fail_msg("EMBER_BF16_DOT=%s: message '%s'", bad_env[i], err);
    }
    unsetenv("EMBER_BF16_DOT");
    float off[8 * 32], on[8 * 32], on2[8 * 32];
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        for (int w32 = 0; w32 <= 1; w32++) {
            ember_ctx *c[3];
            for (int v = 0; v < 3; v++) {
                p.bf16_dot = v ? 1 : -1;
                p.n_threads = v == 2 ? 2 : 1;
                c[v] = ember_ctx_create(w32 ? m32 : m, &p, err, sizeof err);
                assert_non_null(c[v]);
                c[v]->k = k;
            }
            assert_int_equal(ember_embed(c[0], TEXTS, NULL, 8, 0, off), EMBER_OK);
            assert_int_equal(ember_embed(c[1], TEXTS, NULL, 8, 0, on), EMBER_OK);
            assert_int_equal(ember_embed(c[2], TEXTS, NULL, 8, 0, on2), EMBER_OK);
            if (memcmp(on, on2, sizeof on) != 0) fail_msg("%s bf16_dot: 2 threads differ from 1", k->name);
            if (w32 || !k->gemm_bf16dot) {
                if (memcmp(on, off, sizeof on) != 0) fail_msg("%s bf16_dot changed %s", k->name, w32 ? "f32 weights" : "a table without it");
            } else {
                double cosmin = 1;
                for (int i = 0; i < 8; i++) {
                    double d = 0;
                    for (int j = 0; j < 32; j++) d += (double)on[i * 32 + j] * off[i * 32 + j];
                    if (d < cosmin) cosmin = d;
                }
                if (memcmp(on, off, sizeof on) == 0) fail_msg("%s: bf16_dot changed nothing", k->name);
                if (cosmin < 0.999) fail_msg("%s bf16_dot: cosine %.6f with the widened path", k->name, cosmin);
            }
            for (int v = 0; v < 3; v++) ember_ctx_free(c[v]);
        }
    }
    ember_model_free(m);
    ember_model_free(m32);
}

/* Without ember's pair template the layout follows from the token-type
 * table (BERT with two rows, RoBERTa / XLM-R with one); a reranker whose
 * layout or head cannot be bound completely is refused, never scored. */
static void test_pair_layouts_and_heads(void **s)
{
    (void)s;
    /* synthetic ids: [CLS] 2, [SEP] 3, "hello" 17, "world" 18 */
    static const struct { int type_rows; int32_t ids[8], types[8]; int n; } want[] = {
        {2, {2, 17, 3, 18, 3}, {0, 0, 0, 1, 1}, 5},
        {1, {2, 17, 3, 3, 18, 3}, {0, 0, 0, 0, 0, 0}, 6},
    };
    for (int k = 0; k < 2; k++) {
        synth_opts o = synth_defaults();
        o.rank = 1;
        o.type_rows = want[k].type_rows;
        ember_model *m = load_ok(write_model(k ? "pair-roberta" : "pair-bert", &o));
        ember_ctx *c = ember_ctx_create(m, NULL, NULL, 0);
        int32_t ids[16], types[16];
        int n;
        assert_int_equal(ember_tokenize(c, "hello", 5, "world", 5, 1, 0, ids, types, 16, &n), EMBER_OK);
        assert_int_equal(n, want[k].n);
        for (int i = 0; i < n; i++) {
            if (ids[i] != want[k].ids[i] || types[i] != want[k].types[i])
                fail_msg("%d type rows: token %d is %d (type %d), want %d (type %d)", want[k].type_rows, i, ids[i],
                         types[i], want[k].ids[i], want[k].types[i]);
        }
        float lg;
        const char *d = "world";
        assert_int_equal(ember_rerank(c, "hello", 5, &d, NULL, 1, &lg), EMBER_OK);
        ember_ctx_free(c);
        ember_model_free(m);
    }
    synth_opts o = synth_defaults();
    o.rank = 1;
    o.type_rows = -1;
    expect_load_error(&o, "pair-none", "pair layout");
    o = synth_defaults();
    o.type_rows = -1; /* an embedder needs no pair layout */
    ember_model_free(load_ok(write_model("embed-notypes", &o)));
    /* every part of the head is required: llama.cpp's converter drops BERT's pooler (cls.*) */
    const char *head[] = {"cls.weight", "cls.bias", "cls.output.weight", "cls.output.bias"};
    for (int i = 0; i < 4; i++) {
        o = synth_defaults();
        o.rank = 1;
        o.drop_tensor = head[i];
        char tag[32];
        snprintf(tag, sizeof tag, "head%d", i);
        expect_load_error(&o, tag, head[i]);
    }
    /* two labels: row 0 was scored as if it were the only one */
    o = synth_defaults();
    o.rank = 2;
    expect_load_error(&o, "head-2labels", "classifier with 2 labels");
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
        cmocka_unit_test(test_fuzz_crash_inputs),
        cmocka_unit_test(test_integer_keys),
        cmocka_unit_test(test_nonfinite_output),
        cmocka_unit_test(test_tokenize_status),
        cmocka_unit_test(test_env_threads),
        cmocka_unit_test(test_bf16_dot),
        cmocka_unit_test(test_pair_layouts_and_heads),
    };
    return cmocka_run_group_tests_name("model_synth", tests, NULL, NULL);
}
