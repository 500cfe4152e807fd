/* Index storage: vectors in f32, calibrated int8 or sign bits, ids, texts,
 * tombstones, and the distance of a prepared query to a stored vector. */
#include "index/index_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), IDX_ERR_ARG)
#define OOM(...) (snprintf(err, errlen, __VA_ARGS__), IDX_ERR_NOMEM)

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

static size_t code_bytes_of(idx_vec v, int dim)
{
    if (v == 0) return 0;
    return v == IDX_F32 ? (size_t)dim * 4 : v == IDX_I8 ? (size_t)dim : ((size_t)dim + 63) / 64 * 8;
}

emb_index *idx_create(idx_type type, idx_metric metric, idx_vec vec, int dim, const idx_params *p,
                      char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    idx_params d = idx_default_params();
    if (!p) p = &d;
    if (dim < 1 || dim > 65536) { snprintf(err, errlen, "dimension %d out of range (1..65536)", dim); return NULL; }
    if (type != IDX_FLAT && type != IDX_HNSW && type != IDX_IVFPQ) { snprintf(err, errlen, "unknown index type %d", (int)type); return NULL; }
    int pq_m = p->pq_m ? p->pq_m : (dim % 8 == 0 ? dim / 8 : dim);
    if (type == IDX_IVFPQ) {
        if (vec != IDX_F32) { snprintf(err, errlen, "IVF-PQ stores its own codes: use f32 input vectors, not %s", idx_vec_name(vec)); return NULL; }
        if (p->nlist < 1 || p->nlist > 65536) { snprintf(err, errlen, "nlist %d out of range (1..65536)", p->nlist); return NULL; }
        if (pq_m < 1 || pq_m > dim || dim % pq_m != 0 || dim / pq_m > 256) {
            snprintf(err, errlen, "pq_m %d must divide the dimension %d (sub-vectors of at most 256 dims)", pq_m, dim);
            return NULL;
        }
        if (p->pq_bits != 8 && p->pq_bits != 4) { snprintf(err, errlen, "pq_bits %d: PQ codes are 8 or 4 bits", p->pq_bits); return NULL; }
        if (p->pq_bits == 4 && (pq_m % 2 || pq_m > 256)) {
            snprintf(err, errlen, "4-bit PQ needs an even pq_m of at most 256 (two codes a byte, 16-bit sums), got %d", pq_m);
            return NULL;
        }
    }
    if (vec != IDX_F32 && vec != IDX_I8 && vec != IDX_BIN) { snprintf(err, errlen, "unknown vector type %d", (int)vec); return NULL; }
    if ((metric == IDX_HAMMING) != (vec == IDX_BIN)) {
        snprintf(err, errlen, "metric %s does not fit %s vectors (binary vectors use hamming, and only they do)", idx_metric_name(metric), idx_vec_name(vec));
        return NULL;
    }
    if (metric < IDX_IP || metric > IDX_HAMMING) { snprintf(err, errlen, "unknown metric %d", (int)metric); return NULL; }
    if (type == IDX_HNSW && (p->M < 2 || p->M > 128 || p->ef_construction < 1 || p->ef_construction > 100000)) {
        snprintf(err, errlen, "HNSW parameters out of range (M %d in 2..128, ef_construction %d in 1..100000)", p->M, p->ef_construction);
        return NULL;
    }
    if (p->refine && !idx_refine_applies(type, vec)) {
        snprintf(err, errlen, "refine keeps f32 copies to re-rank IVF-PQ or int8 HNSW candidates; a %s %s index %s",
                 idx_vec_name(vec), idx_type_name(type), type == IDX_HNSW ? "is already exact in its distances" : "is exact");
        return NULL;
    }
    emb_index *x = calloc(1, sizeof *x);
    if (!x) { snprintf(err, errlen, "out of memory"); return NULL; }
    x->type = type; x->metric = metric; x->vt = vec; x->dim = dim; x->p = *p;
    x->p.rescore = vec == IDX_BIN && p->rescore;
    x->code_bytes = type == IDX_IVFPQ ? (size_t)pq_m * (size_t)p->pq_bits / 8 : code_bytes_of(vec, dim);
    if (type == IDX_IVFPQ) {
        x->nlist = p->nlist;
        x->pq_m = pq_m;
        x->dsub = dim / pq_m;
        x->p.pq_m = pq_m;
        x->pq_bits = p->pq_bits;
        x->ksub = 1 << p->pq_bits;
        x->centroids = calloc((size_t)x->nlist * dim, sizeof(float));
        x->pq = calloc((size_t)pq_m * x->ksub * x->dsub, sizeof(float));
        x->list_off = calloc((size_t)x->nlist + 1, sizeof(uint32_t));
        if (!x->centroids || !x->pq || !x->list_off) { idx_free(x); snprintf(err, errlen, "out of memory"); return NULL; }
    }
    x->M = p->M; x->M0 = 2 * p->M;
    x->rng = p->seed ? p->seed : 42;
    x->k = kern_ops_get();
    if (vec == IDX_I8 || x->p.rescore) {
        x->i8_scale = calloc((size_t)dim, sizeof(float));
        x->i8_offset = calloc((size_t)dim, sizeof(float));
        if (!x->i8_scale || !x->i8_offset) { idx_free(x); snprintf(err, errlen, "out of memory"); return NULL; }
    }
    x->text_off = calloc(1, sizeof(uint64_t));
    if (!x->text_off) { idx_free(x); snprintf(err, errlen, "out of memory"); return NULL; }
    return x;
}

