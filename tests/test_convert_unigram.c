/* The converter's Unigram reader (tools/convert_tok_unigram.c) and the
 * binding of "t5" vocabularies: the Pegasus tokenizer folder (no
 * config.json, no weights) converts with llama.cpp's keys and ember's,
 * loads and tokenizes the fixture's 477 cases as HF does; a vocabulary laid
 * out as llama.cpp's converter lays it out (its keys only) loads with its
 * defaults; what ember would not reproduce is refused by name; --vocab-only
 * takes a folder of tokenizer files alone for WordPiece and BPE too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ember.h"
#include "fixture_json.h"
#include "model/gguf.h"
#include "model/gguf_keys.h"
#include "tests/fixtures.h"
#include "tools/convert.h"

#define CAP 65536

static int convert_vocab(const char *dir, const char *out, char *err, size_t errlen)
{
    convert_options o = { .hf_dir = dir, .out_path = out, .dtype = CONVERT_F32, .vocab_only = 1 };
    convert_summary s;
    return convert_hf_to_gguf(&o, &s, err, errlen);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/%s", from_dir, name);
    snprintf(b, sizeof b, "%s/%s", to_dir, name);
    size_t n;
    char *s = test_slurp(a, &n);
    if (!s) return; /* not every folder has every file */
    FILE *f = fopen(b, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, n, f), n);
    fclose(f);
    free(s);
}

