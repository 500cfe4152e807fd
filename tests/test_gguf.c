/* GGUF layer: writer -> reader round trip of every value type, llama.cpp's
 * bert vocab file, and hand-built broken files that must all be refused with
 * a message naming the problem. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "tests/fixtures.h"

/* ---- helpers ---- */

static char g_path[512];

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    const char *dir = test_tmpdir();
    assert_non_null(dir);
    snprintf(g_path, sizeof g_path, "%s/%s", dir, name);
    FILE *f = fopen(g_path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return g_path;
}

/* Opens bytes as a file; expects failure with `word` in the message. */
static void expect_refused(const void *data, size_t len, const char *word)
{
    char err[512] = "";
    gguf_file *f = gguf_open(write_tmp("broken.gguf", data, len), err, sizeof err);
    if (f) {
        gguf_close(f);
        fail_msg("broken file (%zu bytes) was accepted; expected an error containing \"%s\"", len, word);
    }
    if (!strstr(err, word)) fail_msg("error \"%s\" lacks \"%s\"", err, word);
}

/* a tiny byte builder for hand-made files */
typedef struct { unsigned char b[4096]; size_t n; } bb;
static void bb_raw(bb *b, const void *p, size_t n) { assert_true(b->n + n <= sizeof b->b); memcpy(b->b + b->n, p, n); b->n += n; }
static void bb_u32(bb *b, uint32_t v) { bb_raw(b, &v, 4); }
static void bb_u64(bb *b, uint64_t v) { bb_raw(b, &v, 8); }
static void bb_str(bb *b, const char *s) { bb_u64(b, strlen(s)); bb_raw(b, s, strlen(s)); }
static void bb_head(bb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    b->n = 0;
    bb_raw(b, "GGUF", 4);
    bb_u32(b, version);
    bb_u64(b, n_tensors);
    bb_u64(b, n_kv);
}
static void bb_kv_u32(bb *b, const char *k, uint32_t v) { bb_str(b, k); bb_u32(b, GGUF_TYPE_UINT32); bb_u32(b, v); }
/* tensor info with n_dims dims of ne[], type, offset */
static void bb_tensor(bb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off)
{
    bb_str(b, name);
    bb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) bb_u64(b, ne[d]);
    bb_u32(b, type);
    bb_u64(b, off);
}
/* pads to `align` and appends n zero data bytes */
static void bb_data(bb *b, size_t align, size_t n)
{
    while (b->n % align) bb_raw(b, "", 1);
    static const unsigned char z[1024];
    assert_true(n <= sizeof z);
    bb_raw(b, z, n);
}

/* ---- round trip ---- */

