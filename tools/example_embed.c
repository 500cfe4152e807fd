/* A minimal program using only <ember.h>: embed two sentences and print their
 * cosine similarity.  Build: cc example_embed.c -Iinclude build/libember.a -fopenmp -lm
 * Run:   build/example_embed model.gguf "first text" "second text" */
#include <ember.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.gguf TEXT1 TEXT2\n", argv[0]);
        return 2;
    }
    char err[512];
    ember_model *m = ember_model_load(argv[1], err, sizeof err);
    if (!m) { fprintf(stderr, "load: %s\n", err); return 1; }
    ember_model_info info;
    ember_model_get_info(m, &info);

    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = 2; /* scratch is sized for this, once */
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    if (!c) { fprintf(stderr, "context: %s\n", err); ember_model_free(m); return 1; }

    const char *texts[2] = { argv[2], argv[3] };
    float *v = malloc(2 * (size_t)info.dim * sizeof *v);
    int rc = 1;
    if (v && ember_embed(c, texts, NULL, 2, 0, v) == EMBER_OK) {
        double dot = 0;
        for (int i = 0; i < info.dim; i++) dot += (double)v[i] * v[info.dim + i];
        printf("dim %d, cosine %.6f, context scratch %.1f MiB\n", info.dim, dot,
               ember_ctx_memory(c) / 1048576.0);
        rc = 0;
    } else {
        fprintf(stderr, "embed: %s\n", v ? ember_ctx_error(c) : "out of memory");
    }
    free(v);
    ember_ctx_free(c);
    ember_model_free(m);
    return rc;
}
