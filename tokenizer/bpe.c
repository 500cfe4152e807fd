/* Byte-level BPE: the vocabulary and merge tables, and the encode driver
 * (added tokens -> pieces -> pre-tokens -> windows of merges -> ids). */
#include "tokenizer/bpe_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char BPE_QWEN2_PATTERN[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* GPT-2's printable bytes stand for themselves; the others (control
 * characters, space, DEL, NBSP, soft hyphen, ...) take U+0100 on, in order. */
static int byte_is_printable(int c)
{
    return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE;
}

uint32_t bpe_byte_char(uint8_t b)
{
    if (byte_is_printable(b))
        return b;
    uint32_t n = 0;
    for (int c = 0; c < b; c++)
        n += !byte_is_printable(c);
    return 256 + n;
}

int bpe_pre_from_name(const char *name, size_t len)
{
    if (len == 5 && memcmp(name, "qwen2", 5) == 0)
        return BPE_PRE_QWEN2;
    if (len == 5 && memcmp(name, "gpt-2", 5) == 0)
        return BPE_PRE_GPT2;
    return 0;
}

const char *bpe_pre_name(int pre) { return pre == BPE_PRE_QWEN2 ? "qwen2" : pre == BPE_PRE_GPT2 ? "gpt-2" : "?"; }

/* FNV-1a over a + b, so that a merge's result is found without copying */
static uint32_t hash2(const char *a, size_t al, const char *b, size_t bl)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < al; i++)
        h = (h ^ (uint8_t)a[i]) * 16777619u;
    for (size_t i = 0; i < bl; i++)
        h = (h ^ (uint8_t)b[i]) * 16777619u;
    return h;
}

static int32_t lookup2(const bpe *b, const char *p, size_t pl, const char *s, size_t sl)
{
    if (pl + sl > b->max_len || pl + sl == 0)
        return -1;
    uint32_t i = hash2(p, pl, s, sl) & b->mask;
    for (;;) {
        uint32_t v = b->slots[i];
        if (!v)
            return -1;
        int32_t id = (int32_t)(v - 1);
        const char *t = b->pool + b->off[id];
        if (b->off[id + 1] - b->off[id] == pl + sl && memcmp(t, p, pl) == 0 &&
            memcmp(t + pl, s, sl) == 0)
            return id;
        i = (i + 1) & b->mask;
    }
}

int32_t bpe_find(const bpe *b, const char *tok, size_t len) { return lookup2(b, "", 0, tok, len); }
int32_t bpe_n_tokens(const bpe *b) { return b->n_tokens; }

const char *bpe_token(const bpe *b, int32_t id, uint32_t *len)
{
    if (id < 0 || id >= b->n_tokens)
        return NULL;
    if (len)
        *len = b->off[id + 1] - b->off[id];
    return b->pool + b->off[id];
}

void bpe_free(bpe *b)
{
    if (!b)
        return;
    free(b->pool);
    free(b->off);
    free(b->types);
    free(b->slots);
    free(b->m_left);
    free(b->m_right);
    free(b->m_new);
    free(b->m_slots);
    tok_added_free(b->lit);
    free(b);
}

static uint32_t pow2_above(uint64_t n)
{
    uint32_t s = 1;
    while (s < n && s < (1u << 31))
        s <<= 1;
    return s;
}

static int build_vocab(bpe *b, const char *const *tokens, const uint32_t *lens, char *err, size_t errlen)
{
    uint32_t pos = 0;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        b->off[i] = pos;
        if (lens[i])
            memcpy(b->pool + pos, tokens[i], lens[i]);
        pos += lens[i];
        if (lens[i] > b->max_len)
            b->max_len = lens[i];
    }
    b->off[b->n_tokens] = pos;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        uint32_t tl = lens[i];
        /* unused ids (llama.cpp's [PADn] fillers) are no text of HF's vocabulary */
        if (tl == 0 || b->types[i] == TOK_TYPE_UNUSED)
            continue;
        const char *t = b->pool + b->off[i];
        uint32_t h = hash2("", 0, t, tl) & b->mask;
        for (;;) {
            uint32_t v = b->slots[h];
            if (!v) {
                b->slots[h] = (uint32_t)i + 1;
                break;
            }
            int32_t j = (int32_t)(v - 1);
            if (b->off[j + 1] - b->off[j] == tl && memcmp(b->pool + b->off[j], t, tl) == 0) {
                b->slots[h] = (uint32_t)i + 1; /* duplicate: the later id, as HF's map */
                break;
            }
            h = (h + 1) & b->mask;
        }
    }
    for (int c = 0; c < 256; c++) {
        uint8_t u[4];
        int ul = uni_utf8_encode(bpe_byte_char((uint8_t)c), u);
        b->byte_id[c] = bpe_find(b, (const char *)u, (size_t)ul);
        if (b->byte_id[c] < 0) {
            tok_seterr(err, errlen, "bpe: no token for byte 0x%02X (\"%.*s\"): not a byte-level vocabulary",
                   c, ul, (const char *)u);
            return -1;
        }
    }
    return 0;
}

