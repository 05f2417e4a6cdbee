/* Standard base64 with padding. */
#include "core/base64.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

int base64_encode(struct buf *out, const void *src, size_t len)
{
    const uint8_t *p = src;
    char quad[4];
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        quad[0] = alphabet[(v >> 18) & 63];
        quad[1] = alphabet[(v >> 12) & 63];
        quad[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? alphabet[v & 63] : '=';
        if (buf_append(out, quad, 4) != 0)
            return -1;
    }
    return 0;
}

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int base64_decode(struct buf *out, const char *src, size_t len)
{
    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int last = i + 4 == len;
        int pad = 0;
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            char c = src[i + (size_t)k];
            int s;
            if (c == '=' && last && k >= 2) {
                pad++;
                s = 0;
            } else {
                if (pad > 0)
                    return -1; /* data after padding */
                s = sextet(c);
                if (s < 0)
                    return -1;
            }
            v = (v << 6) | (uint32_t)s;
        }
        char bytes[3] = {(char)(v >> 16), (char)(v >> 8), (char)v};
        if (buf_append(out, bytes, (size_t)(3 - pad)) != 0)
            return -1;
    }
    return 0;
}
