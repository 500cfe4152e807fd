/* Vector index benchmark, ember side.  Generates the data set (clustered,
 * anisotropic, normalised, seeded) and queries near but not on it, computes
 * the exact top-10 with the flat index, writes all three for the peers, then
 * times ember's HNSW (ef sweep), flat, binary + rescore and IVF-PQ, 8-bit
 * and 4-bit fast-scan (nprobe sweeps).  One JSON line per measurement, each
 * naming the kernel table that ran.
 *   bench_index --n N --dim D --nq Q --threads T --out DIR [--only hnsw,binary,ivfpq]
 * (the exact flat search always runs: it is the ground truth) */
#include "ember.h"
#include "index/index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t rs = 2024;
static double urand(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (rs >> 11) * (1.0 / 9007199254740992.0); }
static double nrand(void) { double u = urand() + 1e-12, v = urand(); return sqrt(-2 * log(u)) * cos(6.283185307 * v); }

/* clusters of skewed sizes spread along a few latent directions, as in tests/test_index.c */
static void gen(float *v, int n, int dim, int n_clusters, int lat, const float *c, const float *sc, const float *P)
{
    float *z = malloc(sizeof(float) * lat);
    for (int i = 0; i < n; i++) {
        int k = (int)(n_clusters * pow(urand(), 2.0));
        for (int j = 0; j < lat; j++) z[j] = sc[k * lat + j] * (float)nrand();
        double nn = 0;
        for (int d = 0; d < dim; d++) {
            float x = c[(size_t)k * dim + d] + 0.1f * (float)nrand();
            for (int j = 0; j < lat; j++) x += P[(size_t)d * lat + j] * z[j];
            v[(size_t)i * dim + d] = x;
            nn += (double)x * x;
        }
        for (int d = 0; d < dim; d++) v[(size_t)i * dim + d] /= (float)sqrt(nn);
    }
    free(z);
}

static void save(const char *dir, const char *name, uint32_t rows, uint32_t cols, const void *p, size_t elem)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&rows, 4, 1, f) != 1 || fwrite(&cols, 4, 1, f) != 1 ||
        fwrite(p, elem, (size_t)rows * cols, f) != (size_t)rows * cols || fclose(f) != 0) {
        fprintf(stderr, "bench_index: cannot write %s (does the --out folder exist?)\n", path);
        exit(1);
    }
}

