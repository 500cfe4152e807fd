/* XLMRobertaModel embedders, multilingual-e5 and bge-m3, against
 * transformers: tests/data/models/e5-tiny and bge-m3-tiny hold random
 * weights in each model's HuggingFace layout with a small SentencePiece
 * Unigram tokenizer (written by tests/check/gen_xlmr_embed_tiny.py, with
 * goldens from transformers' XLMRobertaModel in float64).  Each folder is
 * converted by the real converter and every golden embedded on every ISA
 * path on 1 and 2 threads; e5's goldens are the texts behind their
 * "query: " / "passage: " prefixes, which ember writes from the prompts
 * stored at conversion, from --prefix, and in sliding windows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ember.h"
#include "tests/fixtures.h"
#include "tests/goldens.h"
#include "tools/commands.h"
#include "tools/json.h"

#define DATA "tests/data/models"
#define TOL 1e-5 /* embeddings, normalised and raw (their components are of order 1) */

/* Converts DATA/<name> (or, with dir, that folder) with extra options into
 * the test's temp dir as <name>-<tag>.gguf; fails the test when the
 * converter does. */
static const char *convert(const char *name, const char *dir, const char *tag, const char *const *opts)
{
    static char out[8][1024];
    static int used;
    char src[1024];
    snprintf(src, sizeof src, "%s", dir ? dir : DATA);
    if (!dir) snprintf(src, sizeof src, "%s/%s", DATA, name);
    char *o = out[used++ % 8];
    snprintf(o, 1024, "%s/%s-%s.gguf", test_tmpdir(), name, tag);
    char *argv[16] = { "convert", src, o };
    int argc = 3;
    for (int i = 0; opts && opts[i] && argc < 15; i++) argv[argc++] = (char *)opts[i];
    argv[argc] = NULL;
    int rc = cmd_convert(argc, argv);
    if (rc != 0) fail_msg("ember convert %s (%s) failed (exit %d)", name, tag, rc);
    return o;
}

static ember_model *load(const char *gguf)
{
    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("load %s: %s", gguf, err);
    return m;
}

/* DATA/<name>/goldens.jsonl, one row a line. */
static goldens rows_of(const char *name)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s/goldens.jsonl", DATA, name);
    goldens g;
    memset(&g, 0, sizeof g);
    size_t len;
    g.buf = test_slurp(path, &len);
    if (!g.buf) fail_msg("cannot read %s", path);
    g.rows = calloc(256, sizeof *g.rows);
    for (char *p = g.buf; *p && g.n < 256;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l && !(g.rows[g.n++] = json_parse(p, l, err, sizeof err))) fail_msg("%s line %d: %s", path, g.n, err);
        if (!e) break;
        p = e + 1;
    }
    return g;
}

typedef struct { const char *id, *kind, *prompt, *text; size_t plen, tlen; int max_len; const json_value *row; } golden_row;

static golden_row row_at(const goldens *g, int r)
{
    golden_row x;
    size_t l;
    x.row = g->rows[r];
    x.id = golden_str(json_object_get(x.row, "id"), &l);
    x.kind = golden_str(json_object_get(x.row, "kind"), &l);
    x.prompt = golden_str(json_object_get(x.row, "prompt"), &x.plen);
    x.text = golden_str(json_object_get(x.row, "text"), &x.tlen);
    x.max_len = (int)json_number(json_object_get(x.row, "max_length"));
    return x;
}

static golden_row row_named(const goldens *g, const char *id)
{
    for (int r = 0; r < g->n; r++) {
        golden_row x = row_at(g, r);
        if (!strcmp(x.id, id)) return x;
    }
    fail_msg("no golden %s", id);
    return row_at(g, 0);
}

/* The prompt written before the text, then the text: what the goldens
 * tokenized. */
static char *prompted(const golden_row *x, size_t *len)
{
    char *s = malloc(x->plen + x->tlen + 1);
    memcpy(s, x->prompt, x->plen);
    memcpy(s + x->plen, x->text, x->tlen);
    s[*len = x->plen + x->tlen] = '\0';
    return s;
}

