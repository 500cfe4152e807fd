#include "tokenizer/nfc_stream.h"

enum { ST_START, ST_MARKS_BEGIN, ST_MARKS };

void nfc_stream_init(nfc_stream *st, const uint8_t *s, size_t n, int nfc)
{
    st->s = s;
    st->n = n;
    st->nfc = nfc;
    st->rd = (nfc_at){ 0, 0 };
    st->err_pos = 0;
    st->state = ST_START;
    st->c_pos = (size_t)-1;
    st->c_len = 0;
    st->n_left = 0;
    st->n_absorbed = 0;
}

/* Decodes (and decomposes) the input character at pos into the cache. */
static int load(nfc_stream *st, size_t pos)
{
    if (st->c_pos == pos)
        return 0;
    uint32_t cp = 0;
    int k = uni_utf8_decode(st->s + pos, st->n - pos, &cp);
    if (k < 0)
        return -1;
    st->c_pos = pos;
    st->c_len = k;
    if (st->nfc) {
        st->c_nd = uni_nfd_char(cp, st->c_d);
    } else {
        st->c_d[0] = cp;
        st->c_nd = 1;
    }
    return 0;
}

/* The decomposed code point at a: 1, 0 at the end, -1 at invalid UTF-8. */
static int get(nfc_stream *st, nfc_at a, uint32_t *cp)
{
    if (a.pos >= st->n)
        return 0;
    if (load(st, a.pos))
        return -1;
    *cp = st->c_d[a.idx];
    return 1;
}

/* The position after a, which get() has read. */
static nfc_at step(nfc_stream *st, nfc_at a)
{
    load(st, a.pos);
    if (a.idx + 1 < st->c_nd) {
        a.idx++;
    } else {
        a.pos += (size_t)st->c_len;
        a.idx = 0;
    }
    return a;
}

static int same(nfc_at a, nfc_at b) { return a.pos == b.pos && a.idx == b.idx; }

/* The non-starters from a on: their count, and where they end (the next
 * starter, the end of the text or invalid UTF-8). */
static nfc_at scan_marks(nfc_stream *st, nfc_at a, int *count)
{
    uint32_t cp = 0;
    int n = 0;
    while (get(st, a, &cp) == 1 && uni_ccc(cp) != 0) {
        n++;
        a = step(st, a);
    }
    *count = n;
    return a;
}

/* The smallest combining class above `after` in the section, or -1. */
static int next_class(nfc_stream *st, int after)
{
    int best = 256;
    for (nfc_at a = st->sec; !same(a, st->sec_end); a = step(st, a)) {
        uint32_t cp = 0;
        get(st, a, &cp);
        int c = (int)uni_ccc(cp);
        if (c > after && c < best)
            best = c;
    }
    return best < 256 ? best : -1;
}

/* Canonical composition of the section into its starter.  In canonical
 * order the marks come class by class; a mark is blocked from the starter
 * exactly when an earlier mark of its own class stayed (lower classes never
 * block it), so each class gives the starter a prefix of its marks: the
 * ones that compose, up to the first that does not. */
static void absorb(nfc_stream *st)
{
    int c = 0;
    while ((c = next_class(st, c)) > 0 && st->n_absorbed < NFC_MAX_ABSORBED) {
        int taken = 0;
        for (nfc_at a = st->sec; !same(a, st->sec_end); a = step(st, a)) {
            uint32_t cp = 0;
            get(st, a, &cp);
            if ((int)uni_ccc(cp) != c)
                continue;
            uint32_t comp = uni_compose(st->starter, cp);
            if (!comp)
                break;
            st->starter = comp;
            taken++;
        }
        if (taken) {
            st->abs_ccc[st->n_absorbed] = (uint8_t)c;
            st->abs_n[st->n_absorbed] = (uint8_t)taken;
            st->n_absorbed++;
            st->n_left -= taken;
        }
    }
}

static int absorbed_of(const nfc_stream *st, int c)
{
    for (int i = 0; i < st->n_absorbed; i++)
        if (st->abs_ccc[i] == c)
            return st->abs_n[i];
    return 0;
}

/* Starts the section at st->rd: the starter composed with everything that
 * composes into it (its marks, then a following starter when no mark
 * stayed between, and so on).  Returns 1 when there is a starter to emit. */
static int start_section(nfc_stream *st, uint32_t first)
{
    st->has_starter = uni_ccc(first) == 0;
    st->starter = first;
    st->sec = st->has_starter ? step(st, st->rd) : st->rd;
    for (;;) {
        int cnt;
        st->sec_end = scan_marks(st, st->sec, &cnt);
        st->n_left = cnt;
        st->n_absorbed = 0;
        if (!st->has_starter)
            break;
        if (cnt)
            absorb(st);
        if (st->n_left)
            break;
        uint32_t x, comp;
        if (get(st, st->sec_end, &x) != 1 || !(comp = uni_compose(st->starter, x)))
            break;
        st->starter = comp;
        st->sec = step(st, st->sec_end);
    }
    st->rd = st->sec_end;
    return st->has_starter;
}

int nfc_stream_next(nfc_stream *st, uint32_t *cp)
{
    for (;;) {
        if (st->state == ST_START) {
            size_t p = st->rd.pos;
            if (st->rd.idx == 0 && p < st->n && st->s[p] < 0x80 &&
                (p + 1 == st->n || st->s[p + 1] < 0x80)) {
                /* ASCII before ASCII: a starter nothing composes with */
                *cp = st->s[p];
                st->rd.pos++;
                return 1;
            }
            uint32_t first;
            int r = get(st, st->rd, &first);
            if (r <= 0) {
                if (r < 0)
                    st->err_pos = st->rd.pos;
                return r;
            }
            if (!st->nfc) {
                st->rd = step(st, st->rd);
                *cp = first;
                return 1;
            }
            if (start_section(st, first)) {
                st->state = st->n_left ? ST_MARKS_BEGIN : ST_START;
                *cp = st->starter;
                return 1;
            }
            st->state = ST_MARKS_BEGIN;
        }
        if (st->state == ST_MARKS_BEGIN) {
            st->cls = next_class(st, 0);
            st->cls_skip = absorbed_of(st, st->cls);
            st->cur = st->sec;
            st->state = ST_MARKS;
        }
        /* ST_MARKS: the marks that stayed, class by class, each class in
         * text order (the stable sort of canonical ordering) */
        while (st->n_left > 0) {
            while (!same(st->cur, st->sec_end)) {
                uint32_t m = 0;
                get(st, st->cur, &m);
                st->cur = step(st, st->cur);
                if ((int)uni_ccc(m) != st->cls)
                    continue;
                if (st->cls_skip > 0) {
                    st->cls_skip--;
                    continue;
                }
                st->n_left--;
                *cp = m;
                return 1;
            }
            st->cls = next_class(st, st->cls);
            if (st->cls < 0)
                break; /* not reached: n_left counts what the classes hold */
            st->cls_skip = absorbed_of(st, st->cls);
            st->cur = st->sec;
        }
        st->state = ST_START;
    }
}
