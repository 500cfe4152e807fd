/* Jina's XLM-RoBERTa layout (jina-reranker-v2-base-multilingual), part of
 * the BERT family (convert_bert.c): its config.json says
 * XLMRobertaForSequenceClassification like bge-reranker's, but auto_map
 * points at Jina's own modeling_xlm_roberta.py, a port of flash-attention's
 * BERT whose modules have other names:
 *
 *   embeddings.{word,position,token_type}_embeddings   as XLM-R
 *   emb_ln                                  -> token_embd_norm
 *   encoder.layers.N.mixer.Wqkv             -> blk.N.attn_q / attn_k / attn_v
 *   encoder.layers.N.mixer.out_proj         -> blk.N.attn_output
 *   encoder.layers.N.norm1                  -> blk.N.attn_output_norm
 *   encoder.layers.N.mlp.fc1 / mlp.fc2      -> blk.N.ffn_up / ffn_down
 *   encoder.layers.N.norm2                  -> blk.N.layer_output_norm
 *   classifier.dense / classifier.out_proj  -> cls / cls.output (as XLM-R)
 *
 * The arithmetic is XLM-R's, which ember's BERT forward runs: create_block
 * builds every Block with prenorm=False (LayerNorm after each residual
 * add), the MLP is fc2(gelu(fc1 x)) with exact GELU for hidden_act "gelu",
 * positions are XLM-R's (create_position_ids_from_input_ids: pad_token_id
 * + 1 onwards, so max_position_embeddings 1026 leaves 1024), and the head
 * is out_proj(tanh(dense(h[<s>]))).  use_flash_attn only picks the CUDA
 * kernel of the same attention.  Wqkv's rows are rearranged
 * "(three h d)": the query's hidden_size rows, then the key's, then the
 * value's; they are split here, so the file has bge-reranker's tensors
 * (llama.cpp's converter keeps the fused blk.N.attn_qkv instead, which
 * ember does not bind). */
#include "tools/convert_internal.h"

#include <stdio.h>
#include <string.h>

int conv_jina_xlmr_layout(conv *c)
{
    return conv_find_tensor(c, "encoder.layers.0.mixer.Wqkv.weight") != NULL;
}

/* Keys of Jina's XLMRobertaFlashConfig that ask for what ember's forward
 * does not run.  They appear in no other XLM-R config, so every XLM-R
 * folder is checked. */
int conv_jina_xlmr_config(conv *c)
{
    const json_value *lora = json_object_get(c->config, "lora_adaptations");
    if (lora && json_type_of(lora) != JSON_NULL && !(json_type_of(lora) == JSON_ARRAY && json_array_len(lora) == 0))
        return cfail(c, "config.json: lora_adaptations (LoRA adapters, as in jina-embeddings-v3) are not supported; "
                        "ember runs the base weights only");
    if (json_bool(json_object_get(c->config, "prenorm")))
        return cfail(c, "config.json: prenorm true (LayerNorm before attention and MLP) is not supported; "
                        "ember's encoder is post-norm, as Jina's XLM-RoBERTa code builds it");
    if (json_bool(json_object_get(c->config, "last_layer_subset")))
        return cfail(c, "config.json: last_layer_subset (a last layer with separate Wq / Wkv, for pre-training) "
                        "is not supported");
    /* the embedder's pooling when no sentence-transformers module says it
     * (XLMRobertaModel.encode: "cls" takes the first token, anything else the mean) */
    const char *pool = json_string(json_object_get(c->config, "emb_pooler"), NULL);
    if (!(c->flags & CONV_CLASSIFIER) && pool && strcmp(pool, "cls") == 0) c->pooling = POOL_CLS;
    return 0;
}

int conv_jina_xlmr_layers(conv *c)
{
    const uint64_t H = c->hidden, I = c->ffn;
    static const char *const qkv[3] = {"attn_q", "attn_k", "attn_v"};
    /* kind 0: (H, H) + bias, 1: (I, H) + bias, 2: (H, I) + bias, 3: LayerNorm of H */
    static const struct { const char *g, *h; int kind; } blk[] = {
        {"attn_output", "mixer.out_proj", 0}, {"attn_output_norm", "norm1", 3},
        {"ffn_up", "mlp.fc1", 1}, {"ffn_down", "mlp.fc2", 2}, {"layer_output_norm", "norm2", 3},
    };
    for (uint32_t l = 0; l < c->layers; l++) {
        char g[96], hw[160], hb[160];
        snprintf(hw, sizeof hw, "encoder.layers.%u.mixer.Wqkv.weight", l);
        snprintf(hb, sizeof hb, "encoder.layers.%u.mixer.Wqkv.bias", l);
        for (int k = 0; k < 3; k++) {
            snprintf(g, sizeof g, "blk.%u.%s.weight", l, qkv[k]);
            if (conv_tensor_part(c, g, hw, 3 * H, H, (uint64_t)k * H, H)) return -1;
            snprintf(g, sizeof g, "blk.%u.%s.bias", l, qkv[k]);
            if (conv_tensor_part(c, g, hb, 0, 3 * H, (uint64_t)k * H, H)) return -1;
        }
        for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
            snprintf(g, sizeof g, "blk.%u.%s", l, blk[k].g);
            snprintf(hw, sizeof hw, "encoder.layers.%u.%s", l, blk[k].h);
            uint64_t rows = blk[k].kind == 0 ? H : blk[k].kind == 1 ? I : blk[k].kind == 2 ? H : 0;
            uint64_t cols = blk[k].kind == 2 ? I : H;
            if (conv_tensor_pair(c, g, hw, rows, cols)) return -1;
        }
    }
    return 0;
}
