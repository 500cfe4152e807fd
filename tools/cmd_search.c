/* ember search: embed a query, search an index, optionally rerank the top
 * candidates with a cross-encoder against their stored text (two-stage
 * retrieval, as a RAG pipeline runs it). */
#include "ember.h"
#include "tools/cli_common.h"
#include "tools/cli_embed.h"
#include "tools/commands.h"

#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: ember search -x INDEX.emb -m MODEL.gguf -q QUERY [options]\n"
    "\n"
    "Prints the best hits as JSONL {\"id\": .., \"score\": .., \"text\": ..}, best first.\n"
    "Scores: cosine/ip similarity (higher is better), l2 squared distance or\n"
    "hamming bits (lower is better); with --rescore-able binary indexes, the\n"
    "rescored similarity.  The query is written into the model's query prompt when it\n"
    "has one (Qwen3-Embedding's instruction; multilingual-e5's \"query: \").\n"
    "\n"
    "  -k N                    hits to print (default 10)\n"
    "  --ef N                  HNSW search beam (default max(64, k))\n"
    "  --ef-upper N            HNSW beam on layer 1 that seeds layer 0 (default 8;\n"
    "                          1: the greedy descent of the paper and hnswlib)\n"
    "  --rescore-mult N        binary + rescore: candidates per hit (default 4)\n"
    "  --nprobe N              IVF-PQ lists to visit (default 16)\n"
    "  --refine-factor N       IVF-PQ + refine: candidates per hit (default 4)\n"
    "  --rerank CROSS.gguf     rerank with a cross-encoder: takes the index's top\n"
    "                          --candidates K (default 50, or N if more) and prints the\n"
    "                          best --top N (default k) with \"rerank_logit\" and\n"
    "                          \"rerank_score\"; N more than K is refused\n"
    "  --long MODE             with --rerank, a hit whose text is too long to go with the\n"
    "                          query: truncate (default) or sliding (its text in\n"
    "                          overlapping windows, its logit the best window's; see\n"
    "                          ember rerank --help)\n"
    "  --instruct TASK         the task written into the query prompt and an instruction-\n"
    "                          following reranker's (default: each model's own)\n"
    "  --prefix TEXT           put TEXT before the query instead of the model's query\n"
    "                          prompt (\"\": none)\n"
    "  -t, --threads N         threads\n"
    "\n"
    "An option the index does not use (--ef on a flat index, --nprobe on HNSW, ...)\n"
    "is reported on stderr; --top, --candidates and --long without --rerank are\n"
    "refused.\n";

typedef struct { int64_t id; float score, logit; const char *text; size_t len; } hit;

static int by_logit(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return 0;
}

/* One line for each search option this index does not use (the hits are
 * still the k asked for). */
static void warn_unused(const char *xpath, const ember_index_info *xi, int ef, int ef_upper, int rmult, int nprobe, int rfac, int want)
{
    const char *what = ember_index_type_name(xi->type);
    if (xi->type != EMBER_INDEX_HNSW && (ef || ef_upper))
        fprintf(stderr, "ember: warning: %s applies to HNSW indexes; %s is %s: ignored\n", ef ? "--ef" : "--ef-upper", xpath, what);
    int kk = xi->store == EMBER_STORE_BINARY && xi->rescore ? want * (rmult ? rmult : 4) : want;
    if (xi->type == EMBER_INDEX_HNSW && ef && ef < kk)
        fprintf(stderr, "ember: warning: --ef %d is less than the %d candidates searched: the beam is %d\n", ef, kk, kk);
    if (xi->type != EMBER_INDEX_IVFPQ && nprobe)
        fprintf(stderr, "ember: warning: --nprobe applies to IVF-PQ indexes; %s is %s: ignored\n", xpath, what);
    if (xi->type == EMBER_INDEX_IVFPQ && nprobe > xi->nlist)
        fprintf(stderr, "ember: warning: --nprobe %d: %s has %d lists, all are visited\n", nprobe, xpath, xi->nlist);
    if (rfac && !(xi->type == EMBER_INDEX_IVFPQ && xi->refine))
        fprintf(stderr, "ember: warning: --refine-factor applies to IVF-PQ indexes built with --refine; %s is not: ignored\n", xpath);
    if (rmult && !(xi->store == EMBER_STORE_BINARY && xi->rescore))
        fprintf(stderr, "ember: warning: --rescore-mult applies to binary indexes built with --rescore; %s is not: ignored\n", xpath);
}

