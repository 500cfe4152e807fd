/* ember_model_load: GGUF -> its architecture's entry (arch.h), which binds
 * the weights (views into the mapping), and the tokenizer. */
#include "model/model.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A prompt part tokenized alone, without specials (it is joined to the
 * rest by ids, as the model card's code joins it). */
static int tokenize_part(const ember_model *m, const char *s, int32_t **ids, int *n, char *err, size_t errlen)
{
    size_t len = strlen(s);
    if (len > (1u << 20)) { snprintf(err, errlen, "a rerank prompt part of %zu bytes", len); return -1; }
    char why[256];
    int cap = tok_model_encode(m->tok, s, len, NULL, 0, -1, why, sizeof why); /* count first */
    if (cap < 0) { snprintf(err, errlen, "the rerank prompt cannot be tokenized: %s", why); return -1; }
    cap++;
    *ids = malloc((size_t)cap * sizeof **ids);
    if (!*ids) { snprintf(err, errlen, "out of memory"); return -1; }
    *n = tok_encode(m->tok, &m->tpl, s, len, NULL, 0, 0, 0, *ids, NULL, cap, why, sizeof why);
    if (*n < 0) { snprintf(err, errlen, "the rerank prompt cannot be tokenized: %s", why); return -1; }
    return 0;
}

/* The query and rerank prompts (prompt.h); a reranker whose architecture
 * reads the answer after the last token (a decoder's) needs its chat prompt */
static int load_prompts(ember_model *m, char *err, size_t errlen)
{
    if (prompts_load(&m->prompts, m->gguf, err, errlen) != 0) return -1;
    if (!m->has_weights || m->kind != EMBER_KIND_RERANKER) return 0;
    if (!m->prompts.rerank_format) {
        if (m->arch->rank_last) {
            snprintf(err, errlen, "a %s reranker needs its prompt (ember.rerank.* or tokenizer.chat_template.rerank): "
                     "without it the yes / no answer is read from a text the model was not trained on", m->arch->name);
            return -1;
        }
        return 0;
    }
    return tokenize_part(m, m->prompts.rerank_prefix, &m->rerank_prefix_ids, &m->n_rerank_prefix, err, errlen) ||
           tokenize_part(m, m->prompts.rerank_suffix, &m->rerank_suffix_ids, &m->n_rerank_suffix, err, errlen) ? -1 : 0;
}

/* ember.matryoshka.*: optional; a list ascending within 1..dim, a minimum
 * within 1..dim */
static int load_matryoshka(ember_model *m, char *err, size_t errlen)
{
    uint32_t lo;
    if (!m->has_weights) return 0;
    if (model_key_u32(m->gguf, KEY_E_MRL_MIN, 1, (uint32_t)m->dims.hidden, 0, 0, &lo, err, errlen) != 0) return -1;
    m->mrl_min_dim = (int)lo;
    uint32_t type;
    uint64_t n;
    const void *data;
    int rc = gguf_get_arr(m->gguf, KEY_E_MRL_DIMS, &type, &n, &data);
    if (rc == -1) return 0;
    if (rc != 0 || (type != GGUF_TYPE_UINT32 && type != GGUF_TYPE_INT32))
        return snprintf(err, errlen, "key %s must be an array of 32-bit integers", KEY_E_MRL_DIMS), -1;
    if (n == 0 || n > EMBER_MAX_MATRYOSHKA_DIMS)
        return snprintf(err, errlen, "key %s has %llu entries; ember accepts 1..%d", KEY_E_MRL_DIMS,
                        (unsigned long long)n, EMBER_MAX_MATRYOSHKA_DIMS), -1;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t d;
        memcpy(&d, (const char *)data + 4 * i, 4); /* array data is not aligned in the file */
        if (d < 1 || d > (uint32_t)m->dims.hidden || (i && d <= m->mrl_dims[i - 1]))
            return snprintf(err, errlen, "key %s: entry %llu is %d; the list must ascend within 1..%d", KEY_E_MRL_DIMS,
                            (unsigned long long)i, (int32_t)d, m->dims.hidden), -1;
        m->mrl_dims[i] = d;
    }
    m->n_mrl_dims = (int)n;
    return 0;
}

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
    if (model_tokenizer_bind(m, why, sizeof why) != 0 || load_prompts(m, why, sizeof why) != 0 ||
        load_matryoshka(m, why, sizeof why) != 0) {
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
    prompts_free(&m->prompts);
    free(m->rerank_prefix_ids);
    free(m->rerank_suffix_ids);
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
    info->query_prompt = m->prompts.query_format;
    info->document_prompt = m->prompts.document_format;
    info->default_task = m->prompts.task;
    info->matryoshka_min_dim = m->mrl_min_dim;
    info->n_matryoshka_dims = m->n_mrl_dims;
    info->matryoshka_dims = m->n_mrl_dims ? m->mrl_dims : NULL;
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
