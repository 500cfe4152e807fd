/* SentencePiece Unigram: the vocabulary, its options, and the encode driver
 * (added tokens -> pieces -> normalizers -> pre-tokenizers -> lattice). */
#include "tokenizer/unigram_impl.h"
#include "tokenizer/unicode.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unigram_options unigram_options_default(void)
{
    unigram_options o;
    memset(&o, 0, sizeof o);
    o.metaspace = 1;
    o.replacement = 0x2581;
    o.prepend = UG_PREPEND_ALWAYS;
    o.split = 1;
    o.unk_id = -1;
    o.n_pieces = -1;
    return o;
}

static const char *const PREPEND_NAMES[] = { "always", "first", "never" };

int unigram_prepend_from_name(const char *s, size_t len)
{
    for (int i = 0; i < 3; i++)
        if (len == strlen(PREPEND_NAMES[i]) && memcmp(s, PREPEND_NAMES[i], len) == 0)
            return i;
    return -1;
}

const char *unigram_prepend_name(int prepend)
{
    return prepend >= 0 && prepend < 3 ? PREPEND_NAMES[prepend] : "?";
}

static const struct { const char *name; int kind, left, right; } NORM_NAMES[] = {
    { "precompiled", UG_NORM_PRECOMPILED, 0, 0 }, { "replace", UG_NORM_REPLACE, 0, 0 },
    { "replace_spaces", UG_NORM_SPACES, 0, 0 },   { "strip", UG_NORM_STRIP, 1, 1 },
    { "strip_left", UG_NORM_STRIP, 1, 0 },        { "strip_right", UG_NORM_STRIP, 0, 1 },
    { "lowercase", UG_NORM_LOWERCASE, 0, 0 },
};

const char *unigram_norm_name(const ug_norm_step *step)
{
    for (size_t i = 0; i < sizeof NORM_NAMES / sizeof *NORM_NAMES; i++)
        if (NORM_NAMES[i].kind == step->kind &&
            (step->kind != UG_NORM_STRIP || (NORM_NAMES[i].left == !!step->left && NORM_NAMES[i].right == !!step->right)))
            return NORM_NAMES[i].name;
    return "?";
}

int unigram_norm_from_name(const char *s, size_t len, ug_norm_step *step)
{
    for (size_t i = 0; i < sizeof NORM_NAMES / sizeof *NORM_NAMES; i++)
        if (len == strlen(NORM_NAMES[i].name) && memcmp(s, NORM_NAMES[i].name, len) == 0) {
            memset(step, 0, sizeof *step);
            step->kind = NORM_NAMES[i].kind;
            step->left = NORM_NAMES[i].left;
            step->right = NORM_NAMES[i].right;
            return 0;
        }
    return -1;
}

/* ---- the vocabulary ---- */

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

int32_t unigram_find(const unigram *u, const char *tok, size_t len)
{
    if (!u || !len || (!tok && len))
        return -1;
    for (uint32_t i = hash_bytes(tok, len) & u->mask;; i = (i + 1) & u->mask) {
        uint32_t v = u->slots[i];
        if (!v)
            return -1;
        int32_t id = (int32_t)(v - 1);
        if (u->off[id + 1] - u->off[id] == len && memcmp(u->pool + u->off[id], tok, len) == 0)
            return id;
    }
}

int32_t unigram_n_tokens(const unigram *u) { return u ? u->n_tokens : 0; }

const char *unigram_token(const unigram *u, int32_t id, uint32_t *len)
{
    if (!u || id < 0 || id >= u->n_tokens)
        return NULL;
    if (len)
        *len = u->off[id + 1] - u->off[id];
    return u->pool + u->off[id];
}

void unigram_free(unigram *u)
{
    if (!u)
        return;
    free(u->pool);
    free(u->off);
    free(u->types);
    free(u->scores);
    free(u->slots);
    ug_trie_free(&u->trie);
    free(u->norm_strs);
    ug_charsmap_free(&u->cmap);
    tok_added_free(u->lit);
    free(u);
}

