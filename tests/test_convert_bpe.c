/* The converter's byte-level BPE reader (tools/convert_tok_bpe.c): the Qwen3
 * tokenizer folder (no config.json) and Qwen3-Embedding's tokenizer convert
 * with llama.cpp's keys and ember's, load, and tokenize the fixture's 494
 * cases as HF does; what ember would not reproduce is refused by name. */
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
#include "tokenizer/bpe.h"
#include "tools/convert.h"

#define CAP 65536

static int convert_vocab(const char *dir, const char *out, char *err, size_t errlen)
{
    convert_options o = { .hf_dir = dir, .out_path = out, .dtype = CONVERT_F32, .vocab_only = 1 };
    convert_summary s;
    return convert_hf_to_gguf(&o, &s, err, errlen);
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

static void expect_i32s(const gguf_file *f, const char *key, const int32_t *want, size_t n)
{
    uint32_t et;
    uint64_t an;
    const void *d;
    if (gguf_get_arr(f, key, &et, &an, &d) != 0) fail_msg("key %s missing", key);
    assert_int_equal(et, GGUF_TYPE_INT32);
    assert_int_equal(an, n);
    for (size_t i = 0; i < n; i++) {
        int32_t v;
        memcpy(&v, (const char *)d + 4 * i, 4);
        if (v != want[i]) fail_msg("%s[%zu] = %d, expected %d", key, i, v, want[i]);
    }
}

static int32_t type_of(const gguf_file *f, uint32_t id)
{
    uint32_t et;
    uint64_t n;
    const void *d;
    assert_int_equal(gguf_get_arr(f, KEY_TOK_TYPES, &et, &n, &d), 0);
    assert_true(id < n);
    int32_t t;
    memcpy(&t, (const char *)d + 4 * id, 4);
    return t;
}

/* ---- the fixtures ---- */

static void test_qwen3_cases(void **state)
{
    (void)state;
    char dir_plain[1024], dir_emb[1024], cases[1024], out_plain[1024], out_emb[1024], err[512];
    if (!fixture_path(dir_plain, sizeof dir_plain, "tokenizers/qwen3/tokenizer.json") ||
        !fixture_path(dir_emb, sizeof dir_emb, "models/qwen3-embed-tiny/tokenizer.json") ||
        !fixture_path(cases, sizeof cases, "tokenizers/qwen3/cases.jsonl")) {
        skip();
        return;
    }
    *strrchr(dir_plain, '/') = '\0';
    *strrchr(dir_emb, '/') = '\0';
    snprintf(out_plain, sizeof out_plain, "%s/qwen3-vocab.gguf", test_tmpdir());
    snprintf(out_emb, sizeof out_emb, "%s/qwen3-embed-vocab.gguf", test_tmpdir());
    /* a folder of tokenizer.json and tokenizer_config.json only */
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/config.json", dir_plain);
    struct stat sb;
    assert_int_not_equal(stat(probe, &sb), 0);
    if (convert_vocab(dir_plain, out_plain, err, sizeof err)) fail_msg("qwen3: %s", err);
    if (convert_vocab(dir_emb, out_emb, err, sizeof err)) fail_msg("qwen3-embed-tiny: %s", err);

    /* llama.cpp's keys, as its converter writes them for Qwen3 */
    gguf_file *f = gguf_open(out_plain, err, sizeof err);
    assert_non_null(f);
    expect_str(f, KEY_ARCH, "qwen2");
    expect_str(f, KEY_TOK_MODEL, "gpt2");
    expect_str(f, KEY_TOK_PRE, "qwen2");
    uint64_t n;
    assert_true(gguf_get_str_arr(f, KEY_TOK_TOKENS, &n) >= 0);
    assert_int_equal(n, 151669);
    int mk = gguf_get_str_arr(f, KEY_TOK_MERGES, &n);
    assert_true(mk >= 0);
    assert_int_equal(n, 151387);
    const char *s;
    size_t sl;
    gguf_str_arr_at(f, mk, 0, &s, &sl);
    assert_int_equal(sl, 5);
    assert_memory_equal(s, "\xC4\xA0 \xC4\xA0", 5); /* "Ġ Ġ" */
    assert_int_equal(type_of(f, 0), 1);
    assert_int_equal(type_of(f, 151643), 3);  /* <|endoftext|>, special */
    assert_int_equal(type_of(f, 151659), 3);  /* <|fim_prefix|>, not special but looks it */
    assert_int_equal(type_of(f, 151657), 4);  /* <tool_call>, user-defined */
    assert_int_equal(type_of(f, 151667), 4);  /* <think> */
    assert_int_equal(kv_u32(f, KEY_TOK_EOS), 151645);
    assert_int_equal(kv_u32(f, KEY_TOK_PAD), 151643);
    uint32_t u;
    assert_int_equal(gguf_get_u32(f, KEY_TOK_BOS, &u), -1);
    assert_int_equal(kv_bool(f, KEY_TOK_ADD_BOS), 0);
    assert_int_equal(kv_bool(f, KEY_E_NFC), 1);
    assert_int_equal(kv_bool(f, KEY_E_IGNORE_MERGES), 0);
    const int32_t single[] = { -1 }, pair[] = { -1, -2 }, zero[] = { 0 }, pair_t[] = { 0, 1 };
    expect_i32s(f, KEY_E_TPL_SINGLE, single, 1);
    expect_i32s(f, KEY_E_TPL_SINGLE_T, zero, 1);
    expect_i32s(f, KEY_E_TPL_PAIR, pair, 2);
    expect_i32s(f, KEY_E_TPL_PAIR_T, pair_t, 2);
    gguf_close(f);
    /* Qwen3-Embedding's template: eos is its <|endoftext|>, <|im_end|> eot */
    f = gguf_open(out_emb, err, sizeof err);
    assert_non_null(f);
    expect_str(f, KEY_ARCH, "qwen3");
    assert_int_equal(kv_u32(f, KEY_TOK_EOS), 151643);
    assert_int_equal(kv_u32(f, KEY_TOK_EOT), 151645);
    assert_int_equal(kv_bool(f, KEY_TOK_ADD_EOS), 1);
    const int32_t esingle[] = { -1, 151643 }, epair[] = { -1, -2, 151643 }, ez[] = { 0, 0, 0 };
    expect_i32s(f, KEY_E_TPL_SINGLE, esingle, 2);
    expect_i32s(f, KEY_E_TPL_PAIR, epair, 3);
    expect_i32s(f, KEY_E_TPL_PAIR_T, ez, 3);
    gguf_close(f);

    /* every case through the converted files, as `ember tokenize` runs them */
    ember_model *mp = ember_model_load(out_plain, err, sizeof err), *me = ember_model_load(out_emb, err, sizeof err);
    if (!mp || !me) fail_msg("load: %s", err);
    ember_ctx *cp = ember_ctx_create(mp, NULL, err, sizeof err), *ce = ember_ctx_create(me, NULL, err, sizeof err);
    assert_true(cp && ce);
    size_t len;
    char *buf = fixture_json_read_file(cases, &len);
    assert_non_null(buf);
    int32_t *ids = malloc(CAP * sizeof *ids), *types = malloc(CAP * sizeof *types);
    assert_true(ids && types);
    int total = 0, pass = 0;
    for (char *line = buf; line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (ll) {
            fixture_json *c = fixture_json_parse(line, ll, err, sizeof err);
            assert_non_null(c);
            size_t tl, pl = 0;
            const char *text = fixture_json_str(fixture_json_get(c, "text"), &tl);
            const fixture_json *pj = fixture_json_get(c, "text_pair"), *mlj = fixture_json_get(c, "max_length");
            const char *pt = fixture_json_type(pj) == FJ_STR ? fixture_json_str(pj, &pl) : NULL;
            int emb = strcmp(fixture_json_str(fixture_json_get(c, "post_processor"), NULL), "qwen3-embedding") == 0;
            int got = 0;
            ember_status st = ember_tokenize(emb ? ce : cp, text, tl, pt, pl,
                                             fixture_json_bool(fixture_json_get(c, "add_special_tokens")),
                                             fixture_json_type(mlj) == FJ_NUM ? (int)fixture_json_num(mlj) : 0, ids,
                                             types, CAP, &got);
            const fixture_json *want = fixture_json_get(c, "ids");
            int ok = st == EMBER_OK && got == (int)fixture_json_len(want);
            for (int i = 0; ok && i < got; i++)
                ok = ids[i] == (int32_t)fixture_json_num(fixture_json_at(want, (size_t)i));
            if (!ok)
                printf("  FAIL %s\n", fixture_json_str(fixture_json_get(c, "id"), NULL));
            pass += ok;
            total++;
            fixture_json_free(c);
        }
        line = nl ? nl + 1 : buf + len;
    }
    printf("qwen3 through the converter: %d/%d cases\n", pass, total);
    assert_int_equal(total, 494);
    assert_int_equal(pass, total);
    free(buf);
    free(ids);
    free(types);
    ember_ctx_free(cp);
    ember_ctx_free(ce);
    ember_model_free(mp);
    ember_model_free(me);
}

/* ---- refusals, on a small byte-level tokenizer ---- */

typedef struct {
    const char *normalizer, *pre, *model_extra, *added, *merges, *post;
} bpe_json;

static const char QWEN2_PRE[] =
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
    "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+"
    "[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false},"
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}]}";

