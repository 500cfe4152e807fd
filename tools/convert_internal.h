/* The converter's insides, shared by its driver (convert.c), its model
 * families (convert_<family>.c) and its tokenizer readers
 * (convert_tok_<type>.c): the state of one conversion, the two tables, and
 * the helpers a family or a reader calls.
 *
 * A conversion: config.json's architectures[0] picks a family
 * (convert_families); without --vocab-only the family reads its
 * hyper-parameters.  tokenizer.json's model.type picks a tokenizer reader
 * (convert_tokenizers), or, without tokenizer.json, the first reader whose
 * own file (vocab.txt, ...) is in the folder.  Then the GGUF is written in
 * this order: general.architecture, general.name / file_type / alignment,
 * the family's model keys, the reader's tokenizer keys, the ember.* keys,
 * the family's tensors. */
#ifndef EMBER_TOOLS_CONVERT_INTERNAL_H
#define EMBER_TOOLS_CONVERT_INTERNAL_H
#include "tools/convert.h"
#include "tools/json.h"
#include "tools/safetensors.h"
#include "model/gguf.h"
#include "model/gguf_keys.h"
#include "tokenizer/unigram.h"

#include <stddef.h>
#include <stdint.h>

/* bert.pooling_type values (llama.cpp's) */
enum { POOL_NONE = 0, POOL_MEAN = 1, POOL_CLS = 2, POOL_LAST = 3, POOL_RANK = 4 };
/* tokenizer.ggml.token_type values (llama.cpp's) */
enum { CONV_TOK_NORMAL = 1, CONV_TOK_UNKNOWN = 2, CONV_TOK_CONTROL = 3, CONV_TOK_USER = 4, CONV_TOK_UNUSED = 5,
       CONV_TOK_BYTE = 6 };

/* What an HF architecture name says beyond its family (convert_hf_arch.flags). */
enum {
    CONV_CLASSIFIER = 1, /* a sequence-classification head: a reranker (pooling rank) */
    CONV_ROBERTA = 2,    /* RoBERTa conventions: pad_token_id defaults to 1, positions start
                          * after it, and pair texts are joined by two separators (the
                          * WordPiece reader's template when there is no tokenizer.json) */
};

typedef struct conv conv;

typedef struct {
    const char *name; /* config.json architectures[0] */
    unsigned flags;   /* CONV_* */
} convert_hf_arch;

/* One model family: the HF architectures it converts, how. */
typedef struct {
    const char *gguf_arch;          /* general.architecture ("bert") */
    const convert_hf_arch *names;   /* ended by {NULL, 0} */
    /* prefixes its checkpoints may put before every tensor name ("" first) */
    const char *const *hf_prefixes; /* ended by NULL */
    /* hyper-parameters from c->config (not called with --vocab-only):
     * c->vocab, c->ctx and the default c->pooling at least */
    int (*read_config)(conv *c);
    /* the <arch>.* model keys, after general.name / file_type / alignment */
    int (*set_model_keys)(conv *c, gguf_writer *w);
    /* every tensor, through conv_tensor / conv_tensor_pair */
    int (*add_tensors)(conv *c);
} convert_family;

/* One tokenizer type. */
typedef struct {
    const char *type;   /* tokenizer.json model.type ("WordPiece") */
    /* its own file, read when the folder has no tokenizer.json ("vocab.txt");
     * NULL: tokenizer.json only */
    const char *file;
    /* general.architecture of a --vocab-only file from a folder without
     * config.json (which would name the model) */
    const char *vocab_arch;
    /* the GGUF spelling of HF token s (len bytes) into out (cap >= len + 4);
     * its length, or -1.  NULL: the bytes as they are. */
    int (*gguf_token)(const char *s, size_t len, char *out, size_t cap);
    int (*read_json)(conv *c);  /* from c->tok_json */
    int (*read_file)(conv *c);  /* from `file` (and c->tok_cfg, c->special_map) */
    int (*set_keys)(conv *c, gguf_writer *w); /* tokenizer.ggml.* and ember.tokenizer.* */
} convert_tokenizer;

