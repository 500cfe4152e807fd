/* The Unigram normalizers as one stream of code points: the piece's UTF-8
 * decoded (level 0), then each step of the file's Sequence pulling from
 * the level below.  Every stage is plain data, so copying a ug_norm forks
 * the stream (Strip's right side reads ahead on a fork).
 *
 * Besides the text, each code point carries whether HF's alignment of it
 * starts at offset 0 of its piece (ug_cp.a0), which is what Metaspace's
 * "first" scheme tests.  HF computes alignments by walking the old string
 * with one cursor per transformation: a character replaced takes the
 * alignment at the cursor and advances it over the characters it consumes,
 * one inserted takes the alignment before the cursor.  The Precompiled
 * normalizer consumes fewer characters than it replaces (a cluster of k
 * characters replaced by m consumes 1 + k - m when m <= k, none when m > k),
 * so the cursor lags; the stage replays that walk (consumed, a0_in).  The
 * characters with a0 are always a prefix of a stage's output. */
#include "tokenizer/unigram_impl.h"
#include "tokenizer/unicode.h"

#include <string.h>

static int pull(ug_norm *ns, int level, ug_cp *c);

static int is_ws(uint32_t cp) { return (uni_props(cp) & UNI_WS) != 0; }

/* one code point of a valid UTF-8 string (the pool, a Replace content) */
static uint32_t next_cp(const char *s, uint32_t len, uint32_t *pos)
{
    uint32_t cp = 0;
    int k = uni_utf8_decode((const uint8_t *)s + *pos, len - *pos, &cp);
    *pos += k > 0 ? (uint32_t)k : 1;
    return cp;
}

static uint32_t count_cps(const char *s, uint32_t len)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < len; i++)
        n += ((uint8_t)s[i] & 0xC0) != 0x80;
    return n;
}

/* ---- level 0: the piece's bytes ---- */

static int decode(ug_norm *ns, ug_cp *c)
{
    if (ns->pos >= ns->n)
        return 0;
    int k = uni_utf8_decode(ns->s + ns->pos, ns->n - ns->pos, &c->cp);
    if (k < 0) {
        ns->err_pos = ns->pos;
        return TOK_ERR_TEXT;
    }
    c->a0 = ns->pos == 0;
    ns->pos += (size_t)k;
    return 1;
}

/* ---- Precompiled ---- */

/* HF's alignment walk over the units of this stage (its replace() in
 * normalizers/precompiled.rs): of a unit of k input code points made m,
 * the first min(k, m) replace input code points at the cursor, the rest are
 * inserted, the last one also removing what is left of the k; a unit made
 * empty (m = 0) adds its k to the removals of the code point before it, or,
 * at the start of the piece, consumes nothing (the cursor then lags).  A
 * code point replacing input i aligns with it (a0 when i < a0_in); one
 * inserted aligns with input cursor - 1 (a0 when cursor <= a0_in). */

static int pc_peek(ug_norm *ns, int level, ug_stage *st)
{
    if (st->u.pc.la_have || st->u.pc.in_end)
        return 0;
    int r = pull(ns, level - 1, &st->u.pc.la);
    if (r < 0)
        return r;
    if (r == 0) {
        st->u.pc.in_end = 1;
        return 0;
    }
    st->u.pc.la_have = 1;
    st->u.pc.la_break = (uint8_t)uni_gb_next(&st->u.pc.gb, st->u.pc.la.cp);
    st->u.pc.a0_in += st->u.pc.la.a0;
    return 0;
}

static void unit_rep(ug_unit *t, const char *rep, uint32_t rep_len, uint32_t k)
{
    memset(t, 0, sizeof *t);
    t->rep = rep;
    t->rep_len = rep_len;
    t->k = k;
    t->m = count_cps(rep, rep_len);
}

/* one code point on its own: its replacement when it is a key */
static void unit_char(const unigram *u, ug_unit *t, uint32_t cp)
{
    uint8_t b[4];
    int n = uni_utf8_encode(cp, b);
    const char *rep;
    uint32_t rl;
    if (ug_charsmap_match(&u->cmap, b, (size_t)n, &rep, &rl)) {
        unit_rep(t, rep, rl, 1);
        return;
    }
    memset(t, 0, sizeof *t);
    t->cp = cp;
    t->k = t->m = 1;
}

/* The next unit from the input: a code point of a cluster taken one by
 * one, or a new cluster (whole when it is under 6 bytes and starts with a
 * key).  1, 0 at the end, or an error. */
