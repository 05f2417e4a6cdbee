/* The client's life: options, connecting, the session's events (open, ping, end), leaving
 * cleanly, reconnecting with backoff, and closing in two phases (libuv handles first, then
 * memory). */
#include <stdlib.h>
#include <string.h>

#include "client/sioc_backoff.h"
#include "client/sioc_internal.h"
#include "core/log.h"
#include "core/xalloc.h"

const char sioc_err_timeout[] = "ack timeout";
const char sioc_err_disconnected[] = "disconnected before the ack";
const char sioc_err_closed[] = "client closed";

const char sioc_reason_io_server_disconnect[] = "io server disconnect";
const char sioc_reason_io_client_disconnect[] = "io client disconnect";
const char sioc_reason_ping_timeout[] = "ping timeout";
const char sioc_reason_transport_close[] = "transport close";
const char sioc_reason_transport_error[] = "transport error";
const char sioc_reason_parse_error[] = "parse error";
const char sioc_reason_too_big[] = "message too big";
const char sioc_reason_connect_error[] = "connect error";
const char sioc_reason_connect_timeout[] = "connect timeout";
const char sioc_reason_tls_error[] = "tls error";
const char sioc_reason_handshake_error[] = "handshake error";
const char sioc_reason_handshake_timeout[] = "handshake timeout";

#define MIN_MESSAGE 1024

const char *sioc_strerror(int err)
{
    switch (err) {
    case SIOC_OK:
        return "ok";
    case SIOC_ERR_BAD_URL:
        return "bad URL";
    case SIOC_ERR_BAD_JSON:
        return "invalid JSON, or not the expected array or object";
    case SIOC_ERR_BAD_ARGUMENT:
        return "bad argument";
    case SIOC_ERR_NOT_CONNECTED:
        return "not connected";
    case SIOC_ERR_TOO_BIG:
        return "too big";
    case SIOC_ERR_STATE:
        return "not allowed in the current state";
    case SIOC_ERR_TLS:
        return "TLS set-up failed";
    default:
        return "unknown error";
    }
}

void sioc_options_init(struct sioc_options *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 10000;
    o->handshake_timeout_ms = 10000;
    o->close_timeout_ms = 2000;
    o->ack_timeout_ms = 30000;
    o->max_message = 16 * 1024 * 1024;
    o->max_output = 64 * 1024 * 1024;
    o->max_attachments = 10;
    o->reconnect = 1;
    o->reconnect_base_ms = 1000;
    o->reconnect_cap_ms = 5000;
    o->reconnect_jitter = 0.5;
}

/* Zero in a timeout or size means its default. */
static void fill_defaults(struct sioc_options *o)
{
    struct sioc_options d;
    sioc_options_init(&d);
#define DEFAULT(field)                                                                             \
    do {                                                                                           \
        if (o->field == 0)                                                                         \
            o->field = d.field;                                                                    \
    } while (0)
    DEFAULT(connect_timeout_ms);
    DEFAULT(handshake_timeout_ms);
    DEFAULT(close_timeout_ms);
    DEFAULT(ack_timeout_ms);
    DEFAULT(max_message);
    DEFAULT(max_output);
    DEFAULT(max_attachments);
    DEFAULT(reconnect_base_ms);
    DEFAULT(reconnect_cap_ms);
#undef DEFAULT
    if (o->max_message < MIN_MESSAGE)
        o->max_message = MIN_MESSAGE;
    if (o->reconnect_cap_ms < o->reconnect_base_ms)
        o->reconnect_cap_ms = o->reconnect_base_ms;
}

/* ---- Freeing ---- */

static void maybe_finish(struct sioc_client *c)
{
    if (c->state != CS_FREEING || c->handles_open > 0 || c->live_conns > 0)
        return;
    if (c->close_cb != NULL) {
        void (*cb)(struct sioc_client *, void *) = c->close_cb;
        c->close_cb = NULL;
        cb(c, c->ud);
    }
    while (!list_empty(&c->sockets))
        sioc_socket_free(container_of(c->sockets.next, struct sioc_socket, link));
    sioc_inbound_reset(c);
    sioc_tls_ctx_free(c->tls);
    sioc_url_release(&c->url);
    free(c->ca_file);
    free(c);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct sioc_client *c = handle->data;
    c->handles_open--;
    maybe_finish(c);
}

static void on_conn_released(void *ud)
{
    struct sioc_client *c = ud;
    c->live_conns--;
    maybe_finish(c);
}

/* ---- Session events ---- */

static void start_attempt(struct sioc_client *c);

static void on_reconnect_timer(uv_timer_t *timer)
{
    struct sioc_client *c = timer->data;
    if (c->state != CS_WAITING)
        return;
    c->stats.reconnect_attempts++;
    start_attempt(c);
}

