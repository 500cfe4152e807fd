/* ember index build | add | info: embed documents and store them, with
 * their ids and texts, in an index file. */
#include "ember.h"
#include "index/index.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "sys/sys.h"

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

/* Embeds every input (with a progress bar) into a malloc'd (n, dim) array. */
static float *embed_inputs(const char *model_path, const cli_inputs *in, int batch, int threads, int *dim, char *model_name, size_t mn)
{
    char err[512];
    ember_model *m = ember_model_load(model_path, err, sizeof err);
    if (!m) { cli_err("%s", err); return NULL; }
    ember_model_info info;
    ember_model_get_info(m, &info);
    if (info.kind != EMBER_KIND_EMBEDDER) { cli_err("%s is not an embedding model", model_path); ember_model_free(m); return NULL; }
    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = batch;
    p.n_threads = threads;
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    float *v = c ? malloc((size_t)in->n * info.dim * sizeof(float) + 1) : NULL;
    if (!c || !v) { cli_err("%s", c ? "out of memory" : err); free(v); ember_ctx_free(c); ember_model_free(m); return NULL; }
    cli_progress prog;
    cli_progress_start(&prog, "embed", in->n);
    for (int i0 = 0; i0 < in->n; i0 += batch) {
        int nb = in->n - i0 < batch ? in->n - i0 : batch;
        if (ember_embed(c, (const char *const *)in->text + i0, in->text_len + i0, nb, 0, v + (size_t)i0 * info.dim) != EMBER_OK) {
            cli_progress_end(&prog);
            cli_err("embed: %s (batch at input %d)", ember_ctx_error(c), i0);
            free(v);
            v = NULL;
            break;
        }
        cli_progress_update(&prog, i0 + nb);
    }
    if (v) cli_progress_end(&prog);
    *dim = info.dim;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", model_path);
    snprintf(model_name, mn, "%s", basename(tmp));
    ember_ctx_free(c);
    ember_model_free(m);
    return v;
}

static int index_info(const char *path)
{
    char err[512];
    emb_index *x = idx_open(path, err, sizeof err);
    if (!x) { cli_err("%s", err); return 1; }
    idx_info in;
    idx_get_info(x, &in);
    printf("file            %s\n", path);
    printf("type            %s\n", idx_type_name(in.type));
    printf("metric          %s\n", idx_metric_name(in.metric));
    printf("vectors         %s%s, %d dims\n", idx_vec_name(in.vec), in.rescore ? " + int8 rescore copies" : "", in.dim);
    printf("count           %zu live, %zu deleted\n", in.count, in.deleted);
    if (in.type == IDX_HNSW) printf("hnsw            M %d, ef_construction %d%s\n", in.M, in.ef_construction, in.refine ? ", f32 refine vectors" : "");
    if (in.type == IDX_IVFPQ) printf("ivfpq           nlist %d, %d x %d-bit sub-quantizers%s\n", in.nlist, in.pq_m, in.pq_bits, in.refine ? ", f32 refine vectors" : "");
    printf("bytes/vector    %zu (codes, id, links, refine copies; texts excluded)\n", in.bytes_per_vector);
    printf("metadata        %s\n", idx_meta(x));
    idx_free(x);
    return 0;
}

/* Ids of the n vectors: as the input gave them, else first + their position. */
static int assign_ids(const cli_inputs *in, size_t n, int64_t first, int64_t *ids)
{
    if (first > INT64_MAX - (int64_t)n) return cli_err("index: numbering %zu documents from %lld passes 2^63-1: give their ids (JSONL \"id\")", n, (long long)first);
    for (size_t i = 0; i < n; i++) ids[i] = in->n && in->id_given[i] ? in->id[i] : first + (int64_t)i;
    return 0;
}

typedef struct { int64_t id; size_t at; } id_at;
static int by_id(const void *a, const void *b)
{
    const id_at *x = a, *y = b;
    return x->id != y->id ? (x->id < y->id ? -1 : 1) : (x->at > y->at) - (x->at < y->at);
}

/* What idx_add would refuse, refused before anything is embedded and with
 * the input's line: an id twice in the input, or one the index holds. */
