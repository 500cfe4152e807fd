/* Byte-level BPE (tokenizer/bpe.c) against HuggingFace: the Qwen3 fixture's
 * cases (both post-processors, truncation), llama.cpp's qwen2 tokenizer
 * test through a GGUF written as llama.cpp writes it, NFC against a
 * reference, the windowed merge of long pre-tokens against a plain one, and
 * hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ember.h"
#include "fixture_json.h"
#include "model/gguf.h"
#include "tests/fixtures.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bpe_impl.h"
#include "tokenizer/encode.h"
#include "tokenizer/nfc_stream.h"
#include "tokenizer/unicode.h"

#define CAP 65536

/* The Qwen3 tokenizer as llama.cpp's converter lays it out: model.vocab and
 * the added tokens by id, types normal / control (special, or looking
 * special as <|...|>) / user-defined, merges "a b". */
typedef struct {
    int32_t n;
    char **toks;
    uint32_t *lens;
    int32_t *types;
    int32_t n_merges;
    char **merges;
    uint32_t *mlens;
    bpe_options opt;
    tok_template plain, emb;
} qwen_vocab;

static qwen_vocab QV;
static tok_model *QTM; /* built once for the suite */

static void qv_free(qwen_vocab *v)
{
    for (int32_t i = 0; v->toks && i < v->n; i++)
        free(v->toks[i]);
    for (int32_t i = 0; v->merges && i < v->n_merges; i++)
        free(v->merges[i]);
    free(v->toks);
    free(v->lens);
    free(v->types);
    free(v->merges);
    free(v->mlens);
    memset(v, 0, sizeof *v);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    assert_non_null(d);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* TemplateProcessing's single / pair (ids from special_tokens) */
static void parse_template(const fixture_json *arr, const fixture_json *specials, tok_item *out, int *n)
{
    *n = 0;
    for (size_t i = 0; i < fixture_json_len(arr); i++) {
        const fixture_json *it = fixture_json_at(arr, i);
        const fixture_json *sp = fixture_json_get(it, "SpecialToken"), *sq = fixture_json_get(it, "Sequence");
        assert_true(*n < TOK_TEMPLATE_MAX);
        if (sp) {
            const char *name = fixture_json_str(fixture_json_get(sp, "id"), NULL);
            const fixture_json *ids = fixture_json_get(fixture_json_get(specials, name ? name : ""), "ids");
            assert_int_equal(fixture_json_len(ids), 1);
            out[*n].id = (int32_t)fixture_json_num(fixture_json_at(ids, 0));
            out[*n].type_id = (int32_t)fixture_json_num(fixture_json_get(sp, "type_id"));
        } else {
            assert_non_null(sq);
            const char *name = fixture_json_str(fixture_json_get(sq, "id"), NULL);
            out[*n].id = strcmp(name, "A") == 0 ? TOK_SEQ_A : TOK_SEQ_B;
            out[*n].type_id = (int32_t)fixture_json_num(fixture_json_get(sq, "type_id"));
        }
        (*n)++;
    }
}

static int load_qwen(qwen_vocab *v)
{
    char path[1024], err[256];
    memset(v, 0, sizeof *v);
    if (!fixture_path(path, sizeof path, "tokenizers/qwen3/tokenizer.json"))
        return -1;
    size_t jlen;
    char *js = fixture_json_read_file(path, &jlen);
    assert_non_null(js);
    fixture_json *tj = fixture_json_parse(js, jlen, err, sizeof err);
    free(js);
    assert_non_null(tj);
    const fixture_json *model = fixture_json_get(tj, "model"), *vocab = fixture_json_get(model, "vocab");
    const fixture_json *added = fixture_json_get(tj, "added_tokens"), *merges = fixture_json_get(model, "merges");
    assert_string_equal(fixture_json_str(fixture_json_get(model, "type"), NULL), "BPE");
    int32_t n = 0;
    for (size_t i = 0; i < fixture_json_len(vocab); i++) {
        int32_t id = (int32_t)fixture_json_num(fixture_json_at(vocab, i));
        if (id + 1 > n) n = id + 1;
    }
    for (size_t i = 0; i < fixture_json_len(added); i++) {
        int32_t id = (int32_t)fixture_json_num(fixture_json_get(fixture_json_at(added, i), "id"));
        if (id + 1 > n) n = id + 1;
    }
    v->n = n;
    v->toks = calloc((size_t)n, sizeof *v->toks);
    v->lens = calloc((size_t)n, sizeof *v->lens);
    v->types = calloc((size_t)n, sizeof *v->types);
    assert_true(v->toks && v->lens && v->types);
    for (size_t i = 0; i < fixture_json_len(vocab); i++) {
        const char *k = fixture_json_key(vocab, i);
        int32_t id = (int32_t)fixture_json_num(fixture_json_at(vocab, i));
        v->toks[id] = dup_n(k, strlen(k));
        v->lens[id] = (uint32_t)strlen(k);
        v->types[id] = TOK_TYPE_NORMAL;
    }
    for (size_t i = 0; i < fixture_json_len(added); i++) {
        const fixture_json *a = fixture_json_at(added, i);
        size_t cl;
        const char *c = fixture_json_str(fixture_json_get(a, "content"), &cl);
        int32_t id = (int32_t)fixture_json_num(fixture_json_get(a, "id"));
        free(v->toks[id]);
        v->toks[id] = dup_n(c, cl);
        v->lens[id] = (uint32_t)cl;
        int looks = cl >= 4 && memcmp(c, "<|", 2) == 0 && memcmp(c + cl - 2, "|>", 2) == 0;
        v->types[id] = fixture_json_bool(fixture_json_get(a, "special")) || looks ? TOK_TYPE_CONTROL : TOK_TYPE_USER;
    }
    for (int32_t i = 0; i < n; i++)
        if (!v->toks[i]) {
            char f[32];
            snprintf(f, sizeof f, "[PAD%d]", (int)i);
            v->toks[i] = dup_n(f, strlen(f));
            v->lens[i] = (uint32_t)strlen(f);
            v->types[i] = TOK_TYPE_UNUSED;
        }
    v->n_merges = (int32_t)fixture_json_len(merges);
    v->merges = calloc((size_t)v->n_merges, sizeof *v->merges);
    v->mlens = calloc((size_t)v->n_merges, sizeof *v->mlens);
    assert_true(v->merges && v->mlens);
    for (int32_t i = 0; i < v->n_merges; i++) {
        const fixture_json *m = fixture_json_at(merges, (size_t)i);
        size_t l;
        const char *s = fixture_json_str(m, &l);
        if (s) {
            v->merges[i] = dup_n(s, l);
        } else {
            const char *a = fixture_json_str(fixture_json_at(m, 0), NULL), *b = fixture_json_str(fixture_json_at(m, 1), NULL);
            assert_true(a && b);
            l = strlen(a) + 1 + strlen(b);
            v->merges[i] = malloc(l + 1);
            assert_non_null(v->merges[i]);
            snprintf(v->merges[i], l + 1, "%s %s", a, b);
        }
        v->mlens[i] = (uint32_t)l;
    }
    /* the pipeline this implementation reproduces */
    assert_string_equal(fixture_json_str(fixture_json_get(fixture_json_get(tj, "normalizer"), "type"), NULL), "NFC");
    const fixture_json *pre = fixture_json_at(fixture_json_get(fixture_json_get(tj, "pre_tokenizer"), "pretokenizers"), 0);
    assert_string_equal(fixture_json_str(fixture_json_get(fixture_json_get(pre, "pattern"), "Regex"), NULL), BPE_QWEN2_PATTERN);
    v->opt.pre = BPE_PRE_QWEN2;
    v->opt.nfc = 1;
    v->opt.ignore_merges = fixture_json_bool(fixture_json_get(model, "ignore_merges"));
    fixture_json_free(tj);

    /* post-processors: the file's ByteLevel adds nothing (HF's default
     * process: B of type 1); Qwen3-Embedding's template appends EOS */
    memset(&v->plain, 0, sizeof v->plain);
    v->plain.n_single = 1;
    v->plain.single[0] = (tok_item){ TOK_SEQ_A, 0 };
    v->plain.n_pair = 2;
    v->plain.pair[0] = (tok_item){ TOK_SEQ_A, 0 };
    v->plain.pair[1] = (tok_item){ TOK_SEQ_B, 1 };
    assert_true(fixture_path(path, sizeof path, "tokenizers/qwen3/post_processor.qwen3-embedding.json"));
    js = fixture_json_read_file(path, &jlen);
    assert_non_null(js);
    fixture_json *pp = fixture_json_parse(js, jlen, err, sizeof err);
    free(js);
    assert_non_null(pp);
    const fixture_json *tp = fixture_json_at(fixture_json_get(pp, "processors"), 1);
    assert_string_equal(fixture_json_str(fixture_json_get(tp, "type"), NULL), "TemplateProcessing");
    memset(&v->emb, 0, sizeof v->emb);
    parse_template(fixture_json_get(tp, "single"), fixture_json_get(tp, "special_tokens"), v->emb.single, &v->emb.n_single);
    parse_template(fixture_json_get(tp, "pair"), fixture_json_get(tp, "special_tokens"), v->emb.pair, &v->emb.n_pair);
    fixture_json_free(pp);
    return 0;
}

static tok_model *make_model(const qwen_vocab *v, const bpe_options *opt)
{
    char err[256];
    bpe *b = bpe_create(v->n, (const char *const *)v->toks, v->lens, v->types, v->n_merges,
                        (const char *const *)v->merges, v->mlens, opt, err, sizeof err);
    if (!b)
        fail_msg("bpe_create: %s", err);
    tok_model *tm = tok_model_wrap(&bpe_ops, b, err, sizeof err);
    assert_non_null(tm);
    return tm;
}

static int setup(void **state)
{
    (void)state;
    if (load_qwen(&QV) == 0) {
        clock_t t0 = clock();
        QTM = make_model(&QV, &QV.opt);
        printf("qwen3 BPE built in %.3f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tok_model_free(QTM);
    qv_free(&QV);
    return 0;
}

#define NEED_QWEN() do { if (!QTM) { skip(); return; } } while (0)

static void print_ids(const char *what, const int32_t *ids, int n)
{
    printf("    %s (%d):", what, n);
    for (int i = 0; i < n && i < 64; i++)
        printf(" %d", (int)ids[i]);
    printf("%s\n", n > 64 ? " ..." : "");
}

/* ---- the fixture's cases ---- */

static void test_cases_qwen3(void **state)
{
    (void)state;
    NEED_QWEN();
    char path[1024], err[256];
    assert_true(fixture_path(path, sizeof path, "tokenizers/qwen3/cases.jsonl"));
    size_t len;
    char *buf = fixture_json_read_file(path, &len);
    assert_non_null(buf);
    int32_t *ids = malloc(CAP * sizeof *ids), *tids = malloc(CAP * sizeof *tids), *pre = malloc(CAP * sizeof *pre);
    assert_true(ids && tids && pre);
    int total = 0, pass = 0, n_emb = 0, n_pair = 0, n_trunc = 0;
    for (char *line = buf; line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (ll == 0) { line = nl ? nl + 1 : buf + len; continue; }
        fixture_json *c = fixture_json_parse(line, ll, err, sizeof err);
        assert_non_null(c);
        const char *id = fixture_json_str(fixture_json_get(c, "id"), NULL);
        size_t tl, pl = 0;
        const char *text = fixture_json_str(fixture_json_get(c, "text"), &tl);
        const fixture_json *pj = fixture_json_get(c, "text_pair");
        const char *pair = fixture_json_type(pj) == FJ_STR ? fixture_json_str(pj, &pl) : NULL;
        int add = fixture_json_bool(fixture_json_get(c, "add_special_tokens"));
        const fixture_json *mlj = fixture_json_get(c, "max_length");
        int maxlen = fixture_json_type(mlj) == FJ_NUM ? (int)fixture_json_num(mlj) : 0;
        const char *ppn = fixture_json_str(fixture_json_get(c, "post_processor"), NULL);
        assert_non_null(ppn);
        int emb = strcmp(ppn, "qwen3-embedding") == 0;
        if (!emb) assert_string_equal(ppn, "tokenizer.json");
        n_emb += emb;
        n_pair += pair != NULL;
        n_trunc += maxlen > 0;
        const fixture_json *want = fixture_json_get(c, "ids");
        int n = tok_encode(QTM, emb ? &QV.emb : &QV.plain, text, tl, pair, pl, add, maxlen, ids, tids, CAP,
                           err, sizeof err);
        int ok = n == (int)fixture_json_len(want);
        for (int i = 0; ok && i < n; i++)
            ok = ids[i] == (int32_t)fixture_json_num(fixture_json_at(want, (size_t)i));
        if (ok) {
            pass++;
        } else {
            printf("  FAIL %s: %s\n", id, n < 0 ? err : "");
            if (n >= 0)
                print_ids("got", ids, n);
            int wn = (int)fixture_json_len(want);
            for (int i = 0; i < wn && i < CAP; i++)
                pre[i] = (int32_t)fixture_json_num(fixture_json_at(want, (size_t)i));
            print_ids("want", pre, wn);
        }
        /* the early stop gives a prefix of the complete encoding */
        if (!pair) {
            int full = tok_model_encode(QTM, text, tl, ids, CAP, -1, err, sizeof err);
            assert_true(full >= 0);
            assert_int_equal(tok_model_encode(QTM, text, tl, NULL, 0, -1, err, sizeof err), full);
            for (int k = 1; k < full && k < 40; k += 3) {
                assert_int_equal(tok_model_encode(QTM, text, tl, pre, k, k, err, sizeof err), k);
                assert_memory_equal(pre, ids, (size_t)k * sizeof *ids);
            }
        }
        total++;
        fixture_json_free(c);
        line = nl ? nl + 1 : buf + len;
    }
    printf("qwen3: %d/%d cases (%d with the Qwen3-Embedding template, %d pairs, %d truncated)\n", pass, total,
           n_emb, n_pair, n_trunc);
    free(buf);
    free(ids);
    free(tids);
    free(pre);
    assert_int_equal(total, 494);
    assert_int_equal(pass, total);
}

/* ---- llama.cpp's qwen2 test, through a GGUF laid out as llama.cpp's ---- */

static void write_llamacpp_gguf(const char *path, const qwen_vocab *v)
{
    gguf_writer *w = gguf_writer_new();
    assert_non_null(w);
    size_t *tl = malloc((size_t)v->n * sizeof *tl), *ml = malloc((size_t)v->n_merges * sizeof *ml);
    assert_true(tl && ml);
    for (int32_t i = 0; i < v->n; i++) tl[i] = v->lens[i];
    for (int32_t i = 0; i < v->n_merges; i++) ml[i] = v->mlens[i];
    int bad = 0;
    bad |= gguf_writer_set_str(w, "general.architecture", "qwen2", 5);
    bad |= gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", 4);
    bad |= gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2", 5);
    bad |= gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", (const char *const *)v->toks, tl, (uint64_t)v->n);
    bad |= gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->types, (uint64_t)v->n);
    bad |= gguf_writer_set_str_arr(w, "tokenizer.ggml.merges", (const char *const *)v->merges, ml, (uint64_t)v->n_merges);
    bad |= gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 151645);
    bad |= gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 151643);
    bad |= gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 151643);
    bad |= gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 0);
    assert_int_equal(bad, 0);
    char err[256];
    if (gguf_writer_write(w, path, err, sizeof err)) fail_msg("%s", err);
    gguf_writer_free(w);
    free(tl);
    free(ml);
}