static gguf_writer *make_full_writer(float *t0, uint16_t *t1, uint16_t *t2)
{
    gguf_writer *w = gguf_writer_new();
    assert_non_null(w);
    uint8_t u8 = 200; int8_t i8 = -5; uint16_t u16 = 60000; int16_t i16 = -300;
    uint64_t u64 = 1ull << 40, u64s = 77; int64_t i64 = -9, i64s = 123456; double f64 = 2.5;
    assert_int_equal(gguf_writer_set_val(w, "t.u8", GGUF_TYPE_UINT8, &u8), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.i8", GGUF_TYPE_INT8, &i8), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.u16", GGUF_TYPE_UINT16, &u16), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.i16", GGUF_TYPE_INT16, &i16), 0);
    assert_int_equal(gguf_writer_set_u32(w, "t.u32", 4000000000u), 0);
    assert_int_equal(gguf_writer_set_i32(w, "t.i32", -7), 0);
    assert_int_equal(gguf_writer_set_f32(w, "t.f32", 1e-12f), 0);
    assert_int_equal(gguf_writer_set_bool(w, "t.bool", 1), 0);
    assert_int_equal(gguf_writer_set_str(w, "t.str", "h\0llo", 5), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.u64", GGUF_TYPE_UINT64, &u64), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.u64s", GGUF_TYPE_UINT64, &u64s), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.i64", GGUF_TYPE_INT64, &i64), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.i64s", GGUF_TYPE_INT64, &i64s), 0);
    assert_int_equal(gguf_writer_set_val(w, "t.f64", GGUF_TYPE_FLOAT64, &f64), 0);
    int32_t ia[3] = {-1, 101, -2};
    float fa[2] = {0.5f, -1.5f};
    double da[2] = {1.25, 3};
    assert_int_equal(gguf_writer_set_arr(w, "t.arr_i32", GGUF_TYPE_INT32, ia, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "t.arr_f32", GGUF_TYPE_FLOAT32, fa, 2), 0);
    assert_int_equal(gguf_writer_set_arr(w, "t.arr_f64", GGUF_TYPE_FLOAT64, da, 2), 0);
    assert_int_equal(gguf_writer_set_arr(w, "t.arr_empty", GGUF_TYPE_UINT8, NULL, 0), 0);
    const char *sa[3] = {"[CLS]", "", "\xe2\x96\x81the"};
    assert_int_equal(gguf_writer_set_str_arr(w, "t.arr_str", sa, NULL, 3), 0);
    /* duplicate key refused */
    assert_int_equal(gguf_writer_set_u32(w, "t.u32", 1), -1);

    for (int i = 0; i < 6; i++) t0[i] = (float)i * 0.5f - 1;
    for (int i = 0; i < 5; i++) t1[i] = (uint16_t)(0x3c00 + i);
    for (int i = 0; i < 8; i++) t2[i] = (uint16_t)(0x3f80 + i);
    uint64_t ne0[2] = {3, 2}, ne1[1] = {5}, ne2[4] = {2, 2, 1, 2};
    assert_int_equal(gguf_writer_add_tensor(w, "w.f32", GGML_TYPE_F32, 2, ne0, t0, 0), 0);
    assert_int_equal(gguf_writer_add_tensor(w, "w.f16", GGML_TYPE_F16, 1, ne1, t1, 1), 0);
    assert_int_equal(gguf_writer_add_tensor(w, "w.bf16", GGML_TYPE_BF16, 4, ne2, t2, 0), 0);
    assert_int_equal(gguf_writer_add_tensor(w, "w.f32", GGML_TYPE_F32, 2, ne0, t0, 0), -1); /* duplicate */
    assert_int_equal(gguf_writer_add_tensor(w, "w.q4", 2, 2, ne0, t0, 0), -1);             /* unknown type */
    return w;
}

