/* Tokenizer layer: WordPiece + BERT post-processing against HuggingFace
 * goldens (fixtures/tokenizers/bert-*), llama.cpp's BERT tokenizer test, and
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

#include "fixture_json.h"
#include "tokenizer/encode.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece.h"

#define CAP 65536

static const char *fixtures_dir(void)
{
    const char *d = getenv("EMBER_FIXTURES");
    return d && *d ? d : "../shared/fixtures";
}

typedef struct {
    wordpiece *wp;     /* owned by tm */
    tok_model *tm;
    tok_template tpl;
    int32_t cls, sep;
} bert_tok;

/* the token string of a vocab.txt line converted by wordpiece_phantom */
static int32_t find_hf(const wordpiece *wp, const char *hf)
{
    char buf[256];
    int n = wordpiece_phantom(hf, strlen(hf), buf, sizeof buf);
    return n < 0 ? -1 : wordpiece_find(wp, buf, (size_t)n);
}

static int parse_template(const fixture_json *arr, tok_item *out, int *n,
                          const fixture_json *specials)
{
    *n = 0;
    for (size_t i = 0; i < fixture_json_len(arr); i++) {
        const fixture_json *it = fixture_json_at(arr, i);
        const fixture_json *sp = fixture_json_get(it, "SpecialToken");
        const fixture_json *sq = fixture_json_get(it, "Sequence");
        if (*n >= TOK_TEMPLATE_MAX)
            return -1;
        if (sp) {
            const char *name = fixture_json_str(fixture_json_get(sp, "id"), NULL);
            const fixture_json *e = fixture_json_get(specials, name ? name : "");
            const fixture_json *ids = fixture_json_get(e, "ids");
            if (fixture_json_len(ids) != 1)
                return -1;
            out[*n].id = (int32_t)fixture_json_num(fixture_json_at(ids, 0));
            out[*n].type_id = (int32_t)fixture_json_num(fixture_json_get(sp, "type_id"));
        } else if (sq) {
            const char *name = fixture_json_str(fixture_json_get(sq, "id"), NULL);
            if (!name)
                return -1;
            out[*n].id = strcmp(name, "A") == 0 ? TOK_SEQ_A : TOK_SEQ_B;
            out[*n].type_id = (int32_t)fixture_json_num(fixture_json_get(sq, "type_id"));
        } else {
            return -1;
        }
        (*n)++;
    }
    return 0;
}

/* Builds the tokenizer the way the converter will: vocab.txt through
 * wordpiece_phantom, flags and added tokens from tokenizer.json. */
static int load_bert(const char *name, bert_tok *bt)
{
    char path[1024], err[256];
    memset(bt, 0, sizeof *bt);
    snprintf(path, sizeof path, "%s/tokenizers/%s/tokenizer.json", fixtures_dir(), name);
    size_t jlen;
    char *js = fixture_json_read_file(path, &jlen);
    if (!js) {
        printf("skip: cannot read %s (set EMBER_FIXTURES)\n", path);
        return -1;
    }
    fixture_json *tj = fixture_json_parse(js, jlen, err, sizeof err);
    free(js);
    assert_non_null(tj);
    snprintf(path, sizeof path, "%s/tokenizers/%s/vocab.txt", fixtures_dir(), name);
    size_t vlen;
    char *vocab = fixture_json_read_file(path, &vlen);
    assert_non_null(vocab);

    int32_t n = 0;
    for (size_t i = 0; i < vlen; i++)
        n += vocab[i] == '\n';
    if (vlen && vocab[vlen - 1] != '\n')
        n++;
    char **toks = calloc((size_t)n, sizeof *toks);
    uint32_t *lens = calloc((size_t)n, sizeof *lens);
    int32_t *types = calloc((size_t)n, sizeof *types);
    assert_true(toks && lens && types);
    char *line = vocab;
    for (int32_t i = 0; i < n; i++) {
        char *nl = memchr(line, '\n', vocab + vlen - line);
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (ll && line[ll - 1] == '\r')
            ll--;
        toks[i] = malloc(ll + 8);
        int pl = wordpiece_phantom(line, ll, toks[i], ll + 8);
        assert_true(pl >= 0);
        lens[i] = (uint32_t)pl;
        types[i] = WP_TYPE_NORMAL;
        line = nl ? nl + 1 : line + ll;
    }
    free(vocab);

    const fixture_json *model = fixture_json_get(tj, "model");
    assert_int_equal((int)fixture_json_len(fixture_json_get(model, "vocab")), n);
    const fixture_json *added = fixture_json_get(tj, "added_tokens");
    for (size_t i = 0; i < fixture_json_len(added); i++) {
        const fixture_json *a = fixture_json_at(added, i);
        int32_t id = (int32_t)fixture_json_num(fixture_json_get(a, "id"));
        assert_true(id >= 0 && id < n);
        types[id] = fixture_json_bool(fixture_json_get(a, "special")) ? WP_TYPE_CONTROL
                                                                        : WP_TYPE_USER;
    }
    const fixture_json *norm = fixture_json_get(tj, "normalizer");
    assert_string_equal(fixture_json_str(fixture_json_get(norm, "type"), NULL), "BertNormalizer");
    wp_options o;
    o.lowercase = fixture_json_bool(fixture_json_get(norm, "lowercase"));
    const fixture_json *sa = fixture_json_get(norm, "strip_accents");
    o.strip_accents = fixture_json_type(sa) == FJ_BOOL ? fixture_json_bool(sa) : o.lowercase;
    o.handle_chinese_chars = fixture_json_bool(fixture_json_get(norm, "handle_chinese_chars"));
    o.clean_text = fixture_json_bool(fixture_json_get(norm, "clean_text"));
    o.max_input_chars_per_word =
        (int)fixture_json_num(fixture_json_get(model, "max_input_chars_per_word"));
    const char *unk = fixture_json_str(fixture_json_get(model, "unk_token"), NULL);
    assert_non_null(unk);
    int32_t unk_id = -1;
    for (int32_t i = 0; i < n; i++)
        if (lens[i] == strlen(unk) && memcmp(toks[i], unk, lens[i]) == 0)
            unk_id = i;
    bt->wp = wordpiece_create(n, (const char *const *)toks, lens, types, unk_id, &o,
                              err, sizeof err);
    if (!bt->wp)
        printf("wordpiece_create: %s\n", err);
    assert_non_null(bt->wp);
    bt->tm = tok_model_wrap(&wordpiece_ops, bt->wp, err, sizeof err);
    assert_non_null(bt->tm);
    for (int32_t i = 0; i < n; i++)
        free(toks[i]);
    free(toks);
    free(lens);
    free(types);

    const fixture_json *pp = fixture_json_get(tj, "post_processor");
    const fixture_json *sp = fixture_json_get(pp, "special_tokens");
    memset(&bt->tpl, 0, sizeof bt->tpl);
    assert_int_equal(parse_template(fixture_json_get(pp, "single"), bt->tpl.single,
                                    &bt->tpl.n_single, sp), 0);
    assert_int_equal(parse_template(fixture_json_get(pp, "pair"), bt->tpl.pair,
                                    &bt->tpl.n_pair, sp), 0);
    bt->cls = find_hf(bt->wp, "[CLS]");
    bt->sep = find_hf(bt->wp, "[SEP]");
    /* the built-in BERT template is the same as the file's */
    tok_template def = tok_template_bert(bt->cls, bt->sep);
    assert_memory_equal(&def, &bt->tpl, sizeof def);
    fixture_json_free(tj);
    return 0;
}

