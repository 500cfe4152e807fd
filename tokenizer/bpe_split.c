/* The split patterns of the byte-level pre-tokenizers, as hand-written
 * matchers over code point classes: Qwen2's, and GPT-2's below.  HF runs the pattern with Oniguruma: at each
 * position the first alternative that matches wins (not the longest), and
 * since every character starts a match of some alternative the pieces are
 * exactly the matches, one after another:
 *
 *   1  (?i:'s|'t|'re|'ve|'m|'ll|'d)      an apostrophe and a contraction
 *   2  [^\r\n\p{L}\p{N}]?\p{L}+          letters, after one optional char
 *                                        that is no letter, digit, CR or LF
 *   3  \p{N}                             one number character
 *   4   ?[^\s\p{L}\p{N}]+[\r\n]*         symbols after an optional space,
 *                                        then CRs and LFs
 *   5  \s*[\r\n]+                        space up to its last CR or LF
 *   6  \s+(?!\S)                         space not followed by a non-space:
 *                                        all of it at the end, else all but
 *                                        its last character
 *   7  \s+                               (a single space before a non-space)
 *
 * Alternatives 5 to 7 look past the whole run of white space; the reader is
 * forked (copied) to scan it, so each run is read twice at most. */
#include "tokenizer/bpe_impl.h"

/* The code point k places ahead (0 = next), BPE_CP_END or BPE_CP_ERR. */
static uint32_t peek(bpe_reader *r, int k)
{
    while (r->qn <= k) {
        uint32_t cp;
        int rc = nfc_stream_next(&r->s, &cp);
        if (rc <= 0)
            return rc < 0 ? BPE_CP_ERR : BPE_CP_END;
        r->q[r->qn++] = cp;
    }
    return r->q[k];
}

/* Consumes the next code point: 1, 0 at the end, -1 at invalid UTF-8. */
static int take(bpe_reader *r, uint32_t *cp)
{
    if (r->qn > 0) {
        *cp = r->q[0];
        for (int i = 1; i < r->qn; i++)
            r->q[i - 1] = r->q[i];
        r->qn--;
        return 1;
    }
    return nfc_stream_next(&r->s, cp);
}

enum { C_L = UNI_RX_L, C_N = UNI_RX_N, C_S = UNI_RX_S, C_END = 8 };

/* Class of a peeked code point; invalid UTF-8 counts as a symbol, so that
 * it is taken and reported. */
static unsigned cls(uint32_t cp)
{
    if (cp == BPE_CP_END)
        return C_END;
    if (cp == BPE_CP_ERR)
        return 0;
    return uni_regex_class(cp);
}

static int is_crlf(uint32_t cp) { return cp == '\r' || cp == '\n'; }

/* Takes one code point into the pre-token: 0, or what bpe_split_next
 * returns for a stop or an error. */
static int put_one(bpe_reader *r, bpe_put_fn put, void *ctx)
{
    uint32_t cp;
    int rc = take(r, &cp);
    if (rc <= 0)
        return TOK_ERR_TEXT; /* only at invalid UTF-8: callers peeked first */
    rc = put(ctx, cp);
    return rc == 1 ? 2 : rc;
}

