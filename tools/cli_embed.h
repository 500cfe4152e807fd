/* One copy of what `ember embed`, `ember index build|add` and `ember search`
 * share: opening an embedding model with its context, and embedding a run's
 * inputs batch by batch behind a progress bar, naming an input that cannot
 * be embedded by its file and line. */
#ifndef EMBER_TOOLS_CLI_EMBED_H
#define EMBER_TOOLS_CLI_EMBED_H

#include "tools/cli_common.h"

typedef struct {
    ember_model *m;
    ember_ctx *c;
    ember_model_info info;
    int batch;
} cli_embedder;

/* Loads path, which must be an embedding model, with a context for batches
 * of `batch` texts of up to max_len tokens (0: the model's) on `threads`
 * threads (0: EMBER_THREADS or all cores), longer texts truncated or
 * embedded as sliding windows (long_mode), each text written after prefix
 * (--prefix) instead of the model's query / document prompt when prefix is
 * not NULL.  0, or -1 after printing why ("<cmd>: ..."); e is then empty. */
int cli_embedder_open(cli_embedder *e, const char *cmd, const char *path, int batch, int max_len, int threads,
                      ember_long_mode long_mode, const char *prefix);
/* The value of --long: "truncate" or "sliding".  0, or -1 after printing
 * "<cmd>: --long ..." (v NULL: the value is missing). */
int cli_parse_long(const char *cmd, const char *v, ember_long_mode *mode);
void cli_embedder_close(cli_embedder *e);

/* Takes each batch embedded: rows i0 .. i0 + nb - 1 of the inputs, dim
 * floats each (its to change: the next batch overwrites them).  0 to go
 * on; -1 to stop (having printed why). */
typedef int (*cli_embed_sink)(void *user, int i0, int nb, float *rows);

/* Embeds every input in order, `batch` at a time, with a progress bar;
 * flags as ember_embed's.  Texts that were cut, or split into windows, are
 * counted on stderr once at the end.  Rows go into `into` (n x dim floats) when it is
 * not NULL, else through sink.  A batch that fails is embedded again text
 * by text, and the first text that fails alone is named: "<cmd>:
 * <file>:<line>: cannot embed this <noun>: <why>" (else the batch's lines).
 * 0, or -1 after printing why. */
int cli_embed_inputs(cli_embedder *e, const char *cmd, const char *noun, const cli_inputs *in, int flags, float *into,
                     cli_embed_sink sink, void *user);

#endif
