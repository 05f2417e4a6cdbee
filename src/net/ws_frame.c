/* RFC 6455 WebSocket framing with no I/O; see ws_frame.h. */
#include "net/ws_frame.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

size_t ws_frame_header(uint8_t out[WS_MAX_FRAME_HEADER], enum ws_opcode op, int fin, uint64_t len,
                       const uint8_t *mask)
{
    size_t n = 0;
    uint8_t mask_bit = mask != NULL ? 0x80 : 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | (unsigned)op);
    if (len < 126) {
        out[n++] = (uint8_t)(mask_bit | len);
    } else if (len <= 0xFFFF) {
        out[n++] = mask_bit | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = mask_bit | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)(len >> (8 * i));
    }
    if (mask != NULL) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset)
{
    for (size_t i = 0; i < len; i++)
        data[i] ^= mask[(i + offset) & 3];
}

int ws_close_code_valid(unsigned code)
{
    if (code >= 1000 && code <= 1003)
        return 1;
    if (code >= 1007 && code <= 1014)
        return 1;
    return code >= 3000 && code <= 4999;
}

void ws_reader_init(struct ws_reader *r, int require_mask, size_t max_message, ws_message_cb cb,
                    void *ud)
{
    /* r->in only ever keeps one incomplete frame: a message frame or a control frame. */
    buf_init(&r->in, (max_message > 125 ? max_message : 125) + WS_MAX_FRAME_HEADER);
    buf_init(&r->msg, max_message);
    r->msg_op = WS_OP_CONT;
    r->fragments = 0;
    r->require_mask = require_mask;
    r->max_message = max_message;
    r->cb = cb;
    r->ud = ud;
}

void ws_reader_release(struct ws_reader *r)
{
    buf_release(&r->in);
    buf_release(&r->msg);
}

struct frame {
    int fin;
    enum ws_opcode op;
    uint64_t len;
    size_t header_len;
    const uint8_t *mask;
};

/* Parses a frame header. Returns 1 when complete, 0 when more bytes are needed, or a close
 * code. */
static int parse_header(const struct ws_reader *r, const uint8_t *p, size_t avail, struct frame *f)
{
    if (avail < 2)
        return 0;
    if (p[0] & 0x70)
        return WS_CLOSE_PROTOCOL; /* RSV bits without a negotiated extension */
    f->fin = (p[0] & 0x80) != 0;
    f->op = (enum ws_opcode)(p[0] & 0x0F);
    int masked = (p[1] & 0x80) != 0;
    uint64_t len = p[1] & 0x7F;
    size_t n = 2;
    if (masked != r->require_mask)
        return WS_CLOSE_PROTOCOL;
    if (len == 126) {
        if (avail < 4)
            return 0;
        len = ((uint64_t)p[2] << 8) | p[3];
        n = 4;
    } else if (len == 127) {
        if (avail < 10)
            return 0;
        if (p[2] & 0x80)
            return WS_CLOSE_PROTOCOL;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | p[2 + i];
        n = 10;
    }
    if (masked) {
        if (avail < n + 4)
            return 0;
        f->mask = p + n;
        n += 4;
    } else {
        f->mask = NULL;
    }
    f->len = len;
    f->header_len = n;
    return 1;
}

/* Checks an opcode against the fragmentation state. Returns 0 or a close code. */
static int check_frame(const struct ws_reader *r, const struct frame *f)
{
    switch (f->op) {
    case WS_OP_CLOSE:
    case WS_OP_PING:
    case WS_OP_PONG:
        if (!f->fin || f->len > 125)
            return WS_CLOSE_PROTOCOL;
        return 0;
    case WS_OP_CONT:
        if (r->msg_op == WS_OP_CONT)
            return WS_CLOSE_PROTOCOL;
        if (r->fragments + 1 > WS_MAX_FRAGMENTS)
            return WS_CLOSE_TOO_BIG;
        if (f->len > r->max_message - r->msg.len)
            return WS_CLOSE_TOO_BIG;
        return 0;
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (r->msg_op != WS_OP_CONT)
            return WS_CLOSE_PROTOCOL;
        if (f->len > r->max_message)
            return WS_CLOSE_TOO_BIG;
        return 0;
    default:
        return WS_CLOSE_PROTOCOL;
    }
}

