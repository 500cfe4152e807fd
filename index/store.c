/* The index's storage, below every algorithm: defaults and names, the
 * per-vector arrays and their growth, texts, the id -> slot table, and the
 * copy of a mapped index into memory that every change starts with. */
#include "index/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), IDX_ERR_ARG)

idx_params idx_default_params(void)
{
    idx_params p = { .M = 16, .ef_construction = 200, .seed = 42, .rescore = 0, .nlist = 256, .pq_m = 0, .refine = 0, .pq_bits = 8 };
    return p;
}

idx_search_params idx_default_search_params(void)
{
    idx_search_params s = { .ef_search = 0, .rescore_mult = 4, .nprobe = 16, .refine_factor = 4, .ef_upper = 8 };
    return s;
}

const char *idx_type_name(idx_type t) { return t == IDX_FLAT ? "flat" : t == IDX_HNSW ? "hnsw" : t == IDX_IVFPQ ? "ivfpq" : "?"; }
const char *idx_metric_name(idx_metric m)
{
    return m == IDX_IP ? "ip" : m == IDX_COSINE ? "cosine" : m == IDX_L2 ? "l2" : m == IDX_HAMMING ? "hamming" : "?";
}
const char *idx_vec_name(idx_vec v) { return v == IDX_F32 ? "f32" : v == IDX_I8 ? "int8" : v == IDX_BIN ? "binary" : "?"; }

idx_status idx_parse_names(const char *type, const char *metric, const char *vec, idx_type *t, idx_metric *m,
                           idx_vec *v, char *err, size_t errlen)
{
    if (type) {
        if (!strcmp(type, "flat")) *t = IDX_FLAT;
        else if (!strcmp(type, "hnsw")) *t = IDX_HNSW;
        else if (!strcmp(type, "ivfpq")) *t = IDX_IVFPQ;
        else return ERR("unknown index type '%s' (flat, hnsw, ivfpq)", type);
    }
    if (metric) {
        if (!strcmp(metric, "ip")) *m = IDX_IP;
        else if (!strcmp(metric, "cosine")) *m = IDX_COSINE;
        else if (!strcmp(metric, "l2")) *m = IDX_L2;
        else if (!strcmp(metric, "hamming")) *m = IDX_HAMMING;
        else return ERR("unknown metric '%s' (ip, cosine, l2, hamming)", metric);
    }
    if (vec) {
        if (!strcmp(vec, "f32")) *v = IDX_F32;
        else if (!strcmp(vec, "int8")) *v = IDX_I8;
        else if (!strcmp(vec, "binary")) *v = IDX_BIN;
        else return ERR("unknown vector type '%s' (f32, int8, binary)", vec);
    }
    return 0;
}

int idx_refine_applies(idx_type type, idx_vec vec) { return type == IDX_IVFPQ || (type == IDX_HNSW && vec == IDX_I8); }

/* p (old_bytes of it kept) moved to a 64-byte aligned block of n elements:
 * the AVX-512 distances read whole cache lines from each row, and realloc
 * leaves large blocks 16 bytes off a line.  p is freed only on success. */
static void *grow(void *p, size_t old_bytes, size_t n, size_t elem)
{
    size_t bytes = (n ? n : 1) * elem;
    void *q = NULL;
    if (posix_memalign(&q, 64, bytes) != 0) return NULL;
    if (p) memcpy(q, p, old_bytes < bytes ? old_bytes : bytes);
    free(p);
#ifdef MADV_HUGEPAGE
    /* Searches jump across these arrays at random: 2 MB pages spare the TLB
     * (where transparent huge pages are "madvise" only, a plain malloc gets
     * 4 KB pages, while an index mapped from the page cache may get large
     * folios: measured 35% more HNSW queries/s at 200k x 384).  Advice only:
     * failure changes nothing. */
    if (bytes >= ((size_t)8 << 20)) {
        uintptr_t a = ((uintptr_t)q + ((2u << 20) - 1)) & ~(uintptr_t)((2u << 20) - 1);
        uintptr_t e = ((uintptr_t)q + bytes) & ~(uintptr_t)((2u << 20) - 1);
        if (e > a) (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
    }
#endif
    return q;
}

int idx_reserve(emb_index *x, size_t cap)
{
    if (cap <= x->cap) return 0;
    size_t nc = x->cap ? x->cap : 1024;
    while (nc < cap) nc *= 2;
    void *p;
    /* every array holds cap entries (text_off cap + 1 of its 2 cap, at
     * least the one entry an empty index starts with) */
#define GROW_KEEP(field, elem, kept) do { if (!(p = grow(x->field, kept, nc, elem))) return -1; x->field = p; } while (0)
#define GROW(field, elem) GROW_KEEP(field, elem, x->cap * (size_t)(elem))
    GROW(codes, x->code_bytes);
    GROW(ids, sizeof(int64_t));
    GROW(deleted, 1);
    GROW_KEEP(text_off, sizeof(uint64_t) * 2, (x->cap + 1) * sizeof(uint64_t)); /* (nc + 1) entries fit in 2 nc */
    if (x->vt == IDX_I8 && x->metric == IDX_L2) GROW(norms, sizeof(float));
    if (x->p.rescore) GROW(rescore, (size_t)x->dim);
    if (x->type == IDX_IVFPQ) GROW(list_of, sizeof(uint32_t));
    if (x->p.refine) GROW(refine_vecs, sizeof(float) * (size_t)x->dim);
    if (x->type == IDX_HNSW) {
        GROW(levels, 1);
        GROW(links0, sizeof(uint32_t) * (size_t)(x->M0 + 1));
        GROW(upper, sizeof(uint32_t *));
    }
    x->cap = nc;
    return 0;
}

int idx_text_append(emb_index *x, const char *s, size_t len)
{
    if (x->text_len + len > x->text_cap) {
        size_t nc = x->text_cap ? x->text_cap : 65536;
        while (nc < x->text_len + len) nc *= 2;
        char *p = realloc(x->text, nc);
        if (!p) return -1;
        x->text = p;
        x->text_cap = nc;
    }
    memcpy(x->text + x->text_len, s, len);
    x->text_len += len;
    return 0;
}

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33; k *= 0xff51afd7ed558ccdull; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ull; k ^= k >> 33;
    return k;
}