static void test_round_trip(void **state)
{
    (void)state;
    float t0[6];
    uint16_t t1[5], t2[8];
    gguf_writer *w = make_full_writer(t0, t1, t2);
    const char *dir = test_tmpdir();
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/rt.gguf", dir);
    assert_int_equal(gguf_writer_write(w, path, err, sizeof err), 0);
    /* the same image in memory */
    unsigned char *img;
    size_t img_len;
    assert_int_equal(gguf_writer_to_buffer(w, &img, &img_len, err, sizeof err), 0);
    gguf_writer_free(w);

    gguf_file *f = gguf_open(path, err, sizeof err);
    if (!f) fail_msg("open: %s", err);
    assert_int_equal(gguf_file_size(f), img_len);
    assert_int_equal(gguf_version(f), 3);
    FILE *fp = fopen(path, "rb");
    unsigned char *disk = malloc(img_len);
    assert_int_equal(fread(disk, 1, img_len, fp), img_len);
    fclose(fp);
    assert_memory_equal(disk, img, img_len);
    free(disk);
    free(img);

    uint32_t u;
    assert_int_equal(gguf_get_u32(f, "t.u8", &u), 0); assert_int_equal(u, 200);
    assert_int_equal(gguf_get_u32(f, "t.u16", &u), 0); assert_int_equal(u, 60000);
    assert_int_equal(gguf_get_u32(f, "t.u32", &u), 0); assert_int_equal(u, 4000000000u);
    assert_int_equal(gguf_get_u32(f, "t.u64s", &u), 0); assert_int_equal(u, 77);
    assert_int_equal(gguf_get_u32(f, "t.i64s", &u), 0); assert_int_equal(u, 123456);
    assert_int_equal(gguf_get_u32(f, "t.u64", &u), -2);  /* too large */
    assert_int_equal(gguf_get_u32(f, "t.i8", &u), -2);   /* negative */
    assert_int_equal(gguf_get_u32(f, "t.i16", &u), -2);
    assert_int_equal(gguf_get_u32(f, "t.i32", &u), -2);
    assert_int_equal(gguf_get_u32(f, "t.i64", &u), -2);
    assert_int_equal(gguf_get_u32(f, "t.str", &u), -2);
    assert_int_equal(gguf_get_u32(f, "t.f32", &u), -2);
    assert_int_equal(gguf_get_u32(f, "nope", &u), -1);
    float v;
    assert_int_equal(gguf_get_f32(f, "t.f32", &v), 0); assert_true(v == 1e-12f);
    assert_int_equal(gguf_get_f32(f, "t.f64", &v), 0); assert_true(v == 2.5f);
    assert_int_equal(gguf_get_f32(f, "t.u32", &v), -2);
    int b;
    assert_int_equal(gguf_get_bool(f, "t.bool", &b), 0); assert_int_equal(b, 1);
    assert_int_equal(gguf_get_bool(f, "t.u8", &b), -2);
    const char *s;
    size_t n;
    assert_int_equal(gguf_get_str(f, "t.str", &s, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "h\0llo", 5);
    assert_int_equal(gguf_get_str(f, "t.arr_str", &s, &n), -2);
    uint32_t et;
    uint64_t an;
    const void *ad;
    assert_int_equal(gguf_get_arr(f, "t.arr_i32", &et, &an, &ad), 0);
    assert_int_equal(et, GGUF_TYPE_INT32);
    assert_int_equal(an, 3);
    int32_t ia[3];
    memcpy(ia, ad, sizeof ia);
    assert_int_equal(ia[0], -1); assert_int_equal(ia[1], 101); assert_int_equal(ia[2], -2);
    assert_int_equal(gguf_get_arr(f, "t.arr_f32", &et, &an, &ad), 0);
    float fa[2];
    memcpy(fa, ad, sizeof fa);
    assert_true(et == GGUF_TYPE_FLOAT32 && an == 2 && fa[0] == 0.5f && fa[1] == -1.5f);
    assert_int_equal(gguf_get_arr(f, "t.arr_f64", &et, &an, &ad), 0);
    double da[2];
    memcpy(da, ad, sizeof da);
    assert_true(et == GGUF_TYPE_FLOAT64 && an == 2 && da[0] == 1.25 && da[1] == 3);
    assert_int_equal(gguf_get_arr(f, "t.arr_empty", &et, &an, &ad), 0);
    assert_int_equal(an, 0);
    assert_int_equal(gguf_get_arr(f, "t.arr_str", &et, &an, &ad), -2);
    assert_int_equal(gguf_get_arr(f, "t.u32", &et, &an, &ad), -2);
    uint64_t sn;
    int ki = gguf_get_str_arr(f, "t.arr_str", &sn);
    assert_true(ki >= 0);
    assert_int_equal(sn, 3);
    assert_int_equal(gguf_str_arr_at(f, ki, 0, &s, &n), 0); assert_int_equal(n, 5); assert_memory_equal(s, "[CLS]", 5);
    assert_int_equal(gguf_str_arr_at(f, ki, 1, &s, &n), 0); assert_int_equal(n, 0);
    assert_int_equal(gguf_str_arr_at(f, ki, 2, &s, &n), 0); assert_int_equal(n, 6); assert_memory_equal(s, "\xe2\x96\x81the", 6);
    assert_int_equal(gguf_str_arr_at(f, ki, 3, &s, &n), -1);
    assert_int_equal(gguf_get_str_arr(f, "t.arr_i32", &sn), -2);
    assert_int_equal(gguf_get_str_arr(f, "nope", &sn), -1);

    /* key iteration covers every key once, in order */
    assert_int_equal(gguf_n_kv(f), 19);
    assert_string_equal(gguf_kv_name(f, 0), "t.u8");
    assert_int_equal(gguf_kv_type(f, 0), GGUF_TYPE_UINT8);
    assert_int_equal(gguf_kv_type(f, 18), GGUF_TYPE_ARRAY);
    assert_int_equal(gguf_kv_arr_type(f, 18), GGUF_TYPE_STRING);
    assert_int_equal(gguf_kv_arr_len(f, 18), 3);

    assert_int_equal(gguf_n_tensors(f), 3);
    const gguf_tensor *t = gguf_tensor_find(f, "w.f32");
    assert_non_null(t);
    assert_int_equal(t->n_dims, 2);
    assert_int_equal(t->ne[0], 3); assert_int_equal(t->ne[1], 2); assert_int_equal(t->ne[2], 1);
    assert_int_equal(t->type, GGML_TYPE_F32);
    assert_int_equal(t->nbytes, 24);
    assert_memory_equal(t->data, t0, 24);
    assert_int_equal((uintptr_t)t->data % 32, 0);
    t = gguf_tensor_find(f, "w.f16");
    assert_non_null(t);
    assert_true(t->n_dims == 1 && t->ne[0] == 5 && t->type == GGML_TYPE_F16 && t->nbytes == 10);
    assert_memory_equal(t->data, t1, 10);
    assert_int_equal((uintptr_t)t->data % 32, 0);
    t = gguf_tensor_find(f, "w.bf16");
    assert_non_null(t);
    assert_true(t->n_dims == 4 && t->ne[3] == 2 && t->type == GGML_TYPE_BF16 && t->nbytes == 16);
    assert_memory_equal(t->data, t2, 16);
    assert_ptr_equal(gguf_tensor_at(f, 2), t);
    assert_null(gguf_tensor_at(f, 3));
    assert_null(gguf_tensor_find(f, "w"));
    assert_string_equal(gguf_type_name(GGML_TYPE_BF16), "bf16");
    gguf_close(f);
}

/* writing over an existing file replaces it atomically; a bad path fails cleanly */
static void test_writer_errors(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_str(w, "general.architecture", "bert", 4), 0);
    char err[256] = "";
    assert_int_equal(gguf_writer_write(w, "/nonexistent-dir/x.gguf", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/x.gguf"));
    char path[512];
    snprintf(path, sizeof path, "%s/kv_only.gguf", test_tmpdir());
    assert_int_equal(gguf_writer_write(w, path, err, sizeof err), 0);
    gguf_writer_free(w);
    gguf_file *f = gguf_open(path, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(gguf_n_tensors(f), 0);
    gguf_close(f);
    assert_null(gguf_open("/nonexistent-dir/x.gguf", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

/* ---- llama.cpp's bert vocab ---- */

static void test_llama_cpp_vocab(void **state)
{
    (void)state;
    char path[512], err[256];
    if (!fixture_path(path, sizeof path, "peer-suites/llama.cpp/ggml-vocab-bert-bge.gguf")) { skip(); return; }
    gguf_file *f = gguf_open(path, err, sizeof err);
    if (!f) fail_msg("%s: %s", path, err);
    assert_int_equal(gguf_version(f), 3);
    assert_int_equal(gguf_n_tensors(f), 0);
    assert_int_equal(gguf_n_kv(f), 20);
    const char *s;
    size_t n;
    assert_int_equal(gguf_get_str(f, "tokenizer.ggml.model", &s, &n), 0);
    assert_int_equal(n, 4); assert_memory_equal(s, "bert", 4);
    assert_int_equal(gguf_get_str(f, "tokenizer.ggml.pre", &s, &n), 0);
    assert_int_equal(n, 8); assert_memory_equal(s, "bert-bge", 8);
    uint32_t u;
    assert_int_equal(gguf_get_u32(f, "bert.embedding_length", &u), 0); assert_int_equal(u, 384);
    assert_int_equal(gguf_get_u32(f, "bert.block_count", &u), 0); assert_int_equal(u, 12);
    assert_int_equal(gguf_get_u32(f, "tokenizer.ggml.seperator_token_id", &u), 0); assert_int_equal(u, 102);
    assert_int_equal(gguf_get_u32(f, "tokenizer.ggml.unknown_token_id", &u), 0); assert_int_equal(u, 100);
    int b;
    assert_int_equal(gguf_get_bool(f, "bert.attention.causal", &b), 0); assert_int_equal(b, 0);
    uint64_t nt;
    int ki = gguf_get_str_arr(f, "tokenizer.ggml.tokens", &nt);
    assert_true(ki >= 0);
    assert_int_equal(nt, 30522);
    static const struct { uint64_t id; const char *tok; } known[] = {
        {0, "[PAD]"}, {1, "[unused0]"}, {100, "[UNK]"}, {101, "[CLS]"}, {102, "[SEP]"}, {103, "[MASK]"},
        {999, "\xe2\x96\x81!"}, {1996, "\xe2\x96\x81the"}, {2015, "s"}, {7592, "\xe2\x96\x81hello"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        assert_int_equal(gguf_str_arr_at(f, ki, known[i].id, &s, &n), 0);
        if (n != strlen(known[i].tok) || memcmp(s, known[i].tok, n) != 0)
            fail_msg("token %llu is \"%.*s\", expected \"%s\"", (unsigned long long)known[i].id, (int)n, s, known[i].tok);
    }
    uint32_t et;
    uint64_t an;
    const void *ad;
    assert_int_equal(gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &an, &ad), 0);
    assert_int_equal(an, 30522);
    assert_int_equal(et, GGUF_TYPE_INT32);
    int32_t ty;
    memcpy(&ty, (const char *)ad + 4 * 101, 4); assert_int_equal(ty, 3);
    memcpy(&ty, (const char *)ad + 4 * 1, 4); assert_int_equal(ty, 1);
    memcpy(&ty, (const char *)ad + 4 * 1996, 4); assert_int_equal(ty, 1);
    gguf_close(f);
}

/* ---- broken files ---- */

static void test_bad_header(void **state)
{
    (void)state;
    bb b;
    bb_head(&b, 3, 0, 1);
    bb_kv_u32(&b, "a", 1);
    b.b[3] = 'X';
    expect_refused(b.b, b.n, "magic");
    bb_head(&b, 1, 0, 1);
    bb_kv_u32(&b, "a", 1);
    expect_refused(b.b, b.n, "version 1");
    bb_head(&b, 99, 0, 1);
    bb_kv_u32(&b, "a", 1);
    expect_refused(b.b, b.n, "version 99");
    bb_head(&b, 0x03000000u, 0, 1);
    bb_kv_u32(&b, "a", 1);
    expect_refused(b.b, b.n, "big-endian");
    expect_refused("GGU", 3, "truncated");
    expect_refused("", 0, "truncated");
    bb_head(&b, 3, 0, 1ull << 60);
    expect_refused(b.b, b.n, "key count");
    bb_head(&b, 3, 1ull << 60, 0);
    expect_refused(b.b, b.n, "tensor count");
    /* version 2 is accepted */
    bb_head(&b, 2, 0, 1);
    bb_kv_u32(&b, "a", 1);
    char err[256];
    gguf_file *f = gguf_open(write_tmp("v2.gguf", b.b, b.n), err, sizeof err);
    if (!f) fail_msg("v2: %s", err);
    gguf_close(f);
}

static void test_bad_kv(void **state)
{
    (void)state;
    bb b;
    /* key name longer than the file */
    bb_head(&b, 3, 0, 1);
    bb_u64(&b, 1000);
    bb_raw(&b, "abc", 3);
    expect_refused(b.b, b.n, "past the end");
    /* string value longer than the file */
    bb_head(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, GGUF_TYPE_STRING);
    bb_u64(&b, 1ull << 62);
    bb_raw(&b, "xyz", 3);
    expect_refused(b.b, b.n, "past the end");
    /* array length * element size overflows 64 bits */
    bb_head(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, GGUF_TYPE_ARRAY);
    bb_u32(&b, GGUF_TYPE_UINT64);
    bb_u64(&b, (1ull << 61) + 1);
    bb_u64(&b, 0);
    expect_refused(b.b, b.n, "past the end");
    /* string array longer than the file could hold */
    bb_head(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, GGUF_TYPE_ARRAY);
    bb_u32(&b, GGUF_TYPE_STRING);
    bb_u64(&b, 1ull << 62);
    bb_str(&b, "a");
    expect_refused(b.b, b.n, "cannot fit");
    /* nested arrays */
    bb_head(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, GGUF_TYPE_ARRAY);
    bb_u32(&b, GGUF_TYPE_ARRAY);
    bb_u64(&b, 1);
    bb_u32(&b, GGUF_TYPE_UINT8);
    bb_u64(&b, 0);
    expect_refused(b.b, b.n, "nested");
    /* unknown value type / array element type */
    bb_head(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, 13);
    bb_u64(&b, 0);
    expect_refused(b.b, b.n, "unknown value type 13");
    bb_head(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, GGUF_TYPE_ARRAY);
    bb_u32(&b, 40);
    bb_u64(&b, 0);
    expect_refused(b.b, b.n, "element type 40");
    /* duplicate key */
    bb_head(&b, 3, 0, 2);
    bb_kv_u32(&b, "dup.key", 1);
    bb_kv_u32(&b, "dup.key", 2);
    expect_refused(b.b, b.n, "duplicate key dup.key");
    /* empty key name */
    bb_head(&b, 3, 0, 1);
    bb_kv_u32(&b, "", 1);
    expect_refused(b.b, b.n, "name of 0 bytes");
    /* alignment 0, 3, 2^21, wrong type */
    static const uint32_t bad_align[] = {0, 3, 1u << 21};
    for (size_t i = 0; i < 3; i++) {
        bb_head(&b, 3, 0, 1);
        bb_kv_u32(&b, "general.alignment", bad_align[i]);
        expect_refused(b.b, b.n, "alignment");
    }
    bb_head(&b, 3, 0, 1);
    bb_str(&b, "general.alignment");
    bb_u32(&b, GGUF_TYPE_STRING);
    bb_str(&b, "32");
    expect_refused(b.b, b.n, "alignment");
}

static void test_bad_tensors(void **state)
{
    (void)state;
    bb b;
    uint64_t ne[5] = {4, 2, 1, 1, 1};
    /* n_dims 0 and 5 */
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "t0", 0, ne, GGML_TYPE_F32, 0);
    bb_data(&b, 32, 32);
    expect_refused(b.b, b.n, "dimensions");
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "t5", 5, ne, GGML_TYPE_F32, 0);
    bb_data(&b, 32, 32);
    expect_refused(b.b, b.n, "t5 has 5 dimensions");
    /* a zero dimension */
    uint64_t ne0[2] = {4, 0};
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "tz", 2, ne0, GGML_TYPE_F32, 0);
    bb_data(&b, 32, 32);
    expect_refused(b.b, b.n, "dimension 1 is 0");
    /* element count overflows */
    uint64_t big[4] = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "tbig", 4, big, GGML_TYPE_F32, 0);
    bb_data(&b, 32, 32);
    expect_refused(b.b, b.n, "overflows");
    /* huge but not overflowing: cannot fit */
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "thuge", 2, big, GGML_TYPE_F32, 0);
    bb_data(&b, 32, 32);
    expect_refused(b.b, b.n, "cannot fit");
    /* unsupported ggml type (Q4_0 = 2) */
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "tq", 2, ne, 2, 0);
    bb_data(&b, 32, 32);
    expect_refused(b.b, b.n, "ggml type 2");
    /* misaligned offset */
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "tm", 2, ne, GGML_TYPE_F32, 4);
    bb_data(&b, 32, 64);
    expect_refused(b.b, b.n, "not aligned");
    /* offset beyond the file */
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "to", 2, ne, GGML_TYPE_F32, 1u << 20);
    bb_data(&b, 32, 32);
    expect_refused(b.b, b.n, "outside the file");
    /* data running past the end */
    bb_head(&b, 3, 1, 0);
    bb_tensor(&b, "tp", 2, ne, GGML_TYPE_F32, 0);
    bb_data(&b, 32, 16);
    expect_refused(b.b, b.n, "outside the file");
    /* duplicate tensor names */
    bb_head(&b, 3, 2, 0);
    bb_tensor(&b, "same", 2, ne, GGML_TYPE_F32, 0);
    bb_tensor(&b, "same", 2, ne, GGML_TYPE_F32, 32);
    bb_data(&b, 32, 64);
    expect_refused(b.b, b.n, "duplicate tensor same");
    /* overlapping data */
    bb_head(&b, 3, 2, 0);
    bb_tensor(&b, "ov1", 2, ne, GGML_TYPE_F32, 0);
    bb_tensor(&b, "ov2", 2, ne, GGML_TYPE_F32, 0);
    bb_data(&b, 32, 64);
    expect_refused(b.b, b.n, "overlap");
    /* positive control: custom alignment 64 with offsets on 64 opens */
    bb_head(&b, 3, 2, 1);
    bb_kv_u32(&b, "general.alignment", 64);
    bb_tensor(&b, "a", 2, ne, GGML_TYPE_F32, 0);
    bb_tensor(&b, "b", 1, ne, GGML_TYPE_F16, 64);
    bb_data(&b, 64, 128);
    char err[256];
    gguf_file *f = gguf_open(write_tmp("align64.gguf", b.b, b.n), err, sizeof err);
    if (!f) fail_msg("align 64: %s", err);
    assert_int_equal(gguf_tensor_find(f, "b")->nbytes, 8);
    gguf_close(f);
    /* ... and 32-aligned offsets under alignment 64 are refused */
    bb_head(&b, 3, 1, 1);
    bb_kv_u32(&b, "general.alignment", 64);
    bb_tensor(&b, "a32", 1, ne, GGML_TYPE_F32, 32);
    bb_data(&b, 64, 128);
    expect_refused(b.b, b.n, "not aligned to 64");
    /* alignment 2 (a fuzzing find): offsets 0 and 34 are both legal, but 34
     * bytes apart one of the two f32 tensors starts off its 4-byte grid */
    bb_head(&b, 3, 2, 1);
    bb_kv_u32(&b, "general.alignment", 2);
    bb_tensor(&b, "e0", 2, ne, GGML_TYPE_F32, 0);
    bb_tensor(&b, "e1", 2, ne, GGML_TYPE_F32, 34);
    bb_data(&b, 2, 66);
    expect_refused(b.b, b.n, "not aligned to its 4-byte elements");
}

