/* The public index API of include/ember.h over index/index.h: the same
 * calls, ember's types and status codes, and an error message per index;
 * the writer lock over sys/. */
#include "ember.h"
#include "index/index.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)EMBER_INDEX_FLAT == IDX_FLAT && (int)EMBER_INDEX_HNSW == IDX_HNSW && (int)EMBER_INDEX_IVFPQ == IDX_IVFPQ,
               "index types match index/index.h");
_Static_assert((int)EMBER_METRIC_IP == IDX_IP && (int)EMBER_METRIC_COSINE == IDX_COSINE && (int)EMBER_METRIC_L2 == IDX_L2 &&
               (int)EMBER_METRIC_HAMMING == IDX_HAMMING, "metrics match index/index.h");
_Static_assert((int)EMBER_STORE_F32 == IDX_F32 && (int)EMBER_STORE_INT8 == IDX_I8 && (int)EMBER_STORE_BINARY == IDX_BIN,
               "stores match index/index.h");

struct ember_index {
    emb_index *x;
    char err[256];
};

_Static_assert((int)EMBER_OK == IDX_OK && (int)EMBER_ERR_ARG == IDX_ERR_ARG && (int)EMBER_ERR_IO == IDX_ERR_IO &&
               (int)EMBER_ERR_FORMAT == IDX_ERR_FORMAT && (int)EMBER_ERR_NOMEM == IDX_ERR_NOMEM,
               "statuses match index/index.h: idx_* set them where they fail, passed on as they are");

ember_index_params ember_index_default_params(void)
{
    idx_params d = idx_default_params();
    ember_index_params p = { .M = d.M, .ef_construction = d.ef_construction, .seed = d.seed, .rescore = d.rescore,
                             .nlist = d.nlist, .pq_m = d.pq_m, .refine = d.refine, .pq_bits = d.pq_bits };
    return p;
}

ember_search_params ember_search_default_params(void)
{
    idx_search_params d = idx_default_search_params();
    ember_search_params p = { .ef_search = d.ef_search, .rescore_mult = d.rescore_mult, .nprobe = d.nprobe,
                              .refine_factor = d.refine_factor, .ef_upper = d.ef_upper };
    return p;
}