extern const convert_family convert_bert;
extern const convert_family convert_jinabert;
extern const convert_family convert_qwen3;
extern const convert_tokenizer convert_tok_wordpiece;
extern const convert_tokenizer convert_tok_bpe;
extern const convert_tokenizer convert_tok_unigram;

/* The encoder families' hyper-parameters (hidden, layers, heads, ffn,
 * context, layer-norm eps, non-causal, pooling) under K's names
 * (convert_bert.c; JinaBERT's under jina-bert-v2.*). */
int conv_encoder_keys(conv *c, gguf_writer *w, const encoder_keys *K);
/* config.json's encoder sizes (hidden, ffn, layers, heads, positions, token
 * types, vocabulary) and layer_norm_eps, checked, into c. */
int conv_encoder_config(conv *c);

/* Jina's XLM-RoBERTa layout (convert_jina_xlmr.c), within the BERT family:
 * whether the checkpoint has it; its config.json keys (refusals, the
 * embedder's pooling), after the family's; its layers' tensors. */
int conv_jina_xlmr_layout(conv *c);
int conv_jina_xlmr_config(conv *c);
int conv_jina_xlmr_layers(conv *c);

#define CONV_TPL_MAX 64

struct conv {
    const convert_options *opt;
    char *err;
    size_t errlen;
    const convert_family *family;
    unsigned flags;        /* the CONV_* of the HF architecture */
    char arch_name[64];    /* the HF architecture */
    const convert_tokenizer *tok;
    json_value *config, *tok_json, *tok_cfg, *special_map;
    /* hyper-parameters (the family's read_config) */
    uint32_t hidden, ffn, layers, heads;
    uint32_t vocab;        /* rows of the token embedding: the tokenizer must have as many */
    uint32_t ctx;          /* longest input (ember.max_seq_length is cut to it) */
    uint32_t type_vocab;   /* rows of the token-type table (tokenizer.ggml.token_type_count) */
    double ln_eps;
    uint32_t max_pos, pad_id; /* BERT: position table rows, pad_token_id */
    uint32_t kv_heads, head_dim; /* Qwen3: grouped-query heads */
    double rope_theta;
    int tied;              /* tie_word_embeddings: the LM head is the embedding table */
    /* the vocabulary (conv_alloc_vocab, conv_set_token) */
    char **toks;           /* GGUF spelling, NUL-terminated */
    size_t *tok_lens;
    char **hf_toks;        /* as in the HF files (for special-token lookup) */
    int32_t *tok_types;
    uint32_t n_tok;
    /* WordPiece */
    int lowercase, strip_accents, cjk, clean_text;
    uint32_t max_chars;
    int32_t unk, sep, pad, cls, mask;
    /* byte-level BPE: merges "left right" by rank, the split pattern
     * (tokenizer.ggml.pre), llama.cpp's bos / eos / eot and whether the
     * template adds them (-1: not said) */
    char **merges;
    size_t *merge_lens;
    uint32_t n_merges;
    int pre, nfc, ignore_merges;
    int32_t bos, eos, eot;
    int add_bos, add_eos;
    /* SentencePiece Unigram: the pieces' scores, and the pipeline as
     * unigram_create takes it (its strings and charsmap owned by ug_strs
     * and ug_charsmap, its lstrip / rstrip lists by lstrip and rstrip) */
    double *scores;
    uint32_t n_pieces;
    unigram_options ug;
    char *ug_strs[2 * UG_MAX_NORM];
    uint8_t *ug_charsmap;
    int32_t mask_id;
    /* added tokens with HF's lstrip / rstrip (conv_added_flags), any model */
    int32_t *lstrip, *rstrip;
    int n_lstrip, n_rstrip;
    /* the post-processor's templates: token ids, -1 for text A, -2 for B */
    int32_t tpl_single[CONV_TPL_MAX], tpl_single_t[CONV_TPL_MAX], tpl_pair[CONV_TPL_MAX], tpl_pair_t[CONV_TPL_MAX];
    int n_single, n_pair;
    /* sentence-transformers */
    uint32_t pooling, max_seq;
    int normalize;
    char *query_prompt;    /* config_sentence_transformers.json prompts.query, or NULL */
    char *doc_prompt;      /* its prompts.document (or .passage, .corpus), or NULL */
    uint32_t mrl_min_dim;  /* Matryoshka: any cut from it up (0: none known) */
    /* weights */
    safetensors *st;
    gguf_writer *w;
    convert_summary *sum;
    void **bufs;           /* converted tensor data, kept until the file is written */
    size_t n_bufs;
};