static int pc_unit(ug_norm *ns, int level, ug_stage *st, ug_unit *t)
{
    const unigram *u = ns->u;
    int r;
    if (st->u.pc.gi < st->u.pc.gn) {
        unit_char(u, t, st->u.pc.g[st->u.pc.gi++].cp);
        return 1;
    }
    st->u.pc.gi = st->u.pc.gn = 0;
    if ((r = pc_peek(ns, level, st)) < 0)
        return r;
    if (st->u.pc.in_long) { /* the rest of a cluster of 6 bytes or more */
        if (st->u.pc.la_have && !st->u.pc.la_break) {
            st->u.pc.la_have = 0;
            unit_char(u, t, st->u.pc.la.cp);
            return 1;
        }
        st->u.pc.in_long = 0;
    }
    if (!st->u.pc.la_have)
        return 0;
    /* a new cluster: gather it while it stays under 6 bytes */
    uint8_t bytes[UG_GMAX + 4];
    int nb = uni_utf8_encode(st->u.pc.la.cp, bytes);
    st->u.pc.g[0] = st->u.pc.la;
    st->u.pc.gn = 1;
    st->u.pc.la_have = 0;
    for (;;) {
        if ((r = pc_peek(ns, level, st)) < 0)
            return r;
        if (!st->u.pc.la_have || st->u.pc.la_break)
            break;
        uint8_t more[4];
        int k = uni_utf8_encode(st->u.pc.la.cp, more);
        if (nb + k >= UG_GMAX) {
            st->u.pc.in_long = 1;
            break;
        }
        memcpy(bytes + nb, more, (size_t)k);
        nb += k;
        st->u.pc.g[st->u.pc.gn++] = st->u.pc.la;
        st->u.pc.la_have = 0;
    }
    const char *rep;
    uint32_t rl;
    if (!st->u.pc.in_long && st->u.pc.gn > 1 && ug_charsmap_match(&u->cmap, bytes, (size_t)nb, &rep, &rl)) {
        /* the cluster's shortest key: its replacement, the rest dropped */
        unit_rep(t, rep, rl, st->u.pc.gn);
        st->u.pc.gn = 0;
        return 1;
    }
    unit_char(u, t, st->u.pc.g[st->u.pc.gi++].cp);
    return 1;
}

static int precompiled(ug_norm *ns, int level, ug_stage *st, ug_cp *c)
{
    ug_unit *t = &st->u.pc.cur;
    for (;;) {
        if (t->j < t->m) {
            uint64_t a0n = st->u.pc.a0_in;
            c->cp = t->rep ? next_cp(t->rep, t->rep_len, &t->rep_pos) : t->cp;
            uint32_t j = t->j++;
            if (j < t->k) {
                c->a0 = t->c0 + j < a0n;
            } else {
                c->a0 = t->c0 + t->k <= a0n;
                /* the last code point, inserted: a removal right after it
                 * makes it replace the removed input instead */
                if (c->a0 && t->j == t->m && t->c0 + t->k == a0n) {
                    int r = pc_unit(ns, level, st, &st->u.pc.next);
                    if (r < 0)
                        return r;
                    st->u.pc.has_next = r == 1;
                    if (r == 1 && st->u.pc.next.m == 0)
                        c->a0 = 0;
                }
            }
            st->u.pc.emitted = 1;
            return 1;
        }
        if (st->u.pc.has_next) {
            *t = st->u.pc.next;
            st->u.pc.has_next = 0;
        } else {
            int r = pc_unit(ns, level, st, t);
            if (r <= 0)
                return r;
        }
        t->c0 = st->u.pc.consumed;
        if (t->m > 0 || st->u.pc.emitted) /* else removed at the start: the cursor lags */
            st->u.pc.consumed += t->k;
    }
}

/* ---- Replace (a literal) and the regex " {2,}" ---- */

static int rp_emit(const ug_norm_step *step, ug_stage *st, ug_cp *c)
{
    c->cp = next_cp(step->to, step->to_len, &st->u.rp.out_pos);
    c->a0 = st->u.rp.out_a0;
    if (st->u.rp.out_pos >= st->u.rp.out_len)
        st->u.rp.out_len = 0;
    return 1;
}

/* the content replaces a match; it aligns with the match's last character */
static void rp_start(const ug_norm_step *step, ug_stage *st, uint8_t a0)
{
    st->u.rp.out_pos = 0;
    st->u.rp.out_len = step->to_len;
    st->u.rp.out_a0 = a0;
}