static void print_ids(const char *what, const int32_t *ids, int n)
{
    printf("    %s (%d):", what, n);
    for (int i = 0; i < n; i++)
        printf(" %d", (int)ids[i]);
    printf("\n");
}

static void run_cases(const char *name)
{
    bert_tok bt;
    if (load_bert(name, &bt) < 0) {
        skip();
        return;
    }
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/tokenizers/%s/cases.jsonl", fixtures_dir(), name);
    size_t len;
    char *buf = fixture_json_read_file(path, &len);
    assert_non_null(buf);
    int32_t *ids = malloc(CAP * sizeof *ids), *tids = malloc(CAP * sizeof *tids);
    int32_t *pre = malloc(CAP * sizeof *pre);
    assert_true(ids && tids && pre);
    int total = 0, pass = 0, checked_prefix = 0;
    char *line = buf;
    while (line < buf + len) {
        char *nl = memchr(line, '\n', buf + len - line);
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (ll == 0) {
            line += 1;
            continue;
        }
        fixture_json *c = fixture_json_parse(line, ll, err, sizeof err);
        if (!c)
            printf("%s: bad json line: %s\n", name, err);
        assert_non_null(c);
        line = nl ? nl + 1 : buf + len;
        total++;
        const char *id = fixture_json_str(fixture_json_get(c, "id"), NULL);
        size_t tl, pl = 0;
        const char *text = fixture_json_str(fixture_json_get(c, "text"), &tl);
        const char *pair = fixture_json_str(fixture_json_get(c, "text_pair"), &pl);
        int add = fixture_json_bool(fixture_json_get(c, "add_special_tokens"));
        int maxlen = (int)fixture_json_num(fixture_json_get(c, "max_length"));
        const fixture_json *want = fixture_json_get(c, "ids");
        const fixture_json *want_t = fixture_json_get(c, "type_ids");
        int nw = (int)fixture_json_len(want);
        int n = tok_encode(bt.tm, &bt.tpl, text, tl, pair, pl, add, maxlen, ids, tids,
                           CAP, err, sizeof err);
        int ok = n == nw && (int)fixture_json_len(want_t) == nw;
        for (int i = 0; ok && i < n; i++)
            ok = ids[i] == (int32_t)fixture_json_num(fixture_json_at(want, i)) &&
                 tids[i] == (int32_t)fixture_json_num(fixture_json_at(want_t, i));
        if (ok) {
            pass++;
        } else {
            int32_t w[4096];
            for (int i = 0; i < nw && i < 4096; i++)
                w[i] = (int32_t)fixture_json_num(fixture_json_at(want, i));
            printf("MISMATCH %s/%s%s\n", name, id, n < 0 ? err : "");
            print_ids("want", w, nw < 4096 ? nw : 4096);
            if (n >= 0) {
                print_ids("got ", ids, n);
                print_ids("types", tids, n);
            }
        }
        /* stopping early must give a prefix of the full encoding */
        if (ok && !pair && !add && !maxlen && n > 1) {
            int k = n / 2;
            int m = wordpiece_encode(bt.wp, text, tl, pre, k, k, err, sizeof err);
            assert_int_equal(m, k);
            assert_memory_equal(pre, ids, (size_t)k * sizeof *ids);
            assert_int_equal(wordpiece_encode(bt.wp, text, tl, NULL, 0, -1, err, sizeof err), n);
            checked_prefix++;
        }
        fixture_json_free(c);
    }
    printf("%s/cases.jsonl: %d/%d cases pass (%d prefix checks)\n", name, pass, total,
           checked_prefix);
    assert_true(total > 400);
    assert_int_equal(pass, total);
    free(buf);
    free(ids);
    free(tids);
    free(pre);
    tok_model_free(bt.tm);
}