/* After a failed attempt or a lost session: the next attempt, or giving up. */
static void maybe_reconnect(struct sioc_client *c)
{
    if (!c->opts.reconnect || c->state != CS_IDLE)
        return;
    c->attempt++;
    if (c->opts.reconnect_max_attempts != 0 && c->attempt > c->opts.reconnect_max_attempts) {
        log_info(SIOC_LOG, "giving up after %u reconnection attempts", c->attempt - 1);
        c->attempt = 0;
        if (c->cbs.on_reconnect_failed != NULL)
            c->cbs.on_reconnect_failed(c, c->ud);
        return;
    }
    struct sioc_backoff b = {c->opts.reconnect_base_ms, c->opts.reconnect_cap_ms,
                             c->opts.reconnect_jitter};
    uint64_t delay = sioc_backoff_delay(&b, c->attempt, sioc_backoff_random());
    c->state = CS_WAITING;
    uv_timer_start(&c->reconnect_timer, on_reconnect_timer, delay, 0);
    log_info(SIOC_LOG, "reconnecting attempt=%u delay_ms=%llu", c->attempt,
             (unsigned long long)delay);
    if (c->cbs.on_reconnecting != NULL)
        c->cbs.on_reconnecting(c, c->attempt, delay, c->ud);
}

static void on_conn_open(struct sioc_conn *conn, const struct sioc_open_info *info, void *ud)
{
    struct sioc_client *c = ud;
    (void)conn;
    c->state = CS_OPEN;
    c->attempt = 0;
    c->session++;
    c->stats.opens++;
    c->stats.ping_interval_ms = info->ping_interval_ms;
    c->stats.ping_timeout_ms = info->ping_timeout_ms;
    log_info(SIOC_LOG, "session open host=%s sid=%s", c->url.host, info->sid);
    if (c->cbs.on_open != NULL)
        c->cbs.on_open(c, c->ud);
    if (c->state == CS_OPEN)
        sioc_sockets_on_open(c);
}

static void on_conn_ping(struct sioc_conn *conn, void *ud)
{
    struct sioc_client *c = ud;
    (void)conn;
    c->stats.pings++;
}

static void on_conn_text(struct sioc_conn *conn, char *data, size_t len, void *ud)
{
    struct sioc_client *c = ud;
    if (conn == c->conn && c->state == CS_OPEN)
        sioc_inbound_text(c, data, len);
}

static void on_conn_binary(struct sioc_conn *conn, const char *data, size_t len, void *ud)
{
    struct sioc_client *c = ud;
    if (conn == c->conn && c->state == CS_OPEN)
        sioc_inbound_binary(c, data, len);
}

static void on_conn_end(struct sioc_conn *conn, const char *reason, const char *detail, void *ud)
{
    struct sioc_client *c = ud;
    if (conn != c->conn)
        return;
    enum sioc_client_state was = c->state;
    unsigned code = sioc_conn_close_code(conn);
    c->conn = NULL;
    c->state = CS_IDLE;
    if (code != 0)
        c->stats.last_close_code = code;
    sioc_inbound_reset(c);
    log_info(SIOC_LOG, "connection ended reason=\"%s\" detail=\"%s\"", reason, detail);
    if (was == CS_OPEN) {
        sioc_sockets_on_lost(c, reason);
        sioc_ack_fail(c, NULL, sioc_err_disconnected);
    }
    if (c->state == CS_FREEING)
        return; /* a callback above closed the client */
    if (was == CS_CONNECTING) {
        if (c->cbs.on_connect_error != NULL)
            c->cbs.on_connect_error(c, reason, detail, c->ud);
    } else if (c->cbs.on_disconnect != NULL) {
        c->cbs.on_disconnect(c, reason, detail, c->ud);
    }
    if (was != CS_CLOSING)
        maybe_reconnect(c); /* unless a callback connected again or closed the client */
}

static const struct sioc_conn_handler conn_handler = {
    on_conn_open, on_conn_ping, on_conn_text, on_conn_binary, on_conn_end, on_conn_released,
};

static void start_attempt(struct sioc_client *c)
{
    struct sioc_conn_config cfg = {
        .connect_timeout_ms = c->opts.connect_timeout_ms,
        .handshake_timeout_ms = c->opts.handshake_timeout_ms,
        .close_timeout_ms = c->opts.close_timeout_ms,
        .max_message = c->opts.max_message,
        .max_output = c->opts.max_output,
    };
    c->state = CS_CONNECTING;
    c->live_conns++;
    c->conn = sioc_conn_start(c->loop, &c->url, c->tls, &cfg, &conn_handler, c);
}

/* ---- Used by the other parts ---- */

