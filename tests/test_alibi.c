/* attention_alibi_f32 (ALiBi's symmetric bias, JinaBERT's): the scalar
 * reference against a float64 softmax, and every table this CPU has, the
 * emulated widths included, against the reference on odd shapes: every L
 * mod 2 VL, every head width tail, queries at an offset (a pooled row), a
 * head past KERN_ATTN_MAXD; nothing written past d or below row nq; slope
 * 0 gives attention_f32's bits; a query alone gives its bits in the whole
 * call.  An emulated table traps on a masked count out of range. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static float *falloc(size_t n)
{
    float *p = NULL;
    assert_int_equal(posix_memalign((void **)&p, 64, (n ? n : 1) * sizeof(float)), 0);
    return p;
}

/* float64 attention of query row qi (at position qpos) over L keys, the
 * bias rounded to float as the kernels form it; max |score| into *smax */
static void want_row(int L, int d, float scale, float slope, int qpos, const float *q, const float *k, const float *v,
                     int ld, double *out, double *smax)
{
    double *s = malloc((size_t)L * sizeof(double)), mx = -INFINITY, sum = 0;
    for (int j = 0; j < L; j++) {
        double dot = 0;
        for (int e = 0; e < d; e++) dot += (double)q[e] * k[(size_t)j * ld + e];
        s[j] = dot * scale + (double)(-slope * (float)abs(qpos - j));
        if (s[j] > mx) mx = s[j];
        if (fabs(s[j]) > *smax) *smax = fabs(s[j]);
    }
    for (int j = 0; j < L; j++) { s[j] = exp(s[j] - mx); sum += s[j]; }
    for (int e = 0; e < d; e++) {
        double w = 0;
        for (int j = 0; j < L; j++) w += s[j] * v[(size_t)j * ld + e];
        out[e] = w / sum;
    }
    free(s);
}

/* nq queries at positions q0 .. q0 + nq - 1 of L tokens, heads of d
 * (rows of q, k, v interleaved: stride 3 d + 5; out d + 3) */
static void check_alibi(int L, int nq, int q0, int d, float slope)
{
    const int ld = 3 * d + 5, ldo = d + 3;
    float *qkv = falloc((size_t)L * ld), *want = falloc((size_t)nq * ldo), *out = falloc(((size_t)nq + 1) * ldo);
    float *one = falloc((size_t)ldo), *plain = falloc((size_t)nq * ldo), *scr = falloc(kern_attention_scratch_floats(L, d));
    double *exact = malloc((size_t)d * sizeof(double));
    for (size_t i = 0; i < (size_t)L * ld; i++) qkv[i] = 2.0f * frand();
    const float scale = 1.0f / sqrtf((float)d), *q = qkv + (size_t)q0 * ld, *k = qkv + d, *v = qkv + 2 * d;
    const kern_ops *ref = kern_ops_for(KERN_ISA_SCALAR);
    ref->attention_alibi_f32(L, nq, q0, d, scale, slope, q, ld, k, ld, v, ld, want, ldo, scr);
    /* the reference against float64: off by the rounding of each score to
     * float (|score| 2^-24 at most, twice: the dot product's and the sum's),
     * times |v| <= 2 */
    for (int i = 0; i < nq; i++) {
        double smax = 0;
        want_row(L, d, scale, slope, q0 + i, q + (size_t)i * ld, k, v, ld, exact, &smax);
        const double tol = 2e-6 + 4.0 * 0x1p-24 * smax * 2.0;
        for (int e = 0; e < d; e++)
            if (!(fabs(want[(size_t)i * ldo + e] - exact[e]) <= tol))
                fail_msg("scalar attention_alibi L%d nq%d q0 %d d%d slope %g [%d][%d]: %.9g vs float64 %.9g", L, nq, q0, d,
                         (double)slope, i, e, want[(size_t)i * ldo + e], exact[e]);
    }
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++) {
        const kern_ops *o = kern_ops_for((kern_isa)isa);
        if (!o) continue;
        for (size_t i = 0; i < ((size_t)nq + 1) * ldo; i++) out[i] = 12345.0f;
        o->attention_alibi_f32(L, nq, q0, d, scale, slope, q, ld, k, ld, v, ld, out, ldo, scr);
        for (int e = 0; e < ldo; e++)
            if (out[(size_t)nq * ldo + e] != 12345.0f) fail_msg("%s attention_alibi: row %d written", o->name, nq);
        for (int i = 0; i < nq; i++) {
            for (int e = d; e < ldo; e++)
                if (out[(size_t)i * ldo + e] != 12345.0f) fail_msg("%s attention_alibi: out[%d][%d] past d written", o->name, i, e);
            for (int e = 0; e < d; e++)
                if (!(fabs(out[(size_t)i * ldo + e] - want[(size_t)i * ldo + e]) <= 2e-6))
                    fail_msg("%s attention_alibi L%d nq%d q0 %d d%d slope %g [%d][%d]: %.9g vs scalar %.9g", o->name, L, nq, q0,
                             d, (double)slope, i, e, out[(size_t)i * ldo + e], want[(size_t)i * ldo + e]);
            /* a few queries alone (all of short calls): the bits of the whole call */
            if (nq > 8 && i > 2 && i < nq - 2 && i % 13) continue;
            o->attention_alibi_f32(L, 1, q0 + i, d, scale, slope, q + (size_t)i * ld, ld, k, ld, v, ld, one, ldo, scr);
            if (memcmp(one, out + (size_t)i * ldo, (size_t)d * sizeof(float)) != 0)
                fail_msg("%s attention_alibi L%d q0 %d d%d: query %d alone differs from the call of %d", o->name, L, q0, d, i, nq);
        }
        /* slope 0: no bias, attention_f32's bits */
        o->attention_alibi_f32(L, nq, q0, d, scale, 0.0f, q, ld, k, ld, v, ld, out, ldo, scr);
        o->attention_f32(L, nq, d, scale, q, ld, k, ld, v, ld, plain, ldo, scr);
        for (int i = 0; i < nq; i++)
            if (memcmp(out + (size_t)i * ldo, plain + (size_t)i * ldo, (size_t)d * sizeof(float)) != 0)
                fail_msg("%s attention_alibi L%d nq%d d%d slope 0: row %d differs from attention_f32", o->name, L, nq, d, i);
    }
    free(qkv); free(want); free(out); free(one); free(plain); free(scr); free(exact);
}

