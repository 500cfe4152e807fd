/* gen_model: writes a RANDOM-weight checkpoint in HuggingFace's on-disk layout
 * (config.json, model.safetensors, vocab.txt, tokenizer_config.json, and the
 * sentence-transformers files for embedders), with the real dimensions of
 * all-MiniLM-L6-v2 / ms-marco-MiniLM-L-6-v2 by default.  The numbers mean
 * nothing; the layout is the one a user converts, so the demo and the bench
 * take the same path a real model does. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* a generator of test checkpoints, not part of the CLI: it rounds to
 * f16/bf16 with the library's own conversions, as the converter reads them
 * back (tests/test_cli_api_only.c allows it this include) */
#include "kernels/kernels.h"

static const char *USAGE =
    "usage: gen_model --kind embed|cross|qwen3-embed|qwen3-rerank --out DIR [options]\n"
    "  --hidden N (384)  --layers N (6)  --heads N (12)  --ffn N (1536)\n"
    "  --max-pos N (512) --max-seq N (256, embedders)  --seed S (1)\n"
    "  --vocab-file PATH (copy a WordPiece vocab.txt) | --vocab-size N (30522, synthesised)\n"
    "  --dtype f32|f16|bf16 (f32)\n"
    "qwen3-*: Qwen3-Embedding / Qwen3-Reranker layout, the 0.6B dimensions by default\n"
    "  (hidden 1024, 28 layers, 16 heads, 8 KV heads, head dim 128, FFN 3072, bf16);\n"
    "  --kv-heads N  --head-dim N, and --tokenizer-dir DIR (required): a folder whose\n"
    "  tokenizer.json and tokenizer_config.json are copied (the vocabulary size follows it)\n";

