/* IVF-PQ: training (k-means, index/kmeans.h), encoding, the inverted lists,
 * and the scan of a query's lists.  Calls down into kmeans.c and the base. */
#ifndef EMBER_INDEX_IVFPQ_H
#define EMBER_INDEX_IVFPQ_H

#include "index/base.h"

idx_status ivfpq_train(emb_index *x, const float *v, size_t n, int n_threads, char *err, size_t errlen);
/* lists and codes of n vectors (as given: normalised here for cosine) into slots first.. */
int ivfpq_encode_batch(emb_index *x, const float *vecs, size_t n, size_t first, int n_threads);
int ivfpq_build_lists(emb_index *x);
/* lists to visit into probe (nprobe hits); qc: q . centroids when known, else NULL */
int ivfpq_probe(const emb_index *x, const float *q, const float *qc, int nprobe, idx_hit *probe);
/* candidates of those lists into heap (max-heap of cap), distance lower-better; returns count */
int ivfpq_scan(const emb_index *x, const float *q, int cap, const idx_hit *probe, int np, idx_hit *heap, float *scratch);
size_t ivfpq_scratch_floats(const emb_index *x);
#endif
