/* Vectors to codes (int8 calibrated per dimension, sign bits), queries
 * prepared as the stored vectors are, their distances, and the bounded heap
 * that keeps the best: what every search and build shares. */
#include "index/base.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sentence-transformers style int8: per-dimension ranges from calibration
 * data, 255 steps from the smallest value to the largest.  A dimension that
 * is constant (or whose range is below float resolution at its magnitude)
 * still gets a positive step, one that decodes its value back: a zero step
 * was saved, and the reader rightly refused the file.  Ranges so wide that
 * decoding would leave float range are refused. */
idx_status idx_calibrate(emb_index *x, const float *v, size_t n, char *err, size_t errlen)
{
    for (int d = 0; d < x->dim; d++) {
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            float f = v[i * x->dim + d];
            lo = f < lo ? f : lo;
            hi = f > hi ? f : hi;
        }
        float step = (hi - lo) / 255.0f, least = fmaxf(fabsf(lo), fabsf(hi)) * 0x1p-20f;
        if (!(step >= least)) step = least;
        if (!(step >= FLT_MIN)) step = FLT_MIN;
        const float offset = lo + 128.0f * step;
        /* the reader's condition (file.c): every code decodes to a float */
        if (!((double)fabsf(offset) + 256.0 * step < FLT_MAX)) {
            snprintf(err, errlen, "dimension %d ranges over [%g, %g]: too wide for an int8 store", d, (double)lo, (double)hi);
            return IDX_ERR_ARG;
        }
        x->i8_scale[d] = step;
        x->i8_offset[d] = offset;
    }
    x->calibrated = 1;
    return IDX_OK;
}

/* Clamped before the conversion, NaN to 0: a float outside the target's
 * range (NaN included) converted to an integer is undefined behaviour. */
static int8_t clamp_i8(float t) { return t >= -128 && t <= 127 ? (int8_t)t : t > 127 ? 127 : t < -128 ? -128 : 0; }

void idx_quantize_i8(const emb_index *x, const float *v, int8_t *q)
{
    for (int d = 0; d < x->dim; d++) q[d] = clamp_i8(roundf((v[d] - x->i8_offset[d]) / x->i8_scale[d]));
}

void idx_pack_bits(int dim, const float *v, uint64_t *bits)
{
    /* bit d%64 of word d/64: sign of component d (branch-free: signs are coin flips) */
    for (int w = 0; w * 64 < dim; w++) {
        uint64_t b = 0;
        for (int d = w * 64; d < dim && d < w * 64 + 64; d++) b |= (uint64_t)(v[d] > 0) << (d % 64);
        bits[w] = b;
    }
}

void idx_l2_normalize(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    if (s > 0) { float inv = (float)(1 / sqrt(s)); for (int i = 0; i < n; i++) v[i] *= inv; }
}

size_t idx_query_floats(const emb_index *x) { return 2 * (size_t)x->dim + ((size_t)x->dim + 63) / 64 * 2 + ((size_t)x->dim + 3) / 4 + 16; }

void idx_query_prepare(const emb_index *x, const float *q, idx_query *qp, float *buf)
{
    qp->q = buf;
    qp->raw = buf + x->dim;
    qp->bits = (uint64_t *)(void *)(buf + 2 * x->dim + ((2 * x->dim) & 1));
    qp->q8 = (int8_t *)(void *)(qp->bits + ((size_t)x->dim + 63) / 64);
    qp->q8s = 0;
    memcpy(qp->raw, q, (size_t)x->dim * sizeof(float));
    if (x->metric == IDX_COSINE) idx_l2_normalize(qp->raw, x->dim);
    qp->c = 0;
    qp->qq = 0;
    if (x->vt == IDX_I8) {
        for (int d = 0; d < x->dim; d++) {
            qp->q[d] = qp->raw[d] * x->i8_scale[d];
            qp->c += qp->raw[d] * x->i8_offset[d];
            qp->qq += qp->raw[d] * qp->raw[d];
        }
        /* one scale for the whole query: its rounding error is ~1/254 of the
         * largest term, below that of the stored int8 codes */
        float amax = 0;
        for (int d = 0; d < x->dim; d++) amax = fmaxf(amax, fabsf(qp->q[d]));
        qp->q8s = amax / 127;
        for (int d = 0; d < x->dim; d++) qp->q8[d] = amax > 0 ? clamp_i8(rintf(qp->q[d] / qp->q8s)) : 0;
    } else {
        memcpy(qp->q, qp->raw, (size_t)x->dim * sizeof(float));
    }
    if (x->vt == IDX_BIN) idx_pack_bits(x->dim, qp->raw, qp->bits);
}

float idx_dist(const emb_index *x, const idx_query *q, uint32_t i)
{
    const unsigned char *c = x->codes + (size_t)i * x->code_bytes;
    switch (x->vt) {
    case IDX_F32:
        if (x->metric == IDX_L2) return x->k->l2sq_f32(q->q, (const float *)c, (size_t)x->dim);
        return -x->k->dot_f32(q->q, (const float *)c, (size_t)x->dim);
    case IDX_I8: {
        float dot = (q->q8 ? q->q8s * (float)x->k->dot_i8(q->q8, (const int8_t *)c, (size_t)x->dim)
                           : x->k->dot_f32_i8(q->q, (const int8_t *)c, (size_t)x->dim)) + q->c;
        if (x->metric == IDX_L2) return q->qq - 2 * dot + x->norms[i];
        return -dot;
    }
    default:
        return (float)x->k->hamming(q->bits, (const uint64_t *)c, x->code_bytes / 8);
    }
}

float idx_refine_dist(const emb_index *x, const float *q, uint32_t i)
{
    const float *v = x->refine_vecs + (size_t)i * x->dim;
    if (x->metric == IDX_L2) return x->k->l2sq_f32(q, v, (size_t)x->dim);
    return -x->k->dot_f32(q, v, (size_t)x->dim);
}

float idx_score(const emb_index *x, float dist)
{
    return (x->metric == IDX_IP || x->metric == IDX_COSINE) ? -dist : dist;
}

/* max-heap on (d, i): the root is the worst kept hit; equal distances rank
 * by slot, so the kept set is the k smallest (d, i) whatever the visit order */
static inline int hit_worse(float d, uint32_t i, const idx_hit *h) { return d > h->d || (d == h->d && i > h->i); }

void idx_heap_push(idx_hit *h, int *n, int cap, float d, uint32_t i)
{
    if (*n == cap) {
        if (!hit_worse(h[0].d, h[0].i, &(idx_hit){ d, i })) return;
        int j = 0; /* replace the root and sift down */
        for (;;) {
            int l = 2 * j + 1, r = l + 1, m = j;
            idx_hit mh = { d, i };
            if (l < *n && hit_worse(h[l].d, h[l].i, &mh)) { m = l; mh = h[l]; }
            if (r < *n && hit_worse(h[r].d, h[r].i, &mh)) m = r;
            if (m == j) break;
            h[j] = h[m];
            j = m;
        }
        h[j] = (idx_hit){ d, i };
        return;
    }
    int j = (*n)++;
    while (j > 0 && hit_worse(d, i, &h[(j - 1) / 2])) {
        h[j] = h[(j - 1) / 2];
        j = (j - 1) / 2;
    }
    h[j] = (idx_hit){ d, i };
}

static int hit_cmp(const void *a, const void *b)
{
    const idx_hit *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i; /* ties: by slot, as the heap keeps them */
}

void idx_hits_sort(idx_hit *h, int n) { qsort(h, (size_t)n, sizeof *h, hit_cmp); }