static void test_cases_bert_uncased(void **state)
{
    (void)state;
    run_cases("bert-uncased");
}

/* Disagreements make check-tokenizers found, minimised (ids with [CLS] and
 * [SEP]).  Expected ids: HuggingFace tokenizers 0.23.3 (PyPI),
 * Tokenizer.from_file(bert-uncased/tokenizer.json) with padding and
 * truncation off, .encode(text).ids. */
static void test_check_tokenizers_finds(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int n;
        int32_t ids[6];
    } cases[] = {
        /* U+2581 inside a word: the continuation "\u2581b" found the
         * word-initial "b" of the vocab convention */
        { "a\xE2\x96\x81" "b", 3, { 101, 100, 102 } },
        { "\xE2\x96\x81" "a", 3, { 101, 100, 102 } },
        /* Mn added after Unicode 8.0: HF's categories do not strip it */
        { "\xEA\xA3\xBF", 3, { 101, 100, 102 } },                 /* U+A8FF */
        { "\xF0\x90\xB4\xA6", 3, { 101, 100, 102 } },             /* U+10D26 */
        { "\xF0\x9E\xA5\x85", 3, { 101, 100, 102 } },             /* U+1E945 */
        /* U+2B820..U+2B91F are not CJK for HF: glued to the next letter */
        { "\xF0\xAB\xA3\x93k", 3, { 101, 100, 102 } },            /* U+2B8D3 k */
        { "\xF0\xAB\xA4\xA0k", 4, { 101, 100, 1047, 102 } },      /* U+2B920 k */
        /* punctuation added after 8.0 does not split a word */
        { "\xE0\xB5\x97\xE0\xA9\xB6", 3, { 101, 100, 102 } },   /* U+0D57 U+0A76 */
        { "a\xE2\xB9\x92" "b", 3, { 101, 100, 102 } },             /* U+2E52 */
        /* a format character added after 8.0 is not removed */
        { "a\xE0\xA2\x90" "b", 3, { 101, 100, 102 } },             /* U+0890 */
        { "a\xF0\x91\x83\x8D" "b", 3, { 101, 100, 102 } },        /* U+110CD */
        /* categories as they were in 8.0 */
        { "a\xE1\x99\xAD" "b", 5, { 101, 1037, 100, 1038, 102 } }, /* U+166D Po */
        { "a\xF0\x91\x87\x89" "b", 5, { 101, 1037, 100, 1038, 102 } }, /* U+111C9 Po */
        { "a\xE1\x9C\xB4" "b", 3, { 101, 11113, 102 } },           /* U+1734 Mn */
        { "a\xE1\xA2\x85" "b", 3, { 101, 100, 102 } },             /* U+1885 Lo */
        { "a\xEA\xA6\xBD" "b", 3, { 101, 100, 102 } },             /* U+A9BD Mc */
    };
    bert_tok bt;
    if (load_bert("bert-uncased", &bt) < 0) {
        skip();
        return;
    }
    char err[256];
    int32_t ids[64], ty[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = tok_encode(bt.tm, &bt.tpl, cases[i].text, strlen(cases[i].text), NULL, 0, 1, 0,
                           ids, ty, 64, err, sizeof err);
        if (n != cases[i].n || memcmp(ids, cases[i].ids, (size_t)n * sizeof *ids) != 0) {
            print_ids("got", ids, n);
            print_ids("HF ", cases[i].ids, cases[i].n);
            fail_msg("case %zu", i);
        }
    }
    tok_model_free(bt.tm);
}

static void test_cases_bert_chinese(void **state)
{
    (void)state;
    run_cases("bert-chinese");
}

/* llama.cpp's test-tokenizer-0 vectors for BAAI/bge-small-en, no specials */
static void test_llama_cpp_bge(void **state)
{
    (void)state;
    bert_tok bt;
    if (load_bert("bert-uncased", &bt) < 0) {
        skip();
        return;
    }
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/peer-suites/llama.cpp/ggml-vocab-bert-bge.gguf.inp",
             fixtures_dir());
    size_t il, ol;
    char *inp = fixture_json_read_file(path, &il);
    snprintf(path, sizeof path, "%s/peer-suites/llama.cpp/ggml-vocab-bert-bge.gguf.out",
             fixtures_dir());
    char *out = fixture_json_read_file(path, &ol);
    if (!inp || !out) {
        printf("skip: cannot read %s\n", path);
        free(inp);
        free(out);
        tok_model_free(bt.tm);
        skip();
        return;
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *p = inp, *o = out;
    int total = 0, pass = 0;
    int32_t ids[4096];
    for (;;) {
        char *e = strstr(p, sep);
        if (!e)
            break;
        char *onl = strchr(o, '\n');
        assert_non_null(onl);
        *onl = 0;
        int32_t want[4096];
        int nw = 0;
        char *q = o;
        while (*q) {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q)
                break;
            want[nw++] = (int32_t)v;
            q = end;
        }
        int n = wordpiece_encode(bt.wp, p, (size_t)(e - p), ids, 4096, -1, err, sizeof err);
        total++;
        if (n == nw && memcmp(ids, want, (size_t)n * sizeof *ids) == 0) {
            pass++;
        } else {
            printf("MISMATCH llama.cpp bge case %d: %.*s\n", total - 1, (int)(e - p), p);
            print_ids("want", want, nw);
            if (n >= 0)
                print_ids("got ", ids, n);
            else
                printf("    error: %s\n", err);
        }
        p = e + sizeof sep - 1;
        o = onl + 1;
    }
    printf("llama.cpp ggml-vocab-bert-bge: %d/%d cases pass\n", pass, total);
    assert_int_equal(total, 46);
    assert_int_equal(pass, total);
    free(inp);
    free(out);
    tok_model_free(bt.tm);
}