/* 256 byte symbols (ids 0..255), "ab" 256, "abc" 257; added <x> 258 */
static const char *write_bpe(const char *name, const bpe_json *j)
{
    static char dirs[16][600];
    static int k;
    char *dir = dirs[k++ % 16];
    snprintf(dir, 600, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0755);
    size_t cap = 65536, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)snprintf(s + n, cap - n, "{\"version\":\"1.0\",\"added_tokens\":[%s],\"normalizer\":%s,"
                          "\"pre_tokenizer\":%s,\"post_processor\":%s,\"model\":{\"type\":\"BPE\",%s\"vocab\":{",
                          j->added ? j->added : "{\"id\":258,\"content\":\"<x>\",\"special\":true,\"normalized\":false}",
                          j->normalizer ? j->normalizer : "{\"type\":\"NFC\"}", j->pre ? j->pre : QWEN2_PRE,
                          j->post ? j->post : "{\"type\":\"ByteLevel\"}", j->model_extra ? j->model_extra : "");
    for (int b = 0; b < 256; b++)
        n += (size_t)snprintf(s + n, cap - n, "\"\\u%04X\":%d,", (unsigned)bpe_byte_char((uint8_t)b), b);
    n += (size_t)snprintf(s + n, cap - n, "\"ab\":256,\"abc\":257},\"merges\":%s}}",
                          j->merges ? j->merges : "[[\"a\",\"b\"],[\"ab\",\"c\"]]");
    char path[700];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, n, f), n);
    fclose(f);
    free(s);
    return dir;
}

