/* Converter: the three HF fixtures -> GGUF (keys, tensors, shapes, templates,
 * f16), synthetic checkpoints for the refusals (architecture, missing
 * tensor, shape, corrupt safetensors header), sharded checkpoints, BF16
 * widening, the vocab.txt path, and the JSON parser. */
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

#include "kernels/kernels.h"
#include "model/gguf.h"
#include "model/gguf_keys.h"
#include "tests/fixtures.h"
#include "tools/convert.h"
#include "tools/json.h"
#include "tools/safetensors.h"

/* ---- helpers ---- */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_text(const char *dir, const char *name, const char *text) { write_file(dir, name, text, strlen(text)); }

static const char *new_dir(const char *name)
{
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    mkdir(p, 0755);
    return p;
}

static uint32_t kv_u32(const gguf_file *f, const char *key)
{
    uint32_t v = 0;
    if (gguf_get_u32(f, key, &v) != 0) fail_msg("key %s missing or not an integer", key);
    return v;
}

static int kv_bool(const gguf_file *f, const char *key)
{
    int v = -1;
    if (gguf_get_bool(f, key, &v) != 0) fail_msg("key %s missing or not a bool", key);
    return v;
}

static void expect_i32_arr(const gguf_file *f, const char *key, const int32_t *want, size_t n)
{
    uint32_t et;
    uint64_t an;
    const void *d;
    if (gguf_get_arr(f, key, &et, &an, &d) != 0) fail_msg("key %s missing", key);
    assert_int_equal(et, GGUF_TYPE_INT32);
    if (an != n) fail_msg("%s has %llu entries, expected %zu", key, (unsigned long long)an, n);
    for (size_t i = 0; i < n; i++) {
        int32_t v;
        memcpy(&v, (const char *)d + 4 * i, 4);
        if (v != want[i]) fail_msg("%s[%zu] = %d, expected %d", key, i, v, want[i]);
    }
}

static const gguf_tensor *expect_tensor(const gguf_file *f, const char *name, uint32_t type, uint64_t ne0, uint64_t ne1)
{
    const gguf_tensor *t = gguf_tensor_find(f, name);
    if (!t) fail_msg("tensor %s missing", name);
    /* ne1 == 1 is either a vector or a 1-row matrix (cls.output.weight) */
    if (t->type != type || t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || (ne1 > 1 ? t->n_dims != 2 : t->n_dims > 2))
        fail_msg("tensor %s: type %u ne {%llu, %llu} n_dims %u, expected type %u ne {%llu, %llu}", name, t->type,
                 (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], t->n_dims, type, (unsigned long long)ne0,
                 (unsigned long long)ne1);
    return t;
}

static int convert(const char *dir, const char *out, int dtype, int vocab_only, char *err, size_t errlen)
{
    convert_options o = { .hf_dir = dir, .out_path = out, .dtype = dtype, .vocab_only = vocab_only };
    convert_summary s;
    return convert_hf_to_gguf(&o, &s, err, errlen);
}

/* ---- the fixtures ---- */

static gguf_file *convert_fixture(const char *model, int dtype, char *out, size_t cap)
{
    char dir[512], err[1024];
    snprintf(dir, sizeof dir, "models/%s", model);
    char path[512];
    if (!fixture_path(path, sizeof path, dir)) return NULL;
    snprintf(out, cap, "%s/%s%s.gguf", test_tmpdir(), model, dtype ? "-f16" : "");
    if (convert(path, out, dtype, 0, err, sizeof err) != 0) fail_msg("convert %s: %s", model, err);
    gguf_file *f = gguf_open(out, err, sizeof err);
    if (!f) fail_msg("open %s: %s", out, err);
    return f;
}

