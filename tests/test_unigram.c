/* SentencePiece Unigram (tokenizer/unigram*.c) against HuggingFace: the
 * Pegasus fixture's 477 cases (ids, type ids, truncation) with the
 * tokenizer built straight from tokenizer.json, the windowed Viterbi
 * against a whole-text one on pre-tokens many windows long, the unknown
 * runs, byte_fallback, lstrip / rstrip, Metaspace's schemes, refusals, and
 * hostile input (empty, invalid UTF-8, 1 MB). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture_json.h"
#include "tests/fixtures.h"
#include "tokenizer/encode.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unigram.h"
#include "tokenizer/unigram_impl.h"
#include "tools/base64.h"
#include "tools/json.h"

#define CAP 65536

/* ---- the Pegasus tokenizer, as tokenizer.json describes it ---- */

typedef struct {
    tok_model *tm;
    const unigram *u;
    tok_template tpl;
    uint8_t *charsmap;
} pegasus;

static pegasus PG;

static int load_pegasus(pegasus *p)
{
    char path[1024], err[512];
    memset(p, 0, sizeof *p);
    if (!fixture_path(path, sizeof path, "tokenizers/sentencepiece-unigram/tokenizer.json"))
        return -1;
    json_value *tj = json_parse_file(path, err, sizeof err);
    if (!tj) fail_msg("%s", err);
    const json_value *model = json_object_get(tj, "model"), *vocab = json_object_get(model, "vocab");
    const json_value *added = json_object_get(tj, "added_tokens");
    assert_string_equal(json_string(json_object_get(model, "type"), NULL), "Unigram");
    int32_t n = (int32_t)json_array_len(vocab);
    const char **toks = calloc((size_t)n, sizeof *toks);
    uint32_t *lens = calloc((size_t)n, sizeof *lens);
    int32_t *types = calloc((size_t)n, sizeof *types);
    double *scores = calloc((size_t)n, sizeof *scores), lo = INFINITY;
    assert_true(toks && lens && types && scores);
    for (int32_t i = 0; i < n; i++) {
        size_t l;
        const json_value *e = json_array_at(vocab, (size_t)i);
        toks[i] = json_string(json_array_at(e, 0), &l);
        lens[i] = (uint32_t)l;
        types[i] = TOK_TYPE_NORMAL;
        scores[i] = json_number_hf(json_array_at(e, 1)); /* as serde_json reads it */
        if (scores[i] < lo) lo = scores[i];
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *a = json_array_at(added, i);
        int32_t id = (int32_t)json_number(json_object_get(a, "id"));
        assert_true(id < n);
        assert_string_equal(json_string(json_object_get(a, "content"), NULL), toks[id]);
        types[id] = TOK_TYPE_CONTROL; /* all special, matched before normalization */
    }
    /* the pipeline this file has: Sequence[Precompiled, Replace(" {2,}", " ")],
     * Sequence[WhitespaceSplit, Metaspace(always)], unk_id 105 */
    const json_value *norms = json_object_get(json_object_get(tj, "normalizer"), "normalizers");
    assert_string_equal(json_string(json_object_get(json_array_at(norms, 0), "type"), NULL), "Precompiled");
    size_t b64l, cml;
    const char *b64 = json_string(json_object_get(json_array_at(norms, 0), "precompiled_charsmap"), &b64l);
    assert_int_equal(base64_decode(b64, b64l, &p->charsmap, &cml), 0);
    assert_string_equal(json_string(json_object_get(json_object_get(json_array_at(norms, 1), "pattern"), "Regex"), NULL),
                        " {2,}");
    unigram_options o = unigram_options_default();
    o.n_norm = 2;
    o.norm[0].kind = UG_NORM_PRECOMPILED;
    o.norm[1].kind = UG_NORM_SPACES;
    o.norm[1].to = " ";
    o.norm[1].to_len = 1;
    o.charsmap = p->charsmap;
    o.charsmap_len = cml;
    o.whitespace_split = 1;
    o.unk_id = (int32_t)json_number(json_object_get(model, "unk_id"));
    assert_int_equal(o.unk_id, 105);
    o.has_unk_score = 1;
    o.unk_score = lo - 10.0;
    unigram *u = unigram_create(n, toks, lens, types, scores, &o, err, sizeof err);
    if (!u) fail_msg("unigram_create: %s", err);
    p->u = u;
    p->tm = tok_model_wrap(&unigram_ops, u, err, sizeof err);
    assert_non_null(p->tm);
    /* TemplateProcessing: $A </s> and $A $B </s>, every type 0 */
    memset(&p->tpl, 0, sizeof p->tpl);
    p->tpl.n_single = 2;
    p->tpl.single[0] = (tok_item){ TOK_SEQ_A, 0 };
    p->tpl.single[1] = (tok_item){ 1, 0 };
    p->tpl.n_pair = 3;
    p->tpl.pair[0] = (tok_item){ TOK_SEQ_A, 0 };
    p->tpl.pair[1] = (tok_item){ TOK_SEQ_B, 0 };
    p->tpl.pair[2] = (tok_item){ 1, 0 };
    free(toks);
    free(lens);
    free(types);
    free(scores);
    json_free(tj);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (load_pegasus(&PG) == 0) printf("pegasus Unigram built\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tok_model_free(PG.tm);
    free(PG.charsmap);
    return 0;
}

#define NEED_PG() do { if (!PG.tm) { skip(); return; } } while (0)

static void print_ids(const char *what, const int32_t *ids, int n)
{
    printf("    %s (%d):", what, n);
    for (int i = 0; i < n && i < 48; i++) printf(" %d", (int)ids[i]);
    printf("%s\n", n > 48 ? " ..." : "");
}

/* ---- the fixture's cases ---- */

static void test_cases_pegasus(void **state)
{
    (void)state;
    NEED_PG();
    char path[1024], err[256];
    assert_true(fixture_path(path, sizeof path, "tokenizers/sentencepiece-unigram/cases.jsonl"));
    size_t len;
    char *buf = fixture_json_read_file(path, &len);
    assert_non_null(buf);
    int32_t *ids = malloc(CAP * sizeof *ids), *tids = malloc(CAP * sizeof *tids), *pre = malloc(CAP * sizeof *pre);
    assert_true(ids && tids && pre);
    int total = 0, pass = 0, n_pair = 0, n_trunc = 0;
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
        n_pair += pair != NULL;
        n_trunc += maxlen > 0;
        const fixture_json *want = fixture_json_get(c, "ids");
        int n = tok_encode(PG.tm, &PG.tpl, text, tl, pair, pl, add, maxlen, ids, tids, CAP, err, sizeof err);
        int ok = n == (int)fixture_json_len(want);
        for (int i = 0; ok && i < n; i++)
            ok = ids[i] == (int32_t)fixture_json_num(fixture_json_at(want, (size_t)i)) && tids[i] == 0;
        if (ok) {
            pass++;
        } else {
            printf("  FAIL %s: %s\n", id, n < 0 ? err : "");
            if (n >= 0) print_ids("got", ids, n);
            int wn = (int)fixture_json_len(want);
            for (int i = 0; i < wn && i < CAP; i++) pre[i] = (int32_t)fixture_json_num(fixture_json_at(want, (size_t)i));
            print_ids("want", pre, wn);
        }
        /* the early stop gives a prefix of the complete encoding, and
         * counting gives its length */
        if (!pair) {
            int full = tok_model_encode(PG.tm, text, tl, ids, CAP, -1, err, sizeof err);
            assert_true(full >= 0);
            assert_int_equal(tok_model_encode(PG.tm, text, tl, NULL, 0, -1, err, sizeof err), full);
            for (int k = 1; k < full && k < 40; k += 3) {
                assert_int_equal(tok_model_encode(PG.tm, text, tl, pre, k, k, err, sizeof err), k);
                assert_memory_equal(pre, ids, (size_t)k * sizeof *ids);
            }
        }
        total++;
        fixture_json_free(c);
        line = nl ? nl + 1 : buf + len;
    }
    printf("sentencepiece-unigram: %d/%d cases (%d pairs, %d truncated)\n", pass, total, n_pair, n_trunc);
    free(buf);
    free(ids);
    free(tids);
    free(pre);
    assert_int_equal(total, 477);
    assert_int_equal(pass, total);
}

