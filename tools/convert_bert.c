/* The BERT family -> GGUF architecture "bert" (llama.cpp's names and keys):
 * BertModel, XLMRobertaModel, and both with a sequence-classification head
 * (cross-encoders), whose dense layer (BERT's pooler, XLM-R's
 * classifier.dense) ember keeps as cls and its output row as cls.output. */
#include "tools/convert_internal.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <string.h>

int conv_encoder_config(conv *c)
{
    if (conv_cfg_u32(c, "hidden_size", 1, 65536, 1, 0, &c->hidden) ||
        conv_cfg_u32(c, "intermediate_size", 1, 1u << 20, 1, 0, &c->ffn) ||
        conv_cfg_u32(c, "num_hidden_layers", 1, 1024, 1, 0, &c->layers) ||
        conv_cfg_u32(c, "num_attention_heads", 1, 65536, 1, 0, &c->heads) ||
        conv_cfg_u32(c, "max_position_embeddings", 1, 1u << 24, 1, 0, &c->max_pos) ||
        conv_cfg_u32(c, "type_vocab_size", 1, 1u << 16, 0, 2, &c->type_vocab) ||
        conv_cfg_u32(c, "vocab_size", 1, 1u << 24, 1, 0, &c->vocab))
        return -1;
    if (c->hidden % c->heads) return cfail(c, "config.json: hidden_size %u is not a multiple of num_attention_heads %u", c->hidden, c->heads);
    const json_value *eps = json_object_get(c->config, "layer_norm_eps");
    c->ln_eps = eps ? json_number(eps) : 1e-12;
    /* the range the loader accepts, as the f32 the file will hold (1e-52 would be 0) */
    if (eps && (json_type_of(eps) != JSON_NUMBER || !(c->ln_eps > 0 && c->ln_eps < 1 && (float)c->ln_eps > 0.0f)))
        return cfail(c, "config.json: layer_norm_eps must be a number in (0, 1) that float32 can hold (got %g)", c->ln_eps);
    return 0;
}

static int read_config(conv *c)
{
    const int roberta = (c->flags & CONV_ROBERTA) != 0;
    if (conv_encoder_config(c) ||
        conv_cfg_u32(c, "pad_token_id", 0, 1u << 24, 0, roberta ? 1 : 0, &c->pad_id))
        return -1;
    const char *act = json_string(json_object_get(c->config, "hidden_act"), NULL);
    if (act && strcmp(act, "gelu") != 0)
        return cfail(c, "config.json: hidden_act %s is not supported (ember implements exact \"gelu\")", act);
    const char *pet = json_string(json_object_get(c->config, "position_embedding_type"), NULL);
    if (pet && strcmp(pet, "absolute") != 0)
        return cfail(c, "config.json: position_embedding_type %s is not supported (only absolute)", pet);
    c->ctx = c->max_pos;
    if (roberta) {
        /* XLM-R positions start at pad_token_id + 1; those rows are dropped */
        if (c->pad_id + 1 >= c->max_pos)
            return cfail(c, "config.json: pad_token_id %u leaves no positions of max_position_embeddings %u", c->pad_id, c->max_pos);
        c->ctx = c->max_pos - (c->pad_id + 1);
    }
    /* without a sentence-transformers Pooling module */
    c->pooling = (c->flags & CONV_CLASSIFIER) ? POOL_RANK : POOL_MEAN;
    return roberta ? conv_jina_xlmr_config(c) : 0;
}

