/* Everything inside index/, for the tests that look inside an index.
 *
 * Who calls whom: every arrow points down, none sideways, and a file
 * includes the headers of what it calls and nothing above it
 * (tests/test_index_layers.c checks both on the built objects).
 *
 *   index_api.c    include/ember.h over index.h: ember's types, statuses, messages
 *       |
 *   file.c         save (new temporary + rename), open (mmap, every section checked)
 *       |
 *   index.c        create, free, train, add / upsert, delete, compact, info, texts
 *   search.c       queries: flat (GEMM, Hamming panels), HNSW, IVF-PQ; rescore, refine
 *       |    \
 *   hnsw.c    ivfpq.c      the algorithms: graph build and walk | IVF-PQ
 *       |        |
 *       |     kmeans.c     Lloyd's k-means (IVF-PQ's quantizers)
 *       |        |
 *   store.c distance.c scratch.c progress.c crc32.c       the base (index/base.h)
 *       |
 *   kernels/  sys/ (file.c only)
 *
 * index.c and search.c are siblings (neither calls the other), as are hnsw.c
 * and ivfpq.c.  Headers follow the calls: index_types.h (enums, parameters,
 * their names and defaults, defined in the base) <- base.h (the storage and
 * the base's calls) <- hnsw.h, ivfpq.h (the algorithms); index.h (the
 * layer's calls, for index_api.c, bench/ and the tests) includes
 * index_types.h only; this file includes them all. */
#ifndef EMBER_INDEX_INTERNAL_H
#define EMBER_INDEX_INTERNAL_H

#include "index/index.h"
#include "index/base.h"
#include "index/hnsw.h"
#include "index/ivfpq.h"
#include "index/kmeans.h"
#endif