/* ember's ids for the prompted text are the goldens' (HuggingFace
 * tokenizers on tokenizer.json). */
static void check_ids(ember_ctx *c, const golden_row *x)
{
    size_t len;
    char *s = prompted(x, &len);
    static int32_t ids[4096];
    int n = 0;
    if (ember_tokenize(c, s, len, NULL, 0, 1, x->max_len, ids, NULL, 4096, &n) != EMBER_OK)
        fail_msg("%s: tokenize: %s", x->id, ember_ctx_error(c));
    const json_value *want = json_object_get(x->row, "input_ids");
    if ((size_t)n != json_array_len(want)) fail_msg("%s: %d tokens, golden %zu", x->id, n, json_array_len(want));
    for (int i = 0; i < n; i++)
        if (ids[i] != (int32_t)json_number(json_array_at(want, (size_t)i)))
            fail_msg("%s: token %d is %d, golden %d", x->id, i, ids[i], (int)json_number(json_array_at(want, (size_t)i)));
    free(s);
}

/* The flags that ask for a row's prompt: a query's, or a document's. */
static int flags_of(const golden_row *x) { return !strcmp(x->kind, "query") ? EMBER_EMBED_QUERY : 0; }

static double diff_row(const float *got, const golden_row *x, const char *field, int H)
{
    return golden_max_diff(got, json_object_get(x->row, field), H);
}

/* Every row on every variant: alone and in batches of one kind (more rows
 * than a context's max_batch of 8), normalised and raw; the batches on 2
 * threads bit for bit those on 1.  Returns the worst difference. */
static double run_goldens(const char *gguf, const char *name, int expect_rows)
{
    ember_model *m = load(gguf);
    ember_model_info info;
    ember_model_get_info(m, &info);
    const int H = info.dim;
    goldens g = rows_of(name);
    assert_int_equal(g.n, expect_rows);
    golden_variant v[GOLDEN_MAX_VARIANTS];
    int nv = golden_variants(m, 0, v);
    for (int r = 0; r < g.n; r++) {
        golden_row x = row_at(&g, r);
        check_ids(v[0].c, &x);
    }
    float *out = malloc((size_t)g.n * H * sizeof(float)), *one = malloc((size_t)H * sizeof(float));
    float *first = malloc((size_t)g.n * H * sizeof(float));
    const char **texts = malloc((size_t)g.n * sizeof *texts);
    size_t *lens = malloc((size_t)g.n * sizeof *lens);
    double worst = 0;
    for (int k = 0; k < nv; k++) {
        for (int raw = 0; raw < 2; raw++) {
            const char *field = raw ? "embedding" : "embedding_normalized";
            const int extra = raw ? EMBER_EMBED_NO_NORMALIZE : 0;
            /* batches: the rows of each kind, in order */
            for (int r0 = 0; r0 < g.n;) {
                golden_row x0 = row_at(&g, r0);
                int n = 0;
                while (r0 + n < g.n) {
                    golden_row x = row_at(&g, r0 + n);
                    if (strcmp(x.kind, x0.kind)) break;
                    texts[n] = x.text;
                    lens[n] = x.tlen;
                    n++;
                }
                if (ember_embed(v[k].c, texts, lens, n, flags_of(&x0) | extra, out + (size_t)r0 * H) != EMBER_OK)
                    fail_msg("%s batch at %s on %s: %s", name, x0.id, v[k].what, ember_ctx_error(v[k].c));
                r0 += n;
            }
            for (int r = 0; r < g.n; r++) {
                golden_row x = row_at(&g, r);
                double d = diff_row(out + (size_t)r * H, &x, field, H);
                if (d > TOL) fail_msg("%s %s (%s) in a batch on %s: max |diff| %.3g", name, x.id, field, v[k].what, d);
                if (d > worst) worst = d;
                /* alone (another GEMM shape: not the batch's bits, the golden all the same) */
                if (ember_embed(v[k].c, &x.text, &x.tlen, 1, flags_of(&x) | extra, one) != EMBER_OK)
                    fail_msg("%s %s on %s: %s", name, x.id, v[k].what, ember_ctx_error(v[k].c));
                if ((d = diff_row(one, &x, field, H)) > TOL)
                    fail_msg("%s %s (%s) alone on %s: max |diff| %.3g", name, x.id, field, v[k].what, d);
                if (d > worst) worst = d;
            }
            if (!raw && v[k].threads == 1) memcpy(first, out, (size_t)g.n * H * sizeof(float));
            else if (!raw && memcmp(first, out, (size_t)g.n * H * sizeof(float)) != 0)
                fail_msg("%s on %s: differs from the 1-thread result", name, v[k].what);
        }
    }
    printf("%s (%s): %d goldens x %d variants, worst |diff| %.2g\n", name, strrchr(gguf, '/') + 1, g.n, nv, worst);
    golden_variants_free(v, nv);
    free(out); free(one); free(first); free(texts); free(lens);
    goldens_free(&g);
    ember_model_free(m);
    return worst;
}