/* ---- the windows against a whole-text Viterbi ---- */

/* HF's encode_optimized over one pre-token, whole (O(n x longest piece)),
 * with its fused unknowns; ids into out. */
static int ref_viterbi(const unigram *u, const uint8_t *s, int n, int32_t *out)
{
    double *best = malloc(((size_t)n + 1) * sizeof *best);
    int *from = malloc(((size_t)n + 1) * sizeof *from), *tid = malloc(((size_t)n + 1) * sizeof *tid);
    int *stack = malloc(((size_t)n + 1) * sizeof *stack);
    assert_true(best && from && tid && stack);
    for (int i = 0; i <= n; i++) from[i] = -1;
    best[0] = 0.0;
    from[0] = 0;
    for (int st = 0; st < n;) {
        int mb = s[st] < 0x80 ? 1 : s[st] < 0xE0 ? 2 : s[st] < 0xF0 ? 3 : 4, single = 0;
        uint32_t v = 0;
        for (int k = st; k < n && (v = ug_trie_child(&u->trie, v, s[k])) != 0; k++) {
            int32_t id = u->trie.id[v];
            if (id < 0) continue;
            double c = u->scores[id] + best[st];
            if (from[k + 1] < 0 || c > best[k + 1]) { best[k + 1] = c; from[k + 1] = st; tid[k + 1] = id; }
            single |= k + 1 - st == mb;
        }
        if (!single) {
            double c = u->unk_score + best[st];
            if (from[st + mb] < 0 || c > best[st + mb]) { best[st + mb] = c; from[st + mb] = st; tid[st + mb] = u->unk_id; }
        }
        st += mb;
    }
    int k = 0, m = 0;
    for (int x = n; x > 0; x = from[x]) stack[k++] = x;
    int start = 0, run = -1;
    while (k > 0) {
        int e = stack[--k];
        if (tid[e] == u->unk_id) {
            if (run < 0) run = start;
        } else {
            if (run >= 0) {
                int32_t id = ug_trie_find(&u->trie, s + run, (size_t)(start - run));
                out[m++] = id >= 0 ? id : u->unk_id;
                run = -1;
            }
            out[m++] = tid[e];
        }
        start = e;
    }
    if (run >= 0) {
        int32_t id = ug_trie_find(&u->trie, s + run, (size_t)(start - run));
        out[m++] = id >= 0 ? id : u->unk_id;
    }
    free(best);
    free(from);
    free(tid);
    free(stack);
    return m;
}

