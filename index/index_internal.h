/* Shared between the index files only. */
#ifndef EMBER_INDEX_INTERNAL_H
#define EMBER_INDEX_INTERNAL_H

#include "index/index.h"
#include "kernels/kernels.h"

#include <stdio.h>

#define IDX_MAX_LEVEL 16

struct emb_index {
    idx_type type;
    idx_metric metric;
    idx_vec vt;
    int dim;
    idx_params p;
    size_t n, cap;
    size_t code_bytes;          /* bytes per stored vector */
    unsigned char *codes;       /* (cap, code_bytes) */
    int8_t *rescore;            /* binary + rescore: (cap, dim) int8 copies */
    float *norms;               /* int8 L2: squared norm of each decoded vector */
    int calibrated;
    float *i8_scale, *i8_offset;/* (dim): x ~ q * scale + offset */
    int64_t *ids;
    uint8_t *deleted;
    size_t n_deleted;
    uint64_t *text_off;         /* (cap + 1) */
    char *text;
    size_t text_len, text_cap;
    /* HNSW */
    int M, M0;
    uint8_t *levels;            /* (cap) */
    uint32_t *links0;           /* (cap, M0 + 1): count then neighbours */
    uint32_t **upper;           /* (cap): levels[i] x (M + 1), or NULL */
    int max_level;
    uint32_t entry;
    uint64_t rng;
    void *locks;                /* omp_lock_t per node during a build */
    /* id -> slot hash (open addressing, slot + 1, 0 empty) */
    uint32_t *hash;
    size_t hash_cap;
    /* mmapped file, when opened */
    void *map;
    size_t map_len;
    uint32_t *upper_pool;       /* links of upper layers when loaded from a file */
    char meta[256];
    const kern_ops *k;
    idx_progress_fn progress;   /* idx_set_progress */
    void *progress_user;
    /* IVF-PQ */
    int nlist, pq_m, dsub, trained;
    int pq_bits, ksub;          /* 8 and 256, or 4 and 16 */
    float *centroids;           /* (nlist, dim) */
    float *pq;                  /* (pq_m, ksub, dsub) */
    uint32_t *list_of;          /* (cap) coarse list of each vector */
    float *refine_vecs;         /* (cap, dim) when refine */
    uint32_t *list_off, *list_idx; /* derived: members of each list */
    uint8_t *list_codes;        /* derived: their codes, contiguous per list (4-bit: in
                                   kern_pq4_pack blocks, each list from a block boundary) */
    uint32_t *list_boff;        /* derived, 4-bit: first block of each list, (nlist + 1) */
    float *pq_t;                /* derived, 8-bit: codebooks transposed (pq_m, dsub, 256) */
    float *cent_nn;             /* derived: |centroid|^2, (nlist) */
    size_t list_max;            /* derived: longest list */
};


/* A query prepared for one index: quantised/scaled as its vectors are. */
typedef struct {
    float *q;        /* dim floats: the query (normalised for cosine), scaled for int8 */
    float c;         /* int8: sum q * offset */
    float qq;        /* |q|^2 for int8 L2 */
    uint64_t *bits;  /* binary: packed sign bits */
    int8_t *q8;      /* int8: q quantised again, q ~ q8 * q8s, for the int8 x int8 kernel;
                        NULL: the f32 x int8 kernel on q (stored vectors as queries in a build) */
    float q8s;
    float *raw;      /* the f32 query, for rescoring */
} idx_query;

size_t idx_query_floats(const emb_index *x);
void idx_l2_normalize(float *v, int n);
void idx_query_prepare(const emb_index *x, const float *q, idx_query *qp, float *buf);
/* distance to stored vector i, lower is better */
float idx_dist(const emb_index *x, const idx_query *q, uint32_t i);
float idx_score(const emb_index *x, float dist); /* distance -> reported score */
/* exact distance of the f32 query q to vector i's refine copy */
float idx_refine_dist(const emb_index *x, const float *q, uint32_t i);

int idx_reserve(emb_index *x, size_t cap);
int idx_hash_build(emb_index *x);
long idx_slot_of(const emb_index *x, int64_t id);
/* Copies a mapped index into memory (IDX_ERR_NOMEM, nothing changed, when it cannot). */
idx_status idx_materialize(emb_index *x, char *err, size_t errlen);

/* Progress of one long phase for the index's callback: from the calling
 * thread only, at most every 100 ms, and once more at the end (done =
 * total).  Without a callback, a few instructions a tick. */
typedef struct { const emb_index *x; const char *phase; size_t total; double next; } idx_ticker;
void idx_tick_start(idx_ticker *t, const emb_index *x, const char *phase, size_t total);
void idx_tick(idx_ticker *t, size_t done);
void idx_tick_end(idx_ticker *t);

/* HNSW.  Links n new vectors from slot first; every allocation is made
 * before the first link, so on failure (IDX_ERR_NOMEM) no held node links
 * to a new one. */
idx_status hnsw_insert_range(emb_index *x, size_t first, size_t n, int n_threads, char *err, size_t errlen);
/* scratch from hnsw_scratch_new(x, max(ef, ef_upper)) */
int hnsw_search(const emb_index *x, const idx_query *q, int k, int ef, int ef_upper, uint32_t *out, float *dist, void *scratch);
size_t hnsw_scratch_bytes(const emb_index *x, int ef);

/* top-k max-heap on distance */
typedef struct { float d; uint32_t i; } idx_hit;
void idx_heap_push(idx_hit *h, int *n, int cap, float d, uint32_t i);
void idx_hits_sort(idx_hit *h, int n);

/* IVF-PQ */
idx_status ivfpq_train(emb_index *x, const float *v, size_t n, int n_threads, char *err, size_t errlen);
/* lists and codes of n vectors (as given: normalised here for cosine) into slots first.. */
int ivfpq_encode_batch(emb_index *x, const float *vecs, size_t n, size_t first, int n_threads);
int ivfpq_build_lists(emb_index *x);
/* lists to visit into probe (nprobe hits); qc: q . centroids when known, else NULL */
int ivfpq_probe(const emb_index *x, const float *q, const float *qc, int nprobe, idx_hit *probe);
/* candidates of those lists into heap (max-heap of cap), distance lower-better; returns count */
int ivfpq_scan(const emb_index *x, const float *q, int cap, const idx_hit *probe, int np, idx_hit *heap, float *scratch);
size_t ivfpq_scratch_floats(const emb_index *x);

uint32_t idx_crc32(uint32_t crc, const void *data, size_t len);
#endif
