/* The Unigram pieces as a byte trie, built breadth-first from the sorted
 * pieces: a common-prefix search from any position walks it byte by byte. */
#include "tokenizer/unigram_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *s;
    uint32_t len;
    int32_t id;
} piece_ref;

static int cmp_piece(const void *a, const void *b)
{
    const piece_ref *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void ug_trie_free(ug_trie *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->first);
    free(t->count);
    free(t->label);
    memset(t, 0, sizeof *t);
}

int ug_trie_build(ug_trie *t, int32_t n, const char *const *s, const uint32_t *lens, const uint8_t *use,
                  char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    size_t np = 0, bytes = 0;
    for (int32_t i = 0; i < n; i++)
        if (use[i] && lens[i]) {
            np++;
            bytes += lens[i];
        }
    piece_ref *p = malloc((np ? np : 1) * sizeof *p);
    size_t cap = bytes + 1;
    /* node i covers p[lo[i], hi[i]), whose strings share their first depth[i] bytes */
    uint32_t *lo = malloc(cap * sizeof *lo), *hi = malloc(cap * sizeof *hi), *depth = malloc(cap * sizeof *depth);
    t->id = malloc(cap * sizeof *t->id);
    t->first = malloc(cap * sizeof *t->first);
    t->count = malloc(cap * sizeof *t->count);
    t->label = malloc(cap);
    int rc = 0;
    if (!p || !lo || !hi || !depth || !t->id || !t->first || !t->count || !t->label || cap > UINT32_MAX) {
        snprintf(err, errlen, "unigram: out of memory building the trie of %zu pieces", np);
        rc = -1;
        goto out;
    }
    np = 0;
    for (int32_t i = 0; i < n; i++)
        if (use[i] && lens[i])
            p[np++] = (piece_ref){ (const uint8_t *)s[i], lens[i], i };
    qsort(p, np, sizeof *p, cmp_piece);
    t->n = 1;
    lo[0] = 0;
    hi[0] = (uint32_t)np;
    depth[0] = 0;
    t->label[0] = 0;
    for (uint32_t v = 0; v < t->n; v++) {
        uint32_t a = lo[v], b = hi[v], d = depth[v];
        t->id[v] = -1;
        while (a < b && p[a].len == d) /* equal strings: the highest id is last */
            t->id[v] = p[a++].id;
        t->first[v] = t->n;
        t->count[v] = 0;
        while (a < b) {
            uint8_t c = p[a].s[d];
            uint32_t e = a;
            while (e < b && p[e].s[d] == c)
                e++;
            uint32_t w = t->n++;
            lo[w] = a;
            hi[w] = e;
            depth[w] = d + 1;
            t->label[w] = c;
            t->count[v]++;
            if (v == 0)
                t->root[c] = w;
            a = e;
        }
    }
out:
    free(p);
    free(lo);
    free(hi);
    free(depth);
    if (rc)
        ug_trie_free(t);
    return rc;
}

int32_t ug_trie_find(const ug_trie *t, const uint8_t *s, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        if (!(v = ug_trie_child(t, v, s[i])))
            return -1;
    return n ? t->id[v] : -1;
}