/* a folder holding the tokenizer files of fixture folder rel, and nothing else */
static const char *tokenizer_folder(const char *rel, const char *name)
{
    static char dirs[8][700];
    static int k;
    char src[1024], probe[1100];
    snprintf(probe, sizeof probe, "%s/tokenizer.json", rel);
    if (!fixture_path(src, sizeof src, probe)) return NULL;
    *strrchr(src, '/') = '\0';
    char *dir = dirs[k++ % 8];
    snprintf(dir, 700, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0755);
    static const char *const files[] = { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" };
    for (int i = 0; i < 3; i++) copy_file(src, dir, files[i]);
    return dir;
}

static uint32_t kv_u32(const gguf_file *f, const char *key)
{
    uint32_t v = 0;
    if (gguf_get_u32(f, key, &v) != 0) fail_msg("key %s missing or not an integer", key);
    return v;
}

static int kv_bool(const gguf_file *f, const char *key)
{
    int v = -1;
    if (gguf_get_bool(f, key, &v) != 0) fail_msg("key %s missing or not a bool", key);
    return v;
}

static void expect_str(const gguf_file *f, const char *key, const char *want)
{
    const char *s;
    size_t n;
    if (gguf_get_str(f, key, &s, &n) != 0) fail_msg("key %s missing", key);
    if (n != strlen(want) || memcmp(s, want, n) != 0) fail_msg("%s is \"%.*s\", expected \"%s\"", key, (int)n, s, want);
}

static int32_t arr_i32(const gguf_file *f, const char *key, uint64_t i)
{
    uint32_t et;
    uint64_t n;
    const void *d;
    assert_int_equal(gguf_get_arr(f, key, &et, &n, &d), 0);
    assert_int_equal(et, GGUF_TYPE_INT32);
    assert_true(i < n);
    int32_t v;
    memcpy(&v, (const char *)d + 4 * i, 4);
    return v;
}

/* every case of cases.jsonl whose id passes keep() through ctx c; returns
 * how many were run, fails on any difference */
static int run_cases(ember_ctx *c, int (*keep)(const char *id, const char *text, size_t len, const fixture_json *ids))
{
    char path[1024], err[256];
    assert_true(fixture_path(path, sizeof path, "tokenizers/sentencepiece-unigram/cases.jsonl"));
    size_t len;
    char *buf = fixture_json_read_file(path, &len);
    assert_non_null(buf);
    int32_t *ids = malloc(CAP * sizeof *ids), *types = malloc(CAP * sizeof *types);
    assert_true(ids && types);
    int total = 0, bad = 0;
    for (char *line = buf; line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (ll) {
            fixture_json *cj = fixture_json_parse(line, ll, err, sizeof err);
            assert_non_null(cj);
            size_t tl, pl = 0;
            const char *id = fixture_json_str(fixture_json_get(cj, "id"), NULL);
            const char *text = fixture_json_str(fixture_json_get(cj, "text"), &tl);
            const fixture_json *pj = fixture_json_get(cj, "text_pair"), *mlj = fixture_json_get(cj, "max_length");
            const fixture_json *want = fixture_json_get(cj, "ids");
            const char *pt = fixture_json_type(pj) == FJ_STR ? fixture_json_str(pj, &pl) : NULL;
            if (!keep || keep(id, text, tl, want)) {
                int got = 0;
                ember_status st = ember_tokenize(c, text, tl, pt, pl, fixture_json_bool(fixture_json_get(cj, "add_special_tokens")),
                                                 fixture_json_type(mlj) == FJ_NUM ? (int)fixture_json_num(mlj) : 0, ids,
                                                 types, CAP, &got);
                int ok = st == EMBER_OK && got == (int)fixture_json_len(want);
                for (int i = 0; ok && i < got; i++)
                    ok = ids[i] == (int32_t)fixture_json_num(fixture_json_at(want, (size_t)i)) && types[i] == 0;
                if (!ok) {
                    printf("  FAIL %s (%s)\n", id, st == EMBER_OK ? "ids differ" : ember_ctx_error(c));
                    bad++;
                }
                total++;
            }
            fixture_json_free(cj);
        }
        line = nl ? nl + 1 : buf + len;
    }
    free(buf);
    free(ids);
    free(types);
    assert_int_equal(bad, 0);
    return total;
}

static char PEG_GGUF[700];

static void test_pegasus(void **state)
{
    (void)state;
    char err[512];
    const char *dir = tokenizer_folder("tokenizers/sentencepiece-unigram", "pegasus");
    if (!dir) { skip(); return; }
    snprintf(PEG_GGUF, sizeof PEG_GGUF, "%s/pegasus.gguf", test_tmpdir());
    if (convert_vocab(dir, PEG_GGUF, err, sizeof err)) fail_msg("%s", err);
    gguf_file *f = gguf_open(PEG_GGUF, err, sizeof err);
    assert_non_null(f);
    expect_str(f, KEY_ARCH, "t5");
    expect_str(f, KEY_TOK_MODEL, "t5");
    expect_str(f, KEY_TOK_PRE, "default");
    uint64_t n;
    assert_true(gguf_get_str_arr(f, KEY_TOK_TOKENS, &n) >= 0);
    assert_int_equal(n, 96103);
    uint32_t et;
    const void *d;
    assert_int_equal(gguf_get_arr(f, KEY_TOK_SCORES, &et, &n, &d), 0);
    assert_int_equal(et, GGUF_TYPE_FLOAT32);
    assert_int_equal(n, 96103);
    float sc;
    memcpy(&sc, (const char *)d + 4 * 109, 4); /* "▁the" */
    assert_true(sc == -3.329261541366577f);
    /* HF reads the scores with serde_json, an ULP off for many: the f64 copy */
    assert_int_equal(gguf_get_arr(f, KEY_E_SCORES_F64, &et, &n, &d), 0);
    assert_int_equal(et, GGUF_TYPE_FLOAT64);
    double unk;
    assert_int_equal(gguf_get_f64(f, KEY_E_UNK_SCORE, &unk), 0);
    assert_true(unk == -110.0);
    assert_int_equal(gguf_get_arr(f, KEY_TOK_CHARSMAP, &et, &n, &d), 0);
    assert_int_equal(et, GGUF_TYPE_UINT8);
    assert_int_equal(n, 237539);
    assert_int_equal(arr_i32(f, KEY_TOK_TYPES, 0), 3);   /* <pad>, special */
    assert_int_equal(arr_i32(f, KEY_TOK_TYPES, 105), 2); /* <unk> */
    assert_int_equal(arr_i32(f, KEY_TOK_TYPES, 106), 1); /* <n>, a piece */
    assert_int_equal(kv_u32(f, KEY_TOK_UNK), 105);
    assert_int_equal(kv_u32(f, KEY_TOK_EOS), 1);
    assert_int_equal(kv_u32(f, KEY_TOK_PAD), 0);
    assert_int_equal(kv_bool(f, KEY_TOK_ADD_EOS), 1);
    assert_int_equal(kv_bool(f, KEY_TOK_ADD_PREFIX), 1);
    assert_int_equal(kv_bool(f, KEY_TOK_REMOVE_WS), 1);
    assert_int_equal(kv_bool(f, KEY_E_WSPLIT), 1);
    expect_str(f, KEY_E_MS_PREPEND, "always");
    int k = gguf_get_str_arr(f, KEY_E_NORMALIZERS, &n);
    assert_true(k >= 0);
    assert_int_equal(n, 2);
    const char *s;
    size_t sl;
    gguf_str_arr_at(f, k, 1, &s, &sl);
    assert_int_equal(sl, strlen("replace_spaces"));
    assert_memory_equal(s, "replace_spaces", sl);
    gguf_close(f);

    ember_model *m = ember_model_load(PEG_GGUF, err, sizeof err);
    if (!m) fail_msg("load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_TOKENIZER);
    assert_string_equal(info.tokenizer, "t5");
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    int total = run_cases(c, NULL);
    printf("sentencepiece-unigram through the converter: %d cases\n", total);
    assert_int_equal(total, 477);
    ember_ctx_free(c);
    ember_model_free(m);
}

/* plain text: single spaces between words, no unknown piece */
static int plain_english(const char *id, const char *text, size_t len, const fixture_json *ids)
{
    if (strncmp(id, "english-", 8) != 0 || len == 0 || text[0] == ' ' || text[len - 1] == ' ') return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || (text[i] == ' ' && i + 1 < len && text[i + 1] == ' ')) return 0;
    for (size_t i = 0; i < fixture_json_len(ids); i++)
        if (fixture_json_num(fixture_json_at(ids, i)) == 105) return 0;
    return 1;
}

/* A vocabulary with llama.cpp's keys only: its defaults stand in for
 * ember's keys (Replace(" {2,}") for remove_extra_whitespaces, Metaspace
 * prepending, eos appended), which on plain text is Pegasus' pipeline. */
static void write_llamacpp(const char *from, const char *to, int with_cls)
{
    char err[512];
    gguf_file *f = gguf_open(from, err, sizeof err);
    assert_non_null(f);
    gguf_writer *w = gguf_writer_new();
    assert_non_null(w);
    uint64_t n, nc, ns, nt;
    int k = gguf_get_str_arr(f, KEY_TOK_TOKENS, &n);
    const char **toks = malloc(n * sizeof *toks);
    size_t *lens = malloc(n * sizeof *lens);
    assert_true(toks && lens);
    for (uint64_t i = 0; i < n; i++) gguf_str_arr_at(f, k, i, &toks[i], &lens[i]);
    uint32_t et;
    const void *cm, *sc, *ty;
    assert_int_equal(gguf_get_arr(f, KEY_TOK_CHARSMAP, &et, &nc, &cm), 0);
    assert_int_equal(gguf_get_arr(f, KEY_TOK_SCORES, &et, &ns, &sc), 0);
    assert_int_equal(gguf_get_arr(f, KEY_TOK_TYPES, &et, &nt, &ty), 0);
    int bad = 0;
    bad |= gguf_writer_set_str(w, KEY_ARCH, "t5", 2);
    bad |= gguf_writer_set_str(w, KEY_TOK_MODEL, "t5", 2);
    bad |= gguf_writer_set_str(w, KEY_TOK_PRE, "default", 7);
    bad |= gguf_writer_set_str_arr(w, KEY_TOK_TOKENS, toks, lens, n);
    bad |= gguf_writer_set_arr(w, KEY_TOK_SCORES, GGUF_TYPE_FLOAT32, sc, ns);
    bad |= gguf_writer_set_arr(w, KEY_TOK_TYPES, GGUF_TYPE_INT32, ty, nt);
    bad |= gguf_writer_set_bool(w, KEY_TOK_ADD_PREFIX, 1);
    bad |= gguf_writer_set_bool(w, KEY_TOK_REMOVE_WS, 1);
    bad |= gguf_writer_set_arr(w, KEY_TOK_CHARSMAP, GGUF_TYPE_UINT8, cm, nc);
    bad |= gguf_writer_set_u32(w, KEY_TOK_EOS, 1);
    bad |= gguf_writer_set_u32(w, KEY_TOK_UNK, 105);
    bad |= gguf_writer_set_u32(w, KEY_TOK_PAD, 0);
    if (with_cls) { /* XLM-R's: <s> and </s> as cls and sep (Pegasus has no <s>: <mask_1> stands in) */
        bad |= gguf_writer_set_u32(w, KEY_TOK_CLS, 2);
        bad |= gguf_writer_set_u32(w, KEY_TOK_SEP, 1);
    }
    assert_int_equal(bad, 0);
    if (gguf_writer_write(w, to, err, sizeof err)) fail_msg("%s", err);
    gguf_writer_free(w);
    free(toks);
    free(lens);
    gguf_close(f);
}

static void test_llamacpp_layout(void **state)
{
    (void)state;
    if (!PEG_GGUF[0]) { skip(); return; }
    char to[800], err[512];
    snprintf(to, sizeof to, "%s/llamacpp-t5.gguf", test_tmpdir());
    write_llamacpp(PEG_GGUF, to, 0);
    ember_model *m = ember_model_load(to, err, sizeof err);
    if (!m) fail_msg("llama.cpp-style t5 vocabulary did not load: %s", err);
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    int total = run_cases(c, plain_english);
    printf("llama.cpp layout: %d plain English cases as HF\n", total);
    assert_true(total >= 10);
    ember_ctx_free(c);
    ember_model_free(m);
    /* with cls and sep, BERT's layout: [cls] A [sep] */
    snprintf(to, sizeof to, "%s/llamacpp-xlmr.gguf", test_tmpdir());
    write_llamacpp(PEG_GGUF, to, 1);
    assert_non_null(m = ember_model_load(to, err, sizeof err));
    assert_non_null(c = ember_ctx_create(m, NULL, err, sizeof err));
    int32_t ids[16];
    int got = 0;
    assert_int_equal(ember_tokenize(c, "Hello world", 11, NULL, 0, 1, 0, ids, NULL, 16, &got), EMBER_OK);
    const int32_t want[] = { 2, 8087, 278, 1 };
    assert_int_equal(got, 4);
    assert_memory_equal(ids, want, sizeof want);
    ember_ctx_free(c);
    ember_model_free(m);
}

/* ---- refusals, on a small Unigram tokenizer ---- */

typedef struct {
    const char *normalizer, *pre, *model_extra, *added, *post;
} ug_json;

static const char *write_ug(const char *name, const ug_json *j)
{
    static char dirs[16][600];
    static int k;
    char *dir = dirs[k++ % 16];
    snprintf(dir, 600, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0755);
    char s[4096];
    int n = snprintf(s, sizeof s,
                     "{\"version\":\"1.0\",\"added_tokens\":[%s],\"normalizer\":%s,\"pre_tokenizer\":%s,"
                     "\"post_processor\":%s,\"model\":{\"type\":\"Unigram\",%s\"vocab\":[[\"<unk>\",0.0],"
                     "[\"\\u2581a\",-1.5],[\"a\",-2.0],[\"b\",-2.5],[\"\\u2581\",-3.0]]}}",
                     j->added ? j->added : "{\"id\":0,\"content\":\"<unk>\",\"special\":true,\"normalized\":false}",
                     j->normalizer ? j->normalizer : "null",
                     j->pre ? j->pre : "{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"always\"}",
                     j->post ? j->post : "null", j->model_extra ? j->model_extra : "\"unk_id\":0,");
    assert_true(n > 0 && n < (int)sizeof s);
    char path[700];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return dir;
}

static void expect_refused(const char *name, const ug_json *j, const char *word)
{
    char out[700], err[512];
    const char *dir = write_ug(name, j);
    snprintf(out, sizeof out, "%s/%s.gguf", test_tmpdir(), name);
    if (convert_vocab(dir, out, err, sizeof err) == 0) fail_msg("%s: converted, expected a refusal naming %s", name, word);
    if (!strstr(err, word)) fail_msg("%s: error \"%s\" lacks \"%s\"", name, err, word);
}

static void test_small_and_refusals(void **state)
{
    (void)state;
    char out[700], err[512];
    ug_json ok = { 0 };
    ok.normalizer = "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Lowercase\"},{\"type\":\"Strip\","
                    "\"strip_left\":true,\"strip_right\":true},{\"type\":\"Replace\",\"pattern\":{\"String\":\"c\"},"
                    "\"content\":\"b\"}]}";
    const char *dir = write_ug("ok", &ok);
    snprintf(out, sizeof out, "%s/ok.gguf", test_tmpdir());
    if (convert_vocab(dir, out, err, sizeof err)) fail_msg("%s", err);
    ember_model *m = ember_model_load(out, err, sizeof err);
    if (!m) fail_msg("%s", err);
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    int32_t ids[16];
    int got = 0;
    /* " A C<unk>x": lowercased, stripped, c -> b; the unknown x alone */
    assert_int_equal(ember_tokenize(c, " A C<unk>x", 10, NULL, 0, 1, 0, ids, NULL, 16, &got), EMBER_OK);
    const int32_t want[] = { 1, 4, 3, 0, 4, 0 };
    assert_int_equal(got, 6);
    assert_memory_equal(ids, want, sizeof want);
    ember_ctx_free(c);
    ember_model_free(m);

    /* XLM-R's template: <s> A </s></s> B </s> (here <unk> and "b" stand in for <s> and </s>) */
    ug_json rp = { 0 };
    rp.post = "{\"type\":\"RobertaProcessing\",\"sep\":[\"b\",3],\"cls\":[\"<unk>\",0]}";
    dir = write_ug("roberta", &rp);
    snprintf(out, sizeof out, "%s/roberta.gguf", test_tmpdir());
    if (convert_vocab(dir, out, err, sizeof err)) fail_msg("%s", err);
    assert_non_null(m = ember_model_load(out, err, sizeof err));
    assert_non_null(c = ember_ctx_create(m, NULL, err, sizeof err));
    int32_t types[16];
    assert_int_equal(ember_tokenize(c, "a", 1, "a a", 3, 1, 0, ids, types, 16, &got), EMBER_OK);
    const int32_t want_pair[] = { 0, 1, 3, 3, 1, 1, 3 }, zeros[7] = { 0 };
    assert_int_equal(got, 7);
    assert_memory_equal(ids, want_pair, sizeof want_pair);
    assert_memory_equal(types, zeros, sizeof zeros);
    assert_int_equal(ember_tokenize(c, "a", 1, NULL, 0, 1, 3, ids, types, 16, &got), EMBER_OK);
    assert_int_equal(got, 3);
    ember_ctx_free(c);
    ember_model_free(m);

    ug_json j = { 0 };
    j.normalizer = "{\"type\":\"NFKC\"}";
    expect_refused("nfkc", &j, "normalizer NFKC is not supported");
    j = (ug_json){ 0 };
    j.normalizer = "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"}";
    expect_refused("regex", &j, "the regex \\s+ is not supported");
    j = (ug_json){ 0 };
    j.normalizer = "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"not base64!\"}";
    expect_refused("not-base64", &j, "not base64");
    j = (ug_json){ 0 };
    j.normalizer = "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"BgAAAAEAAAA=\"}";
    expect_refused("bad-charsmap", &j, "precompiled_charsmap");
    j = (ug_json){ 0 };
    j.pre = "{\"type\":\"Whitespace\"}";
    expect_refused("whitespace-pre", &j, "pre_tokenizer Whitespace is not supported");
    j = (ug_json){ 0 };
    j.model_extra = "\"unk_id\":null,";
    expect_refused("no-unk", &j, "without unk_id");
    j = (ug_json){ 0 };
    j.model_extra = "\"unk_id\":9,";
    expect_refused("unk-range", &j, "unk_id");
    j = (ug_json){ 0 };
    j.added = "{\"id\":0,\"content\":\"<unk>\",\"special\":true,\"normalized\":true}";
    expect_refused("normalized", &j, "<unk> is normalized");
    j = (ug_json){ 0 };
    j.added = "{\"id\":0,\"content\":\"<unk>\",\"special\":true,\"single_word\":true}";
    expect_refused("single-word", &j, "single_word");
    j = (ug_json){ 0 };
    j.added = "{\"id\":3,\"content\":\"<x>\",\"special\":true}";
    expect_refused("clash", &j, "used by two tokens");
}

