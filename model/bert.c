/* BERT encoder forward pass, post-LayerNorm, exact GELU.  Reads top to bottom:
 * embeddings -> n_layers x (self-attention, add & norm, FFN, add & norm).
 * JinaBERT is the same pass with two changes where they fall: no position
 * table, ALiBi's bias in the attention instead, and a GEGLU feed-forward,
 * gelu(gate.a) * (up.a) (jina-bert-implementation's JinaBertGLUMLP: the
 * first half of its gated_layers through exact GELU times the second). */
#include "model/bert.h"

#include <math.h>
#include <string.h>

_Static_assert(sizeof(int) == sizeof(float), "bert_scratch keeps its ints in floats' room");
#ifdef _OPENMP
#include <omp.h>
#endif

static size_t round64(size_t n) { return (n + 15) & ~(size_t)15; } /* floats -> 64 B */

/* floats of u a row takes in the FFN: GEGLU keeps gate | up side by side */
static size_t ffn_width(const bert_weights *w) { return (size_t)w->ffn * (w->geglu ? 2 : 1); }

/* one thread's attention scratch, sized for this model's heads */
static size_t attn_floats(const bert_weights *w, int max_len)
{
    return round64(kern_attention_scratch_floats(max_len, w->hidden / w->n_heads));
}

size_t bert_scratch_floats(const bert_weights *w, int max_rows, int max_len, int n_threads)
{
    size_t rows = (size_t)max_rows, H = (size_t)w->hidden;
    size_t wide = ffn_width(w) > 3 * H ? ffn_width(w) : 3 * H;
    return 3 * round64(rows * H) + round64(rows * wide) + round64(rows) /* form */ +
           round64(kern_gemm_scratch_floats(n_threads)) +
           (size_t)n_threads * attn_floats(w, max_len);
}

void bert_scratch_init(bert_scratch *s, const bert_weights *w, float *block,
                       int max_rows, int max_len, int n_threads, int bf16_dot)
{
    size_t rows = (size_t)max_rows, H = (size_t)w->hidden;
    size_t wide = ffn_width(w) > 3 * H ? ffn_width(w) : 3 * H;
    float *p = block;
    s->x = p;   p += round64(rows * H);
    s->h = p;   p += round64(rows * H);
    s->ctx = p; p += round64(rows * H);
    s->u = p;   p += round64(rows * wide);
    s->form = (int *)p; p += round64(rows); /* ints in floats' room */
    s->gemm_pack = p; p += round64(kern_gemm_scratch_floats(n_threads));
    s->attn = p;
    s->attn_stride = attn_floats(w, max_len);
    s->max_rows = max_rows;
    s->max_len = max_len;
    s->n_threads = n_threads;
    s->bf16_dot = bf16_dot;
}

/* Row r of an embedding table, widened to f32, into dst (add: added to dst;
 * widened a piece at a time on the stack, the sums as element by element). */
static void embd_row_add(const model_mat *m, int r, float *dst, int add)
{
    const kern_wtype_traits *t = kern_wtype_traits_of(m->wt);
    const size_t n = (size_t)m->cols;
    const unsigned char *row = (const unsigned char *)m->w + (size_t)r * kern_wtype_bytes(m->wt, n);
    if (!add) {
        t->to_f32(row, dst, n);
        return;
    }
    float tmp[256]; /* a multiple of every block */
    for (size_t i = 0; i < n; i += 256) {
        size_t k = n - i < 256 ? n - i : 256;
        t->to_f32(row + kern_wtype_bytes(m->wt, i), tmp, k);
        for (size_t j = 0; j < k; j++) dst[i + j] += tmp[j];
    }
}

/* form: each row's GEMM form (s->form: the rows of the batch), or NULL for
 * rows that each stand alone (the kept rows of a pooled-row pass) */
static void linear(const kern_ops *k, bert_scratch *s, int M, const int *form, const float *A, int lda,
                   const model_mat *W, const float *b, float *C, int ldc)
{
    model_linear_forms(k, s->bf16_dot, M, form, A, lda, W, b, C, ldc, s->gemm_pack, s->n_threads);
}

static void norm_rows(const kern_ops *k, int nt, float *x, const float *r, const float *g,
                      const float *b, int rows, int H, float eps)
{
    (void)nt; /* read by OpenMP only */
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (int i = 0; i < rows; i++)
        k->layernorm_f32(x + (size_t)i * H, r ? r + (size_t)i * H : NULL, g, b, H, eps);
}