static void test_llama_cpp_qwen2(void **state)
{
    (void)state;
    NEED_QWEN();
    char inp[1024], out[1024], gguf[1024], err[512];
    if (!fixture_path(inp, sizeof inp, "peer-suites/llama.cpp/ggml-vocab-qwen2.gguf.inp") ||
        !fixture_path(out, sizeof out, "peer-suites/llama.cpp/ggml-vocab-qwen2.gguf.out")) {
        skip();
        return;
    }
    snprintf(gguf, sizeof gguf, "%s/vocab-qwen2.gguf", test_tmpdir());
    write_llamacpp_gguf(gguf, &QV);
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("llama.cpp-style qwen2 vocabulary did not load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_TOKENIZER);
    assert_int_equal(info.vocab_size, QV.n);
    assert_string_equal(info.tokenizer, "gpt2");
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);
    size_t ilen, olen;
    char *in = test_slurp(inp, &ilen), *ex = test_slurp(out, &olen);
    assert_true(in && ex);
    const char *sep = "\n__ggml_vocab_test__\n";
    char *p = in, *q = ex;
    int n_cases = 0, n_bad = 0;
    int32_t ids[4096], ids2[4096];
    while (*p) {
        char *end = strstr(p, sep);
        if (!end) break;
        char *eol = strchr(q, '\n');
        assert_non_null(eol);
        *eol = '\0';
        int n = 0;
        assert_int_equal(ember_tokenize(c, p, (size_t)(end - p), NULL, 0, 0, 0, ids, NULL, 4096, &n), EMBER_OK);
        /* the file's template adds nothing (add_bos_token false, no add_eos_token) */
        int n2 = 0;
        assert_int_equal(ember_tokenize(c, p, (size_t)(end - p), NULL, 0, 1, 0, ids2, NULL, 4096, &n2), EMBER_OK);
        assert_int_equal(n2, n);
        char got[16384] = "";
        size_t gl = 0;
        for (int i = 0; i < n && gl + 16 < sizeof got; i++) gl += (size_t)snprintf(got + gl, sizeof got - gl, " %d", ids[i]);
        if (strcmp(got, q) != 0) {
            n_bad++;
            print_error("case %d: input '%.*s'\n  expected:%s\n  got:     %s\n", n_cases, (int)(end - p), p, q, got);
        }
        n_cases++;
        p = end + strlen(sep);
        q = eol + 1;
    }
    printf("llama.cpp qwen2: %d/%d inputs\n", n_cases - n_bad, n_cases);
    assert_int_equal(n_cases, 46);
    assert_int_equal(n_bad, 0);
    free(in);
    free(ex);
    ember_ctx_free(c);
    ember_model_free(m);
}

