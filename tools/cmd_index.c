/* ember index build | add | info: embed documents and store them, with
 * their ids and texts, in an index file. */
#include "ember.h"
#include "tools/cli_common.h"
#include "tools/cli_embed.h"
#include "tools/commands.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: ember index build -m MODEL.gguf -i DOCS -o INDEX.emb [options]\n"
    "       ember index build --vectors VECS.npy [-i DOCS] -o INDEX.emb [options]\n"
    "       ember index add -x INDEX.emb -m MODEL.gguf -i DOCS [options]\n"
    "       ember index add -x INDEX.emb --vectors VECS.npy [-i DOCS] [options]\n"
    "       ember index info -x INDEX.emb\n"
    "\n"
    "Embeds one document per line (or JSONL records {\"id\": N, \"text\": ...}) and\n"
    "indexes the vectors, keeping each text for display.  --vectors indexes a\n"
    "float32 (n, dim) .npy made elsewhere instead.  Ids are 0 .. 2^63-1, each held\n"
    "once; documents without one are numbered by position, in add after the\n"
    "largest id the index has used.  An id already in the index is refused, or\n"
    "replaced with --upsert.  Writers of one index take turns (a lock file\n"
    "INDEX.emb.lock beside it); searches need no lock.\n"
    "\n"
    "  --type flat|hnsw|ivfpq  exact scan, HNSW graph (default) or IVF-PQ\n"
    "  --metric M              cosine (default), ip, l2; hamming for binary vectors\n"
    "  --store f32|int8|binary vector storage (default f32); binary uses hamming\n"
    "  --rescore               binary: also keep int8 copies to rescore hits\n"
    "  --M N                   HNSW links per node (default 16)\n"
    "  --ef-construction N     HNSW build beam (default 200)\n"
    "  --nlist N               IVF-PQ coarse lists (default 256; trained on this input)\n"
    "  --pq-m N                IVF-PQ sub-quantizers (default dim / 8)\n"
    "  --pq-bits 8|4           IVF-PQ bits per sub-quantizer (default 8); 4 is scanned\n"
    "                          by the SIMD fast-scan kernel: code bytes pq_m x bits / 8\n"
    "  --refine                IVF-PQ, or HNSW over int8: keep f32 copies to re-rank\n"
    "                          candidates exactly (an int8 HNSW is then built on them)\n"
    "  --input-format F        lines (default) | jsonl\n"
    "  --upsert                add: replace the documents whose ids the index holds\n"
    "  --wait                  wait for another process writing the index (default:\n"
    "                          fail at once)\n"
    "  --no-text               do not store document texts\n"
    "  --batch N               texts per forward pass (default 32)\n"
    "  --long MODE             a document longer than the model takes: truncate\n"
    "                          (default) or sliding (the mean of overlapping windows;\n"
    "                          see ember embed --help)\n"
    "  --prefix TEXT           put TEXT before each document instead of the model's\n"
    "                          document prompt (multilingual-e5: \"passage: \"; \"\": none)\n"
    "  -t, --threads N         threads (default: EMBER_THREADS or all cores)\n";

/* float32 (n, d) C-order .npy */
static float *read_npy(const char *path, size_t *n, int *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) { cli_err("cannot open %s", path); return NULL; }
    unsigned char pre[10];
    float *v = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) { cli_err("%s: not a .npy file", path); goto out; }
    size_t hl = pre[8] | (size_t)pre[9] << 8;
    if (pre[6] != 1) { /* version 2/3: 4-byte header length */
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) { cli_err("%s: truncated header", path); goto out; }
        hl |= (size_t)b[0] << 16 | (size_t)b[1] << 24;
    }
    if (hl > 65536) { cli_err("%s: header of %zu bytes", path, hl); goto out; }
    char hdr[65537];
    if (fread(hdr, 1, hl, f) != hl) { cli_err("%s: truncated header", path); goto out; }
    hdr[hl] = '\0';
    if (!strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True")) { cli_err("%s: need little-endian float32 in C order ('<f4')", path); goto out; }
    const char *sh = strstr(hdr, "'shape': (");
    unsigned long long a, b;
    if (!sh || sscanf(sh, "'shape': (%llu, %llu)", &a, &b) != 2 || a == 0 || b == 0 || b > 65536 || a > (1ull << 32)) {
        cli_err("%s: need a 2-D shape (n, dim)", path);
        goto out;
    }
    v = malloc(a * b * sizeof(float));
    if (!v) { cli_err("out of memory"); goto out; }
    if (fread(v, sizeof(float), a * b, f) != a * b) { cli_err("%s: truncated data (%llu x %llu floats expected)", path, a, b); free(v); v = NULL; goto out; }
    *n = (size_t)a;
    *d = (int)b;
out:
    fclose(f);
    return v;
}

