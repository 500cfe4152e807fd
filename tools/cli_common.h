/* Shared pieces of the ember subcommands: reading inputs (lines or JSONL),
 * writing JSON numbers and strings, the progress bar, option parsing helpers. */
#ifndef EMBER_TOOLS_CLI_COMMON_H
#define EMBER_TOOLS_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ember.h"

typedef enum { CLI_IN_LINES = 0, CLI_IN_JSONL = 1 } cli_input_format;

/* All inputs of a run.  text[i] / text_len[i]; pair[i] is NULL when absent. */
typedef struct {
    int n, cap;
    char **text, **pair;
    size_t *text_len, *pair_len;
    int64_t *id;      /* JSONL "id" (integer 0 .. 2^63-1) when given, else the input index */
    unsigned char *id_given; /* 1 where the input gave its id */
    long *line;       /* line of the input in its file, from 1 */
    char src[256];    /* the file's name, or <stdin> */
} cli_inputs;

/* Reads every input from path ("-" or NULL = stdin).  Lines: one text per
 * line, trailing \r\n stripped.  JSONL: one object per line with "text"
 * (string, required) and optional "text_pair" (string or null).  Returns 0,
 * or -1 after printing "ember: <where>: <why>" to stderr. */
int cli_inputs_read(const char *path, cli_input_format fmt, cli_inputs *in);
void cli_inputs_free(cli_inputs *in);
/* "<file>:<line>" of input i (lines count from 1), for messages; buf returned. */
const char *cli_input_where(const cli_inputs *in, int i, char *buf, size_t cap);
int cli_parse_input_format(const char *s, cli_input_format *fmt);

void cli_json_string(FILE *f, const char *s, size_t len);
void cli_json_float(FILE *f, float v);

/* Progress on stderr, only when stderr is a terminal and total is large enough. */
typedef struct { int enabled; long total; double t0; const char *what; } cli_progress;
void cli_progress_start(cli_progress *p, const char *what, long total);
void cli_progress_update(cli_progress *p, long done);
void cli_progress_end(cli_progress *p);

double cli_now(void);
/* 1 when a and b name the same file (device and inode), 0 when not or when
 * either does not exist. */
int cli_same_file(const char *a, const char *b);
/* Parses a positive int option value; prints an error and returns -1 if bad. */
int cli_parse_int(const char *opt, const char *v, int lo, int hi, int *out);
int cli_err(const char *fmt, ...);
/* For any batched call over inputs: the batch [i0, i0 + nb) failed with
 * batch_why; try_one(user, i, &why) redoes input i alone (0 when it
 * passes, else why points at its message).  Prints the first input that
 * fails alone by its file and line, or the batch's lines when none does. */
typedef int (*cli_try_one)(void *user, int i, const char **why);
void cli_report_batch_failure(const char *cmd, const char *verb, const char *noun, const cli_inputs *in, int i0, int nb,
                              const char *batch_why, cli_try_one try_one, void *user);
/* Loads a model that must be of kind `want` and creates its context; 0, or
 * -1 after printing why ("<cmd>: <path> is not ...").  *info is filled.  A
 * max_tokens the context cannot hold is warned about, with the one used. */
int cli_open_model(const char *cmd, const char *path, ember_kind want, int max_batch, int max_tokens,
                   int threads, ember_model **m, ember_ctx **c, ember_model_info *info);
/* Says once, on stderr, that n inputs (nouns) were longer than max_tokens
 * and were cut to it. */
void cli_note_truncated(const char *cmd, const char *noun, int n, int max_tokens);
/* The stderr line after a reranker's --long sliding split pairs: how many
 * pairs longer than max_tokens were scored as how many windows of their
 * document. */
void cli_note_split_pairs(const char *cmd, int n, int max_tokens, int windows);
#endif
