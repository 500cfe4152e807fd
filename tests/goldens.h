/* What the golden tests of every model family share: converting a fixture
 * checkpoint with the real converter, reading goldens.jsonl, comparing
 * vectors, and the contexts each golden runs on (every kernel table this
 * CPU has on 1 and 2 threads, and the emulated widths). */
#ifndef EMBER_TESTS_GOLDENS_H
#define EMBER_TESTS_GOLDENS_H
#include "ember.h"
#include "tools/json.h"

/* Converts fixtures/models/<name> (ember convert --dtype dtype) into the
 * test's temp dir; NULL (the test skips) without fixtures; fails the test
 * when the conversion fails. */
const char *golden_converted(const char *name, const char *dtype);

typedef struct { json_value **rows; int n; char *buf; } goldens;
/* fixtures/models/<model>/<file>, one JSON object a line: 1, or 0 when absent. */
int goldens_load(goldens *g, const char *model, const char *file);
/* The same from a path (a golden file in the repository); fails the test
 * when it cannot be read. */
void goldens_load_file(goldens *g, const char *path);
void goldens_free(goldens *g);

/* A JSON string that must be there. */
const char *golden_str(const json_value *v, size_t *len);
/* max |got[i] - want[i]| over n (want: a JSON array of n numbers); NaN counts as infinite. */
double golden_max_diff(const float *got, const json_value *want, int n);

/* Every context a golden runs on: each real ISA the CPU has x {1, 2}
 * threads (consecutive entries; the two must agree bit for bit), then the
 * emulated tables on 1 thread.  max_tokens 0: the model's. */
typedef struct { ember_ctx *c; const char *what; int threads; char name[32]; } golden_variant;
#define GOLDEN_MAX_VARIANTS 32
int golden_variants(const ember_model *m, int max_tokens, golden_variant *v);
void golden_variants_free(golden_variant *v, int n);
/* ember_embed of texts in one call (chunks of 3) equals each text alone,
 * bit for bit, on every kernel table and 1 and 2 threads (dim: the
 * model's). */
/* ember_tokenize of (a, b) (b NULL: a alone) equals the golden ids, and
 * the golden type ids unless types is NULL. */
void golden_check_ids(ember_ctx *c, const char *id, const char *a, size_t al, const char *b, size_t bl, int max_len,
                      const json_value *ids, const json_value *types);
void golden_batch_equals_single(ember_model *m, const char *const *texts, int n, int dim);
#endif
