#include "tests/synth_model.h"
#include "model/gguf.h"
#include "kernels/kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

synth_opts synth_defaults(void)
{
    synth_opts o = { .hidden = 32, .layers = 2, .heads = 4, .ffn = 64, .ctx = 64, .wtype = GGML_TYPE_F32, .pooling = 1,
                     .type_rows = 2 };
    return o;
}

/* u32 keys of the synthetic model, unless o->int_key replaces one */
static void set_u32(gguf_writer *w, const synth_opts *o, const char *key, uint32_t v)
{
    if (!o->int_key || strcmp(o->int_key, key) != 0) gguf_writer_set_u32(w, key, v);
}

static uint64_t st;
static float rnd(float scale)
{
    st ^= st << 13; st ^= st >> 7; st ^= st << 17;
    return scale * ((float)((st >> 40) * (1.0 / 8388608.0)) - 1.0f);
}

static const char *WORDS[] = {
    "the", "a", "of", "and", "to", "in", "is", "it", "paris", "france", "capital", "city", "hello", "world",
    "quick", "brown", "fox", "dog", "lazy", "over", "jumps", "what", "cat", "sat", "on", "mat", "day", "night",
};

int synth_bert_write(const char *path, const synth_opts *o)
{
    gguf_writer *w = gguf_writer_new();
    if (!w) return -1;
    st = 88172645463325252ull; /* same weights for every variant */
    /* vocabulary in llama.cpp's convention */
    const char *toks[200];
    char store[200][32];
    int nt = 0;
    const char *spec[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++) toks[nt++] = spec[i];
    for (size_t i = 0; i < sizeof WORDS / sizeof *WORDS; i++) { snprintf(store[nt], 32, "\xe2\x96\x81%s", WORDS[i]); toks[nt] = store[nt]; nt++; }
    for (char c = 'a'; c <= 'z'; c++) { snprintf(store[nt], 32, "\xe2\x96\x81%c", c); toks[nt] = store[nt]; nt++; }
    for (char c = 'a'; c <= 'z'; c++) { snprintf(store[nt], 32, "%c", c); toks[nt] = store[nt]; nt++; }
    const char *punct = ".,?!";
    for (int i = 0; punct[i]; i++) { snprintf(store[nt], 32, "\xe2\x96\x81%c", punct[i]); toks[nt] = store[nt]; nt++; }
    int n_vocab = nt;
    int32_t types[200];
    for (int i = 0; i < nt; i++) types[i] = i < 5 ? 3 : 1;
    int tok_count = nt + (o->extra_vocab_tokens ? 3 : 0);
    for (int i = nt; i < tok_count; i++) { snprintf(store[i], 32, "\xe2\x96\x81zz%d", i); toks[i] = store[i]; types[i] = 1; }

    const int H = o->hidden, F = o->ffn;
    gguf_writer_set_str(w, "general.architecture", o->arch ? o->arch : "bert", strlen(o->arch ? o->arch : "bert"));
    gguf_writer_set_str(w, "general.name", "synthetic", 9);
    set_u32(w, o, "bert.context_length", (uint32_t)o->ctx);
    set_u32(w, o, "bert.embedding_length", (uint32_t)H);
    set_u32(w, o, "bert.feed_forward_length", (uint32_t)F);
    set_u32(w, o, "bert.block_count", (uint32_t)o->layers);
    set_u32(w, o, "bert.attention.head_count", (uint32_t)o->heads);
    gguf_writer_set_f32(w, "bert.attention.layer_norm_epsilon", 1e-12f);
    set_u32(w, o, "bert.pooling_type", o->rank ? 4 : o->pooling);
    gguf_writer_set_str(w, "tokenizer.ggml.model", "bert", 4);
    gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", toks, NULL, (uint64_t)tok_count);
    gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, (uint64_t)tok_count);
    set_u32(w, o, "tokenizer.ggml.unknown_token_id", 1);
    set_u32(w, o, "tokenizer.ggml.cls_token_id", 2);
    set_u32(w, o, "tokenizer.ggml.seperator_token_id", 3);
    set_u32(w, o, "tokenizer.ggml.padding_token_id", 0);
    if (o->int_key) {
        int64_t v = o->int_key_val; /* little-endian: the low bytes are the narrower value */
        gguf_writer_set_val(w, o->int_key, o->int_key_type, &v);
    }
    if (o->bad_template) {
        int32_t t[3] = {2, -1, 5000}, ty[3] = {0, 0, 0};
        gguf_writer_set_arr(w, "ember.tokenizer.template_single", GGUF_TYPE_INT32, t, 3);
        gguf_writer_set_arr(w, "ember.tokenizer.template_single_types", GGUF_TYPE_INT32, ty, 3);
    }

    struct { char name[64]; int rows, cols; } mats[512];
    int nm = 0;
