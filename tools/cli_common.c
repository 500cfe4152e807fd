/* Shared helpers of the ember subcommands. */
#include "tools/cli_common.h"
#include "tools/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ember: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

void cli_report_batch_failure(const char *cmd, const char *verb, const char *noun, const cli_inputs *in, int i0, int nb,
                              const char *batch_why, cli_try_one try_one, void *user)
{
    char where[300], why[512];
    snprintf(why, sizeof why, "%s", batch_why); /* the retries overwrite the context's message */
    for (int i = i0; i < i0 + nb; i++) {
        const char *one;
        if (try_one(user, i, &one) != 0) {
            cli_err("%s: %s: cannot %s this %s: %s", cmd, cli_input_where(in, i, where, sizeof where), verb, noun, one);
            return;
        }
    }
    if (nb == 1) cli_err("%s: %s: cannot %s this %s: %s", cmd, cli_input_where(in, i0, where, sizeof where), verb, noun, why);
    else cli_err("%s: %s to line %ld: cannot %s these %ss: %s", cmd, cli_input_where(in, i0, where, sizeof where),
                 in->line[i0 + nb - 1], verb, noun, why);
}

int cli_open_model(const char *cmd, const char *path, ember_kind want, int max_batch, int max_tokens,
                   int threads, ember_model **m, ember_ctx **c, ember_model_info *info)
{
    char err[512];
    *c = NULL;
    *m = ember_model_load(path, err, sizeof err);
    if (!*m) return cli_err("%s", err);
    ember_model_get_info(*m, info);
    if (info->kind != want) {
        const char *is = info->kind == EMBER_KIND_RERANKER ? "a cross-encoder; use ember rerank"
                       : info->kind == EMBER_KIND_EMBEDDER ? "an embedding model; use ember embed" : "a vocabulary-only file";
        cli_err("%s: %s is not %s (it is %s)", cmd, path,
                want == EMBER_KIND_EMBEDDER ? "an embedding model" : "a cross-encoder", is);
    } else {
        ember_ctx_params p = ember_ctx_default_params();
        p.max_batch = max_batch;
        p.max_tokens = max_tokens;
        p.n_threads = threads;
        *c = ember_ctx_create(*m, &p, err, sizeof err);
        if (*c) {
            /* the context holds what the model allows: say so when that is not what was asked */
            if (max_tokens && ember_ctx_max_tokens(*c) != max_tokens)
                fprintf(stderr, "ember: warning: --max-length %d %s; using %d\n", max_tokens,
                        max_tokens > info->max_tokens ? "is beyond the model's maximum" : "is below ember's minimum",
                        ember_ctx_max_tokens(*c));
            return 0;
        }
        cli_err("%s", err);
    }
    ember_model_free(*m);
    *m = NULL;
    return -1;
}

int cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cli_parse_int(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    if (!v) return cli_err("%s needs a value", opt);
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *v == '\0' || *end != '\0' || x < lo || x > hi)
        return cli_err("%s: '%s' is not an integer in [%d, %d]", opt, v, lo, hi);
    *out = (int)x;
    return 0;
}

int cli_parse_input_format(const char *s, cli_input_format *fmt)
{
    if (s && strcmp(s, "lines") == 0) { *fmt = CLI_IN_LINES; return 0; }
    if (s && strcmp(s, "jsonl") == 0) { *fmt = CLI_IN_JSONL; return 0; }
    return cli_err("--input-format must be 'lines' or 'jsonl', not '%s'", s ? s : "");
}

static char *dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static int push(cli_inputs *in, char *text, size_t tlen, char *pair, size_t plen, long lineno)
{
    if (in->n == in->cap) {
        int nc = in->cap ? in->cap * 2 : 64;
        char **t = realloc(in->text, (size_t)nc * sizeof *t);
        if (t) in->text = t;
        char **p = realloc(in->pair, (size_t)nc * sizeof *p);
        if (p) in->pair = p;
        size_t *tl = realloc(in->text_len, (size_t)nc * sizeof *tl);
        if (tl) in->text_len = tl;
        size_t *pl = realloc(in->pair_len, (size_t)nc * sizeof *pl);
        if (pl) in->pair_len = pl;
        int64_t *id = realloc(in->id, (size_t)nc * sizeof *id);
        if (id) in->id = id;
        unsigned char *ig = realloc(in->id_given, (size_t)nc);
        if (ig) in->id_given = ig;
        long *ln = realloc(in->line, (size_t)nc * sizeof *ln);
        if (ln) in->line = ln;
        if (!t || !p || !tl || !pl || !id || !ig || !ln) return -1;
        in->cap = nc;
    }
    in->text[in->n] = text;
    in->text_len[in->n] = tlen;
    in->pair[in->n] = pair;
    in->pair_len[in->n] = plen;
    in->id[in->n] = in->n;
    in->id_given[in->n] = 0;
    in->line[in->n] = lineno;
    in->n++;
    return 0;
}