/* a piece of lowercase ASCII letters (without its U+2581) */
static const char *letters_piece(uint32_t *len)
{
    for (;;) {
        const char *t = tok_model_token(PG.tm, 200 + rand() % 90000, len);
        if (*len >= 3 && (uint8_t)t[0] == 0xE2 && (uint8_t)t[1] == 0x96 && (uint8_t)t[2] == 0x81) {
            t += 3;
            *len -= 3;
        }
        int ok = *len > 0;
        for (uint32_t i = 0; ok && i < *len; i++) ok = t[i] >= 'a' && t[i] <= 'z';
        if (ok) return t;
    }
}

static void check_window(const char *s, size_t n, const char *what)
{
    int32_t *got = malloc((n + 8) * sizeof *got), *want = malloc((n + 8) * sizeof *want);
    uint8_t *pt = malloc(n + 4);
    char err[256];
    assert_true(got && want && pt);
    int ng = tok_model_encode(PG.tm, s, n, got, (int)n + 8, -1, err, sizeof err);
    memcpy(pt, "\xE2\x96\x81", 3); /* the pre-token Metaspace makes of it */
    memcpy(pt + 3, s, n);
    int nw = ref_viterbi(PG.u, pt, (int)n + 3, want);
    if (ng != nw || memcmp(got, want, (size_t)nw * sizeof *got) != 0) {
        int i = 0;
        while (i < ng && i < nw && got[i] == want[i]) i++;
        fail_msg("%s (%zu bytes): %d tokens, whole-text Viterbi %d; first difference at token %d", what, n, ng, nw, i);
    }
    free(got);
    free(want);
    free(pt);
}