/* ---- a corrupt GGUF is refused with its reason ---- */

static void test_corrupt_gguf(void **state)
{
    (void)state;
    char dir_out[700], err[512];
    const char *dir = write_ug("base", &(ug_json){ 0 });
    snprintf(dir_out, sizeof dir_out, "%s/base.gguf", test_tmpdir());
    if (convert_vocab(dir, dir_out, err, sizeof err)) fail_msg("%s", err);
    static const struct { const char *key; int kind; const char *why; } cases[] = {
        { KEY_TOK_SCORES, 0, "tokenizer.ggml.scores" },      /* too short */
        { KEY_TOK_CHARSMAP, 1, "precompiled_charsmap" },     /* garbage bytes */
        { KEY_TOK_CHARSMAP, 2, "must be a byte array" },     /* wrong type */
        { KEY_E_NORMALIZERS, 3, "not one ember has" },
        { KEY_E_MS_PREPEND, 4, "always, first or never" },
        { KEY_TOK_UNK, 5, "unknown_token_id" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gguf_file *f = gguf_open(dir_out, err, sizeof err);
        assert_non_null(f);
        gguf_writer *w = gguf_writer_new();
        for (int k = 0; k < gguf_n_kv(f); k++) {
            const char *name = gguf_kv_name(f, k);
            if (strcmp(name, cases[i].key) == 0) continue;
            /* without ember's normalizer list, llama.cpp's keys say: the charsmap is used */
            if ((cases[i].kind == 1 || cases[i].kind == 3) && strncmp(name, "ember.tokenizer.normalizer", 26) == 0) continue;
            uint32_t t = gguf_kv_type(f, k);
            const void *d = gguf_kv_data(f, k);
            if (t == GGUF_TYPE_STRING) {
                uint64_t l;
                memcpy(&l, d, 8);
                gguf_writer_set_str(w, name, (const char *)d + 8, (size_t)l);
            } else if (t == GGUF_TYPE_ARRAY && gguf_kv_arr_type(f, k) == GGUF_TYPE_STRING) {
                uint64_t n;
                int ki = gguf_get_str_arr(f, name, &n);
                const char **s = malloc((n + 1) * sizeof *s);
                size_t *l = malloc((n + 1) * sizeof *l);
                for (uint64_t q = 0; q < n; q++) gguf_str_arr_at(f, ki, q, &s[q], &l[q]);
                gguf_writer_set_str_arr(w, name, s, l, n);
                free(s);
                free(l);
            } else if (t == GGUF_TYPE_ARRAY) {
                gguf_writer_set_arr(w, name, gguf_kv_arr_type(f, k), d, gguf_kv_arr_len(f, k));
            } else {
                gguf_writer_set_val(w, name, t, d);
            }
        }
        static const float sc[2] = { 0, -1 };
        static const uint8_t junk[12] = { 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 }; /* a trie past the end */
        static const char *const names[1] = { "nfkc" }, *const empty[1] = { "" };
        static const size_t nl[1] = { 4 }, zl[1] = { 0 };
        switch (cases[i].kind) {
        case 0: gguf_writer_set_arr(w, KEY_TOK_SCORES, GGUF_TYPE_FLOAT32, sc, 2); break;
        case 1: gguf_writer_set_arr(w, KEY_TOK_CHARSMAP, GGUF_TYPE_UINT8, junk, sizeof junk); break;
        case 2: gguf_writer_set_arr(w, KEY_TOK_CHARSMAP, GGUF_TYPE_FLOAT32, sc, 2); break;
        case 3: gguf_writer_set_str_arr(w, KEY_E_NORMALIZERS, names, nl, 1);
                gguf_writer_set_str_arr(w, KEY_E_NORM_FROM, empty, zl, 1);
                gguf_writer_set_str_arr(w, KEY_E_NORM_TO, empty, zl, 1); break;
        case 4: gguf_writer_set_str(w, KEY_E_MS_PREPEND, "sometimes", 9); break;
        default: gguf_writer_set_u32(w, KEY_TOK_UNK, 77); break;
        }
        gguf_close(f);
        char bad[760];
        snprintf(bad, sizeof bad, "%s/corrupt%zu.gguf", test_tmpdir(), i);
        assert_int_equal(gguf_writer_write(w, bad, err, sizeof err), 0);
        gguf_writer_free(w);
        ember_model *m = ember_model_load(bad, err, sizeof err);
        if (m) fail_msg("case %zu loaded; expected a refusal naming %s", i, cases[i].why);
        if (!strstr(err, cases[i].why)) fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].why);
    }
}