static uint64_t rng_state;
static double rnd_normal(void)
{
    /* splitmix64 + Box-Muller */
    uint64_t z[2];
    for (int i = 0; i < 2; i++) {
        uint64_t x = (rng_state += 0x9e3779b97f4a7c15ull);
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        z[i] = x ^ (x >> 31);
    }
    double u1 = ((z[0] >> 11) + 1) * (1.0 / 9007199254740993.0), u2 = (z[1] >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

typedef struct { char name[128]; int rows, cols; int kind; } tdesc; /* kind 0 weight, 1 bias, 2 norm weight, 3 norm bias */

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) { fprintf(stderr, "gen_model: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    return 0;
}

/* A small English WordPiece vocabulary: specials, characters, ## pieces, words. */
static const char *WORDS =
    "the of and to in is was for on that with as by at from his it an were are which this be or has had not "
    "first one their its new after who they have her she two been other when there all during into school time "
    "may years more most only over city some world would where later up such used many can state about national "
    "out known university united then made under team what capital france paris germany berlin largest ocean "
    "mountain highest earth tower iron great wall china language programming general purpose high level cell "
    "energy light plants chemical powerhouse series northern deepest sea populous country river music film game "
    "search query document answer question model text vector index rank score embed fast small device edge ";

static int write_vocab(const char *dir, const char *copy_from, int vocab_size, int *n_out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *out = fopen(path, "wb");
    if (!out) { fprintf(stderr, "gen_model: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    int n = 0;
    if (copy_from) {
        FILE *in = fopen(copy_from, "rb");
        if (!in) { fprintf(stderr, "gen_model: cannot read %s: %s\n", copy_from, strerror(errno)); fclose(out); return -1; }
        char line[1024];
        while (fgets(line, sizeof line, in)) { fputs(line, out); n++; }
        fclose(in);
    } else {
        for (int i = 0; i < 100; i++) { fprintf(out, i ? "[unused%d]\n" : "[PAD]\n", i - 1); n++; }
        fputs("[UNK]\n[CLS]\n[SEP]\n[MASK]\n", out);
        n += 4;
        for (int c = 33; c < 127; c++) { fprintf(out, "%c\n", c); n++; }
        for (int c = 33; c < 127; c++) if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) { fprintf(out, "##%c\n", c); n++; }
        const char *p = WORDS;
        while (*p) {
            const char *e = strchr(p, ' ');
            if (!e) break;
            if (e - p > 1) { fprintf(out, "%.*s\n", (int)(e - p), p); n++; }
            p = e + 1;
        }
        const char *suffixes[] = {"##s", "##ed", "##ing", "##ly", "##er", "##est", "##ion", "##al"};
        for (int i = 0; i < 8; i++) { fprintf(out, "%s\n", suffixes[i]); n++; }
        for (int i = 0; n < vocab_size; i++) { fprintf(out, "[unused%d]\n", 99 + i); n++; }
    }
    if (fclose(out) != 0) return -1;
    *n_out = n;
    return 0;
}

/* model.safetensors in the official writer's layout: the header (dtype,
 * shape, offsets of each tensor in list order, padded to 8 bytes with
 * spaces), then the data.  position_ids_of != NULL adds the int64
 * "<prefix>embeddings.position_ids" buffer BERT checkpoints carry (max_pos
 * entries; the converter skips it). */
static int write_safetensors(const char *dir, const tdesc *t, int n, int st_dtype, const char *position_ids_of, int max_pos)
{
    const char *dt = st_dtype == 0 ? "F32" : st_dtype == 1 ? "F16" : "BF16";
    size_t esz = st_dtype == 0 ? 4 : 2, hcap = (size_t)n * 200 + 256, hl = 0, off = 0;
    char *hdr = malloc(hcap);
    if (!hdr) { fprintf(stderr, "gen_model: out of memory\n"); return -1; }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "{\"__metadata__\":{\"format\":\"pt\"}");
    if (position_ids_of) {
        hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%sembeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1,%d],\"data_offsets\":[0,%zu]}",
                               position_ids_of, max_pos, (size_t)max_pos * 8);
        off = (size_t)max_pos * 8;
    }
    size_t maxcnt = 0;
    for (int i = 0; i < n; i++) {
        size_t cnt = (size_t)(t[i].rows ? t[i].rows : 1) * t[i].cols, bytes = cnt * esz;
        if (cnt > maxcnt) maxcnt = cnt;
        if (t[i].rows) hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
                                              t[i].name, dt, t[i].rows, t[i].cols, off, off + bytes);
        else hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
                                    t[i].name, dt, t[i].cols, off, off + bytes);
        off += bytes;
    }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "}");
    while (hl % 8) hdr[hl++] = ' ';
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    float *data = malloc(maxcnt * sizeof(float));
    uint16_t *half = malloc(maxcnt * sizeof(uint16_t));
    if (!f || !data || !half) {
        fprintf(stderr, "gen_model: cannot write %s: %s\n", path, f ? "out of memory" : strerror(errno));
        if (f) fclose(f);
        free(hdr); free(data); free(half);
        return -1;
    }
    uint64_t hl64 = hl;
    fwrite(&hl64, 8, 1, f);
    fwrite(hdr, 1, hl, f);
    if (position_ids_of)
        for (int64_t p = 0; p < max_pos; p++) fwrite(&p, 8, 1, f); /* little-endian host assumed, as everywhere in ember */
    for (int i = 0; i < n; i++) {
        size_t cnt = (size_t)(t[i].rows ? t[i].rows : 1) * t[i].cols;
        int pad_row = strstr(t[i].name, "word_embeddings") != NULL;
        for (size_t j = 0; j < cnt; j++) {
            double v = t[i].kind == 2 ? 1.0 + 0.1 * rnd_normal() : t[i].kind == 0 ? 0.05 * rnd_normal() : 0.02 * rnd_normal();
            data[j] = pad_row && j < (size_t)t[i].cols ? 0.0f : (float)v; /* padding_idx row is zero, as HF initialises it */
        }
        if (st_dtype == 0) fwrite(data, 4, cnt, f);
        else {
            for (size_t j = 0; j < cnt; j++) half[j] = st_dtype == 1 ? kern_f32_to_f16(data[j]) : kern_f32_to_bf16(data[j]);
            fwrite(half, 2, cnt, f);
        }
    }
    int bad = ferror(f);
    free(hdr); free(data); free(half);
    if (fclose(f) != 0 || bad) { fprintf(stderr, "gen_model: error writing %s\n", path); return -1; }
    return 0;
}