void idx_free(emb_index *x)
{
    if (!x) return;
    if (x->map) {
        munmap(x->map, x->map_len);
    } else {
        free(x->codes); free(x->rescore); free(x->norms); free(x->i8_scale); free(x->i8_offset);
        free(x->ids); free(x->deleted); free(x->text_off); free(x->text); free(x->levels); free(x->links0);
        if (x->upper && !x->upper_pool)
            for (size_t i = 0; i < x->n; i++) free(x->upper[i]);
        free(x->centroids); free(x->pq); free(x->list_of); free(x->refine_vecs);
    }
    free(x->list_off);
    free(x->list_idx);
    free(x->list_codes);
    free(x->list_boff);
    free(x->pq_t);
    free(x->cent_nn);
    free(x->upper);
    free(x->upper_pool);
    free(x->hash);
    free(x);
}

static void *grow(void *p, size_t n, size_t elem)
{
    size_t bytes = (n ? n : 1) * elem;
    void *q = realloc(p, bytes);
#ifdef MADV_HUGEPAGE
    /* Searches jump across these arrays at random: 2 MB pages spare the TLB
     * (where transparent huge pages are "madvise" only, a plain malloc gets
     * 4 KB pages, while an index mapped from the page cache may get large
     * folios: measured 35% more HNSW queries/s at 200k x 384).  Advice only:
     * failure changes nothing. */
    if (q && bytes >= ((size_t)8 << 20)) {
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
#define GROW(field, elem) do { if (!(p = grow(x->field, nc, elem))) return -1; x->field = p; } while (0)
    GROW(codes, x->code_bytes);
    GROW(ids, sizeof(int64_t));
    GROW(deleted, 1);
    GROW(text_off, sizeof(uint64_t) * 2); /* (nc + 1) entries fit in 2 nc */
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

/* sentence-transformers style int8: per-dimension ranges from calibration data */
static void calibrate(emb_index *x, const float *v, size_t n)
{
    for (int d = 0; d < x->dim; d++) {
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            float f = v[i * x->dim + d];
            lo = f < lo ? f : lo;
            hi = f > hi ? f : hi;
        }
        if (!(hi > lo)) { hi = lo + 1e-6f; }
        x->i8_scale[d] = (hi - lo) / 255.0f;
        x->i8_offset[d] = lo + 128.0f * x->i8_scale[d];
    }
    x->calibrated = 1;
}

/* Clamped before the conversion, NaN to 0: a float outside the target's
 * range (NaN included) converted to an integer is undefined behaviour. */
static int8_t clamp_i8(float t) { return t >= -128 && t <= 127 ? (int8_t)t : t > 127 ? 127 : t < -128 ? -128 : 0; }

static void quantize_i8(const emb_index *x, const float *v, int8_t *q)
{
    for (int d = 0; d < x->dim; d++) q[d] = clamp_i8(roundf((v[d] - x->i8_offset[d]) / x->i8_scale[d]));
}

static void pack_bits(int dim, const float *v, uint64_t *bits)
{
    /* bit d%64 of word d/64: sign of component d (branch-free: signs are coin flips) */
    for (int w = 0; w * 64 < dim; w++) {
        uint64_t b = 0;
        for (int d = w * 64; d < dim && d < w * 64 + 64; d++) b |= (uint64_t)(v[d] > 0) << (d % 64);
        bits[w] = b;
    }
}

void idx_l2_normalize(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    if (s > 0) { float inv = (float)(1 / sqrt(s)); for (int i = 0; i < n; i++) v[i] *= inv; }
}

static int text_append(emb_index *x, const char *s, size_t len)
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

/* what the first batch fixes: int8 ranges, IVF-PQ quantizers (vectors finite) */
static idx_status train(emb_index *x, const float *vecs, size_t n, int n_threads, char *err, size_t errlen)
{
    if ((x->vt == IDX_I8 || x->p.rescore) && !x->calibrated) calibrate(x, vecs, n);
    if (x->type == IDX_IVFPQ && !x->trained) {
        float *t = malloc(n * (size_t)x->dim * sizeof(float));
        if (!t) return OOM("out of memory copying %zu training vectors", n);
        memcpy(t, vecs, n * (size_t)x->dim * sizeof(float));
        if (x->metric == IDX_COSINE)
            for (size_t i = 0; i < n; i++) idx_l2_normalize(t + i * x->dim, x->dim);
        idx_status r = ivfpq_train(x, t, n, n_threads < 1 ? 1 : n_threads, err, errlen);
        free(t);
        if (r != IDX_OK) return r;
        if (ivfpq_build_lists(x) != 0) return OOM("out of memory building inverted lists");
    }
    return IDX_OK;
}

idx_status idx_train(emb_index *x, const float *vecs, size_t n, int n_threads, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    if (!vecs || n == 0) return ERR("train: no vectors");
    if (x->n > 0) return ERR("train: the index already holds vectors; its training is fixed");
    for (size_t i = 0; i < n * (size_t)x->dim; i++)
        if (!isfinite(vecs[i])) return ERR("train: vector %zu has a non-finite component", i / (size_t)x->dim);
    /* an opened index saved before any vector was added is not trained yet (file.c) */
    int needs = ((x->vt == IDX_I8 || x->p.rescore) && !x->calibrated) || (x->type == IDX_IVFPQ && !x->trained);
    if (!needs) return (x->vt == IDX_I8 || x->p.rescore || x->type == IDX_IVFPQ) ? ERR("train: the index is trained already; its training is fixed") : 0;
    idx_status r = x->map ? idx_materialize(x, err, errlen) : IDX_OK;
    return r != IDX_OK ? r : train(x, vecs, n, n_threads, err, errlen);
}

static idx_status add_batch(emb_index *x, const float *vecs, const int64_t *ids, const char *const *texts, size_t n,
                            int n_threads, char *err, size_t errlen);

static uint32_t *hash_table(const emb_index *x, size_t n, size_t *cap_out);

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Ids of a batch: each in 0 .. INT64_MAX, none twice, and none already
 * live in the index unless replacing (then old[i] gets its slot, else -1).
 * Checked before anything changes, so a refused batch adds nothing. */
static idx_status check_ids(const emb_index *x, const int64_t *ids, size_t n, int replace, long *old, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0) return ERR("add: id %lld (vector %zu) is negative: ids are 0 .. 2^63-1", (long long)ids[i], i);
    int64_t *sorted = malloc(n * sizeof *sorted);
    if (!sorted) return OOM("out of memory checking ids");
    memcpy(sorted, ids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_i64);
    for (size_t i = 1; i < n; i++)
        if (sorted[i] == sorted[i - 1]) {
            long long id = (long long)sorted[i];
            free(sorted);
            return ERR("add: id %lld appears more than once in this batch", id);
        }
    free(sorted);
    for (size_t i = 0; i < n; i++) {
        long s = idx_slot_of(x, ids[i]);
        if (s >= 0 && !replace) return ERR("add: id %lld is already in the index (replace it with upsert, or delete it first)", (long long)ids[i]);
        if (old) old[i] = s;
    }
    return IDX_OK;
}