static int valid_utf8(const char *s, size_t n, uint32_t *cps, int cap, int *count)
{
    int k = 0;
    for (size_t p = 0; p < n;) {
        uint32_t cp;
        int l = uni_utf8_decode((const uint8_t *)s + p, n - p, &cp);
        if (l < 0)
            return 0;
        if (cps) {
            if (k >= cap)
                return 0;
            cps[k] = cp;
        }
        k++;
        p += (size_t)l;
    }
    if (count)
        *count = k;
    return 1;
}

/* copies the normalizer steps (their strings into one block) */
static int build_norm(unigram *u, const unigram_options *o, char *err, size_t errlen)
{
    if (o->n_norm < 0 || o->n_norm > UG_MAX_NORM) {
        tok_seterr(err, errlen, "unigram: %d normalizer steps (at most %d)", o->n_norm, UG_MAX_NORM);
        return -1;
    }
    size_t total = 1;
    int n_pc = 0;
    for (int i = 0; i < o->n_norm; i++) {
        const ug_norm_step *st = &o->norm[i];
        if (st->kind < UG_NORM_PRECOMPILED || st->kind > UG_NORM_LOWERCASE) {
            tok_seterr(err, errlen, "unigram: normalizer step %d has unknown kind %d", i, st->kind);
            return -1;
        }
        n_pc += st->kind == UG_NORM_PRECOMPILED;
        if (st->kind == UG_NORM_REPLACE &&
            (!st->from || !st->from_len || !valid_utf8(st->from, st->from_len, u->pat[i], UG_PAT_MAX, &u->pat_len[i]))) {
            tok_seterr(err, errlen, "unigram: Replace step %d: the pattern must be 1 to %d characters of UTF-8", i, UG_PAT_MAX);
            return -1;
        }
        if ((st->kind == UG_NORM_REPLACE || st->kind == UG_NORM_SPACES) &&
            ((!st->to && st->to_len) || st->to_len > UG_REPL_MAX || !valid_utf8(st->to, st->to_len, NULL, 0, NULL))) {
            tok_seterr(err, errlen, "unigram: Replace step %d: the content must be at most %d bytes of UTF-8", i, UG_REPL_MAX);
            return -1;
        }
        total += st->to_len + (st->kind == UG_NORM_REPLACE ? st->from_len : 0);
    }
    if (n_pc > 1 || (n_pc && !o->charsmap)) {
        tok_seterr(err, errlen, "unigram: %s", n_pc > 1 ? "more than one Precompiled step" : "a Precompiled step without its charsmap");
        return -1;
    }
    u->norm_strs = malloc(total);
    if (!u->norm_strs) {
        tok_seterr(err, errlen, "unigram: out of memory");
        return -1;
    }
    size_t at = 0;
    u->n_norm = o->n_norm;
    for (int i = 0; i < o->n_norm; i++) {
        u->norm[i] = o->norm[i];
        u->norm[i].from = u->norm[i].to = u->norm_strs + at;
        if (o->norm[i].kind == UG_NORM_REPLACE) {
            memcpy(u->norm_strs + at, o->norm[i].from, o->norm[i].from_len);
            u->norm[i].from = u->norm_strs + at;
            at += o->norm[i].from_len;
        }
        u->norm[i].to = u->norm_strs + at;
        if (o->norm[i].to_len)
            memcpy(u->norm_strs + at, o->norm[i].to, o->norm[i].to_len);
        at += o->norm[i].to_len;
    }
    if (n_pc && ug_charsmap_init(&u->cmap, o->charsmap, o->charsmap_len, err, errlen))
        return -1;
    return 0;
}

static int build_literals(unigram *u, const unigram_options *o, char *err, size_t errlen)
{
    tok_added_strip st = { o->lstrip, o->n_lstrip, o->rstrip, o->n_rstrip };
    return tok_added_from_vocab(u->n_tokens, u->pool, u->off, u->types, &st, "unigram", &u->lit, err, errlen);
}

