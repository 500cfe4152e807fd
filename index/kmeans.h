/* Lloyd's k-means with a seeded, sampled initialisation: deterministic for a
 * seed whatever the thread count (assignments are per point; centroid sums
 * are accumulated serially in point order). */
#ifndef EMBER_INDEX_KMEANS_H
#define EMBER_INDEX_KMEANS_H
#include <stddef.h>
#include <stdint.h>

/* x: n points of dim (row stride ld floats); centroids out: k x dim.
 * Returns the final mean squared distance, or -1 on bad arguments / memory.
 * on_iter (may be NULL) is called with ctx after each iteration, from the
 * calling thread. */
double kmeans_train(const float *x, size_t n, int dim, int ld, int k, int iters, uint64_t seed,
                    int n_threads, float *centroids, void (*on_iter)(void *ctx), void *ctx);
/* index of the nearest of k centroids (squared L2) */
int kmeans_nearest(const float *v, const float *centroids, int k, int dim, float *dist);
/* assign[i] = the nearest of k centroids to point i (row stride ld), its
 * squared distance in dist[i] when dist != NULL: blocks of points meet all
 * centroids in one GEMM (|c|^2 - 2 x.c), blocks spread over n_threads.  The
 * same answer for any thread count.  0, or -1 out of memory. */
int kmeans_assign(const float *x, size_t n, int dim, int ld, const float *centroids, int k, int n_threads,
                  int *assign, float *dist);
#endif
