/* A JSON syntax checker that never builds a tree; see json_check.h. */
#include "core/json_check.h"

#include <string.h>

struct scan {
    const char *s;
    size_t len;
    size_t pos;
    int max_depth;
    struct json_info *info;
};

static int value(struct scan *sc, int depth);

static void skip_ws(struct scan *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->pos++;
    }
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Scans a string starting at its opening quote; leaves pos after the closing quote. */
static int string(struct scan *sc)
{
    sc->pos++;
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos++];
        if (c == '"')
            return 0;
        if (c < 0x20)
            return -1;
        if (c != '\\')
            continue;
        if (sc->pos >= sc->len)
            return -1;
        char e = sc->s[sc->pos++];
        if (e == 'u') {
            if (sc->len - sc->pos < 4)
                return -1;
            for (int i = 0; i < 4; i++) {
                if (!is_hex(sc->s[sc->pos + (size_t)i]))
                    return -1;
            }
            sc->pos += 4;
        } else if (strchr("\"\\/bfnrt", e) == NULL || e == '\0') {
            return -1;
        }
    }
    return -1;
}

static size_t digits(struct scan *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
        sc->pos++;
    return sc->pos - start;
}

/* Scans a number; *is_uint tells whether it is a plain non-negative integer. */
static int number(struct scan *sc, int *is_uint)
{
    *is_uint = 1;
    if (sc->s[sc->pos] == '-') {
        *is_uint = 0;
        sc->pos++;
    }
    if (sc->pos >= sc->len)
        return -1;
    if (sc->s[sc->pos] == '0')
        sc->pos++;
    else if (digits(sc) == 0)
        return -1;
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        *is_uint = 0;
        sc->pos++;
        if (digits(sc) == 0)
            return -1;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        *is_uint = 0;
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (digits(sc) == 0)
            return -1;
    }
    return 0;
}

static int literal(struct scan *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return -1;
    sc->pos += n;
    return 0;
}

static unsigned hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    return (unsigned)((c | 0x20) - 'a' + 10);
}

/* Whether the raw key token s[start..end) (quotes included, escapes already checked by
 * string()) decodes to the ASCII text name. Escapes count: JSON.parse reads
 * "\u005fplaceholder" as "_placeholder", and so must this check. */
static int key_is(const char *s, size_t start, size_t end, const char *name)
{
    size_t i = start + 1, stop = end - 1;
    for (; *name != '\0'; name++) {
        if (i >= stop)
            return 0;
        unsigned c = (unsigned char)s[i++];
        if (c == '\\') {
            char e = s[i++];
            if (e == 'u') {
                c = 0;
                for (int k = 0; k < 4; k++)
                    c = c * 16 + hex_value(s[i++]);
            } else if (e == '"' || e == '\\' || e == '/') {
                c = (unsigned char)e;
            } else {
                c = 0x100; /* \b \f \n \r \t: control characters, never in a name */
            }
        }
        if (c != (unsigned char)*name)
            return 0;
    }
    return i == stop;
}

/* Placeholder state of the object being scanned. */
struct object_marks {
    int placeholder_true;
    int num_seen;
    int num_ok;
    long num;
};

static void mark_member(const char *s, size_t key_start, size_t key_end, size_t val_start,
                        size_t val_end, struct object_marks *m)
{
    const char *v = s + val_start;
    size_t vlen = val_end - val_start;
    if (key_is(s, key_start, key_end, "_placeholder")) {
        m->placeholder_true = vlen == 4 && memcmp(v, "true", 4) == 0;
    } else if (key_is(s, key_start, key_end, "num")) {
        m->num_seen = 1;
        m->num_ok = 0;
        if (vlen > 0 && vlen <= 9 && v[0] >= '0' && v[0] <= '9') {
            long n = 0;
            size_t i = 0;
            while (i < vlen && v[i] >= '0' && v[i] <= '9')
                n = n * 10 + (v[i++] - '0');
            m->num_ok = i == vlen;
            m->num = n;
        }
    }
}

static void finish_object(struct scan *sc, const struct object_marks *m)
{
    struct json_info *info = sc->info;
    if (!m->placeholder_true || info == NULL)
        return;
    info->placeholders++;
    if (!m->num_seen || !m->num_ok)
        info->bad_placeholder = 1;
    else if (m->num > info->max_placeholder)
        info->max_placeholder = m->num;
}

static int object(struct scan *sc, int depth)
{
    struct object_marks marks = {0};
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
        sc->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(sc);
        if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
            return -1;
        size_t key_start = sc->pos;
        if (string(sc) != 0)
            return -1;
        size_t key_end = sc->pos;
        skip_ws(sc);
        if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
            return -1;
        sc->pos++;
        skip_ws(sc);
        size_t val_start = sc->pos;
        if (value(sc, depth + 1) != 0)
            return -1;
        mark_member(sc->s, key_start, key_end, val_start, sc->pos, &marks);
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return -1;
        char c = sc->s[sc->pos++];
        if (c == '}')
            break;
        if (c != ',')
            return -1;
    }
    finish_object(sc, &marks);
    return 0;
}

static int array(struct scan *sc, int depth)
{
    int top = depth == 1 && sc->info != NULL;
    size_t count = 0;
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
        if (top)
            sc->info->rest_start = sc->info->rest_end = sc->pos;
        sc->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(sc);
        if (top && count == 0)
            sc->info->first_start = sc->pos;
        if (top && count == 1)
            sc->info->rest_start = sc->pos;
        if (value(sc, depth + 1) != 0)
            return -1;
        if (top && count == 0)
            sc->info->first_end = sc->pos;
        count++;
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return -1;
        char c = sc->s[sc->pos++];
        if (c == ']')
            break;
        if (c != ',')
            return -1;
    }
    if (top) {
        sc->info->elems = count;
        sc->info->rest_end = sc->pos - 1;
        if (count == 1)
            sc->info->rest_start = sc->pos - 1;
    }
    return 0;
}

static int value(struct scan *sc, int depth)
{
    if (sc->pos >= sc->len)
        return -1;
    char c = sc->s[sc->pos];
    int is_uint;
    switch (c) {
    case '{':
        /* Only containers count towards the nesting limit. */
        return depth > sc->max_depth ? -1 : object(sc, depth);
    case '[':
        return depth > sc->max_depth ? -1 : array(sc, depth);
    case '"':
        return string(sc);
    case 't':
        return literal(sc, "true");
    case 'f':
        return literal(sc, "false");
    case 'n':
        return literal(sc, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return number(sc, &is_uint);
        return -1;
    }
}

int json_check(const char *s, size_t len, int max_depth, struct json_info *info)
{
    struct scan sc = {s, len, 0, max_depth, info};
    if (info != NULL) {
        memset(info, 0, sizeof(*info));
        info->max_placeholder = -1;
    }
    skip_ws(&sc);
    if (sc.pos < len && info != NULL)
        info->top = s[sc.pos];
    if (value(&sc, 1) != 0)
        return -1;
    skip_ws(&sc);
    return sc.pos == len ? 0 : -1;
}
