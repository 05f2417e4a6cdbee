/* Engine.IO session core: routing of requests, handshake data, heartbeats, packet handling,
 * sending and closing; the transports live in eio_polling.c and eio_websocket.c. */
#include "engineio/eio_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/random_id.h"
#include "core/xalloc.h"

static const char *const error_messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version",
};

void eio_fail(struct http_conn *hc, int code)
{
    char body[96];
    snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code, error_messages[code]);
    http_conn_respond(hc, code == 4 ? 403 : 400, "application/json", NULL, body, strlen(body), 0);
}

void eio_parse_query(const struct http_request *req, struct eio_query *q)
{
    char v[16];
    memset(q, 0, sizeof(*q));
    if (http_request_query(req, "EIO", v, sizeof(v)) >= 0)
        q->protocol = strcmp(v, "4") == 0 ? 4 : strcmp(v, "3") == 0 ? 3 : 0;
    if (http_request_query(req, "transport", v, sizeof(v)) >= 0) {
        q->websocket = strcmp(v, "websocket") == 0;
        q->polling = strcmp(v, "polling") == 0;
    }
    if (http_request_query(req, "b64", v, sizeof(v)) >= 0)
        q->b64 = strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
    q->has_sid = http_request_query(req, "sid", q->sid, sizeof(q->sid)) > 0;
}

static void on_heartbeat(uv_timer_t *t);

struct eio_session *eio_session_new(struct eio_server *e, int protocol,
                                    enum eio_transport transport)
{
    struct eio_session *s = xcalloc(1, sizeof(*s));
    do {
        random_id(s->sid);
    } while (strmap_get(&e->sessions, s->sid) != NULL);
    s->srv = e;
    s->protocol = protocol;
    s->transport = transport;
    list_init(&s->queue);
    buf_init(&s->scratch, e->cfg.max_payload);
    uv_timer_init(e->loop, &s->heartbeat);
    uv_timer_init(e->loop, &s->upgrade_timer);
    s->heartbeat.data = s;
    s->upgrade_timer.data = s;
    s->handles_open = 2;
    strmap_put(&e->sessions, s->sid, s);
    /* v4: the server pings after pingInterval. v3: the client must ping within
     * pingInterval + pingTimeout. */
    uint64_t first =
        protocol == 4 ? e->cfg.ping_interval_ms : e->cfg.ping_interval_ms + e->cfg.ping_timeout_ms;
    uv_timer_start(&s->heartbeat, on_heartbeat, first, 0);
    log_debug("eio", "session open sid=%s protocol=%d transport=%s", s->sid, protocol,
              transport == EIO_POLLING ? "polling" : "websocket");
    return s;
}

void eio_open_packet(const struct eio_session *s, struct buf *out)
{
    const struct eio_config *cfg = &s->srv->cfg;
    buf_printf(out, "{\"sid\":\"%s\",\"upgrades\":%s,\"pingInterval\":%llu,\"pingTimeout\":%llu",
               s->sid, s->transport == EIO_POLLING ? "[\"websocket\"]" : "[]",
               (unsigned long long)cfg->ping_interval_ms, (unsigned long long)cfg->ping_timeout_ms);
    if (s->protocol == 4)
        buf_printf(out, ",\"maxPayload\":%zu", cfg->max_payload);
    buf_append_char(out, '}');
}

static void on_heartbeat(uv_timer_t *t)
{
    struct eio_session *s = t->data;
    const struct eio_config *cfg = &s->srv->cfg;
    if (s->protocol == 3 || s->awaiting_pong) {
        eio_session_shutdown(s, "ping timeout", EIO_CLOSE);
        return;
    }
    s->awaiting_pong = 1;
    eio_session_send_packet(s, EIO_PING, 0, "", 0);
    if (!s->closed)
        uv_timer_start(&s->heartbeat, on_heartbeat, cfg->ping_timeout_ms, 0);
}

static void on_pong(struct eio_session *s)
{
    if (s->protocol != 4 || !s->awaiting_pong)
        return;
    s->awaiting_pong = 0;
    uv_timer_start(&s->heartbeat, on_heartbeat, s->srv->cfg.ping_interval_ms, 0);
}

static void on_client_ping(struct eio_session *s, const struct eio_packet *pkt)
{
    if (s->protocol == 3) {
        const struct eio_config *cfg = &s->srv->cfg;
        uv_timer_start(&s->heartbeat, on_heartbeat, cfg->ping_interval_ms + cfg->ping_timeout_ms,
                       0);
    }
    eio_session_send_packet(s, EIO_PONG, 0, pkt->data, pkt->len);
}

