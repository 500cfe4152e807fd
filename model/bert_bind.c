/* The "bert" and "jina-bert-v2" entries of the architecture table (arch.h):
 * the GGUF's tensors (llama.cpp's names, bert.* or jina-bert-v2.* keys)
 * bound into bert_weights, and bert.c's scratch, forward pass and rank head
 * behind the table's signatures.  JinaBERT binds as BERT does but for
 * three things: no position table (ALiBi's slopes, computed here, instead),
 * the GEGLU gate beside ffn_up (llama.cpp's ffn_gate, or the first half of
 * an ffn_up twice as tall, as its newer converter writes gated_layers
 * whole), and no bias on ffn_up. */
#include "model/model.h"
#include "model/gguf_keys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* the architecture's key names */
static const encoder_keys BERT_KEYS = ENCODER_KEYS_BERT;
static const encoder_keys JINA_KEYS = ENCODER_KEYS_JINA;

/* ALiBi's head slopes as jina-bert-implementation computes them (the ALiBi
 * paper's): for n heads a power of two, head h gets start^(h + 1), start =
 * 2^(-2^-(log2 n - 3)) = 2^(-8 / n); otherwise the c = 2^floor(log2 n)
 * slopes of c heads, then every other one of 2 c heads' for the rest.  In
 * double, the operations of its Python, then rounded to float as its torch
 * tensor holds them. */
static double alibi_pow2_slope(int n, int h)
{
    const double start = pow(2.0, -pow(2.0, -(log2((double)n) - 3.0)));
    return start * pow(start, (double)h);
}

static void alibi_slopes(int n, float *out)
{
    int c = 1;
    while (c * 2 <= n) c *= 2;
    for (int h = 0; h < n; h++) out[h] = (float)(h < c ? alibi_pow2_slope(c, h) : alibi_pow2_slope(2 * c, 2 * (h - c)));
}

/* JinaBERT's feed-forward gate of layer l: ffn_gate (F rows), or the first
 * half of a fused ffn_up (2 F rows) whose second half is then the up
 * projection; ffn_up's bias, if any, is the up half's */
static int bind_jina_ffn(const gguf_file *f, int l, int H, int F, bert_layer *b, char *err, size_t errlen)
{
    char key[96];
    snprintf(key, sizeof key, "blk.%d.ffn_gate.weight", l);
    if (gguf_tensor_find(f, key)) {
        if (model_bind_mat(f, key, F, H, 0, &b->gate, err, errlen)) return -1;
        snprintf(key, sizeof key, "blk.%d.ffn_up.weight", l);
        if (model_bind_mat(f, key, F, H, 0, &b->up, err, errlen)) return -1;
    } else {
        snprintf(key, sizeof key, "blk.%d.ffn_up.weight", l);
        if (model_bind_mat(f, key, 2 * F, H, 0, &b->up, err, errlen)) {
            char why[256];
            snprintf(why, sizeof why, "%s", err);
            return ERR("%s (JinaBERT's GEGLU needs blk.%d.ffn_gate.weight, or ffn_up of 2 x feed_forward_length rows: "
                       "gate, then up)", why, l);
        }
        b->gate = b->up;
        b->gate.rows = F;
        b->up.rows = F;
        b->up.w = (const char *)b->up.w + kern_wtype_bytes(b->up.wt, (size_t)F * (size_t)H);
    }
    snprintf(key, sizeof key, "blk.%d.ffn_up.bias", l);
    return model_bind_vec(f, key, F, 1, &b->bup, err, errlen);
}

/* jina-embeddings-v2-base-code's variant (norms on q and k, a second norm
 * after attention) is another forward pass: refused by the tensors that
 * tell it */