/* A merge side or result: a normal token of the BPE vocabulary. */
static int32_t merge_token(const bpe *b, const char *p, size_t pl, const char *s, size_t sl)
{
    int32_t id = lookup2(b, p, pl, s, sl);
    return id >= 0 && (b->types[id] == TOK_TYPE_NORMAL || b->types[id] == TOK_TYPE_BYTE) ? id : -1;
}

static int build_merges(bpe *b, const char *const *merges, const uint32_t *mlens, char *err, size_t errlen)
{
    for (int32_t r = 0; r < b->n_merges; r++) {
        const char *m = merges[r];
        uint32_t ml = mlens[r];
        const char *sp = m ? memchr(m, ' ', ml) : NULL;
        if (!sp || sp == m || sp == m + ml - 1 || memchr(sp + 1, ' ', (size_t)(m + ml - sp - 1))) {
            tok_seterr(err, errlen, "bpe: merge %d (\"%.*s\") is not two tokens separated by one space",
                   (int)r, (int)(ml > 80 ? 80 : ml), m ? m : "");
            return -1;
        }
        size_t ll = (size_t)(sp - m), rl = ml - ll - 1;
        int32_t l = merge_token(b, m, ll, "", 0), rr = merge_token(b, sp + 1, rl, "", 0);
        int32_t nw = merge_token(b, m, ll, sp + 1, rl);
        if (l < 0 || rr < 0 || nw < 0) {
            tok_seterr(err, errlen, "bpe: merge %d (\"%.*s\"): %s is not a token of the vocabulary", (int)r,
                   (int)(ml > 80 ? 80 : ml), m, l < 0 ? "its left side" : rr < 0 ? "its right side" : "its result");
            return -1;
        }
        b->m_left[r] = l;
        b->m_right[r] = rr;
        b->m_new[r] = nw;
        uint64_t k = ((uint64_t)(uint32_t)l << 32 | (uint32_t)rr) * 0x9E3779B97F4A7C15ull;
        uint32_t i = (uint32_t)(k >> 32) & b->m_mask;
        for (;;) {
            uint32_t v = b->m_slots[i];
            if (!v || (b->m_left[v - 1] == l && b->m_right[v - 1] == rr)) {
                b->m_slots[i] = (uint32_t)r + 1; /* listed twice: the later rank, as HF's map */
                break;
            }
            i = (i + 1) & b->m_mask;
        }
    }
    return 0;
}

static int build_literals(bpe *b, const bpe_options *o, char *err, size_t errlen)
{
    tok_added_strip st = { o->lstrip, o->n_lstrip, o->rstrip, o->n_rstrip };
    return tok_added_from_vocab(b->n_tokens, b->pool, b->off, b->types, &st, "bpe", &b->lit, err, errlen);
}

