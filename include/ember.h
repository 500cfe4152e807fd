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
    EMBER_ERR_LIMIT = 7,       /* batch/length beyond what the context was sized for */
    EMBER_ERR_NUMERIC = 8,     /* the model produced NaN or infinity (corrupt weights) */
    EMBER_ERR_BUSY = 9         /* the writer lock is held by another (ember_index_lock_acquire) */
} ember_status;

const char *ember_status_str(ember_status s);

/* The kernel table in use: "avx2", "avx512", "avx512vnni", "avx512bf16",
 * "amxbf16", "neon" or "scalar" (the best this CPU has; "amxbf16" is
 * "avx512bf16" with bf16_dot's products of 16 rows or more on AMX, where
 * the CPU has AMX-BF16 and the OS grants it), or the one the environment variable
 * EMBER_ISA names, emulated ones ("emu4", "emu8", "emu16", for tests)
 * included.  Chosen once per process. */
const char *ember_isa(void);
/* Why EMBER_ISA was not honoured (an unknown name, or an ISA this CPU or
 * build lacks: the best table is used instead), or NULL.  The library never
 * prints it; the CLI shows it on stderr. */
const char *ember_isa_note(void);

#define EMBER_MAX_MATRYOSHKA_DIMS 32

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
    const char *architecture; /* "bert", "qwen3" */
    const char *name;         /* general.name, or "" */
    int dim;                  /* embedding / hidden size */
    int n_layers, n_heads, ffn_dim;
    int max_tokens;           /* longest input the model accepts, specials included */
    int vocab_size;
    ember_pooling pooling;
    int normalize;            /* embeddings are L2-normalised by default */
    const char *weight_type;  /* "f32", "f16", "bf16" or "mixed"; "none" for a vocabulary-only file */
    uint64_t file_bytes;
    /* the file as read */
    uint32_t gguf_version;    /* 2 or 3 */
    int n_ctx;                /* position table rows: longest input the weights allow */
    float layer_norm_eps;
    const char *tokenizer;    /* tokenizer.ggml.model: "bert" (WordPiece), "gpt2" (byte-level BPE) */
    const char *query_prompt; /* how a query is written before tokenization ({task}, {text}), or NULL */
    const char *document_prompt; /* how a document is ("passage: {text}"), or NULL */
    const char *default_task; /* the task its prompts carry unless told otherwise, or NULL */
    /* Matryoshka: the leading dimensions the embedder was trained to be cut
     * to.  matryoshka_min_dim > 0: any cut from it up to dim (Qwen3-Embedding:
     * 32); matryoshka_dims: the listed cuts (n_matryoshka_dims of them,
     * ascending); neither (0, 0): the model declares none, and a cut is a
     * truncation it was not trained for. */
    int matryoshka_min_dim;
    int n_matryoshka_dims;
    const uint32_t *matryoshka_dims;
    uint64_t n_tensors, n_params;
    uint64_t n_tensors_f32, n_tensors_f16, n_tensors_bf16; /* tensors of each type */
} ember_model_info;

/* Opens a GGUF model by mmap.  NULL on error, with the reason in err. */
ember_model *ember_model_load(const char *path, char *err, size_t errlen);
void ember_model_free(ember_model *m);
void ember_model_get_info(const ember_model *m, ember_model_info *info);
const char *ember_pooling_name(ember_pooling p); /* "none", "mean", "cls", "last", "rank" */

/* The GGUF metadata of a loaded model, every key in file order (what
 * `ember info --keys` lists).  Key i: *key its name, *type its GGUF type
 * ("u8" .. "u64", "i8" .. "i64", "f32", "f64", "bool", "string", or
 * "array<T>"), and, when value is not NULL, its value as text into value
 * (cap bytes, NUL-terminated): numbers as written, strings in double quotes
 * with JSON escapes, arrays as "N items: [first, ...]"; text longer than cap
 * is cut and ends in "...".  Names and types stay valid while the model is
 * loaded.  EMBER_ERR_ARG (and *key NULL) when i is not in 0 .. count-1. */
