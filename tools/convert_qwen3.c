/* The Qwen3 family -> GGUF architecture "qwen3" (llama.cpp's names and keys):
 * Qwen3-Embedding (the bare Qwen3Model, last-token pooling from its
 * sentence-transformers files) and Qwen3-Reranker (the causal LM asked
 * "yes" or "no": only the LM head's rows of those two tokens are kept, as
 * llama.cpp's cls.output, with the rerank chat prompt).  Both checkpoints
 * say Qwen3ForCausalLM; which one a folder holds is told by its
 * sentence-transformers Pooling module (an embedder), --kind, or a name
 * that says "rerank" (the folder, _name_or_path, the README's title). */
#include "tools/convert_internal.h"
#include "model/gguf_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Qwen3-Reranker's prompt, from its model card (llama.cpp's converter writes
 * the same as tokenizer.chat_template.rerank) */
static const char RERANK_PREFIX[] =
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
    "provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n";
static const char RERANK_FORMAT[] = "<Instruct>: {task}\n<Query>: {query}\n<Document>: {document}";
static const char RERANK_SUFFIX[] = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
static const char RERANK_TASK[] = "Given a web search query, retrieve relevant passages that answer the query";
/* the model card's max_length */
#define RERANK_MAX_LENGTH 8192

static int contains_nocase(const char *s, const char *what)
{
    size_t n = strlen(what);
    for (; s && *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == what[i]) i++;
        if (i == n) return 1;
    }
    return 0;
}

/* The README's first "# " title, or "" */
static void readme_title(conv *c, char *out, size_t cap)
{
    char path[4096], line[512];
    out[0] = '\0';
    if (!conv_file_exists(c->opt->hf_dir, "README.md", path, sizeof path)) return;
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f))
        if (line[0] == '#' && line[1] == ' ') { snprintf(out, cap, "%s", line + 2); break; }
    fclose(f);
}

/* embedder or reranker: --kind, else a Pooling module, else a name */
static int decide_kind(conv *c)
{
    char path[4096], title[512];
    if (c->opt->kind == CONVERT_KIND_EMBED) return 0;
    if (c->opt->kind == CONVERT_KIND_RERANK) { c->flags |= CONV_CLASSIFIER; return 0; }
    if (conv_file_exists(c->opt->hf_dir, "modules.json", path, sizeof path)) return 0;
    readme_title(c, title, sizeof title);
    const char *dir = strrchr(c->opt->hf_dir, '/');
    dir = dir && dir[1] ? dir + 1 : c->opt->hf_dir;
    if (contains_nocase(dir, "rerank") || contains_nocase(title, "rerank") ||
        contains_nocase(json_string(json_object_get(c->config, "_name_or_path"), NULL), "rerank")) {
        c->flags |= CONV_CLASSIFIER;
        return 0;
    }
    return cfail(c, "%s: a Qwen3ForCausalLM checkpoint without sentence-transformers files (modules.json) and "
                 "nothing naming it a reranker: pass --kind rerank to convert it as a Qwen3-Reranker (yes/no "
                 "scoring) or --kind embed for last-token embeddings", c->opt->hf_dir);
}