static int check_close_payload(const uint8_t *data, size_t len)
{
    if (len == 0)
        return 0;
    if (len == 1)
        return WS_CLOSE_PROTOCOL;
    unsigned code = ((unsigned)data[0] << 8) | data[1];
    if (!ws_close_code_valid(code))
        return WS_CLOSE_PROTOCOL;
    if (!utf8_valid((const char *)data + 2, len - 2))
        return WS_CLOSE_INVALID_DATA;
    return 0;
}

static int deliver(struct ws_reader *r, enum ws_opcode op, uint8_t *data, size_t len)
{
    if (op == WS_OP_TEXT && !utf8_valid((const char *)data, len))
        return WS_CLOSE_INVALID_DATA;
    if (op == WS_OP_CLOSE) {
        int rc = check_close_payload(data, len);
        if (rc != 0)
            return rc;
    }
    return r->cb(r->ud, op, data, len) != 0 ? WS_READER_STOPPED : 0;
}

/* Handles one complete frame whose payload is unmasked in place. */
static int on_frame(struct ws_reader *r, const struct frame *f, uint8_t *payload)
{
    size_t len = (size_t)f->len;
    if (f->op >= WS_OP_CLOSE)
        return deliver(r, f->op, payload, len);
    if (f->op != WS_OP_CONT && f->fin)
        return deliver(r, f->op, payload, len);
    if (f->op != WS_OP_CONT) {
        r->msg_op = f->op;
        r->fragments = 0;
        buf_reset(&r->msg);
    }
    r->fragments++;
    if (buf_append(&r->msg, payload, len) != 0)
        return WS_CLOSE_TOO_BIG;
    if (!f->fin)
        return 0;
    enum ws_opcode op = r->msg_op;
    r->msg_op = WS_OP_CONT;
    return deliver(r, op, (uint8_t *)r->msg.data, r->msg.len);
}

/* Consumes complete frames from p[0..len); stores how many bytes were used in *used. */
static int consume(struct ws_reader *r, uint8_t *p, size_t len, size_t *used)
{
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        struct frame f;
        rc = parse_header(r, p + off, len - off, &f);
        if (rc == 0)
            break;
        if (rc != 1)
            return rc;
        rc = check_frame(r, &f);
        if (rc != 0)
            return rc;
        if (f.len > len - off - f.header_len) {
            rc = 0;
            break;
        }
        uint8_t *payload = p + off + f.header_len;
        if (f.mask != NULL) {
            uint8_t mask[4];
            memcpy(mask, f.mask, 4);
            ws_mask(payload, (size_t)f.len, mask, 0);
        }
        off += f.header_len + (size_t)f.len;
        *used = off;
        rc = on_frame(r, &f, payload);
        if (rc != 0)
            return rc;
    }
    *used = off;
    return 0;
}

int ws_reader_feed(struct ws_reader *r, uint8_t *data, size_t len)
{
    size_t used = 0;
    int rc;
    if (r->in.len == 0) {
        rc = consume(r, data, len, &used);
        if (rc != 0)
            return rc;
        if (used < len && buf_append(&r->in, data + used, len - used) != 0)
            return WS_CLOSE_TOO_BIG;
        return 0;
    }
    /* This read may complete the pending frame and carry many more: cap only what is left
     * over (one incomplete frame), not the sum. */
    size_t cap = r->in.max;
    r->in.max = BUF_NO_CAP;
    rc = buf_append(&r->in, data, len);
    r->in.max = cap;
    if (rc != 0)
        return WS_CLOSE_TOO_BIG;
    /* Work on a detached copy: the callback may feed nothing back, but consume() must not
     * see the buffer move under it. */
    size_t total;
    char *pending = buf_detach(&r->in, &total);
    rc = consume(r, (uint8_t *)pending, total, &used);
    if (rc == 0 && used < total && buf_append(&r->in, pending + used, total - used) != 0)
        rc = WS_CLOSE_TOO_BIG;
    free(pending);
    return rc;
}
