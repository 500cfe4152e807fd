/* gen_seeds OUT HF_EMBED HF_CROSS [FIXTURES]: writes the seed corpora of the
 * fuzz harnesses into OUT/<harness>/ (make fuzz runs it; nothing here is
 * committed): small GGUF models (synthesised, and converted from the two
 * generated HuggingFace folders), index files of every type and store,
 * config.json and tokenizer.json files (generated, and the fixtures' own with
 * their vocabularies cut to the first ids), safetensors files and JSONL. */
#include "ember.h"
#include "model/gguf.h"
#include "tests/synth_model.h"
#include "tools/convert.h"
#include "tools/json.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *OUT;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gen_seeds: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void path_of(char *p, size_t cap, const char *harness, const char *name)
{
    snprintf(p, cap, "%s/%s", OUT, harness);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) die("cannot create %s: %s", p, strerror(errno));
    snprintf(p, cap, "%s/%s/%s", OUT, harness, name);
}

static void put(const char *harness, const char *name, const void *data, size_t n)
{
    char p[4096];
    path_of(p, sizeof p, harness, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) die("cannot write %s", p);
}

static void put_str(const char *harness, const char *name, const char *s) { put(harness, name, s, strlen(s)); }

static char *slurp(const char *path, size_t *n)
{
    char err[256];
    char *s = json_read_file(path, n, err, sizeof err);
    return s; /* NULL when absent: the fixtures are optional */
}

static void copy_in(const char *harness, const char *name, const char *from)
{
    size_t n;
    char *s = slurp(from, &n);
    if (!s) die("cannot read %s", from);
    put(harness, name, s, n);
    free(s);
}

/* ---- models ---- */

static void models(const char *hf_embed, const char *hf_cross)
{
    char p[4096], err[512];
    synth_opts o = synth_defaults();
    o.hidden = 16; o.layers = 1; o.heads = 2; o.ffn = 32; o.ctx = 16;
    path_of(p, sizeof p, "model", "synth-embed-f32.gguf");
    if (synth_bert_write(p, &o)) die("cannot write %s", p);
    o.wtype = GGML_TYPE_F16; o.pooling = 2;
    path_of(p, sizeof p, "model", "synth-embed-f16-cls.gguf");
    if (synth_bert_write(p, &o)) die("cannot write %s", p);
    o.wtype = GGML_TYPE_BF16; o.rank = 1;
    path_of(p, sizeof p, "model", "synth-rerank-bf16.gguf");
    if (synth_bert_write(p, &o)) die("cannot write %s", p);
    struct { const char *dir, *name; int dtype, vocab_only; } conv[] = {
        {hf_embed, "converted-embed-f32.gguf", CONVERT_F32, 0},
        {hf_cross, "converted-cross-f16.gguf", CONVERT_F16, 0},
        {hf_embed, "converted-vocab-only.gguf", CONVERT_F32, 1},
    };
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        path_of(p, sizeof p, "model", conv[i].name);
        convert_options opt = { .hf_dir = conv[i].dir, .out_path = p, .dtype = conv[i].dtype, .vocab_only = conv[i].vocab_only };
        if (convert_hf_to_gguf(&opt, NULL, err, sizeof err)) die("converting %s: %s", conv[i].dir, err);
    }
}