bpe *bpe_create(int32_t n_tokens, const char *const *tokens, const uint32_t *lens,
                const int32_t *types, int32_t n_merges, const char *const *merges,
                const uint32_t *merge_lens, const bpe_options *opt, char *err, size_t errlen)
{
    if (n_tokens < 256 || n_tokens > (1 << 30) || !tokens || !lens || !opt) {
        tok_seterr(err, errlen, "bpe: bad vocabulary (n_tokens %d)", (int)n_tokens);
        return NULL;
    }
    if (n_merges < 0 || n_merges > (1 << 30) || (n_merges > 0 && (!merges || !merge_lens))) {
        tok_seterr(err, errlen, "bpe: bad merges (n_merges %d)", (int)n_merges);
        return NULL;
    }
    if (opt->pre != BPE_PRE_QWEN2 && opt->pre != BPE_PRE_GPT2) {
        tok_seterr(err, errlen, "bpe: unknown split pattern %d", opt->pre);
        return NULL;
    }
    uint64_t total = 0;
    for (int32_t i = 0; i < n_tokens; i++) {
        if (!tokens[i] && lens[i]) {
            tok_seterr(err, errlen, "bpe: token %d is NULL", (int)i);
            return NULL;
        }
        if (types && (types[i] < 1 || types[i] > 6)) {
            tok_seterr(err, errlen, "bpe: token %d has invalid type %d", (int)i, (int)types[i]);
            return NULL;
        }
        total += lens[i];
    }
    if (total > UINT32_MAX - 1) {
        tok_seterr(err, errlen, "bpe: vocabulary text too large (%llu bytes)", (unsigned long long)total);
        return NULL;
    }
    bpe *b = calloc(1, sizeof *b);
    uint32_t nslots = pow2_above((uint64_t)n_tokens * 2);
    uint32_t mslots = pow2_above((uint64_t)n_merges * 2);
    if (b) {
        b->pool = malloc(total ? total : 1);
        b->off = malloc(((size_t)n_tokens + 1) * sizeof *b->off);
        b->types = malloc((size_t)n_tokens * sizeof *b->types);
        b->slots = calloc(nslots, sizeof *b->slots);
        b->m_left = malloc(((size_t)n_merges + 1) * sizeof *b->m_left);
        b->m_right = malloc(((size_t)n_merges + 1) * sizeof *b->m_right);
        b->m_new = malloc(((size_t)n_merges + 1) * sizeof *b->m_new);
        b->m_slots = calloc(mslots, sizeof *b->m_slots);
    }
    if (!b || !b->pool || !b->off || !b->types || !b->slots || !b->m_left || !b->m_right || !b->m_new ||
        !b->m_slots) {
        tok_seterr(err, errlen, "bpe: out of memory (%d tokens, %d merges)", (int)n_tokens, (int)n_merges);
        bpe_free(b);
        return NULL;
    }
    b->n_tokens = n_tokens;
    b->n_merges = n_merges;
    b->opt = *opt;
    b->opt.lstrip = b->opt.rstrip = NULL; /* read into the matcher, not kept */
    b->opt.n_lstrip = b->opt.n_rstrip = 0;
    b->mask = nslots - 1;
    b->m_mask = mslots - 1;
    for (int32_t i = 0; i < n_tokens; i++)
        b->types[i] = types ? types[i] : TOK_TYPE_NORMAL;
    if (build_vocab(b, tokens, lens, err, errlen) || build_merges(b, merges, merge_lens, err, errlen) ||
        build_literals(b, opt, err, errlen)) {
        bpe_free(b);
        return NULL;
    }
    return b;
}

/* ---- encoding ---- */

typedef struct {
    const bpe *b;
    tok_sink out;   /* the ids written so far */
    int whole;      /* the window holds the whole pre-token (nothing flushed yet) */
    bpe_window w;
} enc_state;

static int emit(enc_state *st, int32_t id) { return tok_sink_put(&st->out, id); }

/* HF's ignore_merges: the id of the pre-token's byte-level text when it is
 * a token of the BPE vocabulary, else -1. */
static int32_t whole_token(const bpe *b, const uint8_t *bytes, int n)
{
    uint8_t text[2 * BPE_WINDOW]; /* byte characters are U+0021..U+0143 */
    int tl = 0;
    for (int i = 0; i < n; i++)
        tl += uni_utf8_encode(bpe_byte_char(bytes[i]), text + tl);
    return merge_token(b, (const char *)text, (size_t)tl, "", 0);
}

/* Merges the window and emits its tokens: all of them (final), else those
 * before the last token boundary at least BPE_MARGIN bytes before the
 * window's end, keeping the rest for the next window.  1: stop. */
