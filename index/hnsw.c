/* HNSW (Malkov & Yashunin), laid out as hnswlib does: layer-0 links of every
 * node in one array of (2M + 1) uint32 (count, then neighbours), upper layers
 * per node.  Parallel build: per-node locks around every link list, a global
 * lock for the entry point, as hnswlib.
 *
 * int8 + refine: the graph is built on the exact f32 copies (the graph of an
 * f32 index), queries walk it on the int8 codes (a quarter of the memory
 * traffic) and the ef nodes found are re-ranked on the f32 copies. */
#include "index/hnsw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
    idx_visited *vis; /* a search's: its scratch block's (kept across searches); a build's: own */
    idx_visited own;
    idx_hit *cand, *res; /* heaps of capacity ef (res) and growing (cand) */
    int cand_cap;
    float *qbuf, *qbuf2;
    uint32_t *nb;    /* neighbour list copy */
    idx_hit *sel;    /* (ef) sorted results of a layer */
} hnsw_scratch;

static inline uint32_t *links_at(const emb_index *x, uint32_t i, int level)
{
    if (level == 0) return x->links0 + (size_t)i * (x->M0 + 1);
    return x->upper[i] + (size_t)(level - 1) * (x->M + 1);
}

#ifdef _OPENMP
#define LOCK(x, i) do { if ((x)->locks) omp_set_lock((omp_lock_t *)(x)->locks + (i)); } while (0)
#define UNLOCK(x, i) do { if ((x)->locks) omp_unset_lock((omp_lock_t *)(x)->locks + (i)); } while (0)
#else
#define LOCK(x, i) ((void)0)
#define UNLOCK(x, i) ((void)0)
#endif

/* min-heap on d (candidates) */
static void cand_push(idx_hit *h, int *n, float d, uint32_t i)
{
    int j = (*n)++;
    while (j > 0 && h[(j - 1) / 2].d > d) { h[j] = h[(j - 1) / 2]; j = (j - 1) / 2; }
    h[j] = (idx_hit){ d, i };
}

static idx_hit cand_pop(idx_hit *h, int *n)
{
    idx_hit top = h[0], last = h[--(*n)];
    int j = 0;
    for (;;) {
        int l = 2 * j + 1, r = l + 1, m = j;
        float md = last.d;
        if (l < *n && h[l].d < md) { m = l; md = h[l].d; }
        if (r < *n && h[r].d < md) m = r;
        if (m == j) break;
        h[j] = h[m];
        j = m;
    }
    if (*n > 0) h[j] = last;
    return top;
}

static void decode(const emb_index *x, uint32_t i, float *out)
{
    const unsigned char *c = x->codes + (size_t)i * x->code_bytes;
    if (x->vt == IDX_F32) memcpy(out, c, (size_t)x->dim * sizeof(float));
    else if (x->vt == IDX_I8)
        for (int d = 0; d < x->dim; d++) out[d] = ((const int8_t *)c)[d] * x->i8_scale[d] + x->i8_offset[d];
    else
        for (int d = 0; d < x->dim; d++) out[d] = (((const uint64_t *)c)[d / 64] >> (d % 64)) & 1 ? 1.0f : -1.0f;
}

/* Distance in the graph walk: a build walks on the exact copies when it has them. */
static inline float walk_dist(const emb_index *x, const idx_query *q, uint32_t i, int build)
{
    return build && x->refine_vecs ? idx_refine_dist(x, q->raw, i) : idx_dist(x, q, i);
}

/* Copies node i's list at level (under its lock during a build). */
static int read_links(const emb_index *x, uint32_t i, int level, uint32_t *out)
{
    LOCK(x, i);
    const uint32_t *l = links_at(x, i, level);
    int n = (int)l[0];
    memcpy(out, l + 1, (size_t)n * sizeof(uint32_t));
    UNLOCK(x, i);
    return n;
}

/* a vector's lines after its first */
static inline void prefetch_tail(const char *p, size_t len)
{
    for (size_t o = 64; o < len; o += 64) __builtin_prefetch(p + o);
}

/* what a walk is for: a query's answer (deleted nodes kept out of the
 * results), a build (on the refine copies when there are some), or a
 * query's entry points (the beam on layer 1) */
