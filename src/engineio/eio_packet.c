/* Engine.IO packets and polling payloads, v3 and v4; see eio_packet.h. */
#include "engineio/eio_packet.h"

#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/utf8.h"

#define RECORD_SEPARATOR  '\x1e'
#define MAX_LENGTH_DIGITS 10

int eio_packet_decode_text(const char *s, size_t len, struct eio_packet *out)
{
    if (len == 0 || s[0] < '0' || s[0] > '6')
        return EIO_DECODE_BAD;
    out->type = (enum eio_type)(s[0] - '0');
    out->binary = 0;
    out->data = s + 1;
    out->len = len - 1;
    return 0;
}

/* Decodes base64 binary message data into scratch and calls back. */
static int emit_base64(const char *b64, size_t len, struct buf *scratch, eio_packet_cb cb, void *ud)
{
    buf_reset(scratch);
    if (base64_decode(scratch, b64, len) != 0)
        return EIO_DECODE_BAD;
    struct eio_packet pkt = {EIO_MESSAGE, 1, scratch->data != NULL ? scratch->data : "",
                             scratch->len};
    return cb(ud, &pkt);
}

static int emit_text(const char *s, size_t len, eio_packet_cb cb, void *ud)
{
    struct eio_packet pkt;
    if (eio_packet_decode_text(s, len, &pkt) != 0)
        return EIO_DECODE_BAD;
    return cb(ud, &pkt);
}

int eio_payload_decode_v4(const char *body, size_t len, size_t max_packets, struct buf *scratch,
                          eio_packet_cb cb, void *ud)
{
    size_t count = 0;
    const char *p = body, *end = body + len;
    if (len == 0)
        return EIO_DECODE_BAD;
    while (p <= end) {
        const char *sep = memchr(p, RECORD_SEPARATOR, (size_t)(end - p));
        const char *stop = sep != NULL ? sep : end;
        if (++count > max_packets)
            return EIO_DECODE_TOO_MANY;
        int rc;
        if (stop > p && *p == 'b')
            rc = emit_base64(p + 1, (size_t)(stop - p - 1), scratch, cb, ud);
        else
            rc = emit_text(p, (size_t)(stop - p), cb, ud);
        if (rc != 0)
            return rc;
        if (sep == NULL)
            break;
        p = sep + 1;
    }
    return 0;
}

int eio_payload_decode_v3_text(const char *body, size_t len, size_t max_packets,
                               struct buf *scratch, eio_packet_cb cb, void *ud)
{
    size_t off = 0, count = 0;
    if (len == 0)
        return EIO_DECODE_BAD;
    while (off < len) {
        size_t units = 0, digits = 0;
        while (off < len && body[off] >= '0' && body[off] <= '9' && digits < MAX_LENGTH_DIGITS) {
            units = units * 10 + (size_t)(body[off++] - '0');
            digits++;
        }
        if (digits == 0 || off >= len || body[off] != ':' || units == 0)
            return EIO_DECODE_BAD;
        off++;
        size_t bytes = utf8_prefix_for_utf16(body + off, len - off, units);
        if (bytes == (size_t)-1)
            return EIO_DECODE_BAD;
        if (++count > max_packets)
            return EIO_DECODE_TOO_MANY;
        const char *pkt = body + off;
        int rc;
        if (bytes >= 2 && pkt[0] == 'b' && pkt[1] == '4')
            rc = emit_base64(pkt + 2, bytes - 2, scratch, cb, ud);
        else
            rc = emit_text(pkt, bytes, cb, ud);
        if (rc != 0)
            return rc;
        off += bytes;
    }
    return 0;
}

int eio_payload_decode_v3_binary(const char *body, size_t len, size_t max_packets,
                                 struct buf *scratch, eio_packet_cb cb, void *ud)
{
    const unsigned char *b = (const unsigned char *)body;
    size_t off = 0, count = 0;
    if (len == 0)
        return EIO_DECODE_BAD;
    while (off < len) {
        int is_binary = b[off] == 1;
        if (b[off] > 1)
            return EIO_DECODE_BAD;
        off++;
        size_t n = 0, digits = 0;
        while (off < len && b[off] != 0xFF) {
            if (b[off] > 9 || ++digits > MAX_LENGTH_DIGITS)
                return EIO_DECODE_BAD;
            n = n * 10 + b[off++];
        }
        if (digits == 0 || off >= len || n == 0 || n > len - off - 1)
            return EIO_DECODE_BAD;
        off++;
        if (++count > max_packets)
            return EIO_DECODE_TOO_MANY;
        int rc;
        if (is_binary) {
            /* The first byte is the packet type, which must be a message. */
            if (b[off] != EIO_MESSAGE)
                return EIO_DECODE_BAD;
            struct eio_packet pkt = {EIO_MESSAGE, 1, body + off + 1, n - 1};
            rc = cb(ud, &pkt);
        } else {
            if (!utf8_valid(body + off, n))
                return EIO_DECODE_BAD;
            rc = emit_text(body + off, n, cb, ud);
        }
        (void)scratch;
        if (rc != 0)
            return rc;
        off += n;
    }
    return 0;
}

int eio_payload_append_v4(struct buf *out, const struct eio_packet *pkt, int first)
{
    if (!first && buf_append_char(out, RECORD_SEPARATOR) != 0)
        return -1;
    if (pkt->binary) {
        if (buf_append_char(out, 'b') != 0)
            return -1;
        return base64_encode(out, pkt->data, pkt->len);
    }
    if (buf_append_char(out, (char)('0' + pkt->type)) != 0)
        return -1;
    return buf_append(out, pkt->data, pkt->len);
}

int eio_payload_append_v3_text(struct buf *out, const struct eio_packet *pkt)
{
    if (pkt->binary) {
        if (buf_printf(out, "%zu:b4", base64_encoded_len(pkt->len) + 2) != 0)
            return -1;
        return base64_encode(out, pkt->data, pkt->len);
    }
    size_t units = 1 + utf8_utf16_len(pkt->data, pkt->len);
    if (buf_printf(out, "%zu:%c", units, (char)('0' + pkt->type)) != 0)
        return -1;
    return buf_append(out, pkt->data, pkt->len);
}

int eio_payload_append_v3_binary(struct buf *out, const struct eio_packet *pkt)
{
    char digits[24];
    size_t n = pkt->len + 1; /* the type character or byte counts */
    int nd = snprintf(digits, sizeof(digits), "%zu", n);
    if (buf_append_char(out, pkt->binary ? 1 : 0) != 0)
        return -1;
    for (int i = 0; i < nd; i++) {
        if (buf_append_char(out, (char)(digits[i] - '0')) != 0)
            return -1;
    }
    if (buf_append_char(out, (char)0xFF) != 0)
        return -1;
    char type = pkt->binary ? (char)EIO_MESSAGE : (char)('0' + pkt->type);
    if (buf_append_char(out, type) != 0)
        return -1;
    return buf_append(out, pkt->data, pkt->len);
}