static void expect_refused(const char *name, const bpe_json *j, const char *word)
{
    char out[700], err[512];
    const char *dir = write_bpe(name, j);
    snprintf(out, sizeof out, "%s/%s.gguf", test_tmpdir(), name);
    if (convert_vocab(dir, out, err, sizeof err) == 0) fail_msg("%s: converted, expected a refusal naming %s", name, word);
    if (!strstr(err, word)) fail_msg("%s: error \"%s\" lacks \"%s\"", name, err, word);
}

static void test_small_and_refusals(void **state)
{
    (void)state;
    char out[700], err[512];
    /* the accepted shape, both merge spellings */
    bpe_json ok = { 0 };
    const char *forms[] = { NULL, "[\"a b\",\"ab c\"]" };
    for (int i = 0; i < 2; i++) {
        ok.merges = forms[i];
        const char *dir = write_bpe(i ? "ok-strings" : "ok-pairs", &ok);
        snprintf(out, sizeof out, "%s/ok%d.gguf", test_tmpdir(), i);
        if (convert_vocab(dir, out, err, sizeof err)) fail_msg("%s", err);
        ember_model *m = ember_model_load(out, err, sizeof err);
        if (!m) fail_msg("%s", err);
        ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
        assert_non_null(c);
        int32_t ids[16];
        int got = 0;
        assert_int_equal(ember_tokenize(c, "abc ab<x>a", 10, NULL, 0, 1, 0, ids, NULL, 16, &got), EMBER_OK);
        /* "abc" | " ab" (the space, byte 0x20, merges with nothing) | <x> | "a" */
        const int32_t want[] = { 257, ' ', 256, 258, 'a' };
        assert_int_equal(got, 5);
        assert_memory_equal(ids, want, sizeof want);
        ember_ctx_free(c);
        ember_model_free(m);
    }
    bpe_json j = { 0 };
    j.normalizer = "{\"type\":\"NFKC\"}";
    expect_refused("nfkc", &j, "normalizer NFKC is not supported");
    j = (bpe_json){ 0 };
    j.pre = "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":true}";
    expect_refused("prefix-space", &j, "ByteLevel with add_prefix_space");
    j = (bpe_json){ 0 };
    j.pre = "{\"type\":\"Whitespace\"}";
    expect_refused("whitespace-pre", &j, "pre_tokenizer Whitespace is not supported");
    j = (bpe_json){ 0 };
    j.pre = "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"
            "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"use_regex\":false}]}";
    expect_refused("other-pattern", &j, "the Split pattern \\s+ is not supported");
    j = (bpe_json){ 0 };
    j.model_extra = "\"byte_fallback\":true,";
    expect_refused("byte-fallback", &j, "byte_fallback");
    j = (bpe_json){ 0 };
    j.model_extra = "\"continuing_subword_prefix\":\"##\",";
    expect_refused("prefix", &j, "continuing_subword_prefix");
    j = (bpe_json){ 0 };
    j.added = "{\"id\":258,\"content\":\"<x>\",\"special\":true,\"single_word\":true,\"normalized\":false}";
    expect_refused("single-word", &j, "<x> has single_word set");
    j = (bpe_json){ 0 };
    j.added = "{\"id\":258,\"content\":\"<x>\",\"special\":false,\"normalized\":true}";
    expect_refused("normalized", &j, "<x> is normalized");
    j = (bpe_json){ 0 };
    j.merges = "[[\"a\",\"c\"]]";
    expect_refused("merge-result", &j, "its result is not a token");
    j = (bpe_json){ 0 };
    j.post = "{\"type\":\"Sequence\",\"processors\":[{\"type\":\"ByteLevel\"},{\"type\":\"RobertaProcessing\"}]}";
    expect_refused("post-seq", &j, "post_processor Sequence with RobertaProcessing");
    /* GPT-2's pipeline: ByteLevel with its regex, no normalizer, which may
     * keep normalized added tokens */
    j = (bpe_json){ 0 };
    j.normalizer = "null";
    j.pre = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}";
    j.added = "{\"id\":258,\"content\":\"<x>\",\"special\":true,\"normalized\":true}";
    const char *dir = write_bpe("no-normalizer", &j);
    snprintf(out, sizeof out, "%s/nonorm.gguf", test_tmpdir());
    if (convert_vocab(dir, out, err, sizeof err)) fail_msg("%s", err);
    gguf_file *f = gguf_open(out, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(kv_bool(f, KEY_E_NFC), 0);
    expect_str(f, KEY_TOK_PRE, "gpt-2");
    gguf_close(f);
}