static void check_common(const gguf_file *f, uint32_t ctx)
{
    const char *s;
    size_t n;
    assert_int_equal(gguf_get_str(f, KEY_ARCH, &s, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(s, "bert", 4);
    assert_int_equal(kv_u32(f, KEY_CTX), ctx);
    assert_int_equal(kv_u32(f, KEY_EMBD), 64);
    assert_int_equal(kv_u32(f, KEY_FFN), 256);
    assert_int_equal(kv_u32(f, KEY_BLOCKS), 2);
    assert_int_equal(kv_u32(f, KEY_HEADS), 4);
    assert_int_equal(kv_u32(f, KEY_ALIGNMENT), 32);
    assert_int_equal(kv_bool(f, KEY_CAUSAL), 0);
    assert_int_equal(gguf_get_str(f, KEY_TOK_MODEL, &s, &n), 0);
    assert_memory_equal(s, "bert", 4);
    uint64_t nt;
    int ki = gguf_get_str_arr(f, KEY_TOK_TOKENS, &nt);
    assert_true(ki >= 0);
    assert_int_equal(nt, 30522);
    assert_int_equal(gguf_str_arr_at(f, ki, 1996, &s, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(s, "\xe2\x96\x81the", 6);
    assert_int_equal(gguf_str_arr_at(f, ki, 2015, &s, &n), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(s, "s", 1);
    assert_int_equal(gguf_str_arr_at(f, ki, 101, &s, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "[CLS]", 5);
    uint32_t et;
    uint64_t an;
    const void *d;
    assert_int_equal(gguf_get_arr(f, KEY_TOK_TYPES, &et, &an, &d), 0);
    assert_int_equal(an, 30522);
    int n_control = 0;
    for (uint64_t i = 0; i < an; i++) {
        int32_t t;
        memcpy(&t, (const char *)d + 4 * i, 4);
        if (t == 3) n_control++;
        else assert_int_equal(t, 1);
    }
    assert_int_equal(n_control, 5);
    assert_int_equal(kv_u32(f, KEY_TOK_UNK), 100);
    assert_int_equal(kv_u32(f, KEY_TOK_SEP), 102);
    assert_int_equal(kv_u32(f, KEY_TOK_PAD), 0);
    assert_int_equal(kv_u32(f, KEY_TOK_CLS), 101);
    assert_int_equal(kv_u32(f, KEY_TOK_MASK), 103);
    assert_int_equal(kv_bool(f, KEY_E_LOWER), 1);
    assert_int_equal(kv_bool(f, KEY_E_STRIP), 1); /* null follows lowercase */
    assert_int_equal(kv_bool(f, KEY_E_CJK), 1);
    assert_int_equal(kv_bool(f, KEY_E_CLEAN), 1);
    assert_int_equal(kv_u32(f, KEY_E_MAXCHARS), 100);
    static const int32_t single[3] = {101, -1, 102}, zeros[6] = {0};
    expect_i32_arr(f, KEY_E_TPL_SINGLE, single, 3);
    expect_i32_arr(f, KEY_E_TPL_SINGLE_T, zeros, 3);
    assert_int_equal(gguf_get_str(f, KEY_E_SOURCE, &s, &n), 0);
    assert_true(n > 0);

    expect_tensor(f, "token_embd.weight", GGML_TYPE_F32, 64, 30522);
    expect_tensor(f, "token_embd_norm.weight", GGML_TYPE_F32, 64, 1);
    expect_tensor(f, "token_embd_norm.bias", GGML_TYPE_F32, 64, 1);
    static const char *mats[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
    for (int l = 0; l < 2; l++) {
        char nm[64];
        for (int k = 0; k < 4; k++) {
            snprintf(nm, sizeof nm, "blk.%d.%s.weight", l, mats[k]);
            expect_tensor(f, nm, GGML_TYPE_F32, 64, 64);
            snprintf(nm, sizeof nm, "blk.%d.%s.bias", l, mats[k]);
            expect_tensor(f, nm, GGML_TYPE_F32, 64, 1);
        }
        snprintf(nm, sizeof nm, "blk.%d.ffn_up.weight", l);
        expect_tensor(f, nm, GGML_TYPE_F32, 64, 256);
        snprintf(nm, sizeof nm, "blk.%d.ffn_up.bias", l);
        expect_tensor(f, nm, GGML_TYPE_F32, 256, 1);
        snprintf(nm, sizeof nm, "blk.%d.ffn_down.weight", l);
        expect_tensor(f, nm, GGML_TYPE_F32, 256, 64);
        snprintf(nm, sizeof nm, "blk.%d.attn_output_norm.weight", l);
        expect_tensor(f, nm, GGML_TYPE_F32, 64, 1);
        snprintf(nm, sizeof nm, "blk.%d.layer_output_norm.bias", l);
        expect_tensor(f, nm, GGML_TYPE_F32, 64, 1);
    }
}

static void test_minilm_embed(void **state)
{
    (void)state;
    char out[512];
    gguf_file *f = convert_fixture("minilm-embed-tiny", CONVERT_F32, out, sizeof out);
    if (!f) { skip(); return; }
    check_common(f, 512);
    assert_int_equal(kv_u32(f, KEY_POOLING), 1);
    assert_int_equal(kv_bool(f, KEY_E_NORMALIZE), 1);
    assert_int_equal(kv_u32(f, KEY_E_MAX_SEQ), 256);
    assert_int_equal(kv_u32(f, KEY_FILE_TYPE), 0);
    float eps;
    assert_int_equal(gguf_get_f32(f, KEY_LN_EPS, &eps), 0);
    assert_true(eps == 1e-12f);
    static const int32_t pair[5] = {101, -1, 102, -2, 102}, pair_t[5] = {0, 0, 0, 1, 1};
    expect_i32_arr(f, KEY_E_TPL_PAIR, pair, 5);
    expect_i32_arr(f, KEY_E_TPL_PAIR_T, pair_t, 5);
    expect_tensor(f, "position_embd.weight", GGML_TYPE_F32, 64, 512);
    expect_tensor(f, "token_types.weight", GGML_TYPE_F32, 64, 2);
    assert_null(gguf_tensor_find(f, "cls.weight"));
    assert_null(gguf_tensor_find(f, "cls.output.weight"));
    assert_int_equal(gguf_n_tensors(f), 5 + 2 * 16);
    /* values are copied exactly: compare with the safetensors file */
    char path[512], err[256];
    assert_true(fixture_path(path, sizeof path, "models/minilm-embed-tiny/model.safetensors"));
    safetensors *st = st_open_file(path, err, sizeof err);
    assert_non_null(st);
    const st_tensor *src = st_find(st, "encoder.layer.1.intermediate.dense.weight");
    assert_non_null(src);
    const gguf_tensor *t = gguf_tensor_find(f, "blk.1.ffn_up.weight");
    assert_int_equal(t->nbytes, src->nbytes);
    assert_memory_equal(t->data, src->data, t->nbytes);
    assert_null(st_find(st, "nope"));
    st_close(st);
    gguf_close(f);
}

static void test_minilm_cross(void **state)
{
    (void)state;
    char out[512];
    gguf_file *f = convert_fixture("minilm-cross-tiny", CONVERT_F32, out, sizeof out);
    if (!f) { skip(); return; }
    check_common(f, 512);
    assert_int_equal(kv_u32(f, KEY_POOLING), 4);
    assert_int_equal(kv_bool(f, KEY_E_NORMALIZE), 0);
    assert_int_equal(kv_u32(f, KEY_E_MAX_SEQ), 512);
    expect_tensor(f, "cls.weight", GGML_TYPE_F32, 64, 64);
    expect_tensor(f, "cls.bias", GGML_TYPE_F32, 64, 1);
    const gguf_tensor *t = gguf_tensor_find(f, "cls.output.weight");
    assert_non_null(t);
    assert_true(t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 1);
    expect_tensor(f, "cls.output.bias", GGML_TYPE_F32, 1, 1);
    assert_int_equal(gguf_n_tensors(f), 5 + 2 * 16 + 4);
    gguf_close(f);
}

static void test_xlmr_cross(void **state)
{
    (void)state;
    char out[512];
    gguf_file *f = convert_fixture("xlmr-cross-tiny", CONVERT_F32, out, sizeof out);
    if (!f) { skip(); return; }
    check_common(f, 512); /* 514 - (pad_token_id 1 + 1) */
    assert_int_equal(kv_u32(f, KEY_POOLING), 4);
    assert_int_equal(kv_u32(f, KEY_E_MAX_SEQ), 512);
    float eps;
    assert_int_equal(gguf_get_f32(f, KEY_LN_EPS, &eps), 0);
    assert_true(eps == 1e-5f);
    static const int32_t pair[6] = {101, -1, 102, 102, -2, 102}, zeros[6] = {0};
    expect_i32_arr(f, KEY_E_TPL_PAIR, pair, 6);
    expect_i32_arr(f, KEY_E_TPL_PAIR_T, zeros, 6);
    expect_tensor(f, "token_types.weight", GGML_TYPE_F32, 64, 1);
    const gguf_tensor *pos = expect_tensor(f, "position_embd.weight", GGML_TYPE_F32, 64, 512);
    expect_tensor(f, "cls.weight", GGML_TYPE_F32, 64, 64);
    expect_tensor(f, "cls.output.bias", GGML_TYPE_F32, 1, 1);
    /* position row 0 of the GGUF is HF row 2 */
    char path[512], err[256];
    assert_true(fixture_path(path, sizeof path, "models/xlmr-cross-tiny/model.safetensors"));
    safetensors *st = st_open_file(path, err, sizeof err);
    assert_non_null(st);
    const st_tensor *src = st_find(st, "roberta.embeddings.position_embeddings.weight");
    assert_non_null(src);
    assert_int_equal(src->shape[0], 514);
    assert_memory_equal(pos->data, (const char *)src->data + 2 * 64 * 4, 512 * 64 * 4);
    st_close(st);
    gguf_close(f);
}

static void test_f16(void **state)
{
    (void)state;
    char out[512], out32[512];
    gguf_file *f = convert_fixture("minilm-cross-tiny", CONVERT_F16, out, sizeof out);
    if (!f) { skip(); return; }
    gguf_file *g = convert_fixture("minilm-cross-tiny", CONVERT_F32, out32, sizeof out32);
    assert_int_equal(kv_u32(f, KEY_FILE_TYPE), 1);
    assert_int_equal(gguf_n_tensors(f), gguf_n_tensors(g));
    for (uint64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i), *r = gguf_tensor_find(g, t->name);
        assert_non_null(r);
        /* llama.cpp's rule: matrices f16; 1-D tensors and the position and
         * token-type tables f32 (llama.cpp cannot add an f16 table to its
         * f32 activations: "binary_op: unsupported types") */
        int table = !strcmp(t->name, "position_embd.weight") || !strcmp(t->name, "token_types.weight");
        if (t->type != (t->n_dims == 2 && !table ? GGML_TYPE_F16 : GGML_TYPE_F32))
            fail_msg("%s is %s in an f16 conversion", t->name, gguf_type_name(t->type));
        assert_int_equal(t->ne[0], r->ne[0]);
        assert_int_equal(t->ne[1], r->ne[1]);
        if (t->type != GGML_TYPE_F16) {
            assert_int_equal(t->nbytes, r->nbytes);
            assert_memory_equal(t->data, r->data, t->nbytes);
            continue;
        }
        uint64_t n = t->ne[0] * t->ne[1];
        assert_int_equal(t->nbytes, 2 * n);
        for (uint64_t k = 0; k < n; k += 97) {
            uint16_t h;
            float x;
            memcpy(&h, (const char *)t->data + 2 * k, 2);
            memcpy(&x, (const char *)r->data + 4 * k, 4);
            if (fabsf(kern_f16_to_f32(h) - x) > 1e-3f * fabsf(x) + 1e-7f)
                fail_msg("%s[%llu]: f16 %g vs f32 %g", t->name, (unsigned long long)k, kern_f16_to_f32(h), x);
        }
    }
    assert_true(gguf_file_size(f) < gguf_file_size(g) * 6 / 10);
    gguf_close(f);
    gguf_close(g);
}

static void test_vocab_only(void **state)
{
    (void)state;
    char path[512], out[512], err[512];
    if (!fixture_path(path, sizeof path, "models/minilm-embed-tiny")) { skip(); return; }
    snprintf(out, sizeof out, "%s/vocab.gguf", test_tmpdir());
    if (convert(path, out, 0, 1, err, sizeof err)) fail_msg("%s", err);
    gguf_file *f = gguf_open(out, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(gguf_n_tensors(f), 0);
    uint64_t n;
    assert_true(gguf_get_str_arr(f, KEY_TOK_TOKENS, &n) >= 0);
    assert_int_equal(n, 30522);
    uint32_t v;
    assert_int_equal(gguf_get_u32(f, KEY_EMBD, &v), -1);
    assert_int_equal(gguf_get_u32(f, KEY_TOK_CLS, &v), 0);
    gguf_close(f);
}

/* ---- synthetic checkpoints ---- */

#define SH 4
#define SI 8
#define SV 8
#define SP 8

typedef struct { const char *name; int rows, cols; } spec;

static const spec synth_tensors[] = {
    {"embeddings.word_embeddings.weight", SV, SH}, {"embeddings.token_type_embeddings.weight", 2, SH},
    {"embeddings.position_embeddings.weight", SP, SH}, {"embeddings.LayerNorm.weight", 0, SH},
    {"embeddings.LayerNorm.bias", 0, SH}, {"encoder.layer.0.attention.self.query.weight", SH, SH},
    {"encoder.layer.0.attention.self.query.bias", 0, SH}, {"encoder.layer.0.attention.self.key.weight", SH, SH},
    {"encoder.layer.0.attention.self.key.bias", 0, SH}, {"encoder.layer.0.attention.self.value.weight", SH, SH},
    {"encoder.layer.0.attention.self.value.bias", 0, SH}, {"encoder.layer.0.attention.output.dense.weight", SH, SH},
    {"encoder.layer.0.attention.output.dense.bias", 0, SH}, {"encoder.layer.0.attention.output.LayerNorm.weight", 0, SH},
    {"encoder.layer.0.attention.output.LayerNorm.bias", 0, SH}, {"encoder.layer.0.intermediate.dense.weight", SI, SH},
    {"encoder.layer.0.intermediate.dense.bias", 0, SI}, {"encoder.layer.0.output.dense.weight", SH, SI},
    {"encoder.layer.0.output.dense.bias", 0, SH}, {"encoder.layer.0.output.LayerNorm.weight", 0, SH},
    {"encoder.layer.0.output.LayerNorm.bias", 0, SH}, {"pooler.dense.weight", SH, SH}, {"pooler.dense.bias", 0, SH},
    {"embeddings.position_ids", 0, SP}, /* I64: skipped by the converter */
};
#define N_SYNTH (sizeof synth_tensors / sizeof synth_tensors[0])

enum { MUT_NONE, MUT_DROP, MUT_SHAPE, MUT_BF16 };

/* Writes a safetensors file holding synth_tensors[from..to) (values i*0.25),
 * with `mutate` applied to tensor index `which`. */
static void write_safetensors(const char *dir, const char *file, size_t from, size_t to, int mutate, size_t which)
{
    char hdr[8192];
    size_t hl = 0;
    uint64_t off = 0;
    unsigned char *data = calloc(1, 65536);
    hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (size_t i = from; i < to; i++) {
        const spec *s = &synth_tensors[i];
        if (mutate == MUT_DROP && i == which) continue;
        int rows = s->rows, cols = s->cols;
        if (mutate == MUT_SHAPE && i == which) cols += 1;
        int is_ids = strcmp(s->name, "embeddings.position_ids") == 0;
        const char *dt = is_ids ? "I64" : (mutate == MUT_BF16 && i == which) ? "BF16" : "F32";
        uint64_t n = (uint64_t)(rows ? rows : 1) * (uint64_t)cols;
        uint64_t es = is_ids ? 8 : dt[0] == 'B' ? 2 : 4;
        for (uint64_t k = 0; k < n; k++) {
            float v = (float)k * 0.25f;
            if (is_ids) { int64_t x = (int64_t)k; memcpy(data + off + 8 * k, &x, 8); }
            else if (es == 2) { uint16_t h = kern_f32_to_bf16(v); memcpy(data + off + 2 * k, &h, 2); }
            else memcpy(data + off + 4 * k, &v, 4);
        }
        if (rows)
            hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d,%d],\"data_offsets\":[%llu,%llu]}",
                                   s->name, dt, rows, cols, (unsigned long long)off, (unsigned long long)(off + n * es));
        else
            hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]}",
                                   s->name, dt, cols, (unsigned long long)off, (unsigned long long)(off + n * es));
        off += n * es;
    }
    hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, "}");
    while (hl % 8) hdr[hl++] = ' ';
    size_t total = 8 + hl + off;
    unsigned char *buf = malloc(total);
    uint64_t h64 = hl;
    memcpy(buf, &h64, 8);
    memcpy(buf + 8, hdr, hl);
    memcpy(buf + 8 + hl, data, off);
    write_file(dir, file, buf, total);
    free(buf);
    free(data);
}

static const char *synth_config(const char *arch)
{
    static char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"%s\"], \"hidden_size\": %d, \"intermediate_size\": %d, \"num_hidden_layers\": 1,"
             " \"num_attention_heads\": 2, \"max_position_embeddings\": %d, \"type_vocab_size\": 2, \"vocab_size\": %d,"
             " \"layer_norm_eps\": 1e-12, \"hidden_act\": \"gelu\", \"pad_token_id\": 0, \"id2label\": {\"0\": \"LABEL_0\"}}",
             arch, SH, SI, SP, SV);
    return cfg;
}