int64_t idx_id_max(const emb_index *x)
{
    int64_t m = -1;
    for (size_t i = 0; i < x->n; i++) m = x->ids[i] > m ? x->ids[i] : m;
    return m;
}

int idx_has_id(const emb_index *x, int64_t id) { return idx_slot_of(x, id) >= 0; }

size_t idx_duplicate_ids(const emb_index *x)
{
    /* each live vector that is not the one its id leads to */
    size_t d = 0;
    for (size_t i = 0; i < x->n; i++)
        if (!x->deleted[i] && idx_slot_of(x, x->ids[i]) != (long)i) d++;
    return d;
}

idx_status idx_add(emb_index *x, const float *vecs, const int64_t *ids, const char *const *texts, size_t n,
                   int n_threads, char *err, size_t errlen)
{
    return idx_add_ex(x, vecs, ids, texts, n, 0, n_threads, err, errlen);
}

idx_status idx_add_ex(emb_index *x, const float *vecs, const int64_t *ids, const char *const *texts, size_t n,
                      int replace, int n_threads, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    if (n == 0) return 0;
    if (!vecs || !ids) return ERR("add: vectors and ids are required");
    if (x->n + n > UINT32_MAX - 1) return ERR("add: more than 2^32 vectors");
    for (size_t i = 0; i < n * (size_t)x->dim; i++)
        if (!isfinite(vecs[i])) return ERR("add: vector %zu has a non-finite component", i / (size_t)x->dim);
    long *old = replace ? malloc(n * sizeof *old) : NULL;
    if (replace && !old) return OOM("out of memory");
    idx_status r = check_ids(x, ids, n, replace, old, err, errlen);
    if (r == 0) r = add_batch(x, vecs, ids, texts, n, n_threads, err, errlen);
    /* the replaced vectors are retired only once their successors are in */
    for (size_t i = 0; r == 0 && old && i < n; i++)
        if (old[i] >= 0) { x->deleted[old[i]] = 1; x->n_deleted++; }
    free(old);
    return r;
}

