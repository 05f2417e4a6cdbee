/* The client's small JSON readers and writer; see sioc_json.h. */
#include "client/sioc_json.h"

#include <string.h>

#define KEY_MAX 256

static size_t skip_ws(const char *s, size_t len, size_t pos)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
        pos++;
    return pos;
}

/* pos is at an opening quote; returns the offset after the closing quote (or len). */
static size_t skip_string(const char *s, size_t len, size_t pos)
{
    pos++;
    while (pos < len) {
        char c = s[pos++];
        if (c == '"')
            return pos;
        if (c == '\\')
            pos++;
    }
    return len;
}

/* pos is at the first byte of a value; returns the offset just past it. */
static size_t skip_value(const char *s, size_t len, size_t pos)
{
    if (pos >= len)
        return len;
    if (s[pos] == '"')
        return skip_string(s, len, pos);
    if (s[pos] != '{' && s[pos] != '[') {
        while (pos < len && strchr(",}] \t\r\n", s[pos]) == NULL)
            pos++;
        return pos;
    }
    size_t depth = 0;
    while (pos < len) {
        char c = s[pos];
        if (c == '"') {
            pos = skip_string(s, len, pos);
            continue;
        }
        pos++;
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return pos;
        }
    }
    return len;
}

int sioc_json_quote(struct buf *out, const char *s, size_t len)
{
    if (buf_append_char(out, '"') != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (c == '"' || c == '\\')
            rc = buf_printf(out, "\\%c", c);
        else if (c < 0x20)
            rc = buf_printf(out, "\\u%04x", c);
        else
            rc = buf_append_char(out, (char)c);
        if (rc != 0)
            return -1;
    }
    return buf_append_char(out, '"');
}

int sioc_json_member(const char *obj, size_t len, const char *key, const char **val,
                     size_t *val_len)
{
    size_t pos = skip_ws(obj, len, 0);
    if (pos >= len || obj[pos] != '{')
        return -1;
    pos++;
    struct buf name;
    buf_init(&name, KEY_MAX);
    int rc = -1;
    for (;;) {
        pos = skip_ws(obj, len, pos);
        if (pos >= len || obj[pos] != '"')
            break;
        size_t key_end = skip_string(obj, len, pos);
        buf_reset(&name);
        int match = sioc_json_string(obj + pos, key_end - pos, &name) == 0 &&
                    name.len == strlen(key) && memcmp(name.data, key, name.len) == 0;
        pos = skip_ws(obj, len, key_end);
        if (pos >= len || obj[pos] != ':')
            break;
        pos = skip_ws(obj, len, pos + 1);
        size_t end = skip_value(obj, len, pos);
        if (match && end > pos) {
            *val = obj + pos;
            *val_len = end - pos;
            rc = 0;
            break;
        }
        pos = skip_ws(obj, len, end);
        if (pos >= len || obj[pos] != ',')
            break;
        pos++;
    }
    buf_release(&name);
    return rc;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int put_utf8(struct buf *out, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(out, b, n);
}

/* Decodes the \u escape at s[*pos] (just after the 'u'), joining a surrogate pair. */
static int unicode_escape(const char *s, size_t end, size_t *pos, struct buf *out)
{
    unsigned cp, lo;
    if (end - *pos < 4 || hex4(s + *pos, &cp) != 0)
        return -1;
    *pos += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && end - *pos >= 6 && s[*pos] == '\\' && s[*pos + 1] == 'u' &&
        hex4(s + *pos + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
        *pos += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
        cp = 0xFFFD;
    }
    return put_utf8(out, cp);
}

static int simple_escape(char e, char *out)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *p = e != '\0' ? strchr(from, e) : NULL;
    if (p == NULL)
        return -1;
    *out = to[p - from];
    return 0;
}

int sioc_json_string(const char *val, size_t len, struct buf *out)
{
    if (len < 2 || val[0] != '"' || val[len - 1] != '"')
        return -1;
    size_t end = len - 1;
    size_t pos = 1;
    while (pos < end) {
        size_t run = pos;
        while (run < end && val[run] != '\\')
            run++;
        if (buf_append(out, val + pos, run - pos) != 0)
            return -1;
        pos = run;
        if (pos >= end)
            break;
        if (end - pos < 2)
            return -1;
        char e = val[pos + 1];
        pos += 2;
        char c;
        if (e == 'u') {
            if (unicode_escape(val, end, &pos, out) != 0)
                return -1;
        } else if (simple_escape(e, &c) != 0 || buf_append_char(out, c) != 0) {
            return -1;
        }
    }
    return 0;
}

int sioc_json_uint(const char *val, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t n = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (val[i] < '0' || val[i] > '9')
            return -1;
        unsigned d = (unsigned)(val[i] - '0');
        if (d > max || n > (max - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}
