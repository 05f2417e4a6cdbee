/* libFuzzer target for net/origin: the input is an --allowed-origins list, an Origin header
 * and a Host header, separated by newlines. Parsing never overruns; a parsed list keeps its
 * bounds; a decision is repeatable; an origin that is let through cross-origin (and so echoed
 * in Access-Control-Allow-Origin) is well formed, never "null", and holds no byte that could
 * end a header line. */
#include <string.h>

#include "fuzz_common.h"
#include "net/origin.h"

#define PART_MAX 2048

/* Copies the next newline-terminated part of data into out (NUL-terminated); NULL when the
 * input has no more parts. */
static const char *next_part(const uint8_t **data, size_t *size, char out[PART_MAX])
{
    if (*size == 0)
        return NULL;
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t len = nl != NULL ? (size_t)(nl - *data) : *size;
    size_t copy = len < PART_MAX - 1 ? len : PART_MAX - 1;
    memcpy(out, *data, copy);
    out[copy] = '\0';
    *data += nl != NULL ? len + 1 : len;
    *size -= nl != NULL ? len + 1 : len;
    return out;
}

static int has_header_breaker(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char list_text[PART_MAX], origin_buf[PART_MAX], host_buf[PART_MAX], bad[128];
    const char *text = next_part(&data, &size, list_text);
    if (text == NULL)
        return 0;
    struct origin_list list;
    memset(&list, 0, sizeof(list));
    if (origin_list_parse(&list, text, bad, sizeof(bad)) != 0) {
        CHECK(memchr(bad, '\0', sizeof(bad)) != NULL);
        return 0;
    }
    CHECK(list.used <= ORIGIN_LIST_BYTES);
    CHECK(list.count <= list.used);
    const char *origin = next_part(&data, &size, origin_buf);
    const char *host = next_part(&data, &size, host_buf);
    enum origin_verdict v = origin_decide(&list, origin, host);
    CHECK(v == origin_decide(&list, origin, host));
    if (origin == NULL) {
        CHECK(v == ORIGIN_ABSENT);
        return 0;
    }
    CHECK(v != ORIGIN_ABSENT);
    if (v == ORIGIN_LISTED) {
        CHECK(origin_well_formed(origin, strlen(origin)));
        CHECK(strcmp(origin, "null") != 0);
        CHECK(!has_header_breaker(origin));
    }
    if (v == ORIGIN_SAME)
        CHECK(host != NULL);
    return 0;
}