/* A toy vocabulary so the remaining tests need no fixtures. */
static wordpiece *toy_vocab(void)
{
    static const char *hf[] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]",
                                "a", "b", "##b", "hello", "world", "##s", "[", "]",
                                "unused", "##0", "!", "é", "e", "i", "中", "##a",
                                "ab", "𠀀" };
    enum { N = sizeof hf / sizeof hf[0] };
    char *toks[N];
    uint32_t lens[N];
    int32_t types[N];
    for (int i = 0; i < N; i++) {
        toks[i] = malloc(64);
        int l = wordpiece_phantom(hf[i], strlen(hf[i]), toks[i], 64);
        assert_true(l > 0);
        lens[i] = (uint32_t)l;
        types[i] = (i <= 4) ? WP_TYPE_CONTROL : WP_TYPE_NORMAL;
    }
    char err[256];
    wp_options o = wp_options_default();
    wordpiece *wp = wordpiece_create(N, (const char *const *)toks, lens, types, 1, &o,
                                     err, sizeof err);
    assert_non_null(wp);
    for (int i = 0; i < N; i++)
        free(toks[i]);
    return wp;
}

/* WordPiece behind the interface tok_encode takes (which then owns it) */
static tok_model *wrap(wordpiece *wp)
{
    char err[128];
    tok_model *tm = tok_model_wrap(&wordpiece_ops, wp, err, sizeof err);
    assert_non_null(tm);
    return tm;
}

static int enc(const wordpiece *wp, const char *s, size_t n, int32_t *ids, int cap,
               char *err)
{
    return wordpiece_encode(wp, s, n, ids, cap, -1, err, 256);
}

static void test_phantom(void **state)
{
    (void)state;
    char b[32];
    assert_int_equal(wordpiece_phantom("the", 3, b, sizeof b), 6);
    assert_string_equal(b, "\xE2\x96\x81the");
    assert_int_equal(wordpiece_phantom("##ing", 5, b, sizeof b), 3);
    assert_string_equal(b, "ing");
    assert_int_equal(wordpiece_phantom("[CLS]", 5, b, sizeof b), 5);
    assert_string_equal(b, "[CLS]");
    assert_int_equal(wordpiece_phantom("[", 1, b, sizeof b), 4);
    assert_string_equal(b, "\xE2\x96\x81[");
    assert_int_equal(wordpiece_phantom("the", 3, b, 6), -1); /* no room for NUL */
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    wordpiece *wp = toy_vocab();
    tok_model *tm = wrap(wp);
    static const struct { const char *s; size_t n; size_t off; } bad[] = {
        { "ab \x80", 4, 3 },                 /* stray continuation */
        { "a\xC0\x80", 3, 1 },               /* overlong NUL */
        { "\xC1\xBF", 2, 0 },                /* overlong */
        { "a\xE0\x80\xAF", 4, 1 },           /* overlong 3-byte */
        { "\xF0\x80\x80\xAF", 4, 0 },        /* overlong 4-byte */
        { "hello \xED\xA0\x80", 9, 6 },      /* surrogate U+D800 */
        { "\xF4\x90\x80\x80", 4, 0 },        /* U+110000 */
        { "\xF5\x80\x80\x80", 4, 0 },        /* lead F5 */
        { "\xFF", 1, 0 },
        { "ab\xE2\x82", 4, 2 },              /* truncated at end */
        { "\xC3\x28", 2, 0 },                /* bad continuation */
        { "\xE2\x28\xA1", 3, 0 },
    };
    int32_t ids[64];
    char err[256], want[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(enc(wp, bad[i].s, bad[i].n, ids, 64, err), -1);
        snprintf(want, sizeof want, "offset %zu", bad[i].off);
        if (!strstr(err, want))
            printf("case %zu: '%s' lacks '%s'\n", i, err, want);
        assert_non_null(strstr(err, want));
    }
    /* tok_encode reports which sequence */
    tok_template t = tok_template_bert(2, 3);
    int32_t ty[64];
    assert_int_equal(tok_encode(tm, &t, "a", 1, "b\xFF", 2, 1, 0, ids, ty, 64, err, sizeof err), TOK_ERR_TEXT);
    assert_non_null(strstr(err, "second"));
    assert_non_null(strstr(err, "offset 1"));
    /* valid edge values decode */
    assert_int_equal(enc(wp, "\xF4\x8F\xBF\xBF \xEF\xBF\xBF \x7F", 10, ids, 64, err), 2);
    tok_model_free(tm);
}

