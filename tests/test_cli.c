/* The ember CLI end to end, as a user runs it: exit codes, --help, errors,
 * embed -> npy -> index -> search -> rerank on the fixture models. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ember.h"
#include "tests/fixtures.h"
#include "tests/synth_model.h"

static const char *bin(void)
{
    const char *b = getenv("EMBER_BIN");
    return b && *b ? b : "build/ember";
}

/* Runs `ember <args>` through the shell; returns the exit code, output in out. */
static int run(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[8192], args[7000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char out[1 << 20];

/* Drops every "score" value (exact and HNSW search may differ in the last
 * float digit: different summation order), keeping ids and texts. */
static void strip_scores(char *s)
{
    char *p;
    while ((p = strstr(s, "\"score\": ")) != NULL) {
        char *e = strchr(p, ',');
        if (!e) break;
        memmove(p, e + 1, strlen(e + 1) + 1);
    }
}

static void test_help_and_usage_errors(void **s)
{
    (void)s;
    const char *cmds[] = {"convert", "info", "tokenize", "embed", "rerank", "index", "search"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(run(out, sizeof out, "%s --help", cmds[i]), 0);
        assert_non_null(strstr(out, "usage"));
    }
    assert_int_equal(run(out, sizeof out, "--help"), 0);
    assert_int_equal(run(out, sizeof out, "frobnicate"), 2);
    assert_non_null(strstr(out, "unknown command"));
    assert_int_equal(run(out, sizeof out, "embed"), 2);
    assert_non_null(strstr(out, "-m MODEL.gguf is required"));
    assert_int_equal(run(out, sizeof out, "embed -m /nonexistent.gguf < /dev/null"), 1);
    assert_non_null(strstr(out, "/nonexistent.gguf"));
    assert_int_equal(run(out, sizeof out, "embed -m x --batch 0"), 2);
    assert_int_equal(run(out, sizeof out, "index build -o /tmp/x.emb"), 2);
}

/* n x d float32 .npy, as numpy writes it */
static void write_npy(const char *path, int n, int d)
{
    char hdr[128];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d);
    while ((10 + len + 1) % 64) hdr[len++] = ' ';
    hdr[len++] = '\n';
    FILE *f = fopen(path, "wb");
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len & 255), (unsigned char)(len >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(hdr, 1, (size_t)len, f);
    uint64_t r = 7;
    for (int i = 0; i < n * d; i++) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        float v = (float)((r >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
        fwrite(&v, 4, 1, f);
    }
    fclose(f);
}

/* IVF-PQ with 4-bit codes from vectors made elsewhere: what info reports, refusals */
static void test_ivfpq_4bit(void **s)
{
    (void)s;
    const char *t = test_tmpdir();
    char npy[1024];
    snprintf(npy, sizeof npy, "%s/pq.npy", t);
    write_npy(npy, 300, 32);
    assert_int_equal(run(out, sizeof out, "index build --vectors %s --type ivfpq --metric ip --nlist 4 --pq-m 8 --pq-bits 4 -o %s/pq4.emb", npy, t), 0);
    assert_int_equal(run(out, sizeof out, "index info -x %s/pq4.emb", t), 0);
    assert_non_null(strstr(out, "8 x 4-bit sub-quantizers"));
    assert_non_null(strstr(out, "bytes/vector    12 "));
    assert_int_equal(run(out, sizeof out, "index build --vectors %s --type ivfpq --pq-bits 5 -o %s/bad.emb", npy, t), 2);
    assert_non_null(strstr(out, "8 or 4"));
    assert_int_equal(run(out, sizeof out, "index build --vectors %s --type ivfpq --pq-m 1 --pq-bits 4 -o %s/bad.emb", npy, t), 1);
    assert_non_null(strstr(out, "even pq_m"));
}

static void test_pipeline(void **s)
{
    (void)s;
    char fe[1024], fc[1024];
    if (!fixture_path(fe, sizeof fe, "models/minilm-embed-tiny/config.json") ||
        !fixture_path(fc, sizeof fc, "models/minilm-cross-tiny/config.json")) { skip(); return; }
    *strrchr(fe, '/') = '\0';
    *strrchr(fc, '/') = '\0';
    const char *t = test_tmpdir();
    assert_int_equal(run(out, sizeof out, "convert %s %s/e.gguf", fe, t), 0);
    assert_int_equal(run(out, sizeof out, "convert %s %s/c.gguf", fc, t), 0);
    assert_int_equal(run(out, sizeof out, "info %s/e.gguf", t), 0);
    assert_non_null(strstr(out, "mean"));
    /* a JSONL corpus with ids, a text holding a newline, and unicode */
    char path[1024];
    snprintf(path, sizeof path, "%s/docs.jsonl", t);
    FILE *f = fopen(path, "w");
    fputs("{\"id\": 100, \"text\": \"Paris is the capital and largest city of France.\"}\n"
          "{\"id\": 200, \"text\": \"Berlin is the capital\\nof Germany.\"}\n"
          "\n"
          "{\"id\": 300, \"text\": \"Caf\\u00e9 cr\\u00e8me au lait\"}\n"
          "{\"id\": 400, \"text\": \"The Pacific Ocean is large.\"}\n", f);
    fclose(f);
    /* embed: jsonl output in order, npy readable */
    assert_int_equal(run(out, sizeof out, "embed -m %s/e.gguf -i %s --input-format jsonl", t, path), 0);
    assert_non_null(strstr(out, "{\"index\": 3, \"embedding\": ["));
    assert_int_equal(run(out, sizeof out, "embed -m %s/e.gguf -i %s --input-format jsonl --format npy -o %s/v.npy", t, path, t), 0);
    /* index from the model, and from the npy: the same hits */
    assert_int_equal(run(out, sizeof out, "index build -m %s/e.gguf -i %s --input-format jsonl --type flat -o %s/a.emb", t, path, t), 0);
    assert_int_equal(run(out, sizeof out, "index build --vectors %s/v.npy -i %s --input-format jsonl --type hnsw -o %s/b.emb", t, path, t), 0);
    char a[4096], b[4096];
    assert_int_equal(run(a, sizeof a, "search -x %s/a.emb -m %s/e.gguf -q 'capital of France' -k 2", t, t), 0);
    assert_int_equal(run(b, sizeof b, "search -x %s/b.emb -m %s/e.gguf -q 'capital of France' -k 2", t, t), 0);
    strip_scores(a);
    strip_scores(b);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"id\": "));
    assert_non_null(strstr(a, "\"text\": "));
    /* HNSW walked on int8 codes, re-ranked on f32 copies: the exact hits */
    assert_int_equal(run(out, sizeof out, "index build --vectors %s/v.npy -i %s --input-format jsonl --store int8 --refine -o %s/r.emb", t, path, t), 0);
    char r[4096], ax[4096];
    assert_int_equal(run(r, sizeof r, "search -x %s/r.emb -m %s/e.gguf -q 'capital of France' -k 2", t, t), 0);
    assert_int_equal(run(ax, sizeof ax, "search -x %s/a.emb -m %s/e.gguf -q 'capital of France' -k 2", t, t), 0);
    for (const char *pr = r, *pa = ax; (pr = strstr(pr, "\"score\": ")) && (pa = strstr(pa, "\"score\": ")); pr++, pa++)
        assert_float_equal(strtod(pr + 9, NULL), strtod(pa + 9, NULL), 1e-6); /* exact f32 scores */
    strip_scores(r);
    strip_scores(ax);
    assert_string_equal(r, ax);
    assert_int_equal(run(out, sizeof out, "index info -x %s/r.emb", t), 0);
    assert_non_null(strstr(out, "f32 refine vectors"));
    assert_int_equal(run(out, sizeof out, "index build --vectors %s/v.npy --type flat --refine -o %s/bad.emb", t, t), 2);
    assert_non_null(strstr(out, "--refine applies"));
    /* two-stage: index top 4 reranked by the cross-encoder */
    assert_int_equal(run(out, sizeof out, "search -x %s/a.emb -m %s/e.gguf -q 'What is the capital of France?' --rerank %s/c.gguf --candidates 4 --top 2", t, t, t), 0);
    assert_non_null(strstr(out, "rerank_score"));
    assert_int_equal(run(out, sizeof out, "index info -x %s/a.emb", t), 0);
    assert_non_null(strstr(out, "4 live"));
    /* add to an existing index: the same ids again are refused, or replaced with --upsert */
    assert_int_equal(run(out, sizeof out, "index add -x %s/a.emb -m %s/e.gguf -i %s --input-format jsonl", t, t, path), 1);
    assert_non_null(strstr(out, "id 100 is already in"));
    assert_int_equal(run(out, sizeof out, "index add -x %s/a.emb -m %s/e.gguf -i %s --input-format jsonl --upsert", t, t, path), 0);
    assert_int_equal(run(out, sizeof out, "index info -x %s/a.emb", t), 0);
    assert_non_null(strstr(out, "4 live, 4 deleted"));
    /* mismatches are refused with a reason */
    assert_int_equal(run(out, sizeof out, "search -x %s/a.emb -m %s/c.gguf -q x", t, t), 1);
    assert_non_null(strstr(out, "not an embedding model"));
    assert_int_equal(run(out, sizeof out, "rerank -m %s/e.gguf -q x < /dev/null", t), 1);
    assert_non_null(strstr(out, "not a cross-encoder"));
    assert_int_equal(run(out, sizeof out, "search -x %s/docs.jsonl -m %s/e.gguf -q x", t, t), 1);
    assert_non_null(strstr(out, "bad magic"));
    assert_int_equal(run(out, sizeof out, "embed -m %s/e.gguf -i %s", t, "/nonexistent.txt"), 1);
    /* invalid UTF-8 on stdin: a clear error, non-zero exit */
    assert_int_equal(run(out, sizeof out, "embed -m %s/e.gguf < %s", t, "tests/data/invalid_utf8.txt"), 1);
    assert_non_null(strstr(out, "UTF-8"));
    /* tokenize pairs, empty pair kept */
    snprintf(path, sizeof path, "%s/pairs.jsonl", t);
    f = fopen(path, "w");
    fputs("{\"text\": \"hello\", \"text_pair\": \"\"}\n", f);
    fclose(f);
    assert_int_equal(run(out, sizeof out, "tokenize -m %s/e.gguf -i %s --input-format jsonl", t, path), 0);
    assert_string_equal(out, "{\"index\": 0, \"ids\": [101, 7592, 102, 102], \"type_ids\": [0, 0, 0, 1]}\n");
    /* rerank --top sorts */
    assert_int_equal(run(out, sizeof out, "rerank -m %s/c.gguf -q 'capital of France' -i tools/demo/corpus.txt --top 2", t), 0);
    assert_non_null(strstr(out, "\"index\": 1,"));
}