uint32_t *idx_hash_table(const emb_index *x, size_t n, size_t *cap_out)
{
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h) return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t j = mix((uint64_t)x->ids[i]) & (cap - 1);
        while (h[j]) j = (j + 1) & (cap - 1);
        h[j] = (uint32_t)i + 1;
    }
    *cap_out = cap;
    return h;
}

int idx_hash_build(emb_index *x)
{
    size_t cap;
    uint32_t *h = idx_hash_table(x, x->n, &cap);
    if (!h) return -1;
    free(x->hash);
    x->hash = h;
    x->hash_cap = cap;
    return 0;
}

/* Last live slot holding id (ids may repeat after re-adds), or -1. */
long idx_slot_of(const emb_index *x, int64_t id)
{
    if (!x->hash) return -1;
    long best = -1;
    for (size_t j = mix((uint64_t)id) & (x->hash_cap - 1); x->hash[j]; j = (j + 1) & (x->hash_cap - 1)) {
        uint32_t s = x->hash[j] - 1;
        if (x->ids[s] == id && !x->deleted[s] && (long)s > best) best = (long)s;
    }
    return best;
}

idx_status idx_require_built(const emb_index *x, char *err, size_t errlen)
{
    if (!x->unbuilt) return IDX_OK;
    snprintf(err, errlen, "the index is incomplete: a compact ran out of memory after moving the vectors; "
             "compact again once memory is free (or reopen the file) before using it");
    return IDX_ERR_NOMEM;
}

/* Copies a mapped index into memory so it can change: all or nothing. */
idx_status idx_materialize(emb_index *x, char *err, size_t errlen)
{
    if (!x->map) return IDX_OK;
    size_t n = x->n;
    emb_index c = *x;
    void *own[24]; /* every copy made, freed again if one fails */
    int no = 0, bad = 0;
#define DUP(field, bytes) do { size_t b_ = (bytes); void *p_ = NULL; if (posix_memalign(&p_, 64, b_ + 1) != 0) { p_ = NULL; bad = 1; } else { own[no++] = p_; if (x->field && b_) memcpy(p_, x->field, b_); } c.field = p_; } while (0)
    DUP(codes, n * x->code_bytes);
    DUP(ids, n * 8);
    DUP(deleted, n);
    DUP(text_off, (n + 1) * 8);
    DUP(text, x->text_len);
    c.text_cap = x->text_len;
    if (x->i8_scale) { DUP(i8_scale, (size_t)x->dim * 4); DUP(i8_offset, (size_t)x->dim * 4); }
    if (x->norms) DUP(norms, n * 4);
    if (x->rescore) DUP(rescore, n * (size_t)x->dim);
    if (x->type == IDX_IVFPQ) {
        DUP(centroids, (size_t)x->nlist * x->dim * 4);
        DUP(pq, (size_t)x->pq_m * x->ksub * x->dsub * 4);
        DUP(list_of, n * 4);
    }
    if (x->refine_vecs) DUP(refine_vecs, n * (size_t)x->dim * 4);
#undef DUP
    c.upper = NULL;
    if (x->type == IDX_HNSW && !bad) {
        /* upper lists one allocation a node, as an index built in memory has them */
        c.levels = malloc(n + 1);
        c.links0 = malloc(n * (size_t)(x->M0 + 1) * 4 + 1);
        c.upper = calloc(n ? n : 1, sizeof(uint32_t *));
        bad = !c.levels || !c.links0 || !c.upper;
        for (size_t i = 0; i < n && !bad; i++)
            if (x->levels[i]) {
                size_t b = (size_t)x->levels[i] * (x->M + 1) * 4;
                c.upper[i] = malloc(b);
                if (!c.upper[i]) bad = 1;
                else memcpy(c.upper[i], x->upper[i], b);
            }
        if (bad) {
            for (size_t i = 0; c.upper && i < n; i++) free(c.upper[i]);
            free(c.upper); free(c.levels); free(c.links0);
        } else {
            memcpy(c.levels, x->levels, n);
            memcpy(c.links0, x->links0, n * (size_t)(x->M0 + 1) * 4);
        }
    }
    if (bad) {
        for (int i = 0; i < no; i++) free(own[i]);
        snprintf(err, errlen, "out of memory copying the index into memory to change it (%zu vectors)", n);
        return IDX_ERR_NOMEM;
    }
    munmap(x->map, x->map_len);
    free(x->upper);
    free(x->upper_pool);
    *x = c;
    x->map = NULL;
    x->upper_pool = NULL;
    x->cap = n;
    return IDX_OK;
}
