/* Progress of the long phases (training, encoding, linking, writing) for a
 * caller's callback: the library itself never prints. */
#include "index/base.h"

#include <time.h>

#define TICK_SECONDS 0.1

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void idx_set_progress(emb_index *x, idx_progress_fn fn, void *user)
{
    x->progress = fn;
    x->progress_user = user;
}

void idx_tick_start(idx_ticker *t, const emb_index *x, const char *phase, size_t total)
{
    t->x = x;
    t->phase = phase;
    t->total = total;
    t->next = 0;
    if (x->progress) {
        x->progress(x->progress_user, phase, 0, total);
        t->next = now() + TICK_SECONDS;
    }
}

void idx_tick(idx_ticker *t, size_t done)
{
    if (!t->x->progress) return;
    double s = now();
    if (s < t->next) return;
    t->next = s + TICK_SECONDS;
    t->x->progress(t->x->progress_user, t->phase, done < t->total ? done : t->total, t->total);
}

void idx_tick_end(idx_ticker *t)
{
    if (t->x->progress) t->x->progress(t->x->progress_user, t->phase, t->total, t->total);
}