/* ---- --vocab-only on folders of tokenizer files alone ---- */

static void test_vocab_only_folders(void **state)
{
    (void)state;
    static const struct { const char *rel, *name, *text; int min_ids; } f[] = {
        { "tokenizers/bert-uncased", "only-bert", "Hello world", 4 },
        { "tokenizers/qwen3", "only-qwen3", "Hello world", 2 },
        { "tokenizers/sentencepiece-unigram", "only-pegasus", "Hello world", 3 },
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        char out[800], err[512], probe[800];
        const char *dir = tokenizer_folder(f[i].rel, f[i].name);
        if (!dir) { skip(); return; }
        struct stat sb;
        snprintf(probe, sizeof probe, "%s/config.json", dir);
        assert_int_not_equal(stat(probe, &sb), 0);
        snprintf(out, sizeof out, "%s/%s.gguf", test_tmpdir(), f[i].name);
        if (convert_vocab(dir, out, err, sizeof err)) fail_msg("%s: %s", f[i].name, err);
        ember_model *m = ember_model_load(out, err, sizeof err);
        if (!m) fail_msg("%s: %s", f[i].name, err);
        ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
        assert_non_null(c);
        int32_t ids[32];
        int got = 0;
        assert_int_equal(ember_tokenize(c, f[i].text, strlen(f[i].text), NULL, 0, 1, 0, ids, NULL, 32, &got), EMBER_OK);
        assert_true(got >= f[i].min_ids);
        ember_ctx_free(c);
        ember_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pegasus),
        cmocka_unit_test(test_llamacpp_layout),
        cmocka_unit_test(test_small_and_refusals),
        cmocka_unit_test(test_corrupt_gguf),
        cmocka_unit_test(test_vocab_only_folders),
    };
    return cmocka_run_group_tests_name("convert_unigram", tests, NULL, NULL);
}
