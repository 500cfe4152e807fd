/* GGUF reader: mmap the file, walk the header with a bounds-checked cursor,
 * validate everything, then hand out views into the mapping. */
#include "model/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *name;
    uint32_t type;
    const unsigned char *val; /* value bytes in the mapping */
    uint32_t arr_type;
    uint64_t arr_n;
    const unsigned char *arr_data;
    uint64_t *str_off;        /* string arrays: offset of each element from arr_data */
} gguf_kv;

/* open-addressing name -> index table (slots hold index + 1) */
typedef struct { uint32_t *slot; uint64_t mask; } name_index;

struct gguf_file {
    name_index kv_idx, t_idx;
    const unsigned char *map;
    uint64_t size;
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    uint64_t alignment, data_start;
};

typedef struct {
    const unsigned char *base, *p, *end;
    char *err;
    size_t errlen;
} cursor;

static int fail(cursor *c, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err) snprintf(c->err, c->errlen, "%s (at byte %llu)", msg, (unsigned long long)(c->p - c->base));
    return -1;
}

static int need(cursor *c, uint64_t n, const char *what)
{
    if ((uint64_t)(c->end - c->p) < n)
        return fail(c, "file truncated: %s needs %llu bytes, %llu left", what, (unsigned long long)n,
                    (unsigned long long)(c->end - c->p));
    return 0;
}

static int rd_u32(cursor *c, uint32_t *v, const char *what)
{
    if (need(c, 4, what)) return -1;
    memcpy(v, c->p, 4);
    c->p += 4;
    return 0;
}

static int rd_u64(cursor *c, uint64_t *v, const char *what)
{
    if (need(c, 8, what)) return -1;
    memcpy(v, c->p, 8);
    c->p += 8;
    return 0;
}

static int rd_str(cursor *c, const unsigned char **s, uint64_t *len, const char *what)
{
    if (rd_u64(c, len, what)) return -1;
    if (*len > (uint64_t)(c->end - c->p))
        return fail(c, "%s: string length %llu runs past the end of the file", what, (unsigned long long)*len);
    *s = c->p;
    c->p += *len;
    return 0;
}