static void test_basic_and_specials(void **state)
{
    (void)state;
    wordpiece *wp = toy_vocab();
    tok_model *tm = wrap(wp);
    tok_template t = tok_template_bert(2, 3);
    int32_t ids[64], ty[64];
    char err[256];
    /* empty text */
    assert_int_equal(enc(wp, "", 0, ids, 64, err), 0);
    assert_int_equal(enc(wp, NULL, 0, ids, 64, err), 0);
    assert_int_equal(tok_encode(tm, &t, "", 0, NULL, 0, 1, 0, ids, ty, 64, err, sizeof err), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 3);
    /* empty pair is a real second sequence */
    assert_int_equal(tok_encode(tm, &t, "a", 1, "", 0, 1, 0, ids, ty, 64, err, sizeof err), 4);
    assert_int_equal(ids[3], 3);
    assert_int_equal(ty[3], 1);
    /* greedy pieces, NUL removed by clean_text, literal specials anywhere */
    static const char mix[] = "Hello Worlds ab\0b [MASK]a[SEP][sep]";
    int n = enc(wp, mix, sizeof mix - 1, ids, 64, err);
    int32_t want[] = { 9, 10, 11, 22, 8, 4, 6, 3, 12, 1, 13 };
    assert_int_equal(n, (int)(sizeof want / sizeof want[0]));
    assert_memory_equal(ids, want, sizeof want);
    /* only special tokens */
    n = enc(wp, "[CLS][SEP][PAD]", 15, ids, 64, err);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 3);
    assert_int_equal(ids[2], 0);
    /* [unused0] is a normal token: never matched literally */
    n = enc(wp, "[unused0]", 9, ids, 64, err);
    int32_t want2[] = { 12, 14, 15, 13 };
    assert_int_equal(n, 4);
    assert_memory_equal(ids, want2, sizeof want2);
    /* accents, İ, CJK ext B isolation, unknown piece -> one unk */
    static const char acc[] = "\xC3\x89 \xC4\xB0 a\xE4\xB8\xAD" "a\xF0\xA0\x80\x80" "b abx";
    n = enc(wp, acc, sizeof acc - 1, ids, 64, err);
    int32_t want3[] = { 18, 19, 6, 20, 6, 23, 7, 1 };
    assert_int_equal(n, (int)(sizeof want3 / sizeof want3[0]));
    assert_memory_equal(ids, want3, sizeof want3);
    tok_model_free(tm);
}

static void test_long_words(void **state)
{
    (void)state;
    wordpiece *wp = toy_vocab();
    char buf[256];
    int32_t ids[256];
    char err[256];
    memset(buf, 'a', sizeof buf);
    /* 100 chars: a ##a ##a ... (100 pieces) */
    int n = enc(wp, buf, 100, ids, 256, err);
    assert_int_equal(n, 100);
    assert_int_equal(ids[0], 6);
    assert_int_equal(ids[99], 21);
    /* 101 chars: one [UNK] */
    n = enc(wp, buf, 101, ids, 256, err);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 1);
    /* "ab" x 50 = 100 chars ok, then one more char -> unk; multibyte counts chars */
    char mb[512];
    size_t k = 0;
    for (int i = 0; i < 100; i++) {
        memcpy(mb + k, "\xC3\xA9", 2); /* é -> e after stripping */
        k += 2;
    }
    n = enc(wp, mb, k, ids, 256, err);
    assert_int_equal(n, 1); /* "eee..." has no ##e: whole word unk */
    wordpiece_free(wp);
}

/* tok_model_encode_from: ids skip .. skip + max of the full encoding, a
 * word's pieces and literal specials cut anywhere */
static void test_encode_from(void **state)
{
    (void)state;
    tok_model *tm = wrap(toy_vocab());
    static const char text[] = "Hello Worlds ab [MASK]a[SEP] abx Hello a b a b";
    int32_t full[64], part[64];
    char err[256];
    int n = tok_model_encode(tm, text, sizeof text - 1, full, 64, -1, err, sizeof err);
    assert_true(n > 10);
    for (int skip = 0; skip <= n + 1; skip++)
        for (int max = 1; max <= 4; max++) {
            int want = n - skip < 0 ? 0 : n - skip < max ? n - skip : max;
            assert_int_equal(tok_model_encode_from(tm, text, sizeof text - 1, skip, part, 64, max, err, sizeof err), want);
            assert_memory_equal(part, full + (skip < n ? skip : n), (size_t)want * sizeof *part);
            assert_int_equal(tok_model_encode_from(tm, text, sizeof text - 1, skip, NULL, 0, max, err, sizeof err), want);
        }
    /* the cap counts what is written, not what is skipped */
    assert_int_equal(tok_model_encode_from(tm, text, sizeof text - 1, 5, part, 2, 2, err, sizeof err), 2);
    assert_int_equal(tok_model_encode_from(tm, text, sizeof text - 1, 5, part, 2, -1, err, sizeof err), TOK_ERR_SPACE);
    tok_model_free(tm);
}

static void test_cap_too_small(void **state)
{
    (void)state;
    wordpiece *wp = toy_vocab();
    tok_model *tm = wrap(wp);
    tok_template t = tok_template_bert(2, 3);
    int32_t ids[8], ty[8];
    char err[256] = "";
    assert_int_equal(enc(wp, "a b a b", 7, ids, 3, err), TOK_ERR_SPACE);
    assert_non_null(strstr(err, "too small"));
    /* max_tokens within cap is fine */
    assert_int_equal(wordpiece_encode(wp, "a b a b", 7, ids, 3, 3, err, sizeof err), 3);
    err[0] = 0;
    assert_int_equal(tok_encode(tm, &t, "a b a b", 7, NULL, 0, 1, 0, ids, ty, 5, err, sizeof err), TOK_ERR_SPACE);
    assert_non_null(strstr(err, "too small"));
    assert_int_equal(tok_encode(tm, &t, "a b a b", 7, NULL, 0, 1, 5, ids, ty, 5, err, sizeof err), 5);
    assert_int_equal(ids[4], 3);
    /* max_length below the specials */
    assert_int_equal(tok_encode(tm, &t, "a", 1, "b", 1, 1, 2, ids, ty, 8, err, sizeof err), TOK_ERR_ARG);
    /* ... is said as such even when the caller sized ids by max_length
     * (ember tokenize --max-length 1 said "output buffer too small (cap 1)";
     * found by make check-tokenizers) */
    err[0] = 0;
    assert_int_equal(tok_encode(tm, &t, "a", 1, NULL, 0, 1, 1, ids, ty, 1, err, sizeof err), TOK_ERR_ARG);
    assert_non_null(strstr(err, "max_length 1 is below the 2 special tokens"));
    err[0] = 0;
    assert_int_equal(tok_encode(tm, &t, "a", 1, "b", 1, 1, 2, ids, ty, 2, err, sizeof err), TOK_ERR_ARG);
    assert_non_null(strstr(err, "max_length 2 is below the 3 special tokens"));
    assert_int_equal(tok_encode(tm, &t, "a", 1, "b", 1, 1, 3, ids, ty, 8, err, sizeof err), 3);
    tok_model_free(tm);
}

