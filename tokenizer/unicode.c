#include "tokenizer/unicode.h"

int uni_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return -1;
    uint32_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2; c &= 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; c &= 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; c &= 0x07; min = 0x10000;
    } else {
        return -1; /* continuation byte, C0/C1 overlong lead, F5..FF */
    }
    if ((size_t)len > n)
        return -1;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *cp = c;
    return len;
}

int uni_utf8_encode(uint32_t cp, uint8_t *o)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static unsigned range_lookup(const uni_range *r, int n, uint32_t cp)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < r[mid].lo)
            hi = mid - 1;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return r[mid].v;
    }
    return 0;
}

unsigned uni_props(uint32_t cp)
{
    /* fast path: ASCII letters and digits are the bulk of real text */
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
        (cp >= '0' && cp <= '9'))
        return 0;
    return range_lookup(uni_prop_ranges, uni_prop_count, cp);
}

unsigned uni_regex_class(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
            return UNI_RX_L;
        if (cp >= '0' && cp <= '9')
            return UNI_RX_N;
        if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D))
            return UNI_RX_S;
        return 0;
    }
    return range_lookup(uni_regex_ranges, uni_regex_count, cp);
}

unsigned uni_ccc(uint32_t cp)
{
    if (cp < 0x300)
        return 0;
    return range_lookup(uni_ccc_ranges, uni_ccc_count, cp);
}

int uni_tolower(uint32_t cp, uint32_t out[3])
{
    if (cp < 0x80) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    int lo = 0, hi = uni_lower_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < uni_lower[mid].cp) {
            hi = mid - 1;
        } else if (cp > uni_lower[mid].cp) {
            lo = mid + 1;
        } else {
            int n = 0;
            for (int i = 0; i < 3 && uni_lower[mid].to[i]; i++)
                out[n++] = uni_lower[mid].to[i];
            return n;
        }
    }
    out[0] = cp;
    return 1;
}

enum { H_SBASE = 0xAC00, H_LBASE = 0x1100, H_VBASE = 0x1161, H_TBASE = 0x11A7,
       H_LCOUNT = 19, H_VCOUNT = 21, H_TCOUNT = 28, H_NCOUNT = 588,
       H_SCOUNT = 11172 };

int uni_nfd_char(uint32_t cp, uint32_t out[UNI_MAX_DECOMP])
{
    out[0] = cp;
    if (cp < 0xC0)
        return 1;
    if (cp >= H_SBASE && cp < H_SBASE + H_SCOUNT) {
        uint32_t s = cp - H_SBASE;
        out[0] = H_LBASE + s / H_NCOUNT;
        out[1] = H_VBASE + (s % H_NCOUNT) / H_TCOUNT;
        if (s % H_TCOUNT == 0)
            return 2;
        out[2] = H_TBASE + s % H_TCOUNT;
        return 3;
    }
    int lo = 0, hi = uni_decomp_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < uni_decomp[mid].cp) {
            hi = mid - 1;
        } else if (cp > uni_decomp[mid].cp) {
            lo = mid + 1;
        } else {
            int n = uni_decomp[mid].len;
            if (n > UNI_MAX_DECOMP)
                n = UNI_MAX_DECOMP;
            for (int i = 0; i < n; i++)
                out[i] = uni_decomp_pool[uni_decomp[mid].off + i];
            return n;
        }
    }
    return 1;
}

uint32_t uni_compose(uint32_t a, uint32_t b)
{
    if (a >= H_LBASE && a < H_LBASE + H_LCOUNT && b >= H_VBASE &&
        b < H_VBASE + H_VCOUNT)
        return H_SBASE + ((a - H_LBASE) * H_VCOUNT + (b - H_VBASE)) * H_TCOUNT;
    if (a >= H_SBASE && a < H_SBASE + H_SCOUNT && (a - H_SBASE) % H_TCOUNT == 0 &&
        b > H_TBASE && b < H_TBASE + H_TCOUNT)
        return a + (b - H_TBASE);
    int lo = 0, hi = uni_comp_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const uni_comp_entry *e = &uni_comp[mid];
        if (a < e->a || (a == e->a && b < e->b))
            hi = mid - 1;
        else if (a > e->a || b > e->b)
            lo = mid + 1;
        else
            return e->c;
    }
    return 0;
}

int uni_nfd(const uint32_t *in, int n, uint32_t *out, int cap)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        uint32_t d[UNI_MAX_DECOMP];
        int nd = uni_nfd_char(in[i], d);
        for (int k = 0; k < nd; k++) {
            if (m >= cap)
                return -1;
            /* insertion into the current mark run keeps it sorted by ccc */
            unsigned c = uni_ccc(d[k]);
            int j = m;
            if (c)
                while (j > 0 && uni_ccc(out[j - 1]) > c) {
                    out[j] = out[j - 1];
                    j--;
                }
            out[j] = d[k];
            m++;
        }
    }
    return m;
}

int uni_nfc_compose(uint32_t *s, int n)
{
    if (n == 0)
        return 0;
    int starter = -1; /* index of the last starter in the output */
    unsigned last_ccc = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        uint32_t c = s[i];
        unsigned cc = uni_ccc(c);
        if (starter >= 0) {
            /* c may combine when not blocked: nothing between, or the
             * previous char's ccc is lower and nonzero */
            int blocked = m > starter + 1 && (last_ccc == 0 || last_ccc >= cc);
            if (!blocked) {
                uint32_t comp = uni_compose(s[starter], c);
                if (comp) {
                    s[starter] = comp;
                    continue;
                }
            }
        }
        if (cc == 0) {
            starter = m;
            last_ccc = 0;
        } else {
            last_ccc = cc;
        }
        s[m++] = c;
    }
    return m;
}