static const uint32_t scalar_size[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static int skip_value(cursor *c, uint32_t type, gguf_kv *kv, const char *key)
{
    if (type >= GGUF_TYPE_COUNT) return fail(c, "key %s: unknown value type %u", key, type);
    if (type == GGUF_TYPE_STRING) {
        const unsigned char *s;
        uint64_t len;
        return rd_str(c, &s, &len, key);
    }
    if (type != GGUF_TYPE_ARRAY) return need(c, scalar_size[type], key) ? -1 : (c->p += scalar_size[type], 0);
    uint32_t et;
    uint64_t n;
    if (rd_u32(c, &et, key) || rd_u64(c, &n, key)) return -1;
    if (et >= GGUF_TYPE_COUNT) return fail(c, "key %s: unknown array element type %u", key, et);
    if (et == GGUF_TYPE_ARRAY) return fail(c, "key %s: nested arrays are not supported", key);
    kv->arr_type = et;
    kv->arr_n = n;
    kv->arr_data = c->p;
    if (et != GGUF_TYPE_STRING) {
        uint64_t es = scalar_size[et];
        if (n > (uint64_t)(c->end - c->p) / es)
            return fail(c, "key %s: array of %llu elements of %llu bytes runs past the end of the file", key,
                        (unsigned long long)n, (unsigned long long)es);
        c->p += n * es;
        return 0;
    }
    /* strings need at least 8 bytes each: bound n before allocating the index */
    if (n > (uint64_t)(c->end - c->p) / 8)
        return fail(c, "key %s: array of %llu strings cannot fit in the file", key, (unsigned long long)n);
    kv->str_off = malloc((n ? n : 1) * sizeof(uint64_t));
    if (!kv->str_off) return fail(c, "out of memory indexing key %s", key);
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *s;
        uint64_t len;
        kv->str_off[i] = (uint64_t)(c->p - kv->arr_data);
        if (rd_str(c, &s, &len, key)) return -1;
    }
    return 0;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int index_init(name_index *ix, uint64_t n)
{
    uint64_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    ix->slot = calloc(cap, sizeof *ix->slot);
    ix->mask = cap - 1;
    return ix->slot ? 0 : -1;
}

/* Index of name, or -1; names[i] is the i-th name (stride bytes apart). */
static int64_t index_find(const name_index *ix, const char *name, const void *base, size_t stride)
{
    if (!ix->slot) return -1;
    for (uint64_t h = name_hash(name) & ix->mask;; h = (h + 1) & ix->mask) {
        uint32_t s = ix->slot[h];
        if (!s) return -1;
        const char *cand = *(const char *const *)((const char *)base + (size_t)(s - 1) * stride);
        if (strcmp(cand, name) == 0) return (int64_t)s - 1;
    }
}

static void index_add(name_index *ix, const char *name, uint32_t i)
{
    uint64_t h = name_hash(name) & ix->mask;
    while (ix->slot[h]) h = (h + 1) & ix->mask;
    ix->slot[h] = i + 1;
}

static int find_kv(const gguf_file *f, const char *key)
{
    return (int)index_find(&f->kv_idx, key, f->kv, sizeof *f->kv);
}

static int by_offset(const void *a, const void *b)
{
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    return x->data < y->data ? -1 : x->data > y->data;
}

static int parse(gguf_file *f, char *err, size_t errlen)
{
    cursor c = { f->map, f->map, f->map + f->size, err, errlen };
    uint32_t magic;
    if (rd_u32(&c, &magic, "magic")) return -1;
    if (memcmp(f->map, "GGUF", 4) != 0) {
        c.p = c.base;
        if (f->size >= 8 && memcmp(f->map, "EMBERIDX", 8) == 0)
            return fail(&c, "bad magic: an ember index file (EMBERIDX), not a GGUF model");
        return fail(&c, "bad magic: not a GGUF file (first bytes %02x %02x %02x %02x)", f->map[0], f->map[1], f->map[2], f->map[3]);
    }
    if (rd_u32(&c, &f->version, "version")) return -1;
    if (f->version == 0x02000000u || f->version == 0x03000000u)
        return fail(&c, "unsupported GGUF version %u: a big-endian file (ember reads little-endian versions 2 and 3)", f->version);
    if (f->version != 2 && f->version != 3) return fail(&c, "unsupported GGUF version %u (ember reads 2 and 3)", f->version);
    if (rd_u64(&c, &f->n_tensors, "tensor count") || rd_u64(&c, &f->n_kv, "key count")) return -1;
    /* the smallest key-value takes 13 bytes, the smallest tensor info 32 */
    if (f->n_kv > f->size / 13) return fail(&c, "absurd key count %llu for a %llu-byte file", (unsigned long long)f->n_kv, (unsigned long long)f->size);
    if (f->n_tensors > f->size / 32) return fail(&c, "absurd tensor count %llu for a %llu-byte file", (unsigned long long)f->n_tensors, (unsigned long long)f->size);
    if (f->n_kv > INT32_MAX || f->n_tensors > INT32_MAX) return fail(&c, "absurd key or tensor count");
    f->kv = calloc(f->n_kv ? f->n_kv : 1, sizeof *f->kv);
    f->tensors = calloc(f->n_tensors ? f->n_tensors : 1, sizeof *f->tensors);
    if (!f->kv || !f->tensors || index_init(&f->kv_idx, f->n_kv) || index_init(&f->t_idx, f->n_tensors))
        return fail(&c, "out of memory");

    for (uint64_t i = 0; i < f->n_kv; i++) {
        const unsigned char *k = NULL;
        uint64_t klen = 0;
        gguf_kv *kv = &f->kv[i];
        if (rd_str(&c, &k, &klen, "key name")) return -1;
        if (klen == 0 || klen > 65535) return fail(&c, "key %llu has a name of %llu bytes", (unsigned long long)i, (unsigned long long)klen);
        if (memchr(k, 0, klen)) return fail(&c, "key %llu has a NUL byte in its name", (unsigned long long)i);
        kv->name = malloc(klen + 1);
        if (!kv->name) return fail(&c, "out of memory");
        memcpy(kv->name, k, klen);
        kv->name[klen] = '\0';
        if (find_kv(f, kv->name) >= 0) return fail(&c, "duplicate key %s", kv->name);
        index_add(&f->kv_idx, kv->name, (uint32_t)i);
        if (rd_u32(&c, &kv->type, kv->name)) return -1;
        kv->val = c.p;
        if (skip_value(&c, kv->type, kv, kv->name)) return -1;
    }

    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    int ai = find_kv(f, "general.alignment");
    if (ai >= 0) {
        uint32_t a;
        if (gguf_get_u32(f, "general.alignment", &a) != 0 || a == 0 || (a & (a - 1)) != 0 || a > (1u << 20))
            return fail(&c, "general.alignment must be a power of two up to 2^20");
        f->alignment = a;
    }

    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        const unsigned char *nm = NULL;
        uint64_t nlen, off;
        if (rd_str(&c, &nm, &nlen, "tensor name")) return -1;
        if (nlen == 0 || nlen > 1024 || memchr(nm, 0, nlen))
            return fail(&c, "tensor %llu has an invalid name (%llu bytes)", (unsigned long long)i, (unsigned long long)nlen);
        char *name = malloc(nlen + 1);
        if (!name) return fail(&c, "out of memory");
        memcpy(name, nm, nlen);
        name[nlen] = '\0';
        t->name = name;
        if (index_find(&f->t_idx, name, f->tensors, sizeof *f->tensors) >= 0) return fail(&c, "duplicate tensor %s", name);
        index_add(&f->t_idx, name, (uint32_t)i);
        if (rd_u32(&c, &t->n_dims, name)) return -1;
        if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) return fail(&c, "tensor %s has %u dimensions (1..4 allowed)", name, t->n_dims);
        uint64_t count = 1;
        for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            if (rd_u64(&c, &t->ne[d], name)) return -1;
            if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT32_MAX) return fail(&c, "tensor %s: dimension %u is %llu", name, d, (unsigned long long)t->ne[d]);
            if (count > UINT64_MAX / t->ne[d]) return fail(&c, "tensor %s: element count overflows", name);
            count *= t->ne[d];
        }
        if (rd_u32(&c, &t->type, name) || rd_u64(&c, &off, name)) return -1;
        const kern_wtype_traits *tr = gguf_wtype(t->type, NULL);
        if (!tr) {
            char names[64];
            gguf_wtype_names(names, sizeof names);
            return fail(&c, "tensor %s has ggml type %u, which ember does not read (%s)", name, t->type, names);
        }
        if (t->ne[0] % (uint64_t)tr->block)
            return fail(&c, "tensor %s: rows of %llu elements are not whole %s blocks of %d", name,
                        (unsigned long long)t->ne[0], tr->name, tr->block);
        uint64_t blocks = count / (uint64_t)tr->block;
        if (blocks > f->size / (uint64_t)tr->block_bytes) return fail(&c, "tensor %s: %llu elements cannot fit in the file", name, (unsigned long long)count);
        t->nbytes = blocks * (uint64_t)tr->block_bytes;
        if (off % f->alignment) return fail(&c, "tensor %s: offset %llu is not aligned to %llu", name, (unsigned long long)off, (unsigned long long)f->alignment);
        t->data = (const void *)(uintptr_t)off; /* resolved below */
    }

    uint64_t pos = (uint64_t)(c.p - c.base);
    f->data_start = (pos + f->alignment - 1) / f->alignment * f->alignment;
    if (f->n_tensors && f->data_start > f->size) return fail(&c, "file truncated before the tensor data");
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        uint64_t off = (uint64_t)(uintptr_t)t->data;
        if (off > f->size - f->data_start || t->nbytes > f->size - f->data_start - off) {
            c.p = c.end;
            return fail(&c, "tensor %s: data [%llu, +%llu) lies outside the file (data section has %llu bytes)", t->name,
                        (unsigned long long)off, (unsigned long long)t->nbytes, (unsigned long long)(f->size - f->data_start));
        }
        /* the kernels load whole elements: the map is page-aligned, so an
         * alignment below the element size (general.alignment 2 with f32)
         * could leave a tensor's elements straddling their natural bounds
         * (a block's natural bound: the largest power of two dividing its
         * bytes, its element's size for the float types) */
        const kern_wtype_traits *tr = gguf_wtype(t->type, NULL);
        uint64_t es = (uint64_t)(tr->block_bytes & -tr->block_bytes);
        if ((f->data_start + off) % es)
            return fail(&c, "tensor %s: data at byte %llu is not aligned to its %llu-byte elements", t->name,
                        (unsigned long long)(f->data_start + off), (unsigned long long)es);
        t->data = f->map + f->data_start + off;
    }
    if (f->n_tensors > 1) {
        const gguf_tensor **order = malloc(f->n_tensors * sizeof *order);
        if (!order) return fail(&c, "out of memory");
        for (uint64_t i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
        qsort(order, f->n_tensors, sizeof *order, by_offset);
        for (uint64_t i = 1; i < f->n_tensors; i++)
            if ((const unsigned char *)order[i - 1]->data + order[i - 1]->nbytes > (const unsigned char *)order[i]->data) {
                int r = fail(&c, "tensors %s and %s overlap", order[i - 1]->name, order[i]->name);
                free(order);
                return r;
            }
        free(order);
    }
    return 0;
}