int sioc_client_send(struct sioc_client *c, const char *text, size_t len,
                     const struct sioc_binary *attachments, size_t n_attachments)
{
    if (c->state != CS_OPEN || c->conn == NULL)
        return SIOC_ERR_NOT_CONNECTED;
    size_t total = len + 1 + SIOC_FRAME_OVERHEAD;
    if (len + 1 > c->opts.max_message)
        return SIOC_ERR_TOO_BIG;
    for (size_t i = 0; i < n_attachments; i++) {
        if (attachments[i].len > c->opts.max_message)
            return SIOC_ERR_TOO_BIG;
        total += attachments[i].len + SIOC_FRAME_OVERHEAD;
    }
    if (total > c->opts.max_output || sioc_conn_queued(c->conn) > c->opts.max_output - total)
        return SIOC_ERR_TOO_BIG;
    if (sioc_conn_send_text(c->conn, text, len) != 0)
        return SIOC_ERR_NOT_CONNECTED;
    for (size_t i = 0; i < n_attachments; i++) {
        if (sioc_conn_send_binary(c->conn, attachments[i].data, attachments[i].len) != 0)
            return SIOC_ERR_NOT_CONNECTED;
    }
    return 0;
}

void sioc_client_protocol_error(struct sioc_client *c, const char *detail)
{
    log_info(SIOC_LOG, "protocol error from the server: %s", detail);
    if (c->conn != NULL)
        sioc_conn_fail(c->conn, sioc_reason_parse_error, detail);
}

/* ---- Public ---- */

int sioc_client_new(uv_loop_t *loop, const char *url, const struct sioc_options *opts,
                    const struct sioc_client_callbacks *cbs, void *ud, struct sioc_client **out)
{
    struct sioc_url u;
    char err[SIOC_TLS_ERR_LEN];
    *out = NULL;
    if (sioc_url_parse(url, &u) != 0)
        return SIOC_ERR_BAD_URL;
    struct sioc_client *c = xcalloc(1, sizeof(*c));
    if (opts != NULL)
        c->opts = *opts;
    else
        sioc_options_init(&c->opts);
    fill_defaults(&c->opts);
    c->ca_file = c->opts.ca_file != NULL ? xstrdup(c->opts.ca_file) : NULL;
    c->opts.ca_file = c->ca_file;
    if (u.tls) {
        c->tls = sioc_tls_ctx_new(c->ca_file, c->opts.tls_insecure, err, sizeof(err));
        if (c->tls == NULL) {
            log_error(SIOC_LOG, "TLS set-up failed: %s", err);
            sioc_url_release(&u);
            free(c->ca_file);
            free(c);
            return SIOC_ERR_TLS;
        }
    }
    c->loop = loop;
    c->url = u;
    if (cbs != NULL)
        c->cbs = *cbs;
    c->ud = ud;
    c->state = CS_IDLE;
    list_init(&c->sockets);
    list_init(&c->acks);
    uv_timer_init(loop, &c->reconnect_timer);
    uv_timer_init(loop, &c->ack_timer);
    c->reconnect_timer.data = c;
    c->ack_timer.data = c;
    c->handles_open = 2;
    *out = c;
    return 0;
}

int sioc_client_connect(struct sioc_client *c)
{
    if (c->state != CS_IDLE)
        return SIOC_ERR_STATE;
    c->attempt = 0;
    start_attempt(c);
    return 0;
}

void sioc_client_disconnect(struct sioc_client *c)
{
    struct sioc_conn *conn = c->conn;
    switch (c->state) {
    case CS_OPEN:
        sioc_sockets_leave_all(c);
        c->state = CS_CLOSING;
        sioc_conn_close(conn);
        sioc_sockets_on_lost(c, sioc_reason_io_client_disconnect);
        sioc_ack_fail(c, NULL, sioc_err_disconnected);
        break;
    case CS_CONNECTING:
        c->state = CS_IDLE;
        c->conn = NULL;
        sioc_conn_abort(conn);
        break;
    case CS_WAITING:
        uv_timer_stop(&c->reconnect_timer);
        c->state = CS_IDLE;
        break;
    default:
        break;
    }
}

void sioc_client_close(struct sioc_client *c, void (*close_cb)(struct sioc_client *c, void *ud))
{
    if (c->state == CS_FREEING)
        return;
    c->state = CS_FREEING;
    c->close_cb = close_cb;
    if (c->conn != NULL) {
        struct sioc_conn *conn = c->conn;
        c->conn = NULL;
        sioc_conn_abort(conn);
    }
    uv_close((uv_handle_t *)&c->reconnect_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->ack_timer, on_handle_closed);
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->sockets)
    {
        struct sioc_socket *s = container_of(pos, struct sioc_socket, link);
        s->state = SS_IDLE;
    }
    sioc_ack_fail(c, NULL, sioc_err_closed);
}

int sioc_client_is_open(const struct sioc_client *c)
{
    return c->state == CS_OPEN;
}

const struct sioc_stats *sioc_client_stats(const struct sioc_client *c)
{
    return &c->stats;
}

void *sioc_client_userdata(const struct sioc_client *c)
{
    return c->ud;
}