enum { WALK_SEARCH = 0, WALK_BUILD = 1, WALK_ENTRY = 2 };

/* Best ef nodes at one level from the seeds (n_seeds >= 1); results into
 * s->res (max-heap), count returned. */
static int search_layer(const emb_index *x, const idx_query *q, const idx_hit *seeds, int n_seeds, int ef, int level,
                        hnsw_scratch *s, int mode)
{
    const int build = mode == WALK_BUILD, skip_deleted_in_results = mode == WALK_SEARCH;
    /* what the walk reads of each node: a build on refine copies reads those */
    const int on_copies = build && x->refine_vecs;
    const char *vbase = on_copies ? (const char *)x->refine_vecs : (const char *)x->codes;
    const size_t vlen = on_copies ? (size_t)x->dim * sizeof(float) : x->code_bytes;
    uint16_t *const tag = s->vis->tag;
    const uint16_t epoch = idx_visited_begin(s->vis);
    int nc = 0, nr = 0;
    for (int i = 0; i < n_seeds; i++) {
        uint32_t ep = seeds[i].i;
        if (tag[ep] == epoch) continue;
        tag[ep] = epoch;
        cand_push(s->cand, &nc, seeds[i].d, ep);
        if (!(skip_deleted_in_results && x->deleted[ep])) idx_heap_push(s->res, &nr, ef, seeds[i].d, ep);
    }
    float bound = nr ? s->res[0].d : INFINITY;
    while (nc > 0) {
        idx_hit c = cand_pop(s->cand, &nc);
        if (c.d > bound && nr == ef) break;
        int m = read_links(x, c.i, level, s->nb), u = 0;
        /* unvisited neighbours first, the first line of each requested at
         * once, the rest of a vector while the one before it is computed:
         * asking for every line of every neighbour at once (up to 32 x 24
         * lines) overflowed the miss queues and ran 12% slower at 200k x 384 */
        for (int j = 0; j < m; j++) {
            uint32_t v = s->nb[j];
            if (tag[v] == epoch) continue;
            tag[v] = epoch;
            s->nb[u++] = v;
            __builtin_prefetch(vbase + (size_t)v * vlen);
        }
        if (u > 0) prefetch_tail(vbase + (size_t)s->nb[0] * vlen, vlen);
        if (nc > 0) { /* the next candidate's links, all their lines */
            const char *l = (const char *)links_at(x, s->cand[0].i, level);
            size_t len = (size_t)((level ? x->M : x->M0) + 1) * sizeof(uint32_t);
            for (const char *a = (const char *)((uintptr_t)l & ~(uintptr_t)63); a < l + len; a += 64) __builtin_prefetch(a);
        }
        for (int j = 0; j < u; j++) {
            uint32_t v = s->nb[j];
            if (j + 1 < u) prefetch_tail(vbase + (size_t)s->nb[j + 1] * vlen, vlen);
            float d = walk_dist(x, q, v, build);
            if (nr < ef || d < bound) {
                if (nc < s->cand_cap) cand_push(s->cand, &nc, d, v);
                if (!(skip_deleted_in_results && x->deleted[v])) idx_heap_push(s->res, &nr, ef, d, v);
                bound = nr == ef ? s->res[0].d : INFINITY;
            }
        }
    }
    return nr;
}

static uint32_t greedy(const emb_index *x, const idx_query *q, uint32_t ep, float *ep_d, int from, int to, hnsw_scratch *s,
                       int build)
{
    for (int level = from; level > to; level--) {
        int changed = 1;
        while (changed) {
            changed = 0;
            int m = read_links(x, ep, level, s->nb);
            for (int j = 0; j < m; j++) {
                float d = walk_dist(x, q, s->nb[j], build);
                if (d < *ep_d) { *ep_d = d; ep = s->nb[j]; changed = 1; }
            }
        }
    }
    return ep;
}

/* Stored vector a as a query (decoded into buf) for the build.  f32 vectors
 * and refine copies are stored as queries see them (normalised for cosine):
 * their distances need no copy. */