static void test_huge_input(void **state)
{
    (void)state;
    wordpiece *wp = toy_vocab();
    tok_model *tm = wrap(wp);
    size_t n = 8u << 20;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i += 2)
        memcpy(big + i, "a ", 2);
    big[n - 1] = (char)0xFF; /* invalid byte at the very end */
    int32_t ids[16], ty[16];
    char err[256];
    clock_t t0 = clock();
    /* stops after 16 tokens: never reaches the bad byte */
    assert_int_equal(wordpiece_encode(wp, big, n, ids, 16, 16, err, sizeof err), 16);
    tok_template t = tok_template_bert(2, 3);
    assert_int_equal(tok_encode(tm, &t, big, n, NULL, 0, 1, 16, ids, ty, 16, err, sizeof err), 16);
    /* one 8 MB word: a single [UNK] right away */
    memset(big, 'a', n);
    assert_int_equal(wordpiece_encode(wp, big, n, ids, 16, 1, err, sizeof err), 1);
    assert_int_equal(ids[0], 1);
    double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("huge-input calls took %.4f s\n", dt);
    assert_true(dt < 0.5);
    /* the full read does find the bad byte */
    for (size_t i = 0; i < n; i += 2)
        memcpy(big + i, "a ", 2);
    big[n - 1] = (char)0xFF;
    assert_int_equal(wordpiece_encode(wp, big, n, NULL, 0, -1, err, sizeof err), -1);
    char want[64];
    snprintf(want, sizeof want, "offset %zu", n - 1);
    assert_non_null(strstr(err, want));
    free(big);
    tok_model_free(tm);
}

static void test_truncate_rule(void **state)
{
    (void)state;
    int na, nb;
    tok_truncate_longest_first(10, 3, 9, &na, &nb);
    assert_int_equal(na, 6);
    assert_int_equal(nb, 3);
    tok_truncate_longest_first(20, 20, 13, &na, &nb);
    assert_int_equal(na, 6);
    assert_int_equal(nb, 7);
    tok_truncate_longest_first(21, 20, 13, &na, &nb); /* longer first gets the extra */
    assert_int_equal(na, 7);
    assert_int_equal(nb, 6);
    tok_truncate_longest_first(5, 7, 8, &na, &nb);
    assert_int_equal(na, 4);
    assert_int_equal(nb, 4);
    tok_truncate_longest_first(3, 4, 8, &na, &nb);
    assert_int_equal(na, 3);
    assert_int_equal(nb, 4);
    tok_truncate_longest_first(30, -1, 8, &na, &nb);
    assert_int_equal(na, 8);
    /* tok_encode (which reads only budget+1 tokens unless it must compare)
     * agrees with the rule on full lengths, everywhere in a grid */
    wordpiece *wp = toy_vocab();
    tok_model *tm = wrap(wp);
    tok_template t = tok_template_bert(2, 3);
    char a[200], b[200], err[256];
    int32_t ids[128], ty[128];
    for (int la = 0; la <= 14; la++) {
        for (int lb = 0; lb <= 14; lb++) {
            for (int k = 0; k < la; k++)
                memcpy(a + 2 * k, "a ", 2);
            for (int k = 0; k < lb; k++)
                memcpy(b + 2 * k, "b ", 2);
            for (int ml = 3; ml <= 24; ml++) {
                for (int add = 0; add <= 1; add++) {
                    int n = tok_encode(tm, &t, a, (size_t)la * 2, b, (size_t)lb * 2, add,
                                       ml, ids, ty, 128, err, sizeof err);
                    tok_truncate_longest_first(la, lb, ml - (add ? 3 : 0), &na, &nb);
                    assert_int_equal(n, na + nb + (add ? 3 : 0));
                    int ca = 0, cb = 0;
                    for (int i = 0; i < n; i++) {
                        ca += ids[i] == 6;
                        cb += ids[i] == 7;
                    }
                    assert_int_equal(ca, na);
                    assert_int_equal(cb, nb);
                    int expect_b_type = 0;
                    for (int i = 0; i < n; i++) {
                        if (ids[i] == 7)
                            assert_int_equal(ty[i], 1);
                        if (ids[i] == 6)
                            assert_int_equal(ty[i], expect_b_type);
                    }
                }
            }
        }
    }
    tok_model_free(tm);
}