static int check_ids(const emb_index *x, const cli_inputs *in, const int64_t *ids, size_t n, int upsert, const char *where,
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
        if (idx_has_id(x, ids[i])) {
            if (in->n) rc = cli_err("%s:%ld: id %lld is already in %s (--upsert replaces it)", where, in->line[i], (long long)ids[i], xpath);
            else rc = cli_err("id %lld is already in %s (--upsert replaces it)", (long long)ids[i], xpath);
        }
    return rc;
}

/* Takes the writer lock of path (waiting if asked), then clears temporaries
 * of writers killed before their rename. */
static int lock_index(sys_lock *lk, const char *path, int wait)
{
    char err[512];
    int r = sys_lock_acquire(lk, path, 0, err, sizeof err);
    if (r == SYS_LOCK_BUSY && wait) {
        fprintf(stderr, "ember: waiting for the other process writing %s\n", path);
        r = sys_lock_acquire(lk, path, 1, err, sizeof err);
    }
    if (r == SYS_LOCK_BUSY) return cli_err("index %s is being written by another process (--wait waits for it)", path);
    if (r != SYS_LOCK_HELD) return cli_err("%s", err);
    sys_atomic_sweep(path);
    return 0;
}

int cmd_index(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { fputs(USAGE, argc < 2 ? stderr : stdout); return argc < 2 ? 2 : 0; }
    const char *sub = argv[1];
    if (strcmp(sub, "build") && strcmp(sub, "add") && strcmp(sub, "info")) { cli_err("index: unknown subcommand '%s' (build, add, info)", sub); return 2; }
    const char *model = NULL, *input = NULL, *out = NULL, *xpath = NULL, *npy = NULL;
    const char *type = "hnsw", *metric = "cosine", *store = "f32";
    cli_input_format ifmt = CLI_IN_LINES;
    int batch = 32, threads = 0, no_text = 0, rescore = 0, M = 16, efc = 200, metric_given = 0, nlist = 256, pq_m = 0, pq_bits = 8, refine = 0;
    int upsert = 0, wait = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(USAGE, stdout); return 0; }
        else if (!strcmp(a, "--no-text")) { no_text = 1; continue; }
        else if (!strcmp(a, "--rescore")) { rescore = 1; continue; }
        else if (!strcmp(a, "--refine")) { refine = 1; continue; }
        else if (!strcmp(a, "--upsert")) { upsert = 1; continue; }
        else if (!strcmp(a, "--wait")) { wait = 1; continue; }
        if (!v) { cli_err("index: %s needs a value", a); return 2; }
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "-i") || !strcmp(a, "--input")) input = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = v;
        else if (!strcmp(a, "-x") || !strcmp(a, "--index")) xpath = v;
        else if (!strcmp(a, "--vectors")) npy = v;
        else if (!strcmp(a, "--type")) type = v;
        else if (!strcmp(a, "--metric")) { metric = v; metric_given = 1; }
        else if (!strcmp(a, "--store")) store = v;
        else if (!strcmp(a, "--input-format")) { if (cli_parse_input_format(v, &ifmt)) return 2; }
        else if (!strcmp(a, "--batch")) { if (cli_parse_int(a, v, 1, 4096, &batch)) return 2; }
        else if (!strcmp(a, "--M")) { if (cli_parse_int(a, v, 2, 128, &M)) return 2; }
        else if (!strcmp(a, "--ef-construction")) { if (cli_parse_int(a, v, 1, 100000, &efc)) return 2; }
        else if (!strcmp(a, "--nlist")) { if (cli_parse_int(a, v, 1, 65536, &nlist)) return 2; }
        else if (!strcmp(a, "--pq-m")) { if (cli_parse_int(a, v, 1, 65536, &pq_m)) return 2; }
        else if (!strcmp(a, "--pq-bits")) {
            if (cli_parse_int(a, v, 4, 8, &pq_bits)) return 2;
            if (pq_bits != 4 && pq_bits != 8) { cli_err("index: --pq-bits is 8 or 4, not %d", pq_bits); return 2; }
        }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (cli_parse_int(a, v, 1, 1024, &threads)) return 2; }
        else { cli_err("index: unknown option '%s' (see ember index --help)", a); return 2; }
    }
    if (!strcmp(sub, "info")) {
        if (!xpath) { cli_err("index info: -x INDEX.emb is required"); return 2; }
        return index_info(xpath);
    }
    if (!strcmp(store, "binary") && !metric_given) metric = "hamming";
    char err[512];
    int th = threads ? threads : (getenv("EMBER_THREADS") ? atoi(getenv("EMBER_THREADS")) : 0);
    if (th < 1) th = 2;
    emb_index *x = NULL;
    idx_type t = IDX_HNSW; idx_metric mt = IDX_COSINE; idx_vec vt = IDX_F32;
    int build = !strcmp(sub, "build");
    if (build) {
        if (!out) { cli_err("index build: -o INDEX.emb is required"); return 2; }
        if (!model == !npy) { cli_err("index build: give either -m MODEL.gguf (with -i DOCS) or --vectors VECS.npy"); return 2; }
        if (model && !input) { cli_err("index build: -i DOCS is required with -m"); return 2; }
        if (upsert) { cli_err("index build: --upsert replaces documents of an existing index: it belongs to index add"); return 2; }
        /* refused before anything is embedded */
        if (idx_parse_names(type, metric, store, &t, &mt, &vt, err, sizeof err) != 0) { cli_err("index build: %s", err); return 2; }
        if (refine && !idx_refine_applies(t, vt)) {
            cli_err("index build: --refine applies to --type ivfpq, or to --type hnsw with --store int8");
            return 2;
        }
    } else {
        if (!xpath || !model == !npy || (model && !input)) {
            cli_err("index add: -x INDEX.emb and either -m MODEL.gguf with -i DOCS, or --vectors VECS.npy, are required");
            return 2;
        }
        out = xpath;
    }
    /* the output is written by rename: an input that is the output would be
     * read while it is replaced (build) or indexed as text (add) */
    const char *same = input && sys_same_file(input, out) ? input : npy && sys_same_file(npy, out) ? npy : NULL;
    if (same) {
        cli_err("index %s: %s is both an input and the index written: choose another %s", sub, same, build ? "-o" : "input");
        return 2;
    }
    sys_lock lk = { -1 };
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
        x = idx_open(xpath, err, sizeof err);
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
    if (assign_ids(&in, n, x ? idx_id_max(x) + 1 : 0, ids) != 0) goto done;
    if (check_ids(x, &in, ids, n, upsert, where, xpath) != 0) goto done;
    if (!npy) {
        vecs = embed_inputs(model, &in, batch, threads, &dim, model_name, sizeof model_name);
        if (!vecs) goto done;
    }
    if (!x) {
        idx_params p = idx_default_params();
        p.M = M;
        p.ef_construction = efc;
        p.rescore = rescore;
        p.nlist = nlist;
        p.pq_m = pq_m;
        p.pq_bits = pq_bits;
        p.refine = refine;
        x = idx_create(t, mt, vt, dim, &p, err, sizeof err);
        if (!x) { cli_err("index build: %s", err); goto done; }
        char meta[400];
        snprintf(meta, sizeof meta, "model=%s dim=%d", model_name, dim);
        idx_set_meta(x, meta);
    } else {
        idx_info info;
        idx_get_info(x, &info);
        if (info.dim != dim) { cli_err("index add: %s holds %d-dimensional vectors but %s gives %d", xpath, info.dim, npy ? npy : model, dim); goto done; }
        if (model && !strstr(idx_meta(x), model_name)) fprintf(stderr, "ember: warning: index was built with %s, adding with %s\n", idx_meta(x), model_name);
    }
    double t0 = cli_now();
    if (idx_add_ex(x, vecs, ids, no_text || !in.n ? NULL : (const char *const *)in.text, n, upsert, th, err, sizeof err) != 0) {
        cli_err("index %s: %s", sub, err);
        goto done;
    }
    double t1 = cli_now();
    if (idx_save(x, out, err, sizeof err) != 0) { cli_err("%s", err); goto done; }
    idx_info info;
    idx_get_info(x, &info);
    fprintf(stderr, "ember: %s %zu vectors into %s (%s, %s, %s, %d dims; index time %.2f s); %zu live\n",
            build ? "indexed" : "added", n, out, idx_type_name(info.type), idx_metric_name(info.metric),
            idx_vec_name(info.vec), info.dim, t1 - t0, info.count);
    rc = 0;
done:
    free(ids);
    free(vecs);
    cli_inputs_free(&in);
    idx_free(x);
    sys_lock_release(&lk);
    return rc;
}
