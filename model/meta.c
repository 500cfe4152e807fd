/* The GGUF metadata of a loaded model as text, key by key (what
 * `ember info --keys` lists): names, types, values cut to the caller's
 * buffer. */
#include "model/model.h"

#include <stdio.h>
#include <string.h>

static const char *const SCALAR[GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
static const char *const ARRAY[GGUF_TYPE_COUNT] = {
    "array<u8>", "array<i8>", "array<u16>", "array<i16>", "array<u32>", "array<i32>", "array<f32>",
    "array<bool>", "array<string>", "array<array>", "array<u64>", "array<i64>", "array<f64>"};
static const size_t SIZE[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *ember_pooling_name(ember_pooling p)
{
    static const char *const n[] = {"none", "mean", "cls", "last", "rank"};
    return (unsigned)p < sizeof n / sizeof n[0] ? n[p] : "?";
}

int ember_model_meta_count(const ember_model *m) { return m ? gguf_n_kv(m->gguf) : 0; }

/* Text into a fixed buffer: what does not fit is dropped, and the end
 * becomes "..." (cut on a UTF-8 boundary). */
typedef struct { char *out; size_t cap, len; int full; } text;

static void put(text *t, const char *s, size_t n)
{
    if (t->full) return;
    size_t room = t->cap - 1 - t->len;
    if (n > room) { n = room; t->full = 1; }
    memcpy(t->out + t->len, s, n);
    t->len += n;
}

static void finish(text *t)
{
    if (t->full && t->cap >= 4) {
        size_t n = t->len < t->cap - 4 ? t->len : t->cap - 4;
        while (n > 0 && ((unsigned char)t->out[n - 1] & 0xC0) == 0x80) n--; /* continuation bytes */
        if (n > 0 && (unsigned char)t->out[n - 1] >= 0xC0) n--;              /* their lead byte */
        memcpy(t->out + n, "...", 3);
        t->len = n + 3;
    }
    t->out[t->len] = '\0';
}

static void put_string(text *t, const char *s, size_t n)
{
    put(t, "\"", 1);
    for (size_t i = 0; i < n && !t->full; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        if (c == '"' || c == '\\') { e[0] = '\\'; e[1] = (char)c; put(t, e, 2); }
        else if (c == '\n') put(t, "\\n", 2);
        else if (c == '\t') put(t, "\\t", 2);
        else if (c == '\r') put(t, "\\r", 2);
        else if (c < 0x20) { snprintf(e, sizeof e, "\\u%04x", c); put(t, e, 6); }
        else put(t, s + i, 1);
    }
    put(t, "\"", 1);
}

/* one scalar of type ty at p (unaligned) */
static void put_scalar(text *t, uint32_t ty, const unsigned char *p)
{
    char b[64];
    int n = 0;
    switch (ty) {
    case GGUF_TYPE_UINT8: n = snprintf(b, sizeof b, "%u", p[0]); break;
    case GGUF_TYPE_INT8: n = snprintf(b, sizeof b, "%d", (int8_t)p[0]); break;
    case GGUF_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); n = snprintf(b, sizeof b, "%u", v); break; }
    case GGUF_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); n = snprintf(b, sizeof b, "%d", v); break; }
    case GGUF_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); n = snprintf(b, sizeof b, "%u", v); break; }
    case GGUF_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); n = snprintf(b, sizeof b, "%d", v); break; }
    case GGUF_TYPE_UINT64: { uint64_t v; memcpy(&v, p, 8); n = snprintf(b, sizeof b, "%llu", (unsigned long long)v); break; }
    case GGUF_TYPE_INT64: { int64_t v; memcpy(&v, p, 8); n = snprintf(b, sizeof b, "%lld", (long long)v); break; }
    case GGUF_TYPE_FLOAT32: { float v; memcpy(&v, p, 4); n = snprintf(b, sizeof b, "%.9g", (double)v); break; }
    case GGUF_TYPE_FLOAT64: { double v; memcpy(&v, p, 8); n = snprintf(b, sizeof b, "%.17g", v); break; }
    case GGUF_TYPE_BOOL: n = snprintf(b, sizeof b, "%s", p[0] ? "true" : "false"); break;
    case GGUF_TYPE_STRING: { uint64_t len; memcpy(&len, p, 8); put_string(t, (const char *)p + 8, (size_t)len); return; }
    default: n = snprintf(b, sizeof b, "?");
    }
    put(t, b, (size_t)n);
}

ember_status ember_model_meta_at(const ember_model *m, int i, const char **key, const char **type, char *value, size_t cap)
{
    if (key) *key = NULL;
    if (type) *type = NULL;
    if (value && cap) value[0] = '\0';
    if (!m || i < 0 || i >= gguf_n_kv(m->gguf)) return EMBER_ERR_ARG;
    const gguf_file *f = m->gguf;
    uint32_t ty = gguf_kv_type(f, i);
    if (key) *key = gguf_kv_name(f, i);
    /* the reader refused any type beyond the table, and nested arrays */
    if (type) *type = ty == GGUF_TYPE_ARRAY ? ARRAY[gguf_kv_arr_type(f, i)] : SCALAR[ty];
    if (!value || !cap) return EMBER_OK;
    text t = { value, cap, 0, 0 };
    const unsigned char *p = gguf_kv_data(f, i);
    if (ty != GGUF_TYPE_ARRAY) {
        put_scalar(&t, ty, p);
    } else {
        uint32_t et = gguf_kv_arr_type(f, i);
        uint64_t n = gguf_kv_arr_len(f, i);
        char head[48];
        int hl = snprintf(head, sizeof head, "%llu items: [", (unsigned long long)n);
        put(&t, head, (size_t)hl);
        for (uint64_t j = 0; j < n && !t.full; j++) {
            if (j) put(&t, ", ", 2);
            if (et == GGUF_TYPE_STRING) {
                const char *s;
                size_t len;
                if (gguf_str_arr_at(f, i, j, &s, &len) == 0) put_string(&t, s, len);
            } else {
                put_scalar(&t, et, p + j * SIZE[et]);
            }
        }
        put(&t, "]", 1);
    }
    finish(&t);
    return EMBER_OK;
}