static int read_config(conv *c)
{
    if (conv_cfg_u32(c, "hidden_size", 1, 65536, 1, 0, &c->hidden) ||
        conv_cfg_u32(c, "intermediate_size", 1, 1u << 20, 1, 0, &c->ffn) ||
        conv_cfg_u32(c, "num_hidden_layers", 1, 1024, 1, 0, &c->layers) ||
        conv_cfg_u32(c, "num_attention_heads", 1, 1024, 1, 0, &c->heads) ||
        conv_cfg_u32(c, "num_key_value_heads", 1, 1024, 0, c->heads, &c->kv_heads) ||
        conv_cfg_u32(c, "head_dim", 2, 1024, 0, c->hidden / c->heads, &c->head_dim) ||
        conv_cfg_u32(c, "max_position_embeddings", 1, 1u << 24, 1, 0, &c->max_pos) ||
        conv_cfg_u32(c, "vocab_size", 1, 1u << 24, 1, 0, &c->vocab))
        return -1;
    if (c->heads % c->kv_heads)
        return cfail(c, "config.json: num_attention_heads %u is not a multiple of num_key_value_heads %u", c->heads, c->kv_heads);
    if (c->head_dim % 2) return cfail(c, "config.json: head_dim %u is odd (RoPE rotates pairs)", c->head_dim);
    const json_value *eps = json_object_get(c->config, "rms_norm_eps"), *theta = json_object_get(c->config, "rope_theta");
    c->ln_eps = eps ? json_number(eps) : 1e-6;
    if (eps && (json_type_of(eps) != JSON_NUMBER || !(c->ln_eps > 0 && c->ln_eps < 1 && (float)c->ln_eps > 0.0f)))
        return cfail(c, "config.json: rms_norm_eps must be a number in (0, 1) that float32 can hold");
    c->rope_theta = theta ? json_number(theta) : 10000.0;
    if (theta && (json_type_of(theta) != JSON_NUMBER || !(c->rope_theta > 1.0 && c->rope_theta < 1e12)))
        return cfail(c, "config.json: rope_theta must be a number in (1, 1e12)");
    /* what ember's forward does not do is refused by name, never ignored */
    const char *act = json_string(json_object_get(c->config, "hidden_act"), NULL);
    if (act && strcmp(act, "silu") != 0) return cfail(c, "config.json: hidden_act %s is not supported (Qwen3 uses silu)", act);
    const json_value *rs = json_object_get(c->config, "rope_scaling");
    if (rs && json_type_of(rs) != JSON_NULL) return cfail(c, "config.json: rope_scaling is set; ember runs plain RoPE only");
    if (json_bool(json_object_get(c->config, "use_sliding_window")))
        return cfail(c, "config.json: use_sliding_window is true; ember runs full causal attention only");
    if (json_bool(json_object_get(c->config, "attention_bias")))
        return cfail(c, "config.json: attention_bias is true; Qwen3's projections have no bias and ember reads none");
    c->tied = json_bool(json_object_get(c->config, "tie_word_embeddings"));
    c->ctx = c->max_pos;
    if (decide_kind(c)) return -1;
    /* without a sentence-transformers Pooling module (the embedder has one) */
    c->pooling = (c->flags & CONV_CLASSIFIER) ? POOL_RANK : POOL_LAST;
    /* the Qwen3-Embedding model cards (0.6B, 4B, 8B): trained for any
     * output dimension from 32 up to the hidden size */
    if (!(c->flags & CONV_CLASSIFIER)) c->mrl_min_dim = 32 < c->hidden ? 32 : c->hidden;
    return 0;
}

static int set_model_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    bad |= gguf_writer_set_u32(w, "qwen3.context_length", c->ctx);
    bad |= gguf_writer_set_u32(w, "qwen3.embedding_length", c->hidden);
    bad |= gguf_writer_set_u32(w, "qwen3.feed_forward_length", c->ffn);
    bad |= gguf_writer_set_u32(w, "qwen3.block_count", c->layers);
    bad |= gguf_writer_set_u32(w, "qwen3.attention.head_count", c->heads);
    bad |= gguf_writer_set_u32(w, "qwen3.attention.head_count_kv", c->kv_heads);
    bad |= gguf_writer_set_u32(w, "qwen3.attention.key_length", c->head_dim);
    bad |= gguf_writer_set_u32(w, "qwen3.attention.value_length", c->head_dim);
    bad |= gguf_writer_set_f32(w, "qwen3.rope.freq_base", (float)c->rope_theta);
    bad |= gguf_writer_set_f32(w, "qwen3.attention.layer_norm_rms_epsilon", (float)c->ln_eps);
    bad |= gguf_writer_set_u32(w, "qwen3.pooling_type", c->pooling);
    if (c->flags & CONV_CLASSIFIER) {
        /* llama.cpp's: the labels of cls.output's rows and the chat prompt */
        static const char *const labels[] = {"yes", "no"};
        static const size_t label_lens[] = {3, 2};
        char tpl[1024];
        int n = snprintf(tpl, sizeof tpl, "%s<Instruct>: %s\n<Query>: {query}\n<Document>: {document}%s",
                         RERANK_PREFIX, RERANK_TASK, RERANK_SUFFIX);
        bad |= gguf_writer_set_str_arr(w, "qwen3.classifier.output_labels", labels, label_lens, 2);
        bad |= gguf_writer_set_str(w, "tokenizer.chat_template.rerank", tpl, (size_t)n);
        bad |= gguf_writer_set_str(w, KEY_E_RERANK_PREFIX, RERANK_PREFIX, strlen(RERANK_PREFIX));
        bad |= gguf_writer_set_str(w, KEY_E_RERANK_FORMAT, RERANK_FORMAT, strlen(RERANK_FORMAT));
        bad |= gguf_writer_set_str(w, KEY_E_RERANK_SUFFIX, RERANK_SUFFIX, strlen(RERANK_SUFFIX));
        bad |= gguf_writer_set_str(w, KEY_E_PROMPT_TASK, RERANK_TASK, strlen(RERANK_TASK));
        /* the card's max_length, unless sentence-transformers files said otherwise */
        if (c->max_seq == c->ctx && c->max_seq > RERANK_MAX_LENGTH) c->max_seq = RERANK_MAX_LENGTH;
    }
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