void eio_session_on_packet(struct eio_session *s, const struct eio_packet *pkt)
{
    if (s->closed)
        return;
    switch (pkt->type) {
    case EIO_MESSAGE:
        s->srv->cb.on_message(s, pkt->binary, pkt->data, pkt->len, s->srv->ud);
        return;
    case EIO_PING:
        on_client_ping(s, pkt);
        return;
    case EIO_PONG:
        on_pong(s);
        return;
    case EIO_CLOSE:
        eio_session_shutdown(s, "client close", EIO_NOOP);
        return;
    case EIO_NOOP:
        return;
    default:
        log_info("eio", "unexpected packet sid=%s type=%d", s->sid, pkt->type);
        eio_session_shutdown(s, "protocol error", EIO_CLOSE);
        return;
    }
}

int eio_session_send_packet(struct eio_session *s, enum eio_type type, int binary, const char *data,
                            size_t len)
{
    if (s->closed)
        return -1;
    if (s->transport == EIO_WEBSOCKET)
        return eio_websocket_send(s, s->ws, type, binary, data, len);
    if (s->queued_bytes + len > s->srv->cfg.max_queued) {
        log_info("eio", "closing a polling session that does not poll: sid=%s queued=%zu", s->sid,
                 s->queued_bytes + len);
        eio_session_shutdown(s, "output cap", EIO_CLOSE);
        return -1;
    }
    struct eio_out *o = xmalloc(sizeof(*o) + len);
    o->type = type;
    o->binary = binary;
    o->len = len;
    memcpy(o->data, data, len);
    list_insert_tail(&s->queue, &o->link);
    s->queued_bytes += len;
    eio_polling_flush(s);
    return 0;
}

int eio_session_send(struct eio_session *s, int binary, const char *data, size_t len)
{
    return eio_session_send_packet(s, EIO_MESSAGE, binary, data, len);
}

static void on_session_handle_closed(uv_handle_t *h)
{
    struct eio_session *s = h->data;
    if (--s->handles_open > 0)
        return;
    buf_release(&s->scratch);
    free(s);
}

void eio_session_shutdown(struct eio_session *s, const char *reason, enum eio_type to_get)
{
    if (s->closed)
        return;
    eio_queue_clear(s);
    if (s->held_get != NULL)
        eio_polling_release_get(s, to_get);
    if (s->post != NULL) {
        http_conn_hold(s->post, NULL, NULL);
        s->post = NULL;
    }
    s->closed = 1;
    eio_websocket_close_all(s);
    strmap_remove(&s->srv->sessions, s->sid);
    uv_timer_stop(&s->heartbeat);
    uv_timer_stop(&s->upgrade_timer);
    uv_close((uv_handle_t *)&s->heartbeat, on_session_handle_closed);
    uv_close((uv_handle_t *)&s->upgrade_timer, on_session_handle_closed);
    log_debug("eio", "session closed sid=%s reason=\"%s\"", s->sid, reason);
    s->srv->cb.on_close(s, reason, s->srv->ud);
}

void eio_session_close(struct eio_session *s, const char *reason)
{
    eio_session_shutdown(s, reason, EIO_CLOSE);
}

int eio_session_protocol(const struct eio_session *s)
{
    return s->protocol;
}

const char *eio_session_id(const struct eio_session *s)
{
    return s->sid;
}

void *eio_session_user(const struct eio_session *s)
{
    return s->user;
}

void eio_session_set_user(struct eio_session *s, void *user)
{
    s->user = user;
}

/* ---- routing ---- */

static int route_check(const struct eio_query *q, int upgrade)
{
    if (!q->polling && !q->websocket)
        return 0;
    if (q->protocol == 0)
        return 5;
    if (q->websocket && !upgrade && !q->has_sid)
        return 3;
    return -1;
}

static void on_post_aborted(struct http_conn *hc, void *ud)
{
    struct eio_session *s = ud;
    (void)hc;
    s->post = NULL;
}

/* The Origin check, before anything else is looked at: returns 0 to go on (with CORS headers
 * added for an allowed cross-origin request), or 403 after answering the refusal. */
static int check_origin(struct eio_server *e, struct http_conn *hc, const struct http_request *req)
{
    static const char refusal[] = "{\"code\":4,\"message\":\"Origin not allowed\"}";
    const char *origin = http_request_header(req, HTTP_H_ORIGIN);
    enum origin_verdict v =
        origin_decide(e->origins, origin, http_request_header(req, HTTP_H_HOST));
    if (v == ORIGIN_LISTED) {
        struct buf cors;
        buf_init(&cors, BUF_NO_CAP);
        buf_printf(&cors,
                   "Access-Control-Allow-Origin: %s\r\nAccess-Control-Allow-Credentials: true\r\n"
                   "Vary: Origin\r\n",
                   origin);
        http_conn_add_headers(hc, cors.data);
        buf_release(&cors);
    }
    if (v != ORIGIN_REFUSED)
        return 0;
    /* The query is never logged: it may carry a session token or a key. */
    log_info("eio", "origin refused: origin=\"%.200s\"%s", origin,
             req->upgrade ? " (websocket upgrade)" : "");
    http_conn_respond(hc, 403, "application/json", NULL, refusal, sizeof(refusal) - 1, 1);
    return 403;
}