/* Model-side CLI behaviour on synthetic models (no fixtures): a model that
 * outputs NaN is an error naming it, a bad EMBER_THREADS is refused, an
 * unusable --max-length is said on stderr, `info` on an index points to
 * `index info`. */
static void test_model_cli_reliability(void **s)
{
    (void)s;
    const char *t = test_tmpdir();
    char nan_e[1024], nan_r[1024], ok[1024], in[1024];
    snprintf(nan_e, sizeof nan_e, "%s/nan-embed.gguf", t);
    snprintf(nan_r, sizeof nan_r, "%s/nan-rank.gguf", t);
    snprintf(ok, sizeof ok, "%s/synth.gguf", t);
    snprintf(in, sizeof in, "%s/two.txt", t);
    synth_opts o = synth_defaults();
    assert_int_equal(synth_bert_write(ok, &o), 0);
    o.nan_tensor = "blk.0.attn_output.weight";
    assert_int_equal(synth_bert_write(nan_e, &o), 0);
    o.rank = 1;
    assert_int_equal(synth_bert_write(nan_r, &o), 0);
    FILE *f = fopen(in, "w");
    fputs("hello world\nthe cat sat on the mat\n", f);
    fclose(f);
    /* NaN weights: non-zero exit, the model named, no "null" vector */
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s", nan_e, in), 1);
    if (!strstr(out, "non-finite") || !strstr(out, nan_e) || strstr(out, "null")) fail_msg("embed with NaN weights: %s", out);
    assert_int_equal(run(out, sizeof out, "rerank -m %s -q hello -i %s", nan_r, in), 1);
    if (!strstr(out, "non-finite") || !strstr(out, nan_r) || strstr(out, "null")) fail_msg("rerank with NaN weights: %s", out);
    /* EMBER_THREADS that is not a thread count */
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s", ok, in), 0);
    const char *bad[] = {"0", "abc"};
    for (int i = 0; i < 2; i++) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "EMBER_THREADS=%s %s embed -m %s -i %s 2>&1", bad[i], bin(), ok, in);
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int st = pclose(p);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 1 || !strstr(out, "EMBER_THREADS"))
            fail_msg("EMBER_THREADS=%s: exit %d, output %s", bad[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1, out);
    }
    /* --max-length beyond the model (64 positions): a warning, then the result it can give */
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --max-length 600", ok, in), 0);
    if (!strstr(out, "warning: --max-length 600 is beyond the model's maximum; using 64")) fail_msg("no warning: %s", out);
    assert_non_null(strstr(out, "{\"index\": 1, \"embedding\": ["));
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --max-length 64", ok, in), 0);
    assert_null(strstr(out, "warning"));
    /* info on an ember index */
    char npy[1024];
    snprintf(npy, sizeof npy, "%s/info.npy", t);
    write_npy(npy, 20, 8);
    assert_int_equal(run(out, sizeof out, "index build --vectors %s --type flat -o %s/docs.emb", npy, t), 0);
    assert_int_equal(run(out, sizeof out, "info %s/docs.emb", t), 1);
    if (!strstr(out, "is an ember index") || !strstr(out, "ember index info -x")) fail_msg("info on an index: %s", out);
    assert_int_equal(run(out, sizeof out, "embed -m %s/docs.emb -i %s", t, in), 1);
    assert_non_null(strstr(out, "an ember index file"));
}