/* ---- HF's lstrip / rstrip, RoBERTa style ---- */

/* The small vocabulary with GPT-2's pipeline (ByteLevel with its regex, no
 * normalizer), RoBERTa's post-processor and added tokens as transformers
 * writes RoBERTa's (<mask> lstrip), plus an rstrip token (normalized, as
 * older files have it), one with both, and a literal starting with a space. */
static const char ROBERTA_ADDED[] =
    "{\"id\":258,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
    "\"special\":true},"
    "{\"id\":259,\"content\":\"</s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
    "\"special\":true},"
    "{\"id\":260,\"content\":\"<mask>\",\"single_word\":false,\"lstrip\":true,\"rstrip\":false,\"normalized\":false,"
    "\"special\":true},"
    "{\"id\":261,\"content\":\"<r>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":true,\"normalized\":true,"
    "\"special\":false},"
    "{\"id\":262,\"content\":\"<lr>\",\"single_word\":false,\"lstrip\":true,\"rstrip\":true,\"normalized\":false,"
    "\"special\":true},"
    "{\"id\":263,\"content\":\" x\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
    "\"special\":false}";

/* ids from HuggingFace tokenizers 0.23.3 (encode with add_special_tokens) on
 * the tokenizer.json write_bpe writes here; -1 ends a list.  Byte b is token
 * b (32 the space, GPT-2's "\xC4\xA0"), "ab" 256, "abc" 257.  Whitespace is
 * White_Space (U+0085, U+00A0, U+2028, U+3000 are; U+001C, U+180E, U+200B
 * are not); after <r> took "  ", " x" is still found where its space is. */
