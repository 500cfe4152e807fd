/* Opening an embedding model and embedding a run's inputs (cli_embed.h). */
#include "tools/cli_embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_embedder_open(cli_embedder *e, const char *cmd, const char *path, int batch, int max_len, int threads,
                      ember_long_mode long_mode, const char *prefix)
{
    memset(e, 0, sizeof *e);
    if (cli_open_model(cmd, path, EMBER_KIND_EMBEDDER, batch, max_len, threads, &e->m, &e->c, &e->info) != 0) return -1;
    e->batch = batch;
    if (ember_ctx_set_long_mode(e->c, long_mode, -1) != EMBER_OK) {
        cli_err("%s: --long: %s", cmd, ember_ctx_error(e->c));
        cli_embedder_close(e);
        return -1;
    }
    if (prefix && ember_ctx_set_prefix(e->c, prefix) != EMBER_OK) {
        cli_err("%s: --prefix: %s", cmd, ember_ctx_error(e->c));
        cli_embedder_close(e);
        return -1;
    }
    return 0;
}

int cli_parse_long(const char *cmd, const char *v, ember_long_mode *mode)
{
    if (v && !strcmp(v, "truncate")) *mode = EMBER_LONG_TRUNCATE;
    else if (v && !strcmp(v, "sliding")) *mode = EMBER_LONG_SLIDING;
    else if (!v) return cli_err("%s: --long needs a value: truncate or sliding", cmd);
    else return cli_err("%s: --long is truncate or sliding, not '%s'", cmd, v);
    return 0;
}

void cli_embedder_close(cli_embedder *e)
{
    ember_ctx_free(e->c);
    ember_model_free(e->m);
    memset(e, 0, sizeof *e);
}

typedef struct { cli_embedder *e; const cli_inputs *in; int flags; float *row; } retry;

static int embed_one(void *user, int i, const char **why)
{
    retry *r = user;
    if (ember_embed(r->e->c, (const char *const *)r->in->text + i, r->in->text_len + i, 1, r->flags, r->row) == EMBER_OK) return 0;
    *why = ember_ctx_error(r->e->c);
    return -1;
}

int cli_embed_inputs(cli_embedder *e, const char *cmd, const char *noun, const cli_inputs *in, int flags, float *into,
                     cli_embed_sink sink, void *user)
{
    const size_t dim = (size_t)e->info.dim;
    float *buf = into ? NULL : malloc((size_t)e->batch * dim * sizeof(float));
    if (!into && !buf) return cli_err("out of memory");
    cli_progress prog;
    cli_progress_start(&prog, "embed", in->n);
    int rc = 0, cut = 0, split = 0, windows = 0;
    for (int i0 = 0; i0 < in->n && rc == 0; i0 += e->batch) {
        int nb = in->n - i0 < e->batch ? in->n - i0 : e->batch;
        float *rows = into ? into + (size_t)i0 * dim : buf;
        if (ember_embed(e->c, (const char *const *)in->text + i0, in->text_len + i0, nb, flags, rows) != EMBER_OK) {
            cli_progress_end(&prog);
            retry r = { e, in, flags, rows };
            cli_report_batch_failure(cmd, "embed", noun, in, i0, nb, ember_ctx_error(e->c), embed_one, &r);
            rc = -1;
            break;
        }
        cut += ember_ctx_truncated(e->c);
        split += ember_ctx_split(e->c);
        windows += ember_ctx_windows(e->c);
        if (sink && sink(user, i0, nb, rows) != 0) { cli_progress_end(&prog); rc = -1; break; }
        cli_progress_update(&prog, i0 + nb);
    }
    if (rc == 0) cli_progress_end(&prog);
    if (rc == 0 && cut) cli_note_truncated(cmd, noun, cut, ember_ctx_max_tokens(e->c));
    if (rc == 0 && split)
        fprintf(stderr, "ember %s: %d %s%s longer than %d tokens %s split into %d overlapping windows, "
                "each %s's vector the mean of its windows (--long sliding)\n", cmd, split, noun, split == 1 ? "" : "s",
                ember_ctx_max_tokens(e->c), split == 1 ? "was" : "were", windows, noun);
    free(buf);
    return rc;
}
