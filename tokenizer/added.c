#include "tokenizer/added.h"
#include "tokenizer/tok_model.h"
#include "tokenizer/unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STRIP_LEFT = 1, STRIP_RIGHT = 2 };

/* Trie node: children form a singly linked list (first_child, next); the
 * root's children are also indexed by byte in root[]. */
typedef struct {
    int32_t first_child;
    int32_t next;
    int32_t id;    /* token ending here, -1 if none */
    uint8_t byte;
    uint8_t strip; /* its STRIP_* */
} trie_node;

struct tok_added {
    trie_node *nodes;
    int32_t n_nodes;
    int32_t n_lit;
    int32_t root[256];
    uint8_t first[32];
};

void tok_added_free(tok_added *a)
{
    if (!a)
        return;
    free(a->nodes);
    free(a);
}

int32_t tok_added_count(const tok_added *a) { return a ? a->n_lit : 0; }

const uint8_t *tok_added_first_bytes(const tok_added *a) { return a->first; }

static int32_t child(const tok_added *a, int32_t node, uint8_t b)
{
    for (int32_t c = a->nodes[node].first_child; c >= 0; c = a->nodes[c].next)
        if (a->nodes[c].byte == b)
            return c;
    return -1;
}

/* tok_added_create with each literal's STRIP_* (strip NULL: none) */
static tok_added *create(int32_t n, const char *const *lits, const uint32_t *lens, const int32_t *ids,
                         const uint8_t *strip, char *err, size_t errlen)
{
    if (n < 0 || (n > 0 && (!lits || !lens || !ids))) {
        tok_seterr(err, errlen, "added tokens: bad arguments");
        return NULL;
    }
    uint64_t total = 1;
    for (int32_t i = 0; i < n; i++)
        total += lens[i];
    if (total > INT32_MAX) {
        tok_seterr(err, errlen, "added tokens: %llu bytes of literals", (unsigned long long)total);
        return NULL;
    }
    tok_added *a = calloc(1, sizeof *a);
    if (a)
        a->nodes = malloc((size_t)total * sizeof *a->nodes);
    if (!a || !a->nodes) {
        tok_added_free(a);
        tok_seterr(err, errlen, "added tokens: out of memory");
        return NULL;
    }
    for (int i = 0; i < 256; i++)
        a->root[i] = -1;
    a->nodes[0] = (trie_node){ -1, -1, -1, 0, 0 };
    a->n_nodes = 1;
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *s = (const uint8_t *)lits[i];
        if (lens[i] == 0)
            continue;
        int32_t at = 0;
        for (uint32_t k = 0; k < lens[i]; k++) {
            int32_t c = k == 0 ? a->root[s[0]] : child(a, at, s[k]);
            if (c < 0) {
                c = a->n_nodes++;
                a->nodes[c] = (trie_node){ -1, a->nodes[at].first_child, -1, s[k], 0 };
                a->nodes[at].first_child = c;
                if (k == 0)
                    a->root[s[0]] = c;
            }
            at = c;
        }
        if (a->nodes[at].id < 0) {
            a->nodes[at].id = ids[i];
            a->nodes[at].strip = strip ? strip[i] : 0;
            a->n_lit++;
        }
        a->first[s[0] >> 3] |= (uint8_t)(1u << (s[0] & 7));
    }
    return a;
}

tok_added *tok_added_create(int32_t n, const char *const *lits, const uint32_t *lens,
                            const int32_t *ids, char *err, size_t errlen)
{
    return create(n, lits, lens, ids, NULL, err, errlen);
}

static int is_literal_type(int32_t t)
{
    return t == TOK_TYPE_UNKNOWN || t == TOK_TYPE_CONTROL || t == TOK_TYPE_USER;
}

/* the STRIP_* of every token id, from the lists (NULL: none) */
static int strip_flags(int32_t n_tokens, const int32_t *types, const tok_added_strip *st, const char *who,
                       uint8_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!st || st->n_lstrip + st->n_rstrip == 0)
        return 0;
    if (st->n_lstrip < 0 || st->n_rstrip < 0 || (st->n_lstrip && !st->lstrip) || (st->n_rstrip && !st->rstrip)) {
        tok_seterr(err, errlen, "%s: bad lstrip / rstrip lists", who);
        return -1;
    }
    uint8_t *f = calloc((size_t)n_tokens, 1);
    if (!f) {
        tok_seterr(err, errlen, "%s: out of memory", who);
        return -1;
    }
    for (int side = 0; side < 2; side++) {
        const int32_t *ids = side ? st->rstrip : st->lstrip;
        for (int i = 0; i < (side ? st->n_rstrip : st->n_lstrip); i++) {
            if (ids[i] < 0 || ids[i] >= n_tokens || !is_literal_type(types[ids[i]])) {
                tok_seterr(err, errlen, "%s: %cstrip token %d is not an added token", who, side ? 'r' : 'l',
                           (int)ids[i]);
                free(f);
                return -1;
            }
            f[ids[i]] |= side ? STRIP_RIGHT : STRIP_LEFT;
        }
    }
    *out = f;
    return 0;
}

