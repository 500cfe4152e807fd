/* ember_model_load: GGUF -> weights (views into the mapping) + tokenizer. */
#include "model/model.h"
#include "model/gguf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

static int wtype_of(uint32_t ggml_type, kern_wtype *wt)
{
    switch (ggml_type) {
    case GGML_TYPE_F32: *wt = KERN_W_F32; return 0;
    case GGML_TYPE_F16: *wt = KERN_W_F16; return 0;
    case GGML_TYPE_BF16: *wt = KERN_W_BF16; return 0;
    default: return -1;
    }
}

/* A 2-D weight (rows, cols) == ne {cols, rows}; any of f32/f16/bf16. */
static int bind_mat(const gguf_file *f, const char *name, int rows, int cols, int optional,
                    bert_mat *m, char *err, size_t errlen)
{
    const gguf_tensor *t = gguf_tensor_find(f, name);
    memset(m, 0, sizeof(*m));
    if (!t) return optional ? 0 : ERR("missing tensor %s", name);
    if (t->n_dims != 2 || t->ne[0] != (uint64_t)cols || (rows >= 0 && t->ne[1] != (uint64_t)rows))
        return ERR("tensor %s has shape [%llu, %llu] (n_dims %u), expected [%d, %d]", name,
                   (unsigned long long)t->ne[1], (unsigned long long)t->ne[0], t->n_dims, rows, cols);
    if (wtype_of(t->type, &m->wt) != 0)
        return ERR("tensor %s has ggml type %u; ember reads f32, f16 and bf16", name, t->type);
    m->w = t->data;
    m->rows = (int)t->ne[1];
    m->cols = cols;
    return 0;
}

static int bind_vec(const gguf_file *f, const char *name, int n, int optional,
                    const float **v, char *err, size_t errlen)
{
    const gguf_tensor *t = gguf_tensor_find(f, name);
    *v = NULL;
    if (!t) return optional ? 0 : ERR("missing tensor %s", name);
    if (t->n_dims != 1 || t->ne[0] != (uint64_t)n)
        return ERR("tensor %s has %u dims and %llu elements, expected a vector of %d", name,
                   t->n_dims, (unsigned long long)t->ne[0], n);
    if (t->type != GGML_TYPE_F32)
        return ERR("tensor %s has ggml type %u; 1-D tensors must be f32", name, t->type);
    *v = (const float *)t->data;
    return 0;
}