int ember_model_meta_count(const ember_model *m);
ember_status ember_model_meta_at(const ember_model *m, int i, const char **key, const char **type,
                                 char *value, size_t cap);

typedef struct {
    int max_batch;   /* texts (or pairs) per call; default 32 */
    int max_tokens;  /* tokens per text, specials included; 0 = model's max */
    int n_threads;   /* 0 = EMBER_THREADS env, else all cores; an EMBER_THREADS that is
                        not a number in 1..1024 makes ember_ctx_create fail */
    /* bf16 weights multiply activations rounded to bf16 (nearest even) where
     * the CPU has AVX-512-BF16 (vdpbf16ps: two products per f32 lane, the
     * weights read as they are stored): faster where the CPU issues
     * vdpbf16ps faster than its f32 FMAs, or has AMX (below; vdpbf16ps
     * alone is slower on Sapphire Rapids: bench/RESULTS.md), and less exact: each
     * product's output off by up to 2^-8 (4e-3) of sum |a w|, a few 1e-3
     * on a model's normalised embeddings.  Where the CPU has AMX-BF16 and
     * Linux grants this process AMX's tile state (Sapphire Rapids onwards;
     * ember_isa() then says "amxbf16") a GEMM of 16 rows or more runs on
     * AMX's TDPBF16PS instead, the same rounded operands summed in another
     * order (the same bound); EMBER_ISA=avx512bf16 keeps vdpbf16ps.
     * Default off: bf16 weights are
     * widened to f32 and multiplied in f32, as the f32 reference does.
     * On, a text's result depends on its batch within rounding (the forms
     * of the product differ by row count), not bit for bit as when off.
     * 1 on, -1 off, 0 = the EMBER_BF16_DOT environment variable ("1" on,
     * "0" or unset off; anything else makes ember_ctx_create fail).  On a
     * CPU without AVX-512-BF16 (or with EMBER_ISA naming a table without
     * it; EMBER_ISA=emu16 emulates it) "on" is accepted and changes
     * nothing: ember_ctx_bf16_dot says which.  f32 and f16 weights are
     * never affected. */
    int bf16_dot;
} ember_ctx_params;

ember_ctx_params ember_ctx_default_params(void);
ember_ctx *ember_ctx_create(const ember_model *m, const ember_ctx_params *p,
                            char *err, size_t errlen);
void ember_ctx_free(ember_ctx *c);
const char *ember_ctx_error(const ember_ctx *c);
size_t ember_ctx_memory(const ember_ctx *c); /* bytes of scratch owned */
int ember_ctx_threads(const ember_ctx *c);
/* 1 when bf16 weights multiply bf16-rounded activations in this context
 * (ember_ctx_params.bf16_dot asked for it and the kernel table in use has
 * AVX-512-BF16's dot product: "avx512bf16", "amxbf16" (AMX from 16 rows)
 * or "emu16", as ember_isa() names it), else 0: widened to f32. */
int ember_ctx_bf16_dot(const ember_ctx *c);
int ember_ctx_max_tokens(const ember_ctx *c); /* truncation length in use */
/* How many inputs of the last ember_embed / ember_rerank call were longer
 * than the truncation length and were cut to it (0 after a failed call);
 * in sliding mode, the ones that stayed cut (ember_ctx_set_long_mode). */
int ember_ctx_truncated(const ember_ctx *c);

