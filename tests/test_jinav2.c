/* jina-reranker-v2-base-multilingual (Jina's XLM-RoBERTa layout,
 * tools/convert_jina_xlmr.c): the random-weight folder in the model's exact
 * layout (tests/data/models/jina-reranker-v2-tiny, written by
 * tests/check/gen_jinav2_tiny.py) converts with the real converter and gives
 * the float64 reference's token ids and logits on every kernel table and on
 * 1 and 2 threads, as f32 and as bf16 (the checkpoint's own type); the fused
 * Wqkv is split into the right rows; the same folder as XLMRobertaModel
 * embeds with Jina's emb_pooler; what ember does not run is refused by name. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ember.h"
#include "kernels/kernels.h"
#include "model/gguf.h"
#include "tests/fixtures.h"
#include "tests/goldens.h"
#include "tools/convert.h"
#include "tools/json.h"
#include "tools/safetensors.h"

#define JINA_DIR "tests/data/models/jina-reranker-v2-tiny"
#define TOL_LOGIT 2e-5
#define TOL_SCORE 1e-5
#define TOL_HIDDEN 1e-4
#define HIDDEN 32
#define SHORT_MAX 20 /* the generator's PAIRS_SHORT max_length */

static int convert(const char *dir, const char *out, int dtype, char *err, size_t errlen)
{
    convert_options o = { .hf_dir = dir, .out_path = out, .dtype = dtype };
    convert_summary s;
    return convert_hf_to_gguf(&o, &s, err, errlen);
}

static const char *converted(const char *dir, const char *name, int dtype)
{
    static char out[4][700];
    static int k;
    char *o = out[k++ % 4], err[1024] = "";
    snprintf(o, 700, "%s/%s.gguf", test_tmpdir(), name);
    if (convert(dir, o, dtype, err, sizeof err) != 0) fail_msg("ember convert %s: %s", dir, err);
    return o;
}

static void check_ids(ember_ctx *c, const char *id, const char *a, size_t al, const char *b, size_t bl, int max_len,
                      const json_value *want)
{
    int32_t got[2048], types[2048];
    int n = 0;
    if (ember_tokenize(c, a, al, b, bl, 1, max_len, got, types, 2048, &n) != EMBER_OK)
        fail_msg("%s: tokenize: %s", id, ember_ctx_error(c));
    if ((size_t)n != json_array_len(want)) fail_msg("%s: %d tokens, golden %zu", id, n, json_array_len(want));
    for (int i = 0; i < n; i++) {
        if (got[i] != (int32_t)json_number(json_array_at(want, (size_t)i)))
            fail_msg("%s: token %d is %d, golden %d", id, i, got[i], (int)json_number(json_array_at(want, (size_t)i)));
        if (types[i] != 0) fail_msg("%s: token %d has type %d (XLM-R: all 0)", id, i, types[i]);
    }
}

/* The non-padding prefix of golden batch row r. */
static const json_value *batch_ids(const json_value *row, size_t r, int *n)
{
    const json_value *mask = json_array_at(json_object_get(row, "attention_mask"), r);
    *n = 0;
    for (size_t t = 0; t < json_array_len(mask); t++) *n += json_number(json_array_at(mask, t)) != 0;
    return json_array_at(json_object_get(row, "input_ids"), r);
}

static void check_logit(const char *id, int i, const char *what, float logit, const json_value *wl, const json_value *ws,
                        double *worst)
{
    double dl = fabs(logit - json_number(json_array_at(wl, 0)));
    double ds = fabs(ember_sigmoid(logit) - json_number(json_array_at(ws, 0)));
    if (!(dl <= TOL_LOGIT) || !(ds <= TOL_SCORE))
        fail_msg("%s pair %d on %s: |diff| logit %.3g, score %.3g", id, i, what, dl, ds);
    if (dl > *worst) *worst = dl;
}