static void test_unicode_tables(void **state)
{
    (void)state;
    uint32_t o[UNI_MAX_DECOMP];
    assert_int_equal(uni_tolower(0x130, o), 2); /* İ -> i + U+0307 */
    assert_int_equal(o[0], 'i');
    assert_int_equal(o[1], 0x307);
    assert_int_equal(uni_tolower(0x3A3, o), 1); /* Σ -> σ, never ς */
    assert_int_equal(o[0], 0x3C3);
    assert_int_equal(uni_nfd_char(0x1E09, o), 3); /* ḉ -> c + cedilla + acute */
    assert_int_equal(o[0], 'c');
    assert_int_equal(o[1], 0x327);
    assert_int_equal(o[2], 0x301);
    assert_int_equal(uni_nfd_char(0xD4DB, o), 3); /* Hangul LVT */
    assert_int_equal(uni_compose(0x1111, 0x1171), 0xD4CC);
    assert_int_equal(uni_compose(0xD4CC, 0x11B6), 0xD4DB);
    assert_int_equal(uni_compose('e', 0x301), 0xE9);
    assert_int_equal(uni_compose(0x928, 0x93C), 0x929);
    assert_int_equal(uni_compose(0x915, 0x93C), 0); /* U+0958 is excluded */
    assert_true(uni_props(0x20000) & UNI_CJK);
    assert_true(uni_props(0x2A6DF) & UNI_CJK);
    assert_false(uni_props(0x3040) & UNI_CJK);
    assert_true(uni_props('$') & UNI_PUNCT);
    assert_true(uni_props(0x2014) & UNI_PUNCT);
    assert_false(uni_props(0x20AC) & UNI_PUNCT);
    assert_true(uni_props(0xFE0F) & UNI_MN);
    assert_true(uni_props(0x200B) & UNI_CTRL);
    assert_false(uni_props('\n') & UNI_CTRL);
    assert_true(uni_props(0x3000) & UNI_WS);
    assert_true(uni_props(0x0378) & UNI_UNASSIGNED);
    assert_int_equal(uni_ccc(0x301), 230);
    /* Unicode as HF tokenizers 0.23.3 sees it (tools/gen_unicode_tables.py);
     * each value is what its BertNormalizer / BertPreTokenizer did with the
     * code point, probed one by one (found by make check-tokenizers) */
    assert_int_equal(uni_tolower(0xA7CB, o), 1); /* Rust's Unicode 17.0: Ɤ -> ɤ */
    assert_int_equal(o[0], 0x264);
    assert_int_equal(uni_tolower(0x16EA0, o), 1);
    assert_int_equal(o[0], 0x16EBB);
    assert_int_equal(uni_nfd_char(0x11938, o), 1); /* NFD of Unicode 9.0: kept whole */
    assert_int_equal(uni_ccc(0x898), 0);          /* a combining class of 14.0: unknown */
    assert_false(uni_props(0xA8FF) & UNI_MN);     /* Mn since 11.0: kept by strip_accents */
    assert_true(uni_props(0x1734) & UNI_MN);      /* Mn in 8.0 (Mc now): stripped */
    assert_false(uni_props(0xA9BD) & UNI_MN);     /* Mc in 8.0 (Mn now): kept */
    assert_false(uni_props(0x0A76) & UNI_PUNCT);  /* Po since 11.0: not split off */
    assert_true(uni_props(0x166D) & UNI_PUNCT);   /* Po in 8.0 (So now): split off */
    assert_false(uni_props(0x0890) & UNI_CTRL);   /* Cf since 14.0: not removed */
    assert_false(uni_props(0x2B8D3) & UNI_CJK);   /* HF's ranges skip U+2B820..U+2B91F */
    assert_true(uni_props(0x2B920) & UNI_CJK);
    /* string NFD reorders marks by ccc; NFC recomposes (values from the
     * UCD's NormalizationTest.txt) */
    uint32_t in[] = { 'a', 0x315, 0x300, 0x5AE, 0x300, 'b' };
    uint32_t d[16];
    int n = uni_nfd(in, 6, d, 16);
    uint32_t want_d[] = { 'a', 0x5AE, 0x300, 0x300, 0x315, 'b' };
    assert_int_equal(n, 6);
    assert_memory_equal(d, want_d, sizeof want_d);
    n = uni_nfc_compose(d, n);
    uint32_t want_c[] = { 0xE0, 0x5AE, 0x300, 0x315, 'b' };
    assert_int_equal(n, 5);
    assert_memory_equal(d, want_c, sizeof want_c);
    uint32_t hangul[] = { 0xD4DB, 0x1E0A, 0x323 };
    n = uni_nfd(hangul, 3, d, 16);
    assert_int_equal(n, 6); /* L V T, D + dot below + dot above */
    assert_int_equal(d[4], 0x323);
    n = uni_nfc_compose(d, n);
    uint32_t want_h[] = { 0xD4DB, 0x1E0C, 0x307 };
    assert_int_equal(n, 3);
    assert_memory_equal(d, want_h, sizeof want_h);
    assert_int_equal(uni_nfd(hangul, 3, d, 5), -1);
}

/* Accent stripping is NFD, then Mn removed: marks that stay (Mc, or Mn
 * unknown to Unicode 8.0) are put in canonical order across characters, runs
 * ending at any character of class 0, stripped or not.  Expected ids: HF
 * tokenizers 0.23.3, a WordPiece of this vocabulary with BertNormalizer
 * (lowercase, strip_accents null) and BertPreTokenizer, encode(text,
 * add_special_tokens=False).  (No BERT vocabulary at hand holds such marks,
 * so make check-tokenizers could not see this; found reading HF's code.) */