/* Messages name an input by its file and its line, counted from 1 (blank
 * lines of a JSONL file included), never by a 0-based position. */
static void test_errors_name_lines(void **s)
{
    (void)s;
    const char *t = test_tmpdir();
    char e[1024], r[1024], nan_e[1024], jl[1024];
    snprintf(e, sizeof e, "%s/lines-e.gguf", t);
    snprintf(r, sizeof r, "%s/lines-r.gguf", t);
    snprintf(nan_e, sizeof nan_e, "%s/lines-nan.gguf", t);
    synth_opts o = synth_defaults();
    assert_int_equal(synth_bert_write(e, &o), 0);
    o.nan_tensor = "blk.0.attn_output.weight";
    assert_int_equal(synth_bert_write(nan_e, &o), 0);
    o = synth_defaults();
    o.rank = 1;
    o.pooling = 4;
    assert_int_equal(synth_bert_write(r, &o), 0);
    /* tests/data/invalid_utf8.txt: line 2 is not UTF-8 */
    const char *bad = "tests/data/invalid_utf8.txt";
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s", e, bad), 1);
    if (!strstr(out, "embed: tests/data/invalid_utf8.txt:2: cannot embed this text") || !strstr(out, "UTF-8")) fail_msg("embed: %s", out);
    assert_int_equal(run(out, sizeof out, "embed -m %s < %s", e, bad), 1);
    if (!strstr(out, "<stdin>:2: cannot embed this text")) fail_msg("embed from stdin: %s", out);
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --batch 1", e, bad), 1);
    if (!strstr(out, "invalid_utf8.txt:2: cannot embed this text")) fail_msg("embed --batch 1: %s", out);
    assert_int_equal(run(out, sizeof out, "tokenize -m %s -i %s", e, bad), 1);
    if (!strstr(out, "tokenize: tests/data/invalid_utf8.txt:2: ") || !strstr(out, "UTF-8")) fail_msg("tokenize: %s", out);
    /* a --max-length below [CLS] + [SEP] is refused as that, not as a buffer
     * too small (make check-tokenizers found the second) */
    assert_int_equal(run(out, sizeof out, "tokenize -m %s -i %s --max-length 1", e, bad), 1);
    if (!strstr(out, "invalid_utf8.txt:1: ") || !strstr(out, "max_length 1 is below the 2 special tokens"))
        fail_msg("tokenize --max-length 1: %s", out);
    assert_int_equal(run(out, sizeof out, "rerank -m %s -q hello -i %s", r, bad), 1);
    if (!strstr(out, "rerank: tests/data/invalid_utf8.txt:2: cannot score this document") || !strstr(out, "UTF-8"))
        fail_msg("rerank: %s", out);
    /* NaN weights: every text fails, the first is named */
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s", nan_e, bad), 1);
    if (!strstr(out, "invalid_utf8.txt:1: cannot embed this text") || !strstr(out, "non-finite")) fail_msg("embed NaN: %s", out);
    /* JSONL: the record after a blank line is on line 3 (input 1) */
    snprintf(jl, sizeof jl, "%s/lines.jsonl", t);
    FILE *f = fopen(jl, "w");
    fputs("{\"text\": \"hello\"}\n\n{\"text\": \"a\", \"text_pair\": \"b\"}\n", f);
    fclose(f);
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --input-format jsonl", e, jl), 1);
    if (!strstr(out, "lines.jsonl:3: this input has a text_pair")) fail_msg("embed text_pair: %s", out);
}

