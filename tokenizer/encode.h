/* Post-processing (template with special tokens) and HF `longest_first`
 * truncation on top of any tokenizer model (tok_model.h). */
#ifndef EMBER_TOKENIZER_ENCODE_H
#define EMBER_TOKENIZER_ENCODE_H
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tok_model.h"

#define TOK_SEQ_A (-1)
#define TOK_SEQ_B (-2)
#define TOK_TEMPLATE_MAX 8

typedef struct {
    int32_t id;      /* >= 0 special token id, TOK_SEQ_A or TOK_SEQ_B */
    int32_t type_id; /* segment id of the special token / whole sequence */
} tok_item;

/* HF TemplateProcessing.  single must hold TOK_SEQ_A once; pair must hold
 * TOK_SEQ_A once followed (not necessarily directly) by TOK_SEQ_B once. */
typedef struct {
    int n_single;
    tok_item single[TOK_TEMPLATE_MAX];
    int n_pair;
    tok_item pair[TOK_TEMPLATE_MAX];
} tok_template;

/* BERT: [CLS] A [SEP] / [CLS] A [SEP] B [SEP] with type ids 0 0 0 1 1. */
tok_template tok_template_bert(int32_t cls_id, int32_t sep_id);
/* Number of special tokens the template adds (HF get_n_added_tokens). */
int tok_template_n_added(const tok_template *t, int is_pair);

/* HF tokenizers truncate_encodings, strategy LongestFirst (<= 0.22 rule):
 * given full lengths a and b and budget = max_length - added specials,
 * writes the kept lengths.  b < 0 means "no pair" (keeps min(a, budget)). */
void tok_truncate_longest_first(int a, int b, int budget, int *na, int *nb);

/* Full encode: the model's encoding (added tokens, normalization,
 * pre-tokenization, WordPiece or BPE) of each sequence, longest_first
 * truncation to max_length (0 = none; counts the template's special tokens
 * when add_special), then the template.  pair == NULL: single sequence;
 * pair != NULL with pair_len 0: a real empty second sequence.  type_ids may
 * be NULL.  Returns the number of ids (<= cap) or a TOK_ERR_* code (see
 * tok_model.h): TOK_ERR_TEXT for invalid UTF-8 (message: its offset and which
 * sequence), TOK_ERR_SPACE when cap is too small, TOK_ERR_ARG for max_length
 * below the number of special tokens or a bad template.  Stops reading each
 * text once enough tokens exist, except that an odd budget with both
 * sequences over it needs to know which one is longer, which costs O(length
 * of the shorter one).
 * Thread-safe like tok_model_encode (no allocation). */
int tok_encode(const tok_model *tm, const tok_template *tpl,
               const char *text, size_t len, const char *pair, size_t pair_len,
               int add_special, int max_length,
               int32_t *ids, int32_t *type_ids, int cap,
               char *err, size_t errlen);

#endif