static void test_canonical_order(void **state)
{
    (void)state;
    /* [UNK] x ##U+1D165 (ccc 216) ##U+1D16D (226) ##U+302E (224) ##U+0898 (230 since 14.0) */
    static const char *t[] = { "[UNK]", "\xE2\x96\x81x", "\xF0\x9D\x85\xA5", "\xF0\x9D\x85\xAD",
                               "\xE3\x80\xAE", "\xE0\xA2\x98" };
    static const struct {
        const char *text;
        int n;
        int32_t ids[6];
    } cases[] = {
        { "x\xF0\x9D\x85\xAD\xF0\x9D\x85\xA5", 3, { 1, 2, 3 } },
        { "x\xF0\x9D\x85\xAD\xCC\x81\xF0\x9D\x85\xA5", 3, { 1, 2, 3 } },        /* U+0301 in between */
        { "x\xF0\x9D\x85\xAD\xE0\xA4\x80\xF0\x9D\x85\xA5", 3, { 1, 3, 2 } },   /* U+0900: Mn, class 0 */
        { "x\xF0\x9D\x85\xAD\xE3\x80\xAE\xF0\x9D\x85\xA5", 4, { 1, 2, 4, 3 } },
        { "x\xF0\x9D\x85\xAD\xE0\xA2\x98\xF0\x9D\x85\xA5", 4, { 1, 3, 5, 2 } }, /* class 0 for HF */
        { "x\xF0\x9D\x85\xAD\xE2\x80\x8B\xF0\x9D\x85\xA5", 3, { 1, 2, 3 } },   /* U+200B cleaned first */
        { "X\xF0\x9D\x85\xAD\xF0\x9D\x85\xA5 x\xF0\x9D\x85\xA5", 5, { 1, 2, 3, 1, 2 } },
    };
    uint32_t lens[6];
    for (int i = 0; i < 6; i++)
        lens[i] = (uint32_t)strlen(t[i]);
    char err[256];
    int32_t ids[16];
    wp_options o = wp_options_default();
    wordpiece *wp = wordpiece_create(6, t, lens, NULL, 0, &o, err, sizeof err);
    assert_non_null(wp);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = wordpiece_encode(wp, cases[i].text, strlen(cases[i].text), ids, 16, -1, err, sizeof err);
        assert_int_equal(n, cases[i].n);
        assert_memory_equal(ids, cases[i].ids, (size_t)n * sizeof *ids);
    }
    wordpiece_free(wp);
    /* without accent stripping HF does no NFD: the marks stay as written */
    o.strip_accents = 0;
    wp = wordpiece_create(6, t, lens, NULL, 0, &o, err, sizeof err);
    assert_non_null(wp);
    assert_int_equal(wordpiece_encode(wp, cases[0].text, strlen(cases[0].text), ids, 16, -1, err, sizeof err), 3);
    int32_t as_written[] = { 1, 3, 2 };
    assert_memory_equal(ids, as_written, sizeof as_written);
    wordpiece_free(wp);
}

/* types == NULL: nothing literal; a user-defined token with the U+2581
 * prefix is matched without it */
static void test_literal_types(void **state)
{
    (void)state;
    static const char *t[] = { "[UNK]", "\xE2\x96\x81<x>", "\xE2\x96\x81<", "x", ">",
                               "\xE2\x96\x81[", "UNK", "]", "\xE2\x96\x81\x61" };
    uint32_t lens[9];
    for (int i = 0; i < 9; i++)
        lens[i] = (uint32_t)strlen(t[i]);
    char err[256];
    int32_t ids[16];
    wordpiece *wp = wordpiece_create(9, t, lens, NULL, 0, NULL, err, sizeof err);
    assert_non_null(wp);
    int n = wordpiece_encode(wp, "[UNK]", 5, ids, 16, -1, err, sizeof err);
    assert_int_equal(n, 3); /* "[", "unk" is not in vocab -> unk, "]" */
    assert_int_equal(ids[0], 5);
    wordpiece_free(wp);
    int32_t types[9] = { 3, 4, 1, 1, 1, 1, 1, 1, 1 };
    wp = wordpiece_create(9, t, lens, types, 0, NULL, err, sizeof err);
    assert_non_null(wp);
    n = wordpiece_encode(wp, "a<x>a[UNK]", 10, ids, 16, -1, err, sizeof err);
    int32_t want[] = { 8, 1, 8, 0 };
    assert_int_equal(n, 4);
    assert_memory_equal(ids, want, sizeof want);
    wordpiece_free(wp);
    /* bad arguments are reported, not crashed on */
    types[3] = 9;
    assert_null(wordpiece_create(9, t, lens, types, 0, NULL, err, sizeof err));
    assert_non_null(strstr(err, "token 3"));
    assert_null(wordpiece_create(9, t, lens, NULL, 9, NULL, err, sizeof err));
    wp_options o = wp_options_default();
    o.max_input_chars_per_word = WP_MAX_WORD_CHARS + 1;
    assert_null(wordpiece_create(9, t, lens, NULL, 0, &o, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unicode_tables),
        cmocka_unit_test(test_phantom),
        cmocka_unit_test(test_literal_types),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_basic_and_specials),
        cmocka_unit_test(test_long_words),
        cmocka_unit_test(test_cap_too_small),
        cmocka_unit_test(test_huge_input),
        cmocka_unit_test(test_truncate_rule),
        cmocka_unit_test(test_cases_bert_uncased),
        cmocka_unit_test(test_check_tokenizers_finds),
        cmocka_unit_test(test_encode_from),
        cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_cases_bert_chinese),
        cmocka_unit_test(test_llama_cpp_bge),
    };
    return cmocka_run_group_tests_name("tokenizer", tests, NULL, NULL);
}
