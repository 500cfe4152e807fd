/* Viterbi over one pre-token, a window of UG_WINDOW bytes at a time, as
 * HF's Unigram::encode_optimized runs it over the whole pre-token: from
 * each character start in order, every piece the trie finds there and,
 * when none is exactly that character, the unknown piece; a node keeps the
 * first candidate of the best score (strictly greater replaces), sums in
 * double precision from the pre-token's start.
 *
 * A window that fills up is cut at the latest position every best path to
 * the window's last max_piece bytes goes through.  The whole pre-token's
 * best path passes one of those positions (its piece crossing the window's
 * end is at most max_piece long), so it passes the cut too, and its part
 * before the cut is this window's: the cut is exact.  The next window
 * starts there with the score reached there (not 0, so that the sums are
 * HF's to the last bit).  Where the paths have not met inside the window,
 * it is cut on the path to the window's end, at its last piece boundary
 * in the first half: an approximation, for texts no tokenizer was trained
 * on (see unigram.h). */
#include "tokenizer/unigram_impl.h"
#include "tokenizer/unicode.h"

#include <string.h>

void ug_lattice_init(ug_lattice *L, const unigram *u, int32_t *ids, int cap, int skip, int max_tokens)
{
    L->u = u;
    L->out = tok_sink_make(ids, cap, skip, max_tokens);
    L->stop = 0;
    L->n = 0;
    L->v0 = 0.0;
    L->run_len = 0;
    L->run_long = 0;
    L->run_n = 0;
}

static int put(ug_lattice *L, int32_t id)
{
    if (!L->stop && tok_sink_put(&L->out, id))
        L->stop = 1;
    return L->stop;
}

static int put_bytes(ug_lattice *L, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n && !L->stop; i++)
        put(L, L->u->byte_id[b[i]]);
    return L->stop;
}

/* The fused unknown run goes out: its text's id when that is a piece,
 * else its bytes (byte_fallback) or the unknown id. */
static int run_flush(ug_lattice *L)
{
    const unigram *u = L->u;
    if (L->run_len == 0)
        return L->stop;
    size_t n = L->run_len;
    L->run_len = 0;
    if (L->run_long) {
        L->run_long = 0;
        return u->byte_fallback ? L->stop : put(L, u->unk_id); /* its bytes went out already */
    }
    int32_t id = ug_trie_find(&u->trie, L->run, n);
    if (id >= 0)
        return put(L, id);
    return u->byte_fallback ? put_bytes(L, L->run, n) : put(L, u->unk_id);
}

static int run_add(ug_lattice *L, const uint8_t *b, size_t n)
{
    const unigram *u = L->u;
    if (!L->run_long && L->run_len + n <= u->max_piece && L->run_len + n <= UG_RUN_MAX) {
        memcpy(L->run + L->run_len, b, n);
        L->run_len += n;
        return 0;
    }
    if (!L->run_long) { /* no piece is this long: it is no piece */
        L->run_long = 1;
        if (u->byte_fallback && put_bytes(L, L->run, L->run_len))
            return 1;
    }
    L->run_len += n;
    return u->byte_fallback ? put_bytes(L, b, n) : 0;
}

static int emit(ug_lattice *L, int s, int e)
{
    int32_t id = L->tid[e];
    if (id == L->u->unk_id) /* whatever matched: HF fuses by id */
        return run_add(L, L->buf + s, (size_t)(e - s));
    return run_flush(L) || put(L, id);
}

static int utf8_len(uint8_t b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }

static void relax(ug_lattice *L, int s, int e, int32_t id, double score)
{
    double cand = score + L->best[s];
    if (L->from[e] < 0 || cand > L->best[e]) {
        L->best[e] = cand;
        L->from[e] = s;
        L->tid[e] = id;
    }
}

static void forward(ug_lattice *L)
{
    const unigram *u = L->u;
    const ug_trie *t = &u->trie;
    int n = L->n;
    for (int i = 1; i <= n; i++)
        L->from[i] = -1;
    L->from[0] = 0;
    L->best[0] = L->v0;
    for (int s = 0; s < n;) {
        int mb = utf8_len(L->buf[s]), single = 0;
        uint32_t v = 0;
        for (int k = s; k < n && (v = ug_trie_child(t, v, L->buf[k])) != 0; k++) {
            int32_t id = t->id[v];
            if (id < 0)
                continue;
            relax(L, s, k + 1, id, u->scores[id]);
            single |= k + 1 - s == mb;
        }
        if (!single)
            relax(L, s, s + mb, u->unk_id, u->unk_score);
        s += mb;
    }
}

/* Emits the path to position p (its pieces, in order).  1: stop. */
static int emit_path(ug_lattice *L, int p)
{
    int k = 0;
    for (int x = p; x > 0; x = L->from[x])
        L->mark[k++] = (int16_t)x;
    int s = 0;
    while (k > 0) {
        int e = L->mark[--k];
        if (emit(L, s, e))
            return 1;
        s = e;
    }
    return 0;
}

/* The latest position on every best path to the character starts in the
 * window's last max_piece bytes; 0 when they meet only at its start. */
static int meeting_point(ug_lattice *L)
{
    int n = L->n, lo = n - (int)L->u->max_piece, total = 0;
    memset(L->mark, 0, (size_t)(n + 1) * sizeof *L->mark);
    for (int e = n; e > lo && e > 0; e--)
        if (e == n || (L->buf[e] & 0xC0) != 0x80) { /* a character boundary */
            L->mark[e] = 1;
            total++;
        }
    for (int i = n; i > 0; i--) {
        if (!L->mark[i])
            continue;
        if (L->mark[i] == total)
            return i;
        L->mark[L->from[i]] = (int16_t)(L->mark[L->from[i]] + L->mark[i]);
    }
    return 0;
}

/* The window is full: its pieces up to a cut go out, the rest moves to the
 * front.  1: stop. */
static int cut(ug_lattice *L)
{
    forward(L);
    int p = meeting_point(L);
    if (p == 0) /* no meeting: the path to the end, cut at its last boundary in the first half */
        for (int x = L->n; x > 0; x = L->from[x]) {
            p = x;
            if (x <= L->n / 2)
                break;
        }
    if (emit_path(L, p))
        return 1;
    L->v0 = L->best[p];
    memmove(L->buf, L->buf + p, (size_t)(L->n - p));
    L->n -= p;
    return 0;
}

int ug_lattice_push(ug_lattice *L, uint32_t cp)
{
    if (L->stop)
        return 1;
    uint8_t b[4];
    int k = uni_utf8_encode(cp, b);
    if (L->n + k > UG_WINDOW && cut(L))
        return 1;
    memcpy(L->buf + L->n, b, (size_t)k);
    L->n += k;
    return 0;
}

int ug_lattice_end(ug_lattice *L)
{
    if (L->stop)
        return 1;
    if (L->n > 0) {
        forward(L);
        if (emit_path(L, L->n))
            return 1;
    }
    L->n = 0;
    L->v0 = 0.0;
    return run_flush(L);
}