/* A gpt2 file with a split pattern ember does not have is refused by name. */
static void test_unknown_pre_refused(void **state)
{
    (void)state;
    const char *toks[256];
    char store[256][4];
    int32_t types[256];
    for (int i = 0; i < 256; i++) {
        int l = uni_utf8_encode(bpe_byte_char((uint8_t)i), (uint8_t *)store[i]);
        store[i][l] = 0;
        toks[i] = store[i];
        types[i] = 1;
    }
    const char *merges[1] = { "a b" };
    char path[1024], err[512];
    for (int k = 0; k < 3; k++) {
        gguf_writer *w = gguf_writer_new();
        gguf_writer_set_str(w, "general.architecture", "gpt2", 4);
        gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", 4);
        if (k == 0) gguf_writer_set_str(w, "tokenizer.ggml.pre", "llama-bpe", 9);
        if (k == 2) gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2", 5);
        gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", toks, NULL, 256);
        gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 256);
        gguf_writer_set_str_arr(w, "tokenizer.ggml.merges", merges, NULL, 1);
        snprintf(path, sizeof path, "%s/pre%d.gguf", test_tmpdir(), k);
        assert_int_equal(gguf_writer_write(w, path, err, sizeof err), 0);
        gguf_writer_free(w);
        ember_model *m = ember_model_load(path, err, sizeof err);
        assert_null(m);
        const char *want = k == 0 ? "'llama-bpe' (tokenizer.ggml.pre) is not supported" :
                           k == 1 ? "missing key tokenizer.ggml.pre" : "merge 0 (\"a b\"): its result is not a token";
        if (!strstr(err, want)) fail_msg("case %d: %s", k, err);
    }
}