/* ---- index files ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static void one_index(const char *name, ember_index_type type, ember_metric metric, ember_store store, int dim,
                      ember_index_params p, size_t n_train, size_t n_add, int delete_one)
{
    char err[512], path[4096];
    ember_index *x = ember_index_create(type, metric, store, dim, &p, err, sizeof err);
    if (!x) die("index %s: %s", name, err);
    size_t nv = n_train > n_add ? n_train : n_add;
    float *v = malloc(nv * (size_t)dim * sizeof *v);
    int64_t *ids = malloc(nv * sizeof *ids);
    const char **texts = malloc(nv * sizeof *texts);
    static const char *words[] = {"alpha", "beta gamma", NULL, "", "caf\xc3\xa9", "the quick brown fox"};
    if (!v || !ids || !texts) die("out of memory");
    for (size_t i = 0; i < nv * (size_t)dim; i++) v[i] = frand();
    for (size_t i = 0; i < nv; i++) { ids[i] = (int64_t)i * 3 + 2; texts[i] = words[i % 6]; }
    if (n_train && ember_index_train(x, v, n_train, 1) != EMBER_OK) die("index %s: train: %s", name, ember_index_error(x));
    if (n_add && ember_index_add(x, v, ids, texts, n_add, 1) != EMBER_OK) die("index %s: add: %s", name, ember_index_error(x));
    if (delete_one && ember_index_delete(x, ids[1]) != EMBER_OK) die("index %s: delete: %s", name, ember_index_error(x));
    path_of(path, sizeof path, "index", name);
    if (ember_index_save(x, path) != EMBER_OK) die("index %s: save: %s", name, ember_index_error(x));
    ember_index_free(x);
    free(v); free(ids); free(texts);
}

static void indexes(void)
{
    ember_index_params d = ember_index_default_params(), p;
    one_index("flat-f32-ip.emb", EMBER_INDEX_FLAT, EMBER_METRIC_IP, EMBER_STORE_F32, 8, d, 0, 12, 1);
    one_index("flat-empty.emb", EMBER_INDEX_FLAT, EMBER_METRIC_COSINE, EMBER_STORE_F32, 4, d, 0, 0, 0);
    one_index("flat-int8-l2.emb", EMBER_INDEX_FLAT, EMBER_METRIC_L2, EMBER_STORE_INT8, 8, d, 0, 12, 0);
    p = d; p.rescore = 1;
    one_index("flat-binary-rescore.emb", EMBER_INDEX_FLAT, EMBER_METRIC_HAMMING, EMBER_STORE_BINARY, 16, p, 0, 12, 1);
    p = d; p.M = 4; p.ef_construction = 16;
    one_index("hnsw-f32-cosine.emb", EMBER_INDEX_HNSW, EMBER_METRIC_COSINE, EMBER_STORE_F32, 8, p, 0, 30, 1);
    one_index("hnsw-binary.emb", EMBER_INDEX_HNSW, EMBER_METRIC_HAMMING, EMBER_STORE_BINARY, 16, p, 0, 20, 0);
    p.refine = 1;
    one_index("hnsw-int8-refine.emb", EMBER_INDEX_HNSW, EMBER_METRIC_IP, EMBER_STORE_INT8, 8, p, 0, 20, 0);
    p = d; p.nlist = 4; p.pq_m = 4;
    one_index("ivfpq-8bit-l2.emb", EMBER_INDEX_IVFPQ, EMBER_METRIC_L2, EMBER_STORE_F32, 8, p, 256, 10, 1);
    p.pq_bits = 4; p.refine = 1;
    one_index("ivfpq-4bit-refine.emb", EMBER_INDEX_IVFPQ, EMBER_METRIC_IP, EMBER_STORE_F32, 8, p, 256, 10, 0);
}

/* ---- JSON: a writer for cut-down copies of the fixtures' files ---- */

enum { KEEP_IDS = 256, KEEP_MERGES = 64 }; /* small seeds run fast: the structure is what counts */

