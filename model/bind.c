/* Binding a GGUF tensor to a weight view, its shape and type checked
 * against what the architecture expects: what every arch->bind is made of. */
#include "model/model.h"

#include <stdio.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

int model_bind_mat(const gguf_file *f, const char *name, int rows, int cols, int optional,
                   model_mat *m, char *err, size_t errlen)
{
    const gguf_tensor *t = gguf_tensor_find(f, name);
    memset(m, 0, sizeof(*m));
    if (!t) return optional ? 0 : ERR("missing tensor %s", name);
    if (t->n_dims != 2 || t->ne[0] != (uint64_t)cols || (rows >= 0 && t->ne[1] != (uint64_t)rows))
        return ERR("tensor %s has shape [%llu, %llu] (n_dims %u), expected [%d, %d]", name,
                   (unsigned long long)t->ne[1], (unsigned long long)t->ne[0], t->n_dims, rows, cols);
    if (!gguf_wtype(t->type, &m->wt)) {
        char names[64];
        gguf_wtype_names(names, sizeof names);
        return ERR("tensor %s has ggml type %u; ember reads %s", name, t->type, names);
    }
    m->w = t->data;
    m->rows = (int)t->ne[1];
    m->cols = cols;
    return 0;
}

int model_bind_vec(const gguf_file *f, const char *name, int n, int optional,
                   const float **v, char *err, size_t errlen)
{
    const gguf_tensor *t = gguf_tensor_find(f, name);
    *v = NULL;
    if (!t) return optional ? 0 : ERR("missing tensor %s", name);
    if (t->n_dims != 1 || t->ne[0] != (uint64_t)n)
        return ERR("tensor %s has %u dims and %llu elements, expected a vector of %d", name,
                   t->n_dims, (unsigned long long)t->ne[0], n);
    if (t->type != GGML_TYPE_F32)
        return ERR("tensor %s has ggml type %u; 1-D tensors must be f32", name, t->type);
    *v = (const float *)t->data;
    return 0;
}