/* Copies src/name to dir/name. */
static int copy_file(const char *src, const char *dir, const char *name)
{
    char from[4096], to[4096], buf[65536];
    snprintf(from, sizeof from, "%s/%s", src, name);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    if (!in || !out) {
        fprintf(stderr, "gen_model: cannot %s %s: %s\n", in ? "write" : "read", in ? to : from, strerror(errno));
        if (in) fclose(in);
        return -1;
    }
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, k, out);
    int bad = ferror(in) || ferror(out);
    fclose(in);
    if (fclose(out) != 0 || bad) { fprintf(stderr, "gen_model: error copying %s\n", from); return -1; }
    return 0;
}

/* The vocabulary size of a tokenizer.json: one past its largest token id.
 * Every model.vocab entry is "token": id and every added token has "id": id,
 * so the largest integer that follows a ':' outside strings is that id (no
 * JSON parser needed in a generator of test checkpoints). */
static int tokenizer_vocab_size(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "gen_model: cannot read %s: %s\n", path, strerror(errno)); return -1; }
    int c, in_str = 0, esc = 0, after_colon = 0;
    long cur = -1, best = -1;
    while ((c = fgetc(f)) != EOF) {
        if (in_str) { if (esc) esc = 0; else if (c == '\\') esc = 1; else if (c == '"') in_str = 0; continue; }
        if (c == '"') { in_str = 1; after_colon = 0; continue; }
        if (c == ':') { after_colon = 1; cur = -1; continue; }
        if (after_colon && c >= '0' && c <= '9') { cur = (cur < 0 ? 0 : cur * 10) + (c - '0'); continue; }
        if (after_colon && (c == ' ' || c == '\n') && cur < 0) continue;
        if (cur > best && cur < 100000000) best = cur;
        after_colon = 0; cur = -1;
    }
    fclose(f);
    return best < 0 ? -1 : (int)best + 1;
}

/* Qwen3-Embedding / Qwen3-Reranker layout (config.json, tokenizer files
 * copied from tok_dir, model.safetensors; the embedder's sentence-transformers
 * files with last-token pooling and its query prompt). */