gguf_file *gguf_open(const char *path, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errlen, "cannot open: %s", strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        return NULL;
    }
    if (st.st_size < 24) {
        snprintf(err, errlen, "file truncated: %lld bytes is smaller than a GGUF header", (long long)st.st_size);
        close(fd);
        return NULL;
    }
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) { close(fd); snprintf(err, errlen, "out of memory"); return NULL; }
    f->size = (uint64_t)st.st_size;
    void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) { snprintf(err, errlen, "mmap failed: %s", strerror(errno)); free(f); return NULL; }
    f->map = m;
    if (parse(f, err, errlen) != 0) { gguf_close(f); return NULL; }
    return f;
}

void gguf_close(gguf_file *f)
{
    if (!f) return;
    if (f->kv)
        for (uint64_t i = 0; i < f->n_kv; i++) { free(f->kv[i].name); free(f->kv[i].str_off); }
    if (f->tensors)
        for (uint64_t i = 0; i < f->n_tensors; i++) free((void *)f->tensors[i].name);
    free(f->kv);
    free(f->tensors);
    free(f->kv_idx.slot);
    free(f->t_idx.slot);
    if (f->map) munmap((void *)f->map, (size_t)f->size);
    free(f);
}

uint64_t gguf_file_size(const gguf_file *f) { return f->size; }
uint32_t gguf_version(const gguf_file *f) { return f->version; }

