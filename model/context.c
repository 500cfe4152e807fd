/* ember_ctx: every byte of scratch an inference stream needs, allocated once. */
#include "model/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Rows (tokens) per forward chunk: large enough for efficient GEMMs, small
 * enough that activations stay a few tens of MB whatever the batch. */
#define CHUNK_ROWS 2048

const char *ember_status_str(ember_status s)
{
    switch (s) {
    case EMBER_OK: return "ok";
    case EMBER_ERR_ARG: return "invalid argument";
    case EMBER_ERR_IO: return "I/O error";
    case EMBER_ERR_FORMAT: return "bad file format";
    case EMBER_ERR_UNSUPPORTED: return "unsupported";
    case EMBER_ERR_NOMEM: return "out of memory";
    case EMBER_ERR_TEXT: return "invalid text";
    case EMBER_ERR_LIMIT: return "limit exceeded";
    case EMBER_ERR_NUMERIC: return "non-finite output";
    case EMBER_ERR_BUSY: return "held by another writer";
    }
    return "unknown status";
}

const char *ember_isa(void) { return kern_ops_get()->name; }

const char *ember_isa_note(void) { return kern_dispatch_note(); }

ember_ctx_params ember_ctx_default_params(void)
{
    ember_ctx_params p = { .max_batch = 32, .max_tokens = 0, .n_threads = 0, .bf16_dot = 0 };
    return p;
}

/* Threads when the caller gives none: EMBER_THREADS, else every core.  A
 * set but unusable EMBER_THREADS is an error (-1, message in err): running
 * on some other count would hide the typo. */
static int default_threads(char *err, size_t errlen)
{
    const char *e = getenv("EMBER_THREADS");
    if (e && *e) {
        char *end;
        errno = 0;
        long v = strtol(e, &end, 10);
        if (errno || end == e || *end != '\0' || v < 1 || v > 1024) {
            snprintf(err, errlen, "EMBER_THREADS=%.40s is not a thread count (a whole number in 1..1024)", e);
            return -1;
        }
        return (int)v;
    }
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

/* bf16_dot when the caller leaves it to the environment: EMBER_BF16_DOT
 * "1" on, "0" or unset off, anything else an error (-1, message in err). */
static int default_bf16_dot(char *err, size_t errlen)
{
    const char *e = getenv("EMBER_BF16_DOT");
    if (!e || !*e || strcmp(e, "0") == 0) return 0;
    if (strcmp(e, "1") == 0) return 1;
    snprintf(err, errlen, "EMBER_BF16_DOT=%.40s is neither 0 nor 1", e);
    return -1;
}

static void *alloc64(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) & ~(size_t)63;
    return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
}