/* Stores the batch after the vectors held, then links, lists and indexes
 * it.  Every allocation comes before the first change that cannot be taken
 * back (a link from a held HNSW node to a new one), so a failure leaves the
 * index as it was (but for the training a first batch does). */
static idx_status add_batch(emb_index *x, const float *vecs, const int64_t *ids, const char *const *texts, size_t n,
                            int n_threads, char *err, size_t errlen)
{
    idx_status r;
    if (x->map && (r = idx_materialize(x, err, errlen)) != IDX_OK) return r;
    if (idx_reserve(x, x->n + n) != 0) return OOM("out of memory growing the index to %zu vectors", x->n + n);
    if ((r = train(x, vecs, n, n_threads, err, errlen)) != IDX_OK) return r;
    const size_t first = x->n, text0 = x->text_len;
    float *v = malloc((size_t)x->dim * sizeof(float));
    if (!v) return OOM("out of memory");
    if (x->type == IDX_IVFPQ && ivfpq_encode_batch(x, vecs, n, first, n_threads) != 0) { free(v); return OOM("out of memory encoding"); }
    for (size_t i = 0; i < n; i++) {
        size_t s = first + i;
        memcpy(v, vecs + i * x->dim, (size_t)x->dim * sizeof(float));
        if (x->metric == IDX_COSINE) idx_l2_normalize(v, x->dim);
        if (x->refine_vecs) memcpy(x->refine_vecs + s * x->dim, v, (size_t)x->dim * sizeof(float));
        unsigned char *c = x->codes + s * x->code_bytes;
        if (x->type == IDX_IVFPQ) {
            /* lists and codes: ivfpq_encode_batch above */
        } else if (x->vt == IDX_F32) memcpy(c, v, x->code_bytes);
        else if (x->vt == IDX_I8) {
            quantize_i8(x, v, (int8_t *)c);
            if (x->norms) {
                double nn = 0;
                for (int d = 0; d < x->dim; d++) { double f = ((int8_t *)c)[d] * x->i8_scale[d] + x->i8_offset[d]; nn += f * f; }
                x->norms[s] = (float)nn;
            }
        } else {
            pack_bits(x->dim, v, (uint64_t *)c);
            if (x->p.rescore) quantize_i8(x, v, x->rescore + s * x->dim);
        }
        x->ids[s] = ids[i];
        x->deleted[s] = 0;
        const char *t = texts ? texts[i] : NULL;
        if (t && text_append(x, t, strlen(t)) != 0) {
            free(v);
            x->text_len = text0; /* the next batch's first text starts there */
            return OOM("out of memory storing texts");
        }
        x->text_off[s + 1] = x->text_len;
        if (x->type == IDX_HNSW) { x->upper[s] = NULL; x->levels[s] = 0; }
    }
    free(v);
    /* the id table of the grown index, swapped in once nothing can fail; it
     * is built here, not lazily, so searches and idx_text on a shared index
     * never write */
    size_t hcap;
    uint32_t *h = hash_table(x, first + n, &hcap);
    if (!h) { x->text_len = text0; return OOM("out of memory indexing ids"); }
    x->n += n;
    r = x->type == IDX_HNSW ? hnsw_insert_range(x, first, n, n_threads, err, errlen) : IDX_OK;
    if (r == IDX_OK && x->type == IDX_IVFPQ && ivfpq_build_lists(x) != 0) r = OOM("out of memory building inverted lists");
    if (r != IDX_OK) {
        x->n = first;
        x->text_len = text0;
        free(h);
        return r;
    }
    free(x->hash);
    x->hash = h;
    x->hash_cap = hcap;
    return IDX_OK;
}

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33; k *= 0xff51afd7ed558ccdull; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ull; k ^= k >> 33;
    return k;
}