static int write_qwen3(const char *out, int rerank, const char *tok_dir, int hidden, int layers, int heads, int kv_heads,
                       int head_dim, int ffn, int max_pos, int st_dtype)
{
    int n_vocab = tokenizer_vocab_size(tok_dir);
    if (n_vocab < 1) { fprintf(stderr, "gen_model: no token ids found in %s/tokenizer.json\n", tok_dir); return -1; }
    if (copy_file(tok_dir, out, "tokenizer.json") || copy_file(tok_dir, out, "tokenizer_config.json")) return -1;
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\n  \"architectures\": [\"Qwen3ForCausalLM\"],\n  \"attention_bias\": false,\n  \"attention_dropout\": 0.0,\n"
             "  \"bos_token_id\": 151643,\n  \"eos_token_id\": %d,\n  \"head_dim\": %d,\n  \"hidden_act\": \"silu\",\n"
             "  \"hidden_size\": %d,\n  \"initializer_range\": 0.02,\n  \"intermediate_size\": %d,\n"
             "  \"max_position_embeddings\": %d,\n  \"max_window_layers\": %d,\n  \"model_type\": \"qwen3\",\n"
             "  \"num_attention_heads\": %d,\n  \"num_hidden_layers\": %d,\n  \"num_key_value_heads\": %d,\n"
             "  \"rms_norm_eps\": 1e-06,\n  \"rope_scaling\": null,\n  \"rope_theta\": 1000000,\n  \"sliding_window\": null,\n"
             "  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"%s\",\n  \"transformers_version\": \"4.51.3\",\n"
             "  \"use_cache\": true,\n  \"use_sliding_window\": false,\n  \"vocab_size\": %d\n}\n",
             rerank ? 151645 : 151643, head_dim, hidden, ffn, max_pos, layers, heads, layers, kv_heads,
             st_dtype == 0 ? "float32" : st_dtype == 1 ? "float16" : "bfloat16", n_vocab);
    if (write_file(out, "config.json", buf)) return -1;
    if (!rerank) {
        char p1[4096];
        snprintf(p1, sizeof p1, "%s/1_Pooling", out);
        if (mkdir(p1, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "gen_model: cannot create %s\n", p1); return -1; }
        snprintf(buf, sizeof buf, "{\n  \"word_embedding_dimension\": %d,\n  \"pooling_mode_cls_token\": false,\n"
                 "  \"pooling_mode_mean_tokens\": false,\n  \"pooling_mode_max_tokens\": false,\n"
                 "  \"pooling_mode_mean_sqrt_len_tokens\": false,\n  \"pooling_mode_weightedmean_tokens\": false,\n"
                 "  \"pooling_mode_lasttoken\": true,\n  \"include_prompt\": true\n}\n", hidden);
        if (write_file(out, "1_Pooling/config.json", buf) ||
            write_file(out, "modules.json",
                       "[\n  {\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},\n"
                       "  {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},\n"
                       "  {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}\n]\n") ||
            write_file(out, "config_sentence_transformers.json",
                       "{\n  \"prompts\": {\n    \"query\": \"Instruct: Given a web search query, retrieve relevant passages that answer the query\\nQuery:\",\n"
                       "    \"document\": \"\"\n  },\n  \"default_prompt_name\": null,\n  \"similarity_fn_name\": \"cosine\"\n}\n") ||
            write_file(out, "sentence_bert_config.json", "{\n  \"max_seq_length\": 32768,\n  \"do_lower_case\": false\n}\n"))
            return -1;
    }
    /* tensors in the official writer's (sorted) order; the embedder stores
     * the bare Qwen3Model (no "model." prefix), the reranker the causal LM
     * with its head tied to the embedding (no lm_head.weight) */
    int n = 0, qd = heads * head_dim, kd = kv_heads * head_dim;
    tdesc *t = calloc((size_t)(2 + layers * 11), sizeof *t);
    if (!t) { fprintf(stderr, "gen_model: out of memory\n"); return -1; }
    const char *pre = rerank ? "model." : "";
    char nm[96];
#define QT(r, c, k, ...) do { snprintf(nm, sizeof nm, __VA_ARGS__); snprintf(t[n].name, sizeof t[n].name, "%s%s", pre, nm); \
                              t[n].rows = r; t[n].cols = c; t[n].kind = k; n++; } while (0)
    QT(n_vocab, hidden, 0, "embed_tokens.weight");
    /* sorted as strings: layers.10 before layers.2, as the official writer has them */
    char (*order)[16] = calloc((size_t)layers, 16);
    if (!order) { free(t); return -1; }
    for (int l = 0; l < layers; l++) snprintf(order[l], 16, "%d", l);
    qsort(order, (size_t)layers, 16, (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < layers; i++) {
        const char *l = order[i];
        QT(0, hidden, 2, "layers.%s.input_layernorm.weight", l);
        QT(hidden, ffn, 0, "layers.%s.mlp.down_proj.weight", l);
        QT(ffn, hidden, 0, "layers.%s.mlp.gate_proj.weight", l);
        QT(ffn, hidden, 0, "layers.%s.mlp.up_proj.weight", l);
        QT(0, hidden, 2, "layers.%s.post_attention_layernorm.weight", l);
        QT(0, head_dim, 2, "layers.%s.self_attn.k_norm.weight", l);
        QT(kd, hidden, 0, "layers.%s.self_attn.k_proj.weight", l);
        QT(hidden, qd, 0, "layers.%s.self_attn.o_proj.weight", l);
        QT(0, head_dim, 2, "layers.%s.self_attn.q_norm.weight", l);
        QT(qd, hidden, 0, "layers.%s.self_attn.q_proj.weight", l);
        QT(kd, hidden, 0, "layers.%s.self_attn.v_proj.weight", l);
    }
    QT(0, hidden, 2, "norm.weight");
#undef QT
    free(order);
    int rc = write_safetensors(out, t, n, st_dtype, NULL, 0);
    free(t);
    if (rc == 0)
        printf("gen_model: wrote %s (Qwen3 %s, hidden %d, %d layers, %d heads, %d KV heads, head dim %d, ffn %d, vocab %d, RANDOM weights)\n",
               out, rerank ? "reranker" : "embedder", hidden, layers, heads, kv_heads, head_dim, ffn, n_vocab);
    return rc;
}

