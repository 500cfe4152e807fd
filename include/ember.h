/* ember — text embeddings, cross-encoder reranking and vector search in C.
 *
 * One header, opaque handles, status codes.  Every call that can fail returns
 * an ember_status (or NULL) and leaves a human-readable message: on a context
 * in ember_ctx_error(), for calls without a context in the caller's `err`
 * buffer (may be NULL).  The library never exits or aborts.
 *
 * Thread-safety: an ember_model is immutable after loading and may be shared
 * by any number of threads.  An ember_ctx owns all scratch memory of one
 * inference stream: use one context per thread.  Each context may itself use
 * several OpenMP threads (ember_ctx_params.n_threads).
 *
 * Memory: weights are mmapped from the GGUF file, never copied.  A context
 * allocates its scratch once, at creation, sized by the caller's max_batch and
 * max_tokens; ember_ctx_memory() reports it.  Embedding and scoring calls
 * allocate nothing. */
#ifndef EMBER_H
#define EMBER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMBER_VERSION "0.1.0"

typedef enum {
    EMBER_OK = 0,
    EMBER_ERR_ARG = 1,         /* bad argument (NULL, size out of range) */
    EMBER_ERR_IO = 2,          /* file cannot be opened, read or written */
    EMBER_ERR_FORMAT = 3,      /* file is corrupt, truncated or inconsistent */
    EMBER_ERR_UNSUPPORTED = 4, /* valid but not supported (architecture, dtype) */
    EMBER_ERR_NOMEM = 5,
    EMBER_ERR_TEXT = 6,        /* input text is not valid UTF-8 */
    EMBER_ERR_LIMIT = 7        /* batch/length beyond what the context was sized for */
} ember_status;

const char *ember_status_str(ember_status s);

typedef struct ember_model ember_model;
typedef struct ember_ctx ember_ctx;

typedef enum {
    EMBER_KIND_EMBEDDER = 0, /* bi-encoder: text -> vector */
    EMBER_KIND_RERANKER = 1, /* cross-encoder: (query, document) -> logit */
    EMBER_KIND_TOKENIZER = 2 /* vocab-only file: tokenization only */
} ember_kind;

typedef enum {
    EMBER_POOL_NONE = 0, EMBER_POOL_MEAN = 1, EMBER_POOL_CLS = 2,
    EMBER_POOL_LAST = 3, EMBER_POOL_RANK = 4
} ember_pooling;

typedef struct {
    ember_kind kind;
    const char *architecture; /* "bert" */
    const char *name;         /* general.name, or "" */
    int dim;                  /* embedding / hidden size */
    int n_layers, n_heads, ffn_dim;
    int max_tokens;           /* longest input the model accepts, specials included */
    int vocab_size;
    ember_pooling pooling;
    int normalize;            /* embeddings are L2-normalised by default */
    const char *weight_type;  /* "f32", "f16", "bf16" or "mixed" */
    uint64_t file_bytes;
} ember_model_info;

/* Opens a GGUF model by mmap.  NULL on error, with the reason in err. */
ember_model *ember_model_load(const char *path, char *err, size_t errlen);
void ember_model_free(ember_model *m);
void ember_model_get_info(const ember_model *m, ember_model_info *info);

typedef struct {
    int max_batch;   /* texts (or pairs) per call; default 32 */
    int max_tokens;  /* tokens per text, specials included; 0 = model's max */
    int n_threads;   /* 0 = EMBER_THREADS env, else all cores */
} ember_ctx_params;

ember_ctx_params ember_ctx_default_params(void);
ember_ctx *ember_ctx_create(const ember_model *m, const ember_ctx_params *p,
                            char *err, size_t errlen);
void ember_ctx_free(ember_ctx *c);
const char *ember_ctx_error(const ember_ctx *c);
size_t ember_ctx_memory(const ember_ctx *c); /* bytes of scratch owned */
int ember_ctx_threads(const ember_ctx *c);
int ember_ctx_max_tokens(const ember_ctx *c); /* truncation length in use */

/* Texts: UTF-8; lens[i] gives byte lengths (NULL: NUL-terminated strings).
 * Inputs longer than the context's max_tokens are truncated (as HuggingFace
 * does with truncation=True), never rejected. */
enum { EMBER_EMBED_NO_NORMALIZE = 1 };
/* out: n x dim floats, row i for texts[i].  n may exceed max_batch: the call
 * then works through the texts in chunks of max_batch. */
ember_status ember_embed(ember_ctx *c, const char *const *texts,
                         const size_t *lens, int n, int flags, float *out);

/* Cross-encoder: logits[i] = score of (query, docs[i]).  The probability is
 * ember_sigmoid(logits[i]). */
ember_status ember_rerank(ember_ctx *c, const char *query, size_t query_len,
                          const char *const *docs, const size_t *doc_lens,
                          int n, float *logits);
float ember_sigmoid(float x);

/* Tokenizes one text or a pair (pair == NULL for a single text) exactly as
 * the model's HuggingFace tokenizer does.  max_length 0 = no truncation.
 * Writes up to cap ids (and type ids if type_ids != NULL); *n_out gets the
 * count.  EMBER_ERR_LIMIT if cap is too small. */
ember_status ember_tokenize(ember_ctx *c, const char *text, size_t len,
                            const char *pair, size_t pair_len, int add_special,
                            int max_length, int32_t *ids, int32_t *type_ids,
                            int cap, int *n_out);

/* Normalises v (n floats) to unit L2 length in place; zero vectors stay zero. */
void ember_l2_normalize(float *v, int n);

#ifdef __cplusplus
}
#endif
#endif
