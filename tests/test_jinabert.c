/* JinaBERT rerankers (jina-reranker-v1-tiny-en / -turbo-en): the tiny
 * random-weight checkpoint in their HuggingFace layout that
 * tests/check/gen_jinabert_tiny.py writes into tests/data/models/
 * jinabert-tiny, converted by the real converter (f32 and f16), scored on
 * every kernel table this CPU has (1 and 2 threads, bit-identical) and the
 * emulated widths against its float64 goldens: token ids exactly, logits
 * within 2e-5.  Then what llama.cpp's newer converter writes (gated_layers
 * whole, as one ffn_up twice as tall) gives the same bits, and what ember
 * does not run is refused by name: another position_embedding_type or
 * feed_forward_type at conversion, the qk-norm variant's tensors at load. */
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
#include <unistd.h>

#include "ember.h"
#include "model/model.h"
#include "tests/fixtures.h"
#include "tests/goldens.h"
#include "tests/synth_model.h"
#include "tools/commands.h"
#include "tools/convert.h"
#include "tools/json.h"

#define MODEL_DIR "tests/data/models/jinabert-tiny"
#define TOL_LOGIT 2e-5
#define TOL_SCORE 1e-5
/* f16 weights: each rounded by up to 2^-11 of itself; measured 4e-4 here */
#define TOL_LOGIT_F16 2e-3

/* MODEL_DIR converted with --dtype dtype into the test's temp dir */
static const char *converted(const char *dtype)
{
    static char out[2][1024];
    char *o = out[dtype[1] == '1'];
    snprintf(o, 1024, "%s/jinabert-tiny-%s.gguf", test_tmpdir(), dtype);
    char *argv[] = { "convert", MODEL_DIR, o, "--dtype", (char *)dtype, NULL };
    int rc = cmd_convert(5, argv);
    if (rc != 0) fail_msg("ember convert %s failed (exit %d)", MODEL_DIR, rc);
    return o;
}

/* the contexts of one truncation length, made on first use */
typedef struct { int max_len, n; golden_variant v[GOLDEN_MAX_VARIANTS]; } variant_set;

static variant_set *variants_for(variant_set *sets, int *n_sets, const ember_model *m, int max_len)
{
    for (int i = 0; i < *n_sets; i++)
        if (sets[i].max_len == max_len) return &sets[i];
    assert_true(*n_sets < 8);
    variant_set *s = &sets[(*n_sets)++];
    s->max_len = max_len;
    s->n = golden_variants(m, max_len, s->v);
    return s;
}