static double recall(const int64_t *got, const int64_t *gt, int nq, int k)
{
    long hit = 0;
    for (int q = 0; q < nq; q++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (got[(size_t)q * k + i] == gt[(size_t)q * k + j]) { hit++; break; }
    return (double)hit / ((double)nq * k);
}

static double rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* best (shortest) of three runs of the same batch, as the peer harnesses */
static double timed_search(const emb_index *x, const float *q, int nq, int k, const idx_search_params *sp,
                           int64_t *got, float *sco, int T)
{
    double best = 1e30;
    char err[256];
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        if (idx_search(x, q, (size_t)nq, k, sp, got, sco, T, err, sizeof err) != 0) { fprintf(stderr, "search: %s\n", err); exit(1); }
        double t = now() - t0;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    int n = 200000, dim = 384, nq = 2000, T = 1, k = 10;
    const char *out = "build/bench-index", *only = "hnsw,binary,ivfpq";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dim")) dim = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--nq")) nq = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
        else if (!strcmp(argv[i], "--only")) only = argv[i + 1];
        else { fprintf(stderr, "bench_index: unknown option %s\n", argv[i]); return 2; }
    }
    int ncl = 100, lat = 24;
    float *c = malloc(sizeof(float) * ncl * dim), *sc = malloc(sizeof(float) * ncl * lat), *P = malloc(sizeof(float) * dim * lat);
    for (int i = 0; i < ncl * dim; i++) c[i] = (float)nrand();
    for (int i = 0; i < ncl * lat; i++) sc[i] = (float)(0.2 + urand());
    for (int i = 0; i < dim * lat; i++) P[i] = (float)(nrand() / sqrt(lat));
    float *data = malloc(sizeof(float) * (size_t)n * dim), *q = malloc(sizeof(float) * (size_t)nq * dim);
    gen(data, n, dim, ncl, lat, c, sc, P);
    for (int i = 0; i < nq; i++) { /* near a data point, not on it */
        int src = (int)(urand() * n);
        double nn = 0;
        for (int d = 0; d < dim; d++) { q[(size_t)i * dim + d] = data[(size_t)src * dim + d] + (float)(0.3 / sqrt(dim) * nrand()); nn += q[(size_t)i * dim + d] * q[(size_t)i * dim + d]; }
        for (int d = 0; d < dim; d++) q[(size_t)i * dim + d] /= (float)sqrt(nn);
    }
    int64_t *ids = malloc(sizeof(int64_t) * n), *gt = malloc(sizeof(int64_t) * nq * k), *got = malloc(sizeof(int64_t) * nq * 10 * k);
    float *sco = malloc(sizeof(float) * nq * 10 * k);
    for (int i = 0; i < n; i++) ids[i] = i;
    char err[256];
    const char *isa = ember_isa();

    /* exact: ground truth and the flat baseline */
    emb_index *flat = idx_create(IDX_FLAT, IDX_IP, IDX_F32, dim, NULL, err, sizeof err);
    idx_add(flat, data, ids, NULL, (size_t)n, T, err, sizeof err);
    double t0, tf = timed_search(flat, q, nq, k, NULL, gt, sco, T);
    printf("{\"engine\": \"ember\", \"index\": \"flat f32\", \"threads\": %d, \"param\": \"-\", \"recall\": 1.0, \"qps\": %.1f, \"build_s\": 0, \"bytes_per_vec\": %d, \"isa\": \"%s\"}\n", T, nq / tf, dim * 4, isa);
    fflush(stdout);
    save(out, "data.bin", (uint32_t)n, (uint32_t)dim, data, 4);
    save(out, "queries.bin", (uint32_t)nq, (uint32_t)dim, q, 4);
    save(out, "gt.bin", (uint32_t)nq, (uint32_t)k, gt, 8);
    idx_free(flat);

    /* HNSW, M 16, ef_construction 200 (hnswlib's and FAISS's common setting) */
    idx_params p = idx_default_params();
    idx_info info;
    double tb;
    /* f32, and int8 codes + f32 refine copies (graph built on the f32
     * copies, walked on the codes, the ef found re-ranked exactly) */
    for (int variant = 0; variant < 2 && strstr(only, "hnsw"); variant++) {
    p.refine = variant;
    emb_index *h = idx_create(IDX_HNSW, IDX_IP, variant ? IDX_I8 : IDX_F32, dim, &p, err, sizeof err);
    t0 = now();
    if (!h || idx_add(h, data, ids, NULL, (size_t)n, T, err, sizeof err) != 0) { fprintf(stderr, "hnsw: %s\n", err); return 1; }
    tb = now() - t0;
    idx_get_info(h, &info);
    int efs[] = {10, 16, 24, 32, 40, 48, 64, 128, 256};
    /* the default search (a beam of 8 on layer 1 seeds layer 0), and for
     * f32 also the greedy descent of the paper and hnswlib (ef_upper 1) */
    for (int greedy = 0; greedy < 2 - variant; greedy++)
    for (int e = 0; e < (int)(sizeof efs / sizeof *efs); e++) {
        idx_search_params sp = idx_default_search_params();
        sp.ef_search = efs[e];
        if (greedy) sp.ef_upper = 1;
        double ts = timed_search(h, q, nq, k, &sp, got, sco, T);
        printf("{\"engine\": \"ember\", \"index\": \"%s\", \"threads\": %d, \"param\": \"ef=%d\", \"recall\": %.4f, \"qps\": %.1f, \"build_s\": %.2f, \"bytes_per_vec\": %zu, \"isa\": \"%s\"}\n",
               variant ? "hnsw int8 walk + f32 refine" : greedy ? "hnsw f32, greedy descent (ef_upper 1)" : "hnsw f32", T, efs[e],
               recall(got, gt, nq, k), nq / ts, tb, info.bytes_per_vector, isa);
        fflush(stdout);
    }
    idx_free(h);
    }
    p = idx_default_params();

    /* binary + int8 rescore vs ember's own exact f32 search */
    if (strstr(only, "binary")) {
    p.rescore = 1;
    emb_index *b = idx_create(IDX_FLAT, IDX_HAMMING, IDX_BIN, dim, &p, err, sizeof err);
    t0 = now();
    idx_add(b, data, ids, NULL, (size_t)n, T, err, sizeof err);
    tb = now() - t0;
    idx_get_info(b, &info);
    int mults[] = {1, 4, 6, 10};
    for (int r = 0; r < 4; r++) {
        idx_search_params sp = idx_default_search_params();
        sp.rescore_mult = mults[r];
        double ts = timed_search(b, q, nq, k, &sp, got, sco, T);
        printf("{\"engine\": \"ember\", \"index\": \"binary + int8 rescore (flat)\", \"threads\": %d, \"param\": \"rescore x%d\", \"recall\": %.4f, \"qps\": %.1f, \"build_s\": %.2f, \"bytes_per_vec\": %zu, \"vs_exact\": %.1f, \"isa\": \"%s\"}\n",
               T, mults[r], recall(got, gt, nq, k), nq / ts, tb, info.bytes_per_vector, (nq / ts) / (nq / tf), isa);
        fflush(stdout);
    }
    idx_free(b);
    }

    /* IVF-PQ: nlist = 4 sqrt(n), 48-byte codes (dim / 8 sub-quantizers of 8
     * bits, or dim / 4 of 4 bits scanned by the fast-scan kernel), with and
     * without refine */
    for (int cfg = 0; cfg < 4 && strstr(only, "ivfpq"); cfg++) {
        int bits = cfg < 2 ? 8 : 4, refine = cfg % 2;
        p = idx_default_params();
        p.nlist = (int)(4 * sqrt((double)n));
        p.pq_bits = bits;
        p.pq_m = bits == 8 ? dim / 8 : dim / 4;
        p.refine = refine;
        emb_index *v = idx_create(IDX_IVFPQ, IDX_IP, IDX_F32, dim, &p, err, sizeof err);
        t0 = now();
        if (!v || idx_add(v, data, ids, NULL, (size_t)n, T, err, sizeof err) != 0) { fprintf(stderr, "ivfpq: %s\n", err); return 1; }
        tb = now() - t0;
        idx_get_info(v, &info);
        int probes[] = {4, 16, 64};
        for (int pi = 0; pi < 3; pi++) {
            idx_search_params sp = idx_default_search_params();
            sp.nprobe = probes[pi];
            double ts = timed_search(v, q, nq, k, &sp, got, sco, T);
            printf("{\"engine\": \"ember\", \"index\": \"%s nlist %d m %d%s\", \"threads\": %d, \"param\": \"nprobe=%d\", \"recall\": %.4f, \"qps\": %.1f, \"build_s\": %.2f, \"bytes_per_vec\": %zu, \"isa\": \"%s\"}\n",
                   bits == 8 ? "ivfpq" : "ivfpq 4-bit fast-scan", p.nlist, p.pq_m, refine ? " + refine" : "", T, probes[pi],
                   recall(got, gt, nq, k), nq / ts, tb, info.bytes_per_vector, isa);
            fflush(stdout);
        }
        idx_free(v);
    }
    printf("{\"engine\": \"ember\", \"peak_rss_mb\": %.1f, \"threads\": %d}\n", rss_mb(), T);
    return 0;
}