/* HF's lstrip / rstrip on a bare byte vocabulary (GPT-2's split, no merges):
 * the whitespace beside the token goes with it, early stops give prefixes,
 * and a strip list naming a token that is not an added token is refused. */
static void test_strip(void **state)
{
    (void)state;
    enum { N = 258 };
    const char *toks[N];
    uint32_t lens[N];
    char store[256][4];
    int32_t types[N];
    for (int i = 0; i < 256; i++) {
        lens[i] = (uint32_t)uni_utf8_encode(bpe_byte_char((uint8_t)i), (uint8_t *)store[i]);
        toks[i] = store[i];
        types[i] = 1;
    }
    toks[256] = "<m>";
    toks[257] = "<n>";
    lens[256] = lens[257] = 3;
    types[256] = 3;
    types[257] = 4;
    char err[256];
    static const int32_t m_id[] = { 256 }, n_id[] = { 257 }, normal[] = { 'A' }, outside[] = { N };
    bpe_options o = { .pre = BPE_PRE_GPT2, .lstrip = normal, .n_lstrip = 1 };
    assert_null(bpe_create(N, toks, lens, types, 0, NULL, NULL, &o, err, sizeof err));
    if (!strstr(err, "lstrip token 65 is not an added token")) fail_msg("%s", err);
    o = (bpe_options){ .pre = BPE_PRE_GPT2, .rstrip = outside, .n_rstrip = 1 };
    assert_null(bpe_create(N, toks, lens, types, 0, NULL, NULL, &o, err, sizeof err));
    if (!strstr(err, "rstrip token 258 is not an added token")) fail_msg("%s", err);

    o = (bpe_options){ .pre = BPE_PRE_GPT2, .lstrip = m_id, .n_lstrip = 1, .rstrip = n_id, .n_rstrip = 1 };
    bpe *b = bpe_create(N, toks, lens, types, 0, NULL, NULL, &o, err, sizeof err);
    if (!b) fail_msg("%s", err);
    static const struct { const char *s; int32_t ids[12]; } cases[] = {
        { "a \t<m>", { 'a', 256, -1 } },                      /* lstrip: both spaces */
        { "<n> \n b", { 257, 'b', -1 } },                     /* rstrip: all three */
        { "x <n>  y", { 'x', ' ', 257, 'y', -1 } },           /* rstrip does not take the space before */
        { "x<m>  y", { 'x', 256, ' ', ' ', 'y', -1 } },       /* nor lstrip the spaces after: " " and " y" */
        { "<n> <m>", { 257, 256, -1 } },                      /* what rstrip took, lstrip does not retake */
        { " <m> <m> ", { 256, 256, ' ', -1 } },
        { "a\xC2\xA0<m>", { 'a', 256, -1 } },                 /* U+00A0 is White_Space */
        { "a\xE2\x80\x8B<m>", { 'a', 0xE2, 0x80, 0x8B, 256, -1 } }, /* U+200B is not */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int32_t ids[16];
        int want = 0;
        while (cases[i].ids[want] >= 0) want++;
        int n = bpe_encode(b, cases[i].s, strlen(cases[i].s), ids, 16, -1, err, sizeof err);
        if (n != want || memcmp(ids, cases[i].ids, (size_t)n * sizeof *ids) != 0)
            fail_msg("case %zu (%s): %d ids, want %d", i, cases[i].s, n, want);
        for (int max = 0; max < want; max++) {
            int32_t part[16];
            assert_int_equal(bpe_encode(b, cases[i].s, strlen(cases[i].s), part, 16, max, err, sizeof err), max);
            assert_memory_equal(part, ids, (size_t)max * sizeof *ids);
        }
    }
    bpe_free(b);
}