#define MAT(n, r, c) do { if (nm >= 512) return -1; snprintf(mats[nm].name, 64, "%s", n); mats[nm].rows = r; mats[nm].cols = c; nm++; } while (0)
    MAT("token_embd.weight", n_vocab, H);
    MAT("position_embd.weight", o->ctx, H);
    if (o->type_rows > 0) MAT("token_types.weight", o->type_rows, H);
    MAT("token_embd_norm.weight", 0, H);
    MAT("token_embd_norm.bias", 0, H);
    char nmb[64];
    for (int l = 0; l < o->layers; l++) {
        const char *m2[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
        for (int i = 0; i < 4; i++) {
            snprintf(nmb, 64, "blk.%d.%s.weight", l, m2[i]); MAT(nmb, H, H);
            snprintf(nmb, 64, "blk.%d.%s.bias", l, m2[i]); MAT(nmb, 0, H);
        }
        snprintf(nmb, 64, "blk.%d.ffn_up.weight", l); MAT(nmb, F, H);
        snprintf(nmb, 64, "blk.%d.ffn_up.bias", l); MAT(nmb, 0, F);
        snprintf(nmb, 64, "blk.%d.ffn_down.weight", l); MAT(nmb, H, F);
        snprintf(nmb, 64, "blk.%d.ffn_down.bias", l); MAT(nmb, 0, H);
        const char *ns[] = {"attn_output_norm", "layer_output_norm"};
        for (int i = 0; i < 2; i++) {
            snprintf(nmb, 64, "blk.%d.%s.weight", l, ns[i]); MAT(nmb, 0, H);
            snprintf(nmb, 64, "blk.%d.%s.bias", l, ns[i]); MAT(nmb, 0, H);
        }
    }
    if (o->rank) {
        MAT("cls.weight", H, H); MAT("cls.bias", 0, H);
        MAT("cls.output.weight", o->rank, H); MAT("cls.output.bias", 0, o->rank);
    }
    for (int i = 0; i < nm; i++) {
        if (o->drop_tensor && strcmp(o->drop_tensor, mats[i].name) == 0) continue;
        int rows = mats[i].rows, cols = mats[i].cols;
        if (o->bad_shape && strcmp(o->bad_shape, mats[i].name) == 0) cols += 1;
        size_t n = (size_t)(rows ? rows : 1) * cols;
        int is_norm_w = strstr(mats[i].name, "norm.weight") != NULL;
        float *d = malloc(n * sizeof(float));
        for (size_t j = 0; j < n; j++) d[j] = is_norm_w ? 1.0f + rnd(0.1f) : rnd(0.5f);
        if (o->nan_tensor && strcmp(o->nan_tensor, mats[i].name) == 0) d[0] = NAN;
        uint64_t ne[2] = { (uint64_t)cols, (uint64_t)rows };
        uint32_t t = GGML_TYPE_F32;
        if (rows && o->wtype != GGML_TYPE_F32) t = o->wtype;
        if (!rows && o->f16_norm && is_norm_w) t = GGML_TYPE_F16;
        kern_wtype wt;
        const kern_wtype_traits *tr = gguf_wtype(t, &wt);
        void *h = malloc(kern_wtype_bytes(wt, n));
        tr->from_f32(d, h, n);
        gguf_writer_add_tensor(w, mats[i].name, t, rows ? 2 : 1, ne, h, 1);
        free(h);
        free(d);
    }
    char err[256];
    int rc = gguf_writer_write(w, path, err, sizeof err);
    if (rc) fprintf(stderr, "synth_bert_write: %s\n", err);
    gguf_writer_free(w);
    return rc;
}