/* Every prefix of a valid file is refused without crashing; random byte
 * corruption never crashes (it may or may not be detected). */
static void test_truncation_and_corruption(void **state)
{
    (void)state;
    float t0[6];
    uint16_t t1[5], t2[8];
    gguf_writer *w = make_full_writer(t0, t1, t2);
    unsigned char *img;
    size_t len;
    char err[512];
    assert_int_equal(gguf_writer_to_buffer(w, &img, &len, err, sizeof err), 0);
    gguf_writer_free(w);
    for (size_t cut = 0; cut < len; cut++) {
        err[0] = '\0';
        gguf_file *f = gguf_open(write_tmp("cut.gguf", img, cut), err, sizeof err);
        if (f) { gguf_close(f); fail_msg("file cut at %zu of %zu bytes was accepted", cut, len); }
        if (!strstr(err, "truncated") && !strstr(err, "past the end") && !strstr(err, "outside the file") &&
            !strstr(err, "cannot fit") && !strstr(err, "count"))
            fail_msg("cut at %zu: unexpected message \"%s\"", cut, err);
    }
    unsigned char *bad = malloc(len);
    srand(1234);
    int opened = 0;
    for (int iter = 0; iter < 600; iter++) {
        memcpy(bad, img, len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) bad[(size_t)rand() % len] ^= (unsigned char)(1 + rand() % 255);
        gguf_file *f = gguf_open(write_tmp("fuzz.gguf", bad, len), err, sizeof err);
        if (f) {
            opened++;
            /* whatever opened must be internally consistent */
            for (uint64_t i = 0; i < gguf_n_tensors(f); i++) {
                const gguf_tensor *t = gguf_tensor_at(f, i);
                assert_true(t->nbytes <= gguf_file_size(f));
                volatile unsigned char last = ((const unsigned char *)t->data)[t->nbytes - 1];
                (void)last;
            }
            for (int i = 0; i < gguf_n_kv(f); i++) {
                uint64_t n;
                int ki = gguf_get_str_arr(f, gguf_kv_name(f, i), &n);
                for (uint64_t j = 0; ki >= 0 && j < n; j++) {
                    const char *s;
                    size_t sl;
                    assert_int_equal(gguf_str_arr_at(f, ki, j, &s, &sl), 0);
                    if (sl) { volatile char c = s[sl - 1]; (void)c; }
                }
            }
            gguf_close(f);
        } else {
            assert_true(err[0] != '\0');
        }
    }
    assert_true(opened < 600);
    free(bad);
    free(img);
}

