/* JSON output and input helpers; see cli_json.h. */
#include "cli/cli_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

void cli_json_number(double d, char out[32])
{
    if (!isfinite(d)) {
        snprintf(out, 32, "null");
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, 32, "%.*g", digits, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static int dump_string(struct buf *out, const char *s, size_t len)
{
    int rc = buf_append_char(out, '"');
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = buf_append(out, esc, 2);
        } else if (c == '\n') {
            rc = buf_append_str(out, "\\n");
        } else if (c == '\t') {
            rc = buf_append_str(out, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            rc = buf_printf(out, "\\u%04x", c);
        } else {
            rc = buf_append_char(out, (char)c);
        }
    }
    return rc != 0 ? -1 : buf_append_char(out, '"');
}

static int dump_value(struct buf *out, json_t *v, int depth);

static int dump_object(struct buf *out, json_t *v, int depth)
{
    const char *key;
    json_t *member;
    int first = 1;
    if (buf_append_char(out, '{') != 0)
        return -1;
    json_object_foreach(v, key, member)
    {
        if ((!first && buf_append_char(out, ',') != 0) || dump_string(out, key, strlen(key)) != 0 ||
            buf_append_char(out, ':') != 0 || dump_value(out, member, depth + 1) != 0)
            return -1;
        first = 0;
    }
    return buf_append_char(out, '}');
}

static int dump_array(struct buf *out, json_t *v, int depth)
{
    size_t i;
    json_t *item;
    if (buf_append_char(out, '[') != 0)
        return -1;
    json_array_foreach(v, i, item)
    {
        if ((i > 0 && buf_append_char(out, ',') != 0) || dump_value(out, item, depth + 1) != 0)
            return -1;
    }
    return buf_append_char(out, ']');
}

static int dump_value(struct buf *out, json_t *v, int depth)
{
    char num[32];
    if (depth > MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return dump_object(out, v, depth);
    case JSON_ARRAY:
        return dump_array(out, v, depth);
    case JSON_STRING:
        return dump_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        cli_json_number(json_real_value(v), num);
        return buf_append_str(out, num);
    case JSON_TRUE:
        return buf_append_str(out, "true");
    case JSON_FALSE:
        return buf_append_str(out, "false");
    default:
        return buf_append_str(out, "null");
    }
}

int cli_json_dump(struct buf *out, json_t *v)
{
    return dump_value(out, v, 0);
}

json_t *cli_json_first_object(const char *args, size_t len)
{
    json_t *arr = json_loadb(args, len, 0, NULL);
    if (arr == NULL)
        return NULL;
    json_t *first = json_array_get(arr, 0);
    json_t *obj = json_is_object(first) ? json_incref(first) : NULL;
    json_decref(arr);
    return obj;
}

const char *cli_json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int cli_json_int(json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

int cli_json_num(json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 0;
}