/* What ember_embed does with a text longer than the context's max_tokens,
 * and ember_rerank with a (query, document) pair longer than it.
 * EMBER_LONG_TRUNCATE (the default): it is cut to max_tokens, as
 * HuggingFace's truncation=True cuts it (ember_ctx_truncated counts it): a
 * text at its end; a cross-encoder's pair longest_first, that is, with B
 * the tokens the specials leave, a query of at most B / 2 tokens kept
 * whole and the document cut to the rest, else the shorter side cut to
 * B / 2 (rounded down) unless it has fewer and the longer one to the rest;
 * a chat-prompt reranker's (Qwen3-Reranker's) pair written into its
 * format and cut at the end, the prompt's fixed ends kept.
 * EMBER_LONG_SLIDING, embedders: a long text is embedded as overlapping
 * windows and their mean:
 *   - its content tokens (the text's, without the template's special tokens
 *     and without its query or document prompt) are cut into
 *     windows of W tokens, W being what max_tokens leaves beside the
 *     specials (BERT's [CLS] and [SEP], Qwen3's appended <|endoftext|>)
 *     and the prompt's tokens (as many as the prompt has alone, a space
 *     that ends it left out, taken from the start of the text's encoding);
 *   - window k starts at k * (W - overlap), the last one shifted back to
 *     end where the text ends (so it overlaps its neighbour more); overlap
 *     is the one given here, or W / 4 (rounded down) when it is negative;
 *   - each window is wrapped like any input (specials, and the prompt
 *     before it), embedded and pooled as the model pools, before
 *     normalisation; their plain mean is the text's vector, L2-normalised
 *     when the model normalises (unless EMBER_EMBED_NO_NORMALIZE).
 * EMBER_LONG_SLIDING, rerankers: a long pair is scored as windows of its
 * document, and its logit is the largest of theirs (what
 * jina-reranker-v2's own rerank() does: the best window's score):
 *   - every window holds the query as the cut pair holds it (for a
 *     cross-encoder: whole when it takes at most B / 2 tokens, else cut
 *     longest_first as above; for a chat-prompt reranker: the prompt's text
 *     before the document, that is, its instruction, the query and their
 *     labels, whole, as many tokens as it has alone, whitespace before the
 *     document left to the document) and W tokens of the document, W being
 *     what max_tokens leaves beside those and the specials (BERT: [CLS] q
 *     [SEP] d [SEP]; XLM-R: <s> q </s></s> d </s>; Qwen3-Reranker: the
 *     document's window in the prompt's {document}, the prompt's fixed
 *     ends around it);
 *   - the document's tokens (encoded alone for a cross-encoder; for a chat
 *     prompt, those after the prompt's text before it in the encoding of
 *     the whole formatted pair) are windowed as a text's above: window k
 *     at k * (W - overlap), the last one shifted back to end with the
 *     document, overlap the one given or W / 4;
 *   - jina-reranker-v2's rerank() cuts its query to 512 of its 1024 tokens
 *     (specials included) and shares min(80, W / 4) tokens: at max_tokens
 *     1024 its windows are these with an overlap of 80 given here (but for
 *     a query of over 510 tokens beside a document of at most 510, which
 *     it cuts to 510 and ember cuts as truncation does);
 *   - a pair whose document fits beside a cut query (a cross-encoder's long
 *     query beside a short document), or whose prompt text before the
 *     document leaves no room for it (or a chat format with text after
 *     {document}), stays cut, counted by ember_ctx_truncated.
 * An input that fits in max_tokens is embedded or scored exactly (bit for
 * bit) as in truncate mode, and so are the other inputs of a call around
 * a long one: a long input's first window is its cut input, batched where
 * truncation would batch it.  Its other windows run max_batch (and as
 * many as fit in the context's rows) at a time, in the context's scratch:
 * nothing is allocated per call; the price is that each pass tokenizes the
 * text (the document, the formatted pair) again from its start, so the
 * tokenizer's work grows with the square of its length in passes.  A text
 * whose prompt leaves no room for a window (or whose prompt has text after
 * {text}) stays cut, counted by ember_ctx_truncated.
 * EMBER_ERR_UNSUPPORTED for sliding on a vocabulary-only file.
 * EMBER_ERR_ARG for an unknown mode, or an overlap that is not below the
 * longest window a document can have (max_tokens less the specials, and
 * less a chat prompt's fixed ends); a text whose prompt (or, for a pair,
 * whose share) leaves a window no larger than that overlap fails in
 * ember_embed / ember_rerank with EMBER_ERR_ARG. */