static void as_query(const emb_index *x, uint32_t a, idx_query *q, float *buf)
{
    if (x->refine_vecs) {
        q->raw = x->refine_vecs + (size_t)a * x->dim;
        return;
    }
    if (x->vt == IDX_F32) {
        q->q = (float *)(void *)(x->codes + (size_t)a * x->code_bytes);
        return;
    }
    if (x->vt == IDX_I8) {
        /* decoded, normalised for cosine and put in the f32 x int8 kernel's
         * form (q * scale, sum q * offset) in one pass: no re-quantisation */
        const int8_t *c = (const int8_t *)(x->codes + (size_t)a * x->code_bytes);
        float cc = 0, qq = 0;
        for (int d = 0; d < x->dim; d++) {
            float f = c[d] * x->i8_scale[d] + x->i8_offset[d];
            buf[d] = f * x->i8_scale[d];
            cc += f * x->i8_offset[d];
            qq += f * f;
        }
        if (x->metric == IDX_COSINE && qq > 0) {
            float inv = 1.0f / sqrtf(qq);
            for (int d = 0; d < x->dim; d++) buf[d] *= inv;
            cc *= inv;
            qq = 1;
        }
        *q = (idx_query){ .q = buf, .c = cc, .qq = qq };
        return;
    }
    decode(x, a, buf + idx_query_floats(x));
    idx_query_prepare(x, buf + idx_query_floats(x), q, buf);
}

/* Algorithm 4 (hnswlib's heuristic): keep a candidate only if it is closer to
 * the base than to every neighbour kept so far.  cand sorted ascending. */
static int select_neighbors(const emb_index *x, idx_hit *cand, int n, int M, float *buf)
{
    if (n <= M) return n;
    int kept = 0;
    for (int i = 0; i < n && kept < M; i++) {
        idx_query cq;
        int good = 1;
        if (kept) as_query(x, cand[i].i, &cq, buf);
        for (int j = 0; j < kept; j++)
            if (walk_dist(x, &cq, cand[j].i, 1) < cand[i].d) { good = 0; break; }
        if (good) cand[kept++] = cand[i];
    }
    return kept;
}

/* A build thread's scratch, its visited marks its own */
static int scratch_init(const emb_index *x, hnsw_scratch *s, int ef)
{
    memset(s, 0, sizeof *s);
    s->own.n = x->n ? x->n : 1;
    s->own.tag = calloc(s->own.n, sizeof(uint16_t));
    s->vis = &s->own;
    s->cand_cap = ef * 8 + 4096;
    s->cand = malloc((size_t)s->cand_cap * sizeof(idx_hit));
    s->res = malloc(((size_t)ef + x->M0 + 2) * sizeof(idx_hit));
    size_t qf = idx_query_floats(x) + (size_t)x->dim;
    s->qbuf = malloc(qf * sizeof(float) + 64);
    s->qbuf2 = malloc(qf * sizeof(float) + 64);
    s->nb = malloc(((size_t)x->M0 + 2) * sizeof(uint32_t));
    s->sel = malloc(((size_t)ef + 1) * sizeof(idx_hit));
    return s->own.tag && s->cand && s->res && s->qbuf && s->qbuf2 && s->nb && s->sel ? 0 : -1;
}

static void scratch_free(hnsw_scratch *s)
{
    free(s->own.tag); free(s->cand); free(s->res); free(s->qbuf); free(s->qbuf2); free(s->nb); free(s->sel);
}

/* Adds `add` as a neighbour of v at level, shrinking v's list by the heuristic when full. */
static void link_back(emb_index *x, uint32_t v, uint32_t add, float d, int level, hnsw_scratch *s)
{
    int cap = level ? x->M : x->M0;
    LOCK(x, v);
    uint32_t *l = links_at(x, v, level);
    int n = (int)l[0];
    for (int j = 0; j < n; j++) if (l[1 + j] == add) { UNLOCK(x, v); return; }
    if (n < cap) {
        l[1 + n] = add;
        l[0] = (uint32_t)(n + 1);
        UNLOCK(x, v);
        return;
    }
    /* v's list is full: re-select among its neighbours and the newcomer */
    idx_query vq;
    as_query(x, v, &vq, s->qbuf2);
    idx_hit c[257];
    int m = 0;
    for (int j = 0; j < n; j++) c[m++] = (idx_hit){ walk_dist(x, &vq, l[1 + j], 1), l[1 + j] };
    c[m++] = (idx_hit){ d, add };
    idx_hits_sort(c, m);
    int kept = select_neighbors(x, c, m, cap, s->qbuf2);
    for (int j = 0; j < kept; j++) l[1 + j] = c[j].i;
    l[0] = (uint32_t)kept;
    UNLOCK(x, v);
}

