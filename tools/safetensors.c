/* safetensors reader: 8-byte little-endian header length, a JSON header,
 * then the raw tensor bytes.  Everything in the header is checked. */
#include "tools/safetensors.h"
#include "tools/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER (256u << 20)

typedef struct { void *map; size_t size; } st_map;

struct safetensors {
    st_map *maps;
    size_t n_maps;
    st_tensor *t;
    size_t n, cap;
};

static const struct { const char *name; unsigned size; } dtypes[ST_DTYPE_COUNT] = {
    [ST_F32] = {"F32", 4}, [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2}, [ST_F64] = {"F64", 8},
    [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4}, [ST_I16] = {"I16", 2}, [ST_I8] = {"I8", 1},
    [ST_U8] = {"U8", 1}, [ST_BOOL] = {"BOOL", 1}, [ST_U16] = {"U16", 2}, [ST_U32] = {"U32", 4},
    [ST_U64] = {"U64", 8}, [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *st_dtype_name(int d) { return d >= 0 && d < ST_DTYPE_COUNT ? dtypes[d].name : "?"; }

void st_close(safetensors *st)
{
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->t[i].name);
    for (size_t i = 0; i < st->n_maps; i++) munmap(st->maps[i].map, st->maps[i].size);
    free(st->maps);
    free(st->t);
    free(st);
}

size_t st_n_tensors(const safetensors *st) { return st->n; }
const st_tensor *st_tensor_at(const safetensors *st, size_t i) { return i < st->n ? &st->t[i] : NULL; }

const st_tensor *st_find(const safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0) return &st->t[i];
    return NULL;
}

/* exact non-negative integer from a JSON number, or -1 */
static int json_u64(const json_value *v, uint64_t *out)
{
    if (json_type_of(v) != JSON_NUMBER) return -1;
    double d = json_number(v);
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int by_data(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    return (const char *)x->data < (const char *)y->data ? -1 : (const char *)x->data > (const char *)y->data;
}

/* Parses one file's header and appends its tensors. */
static int add_file(safetensors *st, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) { close(fd); snprintf(err, errlen, "%s: not a regular file", path); return -1; }
    uint64_t fsize = (uint64_t)sb.st_size;
    if (fsize < 8) { close(fd); snprintf(err, errlen, "%s: truncated safetensors file (%llu bytes)", path, (unsigned long long)fsize); return -1; }
    void *m = mmap(NULL, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) { snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno)); return -1; }
    st_map *nm = realloc(st->maps, (st->n_maps + 1) * sizeof *nm);
    if (!nm) { munmap(m, (size_t)fsize); snprintf(err, errlen, "out of memory"); return -1; }
    st->maps = nm;
    st->maps[st->n_maps++] = (st_map){ m, (size_t)fsize };

    const unsigned char *base = m;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | base[i];
    if (hlen > fsize - 8 || hlen > ST_MAX_HEADER) {
        snprintf(err, errlen, "%s: corrupt safetensors header: header length %llu exceeds the file (%llu bytes)", path,
                 (unsigned long long)hlen, (unsigned long long)fsize);
        return -1;
    }
    char jerr[256];
    json_value *h = json_parse((const char *)base + 8, (size_t)hlen, jerr, sizeof jerr);
    if (!h) { snprintf(err, errlen, "%s: corrupt safetensors header: %s", path, jerr); return -1; }
    if (json_type_of(h) != JSON_OBJECT) { json_free(h); snprintf(err, errlen, "%s: corrupt safetensors header: not a JSON object", path); return -1; }
    const unsigned char *data = base + 8 + hlen;
    uint64_t dsize = fsize - 8 - hlen;
    size_t first = st->n;
    int rc = -1;
    for (size_t i = 0; i < json_object_len(h); i++) {
        size_t klen;
        const char *key = json_object_key_at(h, i, &klen);
        const json_value *e = json_object_value_at(h, i);
        if (strcmp(key, "__metadata__") == 0) continue;
        if (klen == 0 || strlen(key) != klen) { snprintf(err, errlen, "%s: corrupt safetensors header: bad tensor name", path); goto out; }
        if (json_type_of(e) != JSON_OBJECT) { snprintf(err, errlen, "%s: corrupt safetensors header: tensor %s is not an object", path, key); goto out; }
        const char *ds = json_string(json_object_get(e, "dtype"), NULL);
        const json_value *shape = json_object_get(e, "shape"), *offs = json_object_get(e, "data_offsets");
        if (!ds || json_type_of(shape) != JSON_ARRAY || json_type_of(offs) != JSON_ARRAY || json_array_len(offs) != 2) {
            snprintf(err, errlen, "%s: corrupt safetensors header: tensor %s needs dtype, shape and data_offsets [begin, end]", path, key);
            goto out;
        }
        int dt = -1;
        for (int d = 0; d < ST_DTYPE_COUNT; d++)
            if (strcmp(ds, dtypes[d].name) == 0) dt = d;
        if (dt < 0) { snprintf(err, errlen, "%s: tensor %s has unknown dtype %s", path, key, ds); goto out; }
        if (json_array_len(shape) > ST_MAX_DIMS) { snprintf(err, errlen, "%s: tensor %s has %zu dimensions (max %d)", path, key, json_array_len(shape), ST_MAX_DIMS); goto out; }
        st_tensor t = {0};
        t.dtype = dt;
        t.n_dims = (int)json_array_len(shape);
        t.numel = 1;
        for (int d = 0; d < t.n_dims; d++) {
            if (json_u64(json_array_at(shape, (size_t)d), &t.shape[d])) {
                snprintf(err, errlen, "%s: corrupt safetensors header: tensor %s: shape entry %d is not a non-negative integer", path, key, d);
                goto out;
            }
            if (t.shape[d] && t.numel > UINT64_MAX / t.shape[d]) { snprintf(err, errlen, "%s: tensor %s: shape overflows", path, key); goto out; }
            t.numel *= t.shape[d];
        }
        uint64_t b, en;
        if (json_u64(json_array_at(offs, 0), &b) || json_u64(json_array_at(offs, 1), &en) || b > en) {
            snprintf(err, errlen, "%s: corrupt safetensors header: tensor %s has bad data_offsets", path, key);
            goto out;
        }
        if (en > dsize) {
            snprintf(err, errlen, "%s: corrupt safetensors header: tensor %s data [%llu, %llu) is outside the %llu-byte data section",
                     path, key, (unsigned long long)b, (unsigned long long)en, (unsigned long long)dsize);
            goto out;
        }
        if (t.numel > UINT64_MAX / dtypes[dt].size || en - b != t.numel * dtypes[dt].size) {
            snprintf(err, errlen, "%s: corrupt safetensors header: tensor %s has %llu bytes, shape x %s needs %llu", path, key,
                     (unsigned long long)(en - b), ds, (unsigned long long)(t.numel * dtypes[dt].size));
            goto out;
        }
        t.nbytes = en - b;
        t.data = data + b;
        if (st_find(st, key)) { snprintf(err, errlen, "%s: duplicate tensor %s", path, key); goto out; }
        t.name = strdup(key);
        if (!t.name) { snprintf(err, errlen, "out of memory"); goto out; }
        if (st->n == st->cap) {
            size_t nc = st->cap ? st->cap * 2 : 64;
            st_tensor *nt = realloc(st->t, nc * sizeof *nt);
            if (!nt) { free(t.name); snprintf(err, errlen, "out of memory"); goto out; }
            st->t = nt;
            st->cap = nc;
        }
        st->t[st->n++] = t;
    }
    /* overlapping byte ranges mean a corrupt (or malicious) file */
    if (st->n - first > 1) {
        size_t k = st->n - first;
        const st_tensor **ord = malloc(k * sizeof *ord);
        if (!ord) { snprintf(err, errlen, "out of memory"); goto out; }
        for (size_t i = 0; i < k; i++) ord[i] = &st->t[first + i];
        qsort(ord, k, sizeof *ord, by_data);
        for (size_t i = 1; i < k; i++)
            if ((const char *)ord[i - 1]->data + ord[i - 1]->nbytes > (const char *)ord[i]->data) {
                snprintf(err, errlen, "%s: corrupt safetensors header: tensors %s and %s overlap", path, ord[i - 1]->name, ord[i]->name);
                free(ord);
                goto out;
            }
        free(ord);
    }
    rc = 0;
