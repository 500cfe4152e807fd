/* Internal view of a loaded model and of a context (the public handles). */
#ifndef EMBER_MODEL_MODEL_H
#define EMBER_MODEL_MODEL_H

#include "ember.h"
#include "model/arch.h"
#include "model/bert.h"
#include "model/qwen3.h"
#include "model/prompt.h"
#include "model/gguf.h"
#include "tokenizer/tok_model.h"
#include "tokenizer/encode.h"

#define EMBER_ERR_LEN 512

struct ember_model {
    gguf_file *gguf;
    const model_arch *arch;     /* general.architecture's entry (arch.c) */
    int has_weights;            /* 0: vocab-only file, tokenization only */
    model_dims dims;            /* filled by arch->bind */
    /* arch's weights, each architecture's own member: a union rather than a
     * pointer, so they need no allocation of their own and each arch reads
     * its member typed (model.h includes every architecture's header) */
    union {
        bert_weights bert;
        qwen3_weights qwen3;
    } w;
    ember_kind kind;
    ember_pooling pooling;
    int normalize;
    /* Matryoshka (ember.matryoshka.*): any cut from mrl_min_dim up, or the
     * listed ones; neither declared: 0 and 0 */
    int mrl_min_dim, n_mrl_dims;
    uint32_t mrl_dims[EMBER_MAX_MATRYOSHKA_DIMS];
    int max_tokens;             /* truncation length, specials included */
    tok_model *tok;             /* WordPiece or BPE behind one interface */
    tok_template tpl;
    int32_t pad_id;
    model_prompts prompts;      /* query and rerank prompts (prompt.h) */
    int32_t *rerank_prefix_ids, *rerank_suffix_ids; /* the rerank prompt's fixed ends, tokenized once */
    int n_rerank_prefix, n_rerank_suffix;
    char arch_name[32];         /* general.architecture as read (a vocabulary-only file may name any) */
    char name[128], wtype[8];
    char tok_model[32];         /* tokenizer.ggml.model, for info */
    char *path;                 /* as given to ember_model_load, for messages */
    uint64_t file_bytes;
};

struct ember_ctx {
    const ember_model *m;
    const kern_ops *k;
    int max_batch, max_tokens, max_rows, n_threads;
    int bf16_dot;               /* ember_ctx_params.bf16_dot resolved: 1 asked for (k may lack it) */
    union {                     /* arch's scratch, carved by arch->scratch_init */
        bert_scratch bert;
        qwen3_scratch qwen3;
    } s;
    float *block;               /* the one scratch allocation (aligned) */
    size_t block_bytes;
    /* token staging for one chunk: (max_rows) each, and (max_batch + 1) offsets */
    int32_t *ids, *type_ids, *pos_ids;
    int *off;
    int *keep;                  /* (max_batch) the row each sequence is pooled or scored from */
    int32_t *tok_ids, *tok_types; /* one text's tokens (max_tokens + 1) */
    float *head_tmp;            /* 2 * hidden, for arch->rank_head */
    int n_truncated;            /* inputs the last embed / rerank call cut to max_tokens */
    /* long texts (ember_ctx_set_long_mode, sliding.c) */
    ember_long_mode long_mode;
    int long_overlap;           /* tokens two windows share; < 0: a quarter of the window */
    int n_split, n_windows;     /* texts (pairs) the last embed (rerank) call split, and their windows */
    unsigned char *long_seq;    /* (max_batch) 1 where a staged sequence is a long input's first window */
    int32_t *slide_ids;         /* (max_rows) the content tokens of one pass of windows */
    float *slide_vec;           /* (hidden) one window's pooled vector; embedders only */
    char *task;                 /* ember_ctx_set_instruction's, or NULL: the model's */
    char *prefix;               /* ember_ctx_set_prefix's (maybe ""), or NULL: the model's prompts */
    char *fmt;                  /* a prompt written out, grown to the longest so far */
    size_t fmt_cap;
    size_t bytes;
    char err[EMBER_ERR_LEN];
};

/* An integer key as u32 within [lo, hi]: 0 ok (absent and !required: def),
 * -1 with a message when absent and required, of a non-integer type,
 * negative or out of range (checked before narrowing). */
int model_key_u32(const gguf_file *f, const char *key, uint32_t lo, uint32_t hi, int required,
                  uint32_t def, uint32_t *v, char *err, size_t errlen);
/* A bool key: 0 ok (absent: def), -1 with a message when of another type. */
int model_key_bool(const gguf_file *f, const char *key, int def, int *v, char *err, size_t errlen);

/* Binding tensors (bind.c), for the architectures' bind: a 2-D weight
 * (rows, cols) == ne {cols, rows} of any weight type ember reads (rows < 0:
 * any count), and a 1-D f32 vector of n.  optional: an absent tensor leaves
 * the view empty (NULL) and is not an error.  0 ok, -1 with a message. */
int model_bind_mat(const gguf_file *f, const char *name, int rows, int cols, int optional,
                   model_mat *m, char *err, size_t errlen);
int model_bind_vec(const gguf_file *f, const char *name, int n, int optional,
                   const float **v, char *err, size_t errlen);
/* Builds m->tok and m->tpl from tokenizer.ggml.* / ember.tokenizer.* keys. */
int model_tokenizer_bind(ember_model *m, char *err, size_t errlen);
#endif
