/* `ember info <model.gguf> [--keys]`: what a GGUF file holds. */
#include "model/gguf.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

static void print_str(const gguf_file *f, const char *label, const char *key)
{
    const char *s;
    size_t n;
    if (gguf_get_str(f, key, &s, &n) == 0) printf("%-18s %.*s\n", label, (int)(n > 200 ? 200 : n), s);
}

static void print_u32(const gguf_file *f, const char *label, const char *key)
{
    uint32_t v;
    if (gguf_get_u32(f, key, &v) == 0) printf("%-18s %u\n", label, v);
}

static const char *type_name(uint32_t t)
{
    static const char *n[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    return t < sizeof n / sizeof n[0] ? n[t] : "?";
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ember info <model.gguf> [--keys]\n"
               "Prints architecture, dimensions, pooling, tokenizer, dtypes and sizes of a GGUF file.\n"
               "  --keys   also list every key with its type\n");
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
    gguf_file *f = gguf_open(path, err, sizeof err);
    if (!f) { fprintf(stderr, "ember info: %s: %s\n", path, err); return 1; }
    printf("%-18s %s (GGUF v%u, %llu bytes)\n", "file", path, gguf_version(f), (unsigned long long)gguf_file_size(f));
    print_str(f, "architecture", KEY_ARCH);
    print_str(f, "name", KEY_NAME);
    print_u32(f, "context_length", KEY_CTX);
    print_u32(f, "embedding_length", KEY_EMBD);
    print_u32(f, "feed_forward", KEY_FFN);
    print_u32(f, "block_count", KEY_BLOCKS);
    print_u32(f, "head_count", KEY_HEADS);
    float eps;
    if (gguf_get_f32(f, KEY_LN_EPS, &eps) == 0) printf("%-18s %g\n", "layer_norm_eps", eps);
    uint32_t pool;
    if (gguf_get_u32(f, KEY_POOLING, &pool) == 0) {
        static const char *pn[] = {"none", "mean", "cls", "last", "rank"};
        printf("%-18s %s (%u)\n", "pooling", pool < 5 ? pn[pool] : "unknown", pool);
    }
    int b;
    if (gguf_get_bool(f, KEY_E_NORMALIZE, &b) == 0) printf("%-18s %s\n", "normalize", b ? "yes" : "no");
    print_u32(f, "max_seq_length", KEY_E_MAX_SEQ);
    const char *tm;
    size_t tml;
    uint64_t nv = 0;
    if (gguf_get_str(f, KEY_TOK_MODEL, &tm, &tml) == 0) {
        gguf_get_str_arr(f, KEY_TOK_TOKENS, &nv);
        printf("%-18s %.*s, %llu tokens\n", "tokenizer", (int)(tml > 64 ? 64 : tml), tm, (unsigned long long)nv);
    }
    uint64_t nt = gguf_n_tensors(f), params = 0, count[3] = {0};
    for (uint64_t i = 0; i < nt; i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) n *= t->ne[d];
        params += n;
        count[t->type == GGML_TYPE_F32 ? 0 : t->type == GGML_TYPE_F16 ? 1 : 2]++;
    }
    printf("%-18s %llu\n", "tensors", (unsigned long long)nt);
    if (nt) {
        printf("%-18s %llu\n", "parameters", (unsigned long long)params);
        printf("%-18s", "dtypes");
        static const char *tn[3] = {"f32", "f16", "bf16"};
        for (int k = 0; k < 3; k++)
            if (count[k]) printf(" %s x%llu", tn[k], (unsigned long long)count[k]);
        printf("\n");
    }
    if (keys) {
        printf("keys (%d):\n", gguf_n_kv(f));
        for (int i = 0; i < gguf_n_kv(f); i++) {
            uint32_t t = gguf_kv_type(f, i);
            if (t == GGUF_TYPE_ARRAY)
                printf("  %-48s array<%s>[%llu]\n", gguf_kv_name(f, i), type_name(gguf_kv_arr_type(f, i)),
                       (unsigned long long)gguf_kv_arr_len(f, i));
            else
                printf("  %-48s %s\n", gguf_kv_name(f, i), type_name(t));
        }
    }
    gguf_close(f);
    return 0;
}