static void insert_one(emb_index *x, uint32_t i, hnsw_scratch *s, int *global_ready)
{
    int level = x->levels[i];
    idx_query q;
    as_query(x, i, &q, s->qbuf);
    uint32_t ep;
    int maxl;
    #pragma omp critical(hnsw_entry)
    {
        ep = x->entry;
        maxl = x->max_level;
        if (!*global_ready) { x->entry = i; x->max_level = level; *global_ready = 1; ep = UINT32_MAX; }
    }
    if (ep == UINT32_MAX) return; /* the first node */
    float ep_d = walk_dist(x, &q, ep, 1);
    ep = greedy(x, &q, ep, &ep_d, maxl, level, s, 1);
    idx_hit *sel = s->sel;
    for (int l = level < maxl ? level : maxl; l >= 0; l--) {
        int nr = search_layer(x, &q, &(idx_hit){ ep_d, ep }, 1, x->p.ef_construction, l, s, WALK_BUILD);
        memcpy(sel, s->res, (size_t)nr * sizeof(idx_hit));
        idx_hits_sort(sel, nr);
        ep = sel[0].i;
        ep_d = sel[0].d;
        int cap = l ? x->M : x->M0;
        int m = select_neighbors(x, sel, nr, x->M, s->qbuf2); /* M per layer, as hnswlib */
        if (m > cap) m = cap;
        LOCK(x, i);
        uint32_t *li = links_at(x, i, l);
        for (int j = 0; j < m; j++) li[1 + j] = sel[j].i;
        li[0] = (uint32_t)m;
        UNLOCK(x, i);
        for (int j = 0; j < m; j++) link_back(x, sel[j].i, i, sel[j].d, l, s);
    }
    if (level > maxl) {
        #pragma omp critical(hnsw_entry)
        if (level > x->max_level) { x->max_level = level; x->entry = i; }
    }
}

static int thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

idx_status hnsw_insert_range(emb_index *x, size_t first, size_t n, int n_threads, char *err, size_t errlen)
{
    if (n_threads < 1) n_threads = 1;
    /* everything the insertion needs is allocated before the first link:
     * once a held node links to a new one, there is no way back */
    const uint64_t rng0 = x->rng;
    /* a cache line or more each: the threads write their epochs */
    typedef struct { _Alignas(64) hnsw_scratch s; } own_scratch;
    own_scratch *sc = aligned_alloc(64, (size_t)n_threads * sizeof *sc);
    if (sc) memset(sc, 0, (size_t)n_threads * sizeof *sc);
    int bad = !sc;
    for (int t = 0; t < n_threads && !bad; t++) bad = scratch_init(x, &sc[t].s, x->p.ef_construction) != 0;
#ifdef _OPENMP
    omp_lock_t *locks = bad ? NULL : malloc(x->n * sizeof(omp_lock_t));
    bad = bad || !locks;
#endif
    /* levels drawn serially from the seeded generator: the same graph shape for any thread count */
    double mult = 1.0 / log((double)x->M);
    for (size_t i = first; i < first + n && !bad; i++) {
        x->rng ^= x->rng << 13; x->rng ^= x->rng >> 7; x->rng ^= x->rng << 17;
        double u = ((x->rng >> 11) + 1) * (1.0 / 9007199254740993.0);
        int lv = (int)(-log(u) * mult);
        x->levels[i] = (uint8_t)(lv > IDX_MAX_LEVEL ? IDX_MAX_LEVEL : lv);
        x->links0[i * (size_t)(x->M0 + 1)] = 0;
        x->upper[i] = NULL;
        if (x->levels[i]) {
            x->upper[i] = calloc((size_t)x->levels[i] * (x->M + 1), sizeof(uint32_t));
            bad = !x->upper[i];
        }
    }
    if (bad) {
        for (size_t i = first; i < first + n; i++) { free(x->upper[i]); x->upper[i] = NULL; }
        x->rng = rng0;
        for (int t = 0; sc && t < n_threads; t++) scratch_free(&sc[t].s);
        free(sc);
#ifdef _OPENMP
        free(locks);
#endif
        return snprintf(err, errlen, "out of memory building the graph"), IDX_ERR_NOMEM;
    }
#ifdef _OPENMP
    for (size_t i = 0; i < x->n; i++) omp_init_lock(&locks[i]);
    x->locks = n_threads > 1 ? locks : NULL;
#endif
    idx_ticker tk;
    idx_tick_start(&tk, x, "link", n);
    int ready = first > 0;
    size_t start = first, done = 0;
    if (!ready) insert_one(x, (uint32_t)start++, &sc[0].s, &ready); /* the first node alone: every later insert has an entry */
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1)
    {
        hnsw_scratch *s = &sc[thread_num()].s;
        #pragma omp for schedule(dynamic, 64)
        for (size_t i = start; i < first + n; i++) {
            insert_one(x, (uint32_t)i, s, &ready);
            size_t d;
            #pragma omp atomic capture
            d = ++done;
            if (thread_num() == 0) idx_tick(&tk, d); /* the calling thread reports */
        }
    }
    idx_tick_end(&tk);