/* ember info shows the model as ember loads it; --keys lists every key with
 * its type and value; a file ember refuses says why. */
static void test_info(void **s)
{
    (void)s;
    const char *t = test_tmpdir();
    char ok[1024], arch[1024], miss[1024];
    snprintf(ok, sizeof ok, "%s/info-ok.gguf", t);
    snprintf(arch, sizeof arch, "%s/info-arch.gguf", t);
    snprintf(miss, sizeof miss, "%s/info-miss.gguf", t);
    synth_opts o = synth_defaults();
    assert_int_equal(synth_bert_write(ok, &o), 0);
    o.arch = "nomic-bert";
    assert_int_equal(synth_bert_write(arch, &o), 0);
    o = synth_defaults();
    o.drop_tensor = "blk.1.ffn_up.bias";
    assert_int_equal(synth_bert_write(miss, &o), 0);
    assert_int_equal(run(out, sizeof out, "info %s", ok), 0);
    const char *want[] = {"kind               embedder", "embedding_length   32", "block_count        2", "pooling            mean",
                          "normalize", "tokenizer          bert, ", "weights            f32: f32 x", "(GGUF v3, "};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out, want[i])) fail_msg("info lacks '%s': %s", want[i], out);
    assert_null(strstr(out, "keys ("));
    assert_int_equal(run(out, sizeof out, "info %s --keys", ok), 0);
    if (!strstr(out, "keys (") || !strstr(out, "bert.embedding_length") || !strstr(out, " u32 ") ||
        !strstr(out, "general.architecture") || !strstr(out, "\"bert\"") || !strstr(out, "array<string>") || !strstr(out, " items: [\"[PAD]\""))
        fail_msg("info --keys: %s", out);
    assert_int_equal(run(out, sizeof out, "info %s", arch), 1);
    if (!strstr(out, "ember cannot load this model") || !strstr(out, "architecture 'nomic-bert' is not supported")) fail_msg("info, other architecture: %s", out);
    assert_int_equal(run(out, sizeof out, "info %s", miss), 1);
    if (!strstr(out, "missing tensor blk.1.ffn_up.bias")) fail_msg("info, missing tensor: %s", out);
    assert_int_equal(run(out, sizeof out, "info README.md"), 1);
    if (!strstr(out, "ember cannot load this model") || !strstr(out, "not a GGUF file")) fail_msg("info on a text file: %s", out);
}