/* One JSONL record: {"text": "...", "text_pair": "..." | null, ...} */
static int parse_jsonl(cli_inputs *in, const char *line, size_t len, long lineno, const char *where)
{
    char why[256];
    json_value *v = json_parse(line, len, why, sizeof why);
    if (!v) return cli_err("%s:%ld: %s", where, lineno, why);
    int rc = -1;
    long long id = 0;
    const json_value *t = json_object_get(v, "text");
    const json_value *p = json_object_get(v, "text_pair");
    const json_value *idv = json_object_get(v, "id");
    if (json_type_of(v) != JSON_OBJECT) cli_err("%s:%ld: expected a JSON object", where, lineno);
    else if (!t) cli_err("%s:%ld: missing field \"text\"", where, lineno);
    else if (json_type_of(t) != JSON_STRING) cli_err("%s:%ld: \"text\" must be a string", where, lineno);
    else if (p && json_type_of(p) != JSON_STRING && json_type_of(p) != JSON_NULL)
        cli_err("%s:%ld: \"text_pair\" must be a string or null", where, lineno);
    else if (idv && (!json_integer(idv, &id) || id < 0))
        cli_err("%s:%ld: \"id\" must be an integer 0 .. 9223372036854775807 (2^63-1, no fraction or exponent)", where, lineno);
    else {
        size_t tl, pl = 0;
        const char *ts = json_string(t, &tl), *ps = NULL;
        if (p && json_type_of(p) == JSON_STRING) ps = json_string(p, &pl);
        char *td = dup_bytes(ts, tl), *pd = ps ? dup_bytes(ps, pl) : NULL;
        if (!td || (ps && !pd) || push(in, td, tl, pd, pl, lineno) != 0) {
            free(td); free(pd);
            cli_err("out of memory reading inputs");
        } else {
            if (idv) { in->id[in->n - 1] = (int64_t)id; in->id_given[in->n - 1] = 1; }
            rc = 0;
        }
    }
    json_free(v);
    return rc;
}

int cli_inputs_read(const char *path, cli_input_format fmt, cli_inputs *in)
{
    memset(in, 0, sizeof *in);
    const char *where = (!path || strcmp(path, "-") == 0) ? "<stdin>" : path;
    snprintf(in->src, sizeof in->src, "%s", where);
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
    if (!f) return cli_err("cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0;
    int rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        if (len && line[len - 1] == '\n') len--;
        if (len && line[len - 1] == '\r') len--;
        if (fmt == CLI_IN_JSONL) {
            size_t i = 0;
            while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
            if (i == len) continue; /* blank lines between records are allowed */
            if (parse_jsonl(in, line, len, lineno, where) != 0) { rc = -1; break; }
        } else {
            char *t = dup_bytes(line, len);
            if (!t || push(in, t, len, NULL, 0, lineno) != 0) { free(t); rc = cli_err("out of memory reading inputs"); break; }
        }
    }
    if (rc == 0 && ferror(f)) rc = cli_err("error reading %s: %s", where, strerror(errno));
    free(line);
    if (f != stdin) fclose(f);
    if (rc != 0) cli_inputs_free(in);
    return rc;
}

const char *cli_input_where(const cli_inputs *in, int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s:%ld", in->src, i >= 0 && i < in->n ? in->line[i] : 0L);
    return buf;
}

void cli_inputs_free(cli_inputs *in)
{
    for (int i = 0; i < in->n; i++) { free(in->text[i]); free(in->pair[i]); }
    free(in->text); free(in->pair); free(in->text_len); free(in->pair_len); free(in->id); free(in->id_given); free(in->line);
    memset(in, 0, sizeof *in);
}

void cli_json_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

/* %.9g round-trips every float; non-finite values are not JSON, so null. */
void cli_json_float(FILE *f, float v)
{
    if (v != v || v > 3.4e38f || v < -3.4e38f) fputs("null", f);
    else fprintf(f, "%.9g", (double)v);
}

void cli_progress_start(cli_progress *p, const char *what, long total)
{
    p->enabled = isatty(2) && total >= 64;
    p->total = total;
    p->t0 = cli_now();
    p->what = what;
}

void cli_progress_update(cli_progress *p, long done)
{
    if (!p->enabled) return;
    double el = cli_now() - p->t0;
    int width = 30, fill = p->total ? (int)(width * done / p->total) : width;
    fprintf(stderr, "\r%s [", p->what);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %ld/%ld  %.1f/s ", done, p->total, el > 0 ? done / el : 0.0);
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->enabled) fputc('\n', stderr);
}

void cli_note_truncated(const char *cmd, const char *noun, int n, int max_tokens)
{
    fprintf(stderr, "ember %s: %d %s%s longer than %d tokens %s cut to %d (the model's limit or --max-length)\n", cmd, n,
            noun, n == 1 ? "" : "s", max_tokens, n == 1 ? "was" : "were", max_tokens);
}

void cli_note_split_pairs(const char *cmd, int n, int max_tokens, int windows)
{
    fprintf(stderr, "ember %s: %d pair%s longer than %d tokens %s split into %d overlapping windows of %s document, "
            "each pair's logit its best window's (--long sliding)\n", cmd, n, n == 1 ? "" : "s", max_tokens,
            n == 1 ? "was" : "were", windows, n == 1 ? "its" : "their");
}
