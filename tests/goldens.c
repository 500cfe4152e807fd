/* Shared parts of the golden tests (goldens.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/goldens.h"
#include "model/model.h"
#include "tests/fixtures.h"
#include "tools/commands.h"

const char *golden_converted(const char *name, const char *dtype)
{
    static char out[8][1024];
    static int used;
    char src[1024];
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/config.json", name);
    if (!fixture_path(src, sizeof src, rel)) return NULL;
    *strrchr(src, '/') = '\0';
    char *o = out[used++ % 8];
    snprintf(o, 1024, "%s/%s-%s.gguf", test_tmpdir(), name, dtype);
    char *argv[] = { "convert", src, o, "--dtype", (char *)dtype, NULL };
    int rc = cmd_convert(5, argv);
    if (rc != 0) fail_msg("ember convert %s failed (exit %d)", name, rc);
    return o;
}

int goldens_load(goldens *g, const char *model, const char *file)
{
    char path[1024], rel[256];
    snprintf(rel, sizeof rel, "models/%s/%s", model, file);
    memset(g, 0, sizeof *g);
    if (!fixture_path(path, sizeof path, rel)) return 0;
    goldens_load_file(g, path);
    return 1;
}

void goldens_load_file(goldens *g, const char *path)
{
    memset(g, 0, sizeof *g);
    size_t len;
    g->buf = test_slurp(path, &len);
    assert_non_null(g->buf);
    g->rows = calloc(256, sizeof *g->rows);
    char *p = g->buf, err[256];
    while (*p && g->n < 256) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l > 0) {
            g->rows[g->n] = json_parse(p, l, err, sizeof err);
            if (!g->rows[g->n]) fail_msg("%s line %d: %s", path, g->n + 1, err);
            g->n++;
        }
        if (!e) break;
        p = e + 1;
    }
}

void goldens_free(goldens *g)
{
    for (int i = 0; i < g->n; i++) json_free(g->rows[i]);
    free(g->rows);
    free(g->buf);
}

const char *golden_str(const json_value *v, size_t *len)
{
    assert_non_null(v);
    assert_int_equal(json_type_of(v), JSON_STRING);
    return json_string(v, len);
}

double golden_max_diff(const float *got, const json_value *want, int n)
{
    assert_int_equal(json_array_len(want), (size_t)n);
    double m = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)got[i] - json_number(json_array_at(want, (size_t)i)));
        if (d > m || d != d) m = d != d ? INFINITY : d;
    }
    return m;
}

int golden_variants(const ember_model *m, int max_tokens, golden_variant *v)
{
    int n = 0;
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        for (int t = 1; t <= (isa < KERN_ISA_FIRST_EMU ? 2 : 1); t++) {
            assert_true(n < GOLDEN_MAX_VARIANTS);
            ember_ctx_params p = ember_ctx_default_params();
            p.n_threads = t;
            p.max_batch = 8;
            p.max_tokens = max_tokens;
            p.bf16_dot = -1; /* the goldens' precision, whatever EMBER_BF16_DOT says */
            char err[512];
            v[n].c = ember_ctx_create(m, &p, err, sizeof err);
            if (!v[n].c) fail_msg("context: %s", err);
            v[n].c->k = k; /* tests may pin the kernel table */
            v[n].threads = t;
            snprintf(v[n].name, sizeof v[n].name, "%s/%dt", k->name, t);
            v[n].what = v[n].name;
            n++;
        }
    }
    return n;
}

void golden_variants_free(golden_variant *v, int n)
{
    for (int k = 0; k < n; k++) ember_ctx_free(v[k].c);
}

void golden_batch_equals_single(ember_model *m, const char *const *texts, int n, int dim)
{
    char err[512];
    float *all = malloc(sizeof(float) * (size_t)n * dim), *one = malloc(sizeof(float) * (size_t)dim);
    assert_true(all && one);
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *k = kern_ops_for((kern_isa)isa);
        if (!k) continue;
        for (int nt = 1; nt <= 2; nt++) {
            ember_ctx_params p = ember_ctx_default_params();
            p.max_batch = 3; /* several chunks, the first three texts together */
            p.n_threads = nt;
            ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
            if (!c) fail_msg("context: %s", err);
            c->k = k;
            assert_int_equal(ember_embed(c, texts, NULL, n, 0, all), EMBER_OK);
            for (int i = 0; i < n; i++) {
                assert_int_equal(ember_embed(c, &texts[i], NULL, 1, 0, one), EMBER_OK);
                if (memcmp(one, all + (size_t)i * dim, sizeof(float) * (size_t)dim) != 0)
                    fail_msg("%s/%dt: text %d batched differs from alone", k->name, nt, i);
            }
            ember_ctx_free(c);
        }
    }
    free(all);
    free(one);
}

void golden_check_ids(ember_ctx *c, const char *id, const char *a, size_t al, const char *b, size_t bl, int max_len,
                      const json_value *ids, const json_value *types)
{
    int32_t got[2048], gt[2048];
    int n = 0;
    if (ember_tokenize(c, a, al, b, bl, 1, max_len, got, gt, 2048, &n) != EMBER_OK)
        fail_msg("%s: tokenize failed: %s", id, ember_ctx_error(c));
    if ((size_t)n != json_array_len(ids)) fail_msg("%s: %d tokens, golden has %zu", id, n, json_array_len(ids));
    for (int i = 0; i < n; i++) {
        if (got[i] != (int32_t)json_number(json_array_at(ids, (size_t)i)))
            fail_msg("%s: token %d is %d, golden %d", id, i, got[i], (int)json_number(json_array_at(ids, (size_t)i)));
        if (types && gt[i] != (int32_t)json_number(json_array_at(types, (size_t)i)))
            fail_msg("%s: type id %d is %d, golden %d", id, i, gt[i], (int)json_number(json_array_at(types, (size_t)i)));
    }
}
