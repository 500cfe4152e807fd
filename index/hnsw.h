/* HNSW graph: building (links) and walking it for a query.  Calls down
 * into the base only (index/base.h). */
#ifndef EMBER_INDEX_HNSW_H
#define EMBER_INDEX_HNSW_H

#include "index/base.h"

/* Links n new vectors from slot first; every allocation is made before the
 * first link, so on failure (IDX_ERR_NOMEM) no held node links to a new
 * one. */
idx_status hnsw_insert_range(emb_index *x, size_t first, size_t n, int n_threads, char *err, size_t errlen);
/* What one thread's walks need, carved from its scratch block (sc) for
 * beams up to ef; NULL out of memory.  Valid while sc is taken. */
void *hnsw_walk_scratch(const emb_index *x, idx_scratch *sc, int ef);
/* The k best of a beam of ef on layer 0 (seeded by a beam of ef_upper on
 * layer 1), sorted: slots in out, distances in dist; the count returned.
 * ws from hnsw_walk_scratch(x, sc, max(ef, ef_upper)). */
int hnsw_search(const emb_index *x, const idx_query *q, int k, int ef, int ef_upper, uint32_t *out, float *dist, void *ws);
#endif
