/* GGUF key names ember reads and writes.  The bert.*, jina-bert-v2.* and
 * tokenizer.ggml.* keys are llama.cpp's (gguf-py constants; note its "seperator" spelling);
 * ember.* keys are ours and are ignored by llama.cpp. */
#ifndef EMBER_MODEL_GGUF_KEYS_H
#define EMBER_MODEL_GGUF_KEYS_H
#define KEY_ARCH "general.architecture"
#define KEY_NAME "general.name"
#define KEY_FILE_TYPE "general.file_type"
#define KEY_ALIGNMENT "general.alignment"
#define KEY_CTX "bert.context_length"
#define KEY_EMBD "bert.embedding_length"
#define KEY_FFN "bert.feed_forward_length"
#define KEY_BLOCKS "bert.block_count"
#define KEY_HEADS "bert.attention.head_count"
#define KEY_LN_EPS "bert.attention.layer_norm_epsilon"
#define KEY_CAUSAL "bert.attention.causal"
#define KEY_POOLING "bert.pooling_type"
/* JinaBERT (llama.cpp's "jina-bert-v2"): the same keys under its name */
#define KEY_JINA_CTX "jina-bert-v2.context_length"
#define KEY_JINA_EMBD "jina-bert-v2.embedding_length"
#define KEY_JINA_FFN "jina-bert-v2.feed_forward_length"
#define KEY_JINA_BLOCKS "jina-bert-v2.block_count"
#define KEY_JINA_HEADS "jina-bert-v2.attention.head_count"
#define KEY_JINA_LN_EPS "jina-bert-v2.attention.layer_norm_epsilon"
#define KEY_JINA_CAUSAL "jina-bert-v2.attention.causal"
#define KEY_JINA_POOLING "jina-bert-v2.pooling_type"
/* An encoder's hyper-parameter keys, one set per architecture name (the
 * reader in bert_bind.c, the writer in convert_bert.c) */
typedef struct { const char *embd, *blocks, *heads, *ffn, *ctx, *pooling, *ln_eps, *causal; } encoder_keys;
#define ENCODER_KEYS_BERT { KEY_EMBD, KEY_BLOCKS, KEY_HEADS, KEY_FFN, KEY_CTX, KEY_POOLING, KEY_LN_EPS, KEY_CAUSAL }
#define ENCODER_KEYS_JINA { KEY_JINA_EMBD, KEY_JINA_BLOCKS, KEY_JINA_HEADS, KEY_JINA_FFN, KEY_JINA_CTX, \
                            KEY_JINA_POOLING, KEY_JINA_LN_EPS, KEY_JINA_CAUSAL }
#define KEY_TOK_MODEL "tokenizer.ggml.model"
#define KEY_TOK_TOKENS "tokenizer.ggml.tokens"
#define KEY_TOK_TYPES "tokenizer.ggml.token_type"
#define KEY_TOK_UNK "tokenizer.ggml.unknown_token_id"
#define KEY_TOK_SEP "tokenizer.ggml.seperator_token_id"
#define KEY_TOK_PAD "tokenizer.ggml.padding_token_id"
#define KEY_TOK_CLS "tokenizer.ggml.cls_token_id"
#define KEY_TOK_MASK "tokenizer.ggml.mask_token_id"
#define KEY_TOK_TYPE_COUNT "tokenizer.ggml.token_type_count"
/* byte-level BPE ("gpt2") */
#define KEY_TOK_PRE "tokenizer.ggml.pre"
#define KEY_TOK_MERGES "tokenizer.ggml.merges"
#define KEY_TOK_BOS "tokenizer.ggml.bos_token_id"
#define KEY_TOK_EOS "tokenizer.ggml.eos_token_id"
#define KEY_TOK_EOT "tokenizer.ggml.eot_token_id"
#define KEY_TOK_ADD_BOS "tokenizer.ggml.add_bos_token"
#define KEY_TOK_ADD_EOS "tokenizer.ggml.add_eos_token"
/* SentencePiece Unigram ("t5") */
#define KEY_TOK_SCORES "tokenizer.ggml.scores"
#define KEY_TOK_CHARSMAP "tokenizer.ggml.precompiled_charsmap"
#define KEY_TOK_ADD_PREFIX "tokenizer.ggml.add_space_prefix"
#define KEY_TOK_REMOVE_WS "tokenizer.ggml.remove_extra_whitespaces"
/* ... and what llama.cpp's keys do not say: HF's normalizer Sequence (step
 * names, with the Replace patterns and contents beside them), its
 * pre-tokenizers, byte_fallback, the unknown piece's score, the scores in
 * f64 when f32 would round them, how many tokens are model pieces, and the
 * added tokens that strip whitespace */
#define KEY_E_NORMALIZERS "ember.tokenizer.normalizers"
#define KEY_E_NORM_FROM "ember.tokenizer.normalizer_from"
#define KEY_E_NORM_TO "ember.tokenizer.normalizer_to"
#define KEY_E_WSPLIT "ember.tokenizer.whitespace_split"
#define KEY_E_METASPACE "ember.tokenizer.metaspace"
#define KEY_E_MS_REPLACEMENT "ember.tokenizer.metaspace_replacement"
#define KEY_E_MS_PREPEND "ember.tokenizer.prepend_scheme"
#define KEY_E_MS_SPLIT "ember.tokenizer.metaspace_split"
#define KEY_E_BYTE_FALLBACK "ember.tokenizer.byte_fallback"
#define KEY_E_UNK_SCORE "ember.tokenizer.unk_score"
#define KEY_E_SCORES_F64 "ember.tokenizer.scores_f64"
#define KEY_E_N_PIECES "ember.tokenizer.n_pieces"
#define KEY_E_LSTRIP "ember.tokenizer.lstrip"
#define KEY_E_RSTRIP "ember.tokenizer.rstrip"
#define KEY_E_NFC "ember.tokenizer.nfc"
#define KEY_E_IGNORE_MERGES "ember.tokenizer.ignore_merges"
#define KEY_E_LOWER "ember.tokenizer.lowercase"
#define KEY_E_STRIP "ember.tokenizer.strip_accents"
#define KEY_E_CJK "ember.tokenizer.handle_chinese_chars"
#define KEY_E_CLEAN "ember.tokenizer.clean_text"
#define KEY_E_MAXCHARS "ember.tokenizer.max_input_chars_per_word"
#define KEY_E_TPL_SINGLE "ember.tokenizer.template_single"
#define KEY_E_TPL_SINGLE_T "ember.tokenizer.template_single_types"
#define KEY_E_TPL_PAIR "ember.tokenizer.template_pair"
#define KEY_E_TPL_PAIR_T "ember.tokenizer.template_pair_types"
#define KEY_E_MAX_SEQ "ember.max_seq_length"
#define KEY_E_NORMALIZE "ember.normalize"
#define KEY_E_SOURCE "ember.source"
/* Matryoshka: the dimensions an embedder was trained to be cut to */
#define KEY_E_MRL_DIMS "ember.matryoshka.dims"
#define KEY_E_MRL_MIN "ember.matryoshka.min_dim"
/* instruction prompts (model/prompt.h) */
#define KEY_E_PROMPT_QUERY "ember.prompt.query_format"
#define KEY_E_PROMPT_TASK "ember.prompt.task"
#define KEY_E_PROMPT_DOC "ember.prompt.document_format"
#define KEY_E_RERANK_PREFIX "ember.rerank.prefix"
#define KEY_E_RERANK_FORMAT "ember.rerank.format"
#define KEY_E_RERANK_SUFFIX "ember.rerank.suffix"
#endif
