/* ember index build / add as a user runs them, on what must never lose or
 * hide documents: ids (unique, 0 .. 2^63-1, exact), plain lines added
 * after the ids in use, --upsert, two writers at once, the temporary file
 * (symlinks, failures), an output that is an input, and kill -9 at any
 * moment.  Vectors come from .npy files, so no model is needed, except for
 * the one run through the embedding path (skipped without the fixtures). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "index/index.h"
#include "tests/fixtures.h"

/* absolute: the commands run in their own directories */
static const char *bin(void)
{
    static char abs[4096];
    const char *b = getenv("EMBER_BIN");
    if (!abs[0] && !realpath(b && *b ? b : "build/ember", abs)) fail_msg("no ember binary at %s", b && *b ? b : "build/ember");
    return abs;
}

static char out[1 << 16];

/* Runs a shell command line, each "EMBER" in it standing for the binary;
 * exit code, output (stderr too) in out. */
static int sh(const char *fmt, ...)
{
    char line[8192], cmd[16000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = 0, bl = strlen(bin());
    for (const char *c = line; *c && n + bl + 16 < sizeof cmd;)
        if (!strncmp(c, "EMBER", 5)) { memcpy(cmd + n, bin(), bl); n += bl; c += 5; }
        else cmd[n++] = *c++;
    cmd[n] = '\0';
    char wrapped[16400];
    snprintf(wrapped, sizeof wrapped, "(%s) 2>&1", cmd);
    FILE *p = popen(wrapped, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define EXPECT(rc, ...) do { int r_ = sh(__VA_ARGS__); if (r_ != (rc)) fail_msg("exit %d, not %d: %s", r_, (rc), out); } while (0)
#define SAYS(what) do { if (!strstr(out, (what))) fail_msg("output lacks '%s': %s", (what), out); } while (0)

/* n x d float32 .npy as numpy writes it, values from seed */
static void write_npy(const char *path, int n, int d, uint64_t seed)
{
    char hdr[128];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d);
    while ((10 + len + 1) % 64) hdr[len++] = ' ';
    hdr[len++] = '\n';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len & 255), (unsigned char)(len >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(hdr, 1, (size_t)len, f);
    uint64_t r = seed * 2654435761u + 7;
    float *row = malloc(sizeof(float) * (size_t)d);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            row[j] = (float)((r >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
        }
        fwrite(row, 4, (size_t)d, f);
    }
    free(row);
    fclose(f);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_lines(const char *path, const char *prefix, int n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++) fprintf(f, "%s %d\n", prefix, i);
    fclose(f);
}

/* A fresh directory under the test's temporary one, its path in p. */
static const char *subdir(const char *name)
{
    static char p[4][400];
    static int next;
    char *d = p[next++ % 4];
    snprintf(d, sizeof p[0], "%s/%s", test_tmpdir(), name);
    assert_int_equal(mkdir(d, 0755), 0);
    return d;
}

static emb_index *open_ok(const char *path)
{
    char err[512];
    emb_index *x = idx_open(path, err, sizeof err);
    if (!x) fail_msg("%s does not open: %s", path, err);
    return x;
}

static size_t live(const char *path)
{
    emb_index *x = open_ok(path);
    idx_info in;
    idx_get_info(x, &in);
    idx_free(x);
    return in.count;
}

static void assert_text(const emb_index *x, int64_t id, const char *want)
{
    size_t len = 0;
    const char *t = idx_text(x, id, &len);
    if (!want) { if (t) fail_msg("id %lld has text '%.*s', none expected", (long long)id, (int)len, t); return; }
    if (!t || len != strlen(want) || memcmp(t, want, len)) fail_msg("id %lld has text '%.*s', not '%s'", (long long)id, t ? (int)len : 6, t ? t : "(none)", want);
}

/* Gives vector `slot` of the index file at path the id `id` (section
 * "ids" is kind 2), checksums recomputed: what adds wrote before ids were
 * unique. */
static void set_id(const char *path, int slot, int64_t id)
{
    size_t n;
    char *img = test_slurp(path, &n);
    assert_non_null(img);
    uint32_t ns;
    memcpy(&ns, img + 68, 4);
    for (uint32_t i = 0; i < ns; i++) {
        uint32_t kind;
        uint64_t off;
        memcpy(&kind, img + 128 + 32 * i, 4);
        memcpy(&off, img + 128 + 32 * i + 8, 8);
        if (kind == 2) memcpy(img + off + 8 * (size_t)slot, &id, 8);
    }
    assert_int_equal(idx_file_reseal(img, n), 0);
    FILE *f = fopen(path, "wb");
    fwrite(img, 1, n, f);
    fclose(f);
    free(img);
}

/* Plain lines added to an index are numbered after its largest id, not
 * from 0 again: every document keeps its own id and text. */
static void test_lines_continue_ids(void **s)
{
    (void)s;
    const char *d = subdir("lines");
    EXPECT(0, "cd %s && printf 'first 0\\nfirst 1\\nfirst 2\\n' > a.txt && printf 'second 0\\nsecond 1\\n' > b.txt", d);
    char p[512];
    snprintf(p, sizeof p, "%s/a.npy", d);
    write_npy(p, 3, 8, 1);
    snprintf(p, sizeof p, "%s/b.npy", d);
    write_npy(p, 2, 8, 2);
    EXPECT(0, "cd %s && EMBER index build --vectors a.npy -i a.txt --type flat -o x.emb", d);
    EXPECT(0, "cd %s && EMBER index add -x x.emb --vectors b.npy -i b.txt", d);
    EXPECT(0, "cd %s && EMBER index add -x x.emb --vectors b.npy", d); /* no texts: ids 5, 6 */
    snprintf(p, sizeof p, "%s/x.emb", d);
    emb_index *x = open_ok(p);
    idx_info in;
    idx_get_info(x, &in);
    assert_int_equal(in.count, 7);
    assert_text(x, 0, "first 0");
    assert_text(x, 2, "first 2");
    assert_text(x, 3, "second 0");
    assert_text(x, 4, "second 1");
    assert_text(x, 6, NULL);
    assert_int_equal(idx_id_max(x), 6);
    idx_free(x);
}

/* The same through the embedding path the finding was made on (ember
 * index add -m -i more.txt), when the fixture model is there. */
static void test_lines_continue_ids_embedded(void **s)
{
    (void)s;
    char rel[1024], fe[4096];
    if (!fixture_path(rel, sizeof rel, "models/minilm-embed-tiny/config.json")) { skip(); return; }
    *strrchr(rel, '/') = '\0';
    assert_non_null(realpath(rel, fe));
    const char *d = subdir("embedded");
    EXPECT(0, "cd %s && EMBER convert %s e.gguf", d, fe);
    EXPECT(0, "cd %s && printf 'Paris is in France.\\nBerlin is in Germany.\\n' > a.txt && printf 'Rome is in Italy.\\nMadrid is in Spain.\\n' > b.txt", d);
    EXPECT(0, "cd %s && EMBER index build -m e.gguf -i a.txt --type flat -o x.emb", d);
    EXPECT(0, "cd %s && EMBER index add -x x.emb -m e.gguf -i b.txt", d);
    char p[512];
    snprintf(p, sizeof p, "%s/x.emb", d);
    emb_index *x = open_ok(p);
    assert_text(x, 0, "Paris is in France.");
    assert_text(x, 1, "Berlin is in Germany.");
    assert_text(x, 2, "Rome is in Italy.");
    assert_text(x, 3, "Madrid is in Spain.");
    idx_free(x);
    /* every document is found by its own text, under its own id */
    EXPECT(0, "cd %s && EMBER search -x x.emb -m e.gguf -q 'Paris is in France.' -k 4", d);
    SAYS("{\"id\": 0, ");
    SAYS("\"text\": \"Madrid is in Spain.\"");
    SAYS("\"text\": \"Berlin is in Germany.\"");
    /* search options this (flat) index does not use: one warning each, the hits as asked */
    EXPECT(0, "cd %s && EMBER search -x x.emb -m e.gguf -q 'Paris' -k 2 --nprobe 8 --ef 100 --rescore-mult 3 --refine-factor 2", d);
    SAYS("warning: --nprobe applies to IVF-PQ indexes; x.emb is flat: ignored");
    SAYS("warning: --ef applies to HNSW indexes");
    SAYS("warning: --rescore-mult applies to binary indexes built with --rescore");
    SAYS("warning: --refine-factor applies to IVF-PQ indexes built with --refine");
    SAYS("{\"id\": 0, ");
    /* an index from before ids were unique: the doubled id is pointed out */
    EXPECT(0, "cd %s && cp x.emb dup.emb", d);
    snprintf(p, sizeof p, "%s/dup.emb", d);
    set_id(p, 3, 2);
    EXPECT(0, "cd %s && EMBER search -x dup.emb -m e.gguf -q 'Rome is in Italy.' -k 4", d);
    SAYS("warning: id 2 is held by more than one vector of dup.emb");
    /* a document that cannot be embedded is named by its line, from 1 */
    size_t blen;
    char *badtxt = test_slurp("tests/data/invalid_utf8.txt", &blen); /* "good line\nbad \xc3( line\n" */
    assert_non_null(badtxt);
    char c[512];
    snprintf(c, sizeof c, "%s/c.txt", d);
    FILE *f = fopen(c, "w");
    fputs("fine\nalso fine\n", f);
    fwrite(badtxt, 1, blen, f);
    fputs("after\n", f);
    fclose(f);
    free(badtxt);
    EXPECT(1, "cd %s && EMBER index build -m e.gguf -i c.txt --type flat -o c.emb", d);
    SAYS("c.txt:4: cannot embed this document");
}

/* JSONL ids: exact over 0 .. 2^63-1, each once; refusals name the line. */
static void test_jsonl_ids(void **s)
{
    (void)s;
    const char *d = subdir("jsonl");
    char p[512];
    snprintf(p, sizeof p, "%s/v3.npy", d);
    write_npy(p, 3, 8, 3);
    snprintf(p, sizeof p, "%s/v1.npy", d);
    write_npy(p, 1, 8, 4);
    snprintf(p, sizeof p, "%s/a.jsonl", d);
    /* 2^53 + 1 is not a double: it must not become 2^53 */
    write_text(p, "{\"id\": 3, \"text\": \"three\"}\n{\"id\": 9007199254740993, \"text\": \"big\"}\n"
                  "{\"id\": 9223372036854775807, \"text\": \"max\"}\n");
    EXPECT(0, "cd %s && EMBER index build --vectors v3.npy -i a.jsonl --input-format jsonl --type flat -o x.emb", d);
    snprintf(p, sizeof p, "%s/x.emb", d);
    emb_index *x = open_ok(p);
    assert_text(x, 3, "three");
    assert_text(x, 9007199254740993LL, "big");
    assert_text(x, 9007199254740992LL, NULL);
    assert_text(x, INT64_MAX, "max");
    idx_free(x);
    /* the same id twice in the input: refused before anything is written */
    snprintf(p, sizeof p, "%s/dup.jsonl", d);
    write_text(p, "{\"id\": 5, \"text\": \"five\"}\n\n{\"id\": 5, \"text\": \"five again\"}\n{\"id\": 6, \"text\": \"six\"}\n");
    EXPECT(1, "cd %s && EMBER index build --vectors v3.npy -i dup.jsonl --input-format jsonl -o d.emb", d);
    SAYS("dup.jsonl:3: id 5 is given again (first on line 1)");
    snprintf(p, sizeof p, "%s/d.emb", d);
    assert_int_equal(access(p, F_OK), -1);
    /* an id the index holds: refused, the old text kept; --upsert replaces it */
    snprintf(p, sizeof p, "%s/again.jsonl", d);
    write_text(p, "{\"id\": 3, \"text\": \"three v2\"}\n");
    EXPECT(1, "cd %s && EMBER index add -x x.emb --vectors v1.npy -i again.jsonl --input-format jsonl", d);
    SAYS("again.jsonl:1: id 3 is already in x.emb (--upsert replaces it)");
    EXPECT(0, "cd %s && EMBER index add -x x.emb --vectors v1.npy -i again.jsonl --input-format jsonl --upsert", d);
    snprintf(p, sizeof p, "%s/x.emb", d);
    x = open_ok(p);
    idx_info in;
    idx_get_info(x, &in);
    assert_int_equal(in.count, 3);
    assert_int_equal(in.deleted, 1);
    assert_text(x, 3, "three v2");
    idx_free(x);
    /* numbering after 2^63-1 is impossible: refused, not wrapped */
    EXPECT(1, "cd %s && EMBER index add -x x.emb --vectors v1.npy", d);
    SAYS("numbering document 1 after id 9223372036854775807 passes 2^63-1");
    EXPECT(2, "cd %s && EMBER index build --vectors v1.npy --upsert -o u.emb", d);
    SAYS("--upsert");
    /* ids outside 0 .. 2^63-1, or not integers, and texts that are not strings */
    static const struct { const char *rec, *says; } bad[] = {
        {"{\"id\": -1, \"text\": \"minus one\"}", "\"id\" must be an integer 0 .. 9223372036854775807"},
        {"{\"id\": 9223372036854775808, \"text\": \"2^63\"}", "\"id\" must be an integer"},
        {"{\"id\": 1.5, \"text\": \"x\"}", "\"id\" must be an integer"},
        {"{\"id\": \"7\", \"text\": \"x\"}", "\"id\" must be an integer"},
        {"{\"id\": 7, \"text\": 42}", "\"text\" must be a string"},
        {"{\"id\": 7}", "missing field \"text\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(p, sizeof p, "%s/bad.jsonl", d);
        FILE *f = fopen(p, "w");
        fprintf(f, "\n%s\n", bad[i].rec);
        fclose(f);
        EXPECT(1, "cd %s && EMBER index add -x x.emb --vectors v1.npy -i bad.jsonl --input-format jsonl", d);
        SAYS("bad.jsonl:2: ");
        SAYS(bad[i].says);
    }
    snprintf(p, sizeof p, "%s/x.emb", d);
    assert_int_equal(live(p), 3);
}

/* Writers take turns: while one holds INDEX.lock another add fails at
 * once, or waits with --wait and then adds to what the first wrote. */
static void test_two_writers(void **s)
{
    (void)s;
    const char *d = subdir("writers");
    char p[512], lockp[600];
    snprintf(p, sizeof p, "%s/v.npy", d);
    write_npy(p, 200, 16, 5);
    EXPECT(0, "cd %s && EMBER index build --vectors v.npy --type flat -o x.emb", d);
    /* this process plays the first writer */
    snprintf(lockp, sizeof lockp, "%s/x.emb.lock", d);
    int fd = open(lockp, O_RDONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    EXPECT(1, "cd %s && EMBER index build --vectors v.npy -o x.emb", d);
    SAYS("index x.emb is being written by another process (--wait waits for it)");
    EXPECT(1, "cd %s && EMBER index add -x x.emb --vectors v.npy", d);
    SAYS("being written by another process");
    /* --wait: blocks until the lock is free */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd %s && %s index add -x x.emb --vectors v.npy --wait 2>&1", d, bin());
    FILE *w = popen(cmd, "r");
    assert_non_null(w);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    snprintf(p, sizeof p, "%s/x.emb", d);
    assert_int_equal(live(p), 200); /* still waiting */
    flock(fd, LOCK_UN);
    close(fd);
    size_t n = fread(out, 1, sizeof out - 1, w);
    out[n] = '\0';
    int st = pclose(w);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("--wait: %s", out);
    SAYS("waiting for the other process writing x.emb");
    assert_int_equal(live(p), 400);
    /* two real writers at once, both waiting: every document of both is kept */
    snprintf(p, sizeof p, "%s/big.npy", d);
    write_npy(p, 3000, 16, 6);
    EXPECT(0, "cd %s && (EMBER index add -x x.emb --vectors big.npy --wait > a.log 2>&1 & "
              "EMBER index add -x x.emb --vectors big.npy --wait > b.log 2>&1 & wait)", d);
    snprintf(p, sizeof p, "%s/x.emb", d);
    assert_int_equal(live(p), 6400);
    emb_index *x = open_ok(p);
    assert_int_equal(idx_id_max(x), 6399);
    idx_free(x);
}

/* The temporary: never through a symlink at the old fixed name, never
 * left behind, and a failed write keeps the old index. */
static void test_temporary_file(void **s)
{
    (void)s;
    const char *d = subdir("tmp");
    char p[512];
    snprintf(p, sizeof p, "%s/v.npy", d);
    write_npy(p, 300, 32, 7);
    EXPECT(0, "cd %s && EMBER index build --vectors v.npy --type flat -o x.emb && echo keep > victim.txt && ln -s victim.txt x.emb.tmp", d);
    EXPECT(0, "cd %s && EMBER index build --vectors v.npy --type flat -o x.emb", d);
    EXPECT(0, "cd %s && cat victim.txt && test -L x.emb.tmp && test ! -L x.emb", d);
    assert_string_equal(out, "keep\n");
    EXPECT(0, "cd %s && EMBER index add -x x.emb --vectors v.npy", d);
    EXPECT(0, "cd %s && cat victim.txt && test -L x.emb.tmp", d);
    assert_string_equal(out, "keep\n");
    assert_int_equal(test_count_prefixed(d, "x.emb.tmp-"), 0);
    snprintf(p, sizeof p, "%s/x.emb", d);
    assert_int_equal(live(p), 600);
    /* a write that fails half way (file size limit): refused, old index intact, no temporary */
    EXPECT(1, "cd %s && trap '' XFSZ && ulimit -f 40 && EMBER index add -x x.emb --vectors v.npy", d);
    SAYS("cannot write x.emb");
    assert_int_equal(live(p), 600);
    assert_int_equal(test_count_prefixed(d, "x.emb.tmp-"), 0);
    EXPECT(0, "cd %s && cat victim.txt", d);
    assert_string_equal(out, "keep\n");
}

/* An output that is one of the inputs (by inode, whatever the name) is refused. */
static void test_output_is_input(void **s)
{
    (void)s;
    const char *d = subdir("same");
    char p[512];
    snprintf(p, sizeof p, "%s/v.npy", d);
    write_npy(p, 3, 8, 8);
    snprintf(p, sizeof p, "%s/docs.txt", d);
    write_lines(p, "doc", 3);
    EXPECT(2, "cd %s && EMBER index build --vectors v.npy -i docs.txt -o docs.txt", d);
    SAYS("docs.txt is both an input and the index written");
    EXPECT(0, "cd %s && ln -s docs.txt alias.txt && ln docs.txt hard.txt", d);
    EXPECT(2, "cd %s && EMBER index build --vectors v.npy -i alias.txt -o docs.txt", d);
    EXPECT(2, "cd %s && EMBER index build --vectors v.npy -i docs.txt -o ./hard.txt", d);
    EXPECT(2, "cd %s && EMBER index build --vectors v.npy -o v.npy", d);
    EXPECT(0, "cd %s && cat docs.txt", d);
    assert_string_equal(out, "doc 0\ndoc 1\ndoc 2\n");
    EXPECT(0, "cd %s && EMBER index build --vectors v.npy -i docs.txt -o x.emb", d);
    EXPECT(2, "cd %s && EMBER index add -x x.emb --vectors v.npy -i x.emb", d);
    snprintf(p, sizeof p, "%s/x.emb", d);
    assert_int_equal(live(p), 3);
}

/* An index written before ids were unique may hold an id twice: info says
 * so (search showed the newest text under both, silently). */
static void test_old_duplicate_ids(void **s)
{
    (void)s;
    const char *d = subdir("olddup");
    char p[512];
    snprintf(p, sizeof p, "%s/v.npy", d);
    write_npy(p, 3, 8, 13);
    EXPECT(0, "cd %s && EMBER index build --vectors v.npy --type flat -o x.emb", d);
    EXPECT(0, "cd %s && EMBER index info -x x.emb", d);
    if (strstr(out, "warning")) fail_msg("%s", out);
    /* what the old add wrote: vector 2 under id 1 */
    snprintf(p, sizeof p, "%s/x.emb", d);
    set_id(p, 2, 1);
    EXPECT(0, "cd %s && EMBER index info -x x.emb", d);
    SAYS("warning: x.emb: 1 live vectors share their id with a newer one");
    SAYS("count           3 live");
}

/* Options that would do nothing are refused (or warned about where the
 * result is what was asked), never silently ignored. */
static void test_options_that_do_nothing(void **s)
{
    (void)s;
    const char *d = subdir("options");
    char p[512];
    snprintf(p, sizeof p, "%s/v.npy", d);
    write_npy(p, 300, 16, 11);
    static const struct { int rc; const char *args, *says; } cases[] = {
        {2, "index build --vectors v.npy --type flat --M 8 -o a.emb", "index build: --M applies to --type hnsw"},
        {2, "index build --vectors v.npy --type ivfpq --ef-construction 50 -o a.emb", "--ef-construction applies to --type hnsw"},
        {2, "index build --vectors v.npy --nlist 8 -o a.emb", "--nlist applies to --type ivfpq"},
        {2, "index build --vectors v.npy --type flat --pq-bits 4 -o a.emb", "--pq-bits applies to --type ivfpq"},
        {2, "index build --vectors v.npy --rescore -o a.emb", "--rescore applies to --store binary"},
        {2, "index build --vectors v.npy -x x.emb -o a.emb", "-x does not apply"},
        {2, "index add -x x.emb --vectors v.npy --type flat", "index add: --type is fixed when an index is built"},
        {2, "index add -x x.emb --vectors v.npy --M 32", "--M is fixed"},
        {2, "index add -x x.emb --vectors v.npy -o y.emb", "-o does not apply: index add writes -x"},
        {2, "index info -x x.emb -t 4", "index info: -t does not apply"},
        {2, "index info -x x.emb --wait", "--wait does not apply"},
        {2, "search -x x.emb -m m.gguf -q hello --top 5", "--top belongs to --rerank"},
        {2, "search -x x.emb -m m.gguf -q hello --candidates 20", "--candidates belongs to --rerank"},
        {2, "search -x x.emb -m m.gguf -q hello --rerank c.gguf --candidates 2 --top 5", "--top 5 is more than the 2 candidates reranked"},
        {2, "search -x x.emb -m m.gguf -q hello --rerank c.gguf -k 3 --candidates 2", "-k 3 is more than the 2 candidates reranked"},
        {0, "index build --vectors v.npy --batch 8 -o b.emb", "warning: --batch sizes embedding batches"},
        {0, "index build --vectors v.npy --no-text -o c.emb", "warning: --no-text without -i DOCS"},
    };
    EXPECT(0, "cd %s && EMBER index build --vectors v.npy --type flat -o x.emb", d);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        EXPECT(cases[i].rc, "cd %s && EMBER %s", d, cases[i].args);
        SAYS(cases[i].says);
    }
    snprintf(p, sizeof p, "%s/a.emb", d);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof p, "%s/x.emb", d);
    assert_int_equal(live(p), 300);
}

/* On a terminal, every long phase draws a bar; the library itself prints
 * nothing (its callback is the CLI's). */
static void test_progress_on_a_terminal(void **s)
{
    (void)s;
    if (system("script --version > /dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIP: no util-linux script(1) to run the CLI on a terminal\n");
        skip();
        return;
    }
    const char *d = subdir("progress");
    char p[512];
    snprintf(p, sizeof p, "%s/v.npy", d);
    write_npy(p, 3000, 32, 12);
    EXPECT(0, "cd %s && script -qec \"EMBER index build --vectors v.npy --ef-construction 40 -o h.emb\" /dev/null", d);
    SAYS("graph [");
    SAYS("] 3000/3000");
    EXPECT(0, "cd %s && script -qec \"EMBER index build --vectors v.npy --type ivfpq --nlist 16 --pq-m 8 -o q.emb\" /dev/null", d);
    SAYS("k-means [");
    SAYS("PQ codes [");
    /* not a terminal: no bars */
    EXPECT(0, "cd %s && EMBER index build --vectors v.npy --ef-construction 40 -o h2.emb", d);
    if (strstr(out, "graph [")) fail_msg("a bar on a pipe: %s", out);
}

/* kill -9 of index add / index build at any moment: the old index opens
 * and searches with its old count (or the new one, if the rename was
 * done), and what the killed writer left does not break the next add. */
static void test_kill9(void **s)
{
    (void)s;
    const char *d = subdir("kill");
    char p[512], xp[512];
    snprintf(p, sizeof p, "%s/base.npy", d);
    write_npy(p, 1000, 32, 9);
    snprintf(p, sizeof p, "%s/more.npy", d);
    write_npy(p, 15000, 32, 10);
    EXPECT(0, "cd %s && EMBER index build --vectors base.npy --ef-construction 64 -o x.emb", d);
    snprintf(xp, sizeof xp, "%s/x.emb", d);
    static const int delay_ms[] = {5, 60, 150, 300, 500, 900};
    int killed = 0;
    for (int trial = 0; trial < 12; trial++) {
        size_t before = live(xp);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (chdir(d) != 0) _exit(127);
            int nul = open("/dev/null", O_WRONLY);
            dup2(nul, 1);
            dup2(nul, 2);
            if (trial % 2) execl(bin(), "ember", "index", "add", "-x", "x.emb", "--vectors", "more.npy", (char *)NULL);
            else execl(bin(), "ember", "index", "build", "--vectors", "more.npy", "--ef-construction", "64", "-o", "x.emb", (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {0, delay_ms[trial % 6] * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (WIFSIGNALED(st)) killed++;
        else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("trial %d: exit status %d", trial, st);
        /* the index is the old one or the new one, whole */
        emb_index *x = open_ok(xp);
        idx_info in;
        idx_get_info(x, &in);
        size_t want_new = trial % 2 ? before + 15000 : 15000;
        if (in.count != before && in.count != want_new) fail_msg("trial %d: %zu vectors, %zu or %zu expected", trial, in.count, before, want_new);
        float q[32] = {0.25f};
        int64_t ids[5];
        float sc[5];
        char err[256];
        assert_int_equal(idx_search(x, q, 1, 5, NULL, ids, sc, 1, err, sizeof err), 0);
        assert_true(ids[4] >= 0);
        idx_free(x);
        if (in.count > 40000) EXPECT(0, "cd %s && EMBER index build --vectors base.npy --ef-construction 64 -o x.emb", d);
    }
    printf("%d of 12 writers killed before they finished\n", killed);
    assert_true(killed >= 6);
    /* the next add sweeps what the killed ones left */
    size_t before = live(xp);
    EXPECT(0, "cd %s && EMBER index add -x x.emb --vectors base.npy", d);
    assert_int_equal(live(xp), before + 1000);
    assert_int_equal(test_count_prefixed(d, "x.emb.tmp"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_continue_ids),
        cmocka_unit_test(test_lines_continue_ids_embedded),
        cmocka_unit_test(test_jsonl_ids),
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_temporary_file),
        cmocka_unit_test(test_output_is_input),
        cmocka_unit_test(test_old_duplicate_ids),
        cmocka_unit_test(test_options_that_do_nothing),
        cmocka_unit_test(test_progress_on_a_terminal),
        cmocka_unit_test(test_kill9),
    };
    return cmocka_run_group_tests_name("cli_index", tests, NULL, NULL);
}
