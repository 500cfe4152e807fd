/* Tiny JSON reader for tests (fixture files such as cases.jsonl and
 * tokenizer.json).  Builds a small tree; strings are decoded to UTF-8
 * (\u escapes with surrogate pairs; may contain NUL, so use the length). */
#ifndef EMBER_TESTS_FIXTURE_JSON_H
#define EMBER_TESTS_FIXTURE_JSON_H
#include <stddef.h>

enum { FJ_NULL, FJ_BOOL, FJ_NUM, FJ_STR, FJ_ARR, FJ_OBJ };

typedef struct fixture_json fixture_json;

/* Parses one JSON value from s[0..len) (trailing whitespace allowed).
 * Returns NULL on error with the byte offset in err. */
fixture_json *fixture_json_parse(const char *s, size_t len, char *err, size_t errlen);
void fixture_json_free(fixture_json *v);

int fixture_json_type(const fixture_json *v);           /* FJ_*, -1 for NULL v */
const fixture_json *fixture_json_get(const fixture_json *obj, const char *key);
size_t fixture_json_len(const fixture_json *v);         /* array/object size */
const fixture_json *fixture_json_at(const fixture_json *v, size_t i);
const char *fixture_json_key(const fixture_json *obj, size_t i);
const char *fixture_json_str(const fixture_json *v, size_t *len); /* NULL if not a string */
double fixture_json_num(const fixture_json *v);         /* 0 if not a number */
int fixture_json_bool(const fixture_json *v);           /* 0 if not true */

/* Reads a whole file into a NUL-terminated malloc'd buffer; NULL on error. */
char *fixture_json_read_file(const char *path, size_t *len);

#endif
