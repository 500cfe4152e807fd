/* The "qwen3" entry of the architecture table (arch.h): the GGUF's tensors
 * (llama.cpp's names, qwen3.* keys) bound into qwen3_weights, and qwen3.c's
 * scratch, forward pass and yes / no rank head behind the table's
 * signatures.  A reranker file is llama.cpp's layout: pooling rank and
 * cls.output holding the LM head's rows of "yes" and "no". */
#include "model/model.h"
#include "model/gguf_keys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

static int bind(ember_model *m, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    qwen3_weights *w = &m->w.qwen3;
    uint32_t H, L, nh, nkv, hd, F, ctx, pool;
    float eps, theta;
    char key[96];
    /* absurd dimensions are refused before anything is sized from them */
    if (model_key_u32(f, "qwen3.embedding_length", 1, 65536, 1, 0, &H, err, errlen) ||
        model_key_u32(f, "qwen3.block_count", 1, 1024, 1, 0, &L, err, errlen) ||
        model_key_u32(f, "qwen3.attention.head_count", 1, 1024, 1, 0, &nh, err, errlen) ||
        model_key_u32(f, "qwen3.attention.head_count_kv", 1, 1024, 0, nh, &nkv, err, errlen) ||
        model_key_u32(f, "qwen3.attention.key_length", 2, 1024, 0, H / nh, &hd, err, errlen) ||
        model_key_u32(f, "qwen3.feed_forward_length", 1, 1u << 20, 1, 0, &F, err, errlen) ||
        model_key_u32(f, "qwen3.context_length", 1, 1u << 24, 1, 0, &ctx, err, errlen) ||
        model_key_u32(f, "qwen3.pooling_type", 0, 4, 0, EMBER_POOL_LAST, &pool, err, errlen))
        return -1;
    uint32_t vd;
    if (model_key_u32(f, "qwen3.attention.value_length", 2, 1024, 0, hd, &vd, err, errlen)) return -1;
    if (gguf_get_f32(f, "qwen3.attention.layer_norm_rms_epsilon", &eps) != 0)
        return ERR("missing or non-float key qwen3.attention.layer_norm_rms_epsilon");
    if (gguf_get_f32(f, "qwen3.rope.freq_base", &theta) != 0) theta = 10000.0f; /* llama.cpp's default */
    if (nh % nkv != 0 || hd % 2 != 0 || vd != hd || !(eps > 0.0f && eps < 1.0f) || !(theta > 1.0f && isfinite(theta)))
        return ERR("implausible dimensions: %u heads, %u KV heads (heads must be a multiple), head dim %u (even) and "
                   "value length %u (equal), eps %g, rope theta %g", nh, nkv, hd, vd, (double)eps, (double)theta);
    const char *scaling;
    size_t scaling_len;
    if (gguf_get_str(f, "qwen3.rope.scaling.type", &scaling, &scaling_len) == 0 &&
        !(scaling_len == 4 && !memcmp(scaling, "none", 4)))
        return ERR("qwen3.rope.scaling.type is '%.*s': ember runs plain RoPE only", (int)(scaling_len < 32 ? scaling_len : 32), scaling);

    w->hidden = (int)H; w->n_layers = (int)L; w->n_heads = (int)nh; w->n_kv_heads = (int)nkv;
    w->head_dim = (int)hd; w->ffn = (int)F; w->n_ctx = (int)ctx; w->eps = eps; w->rope_theta = theta;
    const int QD = w->n_heads * w->head_dim, KD = w->n_kv_heads * w->head_dim;

    if (model_bind_mat(f, "token_embd.weight", -1, w->hidden, 0, &w->tok_embd, err, errlen) ||
        model_bind_vec(f, "output_norm.weight", w->hidden, 0, &w->out_norm, err, errlen))
        return -1;
    w->n_vocab = w->tok_embd.rows;
    w->layers = calloc(L, sizeof(qwen3_layer));
    if (!w->layers) return ERR("out of memory");
    for (int l = 0; l < (int)L; l++) {
        qwen3_layer *b = &w->layers[l];
        struct { const char *n; model_mat *m; int rows, cols; } mats[] = {
            {"attn_q", &b->q, QD, w->hidden}, {"attn_k", &b->k, KD, w->hidden}, {"attn_v", &b->v, KD, w->hidden},
            {"attn_output", &b->o, w->hidden, QD}, {"ffn_gate", &b->gate, w->ffn, w->hidden},
            {"ffn_up", &b->up, w->ffn, w->hidden}, {"ffn_down", &b->down, w->hidden, w->ffn},
        };
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) {
            snprintf(key, sizeof key, "blk.%d.%s.weight", l, mats[i].n);
            if (model_bind_mat(f, key, mats[i].rows, mats[i].cols, 0, mats[i].m, err, errlen)) return -1;
        }
        struct { const char *n; const float **v; int len; } vecs[] = {
            {"attn_norm", &b->attn_norm, w->hidden}, {"attn_q_norm", &b->q_norm, w->head_dim},
            {"attn_k_norm", &b->k_norm, w->head_dim}, {"ffn_norm", &b->ffn_norm, w->hidden},
        };
        for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
            snprintf(key, sizeof key, "blk.%d.%s.weight", l, vecs[i].n);
            if (model_bind_vec(f, key, vecs[i].len, 0, vecs[i].v, err, errlen)) return -1;
        }
    }

    m->pooling = (ember_pooling)pool;
    m->kind = pool == EMBER_POOL_RANK ? EMBER_KIND_RERANKER : EMBER_KIND_EMBEDDER;
    if (pool != EMBER_POOL_LAST && pool != EMBER_POOL_MEAN && pool != EMBER_POOL_RANK)
        return ERR("qwen3.pooling_type %u is not supported (last-token or mean embeddings, or rank)", pool);
    if (m->kind == EMBER_KIND_RERANKER) {
        /* the yes / no rows of the LM head; a generic LM head would need the
         * whole vocabulary's logits, which a reranker never reads */
        char why[256];
        if (model_bind_mat(f, "cls.output.weight", 2, w->hidden, 0, &w->cls_out, why, sizeof why))
            return ERR("%s (a Qwen3 reranker keeps the LM head's \"yes\" and \"no\" rows there, as llama.cpp's "
                       "converter and `ember convert` write it)", why);
    }

    kern_wtype t0 = w->layers[0].q.wt;
    int mixed = 0;
    for (int l = 0; l < (int)L; l++)
        if (w->layers[l].q.wt != t0 || w->layers[l].up.wt != t0) mixed = 1;
    snprintf(m->wtype, sizeof m->wtype, "%s", mixed ? "mixed" : kern_wtype_traits_of(t0)->name);
    m->dims = (model_dims){
        .hidden = w->hidden, .n_layers = w->n_layers, .n_heads = w->n_heads, .ffn = w->ffn,
        .n_ctx = w->n_ctx, .n_vocab = w->n_vocab, .n_types = 0, .eps = w->eps,
    };
    return 0;
}

