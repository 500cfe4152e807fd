/* ember_model_load: GGUF -> its architecture's entry (arch.h), which binds
 * the weights (views into the mapping), and the tokenizer. */
#include "model/model.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ember_model *ember_model_load(const char *path, char *err, size_t errlen)
{
    char tmp[EMBER_ERR_LEN];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    if (!path) { snprintf(err, errlen, "no model path given"); return NULL; }
    ember_model *m = calloc(1, sizeof *m);
    if (!m) { snprintf(err, errlen, "out of memory"); return NULL; }
    char why[EMBER_ERR_LEN];
    m->path = strdup(path);
    if (!m->path) { snprintf(err, errlen, "out of memory"); free(m); return NULL; }
    m->gguf = gguf_open(path, why, sizeof why);
    if (!m->gguf) { snprintf(err, errlen, "%s: %s", path, why); free(m->path); free(m); return NULL; }
    m->file_bytes = gguf_file_size(m->gguf);

    const char *s; size_t n;
    if (gguf_get_str(m->gguf, "general.architecture", &s, &n) != 0) {
        snprintf(err, errlen, "%s: missing key general.architecture", path);
        goto fail;
    }
    char known[256];
    snprintf(m->arch_name, sizeof m->arch_name, "%.*s", (int)(n < 31 ? n : 31), s);
    m->arch = model_arch_find(m->arch_name);
    /* a vocabulary-only file (llama.cpp's ggml-vocab-*.gguf) is a tokenizer
     * whatever architecture it names */
    if (!m->arch && gguf_tensor_find(m->gguf, "token_embd.weight")) {
        model_arch_names(known, sizeof known);
        snprintf(err, errlen, "%s: architecture '%s' is not supported (ember reads %s)", path, m->arch_name, known);
        goto fail;
    }
    if (gguf_get_str(m->gguf, "general.name", &s, &n) == 0)
        snprintf(m->name, sizeof m->name, "%.*s", (int)(n < 127 ? n : 127), s);
    if (gguf_get_str(m->gguf, KEY_TOK_MODEL, &s, &n) == 0)
        snprintf(m->tok_model, sizeof m->tok_model, "%.*s", (int)(n < 31 ? n : 31), s);

    m->has_weights = gguf_tensor_find(m->gguf, "token_embd.weight") != NULL;
    if (m->has_weights && m->arch->bind(m, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto fail;
    }
    if (!m->has_weights) snprintf(m->wtype, sizeof m->wtype, "none");
    if (model_tokenizer_bind(m, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto fail;
    }
    return m;
fail:
    ember_model_free(m);
    return NULL;
}

void ember_model_free(ember_model *m)
{
    if (!m) return;
    tok_model_free(m->tok);
    if (m->arch) m->arch->unbind(m);
    gguf_close(m->gguf);
    free(m->path);
    free(m);
}

void ember_model_get_info(const ember_model *m, ember_model_info *info)
{
    memset(info, 0, sizeof *info);
    if (!m) return;
    info->kind = m->has_weights ? m->kind : EMBER_KIND_TOKENIZER;
    info->architecture = m->arch_name;
    info->name = m->name;
    info->dim = m->dims.hidden;
    info->n_layers = m->dims.n_layers;
    info->n_heads = m->dims.n_heads;
    info->ffn_dim = m->dims.ffn;
    info->max_tokens = m->max_tokens;
    info->vocab_size = m->tok ? tok_model_n_tokens(m->tok) : 0;
    info->pooling = m->pooling;
    info->normalize = m->normalize;
    info->weight_type = m->wtype;
    info->file_bytes = m->file_bytes;
    info->gguf_version = gguf_version(m->gguf);
    info->n_ctx = m->dims.n_ctx;
    info->layer_norm_eps = m->dims.eps;
    info->tokenizer = m->tok_model;
    info->n_tensors = gguf_n_tensors(m->gguf);
    uint64_t *per_type[KERN_W_COUNT] = {
        [KERN_W_F32] = &info->n_tensors_f32, [KERN_W_F16] = &info->n_tensors_f16, [KERN_W_BF16] = &info->n_tensors_bf16,
    };
    for (uint64_t i = 0; i < info->n_tensors; i++) {
        const gguf_tensor *t = gguf_tensor_at(m->gguf, i);
        uint64_t count = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) count *= t->ne[d]; /* bounded by the file size when read */
        info->n_params += count;
        kern_wtype wt;
        if (gguf_wtype(t->type, &wt) && per_type[wt]) (*per_type[wt])++;
    }
}