static void jstr(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* Writes v; in objects named "vocab" keeps ids below KEEP_IDS, in "merges"
 * the first KEEP_MERGES, in "added_tokens" the tokens whose id is kept. */
static void jwrite(FILE *f, const json_value *v, const char *key)
{
    size_t n;
    switch (json_type_of(v)) {
    case JSON_NULL: fputs("null", f); break;
    case JSON_BOOL: fputs(json_bool(v) ? "true" : "false", f); break;
    case JSON_NUMBER: fprintf(f, "%.17g", json_number(v)); break;
    case JSON_STRING: { const char *s = json_string(v, &n); jstr(f, s, n); break; }
    case JSON_ARRAY: {
        int first = 1;
        fputc('[', f);
        for (size_t i = 0; i < json_array_len(v); i++) {
            const json_value *e = json_array_at(v, i);
            if (key && !strcmp(key, "merges") && i >= KEEP_MERGES) break;
            if (key && !strcmp(key, "added_tokens") && json_number(json_object_get(e, "id")) >= KEEP_IDS) continue;
            if (!first) fputc(',', f);
            first = 0;
            jwrite(f, e, NULL);
        }
        fputc(']', f);
        break;
    }
    case JSON_OBJECT: {
        int first = 1, vocab = key && !strcmp(key, "vocab");
        fputc('{', f);
        for (size_t i = 0; i < json_object_len(v); i++) {
            const json_value *e = json_object_value_at(v, i);
            if (vocab && json_number(e) >= KEEP_IDS) continue;
            const char *k = json_object_key_at(v, i, &n);
            if (!first) fputc(',', f);
            first = 0;
            jstr(f, k, n);
            fputc(':', f);
            jwrite(f, e, k);
        }
        fputc('}', f);
        break;
    }
    }
}

static void put_trimmed(const char *harness, const char *name, const char *from)
{
    char err[256], p[4096];
    json_value *v = json_parse_file(from, err, sizeof err);
    if (!v) die("%s", err);
    path_of(p, sizeof p, harness, name);
    FILE *f = fopen(p, "wb");
    if (!f) die("cannot write %s", p);
    jwrite(f, v, NULL);
    if (fclose(f) != 0) die("cannot write %s", p);
    json_free(v);
}

/* tokenizer.json for the generated folder's vocab.txt, in three post-processor styles */
static void tokenizer_json(const char *hf_embed)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/vocab.txt", hf_embed);
    size_t n;
    char *voc = slurp(p, &n);
    if (!voc) die("cannot read %s", p);
    for (int style = 0; style < 3; style++) {
        char name[64];
        snprintf(name, sizeof name, "generated-%s.json", style == 0 ? "template" : style == 1 ? "bert" : "roberta");
        path_of(p, sizeof p, "tokenizer", name);
        FILE *f = fopen(p, "wb");
        if (!f) die("cannot write %s", p);
        fputs("{\"version\":\"1.0\",\"truncation\":null,\"padding\":{\"pad_id\":0},\"added_tokens\":[", f);
        static const struct { const char *t; int id; } sp[] = {{"[PAD]", 0}, {"[UNK]", 100}, {"[CLS]", 101}, {"[SEP]", 102}, {"[MASK]", 103}};
        for (int i = 0; i < 5; i++)
            fprintf(f, "%s{\"id\":%d,\"content\":\"%s\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                       "\"normalized\":false,\"special\":true}", i ? "," : "", sp[i].id, sp[i].t);
        fprintf(f, "],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":%s,"
                   "\"strip_accents\":%s,\"lowercase\":%s},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},",
                style == 2 ? "false" : "true", style == 1 ? "true" : "null", style == 2 ? "false" : "true");
        if (style == 0)
            fputs("\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},"
                  "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}}],"
                  "\"pair\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
                  "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},"
                  "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":1}}],\"special_tokens\":{"
                  "\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[101],\"tokens\":[\"[CLS]\"]},"
                  "\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[102],\"tokens\":[\"[SEP]\"]}}},", f);
        else
            fprintf(f, "\"post_processor\":{\"type\":\"%s\",\"sep\":[\"[SEP]\",102],\"cls\":[\"[CLS]\",101]%s},",
                    style == 1 ? "BertProcessing" : "RobertaProcessing", style == 2 ? ",\"trim_offsets\":true,\"add_prefix_space\":false" : "");
        fputs("\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},\"model\":{\"type\":\"WordPiece\","
              "\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":100,\"vocab\":{", f);
        size_t s = 0;
        for (int id = 0; s < n; id++) {
            size_t e = s;
            while (e < n && voc[e] != '\n') e++;
            if (id) fputc(',', f);
            jstr(f, voc + s, e - s);
            fprintf(f, ":%d", id);
            s = e + 1;
        }
        fputs("}}}\n", f);
        if (fclose(f) != 0) die("cannot write %s", p);
    }
    free(voc);
}