/* ---- NFC ---- */

/* Reference NFC of a UTF-8 string (whole-string buffers). */
static int ref_nfc(const char *s, size_t n, uint32_t *out, int cap)
{
    uint32_t *cps = malloc((n + 1) * sizeof *cps);
    assert_non_null(cps);
    int m = 0;
    for (size_t p = 0; p < n;) {
        int k = uni_utf8_decode((const uint8_t *)s + p, n - p, &cps[m]);
        assert_true(k > 0);
        p += (size_t)k;
        m++;
    }
    int d = uni_nfd(cps, m, out, cap);
    assert_true(d >= 0);
    free(cps);
    return uni_nfc_compose(out, d);
}

static size_t put(char *o, uint32_t cp) { return (size_t)uni_utf8_encode(cp, (uint8_t *)o); }

static void check_nfc(const char *s, size_t n)
{
    int cap = (int)(n * 4 + 16);
    uint32_t *want = malloc((size_t)cap * sizeof *want);
    assert_non_null(want);
    int wn = ref_nfc(s, n, want, cap);
    nfc_stream st;
    nfc_stream_init(&st, (const uint8_t *)s, n, 1);
    uint32_t cp;
    int i = 0, r;
    while ((r = nfc_stream_next(&st, &cp)) == 1) {
        if (i >= wn || cp != want[i])
            fail_msg("NFC differs at code point %d: U+%04X, want U+%04X (input %zu bytes)", i, cp,
                     i < wn ? want[i] : 0, n);
        i++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(i, wn);
    free(want);
}

static void test_nfc_stream(void **state)
{
    (void)state;
    /* a pool of what NFC has to deal with: starters, precomposed letters,
     * marks of many classes, Hangul syllables and jamo, decompositions into
     * several starters (Kannada, Sinhala), into non-starters only (U+0344,
     * U+0F73), singletons (U+2000, U+212B), excluded composites (U+0958) */
    static const uint32_t pool[] = {
        'a', 'e', 'o', 'u', 'A', ' ', '\n', 0xE9, 0xC5, 0x1EC7, 0x1E69, 0x1F87, 0x300, 0x301, 0x302, 0x303,
        0x308, 0x30A, 0x316, 0x31B, 0x323, 0x327, 0x328, 0x334, 0x345, 0x35C, 0x5B0, 0x5B4, 0x5C2, 0x64B,
        0x650, 0x0F71, 0x0F72, 0x0F74, 0x0F80, 0x0F73, 0x344, 0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0xD7A3,
        0x0CC6, 0x0CC2, 0x0CD5, 0x0CCB, 0x0DD9, 0x0DCF, 0x0DCA, 0x0DDD, 0x2000, 0x212B, 0x0958, 0x0915,
        0x093C, 0x3099, 0x304B, 0x304C, 0x1E0A, 0x0D4A, 0x0D46, 0x0D3E, 0x1B05, 0x1B35, 0x4E00, 0x1F600,
        0x20E3, 0xFE0F, 0x200D, 0x0B47, 0x0B3E, 0x0B57, 0x110B9, 0x110BA, 0x11099,
    };
    const int np = (int)(sizeof pool / sizeof pool[0]);
    char *s = malloc(1 << 16);
    assert_non_null(s);
    srand(7);
    for (int t = 0; t < 3000; t++) {
        size_t n = 0;
        int len = 1 + rand() % 24;
        for (int i = 0; i < len; i++)
            n += put(s + n, pool[rand() % np]);
        check_nfc(s, n);
    }
    /* long runs of marks after one letter, in scrambled class order, with
     * the composable ones among them: the stream reads them class by class */
    static const uint32_t marks[] = { 0x301, 0x323, 0x302, 0x316, 0x334, 0x345, 0x31B, 0x308, 0x35C, 0x5B0 };
    for (int t = 0; t < 20; t++) {
        size_t n = put(s, t % 2 ? 'a' : 0x1EA1);
        int len = 50 + rand() % 2000;
        for (int i = 0; i < len; i++)
            n += put(s + n, marks[rand() % 10]);
        n += put(s + n, 0xAC00);
        n += put(s + n, 0x11A8);
        check_nfc(s, n);
    }
    /* invalid UTF-8: the stream stops at its offset */
    nfc_stream st;
    nfc_stream_init(&st, (const uint8_t *)"e\xCC\x81x\xFF", 5, 1);
    uint32_t cp;
    assert_int_equal(nfc_stream_next(&st, &cp), 1);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(nfc_stream_next(&st, &cp), 1);
    assert_int_equal(cp, 'x');
    assert_int_equal(nfc_stream_next(&st, &cp), -1);
    assert_int_equal(st.err_pos, 4);
    free(s);
}

/* No composition pairs an ASCII character as its second: the stream passes
 * ASCII before ASCII straight through on that. */
static void test_nfc_ascii_shortcut(void **state)
{
    (void)state;
    for (int i = 0; i < uni_comp_count; i++)
        assert_true(uni_comp[i].b >= 0x300);
}

/* NFC and NFD spellings encode alike. */
static void test_nfc_nfd_equal(void **state)
{
    (void)state;
    NEED_QWEN();
    const char *texts[] = {
        "Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e \xC3\xA0 la fran\xC3\xA7" "aise", "\xE1\xBB\x87 \xE1\xBA\xA1 Vi\xE1\xBB\x87t Nam",
        "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xEA\xB0\x80\xEB\x82\x98\xEB\x8B\xA4", "\xC3\x85ngstr\xC3\xB6m \xE1\xBE\x87",
        "\xE3\x81\x8C\xE3\x81\x8E\xE3\x81\x90 \xE3\x83\x91\xE3\x83\x94",
    };
    int32_t a[512], b[512];
    char nfd[1024], err[256];
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        const char *s = texts[t];
        size_t n = strlen(s), m = 0;
        for (size_t p = 0; p < n;) {
            uint32_t cp, d[UNI_MAX_DECOMP];
            p += (size_t)uni_utf8_decode((const uint8_t *)s + p, n - p, &cp);
            int nd = uni_nfd_char(cp, d);
            for (int k = 0; k < nd; k++)
                m += put(nfd + m, d[k]);
        }
        assert_true(m > n);
        int na = tok_model_encode(QTM, s, n, a, 512, -1, err, sizeof err);
        int nb = tok_model_encode(QTM, nfd, m, b, 512, -1, err, sizeof err);
        assert_true(na > 0);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, (size_t)na * sizeof *a);
    }
}