/* Every golden pair on every context; returns the worst |logit diff|. */
static double run_goldens(const char *gguf, double tol)
{
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load %s: %s", gguf, err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_RERANKER);
    assert_string_equal(info.architecture, "jina-bert-v2");
    goldens g;
    goldens_load_file(&g, MODEL_DIR "/goldens.jsonl");
    variant_set sets[8];
    int n_sets = 0, cases = 0, pairs = 0;
    double worst = 0;
    for (int r = 0; r < g.n; r++) {
        const json_value *row = g.rows[r];
        size_t kl;
        const char *id = golden_str(json_object_get(row, "id"), &kl);
        const int batch = strcmp(golden_str(json_object_get(row, "kind"), &kl), "batch") == 0;
        const int max_len = (int)json_number(json_object_get(row, "max_length"));
        const json_value *list = batch ? json_object_get(row, "pairs") : NULL;
        const int np = batch ? (int)json_array_len(list) : 1;
        assert_true(np >= 1 && np <= 8);
        const char *q[8], *d[8];
        size_t ql[8], dl[8];
        for (int i = 0; i < np; i++) {
            q[i] = golden_str(batch ? json_array_at(json_array_at(list, (size_t)i), 0) : json_object_get(row, "query"), &ql[i]);
            d[i] = golden_str(batch ? json_array_at(json_array_at(list, (size_t)i), 1) : json_object_get(row, "document"), &dl[i]);
        }
        variant_set *vs = variants_for(sets, &n_sets, m, max_len);
        for (int i = 0; i < np; i++) {
            const json_value *ids = json_object_get(row, "input_ids"), *types = json_object_get(row, "token_type_ids");
            const json_value *mask = batch ? json_array_at(json_object_get(row, "attention_mask"), (size_t)i) : NULL;
            if (batch) { /* padded rows: the unpadded prefix */
                size_t n = 0;
                while (n < json_array_len(mask) && json_number(json_array_at(mask, n)) != 0) n++;
                const json_value *pi = json_array_at(ids, (size_t)i), *pt = json_array_at(types, (size_t)i);
                assert_true(json_array_len(pi) >= n);
                int32_t got[2048], gt[2048];
                int nt = 0;
                assert_int_equal(ember_tokenize(vs->v[0].c, q[i], ql[i], d[i], dl[i], 1, max_len, got, gt, 2048, &nt), EMBER_OK);
                if ((size_t)nt != n) fail_msg("%s pair %d: %d tokens, golden %zu", id, i, nt, n);
                for (size_t t = 0; t < n; t++)
                    if (got[t] != (int32_t)json_number(json_array_at(pi, t)) || gt[t] != (int32_t)json_number(json_array_at(pt, t)))
                        fail_msg("%s pair %d: token %zu differs from the golden", id, i, t);
            } else {
                golden_check_ids(vs->v[0].c, id, q[i], ql[i], d[i], dl[i], max_len, ids, types);
            }
        }
        /* a batch with one query is scored in one call (several sequences
         * packed in one pass), any other pair by pair */
        int same_query = batch;
        for (int i = 1; i < np; i++) same_query &= ql[i] == ql[0] && memcmp(q[i], q[0], ql[0]) == 0;
        float logit[8], first[8];
        for (int k = 0; k < vs->n; k++) {
            ember_ctx *c = vs->v[k].c;
            if (same_query) {
                if (ember_rerank(c, q[0], ql[0], d, dl, np, logit) != EMBER_OK) fail_msg("%s: %s", id, ember_ctx_error(c));
            } else {
                for (int i = 0; i < np; i++)
                    if (ember_rerank(c, q[i], ql[i], &d[i], &dl[i], 1, &logit[i]) != EMBER_OK)
                        fail_msg("%s: %s", id, ember_ctx_error(c));
            }
            for (int i = 0; i < np; i++) {
                const json_value *wl = json_object_get(row, "logits"), *ws = json_object_get(row, "score_sigmoid");
                if (batch) { wl = json_array_at(wl, (size_t)i); ws = json_array_at(ws, (size_t)i); }
                const double dlg = fabs(logit[i] - json_number(json_array_at(wl, 0)));
                const double dsc = fabs(ember_sigmoid(logit[i]) - json_number(json_array_at(ws, 0)));
                if (!(dlg <= tol) || !(dsc <= tol * TOL_SCORE / TOL_LOGIT))
                    fail_msg("%s pair %d on %s: |diff| logit %.3g, score %.3g (tolerance %.1g)", id, i, vs->v[k].what, dlg, dsc, tol);
                if (dlg > worst) worst = dlg;
            }
            /* consecutive contexts of one table on 1 and 2 threads: the same bits */
            if (vs->v[k].threads == 1) memcpy(first, logit, sizeof logit);
            else if (memcmp(first, logit, (size_t)np * sizeof(float)) != 0)
                fail_msg("%s: %s differs from 1 thread", id, vs->v[k].what);
        }
        cases++;
        pairs += np;
    }
    printf("jinabert-tiny (%s): %d cases, %d pairs x %d contexts, worst |diff| logit %.2g\n", strrchr(gguf, '/') + 1,
           cases, pairs, sets[0].n, worst);
    assert_int_equal(cases, 23);
    for (int i = 0; i < n_sets; i++) golden_variants_free(sets[i].v, sets[i].n);
    goldens_free(&g);
    ember_model_free(m);
    return worst;
}

static void test_goldens_f32(void **s)
{
    (void)s;
    run_goldens(converted("f32"), TOL_LOGIT);
}

/* f16 weights (the gate and up halves narrowed as every matrix): within
 * their rounding of the goldens, and still far from any bug the
 * generator's probes show (the smallest, tanh GELU, moves 1.3e-4) */