/* id -> slot table of the first n vectors (open addressing, slot + 1, 0 empty) */
static uint32_t *hash_table(const emb_index *x, size_t n, size_t *cap_out)
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
    uint32_t *h = hash_table(x, x->n, &cap);
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

idx_status idx_delete(emb_index *x, int64_t id, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    /* looked up first: an absent id is refused without copying a mapped index */
    long s = idx_slot_of(x, id);
    if (s < 0) return ERR("delete: no vector with id %lld", (long long)id);
    idx_status r = x->map ? idx_materialize(x, err, errlen) : IDX_OK;
    if (r != IDX_OK) return r;
    x->deleted[s] = 1;
    x->n_deleted++;
    return IDX_OK;
}

const char *idx_text(const emb_index *x, int64_t id, size_t *len)
{
    long s = idx_slot_of(x, id);
    if (s < 0 || !x->text) return NULL;
    *len = (size_t)(x->text_off[s + 1] - x->text_off[s]);
    return *len ? x->text + x->text_off[s] : NULL;
}

void idx_set_meta(emb_index *x, const char *meta) { snprintf(x->meta, sizeof x->meta, "%s", meta ? meta : ""); }
const char *idx_meta(const emb_index *x) { return x->meta; }

void idx_get_info(const emb_index *x, idx_info *in)
{
    memset(in, 0, sizeof *in);
    in->type = x->type; in->metric = x->metric; in->vec = x->vt; in->dim = x->dim;
    in->count = x->n - x->n_deleted; in->deleted = x->n_deleted;
    in->M = x->type == IDX_HNSW ? x->M : 0;
    in->ef_construction = x->type == IDX_HNSW ? x->p.ef_construction : 0;
    in->rescore = x->p.rescore;
    in->nlist = x->nlist;
    in->pq_m = x->pq_m;
    in->pq_bits = x->pq_bits;
    in->refine = x->p.refine;
    size_t b = x->code_bytes + 8 + (x->rescore ? (size_t)x->dim : 0) + (x->norms ? 4 : 0) +
               (x->p.refine ? (size_t)x->dim * 4 : 0);
    if (x->type == IDX_HNSW && x->n) {
        size_t up = 0;
        for (size_t i = 0; i < x->n; i++) up += x->levels[i];
        b += (size_t)(x->M0 + 1) * 4 + 1 + up * (size_t)(x->M + 1) * 4 / x->n;
    }
    in->bytes_per_vector = b;
    in->mapped = x->map != NULL;
}

