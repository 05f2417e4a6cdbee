/* libFuzzer target for core/json_check: results must not depend on whether info is asked for,
 * the depth limit must be monotonic, and the reported offsets must describe the input. */
#include <string.h>

#include "core/json_check.h"
#include "fuzz_common.h"

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void check_info(const char *s, size_t len, int depth, const struct json_info *info)
{
    size_t first = 0;
    while (first < len && is_ws(s[first]))
        first++;
    CHECK(first < len);
    CHECK(info->top == s[first]);
    if (info->placeholders == 0) {
        CHECK(info->max_placeholder == -1);
        CHECK(!info->bad_placeholder);
    }
    CHECK(info->max_placeholder >= -1 && info->max_placeholder < 1000000000L);
    if (info->top != '[')
        return;
    CHECK(info->rest_start <= info->rest_end);
    CHECK(info->rest_end < len);
    CHECK(s[info->rest_end] == ']');
    if (info->elems == 0) {
        CHECK(info->rest_start == info->rest_end);
        return;
    }
    CHECK(info->first_start < info->first_end);
    CHECK(info->first_end <= info->rest_start);
    CHECK(!is_ws(s[info->first_start]));
    /* The first element is itself a JSON value, one level shallower. */
    CHECK(json_check(s + info->first_start, info->first_end - info->first_start, depth, NULL) == 0);
    if (info->elems == 1)
        CHECK(info->rest_start == info->rest_end);
    else
        CHECK(info->rest_start < info->rest_end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int depth = data[0] % 8 == 0 ? JSON_CHECK_MAX_DEPTH : data[0] % 8;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    /* A private copy of exactly len bytes: any read past the end is an ASan report. */
    char *copy = malloc(len + 1);
    memcpy(copy, s, len);

    struct json_info info;
    int rc = json_check(copy, len, depth, &info);
    CHECK(rc == 0 || rc == -1);
    CHECK(json_check(copy, len, depth, NULL) == rc);
    if (rc == 0) {
        check_info(copy, len, depth, &info);
        CHECK(json_check(copy, len, depth + 1, NULL) == 0);
    } else if (depth > 1) {
        CHECK(json_check(copy, len, depth - 1, NULL) == -1);
    }
    free(copy);
    return 0;
}