static int build_vocab(unigram *u, const char *const *tokens, const uint32_t *lens, const unigram_options *o,
                       char *err, size_t errlen)
{
    uint32_t pos = 0;
    for (int32_t i = 0; i < u->n_tokens; i++) {
        u->off[i] = pos;
        if (lens[i])
            memcpy(u->pool + pos, tokens[i], lens[i]);
        pos += lens[i];
    }
    u->off[u->n_tokens] = pos;
    for (int32_t i = 0; i < u->n_tokens; i++) {
        uint32_t tl = lens[i];
        if (!tl || u->types[i] == TOK_TYPE_UNUSED)
            continue;
        const char *t = u->pool + u->off[i];
        for (uint32_t h = hash_bytes(t, tl) & u->mask;; h = (h + 1) & u->mask) {
            uint32_t v = u->slots[h];
            int32_t j = (int32_t)v - 1;
            if (!v || (u->off[j + 1] - u->off[j] == tl && memcmp(u->pool + u->off[j], t, tl) == 0)) {
                u->slots[h] = (uint32_t)i + 1; /* a duplicate: the later id, as HF's map */
                break;
            }
        }
    }
    /* the pieces: HF's model.vocab */
    int32_t np = o->n_pieces < 0 ? u->n_tokens : o->n_pieces;
    uint8_t *use = calloc((size_t)u->n_tokens, 1);
    const char **ptr = malloc((size_t)u->n_tokens * sizeof *ptr);
    if (!use || !ptr) {
        free(use);
        free(ptr);
        tok_seterr(err, errlen, "unigram: out of memory");
        return -1;
    }
    double min_normal = INFINITY, min_any = INFINITY;
    u->max_piece = 4;
    for (int32_t i = 0; i < u->n_tokens; i++) {
        ptr[i] = u->pool + u->off[i];
        use[i] = i < np && u->types[i] != TOK_TYPE_UNUSED && lens[i] > 0;
        if (!use[i])
            continue;
        if (lens[i] > u->max_piece)
            u->max_piece = lens[i];
        if (u->scores[i] < min_any)
            min_any = u->scores[i];
        if (u->types[i] == TOK_TYPE_NORMAL && u->scores[i] < min_normal)
            min_normal = u->scores[i];
    }
    int rc = ug_trie_build(&u->trie, u->n_tokens, ptr, lens, use, err, errlen);
    free(use);
    free(ptr);
    if (rc)
        return -1;
    if (u->max_piece > UG_MAX_PIECE) {
        tok_seterr(err, errlen, "unigram: a piece of %u bytes (ember reads pieces of up to %d)", u->max_piece, UG_MAX_PIECE);
        return -1;
    }
    /* llama.cpp's rule without the file's own: the lowest normal piece */
    u->unk_score = o->has_unk_score ? o->unk_score : (isfinite(min_normal) ? min_normal : min_any) - 10.0;
    if (!isfinite(u->unk_score)) {
        tok_seterr(err, errlen, "unigram: no piece to score the unknown piece from");
        return -1;
    }
    if (u->byte_fallback)
        for (int b = 0; b < 256; b++) {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", b);
            if ((u->byte_id[b] = ug_trie_find(&u->trie, (const uint8_t *)name, 6)) < 0) {
                tok_seterr(err, errlen, "unigram: byte_fallback without the piece %s (ember needs all 256)", name);
                return -1;
            }
        }
    return 0;
}

static uint32_t pow2_above(uint64_t n)
{
    uint32_t s = 1;
    while (s < n && s < (1u << 31))
        s <<= 1;
    return s;
}