static const char *const E5_PREFIXES[] = { "--query-prefix", "query: ", "--document-prefix", "passage: ", NULL };

/* multilingual-e5: mean pooling, normalised, XLM-R positions; its
 * repository has no config_sentence_transformers.json, so the prefixes
 * come from the converter's options and are stored as the model's query
 * and document prompts. */
static void test_e5_goldens(void **state)
{
    (void)state;
    const char *gguf = convert("e5-tiny", NULL, "f32", E5_PREFIXES);
    ember_model *m = load(gguf);
    ember_model_info in;
    ember_model_get_info(m, &in);
    assert_int_equal(in.kind, EMBER_KIND_EMBEDDER);
    assert_string_equal(in.architecture, "bert");
    assert_int_equal(in.pooling, EMBER_POOL_MEAN);
    assert_true(in.normalize);
    assert_int_equal(in.max_tokens, 512); /* 514 positions less the padding offset */
    assert_int_equal(in.n_ctx, 512);
    assert_string_equal(in.query_prompt, "query: {text}");
    assert_string_equal(in.document_prompt, "passage: {text}");
    assert_null(in.default_task);
    ember_model_free(m);
    run_goldens(gguf, "e5-tiny", 36);
}

/* BAAI/bge-m3's dense embedding: CLS pooling from 1_Pooling/config.json,
 * normalised; sentence_bert_config.json's 8192 is cut to what the position
 * table allows beside XLM-R's offset (the real 8194 rows give 8192; this
 * folder's 130 give 128); no prompts, so a query is embedded as a text. */
static void test_bge_m3_goldens(void **state)
{
    (void)state;
    const char *gguf = convert("bge-m3-tiny", NULL, "f32", NULL);
    ember_model *m = load(gguf);
    ember_model_info in;
    ember_model_get_info(m, &in);
    assert_int_equal(in.pooling, EMBER_POOL_CLS);
    assert_true(in.normalize);
    assert_int_equal(in.max_tokens, 128);
    assert_int_equal(in.n_ctx, 128);
    assert_null(in.query_prompt);
    assert_null(in.document_prompt);
    /* no prompt: a query is the text as it is */
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 1;
    char err[512];
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    assert_non_null(c);
    float a[64], b[64];
    const char *t = "What is the capital of France?";
    assert_int_equal(ember_embed(c, &t, NULL, 1, 0, a), EMBER_OK);
    assert_int_equal(ember_embed(c, &t, NULL, 1, EMBER_EMBED_QUERY, b), EMBER_OK);
    assert_memory_equal(a, b, (size_t)in.dim * sizeof(float));
    ember_ctx_free(c);
    ember_model_free(m);
    run_goldens(gguf, "bge-m3-tiny", 18);
}

/* ember_ctx_set_prefix: a literal text instead of the model's prompts
 * ("query: " on a document gives the query golden, "" embeds the prompted
 * text as it is), refused when not UTF-8, NULL restores the prompts. */
