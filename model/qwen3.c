/* Qwen3 decoder forward pass, pre-RMSNorm, causal, grouped-query attention
 * with per-head q / k norms and rotate-half RoPE, SwiGLU MLP.  Reads top to
 * bottom: embeddings -> n_layers x (keys and values of every row, then per
 * block of rows: queries, attention, output projection, MLP) -> final norm.
 *
 * Why two passes a layer: a row's attention needs the keys and values of
 * every earlier row of its sequence, so those are made for all rows first;
 * everything else a row needs is its own, so it runs in blocks of
 * QWEN3_BLOCK_ROWS rows and the wide intermediates (queries, gate | up)
 * never exist for more than one block. */
#include "model/qwen3.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* A block's GEMMs take the packed form (more than 256 rows), faster than
 * the broadcast one at Qwen3's widths (bench/RESULTS.md), and the wide
 * intermediates of 512 rows stay a few MB. */
#define QWEN3_BLOCK_ROWS 512
/* per-row work below this many floats runs on the calling thread: a
 * parallel region costs more than it spreads (a query's few rows) */
#define PAR_MIN_FLOATS 65536

static size_t round64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

static int block_rows(int max_rows) { return max_rows < QWEN3_BLOCK_ROWS ? max_rows : QWEN3_BLOCK_ROWS; }

/* one thread's attention scratch, sized for this model's heads */
static size_t attn_floats(const qwen3_weights *w, int max_len)
{
    return round64(kern_attention_scratch_floats(max_len, w->head_dim) * sizeof(float)) / sizeof(float);
}

size_t qwen3_scratch_floats(const qwen3_weights *w, int max_rows, int max_len, int n_threads)
{
    /* every part a multiple of 64 bytes, so a whole number of floats */
    size_t R = (size_t)max_rows, B = (size_t)block_rows(max_rows), H = (size_t)w->hidden;
    size_t QD = (size_t)w->n_heads * w->head_dim, KVD = 2 * (size_t)w->n_kv_heads * w->head_dim;
    size_t half = (size_t)w->head_dim / 2, F2 = 2 * (size_t)w->ffn, f = sizeof(float);
    return (round64(R * H * f) + round64(R * KVD * f) + 2 * round64(R * half * f) +
           round64(B * H * f) + round64(B * QD * f) + round64(B * max_sz(F2, QD) * f) +
           2 * round64(B * sizeof(int)) + round64(R * sizeof(int)) + round64(kern_gemm_scratch_floats(n_threads) * f) +
           (size_t)n_threads * attn_floats(w, max_len) * f) / f;
}

void qwen3_scratch_init(qwen3_scratch *s, const qwen3_weights *w, float *block,
                        int max_rows, int max_len, int n_threads, int bf16_dot)
{
    size_t R = (size_t)max_rows, B = (size_t)block_rows(max_rows), H = (size_t)w->hidden;
    size_t QD = (size_t)w->n_heads * w->head_dim, KVD = 2 * (size_t)w->n_kv_heads * w->head_dim;
    size_t half = (size_t)w->head_dim / 2, F2 = 2 * (size_t)w->ffn, f = sizeof(float);
    char *p = (char *)block;
    s->x = (float *)p;  p += round64(R * H * f);
    s->kv = (float *)p; p += round64(R * KVD * f);
    s->cs = (float *)p; p += round64(R * half * f);
    s->sn = (float *)p; p += round64(R * half * f);
    s->h = (float *)p;  p += round64(B * H * f);
    s->q = (float *)p;  p += round64(B * QD * f);
    s->u = (float *)p;  p += round64(B * max_sz(F2, QD) * f);
    s->rows = (int *)p; p += round64(B * sizeof(int));
    s->block_form = (int *)p; p += round64(B * sizeof(int));
    s->form = (int *)p; p += round64(R * sizeof(int));
    s->gemm_pack = (float *)p; p += round64(kern_gemm_scratch_floats(n_threads) * f);
    s->attn = (float *)p;
    s->attn_stride = attn_floats(w, max_len);
    s->max_rows = max_rows;
    s->max_len = max_len;
    s->n_threads = n_threads;
    s->bf16_dot = bf16_dot;
}

/* form: each row's GEMM form (model_row_forms), or NULL for rows that each
 * stand alone (the kept rows of a pooled-row pass) */
static void linear(const kern_ops *k, qwen3_scratch *s, int M, const int *form, const float *A, int lda,
                   const model_mat *W, float *C, int ldc)
{
    model_linear_forms(k, s->bf16_dot, M, form, A, lda, W, NULL, C, ldc, s->gemm_pack, s->n_threads);
}

/* The RoPE angles of each row's position: pos * theta^(-2i / head_dim), in
 * double so that long positions keep their precision. */