const float *bert_forward(const bert_weights *w, const kern_ops *k, bert_scratch *s,
                          const int32_t *ids, const int32_t *type_ids,
                          const int32_t *pos_ids, const int *off, int n_seq, const int *keep)
{
    const int H = w->hidden, F = w->ffn, nh = w->n_heads, hd = H / nh;
    const int rows = off[n_seq], nt = s->n_threads;
    const float scale = 1.0f / sqrtf((float)hd);
    float *x = s->x, *h = s->h, *ctx = s->ctx, *u = s->u;
    model_row_forms(k, off, n_seq, s->form);

    /* embeddings: word + position (none under ALiBi) + token type, then LayerNorm */
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < rows; t++) {
        float *xt = x + (size_t)t * H;
        embd_row_add(&w->tok_embd, ids[t], xt, 0);
        if (w->pos_embd.rows > 0) embd_row_add(&w->pos_embd, pos_ids[t], xt, 1);
        if (w->type_embd.rows > 0) embd_row_add(&w->type_embd, type_ids[t], xt, 1);
        k->layernorm_f32(xt, NULL, w->embd_norm_g, w->embd_norm_b, H, w->eps);
    }

    for (int l = 0; l < w->n_layers; l++) {
        const bert_layer *L = &w->layers[l];
        /* the last layer of a pooled-row pass: every row's keys and values,
         * but queries, attention, output projection and FFN for the kept
         * rows only (n_seq of them) */
        const int pruned = keep && l == w->n_layers - 1, out_rows = pruned ? n_seq : rows;
        const int *of = pruned ? NULL : s->form;
        /* q, k, v side by side in u: row t = [q | k | v] (pruned: q of kept row i in row i) */
        float *q = u, *kk = u + H, *v = u + 2 * H;
        if (pruned) { /* kept rows of x into h: the queries' input and the residual below */
            for (int i = 0; i < n_seq; i++) memcpy(h + (size_t)i * H, x + (size_t)keep[i] * H, (size_t)H * sizeof(float));
            linear(k, s, n_seq, NULL, h, H, &L->q, L->bq, q, 3 * H);
        } else {
            linear(k, s, rows, s->form, x, H, &L->q, L->bq, q, 3 * H);
        }
        linear(k, s, rows, s->form, x, H, &L->k, L->bk, kk, 3 * H);
        linear(k, s, rows, s->form, x, H, &L->v, L->bv, v, 3 * H);

        /* one (sequence, head) pair per task: each output written by one thread */
        int tasks = n_seq * nh;
        #pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (int task = 0; task < tasks; task++) {
            int sq = task / nh, hh = task % nh;
            int r0 = off[sq], len = off[sq + 1] - off[sq];
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            size_t o = (size_t)r0 * 3 * H + (size_t)hh * hd, oq = pruned ? (size_t)sq * 3 * H + (size_t)hh * hd : o;
            float *out = ctx + (size_t)(pruned ? sq : r0) * H + (size_t)hh * hd, *scr = s->attn + (size_t)tid * s->attn_stride;
            if (w->alibi) /* the kept row stands at its place in the sequence */
                k->attention_alibi_f32(len, pruned ? 1 : len, pruned ? keep[sq] - r0 : 0, hd, scale, w->alibi[hh], q + oq,
                                       3 * H, kk + o, 3 * H, v + o, 3 * H, out, H, scr);
            else
                k->attention_f32(len, pruned ? 1 : len, hd, scale, q + oq, 3 * H, kk + o, 3 * H, v + o, 3 * H, out, H, scr);
        }

        /* a = LN(ctx.O + x), then x = LN(FFN(a) + a); pruned, x is free by
         * now and the residual waits in h, so a goes to x and the output to h */
        float *a = pruned ? x : h, *res = pruned ? h : x, *y = pruned ? h : x;
        linear(k, s, out_rows, of, ctx, H, &L->o, L->bo, a, H);
        norm_rows(k, nt, a, res, L->attn_norm_g, L->attn_norm_b, out_rows, H, w->eps);

        if (w->geglu) { /* u row t = [gate | up], then gelu(gate) * up over the gate's half */
            linear(k, s, out_rows, of, a, H, &L->gate, NULL, u, 2 * F);
            linear(k, s, out_rows, of, a, H, &L->up, L->bup, u + F, 2 * F);
            #pragma omp parallel for num_threads(nt) schedule(static)
            for (int t = 0; t < out_rows; t++) {
                float *g = u + (size_t)t * 2 * F;
                k->gelu_f32(g, (size_t)F);
                for (int i = 0; i < F; i++) g[i] *= g[F + i];
            }
            linear(k, s, out_rows, of, u, 2 * F, &L->down, L->bdown, y, H);
        } else {
            linear(k, s, out_rows, of, a, H, &L->up, L->bup, u, F);
            #pragma omp parallel for num_threads(nt) schedule(static)
            for (int t = 0; t < out_rows; t++) k->gelu_f32(u + (size_t)t * F, (size_t)F);
            linear(k, s, out_rows, of, u, F, &L->down, L->bdown, y, H);
        }
        norm_rows(k, nt, y, a, L->out_norm_g, L->out_norm_b, out_rows, H, w->eps);
        if (pruned) return y;
    }
    if (keep) /* no layer to prune: the kept rows, compacted as promised */
        for (int i = 0; i < n_seq; i++) memcpy(h + (size_t)i * H, x + (size_t)keep[i] * H, (size_t)H * sizeof(float));
    return keep ? h : x;
}

static float mat_row_dot(const kern_ops *k, const model_mat *m, int r, const float *v, float *tmp)
{
    /* f32 rows are read where they lie; others widened into tmp */
    if (m->wt == KERN_W_F32) return k->dot_f32((const float *)m->w + (size_t)r * m->cols, v, (size_t)m->cols);
    embd_row_add(m, r, tmp, 0);
    return k->dot_f32(tmp, v, (size_t)m->cols);
}

/* tmp: 2 * hidden floats */
float bert_rank_head(const bert_weights *w, const kern_ops *k, const float *h0, float *tmp)
{
    const int H = w->hidden;
    float *t = tmp, *row = tmp + H;
    for (int i = 0; i < w->cls.rows; i++)
        t[i] = tanhf(mat_row_dot(k, &w->cls, i, h0, row) + w->cls_b[i]);
    return mat_row_dot(k, &w->cls_out, 0, t, row) + w->cls_out_b[0];
}
