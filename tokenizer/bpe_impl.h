/* Internals shared by bpe.c (object, encode driver), bpe_merge.c (the
 * ranked merges over a window) and bpe_split.c (the split pattern). */
#ifndef EMBER_TOKENIZER_BPE_IMPL_H
#define EMBER_TOKENIZER_BPE_IMPL_H
#include "tokenizer/added.h"
#include "tokenizer/bpe.h"
#include "tokenizer/nfc_stream.h"

struct bpe {
    int32_t n_tokens;
    bpe_options opt;
    char *pool;          /* all token bytes */
    uint32_t *off;       /* n_tokens + 1 offsets into pool */
    int32_t *types;
    uint32_t *slots;     /* vocabulary hash: id + 1, 0 = empty */
    uint32_t mask;
    uint32_t max_len;
    int32_t byte_id[256]; /* the token of each single byte */
    /* merges by rank, and a hash of (left, right) -> rank + 1 */
    int32_t n_merges;
    int32_t *m_left, *m_right, *m_new;
    uint32_t *m_slots;
    uint32_t m_mask;
    tok_added *lit;      /* added tokens, NULL when none */
};

/* Rank of the merge (left, right), -1 when there is none. */
static inline int32_t bpe_pair_rank(const bpe *b, int32_t l, int32_t r)
{
    uint64_t k = ((uint64_t)(uint32_t)l << 32 | (uint32_t)r) * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(k >> 32) & b->m_mask;
    for (;;) {
        uint32_t v = b->m_slots[i];
        if (!v)
            return -1;
        if (b->m_left[v - 1] == l && b->m_right[v - 1] == r)
            return (int32_t)(v - 1);
        i = (i + 1) & b->m_mask;
    }
}

/* One pre-token (or a window of a long one) being merged.  Symbol i covers
 * bytes [i, next[i]); the symbols left are 0, next[0], ... while n > 0. */
typedef struct {
    int n;
    uint8_t bytes[BPE_WINDOW];
    int32_t id[BPE_WINDOW];
    int32_t rank[BPE_WINDOW]; /* rank of the pair (i, next[i]), -1 if none */
    int16_t next[BPE_WINDOW], prev[BPE_WINDOW];
    int16_t heap[BPE_WINDOW], hpos[BPE_WINDOW]; /* positions by (rank, position); hpos -1: absent */
    int hn;
} bpe_window;

/* Merges w->bytes[0..n) completely. */
void bpe_window_merge(const bpe *b, bpe_window *w);

/* The code point reader the split pattern looks ahead with: a NFC stream
 * and the few code points already read from it.  Copying it forks it. */
#define BPE_PEEK 4
#define BPE_CP_END 0xFFFFFFFFu /* peek past the end of the piece */
#define BPE_CP_ERR 0xFFFFFFFEu /* peek at invalid UTF-8 */
typedef struct {
    nfc_stream s;
    int qn;
    uint32_t q[BPE_PEEK];
} bpe_reader;

/* Receives each code point of a pre-token: 0 go on, 1 stop (enough ids or
 * no room), a TOK_ERR_* code to fail. */
typedef int (*bpe_put_fn)(void *ctx, uint32_t cp);

/* Reads the next pre-token of the pattern from r into put.  Returns 1 when a
 * whole pre-token went to put, 0 at the end of the piece, 2 when put asked to
 * stop, TOK_ERR_TEXT at invalid UTF-8 (offset in r->s.err_pos). */
int bpe_split_next(int pre, bpe_reader *r, bpe_put_fn put, void *ctx);

#endif
