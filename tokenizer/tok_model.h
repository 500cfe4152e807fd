/* The tokenizer model interface: one opaque object over whichever algorithm
 * a vocabulary uses (WordPiece, byte-level BPE), so that the post-processor
 * and truncation (encode.h) and the model layer never name the algorithm.
 *
 * Each algorithm provides a const tok_model_ops table of its functions and
 * hands its object to tok_model_wrap, which owns it from then on.  A
 * tok_model is immutable after creation and may be shared read-only by any
 * number of threads; tok_model_encode allocates nothing (caller buffers and
 * bounded stack only), whatever the algorithm. */
#ifndef EMBER_TOKENIZER_TOK_MODEL_H
#define EMBER_TOKENIZER_TOK_MODEL_H
#include <stddef.h>
#include <stdint.h>

/* GGUF token types (llama.cpp's): 1 normal, 2 unknown, 3 control,
 * 4 user-defined, 5 unused, 6 byte. */
enum { TOK_TYPE_NORMAL = 1, TOK_TYPE_UNKNOWN = 2, TOK_TYPE_CONTROL = 3,
       TOK_TYPE_USER = 4, TOK_TYPE_UNUSED = 5, TOK_TYPE_BYTE = 6 };

/* Why an encode failed: the negative return of every encode function, so
 * that callers map it to a status without reading the message. */
enum {
    TOK_ERR_TEXT = -1,  /* the input is not valid UTF-8 */
    TOK_ERR_SPACE = -2, /* the caller's id buffer (cap) is too small */
    TOK_ERR_ARG = -3    /* bad argument: NULL, max_length below the special tokens, bad template */
};

/* What every algorithm provides.  encode follows the contract of
 * tok_model_encode_from below; token returns NULL for an id out of range;
 * find returns -1 when the string is no token; free releases the object. */
/* The message of a failed call into err (NULL or errlen 0: none kept). */
void tok_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct {
    const char *name; /* "wordpiece", "bpe" */
    int (*encode)(const void *impl, const char *text, size_t len, int skip, int32_t *ids, int cap,
                  int max_tokens, char *err, size_t errlen);
    int32_t (*n_tokens)(const void *impl);
    const char *(*token)(const void *impl, int32_t id, uint32_t *len);
    int32_t (*find)(const void *impl, const char *tok, size_t len);
    void (*free)(void *impl);
} tok_model_ops;

typedef struct tok_model tok_model;

/* Wraps an algorithm's object; the tok_model owns impl from then on (also
 * on failure, when impl is freed through ops->free).  NULL on error. */
tok_model *tok_model_wrap(const tok_model_ops *ops, void *impl, char *err, size_t errlen);
void tok_model_free(tok_model *m);

/* Encodes text[0..len) WITHOUT the post-processor's special tokens (added
 * tokens written in the text are matched).  Stops once max_tokens ids exist
 * (max_tokens < 0: no limit); the result is always a prefix of the unlimited
 * encoding.  Returns the count (<= cap), or TOK_ERR_TEXT when the text is
 * not valid UTF-8 (the message names the byte offset), TOK_ERR_SPACE when
 * more than cap ids would be needed, TOK_ERR_ARG for a NULL argument.
 * ids == NULL counts only (cap is ignored).  How much input past the
 * stopping point is read depends on the algorithm (see its header). */
int tok_model_encode(const tok_model *m, const char *text, size_t len, int32_t *ids, int cap,
                     int max_tokens, char *err, size_t errlen);
/* The same from the id at position skip on: the first skip ids of the
 * encoding are dropped (neither written nor counted), then up to max_tokens
 * are written.  A window of a long encoding in bounded memory (sliding
 * windows over a long text), at the cost of encoding what is skipped. */
int tok_model_encode_from(const tok_model *m, const char *text, size_t len, int skip, int32_t *ids, int cap,
                          int max_tokens, char *err, size_t errlen);
int32_t tok_model_n_tokens(const tok_model *m);
/* Token text as stored in the vocabulary (the GGUF convention of the
 * algorithm) and its length; NULL for an id out of range. */
const char *tok_model_token(const tok_model *m, int32_t id, uint32_t *len);
/* Id of an exact vocabulary string, or -1. */
int32_t tok_model_find(const tok_model *m, const char *tok, size_t len);
/* The algorithm's name (ops->name). */
const char *tok_model_name(const tok_model *m);
/* The wrapped object, for the algorithm's own functions (NULL when m was
 * built over other ops). */
const void *tok_model_impl(const tok_model *m, const tok_model_ops *ops);

/* Where an encoder writes its ids: the first skip dropped, then at most cap
 * (ids == NULL: count only), stopping at max_tokens (< 0: no limit).
 * Shared by every algorithm. */
typedef struct {
    int32_t *ids;
    int cap, max_tokens, count;
    int overflow; /* more than cap ids were wanted */
    int skip;     /* ids still to drop before the first one kept */
} tok_sink;

static inline tok_sink tok_sink_make(int32_t *ids, int cap, int skip, int max_tokens)
{
    tok_sink s = { ids, cap, max_tokens < 0 ? 0x7fffffff : max_tokens, 0, 0, skip > 0 ? skip : 0 };
    return s;
}

/* Appends id (or drops it while skip lasts); 1 when no more output is
 * wanted (max_tokens reached, or cap overflowed: overflow set). */
static inline int tok_sink_put(tok_sink *s, int32_t id)
{
    if (s->skip > 0) { s->skip--; return 0; }
    if (s->count >= s->max_tokens) return 1;
    if (s->ids) {
        if (s->count >= s->cap) { s->overflow = 1; return 1; }
        s->ids[s->count] = id;
    }
    s->count++;
    return s->count >= s->max_tokens;
}

#endif
