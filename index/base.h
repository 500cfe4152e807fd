/* The base of index/: the index's storage (struct emb_index) and the
 * primitives every algorithm above shares.  Its files call nothing else in
 * index/ (see the map in index/index_internal.h):
 *   store.c     defaults and names, growing the arrays, texts, the id -> slot
 *               table, copying a mapped index into memory
 *   distance.c  int8 and sign-bit quantizers, query preparation, distances,
 *               the bounded top-k heap
 *   scratch.c   the pool of per-thread search scratch each index keeps
 *   progress.c  progress ticks for the caller's callback
 *   crc32.c     checksums of the index file */
#ifndef EMBER_INDEX_BASE_H
#define EMBER_INDEX_BASE_H

#include "index/index_types.h"
#include "kernels/kernels.h"

#include <string.h>

#define IDX_MAX_LEVEL 16

typedef struct idx_pool idx_pool;

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
    /* set while idx_compact has moved the vectors but not yet rebuilt the id
     * table, lists or graph over them (it ran out of memory there): the data
     * are whole, the structures are not, so everything but another compact
     * (or free) refuses until one succeeds */
    int unbuilt;
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
    /* search scratch kept for the next searches (scratch.c): written by
     * searches of a const index, so a pointer to a pool of its own */
    idx_pool *pool;
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

/* ---- store.c ---- */
/* Room for cap vectors in every per-vector array (0, or -1 out of memory:
 * the arrays grown so far stay valid and the index unchanged). */
int idx_reserve(emb_index *x, size_t cap);
/* Appends len bytes to the texts (0, or -1 out of memory). */
int idx_text_append(emb_index *x, const char *s, size_t len);
/* id -> slot table of the first n vectors (open addressing, slot + 1, 0
 * empty), NULL out of memory; idx_hash_build installs one for all x->n. */
uint32_t *idx_hash_table(const emb_index *x, size_t n, size_t *cap_out);
int idx_hash_build(emb_index *x);
/* Last live slot holding id (ids may repeat in files from before ids were
 * unique), or -1. */
long idx_slot_of(const emb_index *x, int64_t id);
/* IDX_OK, or IDX_ERR_NOMEM with the reason when a compact that ran out of
 * memory left the index unbuilt (x->unbuilt). */
idx_status idx_require_built(const emb_index *x, char *err, size_t errlen);
/* Copies a mapped index into memory (IDX_ERR_NOMEM, nothing changed, when it cannot). */
idx_status idx_materialize(emb_index *x, char *err, size_t errlen);

/* ---- distance.c ---- */
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

void idx_l2_normalize(float *v, int n);
/* sentence-transformers style int8: per-dimension ranges of n vectors */
idx_status idx_calibrate(emb_index *x, const float *v, size_t n, char *err, size_t errlen);
void idx_quantize_i8(const emb_index *x, const float *v, int8_t *q);
/* bit d % 64 of word d / 64: set when component d is > 0 */
void idx_pack_bits(int dim, const float *v, uint64_t *bits);
/* floats a prepared query needs in buf */
size_t idx_query_floats(const emb_index *x);
void idx_query_prepare(const emb_index *x, const float *q, idx_query *qp, float *buf);
/* distance to stored vector i, lower is better */
float idx_dist(const emb_index *x, const idx_query *q, uint32_t i);
float idx_score(const emb_index *x, float dist); /* distance -> reported score */
/* exact distance of the f32 query q to vector i's refine copy */
float idx_refine_dist(const emb_index *x, const float *q, uint32_t i);

/* top-k max-heap on distance: the root is the worst hit kept; equal
 * distances rank by slot, so the kept set does not depend on visit order */
typedef struct { float d; uint32_t i; } idx_hit;
void idx_heap_push(idx_hit *h, int *n, int cap, float d, uint32_t i);
void idx_hits_sort(idx_hit *h, int n);

/* ---- scratch.c ----
 * Searches keep their scratch in the index, as hnswlib's visited-list pool
 * does: a thread takes a block for its loop of queries and gives it back,
 * and the next search (on any thread) reuses it, grown to what it needed.
 * The pool holds as many blocks as searches ran at once; freed with the
 * index. */
typedef struct idx_scratch idx_scratch;
idx_pool *idx_pool_new(void);
void idx_pool_free(idx_pool *p);
/* A block from x's pool, or a new one; NULL out of memory. */
idx_scratch *idx_scratch_take(const emb_index *x);
/* Back to the pool (NULL: nothing): what it handed out is no longer valid. */
void idx_scratch_give(const emb_index *x, idx_scratch *s);
/* bytes from the block, 64-byte aligned, contents undefined, valid until
 * the block is given back; NULL out of memory. */
void *idx_scratch_alloc(idx_scratch *s, size_t bytes);
/* Visited marks of a graph walk: node i is visited when tag[i] == epoch.
 * A new walk takes the next epoch, so nothing is cleared between walks but
 * once every 65535 (2-byte tags: more of them stay in cache). */
typedef struct { uint16_t *tag; size_t n; uint16_t epoch; } idx_visited;
/* The block's marks, for n nodes (kept across takes); NULL out of memory. */
idx_visited *idx_scratch_visited(idx_scratch *s, size_t n);
/* Starts a walk: the epoch it marks with.  On the wrap every mark is
 * cleared, those past the index's current size too (it may grow again). */
static inline uint16_t idx_visited_begin(idx_visited *v)
{
    if (++v->epoch == 0) {
        memset(v->tag, 0, v->n * sizeof *v->tag);
        v->epoch = 1;
    }
    return v->epoch;
}

/* ---- progress.c ----
 * Progress of one long phase for the index's callback: from the calling
 * thread only, at most every 100 ms, and once more at the end (done =
 * total).  Without a callback, a few instructions a tick. */
typedef struct { const emb_index *x; const char *phase; size_t total; double next; } idx_ticker;
void idx_tick_start(idx_ticker *t, const emb_index *x, const char *phase, size_t total);
void idx_tick(idx_ticker *t, size_t done);
void idx_tick_end(idx_ticker *t);

/* ---- crc32.c ---- */
uint32_t idx_crc32(uint32_t crc, const void *data, size_t len);
#endif