/* The model's metadata through the API that ember info uses. */
static void test_model_meta_api(void **s)
{
    (void)s;
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/meta.gguf", test_tmpdir());
    synth_opts o = synth_defaults();
    o.int_key = "bert.block_count";
    o.int_key_type = 5; /* GGUF_TYPE_INT32 */
    o.int_key_val = 2;
    assert_int_equal(synth_bert_write(path, &o), 0);
    ember_model *m = ember_model_load(path, err, sizeof err);
    assert_non_null(m);
    ember_model_info in;
    ember_model_get_info(m, &in);
    assert_int_equal(in.gguf_version, 3);
    assert_true(in.n_tensors > 10 && in.n_tensors == in.n_tensors_f32 && in.n_params > in.n_tensors);
    assert_int_equal(in.n_ctx, 64);
    assert_string_equal(in.tokenizer, "bert");
    assert_string_equal(ember_pooling_name(in.pooling), "mean");
    assert_string_equal(ember_pooling_name(EMBER_POOL_RANK), "rank");
    int n = ember_model_meta_count(m);
    assert_true(n > 10);
    const char *key, *type;
    char v[64];
    int seen = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(ember_model_meta_at(m, i, &key, &type, v, sizeof v), EMBER_OK);
        assert_true(strlen(v) < sizeof v);
        if (!strcmp(key, "bert.block_count")) { assert_string_equal(type, "i32"); assert_string_equal(v, "2"); seen++; }
        if (!strcmp(key, "general.architecture")) { assert_string_equal(type, "string"); assert_string_equal(v, "\"bert\""); seen++; }
        if (!strcmp(key, "tokenizer.ggml.tokens")) {
            assert_string_equal(type, "array<string>");
            /* cut to the buffer, ending in "..." (a character of several bytes is not split) */
            if (!strstr(v, " items: [\"[PAD]\", ") || strcmp(v + strlen(v) - 3, "...") || strlen(v) < sizeof v - 4)
                fail_msg("tokens: '%s'", v);
            seen++;
        }
        if (!strcmp(key, "bert.attention.layer_norm_epsilon")) { assert_string_equal(type, "f32"); seen++; }
    }
    assert_int_equal(seen, 4);
    /* no value asked: names and types only; a tiny buffer still ends in NUL */
    assert_int_equal(ember_model_meta_at(m, 0, &key, &type, NULL, 0), EMBER_OK);
    assert_non_null(key);
    assert_int_equal(ember_model_meta_at(m, 0, &key, &type, v, 2), EMBER_OK);
    assert_true(strlen(v) <= 1);
    assert_int_equal(ember_model_meta_at(m, n, &key, &type, v, sizeof v), EMBER_ERR_ARG);
    assert_null(key);
    assert_int_equal(ember_model_meta_at(m, -1, &key, &type, v, sizeof v), EMBER_ERR_ARG);
    assert_int_equal(ember_model_meta_at(NULL, 0, &key, &type, v, sizeof v), EMBER_ERR_ARG);
    assert_int_equal(ember_model_meta_count(NULL), 0);
    ember_model_free(m);
}

/* tools/example_index.c, the program the README's C API section quotes,
 * works as it says: ids continue across runs, the writer lock is taken and
 * left as a file, the hits carry their texts. */
static void test_example_index(void **s)
{
    (void)s;
    const char *t = test_tmpdir();
    char ex[1024], model[1024], docs[1024], cmd[4096], lock[1200];
    snprintf(ex, sizeof ex, "%s", bin());
    char *slash = strrchr(ex, '/');
    snprintf(slash ? slash + 1 : ex, sizeof ex - (size_t)(slash ? slash + 1 - ex : 0), "example_index");
    snprintf(model, sizeof model, "%s/ex.gguf", t);
    snprintf(docs, sizeof docs, "%s/ex.txt", t);
    synth_opts o = synth_defaults();
    assert_int_equal(synth_bert_write(model, &o), 0);
    FILE *f = fopen(docs, "w");
    fputs("the cat sat on the mat\nhello world\n", f);
    fclose(f);
    for (int run_i = 0; run_i < 2; run_i++) {
        snprintf(cmd, sizeof cmd, "%s %s %s/ex.emb %s 'hello world' 2>&1", ex, model, t, docs);
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int st = pclose(p);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("%s: %s", cmd, out);
        if (!strstr(out, run_i ? "added ids 2..3 to " : "added ids 0..1 to ") || !strstr(out, run_i ? ": 4 live" : ": 2 live") ||
            !strstr(out, "(hnsw, cosine, f32, 32 dims, model=") || !strstr(out, "  hello world\n"))
            fail_msg("run %d: %s", run_i + 1, out);
    }
    snprintf(lock, sizeof lock, "%s/ex.emb.lock", t);
    assert_int_equal(access(lock, F_OK), 0);
}

/* --long: a text past --max-length is cut (the default) or split into
 * overlapping windows, said once on stderr; a text that fits gives the same
 * vector either way; index build takes it too; a bad value is refused. */
