/* Strict UTF-8 validation and UTF-16 length counting. */
#include "core/utf8.h"

#include <stdint.h>

/* Length of the sequence starting at s (1-4), or 0 if it is not a valid sequence. */
static size_t seq_len(const uint8_t *s, size_t avail)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

int utf8_valid(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = seq_len(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t utf8_utf16_len(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            units += p[i] >= 0xF0 ? 2 : 1;
    }
    return units;
}

size_t utf8_prefix_for_utf16(const char *s, size_t len, size_t units)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, seen = 0;
    while (seen < units) {
        if (i >= len)
            return (size_t)-1;
        size_t n = seq_len(p + i, len - i);
        if (n == 0)
            return (size_t)-1;
        seen += n == 4 ? 2 : 1;
        i += n;
    }
    return seen == units ? i : (size_t)-1;
}