/* ---- the merge: windows against a plain reference ---- */

/* HF's merge in its plainest form: repeatedly the pair of lowest rank,
 * leftmost among equals.  O(n^2). */
static int ref_merge(const bpe *b, const uint8_t *bytes, int n, int32_t *out)
{
    int32_t *id = malloc((size_t)n * sizeof *id);
    assert_non_null(id);
    for (int i = 0; i < n; i++)
        id[i] = b->byte_id[bytes[i]];
    int m = n;
    for (;;) {
        int best = -1;
        int32_t br = 0;
        for (int i = 0; i + 1 < m; i++) {
            int32_t r = bpe_pair_rank(b, id[i], id[i + 1]);
            if (r >= 0 && (best < 0 || r < br)) {
                best = i;
                br = r;
            }
        }
        if (best < 0)
            break;
        id[best] = b->m_new[br];
        memmove(id + best + 1, id + best + 2, (size_t)(m - best - 2) * sizeof *id);
        m--;
    }
    memcpy(out, id, (size_t)m * sizeof *id);
    free(id);
    return m;
}

/* a vocabulary token made of lowercase ASCII letters only (after Ġ if any) */
static const char *letters_token(uint32_t *len)
{
    for (;;) {
        int32_t id = rand() % 150000;
        const char *t = tok_model_token(QTM, id, len);
        if (*len >= 2 && (uint8_t)t[0] == 0xC4 && (uint8_t)t[1] == 0xA0) {
            t += 2;
            *len -= 2;
        }
        int ok = *len > 0;
        for (uint32_t i = 0; ok && i < *len; i++)
            ok = t[i] >= 'a' && t[i] <= 'z';
        if (ok)
            return t;
    }
}

