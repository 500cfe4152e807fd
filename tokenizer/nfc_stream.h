/* NFC of a UTF-8 text as a stream of code points, in constant memory.
 *
 * NFC = canonical decomposition, canonical ordering (a stable sort of each
 * run of non-starters by combining class), canonical composition.  Text is
 * cut into sections: a starter (combining class 0) and the non-starters
 * after it, up to the next starter of the decomposed text.  A section is not
 * copied anywhere: it is read again from the input as often as needed, once
 * per combining class it holds (to find what composes with the starter, then
 * to emit what is left class by class), which costs O(classes x length) and
 * no buffer, whatever the length of the run of marks (a "zalgo" text of a
 * million marks included).
 *
 * The tables (tokenizer/unicode_tables.c) are HuggingFace's NFC as its crate
 * unicode-normalization-alignments 0.1.12 has it: Unicode 9.0 decompositions,
 * classes and compositions.
 *
 * The state is a small plain struct: copying it forks the stream, which is
 * how a reader looks ahead without buffering. */
#ifndef EMBER_TOKENIZER_NFC_STREAM_H
#define EMBER_TOKENIZER_NFC_STREAM_H
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/unicode.h"

/* a position in the decomposed text: code point idx of the canonical
 * decomposition of the input character at byte pos */
typedef struct {
    size_t pos;
    int idx;
} nfc_at;

#define NFC_MAX_ABSORBED 8

typedef struct {
    const uint8_t *s;
    size_t n;
    int nfc;            /* 0: the code points as they are */
    nfc_at rd;          /* next decomposed code point not yet in a section */
    size_t err_pos;     /* byte offset of the invalid UTF-8 met (result -1) */
    int state;          /* what next() does: start a section, emit its starter or its marks */
    /* the current section */
    uint32_t starter;   /* composed starter (when has_starter) */
    int has_starter;
    nfc_at sec, sec_end; /* its non-starters: [sec, sec_end) */
    int n_left;          /* non-starters still to emit */
    int n_absorbed;      /* classes whose first marks went into the starter */
    uint8_t abs_ccc[NFC_MAX_ABSORBED], abs_n[NFC_MAX_ABSORBED];
    /* emission of the non-starters, class by class */
    int cls, cls_skip;
    nfc_at cur;
    /* the last input character decoded (most reads hit it again) */
    size_t c_pos;
    int c_len, c_nd;
    uint32_t c_d[UNI_MAX_DECOMP];
} nfc_stream;

/* A stream over s[0..n); nfc = 0 passes code points through (validating). */
void nfc_stream_init(nfc_stream *st, const uint8_t *s, size_t n, int nfc);
/* The next code point of the NFC text: 1 (in *cp), 0 at the end, -1 at
 * invalid UTF-8 (its byte offset in st->err_pos; the stream stays there). */
int nfc_stream_next(nfc_stream *st, uint32_t *cp);

#endif