/* Embeds every document (with a progress bar) into a malloc'd (n, dim)
 * array; the model's file name into model_name. */
static float *embed_inputs(const char *cmd, const char *model_path, const cli_inputs *in, int batch, int threads,
                           ember_long_mode long_mode, const char *prefix, int *dim, char *model_name, size_t mn)
{
    cli_embedder e;
    if (cli_embedder_open(&e, cmd, model_path, batch, 0, threads, long_mode, prefix) != 0) return NULL;
    float *v = malloc((size_t)in->n * (size_t)e.info.dim * sizeof(float) + 1);
    if (!v) cli_err("out of memory");
    else if (cli_embed_inputs(&e, cmd, "document", in, 0, v, NULL, NULL) != 0) { free(v); v = NULL; }
    *dim = e.info.dim;
    cli_embedder_close(&e);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", model_path);
    snprintf(model_name, mn, "%s", basename(tmp));
    return v;
}

static int index_info(const char *path)
{
    char err[512];
    ember_index *x = ember_index_open(path, err, sizeof err);
    if (!x) { cli_err("%s", err); return 1; }
    ember_index_info in;
    ember_index_get_info(x, &in);
    printf("file            %s\n", path);
    printf("type            %s\n", ember_index_type_name(in.type));
    printf("metric          %s\n", ember_metric_name(in.metric));
    printf("vectors         %s%s, %d dims\n", ember_store_name(in.store), in.rescore ? " + int8 rescore copies" : "", in.dim);
    printf("count           %zu live, %zu deleted\n", in.count, in.deleted);
    if (in.type == EMBER_INDEX_HNSW) printf("hnsw            M %d, ef_construction %d%s\n", in.M, in.ef_construction, in.refine ? ", f32 refine vectors" : "");
    if (in.type == EMBER_INDEX_IVFPQ) printf("ivfpq           nlist %d, %d x %d-bit sub-quantizers%s\n", in.nlist, in.pq_m, in.pq_bits, in.refine ? ", f32 refine vectors" : "");
    printf("bytes/vector    %zu (codes, id, links, refine copies; texts excluded)\n", in.bytes_per_vector);
    printf("metadata        %s\n", ember_index_meta(x));
    size_t dup = ember_index_duplicate_ids(x);
    if (dup)
        fprintf(stderr, "ember: warning: %s: %zu live vectors share their id with a newer one (written before ids were unique); "
                "search shows the newest text for all of them: rebuild the index, or delete and re-add those ids\n", path, dup);
    ember_index_free(x);
    return 0;
}

/* Ids of the n vectors: as the input gave them, else last + 1 + their
 * position (last: the largest id used, -1 for none). */
static int assign_ids(const cli_inputs *in, size_t n, int64_t last, int64_t *ids)
{
    for (size_t i = 0; i < n; i++) {
        if (in->n && in->id_given[i]) { ids[i] = in->id[i]; continue; }
        if (last > EMBER_INDEX_ID_MAX - 1 - (int64_t)i)
            return cli_err("index: numbering document %zu after id %lld passes 2^63-1: give the ids (JSONL \"id\")", i + 1, (long long)last);
        ids[i] = last + 1 + (int64_t)i;
    }
    return 0;
}

typedef struct { int64_t id; size_t at; } id_at;
static int by_id(const void *a, const void *b)
{
    const id_at *x = a, *y = b;
    return x->id != y->id ? (x->id < y->id ? -1 : 1) : (x->at > y->at) - (x->at < y->at);
}

/* What ember_index_add would refuse, refused before anything is embedded
 * and with the input's line: an id twice in the input, or one the index
 * holds. */