int gguf_get_uint(const gguf_file *f, const char *key, uint64_t *v)
{
    int i = find_kv(f, key);
    if (i < 0) return -1;
    const unsigned char *p = f->kv[i].val;
    uint64_t u = 0;
    int64_t s = 0;
    int is_signed = 0;
    switch (f->kv[i].type) {
    case GGUF_TYPE_UINT8: u = p[0]; break;
    case GGUF_TYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); u = x; break; }
    case GGUF_TYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); u = x; break; }
    case GGUF_TYPE_UINT64: memcpy(&u, p, 8); break;
    case GGUF_TYPE_INT8: s = (int8_t)p[0]; is_signed = 1; break;
    case GGUF_TYPE_INT16: { int16_t x; memcpy(&x, p, 2); s = x; is_signed = 1; break; }
    case GGUF_TYPE_INT32: { int32_t x; memcpy(&x, p, 4); s = x; is_signed = 1; break; }
    case GGUF_TYPE_INT64: memcpy(&s, p, 8); is_signed = 1; break;
    default: return -2;
    }
    if (is_signed) { if (s < 0) return -2; u = (uint64_t)s; }
    *v = u;
    return 0;
}

int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *v)
{
    uint64_t u;
    int rc = gguf_get_uint(f, key, &u);
    if (rc != 0) return rc;
    if (u > UINT32_MAX) return -2;
    *v = (uint32_t)u;
    return 0;
}