/* a small SentencePiece Unigram tokenizer.json: a precompiled_charsmap of
 * three keys (the layout of tokenizer/charsmap.h), every normalizer and
 * pre-tokenizer the converter reads, byte_fallback, lstrip / rstrip */
static void unigram_json(void)
{
    enum { NU = 1024 };
    static uint32_t u[NU];
    static uint8_t blob[4 + 4 * NU + 8];
    u[0] = 256u << 10;
    u[256 ^ 'A'] = 'A' | 1u << 8 | 512u << 10;
    u[833] = 1u << 31 | 0;
    u[833 ^ 'B'] = 'B' | 1u << 8 | 256u << 10;
    u[515] = 1u << 31 | 2;
    u[256 ^ 0xC3] = 0xC3 | 128u << 10;
    u[323 ^ 0xA9] = 0xA9 | 1u << 8 | 64u << 10;
    u[(323 ^ 0xA9) ^ 64] = 1u << 31 | 6;
    uint32_t ts = 4 * NU;
    memcpy(blob, &ts, 4);
    memcpy(blob + 4, u, sizeof u);
    memcpy(blob + 4 + ts, "a\0xyz\0\0", 7);
    size_t n = 4 + ts + 7;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char p[4096];
    path_of(p, sizeof p, "tokenizer", "generated-unigram.json");
    FILE *f = fopen(p, "wb");
    if (!f) die("cannot write %s", p);
    fputs("{\"version\":\"1.0\",\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true,"
          "\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false},"
          "{\"id\":1,\"content\":\"</s>\",\"special\":true,\"single_word\":false,\"lstrip\":false,"
          "\"rstrip\":true,\"normalized\":false},{\"id\":2,\"content\":\"<mask>\",\"special\":true,"
          "\"single_word\":false,\"lstrip\":true,\"rstrip\":false,\"normalized\":false}],"
          "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Strip\",\"strip_left\":false,"
          "\"strip_right\":true},{\"type\":\"Lowercase\"},{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"", f);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)blob[i] << 16 | (i + 1 < n ? (uint32_t)blob[i + 1] << 8 : 0) | (i + 2 < n ? blob[i + 2] : 0);
        fputc(b64[w >> 18 & 63], f);
        fputc(b64[w >> 12 & 63], f);
        fputc(i + 1 < n ? b64[w >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? b64[w & 63] : '=', f);
    }
    fputs("\"},{\"type\":\"Replace\",\"pattern\":{\"String\":\"``\"},\"content\":\"\\\"\"},"
          "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" {2,}\"},\"content\":\" \"}]},"
          "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"WhitespaceSplit\"},"
          "{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\",\"split\":true}]},"
          "\"post_processor\":{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",1],\"cls\":[\"<mask>\",2]},"
          "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"byte_fallback\":true,\"vocab\":[[\"<unk>\",0.0],"
          "[\"</s>\",0.0],[\"<mask>\",0.0],[\"\\u2581\",-2.5],[\"a\",-3.1310248374938965],[\"\\u2581a\",-1.5e0],"
          "[\"xyz\",-4.25]", f);
    for (int b = 0; b < 256; b++) fprintf(f, ",[\"<0x%02X>\",-20.0]", b);
    fputs("]}}\n", f);
    if (fclose(f) != 0) die("cannot write %s", p);
}