int model_bert_bind(ember_model *m, char *err, size_t errlen)
{
    const gguf_file *f = m->gguf;
    bert_weights *w = &m->w;
    uint32_t H, L, nh, F, ctx, pool;
    float eps;
    char key[96];
    /* absurd dimensions are refused before anything is sized from them */
    if (model_key_u32(f, KEY_EMBD, 1, 65536, 1, 0, &H, err, errlen) ||
        model_key_u32(f, KEY_BLOCKS, 1, 1024, 1, 0, &L, err, errlen) ||
        model_key_u32(f, KEY_HEADS, 1, 1024, 1, 0, &nh, err, errlen) ||
        model_key_u32(f, KEY_FFN, 1, 1u << 20, 1, 0, &F, err, errlen) ||
        model_key_u32(f, KEY_CTX, 1, 1u << 20, 1, 0, &ctx, err, errlen) ||
        model_key_u32(f, KEY_POOLING, 0, 4, 0, EMBER_POOL_MEAN, &pool, err, errlen))
        return -1;
    if (gguf_get_f32(f, KEY_LN_EPS, &eps) != 0)
        return ERR("missing or non-float key %s", KEY_LN_EPS);
    if (H % nh != 0 || !(eps > 0.0f && eps < 1.0f))
        return ERR("implausible dimensions: hidden %u, heads %u (hidden must be a multiple), eps %g",
                   H, nh, (double)eps);

    w->hidden = (int)H; w->n_layers = (int)L; w->n_heads = (int)nh;
    w->ffn = (int)F; w->n_ctx = (int)ctx; w->eps = eps;

    if (bind_mat(f, "token_embd.weight", -1, w->hidden, 0, &w->tok_embd, err, errlen)) return -1;
    w->n_vocab = w->tok_embd.rows;
    if (bind_mat(f, "position_embd.weight", -1, w->hidden, 0, &w->pos_embd, err, errlen)) return -1;
    if (w->pos_embd.rows < w->n_ctx) w->n_ctx = w->pos_embd.rows; /* never index past the table */
    if (bind_mat(f, "token_types.weight", -1, w->hidden, 1, &w->type_embd, err, errlen)) return -1;
    w->n_types = w->type_embd.rows;
    if (bind_vec(f, "token_embd_norm.weight", w->hidden, 0, &w->embd_norm_g, err, errlen) ||
        bind_vec(f, "token_embd_norm.bias", w->hidden, 0, &w->embd_norm_b, err, errlen))
        return -1;

    w->layers = calloc(L, sizeof(bert_layer));
    if (!w->layers) return ERR("out of memory");
    for (int l = 0; l < (int)L; l++) {
        bert_layer *b = &w->layers[l];
        struct { const char *n; bert_mat *m; const float **bias; int rows, cols; } mats[] = {
            {"attn_q", &b->q, &b->bq, w->hidden, w->hidden},
            {"attn_k", &b->k, &b->bk, w->hidden, w->hidden},
            {"attn_v", &b->v, &b->bv, w->hidden, w->hidden},
            {"attn_output", &b->o, &b->bo, w->hidden, w->hidden},
            {"ffn_up", &b->up, &b->bup, w->ffn, w->hidden},
            {"ffn_down", &b->down, &b->bdown, w->hidden, w->ffn},
        };
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) {
            snprintf(key, sizeof key, "blk.%d.%s.weight", l, mats[i].n);
            if (bind_mat(f, key, mats[i].rows, mats[i].cols, 0, mats[i].m, err, errlen)) return -1;
            snprintf(key, sizeof key, "blk.%d.%s.bias", l, mats[i].n);
            if (bind_vec(f, key, mats[i].rows, 0, mats[i].bias, err, errlen)) return -1;
        }
        struct { const char *n; const float **g, **bb; } norms[] = {
            {"attn_output_norm", &b->attn_norm_g, &b->attn_norm_b},
            {"layer_output_norm", &b->out_norm_g, &b->out_norm_b},
        };
        for (size_t i = 0; i < 2; i++) {
            snprintf(key, sizeof key, "blk.%d.%s.weight", l, norms[i].n);
            if (bind_vec(f, key, w->hidden, 0, norms[i].g, err, errlen)) return -1;
            snprintf(key, sizeof key, "blk.%d.%s.bias", l, norms[i].n);
            if (bind_vec(f, key, w->hidden, 0, norms[i].bb, err, errlen)) return -1;
        }
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
        if (bind_mat(f, "cls.weight", w->hidden, w->hidden, 0, &w->cls, err, errlen) ||
            bind_vec(f, "cls.bias", w->hidden, 0, &w->cls_b, err, errlen) ||
            bind_mat(f, "cls.output.weight", -1, w->hidden, 0, &w->cls_out, err, errlen) ||
            bind_vec(f, "cls.output.bias", w->cls_out.rows, 0, &w->cls_out_b, err, errlen))
            return -1;
    }
    /* token-level output is not something ember returns (one vector a
     * text), and a guess of mean pooling would embed the text differently
     * from the model's own pipeline: refused, as is a head of several labels
     * (ember scores with one logit; taking row 0 would pick one label's) */
    if (m->pooling == EMBER_POOL_NONE)
        return ERR("bert.pooling_type 0 (none: one vector per token) is not supported: ember returns one vector per "
                   "text; convert from the checkpoint folder (its sentence-transformers pooling is read)");
    if (m->kind == EMBER_KIND_RERANKER && w->cls_out.rows != 1)
        return ERR("classifier with %d labels (cls.output.weight has %d rows): ember scores cross-encoders with one logit",
                   w->cls_out.rows, w->cls_out.rows);

    /* weight type summary for info */
    kern_wtype t0 = w->layers[0].q.wt;
    int mixed = 0;
    for (int l = 0; l < (int)L; l++)
        if (w->layers[l].q.wt != t0 || w->layers[l].up.wt != t0) mixed = 1;
    snprintf(m->wtype, sizeof m->wtype, "%s", mixed ? "mixed" : t0 == KERN_W_F32 ? "f32" : t0 == KERN_W_F16 ? "f16" : "bf16");
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
    snprintf(m->arch, sizeof m->arch, "%.*s", (int)(n < 31 ? n : 31), s);
    /* a vocabulary-only file (llama.cpp's ggml-vocab-*.gguf) is a tokenizer
     * whatever architecture it names */
    if (strcmp(m->arch, "bert") != 0 && gguf_tensor_find(m->gguf, "token_embd.weight")) {
        snprintf(err, errlen, "%s: architecture '%s' is not supported (ember reads 'bert')", path, m->arch);
        goto fail;
    }
    if (gguf_get_str(m->gguf, "general.name", &s, &n) == 0)
        snprintf(m->name, sizeof m->name, "%.*s", (int)(n < 127 ? n : 127), s);
    if (gguf_get_str(m->gguf, KEY_TOK_MODEL, &s, &n) == 0)
        snprintf(m->tok_model, sizeof m->tok_model, "%.*s", (int)(n < 31 ? n : 31), s);

    m->has_weights = gguf_tensor_find(m->gguf, "token_embd.weight") != NULL;
    if (m->has_weights && model_bert_bind(m, why, sizeof why) != 0) {
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
    free(m->w.layers);
    gguf_close(m->gguf);
    free(m->path);
    free(m);
}

void ember_model_get_info(const ember_model *m, ember_model_info *info)
{
    memset(info, 0, sizeof *info);
    if (!m) return;
    info->kind = m->has_weights ? m->kind : EMBER_KIND_TOKENIZER;
    info->architecture = m->arch;
    info->name = m->name;
    info->dim = m->w.hidden;
    info->n_layers = m->w.n_layers;
    info->n_heads = m->w.n_heads;
    info->ffn_dim = m->w.ffn;
    info->max_tokens = m->max_tokens;
    info->vocab_size = m->tok ? tok_model_n_tokens(m->tok) : 0;
    info->pooling = m->pooling;
    info->normalize = m->normalize;
    info->weight_type = m->wtype;
    info->file_bytes = m->file_bytes;
    info->gguf_version = gguf_version(m->gguf);
    info->n_ctx = m->w.n_ctx;
    info->layer_norm_eps = m->w.eps;
    info->tokenizer = m->tok_model;
    info->n_tensors = gguf_n_tensors(m->gguf);
    for (uint64_t i = 0; i < info->n_tensors; i++) {
        const gguf_tensor *t = gguf_tensor_at(m->gguf, i);
        uint64_t count = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) count *= t->ne[d]; /* bounded by the file size when read */
        info->n_params += count;
        if (t->type == GGML_TYPE_F32) info->n_tensors_f32++;
        else if (t->type == GGML_TYPE_F16) info->n_tensors_f16++;
        else if (t->type == GGML_TYPE_BF16) info->n_tensors_bf16++;
    }
}
