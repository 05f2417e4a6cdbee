/* Engine.IO's WebSocket transport: sessions opened directly over WebSocket, the probe and
 * upgrade of a polling session, and packets as frames (v3 binary frames carry a type byte). */
#include "engineio/eio_internal.h"

#include <string.h>

#include "core/log.h"

static void on_ws_message(struct ws_conn *ws, enum ws_opcode op, char *data, size_t len, void *ud);
static void on_ws_close(struct ws_conn *ws, void *ud);
static void on_probe_message(struct ws_conn *ws, enum ws_opcode op, char *data, size_t len,
                             void *ud);
static void on_probe_close(struct ws_conn *ws, void *ud);
static void on_ignored_message(struct ws_conn *ws, enum ws_opcode op, char *data, size_t len,
                               void *ud);
static void on_ignored_close(struct ws_conn *ws, void *ud);

static const struct ws_handler transport_handler = {on_ws_message, on_ws_close};
static const struct ws_handler probe_handler = {on_probe_message, on_probe_close};
static const struct ws_handler detached_handler = {on_ignored_message, on_ignored_close};

int eio_websocket_send(struct eio_session *s, struct ws_conn *ws, enum eio_type type, int binary,
                       const char *data, size_t len)
{
    if (ws == NULL)
        return -1;
    if (binary) {
        static const char v3_type = EIO_MESSAGE;
        int v3 = s->protocol == 3;
        return ws_conn_send(ws, WS_OP_BINARY, &v3_type, v3 ? 1 : 0, data, len);
    }
    char t = (char)('0' + type);
    return ws_conn_send(ws, WS_OP_TEXT, &t, 1, data, len);
}

/* Turns a WebSocket message into a packet; returns 0 or -1 when malformed. */
static int decode_frame(const struct eio_session *s, enum ws_opcode op, const char *data,
                        size_t len, struct eio_packet *pkt)
{
    if (op == WS_OP_TEXT)
        return eio_packet_decode_text(data, len, pkt);
    pkt->type = EIO_MESSAGE;
    pkt->binary = 1;
    pkt->data = data;
    pkt->len = len;
    if (s->protocol == 3) {
        if (len == 0 || data[0] != EIO_MESSAGE)
            return -1;
        pkt->data++;
        pkt->len--;
    }
    return 0;
}

static void on_ws_message(struct ws_conn *ws, enum ws_opcode op, char *data, size_t len, void *ud)
{
    struct eio_session *s = ud;
    struct eio_packet pkt;
    if (decode_frame(s, op, data, len, &pkt) != 0) {
        log_info("eio", "bad websocket packet sid=%s", s->sid);
        eio_session_shutdown(s, "parse error", EIO_CLOSE);
        return;
    }
    (void)ws;
    eio_session_on_packet(s, &pkt);
}

static void on_ws_close(struct ws_conn *ws, void *ud)
{
    struct eio_session *s = ud;
    (void)ws;
    s->ws = NULL;
    eio_session_shutdown(s, "transport close", EIO_CLOSE);
}

static void on_ignored_message(struct ws_conn *ws, enum ws_opcode op, char *data, size_t len,
                               void *ud)
{
    (void)ws, (void)op, (void)data, (void)len, (void)ud;
}

static void on_ignored_close(struct ws_conn *ws, void *ud)
{
    (void)ws, (void)ud;
}

static void detach_and_close(struct ws_conn *ws, unsigned code)
{
    ws_conn_set_handler(ws, &detached_handler, NULL);
    ws_conn_close(ws, code);
}

void eio_websocket_close_all(struct eio_session *s)
{
    if (s->probe != NULL) {
        detach_and_close(s->probe, WS_CLOSE_NORMAL);
        s->probe = NULL;
    }
    if (s->ws != NULL) {
        /* As engine.io does, a WebSocket is just closed: no close packet goes first. */
        detach_and_close(s->ws, WS_CLOSE_NORMAL);
        s->ws = NULL;
    }
}