/* A complete tiny BertModel with vocab.txt (no tokenizer.json). */
static const char *make_synth(const char *name, const char *arch, int mutate, size_t which)
{
    const char *dir = new_dir(name);
    write_text(dir, "config.json", synth_config(arch));
    write_text(dir, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\nworld\n");
    write_text(dir, "tokenizer_config.json", "{\"do_lower_case\": false, \"model_max_length\": 6}");
    write_safetensors(dir, "model.safetensors", 0, N_SYNTH, mutate, which);
    return dir;
}

static void expect_convert_error(const char *dir, const char *word)
{
    char out[512], err[1024] = "";
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    if (convert(dir, out, 0, 0, err, sizeof err) == 0) fail_msg("conversion of %s succeeded; expected \"%s\"", dir, word);
    if (!strstr(err, word)) fail_msg("error \"%s\" lacks \"%s\"", err, word);
    struct stat sb;
    assert_int_not_equal(stat(out, &sb), 0); /* nothing written */
}

static void test_synth_ok(void **state)
{
    (void)state;
    const char *dir = make_synth("ok", "BertModel", MUT_NONE, 0);
    char out[512], err[1024];
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    if (convert(dir, out, 0, 0, err, sizeof err)) fail_msg("%s", err);
    gguf_file *f = gguf_open(out, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(gguf_n_tensors(f), 21); /* pooler dropped, position_ids skipped */
    assert_null(gguf_tensor_find(f, "cls.weight"));
    assert_int_equal(kv_u32(f, KEY_POOLING), 1);
    assert_int_equal(kv_bool(f, KEY_E_NORMALIZE), 0);
    assert_int_equal(kv_u32(f, KEY_E_MAX_SEQ), 6);
    assert_int_equal(kv_bool(f, KEY_E_LOWER), 0);
    assert_int_equal(kv_bool(f, KEY_E_STRIP), 0);
    assert_int_equal(kv_u32(f, KEY_TOK_CLS), 2);
    assert_int_equal(kv_u32(f, KEY_TOK_SEP), 3);
    assert_int_equal(kv_u32(f, KEY_TOK_UNK), 1);
    static const int32_t pair[5] = {2, -1, 3, -2, 3}, pair_t[5] = {0, 0, 0, 1, 1};
    expect_i32_arr(f, KEY_E_TPL_PAIR, pair, 5);
    expect_i32_arr(f, KEY_E_TPL_PAIR_T, pair_t, 5);
    uint64_t n;
    int ki = gguf_get_str_arr(f, KEY_TOK_TOKENS, &n);
    const char *s;
    size_t sl;
    assert_int_equal(n, 8);
    assert_int_equal(gguf_str_arr_at(f, ki, 5, &s, &sl), 0);
    assert_int_equal(sl, 8);
    assert_memory_equal(s, "\xe2\x96\x81hello", 8);
    assert_int_equal(gguf_str_arr_at(f, ki, 6, &s, &sl), 0);
    assert_int_equal(sl, 1);
    const gguf_tensor *t = expect_tensor(f, "blk.0.ffn_down.weight", GGML_TYPE_F32, SI, SH);
    float v;
    memcpy(&v, (const char *)t->data + 4 * 9, 4);
    assert_true(v == 9 * 0.25f);
    gguf_close(f);

    /* the cross-encoder variant keeps the pooler as cls and wants a classifier */
    dir = make_synth("cls_missing", "BertForSequenceClassification", MUT_NONE, 0);
    expect_convert_error(dir, "classifier.weight");
}

static void test_synth_bf16_and_shards(void **state)
{
    (void)state;
    /* BF16 input widened to f32 */
    const char *dir = make_synth("bf16", "BertModel", MUT_BF16, 15);
    char out[512], err[1024];
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    if (convert(dir, out, 0, 0, err, sizeof err)) fail_msg("%s", err);
    gguf_file *f = gguf_open(out, err, sizeof err);
    const gguf_tensor *t = expect_tensor(f, "blk.0.ffn_up.weight", GGML_TYPE_F32, SH, SI);
    float v;
    memcpy(&v, (const char *)t->data + 4 * 7, 4);
    assert_true(v == 7 * 0.25f);
    gguf_close(f);

    /* sharded checkpoint: two files plus the index */
    dir = new_dir("sharded");
    write_text(dir, "config.json", synth_config("BertModel"));
    write_text(dir, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\nworld\n");
    write_safetensors(dir, "model-00001-of-00002.safetensors", 0, 10, MUT_NONE, 0);
    write_safetensors(dir, "model-00002-of-00002.safetensors", 10, N_SYNTH, MUT_NONE, 0);
    char idx[8192];
    size_t il = (size_t)snprintf(idx, sizeof idx, "{\"metadata\": {}, \"weight_map\": {");
    for (size_t i = 0; i < N_SYNTH; i++)
        il += (size_t)snprintf(idx + il, sizeof idx - il, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "",
                               synth_tensors[i].name, i < 10 ? 1 : 2);
    snprintf(idx + il, sizeof idx - il, "}}");
    write_text(dir, "model.safetensors.index.json", idx);
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    if (convert(dir, out, 0, 0, err, sizeof err)) fail_msg("sharded: %s", err);
    f = gguf_open(out, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(gguf_n_tensors(f), 21);
    gguf_close(f);
    remove(out);
    /* an index naming a shard that lacks the tensor */
    write_text(dir, "model.safetensors.index.json",
               "{\"weight_map\": {\"embeddings.word_embeddings.weight\": \"model-00002-of-00002.safetensors\"}}");
    expect_convert_error(dir, "missing from shard");
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\": {\"x\": \"../evil.safetensors\"}}");
    expect_convert_error(dir, "bad shard file name");
}

static void test_refusals(void **state)
{
    (void)state;
    const char *dir = make_synth("qwen", "Qwen3ForCausalLM", MUT_NONE, 0);
    expect_convert_error(dir, "hidden_act gelu is not supported (Qwen3 uses silu)"); /* a BERT config under a Qwen3 name */
    dir = make_synth("gpt2", "GPT2Model", MUT_NONE, 0);
    expect_convert_error(dir, "unsupported architecture GPT2Model");
    dir = make_synth("missing", "BertModel", MUT_DROP, 11);
    expect_convert_error(dir, "missing tensor encoder.layer.0.attention.output.dense.weight");
    dir = make_synth("shape", "BertModel", MUT_SHAPE, 15);
    expect_convert_error(dir, "encoder.layer.0.intermediate.dense.weight: shape [8, 5], expected [8, 4]");
    dir = make_synth("noweights", "BertModel", MUT_NONE, 0);
    char p[1024];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    remove(p);
    expect_convert_error(dir, "no model.safetensors");
    dir = new_dir("noconfig");
    expect_convert_error(dir, "config.json: missing");
    /* max pooling is refused */
    dir = make_synth("maxpool", "BertModel", MUT_NONE, 0);
    write_text(dir, "modules.json",
               "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Transformer\"},"
               "{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"}]");
    snprintf(p, sizeof p, "%s/1_Pooling", dir);
    mkdir(p, 0755);
    write_text(p, "config.json", "{\"pooling_mode_max_tokens\": true}");
    expect_convert_error(dir, "pooling_mode_max_tokens");
    write_text(p, "config.json", "{\"pooling_mode_cls_token\": true}");
    char out[512], err[1024];
    snprintf(out, sizeof out, "%s/out.gguf", dir);
    if (convert(dir, out, 0, 0, err, sizeof err)) fail_msg("%s", err);
    gguf_file *f = gguf_open(out, err, sizeof err);
    assert_int_equal(kv_u32(f, KEY_POOLING), 2);
    gguf_close(f);
    remove(out);
    /* a tokenizer/config vocabulary mismatch */
    dir = make_synth("vocab", "BertModel", MUT_NONE, 0);
    write_text(dir, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
    expect_convert_error(dir, "vocab_size");
    /* fuzzing finds: a size beyond int64 (its cast was undefined: UBSan), and
     * an eps that float32 turns into 0, or 1: both written, then refused by
     * the loader; the converter refuses them itself now */
    static const struct { const char *from, *to, *word; } bad[] = {
        {"\"vocab_size\": ", "\"vocab_size\": 1e308, \"x\": ", "vocab_size"},
        {"\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": 1e-52", "layer_norm_eps"},
        {"\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": 1", "layer_norm_eps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dir = make_synth("badcfg", "BertModel", MUT_NONE, 0);
        char cfg[1200];
        const char *base = synth_config("BertModel"), *at = strstr(base, bad[i].from);
        assert_non_null(at);
        snprintf(cfg, sizeof cfg, "%.*s%s%s", (int)(at - base), base, bad[i].to, at + strlen(bad[i].from));
        write_text(dir, "config.json", cfg);
        expect_convert_error(dir, bad[i].word);
    }
}

static void test_corrupt_safetensors(void **state)
{
    (void)state;
    const char *dir = make_synth("corrupt", "BertModel", MUT_NONE, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char orig[65536];
    size_t n = fread(orig, 1, sizeof orig, f);
    fclose(f);
    assert_true(n > 100 && n < sizeof orig);
    uint64_t hl;
    memcpy(&hl, orig, 8);
    unsigned char *b = malloc(n);
    char err[512];
    /* header length beyond the file */
    memcpy(b, orig, n);
    uint64_t big = (uint64_t)n;
    memcpy(b, &big, 8);
    write_file(dir, "model.safetensors", b, n);
    expect_convert_error(dir, "corrupt safetensors header");
    /* header JSON broken */
    memcpy(b, orig, n);
    b[8 + 5] = '\x01';
    write_file(dir, "model.safetensors", b, n);
    expect_convert_error(dir, "corrupt safetensors header");
    /* data truncated: last tensor's data_offsets past the end */
    write_file(dir, "model.safetensors", orig, n - 8);
    expect_convert_error(dir, "outside");
    /* too short to hold the length */
    write_file(dir, "model.safetensors", orig, 5);
    expect_convert_error(dir, "truncated");
    /* size != shape x dtype: rewrite one shape */
    memcpy(b, orig, n);
    char *h = (char *)b + 8;
    char *q = strstr(h, "\"shape\":[8,4]");
    assert_non_null(q);
    q[9] = '7';
    write_file(dir, "model.safetensors", b, n);
    expect_convert_error(dir, "needs");
    free(b);
    /* st_open_file directly on garbage */
    write_file(dir, "garbage.safetensors", "\xff\xff\xff\xff\xff\xff\xff\xffxx", 10);
    snprintf(path, sizeof path, "%s/garbage.safetensors", dir);
    assert_null(st_open_file(path, err, sizeof err));
    assert_non_null(strstr(err, "header length"));
}

/* ---- JSON ---- */

static void expect_json_error(const char *text, const char *word)
{
    char err[256] = "";
    json_value *v = json_parse(text, strlen(text), err, sizeof err);
    if (v) { json_free(v); fail_msg("JSON \"%s\" was accepted", text); }
    if (!strstr(err, word)) fail_msg("JSON \"%s\": error \"%s\" lacks \"%s\"", text, err, word);
}

static void test_json(void **state)
{
    (void)state;
    const char *txt = "{\"a\": [1, -2.5e2, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"],\n \"b\": {\"c\": \"\\u0000z\"}, \"a\": 7}";
    char err[256];
    json_value *v = json_parse(txt, strlen(txt), err, sizeof err);
    if (!v) fail_msg("%s", err);
    assert_int_equal(json_type_of(v), JSON_OBJECT);
    assert_int_equal(json_object_len(v), 3);
    assert_true(json_number(json_object_get(v, "a")) == 7); /* last duplicate wins */
    const json_value *a = json_object_value_at(v, 0);
    size_t kl;
    assert_string_equal(json_object_key_at(v, 0, &kl), "a");
    assert_int_equal(json_array_len(a), 6);
    assert_true(json_number(json_array_at(a, 0)) == 1);
    assert_true(json_number(json_array_at(a, 1)) == -250);
    assert_int_equal(json_bool(json_array_at(a, 2)), 1);
    assert_int_equal(json_type_of(json_array_at(a, 3)), JSON_BOOL);
    assert_int_equal(json_bool(json_array_at(a, 3)), 0);
    assert_int_equal(json_type_of(json_array_at(a, 4)), JSON_NULL);
    size_t len;
    const char *s = json_string(json_array_at(a, 5), &len);
    assert_int_equal(len, 1 + 2 + 4 + 1);
    assert_memory_equal(s, "x\xc3\xa9\xf0\x9f\x98\x80\n", 8);
    s = json_string(json_object_get(json_object_get(v, "b"), "c"), &len);
    assert_int_equal(len, 2);
    assert_memory_equal(s, "\0z", 3);
    assert_null(json_array_at(a, 6));
    assert_null(json_object_get(a, "x"));
    assert_null(json_string(a, &len));
    assert_int_equal(json_type_of(NULL), -1);
    json_free(v);

    expect_json_error("{\"a\": 1,}", "line 1, column 9");
    expect_json_error("[1, 2\n, 3", "line 2");
    expect_json_error("[01]", "expected");
    expect_json_error("[1.]", "digit");
    expect_json_error("[1e]", "exponent");
    expect_json_error("\"\\ud800\"", "surrogate");
    expect_json_error("\"\\udc00\"", "surrogate");
    expect_json_error("\"\\ud800\\u0041\"", "surrogate");
    expect_json_error("\"\\x\"", "escape");
    expect_json_error("\"a\tb\"", "control character");
    expect_json_error("\"\xc3\x28\"", "UTF-8");
    expect_json_error("\"\xed\xa0\x80\"", "UTF-8"); /* encoded surrogate */
    expect_json_error("\"\xc0\xaf\"", "UTF-8");     /* overlong */
    expect_json_error("\"abc", "unterminated");
    expect_json_error("tru", "literal");
    expect_json_error("{} x", "trailing");
    expect_json_error("", "end of input");
    expect_json_error("{1: 2}", "key");
    expect_json_error("{\"a\" 2}", "':'");
    char deep[2 * JSON_MAX_DEPTH + 10];
    memset(deep, '[', JSON_MAX_DEPTH + 2);
    memset(deep + JSON_MAX_DEPTH + 2, ']', JSON_MAX_DEPTH + 2);
    deep[2 * JSON_MAX_DEPTH + 4] = '\0';
    expect_json_error(deep, "nesting");
    memset(deep, '[', JSON_MAX_DEPTH);
    memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
    deep[2 * JSON_MAX_DEPTH] = '\0';
    v = json_parse(deep, strlen(deep), err, sizeof err);
    if (!v) fail_msg("depth %d: %s", JSON_MAX_DEPTH, err);
    json_free(v);
    /* every prefix of a valid document fails cleanly */
    for (size_t cut = 0; cut < strlen(txt); cut++) {
        v = json_parse(txt, cut, err, sizeof err);
        if (v) { json_free(v); fail_msg("prefix of %zu bytes accepted", cut); }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_minilm_embed),
        cmocka_unit_test(test_minilm_cross),
        cmocka_unit_test(test_xlmr_cross),
        cmocka_unit_test(test_f16),
        cmocka_unit_test(test_vocab_only),
        cmocka_unit_test(test_synth_ok),
        cmocka_unit_test(test_synth_bf16_and_shards),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_corrupt_safetensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
