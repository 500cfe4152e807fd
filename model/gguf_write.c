/* GGUF v3 writer: collect keys and tensors, then write header, infos and
 * aligned data to a new temporary beside path, fsync, rename
 * (sys/atomic_file.c) — never a half file under path. */
#include "model/gguf.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *key; uint32_t type; unsigned char *val; size_t len; } wkv;
typedef struct { char *name; uint32_t type, n_dims; uint64_t ne[GGUF_MAX_DIMS]; const void *data; void *owned; uint64_t nbytes; } wtensor;

struct gguf_writer {
    wkv *kv; size_t n_kv, cap_kv;
    wtensor *t; size_t n_t, cap_t;
};

/* a growable byte buffer */
typedef struct { unsigned char *p; size_t len, cap; int oom; } buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->oom || n == 0) return;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n) nc *= 2;
        unsigned char *np = realloc(b->p, nc);
        if (!np) { b->oom = 1; return; }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(buf *b, const char *s, size_t n) { put_u64(b, n); put(b, s, n); }

gguf_writer *gguf_writer_new(void) { return calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) { free(w->kv[i].key); free(w->kv[i].val); }
    for (size_t i = 0; i < w->n_t; i++) { free(w->t[i].name); free(w->t[i].owned); }
    free(w->kv);
    free(w->t);
    free(w);
}

static int add_kv(gguf_writer *w, const char *key, uint32_t type, buf *val)
{
    if (val->oom) { free(val->p); return -1; }
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0) { free(val->p); return -1; }
    if (w->n_kv == w->cap_kv) {
        size_t nc = w->cap_kv ? 2 * w->cap_kv : 32;
        wkv *n = realloc(w->kv, nc * sizeof *n);
        if (!n) { free(val->p); return -1; }
        w->kv = n;
        w->cap_kv = nc;
    }
    char *k = strdup(key);
    if (!k) { free(val->p); return -1; }
    w->kv[w->n_kv++] = (wkv){ k, type, val->p, val->len };
    return 0;
}

int gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v) { buf b = {0}; put_u32(&b, v); return add_kv(w, key, GGUF_TYPE_UINT32, &b); }
int gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v) { buf b = {0}; put(&b, &v, 4); return add_kv(w, key, GGUF_TYPE_INT32, &b); }
int gguf_writer_set_f32(gguf_writer *w, const char *key, float v) { buf b = {0}; put(&b, &v, 4); return add_kv(w, key, GGUF_TYPE_FLOAT32, &b); }
int gguf_writer_set_bool(gguf_writer *w, const char *key, int v) { buf b = {0}; unsigned char c = v != 0; put(&b, &c, 1); return add_kv(w, key, GGUF_TYPE_BOOL, &b); }
int gguf_writer_set_str(gguf_writer *w, const char *key, const char *s, size_t len) { buf b = {0}; put_str(&b, s, len); return add_kv(w, key, GGUF_TYPE_STRING, &b); }

static const uint32_t sz[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

int gguf_writer_set_val(gguf_writer *w, const char *key, uint32_t type, const void *v)
{
    if (type >= GGUF_TYPE_COUNT || sz[type] == 0) return -1;
    buf b = {0};
    put(&b, v, sz[type]);
    return add_kv(w, key, type, &b);
}

int gguf_writer_set_arr(gguf_writer *w, const char *key, uint32_t et, const void *data, uint64_t n)
{
    if (et >= GGUF_TYPE_COUNT || sz[et] == 0 || n > SIZE_MAX / 8) return -1;
    buf b = {0};
    put_u32(&b, et);
    put_u64(&b, n);
    put(&b, data, (size_t)(n * sz[et]));
    return add_kv(w, key, GGUF_TYPE_ARRAY, &b);
}

int gguf_writer_set_str_arr(gguf_writer *w, const char *key, const char *const *s, const size_t *lens, uint64_t n)
{
    buf b = {0};
    put_u32(&b, GGUF_TYPE_STRING);
    put_u64(&b, n);
    for (uint64_t i = 0; i < n; i++) put_str(&b, s[i], lens ? lens[i] : strlen(s[i]));
    return add_kv(w, key, GGUF_TYPE_ARRAY, &b);
}

int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                           const uint64_t *ne, const void *data, int own)
{
    const kern_wtype_traits *tr = gguf_wtype(type, NULL);
    if (!tr || n_dims < 1 || n_dims > GGUF_MAX_DIMS || ne[0] % (uint64_t)tr->block) return -1;
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0) return -1;
    if (w->n_t == w->cap_t) {
        size_t nc = w->cap_t ? 2 * w->cap_t : 64;
        wtensor *n = realloc(w->t, nc * sizeof *n);
        if (!n) return -1;
        w->t = n;
        w->cap_t = nc;
    }
    /* counted in blocks (a row holds whole ones), their bytes at most SIZE_MAX / 2 */
    wtensor t = { strdup(name), type, n_dims, {1, 1, 1, 1}, data, NULL, (uint64_t)tr->block_bytes };
    if (!t.name) return -1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t k = d == 0 ? ne[0] / (uint64_t)tr->block : ne[d];
        if (ne[d] == 0 || t.nbytes > (uint64_t)SIZE_MAX / 2 / k) { free(t.name); return -1; }
        t.ne[d] = ne[d];
        t.nbytes *= k;
    }
    if (own) {
        t.owned = malloc(t.nbytes ? t.nbytes : 1);
        if (!t.owned) { free(t.name); return -1; }
        memcpy(t.owned, data, t.nbytes);
        t.data = t.owned;
    }
    w->t[w->n_t++] = t;
    return 0;
}