/* The pieces of a text without unknowns spell U+2581 and the text. */
static void check_spelling(const char *s, size_t n)
{
    int32_t *ids = malloc((n + 8) * sizeof *ids);
    char err[256], *out = malloc(n + 8);
    assert_true(ids && out);
    int k = tok_model_encode(PG.tm, s, n, ids, (int)n + 8, -1, err, sizeof err);
    assert_true(k > 0);
    size_t m = 0;
    for (int i = 0; i < k; i++) {
        uint32_t l;
        const char *t = tok_model_token(PG.tm, ids[i], &l);
        assert_true(ids[i] != 105 && m + l <= n + 3);
        memcpy(out + m, t, l);
        m += l;
    }
    assert_int_equal(m, n + 3);
    assert_memory_equal(out, "\xE2\x96\x81", 3);
    assert_memory_equal(out + 3, s, n);
    assert_int_equal(tok_model_encode(PG.tm, s, n, NULL, 0, -1, err, sizeof err), k);
    free(ids);
    free(out);
}

static void test_long_pretokens(void **state)
{
    (void)state;
    NEED_PG();
    char *s = malloc(40000);
    assert_non_null(s);
    srand(11);
    for (int t = 0; t < 8; t++) { /* pieces run together: one pre-token several windows long */
        size_t n = 0, want = t < 4 ? 1500 + (size_t)t * 700 : 20000;
        while (n < want) {
            uint32_t l;
            const char *w = letters_piece(&l);
            memcpy(s + n, w, l);
            n += l;
        }
        check_window(s, n, "letters");
    }
    for (size_t n = 2021; n <= UG_WINDOW - 3; n += 4) { /* one character repeated, up to a window */
        memset(s, 'a', n);
        check_window(s, n, "aaaa");
        memset(s, '=', n);
        check_window(s, n, "====");
    }
    /* longer, the best paths of a periodic text need not meet in a window
     * (unigram.h): the cut is then ember's, but the pieces still spell the
     * text */
    for (size_t n = UG_WINDOW - 2; n <= 9000; n += 997) {
        memset(s, n % 2 ? 'a' : '=', n);
        check_spelling(s, n);
    }
    size_t n = 0; /* CJK, and characters no piece has (one fused unknown) */
    for (int i = 0; i < 4000; i++) n += (size_t)uni_utf8_encode(0x4E00 + (uint32_t)(rand() % 0x5000), (uint8_t *)s + n);
    check_window(s, n, "CJK");
    n = 0;
    for (int i = 0; i < 3000; i++) n += (size_t)uni_utf8_encode(0x13000 + (uint32_t)(rand() % 0x400), (uint8_t *)s + n);
    check_window(s, n, "hieroglyphs");
    n = 0;
    for (int i = 0; i < 3000; i++) {
        if (rand() % 3) n += (size_t)uni_utf8_encode(0x13000 + (uint32_t)(rand() % 0x400), (uint8_t *)s + n);
        else s[n++] = (char)('a' + rand() % 26);
    }
    check_window(s, n, "hieroglyphs and letters");
    free(s);
}

/* A run of unknown characters is one token however many windows it spans. */
static void test_unknown_runs(void **state)
{
    (void)state;
    NEED_PG();
    int32_t ids[64];
    char err[256], *s = malloc(20000);
    assert_non_null(s);
    size_t n = 0;
    for (int i = 0; i < 4000; i++) n += (size_t)uni_utf8_encode(0x13000 + (uint32_t)(i % 0x400), (uint8_t *)s + n);
    int k = tok_model_encode(PG.tm, s, n, ids, 64, -1, err, sizeof err);
    /* the U+2581 Metaspace puts first, then one unknown for 16000 bytes */
    assert_int_equal(k, 2);
    assert_int_equal(ids[1], 105);
    /* in two words: two */
    s[8000] = ' ';
    while (((uint8_t)s[8001] & 0xC0) == 0x80) memmove(s + 8001, s + 8002, --n - 8001);
    k = tok_model_encode(PG.tm, s, n, ids, 64, -1, err, sizeof err);
    assert_true(k >= 3);
    free(s);
}