int tok_added_from_vocab(int32_t n_tokens, const char *pool, const uint32_t *off, const int32_t *types,
                         const tok_added_strip *strip, const char *who, tok_added **out, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t *flags;
    if (strip_flags(n_tokens, types, strip, who, &flags, err, errlen))
        return -1;
    int32_t n = 0;
    for (int32_t i = 0; i < n_tokens; i++)
        n += is_literal_type(types[i]) && off[i + 1] > off[i];
    if (n == 0) {
        free(flags);
        return 0;
    }
    const char **lt = malloc((size_t)n * sizeof *lt);
    uint32_t *ll = malloc((size_t)n * sizeof *ll);
    int32_t *li = malloc((size_t)n * sizeof *li);
    uint8_t *lf = malloc((size_t)n);
    int32_t k = 0;
    for (int32_t i = 0; lt && ll && li && lf && i < n_tokens; i++) {
        if (!is_literal_type(types[i]) || off[i + 1] == off[i])
            continue;
        lt[k] = pool + off[i];
        ll[k] = off[i + 1] - off[i];
        li[k] = i;
        lf[k++] = flags ? flags[i] : 0;
    }
    if (lt && ll && li && lf)
        *out = create(k, lt, ll, li, lf, err, errlen);
    else
        tok_seterr(err, errlen, "%s: out of memory", who);
    free(lt);
    free(ll);
    free(li);
    free(lf);
    free(flags);
    return *out ? 0 : -1;
}

/* the node of the longest literal s[0..n) starts with, its length in *mlen;
 * -1 when none */
static int32_t match_node(const tok_added *a, const uint8_t *s, size_t n, size_t *mlen)
{
    int32_t best = -1;
    size_t bl = 0;
    if (n == 0 || !a || a->root[s[0]] < 0) {
        *mlen = 0;
        return -1;
    }
    int32_t at = a->root[s[0]];
    for (size_t k = 1;; k++) {
        if (a->nodes[at].id >= 0) {
            best = at;
            bl = k;
        }
        if (k == n)
            break;
        at = child(a, at, s[k]);
        if (at < 0)
            break;
    }
    *mlen = bl;
    return best;
}

int32_t tok_added_match(const tok_added *a, const uint8_t *s, size_t n, size_t *mlen)
{
    int32_t node = match_node(a, s, n, mlen);
    return node < 0 ? -1 : a->nodes[node].id;
}

/* the leftmost literal's node in s[0..n), its offset in *at (n: none) */
static int32_t find_node(const tok_added *a, const uint8_t *s, size_t n, size_t *at, size_t *mlen)
{
    *mlen = 0;
    for (size_t p = 0; a && a->n_lit && p < n; p++) {
        if (!tok_added_may_start(a->first, s[p]))
            continue;
        int32_t node = match_node(a, s + p, n - p, mlen);
        if (node >= 0) {
            *at = p;
            return node;
        }
    }
    *at = n;
    return -1;
}

size_t tok_added_find(const tok_added *a, const uint8_t *s, size_t n, int32_t *id, size_t *mlen)
{
    size_t at;
    int32_t node = find_node(a, s, n, &at, mlen);
    *id = node < 0 ? -1 : a->nodes[node].id;
    return at;
}

/* HF's \s (the regex crate's Unicode \s): White_Space */
static int is_ws(uint32_t cp) { return (uni_props(cp) & UNI_WS) != 0; }

/* the length of the White_Space character ending s[0..n), or 0 */
static size_t ws_before(const uint8_t *s, size_t n)
{
    for (size_t k = 1; k <= 4 && k <= n; k++) {
        uint32_t cp;
        if (uni_utf8_decode(s + n - k, k, &cp) == (int)k)
            return is_ws(cp) ? k : 0;
    }
    return 0;
}

int32_t tok_added_next(const tok_added *a, const uint8_t *s, size_t n, tok_added_cursor *cur, size_t *begin,
                       size_t *end)
{
    size_t from = cur->search < n ? cur->search : n, q, ml;
    int32_t node = find_node(a, s + from, n - from, &q, &ml);
    *begin = cur->pos;
    if (node < 0) {
        *end = n;
        cur->pos = cur->search = n;
        return -1;
    }
    size_t start = from + q, stop = start + ml, k;
    cur->search = stop;
    uint8_t strip = a->nodes[node].strip;
    /* lstrip: back over the whitespace, not past what is consumed */
    if (strip & STRIP_LEFT) {
        while (start > cur->pos && (k = ws_before(s, start)) > 0)
            start -= k;
        if (start < cur->pos)
            start = cur->pos;
    }
    if (strip & STRIP_RIGHT) {
        uint32_t cp;
        int l;
        while (stop < n && (l = uni_utf8_decode(s + stop, n - stop, &cp)) > 0 && is_ws(cp))
            stop += (size_t)l;
    }
    *end = start > cur->pos ? start : cur->pos;
    cur->pos = stop;
    return a->nodes[node].id;
}