static uint64_t align_up(uint64_t x) { return (x + GGUF_DEFAULT_ALIGNMENT - 1) / GGUF_DEFAULT_ALIGNMENT * GGUF_DEFAULT_ALIGNMENT; }

/* Header and tensor infos, padded to the data section. */
static int build_header(const gguf_writer *w, buf *h)
{
    put(h, "GGUF", 4);
    put_u32(h, 3);
    put_u64(h, w->n_t);
    put_u64(h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(h, w->kv[i].key, strlen(w->kv[i].key));
        put_u32(h, w->kv[i].type);
        put(h, w->kv[i].val, w->kv[i].len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        put_str(h, w->t[i].name, strlen(w->t[i].name));
        put_u32(h, w->t[i].n_dims);
        for (uint32_t d = 0; d < w->t[i].n_dims; d++) put_u64(h, w->t[i].ne[d]);
        put_u32(h, w->t[i].type);
        put_u64(h, off);
        off = align_up(off + w->t[i].nbytes);
    }
    static const unsigned char zero[GGUF_DEFAULT_ALIGNMENT];
    if (w->n_t) put(h, zero, (size_t)(align_up(h->len) - h->len));
    return h->oom ? -1 : 0;
}

int gguf_writer_to_buffer(gguf_writer *w, unsigned char **out, size_t *len, char *err, size_t errlen)
{
    buf b = {0};
    static const unsigned char zero[GGUF_DEFAULT_ALIGNMENT];
    if (build_header(w, &b) != 0) { free(b.p); snprintf(err, errlen, "out of memory"); return -1; }
    for (size_t i = 0; i < w->n_t; i++) {
        put(&b, w->t[i].data, (size_t)w->t[i].nbytes);
        if (i + 1 < w->n_t) put(&b, zero, (size_t)(align_up(w->t[i].nbytes) - w->t[i].nbytes));
    }
    if (b.oom) { free(b.p); snprintf(err, errlen, "out of memory"); return -1; }
    *out = b.p;
    *len = b.len;
    return 0;
}

int gguf_writer_write(gguf_writer *w, const char *path, char *err, size_t errlen)
{
    buf h = {0};
    if (build_header(w, &h) != 0) { free(h.p); snprintf(err, errlen, "out of memory"); return -1; }
    sys_atomic_file f;
    if (sys_atomic_begin(&f, path, err, errlen) != 0) { free(h.p); return -1; }
    static const unsigned char zero[GGUF_DEFAULT_ALIGNMENT];
    int bad = sys_atomic_write(&f, h.p, h.len);
    free(h.p);
    for (size_t i = 0; i < w->n_t && !bad; i++) {
        bad = sys_atomic_write(&f, w->t[i].data, (size_t)w->t[i].nbytes);
        if (!bad && i + 1 < w->n_t) bad = sys_atomic_write(&f, zero, (size_t)(align_up(w->t[i].nbytes) - w->t[i].nbytes));
    }
    return sys_atomic_commit(&f, bad, err, errlen);
}