int gguf_get_f32(const gguf_file *f, const char *key, float *v)
{
    int i = find_kv(f, key);
    if (i < 0) return -1;
    if (f->kv[i].type == GGUF_TYPE_FLOAT32) { memcpy(v, f->kv[i].val, 4); return 0; }
    if (f->kv[i].type == GGUF_TYPE_FLOAT64) { double d; memcpy(&d, f->kv[i].val, 8); *v = (float)d; return 0; }
    return -2;
}

int gguf_get_f64(const gguf_file *f, const char *key, double *v)
{
    int i = find_kv(f, key);
    if (i < 0) return -1;
    if (f->kv[i].type == GGUF_TYPE_FLOAT64) { memcpy(v, f->kv[i].val, 8); return 0; }
    if (f->kv[i].type == GGUF_TYPE_FLOAT32) { float x; memcpy(&x, f->kv[i].val, 4); *v = x; return 0; }
    return -2;
}

int gguf_get_bool(const gguf_file *f, const char *key, int *v)
{
    int i = find_kv(f, key);
    if (i < 0) return -1;
    if (f->kv[i].type != GGUF_TYPE_BOOL) return -2;
    *v = f->kv[i].val[0] != 0;
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, const char **s, size_t *len)
{
    int i = find_kv(f, key);
    if (i < 0) return -1;
    if (f->kv[i].type != GGUF_TYPE_STRING) return -2;
    uint64_t l;
    memcpy(&l, f->kv[i].val, 8);
    *s = (const char *)f->kv[i].val + 8;
    *len = (size_t)l;
    return 0;
}

int gguf_get_arr(const gguf_file *f, const char *key, uint32_t *elem_type, uint64_t *n, const void **data)
{
    int i = find_kv(f, key);
    if (i < 0) return -1;
    if (f->kv[i].type != GGUF_TYPE_ARRAY || f->kv[i].arr_type == GGUF_TYPE_STRING) return -2;
    *elem_type = f->kv[i].arr_type;
    *n = f->kv[i].arr_n;
    *data = f->kv[i].arr_data;
    return 0;
}

int gguf_get_str_arr(const gguf_file *f, const char *key, uint64_t *n)
{
    int i = find_kv(f, key);
    if (i < 0) return -1;
    if (f->kv[i].type != GGUF_TYPE_ARRAY || f->kv[i].arr_type != GGUF_TYPE_STRING) return -2;
    *n = f->kv[i].arr_n;
    return i;
}

int gguf_str_arr_at(const gguf_file *f, int key_index, uint64_t i, const char **s, size_t *len)
{
    if (key_index < 0 || (uint64_t)key_index >= f->n_kv) return -1;
    const gguf_kv *kv = &f->kv[key_index];
    if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING || i >= kv->arr_n) return -1;
    const unsigned char *p = kv->arr_data + kv->str_off[i];
    uint64_t l;
    memcpy(&l, p, 8);
    *s = (const char *)p + 8;
    *len = (size_t)l;
    return 0;
}

int gguf_n_kv(const gguf_file *f) { return (int)f->n_kv; }
const char *gguf_kv_name(const gguf_file *f, int i) { return f->kv[i].name; }
uint32_t gguf_kv_type(const gguf_file *f, int i) { return f->kv[i].type; }
uint32_t gguf_kv_arr_type(const gguf_file *f, int i) { return f->kv[i].arr_type; }
uint64_t gguf_kv_arr_len(const gguf_file *f, int i) { return f->kv[i].arr_n; }
const void *gguf_kv_data(const gguf_file *f, int i)
{
    return f->kv[i].type == GGUF_TYPE_ARRAY ? (const void *)f->kv[i].arr_data : (const void *)f->kv[i].val;
}

const gguf_tensor *gguf_tensor_find(const gguf_file *f, const char *name)
{
    int64_t i = index_find(&f->t_idx, name, f->tensors, sizeof *f->tensors);
    return i < 0 ? NULL : &f->tensors[i];
}

uint64_t gguf_n_tensors(const gguf_file *f) { return f->n_tensors; }
const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i) { return i < f->n_tensors ? &f->tensors[i] : NULL; }