static void test_long_inputs(void **s)
{
    (void)s;
    const char *t = test_tmpdir();
    char model[1024], in[1024];
    snprintf(model, sizeof model, "%s/long.gguf", t);
    snprintf(in, sizeof in, "%s/long.txt", t);
    synth_opts o = synth_defaults(); /* 64 positions */
    assert_int_equal(synth_bert_write(model, &o), 0);
    FILE *f = fopen(in, "w");
    fputs("hello world\n", f);
    for (int i = 0; i < 17; i++) fputs("the cat sat on the mat ", f); /* 102 tokens */
    fputs("\n", f);
    fclose(f);
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --max-length 16 -o %s/cut.jsonl", model, in, t), 0);
    assert_non_null(strstr(out, "1 text longer than 16 tokens was cut to 16"));
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --max-length 16 --long truncate -o %s/cut2.jsonl", model, in, t), 0);
    /* windows of 14 tokens (16 less [CLS] and [SEP]) every 11 */
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --max-length 16 --long sliding -o %s/slide.jsonl", model, in, t), 0);
    if (!strstr(out, "1 text longer than 16 tokens was split into 9 overlapping windows") || strstr(out, "cut to"))
        fail_msg("embed --long sliding said: %s", out);
    char path[1024];
    size_t len;
    snprintf(path, sizeof path, "%s/cut.jsonl", t);
    char *cut = test_slurp(path, &len);
    snprintf(path, sizeof path, "%s/cut2.jsonl", t);
    char *cut2 = test_slurp(path, &len);
    snprintf(path, sizeof path, "%s/slide.jsonl", t);
    char *slide = test_slurp(path, &len);
    assert_non_null(cut);
    assert_non_null(cut2);
    assert_non_null(slide);
    assert_string_equal(cut, cut2);
    char *nl_c = strchr(cut, '\n'), *nl_s = strchr(slide, '\n');
    assert_non_null(nl_c);
    assert_non_null(nl_s);
    assert_int_equal(nl_c - cut, nl_s - slide); /* the short text: the same line */
    assert_memory_equal(cut, slide, (size_t)(nl_c - cut));
    assert_true(strcmp(nl_c, nl_s) != 0);        /* the long one: another vector */
    free(cut);
    free(cut2);
    free(slide);
    /* index build embeds its documents the same way: 62-token windows every 47 */
    assert_int_equal(run(out, sizeof out, "index build -m %s -i %s --type flat --long sliding -o %s/long.emb", model, in, t), 0);
    if (!strstr(out, "1 document longer than 64 tokens was split into 2 overlapping windows"))
        fail_msg("index build --long sliding said: %s", out);
    /* bad values and places */
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --long bogus", model, in), 2);
    assert_non_null(strstr(out, "--long is truncate or sliding, not 'bogus'"));
    assert_int_equal(run(out, sizeof out, "embed -m %s -i %s --long", model, in), 2);
    assert_non_null(strstr(out, "--long needs a value"));
    assert_int_equal(run(out, sizeof out, "index build -m %s -i %s --long window -o %s/bad.emb", model, in, t), 2);
    assert_non_null(strstr(out, "--long is truncate or sliding"));
    assert_int_equal(run(out, sizeof out, "index info -x %s/long.emb --long sliding", t), 2);
    assert_non_null(strstr(out, "--long does not apply"));
    assert_int_equal(run(out, sizeof out, "embed --help"), 0);
    assert_non_null(strstr(out, "--long MODE"));
}

/* rerank --long: a pair past --max-length is cut (the default) or its
 * document scored as overlapping windows, said once on stderr with the
 * count; a pair that fits gives the same line either way; search --rerank
 * takes it too, and refuses it without --rerank. */
static void test_rerank_long(void **s)
{
    (void)s;
    const char *t = test_tmpdir();
    char rank[1024], emb[1024], in[1024];
    snprintf(rank, sizeof rank, "%s/long-rank.gguf", t);
    snprintf(emb, sizeof emb, "%s/long-embed.gguf", t);
    snprintf(in, sizeof in, "%s/long-docs.txt", t);
    synth_opts o = synth_defaults(); /* 64 positions */
    assert_int_equal(synth_bert_write(emb, &o), 0);
    o.rank = 1;
    assert_int_equal(synth_bert_write(rank, &o), 0);
    FILE *f = fopen(in, "w");
    fputs("hello world\n", f);
    for (int i = 0; i < 17; i++) fputs("the cat sat on the mat ", f); /* 102 tokens */
    fputs("\n", f);
    fclose(f);
    static char cut[1 << 14], slide[1 << 14];
    assert_int_equal(run(cut, sizeof cut, "rerank -m %s -q cat -i %s --max-length 16", rank, in), 0);
    assert_non_null(strstr(cut, "1 pair longer than 16 tokens was cut to 16"));
    /* beside [CLS] cat [SEP] .. [SEP]: windows of 12 tokens every 9 */
    assert_int_equal(run(slide, sizeof slide, "rerank -m %s -q cat -i %s --max-length 16 --long sliding", rank, in), 0);
    if (!strstr(slide, "1 pair longer than 16 tokens was split into 11 overlapping windows of its document") ||
        strstr(slide, "cut to"))
        fail_msg("rerank --long sliding said: %s", slide);
    /* the short pair: the same line */
    const char *c0 = strstr(cut, "{\"index\": 0,"), *s0 = strstr(slide, "{\"index\": 0,");
    assert_non_null(c0);
    assert_non_null(s0);
    const char *ce = strchr(c0, '\n'), *se = strchr(s0, '\n');
    assert_non_null(ce);
    assert_non_null(se);
    assert_int_equal(ce - c0, se - s0);
    assert_memory_equal(c0, s0, (size_t)(ce - c0));
    assert_non_null(strstr(slide, "{\"index\": 1,"));
    assert_int_equal(run(out, sizeof out, "rerank -m %s -q cat -i %s --max-length 16 --long truncate", rank, in), 0);
    assert_string_equal(out, cut);
    /* search --rerank: the reranker's own 64 tokens, windows of 60 every 45 */
    assert_int_equal(run(out, sizeof out, "index build -m %s -i %s --type flat -o %s/long-docs.emb", emb, in, t), 0);
    assert_int_equal(run(out, sizeof out, "search -x %s/long-docs.emb -m %s -q cat --rerank %s --candidates 2 --top 2 --long sliding",
                         t, emb, rank), 0);
    if (!strstr(out, "ember search --rerank: 1 pair longer than 64 tokens was split into 2 overlapping windows") ||
        !strstr(out, "rerank_logit"))
        fail_msg("search --rerank --long sliding said: %s", out);
    assert_int_equal(run(out, sizeof out, "search -x %s/long-docs.emb -m %s -q cat --long sliding", t, emb), 2);
    assert_non_null(strstr(out, "--long belongs to --rerank"));
    assert_int_equal(run(out, sizeof out, "rerank -m %s -q cat -i %s --long windows", rank, in), 2);
    assert_non_null(strstr(out, "--long is truncate or sliding, not 'windows'"));
    assert_int_equal(run(out, sizeof out, "rerank --help"), 0);
    assert_non_null(strstr(out, "--long MODE"));
    assert_int_equal(run(out, sizeof out, "search --help"), 0);
    assert_non_null(strstr(out, "--long MODE"));
}

