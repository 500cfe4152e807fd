/* ember tokenize: ids and type ids exactly as the model's HF tokenizer gives. */
#include "ember.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: ember tokenize -m MODEL.gguf [-i FILE|-] [options]\n"
    "\n"
    "Prints {\"index\": i, \"ids\": [...], \"type_ids\": [...]} per input: one text per\n"
    "line, or JSONL records {\"text\": ..., \"text_pair\": ...} (pair optional; an\n"
    "empty string is a real, empty second text).  Works with vocabulary-only files.\n"
    "\n"
    "  -m, --model FILE        model or vocabulary GGUF\n"
    "  -i, --input FILE        input file, '-' for stdin (default)\n"
    "      --input-format F    lines (default) | jsonl\n"
    "      --max-length N      longest_first truncation to N tokens, specials included\n"
    "                          (default: none)\n"
    "      --no-special        no [CLS]/[SEP] (no post-processor)\n"
    "  -h, --help              this text\n";

int cmd_tokenize(int argc, char **argv)
{
    const char *model = NULL, *input = "-";
    cli_input_format ifmt = CLI_IN_LINES;
    int max_len = 0, special = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(USAGE, stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!v) goto missing; model = v; i++; }
        else if (!strcmp(a, "-i") || !strcmp(a, "--input")) { if (!v) goto missing; input = v; i++; }
        else if (!strcmp(a, "--input-format")) { if (cli_parse_input_format(v, &ifmt)) return 2; i++; }
        else if (!strcmp(a, "--max-length")) { if (cli_parse_int(a, v, 1, 1 << 24, &max_len)) return 2; i++; }
        else if (!strcmp(a, "--no-special")) special = 0;
        else { cli_err("tokenize: unknown option '%s' (see ember tokenize --help)", a); return 2; }
        continue;
    missing:
        cli_err("tokenize: %s needs a value", a);
        return 2;
    }
    if (!model) { cli_err("tokenize: -m MODEL.gguf is required (see ember tokenize --help)"); return 2; }
    char err[512];
    int rc = 1;
    ember_model *m = ember_model_load(model, err, sizeof err);
    if (!m) { cli_err("%s", err); return 1; }
    ember_ctx_params p = ember_ctx_default_params();
    p.max_batch = 1;
    p.n_threads = 1;
    ember_ctx *c = ember_ctx_create(m, &p, err, sizeof err);
    cli_inputs in;
    int32_t *ids = NULL, *types = NULL;
    if (!c) { cli_err("%s", err); ember_model_free(m); return 1; }
    if (cli_inputs_read(input, ifmt, &in) != 0) goto done_ctx;
    for (int i = 0; i < in.n; i++) {
        /* first guess: every byte a token, and NFC (a BPE tokenizer's)
         * making the text up to three times as long, plus the template's
         * specials; a Unigram charsmap can expand further, so a buffer
         * found too small is doubled */
        size_t need = 3 * (in.text_len[i] + (in.pair[i] ? in.pair_len[i] : 0)) + 16;
        if (max_len && (size_t)max_len < need) need = (size_t)max_len;
        char where[300];
        int n;
        ember_status st;
        for (;;) {
            if (need > (1u << 30)) { cli_err("tokenize: %s: this text is too long", cli_input_where(&in, i, where, sizeof where)); goto done_in; }
            int32_t *ni = realloc(ids, need * sizeof *ids), *nt;
            if (ni) ids = ni;
            nt = realloc(types, need * sizeof *types);
            if (nt) types = nt;
            if (!ni || !nt) { cli_err("out of memory"); goto done_in; }
            st = ember_tokenize(c, in.text[i], in.text_len[i], in.pair[i], in.pair_len[i], special, max_len, ids, types,
                                (int)need, &n);
            if (st != EMBER_ERR_LIMIT || (max_len && need >= (size_t)max_len)) break;
            need *= 2;
            if (max_len && need > (size_t)max_len) need = (size_t)max_len;
        }
        if (st != EMBER_OK) {
            cli_err("tokenize: %s: %s", cli_input_where(&in, i, where, sizeof where), ember_ctx_error(c));
            goto done_in;
        }
        printf("{\"index\": %d, \"ids\": [", i);
        for (int k = 0; k < n; k++) printf(k ? ", %d" : "%d", ids[k]);
        fputs("], \"type_ids\": [", stdout);
        for (int k = 0; k < n; k++) printf(k ? ", %d" : "%d", types[k]);
        fputs("]}\n", stdout);
    }
    if (fflush(stdout) != 0) { cli_err("tokenize: error writing output"); goto done_in; }
    rc = 0;
done_in:
    free(ids); free(types);
    cli_inputs_free(&in);
done_ctx:
    ember_ctx_free(c);
    ember_model_free(m);
    return rc;
}