static void unbind(ember_model *m)
{
    free(m->w.qwen3.layers);
    m->w.qwen3.layers = NULL;
}

static size_t scratch_floats(const ember_ctx *c)
{
    return qwen3_scratch_floats(&c->m->w.qwen3, c->max_rows, c->max_tokens, c->n_threads);
}

static void scratch_init(ember_ctx *c, float *block)
{
    qwen3_scratch_init(&c->s.qwen3, &c->m->w.qwen3, block, c->max_rows, c->max_tokens, c->n_threads, c->bf16_dot);
}

static const float *forward(ember_ctx *c, const int32_t *ids, const int32_t *type_ids, const int32_t *pos_ids,
                            const int *off, int n_seq, const int *keep)
{
    (void)type_ids; /* no token-type table */
    return qwen3_forward(&c->m->w.qwen3, c->k, &c->s.qwen3, ids, pos_ids, off, n_seq, keep);
}

static float rank_head(ember_ctx *c, const float *h)
{
    return qwen3_rank_head(&c->m->w.qwen3, c->k, h, c->head_tmp);
}

const model_arch model_arch_qwen3 = {
    .name = "qwen3",
    .bind = bind,
    .unbind = unbind,
    .scratch_floats = scratch_floats,
    .scratch_init = scratch_init,
    .forward = forward,
    .rank_head = rank_head,
    .rank_last = 1, /* the answer is read after the last token */
};
