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
    "usage: gen_model --kind embed|cross --out DIR [options]\n"
    "  --hidden N (384)  --layers N (6)  --heads N (12)  --ffn N (1536)\n"
    "  --max-pos N (512) --max-seq N (256, embedders)  --seed S (1)\n"
    "  --vocab-file PATH (copy a WordPiece vocab.txt) | --vocab-size N (30522, synthesised)\n"
    "  --dtype f32|f16|bf16 (f32)\n";

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

int main(int argc, char **argv)
{
    const char *kind = NULL, *out = NULL, *vocab_file = NULL, *dtype = "f32";
    int hidden = 384, layers = 6, heads = 12, ffn = 1536, max_pos = 512, max_seq = 256, vocab_size = 30522;
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
        else if (!strcmp(a, "--seed")) seed = atol(v);
        else { fprintf(stderr, "gen_model: unknown option %s\n%s", a, USAGE); return 2; }
    }
    if (!kind || !out || (strcmp(kind, "embed") && strcmp(kind, "cross"))) { fprintf(stderr, "%s", USAGE); return 2; }
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
    /* header */
    size_t esz = st_dtype == 0 ? 4 : 2, hcap = (size_t)n * 200 + 256, hl = 0, off = 0;
    char *hdr = malloc(hcap);
    if (!hdr) { fprintf(stderr, "gen_model: out of memory\n"); return 1; }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "{\"__metadata__\":{\"format\":\"pt\"}");
    /* the int64 position_ids buffer the official checkpoints carry (the converter skips it) */
    hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%sembeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1,%d],\"data_offsets\":[0,%zu]}",
                           cross ? "bert." : "", max_pos, (size_t)max_pos * 8);
    off = (size_t)max_pos * 8;
    for (int i = 0; i < n; i++) {
        size_t cnt = (size_t)(t[i].rows ? t[i].rows : 1) * t[i].cols, bytes = cnt * esz;
        if (t[i].rows) hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
                                              t[i].name, st_dtype == 0 ? "F32" : st_dtype == 1 ? "F16" : "BF16", t[i].rows, t[i].cols, off, off + bytes);
        else hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
                                    t[i].name, st_dtype == 0 ? "F32" : st_dtype == 1 ? "F16" : "BF16", t[i].cols, off, off + bytes);
        off += bytes;
    }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "}");
    while (hl % 8) hdr[hl++] = ' ';
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "gen_model: cannot write %s: %s\n", path, strerror(errno)); return 1; }
    uint64_t hl64 = hl;
    fwrite(&hl64, 8, 1, f);
    fwrite(hdr, 1, hl, f);
    for (int64_t p = 0; p < max_pos; p++) fwrite(&p, 8, 1, f); /* little-endian host assumed, as everywhere in ember */
    size_t maxcnt = 0;
    for (int i = 0; i < n; i++) {
        size_t cnt = (size_t)(t[i].rows ? t[i].rows : 1) * t[i].cols;
        if (cnt > maxcnt) maxcnt = cnt;
    }
    float *data = malloc(maxcnt * sizeof(float));
    uint16_t *half = malloc(maxcnt * sizeof(uint16_t));
    if (!data || !half) { fprintf(stderr, "gen_model: out of memory\n"); fclose(f); return 1; }
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
    if (fclose(f) != 0 || bad) { fprintf(stderr, "gen_model: error writing %s\n", path); return 1; }
    printf("gen_model: wrote %s (%s, hidden %d, %d layers, %d heads, ffn %d, vocab %d, %s, RANDOM weights)\n",
           out, cross ? "BertForSequenceClassification" : "BertModel", hidden, layers, heads, ffn, n_vocab, dtype);
    free(t); free(hdr); free(data); free(half);
    return 0;
}