static void test_set_prefix(void **state)
{
    (void)state;
    const char *gguf = convert("e5-tiny", NULL, "f32", E5_PREFIXES);
    ember_model *m = load(gguf);
    ember_model_info in;
    ember_model_get_info(m, &in);
    const int H = in.dim;
    goldens g = rows_of("e5-tiny");
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 1;
    char err[512];
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    assert_non_null(c);
    float got[64];
    int checked = 0;
    for (int r = 0; r < g.n; r++) {
        golden_row x = row_at(&g, r);
        /* the row's prompt given literally, the text flagged the other way */
        assert_int_equal(ember_ctx_set_prefix(c, x.prompt), EMBER_OK);
        const int other = flags_of(&x) ? 0 : EMBER_EMBED_QUERY;
        assert_int_equal(ember_embed(c, &x.text, &x.tlen, 1, other, got), EMBER_OK);
        double d = diff_row(got, &x, "embedding_normalized", H);
        if (d > TOL) fail_msg("%s with the prefix given: |diff| %.3g", x.id, d);
        /* no prefix at all, the prompted text given */
        size_t len;
        char *s = prompted(&x, &len);
        const char *sp = s;
        assert_int_equal(ember_ctx_set_prefix(c, ""), EMBER_OK);
        assert_int_equal(ember_embed(c, &sp, &len, 1, flags_of(&x), got), EMBER_OK);
        if ((d = diff_row(got, &x, "embedding_normalized", H)) > TOL) fail_msg("%s with prefix \"\": |diff| %.3g", x.id, d);
        free(s);
        /* back to the model's prompts */
        assert_int_equal(ember_ctx_set_prefix(c, NULL), EMBER_OK);
        assert_int_equal(ember_embed(c, &x.text, &x.tlen, 1, flags_of(&x), got), EMBER_OK);
        if ((d = diff_row(got, &x, "embedding_normalized", H)) > TOL) fail_msg("%s after NULL: |diff| %.3g", x.id, d);
        checked++;
    }
    assert_int_equal(checked, 36);
    /* braces in a literal prefix are text, not names */
    float q[64], lit[64];
    const char *t = "Paris", *full = "{task}{text} Paris";
    assert_int_equal(ember_ctx_set_prefix(c, "{task}{text} "), EMBER_OK);
    assert_int_equal(ember_embed(c, &t, NULL, 1, EMBER_EMBED_QUERY, q), EMBER_OK);
    assert_int_equal(ember_ctx_set_prefix(c, ""), EMBER_OK);
    assert_int_equal(ember_embed(c, &full, NULL, 1, 0, lit), EMBER_OK);
    assert_memory_equal(q, lit, (size_t)H * sizeof(float));
    assert_int_equal(ember_ctx_set_prefix(c, "bad \xff prefix"), EMBER_ERR_TEXT);
    assert_non_null(strstr(ember_ctx_error(c), "UTF-8"));
    assert_int_equal(ember_ctx_set_prefix(NULL, "x"), EMBER_ERR_ARG);
    ember_ctx_free(c);
    goldens_free(&g);
    ember_model_free(m);
}

/* The folder with config_sentence_transformers.json beside the real files
 * (linked, not copied), holding the given prompts. */