/* A request's headers: refuse a browser from a foreign origin; refuse a POST that is too
 * large or overlaps another POST, closing the session as engine.io does; otherwise remember
 * the POST until its body is in. */
static int on_headers(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct eio_server *e = ud;
    if (e->origins != NULL && check_origin(e, hc, req) != 0)
        return 403;
    if (req->method != HTTP_POST)
        return 0;
    struct eio_query q;
    eio_parse_query(req, &q);
    struct eio_session *s = q.has_sid ? strmap_get(&e->sessions, q.sid) : NULL;
    if (s == NULL || s->transport != EIO_POLLING)
        return 0; /* answered once complete */
    if (req->has_content_length && req->content_length > e->cfg.max_payload) {
        eio_session_shutdown(s, "payload too large", EIO_CLOSE);
        return 413;
    }
    if (s->post != NULL) {
        log_info("eio", "overlapping polling POST sid=%s", s->sid);
        eio_session_shutdown(s, "overlapping post", EIO_CLOSE);
        return 400;
    }
    s->post = hc;
    http_conn_hold(hc, on_post_aborted, s);
    return 0;
}

/* A CORS preflight (the Origin was checked with the headers). */
static void answer_preflight(struct http_conn *hc)
{
    static const char headers[] = "Access-Control-Allow-Methods: GET, POST\r\n"
                                  "Access-Control-Allow-Headers: content-type\r\n"
                                  "Access-Control-Max-Age: 600\r\n";
    http_conn_respond(hc, 204, NULL, headers, "", 0, 0);
}

static void on_request(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct eio_server *e = ud;
    struct eio_query q;
    if (e->origins != NULL && req->method == HTTP_OPTIONS) {
        answer_preflight(hc);
        return;
    }
    eio_parse_query(req, &q);
    int code = route_check(&q, 0);
    if (code >= 0) {
        eio_fail(hc, code);
        return;
    }
    if (!q.has_sid) {
        if (req->method != HTTP_GET)
            eio_fail(hc, 2);
        else if (!q.polling)
            eio_fail(hc, 3);
        else
            eio_polling_handshake(e, hc, &q, req);
        return;
    }
    struct eio_session *s = strmap_get(&e->sessions, q.sid);
    if (s == NULL) {
        eio_fail(hc, 1);
        return;
    }
    if (s->post == hc) {
        /* Its body is in: whatever the answer, it no longer overlaps anything. */
        http_conn_hold(hc, NULL, NULL);
        s->post = NULL;
    }
    if (!q.polling || s->transport != EIO_POLLING || q.protocol != s->protocol) {
        eio_fail(hc, 3);
        return;
    }
    if (req->method == HTTP_GET)
        eio_polling_get(s, hc);
    else if (req->method == HTTP_POST)
        eio_polling_post(s, hc, req);
    else
        eio_fail(hc, 2);
}

static void on_upgrade(struct http_conn *hc, const struct http_request *req, char *rest,
                       size_t rest_len, void *ud)
{
    struct eio_server *e = ud;
    struct eio_query q;
    eio_parse_query(req, &q);
    int code = route_check(&q, 1);
    if (code < 0 && !q.websocket)
        code = 3;
    if (code >= 0) {
        eio_fail(hc, code);
        return;
    }
    eio_websocket_upgrade(e, hc, req, rest, rest_len);
}

static const struct http_route_ops eio_route_ops = {
    .on_headers = on_headers, .on_request = on_request, .on_upgrade = on_upgrade};

void eio_server_init(struct eio_server *e, struct http_server *http, const char *path,
                     const struct eio_config *cfg, const struct eio_callbacks *cb, void *ud)
{
    memset(e, 0, sizeof(*e));
    e->http = http;
    e->loop = http->loop;
    e->cfg = *cfg;
    e->cb = *cb;
    e->ud = ud;
    strmap_init(&e->sessions);
    http_server_route(http, path, &eio_route_ops, e);
}

void eio_server_set_origins(struct eio_server *e, const struct origin_list *origins)
{
    e->origins = origins;
}

static void collect_session(const char *key, void *value, void *ud)
{
    struct eio_session ***cursor = ud;
    (void)key;
    *(*cursor)++ = value;
}

void eio_server_close_all(struct eio_server *e, const char *reason)
{
    size_t n = e->sessions.count;
    if (n == 0)
        return;
    struct eio_session **all = xcalloc(n, sizeof(*all));
    struct eio_session **cursor = all;
    strmap_each(&e->sessions, collect_session, &cursor);
    for (size_t i = 0; i < n; i++)
        eio_session_shutdown(all[i], reason, EIO_CLOSE);
    free(all);
}

void eio_server_release(struct eio_server *e)
{
    strmap_release(&e->sessions);
}
