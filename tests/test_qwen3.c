/* Golden tests of the Qwen3 decoder: Qwen3-Embedding (last-token pooling of
 * the appended <|endoftext|>, instruction-formatted queries, Matryoshka
 * dimensions) and Qwen3-Reranker (the chat prompt, yes - no logits), each
 * converted from its fixture checkpoint with the real converter and run on
 * every kernel table and 1 and 2 threads, against the float64 goldens within
 * the tolerances of each fixture's SOURCE.md. */
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
#include "model/model.h"
#include "tests/fixtures.h"
#include "tests/goldens.h"
#include "tests/synth_model.h"
#include "tools/json.h"

#define TOL_EMBED 1e-5     /* normalised embeddings */
#define TOL_EMBED_RAW 1e-4 /* relative to the embedding's norm */
#define TOL_LOGIT 2e-5
#define TOL_SCORE 1e-5
#define MAX_ROWS 16

static double norm_of(const json_value *v)
{
    double s = 0;
    for (size_t i = 0; i < json_array_len(v); i++) s += json_number(json_array_at(v, i)) * json_number(json_array_at(v, i));
    return sqrt(s);
}

/* The ids a golden row was fed (a batch row's without its left padding). */
static int golden_ids(const json_value *row, int batch, int i, int32_t *ids, int cap)
{
    const json_value *ids_j = json_object_get(row, "input_ids"), *mask = json_object_get(row, "attention_mask");
    if (batch) { ids_j = json_array_at(ids_j, (size_t)i); mask = json_array_at(mask, (size_t)i); }
    int n = 0;
    for (size_t t = 0; t < json_array_len(ids_j); t++)
        if (json_number(json_array_at(mask, t)) != 0) {
            assert_true(n < cap);
            ids[n++] = (int32_t)json_number(json_array_at(ids_j, t));
        }
    return n;
}

static void expect_ids(const char *id, int row, const int32_t *got, int n, const int32_t *want, int nw)
{
    if (n != nw) fail_msg("%s row %d: %d tokens, golden %d", id, row, n, nw);
    for (int t = 0; t < n; t++)
        if (got[t] != want[t]) fail_msg("%s row %d: token %d is %d, golden %d", id, row, t, got[t], want[t]);
}