static int replace(ug_norm *ns, int level, ug_stage *st, ug_cp *c)
{
    const ug_norm_step *step = &ns->u->norm[level - 1];
    const uint32_t *pat = ns->u->pat[level - 1];
    int plen = ns->u->pat_len[level - 1];
    for (;;) {
        if (st->u.rp.out_len)
            return rp_emit(step, st, c);
        while (st->u.rp.qn < plen && !st->u.rp.ended) {
            int r = pull(ns, level - 1, &st->u.rp.q[st->u.rp.qn]);
            if (r < 0)
                return r;
            if (r == 0)
                st->u.rp.ended = 1;
            else
                st->u.rp.qn++;
        }
        int match = st->u.rp.qn == plen;
        for (int i = 0; match && i < plen; i++)
            match = st->u.rp.q[i].cp == pat[i];
        if (match) { /* leftmost, non-overlapping (Rust's match_indices) */
            rp_start(step, st, st->u.rp.q[plen - 1].a0);
            st->u.rp.qn = 0;
            continue;
        }
        if (st->u.rp.qn == 0)
            return 0;
        *c = st->u.rp.q[0];
        memmove(st->u.rp.q, st->u.rp.q + 1, (size_t)(st->u.rp.qn - 1) * sizeof *st->u.rp.q);
        st->u.rp.qn--;
        return 1;
    }
}

static int spaces(ug_norm *ns, int level, ug_stage *st, ug_cp *c)
{
    const ug_norm_step *step = &ns->u->norm[level - 1];
    for (;;) {
        if (st->u.rp.out_len)
            return rp_emit(step, st, c);
        if (st->u.rp.has_pending) {
            st->u.rp.has_pending = 0;
            *c = st->u.rp.pending;
            return 1;
        }
        int r = pull(ns, level - 1, c);
        if (r <= 0 || c->cp != ' ')
            return r;
        ug_cp first = *c, last = *c, d;
        uint64_t run = 1;
        while ((r = pull(ns, level - 1, &d)) == 1 && d.cp == ' ') {
            run++;
            last = d;
        }
        if (r < 0)
            return r;
        if (r == 1) {
            st->u.rp.pending = d;
            st->u.rp.has_pending = 1;
        }
        if (run == 1) {
            *c = first;
            return 1;
        }
        rp_start(step, st, last.a0);
        if (!st->u.rp.out_len)
            continue; /* replaced by nothing */
    }
}

/* ---- Strip ---- */

static int strip(ug_norm *ns, int level, ug_stage *st, ug_cp *c)
{
    const ug_norm_step *step = &ns->u->norm[level - 1];
    if (st->u.st.at_end)
        return 0;
    for (;;) {
        int r = pull(ns, level - 1, c);
        if (r <= 0)
            return r;
        int ws = is_ws(c->cp);
        if (!st->u.st.started && step->left && ws)
            continue;
        st->u.st.started = 1;
        if (!ws || !step->right)
            return 1;
        if (st->u.st.ws_ok == 0) {
            /* is this whitespace run the text's end?  Read on a fork. */
            ug_norm fork = *ns;
            ug_cp d;
            uint64_t run = 1;
            while ((r = pull(&fork, level - 1, &d)) == 1 && is_ws(d.cp))
                run++;
            if (r < 0) {
                ns->err_pos = fork.err_pos;
                return r;
            }
            if (r == 0) {
                st->u.st.at_end = 1;
                return 0;
            }
            st->u.st.ws_ok = run;
        }
        st->u.st.ws_ok--;
        return 1;
    }
}

/* ---- Lowercase ---- */

static int lowercase(ug_norm *ns, int level, ug_stage *st, ug_cp *c)
{
    if (st->u.lc.oi < st->u.lc.on) {
        c->cp = st->u.lc.out[st->u.lc.oi++];
        c->a0 = st->u.lc.a0;
        return 1;
    }
    int r = pull(ns, level - 1, c);
    if (r <= 0)
        return r;
    st->u.lc.on = uni_tolower(c->cp, st->u.lc.out);
    st->u.lc.oi = 1;
    st->u.lc.a0 = c->a0;
    c->cp = st->u.lc.out[0];
    return 1;
}

/* ---- the chain ---- */

static int pull(ug_norm *ns, int level, ug_cp *c)
{
    if (level == 0)
        return decode(ns, c);
    ug_stage *st = &ns->st[level - 1];
    switch (st->kind) {
    case UG_NORM_PRECOMPILED: return precompiled(ns, level, st, c);
    case UG_NORM_REPLACE: return replace(ns, level, st, c);
    case UG_NORM_SPACES: return spaces(ns, level, st, c);
    case UG_NORM_STRIP: return strip(ns, level, st, c);
    default: return lowercase(ns, level, st, c);
    }
}

void ug_norm_init(ug_norm *ns, const unigram *u, const uint8_t *s, size_t n)
{
    memset(ns, 0, sizeof *ns);
    ns->u = u;
    ns->s = s;
    ns->n = n;
    for (int i = 0; i < u->n_norm; i++) {
        ns->st[i].kind = u->norm[i].kind;
        if (u->norm[i].kind == UG_NORM_PRECOMPILED)
            uni_gb_init(&ns->st[i].u.pc.gb);
    }
}

int ug_norm_next(ug_norm *ns, ug_cp *c) { return pull(ns, ns->u->n_norm, c); }