static void run_goldens(const char *gguf)
{
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load %s: %s", gguf, err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_RERANKER);
    assert_int_equal(info.max_tokens, 1024); /* 1026 positions less pad_token_id + 1 */
    assert_int_equal(info.dim, HIDDEN);
    goldens g;
    goldens_load_file(&g, JINA_DIR "/goldens.jsonl");
    /* the contexts of the model's length, and of the short cases' */
    golden_variant v[GOLDEN_MAX_VARIANTS], vs[GOLDEN_MAX_VARIANTS];
    int nv = golden_variants(m, 0, v), nvs = golden_variants(m, SHORT_MAX, vs);
    assert_int_equal(nv, nvs);
    double worst = 0;
    int singles = 0, batches = 0, pairs = 0;
    for (int r = 0; r < g.n; r++) {
        const json_value *row = g.rows[r];
        size_t l;
        const char *kind = golden_str(json_object_get(row, "kind"), &l);
        const char *id = golden_str(json_object_get(row, "id"), &l);
        int max_len = (int)json_number(json_object_get(row, "max_length"));
        golden_variant *vv = max_len == SHORT_MAX ? vs : v;
        if (max_len != SHORT_MAX && max_len != 1024) fail_msg("%s: max_length %d", id, max_len);
        if (strcmp(kind, "single") == 0) {
            size_t ql, dl;
            const char *q = golden_str(json_object_get(row, "query"), &ql);
            const char *d = golden_str(json_object_get(row, "document"), &dl);
            check_ids(vv[0].c, id, q, ql, d, dl, max_len, json_object_get(row, "input_ids"));
            for (int k = 0; k < nv; k++) {
                float logit, again;
                if (ember_rerank(vv[k].c, q, ql, &d, &dl, 1, &logit) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(vv[k].c));
                check_logit(id, 0, vv[k].what, logit, json_object_get(row, "logits"), json_object_get(row, "score_sigmoid"), &worst);
                if (vv[k].threads == 2) {
                    assert_int_equal(ember_rerank(vv[k - 1].c, q, ql, &d, &dl, 1, &again), EMBER_OK);
                    if (memcmp(&again, &logit, sizeof logit) != 0) fail_msg("%s: %s differs from 1 thread", id, vv[k].what);
                }
            }
            int trunc = json_bool(json_object_get(row, "truncated"));
            assert_int_equal(ember_ctx_truncated(vv[nv - 1].c), trunc);
            singles++;
        } else if (strcmp(kind, "batch") == 0) {
            /* one query, every document in one call (padded inside ember) */
            size_t ql;
            const char *q = golden_str(json_object_get(row, "query"), &ql);
            const json_value *docs = json_object_get(row, "documents");
            int nd = (int)json_array_len(docs);
            assert_true(nd > 1 && nd <= 8);
            const char *d[8];
            size_t dl[8];
            float logits[8];
            for (int i = 0; i < nd; i++) {
                d[i] = golden_str(json_array_at(docs, (size_t)i), &dl[i]);
                int n;
                const json_value *ids = batch_ids(row, (size_t)i, &n);
                int32_t got[2048], types[2048];
                int gn = 0;
                assert_int_equal(ember_tokenize(v[0].c, q, ql, d[i], dl[i], 1, max_len, got, types, 2048, &gn), EMBER_OK);
                if (gn != n) fail_msg("%s doc %d: %d tokens, golden %d", id, i, gn, n);
                for (int t = 0; t < n; t++) assert_int_equal(got[t], (int)json_number(json_array_at(ids, (size_t)t)));
            }
            for (int k = 0; k < nv; k++) {
                if (ember_rerank(v[k].c, q, ql, d, dl, nd, logits) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
                for (int i = 0; i < nd; i++)
                    check_logit(id, i, v[k].what, logits[i], json_array_at(json_object_get(row, "logits"), (size_t)i),
                                json_array_at(json_object_get(row, "score_sigmoid"), (size_t)i), &worst);
            }
            batches++;
            pairs += nd;
        }
    }
    printf("jina-reranker-v2-tiny (%s): %d single pairs + %d batches of %d pairs x %d variants, worst |diff| logit %.2g\n",
           strrchr(gguf, '/') + 1, singles, batches, pairs, nv, worst);
    assert_int_equal(singles, 36);
    assert_int_equal(batches, 2);
    golden_variants_free(v, nv);
    golden_variants_free(vs, nvs);
    goldens_free(&g);
    ember_model_free(m);
}

static void test_goldens_f32(void **state)
{
    (void)state;
    run_goldens(converted(JINA_DIR, "jina-f32", CONVERT_F32));
}

/* bf16 as shipped: the same values, the same results */
static void test_goldens_bf16(void **state)
{
    (void)state;
    run_goldens(converted(JINA_DIR, "jina-bf16", CONVERT_BF16));
}

/* element i of a GGUF tensor or a checkpoint tensor, as f32 */
static float elem(const void *data, kern_wtype wt, size_t i)
{
    float f;
    kern_wtype_traits_of(wt)->to_f32((const unsigned char *)data + kern_wtype_bytes(wt, i), &f, 1);
    return f;
}

/* Wqkv rows [0, H) are the query's, [H, 2H) the key's, [2H, 3H) the
 * value's: each GGUF projection equals its rows of the checkpoint, and the
 * file has bge-reranker's tensors, not Jina's names nor a fused one. */
static void test_qkv_split(void **state)
{
    (void)state;
    const char *gguf = converted(JINA_DIR, "jina-split", CONVERT_F32);
    char err[512];
    gguf_file *f = gguf_open(gguf, err, sizeof err);
    if (!f) fail_msg("%s", err);
    safetensors *st = st_open_dir(JINA_DIR, err, sizeof err);
    if (!st) fail_msg("%s", err);
    static const char *const part[3] = {"attn_q", "attn_k", "attn_v"};
    for (int l = 0; l < 2; l++) {
        char name[128];
        snprintf(name, sizeof name, "blk.%d.attn_qkv.weight", l);
        assert_null(gguf_tensor_find(f, name));
        snprintf(name, sizeof name, "roberta.encoder.layers.%d.mixer.Wqkv.weight", l);
        const st_tensor *w = st_find(st, name);
        snprintf(name, sizeof name, "roberta.encoder.layers.%d.mixer.Wqkv.bias", l);
        const st_tensor *b = st_find(st, name);
        assert_non_null(w);
        assert_non_null(b);
        assert_int_equal(w->dtype, ST_BF16);
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, part[k]);
            const gguf_tensor *gw = gguf_tensor_find(f, name);
            snprintf(name, sizeof name, "blk.%d.%s.bias", l, part[k]);
            const gguf_tensor *gb = gguf_tensor_find(f, name);
            assert_non_null(gw);
            assert_non_null(gb);
            assert_int_equal(gw->n_dims, 2);
            assert_int_equal(gw->ne[0], HIDDEN);
            assert_int_equal(gw->ne[1], HIDDEN);
            assert_int_equal(gw->type, GGML_TYPE_F32);
            assert_int_equal(gb->n_dims, 1);
            assert_int_equal(gb->ne[0], HIDDEN);
            assert_int_equal(gb->type, GGML_TYPE_F32);
            for (size_t i = 0; i < (size_t)HIDDEN * HIDDEN; i++)
                if (elem(gw->data, KERN_W_F32, i) != elem(w->data, KERN_W_BF16, (size_t)k * HIDDEN * HIDDEN + i))
                    fail_msg("layer %d %s weight %zu is not Wqkv's row %zu", l, part[k], i, k * HIDDEN + i / HIDDEN);
            for (size_t i = 0; i < HIDDEN; i++)
                if (elem(gb->data, KERN_W_F32, i) != elem(b->data, KERN_W_BF16, (size_t)k * HIDDEN + i))
                    fail_msg("layer %d %s bias %zu is not Wqkv's bias %zu", l, part[k], i, k * HIDDEN + i);
        }
    }
    static const char *const present[] = {"token_embd_norm.weight", "blk.1.attn_output.weight", "blk.1.attn_output_norm.bias",
                                          "blk.1.ffn_up.weight", "blk.1.ffn_down.weight", "blk.1.layer_output_norm.weight",
                                          "cls.weight", "cls.output.weight", "cls.output.bias"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        if (!gguf_tensor_find(f, present[i])) fail_msg("no tensor %s", present[i]);
    const gguf_tensor *pos = gguf_tensor_find(f, "position_embd.weight");
    assert_non_null(pos);
    assert_int_equal(pos->ne[1], 1024); /* rows 0 and 1 (up to pad_token_id) dropped */
    assert_int_equal(gguf_n_tensors(f), 5 + 16 * 2 + 4);
    st_close(st);
    gguf_close(f);
}