static int check_ids(const ember_index *x, const cli_inputs *in, const int64_t *ids, size_t n, int upsert, const char *where,
                     const char *xpath)
{
    id_at *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return cli_err("out of memory");
    for (size_t i = 0; i < n; i++) s[i] = (id_at){ ids[i], i };
    qsort(s, n, sizeof *s, by_id);
    int rc = 0;
    for (size_t i = 1; i < n && !rc; i++)
        if (s[i].id == s[i - 1].id)
            rc = in->n ? cli_err("%s:%ld: id %lld is given again (first on line %ld)", where, in->line[s[i].at], (long long)s[i].id, in->line[s[i - 1].at])
                       : cli_err("id %lld is given twice", (long long)s[i].id);
    free(s);
    for (size_t i = 0; i < n && !rc && x && !upsert; i++)
        if (ember_index_contains(x, ids[i])) {
            if (in->n) rc = cli_err("%s:%ld: id %lld is already in %s (--upsert replaces it)", where, in->line[i], (long long)ids[i], xpath);
            else rc = cli_err("id %lld is already in %s (--upsert replaces it)", (long long)ids[i], xpath);
        }
    return rc;
}

/* Takes the writer lock of path, waiting for it if asked (the library also
 * clears temporaries of writers killed before their rename). */
static int lock_index(ember_index_lock **lk, const char *path, int wait)
{
    char err[512];
    ember_status st = ember_index_lock_acquire(path, 0, lk, err, sizeof err);
    if (st == EMBER_ERR_BUSY && wait) {
        fprintf(stderr, "ember: waiting for the other process writing %s\n", path);
        st = ember_index_lock_acquire(path, 1, lk, err, sizeof err);
    }
    if (st == EMBER_ERR_BUSY) return cli_err("index %s is being written by another process (--wait waits for it)", path);
    if (st != EMBER_OK) return cli_err("%s", err);
    return 0;
}

/* The options, to tell which were given: one that would do nothing is
 * refused (or, where the result is the same, warned about), never ignored. */
enum { O_MODEL, O_INPUT, O_OUTPUT, O_INDEX, O_VECTORS, O_TYPE, O_METRIC, O_STORE, O_IFMT, O_BATCH, O_M, O_EFC,
       O_NLIST, O_PQM, O_PQBITS, O_THREADS, O_NOTEXT, O_RESCORE, O_REFINE, O_UPSERT, O_WAIT, O_LONG, O_PREFIX, O_COUNT };
static const char *const ONAME[O_COUNT] = {"-m", "-i", "-o", "-x", "--vectors", "--type", "--metric", "--store",
    "--input-format", "--batch", "--M", "--ef-construction", "--nlist", "--pq-m", "--pq-bits", "-t", "--no-text",
    "--rescore", "--refine", "--upsert", "--wait", "--long", "--prefix"};

/* The first of opts given: "index <sub>: <option> <why>", exit code 2. */
static int refuse(const char *sub, const unsigned char *given, const int *opts, int n, const char *why)
{
    for (int i = 0; i < n; i++)
        if (given[opts[i]]) { cli_err("index %s: %s %s", sub, ONAME[opts[i]], why); return 2; }
    return 0;
}

/* Library progress drawn as bars on a terminal, one a phase. */
typedef struct { cli_progress bar; char phase[16]; } index_bars;
static void draw_progress(void *user, const char *phase, size_t done, size_t total)
{
    index_bars *b = user;
    int bytes = !strcmp(phase, "write");
    if (strcmp(b->phase, phase)) {
        if (b->phase[0]) cli_progress_end(&b->bar);
        const char *label = !strcmp(phase, "train") ? "k-means" : !strcmp(phase, "encode") ? "PQ codes" :
                            !strcmp(phase, "link") ? "graph" : bytes ? "write MB" : phase;
        cli_progress_start(&b->bar, label, (long)(bytes ? total >> 20 : total));
        snprintf(b->phase, sizeof b->phase, "%s", phase);
    }
    cli_progress_update(&b->bar, (long)(bytes ? done >> 20 : done));
}

