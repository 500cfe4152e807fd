/* ember rerank: score (query, document) pairs with a cross-encoder. */
#include "ember.h"
#include "tools/cli_common.h"
#include "tools/cli_embed.h"
#include "tools/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: ember rerank -m CROSS.gguf -q QUERY [-i FILE|-] [options]\n"
    "\n"
    "Scores the query against one document per input line (or per JSONL record\n"
    "with a \"text\" field).  Writes {\"index\": i, \"logit\": x, \"score\": sigmoid(x)}\n"
    "per document, in input order, or the best N by score with --top N.  For\n"
    "Qwen3-Reranker, logit = logit(yes) - logit(no) and --max-length counts its whole\n"
    "prompt (only the query and document are cut to fit).\n"
    "\n"
    "  -m, --model FILE        cross-encoder model (GGUF, from `ember convert`)\n"
    "  -q, --query TEXT        the query\n"
    "  -i, --input FILE        documents, '-' for stdin (default)\n"
    "      --input-format F    lines (default) | jsonl\n"
    "      --top N             print only the N best, sorted by score\n"
    "      --instruct TASK     the task of an instruction-following reranker (Qwen3-Reranker:\n"
    "                          \"<Instruct>: TASK\"; default: the one stored in the model)\n"
    "      --batch N           pairs per forward pass (default 32)\n"
    "      --max-length N      truncate pairs to N tokens (default: the model's)\n"
    "      --long MODE         a pair longer than that: truncate (default; cut as\n"
    "                          HuggingFace cuts it: longest_first, the query whole up\n"
    "                          to half the length; Qwen3-Reranker's prompt from the\n"
    "                          document's end) or sliding (the document in overlapping\n"
    "                          windows, a quarter of each shared with the next, each\n"
    "                          scored with the query as the cut pair keeps it; the\n"
    "                          pair's logit is its best window's)\n"
    "  -t, --threads N         threads (default: EMBER_THREADS or all cores)\n"
    "  -h, --help              this text\n";

typedef struct { int index; float logit; } scored;

static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->index - y->index; /* stable: ties keep input order */
}

/* One document scored alone, to name the one a batch failed on. */
typedef struct { ember_ctx *c; const char *query; const cli_inputs *in; } retry;
static int score_one(void *user, int i, const char **why)
{
    retry *r = user;
    float logit;
    if (ember_rerank(r->c, r->query, strlen(r->query), (const char *const *)r->in->text + i, r->in->text_len + i, 1, &logit) == EMBER_OK)
        return 0;
    *why = ember_ctx_error(r->c);
    return -1;
}

int cmd_rerank(int argc, char **argv)
{
    const char *model = NULL, *input = "-", *query = NULL, *task = NULL;
    cli_input_format ifmt = CLI_IN_LINES;
    int top = 0, batch = 32, threads = 0, max_len = 0;
    ember_long_mode long_mode = EMBER_LONG_TRUNCATE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(USAGE, stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!v) goto missing; model = v; i++; }
        else if (!strcmp(a, "-q") || !strcmp(a, "--query")) { if (!v) goto missing; query = v; i++; }
        else if (!strcmp(a, "-i") || !strcmp(a, "--input")) { if (!v) goto missing; input = v; i++; }
        else if (!strcmp(a, "--input-format")) { if (cli_parse_input_format(v, &ifmt)) return 2; i++; }
        else if (!strcmp(a, "--top")) { if (cli_parse_int(a, v, 1, 1 << 30, &top)) return 2; i++; }
        else if (!strcmp(a, "--instruct")) { if (!v) goto missing; task = v; i++; }
        else if (!strcmp(a, "--batch")) { if (cli_parse_int(a, v, 1, 4096, &batch)) return 2; i++; }
        else if (!strcmp(a, "--max-length")) { if (cli_parse_int(a, v, 1, 1 << 20, &max_len)) return 2; i++; }
        else if (!strcmp(a, "--long")) { if (cli_parse_long("rerank", v, &long_mode)) return 2; i++; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (cli_parse_int(a, v, 1, 1024, &threads)) return 2; i++; }
        else { cli_err("rerank: unknown option '%s' (see ember rerank --help)", a); return 2; }
        continue;
    missing:
        cli_err("rerank: %s needs a value", a);
        return 2;
    }
    if (!model || !query) { cli_err("rerank: -m MODEL.gguf and -q QUERY are required (see ember rerank --help)"); return 2; }

    int rc = 1;
    ember_model *m;
    ember_ctx *c;
    ember_model_info info;
    if (cli_open_model("rerank", model, EMBER_KIND_RERANKER, batch, max_len, threads, &m, &c, &info) != 0) return 1;
    cli_inputs in;
    scored *res = NULL;
    const char *bad = task && ember_ctx_set_instruction(c, task) != EMBER_OK ? "--instruct"
                    : ember_ctx_set_long_mode(c, long_mode, -1) != EMBER_OK ? "--long" : NULL;
    if (bad) {
        cli_err("rerank: %s: %s", bad, ember_ctx_error(c));
        ember_ctx_free(c);
        ember_model_free(m);
        return 1;
    }
    float *logits = NULL;
    if (cli_inputs_read(input, ifmt, &in) != 0) goto done_ctx;
    res = malloc(((size_t)in.n + 1) * sizeof *res);
    logits = malloc(((size_t)batch) * sizeof *logits);
    if (!res || !logits) { cli_err("out of memory"); goto done_in; }

    cli_progress prog;
    int cut = 0, split = 0, windows = 0;
    cli_progress_start(&prog, "rerank", in.n);
    for (int i0 = 0; i0 < in.n; i0 += batch) {
        int nb = in.n - i0 < batch ? in.n - i0 : batch;
        if (ember_rerank(c, query, strlen(query), (const char *const *)in.text + i0, in.text_len + i0, nb, logits) != EMBER_OK) {
            cli_progress_end(&prog);
            retry r = { c, query, &in };
            cli_report_batch_failure("rerank", "score", "document", &in, i0, nb, ember_ctx_error(c), score_one, &r);
            goto done_in;
        }
        cut += ember_ctx_truncated(c);
        split += ember_ctx_split(c);
        windows += ember_ctx_windows(c);
        for (int j = 0; j < nb; j++) { res[i0 + j].index = i0 + j; res[i0 + j].logit = logits[j]; }
        cli_progress_update(&prog, i0 + nb);
    }
    cli_progress_end(&prog);
    if (cut) cli_note_truncated("rerank", "pair", cut, ember_ctx_max_tokens(c));
    if (split) cli_note_split_pairs("rerank", split, ember_ctx_max_tokens(c), windows);
    int shown = in.n;
    if (top) {
        qsort(res, (size_t)in.n, sizeof *res, by_score_desc);
        if (top < shown) shown = top;
    }
    for (int i = 0; i < shown; i++) {
        printf("{\"index\": %d, \"logit\": ", res[i].index);
        cli_json_float(stdout, res[i].logit);
        fputs(", \"score\": ", stdout);
        cli_json_float(stdout, ember_sigmoid(res[i].logit));
        fputs("}\n", stdout);
    }
    if (fflush(stdout) != 0) { cli_err("rerank: error writing output"); goto done_in; }
    rc = 0;
done_in:
    free(res); free(logits);
    cli_inputs_free(&in);
done_ctx:
    ember_ctx_free(c);
    ember_model_free(m);
    return rc;
}