/* A copy of the folder whose config.json has from[i] replaced by to[i]
 * (n edits; every other file copied as it is). */
static const char *variant(const char *name, int n_edits, const char *const *from, const char *const *to)
{
    static char dirs[16][700];
    static int k;
    char *dir = dirs[k++ % 16];
    snprintf(dir, 700, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0755);
    static const char *const files[] = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                        "special_tokens_map.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", JINA_DIR, files[i]);
        snprintf(b, sizeof b, "%s/%s", dir, files[i]);
        size_t n;
        char *s = test_slurp(a, &n);
        assert_non_null(s);
        for (int e = 0; i == 0 && e < n_edits; e++) {
            char *at = strstr(s, from[e]);
            if (!at) fail_msg("config.json has no %s", from[e]);
            size_t lf = strlen(from[e]), lt = strlen(to[e]);
            char *t = malloc(n - lf + lt + 1);
            assert_non_null(t);
            memcpy(t, s, (size_t)(at - s));
            memcpy(t + (at - s), to[e], lt);
            memcpy(t + (at - s) + lt, at + lf, n - (size_t)(at - s) - lf + 1);
            free(s);
            s = t;
            n = n - lf + lt;
        }
        FILE *f = fopen(b, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(s, 1, n, f), n);
        fclose(f);
        free(s);
    }
    return dir;
}

