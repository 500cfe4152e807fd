/* Ranked merges over one window: HF's Word::merge_all with its heap
 * ordered by (rank, position), here indexed by position so that a pair that
 * changes is moved in the heap instead of left behind stale (HF skips stale
 * entries when they surface; both orders merge the same pairs, since a
 * pair's text only grows when it changes, so a stale entry never names the
 * current pair's token).  O(n log n) for n bytes. */
#include "tokenizer/bpe_impl.h"

static int before(const bpe_window *w, int a, int b)
{
    return w->rank[a] < w->rank[b] || (w->rank[a] == w->rank[b] && a < b);
}

static void place(bpe_window *w, int k, int i)
{
    w->heap[k] = (int16_t)i;
    w->hpos[i] = (int16_t)k;
}

static void sift_up(bpe_window *w, int k)
{
    int i = w->heap[k];
    while (k > 0) {
        int parent = (k - 1) / 2;
        if (!before(w, i, w->heap[parent]))
            break;
        place(w, k, w->heap[parent]);
        k = parent;
    }
    place(w, k, i);
}

static void sift_down(bpe_window *w, int k)
{
    int i = w->heap[k];
    for (;;) {
        int c = 2 * k + 1;
        if (c >= w->hn)
            break;
        if (c + 1 < w->hn && before(w, w->heap[c + 1], w->heap[c]))
            c++;
        if (!before(w, w->heap[c], i))
            break;
        place(w, k, w->heap[c]);
        k = c;
    }
    place(w, k, i);
}

static void heap_remove(bpe_window *w, int i)
{
    int k = w->hpos[i];
    if (k < 0)
        return;
    w->hpos[i] = -1;
    int last = w->heap[--w->hn];
    if (k < w->hn) {
        place(w, k, last);
        sift_up(w, k);
        sift_down(w, w->hpos[last]);
    }
}

/* After rank[i] changed: into, within or out of the heap. */
static void heap_update(bpe_window *w, int i)
{
    if (w->rank[i] < 0) {
        heap_remove(w, i);
        return;
    }
    if (w->hpos[i] < 0) {
        place(w, w->hn++, i);
        sift_up(w, w->hn - 1);
        return;
    }
    sift_up(w, w->hpos[i]);
    sift_down(w, w->hpos[i]);
}

void bpe_window_merge(const bpe *b, bpe_window *w)
{
    int n = w->n;
    w->hn = 0;
    for (int i = 0; i < n; i++) {
        w->id[i] = b->byte_id[w->bytes[i]];
        w->next[i] = (int16_t)(i + 1 < n ? i + 1 : -1);
        w->prev[i] = (int16_t)(i - 1);
        w->hpos[i] = -1;
    }
    for (int i = 0; i < n; i++) {
        w->rank[i] = i + 1 < n ? bpe_pair_rank(b, w->id[i], w->id[i + 1]) : -1;
        if (w->rank[i] >= 0) {
            place(w, w->hn++, i);
            sift_up(w, w->hn - 1);
        }
    }
    while (w->hn > 0) {
        int i = w->heap[0];
        int j = w->next[i];
        w->id[i] = b->m_new[w->rank[i]];
        int nj = w->next[j];
        w->next[i] = (int16_t)nj;
        if (nj >= 0)
            w->prev[nj] = (int16_t)i;
        heap_remove(w, j);
        w->rank[i] = nj >= 0 ? bpe_pair_rank(b, w->id[i], w->id[nj]) : -1;
        heap_update(w, i);
        int p = w->prev[i];
        if (p >= 0) {
            w->rank[p] = bpe_pair_rank(b, w->id[p], w->id[i]);
            heap_update(w, p);
        }
    }
}
