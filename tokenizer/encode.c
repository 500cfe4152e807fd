#include "tokenizer/encode.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

tok_template tok_template_bert(int32_t cls_id, int32_t sep_id)
{
    tok_template t;
    memset(&t, 0, sizeof t);
    t.n_single = 3;
    t.single[0] = (tok_item){ cls_id, 0 };
    t.single[1] = (tok_item){ TOK_SEQ_A, 0 };
    t.single[2] = (tok_item){ sep_id, 0 };
    t.n_pair = 5;
    t.pair[0] = (tok_item){ cls_id, 0 };
    t.pair[1] = (tok_item){ TOK_SEQ_A, 0 };
    t.pair[2] = (tok_item){ sep_id, 0 };
    t.pair[3] = (tok_item){ TOK_SEQ_B, 1 };
    t.pair[4] = (tok_item){ sep_id, 1 };
    return t;
}

int tok_template_n_added(const tok_template *t, int is_pair)
{
    int n = is_pair ? t->n_pair : t->n_single;
    const tok_item *it = is_pair ? t->pair : t->single;
    int k = 0;
    for (int i = 0; i < n && i < TOK_TEMPLATE_MAX; i++)
        k += it[i].id >= 0;
    return k;
}

void tok_truncate_longest_first(int a, int b, int budget, int *na, int *nb)
{
    if (budget < 0)
        budget = 0;
    if (b < 0) {
        *na = a < budget ? a : budget;
        *nb = 0;
        return;
    }
    if (a + b <= budget) {
        *na = a;
        *nb = b;
        return;
    }
    int swap = a > b;
    int n1 = swap ? b : a, n2;
    if (n1 > budget)
        n2 = n1;
    else
        n2 = n1 > budget - n1 ? n1 : budget - n1;
    if (n1 + n2 > budget) {
        n1 = budget / 2;
        n2 = n1 + budget % 2;
    }
    *na = swap ? n2 : n1;
    *nb = swap ? n1 : n2;
}

static int check_template(const tok_item *it, int n, int is_pair,
                          char *err, size_t errlen)
{
    int na = 0, nb = 0, a_at = -1, b_at = -1;
    if (n < 0 || n > TOK_TEMPLATE_MAX)
        goto bad;
    for (int i = 0; i < n; i++) {
        if (it[i].id == TOK_SEQ_A) {
            na++;
            a_at = i;
        } else if (it[i].id == TOK_SEQ_B) {
            nb++;
            b_at = i;
        } else if (it[i].id < 0) {
            goto bad;
        }
    }
    if (na == 1 && nb == (is_pair ? 1 : 0) && (!is_pair || a_at < b_at))
        return 0;
bad:
    tok_seterr(err, errlen, "tok_encode: invalid %s template", is_pair ? "pair" : "single");
    return TOK_ERR_ARG;
}

/* Does sequence A have more tokens than B (1 / 0)?  Both are known to exceed
 * some count; compare by counting both with doubling limits, O(shorter
 * length).  A TOK_ERR_* code on failure. */
static int a_longer(const tok_model *tm, const char *a, size_t alen,
                    const char *b, size_t blen, int from,
                    char *err, size_t errlen)
{
    long long lim = (long long)from * 2;
    for (;;) {
        int l = lim > 0x7ffffff0 ? 0x7ffffff0 : (int)lim;
        int ca = tok_model_encode(tm, a, alen, NULL, 0, l, err, errlen);
        if (ca < 0)
            return ca;
        int cb = tok_model_encode(tm, b, blen, NULL, 0, l, err, errlen);
        if (cb < 0)
            return cb;
        if (ca < l || cb < l || l == 0x7ffffff0)
            return ca > cb;
        lim *= 2;
    }
}

static int encode_seq(const tok_model *tm, const char *s, size_t n,
                      int32_t *ids, int cap, int max, const char *which,
                      char *err, size_t errlen)
{
    char e[200];
    int r = tok_model_encode(tm, s, n, ids, cap, max, e, sizeof e);
    if (r < 0)
        tok_seterr(err, errlen, "%s (%s sequence)", e, which);
    return r;
}

