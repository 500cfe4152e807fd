#include "fixture_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture_json {
    int type;
    double num;
    char *str;      /* FJ_STR */
    size_t slen;
    size_t n;       /* FJ_ARR / FJ_OBJ */
    fixture_json **items;
    char **keys;    /* FJ_OBJ */
};

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
    int depth;
} parser;

static int fail(parser *p, const char *what)
{
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "json: %s at byte offset %zu", what, p->pos);
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int hex4(parser *p, unsigned *out)
{
    if (p->pos + 4 > p->len)
        return fail(p, "short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(p, "bad \\u escape");
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int parse_string(parser *p, char **out, size_t *outlen)
{
    p->pos++; /* opening quote */
    size_t start = p->pos, cap = 16;
    while (start < p->len && p->s[start] != '"') {
        if (p->s[start] == '\\')
            start++;
        start++;
        cap++;
    }
    char *buf = malloc(cap + (start - p->pos) * 2 + 8);
    if (!buf)
        return fail(p, "out of memory");
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len) {
            free(buf);
            return fail(p, "unterminated string");
        }
        char c = p->s[p->pos++];
        if (c == '"')
            break;
        if (c != '\\') {
            buf[n++] = c;
            continue;
        }
        if (p->pos >= p->len) {
            free(buf);
            return fail(p, "bad escape");
        }
        c = p->s[p->pos++];
        switch (c) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p, &cp) < 0) {
                free(buf);
                return -1;
            }
            if (cp >= 0xD800 && cp < 0xDC00 && p->pos + 6 <= p->len &&
                p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
                size_t save = p->pos;
                p->pos += 2;
                if (hex4(p, &lo) < 0) {
                    free(buf);
                    return -1;
                }
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    p->pos = save;
            }
            /* a lone surrogate is kept as its (invalid) 3-byte form */
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            free(buf);
            return fail(p, "bad escape");
        }
    }
    buf[n] = 0;
    *out = buf;
    *outlen = n;
    return 0;
}

static fixture_json *parse_value(parser *p);

static int push(fixture_json *v, fixture_json *item, char *key)
{
    if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
        size_t nc = v->n ? v->n * 2 : 4;
        fixture_json **it = realloc(v->items, nc * sizeof *it);
        if (!it)
            return -1;
        v->items = it;
        if (v->type == FJ_OBJ) {
            char **k = realloc(v->keys, nc * sizeof *k);
            if (!k)
                return -1;
            v->keys = k;
        }
    }
    v->items[v->n] = item;
    if (v->type == FJ_OBJ)
        v->keys[v->n] = key;
    v->n++;
    return 0;
}

static fixture_json *parse_value(parser *p)
{
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "unexpected end");
        return NULL;
    }
    if (++p->depth > 200) {
        fail(p, "nesting too deep");
        return NULL;
    }
    fixture_json *v = calloc(1, sizeof *v);
    if (!v) {
        fail(p, "out of memory");
        return NULL;
    }
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        v->type = c == '{' ? FJ_OBJ : FJ_ARR;
        char close = c == '{' ? '}' : ']';
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            goto done;
        }
        for (;;) {
            char *key = NULL;
            size_t kl;
            skip_ws(p);
            if (v->type == FJ_OBJ) {
                if (p->pos >= p->len || p->s[p->pos] != '"') {
                    fail(p, "expected key");
                    goto bad;
                }
                if (parse_string(p, &key, &kl) < 0)
                    goto bad;
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') {
                    free(key);
                    fail(p, "expected ':'");
                    goto bad;
                }
                p->pos++;
            }
            fixture_json *item = parse_value(p);
            if (!item || push(v, item, key) < 0) {
                free(key);
                fixture_json_free(item);
                goto bad;
            }
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->len && p->s[p->pos] == close) {
                p->pos++;
                break;
            }
            fail(p, "expected ',' or close");
            goto bad;
        }
    } else if (c == '"') {
        v->type = FJ_STR;
        if (parse_string(p, &v->str, &v->slen) < 0)
            goto bad;
    } else if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "null", 4) == 0) {
        v->type = FJ_NULL;
        p->pos += 4;
    } else if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "true", 4) == 0) {
        v->type = FJ_BOOL;
        v->num = 1;
        p->pos += 4;
    } else if (p->len - p->pos >= 5 && memcmp(p->s + p->pos, "false", 5) == 0) {
        v->type = FJ_BOOL;
        p->pos += 5;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char tmp[64];
        size_t k = 0;
        while (p->pos < p->len && k < sizeof tmp - 1 &&
               strchr("+-0123456789.eE", p->s[p->pos]))
            tmp[k++] = p->s[p->pos++];
        tmp[k] = 0;
        char *end;
        v->type = FJ_NUM;
        v->num = strtod(tmp, &end);
        if (*end) {
            fail(p, "bad number");
            goto bad;
        }
    } else {
        fail(p, "unexpected character");
        goto bad;
    }
done:
    p->depth--;
    return v;
bad:
    fixture_json_free(v);
    return NULL;
}

fixture_json *fixture_json_parse(const char *s, size_t len, char *err, size_t errlen)
{
    parser p = { s, len, 0, err, errlen, 0 };
    fixture_json *v = parse_value(&p);
    if (!v)
        return NULL;
    skip_ws(&p);
    if (p.pos != len) {
        fail(&p, "trailing data");
        fixture_json_free(v);
        return NULL;
    }
    return v;
}

void fixture_json_free(fixture_json *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        fixture_json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

int fixture_json_type(const fixture_json *v) { return v ? v->type : -1; }

const fixture_json *fixture_json_get(const fixture_json *o, const char *key)
{
    if (!o || o->type != FJ_OBJ)
        return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return o->items[i];
    return NULL;
}

size_t fixture_json_len(const fixture_json *v)
{
    return v && (v->type == FJ_ARR || v->type == FJ_OBJ) ? v->n : 0;
}

const fixture_json *fixture_json_at(const fixture_json *v, size_t i)
{
    return v && i < fixture_json_len(v) ? v->items[i] : NULL;
}

const char *fixture_json_key(const fixture_json *o, size_t i)
{
    return o && o->type == FJ_OBJ && i < o->n ? o->keys[i] : NULL;
}

const char *fixture_json_str(const fixture_json *v, size_t *len)
{
    if (!v || v->type != FJ_STR)
        return NULL;
    if (len)
        *len = v->slen;
    return v->str;
}

double fixture_json_num(const fixture_json *v)
{
    return v && v->type == FJ_NUM ? v->num : 0;
}

int fixture_json_bool(const fixture_json *v)
{
    return v && v->type == FJ_BOOL && v->num != 0;
}

char *fixture_json_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, 65536, f);
        n += r;
        if (r < 65536)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}
