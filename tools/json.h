/* A strict JSON (RFC 8259) parser for config and tokenizer files: UTF-8 is
 * validated, \u escapes (surrogate pairs included) decoded, nesting limited
 * to JSON_MAX_DEPTH, and errors say line and column.  The tree is immutable
 * after json_parse; free it with json_free. */
#ifndef EMBER_TOOLS_JSON_H
#define EMBER_TOOLS_JSON_H
#include <stddef.h>

#define JSON_MAX_DEPTH 256

typedef struct json_value json_value;
enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

/* Parses exactly one value (surrounding whitespace allowed).  NULL on error
 * with "line L, column C: why" in err. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(json_value *v);

int json_type_of(const json_value *v);                 /* -1 for NULL v */
/* Last member named key (NULL if v is not an object or has no such key). */
const json_value *json_object_get(const json_value *obj, const char *key);
/* NUL-terminated, but may hold NULs from \u0000: use len.  NULL if not a string. */
const char *json_string(const json_value *v, size_t *len);
double json_number(const json_value *v);               /* 0 if not a number */
/* The number as HF tokenizers reads it (serde_json without float_roundtrip,
 * see hf_number in json.c): an ULP off the correctly rounded json_number
 * for many a Unigram score, which the Viterbi sums must see as HF does. */
double json_number_hf(const json_value *v);
/* 1 and the exact value in *out when v is a number written as an integer
 * (no fraction, no exponent) within the range of long long; else 0. */
int json_integer(const json_value *v, long long *out);
int json_bool(const json_value *v);                    /* 1 only for true */
size_t json_array_len(const json_value *v);            /* 0 if not an array */
const json_value *json_array_at(const json_value *v, size_t i);
size_t json_object_len(const json_value *v);           /* 0 if not an object */
const char *json_object_key_at(const json_value *v, size_t i, size_t *len);
const json_value *json_object_value_at(const json_value *v, size_t i);

/* Convenience: whole file into a malloc'd NUL-terminated buffer (NULL on
 * error, message in err), and parse a file. */
char *json_read_file(const char *path, size_t *len, char *err, size_t errlen);
json_value *json_parse_file(const char *path, char *err, size_t errlen);
#endif
