/* Times ember_tokenize through the public API only, one thread.
 *   bench_tokenizer MODEL.gguf CORPUS [--repeats N] [--name NAME]
 *                   [--ids-out FILE] [--no-special]
 * CORPUS holds one document per line (UTF-8; the newline is not part of the
 * document).  Every document is tokenized whole (max_length 0: no
 * truncation) with the model's special tokens unless --no-special, ids and
 * type ids, as `ember tokenize` does.  One warm-up pass over the corpus, then
 * N timed passes (default 5); prints one JSON line with the median pass's
 * throughput in MB/s (10^6 bytes of document text a second).  --ids-out
 * writes the warm-up pass's ids for bench/tok_peer.py to compare: per
 * document an int32 count then that many int32 ids, native byte order. */
#include "ember.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    char *data;      /* the whole file */
    size_t *start;   /* byte offset of document i */
    size_t *len;     /* its length, newline excluded */
    size_t n, bytes; /* documents, bytes of text */
    size_t longest;
} corpus;

static int corpus_read(const char *path, corpus *cp)
{
    memset(cp, 0, sizeof *cp);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    size_t cap = 1 << 20, size = 0;
    cp->data = malloc(cap);
    for (size_t got; cp->data && (got = fread(cp->data + size, 1, cap - size, f)) > 0;) {
        size += got;
        if (size == cap) {
            char *d = realloc(cp->data, cap *= 2);
            if (!d) { free(cp->data); cp->data = NULL; }
            else cp->data = d;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!cp->data || bad) { fprintf(stderr, "bench_tokenizer: cannot read %s\n", path); free(cp->data); return -1; }
    size_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += cp->data[i] == '\n';
    lines += size > 0 && cp->data[size - 1] != '\n';
    cp->start = malloc((lines + 1) * sizeof *cp->start);
    cp->len = malloc((lines + 1) * sizeof *cp->len);
    if (!cp->start || !cp->len) { fprintf(stderr, "bench_tokenizer: out of memory\n"); return -1; }
    for (size_t p = 0; p < size;) {
        const char *nl = memchr(cp->data + p, '\n', size - p);
        size_t e = nl ? (size_t)(nl - cp->data) : size;
        if (e > p) { /* empty lines are no documents */
            cp->start[cp->n] = p;
            cp->len[cp->n] = e - p;
            cp->bytes += e - p;
            if (e - p > cp->longest) cp->longest = e - p;
            cp->n++;
        }
        p = e + 1;
    }
    return 0;
}

static void corpus_free(corpus *cp)
{
    free(cp->data); free(cp->start); free(cp->len);
}

/* One pass over the corpus; ids of each document to out when out != NULL.
 * Returns the total number of ids, or -1 after printing the failure. */
static long long pass(ember_ctx *c, const corpus *cp, int special, int32_t *ids, int32_t *types, int cap, FILE *out)
{
    long long total = 0;
    for (size_t i = 0; i < cp->n; i++) {
        int n;
        if (ember_tokenize(c, cp->data + cp->start[i], cp->len[i], NULL, 0, special, 0, ids, types, cap, &n) != EMBER_OK) {
            fprintf(stderr, "bench_tokenizer: document %zu: %s\n", i, ember_ctx_error(c));
            return -1;
        }
        total += n;
        if (out) {
            int32_t n32 = n;
            if (fwrite(&n32, sizeof n32, 1, out) != 1 || fwrite(ids, sizeof *ids, (size_t)n, out) != (size_t)n) {
                fprintf(stderr, "bench_tokenizer: error writing ids\n");
                return -1;
            }
        }
    }
    return total;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tokenizer MODEL.gguf CORPUS [--repeats N] [--name NAME] [--ids-out FILE] [--no-special]\n");
        return 2;
    }
    const char *model = argv[1], *path = argv[2], *name = NULL, *ids_out = NULL;
    int R = 5, special = 1;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--no-special")) { special = 0; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "bench_tokenizer: %s needs a value\n", argv[i]); return 2; }
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--repeats")) R = atoi(v);
        else if (!strcmp(argv[i - 1], "--name")) name = v;
        else if (!strcmp(argv[i - 1], "--ids-out")) ids_out = v;
        else { fprintf(stderr, "bench_tokenizer: unknown option %s\n", argv[i - 1]); return 2; }
    }
    if (R < 1) { fprintf(stderr, "bench_tokenizer: --repeats must be >= 1\n"); return 2; }
    char err[512];
    ember_model *m = ember_model_load(model, err, sizeof err);
    if (!m) { fprintf(stderr, "bench_tokenizer: %s\n", err); return 1; }
    ember_model_info info;
    ember_model_get_info(m, &info);
    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = 1;
    p.n_threads = 1;
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    if (!c) { fprintf(stderr, "bench_tokenizer: %s\n", err); return 1; }
    corpus cp;
    if (corpus_read(path, &cp) != 0) return 1;
    if (cp.n == 0) { fprintf(stderr, "bench_tokenizer: %s holds no documents\n", path); return 1; }
    /* the header's bound: 3 ids per byte (NFC may triple a text) plus 16 */
    if (cp.longest > (size_t)(INT32_MAX - 16) / 3) { fprintf(stderr, "bench_tokenizer: a document is too long\n"); return 1; }
    int cap = (int)(3 * cp.longest + 16);
    int32_t *ids = malloc((size_t)cap * sizeof *ids), *types = malloc((size_t)cap * sizeof *types);
    double *wall = malloc((size_t)R * sizeof *wall), *cpu = malloc((size_t)R * sizeof *cpu);
    if (!ids || !types || !wall || !cpu) { fprintf(stderr, "bench_tokenizer: out of memory\n"); return 1; }

    FILE *out = NULL;
    if (ids_out && !(out = fopen(ids_out, "wb"))) { perror(ids_out); return 1; }
    long long tokens = pass(c, &cp, special, ids, types, cap, out); /* the warm-up */
    if (tokens < 0) return 1;
    if (out && fclose(out) != 0) { perror(ids_out); return 1; }
    for (int r = 0; r < R; r++) {
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        long long t = pass(c, &cp, special, ids, types, cap, NULL);
        cpu[r] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        wall[r] = clock_s(CLOCK_MONOTONIC) - w0;
        if (t != tokens) { fprintf(stderr, "bench_tokenizer: pass %d gave %lld ids, the warm-up %lld\n", r, t, tokens); return 1; }
    }
    double med = 0, cmed;
    printf("{\"engine\": \"ember\", \"tokenizer\": \"%s\", \"algorithm\": \"%s\", \"mode\": \"ember_tokenize\", \"threads\": 1, "
           "\"docs\": %zu, \"bytes\": %zu, \"tokens\": %lld, \"repeats\": %d, \"times_s\": [",
           name ? name : model, info.tokenizer ? info.tokenizer : "?", cp.n, cp.bytes, tokens, R);
    for (int r = 0; r < R; r++) printf(r ? ", %.4f" : "%.4f", wall[r]);
    qsort(wall, (size_t)R, sizeof *wall, cmp_double);
    qsort(cpu, (size_t)R, sizeof *cpu, cmp_double);
    med = wall[R / 2];
    cmed = cpu[R / 2];
    printf("], \"median_s\": %.4f, \"cpu_median_s\": %.4f, \"mb_per_s\": %.3f, \"mb_per_s_best\": %.3f, \"tokens_per_s\": %.0f}\n",
           med, cmed, cp.bytes / 1e6 / med, cp.bytes / 1e6 / wall[0], tokens / med);
    free(ids); free(types); free(wall); free(cpu);
    corpus_free(&cp);
    ember_ctx_free(c);
    ember_model_free(m);
    return 0;
}