static void check_window(const bpe *b, const char *s, size_t n, const char *what)
{
    int32_t *got = malloc((n + 1) * sizeof *got), *want = malloc((n + 1) * sizeof *want);
    char err[256];
    assert_true(got && want);
    int ng = bpe_encode(b, s, n, got, (int)n + 1, -1, err, sizeof err);
    int nw = ref_merge(b, (const uint8_t *)s, (int)n, want);
    if (ng != nw || memcmp(got, want, (size_t)nw * sizeof *got) != 0) {
        int i = 0;
        while (i < ng && i < nw && got[i] == want[i]) i++;
        fail_msg("%s (%zu bytes): %d tokens, reference %d; first difference at token %d", what, n, ng, nw, i);
    }
    free(got);
    free(want);
}

static void test_long_pretokens(void **state)
{
    (void)state;
    NEED_QWEN();
    const bpe *b = tok_model_impl(QTM, &bpe_ops);
    assert_non_null(b);
    char *s = malloc(20000);
    assert_non_null(s);
    srand(11);
    for (int t = 0; t < 6; t++) {
        /* words run together: one \p{L}+ pre-token several windows long */
        size_t n = 0;
        size_t want = t < 3 ? 1500 + (size_t)t * 600 : 7000;
        while (n < want) {
            uint32_t l;
            const char *w = letters_token(&l);
            memcpy(s + n, w, l);
            n += l;
        }
        check_window(b, s, n, "letters");
    }
    /* one character repeated: merges of equal rank, left to right */
    for (size_t n = 2040; n <= 2060; n += 5) {
        memset(s, 'a', n);
        check_window(b, s, n, "aaaa");
        memset(s, '=', n);
        check_window(b, s, n, "====");
        memset(s, ' ', n);
        check_window(b, s, n, "spaces");
    }
    /* CJK without punctuation (letters too) */
    size_t n = 0;
    for (int i = 0; i < 3000; i++)
        n += put(s + n, 0x4E00 + (uint32_t)(rand() % 0x5000));
    check_window(b, s, n, "CJK");
    free(s);
}

/* ---- hostile and edge input ---- */

