/* Instruction prompts: how a model wants a query (Qwen3-Embedding: an
 * instruction line before it) or a (query, document) pair (Qwen3-Reranker:
 * a chat prompt asking for "yes" or "no"), or a document (multilingual-e5:
 * "passage: " before it) written before tokenization.
 *
 * GGUF keys (ember's; llama.cpp keeps only its rerank chat template):
 *   ember.prompt.query_format   "Instruct: {task}\nQuery:{text}"
 *   ember.prompt.task           the default task, "Given a web search query, ..."
 *   ember.prompt.document_format  "passage: {text}" (a text embedded without
 *                               EMBER_EMBED_QUERY is a document)
 *   ember.rerank.prefix         the chat text before the formatted pair
 *   ember.rerank.format         "<Instruct>: {task}\n<Query>: {query}\n<Document>: {document}"
 *   ember.rerank.suffix         the chat text after it
 * A file without the rerank keys but with llama.cpp's
 * tokenizer.chat_template.rerank gets them from that template. */
#ifndef EMBER_MODEL_PROMPT_H
#define EMBER_MODEL_PROMPT_H
#include <stddef.h>

#include "model/gguf.h"

typedef struct {
    char *query_format;  /* NULL: queries are embedded as they are */
    char *document_format; /* NULL: documents are embedded as they are */
    char *task;          /* default {task}; NULL: none */
    char *rerank_prefix, *rerank_format, *rerank_suffix; /* all three or none */
} model_prompts;

/* Reads the keys above; 0 ok (absent keys leave NULLs), -1 with a message
 * (a key of the wrong type, a rerank template ember cannot take apart). */
int prompts_load(model_prompts *p, const gguf_file *f, char *err, size_t errlen);
void prompts_free(model_prompts *p);

/* Writes fmt with each {name} replaced by its value (names[i] -> vals[i],
 * lens[i] bytes) into out; returns the length written, or the length needed
 * when it exceeds cap (out then holds nothing useful).  Unknown {..} and
 * lone braces are copied as they are. */
size_t prompt_format(const char *fmt, int n, const char *const *names, const char *const *vals,
                     const size_t *lens, char *out, size_t cap);
#endif