int main(int argc, char **argv)
{
    const char *kind = NULL, *out = NULL, *vocab_file = NULL, *dtype = NULL, *tok_dir = NULL;
    int hidden = 0, layers = 0, heads = 0, ffn = 0, max_pos = 0, max_seq = 256, vocab_size = 30522, kv_heads = 0, head_dim = 0;
    long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(USAGE, stdout); return 0; }
        if (!v) { fprintf(stderr, "gen_model: %s needs a value\n%s", a, USAGE); return 2; }
        i++;
        if (!strcmp(a, "--kind")) kind = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--vocab-file")) vocab_file = v;
        else if (!strcmp(a, "--dtype")) dtype = v;
        else if (!strcmp(a, "--hidden")) hidden = atoi(v);
        else if (!strcmp(a, "--layers")) layers = atoi(v);
        else if (!strcmp(a, "--heads")) heads = atoi(v);
        else if (!strcmp(a, "--ffn")) ffn = atoi(v);
        else if (!strcmp(a, "--max-pos")) max_pos = atoi(v);
        else if (!strcmp(a, "--max-seq")) max_seq = atoi(v);
        else if (!strcmp(a, "--vocab-size")) vocab_size = atoi(v);
        else if (!strcmp(a, "--kv-heads")) kv_heads = atoi(v);
        else if (!strcmp(a, "--head-dim")) head_dim = atoi(v);
        else if (!strcmp(a, "--tokenizer-dir")) tok_dir = v;
        else if (!strcmp(a, "--seed")) seed = atol(v);
        else { fprintf(stderr, "gen_model: unknown option %s\n%s", a, USAGE); return 2; }
    }
    if (!kind || !out) { fprintf(stderr, "%s", USAGE); return 2; }
    int qwen3 = !strcmp(kind, "qwen3-embed") || !strcmp(kind, "qwen3-rerank");
    if (!qwen3 && strcmp(kind, "embed") && strcmp(kind, "cross")) { fprintf(stderr, "%s", USAGE); return 2; }
    /* defaults: all-MiniLM-L6-v2's dimensions, or Qwen3-Embedding-0.6B's */
    if (!hidden) hidden = qwen3 ? 1024 : 384;
    if (!layers) layers = qwen3 ? 28 : 6;
    if (!heads) heads = qwen3 ? 16 : 12;
    if (!ffn) ffn = qwen3 ? 3072 : 1536;
    if (!max_pos) max_pos = qwen3 ? 32768 : 512;
    if (!dtype) dtype = qwen3 ? "bf16" : "f32";
    if (!kv_heads) kv_heads = qwen3 ? 8 : heads;
    if (!head_dim) head_dim = qwen3 ? 128 : hidden / heads;
    if (qwen3) {
        int st = !strcmp(dtype, "f32") ? 0 : !strcmp(dtype, "f16") ? 1 : !strcmp(dtype, "bf16") ? 2 : -1;
        if (!tok_dir) { fprintf(stderr, "gen_model: %s needs --tokenizer-dir DIR (a Qwen3 tokenizer.json)\n", kind); return 2; }
        if (st < 0 || hidden < 1 || hidden > 16384 || layers < 1 || layers > 128 || heads < 1 || heads > 256 || kv_heads < 1 ||
            heads % kv_heads || head_dim < 2 || head_dim % 2 || head_dim > 512 || ffn < 1 || ffn > 65536 || max_pos < 8) {
            fprintf(stderr, "gen_model: dimensions out of range (heads a multiple of kv heads, head dim even, dtype f32|f16|bf16)\n");
            return 2;
        }
        if (mkdir(out, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "gen_model: cannot create %s: %s\n", out, strerror(errno)); return 1; }
        rng_state = (uint64_t)seed * 0x2545F4914F6CDD1Dull + 1;
        return write_qwen3(out, !strcmp(kind, "qwen3-rerank"), tok_dir, hidden, layers, heads, kv_heads, head_dim, ffn, max_pos, st)
                   ? 1 : 0;
    }
    if (hidden < 1 || heads < 1 || hidden % heads || layers < 1 || ffn < 1 || max_pos < 8 || vocab_size < 400 ||
        hidden > 8192 || layers > 64 || ffn > 65536 || max_pos > 8192 || vocab_size > 1000000) {
        fprintf(stderr, "gen_model: dimensions out of range (hidden %% heads must be 0, vocab >= 400)\n");
        return 2;
    }
    int st_dtype = !strcmp(dtype, "f32") ? 0 : !strcmp(dtype, "f16") ? 1 : !strcmp(dtype, "bf16") ? 2 : -1;
    if (st_dtype < 0) { fprintf(stderr, "gen_model: --dtype must be f32, f16 or bf16\n"); return 2; }
    int cross = !strcmp(kind, "cross");
    if (mkdir(out, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "gen_model: cannot create %s: %s\n", out, strerror(errno)); return 1; }
    rng_state = (uint64_t)seed * 0x2545F4914F6CDD1Dull + 1;

    int n_vocab;
    if (write_vocab(out, vocab_file, vocab_size, &n_vocab) != 0) return 1;

    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\n  \"_name_or_path\": \"gen_model-%s\",\n  \"architectures\": [\"%s\"],\n"
             "  \"attention_probs_dropout_prob\": 0.1,\n  \"classifier_dropout\": null,\n"
             "  \"gradient_checkpointing\": false,\n  \"hidden_act\": \"gelu\",\n"
             "  \"hidden_dropout_prob\": 0.1,\n  \"hidden_size\": %d,\n  \"initializer_range\": 0.02,\n"
             "  \"intermediate_size\": %d,\n  \"layer_norm_eps\": 1e-12,\n  \"max_position_embeddings\": %d,\n"
             "  \"model_type\": \"bert\",\n  \"num_attention_heads\": %d,\n  \"num_hidden_layers\": %d,\n"
             "  \"pad_token_id\": 0,\n  \"position_embedding_type\": \"absolute\",\n  \"torch_dtype\": \"%s\",\n"
             "  \"transformers_version\": \"4.33.3\",\n  \"type_vocab_size\": 2,\n  \"use_cache\": true,\n"
             "  \"vocab_size\": %d%s\n}\n",
             kind, cross ? "BertForSequenceClassification" : "BertModel", hidden, ffn, max_pos, heads, layers,
             st_dtype == 0 ? "float32" : st_dtype == 1 ? "float16" : "bfloat16", n_vocab,
             cross ? ",\n  \"id2label\": {\"0\": \"LABEL_0\"},\n  \"label2id\": {\"LABEL_0\": 0},\n"
                     "  \"sbert_ce_default_activation_function\": \"torch.nn.modules.linear.Identity\"" : "");
    if (write_file(out, "config.json", buf)) return 1;
    if (write_file(out, "tokenizer_config.json",
                   "{\n  \"clean_up_tokenization_spaces\": true,\n  \"do_basic_tokenize\": true,\n"
                   "  \"do_lower_case\": true,\n  \"never_split\": null,\n  \"model_max_length\": 512,\n  \"tokenize_chinese_chars\": true,\n"
                   "  \"strip_accents\": null,\n  \"unk_token\": \"[UNK]\",\n  \"sep_token\": \"[SEP]\",\n"
                   "  \"pad_token\": \"[PAD]\",\n  \"cls_token\": \"[CLS]\",\n  \"mask_token\": \"[MASK]\",\n"
                   "  \"tokenizer_class\": \"BertTokenizer\"\n}\n")) return 1;
    if (write_file(out, "special_tokens_map.json",
                   "{\"unk_token\": \"[UNK]\", \"sep_token\": \"[SEP]\", \"pad_token\": \"[PAD]\", \"cls_token\": \"[CLS]\", \"mask_token\": \"[MASK]\"}\n")) return 1;
    if (!cross) {
        char p1[4096];
        snprintf(p1, sizeof p1, "%s/1_Pooling", out);
        if (mkdir(p1, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "gen_model: cannot create %s\n", p1); return 1; }
        snprintf(buf, sizeof buf, "{\n  \"word_embedding_dimension\": %d,\n  \"pooling_mode_cls_token\": false,\n"
                 "  \"pooling_mode_mean_tokens\": true,\n  \"pooling_mode_max_tokens\": false,\n"
                 "  \"pooling_mode_mean_sqrt_len_tokens\": false\n}\n", hidden);
        if (write_file(out, "1_Pooling/config.json", buf)) return 1;
        if (write_file(out, "modules.json",
                       "[\n  {\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},\n"
                       "  {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},\n"
                       "  {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}\n]\n")) return 1;
        snprintf(buf, sizeof buf, "{\n  \"max_seq_length\": %d,\n  \"do_lower_case\": false\n}\n", max_seq);
        if (write_file(out, "sentence_bert_config.json", buf)) return 1;
    }

    /* tensor list, in the official writer's (sorted) order */
    int cap = 32 + layers * 16, n = 0;
    tdesc *t = calloc((size_t)cap, sizeof *t);
    if (!t) { fprintf(stderr, "gen_model: out of memory\n"); return 1; }
    const char *pre = cross ? "bert." : "";