static int add_tensors(conv *c)
{
    const uint64_t H = c->hidden, F = c->ffn, QD = (uint64_t)c->heads * c->head_dim,
                   KD = (uint64_t)c->kv_heads * c->head_dim, D = c->head_dim;
    if (conv_tensor(c, "token_embd.weight", "embed_tokens.weight", c->vocab, H, 0, 0)) return -1;
    static const struct { const char *g, *h; int kind; } blk[] = {
        {"attn_norm", "input_layernorm", 0}, {"attn_q", "self_attn.q_proj", 1},
        {"attn_k", "self_attn.k_proj", 2}, {"attn_v", "self_attn.v_proj", 2},
        {"attn_q_norm", "self_attn.q_norm", 3}, {"attn_k_norm", "self_attn.k_norm", 3},
        {"attn_output", "self_attn.o_proj", 4}, {"ffn_norm", "post_attention_layernorm", 0},
        {"ffn_gate", "mlp.gate_proj", 5}, {"ffn_up", "mlp.up_proj", 5}, {"ffn_down", "mlp.down_proj", 6},
    };
    /* kind: 0 (H) norm, 1 (QD, H), 2 (KD, H), 3 (D) norm, 4 (H, QD), 5 (F, H), 6 (H, F) */
    for (uint32_t l = 0; l < c->layers; l++)
        for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
            char g[96], h[160];
            snprintf(g, sizeof g, "blk.%u.%s.weight", l, blk[k].g);
            snprintf(h, sizeof h, "layers.%u.%s.weight", l, blk[k].h);
            static const int is_norm[] = {1, 0, 0, 1, 0, 0, 0};
            uint64_t rows[] = {0, QD, KD, 0, H, F, H}, cols[] = {H, H, H, D, QD, H, F};
            int kd = blk[k].kind;
            if (conv_tensor(c, g, h, is_norm[kd] ? 0 : rows[kd], cols[kd], 0, 0)) return -1;
        }
    if (conv_tensor(c, "output_norm.weight", "norm.weight", 0, H, 0, 0)) return -1;
    if (!(c->flags & CONV_CLASSIFIER)) return 0; /* an embedder never needs the LM head */
    /* the reranker: rows "yes" and "no" of the LM head, which is the
     * embedding table when tied (the checkpoint then has no lm_head) */
    int32_t yes = conv_tok_lookup(c, "yes", 3), no = conv_tok_lookup(c, "no", 2);
    if (yes < 0 || no < 0) return cfail(c, "tokenizer: no \"yes\" / \"no\" token for the reranker's answer");
    const char *head = c->tied ? "embed_tokens.weight" : "lm_head.weight";
    if (!c->tied && !st_find(c->st, "lm_head.weight"))
        return cfail(c, "model.safetensors: tie_word_embeddings is false but lm_head.weight is missing");
    const uint32_t pick[2] = { (uint32_t)yes, (uint32_t)no };
    return conv_tensor_rows(c, "cls.output.weight", head, c->vocab, H, pick, 2);
}

static const convert_hf_arch NAMES[] = {
    {"Qwen3ForCausalLM", 0},
    {"Qwen3Model", 0},
    {NULL, 0},
};

static const char *const PREFIXES[] = {"", "model.", NULL};

const convert_family convert_qwen3 = {
    .gguf_arch = "qwen3",
    .names = NAMES,
    .hf_prefixes = PREFIXES,
    .read_config = read_config,
    .set_model_keys = set_model_keys,
    .add_tensors = add_tensors,
};