/* Qwen3 end to end: convert both checkpoints, embed a query with --query and
 * --instruct (the default task gives the same vector; another task another),
 * rerank with the golden's score, and search an index with a reranker. */
static void test_qwen3_cli(void **state)
{
    (void)state;
    char emb[1024], rr[1024];
    if (!fixture_path(emb, sizeof emb, "models/qwen3-embed-tiny/config.json") ||
        !fixture_path(rr, sizeof rr, "models/qwen3-rerank-tiny/config.json")) { skip(); return; }
    *strrchr(emb, '/') = '\0';
    *strrchr(rr, '/') = '\0';
    const char *d = test_tmpdir();
    assert_int_equal(run(out, sizeof out, "convert %s %s/q3e.gguf", emb, d), 0);
    assert_int_equal(run(out, sizeof out, "convert %s %s/q3r.gguf --dtype bf16", rr, d), 0);
    assert_non_null(strstr(out, "pooling rank"));
    static char a[8192], b[8192], c[8192];
    assert_int_equal(run(a, sizeof a, "embed -m %s/q3e.gguf --query -i - <<'EOF'\nWhat is the capital of China?\nEOF", d), 0);
    assert_int_equal(run(b, sizeof b, "embed -m %s/q3e.gguf --instruct 'Given a web search query, retrieve relevant passages "
                                      "that answer the query' -i - <<'EOF'\nWhat is the capital of China?\nEOF", d), 0);
    assert_string_equal(a, b);
    assert_int_equal(run(c, sizeof c, "embed -m %s/q3e.gguf -i - <<'EOF'\nWhat is the capital of China?\nEOF", d), 0);
    assert_true(strcmp(a, c) != 0);
    /* rr-capital-pos of the goldens: score 0.3990965 */
    assert_int_equal(run(out, sizeof out, "rerank -m %s/q3r.gguf -q 'What is the capital of China?' -i - <<'EOF'\n"
                                          "The capital of China is Beijing.\nEOF", d), 0);
    assert_non_null(strstr(out, "\"score\": 0.39909"));
    assert_int_equal(run(out, sizeof out, "rerank -m %s/q3r.gguf --instruct 'Find code' -q 'What is the capital of China?' "
                                          "-i - <<'EOF'\nThe capital of China is Beijing.\nEOF", d), 0);
    assert_null(strstr(out, "\"score\": 0.39909"));
    assert_int_equal(run(out, sizeof out, "embed -m %s/q3e.gguf --instruct $(printf 'bad\\377') -i /dev/null", d), 1);
    assert_non_null(strstr(out, "UTF-8"));
    assert_int_equal(run(out, sizeof out, "index build -m %s/q3e.gguf -o %s/q3.emb -i - <<'EOF'\nThe capital of China is Beijing.\n"
                                          "Paris is in France.\nBerlin is in Germany.\nEOF", d, d), 0);
    assert_int_equal(run(out, sizeof out, "search -x %s/q3.emb -m %s/q3e.gguf -q 'capital of China' --rerank %s/q3r.gguf "
                                          "--candidates 3 --top 2", d, d, d), 0);
    assert_non_null(strstr(out, "rerank_score"));
}

/* --dims against what a file declares of its Matryoshka training: the
 * Qwen3-Embedding range (any from 32), a list given at conversion, none */