size_t idx_query_floats(const emb_index *x) { return 2 * (size_t)x->dim + ((size_t)x->dim + 63) / 64 * 2 + ((size_t)x->dim + 3) / 4 + 16; }

void idx_query_prepare(const emb_index *x, const float *q, idx_query *qp, float *buf)
{
    qp->q = buf;
    qp->raw = buf + x->dim;
    qp->bits = (uint64_t *)(void *)(buf + 2 * x->dim + ((2 * x->dim) & 1));
    qp->q8 = (int8_t *)(void *)(qp->bits + ((size_t)x->dim + 63) / 64);
    qp->q8s = 0;
    memcpy(qp->raw, q, (size_t)x->dim * sizeof(float));
    if (x->metric == IDX_COSINE) idx_l2_normalize(qp->raw, x->dim);
    qp->c = 0;
    qp->qq = 0;
    if (x->vt == IDX_I8) {
        for (int d = 0; d < x->dim; d++) {
            qp->q[d] = qp->raw[d] * x->i8_scale[d];
            qp->c += qp->raw[d] * x->i8_offset[d];
            qp->qq += qp->raw[d] * qp->raw[d];
        }
        /* one scale for the whole query: its rounding error is ~1/254 of the
         * largest term, below that of the stored int8 codes */
        float amax = 0;
        for (int d = 0; d < x->dim; d++) amax = fmaxf(amax, fabsf(qp->q[d]));
        qp->q8s = amax / 127;
        for (int d = 0; d < x->dim; d++) qp->q8[d] = amax > 0 ? clamp_i8(rintf(qp->q[d] / qp->q8s)) : 0;
    } else {
        memcpy(qp->q, qp->raw, (size_t)x->dim * sizeof(float));
    }
    if (x->vt == IDX_BIN) pack_bits(x->dim, qp->raw, qp->bits);
}

float idx_dist(const emb_index *x, const idx_query *q, uint32_t i)
{
    const unsigned char *c = x->codes + (size_t)i * x->code_bytes;
    switch (x->vt) {
    case IDX_F32:
        if (x->metric == IDX_L2) return x->k->l2sq_f32(q->q, (const float *)c, (size_t)x->dim);
        return -x->k->dot_f32(q->q, (const float *)c, (size_t)x->dim);
    case IDX_I8: {
        float dot = (q->q8 ? q->q8s * (float)x->k->dot_i8(q->q8, (const int8_t *)c, (size_t)x->dim)
                           : x->k->dot_f32_i8(q->q, (const int8_t *)c, (size_t)x->dim)) + q->c;
        if (x->metric == IDX_L2) return q->qq - 2 * dot + x->norms[i];
        return -dot;
    }
    default:
        return (float)x->k->hamming(q->bits, (const uint64_t *)c, x->code_bytes / 8);
    }
}

float idx_refine_dist(const emb_index *x, const float *q, uint32_t i)
{
    const float *v = x->refine_vecs + (size_t)i * x->dim;
    if (x->metric == IDX_L2) return x->k->l2sq_f32(q, v, (size_t)x->dim);
    return -x->k->dot_f32(q, v, (size_t)x->dim);
}