static void rope_tables(const qwen3_weights *w, qwen3_scratch *s, const int32_t *pos_ids, int rows)
{
    const int half = w->head_dim / 2, nt = s->n_threads; /* head_dim <= 1024 (bind) */
    double inv_freq[512];
    for (int i = 0; i < half; i++) inv_freq[i] = pow((double)w->rope_theta, -2.0 * i / w->head_dim);
    (void)nt; /* read by OpenMP only */
    #pragma omp parallel for num_threads(nt) schedule(static) if ((size_t)rows * half * 16 >= PAR_MIN_FLOATS)
    for (int t = 0; t < rows; t++)
        for (int i = 0; i < half; i++) {
            double a = (double)pos_ids[t] * inv_freq[i];
            s->cs[(size_t)t * half + i] = (float)cos(a);
            s->sn[(size_t)t * half + i] = (float)sin(a);
        }
}

/* h[i] = RMSNorm(x[rows[i]]) * g for the n rows of a block */
static void norm_block(const kern_ops *k, int nt, const float *x, const int *rows, int n, const float *g,
                       float *h, int H, float eps)
{
    (void)nt;
    #pragma omp parallel for num_threads(nt) schedule(static) if ((size_t)n * H >= PAR_MIN_FLOATS)
    for (int i = 0; i < n; i++) k->rmsnorm_f32(h + (size_t)i * H, x + (size_t)rows[i] * H, g, H, eps);
}

/* x[rows[i]] += h[i], then (g != NULL) h[i] = RMSNorm(x[rows[i]]) * g: the
 * residual add and the next sublayer's norm in one pass */
static void add_norm_block(const kern_ops *k, int nt, float *x, const int *rows, int n, float *h, const float *g,
                           int H, float eps)
{
    (void)nt;
    #pragma omp parallel for num_threads(nt) schedule(static) if ((size_t)n * H >= PAR_MIN_FLOATS)
    for (int i = 0; i < n; i++) {
        float *xr = x + (size_t)rows[i] * H, *hr = h + (size_t)i * H;
        for (int j = 0; j < H; j++) xr[j] += hr[j];
        if (g) k->rmsnorm_f32(hr, xr, g, H, eps);
    }
}

/* Per-head RMSNorm then RoPE of n_heads heads of one row at position row r */
static void norm_rope(const kern_ops *k, const qwen3_weights *w, const qwen3_scratch *s, float *v, int n_heads,
                      const float *g, int r)
{
    const int hd = w->head_dim, half = hd / 2;
    for (int hh = 0; hh < n_heads; hh++) k->rmsnorm_f32(v + (size_t)hh * hd, v + (size_t)hh * hd, g, hd, w->eps);
    k->rope_f32(v, n_heads, hd, s->cs + (size_t)r * half, s->sn + (size_t)r * half);
}

/* The sequence a row belongs to (off is increasing). */
static int seq_of(const int *off, int n_seq, int r)
{
    int lo = 0, hi = n_seq - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (off[mid] <= r) lo = mid; else hi = mid - 1;
    }
    return lo;
}

/* Pass 1 of a layer: keys and values of every row, normed and rotated. */
static void keys_values(const qwen3_weights *w, const qwen3_layer *L, const kern_ops *k, qwen3_scratch *s, int rows)
{
    const int H = w->hidden, KD = w->n_kv_heads * w->head_dim, KVD = 2 * KD, nt = s->n_threads;
    const int B = block_rows(s->max_rows);
    for (int r0 = 0; r0 < rows; r0 += B) {
        int n = rows - r0 < B ? rows - r0 : B;
        for (int i = 0; i < n; i++) s->rows[i] = r0 + i;
        norm_block(k, nt, s->x, s->rows, n, L->attn_norm, s->h, H, w->eps);
        float *kv = s->kv + (size_t)r0 * KVD;
        linear(k, s, n, s->form + r0, s->h, H, &L->k, kv, KVD);
        linear(k, s, n, s->form + r0, s->h, H, &L->v, kv + KD, KVD);
        #pragma omp parallel for num_threads(nt) schedule(static) if ((size_t)n * KD >= PAR_MIN_FLOATS)
        for (int i = 0; i < n; i++) norm_rope(k, w, s, kv + (size_t)i * KVD, w->n_kv_heads, L->k_norm, r0 + i);
    }
}

/* Pass 2 of a layer over one block of n rows (s->rows, increasing): queries,
 * causal attention against the keys and values of pass 1, output projection
 * and MLP, each added to the residual stream.  form: the block's rows'
 * GEMM forms (NULL: kept rows, each alone). */