int conv_encoder_keys(conv *c, gguf_writer *w, const encoder_keys *K)
{
    int bad = 0;
    bad |= gguf_writer_set_u32(w, K->ctx, c->ctx);
    bad |= gguf_writer_set_u32(w, K->embd, c->hidden);
    bad |= gguf_writer_set_u32(w, K->ffn, c->ffn);
    bad |= gguf_writer_set_u32(w, K->blocks, c->layers);
    bad |= gguf_writer_set_u32(w, K->heads, c->heads);
    bad |= gguf_writer_set_f32(w, K->ln_eps, (float)c->ln_eps);
    bad |= gguf_writer_set_bool(w, K->causal, 0);
    bad |= gguf_writer_set_u32(w, K->pooling, c->pooling);
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

static int set_model_keys(conv *c, gguf_writer *w)
{
    static const encoder_keys K = ENCODER_KEYS_BERT;
    return conv_encoder_keys(c, w, &K);
}

static int add_tensors(conv *c)
{
    uint64_t H = c->hidden, I = c->ffn;
    uint64_t skip = (c->flags & CONV_ROBERTA) ? c->pad_id + 1 : 0;
    /* jina-reranker-v2's names for the same tensors (convert_jina_xlmr.c) */
    const int jina = (c->flags & CONV_ROBERTA) && conv_jina_xlmr_layout(c);
    if (conv_tensor(c, "token_embd.weight", "embeddings.word_embeddings.weight", c->vocab, H, 0, 0) ||
        conv_tensor(c, "token_types.weight", "embeddings.token_type_embeddings.weight", c->type_vocab, H, 0, 1) ||
        conv_tensor(c, "position_embd.weight", "embeddings.position_embeddings.weight", c->max_pos, H, skip, 1) ||
        conv_tensor_pair(c, "token_embd_norm", jina ? "emb_ln" : "embeddings.LayerNorm", 0, H))
        return -1;
    if (jina && conv_jina_xlmr_layers(c)) return -1;
    /* kind 0: (H, H) + bias, 1: (I, H) + bias, 2: (H, I) + bias, 3: LayerNorm of H */
    static const struct { const char *g, *h; int kind; } blk[] = {
        {"attn_q", "attention.self.query", 0}, {"attn_k", "attention.self.key", 0},
        {"attn_v", "attention.self.value", 0}, {"attn_output", "attention.output.dense", 0},
        {"attn_output_norm", "attention.output.LayerNorm", 3}, {"ffn_up", "intermediate.dense", 1},
        {"ffn_down", "output.dense", 2}, {"layer_output_norm", "output.LayerNorm", 3},
    };
    for (uint32_t l = 0; !jina && l < c->layers; l++)
        for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
            char g[96], h[160];
            snprintf(g, sizeof g, "blk.%u.%s", l, blk[k].g);
            snprintf(h, sizeof h, "encoder.layer.%u.%s", l, blk[k].h);
            uint64_t rows = blk[k].kind == 0 ? H : blk[k].kind == 1 ? I : blk[k].kind == 2 ? H : 0;
            uint64_t cols = blk[k].kind == 1 ? H : blk[k].kind == 2 ? I : H;
            if (conv_tensor_pair(c, g, h, rows, cols)) return -1;
        }
    if (c->flags & CONV_CLASSIFIER) {
        const int roberta = (c->flags & CONV_ROBERTA) != 0;
        const char *dense = roberta ? "classifier.dense" : "pooler.dense";
        const char *out = roberta ? "classifier.out_proj" : "classifier";
        char hw[64];
        snprintf(hw, sizeof hw, "%s.weight", out);
        const st_tensor *o = conv_find_tensor(c, hw);
        if (!o) return cfail(c, "model.safetensors: missing tensor %s (needed for cls.output.weight)", hw);
        uint64_t labels = o->n_dims == 2 ? o->shape[0] : 0;
        if (labels < 1 || labels > 65536) return cfail(c, "tensor %s: expected shape [num_labels, %llu]", hw, (unsigned long long)H);
        if (conv_tensor_pair(c, "cls", dense, H, H) || conv_tensor_pair(c, "cls.output", out, labels, H)) return -1;
    }
    return 0;
}

static const convert_hf_arch NAMES[] = {
    {"BertModel", 0},
    {"BertForSequenceClassification", CONV_CLASSIFIER},
    {"XLMRobertaModel", CONV_ROBERTA},
    {"XLMRobertaForSequenceClassification", CONV_ROBERTA | CONV_CLASSIFIER},
    {NULL, 0},
};

static const char *const PREFIXES[] = {"", "bert.", "roberta.", NULL};

const convert_family convert_bert = {
    .gguf_arch = "bert",
    .names = NAMES,
    .hf_prefixes = PREFIXES,
    .read_config = read_config,
    .set_model_keys = set_model_keys,
    .add_tensors = add_tensors,
};
