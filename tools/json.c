/* Strict recursive-descent JSON parser (depth-limited). */
#include "tools/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_value {
    int type;
    int b;
    double num;
    double num_hf;      /* as serde_json reads it (json_number_hf) */
    int is_int;         /* a number written as an integer within int64: its exact value in inum */
    long long inum;
    char *s;            /* string value */
    size_t slen;
    json_value **items; /* array elements / object values */
    char **keys;        /* object keys */
    size_t *klens;
    size_t n, cap;
};

typedef struct {
    const unsigned char *p, *start, *end;
    char *err;
    size_t errlen;
    int failed;
} parser;

static void fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed) return;
    ps->failed = 1;
    if (!ps->err || !ps->errlen) return;
    size_t line = 1, col = 1;
    for (const unsigned char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') { line++; col = 1; }
        else if ((*q & 0xC0) != 0x80) col++;
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "line %zu, column %zu: %s", line, col, msg);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static json_value *new_value(parser *ps, int type)
{
    json_value *v = calloc(1, sizeof *v);
    if (!v) fail(ps, "out of memory");
    else v->type = type;
    return v;
}

void json_free(json_value *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->klens);
    free(v->s);
    free(v);
}

/* growable byte buffer for string decoding */
typedef struct { char *p; size_t len, cap; } sbuf;

static int sb_put(sbuf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 32;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) return -1;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int put_utf8(sbuf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (unsigned char)(0xC0 | (cp >> 6)); u[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12)); u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | (cp >> 18)); u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (unsigned char)(0x80 | (cp & 0x3F)); n = 4;
    }
    return sb_put(b, u, n);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static int hex4(parser *ps, uint32_t *out)
{
    uint32_t v = 0;
    if (ps->end - ps->p < 4) { fail(ps, "truncated \\u escape"); return -1; }
    for (int i = 0; i < 4; i++) {
        unsigned c = ps->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else { ps->p += i; fail(ps, "bad hex digit in \\u escape"); return -1; }
    }
    ps->p += 4;
    *out = v;
    return 0;
}

/* Parses a string at ps->p (which is '"'); result malloc'd, NUL-terminated. */
static int parse_string(parser *ps, char **out, size_t *outlen)
{
    sbuf b = {0};
    ps->p++;
    for (;;) {
        if (ps->p >= ps->end) { fail(ps, "unterminated string"); goto bad; }
        unsigned c = *ps->p;
        if (c == '"') { ps->p++; break; }
        if (c < 0x20) { fail(ps, "control character 0x%02x in string (must be escaped)", c); goto bad; }
        if (c == '\\') {
            ps->p++;
            if (ps->p >= ps->end) { fail(ps, "unterminated string"); goto bad; }
            unsigned e = *ps->p++;
            char ch;
            switch (e) {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'u': {
                uint32_t cp, lo;
                if (hex4(ps, &cp)) goto bad;
                if (cp >= 0xDC00 && cp <= 0xDFFF) { ps->p -= 6; fail(ps, "lone low surrogate in \\u escape"); goto bad; }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                        fail(ps, "high surrogate not followed by a low surrogate escape"); goto bad;
                    }
                    ps->p += 2;
                    if (hex4(ps, &lo)) goto bad;
                    if (lo < 0xDC00 || lo > 0xDFFF) { ps->p -= 6; fail(ps, "high surrogate followed by a non-low surrogate"); goto bad; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (put_utf8(&b, cp)) { fail(ps, "out of memory"); goto bad; }
                continue;
            }
            default:
                ps->p--;
                fail(ps, "invalid escape \\%c", e >= 0x20 && e < 0x7F ? (char)e : '?');
                goto bad;
            }
            if (sb_put(&b, &ch, 1)) { fail(ps, "out of memory"); goto bad; }
            continue;
        }
        /* copy a run of plain bytes, validating UTF-8 */
        const unsigned char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && *ps->p >= 0x20) {
            size_t n = utf8_seq(ps->p, ps->end);
            if (n == 0) { fail(ps, "invalid UTF-8 in string"); goto bad; }
            ps->p += n;
        }
        if (sb_put(&b, run, (size_t)(ps->p - run))) { fail(ps, "out of memory"); goto bad; }
    }
    if (!b.p && sb_put(&b, "", 0)) { fail(ps, "out of memory"); goto bad; }
    *out = b.p;
    *outlen = b.len;
    return 0;
bad:
    free(b.p);
    return -1;
}

/* 10^k as a correctly rounded double (Rust's literal 1ek): exact products
 * up to 1e22, strtod beyond */
static double pow10_exact(int k)
{
    if (k <= 22) {
        double p = 1.0;
        for (int i = 0; i < k; i++) p *= 10.0;
        return p;
    }
    char b[16];
    snprintf(b, sizeof b, "1e%d", k);
    return strtod(b, NULL);
}