static const struct {
    const char *text, *pair;
    int32_t ids[24];
} STRIP_CASES[] = {
    { "a <mask> b", NULL, { 258, 97, 260, 32, 98, 259, -1 } },
    { "a   <mask>", NULL, { 258, 97, 260, 259, -1 } },
    { "<mask>x", NULL, { 258, 260, 120, 259, -1 } },
    { " <mask> ", NULL, { 258, 260, 32, 259, -1 } },
    { "x<mask>  y", NULL, { 258, 120, 260, 32, 32, 121, 259, -1 } },
    { "abc <mask>abc", NULL, { 258, 257, 260, 257, 259, -1 } },
    { "<mask><mask>", NULL, { 258, 260, 260, 259, -1 } },
    { "  <mask>  <mask>  ", NULL, { 258, 260, 260, 32, 32, 259, -1 } },
    { "a\x09\x0A <mask>", NULL, { 258, 97, 260, 259, -1 } },
    { "a\xC2\xA0<mask>", NULL, { 258, 97, 260, 259, -1 } },
    { "a\xE3\x80\x80<mask>", NULL, { 258, 97, 260, 259, -1 } },
    { "a\xC2\x85<mask>", NULL, { 258, 97, 260, 259, -1 } },
    { "a\xE2\x80\x8B<mask>", NULL, { 258, 97, 226, 128, 139, 260, 259, -1 } },
    { "a\x1C<mask>", NULL, { 258, 97, 28, 260, 259, -1 } },
    { "a\xE2\x80\xA8<mask>", NULL, { 258, 97, 260, 259, -1 } },
    { "a\xE1\xA0\x8E<mask>", NULL, { 258, 97, 225, 160, 142, 260, 259, -1 } },
    { "x<r>  y", NULL, { 258, 120, 261, 121, 259, -1 } },
    { "x <r>\x09\x0A ab", NULL, { 258, 120, 32, 261, 256, 259, -1 } },
    { "<r><r> ", NULL, { 258, 261, 261, 259, -1 } },
    { "x <lr> \x09 y", NULL, { 258, 120, 262, 121, 259, -1 } },
    { "<r> <mask>", NULL, { 258, 261, 260, 259, -1 } },
    { "<r>  <lr>  <mask> abc", NULL, { 258, 261, 262, 260, 32, 257, 259, -1 } },
    { "<r> x", NULL, { 258, 261, 263, 259, -1 } },
    { "<r>  x", NULL, { 258, 261, 263, 259, -1 } },
    { "a x<mask>", NULL, { 258, 97, 263, 260, 259, -1 } },
    { "a <mask> b", " <mask> b", { 258, 97, 260, 32, 98, 259, 259, 260, 32, 98, 259, -1 } },
    { "what is <mask>?", "a <r> b",
      { 258, 119, 104, 97, 116, 32, 105, 115, 260, 63, 259, 259, 97, 32, 261, 98, 259, -1 } },
    { " ", "<mask>", { 258, 32, 259, 259, 260, 259, -1 } },
    { "", " <lr> ", { 258, 259, 259, 262, 259, -1 } },
};

static void test_strip_roberta(void **state)
{
    (void)state;
    char out[700], err[512];
    bpe_json j = { 0 };
    j.normalizer = "null";
    j.pre = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}";
    j.post = "{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",259],\"cls\":[\"<s>\",258],\"trim_offsets\":true,"
             "\"add_prefix_space\":false}";
    j.added = ROBERTA_ADDED;
    const char *dir = write_bpe("roberta-strip", &j);
    snprintf(out, sizeof out, "%s/roberta-strip.gguf", test_tmpdir());
    if (convert_vocab(dir, out, err, sizeof err)) fail_msg("%s", err);
    gguf_file *f = gguf_open(out, err, sizeof err);
    assert_non_null(f);
    const int32_t lstrip[] = { 260, 262 }, rstrip[] = { 261, 262 };
    expect_i32s(f, KEY_E_LSTRIP, lstrip, 2);
    expect_i32s(f, KEY_E_RSTRIP, rstrip, 2);
    gguf_close(f);

    ember_model *m = ember_model_load(out, err, sizeof err);
    if (!m) fail_msg("%s", err);
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    int bad = 0;
    for (size_t i = 0; i < sizeof STRIP_CASES / sizeof *STRIP_CASES; i++) {
        int32_t ids[64];
        int got = 0, want = 0;
        const char *t = STRIP_CASES[i].text, *p = STRIP_CASES[i].pair;
        assert_int_equal(ember_tokenize(c, t, strlen(t), p, p ? strlen(p) : 0, 1, 0, ids, NULL, 64, &got), EMBER_OK);
        while (STRIP_CASES[i].ids[want] >= 0) want++;
        if (got != want || memcmp(ids, STRIP_CASES[i].ids, (size_t)got * sizeof *ids) != 0) {
            printf("  FAIL case %zu %s%s%s: got", i, t, p ? " | " : "", p ? p : "");
            for (int k = 0; k < got; k++) printf(" %d", ids[k]);
            printf("\n");
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    ember_ctx_free(c);
    ember_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strip_roberta),
        cmocka_unit_test(test_small_and_refusals),
        cmocka_unit_test(test_qwen3_cases),
    };
    return cmocka_run_group_tests_name("convert_bpe", tests, NULL, NULL);
}