/* ---- small vocabularies for what Pegasus lacks ---- */

static unigram *tiny(const unigram_options *o, int with_bytes, char *err, size_t errlen)
{
    static const char *const base[] = { "<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "\342\226\201a",
                                        "ab", "c", "<m>" };
    static char bytes[256][8];
    const char *toks[266];
    uint32_t lens[266];
    int32_t types[266];
    double scores[266];
    int n = 10;
    for (int i = 0; i < n; i++) {
        toks[i] = base[i];
        lens[i] = (uint32_t)strlen(base[i]);
        types[i] = i == 0 ? TOK_TYPE_UNKNOWN : i == 1 || i == 2 || i == 9 ? TOK_TYPE_CONTROL : TOK_TYPE_NORMAL;
        scores[i] = -1.0 - i;
    }
    for (int b = 0; with_bytes && b < 256; b++, n++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        toks[n] = bytes[b];
        lens[n] = 6;
        types[n] = TOK_TYPE_BYTE;
        scores[n] = -50.0;
    }
    return unigram_create(n, toks, lens, types, scores, o, err, errlen);
}

static int enc(const unigram *u, const char *s, int32_t *ids)
{
    char err[256];
    int n = unigram_encode(u, s, strlen(s), ids, 64, -1, err, sizeof err);
    if (n < 0) fail_msg("%s: %s", s, err);
    return n;
}

static void test_schemes_and_strip(void **state)
{
    (void)state;
    char err[256];
    int32_t ids[64];
    unigram_options o = unigram_options_default();
    o.unk_id = 0;
    static const int32_t l[] = { 9 }, r[] = { 2 };
    o.lstrip = l;
    o.n_lstrip = 1;
    o.rstrip = r;
    o.n_rstrip = 1;
    unigram *u = tiny(&o, 0, err, sizeof err);
    if (!u) fail_msg("%s", err);
    /* always: every piece gets U+2581; " a" keeps its own */
    assert_int_equal(enc(u, "a<s>a", ids), 3);
    assert_int_equal(ids[0], 6);
    assert_int_equal(ids[1], 1);
    assert_int_equal(ids[2], 6);
    /* lstrip on <m>: the spaces before it go with it; rstrip on </s>: after it */
    int n = enc(u, "a  <m>  a</s>  a", ids);
    int32_t want[] = { 6, 9, 3, 6, 2, 6 };
    /* "a", <m>, "  a" (U+2581 U+2581 a: the pre-tokens U+2581 and U+2581 a), </s>, "a" */
    assert_int_equal(n, 6);
    assert_memory_equal(ids, want, sizeof want);
    unigram_free(u);
    /* first: only the text's first piece; never: none */
    o.prepend = UG_PREPEND_FIRST;
    o.n_lstrip = o.n_rstrip = 0;
    assert_non_null(u = tiny(&o, 0, err, sizeof err));
    assert_int_equal(enc(u, "a<s>a", ids), 3);
    assert_int_equal(ids[0], 6);
    assert_int_equal(ids[2], 4);
    unigram_free(u);
    o.prepend = UG_PREPEND_NEVER;
    o.split = 0;
    assert_non_null(u = tiny(&o, 0, err, sizeof err));
    assert_int_equal(enc(u, "ab a", ids), 2); /* "ab", "\u2581a": no split would not change that */
    assert_int_equal(ids[0], 7);
    assert_int_equal(ids[1], 6);
    unigram_free(u);
}