static void test_matryoshka_dims(void **state)
{
    (void)state;
    char emb[1024], bert[1024];
    if (!fixture_path(emb, sizeof emb, "models/qwen3-embed-tiny/config.json") ||
        !fixture_path(bert, sizeof bert, "models/minilm-embed-tiny/config.json")) { skip(); return; }
    *strrchr(emb, '/') = '\0';
    *strrchr(bert, '/') = '\0';
    const char *d = test_tmpdir();
    char txt[1100];
    snprintf(txt, sizeof txt, "%s/hi.txt", d);
    FILE *f = fopen(txt, "w");
    assert_non_null(f);
    fputs("hi\n", f);
    fclose(f);
    assert_int_equal(run(out, sizeof out, "convert %s %s/mrl-q3e.gguf", emb, d), 0);
    assert_int_equal(run(out, sizeof out, "info %s/mrl-q3e.gguf", d), 0);
    assert_non_null(strstr(out, "matryoshka_dims    any from 32 to 64"));
    assert_int_equal(run(out, sizeof out, "embed -m %s/mrl-q3e.gguf --dims 48 -i %s/hi.txt", d, d), 0);
    assert_null(strstr(out, "warning"));
    assert_int_equal(run(out, sizeof out, "embed -m %s/mrl-q3e.gguf --dims 16 -i %s/hi.txt", d, d), 0);
    assert_non_null(strstr(out, "warning: --dims 16 is below the 32 dimensions"));

    assert_int_equal(run(out, sizeof out, "convert %s %s/mrl-list.gguf --matryoshka-dims 8,16,32", bert, d), 0);
    assert_int_equal(run(out, sizeof out, "embed -m %s/mrl-list.gguf --dims 16 -i %s/hi.txt", d, d), 0);
    assert_null(strstr(out, "warning"));
    assert_int_equal(run(out, sizeof out, "embed -m %s/mrl-list.gguf --dims 12 -i %s/hi.txt", d, d), 0);
    assert_non_null(strstr(out, "not one of the dimensions"));
    assert_non_null(strstr(out, "(8, 16, 32)"));
    assert_non_null(strstr(out, "\"embedding\": [")); /* the cut is made anyway */

    assert_int_equal(run(out, sizeof out, "convert %s %s/mrl-none.gguf", bert, d), 0);
    assert_int_equal(run(out, sizeof out, "embed -m %s/mrl-none.gguf --dims 16 -i %s/hi.txt", d, d), 0);
    assert_non_null(strstr(out, "declares no Matryoshka training"));
    assert_int_equal(run(out, sizeof out, "convert %s %s/x.gguf --matryoshka-dims 16,8", bert, d), 2);
    assert_non_null(strstr(out, "ascending"));
    assert_int_equal(run(out, sizeof out, "convert %s %s/x.gguf --matryoshka-dims 8,4000", bert, d), 1);
    assert_non_null(strstr(out, "more than the model's 64 dimensions"));
}

/* ember convert --vocab-only on a bare BPE tokenizer folder, then ember
 * tokenize: a text NFC makes three times as long (U+1D160 is 4 bytes, its
 * NFC three characters of 4) gives more ids than it has bytes. */
static void test_tokenize_bpe(void **s)
{
    (void)s;
    char dir[1024], gguf[1024], txt[1024];
    if (!fixture_path(dir, sizeof dir, "tokenizers/qwen3/tokenizer.json")) { skip(); return; }
    *strrchr(dir, '/') = '\0';
    snprintf(gguf, sizeof gguf, "%s/qwen3-cli.gguf", test_tmpdir());
    snprintf(txt, sizeof txt, "%s/notes.txt", test_tmpdir());
    assert_int_equal(run(out, sizeof out, "convert --vocab-only %s %s", dir, gguf), 0);
    if (!strstr(out, "BPE tokenizer only, 151669 tokens")) fail_msg("convert: %s", out);
    FILE *f = fopen(txt, "w");
    assert_non_null(f);
    fputs("Hello world, <think>x</think>\n", f);
    for (int i = 0; i < 10; i++) fputs("\xF0\x9D\x85\xA0", f);
    fputs("\n", f);
    fclose(f);
    assert_int_equal(run(out, sizeof out, "tokenize -m %s -i %s", gguf, txt), 0);
    if (!strstr(out, "{\"index\": 0, \"ids\": [9707, 1879, 11, 220, 151667, 87, 151668], \"type_ids\": [0, 0, 0, 0, 0, 0, 0]}"))
        fail_msg("tokenize: %s", out);
    const char *l2 = strstr(out, "{\"index\": 1, \"ids\": [");
    assert_non_null(l2);
    int n = 1;
    for (const char *p = l2; *p && *p != ']'; p++) n += *p == ',';
    if (n <= 40 + 16) fail_msg("10 x U+1D160 gave %d ids: %s", n, l2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage_errors),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_ivfpq_4bit),
        cmocka_unit_test(test_model_cli_reliability),
        cmocka_unit_test(test_errors_name_lines),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_model_meta_api),
        cmocka_unit_test(test_example_index),
        cmocka_unit_test(test_long_inputs),
        cmocka_unit_test(test_rerank_long),
        cmocka_unit_test(test_qwen3_cli),
        cmocka_unit_test(test_matryoshka_dims),
        cmocka_unit_test(test_tokenize_bpe),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
