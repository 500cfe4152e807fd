#include "tokenizer/added.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Trie node: children form a singly linked list (first_child, next); the
 * root's children are also indexed by byte in root[]. */
typedef struct {
    int32_t first_child;
    int32_t next;
    int32_t id;   /* token ending here, -1 if none */
    uint8_t byte;
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

tok_added *tok_added_create(int32_t n, const char *const *lits, const uint32_t *lens,
                            const int32_t *ids, char *err, size_t errlen)
{
    if (n < 0 || (n > 0 && (!lits || !lens || !ids))) {
        if (err && errlen)
            snprintf(err, errlen, "added tokens: bad arguments");
        return NULL;
    }
    uint64_t total = 1;
    for (int32_t i = 0; i < n; i++)
        total += lens[i];
    if (total > INT32_MAX) {
        if (err && errlen)
            snprintf(err, errlen, "added tokens: %llu bytes of literals", (unsigned long long)total);
        return NULL;
    }
    tok_added *a = calloc(1, sizeof *a);
    if (a)
        a->nodes = malloc((size_t)total * sizeof *a->nodes);
    if (!a || !a->nodes) {
        tok_added_free(a);
        if (err && errlen)
            snprintf(err, errlen, "added tokens: out of memory");
        return NULL;
    }
    for (int i = 0; i < 256; i++)
        a->root[i] = -1;
    a->nodes[0] = (trie_node){ -1, -1, -1, 0 };
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
                a->nodes[c] = (trie_node){ -1, a->nodes[at].first_child, -1, s[k] };
                a->nodes[at].first_child = c;
                if (k == 0)
                    a->root[s[0]] = c;
            }
            at = c;
        }
        if (a->nodes[at].id < 0) {
            a->nodes[at].id = ids[i];
            a->n_lit++;
        }
        a->first[s[0] >> 3] |= (uint8_t)(1u << (s[0] & 7));
    }
    return a;
}

int32_t tok_added_match(const tok_added *a, const uint8_t *s, size_t n, size_t *mlen)
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
            best = a->nodes[at].id;
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

size_t tok_added_find(const tok_added *a, const uint8_t *s, size_t n, int32_t *id, size_t *mlen)
{
    *id = -1;
    *mlen = 0;
    if (!a || a->n_lit == 0)
        return n;
    for (size_t p = 0; p < n; p++) {
        if (!tok_added_may_start(a->first, s[p]))
            continue;
        int32_t t = tok_added_match(a, s + p, n - p, mlen);
        if (t >= 0) {
            *id = t;
            return p;
        }
    }
    return n;
}
