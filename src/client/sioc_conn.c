/* One WebSocket connection carrying one Engine.IO session; see sioc_conn.h. */
#include "client/sioc_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sioc.h"
#include "client/sioc_json.h"
#include "client/sioc_stream.h"
#include "client/sioc_ws.h"
#include "core/json_check.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "engineio/eio_packet.h"

#define DETAIL_LEN        256
#define FLUSH_TIMEOUT_MS  1000
#define MAX_PING_MS       (24ULL * 3600 * 1000)
#define MAX_SID_LEN       256
#define NO_CLOSE_CODE     1005 /* RFC 6455 §7.1.5: the close frame had no code */
#define CLOSE_FRAME_BYTES 2

enum conn_state {
    C_CONNECTING, /* DNS, TCP, TLS */
    C_UPGRADING,  /* upgrade request sent, reading the 101 */
    C_WAIT_OPEN,  /* WebSocket up, waiting for the Engine.IO open packet */
    C_OPEN,
    C_CLOSING, /* our close frame is sent, waiting for the server's */
    C_DONE,
};

struct sioc_conn {
    uv_loop_t *loop;
    uv_timer_t timer;
    struct sioc_stream *stream; /* NULL once it has closed */
    struct ws_reader reader;
    struct buf head; /* the upgrade response, until complete */
    const struct sioc_url *url;
    struct sioc_conn_config cfg;
    const struct sioc_conn_handler *h;
    void *ud;
    enum conn_state state;
    int aborted;
    int timer_open;
    int refs; /* the timer, the stream, and calls out in progress */
    uint64_t ping_deadline_ms;
    unsigned close_code;
    char key[SIOC_WS_KEY_LEN + 1];
    char start_error[DETAIL_LEN]; /* the stream could not even start */
};

/* ---- Teardown ---- */

static void maybe_free(struct sioc_conn *c)
{
    if (c->refs > 0)
        return;
    c->refs = 1;
    if (c->h->on_released != NULL)
        c->h->on_released(c->ud);
    ws_reader_release(&c->reader);
    buf_release(&c->head);
    free(c);
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct sioc_conn *c = handle->data;
    c->refs--;
    maybe_free(c);
}