/* Sets the message; returns -1. */
int cfail(conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* dir/name into path; whether the file exists. */
int conv_file_exists(const char *dir, const char *name, char *path, size_t cap);
/* Parses hf_dir/name; *out stays NULL when the file is absent and !required. */
int conv_load_json(conv *c, const char *name, int required, json_value **out);

/* config.json: an integer in [lo, hi] (absent and !required: def). */
int conv_cfg_u32(conv *c, const char *key, uint32_t lo, uint32_t hi, int required, uint32_t def, uint32_t *v);

/* The vocabulary: n empty entries of type normal, then each id set once
 * (a second time only to the same token) in the HF spelling and the
 * reader's GGUF one. */
int conv_alloc_vocab(conv *c, uint32_t n);
int conv_set_token(conv *c, uint32_t id, const char *s, size_t len, const char *where);
int32_t conv_tok_lookup(const conv *c, const char *s, size_t len); /* -1 if absent */
/* Special token `field` (cls_token, ...) from tokenizer_config.json, then
 * special_tokens_map.json, then the default name; its id or -1. */
int32_t conv_find_special(conv *c, const char *field, const char *def);

/* Templates: the post_processor of tokenizer.json (absent: the texts alone),
 * or [CLS] A [SEP] (B [SEP]) built from two ids, roberta with two [SEP]
 * between A and B and every type 0. */
int conv_read_post_processor(conv *c, const json_value *pp);
int conv_simple_template(conv *c, int32_t cls, int32_t sep, int roberta);
int conv_set_template_keys(conv *c, gguf_writer *w);

/* An added token's flags (tokenizer.json added_tokens[i], its content and
 * id): single_word is refused, lstrip / rstrip recorded in c->lstrip /
 * c->rstrip; conv_set_strip_keys writes them as ember.tokenizer.lstrip /
 * rstrip when there are any. */
int conv_added_flags(conv *c, const json_value *a, const char *content, uint32_t id);
int conv_set_strip_keys(conv *c, gguf_writer *w);

/* A checkpoint tensor by name, trying the family's prefixes; NULL if absent. */
const st_tensor *conv_find_tensor(conv *c, const char *name);
/* Adds GGUF tensor gname from HF tensor hname of torch shape rows x cols
 * (rows == 0: 1-D of cols), checking the shape; skip_rows drops leading
 * rows (XLM-R positions).  --dtype f16 narrows 2-D tensors unless keep_f32. */
int conv_tensor(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols,
                uint64_t skip_rows, int keep_f32);
/* Adds GGUF tensor gname (n_pick x cols) from rows pick[0..n_pick) of HF
 * tensor hname (rows x cols), as a matrix of the --dtype. */
int conv_tensor_rows(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols,
                     const uint32_t *pick, int n_pick);
/* Adds GGUF tensor gname from rows [first, first + n) of HF tensor hname
 * (rows x cols, as a matrix of the --dtype), or with rows == 0 from
 * elements [first, first + n) of the vector hname (cols long, as f32): one
 * part of a fused tensor (a query / key / value projection). */
int conv_tensor_part(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols,
                     uint64_t first, uint64_t n);
/* gname.weight (rows x cols) and gname.bias (rows, or cols when rows == 0). */
int conv_tensor_pair(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols);
#endif