static int refuse_jina_variant(const gguf_file *f, char *err, size_t errlen)
{
    static const char *const names[] = { "blk.0.attn_q_norm.weight", "blk.0.attn_k_norm.weight", "blk.0.attn_norm_2.weight" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (gguf_tensor_find(f, names[i]))
            return ERR("tensor %s: this JinaBERT variant (norms on queries and keys, or after attention, as "
                       "jina-embeddings-v2-base-code's) is not supported; ember runs jina-bert-implementation's", names[i]);
    return 0;
}

static int bind_encoder(ember_model *m, const encoder_keys *K, int jina, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    bert_weights *w = &m->w.bert;
    uint32_t H, L, nh, F, ctx, pool;
    float eps;
    char key[96];
    /* absurd dimensions are refused before anything is sized from them */
    if (model_key_u32(f, K->embd, 1, 65536, 1, 0, &H, err, errlen) ||
        model_key_u32(f, K->blocks, 1, 1024, 1, 0, &L, err, errlen) ||
        model_key_u32(f, K->heads, 1, 1024, 1, 0, &nh, err, errlen) ||
        model_key_u32(f, K->ffn, 1, 1u << 20, 1, 0, &F, err, errlen) ||
        model_key_u32(f, K->ctx, 1, 1u << 20, 1, 0, &ctx, err, errlen) ||
        model_key_u32(f, K->pooling, 0, 4, 0, EMBER_POOL_MEAN, &pool, err, errlen))
        return -1;
    if (gguf_get_f32(f, K->ln_eps, &eps) != 0)
        return ERR("missing or non-float key %s", K->ln_eps);
    if (H % nh != 0 || !(eps > 0.0f && eps < 1.0f))
        return ERR("implausible dimensions: hidden %u, heads %u (hidden must be a multiple), eps %g",
                   H, nh, (double)eps);

    w->hidden = (int)H; w->n_layers = (int)L; w->n_heads = (int)nh;
    w->ffn = (int)F; w->n_ctx = (int)ctx; w->eps = eps;

    if (model_bind_mat(f, "token_embd.weight", -1, w->hidden, 0, &w->tok_embd, err, errlen)) return -1;
    w->n_vocab = w->tok_embd.rows;
    if (jina) { /* positions by ALiBi, any length up to context_length */
        if (refuse_jina_variant(f, err, errlen)) return -1;
        w->alibi = malloc((size_t)nh * sizeof *w->alibi);
        if (!w->alibi) return ERR("out of memory");
        alibi_slopes((int)nh, w->alibi);
        w->geglu = 1;
    } else {
        if (model_bind_mat(f, "position_embd.weight", -1, w->hidden, 0, &w->pos_embd, err, errlen)) return -1;
        if (w->pos_embd.rows < w->n_ctx) w->n_ctx = w->pos_embd.rows; /* never index past the table */
    }
    if (model_bind_mat(f, "token_types.weight", -1, w->hidden, 1, &w->type_embd, err, errlen)) return -1;
    w->n_types = w->type_embd.rows;
    if (model_bind_vec(f, "token_embd_norm.weight", w->hidden, 0, &w->embd_norm_g, err, errlen) ||
        model_bind_vec(f, "token_embd_norm.bias", w->hidden, 0, &w->embd_norm_b, err, errlen))
        return -1;

    w->layers = calloc(L, sizeof(bert_layer));
    if (!w->layers) return ERR("out of memory");
    for (int l = 0; l < (int)L; l++) {
        bert_layer *b = &w->layers[l];
        struct { const char *n; model_mat *m; const float **bias; int rows, cols; } mats[] = {
            {"attn_q", &b->q, &b->bq, w->hidden, w->hidden},
            {"attn_k", &b->k, &b->bk, w->hidden, w->hidden},
            {"attn_v", &b->v, &b->bv, w->hidden, w->hidden},
            {"attn_output", &b->o, &b->bo, w->hidden, w->hidden},
            {"ffn_down", &b->down, &b->bdown, w->hidden, w->ffn},
            {"ffn_up", &b->up, &b->bup, w->ffn, w->hidden}, /* BERT's; JinaBERT's gate and up below */
        };
        for (size_t i = 0; i < sizeof mats / sizeof mats[0] - (jina ? 1 : 0); i++) {
            snprintf(key, sizeof key, "blk.%d.%s.weight", l, mats[i].n);
            if (model_bind_mat(f, key, mats[i].rows, mats[i].cols, 0, mats[i].m, err, errlen)) return -1;
            snprintf(key, sizeof key, "blk.%d.%s.bias", l, mats[i].n);
            if (model_bind_vec(f, key, mats[i].rows, 0, mats[i].bias, err, errlen)) return -1;
        }
        struct { const char *n; const float **g, **bb; } norms[] = {
            {"attn_output_norm", &b->attn_norm_g, &b->attn_norm_b},
            {"layer_output_norm", &b->out_norm_g, &b->out_norm_b},
        };
        for (size_t i = 0; i < 2; i++) {
            snprintf(key, sizeof key, "blk.%d.%s.weight", l, norms[i].n);
            if (model_bind_vec(f, key, w->hidden, 0, norms[i].g, err, errlen)) return -1;
            snprintf(key, sizeof key, "blk.%d.%s.bias", l, norms[i].n);
            if (model_bind_vec(f, key, w->hidden, 0, norms[i].bb, err, errlen)) return -1;
        }
        if (jina && bind_jina_ffn(f, l, w->hidden, w->ffn, b, err, errlen)) return -1;
    }

    m->pooling = (ember_pooling)pool;
    m->kind = pool == EMBER_POOL_RANK ? EMBER_KIND_RERANKER : EMBER_KIND_EMBEDDER;
    if (m->kind == EMBER_KIND_RERANKER) {
        /* BERT's pooler and XLM-R's classifier.dense are both dense + tanh
         * before the output row: a file without them (llama.cpp's converter
         * drops BERT's pooler) would score every pair with the wrong head */
        if (!gguf_tensor_find(f, "cls.weight") || !gguf_tensor_find(f, "cls.bias"))
            return ERR("reranker head incomplete: missing tensor %s (the pooler / classifier dense layer "
                       "before the output); ember will not score without it (convert the checkpoint with "
                       "`ember convert`, which keeps it)", gguf_tensor_find(f, "cls.weight") ? "cls.bias" : "cls.weight");
        if (model_bind_mat(f, "cls.weight", w->hidden, w->hidden, 0, &w->cls, err, errlen) ||
            model_bind_vec(f, "cls.bias", w->hidden, 0, &w->cls_b, err, errlen) ||
            model_bind_mat(f, "cls.output.weight", -1, w->hidden, 0, &w->cls_out, err, errlen) ||
            model_bind_vec(f, "cls.output.bias", w->cls_out.rows, 0, &w->cls_out_b, err, errlen))
            return -1;
    }
    /* token-level output is not something ember returns (one vector a
     * text), and a guess of mean pooling would embed the text differently
     * from the model's own pipeline: refused, as is a head of several labels
     * (ember scores with one logit; taking row 0 would pick one label's) */
    if (m->pooling == EMBER_POOL_NONE)
        return ERR("%s 0 (none: one vector per token) is not supported: ember returns one vector per "
                   "text; convert from the checkpoint folder (its sentence-transformers pooling is read)", K->pooling);
    if (m->kind == EMBER_KIND_RERANKER && w->cls_out.rows != 1)
        return ERR("classifier with %d labels (cls.output.weight has %d rows): ember scores cross-encoders with one logit",
                   w->cls_out.rows, w->cls_out.rows);

    /* weight type summary for info */
    kern_wtype t0 = w->layers[0].q.wt;
    int mixed = 0;
    for (int l = 0; l < (int)L; l++)
        if (w->layers[l].q.wt != t0 || w->layers[l].up.wt != t0) mixed = 1;
    snprintf(m->wtype, sizeof m->wtype, "%s", mixed ? "mixed" : kern_wtype_traits_of(t0)->name);
    m->dims = (model_dims){
        .hidden = w->hidden, .n_layers = w->n_layers, .n_heads = w->n_heads, .ffn = w->ffn,
        .n_ctx = w->n_ctx, .n_vocab = w->n_vocab, .n_types = w->n_types, .eps = w->eps,
    };
    return 0;
}

static int bind(ember_model *m, char *err, size_t errlen) { return bind_encoder(m, &BERT_KEYS, 0, err, errlen); }
static int bind_jina(ember_model *m, char *err, size_t errlen) { return bind_encoder(m, &JINA_KEYS, 1, err, errlen); }

static void unbind(ember_model *m)
{
    free(m->w.bert.layers);
    m->w.bert.layers = NULL;
    free(m->w.bert.alibi);
    m->w.bert.alibi = NULL;
}

static size_t scratch_floats(const ember_ctx *c)
{
    return bert_scratch_floats(&c->m->w.bert, c->max_rows, c->max_tokens, c->n_threads);
}

static void scratch_init(ember_ctx *c, float *block)
{
    bert_scratch_init(&c->s.bert, &c->m->w.bert, block, c->max_rows, c->max_tokens, c->n_threads, c->bf16_dot);
}

static const float *forward(ember_ctx *c, const int32_t *ids, const int32_t *type_ids, const int32_t *pos_ids,
                            const int *off, int n_seq, const int *keep)
{
    return bert_forward(&c->m->w.bert, c->k, &c->s.bert, ids, type_ids, pos_ids, off, n_seq, keep);
}

static float rank_head(ember_ctx *c, const float *h)
{
    return bert_rank_head(&c->m->w.bert, c->k, h, c->head_tmp);
}

const model_arch model_arch_bert = {
    .name = "bert",
    .bind = bind,
    .unbind = unbind,
    .scratch_floats = scratch_floats,
    .scratch_init = scratch_init,
    .forward = forward,
    .rank_head = rank_head,
    .rank_last = 0, /* [CLS] */
};

const model_arch model_arch_jinabert = {
    .name = "jina-bert-v2",
    .bind = bind_jina,
    .unbind = unbind,
    .scratch_floats = scratch_floats,
    .scratch_init = scratch_init,
    .forward = forward,
    .rank_head = rank_head,
    .rank_last = 0, /* [CLS] (<s>) */
};