typedef enum { EMBER_LONG_TRUNCATE = 0, EMBER_LONG_SLIDING = 1 } ember_long_mode;
ember_status ember_ctx_set_long_mode(ember_ctx *c, ember_long_mode mode, int overlap);
/* Of the last ember_embed or ember_rerank call (0 after a failed one): how
 * many texts or pairs were embedded or scored as sliding windows (inputs
 * longer than max_tokens), and how many windows they gave together. */
int ember_ctx_split(const ember_ctx *c);
int ember_ctx_windows(const ember_ctx *c);
/* The task written into the model's prompts from now on: a query's
 * (EMBER_EMBED_QUERY) and an instruction-following reranker's (Qwen3-Reranker:
 * "<Instruct>: {task}"); NULL or "" restores the model's default task.
 * Copied.  EMBER_ERR_NOMEM, or EMBER_ERR_TEXT when not valid UTF-8. */
ember_status ember_ctx_set_instruction(ember_ctx *c, const char *task);
/* A literal text written before every text ember_embed embeds from now on,
 * query or document, instead of the model's query and document prompts
 * (its braces are text, not {names}); "" embeds texts as they are, NULL
 * restores the model's prompts.  Long texts in sliding windows lead every
 * window with it, as with a prompt.  Copied.  EMBER_ERR_NOMEM, or
 * EMBER_ERR_TEXT when not valid UTF-8. */
ember_status ember_ctx_set_prefix(ember_ctx *c, const char *prefix);

/* Texts: UTF-8; lens[i] gives byte lengths (NULL: NUL-terminated strings).
 * Inputs longer than the context's max_tokens are truncated (as HuggingFace
 * does with truncation=True), or embedded as sliding windows when
 * ember_ctx_set_long_mode asks; never rejected. */
/* EMBER_EMBED_QUERY: each text is a query, written into the model's query
 * prompt first (Qwen3-Embedding: "Instruct: {task}\nQuery:{text}", the task
 * from ember_ctx_set_instruction or the model's default; multilingual-e5:
 * "query: {text}").  Without it each text is a document, written into the
 * model's document prompt (multilingual-e5: "passage: {text}").  A model
 * without the prompt (ember_model_info.query_prompt / document_prompt NULL)
 * embeds the text as it is, and so does every model after
 * ember_ctx_set_prefix(c, ""). */
enum { EMBER_EMBED_NO_NORMALIZE = 1, EMBER_EMBED_QUERY = 2 };
/* out: n x dim floats, row i for texts[i].  n may exceed max_batch: the call
 * then works through the texts in chunks of max_batch.  A text's vector
 * never depends on the other texts of the call: batched, in any chunk, it
 * has the bits it has alone (and so does a pair's logit in ember_rerank),
 * for every thread count; with bf16_dot on, equal within rounding only.
 * Embeddings and logits are checked to be finite: a NaN or infinity (corrupt
 * weights) is EMBER_ERR_NUMERIC, with a message naming the model file. */
ember_status ember_embed(ember_ctx *c, const char *const *texts,
                         const size_t *lens, int n, int flags, float *out);

/* Cross-encoder: logits[i] = score of (query, docs[i]).  The probability is
 * ember_sigmoid(logits[i]).  Non-finite logits: EMBER_ERR_NUMERIC.  A
 * decoder reranker (Qwen3-Reranker) reads the pair in its chat prompt, with
 * the task of ember_ctx_set_instruction, and scores logit("yes") -
 * logit("no") at the last position; the context's max_tokens counts the
 * whole prompt and only the (query, document) part is cut to fit.  A pair
 * longer than max_tokens is cut, or scored as windows of its document
 * (ember_ctx_set_long_mode). */
ember_status ember_rerank(ember_ctx *c, const char *query, size_t query_len,
                          const char *const *docs, const size_t *doc_lens,
                          int n, float *logits);
float ember_sigmoid(float x);

