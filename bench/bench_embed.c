/* Times ember_embed / ember_rerank through the public API only.
 *   bench_embed MODEL.gguf --batch B --tokens L --threads T --repeats R
 *               [--rerank] [--ids-out FILE] [--text-out FILE] [--out FILE]
 * Inputs are texts built to tokenize to exactly L tokens (specials
 * included; a pair for --rerank, before any prompt the model wraps it in);
 * --ids-out writes those ids for the ONNX Runtime peer, --text-out the text
 * (and query) for peers that tokenize themselves, and --out the embeddings
 * (or logits) as raw f32.  The kernel path comes from
 * EMBER_ISA.  Prints one JSON line. */
#include "ember.h"

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

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* "the the the ..." with n words */
static char *words(int n)
{
    char *s = malloc((size_t)n * 4 + 1);
    if (!s) return NULL;
    s[0] = '\0';
    for (int i = 0; i < n; i++) strcat(s, i ? " the" : "the");
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: bench_embed MODEL.gguf --batch B --tokens L --threads T --repeats R [--rerank] [--ids-out F] [--text-out F] [--out F]\n"); return 2; }
    const char *model = argv[1], *ids_out = NULL, *out_path = NULL, *text_out = NULL;
    int B = 1, L = 16, T = 1, R = 10, rerank = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--rerank")) { rerank = 1; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "%s needs a value\n", argv[i]); return 2; }
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--batch")) B = atoi(v);
        else if (!strcmp(argv[i - 1], "--tokens")) L = atoi(v);
        else if (!strcmp(argv[i - 1], "--threads")) T = atoi(v);
        else if (!strcmp(argv[i - 1], "--repeats")) R = atoi(v);
        else if (!strcmp(argv[i - 1], "--ids-out")) ids_out = v;
        else if (!strcmp(argv[i - 1], "--text-out")) text_out = v;
        else if (!strcmp(argv[i - 1], "--out")) out_path = v;
        else { fprintf(stderr, "unknown option %s\n", argv[i - 1]); return 2; }
    }
    if (B < 1 || L < 3 || T < 1 || R < 1) { fprintf(stderr, "bench_embed: --batch, --threads, --repeats must be >= 1 and --tokens >= 3\n"); return 2; }
    char err[512];
    ember_model *m = ember_model_load(model, err, sizeof err);
    if (!m) { fprintf(stderr, "bench_embed: %s\n", err); return 1; }
    ember_model_info info;
    ember_model_get_info(m, &info);
    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = B;
    /* a decoder reranker wraps the pair in its prompt: room for it (the context caps at the model's limit) */
    p.max_tokens = rerank ? L + 256 : L;
    p.n_threads = T;
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    if (!c) { fprintf(stderr, "bench_embed: %s\n", err); return 1; }

    /* inputs of exactly L tokens */
    const char *query = "what is the capital of france";
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)L * 2), *tys = malloc(sizeof(int32_t) * (size_t)L * 2);
    int n = 0, nw = L - 2;
    char *text = NULL;
    for (int tries = 0; tries < 8; tries++) {
        free(text);
        text = words(nw > 0 ? nw : 0);
        if (!text || !ids || !tys) { fprintf(stderr, "bench_embed: out of memory\n"); return 1; }
        ember_status st = rerank ? ember_tokenize(c, query, strlen(query), text, strlen(text), 1, 0, ids, tys, L * 2, &n)
                                 : ember_tokenize(c, text, strlen(text), NULL, 0, 1, 0, ids, tys, L * 2, &n);
        if (st != EMBER_OK) n = -1;
        if (n == L) break;
        nw += L - n;
    }
    if (n != L) { fprintf(stderr, "bench_embed: cannot build a %d-token input\n", L); return 1; }
    const char **texts = malloc(sizeof(char *) * (size_t)B);
    for (int i = 0; i < B; i++) texts[i] = text;
    size_t out_n = rerank ? (size_t)B : (size_t)B * info.dim;
    float *out = malloc(out_n * sizeof(float));
    double *t = malloc(sizeof(double) * (size_t)R);
    if (!texts || !out || !t) { fprintf(stderr, "bench_embed: out of memory\n"); return 1; }
    for (int r = -1; r < R; r++) { /* one warm-up */
        double t0 = now();
        ember_status st = rerank ? ember_rerank(c, query, strlen(query), texts, NULL, B, out)
                                 : ember_embed(c, texts, NULL, B, 0, out);
        if (st != EMBER_OK) { fprintf(stderr, "bench_embed: %s\n", ember_ctx_error(c)); return 1; }
        if (r >= 0) t[r] = now() - t0;
    }
    qsort(t, (size_t)R, sizeof *t, cmp);
    if (ids_out) {
        FILE *f = fopen(ids_out, "w");
        if (!f) { perror(ids_out); return 1; }
        fputs("{\"ids\": [", f);
        for (int b = 0; b < B; b++) {
            fputs(b ? ", [" : "[", f);
            for (int i = 0; i < L; i++) fprintf(f, i ? ", %d" : "%d", ids[i]);
            fputs("]", f);
        }
        fputs("], \"type_ids\": [", f);
        for (int b = 0; b < B; b++) {
            fputs(b ? ", [" : "[", f);
            for (int i = 0; i < L; i++) fprintf(f, i ? ", %d" : "%d", tys[i]);
            fputs("]", f);
        }
        fputs("]}\n", f);
        fclose(f);
    }
    if (text_out) { /* the words are plain ASCII: no JSON escaping needed */
        FILE *f = fopen(text_out, "w");
        if (!f) { perror(text_out); return 1; }
        fprintf(f, "{\"query\": \"%s\", \"text\": \"%s\", \"batch\": %d}\n", rerank ? query : "", text, B);
        if (fclose(f) != 0) { perror(text_out); return 1; }
    }
    if (out_path) {
        FILE *f = fopen(out_path, "wb");
        if (!f || fwrite(out, sizeof(float), out_n, f) != out_n || fclose(f) != 0) { perror(out_path); return 1; }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const char *isa = getenv("EMBER_ISA");
    /* isa: what EMBER_ISA asked for; isa_used: the kernel table that ran;
     * bf16_dot: whether bf16 weights met bf16 activations (EMBER_BF16_DOT=1) */
    printf("{\"isa\": \"%s\", \"isa_used\": \"%s\", \"bf16_dot\": %d, \"batch\": %d, \"tokens\": %d, \"threads\": %d, \"min_ms\": %.3f, \"median_ms\": %.3f, "
           "\"per_s\": %.1f, \"tokens_per_s\": %.0f, \"max_rss_mb\": %.1f, \"model_mb\": %.1f, \"ctx_mb\": %.1f}\n",
           isa && *isa ? isa : "best", ember_isa(), ember_ctx_bf16_dot(c), B, L, T, t[0] * 1e3, t[R / 2] * 1e3, B / t[R / 2], (double)B * L / t[R / 2],
           ru.ru_maxrss / 1024.0, info.file_bytes / 1048576.0, ember_ctx_memory(c) / 1048576.0);
    free(t); free(out); free(texts); free(text); free(ids); free(tys);
    ember_ctx_free(c);
    ember_model_free(m);
    return 0;
}