/* The slopes of a 12-head model (jina-reranker-v1: 8 of 2^-(h+1), then
 * 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5), the gentlest of 16 heads, and a steep
 * one that leaves a query little but its neighbours. */
static const float slopes[] = {0.5f, 0.0078125f, 0.70710678f, 0.088388348f, 0.0039062500f, 2.0f};
#define N_SLOPES (int)(sizeof slopes / sizeof slopes[0])

static void test_alibi_shapes(void **s)
{
    (void)s;
    static const int Ls[] = {1, 2, 5, 17, 64, 129}, ds[] = {16, 32, 64, 24, 20};
    for (int a = 0; a < 6; a++)
        for (int c = 0; c < 5; c++) {
            const int L = Ls[a], d = ds[c];
            const float sl = slopes[(a + c) % N_SLOPES];
            check_alibi(L, L, 0, d, sl);                  /* the whole sequence */
            check_alibi(L, 1, 0, d, sl);                  /* the first token ([CLS], the rank head's row) */
            check_alibi(L, 1, L - 1, d, sl);              /* the last one */
            if (L >= 3) check_alibi(L, L / 3 + 1, L / 3, d, sl); /* a middle chunk */
        }
}

/* every L mod 2 VL (VL 4, 8, 16), queries in blocks of 6, every head
 * width tail (passes of 2 VL dims), and a head past KERN_ATTN_MAXD */
static void test_alibi_tails(void **s)
{
    (void)s;
    static const int dl[] = {1, 5, 8, 12, 16, 23, 31, 33};
    for (int L = 1; L <= 50; L++) {
        check_alibi(L, L, 0, dl[L % 8], slopes[L % N_SLOPES]);
        const int nq = 1 + L % 7 < L ? 1 + L % 7 : L;
        check_alibi(L, nq, L - nq, dl[(L + 3) % 8], slopes[(L + 1) % N_SLOPES]);
    }
    for (int d = 1; d <= 66; d += 3) check_alibi(1 + d * 7 % 40, 1 + d * 7 % 40, 0, d, slopes[d % N_SLOPES]);
    check_alibi(9, 9, 0, 260, 0.25f);
    check_alibi(9, 2, 4, 260, 0.25f);
}

/* A long sequence whose far keys the bias pushes to -300 and beyond: the
 * row maximum must come from the biased scores, or every weight of the
 * row underflows; and the rank head's row alone. */
static void test_alibi_long(void **s)
{
    (void)s;
    check_alibi(300, 7, 0, 32, 1.0f);
    check_alibi(300, 1, 150, 32, 2.0f);
    check_alibi(517, 1, 0, 32, 0.0078125f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alibi_shapes),
        cmocka_unit_test(test_alibi_tails),
        cmocka_unit_test(test_alibi_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