ember_ctx *ember_ctx_create(const ember_model *m, const ember_ctx_params *p,
                            char *err, size_t errlen)
{
    char tmp[EMBER_ERR_LEN];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    if (!m) { snprintf(err, errlen, "no model"); return NULL; }
    ember_ctx_params d = ember_ctx_default_params();
    if (!p) p = &d;
    if (p->max_batch < 0 || p->max_batch > 65536 || p->max_tokens < 0 || p->n_threads < 0 || p->n_threads > 1024) {
        snprintf(err, errlen, "context parameters out of range (max_batch %d, max_tokens %d, n_threads %d)",
                 p->max_batch, p->max_tokens, p->n_threads);
        return NULL;
    }
    if (p->bf16_dot < -1 || p->bf16_dot > 1) {
        snprintf(err, errlen, "context parameter bf16_dot is %d: 1 on, -1 off, 0 from EMBER_BF16_DOT", p->bf16_dot);
        return NULL;
    }
    int n_threads = p->n_threads ? p->n_threads : default_threads(err, errlen);
    if (n_threads < 0) return NULL;
    int bf16_dot = p->bf16_dot ? p->bf16_dot == 1 : default_bf16_dot(err, errlen);
    if (bf16_dot < 0) return NULL;
    ember_ctx *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return NULL; }
    c->m = m;
    c->k = kern_ops_get();
    c->max_batch = p->max_batch ? p->max_batch : 32;
    c->max_tokens = p->max_tokens && p->max_tokens < m->max_tokens ? p->max_tokens : m->max_tokens;
    if (c->max_tokens < 4) c->max_tokens = m->max_tokens < 4 ? m->max_tokens : 4;
    c->n_threads = n_threads;
    c->bf16_dot = bf16_dot;
    size_t want = (size_t)c->max_batch * (size_t)c->max_tokens;
    c->max_rows = (int)(want < CHUNK_ROWS ? want : CHUNK_ROWS);
    if (c->max_rows < c->max_tokens) c->max_rows = c->max_tokens;

    size_t rows = (size_t)c->max_rows;
    c->ids = calloc(rows, sizeof(int32_t));
    c->type_ids = calloc(rows, sizeof(int32_t));
    c->pos_ids = calloc(rows, sizeof(int32_t));
    c->off = calloc((size_t)c->max_batch + 1, sizeof(int));
    c->keep = calloc((size_t)c->max_batch, sizeof(int));
    /* one more than max_tokens: an input that gives that many was cut */
    c->tok_ids = calloc((size_t)c->max_tokens + 1, sizeof(int32_t));
    c->tok_types = calloc((size_t)c->max_tokens + 1, sizeof(int32_t));
    c->bytes = rows * 3 * sizeof(int32_t) + ((size_t)c->max_batch * 2 + 1) * sizeof(int) +
               (size_t)c->max_tokens * 2 * sizeof(int32_t);
    if (!c->ids || !c->type_ids || !c->pos_ids || !c->off || !c->keep || !c->tok_ids || !c->tok_types) goto oom;
    if (m->has_weights) {
        size_t floats = m->arch->scratch_floats(c);
        c->block_bytes = floats * sizeof(float);
        c->block = alloc64(c->block_bytes);
        c->head_tmp = alloc64(2 * (size_t)m->dims.hidden * sizeof(float));
        if (!c->block || !c->head_tmp) goto oom;
        m->arch->scratch_init(c, c->block);
        c->bytes += c->block_bytes + 2 * (size_t)m->dims.hidden * sizeof(float);
    }
    c->long_overlap = -1;
    if (m->has_weights) {
        /* sliding windows of long texts and pairs: one pass's content
         * tokens fit in max_rows (its windows are at most max_tokens each,
         * staged together); an embedder sums one window's vector at a time
         * (a reranker keeps the best logit, in its output) */
        const int embedder = m->kind == EMBER_KIND_EMBEDDER;
        c->long_seq = calloc((size_t)c->max_batch, 1);
        c->slide_ids = calloc(rows, sizeof(int32_t));
        c->slide_vec = embedder ? calloc((size_t)m->dims.hidden, sizeof(float)) : NULL;
        if (!c->long_seq || !c->slide_ids || (embedder && !c->slide_vec)) goto oom;
        c->bytes += (size_t)c->max_batch + rows * sizeof(int32_t) +
                    (embedder ? (size_t)m->dims.hidden * sizeof(float) : 0);
    }
    return c;
oom:
    snprintf(err, errlen, "out of memory allocating context scratch (max_batch %d, max_tokens %d)",
             c->max_batch, c->max_tokens);
    ember_ctx_free(c);
    return NULL;
}

void ember_ctx_free(ember_ctx *c)
{
    if (!c) return;
    free(c->block); free(c->head_tmp); free(c->task); free(c->prefix); free(c->fmt);
    free(c->ids); free(c->type_ids); free(c->pos_ids); free(c->off); free(c->keep);
    free(c->tok_ids); free(c->tok_types); free(c->long_seq); free(c->slide_ids); free(c->slide_vec);
    free(c);
}

const char *ember_ctx_error(const ember_ctx *c) { return c ? c->err : "no context"; }
size_t ember_ctx_memory(const ember_ctx *c) { return c ? c->bytes : 0; }
int ember_ctx_threads(const ember_ctx *c) { return c ? c->n_threads : 0; }
int ember_ctx_bf16_dot(const ember_ctx *c) { return c && c->bf16_dot && c->k->gemm_bf16dot ? 1 : 0; }
int ember_ctx_max_tokens(const ember_ctx *c) { return c ? c->max_tokens : 0; }
int ember_ctx_truncated(const ember_ctx *c) { return c ? c->n_truncated : 0; }
int ember_ctx_split(const ember_ctx *c) { return c ? c->n_split : 0; }
int ember_ctx_windows(const ember_ctx *c) { return c ? c->n_windows : 0; }
