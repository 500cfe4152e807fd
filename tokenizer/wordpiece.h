/* WordPiece tokenizer matching HuggingFace `tokenizers` (BertNormalizer +
 * BertPreTokenizer + WordPiece) token for token.
 *
 * Vocabulary convention = llama.cpp's GGUF "bert" vocab: word-initial pieces
 * carry a U+2581 prefix ("the" -> "\xE2\x96\x81the"), continuation pieces are
 * stored without "##" ("##ing" -> "ing"), bracketed tokens stay as they are
 * ("[CLS]", "[unused0]").  wordpiece_phantom() converts a vocab.txt entry.
 *
 * Token types (GGUF): 1 normal, 2 unknown, 3 control, 4 user-defined,
 * 5 unused, 6 byte.  Tokens of type 2, 3 and 4 are matched literally
 * (case-sensitive, leftmost-longest, before normalization, also inside words)
 * in the input text, like HF's added tokens with normalized=false.  A leading
 * U+2581 of such a token is not part of the literal.  llama.cpp marks [PAD]
 * [UNK] [CLS] [SEP] [MASK] as control (3) and [unusedN] as normal (1), which
 * is exactly HF's added-token set for BERT.
 *
 * Encoding returns the TOK_ERR_* codes of tokenizer/tok_model.h.
 *
 * Thread safety: a wordpiece object is immutable after wordpiece_create and
 * may be shared read-only by any number of threads; wordpiece_encode uses
 * only the caller's buffers and a few KB of stack, never malloc. */
#ifndef EMBER_TOKENIZER_WORDPIECE_H
#define EMBER_TOKENIZER_WORDPIECE_H
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tok_model.h"

enum { WP_TYPE_NORMAL = TOK_TYPE_NORMAL, WP_TYPE_UNKNOWN = TOK_TYPE_UNKNOWN,
       WP_TYPE_CONTROL = TOK_TYPE_CONTROL, WP_TYPE_USER = TOK_TYPE_USER,
       WP_TYPE_UNUSED = TOK_TYPE_UNUSED, WP_TYPE_BYTE = TOK_TYPE_BYTE };

/* Largest max_input_chars_per_word accepted (the word buffer lives on the
 * stack); HF's default and every known model use 100. */
#define WP_MAX_WORD_CHARS 512

typedef struct {
    int lowercase;            /* BertNormalizer.lowercase */
    int strip_accents;        /* resolved: HF null means "= lowercase" */
    int handle_chinese_chars; /* isolate CJK ideographs */
    int clean_text;           /* drop NUL, U+FFFD, Cc/Cf/Co (not \t\n\r) */
    int max_input_chars_per_word; /* longer words -> one unk (HF: 100) */
} wp_options;

/* HF defaults for bert-base-uncased style tokenizers. */
wp_options wp_options_default(void);

typedef struct wordpiece wordpiece;

/* tokens[i] is lens[i] bytes (need not be NUL-terminated) in the convention
 * above; types may be NULL (all normal).  unk_id must be a valid id.
 * The strings are copied.  Returns NULL on error (message in err). */
wordpiece *wordpiece_create(int32_t n_tokens, const char *const *tokens,
                            const uint32_t *lens, const int32_t *types,
                            int32_t unk_id, const wp_options *opt,
                            char *err, size_t errlen);
void wordpiece_free(wordpiece *wp);

/* Converts a vocab.txt / tokenizer.json token to the GGUF convention:
 * "[..]" unchanged, "##x" -> "x", otherwise U+2581 + token.  Writes out
 * (NUL-terminated when room) and returns the length, or -1 if cap < len+1. */
int wordpiece_phantom(const char *hf_token, size_t len, char *out, size_t cap);

/* Id of an exact vocabulary string (GGUF convention), or -1. */
int32_t wordpiece_find(const wordpiece *wp, const char *tok, size_t len);
int32_t wordpiece_n_tokens(const wordpiece *wp);
int32_t wordpiece_unk_id(const wordpiece *wp);
/* Token text (GGUF convention) and its length. */
const char *wordpiece_token(const wordpiece *wp, int32_t id, uint32_t *len);

/* Encodes text[0..len) WITHOUT special tokens.  Stops once max_tokens ids
 * exist (max_tokens < 0: no limit); the result is always a prefix of the
 * unlimited encoding, and input after the stopping point is not read (so
 * it is not validated either).  Returns the count (<= cap), or a TOK_ERR_*
 * code: TOK_ERR_TEXT when the text is not valid UTF-8 (message names the
 * byte offset), TOK_ERR_SPACE when more than cap ids would be needed.
 * ids == NULL counts only (cap is ignored).
 * U+0000 is ordinary input (removed by clean_text). */
int wordpiece_encode(const wordpiece *wp, const char *text, size_t len,
                     int32_t *ids, int cap, int max_tokens,
                     char *err, size_t errlen);

/* WordPiece behind the tokenizer model interface: tok_model_wrap(
 * &wordpiece_ops, wp, ...) (encode is wordpiece_encode). */
extern const tok_model_ops wordpiece_ops;

#endif