out:
    json_free(h);
    return rc;
}

safetensors *st_open_file(const char *path, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    safetensors *st = calloc(1, sizeof *st);
    if (!st) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (add_file(st, path, err, errlen)) { st_close(st); return NULL; }
    return st;
}

safetensors *st_open_dir(const char *dir, char *err, size_t errlen)
{
    char tmp[256], path[4096];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (access(path, F_OK) != 0) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (access(path, F_OK) != 0) {
            snprintf(err, errlen, "%s: no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are supported)", dir);
            return NULL;
        }
        return st_open_file(path, err, errlen);
    }
    json_value *idx = json_parse_file(path, err, errlen);
    if (!idx) return NULL;
    const json_value *wm = json_object_get(idx, "weight_map");
    if (json_type_of(wm) != JSON_OBJECT || json_object_len(wm) == 0) {
        snprintf(err, errlen, "%s: no weight_map object", path);
        json_free(idx);
        return NULL;
    }
    safetensors *st = calloc(1, sizeof *st);
    if (!st) { json_free(idx); snprintf(err, errlen, "out of memory"); return NULL; }
    size_t n = json_object_len(wm);
    /* open each distinct shard once, in order of first mention */
    for (size_t i = 0; i < n; i++) {
        const char *shard = json_string(json_object_value_at(wm, i), NULL);
        size_t klen;
        const char *tname = json_object_key_at(wm, i, &klen);
        if (!shard || !*shard || strchr(shard, '/') || strcmp(shard, "..") == 0) {
            snprintf(err, errlen, "%s: weight_map entry %s has a bad shard file name", path, tname);
            goto bad;
        }
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(json_string(json_object_value_at(wm, j), NULL), shard) == 0;
        if (seen) continue;
        char sp[4096];
        snprintf(sp, sizeof sp, "%s/%s", dir, shard);
        if (add_file(st, sp, err, errlen)) goto bad;
    }
    for (size_t i = 0; i < n; i++) {
        const char *tname = json_object_key_at(wm, i, NULL);
        if (!st_find(st, tname)) {
            snprintf(err, errlen, "%s: tensor %s is listed in weight_map but missing from shard %s", path, tname,
                     json_string(json_object_value_at(wm, i), NULL));
            goto bad;
        }
    }
    json_free(idx);
    return st;
bad:
    json_free(idx);
    st_close(st);
    return NULL;
}
