/* The index layer's vocabulary: its enums and parameter structs, and the
 * plain functions on them (defaults, names), all defined in the base files
 * (index/base.h), so every file of index/ may include this one. */
#ifndef EMBER_INDEX_INDEX_TYPES_H
#define EMBER_INDEX_INDEX_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum { IDX_FLAT = 1, IDX_HNSW = 2, IDX_IVFPQ = 3 } idx_type;
/* What the calls below return, set where the failure happens (the values of
 * ember_status in include/ember.h), with the message in err. */
typedef enum { IDX_OK = 0, IDX_ERR_ARG = 1, IDX_ERR_IO = 2, IDX_ERR_FORMAT = 3, IDX_ERR_NOMEM = 5 } idx_status;
typedef enum { IDX_IP = 1, IDX_COSINE = 2, IDX_L2 = 3, IDX_HAMMING = 4 } idx_metric;
typedef enum { IDX_F32 = 1, IDX_I8 = 2, IDX_BIN = 3 } idx_vec;

typedef struct {
    int M;               /* HNSW links per node on upper layers (layer 0: 2M); default 16 */
    int ef_construction; /* default 200 */
    uint64_t seed;       /* level generator; default 42 */
    int rescore;         /* binary vectors: also keep int8 copies to rescore hits */
    int nlist;           /* IVF-PQ: coarse centroids (default 256) */
    int pq_m;            /* IVF-PQ: sub-quantizers (default dim / 8); code bytes pq_m * pq_bits / 8 */
    int refine;          /* IVF-PQ, int8 HNSW: also keep f32 vectors to re-rank candidates
                            exactly (int8 HNSW: built on them, walked on the int8 codes) */
    int pq_bits;         /* IVF-PQ: 8 (256 codewords a sub-space, default) or 4 (16 codewords,
                            scanned by the fast-scan kernel; pq_m even, at most 256) */
} idx_params;

typedef struct {
    int ef_search;       /* HNSW beam width (>= k); default max(64, k) */
    int ef_upper;        /* HNSW beam on layer 1, whose nodes seed layer 0; 1 = greedy
                            descent as in the paper and hnswlib; default 8 */
    int rescore_mult;    /* binary + rescore: Hamming candidates per result; default 4 */
    int nprobe;          /* IVF-PQ: lists visited per query; default 16 */
    int refine_factor;   /* IVF-PQ + refine: PQ candidates per result; default 4 */
} idx_search_params;

typedef struct emb_index emb_index;

/* Progress of a long phase ("train", "encode", "link", "write"): done of
 * total steps.  Called from the thread that made the call, at most every
 * 100 ms and once at the end of each phase; it must not call into the
 * index. */
typedef void (*idx_progress_fn)(void *user, const char *phase, size_t done, size_t total);
/* Set for the adds, trainings, compactions and saves that follow (NULL: none). */
void idx_set_progress(emb_index *x, idx_progress_fn fn, void *user);

idx_params idx_default_params(void);
idx_search_params idx_default_search_params(void);
const char *idx_type_name(idx_type t);
const char *idx_metric_name(idx_metric m);
const char *idx_vec_name(idx_vec v);
idx_status idx_parse_names(const char *type, const char *metric, const char *vec,
                           idx_type *t, idx_metric *m, idx_vec *v, char *err, size_t errlen);

/* f32 refine copies serve IVF-PQ and HNSW over int8; elsewhere distances are already exact */
int idx_refine_applies(idx_type type, idx_vec vec);
#endif