static void run_embed_goldens_on(const char *gguf, const char *dtype)
{
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_EMBEDDER);
    assert_int_equal(info.pooling, EMBER_POOL_LAST);
    assert_string_equal(info.architecture, "qwen3");
    const int H = info.dim;
    goldens g;
    assert_true(goldens_load(&g, "qwen3-embed-tiny", "goldens.jsonl"));
    golden_variant v[GOLDEN_MAX_VARIANTS];
    int nv = golden_variants(m, 256, v); /* every golden is cut at 256 tokens */
    float *out = malloc(MAX_ROWS * (size_t)H * sizeof(float)), *first = malloc(MAX_ROWS * (size_t)H * sizeof(float));
    float *raw = malloc(MAX_ROWS * (size_t)H * sizeof(float));
    double worst = 0, worst_raw = 0;
    int cases = 0, queries = 0;
    for (int r = 0; r < g.n; r++) {
        const json_value *row = g.rows[r];
        size_t kl;
        const char *id = golden_str(json_object_get(row, "id"), &kl);
        int batch = strcmp(golden_str(json_object_get(row, "kind"), &kl), "batch") == 0;
        assert_int_equal((int)json_number(json_object_get(row, "max_length")), 256);
        const json_value *texts = batch ? json_object_get(row, "texts") : NULL;
        const json_value *instr = json_object_get(row, "instruction");
        int nt = batch ? (int)json_array_len(texts) : 1, flags = 0;
        assert_true(nt <= MAX_ROWS);
        const char *tx[MAX_ROWS];
        size_t tl[MAX_ROWS];
        char task[512] = "";
        if (instr) { /* a query: "Instruct: {task}\nQuery:{query}" */
            size_t il;
            const char *s = golden_str(instr, &il);
            snprintf(task, sizeof task, "%.*s", (int)il, s);
            tx[0] = golden_str(json_object_get(row, "query"), &tl[0]);
            flags = EMBER_EMBED_QUERY;
            queries++;
        } else {
            for (int i = 0; i < nt; i++) tx[i] = golden_str(batch ? json_array_at(texts, (size_t)i) : json_object_get(row, "text"), &tl[i]);
        }
        for (int i = 0; i < nt; i++) { /* the tokenizer, on the text as the model sees it */
            int32_t want[1024], got[1024];
            int nw = golden_ids(row, batch, i, want, 1024), n = 0;
            char formatted[4096];
            const char *t = tx[i];
            size_t len = tl[i];
            if (instr) {
                len = (size_t)snprintf(formatted, sizeof formatted, "Instruct: %s\nQuery:%.*s", task, (int)tl[i], tx[i]);
                t = formatted;
            }
            if (ember_tokenize(v[0].c, t, len, NULL, 0, 1, 256, got, NULL, 1024, &n) != EMBER_OK)
                fail_msg("%s: tokenize: %s", id, ember_ctx_error(v[0].c));
            expect_ids(id, i, got, n, want, nw);
        }
        for (int k = 0; k < nv; k++) {
            assert_int_equal(ember_ctx_set_instruction(v[k].c, instr ? task : NULL), EMBER_OK);
            if (ember_embed(v[k].c, tx, tl, nt, flags, out) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
            if (ember_embed(v[k].c, tx, tl, nt, flags | EMBER_EMBED_NO_NORMALIZE, raw) != EMBER_OK)
                fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
            for (int i = 0; i < nt; i++) {
                const json_value *wn = json_object_get(row, "embedding_normalized"), *wr = json_object_get(row, "embedding");
                if (batch) { wn = json_array_at(wn, (size_t)i); wr = json_array_at(wr, (size_t)i); }
                double d = golden_max_diff(out + (size_t)i * H, wn, H), dr = golden_max_diff(raw + (size_t)i * H, wr, H) / norm_of(wr);
                if (d > TOL_EMBED || dr > TOL_EMBED_RAW)
                    fail_msg("%s row %d on %s: max |diff| %.3g normalised, %.3g raw (relative to its norm)", id, i, v[k].what, d, dr);
                if (d > worst) worst = d;
                if (dr > worst_raw) worst_raw = dr;
            }
            if (v[k].threads == 1) memcpy(first, out, (size_t)nt * H * sizeof(float));
            else if (memcmp(first, out, (size_t)nt * H * sizeof(float)) != 0)
                fail_msg("%s: %s differs from the 1-thread result", id, v[k].what);
        }
        cases++;
    }
    printf("qwen3-embed-tiny (%s): %d cases (%d instructed queries) x %d variants, worst |diff| %.2g normalised, %.2g raw / norm\n",
           dtype, cases, queries, nv, worst, worst_raw);
    assert_int_equal(cases, 40);
    assert_true(queries >= 4);

    /* Matryoshka: the first 32 / 16 dimensions, re-normalised */
    goldens gm;
    if (goldens_load(&gm, "qwen3-embed-tiny", "goldens-matryoshka.jsonl")) {
        for (int r = 0; r < gm.n; r++) {
            size_t tl0, il;
            const json_value *instr = json_object_get(gm.rows[r], "instruction");
            const char *t = golden_str(json_object_get(gm.rows[r], instr ? "query" : "text"), &tl0);
            char task[512] = "";
            if (instr) snprintf(task, sizeof task, "%s", golden_str(instr, &il));
            assert_int_equal(ember_ctx_set_instruction(v[0].c, instr ? task : NULL), EMBER_OK);
            assert_int_equal(ember_embed(v[0].c, &t, &tl0, 1, EMBER_EMBED_NO_NORMALIZE | (instr ? EMBER_EMBED_QUERY : 0), raw),
                             EMBER_OK);
            for (int dims = 32; dims >= 16; dims /= 2) {
                memcpy(out, raw, (size_t)dims * sizeof(float));
                ember_l2_normalize(out, dims);
                double d = golden_max_diff(out, json_object_get(gm.rows[r], dims == 32 ? "embedding_32" : "embedding_16"), dims);
                if (d > TOL_EMBED) fail_msg("matryoshka row %d dims %d: |diff| %.3g", r, dims, d);
            }
        }
        goldens_free(&gm);
    }
    golden_variants_free(v, nv);
    free(out); free(first); free(raw);
    goldens_free(&g);
    ember_model_free(m);
}

static void run_embed_goldens(const char *dtype)
{
    const char *gguf = golden_converted("qwen3-embed-tiny", dtype);
    if (!gguf) { skip(); return; }
    run_embed_goldens_on(gguf, dtype);
}

/* An embedder file as llama.cpp's converter writes it: none of ember's keys.
 * The appended <|endoftext|> comes from tokenizer.ggml.add_eos_token,
 * normalisation is the default of pooled embeddings, and the query prompt is
 * the one thing lost: the instructed cases are written out by hand. */
