/* The table of architectures (arch.h): one entry per general.architecture. */
#include "model/arch.h"

#include <stdio.h>
#include <string.h>

static const model_arch *const ARCHS[] = { &model_arch_bert, &model_arch_jinabert, &model_arch_qwen3 };

#define N_ARCHS (sizeof ARCHS / sizeof ARCHS[0])

const model_arch *model_arch_find(const char *name)
{
    for (size_t i = 0; i < N_ARCHS; i++)
        if (strcmp(ARCHS[i]->name, name) == 0) return ARCHS[i];
    return NULL;
}

void model_arch_names(char *out, size_t cap)
{
    size_t len = 0;
    if (cap) out[0] = '\0';
    for (size_t i = 0; i < N_ARCHS && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s'%s'", i ? ", " : "", ARCHS[i]->name);
}