int cmd_search(int argc, char **argv)
{
    const char *xpath = NULL, *model = NULL, *query = NULL, *cross = NULL, *task = NULL, *prefix = NULL;
    int k = 10, ef = 0, ef_upper = 0, cand = 50, top = 0, threads = 0, rmult = 4, nprobe = 16, rfac = 4;
    int cand_given = 0, rmult_given = 0, nprobe_given = 0, rfac_given = 0, long_given = 0; /* ef, ef_upper, top: 0 when not given */
    ember_long_mode long_mode = EMBER_LONG_TRUNCATE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(USAGE, stdout); return 0; }
        if (!v) { cli_err("search: %s needs a value", a); return 2; }
        i++;
        if (!strcmp(a, "-x") || !strcmp(a, "--index")) xpath = v;
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "-q") || !strcmp(a, "--query")) query = v;
        else if (!strcmp(a, "--rerank")) cross = v;
        else if (!strcmp(a, "--instruct")) task = v;
        else if (!strcmp(a, "--prefix")) prefix = v;
        else if (!strcmp(a, "--long")) { long_given = 1; if (cli_parse_long("search", v, &long_mode)) return 2; }
        else if (!strcmp(a, "-k")) { if (cli_parse_int(a, v, 1, 100000, &k)) return 2; }
        else if (!strcmp(a, "--ef")) { if (cli_parse_int(a, v, 1, 100000, &ef)) return 2; }
        else if (!strcmp(a, "--ef-upper")) { if (cli_parse_int(a, v, 1, 100000, &ef_upper)) return 2; }
        else if (!strcmp(a, "--candidates")) { cand_given = 1; if (cli_parse_int(a, v, 1, 100000, &cand)) return 2; }
        else if (!strcmp(a, "--top")) { if (cli_parse_int(a, v, 1, 100000, &top)) return 2; }
        else if (!strcmp(a, "--rescore-mult")) { rmult_given = 1; if (cli_parse_int(a, v, 1, 1000, &rmult)) return 2; }
        else if (!strcmp(a, "--nprobe")) { nprobe_given = 1; if (cli_parse_int(a, v, 1, 65536, &nprobe)) return 2; }
        else if (!strcmp(a, "--refine-factor")) { rfac_given = 1; if (cli_parse_int(a, v, 1, 1000, &rfac)) return 2; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (cli_parse_int(a, v, 1, 1024, &threads)) return 2; }
        else { cli_err("search: unknown option '%s' (see ember search --help)", a); return 2; }
    }
    if (!xpath || !model || !query) { cli_err("search: -x INDEX.emb, -m MODEL.gguf and -q QUERY are required"); return 2; }
    /* options that would do nothing: refused when the output would not be
     * what was asked, warned about (after the index is open) when it is */
    if (!cross && (top || cand_given)) {
        cli_err("search: %s belongs to --rerank (without it, -k N says how many hits)", top ? "--top" : "--candidates");
        return 2;
    }
    if (!cross && long_given) {
        cli_err("search: --long belongs to --rerank: it says how the reranker reads long hits");
        return 2;
    }
    /* hits searched: with --rerank, --candidates as given, or by default
     * 50 or as many as are printed, whichever is more */
    const int shown = top ? top : k;
    const int want = !cross ? k : cand_given ? cand : cand > shown ? cand : shown;
    if (cross && shown > want) {
        cli_err("search: %s %d is more than the %d candidates reranked (--candidates)", top ? "--top" : "-k", shown, want);
        return 2;
    }
    char err[512];
    int rc = 1;
    ember_index *x = ember_index_open(xpath, err, sizeof err);
    if (!x) { cli_err("%s", err); return 1; }
    cli_embedder e;
    ember_model *cm = NULL;
    ember_ctx *cc = NULL;
    hit *hits = NULL;
    int64_t *ids = NULL;
    float *scores = NULL, *qv = NULL, *logits = NULL;
    const char **docs = NULL;
    size_t *dlens = NULL;
    if (cli_embedder_open(&e, "search", model, 1, 0, threads, EMBER_LONG_TRUNCATE, prefix) != 0) goto done_index;
    ember_index_info xi;
    ember_index_get_info(x, &xi);
    warn_unused(xpath, &xi, ef, ef_upper, rmult_given ? rmult : 0, nprobe_given ? nprobe : 0, rfac_given, want);
    if (e.info.dim != xi.dim) {
        cli_err("search: %s holds %d-dimensional vectors (%s) but %s gives %d: use the model the index was built with",
                xpath, xi.dim, ember_index_meta(x), model, e.info.dim);
        goto done;
    }
    qv = malloc((size_t)e.info.dim * sizeof(float));
    if (!qv) { cli_err("out of memory"); goto done; }
    if ((task && ember_ctx_set_instruction(e.c, task) != EMBER_OK) || ember_embed(e.c, &query, NULL, 1, EMBER_EMBED_QUERY, qv) != EMBER_OK) {
        cli_err("search: %s", ember_ctx_error(e.c));
        goto done;
    }
    ids = malloc((size_t)want * sizeof *ids);
    scores = malloc((size_t)want * sizeof *scores);
    hits = calloc((size_t)want, sizeof *hits);
    if (!ids || !scores || !hits) { cli_err("out of memory"); goto done; }
    ember_search_params sp = ember_search_default_params();
    sp.ef_search = ef;
    sp.ef_upper = ef_upper;
    sp.rescore_mult = rmult;
    sp.nprobe = nprobe;
    sp.refine_factor = rfac;
    if (ember_index_search(x, qv, 1, want, &sp, ids, scores, 1, err, sizeof err) != EMBER_OK) { cli_err("search: %s", err); goto done; }
    int nh = 0;
    for (int i = 0; i < want && ids[i] >= 0; i++) {
        hits[nh].id = ids[i];
        hits[nh].score = scores[i];
        hits[nh].text = ember_index_text(x, ids[i], &hits[nh].len);
        nh++;
    }
    for (int i = 0; i < nh; i++)
        for (int j = 0; j < i; j++)
            if (hits[i].id == hits[j].id) {
                fprintf(stderr, "ember: warning: id %lld is held by more than one vector of %s (written before ids were unique): "
                        "its text is the newest one's; ember index info counts them\n", (long long)hits[i].id, xpath);
                i = nh;
                break;
            }
    int show = nh < k ? nh : k;
    if (cross) {
        ember_model_info ci;
        if (cli_open_model("search --rerank", cross, EMBER_KIND_RERANKER, ember_ctx_default_params().max_batch, 0, threads, &cm, &cc, &ci) != 0)
            goto done;
        docs = malloc((size_t)(nh ? nh : 1) * sizeof *docs);
        dlens = malloc((size_t)(nh ? nh : 1) * sizeof *dlens);
        logits = malloc((size_t)(nh ? nh : 1) * sizeof *logits);
        if (!docs || !dlens || !logits) { cli_err("out of memory"); goto done; }
        for (int i = 0; i < nh; i++) {
            if (!hits[i].text) { cli_err("search: hit %lld has no stored text to rerank (index built with --no-text?)", (long long)hits[i].id); goto done; }
            docs[i] = hits[i].text;
            dlens[i] = hits[i].len;
        }
        if (ember_ctx_set_long_mode(cc, long_mode, -1) != EMBER_OK) {
            cli_err("search: --long: %s", ember_ctx_error(cc));
            goto done;
        }
        if ((task && ember_ctx_set_instruction(cc, task) != EMBER_OK) || ember_rerank(cc, query, strlen(query), docs, dlens, nh, logits) != EMBER_OK) {
            cli_err("rerank: %s", ember_ctx_error(cc));
            goto done;
        }
        if (ember_ctx_truncated(cc)) cli_note_truncated("search --rerank", "pair", ember_ctx_truncated(cc), ember_ctx_max_tokens(cc));
        if (ember_ctx_split(cc)) cli_note_split_pairs("search --rerank", ember_ctx_split(cc), ember_ctx_max_tokens(cc), ember_ctx_windows(cc));
        for (int i = 0; i < nh; i++) hits[i].logit = logits[i];
        qsort(hits, (size_t)nh, sizeof *hits, by_logit);
        show = nh < shown ? nh : shown;
    }
    for (int i = 0; i < show; i++) {
        printf("{\"id\": %lld, \"score\": ", (long long)hits[i].id);
        cli_json_float(stdout, hits[i].score);
        if (cross) {
            fputs(", \"rerank_logit\": ", stdout);
            cli_json_float(stdout, hits[i].logit);
            fputs(", \"rerank_score\": ", stdout);
            cli_json_float(stdout, ember_sigmoid(hits[i].logit));
        }
        fputs(", \"text\": ", stdout);
        if (hits[i].text) cli_json_string(stdout, hits[i].text, hits[i].len);
        else fputs("null", stdout);
        fputs("}\n", stdout);
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    free(hits); free(ids); free(scores); free(qv); free(logits); free(docs); free(dlens);
    ember_ctx_free(cc);
    ember_model_free(cm);
    cli_embedder_close(&e);
done_index:
    ember_index_free(x);
    return rc;
}
