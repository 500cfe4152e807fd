#include "tokenizer/wordpiece.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/added.h"
#include "tokenizer/unicode.h"

static const char PHANTOM[] = "\xE2\x96\x81"; /* U+2581 */
#define PHANTOM_LEN 3

struct wordpiece {
    int32_t n_tokens;
    int32_t unk_id;
    wp_options opt;
    char *pool;          /* all token bytes */
    uint32_t *off;       /* n_tokens + 1 offsets into pool */
    uint32_t *slots;     /* open-addressing table of id + 1 (0 = empty) */
    uint32_t mask;       /* slot count - 1 */
    uint32_t max_len;    /* longest token in bytes */
    tok_added *lit;      /* literal (added) tokens, NULL when none */
};

wp_options wp_options_default(void)
{
    wp_options o = { 1, 1, 1, 1, 100 };
    return o;
}

/* FNV-1a over prefix + bytes, so lookups never copy the word */
static uint32_t hash2(const char *p, size_t pl, const char *s, size_t sl)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < pl; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    for (size_t i = 0; i < sl; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int32_t lookup2(const wordpiece *wp, const char *p, size_t pl,
                       const char *s, size_t sl)
{
    if (pl + sl > wp->max_len || pl + sl == 0)
        return -1;
    uint32_t i = hash2(p, pl, s, sl) & wp->mask;
    for (;;) {
        uint32_t v = wp->slots[i];
        if (!v)
            return -1;
        int32_t id = (int32_t)(v - 1);
        const char *t = wp->pool + wp->off[id];
        uint32_t tl = wp->off[id + 1] - wp->off[id];
        if (tl == pl + sl && memcmp(t, p, pl) == 0 && memcmp(t + pl, s, sl) == 0)
            return id;
        i = (i + 1) & wp->mask;
    }
}

int32_t wordpiece_find(const wordpiece *wp, const char *tok, size_t len)
{
    return lookup2(wp, "", 0, tok, len);
}

int32_t wordpiece_n_tokens(const wordpiece *wp) { return wp->n_tokens; }
int32_t wordpiece_unk_id(const wordpiece *wp) { return wp->unk_id; }

const char *wordpiece_token(const wordpiece *wp, int32_t id, uint32_t *len)
{
    if (id < 0 || id >= wp->n_tokens)
        return NULL;
    if (len)
        *len = wp->off[id + 1] - wp->off[id];
    return wp->pool + wp->off[id];
}

int wordpiece_phantom(const char *t, size_t len, char *out, size_t cap)
{
    size_t n;
    if (len >= 2 && t[0] == '[' && t[len - 1] == ']') {
        n = len;
        if (cap < n + 1)
            return -1;
        memcpy(out, t, len);
    } else if (len >= 2 && t[0] == '#' && t[1] == '#') {
        n = len - 2;
        if (cap < n + 1)
            return -1;
        memcpy(out, t + 2, n);
    } else {
        n = len + PHANTOM_LEN;
        if (cap < n + 1)
            return -1;
        memcpy(out, PHANTOM, PHANTOM_LEN);
        memcpy(out + PHANTOM_LEN, t, len);
    }
    out[n] = 0;
    return n > (size_t)INT32_MAX ? -1 : (int)n;
}

void wordpiece_free(wordpiece *wp)
{
    if (!wp)
        return;
    free(wp->pool);
    free(wp->off);
    free(wp->slots);
    tok_added_free(wp->lit);
    free(wp);
}

static int is_literal_type(int32_t t)
{
    return t == WP_TYPE_UNKNOWN || t == WP_TYPE_CONTROL || t == WP_TYPE_USER;
}


wordpiece *wordpiece_create(int32_t n_tokens, const char *const *tokens,
                            const uint32_t *lens, const int32_t *types,
                            int32_t unk_id, const wp_options *opt,
                            char *err, size_t errlen)
{
    if (n_tokens <= 0 || n_tokens > (1 << 30) || !tokens || !lens) {
        tok_seterr(err, errlen, "wordpiece: bad vocabulary (n_tokens %d)", (int)n_tokens);
        return NULL;
    }
    if (unk_id < 0 || unk_id >= n_tokens) {
        tok_seterr(err, errlen, "wordpiece: unk id %d outside vocabulary of %d",
               (int)unk_id, (int)n_tokens);
        return NULL;
    }
    wp_options o = opt ? *opt : wp_options_default();
    if (o.max_input_chars_per_word <= 0 ||
        o.max_input_chars_per_word > WP_MAX_WORD_CHARS) {
        tok_seterr(err, errlen,
               "wordpiece: max_input_chars_per_word %d unsupported (1..%d)",
               o.max_input_chars_per_word, WP_MAX_WORD_CHARS);
        return NULL;
    }
    uint64_t total = 0;
    for (int32_t i = 0; i < n_tokens; i++) {
        if (!tokens[i] && lens[i]) {
            tok_seterr(err, errlen, "wordpiece: token %d is NULL", (int)i);
            return NULL;
        }
        if (types && (types[i] < 1 || types[i] > 6)) {
            tok_seterr(err, errlen, "wordpiece: token %d has invalid type %d",
                   (int)i, (int)types[i]);
            return NULL;
        }
        total += lens[i];
    }
    if (total > UINT32_MAX - 1) {
        tok_seterr(err, errlen, "wordpiece: vocabulary text too large (%llu bytes)",
               (unsigned long long)total);
        return NULL;
    }
    wordpiece *wp = calloc(1, sizeof *wp);
    uint32_t nslots = 1;
    while (nslots < (uint32_t)n_tokens * 2u)
        nslots <<= 1;
    if (wp) {
        wp->pool = malloc(total ? total : 1);
        wp->off = malloc(((size_t)n_tokens + 1) * sizeof *wp->off);
        wp->slots = calloc(nslots, sizeof *wp->slots);
    }
    if (!wp || !wp->pool || !wp->off || !wp->slots) {
        tok_seterr(err, errlen, "wordpiece: out of memory (%d tokens)", (int)n_tokens);
        wordpiece_free(wp);
        return NULL;
    }
    wp->n_tokens = n_tokens;
    wp->unk_id = unk_id;
    wp->opt = o;
    wp->mask = nslots - 1;
    uint32_t pos = 0;
    int32_t n_lit = 0;
    for (int32_t i = 0; i < n_tokens; i++) {
        wp->off[i] = pos;
        if (lens[i])
            memcpy(wp->pool + pos, tokens[i], lens[i]);
        pos += lens[i];
        if (lens[i] > wp->max_len)
            wp->max_len = lens[i];
        if (types && is_literal_type(types[i]) && lens[i] > 0)
            n_lit++;
    }
    wp->off[n_tokens] = pos;
    for (int32_t i = 0; i < n_tokens; i++) {
        uint32_t tl = lens[i];
        if (tl == 0)
            continue; /* e.g. vocab.txt "##": never matchable */
        const char *t = wp->pool + wp->off[i];
        uint32_t h = hash2("", 0, t, tl) & wp->mask;
        for (;;) {
            uint32_t v = wp->slots[h];
            if (!v) {
                wp->slots[h] = (uint32_t)i + 1;
                break;
            }
            int32_t j = (int32_t)(v - 1);
            if (wp->off[j + 1] - wp->off[j] == tl &&
                memcmp(wp->pool + wp->off[j], t, tl) == 0) {
                wp->slots[h] = (uint32_t)i + 1; /* duplicate: later id wins, as in HF/llama.cpp */
                break;
            }
            h = (h + 1) & wp->mask;
        }
    }
    if (n_lit) {
        /* in id order, so that of two equal literals the lower id matches */
        const char **lt = malloc((size_t)n_lit * sizeof *lt);
        uint32_t *ll = malloc((size_t)n_lit * sizeof *ll);
        int32_t *li = malloc((size_t)n_lit * sizeof *li);
        int32_t k = 0;
        for (int32_t i = 0; lt && ll && li && i < n_tokens; i++) {
            if (!is_literal_type(types[i]) || lens[i] == 0)
                continue;
            uint32_t skip = 0;
            const char *t = wp->pool + wp->off[i];
            if (lens[i] > PHANTOM_LEN && memcmp(t, PHANTOM, PHANTOM_LEN) == 0)
                skip = PHANTOM_LEN;
            lt[k] = t + skip;
            ll[k] = lens[i] - skip;
            li[k] = i;
            k++;
        }
        if (lt && ll && li)
            wp->lit = tok_added_create(k, lt, ll, li, err, errlen);
        else
            tok_seterr(err, errlen, "wordpiece: out of memory");
        free(lt);
        free(ll);
        free(li);
        if (!wp->lit) {
            wordpiece_free(wp);
            return NULL;
        }
    }
    return wp;
}

/* Encoder state: the word being built lives on the stack (bounded by
 * max_input_chars_per_word); output is written as it is produced. */
typedef struct {
    const wordpiece *wp;
    tok_sink out;   /* the ids written so far */
    char word[WP_MAX_WORD_CHARS * 4 + 4];
    uint16_t coff[WP_MAX_WORD_CHARS + 1]; /* byte offset of each char */
    int nch;
    int run_start;  /* first char of the word a combining mark may move back to */
    int long_word;  /* word exceeded the char limit; unk already emitted */
} wp_state;

static int emit(wp_state *st, int32_t id) { return tok_sink_put(&st->out, id); }

/* Ends the current word: greedy longest-match-first WordPiece.  Returns 1
 * when no more output is wanted. */
static int flush_word(wp_state *st)
{
    int stop = 0;
    st->run_start = 0;
    if (st->long_word) {
        st->long_word = 0;
        st->nch = 0;
        return st->out.count >= st->out.max_tokens || st->out.overflow;
    }
    int n = st->nch;
    if (n == 0)
        return 0;
    st->nch = 0;
    const wordpiece *wp = st->wp;
    int32_t pieces[WP_MAX_WORD_CHARS];
    int np = 0;
    int start = 0;
    while (start < n) {
        const char *pre = start == 0 ? PHANTOM : "";
        size_t pl = start == 0 ? PHANTOM_LEN : 0;
        int end = n;
        int32_t id = -1;
        /* HF looks a continuation up as "##" + piece.  A piece that begins
         * with U+2581 itself would find a word-initial token here ("\u2581b"
         * is HF's "b"), which HF's "##\u2581b" is not: no such piece
         * matches (a vocabulary holding "##\u2581..." collides with its
         * word-initial tokens in this convention anyway) */
        if (start > 0 && st->coff[n] - st->coff[start] >= PHANTOM_LEN &&
            memcmp(st->word + st->coff[start], PHANTOM, PHANTOM_LEN) == 0)
            end = start;
        while (end > start &&
               (size_t)(st->coff[end] - st->coff[start]) + pl > wp->max_len)
            end--;
        for (; end > start; end--) {
            id = lookup2(wp, pre, pl, st->word + st->coff[start],
                         (size_t)(st->coff[end] - st->coff[start]));
            if (id >= 0)
                break;
        }
        if (id < 0) {
            np = -1;
            break;
        }
        pieces[np++] = id;
        start = end;
    }
    if (np < 0)
        return emit(st, wp->unk_id) || st->out.overflow;
    for (int i = 0; i < np && !stop; i++)
        stop = emit(st, pieces[i]);
    return stop || st->out.overflow;
}

/* Appends one normalized code point to the current word. */
static int push_char(wp_state *st, uint32_t cp)
{
    if (st->long_word)
        return 0;
    if (st->nch >= st->wp->opt.max_input_chars_per_word) {
        /* HF: a word of more than max_input_chars_per_word chars is one unk;
         * emit it now so a huge word costs nothing when the cap is reached */
        st->nch = 0;
        st->long_word = 1;
        return emit(st, st->wp->unk_id) || st->out.overflow;
    }
    int at = st->coff[st->nch];
    at += uni_utf8_encode(cp, (uint8_t *)st->word + at);
    st->coff[++st->nch] = (uint16_t)at;
    return 0;
}

/* Pre-tokenizes one normalized code point (BertPreTokenizer). */
static int pretok_char(wp_state *st, uint32_t cp)
{
    unsigned p = uni_props(cp);
    if (p & UNI_WS)
        return flush_word(st);
    if (p & UNI_PUNCT) {
        if (flush_word(st) || push_char(st, cp))
            return 1;
        return flush_word(st);
    }
    return push_char(st, cp);
}

/* Canonical ordering of the NFD that accent stripping does: the word's last
 * char, a combining mark of class ccc, moves back past the marks of higher
 * class in its run.  HF sorts before dropping Mn; a stable sort keeps the
 * order of what survives, so sorting the survivors alone is the same. */
static void reorder_last(wp_state *st, unsigned ccc)
{
    uint8_t *w = (uint8_t *)st->word;
    for (int k = st->nch - 1; k > st->run_start; k--) {
        uint32_t prev;
        int lp = st->coff[k] - st->coff[k - 1], lc = st->coff[k + 1] - st->coff[k];
        uni_utf8_decode(w + st->coff[k - 1], (size_t)lp, &prev);
        if (uni_ccc(prev) <= ccc)
            break;
        uint8_t tmp[4];
        memcpy(tmp, w + st->coff[k - 1], (size_t)lp);
        memmove(w + st->coff[k - 1], w + st->coff[k], (size_t)lc);
        memcpy(w + st->coff[k - 1] + lc, tmp, (size_t)lp);
        st->coff[k] = (uint16_t)(st->coff[k - 1] + lc);
    }
}

/* Strip accents (NFD, drop Mn) then lowercase, as BertNormalizer orders them. */
static int normalize_char(wp_state *st, uint32_t cp)
{
    const wp_options *o = &st->wp->opt;
    uint32_t d[UNI_MAX_DECOMP];
    int nd = 1;
    d[0] = cp;
    if (o->strip_accents)
        nd = uni_nfd_char(cp, d);
    for (int i = 0; i < nd; i++) {
        unsigned ccc = o->strip_accents ? uni_ccc(d[i]) : 0;
        if (o->strip_accents && (uni_props(d[i]) & UNI_MN)) {
            if (ccc == 0)
                st->run_start = st->nch; /* a starter ends the run, dropped or not */
            continue;
        }
        uint32_t l[3];
        int nl = 1;
        l[0] = d[i];
        if (o->lowercase)
            nl = uni_tolower(d[i], l);
        for (int j = 0; j < nl; j++)
            if (pretok_char(st, l[j]))
                return 1;
        /* a mark (ccc != 0) is never space, punctuation or cased: it went
         * into the word as it is */
        if (ccc == 0)
            st->run_start = st->nch;
        else if (!st->long_word && st->nch > 0)
            reorder_last(st, ccc);
    }
    return 0;
}

/* wordpiece_encode with the first skip ids dropped (tok_model_encode_from). */
static int encode_from(const wordpiece *wp, const char *text, size_t len, int skip,
                       int32_t *ids, int cap, int max_tokens, char *err, size_t errlen)
{
    if (!wp || (!text && len)) {
        tok_seterr(err, errlen, "wordpiece_encode: NULL argument");
        return TOK_ERR_ARG;
    }
    if (ids && cap < 0) {
        tok_seterr(err, errlen, "wordpiece_encode: negative cap %d", cap);
        return TOK_ERR_ARG;
    }
    if (max_tokens == 0)
        return 0;
    wp_state *st, stack_state;
    st = &stack_state;
    st->wp = wp;
    st->out = tok_sink_make(ids, cap, skip, max_tokens);
    st->nch = 0;
    st->run_start = 0;
    st->coff[0] = 0;
    st->long_word = 0;
    const wp_options *o = &wp->opt;
    const uint8_t *s = (const uint8_t *)text;
    size_t pos = 0;
    int stop = 0;
    const uint8_t *lit_first = wp->lit ? tok_added_first_bytes(wp->lit) : NULL;
    while (pos < len && !stop) {
        uint8_t b = s[pos];
        if (lit_first && tok_added_may_start(lit_first, b)) {
            size_t ml;
            int32_t id = tok_added_match(wp->lit, s + pos, len - pos, &ml);
            if (id >= 0) {
                stop = flush_word(st);
                if (!stop)
                    stop = emit(st, id) || st->out.overflow;
                pos += ml;
                continue;
            }
        }
        uint32_t cp;
        int n = uni_utf8_decode(s + pos, len - pos, &cp);
        if (n < 0) {
            tok_seterr(err, errlen,
                   "wordpiece_encode: invalid UTF-8 at byte offset %zu (byte 0x%02X)",
                   pos, (unsigned)b);
            return TOK_ERR_TEXT;
        }
        pos += (size_t)n;
        unsigned p = uni_props(cp);
        if (o->clean_text && (cp == 0 || cp == 0xFFFD || (p & UNI_CTRL)))
            continue;
        if (o->handle_chinese_chars && (p & UNI_CJK)) {
            /* HF pads CJK ideographs with spaces: a word of their own */
            stop = flush_word(st) || normalize_char(st, cp);
            if (!stop)
                stop = flush_word(st);
            continue;
        }
        stop = normalize_char(st, cp);
    }
    if (!stop)
        flush_word(st);
    if (st->out.overflow) {
        tok_seterr(err, errlen, "wordpiece_encode: output buffer too small (cap %d)", cap);
        return TOK_ERR_SPACE;
    }
    return st->out.count;
}

int wordpiece_encode(const wordpiece *wp, const char *text, size_t len,
                     int32_t *ids, int cap, int max_tokens,
                     char *err, size_t errlen)
{
    return encode_from(wp, text, len, 0, ids, cap, max_tokens, err, errlen);
}

static int wp_encode(const void *impl, const char *text, size_t len, int skip, int32_t *ids, int cap,
                     int max_tokens, char *err, size_t errlen)
{
    return encode_from(impl, text, len, skip, ids, cap, max_tokens, err, errlen);
}
static int32_t wp_n_tokens(const void *impl) { return wordpiece_n_tokens(impl); }
static const char *wp_token(const void *impl, int32_t id, uint32_t *len)
{
    return wordpiece_token(impl, id, len);
}
static int32_t wp_find(const void *impl, const char *tok, size_t len)
{
    return wordpiece_find(impl, tok, len);
}
static void wp_free(void *impl) { wordpiece_free(impl); }

const tok_model_ops wordpiece_ops = {
    "wordpiece", wp_encode, wp_n_tokens, wp_token, wp_find, wp_free,
};
