#include "tokenizer/tok_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct tok_model {
    const tok_model_ops *ops;
    void *impl;
};

tok_model *tok_model_wrap(const tok_model_ops *ops, void *impl, char *err, size_t errlen)
{
    if (!ops || !impl || !ops->encode || !ops->n_tokens || !ops->token || !ops->find || !ops->free) {
        if (ops && ops->free && impl)
            ops->free(impl);
        if (err && errlen)
            snprintf(err, errlen, "tok_model_wrap: incomplete tokenizer");
        return NULL;
    }
    tok_model *m = malloc(sizeof *m);
    if (!m) {
        ops->free(impl);
        if (err && errlen)
            snprintf(err, errlen, "tok_model_wrap: out of memory");
        return NULL;
    }
    m->ops = ops;
    m->impl = impl;
    return m;
}

void tok_model_free(tok_model *m)
{
    if (!m)
        return;
    m->ops->free(m->impl);
    free(m);
}

int tok_model_encode(const tok_model *m, const char *text, size_t len, int32_t *ids, int cap,
                     int max_tokens, char *err, size_t errlen)
{
    return tok_model_encode_from(m, text, len, 0, ids, cap, max_tokens, err, errlen);
}

int tok_model_encode_from(const tok_model *m, const char *text, size_t len, int skip, int32_t *ids, int cap,
                          int max_tokens, char *err, size_t errlen)
{
    if (!m) {
        if (err && errlen)
            snprintf(err, errlen, "tok_model_encode: NULL tokenizer");
        return TOK_ERR_ARG;
    }
    return m->ops->encode(m->impl, text, len, skip, ids, cap, max_tokens, err, errlen);
}

int32_t tok_model_n_tokens(const tok_model *m) { return m ? m->ops->n_tokens(m->impl) : 0; }

const char *tok_model_token(const tok_model *m, int32_t id, uint32_t *len)
{
    return m ? m->ops->token(m->impl, id, len) : NULL;
}

int32_t tok_model_find(const tok_model *m, const char *tok, size_t len)
{
    return m ? m->ops->find(m->impl, tok, len) : -1;
}

const char *tok_model_name(const tok_model *m) { return m ? m->ops->name : ""; }

const void *tok_model_impl(const tok_model *m, const tok_model_ops *ops)
{
    return m && m->ops == ops ? m->impl : NULL;
}

void tok_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