static void test_edges(void **state)
{
    (void)state;
    NEED_QWEN();
    int32_t ids[64];
    char err[256];
    assert_int_equal(tok_model_encode(QTM, "", 0, ids, 64, -1, err, sizeof err), 0);
    assert_int_equal(tok_model_encode(QTM, NULL, 0, ids, 64, -1, err, sizeof err), 0);
    assert_int_equal(tok_model_encode(QTM, NULL, 3, ids, 64, -1, err, sizeof err), TOK_ERR_ARG);
    /* invalid UTF-8: refused with its offset, in a piece, at its start and
     * after an added token */
    static const struct { const char *s; size_t n; size_t off; } bad[] = {
        { "abc\xFF", 4, 3 }, { "\xC3", 1, 0 }, { "ab \xE2\x82", 5, 3 }, { "<think>\xED\xA0\x80x", 11, 7 },
        { "x\xC0\xAFy", 4, 1 }, { "e\xCC\x81\xCC", 4, 3 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(tok_model_encode(QTM, bad[i].s, bad[i].n, ids, 64, -1, err, sizeof err), TOK_ERR_TEXT);
        char want[64];
        snprintf(want, sizeof want, "byte offset %zu ", bad[i].off);
        if (!strstr(err, want)) fail_msg("case %zu: %s", i, err);
    }
    /* U+0000 and added tokens glued to words */
    int n = tok_model_encode(QTM, "a\0b<think>c<|endoftext|>", 24, ids, 64, -1, err, sizeof err);
    assert_true(n >= 5);
    int seen_think = 0, seen_eot = 0;
    for (int i = 0; i < n; i++) {
        seen_think += ids[i] == 151667;
        seen_eot += ids[i] == 151643;
    }
    assert_int_equal(seen_think, 1);
    assert_int_equal(seen_eot, 1);
    /* cap too small */
    assert_int_equal(tok_model_encode(QTM, "a b c d", 7, ids, 2, -1, err, sizeof err), TOK_ERR_SPACE);
    assert_int_equal(tok_model_encode(QTM, "a b c d", 7, ids, 2, 2, err, sizeof err), 2);
}

/* tok_model_encode_from: ids skip .. skip + max of the full encoding,
 * across added tokens, pre-tokens and long merged words */
static void test_encode_from(void **state)
{
    (void)state;
    NEED_QWEN();
    static const char text[] = "Instruct: find it\nQuery: what<|endoftext|> is \xE5\x8C\x97\xE4\xBA\xAC, "
                               "antidisestablishmentarianism 12345 <think>ok</think>  done.";
    int32_t full[128], part[128];
    char err[256];
    int n = tok_model_encode(QTM, text, sizeof text - 1, full, 128, -1, err, sizeof err);
    assert_true(n > 20);
    for (int skip = 0; skip <= n + 1; skip++)
        for (int max = 1; max <= 7; max += 3) {
            int want = n - skip < 0 ? 0 : n - skip < max ? n - skip : max;
            assert_int_equal(tok_model_encode_from(QTM, text, sizeof text - 1, skip, part, 128, max, err, sizeof err), want);
            assert_memory_equal(part, full + (skip < n ? skip : n), (size_t)want * sizeof *part);
        }
}

/* A 1 MB single "word" (and 1 MB of marks, of spaces, of digits) finishes
 * fast, and the early stop gives a prefix. */
static void test_huge_input(void **state)
{
    (void)state;
    NEED_QWEN();
    size_t n = 1 << 20;
    char *big = malloc(n + 8);
    int32_t *ids = malloc((n + 8) * sizeof *ids), pre[64];
    char err[256];
    assert_true(big && ids);
    srand(3);
    struct { const char *what; int kind; } kinds[] = { { "letters", 0 }, { "one letter", 1 }, { "marks", 2 },
                                                        { "spaces", 3 }, { "digits", 4 } };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        size_t m = 0;
        if (kinds[k].kind == 2)
            m += put(big, 'a');
        while (m + 4 <= n) {
            switch (kinds[k].kind) {
            case 0: big[m++] = (char)('a' + rand() % 26); break;
            case 1: big[m++] = 'x'; break;
            case 2: m += put(big + m, rand() % 2 ? 0x301 : 0x323); break;
            case 3: big[m++] = ' '; break;
            default: big[m++] = (char)('0' + rand() % 10); break;
            }
        }
        clock_t t0 = clock();
        int full = tok_model_encode(QTM, big, m, ids, (int)n + 8, -1, err, sizeof err);
        double sec = (double)(clock() - t0) / CLOCKS_PER_SEC;
        printf("1 MB of %s: %d tokens in %.3f s\n", kinds[k].what, full, sec);
        assert_true(full > 0);
        assert_true(sec < 5.0);
        assert_int_equal(tok_model_encode(QTM, big, m, pre, 16, 16, err, sizeof err), full < 16 ? full : 16);
        assert_memory_equal(pre, ids, (size_t)(full < 16 ? full : 16) * sizeof *ids);
        assert_int_equal(tok_model_encode(QTM, big, m, NULL, 0, -1, err, sizeof err), full);
    }
    free(big);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nfc_ascii_shortcut),
        cmocka_unit_test(test_nfc_stream),
        cmocka_unit_test(test_unknown_pre_refused),
        cmocka_unit_test(test_strip),
        cmocka_unit_test(test_cases_qwen3),
        cmocka_unit_test(test_llama_cpp_qwen2),
        cmocka_unit_test(test_nfc_nfd_equal),
        cmocka_unit_test(test_long_pretokens),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_encode_from),
        cmocka_unit_test(test_huge_input),
    };
    return cmocka_run_group_tests_name("bpe", tests, setup, teardown);
}
