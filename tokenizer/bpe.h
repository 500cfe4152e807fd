/* Byte-level BPE matching HuggingFace `tokenizers` id for id: Qwen2 / Qwen3
 * (and every model sharing their pipeline).  The pipeline, as HF runs it:
 *
 *   1. added tokens (GGUF types 2, 3, 4: HF's added tokens, special or not)
 *      are found in the raw text first, leftmost-longest (tokenizer/added.h),
 *      with HF's lstrip / rstrip (whitespace beside the token is taken into
 *      it); the text between them is processed piece by piece;
 *   2. NFC (tokenizer/nfc_stream.h), when the tokenizer has that normalizer;
 *   3. the split pattern (pre-tokenizer) cuts the piece into pre-tokens:
 *      Qwen2's `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
 *      ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` or GPT-2's,
 *      implemented over the Unicode classes of tokenizer/unicode.h (no
 *      regex library, tokenizer/bpe_split.c);
 *   4. each pre-token's UTF-8 bytes become one symbol each (the GPT-2
 *      byte-to-unicode map names them in the vocabulary), and pairs merge
 *      by rank, lowest first and leftmost among equals, as HF's heap does.
 *
 * Vocabulary convention = llama.cpp's GGUF "gpt2" vocab: tokens are HF's
 * byte-level strings ("Ġthe"), added tokens their text ("<|endoftext|>"),
 * merges the strings "left right".
 *
 * Cost and memory: encoding allocates nothing and is thread-safe (the
 * object is immutable).  Merging uses a heap indexed by position, O(n log n)
 * for a pre-token of n bytes, over a window of BPE_WINDOW bytes on the
 * stack.  A pre-token longer than that is merged window by window: of each
 * window the tokens before the last token boundary at least BPE_MARGIN bytes
 * from its end are kept and the next window starts there.  A pre-token of at
 * most BPE_WINDOW bytes is always exact; a longer one is exact unless a
 * merge decision at a kept boundary depends on bytes BPE_MARGIN or more
 * bytes further on (the boundary is then one HF would not have), which no
 * text of a natural language produces.  NFC reads each run of combining
 * marks once per combining class it holds, so no input is quadratic.
 *
 * Ids: at most one per byte of the normalized text, and NFC makes a text at
 * most three times as long (UAX #15), so at most 3 per input byte.
 *
 * max_tokens: encoding stops once that many ids exist; the input after that
 * point is not decoded (nor validated), except that the text up to the next
 * added token is scanned (bytes only) to find it. */
#ifndef EMBER_TOKENIZER_BPE_H
#define EMBER_TOKENIZER_BPE_H
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tok_model.h"

#define BPE_WINDOW 2048
#define BPE_MARGIN 512

/* Split patterns (pre-tokenizers) ember implements, by llama.cpp's
 * tokenizer.ggml.pre name: "qwen2" (Qwen2's Split pattern) and "gpt-2"
 * (GPT-2's, which HF's ByteLevel pre-tokenizer applies with use_regex). */
enum { BPE_PRE_QWEN2 = 1, BPE_PRE_GPT2 = 2 };

/* The Qwen2 pattern as tokenizer.json writes it (the converter compares). */
extern const char BPE_QWEN2_PATTERN[];

typedef struct {
    int pre;           /* BPE_PRE_* */
    int nfc;           /* the NFC normalizer runs before splitting */
    int ignore_merges; /* HF BPE ignore_merges: a pre-token that is a token stays whole */
    const int32_t *lstrip; /* added tokens that take the whitespace before them (HF lstrip) */
    int n_lstrip;
    const int32_t *rstrip; /* ... and after them (rstrip) */
    int n_rstrip;
} bpe_options;

typedef struct bpe bpe;

/* tokens[i] is lens[i] bytes in the convention above; types (GGUF token
 * types) may be NULL (all normal).  merges[i] is merge_lens[i] bytes,
 * "left right" with one space, rank i (a pair listed twice keeps its later
 * rank, as HF's map does).  Every single-byte symbol must be a token, and
 * both sides and the result of every merge normal tokens; the lstrip /
 * rstrip ids must be added tokens (types 2, 3, 4).  The strings are copied
 * (the lists are read).  NULL on error (message in err). */
bpe *bpe_create(int32_t n_tokens, const char *const *tokens, const uint32_t *lens,
                const int32_t *types, int32_t n_merges, const char *const *merges,
                const uint32_t *merge_lens, const bpe_options *opt, char *err, size_t errlen);
void bpe_free(bpe *b);

int32_t bpe_find(const bpe *b, const char *tok, size_t len);
int32_t bpe_n_tokens(const bpe *b);
const char *bpe_token(const bpe *b, int32_t id, uint32_t *len);

/* The tok_model encode contract (tok_model.h); see max_tokens above. */
int bpe_encode(const bpe *b, const char *text, size_t len, int32_t *ids, int cap,
               int max_tokens, char *err, size_t errlen);

/* BPE behind the tokenizer model interface: tok_model_wrap(&bpe_ops, b, ...). */
extern const tok_model_ops bpe_ops;

/* GPT-2's byte-to-unicode map: the code point that names byte b. */
uint32_t bpe_byte_char(uint8_t b);
/* BPE_PRE_* of a tokenizer.ggml.pre name, 0 when ember has no such split. */
int bpe_pre_from_name(const char *name, size_t len);
const char *bpe_pre_name(int pre);

#endif
