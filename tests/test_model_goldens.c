/* Golden tests of the BERT forward pass: convert each fixture checkpoint with
 * the real converter, run text through ember's tokenizer and encoder on every
 * ISA path the CPU has and on 1 and 2 threads, and compare with the float64
 * goldens within the tolerances of each fixture's SOURCE.md. */
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
#include "tests/synth_model.h"
#include "tools/commands.h"
#include "tools/json.h"
#include "tests/goldens.h"

#define TOL_EMBED 1e-5   /* normalised embeddings */
#define TOL_EMBED_RAW 1e-4
#define TOL_LOGIT 2e-5
#define TOL_SCORE 1e-5

static void run_embed_goldens(const char *dtype, double tol_scale)
{
    const char *gguf = golden_converted("minilm-embed-tiny", dtype);
    if (!gguf) { skip(); return; }
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_EMBEDDER);
    assert_int_equal(info.max_tokens, 256);
    const int H = info.dim;
    goldens g;
    assert_true(goldens_load(&g, "minilm-embed-tiny", "goldens.jsonl"));
    golden_variant v[GOLDEN_MAX_VARIANTS];
    int nv = golden_variants(m, 0, v);
    float *out = malloc(16 * (size_t)H * sizeof(float)), *first = malloc(16 * (size_t)H * sizeof(float));
    float *raw = malloc(16 * (size_t)H * sizeof(float));
    double worst = 0, worst_raw = 0;
    int cases = 0;
    for (int r = 0; r < g.n; r++) {
        const json_value *row = g.rows[r];
        size_t kl;
        const char *kind = golden_str(json_object_get(row, "kind"), &kl);
        const char *id = golden_str(json_object_get(row, "id"), &kl);
        int batch = strcmp(kind, "batch") == 0;
        const json_value *texts = batch ? json_object_get(row, "texts") : NULL;
        int nt = batch ? (int)json_array_len(texts) : 1;
        assert_true(nt <= 16);
        const char *tx[16];
        size_t tl[16];
        for (int i = 0; i < nt; i++) tx[i] = golden_str(batch ? json_array_at(texts, (size_t)i) : json_object_get(row, "text"), &tl[i]);
        int max_len = (int)json_number(json_object_get(row, "max_length"));
        for (int i = 0; i < nt; i++) {
            const json_value *ids = json_object_get(row, "input_ids"), *tys = json_object_get(row, "token_type_ids");
            if (batch) {
                /* golden rows are padded: compare the unpadded prefix */
                const json_value *mask = json_array_at(json_object_get(row, "attention_mask"), (size_t)i);
                int32_t got[1024], gt[1024];
                int n = 0, want = 0;
                for (size_t t = 0; t < json_array_len(mask); t++) want += json_number(json_array_at(mask, t)) != 0;
                assert_int_equal(ember_tokenize(v[0].c, tx[i], tl[i], NULL, 0, 1, max_len, got, gt, 1024, &n), EMBER_OK);
                if (n != want) fail_msg("%s row %d: %d tokens, golden %d", id, i, n, want);
                for (int t = 0; t < n; t++)
                    assert_int_equal(got[t], (int)json_number(json_array_at(json_array_at(ids, (size_t)i), (size_t)t)));
            } else {
                golden_check_ids(v[0].c, id, tx[i], tl[i], NULL, 0, max_len, ids, tys);
            }
        }
        for (int k = 0; k < nv; k++) {
            if (ember_embed(v[k].c, tx, tl, nt, 0, out) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
            if (ember_embed(v[k].c, tx, tl, nt, EMBER_EMBED_NO_NORMALIZE, raw) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
            for (int i = 0; i < nt; i++) {
                const json_value *wn = json_object_get(row, "embedding_normalized");
                const json_value *wr = json_object_get(row, "embedding");
                if (batch) { wn = json_array_at(wn, (size_t)i); wr = json_array_at(wr, (size_t)i); }
                double d = golden_max_diff(out + (size_t)i * H, wn, H), dr = golden_max_diff(raw + (size_t)i * H, wr, H);
                if (d > TOL_EMBED * tol_scale || dr > TOL_EMBED_RAW * tol_scale)
                    fail_msg("%s row %d on %s: max |diff| %.3g normalised, %.3g raw (tolerance %.1g / %.1g)",
                             id, i, v[k].what, d, dr, TOL_EMBED * tol_scale, TOL_EMBED_RAW * tol_scale);
                if (d > worst) worst = d;
                if (dr > worst_raw) worst_raw = dr;
            }
            /* same ISA on 1 and 2 threads (v[k - 1], v[k]): bit-identical */
            if (v[k].threads == 1) memcpy(first, out, (size_t)nt * H * sizeof(float));
            else if (memcmp(first, out, (size_t)nt * H * sizeof(float)) != 0)
                fail_msg("%s: %s differs from the 1-thread result", id, v[k].what);
        }
        cases++;
    }
    printf("minilm-embed-tiny (%s): %d cases x %d variants, worst |diff| %.2g normalised, %.2g raw\n",
           dtype, cases, nv, worst, worst_raw);
    assert_int_equal(cases, 40);

    /* Matryoshka: first 32 / 16 dims of the raw embedding, re-normalised */
    goldens gm;
    if (goldens_load(&gm, "minilm-embed-tiny", "goldens-matryoshka.jsonl")) {
        for (int r = 0; r < gm.n; r++) {
            size_t tl0;
            const char *t = golden_str(json_object_get(gm.rows[r], "text"), &tl0);
            assert_int_equal(ember_embed(v[0].c, &t, &tl0, 1, EMBER_EMBED_NO_NORMALIZE, raw), EMBER_OK);
            for (int dims = 32; dims >= 16; dims /= 2) {
                memcpy(out, raw, (size_t)dims * sizeof(float));
                ember_l2_normalize(out, dims);
                double d = golden_max_diff(out, json_object_get(gm.rows[r], dims == 32 ? "embedding_32" : "embedding_16"), dims);
                if (d > TOL_EMBED * tol_scale) fail_msg("matryoshka row %d dims %d: |diff| %.3g", r, dims, d);
            }
        }
        goldens_free(&gm);
    }
    golden_variants_free(v, nv);
    free(out); free(first); free(raw);
    goldens_free(&g);
    ember_model_free(m);
}

static void run_cross_goldens_on(const char *gguf, const char *model, double tol_scale)
{
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_RERANKER);
    goldens g;
    assert_true(goldens_load(&g, model, "goldens.jsonl"));
    golden_variant v[GOLDEN_MAX_VARIANTS];
    int nv = golden_variants(m, 0, v);
    double worst = 0;
    int cases = 0;
    for (int r = 0; r < g.n; r++) {
        const json_value *row = g.rows[r];
        size_t kl;
        const char *kind = golden_str(json_object_get(row, "kind"), &kl);
        const char *id = golden_str(json_object_get(row, "id"), &kl);
        int batch = strcmp(kind, "batch") == 0;
        const json_value *pairs = batch ? json_object_get(row, "pairs") : NULL;
        int np = batch ? (int)json_array_len(pairs) : 1;
        assert_true(np <= 16);
        int max_len = (int)json_number(json_object_get(row, "max_length"));
        for (int i = 0; i < np; i++) {
            size_t ql, dl;
            const char *q = golden_str(batch ? json_array_at(json_array_at(pairs, (size_t)i), 0) : json_object_get(row, "query"), &ql);
            const char *d = golden_str(batch ? json_array_at(json_array_at(pairs, (size_t)i), 1) : json_object_get(row, "document"), &dl);
            if (!batch)
                golden_check_ids(v[0].c, id, q, ql, d, dl, max_len, json_object_get(row, "input_ids"), json_object_get(row, "token_type_ids"));
            for (int k = 0; k < nv; k++) {
                float logit, again;
                if (ember_rerank(v[k].c, q, ql, &d, &dl, 1, &logit) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
                const json_value *wl = json_object_get(row, "logits"), *ws = json_object_get(row, "score_sigmoid");
                if (batch) { wl = json_array_at(wl, (size_t)i); ws = json_array_at(ws, (size_t)i); }
                double dlg = fabs(logit - json_number(json_array_at(wl, 0)));
                double dsc = fabs(ember_sigmoid(logit) - json_number(json_array_at(ws, 0)));
                if (dlg > TOL_LOGIT * tol_scale || dsc > TOL_SCORE * tol_scale)
                    fail_msg("%s pair %d on %s: |diff| logit %.3g, score %.3g", id, i, v[k].what, dlg, dsc);
                if (dlg > worst) worst = dlg;
                if (v[k].threads == 2) {
                    assert_int_equal(ember_rerank(v[k - 1].c, q, ql, &d, &dl, 1, &again), EMBER_OK);
                    if (memcmp(&again, &logit, sizeof logit) != 0) fail_msg("%s: %s differs from 1 thread", id, v[k].what);
                }
            }
        }
        cases++;
    }
    printf("%s (%s): %d cases x %d variants, worst |diff| logit %.2g\n", model, strrchr(gguf, '/') + 1, cases, nv, worst);
    assert_int_equal(cases, 39);
    golden_variants_free(v, nv);
    goldens_free(&g);
    ember_model_free(m);
}

static void run_cross_goldens(const char *model, const char *dtype, double tol_scale)
{
    const char *gguf = golden_converted(model, dtype);
    if (!gguf) { skip(); return; }
    run_cross_goldens_on(gguf, model, tol_scale);
}

/* A cross-encoder GGUF as another converter (llama.cpp's) writes it: none of
 * ember's template keys.  The pair layout must come from the model itself
 * (XLM-R's one-row token-type table: <s> A </s></s> B </s>, all type 0),
 * matching the goldens exactly; a file without the head's dense layer
 * (llama.cpp drops BERT's pooler) is refused, never scored. */
static void test_cross_without_ember_keys(void **state)
{
    (void)state;
    static const char *const no_templates[] = {
        "ember.tokenizer.template_single", "ember.tokenizer.template_single_types",
        "ember.tokenizer.template_pair", "ember.tokenizer.template_pair_types", NULL};
    const char *models[] = {"xlmr-cross-tiny", "minilm-cross-tiny"};
    for (int i = 0; i < 2; i++) {
        const char *gguf = golden_converted(models[i], "f32");
        if (!gguf) { skip(); return; }
        char bare[1024];
        snprintf(bare, sizeof bare, "%s/%s-no-templates.gguf", test_tmpdir(), models[i]);
        assert_int_equal(synth_gguf_copy(gguf, bare, no_templates), 0);
        run_cross_goldens_on(bare, models[i], 1.0);
    }
    static const char *const no_pooler[] = {"cls.weight", "cls.bias", NULL};
    const char *gguf = golden_converted("minilm-cross-tiny", "f32");
    char bare[1024], err[512] = "";
    snprintf(bare, sizeof bare, "%s/minilm-cross-no-pooler.gguf", test_tmpdir());
    assert_int_equal(synth_gguf_copy(gguf, bare, no_pooler), 0);
    ember_model *m = ember_model_load(bare, err, sizeof err);
    if (m) fail_msg("a reranker without its pooler loaded");
    if (!strstr(err, "cls.weight") || !strstr(err, "reranker head")) fail_msg("unclear refusal: %s", err);
}

/* One batched call must equal per-text calls bit for bit, on every kernel
 * table: padding never leaks, and each text's rows get the GEMM form they
 * get alone (model_linear_forms), whatever else is in its chunk: short
 * texts, 5..24-row ones and long ones, a chunk of long ones past 256 rows
 * (the packed form, where alone a text gets the broadcast one). */
static void test_batch_equals_single(void **state)
{
    (void)state;
    const char *gguf = golden_converted("minilm-embed-tiny", "f32");
    if (!gguf) { skip(); return; }
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    assert_non_null(m);
    static char long1[1200], long2[1200], long3[1200];
    for (int i = 0; i < 110; i++) {
        strcat(long1, i % 3 ? "word " : "other ");
        strcat(long2, i % 5 ? "cat " : "dog ");
        strcat(long3, i % 2 ? "blue " : "sky ");
    }
    const char *t[10] = { long1, long2, long3, "a", "Hello world", "", "The quick brown fox jumps over the lazy dog.",
                          "[CLS] [SEP]", "naïve café", "x y z" };
    golden_batch_equals_single(m, t, 10, 64);
    ember_model_free(m);
}

static void test_embed_goldens_f32(void **s) { (void)s; run_embed_goldens("f32", 1.0); }
static void test_cross_goldens_f32(void **s) { (void)s; run_cross_goldens("minilm-cross-tiny", "f32", 1.0); }
static void test_xlmr_goldens_f32(void **s) { (void)s; run_cross_goldens("xlmr-cross-tiny", "f32", 1.0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_goldens_f32),
        cmocka_unit_test(test_cross_goldens_f32),
        cmocka_unit_test(test_xlmr_goldens_f32),
        cmocka_unit_test(test_batch_equals_single),
        cmocka_unit_test(test_cross_without_ember_keys),
    };
    return cmocka_run_group_tests_name("model_goldens", tests, NULL, NULL);
}