/* Tokenizes one text or a pair (pair == NULL for a single text) exactly as
 * the model's HuggingFace tokenizer does.  max_length 0 = no truncation.
 * Writes up to cap ids (and type ids if type_ids != NULL); *n_out gets the
 * count.  EMBER_ERR_LIMIT if cap is too small, EMBER_ERR_ARG if max_length
 * leaves no room beside the special tokens, EMBER_ERR_TEXT for invalid UTF-8.
 * A cap of 3 ids per byte of text (and pair) plus 16 always suffices: a
 * byte-level BPE tokenizer's NFC can make a text three times as long. */
ember_status ember_tokenize(ember_ctx *c, const char *text, size_t len,
                            const char *pair, size_t pair_len, int add_special,
                            int max_length, int32_t *ids, int32_t *type_ids,
                            int cap, int *n_out);

/* Normalises v (n floats) to unit L2 length in place; zero vectors stay zero. */
void ember_l2_normalize(float *v, int n);

/* ---- Vector index: exact, HNSW or IVF-PQ over f32, int8 or binary vectors.
 *
 * Vectors and queries are given as f32 (n x dim, row-major); the index
 * stores them as its store type (int8: per-dimension ranges calibrated on the
 * first batch or on ember_index_train; binary: sign bits).  Ids are 0 ..
 * 2^63-1 (INT64_MAX), each held once: negative ids are refused, and so is an
 * id the index already holds (replace it with ember_index_upsert).  Scores: ip and cosine report the inner product (higher is better),
 * l2 the squared distance and hamming the bit distance (lower is better); a
 * binary index with rescore reports the rescored inner product.  Results are
 * best first; when fewer than k vectors exist the rest is id -1, score NAN.
 *
 * Thread-safety: ember_index_search may run from many threads at once on one
 * index (its message goes to the caller's err); every other call on an index
 * must not overlap with anything else on it.  Messages of the others are in
 * ember_index_error().  Memory: an opened index is mmapped and searched in
 * place; add, delete and compact copy it into memory first.  A search keeps
 * its scratch in the index for the next one (2 bytes per vector for an HNSW
 * walk, plus its beams and query buffers, per search running at once),
 * freed with the index: a stream of searches allocates nothing. */
typedef struct ember_index ember_index;
typedef enum { EMBER_INDEX_FLAT = 1, EMBER_INDEX_HNSW = 2, EMBER_INDEX_IVFPQ = 3 } ember_index_type;
typedef enum { EMBER_METRIC_IP = 1, EMBER_METRIC_COSINE = 2, EMBER_METRIC_L2 = 3, EMBER_METRIC_HAMMING = 4 } ember_metric;
typedef enum { EMBER_STORE_F32 = 1, EMBER_STORE_INT8 = 2, EMBER_STORE_BINARY = 3 } ember_store;

typedef struct {
    int M;               /* HNSW links per node (2M on layer 0); default 16 */
    int ef_construction; /* HNSW build beam; default 200 */
    uint64_t seed;       /* HNSW levels, k-means; default 42 */
    int rescore;         /* binary store: keep int8 copies to rescore hits with the f32 query */
    int nlist;           /* IVF-PQ coarse lists; default 256 */
    int pq_m;            /* IVF-PQ sub-quantizers; 0 = dim / 8; code bytes pq_m * pq_bits / 8 */
    int refine;          /* IVF-PQ, or HNSW over an int8 store: keep f32 copies and re-rank
                            candidates exactly on them (such an HNSW is built on the f32
                            copies and walked on the int8 codes); + dim x 4 bytes a vector */
    int pq_bits;         /* IVF-PQ code width: 8 (default; 0 means 8) or 4 (16 codewords a
                            sub-space, searched by the SIMD fast-scan kernel; pq_m even, <= 256) */
} ember_index_params;

