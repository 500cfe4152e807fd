/* SentencePiece Unigram matching HuggingFace `tokenizers` id for id
 * (XLM-RoBERTa, T5, mT5, Pegasus and every model sharing their pipeline).
 * The pipeline, as HF runs it:
 *
 *   1. added tokens (GGUF types 2, 3, 4) are found in the raw text first,
 *      leftmost-longest (tokenizer/added.h), with HF's lstrip / rstrip
 *      (whitespace beside the token is taken into it); the text between
 *      them is processed piece by piece;
 *   2. the normalizers, in the file's order: Precompiled (SentencePiece's
 *      precompiled_charsmap, tokenizer/charsmap.h, applied as HF applies it:
 *      grapheme cluster by grapheme cluster, a cluster under 6 bytes
 *      replaced by the shortest key it starts with and dropped past it,
 *      otherwise character by character), Replace (a literal string, or the
 *      regex " {2,}"), Strip, Lowercase;
 *   3. the pre-tokenizers: WhitespaceSplit (words between White_Space),
 *      Metaspace (' ' becomes the replacement, U+2581; it is put before a
 *      piece or word not starting with it always, on the text's first one
 *      only, or never; with split, every replacement starts a pre-token);
 *   4. Viterbi over each pre-token: the best sum of the pieces'
 *      log-probabilities, pieces found with a byte trie; a character that
 *      no single-character piece covers is the unknown piece at the lowest
 *      score minus 10, and runs of unknowns are fused into one token (its
 *      text's id when that is a piece, its bytes as <0xXX> pieces with
 *      byte_fallback, else unk_id).
 *
 * Vocabulary convention = llama.cpp's GGUF "t5" vocab: the pieces as
 * SentencePiece spells them ("\xE2\x96\x81the"), their scores, types.
 *
 * Cost and memory: encoding allocates nothing and is thread-safe; the
 * normalizers stream over the text with a few code points of lookahead
 * (Strip's right side rereads a whitespace run to see what follows it).
 * Viterbi runs over a window of UG_WINDOW bytes on the stack; a longer
 * pre-token is cut where the best paths to every position near the
 * window's end have met (then the cut is exactly HF's), else, where they
 * have not, near the middle of the window (an approximation no natural
 * text reaches: paths meet within a few pieces).  Linear in the input.
 *
 * Ids: at most one per byte of the normalized text (a replacement of the
 * charsmap makes the text longer by at most its length, bounded by the
 * file), so callers size buffers by counting first (ids == NULL).
 *
 * max_tokens: encoding stops once that many ids exist; the input after that
 * point is not decoded (nor validated), except that the text up to the next
 * added token is scanned (bytes only) to find it. */
#ifndef EMBER_TOKENIZER_UNIGRAM_H
#define EMBER_TOKENIZER_UNIGRAM_H
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tok_model.h"

#define UG_WINDOW 2048
#define UG_MAX_PIECE 512 /* longest piece in bytes */
#define UG_MAX_NORM 8    /* normalizer steps */
#define UG_PAT_MAX 16    /* code points of a Replace pattern */
#define UG_REPL_MAX 256  /* bytes of a Replace content */

enum {
    UG_NORM_PRECOMPILED = 1, /* the charsmap */
    UG_NORM_REPLACE,         /* from (a literal) -> to */
    UG_NORM_SPACES,          /* regex " {2,}" -> to */
    UG_NORM_STRIP,           /* left / right */
    UG_NORM_LOWERCASE
};

typedef struct {
    int kind;                /* UG_NORM_* */
    int left, right;         /* UG_NORM_STRIP */
    const char *from, *to;   /* UG_NORM_REPLACE (from, to), UG_NORM_SPACES (to) */
    uint32_t from_len, to_len;
} ug_norm_step;

enum { UG_PREPEND_ALWAYS = 0, UG_PREPEND_FIRST = 1, UG_PREPEND_NEVER = 2 };

typedef struct {
    int n_norm;
    ug_norm_step norm[UG_MAX_NORM];
    const uint8_t *charsmap; /* the blob of UG_NORM_PRECOMPILED */
    size_t charsmap_len;
    int whitespace_split;    /* WhitespaceSplit before Metaspace */
    int metaspace;
    uint32_t replacement;    /* Metaspace's, U+2581 */
    int prepend;             /* UG_PREPEND_* */
    int split;               /* Metaspace split */
    int32_t unk_id;
    int byte_fallback;       /* unknown runs become <0x00>..<0xFF> pieces (all 256 must exist) */
    int32_t n_pieces;        /* tokens [0, n_pieces) are the model's pieces (HF model.vocab); < 0: all */
    int has_unk_score;       /* else the lowest score of a normal piece, minus 10 (llama.cpp's rule) */
    double unk_score;        /* HF: the lowest score of model.vocab, minus 10 */
    const int32_t *lstrip;   /* added tokens that take the whitespace before them */
    int n_lstrip;
    const int32_t *rstrip;   /* ... and after them */
    int n_rstrip;
} unigram_options;

/* Defaults: no normalizer, Metaspace U+2581 always with split, no unk. */
unigram_options unigram_options_default(void);

typedef struct unigram unigram;

/* tokens[i] is lens[i] bytes, types (GGUF token types) may be NULL (all
 * normal), scores[i] the piece's log-probability.  Tokens of type unused
 * and those past n_pieces are not pieces.  The strings (and the option
 * strings and charsmap) are copied.  NULL on error (message in err): bad
 * arguments, unk_id out of range, a piece longer than UG_MAX_PIECE, a
 * corrupt charsmap, byte_fallback without all 256 byte pieces. */
unigram *unigram_create(int32_t n_tokens, const char *const *tokens, const uint32_t *lens, const int32_t *types,
                        const double *scores, const unigram_options *opt, char *err, size_t errlen);
void unigram_free(unigram *u);

int32_t unigram_find(const unigram *u, const char *tok, size_t len);
int32_t unigram_n_tokens(const unigram *u);
const char *unigram_token(const unigram *u, int32_t id, uint32_t *len);

/* The tok_model encode contract (tok_model.h); see max_tokens above. */
int unigram_encode(const unigram *u, const char *text, size_t len, int32_t *ids, int cap, int max_tokens,
                   char *err, size_t errlen);

/* Unigram behind the tokenizer model interface: tok_model_wrap(&unigram_ops, u, ...). */
extern const tok_model_ops unigram_ops;

/* A normalizer step's name in ember's GGUF keys: "precompiled", "replace",
 * "replace_spaces", "strip", "strip_left", "strip_right", "lowercase";
 * from_name fills kind, left and right (0, or -1 for another name). */
const char *unigram_norm_name(const ug_norm_step *step);
int unigram_norm_from_name(const char *s, size_t len, ug_norm_step *step);

/* "always", "first", "never" <-> UG_PREPEND_*; -1 for another name. */
int unigram_prepend_from_name(const char *s, size_t len);
const char *unigram_prepend_name(int prepend);

#endif