static void test_goldens_f16(void **s)
{
    (void)s;
    double worst = run_goldens(converted("f16"), TOL_LOGIT_F16);
    assert_true(worst > 0); /* f16 rounding must show: the weights were narrowed */
}

/* llama.cpp's newer converter writes gated_layers whole: ffn_up of 2 x
 * feed_forward_length rows, the gate first, and no ffn_gate.  ember reads
 * its two halves in place: the same bits as its own split file. */
static void test_fused_gate_up(void **s)
{
    (void)s;
    const char *src = converted("f32");
    char err[512], fused[1024];
    snprintf(fused, sizeof fused, "%s/jinabert-fused.gguf", test_tmpdir());
    gguf_file *f = gguf_open(src, err, sizeof err);
    if (!f) fail_msg("%s", err);
    uint32_t H, F, L;
    assert_int_equal(gguf_get_u32(f, "jina-bert-v2.embedding_length", &H), 0);
    assert_int_equal(gguf_get_u32(f, "jina-bert-v2.feed_forward_length", &F), 0);
    assert_int_equal(gguf_get_u32(f, "jina-bert-v2.block_count", &L), 0);
    const char *drop[2 * 8 + 1];
    char names[2 * 8][3][48];
    synth_tensor add[8];
    float *data[8];
    assert_true(L <= 8);
    for (uint32_t l = 0; l < L; l++) {
        snprintf(names[2 * l][0], 48, "blk.%u.ffn_gate.weight", l);
        snprintf(names[2 * l + 1][0], 48, "blk.%u.ffn_up.weight", l);
        drop[2 * l] = names[2 * l][0];
        drop[2 * l + 1] = names[2 * l + 1][0];
        const gguf_tensor *g = gguf_tensor_find(f, names[2 * l][0]), *u = gguf_tensor_find(f, names[2 * l + 1][0]);
        assert_non_null(g);
        assert_non_null(u);
        assert_int_equal(g->type, GGML_TYPE_F32);
        const size_t half = (size_t)F * H * sizeof(float);
        data[l] = malloc(2 * half);
        memcpy(data[l], g->data, half);
        memcpy((char *)data[l] + half, u->data, half);
        add[l] = (synth_tensor){ names[2 * l + 1][0], GGML_TYPE_F32, 2, { H, 2 * (uint64_t)F, 1, 1 }, data[l] };
    }
    drop[2 * L] = NULL;
    assert_int_equal(synth_gguf_copy_with(src, fused, drop, add, (int)L), 0);
    for (uint32_t l = 0; l < L; l++) free(data[l]);
    gguf_close(f);

    ember_model *a = ember_model_load(src, err, sizeof err), *b = ember_model_load(fused, err, sizeof err);
    if (!a || !b) fail_msg("load: %s", err);
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 1;
    ember_ctx *ca = ember_ctx_create(a, &p, err, sizeof err), *cb = ember_ctx_create(b, &p, err, sizeof err);
    assert_non_null(ca);
    assert_non_null(cb);
    const char *q = "What is the capital of France?";
    const char *docs[3] = { "Paris is the capital and largest city of France.", "", "The Great Wall of China." };
    float la[3], lb[3];
    assert_int_equal(ember_rerank(ca, q, strlen(q), docs, NULL, 3, la), EMBER_OK);
    assert_int_equal(ember_rerank(cb, q, strlen(q), docs, NULL, 3, lb), EMBER_OK);
    assert_memory_equal(la, lb, sizeof la);
    ember_ctx_free(ca);
    ember_ctx_free(cb);
    ember_model_free(a);
    ember_model_free(b);

    /* an ffn_up neither F nor 2 F rows tall, without ffn_gate: refused, naming both forms */
    char bad[1024];
    snprintf(bad, sizeof bad, "%s/jinabert-no-gate.gguf", test_tmpdir());
    static const char *const no_gate[] = { "blk.0.ffn_gate.weight", NULL };
    assert_int_equal(synth_gguf_copy(src, bad, no_gate), 0);
    err[0] = '\0';
    ember_model *m = ember_model_load(bad, err, sizeof err);
    if (m) fail_msg("a JinaBERT file without blk.0.ffn_gate and an ffn_up of F rows loaded");
    if (!strstr(err, "blk.0.ffn_up.weight") || !strstr(err, "ffn_gate")) fail_msg("unclear refusal: %s", err);
}