/* serde_json 1.x without its float_roundtrip feature (the JSON reader of HF
 * tokenizers): the decimal digits into a u64 significand (the digits that
 * would overflow it dropped, those of the integer part counted in the
 * exponent), the significand converted to double, then multiplied or
 * divided by one power of ten (1e308 at a time below 1e-308). */
static double hf_number(const char *b, size_t n)
{
    size_t i = 0;
    int neg = 0, exp = 0, over = 0, any_frac = 0;
    uint64_t sig = 0;
    if (i < n && b[i] == '-') { neg = 1; i++; }
    for (; i < n && b[i] >= '0' && b[i] <= '9'; i++) {
        unsigned d = (unsigned)(b[i] - '0');
        if (over || (sig >= UINT64_MAX / 10 && (sig > UINT64_MAX / 10 || d > UINT64_MAX % 10))) { over = 1; exp++; }
        else sig = sig * 10 + d;
    }
    if (i < n && b[i] == '.') {
        int skip = 0;
        any_frac = 1;
        for (i++; i < n && b[i] >= '0' && b[i] <= '9'; i++) {
            unsigned d = (unsigned)(b[i] - '0');
            if (skip || (sig >= UINT64_MAX / 10 && (sig > UINT64_MAX / 10 || d > UINT64_MAX % 10))) { skip = 1; continue; }
            sig = sig * 10 + d;
            exp--;
        }
    }
    if (i < n && (b[i] == 'e' || b[i] == 'E')) {
        any_frac = 1;
        int eneg = 0;
        long e = 0;
        i++;
        if (i < n && (b[i] == '+' || b[i] == '-')) eneg = b[i++] == '-';
        for (; i < n && b[i] >= '0' && b[i] <= '9'; i++)
            if (e < 100000000) e = e * 10 + (b[i] - '0');
        exp = (int)(eneg ? exp - e : exp + e);
    }
    if (!any_frac && !over) /* an integer: exactly as a u64 / i64 converted */
        return neg ? -(double)sig : (double)sig;
    double f = (double)sig;
    for (;;) {
        int a = exp < 0 ? -exp : exp;
        if (a <= 308) {
            if (exp >= 0) f *= pow10_exact(a);
            else f /= pow10_exact(a);
            break;
        }
        if (f == 0.0) break;
        if (exp >= 0) { f = HUGE_VAL; break; }
        f /= 1e308;
        exp += 308;
    }
    return neg ? -f : f;
}

static int parse_number(parser *ps, double *out, double *out_hf, int *is_int, long long *inum)
{
    const unsigned char *s = ps->p, *q = ps->p;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end) { fail(ps, "truncated number"); return -1; }
    if (*q == '0') q++;
    else if (*q >= '1' && *q <= '9') while (q < ps->end && *q >= '0' && *q <= '9') q++;
    else { ps->p = q; fail(ps, "invalid number"); return -1; }
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') { ps->p = q; fail(ps, "digit expected after '.'"); return -1; }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') { ps->p = q; fail(ps, "digit expected in exponent"); return -1; }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    char tmp[64];
    size_t n = (size_t)(q - s);
    char *buf = n < sizeof tmp ? tmp : malloc(n + 1);
    if (!buf) { fail(ps, "out of memory"); return -1; }
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    *out_hf = hf_number(buf, n);
    /* integers are also read exactly: a double holds only 53 bits of one */
    *is_int = 0;
    if (!memchr(buf, '.', n) && !memchr(buf, 'e', n) && !memchr(buf, 'E', n)) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) { *is_int = 1; *inum = v; }
    }
    if (buf != tmp) free(buf);
    ps->p = q;
    return 0;
}

static int lit(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) { fail(ps, "invalid literal"); return -1; }
    ps->p += n;
    return 0;
}

static int push(json_value *v, json_value *item, char *key, size_t klen)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 4;
        json_value **ni = realloc(v->items, nc * sizeof *ni);
        if (!ni) return -1;
        v->items = ni;
        if (v->type == JSON_OBJECT) {
            char **nk = realloc(v->keys, nc * sizeof *nk);
            if (!nk) return -1;
            v->keys = nk;
            size_t *nl = realloc(v->klens, nc * sizeof *nl);
            if (!nl) return -1;
            v->klens = nl;
        }
        v->cap = nc;
    }
    v->items[v->n] = item;
    if (v->type == JSON_OBJECT) { v->keys[v->n] = key; v->klens[v->n] = klen; }
    v->n++;
    return 0;
}