/* The same checkpoint read as Jina's XLMRobertaModel: an embedder whose
 * pooling is its emb_pooler ("cls": the first token; otherwise the mean),
 * against the reference's final hidden states. */
static void test_embedder(void **state)
{
    (void)state;
    static const struct { const char *name, *pooler; int pooling; const char *field; } c[] = {
        {"jina-embed-cls", "\"emb_pooler\": \"cls\"", EMBER_POOL_CLS, "cls"},
        {"jina-embed-mean", "\"emb_pooler\": null", EMBER_POOL_MEAN, "mean"},
    };
    goldens g;
    goldens_load_file(&g, JINA_DIR "/goldens.jsonl");
    for (int i = 0; i < 2; i++) {
        const char *from[2] = {"\"XLMRobertaForSequenceClassification\"", "\"emb_pooler\": null"};
        const char *to[2] = {"\"XLMRobertaModel\"", c[i].pooler};
        const char *dir = variant(c[i].name, 2, from, to);
        const char *gguf = converted(dir, c[i].name, CONVERT_F32);
        char err[512];
        ember_model *m = ember_model_load(gguf, err, sizeof err);
        if (!m) fail_msg("load: %s", err);
        ember_model_info info;
        ember_model_get_info(m, &info);
        assert_int_equal(info.kind, EMBER_KIND_EMBEDDER);
        assert_int_equal((int)info.pooling, c[i].pooling);
        golden_variant v[GOLDEN_MAX_VARIANTS];
        int nv = golden_variants(m, 0, v), rows = 0;
        for (int r = 0; r < g.n; r++) {
            size_t l, tl;
            if (strcmp(golden_str(json_object_get(g.rows[r], "kind"), &l), "embed") != 0) continue;
            const char *id = golden_str(json_object_get(g.rows[r], "id"), &l);
            const char *t = golden_str(json_object_get(g.rows[r], "text"), &tl);
            check_ids(v[0].c, id, t, tl, NULL, 0, 1024, json_object_get(g.rows[r], "input_ids"));
            for (int k = 0; k < nv; k++) {
                float out[HIDDEN];
                if (ember_embed(v[k].c, &t, &tl, 1, EMBER_EMBED_NO_NORMALIZE, out) != EMBER_OK)
                    fail_msg("%s: %s", id, ember_ctx_error(v[k].c));
                double d = golden_max_diff(out, json_object_get(g.rows[r], c[i].field), HIDDEN);
                if (!(d <= TOL_HIDDEN)) fail_msg("%s (%s pooling) on %s: |diff| %.3g", id, c[i].field, v[k].what, d);
            }
            rows++;
        }
        assert_int_equal(rows, 3);
        golden_variants_free(v, nv);
        ember_model_free(m);
    }
    goldens_free(&g);
}

/* What the forward does not run is refused, naming it. */
static void test_refusals(void **state)
{
    (void)state;
    static const struct { const char *name, *from, *to, *word; } c[] = {
        {"lora", "\"use_flash_attn\": true", "\"use_flash_attn\": true, \"lora_adaptations\": [\"retrieval.query\"]",
         "lora_adaptations"},
        {"prenorm", "\"use_flash_attn\": true", "\"use_flash_attn\": true, \"prenorm\": true", "prenorm"},
        {"subset", "\"use_flash_attn\": true", "\"use_flash_attn\": true, \"last_layer_subset\": true", "last_layer_subset"},
        {"rotary", "\"position_embedding_type\": \"absolute\"", "\"position_embedding_type\": \"rotary\"",
         "position_embedding_type rotary"},
        {"gelu-tanh", "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"gelu_new\"", "hidden_act gelu_new"},
        {"ffn", "\"intermediate_size\": 128", "\"intermediate_size\": 64", "roberta.encoder.layers.0.mlp.fc1.weight"},
        {"hidden", "\"hidden_size\": 32", "\"hidden_size\": 48", "roberta.embeddings.word_embeddings.weight"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const char *dir = variant(c[i].name, 1, &c[i].from, &c[i].to);
        char out[800], err[1024] = "";
        snprintf(out, sizeof out, "%s/%s.gguf", test_tmpdir(), c[i].name);
        if (convert(dir, out, CONVERT_F32, err, sizeof err) == 0) fail_msg("%s: converted", c[i].name);
        if (!strstr(err, c[i].word)) fail_msg("%s: the refusal does not name %s: %s", c[i].name, c[i].word, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goldens_f32),
        cmocka_unit_test(test_goldens_bf16),
        cmocka_unit_test(test_qkv_split),
        cmocka_unit_test(test_embedder),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("jinav2", tests, NULL, NULL);
}