unigram *unigram_create(int32_t n_tokens, const char *const *tokens, const uint32_t *lens, const int32_t *types,
                        const double *scores, const unigram_options *o, char *err, size_t errlen)
{
    if (n_tokens < 1 || n_tokens > (1 << 24) || !tokens || !lens || !scores || !o) {
        tok_seterr(err, errlen, "unigram: bad vocabulary (n_tokens %d)", (int)n_tokens);
        return NULL;
    }
    if (o->unk_id < 0 || o->unk_id >= n_tokens) {
        tok_seterr(err, errlen, "unigram: unk_id %d is not a token id (0..%d); ember needs the unknown piece",
               (int)o->unk_id, (int)n_tokens - 1);
        return NULL;
    }
    if (o->n_pieces > n_tokens || (o->metaspace && (o->replacement > 0x10FFFF ||
        (o->replacement >= 0xD800 && o->replacement <= 0xDFFF))) || o->prepend < 0 || o->prepend > 2) {
        tok_seterr(err, errlen, "unigram: bad options (n_pieces %d, replacement U+%04X, prepend %d)", (int)o->n_pieces,
               (unsigned)o->replacement, o->prepend);
        return NULL;
    }
    if (o->has_unk_score && !isfinite(o->unk_score)) {
        tok_seterr(err, errlen, "unigram: the unknown piece's score is not a finite number");
        return NULL;
    }
    uint64_t total = 0;
    for (int32_t i = 0; i < n_tokens; i++) {
        if (!tokens[i] && lens[i]) {
            tok_seterr(err, errlen, "unigram: token %d is NULL", (int)i);
            return NULL;
        }
        if (types && (types[i] < 1 || types[i] > 6)) {
            tok_seterr(err, errlen, "unigram: token %d has invalid type %d", (int)i, (int)types[i]);
            return NULL;
        }
        if (!isfinite(scores[i])) {
            tok_seterr(err, errlen, "unigram: the score of token %d is not a finite number", (int)i);
            return NULL;
        }
        total += lens[i];
    }
    if (total > UINT32_MAX - 1) {
        tok_seterr(err, errlen, "unigram: vocabulary text too large (%llu bytes)", (unsigned long long)total);
        return NULL;
    }
    unigram *u = calloc(1, sizeof *u);
    uint32_t nslots = pow2_above((uint64_t)n_tokens * 2);
    if (u) {
        u->pool = malloc(total ? total : 1);
        u->off = malloc(((size_t)n_tokens + 1) * sizeof *u->off);
        u->types = malloc((size_t)n_tokens * sizeof *u->types);
        u->scores = malloc((size_t)n_tokens * sizeof *u->scores);
        u->slots = calloc(nslots, sizeof *u->slots);
    }
    if (!u || !u->pool || !u->off || !u->types || !u->scores || !u->slots) {
        tok_seterr(err, errlen, "unigram: out of memory (%d tokens)", (int)n_tokens);
        unigram_free(u);
        return NULL;
    }
    u->n_tokens = n_tokens;
    u->mask = nslots - 1;
    for (int32_t i = 0; i < n_tokens; i++) {
        u->types[i] = types ? types[i] : TOK_TYPE_NORMAL;
        u->scores[i] = scores[i];
    }
    u->unk_id = o->unk_id;
    u->byte_fallback = o->byte_fallback != 0;
    u->whitespace_split = o->whitespace_split != 0;
    u->metaspace = o->metaspace != 0;
    u->replacement = o->replacement;
    u->prepend = o->prepend;
    u->split = o->split != 0;
    if (build_vocab(u, tokens, lens, o, err, errlen) || build_norm(u, o, err, errlen) ||
        build_literals(u, o, err, errlen)) {
        unigram_free(u);
        return NULL;
    }
    return u;
}

/* ---- encoding ---- */

static int is_ws(uint32_t cp) { return (uni_props(cp) & UNI_WS) != 0; }

/* One piece of text between added tokens: normalizers, pre-tokenizers,
 * lattice.  at_start: the piece starts the sequence.  0, 1 (stop) or
 * TOK_ERR_TEXT with the piece-relative offset in *bad. */
