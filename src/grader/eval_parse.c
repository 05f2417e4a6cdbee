/* What an evaluator writes, understood: its stdout lines (progress, info, a JSON result or
 * garbage), its result object, and any text of it shown to a person. Pure functions. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/json_check.h"
#include "core/utf8.h"
#include "grader/eval_internal.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Length of the UTF-8 sequence that lead byte c announces, or 0 if c cannot start one. */
static size_t lead_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

size_t eval_text_clean(char *out, size_t outsize, const char *in, size_t len, int keep_newlines)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    size_t o = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        size_t n = lead_len(c);
        const char *src = in + i;
        size_t take = n, used = n;
        char one;
        if (n == 0 || n > len - i || (n > 1 && !utf8_valid(in + i, n))) {
            src = replacement;
            take = 3;
            used = 1;
        } else if (n == 1 && (c < 0x20 || c == 0x7F)) {
            one = (c == '\t' || (c == '\n' && keep_newlines)) ? (char)c : ' ';
            src = &one;
        }
        if (take >= outsize - o)
            break;
        memcpy(out + o, src, take);
        o += take;
        i += used;
    }
    out[o] = '\0';
    return o;
}

/* ---- stdout lines ---- */

/* Parses "<0-100>" with an optional fraction and '%' at s[0..len); returns the length used
 * or 0 if there is no such number there. */
static size_t parse_percent(const char *s, size_t len, int *percent)
{
    size_t i = 0;
    int value = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && i < 4) {
        value = value * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0 || (i < len && s[i] >= '0' && s[i] <= '9'))
        return 0;
    int fraction = 0;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            fraction |= s[i] != '0';
            i++;
        }
        if (i == start)
            return 0;
    }
    if (i < len && s[i] == '%')
        i++;
    if (value > 100 || (value == 100 && fraction))
        return 0;
    if (i < len && !is_space(s[i]))
        return 0;
    *percent = value;
    return i;
}

/* Whether s[0..len) starts with the word kw followed by whitespace or the end. */
static int starts_with_word(const char *s, size_t len, const char *kw)
{
    size_t n = strlen(kw);
    return len >= n && memcmp(s, kw, n) == 0 && (len == n || is_space(s[n]));
}

static size_t skip_space(const char *s, size_t len, size_t i)
{
    while (i < len && is_space(s[i]))
        i++;
    return i;
}

void eval_line_parse(const char *line, size_t len, struct eval_line *out)
{
    out->kind = EVAL_LINE_GARBAGE;
    out->percent = 0;
    out->has_message = 0;
    out->message[0] = '\0';
    while (len > 0 && is_space(line[len - 1]))
        len--;
    size_t i = skip_space(line, len, 0);
    line += i;
    len -= i;
    if (len == 0) {
        out->kind = EVAL_LINE_BLANK;
        return;
    }
    if (starts_with_word(line, len, "progress")) {
        i = skip_space(line, len, strlen("progress"));
        size_t used = parse_percent(line + i, len - i, &out->percent);
        if (used == 0)
            return;
        i = skip_space(line, len, i + used);
        out->kind = EVAL_LINE_PROGRESS;
        out->has_message = i < len;
    } else if (starts_with_word(line, len, "info")) {
        i = skip_space(line, len, strlen("info"));
        if (i == len)
            return;
        out->kind = EVAL_LINE_INFO;
        out->has_message = 1;
    } else {
        struct json_info info;
        if (line[0] == '{' && json_check(line, len, JSON_CHECK_MAX_DEPTH, &info) == 0)
            out->kind = EVAL_LINE_JSON;
        return;
    }
    if (out->has_message)
        eval_text_clean(out->message, sizeof(out->message), line + i, len - i, 0);
}

/* ---- stderr ---- */

#define TAIL_MAX_LINES 16

size_t eval_text_tail(char *out, size_t outsize, const char *text, size_t len, size_t max_lines,
                      size_t max_bytes)
{
    size_t starts[TAIL_MAX_LINES] = {0}, ends[TAIL_MAX_LINES] = {0}, count = 0, total = 0;
    size_t end = len;
    if (max_lines > TAIL_MAX_LINES)
        max_lines = TAIL_MAX_LINES;
    while (end > 0 && count < max_lines) {
        size_t start = end;
        while (start > 0 && text[start - 1] != '\n')
            start--;
        size_t stop = end;
        while (stop > start && is_space(text[stop - 1]))
            stop--;
        if (stop > start) {
            size_t n = stop - start, sep = count > 0 ? 1 : 0;
            if (count == 0 && n > max_bytes) {
                start = stop - max_bytes; /* keep the end of one long line */
                while (start < stop && ((unsigned char)text[start] & 0xC0) == 0x80)
                    start++;
                n = stop - start;
            }
            if (total + n + sep > max_bytes)
                break;
            starts[count] = start;
            ends[count] = stop;
            total += n + sep;
            count++;
        }
        end = start > 0 ? start - 1 : 0;
    }
    size_t o = 0;
    out[0] = '\0';
    for (size_t k = count; k-- > 0;) {
        if (o > 0 && o + 1 < outsize)
            out[o++] = '\n';
        o += eval_text_clean(out + o, outsize - o, text + starts[k], ends[k] - starts[k], 0);
    }
    return o;
}

/* ---- the result ---- */

static const char *json_type_words(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    case JSON_OBJECT:
        return "an object";
    }
    return "something else";
}

enum eval_failure eval_result_parse(const char *json, size_t len, struct eval_result *out,
                                    char *why, size_t whylen)
{
    json_error_t jerr;
    enum eval_failure kind = EVAL_OK;
    why[0] = '\0';
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    if (root == NULL) {
        char text[sizeof(jerr.text)];
        eval_text_clean(text, sizeof(text), jerr.text, strlen(jerr.text), 0);
        snprintf(why, whylen, "the result is not a valid JSON object (%s)", text);
        return EVAL_BAD_RESULT;
    }
    const json_t *score = json_object_get(root, "score");
    const json_t *second = json_object_get(root, "score_secondary");
    if (!json_is_object(root)) {
        snprintf(why, whylen, "the result is %s, not a JSON object", json_type_words(root));
        kind = EVAL_BAD_RESULT;
    } else if (score == NULL) {
        snprintf(why, whylen, "the result has no \"score\"");
        kind = EVAL_NO_SCORE;
    } else if (!json_is_number(score)) {
        snprintf(why, whylen, "the result's \"score\" is %s, not a number", json_type_words(score));
        kind = EVAL_NO_SCORE;
    } else if (second != NULL && !json_is_null(second) && !json_is_number(second)) {
        snprintf(why, whylen, "the result's \"score_secondary\" is %s, not a number",
                 json_type_words(second));
        kind = EVAL_BAD_RESULT;
    } else {
        out->score = json_number_value(score);
        out->has_secondary = second != NULL && !json_is_null(second);
        out->score_secondary = out->has_secondary ? json_number_value(second) : 0.0;
    }
    json_decref(root);
    return kind;
}
