/* llama.cpp as the peer of `make bench-qwen3`: the same GGUF file and the
 * same text as ember, run through libllama's embedding API the way
 * llama.cpp's own `llama-embedding` runs a batch (one unified KV buffer,
 * one sequence per input, every token an output, one decode call, the
 * pooled row read per sequence).  Built against a llama.cpp checkout by
 * bench/run_qwen3.sh; never part of `make`.
 *
 *   llama_peer GGUF TEXT_FILE BATCH THREADS REPEATS OUT.f32 [embed|rerank|rerank-lm]
 *
 * TEXT_FILE holds one input, exactly (for the reranker: the whole prompt);
 * the batch is BATCH copies of it.  Tokenized by llama.cpp with its special
 * tokens parsed and its own add-special rules (Qwen3-Embedding's
 * <|endoftext|> comes from the file's add_eos flag).  One warm-up, then
 * REPEATS timed calls.  OUT.f32: normalised embeddings, or per pair the
 * logit of llama.cpp's rank pooling, log(p / (1 - p)) of its softmax over
 * the (yes, no) rows, which is ember's logit(yes) - logit(no).  One JSON
 * line on stdout.
 *
 * In embedding mode llama.cpp outputs every token, and its Qwen3 graph runs
 * the vocabulary projection on every output row.  rerank-lm is the other
 * way llama.cpp can score Qwen3-Reranker, as a causal LM (as the model
 * card's transformers code does): embeddings off, one output row per pair
 * (its last token), logit(yes) - logit(no) read from that row's logits.
 * There is no such way for the embedder (its last hidden state is only
 * reachable in embedding mode).
 *
 * LLAMA_PEER_KV_F32=1 keeps K and V in f32 instead of llama.cpp's default
 * f16, flash attention off (for checking outputs to 1e-4 rather than timing
 * what users run). */
#include "llama.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char *read_file(const char *path, int *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(s); return NULL; }
    fclose(f);
    s[n] = 0;
    *len = (int)n;
    return s;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: llama_peer GGUF TEXT_FILE BATCH THREADS REPEATS OUT.f32 [embed|rerank]\n");
        return 2;
    }
    const char *gguf = argv[1], *text_path = argv[2], *out_path = argv[6];
    int batch = atoi(argv[3]), threads = atoi(argv[4]), repeats = atoi(argv[5]);
    const char *mode = argc > 7 ? argv[7] : "embed";
    int lm = strcmp(mode, "rerank-lm") == 0, rerank = lm || strcmp(mode, "rerank") == 0;
    if (!rerank && strcmp(mode, "embed") != 0) { fprintf(stderr, "llama_peer: mode embed, rerank or rerank-lm\n"); return 2; }
    if (batch < 1 || threads < 1 || repeats < 1) { fprintf(stderr, "llama_peer: bad numbers\n"); return 2; }

    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(gguf, mp);
    if (!model) { fprintf(stderr, "llama_peer: cannot load %s\n", gguf); return 1; }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);

    int text_len = 0;
    char *text = read_file(text_path, &text_len);
    if (!text) { fprintf(stderr, "llama_peer: cannot read %s\n", text_path); return 1; }
    int cap = text_len + 16;
    llama_token *ids = malloc(sizeof *ids * (size_t)cap);
    int n_tok = llama_tokenize(vocab, text, text_len, ids, cap, /*add_special*/ true, /*parse_special*/ true);
    if (n_tok <= 0) { fprintf(stderr, "llama_peer: tokenization failed\n"); return 1; }

    /* as llama-embedding runs one batch: a unified KV buffer, every token an
     * output, the whole batch in one micro-batch */
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)(n_tok * batch);
    cp.n_batch = cp.n_ubatch = cp.n_ctx;
    cp.n_seq_max = (uint32_t)batch;
    cp.kv_unified = true;
    cp.embeddings = !lm;
    cp.pooling_type = lm ? LLAMA_POOLING_TYPE_NONE : rerank ? LLAMA_POOLING_TYPE_RANK : LLAMA_POOLING_TYPE_LAST;
    cp.n_threads = cp.n_threads_batch = threads;
    if (getenv("LLAMA_PEER_KV_F32") && strcmp(getenv("LLAMA_PEER_KV_F32"), "1") == 0) {
        cp.type_k = cp.type_v = GGML_TYPE_F32;
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    }
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "llama_peer: cannot create a context\n"); return 1; }

    struct llama_batch b = llama_batch_init(n_tok * batch, 0, 1);
    for (int s = 0; s < batch; s++)
        for (int i = 0; i < n_tok; i++) {
            int j = b.n_tokens++;
            b.token[j] = ids[i];
            b.pos[j] = i;
            b.n_seq_id[j] = 1;
            b.seq_id[j][0] = s;
            b.logits[j] = !lm || i == n_tok - 1;
        }

    llama_token yes = 0, no = 0;
    if (lm && (llama_tokenize(vocab, "yes", 3, &yes, 1, false, false) != 1 ||
               llama_tokenize(vocab, "no", 2, &no, 1, false, false) != 1)) {
        fprintf(stderr, "llama_peer: \"yes\" / \"no\" are not single tokens\n");
        return 1;
    }
    int dim = rerank ? 1 : llama_model_n_embd(model);
    float *out = malloc(sizeof *out * (size_t)dim * (size_t)batch);
    double *times = malloc(sizeof *times * (size_t)repeats);
    for (int r = -1; r < repeats; r++) {
        double t0 = now_ms();
        llama_memory_clear(llama_get_memory(ctx), true);
        if (llama_decode(ctx, b) != 0) { fprintf(stderr, "llama_peer: decode failed\n"); return 1; }
        for (int s = 0; s < batch && lm; s++) {
            const float *l = llama_get_logits_ith(ctx, s * n_tok + n_tok - 1);
            if (!l) { fprintf(stderr, "llama_peer: no logits for sequence %d\n", s); return 1; }
            out[s] = l[yes] - l[no];
        }
        for (int s = 0; s < batch && !lm; s++) {
            const float *e = llama_get_embeddings_seq(ctx, s);
            if (!e) { fprintf(stderr, "llama_peer: no embedding for sequence %d\n", s); return 1; }
            if (rerank) {
                double p = e[0] < 1e-12 ? 1e-12 : e[0] > 1 - 1e-12 ? 1 - 1e-12 : e[0];
                out[s] = (float)log(p / (1 - p));
            } else {
                double ss = 0;
                for (int k = 0; k < dim; k++) ss += (double)e[k] * e[k];
                for (int k = 0; k < dim; k++) out[(size_t)s * dim + k] = (float)(e[k] / sqrt(ss));
            }
        }
        if (r >= 0) times[r] = now_ms() - t0;
    }
    qsort(times, (size_t)repeats, sizeof *times, cmp_double);

    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(out, sizeof *out, (size_t)dim * batch, f) != (size_t)dim * batch || fclose(f) != 0) {
        fprintf(stderr, "llama_peer: cannot write %s\n", out_path);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"min_ms\": %.3f, \"median_ms\": %.3f, \"max_rss_mb\": %.1f, \"batch\": %d, \"tokens\": %d, "
           "\"threads\": %d, \"llama_cpp\": \"%s\"}\n",
           times[0], times[repeats / 2], ru.ru_maxrss / 1024.0, batch, n_tok, threads, getenv("LLAMA_COMMIT") ? getenv("LLAMA_COMMIT") : "");
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(model);
    free(ids); free(text); free(out); free(times);
    return 0;
}
