#include "tools/base64.h"

#include <stdlib.h>

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int base64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n % 4)
        return -1;
    size_t pad = n && s[n - 1] == '=' ? (n > 1 && s[n - 2] == '=' ? 2 : 1) : 0;
    uint8_t *o = malloc(n / 4 * 3 + 1);
    if (!o)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            int last = i + 4 == n;
            v[j] = last && (size_t)j >= 4 - pad ? 0 : sextet(s[i + (size_t)j]);
            if (v[j] < 0) {
                free(o);
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        o[k++] = (uint8_t)(w >> 16);
        if (i + 4 < n || pad < 2) o[k++] = (uint8_t)(w >> 8);
        if (i + 4 < n || pad < 1) o[k++] = (uint8_t)w;
    }
    *out = o;
    *out_len = k;
    return 0;
}