typedef struct {
    int ef_search;       /* HNSW beam (>= k); 0 = max(64, k) */
    int rescore_mult;    /* binary + rescore: Hamming candidates per result; default 4 */
    int nprobe;          /* IVF-PQ lists visited; default 16 */
    int refine_factor;   /* IVF-PQ + refine: candidates per result; default 4 */
    int ef_upper;        /* HNSW beam on layer 1, seeding layer 0; 1 = greedy descent
                            (hnswlib's); 0 = default 8 */
} ember_search_params;

typedef struct {
    ember_index_type type;
    ember_metric metric;
    ember_store store;
    int dim;
    size_t count;            /* live vectors */
    size_t deleted;          /* deleted, not yet compacted away */
    size_t bytes_per_vector; /* stored bytes per vector (codes, id, links, copies), texts excluded */
    int mapped;              /* searched in place from its file */
    /* how it was built (0 where it does not apply) */
    int M, ef_construction;  /* HNSW */
    int nlist, pq_m, pq_bits;/* IVF-PQ */
    int rescore;             /* binary: int8 copies kept to rescore hits */
    int refine;              /* IVF-PQ, int8 HNSW: f32 copies kept to re-rank candidates */
} ember_index_info;

/* Names as the CLI and the file use them: "flat", "hnsw", "ivfpq"; "ip",
 * "cosine", "l2", "hamming"; "f32", "int8", "binary" ("?" for a value not
 * in the enum). */
const char *ember_index_type_name(ember_index_type t);
const char *ember_metric_name(ember_metric m);
const char *ember_store_name(ember_store s);
/* The enums from those names; a NULL name leaves its output as it is.
 * EMBER_ERR_ARG for an unknown name, the names accepted in err. */
ember_status ember_index_parse_names(const char *type, const char *metric, const char *store,
                                     ember_index_type *t, ember_metric *m, ember_store *s,
                                     char *err, size_t errlen);
/* 1 when refine applies: IVF-PQ (any store), or HNSW over int8 (elsewhere
 * distances are exact already, and ember_index_create refuses refine). */
int ember_index_refine_applies(ember_index_type type, ember_store store);

/* Largest id an index may hold (ids are 0 .. EMBER_INDEX_ID_MAX). */
#define EMBER_INDEX_ID_MAX INT64_MAX

ember_index_params ember_index_default_params(void);
ember_search_params ember_search_default_params(void);
/* metric must fit the store: hamming for binary, and only for binary. */
ember_index *ember_index_create(ember_index_type type, ember_metric metric, ember_store store, int dim,
                                const ember_index_params *p, char *err, size_t errlen);
ember_index *ember_index_open(const char *path, char *err, size_t errlen);
void ember_index_free(ember_index *x);
const char *ember_index_error(const ember_index *x);
/* Fixes int8 ranges and IVF-PQ quantizers from n sample vectors without
 * adding them (otherwise the first ember_index_add does); before any add. */
ember_status ember_index_train(ember_index *x, const float *vecs, size_t n, int n_threads);
/* texts: NULL, or n NUL-terminated strings (NULL entries allowed) kept for display.
 * All or nothing: a batch with a negative id, an id twice, or an id already
 * in the index is refused whole (EMBER_ERR_ARG, the id in the message); out
 * of memory (EMBER_ERR_NOMEM) leaves the index as it was, but for the
 * training a first batch does. */
ember_status ember_index_add(ember_index *x, const float *vecs, const int64_t *ids,
                             const char *const *texts, size_t n, int n_threads);
/* As ember_index_add, except that an id already in the index is replaced:
 * its old vector is deleted (as ember_index_delete) once the new one is in,
 * and ember_index_text returns the new text.  Ids new to the index are added. */
ember_status ember_index_upsert(ember_index *x, const float *vecs, const int64_t *ids,
                                const char *const *texts, size_t n, int n_threads);
/* EMBER_ERR_ARG if no live vector has id; EMBER_ERR_NOMEM if an opened
 * (mapped) index cannot be copied into memory to change it. */
