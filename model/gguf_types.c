/* ggml's type id of each weight type ember reads and writes; what the
 * types are (block, bytes, widening) is kernels/wtype.c's. */
#include "model/gguf.h"

#include <stdio.h>

static const struct { uint32_t ggml; kern_wtype wt; } TYPES[] = {
    { GGML_TYPE_F32, KERN_W_F32 },
    { GGML_TYPE_F16, KERN_W_F16 },
    { GGML_TYPE_BF16, KERN_W_BF16 },
};

const kern_wtype_traits *gguf_wtype(uint32_t ggml_type, kern_wtype *wt)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].ggml == ggml_type) {
            if (wt) *wt = TYPES[i].wt;
            return kern_wtype_traits_of(TYPES[i].wt);
        }
    return NULL;
}

uint32_t gguf_ggml_type(kern_wtype wt)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].wt == wt) return TYPES[i].ggml;
    return UINT32_MAX;
}

const char *gguf_type_name(uint32_t ggml_type)
{
    const kern_wtype_traits *t = gguf_wtype(ggml_type, NULL);
    return t ? t->name : "unsupported";
}

void gguf_wtype_names(char *out, size_t cap)
{
    size_t len = 0;
    if (cap) out[0] = '\0';
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0] && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", kern_wtype_traits_of(TYPES[i].wt)->name);
}