static json_value *parse_value(parser *ps, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end) { fail(ps, "unexpected end of input"); return NULL; }
    if (depth > JSON_MAX_DEPTH) { fail(ps, "nesting deeper than %d", JSON_MAX_DEPTH); return NULL; }
    json_value *v = NULL;
    unsigned c = *ps->p;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        v = new_value(ps, obj ? JSON_OBJECT : JSON_ARRAY);
        if (!v) return NULL;
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
        for (;;) {
            char *key = NULL;
            size_t klen = 0;
            if (obj) {
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"') { fail(ps, "object key (string) expected"); goto bad; }
                if (parse_string(ps, &key, &klen)) goto bad;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') { free(key); fail(ps, "':' expected after object key"); goto bad; }
                ps->p++;
            }
            json_value *item = parse_value(ps, depth + 1);
            if (!item) { free(key); goto bad; }
            if (push(v, item, key, klen)) { json_free(item); free(key); fail(ps, "out of memory"); goto bad; }
            skip_ws(ps);
            if (ps->p >= ps->end) { fail(ps, "unexpected end of input in %s", obj ? "object" : "array"); goto bad; }
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
            fail(ps, "',' or '%c' expected", obj ? '}' : ']');
            goto bad;
        }
    }
    if (c == '"') {
        v = new_value(ps, JSON_STRING);
        if (!v) return NULL;
        if (parse_string(ps, &v->s, &v->slen)) goto bad;
        return v;
    }
    if (c == 't' || c == 'f') {
        v = new_value(ps, JSON_BOOL);
        if (!v) return NULL;
        v->b = c == 't';
        if (lit(ps, c == 't' ? "true" : "false")) goto bad;
        return v;
    }
    if (c == 'n') {
        v = new_value(ps, JSON_NULL);
        if (!v) return NULL;
        if (lit(ps, "null")) goto bad;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        v = new_value(ps, JSON_NUMBER);
        if (!v) return NULL;
        if (parse_number(ps, &v->num, &v->num_hf, &v->is_int, &v->inum)) goto bad;
        return v;
    }
    fail(ps, "unexpected character '%c'", c >= 0x20 && c < 0x7F ? (char)c : '?');
    return NULL;
bad:
    json_free(v);
    return NULL;
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    parser ps = { (const unsigned char *)text, (const unsigned char *)text, (const unsigned char *)text + len, err, errlen, 0 };
    if (!text) { fail(&ps, "no input"); return NULL; }
    /* a UTF-8 BOM is not JSON, but editors write it; skip it */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p += 3;
    json_value *v = parse_value(&ps, 0);
    if (!v) return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) { fail(&ps, "trailing characters after the JSON value"); json_free(v); return NULL; }
    return v;
}

int json_type_of(const json_value *v) { return v ? v->type : -1; }

const json_value *json_object_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    size_t kl = strlen(key);
    for (size_t i = obj->n; i-- > 0;)
        if (obj->klens[i] == kl && memcmp(obj->keys[i], key, kl) == 0) return obj->items[i];
    return NULL;
}

const char *json_string(const json_value *v, size_t *len)
{
    if (!v || v->type != JSON_STRING) return NULL;
    if (len) *len = v->slen;
    return v->s;
}

double json_number(const json_value *v) { return v && v->type == JSON_NUMBER ? v->num : 0; }
double json_number_hf(const json_value *v) { return v && v->type == JSON_NUMBER ? v->num_hf : 0; }
int json_integer(const json_value *v, long long *out)
{
    if (!v || v->type != JSON_NUMBER || !v->is_int) return 0;
    *out = v->inum;
    return 1;
}
int json_bool(const json_value *v) { return v && v->type == JSON_BOOL && v->b; }
size_t json_array_len(const json_value *v) { return v && v->type == JSON_ARRAY ? v->n : 0; }
const json_value *json_array_at(const json_value *v, size_t i)
{
    return v && v->type == JSON_ARRAY && i < v->n ? v->items[i] : NULL;
}
size_t json_object_len(const json_value *v) { return v && v->type == JSON_OBJECT ? v->n : 0; }
const char *json_object_key_at(const json_value *v, size_t i, size_t *len)
{
    if (!v || v->type != JSON_OBJECT || i >= v->n) return NULL;
    if (len) *len = v->klens[i];
    return v->keys[i];
}
const json_value *json_object_value_at(const json_value *v, size_t i)
{
    return v && v->type == JSON_OBJECT && i < v->n ? v->items[i] : NULL;
}

char *json_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { if (err) snprintf(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            size_t nc = cap ? cap * 2 : 65536 + 1;
            char *nb = realloc(buf, nc);
            if (!nb) { free(buf); fclose(f); if (err) snprintf(err, errlen, "%s: out of memory", path); return NULL; }
            buf = nb;
            cap = nc;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); if (err) snprintf(err, errlen, "%s: read error", path); return NULL; }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

json_value *json_parse_file(const char *path, char *err, size_t errlen)
{
    size_t n;
    char msg[256];
    char *text = json_read_file(path, &n, err, errlen);
    if (!text) return NULL;
    json_value *v = json_parse(text, n, msg, sizeof msg);
    free(text);
    if (!v && err) snprintf(err, errlen, "%s: %s", path, msg);
    return v;
}