int cmd_index(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { fputs(USAGE, argc < 2 ? stderr : stdout); return argc < 2 ? 2 : 0; }
    const char *sub = argv[1];
    if (strcmp(sub, "build") && strcmp(sub, "add") && strcmp(sub, "info")) { cli_err("index: unknown subcommand '%s' (build, add, info)", sub); return 2; }
    const char *model = NULL, *input = NULL, *out = NULL, *xpath = NULL, *npy = NULL, *prefix = NULL;
    const char *type = "hnsw", *metric = "cosine", *store = "f32";
    cli_input_format ifmt = CLI_IN_LINES;
    int batch = 32, threads = 0, M = 16, efc = 200, nlist = 256, pq_m = 0, pq_bits = 8;
    ember_long_mode long_mode = EMBER_LONG_TRUNCATE;
    unsigned char given[O_COUNT] = {0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(USAGE, stdout); return 0; }
        static const int flags[] = {O_NOTEXT, O_RESCORE, O_REFINE, O_UPSERT, O_WAIT};
        int flag = -1;
        for (int f = 0; f < 5; f++)
            if (!strcmp(a, ONAME[flags[f]])) flag = flags[f];
        if (flag >= 0) { given[flag] = 1; continue; }
        if (!v) { cli_err("index: %s needs a value", a); return 2; }
        i++;
        int o = -1;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) { o = O_MODEL; model = v; }
        else if (!strcmp(a, "-i") || !strcmp(a, "--input")) { o = O_INPUT; input = v; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { o = O_OUTPUT; out = v; }
        else if (!strcmp(a, "-x") || !strcmp(a, "--index")) { o = O_INDEX; xpath = v; }
        else if (!strcmp(a, "--vectors")) { o = O_VECTORS; npy = v; }
        else if (!strcmp(a, "--type")) { o = O_TYPE; type = v; }
        else if (!strcmp(a, "--metric")) { o = O_METRIC; metric = v; }
        else if (!strcmp(a, "--store")) { o = O_STORE; store = v; }
        else if (!strcmp(a, "--input-format")) { o = O_IFMT; if (cli_parse_input_format(v, &ifmt)) return 2; }
        else if (!strcmp(a, "--batch")) { o = O_BATCH; if (cli_parse_int(a, v, 1, 4096, &batch)) return 2; }
        else if (!strcmp(a, "--long")) { o = O_LONG; if (cli_parse_long("index", v, &long_mode)) return 2; }
        else if (!strcmp(a, "--prefix")) { o = O_PREFIX; prefix = v; }
        else if (!strcmp(a, "--M")) { o = O_M; if (cli_parse_int(a, v, 2, 128, &M)) return 2; }
        else if (!strcmp(a, "--ef-construction")) { o = O_EFC; if (cli_parse_int(a, v, 1, 100000, &efc)) return 2; }
        else if (!strcmp(a, "--nlist")) { o = O_NLIST; if (cli_parse_int(a, v, 1, 65536, &nlist)) return 2; }
        else if (!strcmp(a, "--pq-m")) { o = O_PQM; if (cli_parse_int(a, v, 1, 65536, &pq_m)) return 2; }
        else if (!strcmp(a, "--pq-bits")) {
            o = O_PQBITS;
            if (cli_parse_int(a, v, 4, 8, &pq_bits)) return 2;
            if (pq_bits != 4 && pq_bits != 8) { cli_err("index: --pq-bits is 8 or 4, not %d", pq_bits); return 2; }
        }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { o = O_THREADS; if (cli_parse_int(a, v, 1, 1024, &threads)) return 2; }
        else { cli_err("index: unknown option '%s' (see ember index --help)", a); return 2; }
        given[o] = 1;
    }
    const int no_text = given[O_NOTEXT], rescore = given[O_RESCORE], refine = given[O_REFINE];
    const int upsert = given[O_UPSERT], wait = given[O_WAIT], metric_given = given[O_METRIC];
    if (!strcmp(sub, "info")) {
        static const int not_info[] = {O_MODEL, O_INPUT, O_OUTPUT, O_VECTORS, O_TYPE, O_METRIC, O_STORE, O_IFMT, O_BATCH, O_M,
                                       O_EFC, O_NLIST, O_PQM, O_PQBITS, O_THREADS, O_NOTEXT, O_RESCORE, O_REFINE, O_UPSERT, O_WAIT,
                                       O_LONG, O_PREFIX};
        if (refuse(sub, given, not_info, (int)(sizeof not_info / sizeof not_info[0]), "does not apply: info reads -x INDEX.emb")) return 2;
        if (!xpath) { cli_err("index info: -x INDEX.emb is required"); return 2; }
        return index_info(xpath);
    }
    if (!strcmp(sub, "add")) {
        static const int fixed[] = {O_TYPE, O_METRIC, O_STORE, O_M, O_EFC, O_NLIST, O_PQM, O_PQBITS, O_RESCORE, O_REFINE};
        if (refuse(sub, given, fixed, (int)(sizeof fixed / sizeof fixed[0]), "is fixed when an index is built: index add keeps the index's own")) return 2;
        static const int out_opt[] = {O_OUTPUT};
        if (refuse(sub, given, out_opt, 1, "does not apply: index add writes -x INDEX.emb in place")) return 2;
    } else {
        static const int x_opt[] = {O_INDEX};
        if (refuse(sub, given, x_opt, 1, "does not apply: index build writes -o INDEX.emb (-x is for add and info)")) return 2;
    }
    /* options that change nothing here: the result is the same, so a warning */
    if (npy && given[O_BATCH]) fprintf(stderr, "ember: warning: --batch sizes embedding batches; with --vectors nothing is embedded\n");
    if (npy && given[O_LONG]) fprintf(stderr, "ember: warning: --long says how long documents are embedded; with --vectors nothing is embedded\n");
    if (npy && prefix) fprintf(stderr, "ember: warning: --prefix goes before each document embedded; with --vectors nothing is embedded\n");
    if (!input && given[O_IFMT]) fprintf(stderr, "ember: warning: --input-format without -i DOCS: there is no input to read\n");
    if (!input && no_text) fprintf(stderr, "ember: warning: --no-text without -i DOCS: there are no texts to store\n");
    if (!strcmp(store, "binary") && !metric_given) metric = "hamming";
    char err[512];
    int th = threads ? threads : (getenv("EMBER_THREADS") ? atoi(getenv("EMBER_THREADS")) : 0);
    if (th < 1) th = 2;
    ember_index *x = NULL;
    ember_index_type t = EMBER_INDEX_HNSW;
    ember_metric mt = EMBER_METRIC_COSINE;
    ember_store vt = EMBER_STORE_F32;
    int build = !strcmp(sub, "build");
    if (build) {
        if (!out) { cli_err("index build: -o INDEX.emb is required"); return 2; }
        if (!model == !npy) { cli_err("index build: give either -m MODEL.gguf (with -i DOCS) or --vectors VECS.npy"); return 2; }
        if (model && !input) { cli_err("index build: -i DOCS is required with -m"); return 2; }
        if (upsert) { cli_err("index build: --upsert replaces documents of an existing index: it belongs to index add"); return 2; }
        /* refused before anything is embedded */
        if (ember_index_parse_names(type, metric, store, &t, &mt, &vt, err, sizeof err) != EMBER_OK) { cli_err("index build: %s", err); return 2; }
        if (refine && !ember_index_refine_applies(t, vt)) {
            cli_err("index build: --refine applies to --type ivfpq, or to --type hnsw with --store int8");
            return 2;
        }
        static const int hnsw_opts[] = {O_M, O_EFC}, ivf_opts[] = {O_NLIST, O_PQM, O_PQBITS}, bin_opts[] = {O_RESCORE};
        if (t != EMBER_INDEX_HNSW && refuse(sub, given, hnsw_opts, 2, "applies to --type hnsw")) return 2;
        if (t != EMBER_INDEX_IVFPQ && refuse(sub, given, ivf_opts, 3, "applies to --type ivfpq")) return 2;
        if (vt != EMBER_STORE_BINARY && refuse(sub, given, bin_opts, 1, "applies to --store binary (int8 copies to rescore its Hamming hits)")) return 2;
    } else {
        if (!xpath || !model == !npy || (model && !input)) {
            cli_err("index add: -x INDEX.emb and either -m MODEL.gguf with -i DOCS, or --vectors VECS.npy, are required");
            return 2;
        }
        out = xpath;
    }
    /* the output is written by rename: an input that is the output would be
     * read while it is replaced (build) or indexed as text (add) */
    const char *same = input && cli_same_file(input, out) ? input : npy && cli_same_file(npy, out) ? npy : NULL;
    if (same) {
        cli_err("index %s: %s is both an input and the index written: choose another %s", sub, same, build ? "-o" : "input");
        return 2;
    }
    ember_index_lock *lk = NULL;
    if (lock_index(&lk, out, wait) != 0) return 1;
    cli_inputs in;
    memset(&in, 0, sizeof in);
    float *vecs = NULL;
    int64_t *ids = NULL;
    size_t n = 0;
    int dim = 0, rc = 1;
    char model_name[256] = "";
    const char *where = !input || !strcmp(input, "-") ? "<stdin>" : input;
    if (!build) {
        x = ember_index_open(xpath, err, sizeof err);
        if (!x) { cli_err("%s", err); goto done; }
    }
    if (input && cli_inputs_read(input, ifmt, &in) != 0) goto done;
    if (npy) {
        vecs = read_npy(npy, &n, &dim);
        if (!vecs) goto done;
        if (input && (size_t)in.n != n) { cli_err("%s has %zu vectors but %s has %d documents", npy, n, input, in.n); goto done; }
        snprintf(model_name, sizeof model_name, "(vectors from %s)", npy);
    } else {
        n = (size_t)in.n;
    }
    ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) { cli_err("out of memory"); goto done; }
    /* documents without an id follow the largest id already used */
    if (assign_ids(&in, n, x ? ember_index_id_max(x) : -1, ids) != 0) goto done;
    if (check_ids(x, &in, ids, n, upsert, where, xpath) != 0) goto done;
    if (!npy) {
        vecs = embed_inputs(build ? "index build" : "index add", model, &in, batch, threads, long_mode, prefix, &dim,
                            model_name, sizeof model_name);
        if (!vecs) goto done;
    }
    if (!x) {
        ember_index_params p = ember_index_default_params();
        p.M = M;
        p.ef_construction = efc;
        p.rescore = rescore;
        p.nlist = nlist;
        p.pq_m = pq_m;
        p.pq_bits = pq_bits;
        p.refine = refine;
        x = ember_index_create(t, mt, vt, dim, &p, err, sizeof err);
        if (!x) { cli_err("index build: %s", err); goto done; }
        char meta[256]; /* what the index keeps: a longer file name is cut */
        snprintf(meta, sizeof meta, "model=%.200s dim=%d", model_name, dim);
        if (ember_index_set_meta(x, meta) != EMBER_OK) { cli_err("index build: %s", ember_index_error(x)); goto done; }
    } else {
        ember_index_info info;
        ember_index_get_info(x, &info);
        if (info.dim != dim) { cli_err("index add: %s holds %d-dimensional vectors but %s gives %d", xpath, info.dim, npy ? npy : model, dim); goto done; }
        if (model && !strstr(ember_index_meta(x), model_name))
            fprintf(stderr, "ember: warning: index was built with %s, adding with %s\n", ember_index_meta(x), model_name);
    }
    index_bars bars;
    memset(&bars, 0, sizeof bars);
    ember_index_set_progress(x, draw_progress, &bars);
    double t0 = cli_now();
    const char *const *texts = no_text || !in.n ? NULL : (const char *const *)in.text;
    ember_status st = upsert ? ember_index_upsert(x, vecs, ids, texts, n, th) : ember_index_add(x, vecs, ids, texts, n, th);
    if (st != EMBER_OK) {
        if (bars.phase[0]) cli_progress_end(&bars.bar);
        cli_err("index %s: %s", sub, ember_index_error(x));
        goto done;
    }
    double t1 = cli_now();
    st = ember_index_save(x, out);
    if (bars.phase[0]) cli_progress_end(&bars.bar);
    if (st != EMBER_OK) { cli_err("%s", ember_index_error(x)); goto done; }
    ember_index_info info;
    ember_index_get_info(x, &info);
    fprintf(stderr, "ember: %s %zu vectors into %s (%s, %s, %s, %d dims; index time %.2f s); %zu live\n",
            build ? "indexed" : "added", n, out, ember_index_type_name(info.type), ember_metric_name(info.metric),
            ember_store_name(info.store), info.dim, t1 - t0, info.count);
    rc = 0;
done:
    free(ids);
    free(vecs);
    cli_inputs_free(&in);
    ember_index_free(x);
    ember_index_lock_release(lk);
    return rc;
}