int tok_encode(const tok_model *tm, const tok_template *tpl,
               const char *text, size_t len, const char *pair, size_t pair_len,
               int add_special, int max_length,
               int32_t *ids, int32_t *type_ids, int cap,
               char *err, size_t errlen)
{
    if (!tm || !tpl || !ids || cap < 0 || (!text && len) || max_length < 0) {
        tok_seterr(err, errlen, "tok_encode: invalid argument");
        return TOK_ERR_ARG;
    }
    if (!text)
        text = "";
    int is_pair = pair != NULL;
    const tok_item *it = is_pair ? tpl->pair : tpl->single;
    int nit = is_pair ? tpl->n_pair : tpl->n_single;
    if (check_template(it, nit, is_pair, err, errlen) < 0)
        return TOK_ERR_ARG;
    int n_added = add_special ? tok_template_n_added(tpl, is_pair) : 0;
    /* before the cap: a caller sizing ids by max_length must hear about
     * max_length, not about its buffer */
    if (max_length > 0 && max_length < n_added) {
        tok_seterr(err, errlen,
               "tok_encode: max_length %d is below the %d special tokens",
               max_length, n_added);
        return TOK_ERR_ARG;
    }
    if (cap < n_added) {
        tok_seterr(err, errlen, "tok_encode: output buffer too small (cap %d)", cap);
        return TOK_ERR_SPACE;
    }
    int room = cap - n_added;
    int na, nb = 0;
    if (max_length > 0) {
        int budget = max_length - n_added;
        if (!is_pair) {
            na = budget;
        } else {
            /* lengths capped at budget+1 decide everything except, for an
             * odd budget with both sides over it, who gets the extra token */
            int ca = encode_seq(tm, text, len, NULL, 0, budget + 1, "first", err, errlen);
            if (ca < 0)
                return ca;
            int cb = encode_seq(tm, pair, pair_len, NULL, 0, budget + 1, "second", err, errlen);
            if (cb < 0)
                return cb;
            if (ca > budget && cb > budget && budget % 2) {
                int l = a_longer(tm, text, len, pair, pair_len, budget + 1, err, errlen);
                if (l < 0)
                    return l;
                ca = budget + 1 + l; /* equal lengths behave like a < b */
                cb = budget + 1;
            }
            tok_truncate_longest_first(ca, cb, budget, &na, &nb);
        }
    } else {
        na = -1;
        nb = -1;
    }
    /* encode A then B contiguously at the start, then spread into template */
    na = encode_seq(tm, text, len, ids, room, na, "first", err, errlen);
    if (na < 0)
        return na;
    if (is_pair) {
        nb = encode_seq(tm, pair, pair_len, ids + na, room - na, nb, "second", err, errlen);
        if (nb < 0)
            return nb;
    } else {
        nb = 0;
    }
    int total = na + nb + n_added;
    int pos = 0, pos_a = 0, pos_b = 0;
    int32_t a_type = 0, b_type = 0;
    for (int i = 0; i < nit; i++) {
        if (it[i].id == TOK_SEQ_A) {
            pos_a = pos;
            pos += na;
            a_type = it[i].type_id;
        } else if (it[i].id == TOK_SEQ_B) {
            pos_b = pos;
            pos += nb;
            b_type = it[i].type_id;
        } else if (add_special) {
            pos++;
        }
    }
    /* A precedes B, so both only move right: B first, then A, then specials */
    if (is_pair)
        memmove(ids + pos_b, ids + na, (size_t)nb * sizeof *ids);
    memmove(ids + pos_a, ids, (size_t)na * sizeof *ids);
    pos = 0;
    for (int i = 0; i < nit; i++) {
        if (it[i].id == TOK_SEQ_A)
            pos += na;
        else if (it[i].id == TOK_SEQ_B)
            pos += nb;
        else if (add_special)
            ids[pos++] = it[i].id;
    }
    if (type_ids) {
        int p = 0;
        for (int i = 0; i < nit; i++) {
            if (it[i].id == TOK_SEQ_A)
                for (int k = 0; k < na; k++)
                    type_ids[p++] = a_type;
            else if (it[i].id == TOK_SEQ_B)
                for (int k = 0; k < nb; k++)
                    type_ids[p++] = b_type;
            else if (add_special)
                type_ids[p++] = it[i].type_id;
        }
    }
    return total;
}