static void test_embed_llamacpp_layout(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-embed-tiny", "f32");
    if (!gguf) { skip(); return; }
    static const char *const ember_keys[] = {
        "ember.tokenizer.template_single", "ember.tokenizer.template_single_types", "ember.tokenizer.template_pair",
        "ember.tokenizer.template_pair_types", "ember.max_seq_length", "ember.normalize", "ember.source",
        "ember.prompt.task", "ember.prompt.query_format", NULL};
    char bare[1024], err[512];
    snprintf(bare, sizeof bare, "%s/qwen3-embed-llamacpp.gguf", test_tmpdir());
    assert_int_equal(synth_gguf_copy(gguf, bare, ember_keys), 0);
    ember_model *m = ember_model_load(bare, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_null(info.query_prompt);
    assert_int_equal(info.normalize, 1);
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    goldens g;
    assert_true(goldens_load(&g, "qwen3-embed-tiny", "goldens.jsonl"));
    int n = 0;
    float out[64];
    for (int r = 0; r < g.n; r++) {
        const json_value *row = g.rows[r], *instr = json_object_get(row, "instruction");
        size_t kl, tl, il;
        if (strcmp(golden_str(json_object_get(row, "kind"), &kl), "single") != 0) continue;
        char text[4096];
        if (instr) {
            const char *t = golden_str(instr, &il), *q = golden_str(json_object_get(row, "query"), &tl);
            snprintf(text, sizeof text, "Instruct: %.*s\nQuery:%.*s", (int)il, t, (int)tl, q);
        } else {
            const char *t = golden_str(json_object_get(row, "text"), &tl);
            snprintf(text, sizeof text, "%.*s", (int)tl, t);
        }
        const char *tx = text;
        if (json_bool(json_object_get(row, "truncated"))) continue; /* ember.max_seq_length is gone: 32768 */
        assert_int_equal(ember_embed(c, &tx, NULL, 1, 0, out), EMBER_OK);
        double d = golden_max_diff(out, json_object_get(row, "embedding_normalized"), 64);
        if (d > TOL_EMBED) fail_msg("%s: |diff| %.3g", golden_str(json_object_get(row, "id"), &kl), d);
        n++;
    }
    assert_true(n >= 20);
    goldens_free(&g);
    ember_ctx_free(c);
    ember_model_free(m);
}

/* One reranker golden item: score it on every variant, check ids, logit and
 * score. */
static void rerank_item(golden_variant *v, int nv, const char *id, int i, const json_value *item, double want_yes,
                        double want_no, double want_score, double *worst)
{
    size_t ql, dl, il = 0;
    const char *q = golden_str(json_object_get(item, "query"), &ql), *d = golden_str(json_object_get(item, "document"), &dl);
    const json_value *instr = json_object_get(item, "instruction");
    char task[512];
    const char *t = instr && json_type_of(instr) == JSON_STRING ? json_string(instr, &il) : NULL;
    if (t) snprintf(task, sizeof task, "%.*s", (int)il, t);
    float first = 0;
    for (int k = 0; k < nv; k++) {
        float logit;
        assert_int_equal(ember_ctx_set_instruction(v[k].c, t ? task : NULL), EMBER_OK);
        if (ember_rerank(v[k].c, q, ql, &d, &dl, 1, &logit) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
        double dlg = fabs(logit - (want_yes - want_no)), dsc = fabs(ember_sigmoid(logit) - want_score);
        if (dlg > TOL_LOGIT || dsc > TOL_SCORE)
            fail_msg("%s item %d on %s: |diff| logit(yes) - logit(no) %.3g, score %.3g", id, i, v[k].what, dlg, dsc);
        if (dlg > *worst) *worst = dlg;
        if (v[k].threads == 1) first = logit;
        else if (memcmp(&first, &logit, sizeof logit) != 0) fail_msg("%s: %s differs from 1 thread", id, v[k].what);
    }
}

static void run_rerank_goldens_on(const char *gguf, const char *dtype)
{
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_RERANKER);
    goldens g;
    assert_true(goldens_load(&g, "qwen3-rerank-tiny", "goldens.jsonl"));
    golden_variant v[GOLDEN_MAX_VARIANTS];
    int nv = golden_variants(m, 256, v); /* --max-length 256: the whole prompt */
    double worst = 0;
    int cases = 0, truncated = 0;
    for (int r = 0; r < g.n; r++) {
        const json_value *row = g.rows[r];
        size_t kl;
        const char *id = golden_str(json_object_get(row, "id"), &kl);
        int batch = strcmp(golden_str(json_object_get(row, "kind"), &kl), "batch") == 0;
        assert_int_equal((int)json_number(json_object_get(row, "max_length")), 256);
        if (batch) {
            const json_value *items = json_object_get(row, "items");
            for (size_t i = 0; i < json_array_len(items); i++)
                rerank_item(v, nv, id, (int)i, json_array_at(items, i),
                            json_number(json_array_at(json_object_get(row, "logit_yes"), i)),
                            json_number(json_array_at(json_object_get(row, "logit_no"), i)),
                            json_number(json_array_at(json_object_get(row, "score"), i)), &worst);
        } else {
            /* the ids: the prompt's prefix and suffix around the formatted
             * pair, cut to content_max_length */
            int32_t want[1024], got[1024];
            int nw = golden_ids(row, 0, 0, want, 1024), n = 0, cml = (int)json_number(json_object_get(row, "content_max_length"));
            size_t fl;
            const char *f = golden_str(json_object_get(row, "formatted"), &fl);
            if (ember_tokenize(v[0].c, f, fl, NULL, 0, 0, cml, got, NULL, 1024, &n) != EMBER_OK)
                fail_msg("%s: tokenize: %s", id, ember_ctx_error(v[0].c));
            int prefix = 39, suffix = 9; /* SOURCE.md: 39 and 9 tokens */
            assert_int_equal(nw, prefix + n + suffix);
            expect_ids(id, 0, got, n, want + prefix, nw - prefix - suffix);
            truncated += json_bool(json_object_get(row, "truncated"));
            rerank_item(v, nv, id, 0, row, json_number(json_object_get(row, "logit_yes")),
                        json_number(json_object_get(row, "logit_no")), json_number(json_object_get(row, "score")), &worst);
        }
        cases++;
    }
    printf("qwen3-rerank-tiny (%s): %d cases (%d truncated) x %d variants, worst |diff| logit %.2g\n", dtype, cases,
           truncated, nv, worst);
    assert_int_equal(cases, 39);
    assert_true(truncated >= 1);
    golden_variants_free(v, nv);
    goldens_free(&g);
    ember_model_free(m);
}

static void run_rerank_goldens(const char *dtype)
{
    const char *gguf = golden_converted("qwen3-rerank-tiny", dtype);
    if (!gguf) { skip(); return; }
    run_rerank_goldens_on(gguf, dtype);
}

/* A reranker file as llama.cpp's converter writes it: the prompt only as
 * tokenizer.chat_template.rerank (none of ember's keys), the task inside
 * it.  ember takes the template apart and scores the same; without any
 * prompt it refuses to load rather than score a bare pair. */
static void test_rerank_llamacpp_layout(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-rerank-tiny", "f32");
    if (!gguf) { skip(); return; }
    static const char *const ember_keys[] = {"ember.rerank.prefix", "ember.rerank.format", "ember.rerank.suffix",
                                             "ember.prompt.task", NULL};
    char bare[1024], err[512] = "";
    snprintf(bare, sizeof bare, "%s/qwen3-rerank-llamacpp.gguf", test_tmpdir());
    assert_int_equal(synth_gguf_copy(gguf, bare, ember_keys), 0);
    run_rerank_goldens_on(bare, "llama.cpp keys");
    static const char *const all_prompts[] = {"ember.rerank.prefix", "ember.rerank.format", "ember.rerank.suffix",
                                              "ember.prompt.task", "tokenizer.chat_template.rerank", NULL};
    snprintf(bare, sizeof bare, "%s/qwen3-rerank-no-prompt.gguf", test_tmpdir());
    assert_int_equal(synth_gguf_copy(gguf, bare, all_prompts), 0);
    ember_model *m = ember_model_load(bare, err, sizeof err);
    if (m) fail_msg("a Qwen3 reranker without its prompt loaded");
    if (!strstr(err, "prompt")) fail_msg("unclear refusal: %s", err);
}

/* The instruction of a context: copied, refused when not UTF-8, and a query
 * with the default task equals one with that task given. */
static void test_instruction(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-embed-tiny", "f32");
    if (!gguf) { skip(); return; }
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    assert_non_null(m);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_non_null(info.query_prompt);
    assert_string_equal(info.query_prompt, "Instruct: {task}\nQuery:{text}");
    assert_string_equal(info.default_task, "Given a web search query, retrieve relevant passages that answer the query");
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    const char *q = "What is the capital of China?";
    float a[64], b[64], d[64];
    assert_int_equal(ember_embed(c, &q, NULL, 1, EMBER_EMBED_QUERY, a), EMBER_OK);
    char task[128];
    snprintf(task, sizeof task, "%s", info.default_task);
    assert_int_equal(ember_ctx_set_instruction(c, task), EMBER_OK);
    task[0] = 'X'; /* the context keeps its own copy */
    assert_int_equal(ember_embed(c, &q, NULL, 1, EMBER_EMBED_QUERY, b), EMBER_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(ember_ctx_set_instruction(c, "Find code"), EMBER_OK);
    assert_int_equal(ember_embed(c, &q, NULL, 1, EMBER_EMBED_QUERY, b), EMBER_OK);
    assert_true(memcmp(a, b, sizeof a) != 0);
    assert_int_equal(ember_embed(c, &q, NULL, 1, 0, d), EMBER_OK); /* a document: no prompt */
    assert_true(memcmp(a, d, sizeof a) != 0 && memcmp(b, d, sizeof b) != 0);
    assert_int_equal(ember_ctx_set_instruction(c, "bad \xff utf-8"), EMBER_ERR_TEXT);
    assert_non_null(strstr(ember_ctx_error(c), "UTF-8"));
    assert_int_equal(ember_ctx_set_instruction(c, NULL), EMBER_OK);
    assert_int_equal(ember_embed(c, &q, NULL, 1, EMBER_EMBED_QUERY, b), EMBER_OK);
    assert_memory_equal(a, b, sizeof a);
    ember_ctx_free(c);
    ember_model_free(m);
}

/* One batched call equals per-text calls bit for bit, on every kernel
 * table: sequences are packed back to back and causal each within itself,
 * and each text's rows get the GEMM form they get alone
 * (model_linear_forms), whatever else shares the chunk or its row blocks. */
static void test_batch_equals_single(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-embed-tiny", "f32");
    if (!gguf) { skip(); return; }
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    assert_non_null(m);
    static char long1[1200], long2[1200], long3[1200];
    for (int i = 0; i < 110; i++) {
        strcat(long1, i % 3 ? " word" : " other");
        strcat(long2, i % 5 ? " cat" : " dog");
        strcat(long3, i % 2 ? " blue" : " sky");
    }
    const char *t[10] = { long1, long2, long3, "a", "Hello world", "", "The quick brown fox jumps over the lazy dog.",
                          "<|im_start|> <think>", "naïve café 你好", "x y z" };
    golden_batch_equals_single(m, t, 10, 64);
    ember_model_free(m);
}

/* Inputs longer than max_tokens are cut, never refused, and counted
 * (ember_ctx_truncated): for embeddings and for the reranker's prompt,
 * whose ends stay whole. */
static void test_truncation_counted(void **state)
{
    (void)state;
    const char *ge = golden_converted("qwen3-embed-tiny", "f32"), *gr = golden_converted("qwen3-rerank-tiny", "f32");
    if (!ge || !gr) { skip(); return; }
    char err[512], longtext[4096] = "";
    for (int i = 0; i < 300; i++) strcat(longtext, "word ");
    ember_model *m = ember_model_load(ge, err, sizeof err), *r = ember_model_load(gr, err, sizeof err);
    assert_non_null(m);
    assert_non_null(r);
    ember_ctx_params p = ember_ctx_default_params();
    p.max_tokens = 16;
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    assert_non_null(c);
    const char *t[3] = { longtext, "short", longtext };
    float out[3 * 64];
    assert_int_equal(ember_embed(c, t, NULL, 3, 0, out), EMBER_OK);
    assert_int_equal(ember_ctx_truncated(c), 2);
    assert_memory_equal(out, out + 2 * 64, 64 * sizeof(float));
    assert_int_equal(ember_embed(c, t + 1, NULL, 1, 0, out), EMBER_OK);
    assert_int_equal(ember_ctx_truncated(c), 0);
    /* exactly max_tokens tokens is not cut: "word" x 15 and <|endoftext|> */
    char fits[256] = "word";
    for (int i = 1; i < 15; i++) strcat(fits, " word");
    const char *f = fits;
    int32_t ids[64];
    int n;
    assert_int_equal(ember_tokenize(c, fits, strlen(fits), NULL, 0, 1, 0, ids, NULL, 64, &n), EMBER_OK);
    assert_int_equal(n, 16);
    assert_int_equal(ember_embed(c, &f, NULL, 1, 0, out), EMBER_OK);
    assert_int_equal(ember_ctx_truncated(c), 0);
    ember_ctx_free(c);
    p.max_tokens = 100; /* 48 of them the prompt's ends, about 30 the short pair with its task */
    ember_ctx *cr = ember_ctx_create(r, &p, err, sizeof err);
    assert_non_null(cr);
    float logit[2];
    const char *docs[2] = { "Beijing.", longtext };
    assert_int_equal(ember_rerank(cr, "capital?", 8, docs, NULL, 2, logit), EMBER_OK);
    assert_int_equal(ember_ctx_truncated(cr), 1);
    assert_true(isfinite(logit[0]) && isfinite(logit[1]));
    p.max_tokens = 40; /* no room beside the prompt */
    ember_ctx *tiny = ember_ctx_create(r, &p, err, sizeof err);
    assert_non_null(tiny);
    assert_int_not_equal(ember_rerank(tiny, "capital?", 8, docs, NULL, 1, logit), EMBER_OK);
    assert_non_null(strstr(ember_ctx_error(tiny), "rerank prompt"));
    assert_int_equal(ember_ctx_truncated(tiny), 0);
    ember_ctx_free(tiny);
    ember_ctx_free(cr);
    ember_model_free(m);
    ember_model_free(r);
}

/* ---- ember_ctx_params.bf16_dot on the bf16 files ---------------------- */

/* A context for the bf16 dot-product option on table k (NULL: the default
 * table), t threads. */
static ember_ctx *dot_ctx(const ember_model *m, const kern_ops *k, int bf16_dot, int t)
{
    char err[512];
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = t;
    p.max_batch = 8;
    p.max_tokens = 256;
    p.bf16_dot = bf16_dot;
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    if (!c) fail_msg("context: %s", err);
    if (k) c->k = k; /* tests may pin the kernel table */
    return c;
}

/* Golden row r's texts embedded (normalised) into out; returns how many. */
static int embed_golden_row(ember_ctx *c, const json_value *row, float *out)
{
    size_t kl;
    const int batch = strcmp(golden_str(json_object_get(row, "kind"), &kl), "batch") == 0;
    const json_value *texts = batch ? json_object_get(row, "texts") : NULL, *instr = json_object_get(row, "instruction");
    const int nt = batch ? (int)json_array_len(texts) : 1;
    const char *tx[MAX_ROWS];
    size_t tl[MAX_ROWS];
    char task[512] = "";
    assert_true(nt <= MAX_ROWS);
    if (instr) {
        size_t il;
        const char *t = golden_str(instr, &il);
        snprintf(task, sizeof task, "%.*s", (int)il, t);
        tx[0] = golden_str(json_object_get(row, "query"), &tl[0]);
    } else {
        for (int i = 0; i < nt; i++) tx[i] = golden_str(batch ? json_array_at(texts, (size_t)i) : json_object_get(row, "text"), &tl[i]);
    }
    assert_int_equal(ember_ctx_set_instruction(c, instr ? task : NULL), EMBER_OK);
    if (ember_embed(c, tx, tl, nt, instr ? EMBER_EMBED_QUERY : 0, out) != EMBER_OK) fail_msg("%s", ember_ctx_error(c));
    return nt;
}

/* Every golden row on c: the worst |diff| and the lowest cosine against
 * the normalised goldens, and the outputs (rows x 64) into all. */
static void embed_goldens_on(ember_ctx *c, const goldens *g, float *all, double *worst, double *cos_min)
{
    size_t at = 0, kl;
    for (int r = 0; r < g->n; r++) {
        const json_value *row = g->rows[r];
        const int batch = strcmp(golden_str(json_object_get(row, "kind"), &kl), "batch") == 0;
        const int nt = embed_golden_row(c, row, all + at * 64);
        for (int i = 0; i < nt; i++, at++) {
            const json_value *wn = json_object_get(row, "embedding_normalized");
            if (batch) wn = json_array_at(wn, (size_t)i);
            double d = golden_max_diff(all + at * 64, wn, 64), dot = 0;
            for (int j = 0; j < 64; j++) dot += all[at * 64 + j] * json_number(json_array_at(wn, (size_t)j));
            if (d > *worst) *worst = d;
            if (dot < *cos_min) *cos_min = dot;
        }
    }
}

#define DOT_MAX_OUT 1024 /* rows of output the goldens give at most */
/* bf16_dot against the float64 goldens: a normalised embedding's max
 * |diff| (2.9e-3 measured on avx512bf16 and emu16) and its cosine with the
 * golden (1 - 4.2e-5 measured), the reranker's logit(yes) - logit(no)
 * (1.2e-2 measured, on logits up to 2.5), each bound a few times the
 * measured error: what bf16 activations cost, not an exact figure */
#define TOL_DOT_EMBED 1e-2
#define TOL_DOT_COS 0.9995
#define TOL_DOT_LOGIT 5e-2

/* bf16_dot = 1: every weight product with activations rounded to bf16,
 * on each table that has gemm_bf16dot (avx512bf16 where the CPU has it,
 * emu16 everywhere), 1 and 2 threads bit-identical, within a loose bound
 * of the float64 goldens: rounding an activation to bf16 moves it by up to
 * 2^-8 relative, and 7 GEMMs a layer, 2 layers, each add such an error,
 * damped by the norms.  Off (the default, or -1) and on a table without
 * it (ember_ctx_bf16_dot 0): the widening path, bit for bit. */
static void test_bf16_dot_embed(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-embed-tiny", "bf16"), *g32 = golden_converted("qwen3-embed-tiny", "f32");
    if (!gguf || !g32) { skip(); return; }
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    goldens g;
    assert_true(goldens_load(&g, "qwen3-embed-tiny", "goldens.jsonl"));
    float *on = malloc(DOT_MAX_OUT * 64 * sizeof(float)), *off = malloc(DOT_MAX_OUT * 64 * sizeof(float));
    float *other = malloc(DOT_MAX_OUT * 64 * sizeof(float));
    const size_t bytes = DOT_MAX_OUT * 64 * sizeof(float);
    int tables = 0;
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        double worst = 0, cos_min = 1, w0 = 0, c0 = 1;
        memset(off, 0, bytes);
        memset(on, 0, bytes);
        ember_ctx *c = dot_ctx(m, k, -1, 1);
        embed_goldens_on(c, &g, off, &w0, &c0);
        assert_int_equal(ember_ctx_bf16_dot(c), 0);
        ember_ctx_free(c);
        for (int t = 1; t <= (isa < KERN_ISA_FIRST_EMU ? 2 : 1); t++) {
            c = dot_ctx(m, k, 1, t);
            assert_int_equal(ember_ctx_bf16_dot(c), k->gemm_bf16dot != NULL);
            memset(other, 0, bytes);
            embed_goldens_on(c, &g, t == 1 ? on : other, &worst, &cos_min);
            ember_ctx_free(c);
            if (t == 2 && memcmp(on, other, bytes) != 0) fail_msg("%s bf16_dot: 2 threads differ from 1", k->name);
        }
        if (!k->gemm_bf16dot) { /* asked for, not there: the widening path */
            if (memcmp(on, off, bytes) != 0) fail_msg("%s: bf16_dot = 1 changed a table without gemm_bf16dot", k->name);
            continue;
        }
        tables++;
        printf("qwen3-embed-tiny (bf16) on %s with bf16_dot: worst |diff| %.2g normalised, cosine >= %.6f (off: %.2g)\n",
               k->name, worst, cos_min, w0);
        if (memcmp(on, off, bytes) == 0) fail_msg("%s: bf16_dot = 1 changed nothing", k->name);
        if (worst > TOL_DOT_EMBED || cos_min < TOL_DOT_COS)
            fail_msg("%s bf16_dot: |diff| %.3g, cosine %.6f against the goldens", k->name, worst, cos_min);
    }
    assert_true(tables >= 1); /* emu16 at least */
    /* off is the widening path: the default (0, EMBER_BF16_DOT unset) and
     * -1 give the same bits, the avx512bf16 table the avx512vnni table's */
    unsetenv("EMBER_BF16_DOT");
    const kern_ops *bf = kern_ops_for(KERN_ISA_AVX512BF16), *vnni = kern_ops_for(KERN_ISA_AVX512VNNI);
    ember_ctx *c = dot_ctx(m, bf ? bf : NULL, 0, 2);
    double w = 0, cm = 1;
    memset(on, 0, bytes);
    memset(off, 0, bytes);
    embed_goldens_on(c, &g, on, &w, &cm);
    ember_ctx_free(c);
    c = dot_ctx(m, bf && vnni ? vnni : NULL, -1, 2);
    embed_goldens_on(c, &g, off, &w, &cm);
    ember_ctx_free(c);
    if (memcmp(on, off, bytes) != 0) fail_msg("bf16_dot off: not the widening path's bits");
    /* f32 weights are never affected */
    ember_model *m32 = ember_model_load(g32, err, sizeof err);
    if (!m32) fail_msg("load: %s", err);
    const kern_ops *any = kern_ops_for(KERN_ISA_EMU16);
    c = dot_ctx(m32, bf ? bf : any, 1, 1);
    memset(on, 0, bytes);
    memset(off, 0, bytes);
    embed_goldens_on(c, &g, on, &w, &cm);
    ember_ctx_free(c);
    c = dot_ctx(m32, bf ? bf : any, -1, 1);
    embed_goldens_on(c, &g, off, &w, &cm);
    ember_ctx_free(c);
    if (memcmp(on, off, bytes) != 0) fail_msg("bf16_dot changed an f32 model");
    ember_model_free(m32);
    free(on); free(off); free(other);
    goldens_free(&g);
    ember_model_free(m);
}

/* The reranker likewise: logit(yes) - logit(no) within a loose bound. */
static void test_bf16_dot_rerank(void **state)
{
    (void)state;
    const char *gguf = golden_converted("qwen3-rerank-tiny", "bf16");
    if (!gguf) { skip(); return; }
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    goldens g;
    assert_true(goldens_load(&g, "qwen3-rerank-tiny", "goldens.jsonl"));
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k || !k->gemm_bf16dot) continue;
        ember_ctx *c = dot_ctx(m, k, 1, 1);
        double worst = 0;
        int n = 0;
        for (int r = 0; r < g.n; r++) {
            const json_value *row = g.rows[r];
            size_t kl;
            const int batch = strcmp(golden_str(json_object_get(row, "kind"), &kl), "batch") == 0;
            const json_value *items = batch ? json_object_get(row, "items") : NULL;
            const int ni = batch ? (int)json_array_len(items) : 1;
            for (int i = 0; i < ni; i++) {
                const json_value *it = batch ? json_array_at(items, (size_t)i) : row, *instr = json_object_get(it, "instruction");
                size_t ql, dl, il = 0;
                const char *q = golden_str(json_object_get(it, "query"), &ql), *d = golden_str(json_object_get(it, "document"), &dl);
                const char *t = instr && json_type_of(instr) == JSON_STRING ? json_string(instr, &il) : NULL;
                char task[512];
                if (t) snprintf(task, sizeof task, "%.*s", (int)il, t);
                assert_int_equal(ember_ctx_set_instruction(c, t ? task : NULL), EMBER_OK);
                float logit;
                if (ember_rerank(c, q, ql, &d, &dl, 1, &logit) != EMBER_OK) fail_msg("%s", ember_ctx_error(c));
                const json_value *y = json_object_get(row, "logit_yes"), *no = json_object_get(row, "logit_no");
                const double want = batch ? json_number(json_array_at(y, (size_t)i)) - json_number(json_array_at(no, (size_t)i))
                                          : json_number(y) - json_number(no);
                if (fabs(logit - want) > worst) worst = fabs(logit - want);
                n++;
            }
        }
        printf("qwen3-rerank-tiny (bf16) on %s with bf16_dot: %d pairs, worst |diff| logit %.2g\n", k->name, n, worst);
        if (worst > TOL_DOT_LOGIT) fail_msg("%s bf16_dot: logit |diff| %.3g", k->name, worst);
        ember_ctx_free(c);
    }
    goldens_free(&g);
    ember_model_free(m);
}

static void test_embed_goldens_f32(void **s) { (void)s; run_embed_goldens("f32"); }
static void test_embed_goldens_bf16(void **s) { (void)s; run_embed_goldens("bf16"); }
static void test_rerank_goldens_f32(void **s) { (void)s; run_rerank_goldens("f32"); }
static void test_rerank_goldens_bf16(void **s) { (void)s; run_rerank_goldens("bf16"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_goldens_f32),
        cmocka_unit_test(test_embed_goldens_bf16),
        cmocka_unit_test(test_rerank_goldens_f32),
        cmocka_unit_test(test_rerank_goldens_bf16),
        cmocka_unit_test(test_batch_equals_single),
        cmocka_unit_test(test_rerank_llamacpp_layout),
        cmocka_unit_test(test_embed_llamacpp_layout),
        cmocka_unit_test(test_instruction),
        cmocka_unit_test(test_truncation_counted),
        cmocka_unit_test(test_bf16_dot_embed),
        cmocka_unit_test(test_bf16_dot_rerank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