#define T(fmt_name, r, c, k) do { snprintf(t[n].name, sizeof t[n].name, "%s%s", pre, fmt_name); t[n].rows = r; t[n].cols = c; t[n].kind = k; n++; } while (0)
    T("embeddings.LayerNorm.bias", 0, hidden, 3);
    T("embeddings.LayerNorm.weight", 0, hidden, 2);
    T("embeddings.position_embeddings.weight", max_pos, hidden, 0);
    T("embeddings.token_type_embeddings.weight", 2, hidden, 0);
    T("embeddings.word_embeddings.weight", n_vocab, hidden, 0);
    char nm[96];
    for (int l = 0; l < layers; l++) {
        struct { const char *s; int r, c, k; } L[] = {
            {"attention.output.LayerNorm.bias", 0, hidden, 3}, {"attention.output.LayerNorm.weight", 0, hidden, 2},
            {"attention.output.dense.bias", 0, hidden, 1}, {"attention.output.dense.weight", hidden, hidden, 0},
            {"attention.self.key.bias", 0, hidden, 1}, {"attention.self.key.weight", hidden, hidden, 0},
            {"attention.self.query.bias", 0, hidden, 1}, {"attention.self.query.weight", hidden, hidden, 0},
            {"attention.self.value.bias", 0, hidden, 1}, {"attention.self.value.weight", hidden, hidden, 0},
            {"intermediate.dense.bias", 0, ffn, 1}, {"intermediate.dense.weight", ffn, hidden, 0},
            {"output.LayerNorm.bias", 0, hidden, 3}, {"output.LayerNorm.weight", 0, hidden, 2},
            {"output.dense.bias", 0, hidden, 1}, {"output.dense.weight", hidden, ffn, 0},
        };
        for (int i = 0; i < 16; i++) {
            snprintf(nm, sizeof nm, "encoder.layer.%d.%s", l, L[i].s);
            T(nm, L[i].r, L[i].c, L[i].k);
        }
    }
    T("pooler.dense.bias", 0, hidden, 1);
    T("pooler.dense.weight", hidden, hidden, 0);
    if (cross) {
        pre = "";
        T("classifier.bias", 0, 1, 1);
        T("classifier.weight", 1, hidden, 0);
    }
    if (write_safetensors(out, t, n, st_dtype, cross ? "bert." : "", max_pos) != 0) return 1;
    printf("gen_model: wrote %s (%s, hidden %d, %d layers, %d heads, ffn %d, vocab %d, %s, RANDOM weights)\n",
           out, cross ? "BertForSequenceClassification" : "BertModel", hidden, layers, heads, ffn, n_vocab, dtype);
    free(t);
    return 0;
}
