/* `ember info <model.gguf> [--keys]`: what a model file holds, as ember
 * loads it (ember_model_get_info), and with --keys every GGUF key with its
 * type and value (ember_model_meta_at).  A file ember cannot load is
 * refused with the loader's reason. */
#include "ember.h"
#include "tools/commands.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: ember info <model.gguf> [--keys]\n"
               "Prints kind, architecture, dimensions, pooling, tokenizer, dtypes and sizes of a\n"
               "GGUF model as ember loads it.\n"
               "  --keys   also list every GGUF key with its type and value\n");
}

static const char *kind_name(ember_kind k)
{
    return k == EMBER_KIND_EMBEDDER ? "embedder (ember embed, index, search)"
         : k == EMBER_KIND_RERANKER ? "cross-encoder (ember rerank, search --rerank)"
                                    : "vocabulary only (ember tokenize)";
}

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int keys = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) { usage(stdout); return 0; }
        if (strcmp(argv[i], "--keys") == 0) { keys = 1; continue; }
        if (argv[i][0] == '-' && argv[i][1]) { fprintf(stderr, "ember info: unknown option %s\n", argv[i]); return 2; }
        if (path) { usage(stderr); return 2; }
        path = argv[i];
    }
    if (!path) { usage(stderr); return 2; }
    /* the other file ember writes: point to the command that reads it */
    FILE *peek = fopen(path, "rb");
    char magic[8] = {0};
    size_t got = peek ? fread(magic, 1, sizeof magic, peek) : 0;
    if (peek) fclose(peek);
    if (got == sizeof magic && memcmp(magic, "EMBERIDX", 8) == 0) {
        fprintf(stderr, "ember info: %s is an ember index, not a GGUF model; use `ember index info -x %s`\n", path, path);
        return 1;
    }
    char err[512];
    ember_model *m = ember_model_load(path, err, sizeof err);
    if (!m) { fprintf(stderr, "ember info: ember cannot load this model: %s\n", err); return 1; }
    ember_model_info in;
    ember_model_get_info(m, &in);
    printf("%-18s %s (GGUF v%u, %llu bytes)\n", "file", path, in.gguf_version, (unsigned long long)in.file_bytes);
    printf("%-18s %s\n", "kind", kind_name(in.kind));
    printf("%-18s %s\n", "architecture", in.architecture);
    if (in.name[0]) printf("%-18s %s\n", "name", in.name);
    if (in.kind != EMBER_KIND_TOKENIZER) {
        printf("%-18s %d\n", "embedding_length", in.dim);
        printf("%-18s %d\n", "feed_forward", in.ffn_dim);
        printf("%-18s %d\n", "block_count", in.n_layers);
        printf("%-18s %d\n", "head_count", in.n_heads);
        printf("%-18s %d\n", "context_length", in.n_ctx);
        printf("%-18s %d (specials included)\n", "max_tokens", in.max_tokens);
        printf("%-18s %g\n", "layer_norm_eps", (double)in.layer_norm_eps);
        printf("%-18s %s\n", "pooling", ember_pooling_name(in.pooling));
        if (in.kind == EMBER_KIND_EMBEDDER) printf("%-18s %s\n", "normalize", in.normalize ? "yes" : "no");
    }
    printf("%-18s %s, %d tokens\n", "tokenizer", in.tokenizer[0] ? in.tokenizer : "?", in.vocab_size);
    if (in.query_prompt) { /* one line each: the \n of a prompt written as \n */
        printf("%-18s ", "query_prompt");
        for (const char *p = in.query_prompt; *p; p++) fputs(*p == '\n' ? "\\n" : (char[2]){*p, 0}, stdout);
        putchar('\n');
    }
    if (in.document_prompt) printf("%-18s %s\n", "document_prompt", in.document_prompt);
    if (in.default_task) printf("%-18s %s\n", "default_task", in.default_task);
    if (in.n_matryoshka_dims) {
        printf("%-18s", "matryoshka_dims");
        for (int i = 0; i < in.n_matryoshka_dims; i++) printf("%s%u", i ? ", " : " ", in.matryoshka_dims[i]);
        printf("\n");
    } else if (in.matryoshka_min_dim) {
        printf("%-18s any from %d to %d\n", "matryoshka_dims", in.matryoshka_min_dim, in.dim);
    }
    printf("%-18s %llu\n", "tensors", (unsigned long long)in.n_tensors);
    if (in.n_tensors) {
        printf("%-18s %llu\n", "parameters", (unsigned long long)in.n_params);
        printf("%-18s %s:", "weights", in.weight_type);
        if (in.n_tensors_f32) printf(" f32 x%llu", (unsigned long long)in.n_tensors_f32);
        if (in.n_tensors_f16) printf(" f16 x%llu", (unsigned long long)in.n_tensors_f16);
        if (in.n_tensors_bf16) printf(" bf16 x%llu", (unsigned long long)in.n_tensors_bf16);
        printf("\n");
    }
    if (keys) {
        int n = ember_model_meta_count(m);
        printf("keys (%d):\n", n);
        for (int i = 0; i < n; i++) {
            const char *key, *type;
            char value[120];
            if (ember_model_meta_at(m, i, &key, &type, value, sizeof value) != EMBER_OK) break;
            printf("  %-48s %-14s %s\n", key, type, value);
        }
    }
    ember_model_free(m);
    return fflush(stdout) == 0 ? 0 : 1;
}
