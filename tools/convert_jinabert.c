/* JinaBERT rerankers (JinaBertForSequenceClassification: jina-reranker-v1-
 * tiny-en and -turbo-en, on jinaai/jina-bert-implementation's modeling
 * code) -> GGUF architecture "jina-bert-v2", llama.cpp's names and keys:
 * BERT's tensors without a position table (ALiBi instead), the GEGLU
 * feed-forward's mlp.gated_layers split into ffn_gate (its first half, the
 * one through GELU) and ffn_up (the second), mlp.wo as ffn_down and
 * mlp.layernorm as layer_output_norm; the pooler as cls and the classifier
 * as cls.output, as the BERT family keeps them.  What the forward pass does
 * not run is refused by name: another position_embedding_type or
 * feed_forward_type, and the qk-norm variant (jina-bert-v2-qk-post-norm). */
#include "tools/convert_internal.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_config(conv *c)
{
    if (conv_encoder_config(c)) return -1;
    /* JinaBertConfig's defaults are "absolute" and "original" (BERT's
     * feed-forward): a JinaBERT checkpoint ember runs says both */
    const char *pet = json_string(json_object_get(c->config, "position_embedding_type"), NULL);
    if (!pet || strcmp(pet, "alibi") != 0)
        return cfail(c, "config.json: position_embedding_type %s is not supported for %s (ember runs JinaBERT with \"alibi\")",
                     pet ? pet : "(absent: absolute)", c->arch_name);
    const char *fft = json_string(json_object_get(c->config, "feed_forward_type"), NULL);
    if (!fft || strcmp(fft, "geglu") != 0)
        return cfail(c, "config.json: feed_forward_type %s is not supported (ember runs JinaBERT's \"geglu\": GELU on the "
                     "first half of gated_layers times the second)", fft ? fft : "(absent: original)");
    /* no position table: any length up to the one it was trained for */
    c->ctx = c->max_pos;
    c->pooling = POOL_RANK;
    return 0;
}

static int set_model_keys(conv *c, gguf_writer *w)
{
    static const encoder_keys K = ENCODER_KEYS_JINA;
    return conv_encoder_keys(c, w, &K);
}

/* rows r0 .. r0 + n of HF tensor hname (rows x cols) as GGUF gname */
static int tensor_row_range(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols, uint32_t r0,
                            uint32_t n)
{
    uint32_t *pick = malloc((size_t)n * sizeof *pick);
    if (!pick) return cfail(c, "out of memory");
    for (uint32_t i = 0; i < n; i++) pick[i] = r0 + i;
    int rc = conv_tensor_rows(c, gname, hname, rows, cols, pick, (int)n);
    free(pick);
    return rc;
}

static int add_tensors(conv *c)
{
    const uint64_t H = c->hidden, I = c->ffn;
    static const char *const variant[] = { "encoder.layer.0.attention.self.layer_norm_q.weight",
                                           "encoder.layer.0.layer_norm_1.weight", "encoder.layer.0.mlp.up_gated_layer.weight" };
    for (size_t i = 0; i < sizeof variant / sizeof variant[0]; i++)
        if (conv_find_tensor(c, variant[i]))
            return cfail(c, "model.safetensors: tensor %s belongs to the qk-norm JinaBERT variant "
                         "(jina-bert-v2-qk-post-norm), which ember does not run", variant[i]);
    if (conv_tensor(c, "token_embd.weight", "embeddings.word_embeddings.weight", c->vocab, H, 0, 0) ||
        conv_tensor(c, "token_types.weight", "embeddings.token_type_embeddings.weight", c->type_vocab, H, 0, 1) ||
        conv_tensor_pair(c, "token_embd_norm", "embeddings.LayerNorm", 0, H))
        return -1;
    /* kind 0: (H, H) + bias, 2: (H, I) + bias, 3: LayerNorm of H */
    static const struct { const char *g, *h; int kind; } blk[] = {
        {"attn_q", "attention.self.query", 0}, {"attn_k", "attention.self.key", 0},
        {"attn_v", "attention.self.value", 0}, {"attn_output", "attention.output.dense", 0},
        {"attn_output_norm", "attention.output.LayerNorm", 3}, {"ffn_down", "mlp.wo", 2},
        {"layer_output_norm", "mlp.layernorm", 3},
    };
    for (uint32_t l = 0; l < c->layers; l++) {
        char g[96], h[160];
        for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
            snprintf(g, sizeof g, "blk.%u.%s", l, blk[k].g);
            snprintf(h, sizeof h, "encoder.layer.%u.%s", l, blk[k].h);
            if (conv_tensor_pair(c, g, h, blk[k].kind == 3 ? 0 : H, blk[k].kind == 2 ? I : H)) return -1;
        }
        /* gated_layers (2 I, H), no bias: the gate first, then up */
        snprintf(h, sizeof h, "encoder.layer.%u.mlp.gated_layers.weight", l);
        snprintf(g, sizeof g, "blk.%u.ffn_gate.weight", l);
        if (tensor_row_range(c, g, h, 2 * I, H, 0, (uint32_t)I)) return -1;
        snprintf(g, sizeof g, "blk.%u.ffn_up.weight", l);
        if (tensor_row_range(c, g, h, 2 * I, H, (uint32_t)I, (uint32_t)I)) return -1;
    }
    const st_tensor *o = conv_find_tensor(c, "classifier.weight");
    if (!o) return cfail(c, "model.safetensors: missing tensor classifier.weight (needed for cls.output.weight)");
    uint64_t labels = o->n_dims == 2 ? o->shape[0] : 0;
    if (labels < 1 || labels > 65536) return cfail(c, "tensor classifier.weight: expected shape [num_labels, %llu]", (unsigned long long)H);
    return conv_tensor_pair(c, "cls", "pooler.dense", H, H) || conv_tensor_pair(c, "cls.output", "classifier", labels, H) ? -1 : 0;
}

static const convert_hf_arch NAMES[] = {
    {"JinaBertForSequenceClassification", CONV_CLASSIFIER},
    {NULL, 0},
};

static const char *const PREFIXES[] = {"", "bert.", NULL};

const convert_family convert_jinabert = {
    .gguf_arch = "jina-bert-v2",
    .names = NAMES,
    .hf_prefixes = PREFIXES,
    .read_config = read_config,
    .set_model_keys = set_model_keys,
    .add_tensors = add_tensors,
};