static const char *folder_with_st_config(const char *tag, const char *st_json)
{
    static char dir[4][1024];
    static int used;
    char *d = dir[used++ % 4], path[1200], abs[1024];
    snprintf(d, 1024, "%s/e5-%s", test_tmpdir(), tag);
    snprintf(path, sizeof path, "%s/1_Pooling", d);
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    assert_non_null(realpath(DATA "/e5-tiny", abs));
    static const char *const files[] = { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                         "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                                         "1_Pooling/config.json", NULL };
    for (int i = 0; files[i]; i++) {
        char from[1200], to[1200];
        snprintf(from, sizeof from, "%s/%s", abs, files[i]);
        snprintf(to, sizeof to, "%s/%s", d, files[i]);
        assert_int_equal(symlink(from, to), 0);
    }
    snprintf(path, sizeof path, "%s/config_sentence_transformers.json", d);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(st_json, f);
    fclose(f);
    return d;
}

/* Prompts from config_sentence_transformers.json: "query", and a
 * document's as sentence-transformers' encode_document picks it
 * ("document", "passage", "corpus"); the converter's options win; "" stores
 * none; a prompt holding {text} is refused. */
static void test_st_prompts(void **state)
{
    (void)state;
    const char *d = folder_with_st_config("st", "{\"prompts\": {\"query\": \"query: \", \"passage\": \"passage: \"}, "
                                                "\"default_prompt_name\": null}");
    const char *gguf = convert("e5-tiny", d, "st", NULL);
    ember_model *m = load(gguf);
    ember_model_info in;
    ember_model_get_info(m, &in);
    assert_string_equal(in.query_prompt, "query: {text}");
    assert_string_equal(in.document_prompt, "passage: {text}");
    ember_model_free(m);
    run_goldens(gguf, "e5-tiny", 36);

    d = folder_with_st_config("st2", "{\"prompts\": {\"query\": \"Q: \", \"corpus\": \"C: \", \"document\": \"D: \"}}");
    const char *const none[] = { "--document-prefix", "", NULL };
    m = load(convert("e5-tiny", d, "st2", none));
    ember_model_get_info(m, &in);
    assert_string_equal(in.query_prompt, "Q: {text}");
    assert_null(in.document_prompt);
    ember_model_free(m);
    m = load(convert("e5-tiny", d, "st3", NULL));
    ember_model_get_info(m, &in);
    assert_string_equal(in.document_prompt, "D: {text}");
    ember_model_free(m);

    d = folder_with_st_config("st4", "{\"prompts\": {\"query\": \"find {text}: \"}}");
    char src[1024], out[1200];
    snprintf(src, sizeof src, "%s", d);
    snprintf(out, sizeof out, "%s/refused.gguf", test_tmpdir());
    char *argv[] = { "convert", src, out, NULL };
    assert_int_equal(cmd_convert(3, argv), 1);
    assert_int_equal(access(out, F_OK), -1);
}

/* A single-token word of e5-tiny's vocabulary, i-th of a fixed list. */
static const char *const WORDS[] = { "the", "of", "and", "to", "a", "in", "is", "for", "on", "that", "with", "as",
                                     "by", "at", "it", "from", "this", "be", "are", "was" };
#define N_WORDS ((int)(sizeof WORDS / sizeof WORDS[0]))

static size_t words_text(int from, int to, char *buf, size_t cap)
{
    size_t n = 0;
    for (int i = from; i < to; i++) n += (size_t)snprintf(buf + n, cap - n, "%s%s", i > from ? " " : "", WORDS[(i * 7) % N_WORDS]);
    return n;
}

/* --long sliding with e5's prompts: every window is led by the prompt's
 * tokens ("passage: " is two, ▁passage and ':'; its trailing space goes
 * with the next word), and the text's vector is the mean of its windows,
 * each embedded by hand as prompt + its words. */
static void test_sliding_with_prompts(void **state)
{
    (void)state;
    const char *gguf = convert("e5-tiny", NULL, "f32", E5_PREFIXES);
    ember_model *m = load(gguf);
    ember_model_info in;
    ember_model_get_info(m, &in);
    const int H = in.dim, max_tokens = 16, n_words = 40;
    ember_ctx_params p = ember_ctx_default_params();
    p.n_threads = 1;
    p.max_tokens = max_tokens;
    char err[512];
    ember_ctx *t = ember_ctx_create(m, &p, err, sizeof err), *s = ember_ctx_create(m, &p, err, sizeof err);
    assert_non_null(t);
    assert_non_null(s);
    assert_int_equal(ember_ctx_set_long_mode(s, EMBER_LONG_SLIDING, -1), EMBER_OK);
    static char text[4096], win[4096];
    size_t len = words_text(0, n_words, text, sizeof text);
    for (int q = 0; q < 2; q++) {
        const int flags = q ? EMBER_EMBED_QUERY : 0;
        const char *prompt = q ? "query: " : "passage: ";
        /* each word one token: 2 specials + 2 prompt tokens + the words */
        char full[4200];
        snprintf(full, sizeof full, "%s%s", prompt, text);
        int32_t ids[256];
        int n = 0;
        assert_int_equal(ember_tokenize(t, full, strlen(full), NULL, 0, 1, 0, ids, NULL, 256, &n), EMBER_OK);
        assert_int_equal(n, 2 + 2 + n_words);
        const int W = max_tokens - 2 - 2, stride = W - W / 4, n_win = 1 + (n_words - W + stride - 1) / stride;
        float got[64], sum[64] = {0}, one[64];
        const char *tp = text;
        assert_int_equal(ember_embed(s, &tp, &len, 1, flags, got), EMBER_OK);
        assert_int_equal(ember_ctx_split(s), 1);
        assert_int_equal(ember_ctx_windows(s), n_win);
        for (int k = 0; k < n_win; k++) {
            int from = k == n_win - 1 ? n_words - W : k * stride;
            size_t wl = words_text(from, from + W, win, sizeof win);
            const char *wp = win;
            assert_int_equal(ember_embed(t, &wp, &wl, 1, flags | EMBER_EMBED_NO_NORMALIZE, one), EMBER_OK);
            assert_int_equal(ember_ctx_truncated(t), 0); /* prompt + window fills max_tokens exactly */
            for (int i = 0; i < H; i++) sum[i] += one[i];
        }
        for (int i = 0; i < H; i++) sum[i] /= (float)n_win;
        ember_l2_normalize(sum, H);
        for (int i = 0; i < H; i++)
            if (fabsf(got[i] - sum[i]) > 1e-6f)
                fail_msg("%s: dimension %d is %.9g, the windows' mean %.9g", prompt, i, (double)got[i], (double)sum[i]);
    }
    ember_ctx_free(t);
    ember_ctx_free(s);
    ember_model_free(m);
}

/* ---- the CLI ---- */

static const char *bin(void)
{
    const char *b = getenv("EMBER_BIN");
    return b && *b ? b : "build/ember";
}

static char out_buf[1 << 20];

/* `ember <args>` through the shell, stdin from `in` (a file path); exit code. */
static int run(const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out_buf, 1, sizeof out_buf - 1, p);
    out_buf[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Line i of out_buf, a JSON object: its "embedding" against a golden row. */
static double cli_diff(int line, const golden_row *x, int H)
{
    char *p = out_buf;
    for (int i = 0; i < line && p; i++) p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    assert_non_null(p);
    char *e = strchr(p, '\n');
    char err[256];
    json_value *v = json_parse(p, e ? (size_t)(e - p) : strlen(p), err, sizeof err);
    if (!v) fail_msg("ember output line %d is not JSON (%s): %.200s", line, err, p);
    const json_value *emb = json_object_get(v, "embedding");
    assert_int_equal(json_array_len(emb), (size_t)H);
    float f[64];
    for (int i = 0; i < H; i++) f[i] = (float)json_number(json_array_at(emb, (size_t)i));
    double d = diff_row(f, x, "embedding_normalized", H);
    json_free(v);
    return d;
}

/* `ember embed --prefix`, `--query` and documents' default prompt, `ember
 * info`, and `ember index build` + `ember search` writing documents and
 * the query into their prompts: the hit's score is the cosine of the query
 * golden and the passage golden. */
static void test_cli_prefix(void **state)
{
    (void)state;
    const char *gguf = convert("e5-tiny", NULL, "cli", E5_PREFIXES);
    goldens g = rows_of("e5-tiny");
    golden_row q = row_named(&g, "query-0"), d = row_named(&g, "passage-1");
    const int H = 32;
    char path[1200], docs[1200], args[4096];
    snprintf(path, sizeof path, "%s/cli-in.txt", test_tmpdir());
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\n", q.text);
    fclose(f);

    assert_int_equal(run("embed --help"), 0);
    assert_non_null(strstr(out_buf, "--prefix TEXT"));
    snprintf(args, sizeof args, "info %s", gguf);
    assert_int_equal(run(args), 0);
    assert_non_null(strstr(out_buf, "query_prompt       query: {text}"));
    assert_non_null(strstr(out_buf, "document_prompt    passage: {text}"));

    /* --prefix "query: " on a text embedded as a document = the query golden */
    snprintf(args, sizeof args, "embed -m %s -i %s --prefix 'query: ' -t 1", gguf, path);
    assert_int_equal(run(args), 0);
    assert_true(cli_diff(0, &q, H) < TOL);
    snprintf(args, sizeof args, "embed -m %s -i %s --query", gguf, path);
    assert_int_equal(run(args), 0);
    assert_true(cli_diff(0, &q, H) < TOL);
    /* a document gets "passage: " */
    golden_row dq = row_named(&g, "passage-0"); /* the same text as a document */
    snprintf(args, sizeof args, "embed -m %s -i %s", gguf, path);
    assert_int_equal(run(args), 0);
    assert_true(cli_diff(0, &dq, H) < TOL);
    /* --prefix "" with the prompted text as input */
    f = fopen(path, "w");
    fprintf(f, "query: %s\n", q.text);
    fclose(f);
    snprintf(args, sizeof args, "embed -m %s -i %s --prefix '' --query", gguf, path);
    assert_int_equal(run(args), 0);
    assert_true(cli_diff(0, &q, H) < TOL);

    /* index the passages of rows 1 and 3 (texts 0 and 1), search with the query of text 0 */
    snprintf(docs, sizeof docs, "%s/cli-docs.txt", test_tmpdir());
    f = fopen(docs, "w");
    fprintf(f, "%s\n%s\n", dq.text, d.text);
    fclose(f);
    snprintf(args, sizeof args, "index build -m %s -i %s --type flat -o %s/cli.emb", gguf, docs, test_tmpdir());
    if (run(args) != 0) fail_msg("index build: %s", out_buf);
    snprintf(args, sizeof args, "search -x %s/cli.emb -m %s -q '%s' -k 2", test_tmpdir(), gguf, q.text);
    if (run(args) != 0) fail_msg("search: %s", out_buf);
    for (int hit = 0; hit < 2; hit++) {
        char *line = out_buf;
        for (int i = 0; i < hit; i++) line = strchr(line, '\n') + 1;
        char err[256];
        json_value *v = json_parse(line, strchr(line, '\n') - line, err, sizeof err);
        assert_non_null(v);
        int id = (int)json_number(json_object_get(v, "id"));
        const golden_row *doc = id == 0 ? &dq : &d;
        double dot = 0;
        for (int i = 0; i < H; i++)
            dot += json_number(json_array_at(json_object_get(q.row, "embedding_normalized"), (size_t)i)) *
                   json_number(json_array_at(json_object_get(doc->row, "embedding_normalized"), (size_t)i));
        double score = json_number(json_object_get(v, "score"));
        if (fabs(score - dot) > TOL) fail_msg("search hit %d (id %d): score %.9g, goldens' cosine %.9g", hit, id, score, dot);
        json_free(v);
    }
    /* --prefix in index build and search: documents and query as they are */
    snprintf(args, sizeof args, "index build -m %s -i %s --type flat --prefix '' -o %s/cli2.emb", gguf, docs, test_tmpdir());
    assert_int_equal(run(args), 0);
    snprintf(args, sizeof args, "search -x %s/cli2.emb -m %s -q 'query: %s' --prefix '' -k 1", test_tmpdir(), gguf, q.text);
    assert_int_equal(run(args), 0);
    assert_non_null(strstr(out_buf, "\"score\""));
    /* --prefix is refused where it does nothing */
    snprintf(args, sizeof args, "index info -x %s/cli.emb --prefix x", test_tmpdir());
    assert_int_equal(run(args), 2);
    goldens_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e5_goldens),
        cmocka_unit_test(test_bge_m3_goldens),
        cmocka_unit_test(test_set_prefix),
        cmocka_unit_test(test_st_prompts),
        cmocka_unit_test(test_sliding_with_prompts),
        cmocka_unit_test(test_cli_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