static void test_byte_fallback(void **state)
{
    (void)state;
    char err[256];
    int32_t ids[64];
    unigram_options o = unigram_options_default();
    o.unk_id = 0;
    o.byte_fallback = 1;
    unigram *u = tiny(&o, 1, err, sizeof err);
    if (!u) fail_msg("%s", err);
    /* "a\u00e9b": U+00E9 is unknown, its two bytes come out as <0xC3> <0xA9> */
    int n = enc(u, "a\xC3\xA9" "b", ids);
    assert_int_equal(n, 4);
    assert_int_equal(ids[0], 6);
    assert_int_equal(ids[1], 10 + 0xC3);
    assert_int_equal(ids[2], 10 + 0xA9);
    assert_int_equal(ids[3], 5);
    unigram_free(u);
    /* without every byte piece it is refused */
    u = tiny(&o, 0, err, sizeof err);
    assert_null(u);
    assert_non_null(strstr(err, "byte_fallback"));
}

static void test_refusals(void **state)
{
    (void)state;
    char err[256];
    unigram_options o = unigram_options_default();
    assert_null(tiny(&o, 0, err, sizeof err)); /* no unk_id */
    assert_non_null(strstr(err, "unk_id"));
    o.unk_id = 10;
    assert_null(tiny(&o, 0, err, sizeof err));
    o.unk_id = 0;
    o.n_norm = 1;
    o.norm[0].kind = UG_NORM_PRECOMPILED; /* without its charsmap */
    assert_null(tiny(&o, 0, err, sizeof err));
    assert_non_null(strstr(err, "charsmap"));
    o.norm[0].kind = UG_NORM_REPLACE;
    o.norm[0].from = "\xFF";
    o.norm[0].from_len = 1;
    assert_null(tiny(&o, 0, err, sizeof err));
    o.n_norm = 0;
    /* a piece longer than UG_MAX_PIECE, a score that is no number */
    char *big = malloc(UG_MAX_PIECE + 2);
    assert_non_null(big);
    memset(big, 'x', UG_MAX_PIECE + 1);
    const char *toks[2] = { "<unk>", big };
    uint32_t lens[2] = { 5, UG_MAX_PIECE + 1 };
    double scores[2] = { 0, -1 };
    assert_null(unigram_create(2, toks, lens, NULL, scores, &o, err, sizeof err));
    assert_non_null(strstr(err, "bytes"));
    lens[1] = 3;
    scores[1] = NAN;
    assert_null(unigram_create(2, toks, lens, NULL, scores, &o, err, sizeof err));
    assert_non_null(strstr(err, "finite"));
    free(big);
}

/* ---- hostile and edge input ---- */

/* From the id at position skip on (sliding windows): the same ids as the
 * whole encoding's tail, cut at max. */
static void test_encode_from(void **state)
{
    (void)state;
    NEED_PG();
    static const char text[] = "Hello   wor\xC3\xA9ld, <mask> ﬁne \xE2\x91\xA0 antidisestablishmentarianism 12345 done.";
    int32_t full[128], part[128];
    char err[256];
    int n = tok_model_encode(PG.tm, text, sizeof text - 1, full, 128, -1, err, sizeof err);
    assert_true(n > 10);
    for (int skip = 0; skip <= n + 1; skip++)
        for (int max = 1; max <= 7; max += 3) {
            int want = n - skip < 0 ? 0 : n - skip < max ? n - skip : max;
            assert_int_equal(tok_model_encode_from(PG.tm, text, sizeof text - 1, skip, part, 128, max, err, sizeof err), want);
            assert_memory_equal(part, full + (skip < n ? skip : n), (size_t)want * sizeof *part);
        }
}

