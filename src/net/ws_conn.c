/* A server-side WebSocket connection; see ws_conn.h. */
#include "net/ws_conn.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/xalloc.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static void free_ws(struct ws_conn *ws)
{
    ws_reader_release(&ws->reader);
    free(ws);
}

static int on_ws_message(void *ud, enum ws_opcode op, uint8_t *data, size_t len)
{
    struct ws_conn *ws = ud;
    switch (op) {
    case WS_OP_PING:
        ws_conn_send(ws, WS_OP_PONG, NULL, 0, data, len);
        return 0;
    case WS_OP_PONG:
        return 0;
    case WS_OP_CLOSE: {
        unsigned code = len >= 2 ? ((unsigned)data[0] << 8 | data[1]) : WS_CLOSE_NORMAL;
        ws_conn_close(ws, code);
        return 1;
    }
    default:
        ws->handler->on_message(ws, op, (char *)data, len, ws->ud);
        return ws->dead || ws->close_sent;
    }
}

static void on_conn_read(struct conn *c, char *data, size_t len)
{
    struct ws_conn *ws = c->owner;
    if (ws->close_sent)
        return;
    ws->in_callback = 1;
    int rc = ws_reader_feed(&ws->reader, (uint8_t *)data, len);
    ws->in_callback = 0;
    if (ws->dead) {
        free_ws(ws);
        return;
    }
    if (rc > 0) {
        log_info("ws", "protocol error from peer: close=%d", rc);
        ws_conn_close(ws, (unsigned)rc);
    }
}

static void on_conn_close(struct conn *c)
{
    struct ws_conn *ws = c->owner;
    ws->dead = 1;
    if (ws->handler != NULL && ws->handler->on_close != NULL)
        ws->handler->on_close(ws, ws->ud);
    if (!ws->in_callback)
        free_ws(ws);
}

static const struct conn_handler ws_conn_handler = {on_conn_read, on_conn_close};

static int accept_key(const char *key, char out[64])
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char joined[128];
    size_t klen = strlen(key);
    if (klen == 0 || klen + sizeof(ws_guid) > sizeof(joined))
        return -1;
    memcpy(joined, key, klen);
    memcpy(joined + klen, ws_guid, sizeof(ws_guid) - 1);
    SHA1((const unsigned char *)joined, klen + sizeof(ws_guid) - 1, digest);
    struct buf b;
    buf_init(&b, 63);
    if (base64_encode(&b, digest, sizeof(digest)) != 0) {
        buf_release(&b);
        return -1;
    }
    memcpy(out, b.data, b.len + 1);
    buf_release(&b);
    return 0;
}

struct ws_conn *ws_conn_accept(struct http_conn *hc, const struct http_request *req, char *rest,
                               size_t rest_len, size_t max_message,
                               const struct ws_handler *handler, void *ud)
{
    const char *upgrade = http_request_header(req, HTTP_H_UPGRADE);
    const char *key = http_request_header(req, HTTP_H_SEC_WEBSOCKET_KEY);
    const char *version = http_request_header(req, HTTP_H_SEC_WEBSOCKET_VERSION);
    char accept[64];
    if (req->method != HTTP_GET || upgrade == NULL ||
        !http_header_has_token(upgrade, "websocket") || key == NULL || version == NULL ||
        strcmp(version, "13") != 0 || accept_key(key, accept) != 0) {
        http_conn_fail(hc, 400, "Bad WebSocket handshake");
        return NULL;
    }
    struct conn *c = http_conn_detach(hc);
    struct ws_conn *ws = xcalloc(1, sizeof(*ws));
    ws->conn = c;
    ws->handler = handler;
    ws->ud = ud;
    ws_reader_init(&ws->reader, 1, max_message, on_ws_message, ws);
    conn_set_handler(c, &ws_conn_handler, ws);
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    conn_write(c, head, (size_t)n);
    /* Stock clients wait for the 101 before sending; anything that came early is kept and
     * parsed with the next read, after the caller has set the connection up. */
    if (rest_len > 0 && buf_append(&ws->reader.in, rest, rest_len) != 0)
        ws_conn_close(ws, WS_CLOSE_TOO_BIG);
    return ws;
}

int ws_conn_send(struct ws_conn *ws, enum ws_opcode op, const void *prefix, size_t prefix_len,
                 const void *data, size_t len)
{
    if (ws->dead || ws->close_sent)
        return -1;
    uint8_t head[WS_MAX_FRAME_HEADER];
    size_t n = ws_frame_header(head, op, 1, prefix_len + len, NULL);
    if (conn_write(ws->conn, head, n) != 0)
        return -1;
    if (prefix_len > 0 && conn_write(ws->conn, prefix, prefix_len) != 0)
        return -1;
    if (len > 0 && conn_write(ws->conn, data, len) != 0)
        return -1;
    return 0;
}

void ws_conn_close(struct ws_conn *ws, unsigned code)
{
    if (ws->dead || ws->close_sent)
        return;
    uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    ws_conn_send(ws, WS_OP_CLOSE, NULL, 0, payload, sizeof(payload));
    ws->close_sent = 1;
    if (!ws->dead)
        conn_close_after_flush(ws->conn);
}

void ws_conn_set_handler(struct ws_conn *ws, const struct ws_handler *handler, void *ud)
{
    ws->handler = handler;
    ws->ud = ud;
}