static int put_n(bpe_reader *r, int n, bpe_put_fn put, void *ctx)
{
    for (int i = 0; i < n; i++) {
        int rc = put_one(r, put, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

/* Takes code points while they are of a class in want (want 0: of no
 * class, i.e. symbols), or CR / LF when crlf. */
static int put_while(bpe_reader *r, unsigned want, int crlf, bpe_put_fn put, void *ctx)
{
    for (;;) {
        uint32_t cp = peek(r, 0);
        unsigned c = cls(cp);
        int ok = crlf ? is_crlf(cp) : (want ? (c & want) != 0 : c == 0);
        if (!ok)
            return 0;
        int rc = put_one(r, put, ctx);
        if (rc)
            return rc;
    }
}

/* Alternative 1: the length of the contraction at the apostrophe, 0 if none.
 * Oniguruma's case-insensitive match folds case: 's' also matches U+017F
 * (long s, whose case fold is 's'); no other character folds to these
 * letters. */
static int contraction(bpe_reader *r)
{
    uint32_t a = peek(r, 1);
    if (a == 0x17F)
        return 2;
    if (a >= 0x80)
        return 0;
    a |= 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    uint32_t b = peek(r, 2);
    b = b < 0x80 ? (b | 0x20) : 0;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return 3;
    return 0;
}

/* The white space at a white-space character: how many to take.  Qwen2's
 * alternative 5 (crlf) first takes the run up to its last CR or LF; then
 * \s+(?!\S) takes all of it at the end, else all but its last character,
 * and \s+ a single one before a non-space. */
static int space_run(const bpe_reader *r, int crlf)
{
    bpe_reader f = *r; /* fork: read ahead without consuming */
    int n = 0, last_crlf = -1;
    for (;;) {
        uint32_t cp = peek(&f, 0);
        if (cp == BPE_CP_END || cp == BPE_CP_ERR || !(cls(cp) & C_S))
            break;
        if (is_crlf(cp))
            last_crlf = n;
        n++;
        take(&f, &cp);
    }
    if (crlf && last_crlf >= 0)
        return last_crlf + 1;                  /* 5 */
    if (peek(&f, 0) == BPE_CP_END)
        return n;                              /* 6, at the end */
    return n >= 2 ? n - 1 : 1;                 /* 6, else 7 */
}

static int split_qwen2(bpe_reader *r, bpe_put_fn put, void *ctx)
{
    uint32_t c0 = peek(r, 0);
    if (c0 == BPE_CP_END)
        return 0;
    unsigned k0 = cls(c0);
    int rc;
    if (c0 == '\'') {
        int n = contraction(r);
        if (n)
            return (rc = put_n(r, n, put, ctx)) ? rc : 1;
    }
    if (!(k0 & (C_L | C_N)) && !is_crlf(c0) && (cls(peek(r, 1)) & C_L)) {
        if ((rc = put_one(r, put, ctx)) || (rc = put_while(r, C_L, 0, put, ctx)))
            return rc;
        return 1;
    }
    if (k0 & C_L)
        return (rc = put_while(r, C_L, 0, put, ctx)) ? rc : 1;
    if (k0 & C_N)
        return (rc = put_one(r, put, ctx)) ? rc : 1;
    if (k0 == 0 || (c0 == ' ' && cls(peek(r, 1)) == 0)) {
        if ((c0 == ' ' && (rc = put_one(r, put, ctx))) ||
            (rc = put_while(r, 0, 0, put, ctx)) || (rc = put_while(r, 0, 1, put, ctx)))
            return rc;
        return 1;
    }
    return (rc = put_n(r, space_run(r, 1), put, ctx)) ? rc : 1;
}

/* GPT-2's pattern (HF's ByteLevel pre-tokenizer with use_regex):
 *
 *   1  's|'t|'re|'ve|'m|'ll|'d           contractions, lowercase only
 *   2   ?\p{L}+                          letters after an optional space
 *   3   ?\p{N}+                          numbers after an optional space
 *   4   ?[^\s\p{L}\p{N}]+                symbols after an optional space
 *   5  \s+(?!\S)                         space not followed by a non-space
 *   6  \s+                               (a single space before a non-space) */
static int split_gpt2(bpe_reader *r, bpe_put_fn put, void *ctx)
{
    uint32_t c0 = peek(r, 0);
    if (c0 == BPE_CP_END)
        return 0;
    int rc;
    if (c0 == '\'') {
        uint32_t a = peek(r, 1), b = peek(r, 2);
        int n = (a == 's' || a == 't' || a == 'm' || a == 'd') ? 2
                : ((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l') ? 3 : 0;
        if (n)
            return (rc = put_n(r, n, put, ctx)) ? rc : 1;
    }
    unsigned k = cls(c0);
    if (c0 == ' ') {
        unsigned k1 = cls(peek(r, 1));
        if (k1 == C_L || k1 == C_N || k1 == 0) {
            if ((rc = put_one(r, put, ctx)) || (rc = put_while(r, k1, 0, put, ctx)))
                return rc;
            return 1;
        }
    }
    if (k == C_L || k == C_N || k == 0)
        return (rc = put_while(r, k, 0, put, ctx)) ? rc : 1;
    return (rc = put_n(r, space_run(r, 0), put, ctx)) ? rc : 1;
}

int bpe_split_next(int pre, bpe_reader *r, bpe_put_fn put, void *ctx)
{
    return pre == BPE_PRE_GPT2 ? split_gpt2(r, put, ctx) : split_qwen2(r, put, ctx);
}