int idx_refine_applies(idx_type type, idx_vec vec) { return type == IDX_IVFPQ || (type == IDX_HNSW && vec == IDX_I8); }

float idx_score(const emb_index *x, float dist)
{
    return (x->metric == IDX_IP || x->metric == IDX_COSINE) ? -dist : dist;
}

/* max-heap on (d, i): the root is the worst kept hit; equal distances rank
 * by slot, so the kept set is the k smallest (d, i) whatever the visit order */
static inline int hit_worse(float d, uint32_t i, const idx_hit *h) { return d > h->d || (d == h->d && i > h->i); }

void idx_heap_push(idx_hit *h, int *n, int cap, float d, uint32_t i)
{
    if (*n == cap) {
        if (!hit_worse(h[0].d, h[0].i, &(idx_hit){ d, i })) return;
        int j = 0; /* replace the root and sift down */
        for (;;) {
            int l = 2 * j + 1, r = l + 1, m = j;
            idx_hit mh = { d, i };
            if (l < *n && hit_worse(h[l].d, h[l].i, &mh)) { m = l; mh = h[l]; }
            if (r < *n && hit_worse(h[r].d, h[r].i, &mh)) m = r;
            if (m == j) break;
            h[j] = h[m];
            j = m;
        }
        h[j] = (idx_hit){ d, i };
        return;
    }
    int j = (*n)++;
    while (j > 0 && hit_worse(d, i, &h[(j - 1) / 2])) {
        h[j] = h[(j - 1) / 2];
        j = (j - 1) / 2;
    }
    h[j] = (idx_hit){ d, i };
}

static int hit_cmp(const void *a, const void *b)
{
    const idx_hit *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i; /* ties: by slot, as the heap keeps them */
}

void idx_hits_sort(idx_hit *h, int n) { qsort(h, (size_t)n, sizeof *h, hit_cmp); }

idx_status idx_compact(emb_index *x, int n_threads, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    idx_status r = x->map ? idx_materialize(x, err, errlen) : IDX_OK;
    if (r != IDX_OK) return r;
    size_t w = 0;
    uint64_t tpos = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (x->deleted[i]) continue;
        uint64_t t0 = x->text_off[i], tl = x->text_off[i + 1] - t0;
        if (w != i) {
            memmove(x->codes + w * x->code_bytes, x->codes + i * x->code_bytes, x->code_bytes);
            x->ids[w] = x->ids[i];
            if (x->norms) x->norms[w] = x->norms[i];
            if (x->rescore) memmove(x->rescore + w * x->dim, x->rescore + i * x->dim, (size_t)x->dim);
            if (x->list_of) x->list_of[w] = x->list_of[i];
            if (x->refine_vecs) memmove(x->refine_vecs + w * x->dim, x->refine_vecs + i * x->dim, (size_t)x->dim * sizeof(float));
        }
        if (tl) memmove(x->text + tpos, x->text + t0, (size_t)tl);
        x->deleted[w] = 0;
        x->text_off[w] = tpos;
        tpos += tl;
        x->text_off[w + 1] = tpos;
        w++;
    }
    if (x->type == IDX_HNSW)
        for (size_t i = 0; i < x->n; i++) { free(x->upper[i]); x->upper[i] = NULL; }
    x->text_len = (size_t)tpos;
    x->n = w;
    x->n_deleted = 0;
    free(x->hash);
    x->hash = NULL;
    if (x->type == IDX_IVFPQ && ivfpq_build_lists(x) != 0) return OOM("out of memory building inverted lists");
    if (idx_hash_build(x) != 0) return OOM("out of memory indexing ids");
    if (x->type == IDX_HNSW && w) {
        /* re-link every live vector from scratch, levels redrawn from the seed */
        x->rng = x->p.seed ? x->p.seed : 42;
        x->max_level = 0;
        x->entry = 0;
        if ((r = hnsw_insert_range(x, 0, w, n_threads, err, errlen)) != IDX_OK) return r;
    }
    return IDX_OK;
}
