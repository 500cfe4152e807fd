/* The vector index: exact (flat) search and HNSW over f32, int8 and binary
 * vectors, one file per index, opened by mmap.  Queries are always f32; the
 * index quantises them to its own vector type.
 *
 * Scores: ip and cosine report the inner product (higher is better), l2 the
 * squared distance and hamming the bit distance (lower is better); a binary
 * index with rescore reports the rescored inner product (higher is better).
 * Results are sorted best first.  Binary codes: component d is bit d % 64 of
 * 64-bit word d / 64 (set when the component is > 0).
 *
 * Thread-safety: searches on one index may run concurrently; add, delete and
 * save must not overlap with anything else on the same index. */
#ifndef EMBER_INDEX_INDEX_H
#define EMBER_INDEX_INDEX_H

#include "index/index_types.h"

emb_index *idx_create(idx_type type, idx_metric metric, idx_vec vec, int dim,
                      const idx_params *p, char *err, size_t errlen);
void idx_free(emb_index *x);

/* Adds n vectors (n x dim floats) with 64-bit ids and optional texts (NULL,
 * or n strings, NULL entries allowed).  int8 indexes calibrate their
 * per-dimension ranges on the first batch added; IVF-PQ trains its coarse
 * quantizer and codebooks on (a sample of) the first batch, which must hold
 * at least max(nlist, 256) vectors. */
idx_status idx_add(emb_index *x, const float *vecs, const int64_t *ids, const char *const *texts,
                   size_t n, int n_threads, char *err, size_t errlen);
/* Ids are 0 .. INT64_MAX (-1 pads search results).  A batch holding a
 * negative id, an id twice, or an id the index already holds live is
 * refused whole, the id named in the message: nothing is added.  With
 * replace (upsert), an id already held is replaced instead: its old vector
 * is tombstoned once the new one is in, and its text is the new one's.  Out
 * of memory (IDX_ERR_NOMEM) leaves the index as it was, but for the training
 * a first batch does. */
idx_status idx_add_ex(emb_index *x, const float *vecs, const int64_t *ids, const char *const *texts,
                      size_t n, int replace, int n_threads, char *err, size_t errlen);
/* Largest id of any stored vector (deleted ones too), -1 when none. */
int64_t idx_id_max(const emb_index *x);
/* 1 when id is held by a live (not deleted) vector. */
int idx_has_id(const emb_index *x, int64_t id);
/* Live vectors whose id another live vector holds too: none in an index
 * written by this version; files written before ids were unique may have
 * them (idx_text then gives each the newest one's text). */
size_t idx_duplicate_ids(const emb_index *x);
/* Calibrates int8 ranges and trains IVF-PQ on n vectors without adding
 * them (idx_add does it on its first batch otherwise); a no-op for what
 * needs no training.  Refused once vectors are stored: training is fixed. */
idx_status idx_train(emb_index *x, const float *vecs, size_t n, int n_threads, char *err, size_t errlen);
/* Marks id deleted (never returned again); IDX_ERR_ARG if no live vector
 * has it, IDX_ERR_NOMEM if a mapped index cannot be copied into memory. */
idx_status idx_delete(emb_index *x, int64_t id, char *err, size_t errlen);
/* Rebuilds without deleted vectors (HNSW re-links from scratch). */
idx_status idx_compact(emb_index *x, int n_threads, char *err, size_t errlen);

/* nq queries (nq x dim floats) -> k ids and scores each (-1 / NAN pads when
 * fewer than k vectors exist). */
idx_status idx_search(const emb_index *x, const float *queries, size_t nq, int k,
                      const idx_search_params *sp, int64_t *out_ids, float *out_scores,
                      int n_threads, char *err, size_t errlen);

/* IDX_ERR_IO when the file cannot be written (the old one is then intact). */
idx_status idx_save(const emb_index *x, const char *path, char *err, size_t errlen);
emb_index *idx_open(const char *path, char *err, size_t errlen);
/* Recomputes, in place, every checksum of an index file image of len bytes
 * (the header's and each section's that lies inside the image) the way
 * idx_save writes them, so that crafted or mutated content reaches the
 * checks behind the checksums (fuzzing, tests).  0, or -1 when the image
 * does not start like an index file (left unchanged). */
int idx_file_reseal(void *img, size_t len);

typedef struct {
    idx_type type; idx_metric metric; idx_vec vec;
    int dim; size_t count, deleted; int M, ef_construction, rescore;
    int nlist, pq_m, pq_bits, refine;
    size_t bytes_per_vector; /* stored bytes per vector (codes, id, links, copies), text excluded */
    int mapped;
} idx_info;
void idx_get_info(const emb_index *x, idx_info *info);
/* Free-form metadata (e.g. the model file and its dimension), <= 255 bytes. */
void idx_set_meta(emb_index *x, const char *meta);
const char *idx_meta(const emb_index *x);
/* Stored text of a vector found by search, or NULL. */
const char *idx_text(const emb_index *x, int64_t id, size_t *len);
#endif
