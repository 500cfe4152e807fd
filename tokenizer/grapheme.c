/* UAX #29 extended grapheme cluster boundaries, one code point at a time. */
#include "tokenizer/grapheme.h"
#include "tokenizer/unicode_tables.h"

unsigned uni_gcb(uint32_t cp)
{
    if (cp >= 0x20 && cp < 0x7F)
        return UNI_GB_OTHER; /* printable ASCII: the bulk of text */
    if (cp >= 0xAC00 && cp <= 0xD7A3)
        return (cp - 0xAC00) % 28 == 0 ? UNI_GB_LV : UNI_GB_LVT;
    int lo = 0, hi = uni_gcb_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < uni_gcb_ranges[mid].lo)
            hi = mid - 1;
        else if (cp > uni_gcb_ranges[mid].hi)
            lo = mid + 1;
        else
            return uni_gcb_ranges[mid].v;
    }
    return UNI_GB_OTHER;
}

void uni_gb_init(uni_gb_state *s)
{
    s->started = 0;
    s->prev = UNI_GB_OTHER;
    s->ri_odd = 0;
    s->emoji = 0;
}

static int is_ctl(unsigned c) { return c == UNI_GB_CONTROL || c == UNI_GB_CR || c == UNI_GB_LF; }

/* The rules in order; 1 = break between a text ending in state s and c. */
static int breaks(const uni_gb_state *s, unsigned c, int pict)
{
    unsigned p = s->prev;
    if (!s->started)
        return 1;                                           /* GB1 */
    if (p == UNI_GB_CR && c == UNI_GB_LF)
        return 0;                                           /* GB3 */
    if (is_ctl(p) || is_ctl(c))
        return 1;                                           /* GB4, GB5 */
    if (p == UNI_GB_L && (c == UNI_GB_L || c == UNI_GB_V || c == UNI_GB_LV || c == UNI_GB_LVT))
        return 0;                                           /* GB6 */
    if ((p == UNI_GB_LV || p == UNI_GB_V) && (c == UNI_GB_V || c == UNI_GB_T))
        return 0;                                           /* GB7 */
    if ((p == UNI_GB_LVT || p == UNI_GB_T) && c == UNI_GB_T)
        return 0;                                           /* GB8 */
    if (c == UNI_GB_EXTEND || c == UNI_GB_ZWJ || c == UNI_GB_SPACINGMARK)
        return 0;                                           /* GB9, GB9a */
    if (p == UNI_GB_PREPEND)
        return 0;                                           /* GB9b */
    if (p == UNI_GB_ZWJ && s->emoji == 2 && pict)
        return 0;                                           /* GB11 */
    if (p == UNI_GB_RI && c == UNI_GB_RI && s->ri_odd)
        return 0;                                           /* GB12, GB13 */
    return 1;                                               /* GB999 */
}

int uni_gb_next(uni_gb_state *s, uint32_t cp)
{
    unsigned v = uni_gcb(cp), c = v & 15u;
    int pict = (v & UNI_GB_EXTPICT) != 0;
    int b = breaks(s, c, pict);
    s->ri_odd = c == UNI_GB_RI ? (uint8_t)(s->prev == UNI_GB_RI && s->started ? !s->ri_odd : 1) : 0;
    if (pict)
        s->emoji = 1;
    else if (c == UNI_GB_EXTEND && s->emoji == 1)
        s->emoji = 1;
    else if (c == UNI_GB_ZWJ && s->emoji == 1)
        s->emoji = 2;
    else
        s->emoji = 0;
    s->prev = (uint8_t)c;
    s->started = 1;
    return b;
}