/* config.json and tokenizer.json of each fixture model (when the fixtures are there) */
static void fixture_json(const char *fixtures)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/models", fixtures);
    DIR *d = opendir(dir);
    if (!d) { printf("gen_seeds: no fixtures at %s: generated config/tokenizer seeds only\n", dir); return; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096], name[512];
        snprintf(p, sizeof p, "%s/%s/config.json", dir, e->d_name);
        snprintf(name, sizeof name, "fixture-%s.json", e->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0) copy_in("config", name, p);
        snprintf(p, sizeof p, "%s/%s/tokenizer.json", dir, e->d_name);
        if (stat(p, &sb) == 0) put_trimmed("tokenizer", name, p);
    }
    closedir(d);
}

/* ---- safetensors: the generated weights, and one tensor of every dtype ---- */

static void safetensors_seeds(const char *hf_embed, const char *hf_cross)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/model.safetensors", hf_embed);
    copy_in("safetensors", "generated-embed-f32.safetensors", p);
    snprintf(p, sizeof p, "%s/model.safetensors", hf_cross);
    copy_in("safetensors", "generated-cross.safetensors", p);
    static const struct { const char *dt; int size; } dts[] = {
        {"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4}, {"U32", 4}, {"F16", 2}, {"BF16", 2},
        {"I16", 2}, {"U16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    };
    char hdr[4096];
    int h = snprintf(hdr, sizeof hdr, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t off = 0;
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++) {
        size_t nb = (size_t)dts[i].size * 6;
        h += snprintf(hdr + h, sizeof hdr - (size_t)h, ",\"t.%s\":{\"dtype\":\"%s\",\"shape\":[2,3],\"data_offsets\":[%zu,%zu]}",
                      dts[i].dt, dts[i].dt, off, off + nb);
        off += nb;
    }
    h += snprintf(hdr + h, sizeof hdr - (size_t)h, ",\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[%zu,%zu]}", off, off + 4);
    off += 4;
    h += snprintf(hdr + h, sizeof hdr - (size_t)h, ",\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[%zu,%zu]}}", off, off);
    while (h % 8) hdr[h++] = ' ';
    size_t total = 8 + (size_t)h + off;
    unsigned char *buf = calloc(1, total);
    if (!buf) die("out of memory");
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, hdr, (size_t)h);
    for (size_t i = 0; i < off; i++) buf[8 + h + i] = (unsigned char)(i * 37 + 1);
    put("safetensors", "every-dtype.safetensors", buf, total);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc < 4) die("usage: gen_seeds OUT HF_EMBED HF_CROSS [FIXTURES]");
    OUT = argv[1];
    if (mkdir(OUT, 0755) != 0 && errno != EEXIST) die("cannot create %s: %s", OUT, strerror(errno));
    models(argv[2], argv[3]);
    indexes();
    char p[4096];
    snprintf(p, sizeof p, "%s/config.json", argv[2]);
    copy_in("config", "generated-embed.json", p);
    snprintf(p, sizeof p, "%s/config.json", argv[3]);
    copy_in("config", "generated-cross.json", p);
    tokenizer_json(argv[2]);
    unigram_json();
    if (argc > 4) fixture_json(argv[4]);
    safetensors_seeds(argv[2], argv[3]);
    put_str("jsonl", "records.jsonl",
            "{\"text\": \"hello world\"}\n"
            "{\"text\": \"what is the capital of France?\", \"text_pair\": \"Paris\", \"id\": 7}\n"
            "\n"
            "  {\"id\": -3, \"text_pair\": null, \"text\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\n\\t\", \"extra\": [1, 2.5e3, true, {}]}\r\n");
    put_str("jsonl", "lines.txt", "first line\r\nsecond\n\n\xe6\x9d\xb1\xe4\xba\xac third");
    put_str("jsonl", "bad-record.jsonl", "{\"text\": 1}\n");
    put_str("jsonl", "big-id.jsonl", "{\"text\": \"x\", \"id\": 9007199254740992}\n{\"text\": \"y\", \"id\": 1e300}\n");
    return 0;
}
