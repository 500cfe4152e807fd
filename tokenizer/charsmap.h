/* SentencePiece's precompiled_charsmap: the normalization rules of a
 * SentencePiece model (NFKC with SentencePiece's own changes), as a trie
 * from input byte strings to replacement strings.  Layout of the blob
 * (little-endian), as SentencePiece's normalizer writes it:
 *
 *   u32 trie_size                  bytes of the trie that follows (a multiple of 4)
 *   u32 unit[trie_size / 4]        a darts-clone double array, one 32-bit unit per node:
 *                                    bits 0-7  label (the byte on the edge into the node),
 *                                    bit 8     has_leaf (a key ends here),
 *                                    bit 9     offset scale (<< 8 when set),
 *                                    bits 10-31 offset (children of the node at p
 *                                              are at (p ^ offset) ^ byte);
 *                                  a leaf unit (bit 31 set, so no label matches it)
 *                                  at (p ^ offset) holds in bits 0-30 the value:
 *                                  the byte offset of the replacement in the pool
 *   u8  pool[rest]                 replacement strings, each ended by a NUL
 *
 * Lookup from the root (unit 0): p = offset(unit[0]); for each input byte c
 * (a NUL byte ends the key): p ^= c; unit[p] must have label c; p ^=
 * offset(unit[p]); when that unit has_leaf, unit[p] holds a value.
 *
 * Everything read from the blob is checked when it is loaded: sizes, the
 * pool as UTF-8, and every node reachable within UG_CHARSMAP_DEPTH bytes
 * (the longest key a lookup ever asks for): child and leaf positions inside
 * the array, values inside the pool and on a character boundary.  A bad
 * blob is refused with what is wrong; lookups stay bounds-checked anyway. */
#ifndef EMBER_TOKENIZER_CHARSMAP_H
#define EMBER_TOKENIZER_CHARSMAP_H
#include <stddef.h>
#include <stdint.h>

/* The longest key a lookup uses: HF's Precompiled normalizer looks up
 * grapheme clusters shorter than 6 bytes, or single characters. */
#define UG_CHARSMAP_DEPTH 5
/* Blobs larger than this are refused (real ones are a few hundred KB). */
#define UG_CHARSMAP_MAX (4u << 20)

typedef struct {
    uint32_t *unit;   /* n_units decoded units (a copy) */
    uint32_t n_units;
    char *pool;       /* a copy, NUL-terminated one byte past pool_len */
    uint32_t pool_len;
} ug_charsmap;

/* Decodes and checks blob[0..len) into m (copies it).  0, or -1 with the
 * reason in err. */
int ug_charsmap_init(ug_charsmap *m, const uint8_t *blob, size_t len, char *err, size_t errlen);
void ug_charsmap_free(ug_charsmap *m);

/* The SHORTEST key that s[0..n) starts with (HF's Precompiled takes the
 * first result of a common-prefix search): 1 with its replacement in
 * *rep / *rep_len (into the pool; may be empty), 0 when no key matches.
 * n is at most UG_CHARSMAP_DEPTH in every use. */
int ug_charsmap_match(const ug_charsmap *m, const uint8_t *s, size_t n, const char **rep, uint32_t *rep_len);

#endif
