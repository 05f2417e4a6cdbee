/* The client side of the WebSocket handshake and framing; see sioc_ws.h. */
#include "client/sioc_ws.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static void random_bytes(unsigned char *out, size_t len)
{
    /* Keys and masks must be unpredictable (RFC 6455 §4.1, §5.3); without randomness
     * nothing safe can be sent. */
    if (RAND_bytes(out, (int)len) != 1)
        abort();
}

void sioc_ws_key(char out[SIOC_WS_KEY_LEN + 1])
{
    unsigned char raw[16];
    struct buf b;
    random_bytes(raw, sizeof(raw));
    buf_init(&b, SIOC_WS_KEY_LEN);
    base64_encode(&b, raw, sizeof(raw));
    memcpy(out, b.data, SIOC_WS_KEY_LEN);
    out[SIOC_WS_KEY_LEN] = '\0';
    buf_release(&b);
}

int sioc_ws_accept(const char *key, char out[SIOC_WS_ACCEPT_LEN + 1])
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char joined[SIOC_WS_KEY_LEN + sizeof(ws_guid)];
    size_t klen = strlen(key);
    if (klen != SIOC_WS_KEY_LEN)
        return -1;
    memcpy(joined, key, klen);
    memcpy(joined + klen, ws_guid, sizeof(ws_guid) - 1);
    SHA1((const unsigned char *)joined, klen + sizeof(ws_guid) - 1, digest);
    struct buf b;
    buf_init(&b, SIOC_WS_ACCEPT_LEN);
    int rc = base64_encode(&b, digest, sizeof(digest));
    if (rc == 0)
        memcpy(out, b.data, SIOC_WS_ACCEPT_LEN + 1);
    buf_release(&b);
    return rc;
}

void sioc_ws_request(struct buf *out, const struct sioc_url *u, const char *key)
{
    buf_printf(out,
               "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "User-Agent: crowdai-sioc/1\r\n\r\n",
               u->target, u->host_header, key);
}

size_t sioc_ws_head_end(const char *data, size_t len)
{
    for (size_t i = 3; i < len; i++) {
        if (data[i] == '\n' && data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r')
            return i + 1;
    }
    return 0;
}

/* Whether the comma-separated header value holds token (case-insensitive). */
static int has_token(const char *v, size_t len, const char *token)
{
    size_t tlen = strlen(token);
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tlen && strncasecmp(v + start, token, tlen) == 0)
            return 1;
    }
    return 0;
}

struct head_check {
    int upgrade, connection, accept_ok, accept_seen, extension;
    const char *accept;
};

static int name_is(const char *line, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(line, name, len) == 0;
}

/* Looks at one "Name: value" line. Returns 0, or -1 for a malformed line. */
static int check_header(const char *line, size_t len, struct head_check *hc)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t')
        return -1;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (name_is(line, nlen, "Upgrade")) {
        hc->upgrade |= has_token(v, vlen, "websocket");
    } else if (name_is(line, nlen, "Connection")) {
        hc->connection |= has_token(v, vlen, "upgrade");
    } else if (name_is(line, nlen, "Sec-WebSocket-Accept")) {
        hc->accept_seen++;
        hc->accept_ok = vlen == SIOC_WS_ACCEPT_LEN && memcmp(v, hc->accept, vlen) == 0;
    } else if (name_is(line, nlen, "Sec-WebSocket-Extensions") ||
               name_is(line, nlen, "Sec-WebSocket-Protocol")) {
        hc->extension = 1;
    }
    return 0;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Checks the status line; fills err with it when it is not a 101. */
static int check_status(const char *line, size_t len, char *err, size_t errlen)
{
    if (len < 12 || strncmp(line, "HTTP/1.1 ", 9) != 0 || (len > 12 && line[12] != ' '))
        return fail(err, errlen, "not an HTTP/1.1 response");
    if (strncmp(line + 9, "101", 3) != 0) {
        int shown = len > 80 ? 80 : (int)len;
        snprintf(err, errlen, "server refused the WebSocket upgrade: %.*s", shown, line);
        return -1;
    }
    return 0;
}

int sioc_ws_check_response(const char *head, size_t len, const char *key, char *err, size_t errlen)
{
    char accept[SIOC_WS_ACCEPT_LEN + 1];
    struct head_check hc = {0};
    if (sioc_ws_accept(key, accept) != 0)
        return fail(err, errlen, "bad key");
    hc.accept = accept;
    const char *end = head + len;
    const char *eol = memchr(head, '\n', len);
    if (eol == NULL || eol == head || eol[-1] != '\r')
        return fail(err, errlen, "malformed response head");
    if (check_status(head, (size_t)(eol - 1 - head), err, errlen) != 0)
        return -1;
    for (const char *line = eol + 1; line < end;) {
        eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL || eol == line || eol[-1] != '\r')
            return fail(err, errlen, "malformed response head");
        size_t llen = (size_t)(eol - 1 - line);
        if (llen == 0)
            break;
        if (check_header(line, llen, &hc) != 0)
            return fail(err, errlen, "malformed header line");
        line = eol + 1;
    }
    if (!hc.upgrade || !hc.connection)
        return fail(err, errlen, "response lacks Upgrade: websocket or Connection: Upgrade");
    if (hc.accept_seen != 1 || !hc.accept_ok)
        return fail(err, errlen, "wrong or missing Sec-WebSocket-Accept");
    if (hc.extension)
        return fail(err, errlen, "server chose an extension or subprotocol we did not offer");
    return 0;
}

int sioc_ws_frame(struct buf *out, enum ws_opcode op, const void *prefix, size_t prefix_len,
                  const void *data, size_t len)
{
    uint8_t head[WS_MAX_FRAME_HEADER];
    uint8_t mask[4];
    random_bytes(mask, sizeof(mask));
    size_t n = ws_frame_header(head, op, 1, prefix_len + len, mask);
    size_t start = out->len;
    if (buf_append(out, head, n) != 0 || buf_append(out, prefix, prefix_len) != 0 ||
        buf_append(out, data, len) != 0) {
        out->len = start;
        return -1;
    }
    ws_mask((uint8_t *)out->data + start + n, prefix_len + len, mask, 0);
    return 0;
}