static ember_index *wrap(emb_index *x, char *err, size_t errlen)
{
    if (!x) return NULL;
    ember_index *h = calloc(1, sizeof *h);
    if (!h) {
        idx_free(x);
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->x = x;
    return h;
}

ember_index *ember_index_create(ember_index_type type, ember_metric metric, ember_store store, int dim,
                                const ember_index_params *p, char *err, size_t errlen)
{
    ember_index_params d = ember_index_default_params();
    if (!p) p = &d;
    idx_params ip = { .M = p->M, .ef_construction = p->ef_construction, .seed = p->seed, .rescore = p->rescore,
                      .nlist = p->nlist, .pq_m = p->pq_m, .refine = p->refine, .pq_bits = p->pq_bits ? p->pq_bits : 8 };
    /* the enums share their values with index/index.h; idx_create checks them */
    return wrap(idx_create((idx_type)type, (idx_metric)metric, (idx_vec)store, dim, &ip, err, errlen), err, errlen);
}

ember_index *ember_index_open(const char *path, char *err, size_t errlen)
{
    if (!path) {
        if (err && errlen) snprintf(err, errlen, "index open: no path");
        return NULL;
    }
    return wrap(idx_open(path, err, errlen), err, errlen);
}

void ember_index_free(ember_index *h)
{
    if (!h) return;
    idx_free(h->x);
    free(h);
}

const char *ember_index_error(const ember_index *h) { return h ? h->err : "no index"; }

ember_status ember_index_train(ember_index *h, const float *vecs, size_t n, int n_threads)
{
    if (!h) return EMBER_ERR_ARG;
    return (ember_status)idx_train(h->x, vecs, n, n_threads, h->err, sizeof h->err);
}

ember_status ember_index_add(ember_index *h, const float *vecs, const int64_t *ids, const char *const *texts,
                             size_t n, int n_threads)
{
    if (!h) return EMBER_ERR_ARG;
    return (ember_status)idx_add(h->x, vecs, ids, texts, n, n_threads, h->err, sizeof h->err);
}

ember_status ember_index_upsert(ember_index *h, const float *vecs, const int64_t *ids, const char *const *texts,
                                size_t n, int n_threads)
{
    if (!h) return EMBER_ERR_ARG;
    return (ember_status)idx_add_ex(h->x, vecs, ids, texts, n, 1, n_threads, h->err, sizeof h->err);
}

ember_status ember_index_delete(ember_index *h, int64_t id)
{
    if (!h) return EMBER_ERR_ARG;
    return (ember_status)idx_delete(h->x, id, h->err, sizeof h->err);
}

ember_status ember_index_compact(ember_index *h, int n_threads)
{
    if (!h) return EMBER_ERR_ARG;
    return (ember_status)idx_compact(h->x, n_threads, h->err, sizeof h->err);
}

ember_status ember_index_search(const ember_index *h, const float *queries, size_t nq, int k,
                                const ember_search_params *sp, int64_t *out_ids, float *out_scores,
                                int n_threads, char *err, size_t errlen)
{
    char tmp[256];
    if (!err || !errlen) { err = tmp; errlen = sizeof tmp; }
    if (!h) return snprintf(err, errlen, "search: no index"), EMBER_ERR_ARG;
    idx_search_params d = idx_default_search_params(), ip = d;
    if (sp) ip = (idx_search_params){ .ef_search = sp->ef_search, .ef_upper = sp->ef_upper, .rescore_mult = sp->rescore_mult,
                                      .nprobe = sp->nprobe, .refine_factor = sp->refine_factor };
    return (ember_status)idx_search(h->x, queries, nq, k, &ip, out_ids, out_scores, n_threads, err, errlen);
}

ember_status ember_index_save(ember_index *h, const char *path)
{
    if (!h) return EMBER_ERR_ARG;
    if (!path) return snprintf(h->err, sizeof h->err, "save: no path"), EMBER_ERR_ARG;
    return (ember_status)idx_save(h->x, path, h->err, sizeof h->err);
}

void ember_index_get_info(const ember_index *h, ember_index_info *info)
{
    idx_info i;
    memset(info, 0, sizeof *info);
    if (!h) return;
    idx_get_info(h->x, &i);
    info->type = (ember_index_type)i.type;
    info->metric = (ember_metric)i.metric;
    info->store = (ember_store)i.vec;
    info->dim = i.dim;
    info->count = i.count;
    info->deleted = i.deleted;
    info->bytes_per_vector = i.bytes_per_vector;
    info->mapped = i.mapped;
    info->M = i.M;
    info->ef_construction = i.ef_construction;
    info->nlist = i.nlist;
    info->pq_m = i.pq_m;
    info->pq_bits = i.pq_bits;
    info->rescore = i.rescore;
    info->refine = i.refine;
}

const char *ember_index_type_name(ember_index_type t) { return idx_type_name((idx_type)t); }
const char *ember_metric_name(ember_metric m) { return idx_metric_name((idx_metric)m); }
const char *ember_store_name(ember_store s) { return idx_vec_name((idx_vec)s); }

ember_status ember_index_parse_names(const char *type, const char *metric, const char *store, ember_index_type *t,
                                     ember_metric *m, ember_store *s, char *err, size_t errlen)
{
    char tmp[256];
    if (!err || !errlen) { err = tmp; errlen = sizeof tmp; }
    if ((type && !t) || (metric && !m) || (store && !s)) return snprintf(err, errlen, "parse names: no output for a name given"), EMBER_ERR_ARG;
    idx_type it = IDX_FLAT;
    idx_metric im = IDX_IP;
    idx_vec iv = IDX_F32;
    idx_status r = idx_parse_names(type, metric, store, &it, &im, &iv, err, errlen);
    if (r != IDX_OK) return (ember_status)r;
    if (type) *t = (ember_index_type)it;
    if (metric) *m = (ember_metric)im;
    if (store) *s = (ember_store)iv;
    return EMBER_OK;
}

int ember_index_refine_applies(ember_index_type type, ember_store store)
{
    return idx_refine_applies((idx_type)type, (idx_vec)store);
}

ember_status ember_index_set_meta(ember_index *h, const char *meta)
{
    if (!h) return EMBER_ERR_ARG;
    size_t len = meta ? strlen(meta) : 0;
    if (len > 255) return snprintf(h->err, sizeof h->err, "metadata of %zu bytes: at most 255 are kept", len), EMBER_ERR_LIMIT;
    idx_set_meta(h->x, meta);
    return EMBER_OK;
}

const char *ember_index_meta(const ember_index *h) { return h ? idx_meta(h->x) : ""; }
int ember_index_contains(const ember_index *h, int64_t id) { return h && idx_has_id(h->x, id); }
int64_t ember_index_id_max(const ember_index *h) { return h ? idx_id_max(h->x) : -1; }
size_t ember_index_duplicate_ids(const ember_index *h) { return h ? idx_duplicate_ids(h->x) : 0; }

struct ember_index_lock {
    sys_lock l;
};

ember_status ember_index_lock_acquire(const char *path, int wait, ember_index_lock **lock, char *err, size_t errlen)
{
    char tmp[256];
    if (!err || !errlen) { err = tmp; errlen = sizeof tmp; }
    if (!lock) return snprintf(err, errlen, "index lock: no place for the lock"), EMBER_ERR_ARG;
    *lock = NULL;
    if (!path) return snprintf(err, errlen, "index lock: no path"), EMBER_ERR_ARG;
    ember_index_lock *k = malloc(sizeof *k);
    if (!k) return snprintf(err, errlen, "out of memory"), EMBER_ERR_NOMEM;
    int r = sys_lock_acquire(&k->l, path, wait != 0, err, errlen);
    if (r != SYS_LOCK_HELD) {
        free(k);
        if (r == SYS_LOCK_BUSY) return snprintf(err, errlen, "index %s is being written by another process", path), EMBER_ERR_BUSY;
        return EMBER_ERR_IO;
    }
    /* a writer killed before its rename left its temporary: ours now to clear */
    sys_atomic_sweep(path);
    *lock = k;
    return EMBER_OK;
}

void ember_index_lock_release(ember_index_lock *k)
{
    if (!k) return;
    sys_lock_release(&k->l);
    free(k);
}

void ember_index_set_progress(ember_index *h, ember_progress_fn fn, void *user)
{
    if (h) idx_set_progress(h->x, fn, user);
}

const char *ember_index_text(const ember_index *h, int64_t id, size_t *len)
{
    return h ? idx_text(h->x, id, len) : NULL;
}