static void test_edges(void **state)
{
    (void)state;
    NEED_PG();
    int32_t ids[64];
    char err[256];
    assert_int_equal(tok_model_encode(PG.tm, "", 0, ids, 64, -1, err, sizeof err), 0);
    assert_int_equal(tok_model_encode(PG.tm, NULL, 0, ids, 64, -1, err, sizeof err), 0);
    assert_int_equal(tok_model_encode(PG.tm, NULL, 3, ids, 64, -1, err, sizeof err), TOK_ERR_ARG);
    assert_int_equal(tok_model_encode(PG.tm, "   \t\n", 5, ids, 64, -1, err, sizeof err), 0);
    /* invalid UTF-8: refused with its offset, in a piece, at its start and
     * after an added token */
    static const struct { const char *s; size_t n; size_t off; } bad[] = {
        { "abc\xFF", 4, 3 }, { "\xC3", 1, 0 }, { "ab \xE2\x82", 5, 3 }, { "</s>\xED\xA0\x80x", 8, 4 },
        { "x\xC0\xAFy", 4, 1 }, { "e\xCC\x81\xCC", 4, 3 }, { "a \xF0\x9F\x98", 5, 2 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(tok_model_encode(PG.tm, bad[i].s, bad[i].n, ids, 64, -1, err, sizeof err), TOK_ERR_TEXT);
        char want[64];
        snprintf(want, sizeof want, "byte offset %zu ", bad[i].off);
        if (!strstr(err, want)) fail_msg("case %zu: %s", i, err);
    }
    /* U+0000 and added tokens glued to words */
    int n = tok_model_encode(PG.tm, "a\0b</s>c<mask_1>", 16, ids, 64, -1, err, sizeof err);
    assert_true(n >= 4);
    int seen_eos = 0, seen_mask = 0;
    for (int i = 0; i < n; i++) {
        seen_eos += ids[i] == 1;
        seen_mask += ids[i] == 2;
    }
    assert_int_equal(seen_eos, 1);
    assert_int_equal(seen_mask, 1);
    assert_int_equal(tok_model_encode(PG.tm, "a b c d", 7, ids, 2, -1, err, sizeof err), TOK_ERR_SPACE);
    assert_int_equal(tok_model_encode(PG.tm, "a b c d", 7, ids, 2, 2, err, sizeof err), 2);
}

/* 1 MB inputs of every shape finish fast, the early stop gives a prefix,
 * counting gives the length. */
static void test_huge_input(void **state)
{
    (void)state;
    NEED_PG();
    size_t n = 1 << 20;
    char *big = malloc(n + 8);
    int32_t *ids = malloc((n + 8) * sizeof *ids), pre[64];
    char err[256];
    assert_true(big && ids);
    srand(3);
    static const char *const what[] = { "letters", "one letter", "marks", "spaces", "unknowns", "words" };
    for (int k = 0; k < 6; k++) {
        size_t m = 0;
        if (k == 2) big[m++] = 'a';
        while (m + 4 <= n) {
            switch (k) {
            case 0: big[m++] = (char)('a' + rand() % 26); break;
            case 1: big[m++] = 'x'; break;
            case 2: m += (size_t)uni_utf8_encode(rand() % 2 ? 0x301 : 0x323, (uint8_t *)big + m); break;
            case 3: big[m++] = ' '; break;
            case 4: m += (size_t)uni_utf8_encode(0x13000 + (uint32_t)(rand() % 0x400), (uint8_t *)big + m); break;
            default: big[m++] = rand() % 6 ? (char)('a' + rand() % 26) : ' '; break;
            }
        }
        clock_t t0 = clock();
        int full = tok_model_encode(PG.tm, big, m, ids, (int)n + 8, -1, err, sizeof err);
        double sec = (double)(clock() - t0) / CLOCKS_PER_SEC;
        printf("1 MB of %s: %d tokens in %.3f s\n", what[k], full, sec);
        assert_true(k == 3 ? full == 0 : full > 0);
        assert_true(sec < 10.0);
        int p = full < 16 ? full : 16;
        if (full > 0) {
            assert_int_equal(tok_model_encode(PG.tm, big, m, pre, 16, 16, err, sizeof err), p);
            assert_memory_equal(pre, ids, (size_t)p * sizeof *ids);
        }
        assert_int_equal(tok_model_encode(PG.tm, big, m, NULL, 0, -1, err, sizeof err), full);
    }
    free(big);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemes_and_strip),
        cmocka_unit_test(test_byte_fallback),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cases_pegasus),
        cmocka_unit_test(test_long_pretokens),
        cmocka_unit_test(test_unknown_runs),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_encode_from),
        cmocka_unit_test(test_huge_input),
    };
    return cmocka_run_group_tests_name("unigram", tests, setup, teardown);
}