/* ---- upgrade of a polling session ---- */

static void abandon_probe(struct eio_session *s, const char *why)
{
    log_debug("eio", "upgrade abandoned sid=%s reason=\"%s\"", s->sid, why);
    uv_timer_stop(&s->upgrade_timer);
    if (s->probe != NULL)
        detach_and_close(s->probe, WS_CLOSE_NORMAL);
    s->probe = NULL;
    s->probed = 0;
}

static void on_upgrade_timeout(uv_timer_t *t)
{
    abandon_probe(t->data, "upgrade timeout");
}

/* The client sent 5: the WebSocket becomes the transport and takes the queued packets. */
static void complete_upgrade(struct eio_session *s)
{
    uv_timer_stop(&s->upgrade_timer);
    s->ws = s->probe;
    s->probe = NULL;
    s->probed = 0;
    ws_conn_set_handler(s->ws, &transport_handler, s);
    eio_polling_release_get(s, EIO_NOOP);
    s->transport = EIO_WEBSOCKET;
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &s->queue)
    {
        struct eio_out *o = container_of(pos, struct eio_out, link);
        eio_websocket_send(s, s->ws, o->type, o->binary, o->data, o->len);
    }
    eio_queue_clear(s);
    log_debug("eio", "upgraded sid=%s", s->sid);
}

static void on_probe_message(struct ws_conn *ws, enum ws_opcode op, char *data, size_t len,
                             void *ud)
{
    struct eio_session *s = ud;
    struct eio_packet pkt;
    (void)ws;
    if (decode_frame(s, op, data, len, &pkt) != 0) {
        abandon_probe(s, "bad probe packet");
        return;
    }
    if (pkt.type == EIO_PING && pkt.len == 5 && memcmp(pkt.data, "probe", 5) == 0 && !s->probed) {
        s->probed = 1;
        eio_websocket_send(s, s->probe, EIO_PONG, 0, "probe", 5);
        eio_polling_release_get(s, EIO_NOOP);
        return;
    }
    if (pkt.type == EIO_UPGRADE && s->probed) {
        complete_upgrade(s);
        return;
    }
    if (pkt.type == EIO_NOOP)
        return;
    abandon_probe(s, "unexpected packet during upgrade");
}

static void on_probe_close(struct ws_conn *ws, void *ud)
{
    struct eio_session *s = ud;
    (void)ws;
    s->probe = NULL;
    abandon_probe(s, "probe closed");
}

/* ---- accepting a WebSocket ---- */

void eio_websocket_upgrade(struct eio_server *e, struct http_conn *hc,
                           const struct http_request *req, char *rest, size_t rest_len)
{
    struct eio_query q;
    eio_parse_query(req, &q);
    if (!q.has_sid) {
        struct ws_conn *ws =
            ws_conn_accept(hc, req, rest, rest_len, e->cfg.max_payload, &detached_handler, NULL);
        if (ws == NULL)
            return;
        struct eio_session *s = eio_session_new(e, q.protocol, EIO_WEBSOCKET);
        s->ws = ws;
        ws_conn_set_handler(ws, &transport_handler, s);
        struct buf open;
        buf_init(&open, BUF_NO_CAP);
        eio_open_packet(s, &open);
        eio_websocket_send(s, s->ws, EIO_OPEN, 0, open.data, open.len);
        buf_release(&open);
        e->cb.on_open(s, req, e->ud);
        return;
    }
    struct eio_session *s = strmap_get(&e->sessions, q.sid);
    if (s == NULL) {
        eio_fail(hc, 1);
        return;
    }
    if (s->transport != EIO_POLLING || s->probe != NULL || q.protocol != s->protocol) {
        eio_fail(hc, 3);
        return;
    }
    s->probe = ws_conn_accept(hc, req, rest, rest_len, e->cfg.max_payload, &probe_handler, s);
    if (s->probe != NULL)
        uv_timer_start(&s->upgrade_timer, on_upgrade_timeout, e->cfg.upgrade_timeout_ms, 0);
}