/* The weight types: each kern_wtype has traits and a ggml id that maps
 * back to it; widening and narrowing agree with the scalar conversions on
 * unaligned buffers; unknown ids and kern_wtypes are refused. */
static void test_weight_types(void **state)
{
    (void)state;
    static const float x[7] = {0.0f, -1.5f, 3.14159265f, 65504.0f, 1e-6f, -2.5e-8f, 1e30f};
    for (int t = 0; t < KERN_W_COUNT; t++) {
        const kern_wtype_traits *tr = kern_wtype_traits_of((kern_wtype)t);
        assert_non_null(tr);
        assert_true(tr->block >= 1 && tr->block_bytes >= 1);
        kern_wtype back = KERN_W_COUNT;
        uint32_t id = gguf_ggml_type((kern_wtype)t);
        assert_ptr_equal(gguf_wtype(id, &back), tr);
        assert_int_equal(back, t);
        assert_string_equal(gguf_type_name(id), tr->name);
        if (tr->block != 1) continue; /* blocked types: their own round trips */
        unsigned char buf[1 + 7 * 4 + 8];
        float y[7];
        assert_int_equal(kern_wtype_bytes((kern_wtype)t, 7), 7 * (size_t)tr->block_bytes);
        tr->from_f32(x, buf + 1, 7);
        tr->to_f32(buf + 1, y, 7);
        for (int i = 0; i < 7; i++) {
            float want = t == KERN_W_F32 ? x[i] : t == KERN_W_F16 ? kern_f16_to_f32(kern_f32_to_f16(x[i]))
                                                                : kern_bf16_to_f32(kern_f32_to_bf16(x[i]));
            if (memcmp(&want, &y[i], 4)) fail_msg("%s: %g came back as %g, expected %g", tr->name, x[i], y[i], want);
        }
    }
    assert_null(kern_wtype_traits_of(KERN_W_COUNT));
    assert_null(gguf_wtype(2 /* q4_0 */, NULL));
    assert_string_equal(gguf_type_name(2), "unsupported");
    char names[64];
    gguf_wtype_names(names, sizeof names);
    assert_string_equal(names, "f32, f16, bf16");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_llama_cpp_vocab),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_bad_kv),
        cmocka_unit_test(test_bad_tensors),
        cmocka_unit_test(test_truncation_and_corruption),
        cmocka_unit_test(test_weight_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
