/* Form bodies and percent-decoding; see form.h. */
#include "core/form.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int form_decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            c = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        }
        if (n + 1 >= outlen)
            return -1;
        out[n++] = c;
    }
    if (outlen == 0)
        return -1;
    out[n] = '\0';
    return (int)n;
}

int form_parse(const char *body, size_t len, size_t max_len, form_pair_fn fn, void *ud)
{
    char *name = xmalloc(max_len + 1), *value = xmalloc(max_len + 1);
    const char *p = body, *end = body + len;
    int rc = 0;
    while (p < end && rc == 0) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *key_end = eq != NULL ? eq : stop;
        const char *v = eq != NULL ? eq + 1 : stop;
        if (key_end > p) {
            if (form_decode(p, (size_t)(key_end - p), name, max_len + 1) < 0 ||
                form_decode(v, (size_t)(stop - v), value, max_len + 1) < 0)
                rc = -1;
            else
                rc = fn(ud, name, value);
        }
        p = stop + 1;
    }
    free(name);
    free(value);
    return rc;
}
