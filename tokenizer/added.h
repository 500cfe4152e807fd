/* Added-token matcher shared by the tokenizer algorithms: literal strings
 * (HF's added tokens, GGUF control / user-defined tokens) found in the text
 * before anything else, leftmost-longest as HuggingFace's AddedVocabulary
 * (Aho-Corasick, MatchKind::LeftmostLongest) finds them: the earliest
 * position where any literal starts wins, and there the longest literal.
 * A literal may carry HF's lstrip / rstrip: the whitespace before / after
 * it in the text is taken into the token (tok_added_next).
 *
 * A byte trie: matching at one position costs at most the longest literal's
 * length in steps (each a scan of one node's children, the first level a
 * direct table).  Immutable after creation; thread-safe; no allocation
 * while matching. */
#ifndef EMBER_TOKENIZER_ADDED_H
#define EMBER_TOKENIZER_ADDED_H
#include <stddef.h>
#include <stdint.h>

typedef struct tok_added tok_added;

/* n literals lits[i] of lens[i] bytes (empty ones are ignored) with their
 * token ids.  Of two equal literals the first keeps the string.  NULL on
 * error (message in err); n == 0 gives a matcher that never matches. */
tok_added *tok_added_create(int32_t n, const char *const *lits, const uint32_t *lens,
                            const int32_t *ids, char *err, size_t errlen);
void tok_added_free(tok_added *a);

/* HF's lstrip / rstrip: the added tokens (by id) that take the whitespace
 * before / after them; the lists may be empty (n 0, pointer NULL). */
typedef struct {
    const int32_t *lstrip;
    int n_lstrip;
    const int32_t *rstrip;
    int n_rstrip;
} tok_added_strip;

/* The matcher of a vocabulary laid out as one pool of bytes, token i at
 * pool[off[i]..off[i + 1]): every non-empty token of GGUF type unknown,
 * control or user-defined, with the strip flags of `strip` (NULL: none),
 * whose ids must be such tokens.  `who` names the caller in messages.
 * 0 with *out NULL when the vocabulary has no such token, 0 with the
 * matcher, or -1 with the reason in err. */
int tok_added_from_vocab(int32_t n_tokens, const char *pool, const uint32_t *off, const int32_t *types,
                         const tok_added_strip *strip, const char *who, tok_added **out, char *err, size_t errlen);

/* Number of distinct literals (0: nothing to match). */
int32_t tok_added_count(const tok_added *a);

/* Whether some literal starts with byte b (a cheap filter before match). */
static inline int tok_added_may_start(const uint8_t *first_bitmap, uint8_t b)
{
    return (first_bitmap[b >> 3] >> (b & 7)) & 1;
}
/* The 256-bit first-byte bitmap for tok_added_may_start. */
const uint8_t *tok_added_first_bytes(const tok_added *a);

/* Longest literal that s[0..n) starts with: its id, and its length in *mlen;
 * -1 when none. */
int32_t tok_added_match(const tok_added *a, const uint8_t *s, size_t n, size_t *mlen);

/* The leftmost literal in s[0..n): its offset (n when there is none), id in
 * *id and length in *mlen. */
size_t tok_added_find(const tok_added *a, const uint8_t *s, size_t n, int32_t *id, size_t *mlen);

/* Splitting a text at its added tokens as HF's AddedVocabulary::find_matches
 * does: literals are searched from the end of the last one found (not from
 * the end of the whitespace its rstrip took); lstrip takes the White_Space
 * run before the literal but never text already consumed; rstrip takes the
 * run after it.  Start with both fields 0. */
typedef struct {
    size_t pos;    /* the text not yet consumed starts here (HF's start_offset) */
    size_t search; /* the next literal is looked for from here */
} tok_added_cursor;

/* The next added token of s[0..n) (a may be NULL: none): its id, and the
 * text before it, to be tokenized as a piece, in [*begin, *end) (may be
 * empty); cur then moves past the token and its stripped whitespace.  -1
 * when no token is left: the piece is the rest of the text. */
int32_t tok_added_next(const tok_added *a, const uint8_t *s, size_t n, tok_added_cursor *cur, size_t *begin,
                       size_t *end);

#endif
