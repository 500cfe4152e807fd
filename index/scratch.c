/* Search scratch kept in the index for the next search.  A block is an
 * arena: a search carves its buffers from it and gives the whole block back;
 * what did not fit comes from chunks of its own, merged into one arena of
 * the total size when the block is given back, so a steady stream of
 * searches allocates nothing.  Beside the arena, the visited marks of graph
 * walks, kept with their epoch. */
#include "index/base.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64

/* a chunk beyond the arena: its header, then the bytes handed out */
typedef struct chunk { struct chunk *next; } chunk;
#define CHUNK_HEAD ALIGN

struct idx_scratch {
    idx_scratch *next;          /* in the pool's list of free blocks */
    unsigned char *arena;
    size_t cap, used;
    chunk *extra;               /* what did not fit in the arena this time */
    size_t extra_bytes;
    idx_visited vis;
};

struct idx_pool {
    pthread_mutex_t lock;
    idx_scratch *free;
};

idx_pool *idx_pool_new(void)
{
    idx_pool *p = calloc(1, sizeof *p);
    if (p && pthread_mutex_init(&p->lock, NULL) != 0) { free(p); p = NULL; }
    return p;
}

static void block_free(idx_scratch *s)
{
    for (chunk *c = s->extra, *n; c; c = n) { n = c->next; free(c); }
    free(s->arena);
    free(s->vis.tag);
    free(s);
}

void idx_pool_free(idx_pool *p)
{
    if (!p) return;
    for (idx_scratch *s = p->free, *n; s; s = n) { n = s->next; block_free(s); }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

idx_scratch *idx_scratch_take(const emb_index *x)
{
    idx_pool *p = x->pool;
    pthread_mutex_lock(&p->lock);
    idx_scratch *s = p->free;
    if (s) p->free = s->next;
    pthread_mutex_unlock(&p->lock);
    return s ? s : calloc(1, sizeof *s);
}

static void *aligned(size_t bytes)
{
    void *m = NULL;
    return posix_memalign(&m, ALIGN, bytes ? bytes : ALIGN) == 0 ? m : NULL;
}

void *idx_scratch_alloc(idx_scratch *s, size_t bytes)
{
    size_t at = (s->used + ALIGN - 1) / ALIGN * ALIGN;
    if (bytes > SIZE_MAX - ALIGN - CHUNK_HEAD) return NULL;
    if (s->arena && at <= s->cap && bytes <= s->cap - at) {
        s->used = at + bytes;
        return s->arena + at;
    }
    chunk *c = aligned(CHUNK_HEAD + bytes);
    if (!c) return NULL;
    c->next = s->extra;
    s->extra = c;
    s->extra_bytes += (bytes + ALIGN - 1) / ALIGN * ALIGN;
    return (unsigned char *)c + CHUNK_HEAD;
}

void idx_scratch_give(const emb_index *x, idx_scratch *s)
{
    if (!s) return;
    if (s->extra) {
        /* one arena for all of it next time, never smaller than before
         * (without one, the next search takes chunks again: slower, never
         * wrong) */
        size_t used = (s->used + ALIGN - 1) / ALIGN * ALIGN;
        size_t want = (used > s->cap ? used : s->cap) + s->extra_bytes;
        for (chunk *c = s->extra, *n; c; c = n) { n = c->next; free(c); }
        s->extra = NULL;
        s->extra_bytes = 0;
        free(s->arena);
        s->arena = aligned(want);
        s->cap = s->arena ? want : 0;
    }
    s->used = 0;
    idx_pool *p = x->pool;
    pthread_mutex_lock(&p->lock);
    s->next = p->free;
    p->free = s;
    pthread_mutex_unlock(&p->lock);
}

idx_visited *idx_scratch_visited(idx_scratch *s, size_t n)
{
    if (s->vis.n < n || !s->vis.tag) {
        /* new marks, all clear: the epoch starts again */
        uint16_t *t = calloc(n ? n : 1, sizeof *t);
        if (!t) return NULL;
        free(s->vis.tag);
        s->vis = (idx_visited){ .tag = t, .n = n ? n : 1, .epoch = 0 };
    }
    return &s->vis;
}