static void attend_and_mlp(const qwen3_weights *w, const qwen3_layer *L, const kern_ops *k, qwen3_scratch *s,
                           const int *off, int n_seq, int n, const int *form)
{
    const int H = w->hidden, F = w->ffn, hd = w->head_dim, nh = w->n_heads;
    const int QD = nh * hd, KD = w->n_kv_heads * hd, KVD = 2 * KD, group = nh / w->n_kv_heads, nt = s->n_threads;
    const float scale = 1.0f / sqrtf((float)hd);
    const int *rows = s->rows;

    norm_block(k, nt, s->x, rows, n, L->attn_norm, s->h, H, w->eps);
    linear(k, s, n, form, s->h, H, &L->q, s->q, QD);

    /* runs of consecutive rows of one sequence share their keys: one task per
     * (run, head), which norms and rotates its queries, then attends; query
     * head hh reads KV head hh / group */
    int runs = 0, run_start[QWEN3_BLOCK_ROWS + 1];
    for (int i = 0; i < n; i++)
        if (i == 0 || rows[i] != rows[i - 1] + 1 || seq_of(off, n_seq, rows[i]) != seq_of(off, n_seq, rows[i - 1]))
            run_start[runs++] = i;
    run_start[runs] = n;
    int tasks = runs * nh;
    #pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int task = 0; task < tasks; task++) {
        int ru = task / nh, hh = task % nh, i0 = run_start[ru], nq = run_start[ru + 1] - i0;
        int sq = seq_of(off, n_seq, rows[i0]), q0 = rows[i0] - off[sq];
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        for (int i = i0; i < i0 + nq; i++) norm_rope(k, w, s, s->q + (size_t)i * QD + (size_t)hh * hd, 1, L->q_norm, rows[i]);
        const float *kk = s->kv + (size_t)off[sq] * KVD + (size_t)(hh / group) * hd;
        k->attention_causal_f32(q0 + nq, nq, q0, hd, scale, s->q + (size_t)i0 * QD + (size_t)hh * hd, QD,
                                kk, KVD, kk + KD, KVD, s->u + (size_t)i0 * QD + (size_t)hh * hd, QD,
                                s->attn + (size_t)tid * s->attn_stride);
    }
    linear(k, s, n, form, s->u, QD, &L->o, s->h, H);
    /* the residual, then SwiGLU: down(silu(gate(h)) * up(h)), gate | up side by side in u */
    add_norm_block(k, nt, s->x, rows, n, s->h, L->ffn_norm, H, w->eps);
    linear(k, s, n, form, s->h, H, &L->gate, s->u, 2 * F);
    linear(k, s, n, form, s->h, H, &L->up, s->u + F, 2 * F);
    #pragma omp parallel for num_threads(nt) schedule(static) if ((size_t)n * F >= PAR_MIN_FLOATS)
    for (int i = 0; i < n; i++) k->silu_mul_f32(s->u + (size_t)i * 2 * F, s->u + (size_t)i * 2 * F + F, (size_t)F);
    linear(k, s, n, form, s->u, 2 * F, &L->down, s->h, H);
    add_norm_block(k, nt, s->x, rows, n, s->h, NULL, H, w->eps);
}

const float *qwen3_forward(const qwen3_weights *w, const kern_ops *k, qwen3_scratch *s,
                           const int32_t *ids, const int32_t *pos_ids, const int *off, int n_seq,
                           const int *keep)
{
    const int H = w->hidden, rows = off[n_seq], nt = s->n_threads, B = block_rows(s->max_rows);
    float *x = s->x;
    (void)nt; /* read by OpenMP only */

    #pragma omp parallel for num_threads(nt) schedule(static) if ((size_t)rows * H >= PAR_MIN_FLOATS)
    for (int t = 0; t < rows; t++) model_mat_row(&w->tok_embd, ids[t], x + (size_t)t * H);
    rope_tables(w, s, pos_ids, rows);
    model_row_forms(k, off, n_seq, s->form);

    for (int l = 0; l < w->n_layers; l++) {
        const qwen3_layer *L = &w->layers[l];
        /* the last layer of a pooled-row pass: keys and values of every row,
         * the rest for the kept rows only */
        const int pruned = keep && l == w->n_layers - 1, out_rows = pruned ? n_seq : rows;
        keys_values(w, L, k, s, rows);
        for (int i0 = 0; i0 < out_rows; i0 += B) {
            int n = out_rows - i0 < B ? out_rows - i0 : B;
            for (int i = 0; i < n; i++) {
                s->rows[i] = pruned ? keep[i0 + i] : i0 + i;
                s->block_form[i] = s->form[s->rows[i]];
            }
            attend_and_mlp(w, L, k, s, off, n_seq, n, pruned ? NULL : s->block_form);
        }
    }

    /* final norm; kept rows compacted to the front (keep[i] >= i, increasing,
     * so row i is written after every row it could overwrite was read) */
    const int out_rows = keep ? n_seq : rows;
    #pragma omp parallel for num_threads(nt) schedule(static) if (!keep && (size_t)rows * H >= PAR_MIN_FLOATS)
    for (int i = 0; i < out_rows; i++)
        k->rmsnorm_f32(x + (size_t)i * H, x + (size_t)(keep ? keep[i] : i) * H, w->out_norm, H, w->eps);
    return x;
}

float qwen3_rank_head(const qwen3_weights *w, const kern_ops *k, const float *h, float *tmp)
{
    model_mat_row(&w->cls_out, 0, tmp);
    float yes = k->dot_f32(tmp, h, (size_t)w->hidden);
    model_mat_row(&w->cls_out, 1, tmp);
    return yes - k->dot_f32(tmp, h, (size_t)w->hidden);
}