static void close_timer(struct sioc_conn *c)
{
    if (!c->timer_open)
        return;
    c->timer_open = 0;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void on_timer(uv_timer_t *timer);

static void arm(struct sioc_conn *c, uint64_t ms)
{
    if (c->timer_open)
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- Sending ---- */

static void end(struct sioc_conn *c, const char *reason, const char *detail, unsigned close_code);

static int send_frame(struct sioc_conn *c, enum ws_opcode op, const char *prefix, size_t plen,
                      const void *data, size_t len)
{
    if (c->stream == NULL)
        return -1;
    size_t queued = sioc_stream_queued(c->stream);
    if (queued > c->cfg.max_output || plen + len > c->cfg.max_output - queued) {
        end(c, sioc_reason_transport_error, "the server does not read what we send", 0);
        return -1;
    }
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    if (sioc_ws_frame(&out, op, prefix, plen, data, len) != 0) {
        buf_release(&out);
        return -1;
    }
    size_t n;
    char *bytes = buf_detach(&out, &n);
    return sioc_stream_write(c->stream, bytes, n);
}

static void send_close(struct sioc_conn *c, unsigned code)
{
    uint8_t payload[CLOSE_FRAME_BYTES] = {(uint8_t)(code >> 8), (uint8_t)code};
    send_frame(c, WS_OP_CLOSE, NULL, 0, payload, sizeof(payload));
}

int sioc_conn_send_text(struct sioc_conn *c, const char *data, size_t len)
{
    if (c->state != C_OPEN || len >= c->cfg.max_message)
        return -1;
    return send_frame(c, WS_OP_TEXT, "4", 1, data, len);
}

int sioc_conn_send_binary(struct sioc_conn *c, const void *data, size_t len)
{
    if (c->state != C_OPEN || len > c->cfg.max_message)
        return -1;
    return send_frame(c, WS_OP_BINARY, NULL, 0, data, len);
}

size_t sioc_conn_queued(const struct sioc_conn *c)
{
    return c->stream != NULL ? sioc_stream_queued(c->stream) : 0;
}

unsigned sioc_conn_close_code(const struct sioc_conn *c)
{
    return c->close_code;
}

/* ---- Ending ---- */

/* Ends the attempt or session: with close_code non-zero a close frame goes out first (the
 * WebSocket must be up). Reports on_end unless aborted. */
static void end(struct sioc_conn *c, const char *reason, const char *detail, unsigned close_code)
{
    if (c->state == C_DONE)
        return;
    int ws_up = c->state >= C_WAIT_OPEN;
    c->state = C_DONE;
    log_debug("sioc", "connection ended reason=\"%s\" detail=\"%s\"", reason, detail);
    int flush = close_code != 0 && ws_up;
    if (flush)
        send_close(c, close_code);
    c->refs++;
    if (c->stream != NULL) {
        sioc_stream_close(c->stream, flush);
        if (flush)
            arm(c, FLUSH_TIMEOUT_MS); /* then cut it short */
    } else {
        close_timer(c);
    }
    if (!flush && c->timer_open)
        uv_timer_stop(&c->timer);
    if (!c->aborted && c->h->on_end != NULL)
        c->h->on_end(c, reason, detail, c->ud);
    c->refs--;
    maybe_free(c);
}

void sioc_conn_close(struct sioc_conn *c)
{
    if (c->state == C_OPEN) {
        send_close(c, WS_CLOSE_NORMAL);
        c->state = C_CLOSING;
        arm(c, c->cfg.close_timeout_ms);
        return;
    }
    if (c->state != C_CLOSING)
        end(c, sioc_reason_io_client_disconnect, "closed before the session opened", 0);
}

void sioc_conn_fail(struct sioc_conn *c, const char *reason, const char *detail)
{
    end(c, reason, detail, WS_CLOSE_PROTOCOL);
}

void sioc_conn_abort(struct sioc_conn *c)
{
    c->aborted = 1;
    if (c->state != C_DONE) {
        end(c, sioc_reason_io_client_disconnect, "aborted", 0);
        return;
    }
    if (c->stream != NULL)
        sioc_stream_close(c->stream, 0); /* cut a flushing close short */
}

static void on_timer(uv_timer_t *timer)
{
    struct sioc_conn *c = timer->data;
    char detail[DETAIL_LEN];
    switch (c->state) {
    case C_CONNECTING:
        if (c->start_error[0] != '\0')
            end(c, sioc_reason_connect_error, c->start_error, 0);
        else
            end(c, sioc_reason_connect_timeout, "no connection within the connect timeout", 0);
        break;
    case C_UPGRADING:
    case C_WAIT_OPEN:
        end(c, sioc_reason_handshake_timeout, "no Engine.IO open packet within the timeout", 0);
        break;
    case C_OPEN:
        snprintf(detail, sizeof(detail), "no ping from the server within %llu ms",
                 (unsigned long long)c->ping_deadline_ms);
        end(c, sioc_reason_ping_timeout, detail, WS_CLOSE_GOING_AWAY);
        break;
    case C_CLOSING:
        end(c, sioc_reason_io_client_disconnect, "the server did not answer the close", 0);
        break;
    case C_DONE:
        if (c->stream != NULL)
            sioc_stream_close(c->stream, 0);
        break;
    }
}

/* ---- Engine.IO ---- */

static int parse_open(const char *data, size_t len, struct buf *sid, struct sioc_open_info *info)
{
    const char *v;
    size_t vlen;
    struct json_info ji;
    if (json_check(data, len, JSON_CHECK_MAX_DEPTH, &ji) != 0 || ji.top != '{')
        return -1;
    if (sioc_json_member(data, len, "sid", &v, &vlen) != 0 || sioc_json_string(v, vlen, sid) != 0)
        return -1;
    if (sioc_json_member(data, len, "pingInterval", &v, &vlen) != 0 ||
        sioc_json_uint(v, vlen, MAX_PING_MS, &info->ping_interval_ms) != 0 ||
        info->ping_interval_ms == 0)
        return -1;
    if (sioc_json_member(data, len, "pingTimeout", &v, &vlen) != 0 ||
        sioc_json_uint(v, vlen, MAX_PING_MS, &info->ping_timeout_ms) != 0 ||
        info->ping_timeout_ms == 0)
        return -1;
    info->sid = sid->data;
    return 0;
}

static void on_open_packet(struct sioc_conn *c, const struct eio_packet *pkt)
{
    struct buf sid;
    struct sioc_open_info info;
    buf_init(&sid, MAX_SID_LEN);
    if (pkt->type != EIO_OPEN || parse_open(pkt->data, pkt->len, &sid, &info) != 0) {
        buf_release(&sid);
        end(c, sioc_reason_parse_error,
            "expected an Engine.IO open packet with sid, "
            "pingInterval and pingTimeout",
            WS_CLOSE_PROTOCOL);
        return;
    }
    c->state = C_OPEN;
    c->ping_deadline_ms = info.ping_interval_ms + info.ping_timeout_ms;
    arm(c, c->ping_deadline_ms);
    log_debug("sioc", "session open sid=%s ping_interval=%llu", sid.data,
              (unsigned long long)info.ping_interval_ms);
    if (c->h->on_open != NULL)
        c->h->on_open(c, &info, c->ud);
    buf_release(&sid);
}

static void on_eio_text(struct sioc_conn *c, char *data, size_t len)
{
    struct eio_packet pkt;
    char detail[DETAIL_LEN];
    if (eio_packet_decode_text(data, len, &pkt) != 0) {
        end(c, sioc_reason_parse_error, "invalid Engine.IO packet", WS_CLOSE_PROTOCOL);
        return;
    }
    if (c->state == C_WAIT_OPEN) {
        on_open_packet(c, &pkt);
        return;
    }
    switch (pkt.type) {
    case EIO_PING:
        if (send_frame(c, WS_OP_TEXT, "3", 1, pkt.data, pkt.len) != 0)
            break;
        arm(c, c->ping_deadline_ms);
        if (c->h->on_ping != NULL)
            c->h->on_ping(c, c->ud);
        break;
    case EIO_MESSAGE:
        c->h->on_text(c, data + 1, len - 1, c->ud);
        break;
    case EIO_CLOSE:
        end(c, sioc_reason_transport_close, "the server sent an Engine.IO close packet",
            WS_CLOSE_NORMAL);
        break;
    case EIO_PONG:
    case EIO_NOOP:
        break;
    default:
        snprintf(detail, sizeof(detail), "unexpected Engine.IO packet type %d", (int)pkt.type);
        end(c, sioc_reason_parse_error, detail, WS_CLOSE_PROTOCOL);
        break;
    }
}

/* ---- WebSocket ---- */

static void on_close_frame(struct sioc_conn *c, const uint8_t *data, size_t len)
{
    char detail[DETAIL_LEN];
    c->close_code = len >= 2 ? ((unsigned)data[0] << 8 | data[1]) : NO_CLOSE_CODE;
    if (c->state == C_CLOSING) {
        end(c, sioc_reason_io_client_disconnect, "close handshake complete", 0);
        return;
    }
    snprintf(detail, sizeof(detail), "the server closed the WebSocket (code %u)", c->close_code);
    end(c, sioc_reason_transport_close, detail,
        c->close_code == NO_CLOSE_CODE ? WS_CLOSE_NORMAL : c->close_code);
}

static int on_ws_message(void *ud, enum ws_opcode op, uint8_t *data, size_t len)
{
    struct sioc_conn *c = ud;
    if (c->state == C_DONE)
        return 1;
    switch (op) {
    case WS_OP_PING:
        if (c->state != C_CLOSING)
            send_frame(c, WS_OP_PONG, NULL, 0, data, len);
        break;
    case WS_OP_PONG:
        break;
    case WS_OP_CLOSE:
        on_close_frame(c, data, len);
        return 1;
    case WS_OP_TEXT:
        if (c->state != C_CLOSING)
            on_eio_text(c, (char *)data, len);
        break;
    default:
        if (c->state == C_OPEN)
            c->h->on_binary(c, (const char *)data, len, c->ud);
        else if (c->state != C_CLOSING)
            end(c, sioc_reason_parse_error, "binary frame before the Engine.IO open packet",
                WS_CLOSE_PROTOCOL);
        break;
    }
    return c->state == C_DONE;
}

static void feed_frames(struct sioc_conn *c, char *data, size_t len)
{
    char detail[DETAIL_LEN];
    int rc = ws_reader_feed(&c->reader, (uint8_t *)data, len);
    if (rc <= 0)
        return; /* 0, or stopped by on_ws_message */
    if (rc == WS_CLOSE_TOO_BIG) {
        snprintf(detail, sizeof(detail), "the server sent a message over the %zu-byte limit",
                 c->cfg.max_message);
        end(c, sioc_reason_too_big, detail, WS_CLOSE_TOO_BIG);
    } else {
        snprintf(detail, sizeof(detail), "the server broke the WebSocket protocol (close %d)", rc);
        end(c, sioc_reason_parse_error, detail, (unsigned)rc);
    }
}

static void on_upgrade_data(struct sioc_conn *c, const char *data, size_t len)
{
    char err[DETAIL_LEN];
    if (buf_append(&c->head, data, len) != 0) {
        end(c, sioc_reason_handshake_error, "upgrade response head too long", 0);
        return;
    }
    size_t head_len = sioc_ws_head_end(c->head.data, c->head.len);
    if (head_len == 0)
        return;
    if (sioc_ws_check_response(c->head.data, head_len, c->key, err, sizeof(err)) != 0) {
        end(c, sioc_reason_handshake_error, err, 0);
        return;
    }
    c->state = C_WAIT_OPEN;
    if (c->head.len > head_len)
        feed_frames(c, c->head.data + head_len, c->head.len - head_len);
    buf_release(&c->head);
}

/* ---- Stream callbacks ---- */

static void on_stream_connected(void *ud)
{
    struct sioc_conn *c = ud;
    struct buf req;
    buf_init(&req, BUF_NO_CAP);
    sioc_ws_key(c->key);
    sioc_ws_request(&req, c->url, c->key);
    size_t n;
    char *bytes = buf_detach(&req, &n);
    c->state = C_UPGRADING;
    arm(c, c->cfg.handshake_timeout_ms);
    sioc_stream_write(c->stream, bytes, n);
}

static void on_stream_data(void *ud, char *data, size_t len)
{
    struct sioc_conn *c = ud;
    c->refs++;
    if (c->state == C_UPGRADING)
        on_upgrade_data(c, data, len);
    else if (c->state != C_DONE)
        feed_frames(c, data, len);
    c->refs--;
    maybe_free(c);
}

static void on_stream_error(void *ud, const char *reason, const char *detail)
{
    struct sioc_conn *c = ud;
    if (c->state == C_CLOSING)
        end(c, sioc_reason_io_client_disconnect, detail, 0);
    else
        end(c, reason, detail, 0);
}

static void on_stream_closed(void *ud)
{
    struct sioc_conn *c = ud;
    c->stream = NULL;
    close_timer(c);
    c->refs--;
    maybe_free(c);
}

static const struct sioc_stream_handler stream_handler = {
    on_stream_connected,
    on_stream_data,
    on_stream_error,
    on_stream_closed,
};

struct sioc_conn *sioc_conn_start(uv_loop_t *loop, const struct sioc_url *url,
                                  struct sioc_tls_ctx *tls, const struct sioc_conn_config *cfg,
                                  const struct sioc_conn_handler *h, void *ud)
{
    struct sioc_conn *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->url = url;
    c->cfg = *cfg;
    c->h = h;
    c->ud = ud;
    c->state = C_CONNECTING;
    buf_init(&c->head, SIOC_WS_MAX_HEAD);
    ws_reader_init(&c->reader, 0, cfg->max_message, on_ws_message, c);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->timer_open = 1;
    c->refs = 1;
    c->stream = sioc_stream_open(loop, url->host, url->port, tls, &stream_handler, c,
                                 c->start_error, sizeof(c->start_error));
    if (c->stream == NULL) {
        arm(c, 0); /* reports start_error from the loop, not from inside this call */
        return c;
    }
    c->refs++;
    arm(c, cfg->connect_timeout_ms);
    return c;
}