ember_status ember_index_delete(ember_index *x, int64_t id);
/* Drops deleted vectors.  Out of memory before anything moved (copying an
 * opened index): EMBER_ERR_NOMEM, nothing changed.  Out of memory later,
 * while rebuilding the id table or graph over the moved vectors:
 * EMBER_ERR_NOMEM, every vector kept, and every other call on the index is
 * refused (EMBER_ERR_NOMEM, "incomplete") until a compact succeeds. */
ember_status ember_index_compact(ember_index *x, int n_threads);
/* nq queries -> k ids and scores each (out_ids, out_scores: nq x k). */
ember_status ember_index_search(const ember_index *x, const float *queries, size_t nq, int k,
                                const ember_search_params *sp, int64_t *out_ids, float *out_scores,
                                int n_threads, char *err, size_t errlen);
/* Written to a new temporary beside path, fsynced, renamed over path (the
 * directory fsynced): readers see the old file or the new one.  Writers of
 * one path must take turns (ember_index_lock_acquire); readers never need
 * to. */
ember_status ember_index_save(ember_index *x, const char *path);
void ember_index_get_info(const ember_index *x, ember_index_info *info);
/* Stored text of id (not NUL-terminated; *len bytes), or NULL. */
const char *ember_index_text(const ember_index *x, int64_t id, size_t *len);
/* Free-form text kept in the index file, at most 255 bytes (ember index
 * keeps "model=NAME dim=N" there); EMBER_ERR_LIMIT, nothing changed, when
 * longer.  ember_index_meta gives it back ("" when none). */
ember_status ember_index_set_meta(ember_index *x, const char *meta);
const char *ember_index_meta(const ember_index *x);
/* Ids: 1 when a live vector holds id; the largest id any stored vector has
 * had, deleted ones included (-1 when none): new documents numbered after it
 * never take the id of a deleted one. */
int ember_index_contains(const ember_index *x, int64_t id);
int64_t ember_index_id_max(const ember_index *x);
/* Live vectors that share their id with a newer live one: none in an index
 * written by this version; a file written before ids were unique may hold
 * some (ember_index_text then gives each the newest one's text, and a
 * search may return such an id twice).  Rebuild, or delete and re-add them. */
size_t ember_index_duplicate_ids(const ember_index *x);
/* Progress of the long phases of the adds, trainings, compactions and saves
 * that follow: "train" (IVF-PQ k-means iterations), "encode" (IVF-PQ codes),
 * "link" (HNSW graph insertions), "write" (bytes checksummed and written);
 * done of total steps.  Called from the calling thread, at most every 100 ms
 * and once more at the end of each phase (done == total); the callback must
 * not call into this index.  fn NULL: none (the default).  The library never
 * prints: drawing is the caller's. */
typedef void (*ember_progress_fn)(void *user, const char *phase, size_t done, size_t total);
void ember_index_set_progress(ember_index *x, ember_progress_fn fn, void *user);

/* Writers of one index file take turns.  ember_index_save replaces the file
 * by rename, so two processes that each open, change and save it would lose
 * one's changes.  The writer lock is an advisory lock (flock) on
 * "<path>.lock" beside the index (created if absent, left in place), held
 * until ember_index_lock_release or until the process ends, however it
 * ends; readers never take it.  Take it before ember_index_open of a file
 * you will save over (or before building one at path): what you open is
 * then the latest, and nobody writes it until you release.  Taking it also
 * removes the temporaries of writers killed before their rename.
 * wait 0: EMBER_ERR_BUSY at once when it is held (by another process, or
 * by another lock of this one on the same path); 1: block until it is free.  *lock is NULL on any failure (EMBER_ERR_IO: the lock
 * file cannot be made or locked, the reason in err). */
typedef struct ember_index_lock ember_index_lock;
ember_status ember_index_lock_acquire(const char *path, int wait, ember_index_lock **lock,
                                      char *err, size_t errlen);
void ember_index_lock_release(ember_index_lock *lock); /* NULL: nothing */

#ifdef __cplusplus
}
#endif
#endif
