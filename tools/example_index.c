/* A minimal program using only <ember.h>: adds the lines of a text file to
 * an index (made if there is none yet), as one writer among others, then
 * searches it.  Build: cc example_index.c -Iinclude build/libember.a -fopenmp -lm
 * Run:   build/example_index model.gguf docs.emb docs.txt "a query" */
#include <ember.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL.gguf INDEX.emb DOCS.txt QUERY\n", argv[0]);
        return 2;
    }
    const char *model = argv[1], *path = argv[2], *docs = argv[3], *query = argv[4];
    char err[512], *texts[256], line[1024];
    int n = 0, rc = 1;
    FILE *f = fopen(docs, "r");
    if (!f) { perror(docs); return 1; }
    while (n < 256 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        texts[n++] = strdup(line);
    }
    fclose(f);

    ember_model *m = ember_model_load(model, err, sizeof err);
    ember_ctx *c = m ? ember_ctx_create(m, NULL, err, sizeof err) : NULL;
    if (!c) { fprintf(stderr, "%s\n", err); ember_model_free(m); return 1; }
    ember_model_info mi;
    ember_model_get_info(m, &mi);
    float *v = malloc(((size_t)n + 1) * mi.dim * sizeof *v);
    int64_t *ids = malloc(((size_t)n + 1) * sizeof *ids);

    /* the writer lock first (wait 1: take turns with other writers), then the index */
    ember_index_lock *lock = NULL;
    ember_index *x = NULL;
    if (ember_index_lock_acquire(path, 1, &lock, err, sizeof err) != EMBER_OK) { fprintf(stderr, "%s\n", err); goto out; }
    x = ember_index_open(path, err, sizeof err);
    if (!x) { /* none yet: a new HNSW index; its metadata names the model */
        x = ember_index_create(EMBER_INDEX_HNSW, EMBER_METRIC_COSINE, EMBER_STORE_F32, mi.dim, NULL, err, sizeof err);
        if (!x) { fprintf(stderr, "%s\n", err); goto out; }
        snprintf(line, sizeof line, "model=%.200s dim=%d", model, mi.dim);
        ember_index_set_meta(x, line);
    }
    int64_t next = ember_index_id_max(x) + 1; /* after every id used, deleted ones too */
    for (int i = 0; i < n; i++) ids[i] = next + i;
    if (ember_embed(c, (const char *const *)texts, NULL, n, 0, v) != EMBER_OK) { fprintf(stderr, "%s\n", ember_ctx_error(c)); goto out; }
    if (ember_index_add(x, v, ids, (const char *const *)texts, (size_t)n, 1) != EMBER_OK ||
        ember_index_save(x, path) != EMBER_OK) { fprintf(stderr, "%s\n", ember_index_error(x)); goto out; }
    ember_index_lock_release(lock); /* saved: the next writer may go */
    lock = NULL;

    ember_index_info xi;
    ember_index_get_info(x, &xi);
    printf("added ids %lld..%lld to %s (%s, %s, %s, %d dims, %s): %zu live\n", (long long)next, (long long)(next + n - 1),
           path, ember_index_type_name(xi.type), ember_metric_name(xi.metric), ember_store_name(xi.store), xi.dim,
           ember_index_meta(x), xi.count);
    int64_t hit[3];
    float score[3];
    if (ember_embed(c, &query, NULL, 1, 0, v) != EMBER_OK ||
        ember_index_search(x, v, 1, 3, NULL, hit, score, 1, err, sizeof err) != EMBER_OK) { fprintf(stderr, "search failed\n"); goto out; }
    for (int i = 0; i < 3 && hit[i] >= 0; i++) {
        size_t len = 0;
        const char *t = ember_index_text(x, hit[i], &len);
        printf("%lld  %.4f  %.*s\n", (long long)hit[i], score[i], (int)len, t ? t : "");
    }
    rc = 0;
out:
    ember_index_lock_release(lock);
    ember_index_free(x);
    ember_ctx_free(c);
    ember_model_free(m);
    for (int i = 0; i < n; i++) free(texts[i]);
    free(v);
    free(ids);
    return rc;
}