static int dropped(const char *name, const char *const *drop)
{
    for (; drop && *drop; drop++)
        if (strcmp(*drop, name) == 0) return 1;
    return 0;
}

int synth_gguf_copy(const char *src, const char *dst, const char *const *drop)
{
    return synth_gguf_copy_with(src, dst, drop, NULL, 0);
}

int synth_gguf_copy_with(const char *src, const char *dst, const char *const *drop, const synth_tensor *add, int n_add)
{
    char err[512];
    gguf_file *f = gguf_open(src, err, sizeof err);
    if (!f) { fprintf(stderr, "synth_gguf_copy: %s: %s\n", src, err); return -1; }
    gguf_writer *w = gguf_writer_new();
    int bad = !w;
    for (int i = 0; !bad && i < gguf_n_kv(f); i++) {
        const char *k = gguf_kv_name(f, i);
        if (dropped(k, drop)) continue;
        uint32_t t = gguf_kv_type(f, i), u, et;
        float x;
        int b;
        const char *s;
        size_t len;
        uint64_t n;
        const void *data;
        switch (t) {
        case GGUF_TYPE_UINT32: bad = gguf_get_u32(f, k, &u) || gguf_writer_set_u32(w, k, u); break;
        case GGUF_TYPE_FLOAT32: bad = gguf_get_f32(f, k, &x) || gguf_writer_set_f32(w, k, x); break;
        case GGUF_TYPE_BOOL: bad = gguf_get_bool(f, k, &b) || gguf_writer_set_bool(w, k, b); break;
        case GGUF_TYPE_STRING: bad = gguf_get_str(f, k, &s, &len) || gguf_writer_set_str(w, k, s, len); break;
        case GGUF_TYPE_ARRAY:
            if (gguf_kv_arr_type(f, i) != GGUF_TYPE_STRING) {
                bad = gguf_get_arr(f, k, &et, &n, &data) || gguf_writer_set_arr(w, k, et, data, n);
                break;
            }
            {
                int ki = gguf_get_str_arr(f, k, &n);
                const char **strs = malloc((n ? n : 1) * sizeof *strs);
                size_t *lens = malloc((n ? n : 1) * sizeof *lens);
                bad = ki < 0 || !strs || !lens;
                for (uint64_t j = 0; !bad && j < n; j++) bad = gguf_str_arr_at(f, ki, j, &strs[j], &lens[j]) != 0;
                if (!bad) bad = gguf_writer_set_str_arr(w, k, strs, lens, n);
                free(strs);
                free(lens);
            }
            break;
        default: fprintf(stderr, "synth_gguf_copy: key %s has a type this copy does not handle\n", k); bad = 1;
        }
    }
    for (uint64_t i = 0; !bad && i < gguf_n_tensors(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        if (dropped(t->name, drop)) continue;
        bad = gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, 0) != 0;
    }
    for (int i = 0; !bad && i < n_add; i++)
        bad = gguf_writer_add_tensor(w, add[i].name, add[i].type, add[i].n_dims, add[i].ne, add[i].data, 0) != 0;
    if (!bad && gguf_writer_write(w, dst, err, sizeof err) != 0) {
        fprintf(stderr, "synth_gguf_copy: %s\n", err);
        bad = 1;
    }
    gguf_writer_free(w);
    gguf_close(f);
    return bad ? -1 : 0;
}
