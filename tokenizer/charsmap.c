/* SentencePiece's precompiled_charsmap: decoding, checking, lookup. */
#include "tokenizer/charsmap.h"
#include "tokenizer/unicode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static uint32_t u_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
static uint32_t u_label(uint32_t u) { return u & ((1u << 31) | 0xFFu); }
static int u_has_leaf(uint32_t u) { return (u >> 8) & 1u; }
static uint32_t u_value(uint32_t u) { return u & ((1u << 31) - 1); }

void ug_charsmap_free(ug_charsmap *m)
{
    if (!m)
        return;
    free(m->unit);
    free(m->pool);
    memset(m, 0, sizeof *m);
}

/* The walk of every key of at most UG_CHARSMAP_DEPTH bytes: each node
 * position is expanded once per depth (seen[depth] bitmaps), so a corrupt
 * array costs at most DEPTH x units x 255 steps. */
static int check_nodes(const ug_charsmap *m, char *err, size_t errlen)
{
    size_t words = ((size_t)m->n_units + 63) / 64;
    uint64_t *seen = calloc(words * UG_CHARSMAP_DEPTH, sizeof *seen);
    uint32_t *cur = malloc((size_t)m->n_units * sizeof *cur), *next = malloc((size_t)m->n_units * sizeof *next);
    int rc = 0;
    if (!seen || !cur || !next) {
        rc = fail(err, errlen, "precompiled_charsmap: out of memory checking %u units", m->n_units);
        goto out;
    }
    uint32_t nc = 1, nn;
    cur[0] = u_offset(m->unit[0]);
    for (int depth = 0; depth < UG_CHARSMAP_DEPTH && nc; depth++) {
        nn = 0;
        for (uint32_t k = 0; k < nc; k++) {
            uint32_t p = cur[k];
            for (uint32_t c = 1; c < 256; c++) {
                uint32_t q = p ^ c;
                if (q >= m->n_units || u_label(m->unit[q]) != c)
                    continue; /* no child on byte c */
                uint32_t u = m->unit[q], t = q ^ u_offset(u);
                if (u_has_leaf(u)) {
                    uint32_t v = t < m->n_units ? u_value(m->unit[t]) : 0;
                    if (t >= m->n_units)
                        rc = fail(err, errlen, "precompiled_charsmap: unit %u points to a value outside the "
                                  "trie (unit %u of %u)", q, t, m->n_units);
                    else if (v >= m->pool_len)
                        rc = fail(err, errlen, "precompiled_charsmap: replacement offset %u is outside the "
                                  "%u-byte string pool", v, m->pool_len);
                    else if (((uint8_t)m->pool[v] & 0xC0) == 0x80)
                        rc = fail(err, errlen, "precompiled_charsmap: replacement offset %u is inside a "
                                  "UTF-8 character", v);
                    if (rc)
                        goto out;
                }
                uint64_t *s = seen + (size_t)depth * words;
                if (depth + 1 < UG_CHARSMAP_DEPTH && t < m->n_units && !(s[t / 64] >> (t % 64) & 1)) {
                    s[t / 64] |= 1ull << (t % 64);
                    next[nn++] = t;
                }
            }
        }
        uint32_t *tmp = cur;
        cur = next;
        next = tmp;
        nc = nn;
    }
out:
    free(seen);
    free(cur);
    free(next);
    return rc;
}

int ug_charsmap_init(ug_charsmap *m, const uint8_t *blob, size_t len, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!blob || len < 4)
        return fail(err, errlen, "precompiled_charsmap: %zu bytes, too short for its header", len);
    if (len > UG_CHARSMAP_MAX)
        return fail(err, errlen, "precompiled_charsmap: %zu bytes (ember reads up to %u)", len, UG_CHARSMAP_MAX);
    uint32_t tsize = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24;
    if (tsize % 4 || tsize == 0 || (size_t)tsize > len - 4)
        return fail(err, errlen, "precompiled_charsmap: trie size %u does not fit the %zu-byte blob "
                    "(must be a non-zero multiple of 4 within it)", tsize, len);
    m->n_units = tsize / 4;
    m->pool_len = (uint32_t)(len - 4 - tsize);
    m->unit = malloc((size_t)m->n_units * sizeof *m->unit);
    m->pool = malloc((size_t)m->pool_len + 1);
    if (!m->unit || !m->pool) {
        ug_charsmap_free(m);
        return fail(err, errlen, "precompiled_charsmap: out of memory");
    }
    for (uint32_t i = 0; i < m->n_units; i++) {
        const uint8_t *b = blob + 4 + 4 * (size_t)i;
        m->unit[i] = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    }
    if (m->pool_len)
        memcpy(m->pool, blob + 4 + tsize, m->pool_len);
    m->pool[m->pool_len] = '\0';
    /* the pool must be UTF-8 as a whole (HF refuses the file otherwise) */
    for (uint32_t p = 0; p < m->pool_len;) {
        uint32_t cp;
        int k = uni_utf8_decode((const uint8_t *)m->pool + p, m->pool_len - p, &cp);
        if (k < 0) {
            uint32_t at = p;
            ug_charsmap_free(m);
            return fail(err, errlen, "precompiled_charsmap: the string pool is not UTF-8 at byte %u", at);
        }
        p += (uint32_t)k;
    }
    if (check_nodes(m, err, errlen)) {
        ug_charsmap_free(m);
        return -1;
    }
    return 0;
}

int ug_charsmap_match(const ug_charsmap *m, const uint8_t *s, size_t n, const char **rep, uint32_t *rep_len)
{
    if (!m->unit)
        return 0;
    uint32_t p = u_offset(m->unit[0]);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (c == 0)
            return 0;
        p ^= c;
        if (p >= m->n_units || u_label(m->unit[p]) != c)
            return 0;
        uint32_t u = m->unit[p];
        p ^= u_offset(u);
        if (u_has_leaf(u)) {
            if (p >= m->n_units)
                return 0;
            uint32_t v = u_value(m->unit[p]);
            if (v >= m->pool_len)
                return 0;
            *rep = m->pool + v;
            *rep_len = (uint32_t)strlen(m->pool + v);
            return 1;
        }
    }
    return 0;
}