static int encode_piece(const unigram *u, ug_lattice *L, const uint8_t *s, size_t n, int at_start, size_t *bad)
{
    ug_norm ns;
    ug_norm_init(&ns, u, s, n);
    int open = 0, word = 0; /* a pre-token has bytes; a word (or the piece) has begun */
    for (;;) {
        ug_cp c;
        int r = ug_norm_next(&ns, &c);
        if (r < 0) {
            *bad = ns.err_pos;
            return r;
        }
        if (r == 0)
            break;
        if (u->whitespace_split && is_ws(c.cp)) {
            if (open && ug_lattice_end(L))
                return 1;
            open = word = 0;
            continue;
        }
        uint32_t cp = u->metaspace && c.cp == ' ' ? u->replacement : c.cp;
        if (!word) {
            word = 1;
            /* Metaspace's prepend: HF tests the word's (or the piece's)
             * alignment in the sequence for "first" */
            if (u->metaspace && cp != u->replacement &&
                (u->prepend == UG_PREPEND_ALWAYS || (u->prepend == UG_PREPEND_FIRST && at_start && c.a0))) {
                if (ug_lattice_push(L, u->replacement))
                    return 1;
                open = 1;
            }
        }
        if (u->metaspace && u->split && cp == u->replacement && open) {
            if (ug_lattice_end(L))
                return 1;
            open = 0;
        }
        if (ug_lattice_push(L, cp))
            return 1;
        open = 1;
    }
    return open && ug_lattice_end(L) ? 1 : 0;
}

/* unigram_encode with the first skip ids dropped (tok_model_encode_from). */
static int encode_from(const unigram *u, const char *text, size_t len, int skip, int32_t *ids, int cap,
                       int max_tokens, char *err, size_t errlen)
{
    if (!u || (!text && len)) {
        tok_seterr(err, errlen, "unigram_encode: NULL argument");
        return TOK_ERR_ARG;
    }
    if (ids && cap < 0) {
        tok_seterr(err, errlen, "unigram_encode: negative cap %d", cap);
        return TOK_ERR_ARG;
    }
    if (max_tokens == 0)
        return 0;
    ug_lattice L;
    ug_lattice_init(&L, u, ids, cap, skip, max_tokens);
    const uint8_t *s = (const uint8_t *)text;
    tok_added_cursor cur = { 0, 0 };
    while (!L.stop) {
        size_t begin, end;
        int32_t lid = tok_added_next(u->lit, s, len, &cur, &begin, &end);
        if (end > begin) {
            size_t bad = 0;
            int rc = encode_piece(u, &L, s + begin, end - begin, begin == 0, &bad);
            if (rc < 0) {
                tok_seterr(err, errlen, "unigram_encode: invalid UTF-8 at byte offset %zu (byte 0x%02X)", begin + bad,
                       (unsigned)s[begin + bad]);
                return rc;
            }
        }
        if (L.stop || lid < 0)
            break;
        if (tok_sink_put(&L.out, lid))
            L.stop = 1;
    }
    if (L.out.overflow) {
        tok_seterr(err, errlen, "unigram_encode: output buffer too small (cap %d)", cap);
        return TOK_ERR_SPACE;
    }
    return L.out.count;
}

int unigram_encode(const unigram *u, const char *text, size_t len, int32_t *ids, int cap, int max_tokens,
                   char *err, size_t errlen)
{
    return encode_from(u, text, len, 0, ids, cap, max_tokens, err, errlen);
}

static int ops_encode(const void *impl, const char *text, size_t len, int skip, int32_t *ids, int cap,
                      int max_tokens, char *err, size_t errlen)
{
    return encode_from(impl, text, len, skip, ids, cap, max_tokens, err, errlen);
}
static int32_t ops_n_tokens(const void *impl) { return unigram_n_tokens(impl); }
static const char *ops_token(const void *impl, int32_t id, uint32_t *len) { return unigram_token(impl, id, len); }
static int32_t ops_find(const void *impl, const char *tok, size_t len) { return unigram_find(impl, tok, len); }
static void ops_free(void *impl) { unigram_free(impl); }

const tok_model_ops unigram_ops = { "unigram", ops_encode, ops_n_tokens, ops_token, ops_find, ops_free };
