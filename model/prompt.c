/* Instruction prompts: reading them from the GGUF, filling them in. */
#include "model/prompt.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* An optional string key as a NUL-terminated copy: 0 (absent: *out NULL),
 * -1 when of another type, holding a NUL, or out of memory. */
static int str_key(const gguf_file *f, const char *key, char **out, char *err, size_t errlen)
{
    const char *s;
    size_t n;
    *out = NULL;
    int rc = gguf_get_str(f, key, &s, &n);
    if (rc == -1) return 0;
    if (rc != 0) return ERR("key %s must be a string", key);
    if (memchr(s, '\0', n)) return ERR("key %s holds a NUL byte", key);
    if (!(*out = malloc(n + 1))) return ERR("out of memory");
    memcpy(*out, s, n);
    (*out)[n] = '\0';
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = '\0'; }
    return d;
}

/* llama.cpp's Qwen3-Reranker template: PREFIX "<Instruct>: " TASK
 * "\n<Query>: {query}" ... "{document}" SUFFIX, the task written into it. */
static int from_chat_template(model_prompts *p, const char *tpl, char *err, size_t errlen)
{
    const char *ins = strstr(tpl, "<Instruct>: ");
    const char *q = ins ? strstr(ins, "\n<Query>: {query}") : NULL;
    const char *d = q ? strstr(q, "{document}") : NULL;
    if (!d)
        return ERR("tokenizer.chat_template.rerank is not the Qwen3-Reranker prompt ember knows "
                   "(\"<Instruct>: TASK\\n<Query>: {query}\\n<Document>: {document}\" inside the chat text)");
    const char *task = ins + strlen("<Instruct>: "), *after = d + strlen("{document}");
    size_t mid = (size_t)(after - q);
    p->rerank_prefix = dup_n(tpl, (size_t)(ins - tpl));
    p->task = p->task ? p->task : dup_n(task, (size_t)(q - task));
    p->rerank_suffix = dup_n(after, strlen(after));
    p->rerank_format = malloc(strlen("<Instruct>: {task}") + mid + 1);
    if (!p->rerank_prefix || !p->task || !p->rerank_suffix || !p->rerank_format) return ERR("out of memory");
    snprintf(p->rerank_format, strlen("<Instruct>: {task}") + mid + 1, "<Instruct>: {task}%.*s", (int)mid, q);
    return 0;
}

int prompts_load(model_prompts *p, const gguf_file *f, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    char *tpl = NULL;
    if (str_key(f, KEY_E_PROMPT_QUERY, &p->query_format, err, errlen) ||
        str_key(f, KEY_E_PROMPT_TASK, &p->task, err, errlen) ||
        str_key(f, KEY_E_PROMPT_DOC, &p->document_format, err, errlen) ||
        str_key(f, KEY_E_RERANK_PREFIX, &p->rerank_prefix, err, errlen) ||
        str_key(f, KEY_E_RERANK_FORMAT, &p->rerank_format, err, errlen) ||
        str_key(f, KEY_E_RERANK_SUFFIX, &p->rerank_suffix, err, errlen))
        goto fail;
    int have = !!p->rerank_prefix + !!p->rerank_format + !!p->rerank_suffix;
    if (have != 0 && have != 3) {
        snprintf(err, errlen, "ember.rerank.prefix, .format and .suffix go together; this file has %d of them", have);
        goto fail;
    }
    if (have == 0) {
        if (str_key(f, "tokenizer.chat_template.rerank", &tpl, err, errlen)) goto fail;
        if (tpl && from_chat_template(p, tpl, err, errlen)) goto fail;
    }
    free(tpl);
    return 0;
fail:
    free(tpl);
    prompts_free(p);
    return -1;
}

void prompts_free(model_prompts *p)
{
    free(p->query_format); free(p->document_format); free(p->task);
    free(p->rerank_prefix); free(p->rerank_format); free(p->rerank_suffix);
    memset(p, 0, sizeof *p);
}

size_t prompt_format(const char *fmt, int n, const char *const *names, const char *const *vals,
                     const size_t *lens, char *out, size_t cap)
{
    size_t len = 0;
#define PUT(src, k) do { size_t k_ = (k); if (len + k_ <= cap) memcpy(out + len, (src), k_); len += k_; } while (0)
    for (const char *s = fmt; *s;) {
        int hit = -1;
        if (*s == '{')
            for (int i = 0; i < n && hit < 0; i++) {
                size_t nl = strlen(names[i]);
                if (!strncmp(s + 1, names[i], nl) && s[1 + nl] == '}') hit = i;
            }
        if (hit >= 0) {
            PUT(vals[hit], lens[hit]);
            s += strlen(names[hit]) + 2;
        } else {
            PUT(s, 1);
            s++;
        }
    }
#undef PUT
    return len;
}