#ifdef _OPENMP
    for (size_t i = 0; i < x->n; i++) omp_destroy_lock(&locks[i]);
    free(locks);
    x->locks = NULL;
#endif
    for (int t = 0; t < n_threads; t++) scratch_free(&sc[t].s);
    free(sc);
    return IDX_OK;
}

void *hnsw_walk_scratch(const emb_index *x, idx_scratch *sc, int ef)
{
    hnsw_scratch *s = idx_scratch_alloc(sc, sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    /* as a build's, less the query buffers: a search never makes a stored
     * vector its query */
    s->vis = idx_scratch_visited(sc, x->n);
    s->cand_cap = ef * 8 + 4096;
    s->cand = idx_scratch_alloc(sc, (size_t)s->cand_cap * sizeof(idx_hit));
    s->res = idx_scratch_alloc(sc, ((size_t)ef + x->M0 + 2) * sizeof(idx_hit));
    s->nb = idx_scratch_alloc(sc, ((size_t)x->M0 + 2) * sizeof(uint32_t));
    s->sel = idx_scratch_alloc(sc, ((size_t)ef + 1) * sizeof(idx_hit));
    return s->vis && s->cand && s->res && s->nb && s->sel ? s : NULL;
}

int hnsw_search(const emb_index *x, const idx_query *q, int k, int ef, int ef_upper, uint32_t *out, float *dist, void *ws)
{
    hnsw_scratch *s = ws;
    if (x->n == 0) return 0;
    float ep_d = idx_dist(x, q, x->entry);
    /* greedy down to layer 1, then a beam of ef_upper there: its nodes seed
     * layer 0.  A greedy descent alone (hnswlib's) can end in the wrong
     * cluster of well separated data and then miss all k: at 200k
     * clustered vectors, 5% of queries found none of their 10 at ef 32 */
    uint32_t ep = greedy(x, q, x->entry, &ep_d, x->max_level, ef_upper > 1 ? 1 : 0, s, 0);
    idx_hit seed = { ep_d, ep };
    const idx_hit *seeds = &seed;
    int n_seeds = 1;
    if (ef_upper > 1 && x->max_level >= 1) {
        n_seeds = search_layer(x, q, &seed, 1, ef_upper, 1, s, WALK_ENTRY);
        memcpy(s->sel, s->res, (size_t)n_seeds * sizeof(idx_hit));
        seeds = s->sel;
    }
    int nr = search_layer(x, q, seeds, n_seeds, ef, 0, s, WALK_SEARCH);
    if (x->refine_vecs)
        for (int i = 0; i < nr; i++) s->res[i].d = idx_refine_dist(x, q->raw, s->res[i].i);
    idx_hits_sort(s->res, nr);
    int m = nr < k ? nr : k;
    for (int i = 0; i < m; i++) { out[i] = s->res[i].i; dist[i] = s->res[i].d; }
    return m;
}
