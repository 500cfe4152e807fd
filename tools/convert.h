/* HuggingFace checkpoint folder -> GGUF (llama.cpp's conventions plus
 * ember.* keys for what llama.cpp does not record: normalizer flags, the
 * post-processor template, pooling/normalize of sentence-transformers).
 * Supported (the tables of convert.c): BertModel,
 * BertForSequenceClassification, XLMRobertaModel,
 * XLMRobertaForSequenceClassification (WordPiece or Unigram tokenizers),
 * JinaBertForSequenceClassification (jina-reranker-v1), and Qwen3
 * (Qwen3-Embedding, Qwen3-Reranker). */
#ifndef EMBER_TOOLS_CONVERT_H
#define EMBER_TOOLS_CONVERT_H
#include <stddef.h>
#include <stdint.h>

enum { CONVERT_F32 = 0, CONVERT_F16 = 1, CONVERT_BF16 = 2 };
/* what a checkpoint that could be either is converted as (Qwen3ForCausalLM) */
enum { CONVERT_KIND_AUTO = 0, CONVERT_KIND_EMBED = 1, CONVERT_KIND_RERANK = 2 };

typedef struct {
    const char *hf_dir;
    const char *out_path;
    int dtype;       /* CONVERT_F32 / CONVERT_F16 / CONVERT_BF16 (2-D matrices only) */
    int kind;        /* CONVERT_KIND_*: AUTO decides from the folder */
    int vocab_only;  /* general.architecture + tokenizer keys, no tensors */
    /* --matryoshka-dims: the cuts an embedder was trained for (ascending),
     * written as ember.matryoshka.dims; 0 of them: what the family knows */
    int n_matryoshka_dims;
    uint32_t matryoshka_dims[32];
    /* --query-prefix / --document-prefix: literal texts an embedder puts
     * before a query / a document (multilingual-e5: "query: ", "passage: "),
     * in place of config_sentence_transformers.json's prompts; NULL: those */
    const char *query_prefix, *document_prefix;
} convert_options;

/* What was written (for the CLI summary). */
typedef struct {
    char arch[64];          /* HF architecture */
    uint32_t n_tensors, n_vocab, pooling, max_seq_length;
    uint64_t n_params;
    int normalize;
} convert_summary;

/* 0 ok, -1 error (message in err names the file / key / tensor). */
int convert_hf_to_gguf(const convert_options *opt, convert_summary *sum, char *err, size_t errlen);
#endif
