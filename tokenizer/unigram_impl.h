/* Internals shared by unigram.c (object, encode driver, pre-tokenizers),
 * unigram_trie.c (the pieces' byte trie), unigram_norm.c (the normalizers
 * as a stream) and unigram_viterbi.c (the lattice over a window). */
#ifndef EMBER_TOKENIZER_UNIGRAM_IMPL_H
#define EMBER_TOKENIZER_UNIGRAM_IMPL_H
#include "tokenizer/added.h"
#include "tokenizer/charsmap.h"
#include "tokenizer/grapheme.h"
#include "tokenizer/unigram.h"

/* ---- the pieces' trie (unigram_trie.c) ---- */

/* Nodes in breadth-first order, node 0 the root; the children of a node are
 * contiguous, by ascending label. */
typedef struct {
    uint32_t n;          /* nodes */
    int32_t *id;         /* the piece ending at the node, -1 if none */
    uint32_t *first;     /* its first child */
    uint16_t *count;     /* its number of children */
    uint8_t *label;      /* the byte on the edge into it */
    uint32_t root[256];  /* the root's child by byte, 0 if none */
} ug_trie;

/* The tokens i with use[i] != 0 and lens[i] > 0; of equal strings the
 * highest id (HF's map keeps the last).  0, or -1 with the reason. */
int ug_trie_build(ug_trie *t, int32_t n, const char *const *s, const uint32_t *lens, const uint8_t *use,
                  char *err, size_t errlen);
void ug_trie_free(ug_trie *t);

/* The child of node on byte b, 0 if none (the root is no one's child). */
static inline uint32_t ug_trie_child(const ug_trie *t, uint32_t node, uint8_t b)
{
    if (node == 0)
        return t->root[b];
    uint32_t lo = t->first[node], hi = lo + t->count[node];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->label[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->first[node] + t->count[node] && t->label[lo] == b ? lo : 0;
}

/* The piece s[0..n) exactly, or -1. */
int32_t ug_trie_find(const ug_trie *t, const uint8_t *s, size_t n);

/* ---- the object ---- */

struct unigram {
    int32_t n_tokens;
    char *pool;           /* all token bytes */
    uint32_t *off;        /* n_tokens + 1 offsets into pool */
    int32_t *types;
    double *scores;
    uint32_t *slots;      /* every token by text, for find: id + 1, 0 = empty */
    uint32_t mask;
    ug_trie trie;         /* the pieces */
    uint32_t max_piece;   /* the longest piece in bytes, at least 4 (one character) */
    double unk_score;
    int32_t unk_id;
    int byte_fallback;
    int32_t byte_id[256]; /* <0xXX> pieces, with byte_fallback */
    /* normalizers, their strings copied; the charsmap decoded */
    int n_norm;
    ug_norm_step norm[UG_MAX_NORM];
    uint32_t pat[UG_MAX_NORM][UG_PAT_MAX]; /* Replace patterns as code points */
    int pat_len[UG_MAX_NORM];
    char *norm_strs;
    ug_charsmap cmap;
    /* pre-tokenizers */
    int whitespace_split, metaspace, prepend, split;
    uint32_t replacement;
    tok_added *lit;       /* added tokens (with their lstrip / rstrip), NULL when none */
};

/* ---- the normalizers as a stream (unigram_norm.c) ---- */

/* A normalized code point and whether HF's alignment of it starts at the
 * first byte of its piece (what Metaspace's "first" scheme asks of a word). */
typedef struct {
    uint32_t cp;
    uint8_t a0;
} ug_cp;

#define UG_GMAX 6 /* HF replaces grapheme clusters shorter than 6 bytes whole */

/* What the Precompiled normalizer makes of k input code points: m output
 * code points, a replacement from the pool or the one code point as it is. */
typedef struct {
    const char *rep;   /* NULL: cp as it is */
    uint32_t rep_len, rep_pos;
    uint32_t cp, k, m, j; /* j: how many are out */
    uint64_t c0;       /* input code points consumed before it */
} ug_unit;

typedef struct {
    int kind;
    union {
        struct { /* UG_NORM_PRECOMPILED */
            uint8_t la_have, la_break, in_end, in_long, gn, gi, has_next, emitted;
            ug_cp la;
            uni_gb_state gb;
            ug_cp g[UG_GMAX];
            ug_unit cur, next;    /* the unit being emitted (cur.j chars out), the one after it */
            uint64_t consumed, a0_in; /* HF's alignment walk (unigram_norm.c) */
        } pc;
        struct { /* UG_NORM_REPLACE, UG_NORM_SPACES */
            ug_cp q[UG_PAT_MAX];
            int qn, ended, has_pending;
            ug_cp pending;
            uint32_t out_pos; /* into the step's `to`; out_len 0: none */
            uint32_t out_len;
            uint8_t out_a0;
        } rp;
        struct { /* UG_NORM_STRIP */
            int started, at_end;
            uint64_t ws_ok;
        } st;
        struct { /* UG_NORM_LOWERCASE */
            uint32_t out[3];
            int on, oi;
            uint8_t a0;
        } lc;
    } u;
} ug_stage;

typedef struct {
    const unigram *u;
    const uint8_t *s;   /* the piece */
    size_t n, pos;
    size_t err_pos;     /* piece-relative offset of invalid UTF-8 */
    ug_stage st[UG_MAX_NORM];
} ug_norm;

void ug_norm_init(ug_norm *ns, const unigram *u, const uint8_t *s, size_t n);
/* The next normalized code point: 1, 0 at the end, TOK_ERR_TEXT at invalid
 * UTF-8 (offset in err_pos). */
int ug_norm_next(ug_norm *ns, ug_cp *c);

/* ---- the lattice (unigram_viterbi.c) ---- */

#define UG_RUN_MAX UG_MAX_PIECE /* bytes of an unknown run kept for its lookup */

typedef struct {
    const unigram *u;
    tok_sink out;
    int stop;                       /* the sink wants no more */
    int n;                          /* bytes of the current pre-token in buf */
    double v0;                      /* the path score at buf[0] */
    uint8_t buf[UG_WINDOW];
    double best[UG_WINDOW + 1];     /* best path score ending at each byte */
    int32_t from[UG_WINDOW + 1];    /* where its last piece starts, -1: not reached */
    int32_t tid[UG_WINDOW + 1];     /* and which piece it is */
    int16_t mark[UG_WINDOW + 1];
    /* the run of unknown pieces being fused */
    size_t run_len;                 /* bytes */
    int run_long;                   /* longer than any piece: its bytes are not kept */
    uint32_t run_n;
    uint8_t run[UG_RUN_MAX];
} ug_lattice;

void ug_lattice_init(ug_lattice *L, const unigram *u, int32_t *ids, int cap, int skip, int max_tokens);
/* Appends a code point to the current pre-token (cutting the window when it
 * is full); 1 when output should stop. */
int ug_lattice_push(ug_lattice *L, uint32_t cp);
/* Ends the current pre-token: its pieces go out.  1: stop. */
int ug_lattice_end(ug_lattice *L);

#endif