/* The qk-norm variant (jina-embeddings-v2-base-code's layer_norm_q / _k)
 * runs another forward pass: a file with its norms is refused by name. */
static void test_refuses_qk_norm_file(void **s)
{
    (void)s;
    const char *src = converted("f32");
    char dst[1024], err[512] = "";
    snprintf(dst, sizeof dst, "%s/jinabert-qknorm.gguf", test_tmpdir());
    static float ones[36];
    for (int i = 0; i < 36; i++) ones[i] = 1.0f;
    synth_tensor add = { "blk.0.attn_q_norm.weight", GGML_TYPE_F32, 1, { 36, 1, 1, 1 }, ones };
    assert_int_equal(synth_gguf_copy_with(src, dst, NULL, &add, 1), 0);
    ember_model *m = ember_model_load(dst, err, sizeof err);
    if (m) fail_msg("a qk-norm JinaBERT loaded");
    if (!strstr(err, "attn_q_norm") || !strstr(err, "not supported")) fail_msg("unclear refusal: %s", err);
}

/* MODEL_DIR with config.json's `from` replaced by `to`, converted: the
 * converter's message */
static void convert_with_config(const char *from, const char *to, char *err, size_t errlen)
{
    char dir[1024], path[1200], src[1200];
    snprintf(dir, sizeof dir, "%s/jinabert-cfg-%d", test_tmpdir(), (int)(strlen(to) + 31 * strlen(from)));
    assert_int_equal(mkdir(dir, 0700), 0);
    static const char *const files[] = { "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                         "special_tokens_map.json", NULL };
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    for (int i = 0; files[i]; i++) {
        snprintf(src, sizeof src, "%s/%s/%s", cwd, MODEL_DIR, files[i]);
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(symlink(src, path), 0);
    }
    size_t len;
    char *cfg = test_slurp(MODEL_DIR "/config.json", &len);
    assert_non_null(cfg);
    char *at = strstr(cfg, from);
    assert_non_null(at);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *o = fopen(path, "w");
    assert_non_null(o);
    fprintf(o, "%.*s%s%s", (int)(at - cfg), cfg, to, at + strlen(from));
    fclose(o);
    free(cfg);
    convert_options opt = { .hf_dir = dir, .out_path = NULL, .dtype = CONVERT_F32 };
    snprintf(path, sizeof path, "%s/out.gguf", dir);
    opt.out_path = path;
    err[0] = '\0';
    if (convert_hf_to_gguf(&opt, NULL, err, errlen) == 0) fail_msg("config with %s converted", to);
}

static void test_refuses_unsupported_config(void **s)
{
    (void)s;
    char err[512];
    convert_with_config("\"position_embedding_type\": \"alibi\"", "\"position_embedding_type\": \"absolute\"", err, sizeof err);
    if (!strstr(err, "position_embedding_type absolute") || !strstr(err, "alibi")) fail_msg("unclear refusal: %s", err);
    convert_with_config("\"feed_forward_type\": \"geglu\"", "\"feed_forward_type\": \"reglu\"", err, sizeof err);
    if (!strstr(err, "feed_forward_type reglu") || !strstr(err, "geglu")) fail_msg("unclear refusal: %s", err);
    convert_with_config("\"feed_forward_type\": \"geglu\",", "", err, sizeof err);
    if (!strstr(err, "feed_forward_type (absent: original)")) fail_msg("unclear refusal: %s", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goldens_f32),
        cmocka_unit_test(test_goldens_f16),
        cmocka_unit_test(test_fused_gate_up),
        cmocka_unit_test(test_refuses_qk_norm_file),
        cmocka_unit_test(test_refuses_unsupported_config),
    };
    return cmocka_run_group_tests_name("jinabert", tests, NULL, NULL);
}
