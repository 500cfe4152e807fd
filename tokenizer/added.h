/* Added-token matcher shared by the tokenizer algorithms: literal strings
 * (HF's added tokens, GGUF control / user-defined tokens) found in the text
 * before anything else, leftmost-longest as HuggingFace's AddedVocabulary
 * (Aho-Corasick, MatchKind::LeftmostLongest) finds them: the earliest
 * position where any literal starts wins, and there the longest literal.
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

#endif