static int flush(enc_state *st, int final)
{
    bpe_window *w = &st->w;
    if (w->n == 0)
        return 0;
    if (final && st->whole && st->b->opt.ignore_merges) {
        int32_t id = whole_token(st->b, w->bytes, w->n);
        if (id >= 0) {
            w->n = 0;
            return emit(st, id);
        }
    }
    bpe_window_merge(st->b, w);
    int keep = w->n;
    if (!final) {
        int cut = 0;
        for (int i = w->next[0]; i >= 0 && i <= w->n - BPE_MARGIN; i = w->next[i])
            cut = i;
        keep = cut > 0 ? cut : (w->next[0] >= 0 ? w->next[0] : w->n);
        st->whole = 0;
    }
    for (int i = 0; i >= 0 && i < keep; i = w->next[i])
        if (emit(st, w->id[i]))
            return 1;
    memmove(w->bytes, w->bytes + keep, (size_t)(w->n - keep));
    w->n -= keep;
    return 0;
}

static int put_cp(void *ctx, uint32_t cp)
{
    enc_state *st = ctx;
    if (st->w.n + 4 > BPE_WINDOW && flush(st, 0))
        return 1;
    st->w.n += uni_utf8_encode(cp, st->w.bytes + st->w.n);
    return 0;
}

/* One piece of text between added tokens: NFC, split, merge.  0, 1 (stop)
 * or TOK_ERR_TEXT with the piece-relative offset in *bad. */
static int encode_piece(enc_state *st, const uint8_t *s, size_t n, size_t *bad)
{
    bpe_reader rd;
    nfc_stream_init(&rd.s, s, n, st->b->opt.nfc);
    rd.qn = 0;
    for (;;) {
        st->w.n = 0;
        st->whole = 1;
        int rc = bpe_split_next(st->b->opt.pre, &rd, put_cp, st);
        if (rc == 0)
            return 0;
        if (rc == 2)
            return 1;
        if (rc < 0) {
            *bad = rd.s.err_pos;
            return rc;
        }
        if (flush(st, 1))
            return 1;
    }
}

/* bpe_encode with the first skip ids dropped (tok_model_encode_from). */
static int encode_from(const bpe *b, const char *text, size_t len, int skip, int32_t *ids, int cap,
                       int max_tokens, char *err, size_t errlen)
{
    if (!b || (!text && len)) {
        tok_seterr(err, errlen, "bpe_encode: NULL argument");
        return TOK_ERR_ARG;
    }
    if (ids && cap < 0) {
        tok_seterr(err, errlen, "bpe_encode: negative cap %d", cap);
        return TOK_ERR_ARG;
    }
    if (max_tokens == 0)
        return 0;
    enc_state st;
    st.b = b;
    st.out = tok_sink_make(ids, cap, skip, max_tokens);
    const uint8_t *s = (const uint8_t *)text;
    tok_added_cursor cur = { 0, 0 };
    int stop = 0;
    while (!stop) {
        size_t begin, end;
        int32_t lid = tok_added_next(b->lit, s, len, &cur, &begin, &end);
        if (end > begin) {
            size_t bad = 0;
            int rc = encode_piece(&st, s + begin, end - begin, &bad);
            if (rc < 0) {
                tok_seterr(err, errlen, "bpe_encode: invalid UTF-8 at byte offset %zu (byte 0x%02X)", begin + bad,
                       (unsigned)s[begin + bad]);
                return rc;
            }
            stop = rc;
        }
        if (stop || lid < 0)
            break;
        stop = emit(&st, lid);
    }
    if (st.out.overflow) {
        tok_seterr(err, errlen, "bpe_encode: output buffer too small (cap %d)", cap);
        return TOK_ERR_SPACE;
    }
    return st.out.count;
}

int bpe_encode(const bpe *b, const char *text, size_t len, int32_t *ids, int cap,
               int max_tokens, char *err, size_t errlen)
{
    return encode_from(b, text, len, 0, ids, cap, max_tokens, err, errlen);
}

static int ops_encode(const void *impl, const char *text, size_t len, int skip, int32_t *ids, int cap,
                      int max_tokens, char *err, size_t errlen)
{
    return encode_from(impl, text, len, skip, ids, cap, max_tokens, err, errlen);
}
static int32_t ops_n_tokens(const void *impl) { return bpe_n_tokens(impl); }
static const char *ops_token(const void *impl, int32_t id, uint32_t *len) { return bpe_token(impl, id, len); }
static int32_t ops_find(const void *impl, const char *tok, size_t len) { return bpe_find(impl, tok, len); }
static void ops_free(void *impl) { bpe_free(impl); }

const tok_model_ops bpe_ops = { "bpe", ops_encode, ops_n_tokens, ops_token, ops_find, ops_free };
