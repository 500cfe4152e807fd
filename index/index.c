/* The orchestrator: creates and frees an index, trains it, adds (and
 * upserts), deletes and compacts, calling down into the algorithms
 * (hnsw.c, ivfpq.c) and the base (store.c, distance.c); info, metadata and
 * texts. */
#include "index/index.h"
#include "index/hnsw.h"
#include "index/ivfpq.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), IDX_ERR_ARG)
#define OOM(...) (snprintf(err, errlen, __VA_ARGS__), IDX_ERR_NOMEM)

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
    x->pool = idx_pool_new();
    if (!x->pool) { free(x); snprintf(err, errlen, "out of memory"); return NULL; }
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
    idx_pool_free(x->pool);
    free(x);
}

/* what the first batch fixes: int8 ranges, IVF-PQ quantizers (vectors
 * finite), both learnt from the vectors as they are stored (unit length
 * for cosine: int8 ranges taken from the raw vectors clamped the normalised
 * ones they quantise) */
static idx_status train(emb_index *x, const float *vecs, size_t n, int n_threads, char *err, size_t errlen)
{
    const int calib = (x->vt == IDX_I8 || x->p.rescore) && !x->calibrated, pq = x->type == IDX_IVFPQ && !x->trained;
    if (!calib && !pq) return IDX_OK;
    float *t = NULL;
    if (x->metric == IDX_COSINE || pq) {
        t = malloc(n * (size_t)x->dim * sizeof(float));
        if (!t) return OOM("out of memory copying %zu training vectors", n);
        memcpy(t, vecs, n * (size_t)x->dim * sizeof(float));
        if (x->metric == IDX_COSINE)
            for (size_t i = 0; i < n; i++) idx_l2_normalize(t + i * x->dim, x->dim);
        vecs = t;
    }
    idx_status r = calib ? idx_calibrate(x, vecs, n, err, errlen) : IDX_OK;
    if (r == IDX_OK && pq) {
        r = ivfpq_train(x, t, n, n_threads < 1 ? 1 : n_threads, err, errlen);
        if (r == IDX_OK && ivfpq_build_lists(x) != 0) r = OOM("out of memory building inverted lists");
    }
    free(t);
    return r;
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
    idx_status built = idx_require_built(x, err, errlen);
    if (built != IDX_OK) return built;
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
            idx_quantize_i8(x, v, (int8_t *)c);
            if (x->norms) {
                double nn = 0;
                for (int d = 0; d < x->dim; d++) { double f = ((int8_t *)c)[d] * x->i8_scale[d] + x->i8_offset[d]; nn += f * f; }
                /* saturated: a file's calibration may decode beyond float
                 * range (a fuzzing find: an inf norm made the saved index
                 * refuse to open), and a double beyond it has no float cast */
                x->norms[s] = nn < FLT_MAX ? (float)nn : FLT_MAX;
            }
        } else {
            idx_pack_bits(x->dim, v, (uint64_t *)c);
            if (x->p.rescore) idx_quantize_i8(x, v, x->rescore + s * x->dim);
        }
        x->ids[s] = ids[i];
        x->deleted[s] = 0;
        const char *t = texts ? texts[i] : NULL;
        if (t && idx_text_append(x, t, strlen(t)) != 0) {
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
    uint32_t *h = idx_hash_table(x, first + n, &hcap);
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

idx_status idx_delete(emb_index *x, int64_t id, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    idx_status built = idx_require_built(x, err, errlen);
    if (built != IDX_OK) return built;
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

idx_status idx_compact(emb_index *x, int n_threads, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    idx_status r = x->map ? idx_materialize(x, err, errlen) : IDX_OK;
    if (r != IDX_OK) return r;
    /* from the first move until the structures are rebuilt over the moved
     * vectors; a compact that fails there is finished by the next one (with
     * nothing left to move, it only rebuilds) */
    x->unbuilt = 1;
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
    x->unbuilt = 0;
    return IDX_OK;
}
