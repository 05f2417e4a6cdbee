/* The HTTP/1.1 server; see http_server.h. */
#include "net/http_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/xalloc.h"

struct http_route {
    const char *path;
    size_t path_len;
    int prefix; /* matches every path that starts with path */
    const struct http_route_ops *ops;
    void *ud;
    struct http_route *next;
};

struct http_conn {
    struct conn *conn;
    struct http_server *srv;
    struct http_reader parser;
    struct buf pending; /* input that arrived while a response was outstanding */
    const struct http_route *route;
    http_abort_cb abort_cb;
    void *abort_ud;
    int awaiting_response;
    int in_process;
    int dead;    /* the connection closed; freed when process() unwinds */
    int refused; /* an error was answered; ignore further input */
    void *data;  /* the route's */
    void (*drain_cb)(struct http_conn *hc, void *ud);
    void *drain_ud;
    struct buf next_headers; /* http_conn_add_headers(): for the next response only */
};

/* On every response (but the 101 of a WebSocket upgrade, which ws_conn writes). */
#define SECURITY_HEADERS                                                                           \
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"
/* Unless the route sends a policy of its own (a web page does). */
#define DEFAULT_CSP "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"

static void process(struct http_conn *hc, char *data, size_t len);

const char *http_status_text(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static void on_conn_read(struct conn *c, char *data, size_t len)
{
    struct http_conn *hc = c->owner;
    if (hc->refused)
        return;
    if (hc->awaiting_response || hc->in_process) {
        if (buf_append(&hc->pending, data, len) != 0)
            conn_close(c);
        return;
    }
    process(hc, data, len);
}

static void free_http_conn(struct http_conn *hc)
{
    http_reader_release(&hc->parser);
    buf_release(&hc->pending);
    buf_release(&hc->next_headers);
    free(hc);
}

static void on_conn_close(struct conn *c)
{
    struct http_conn *hc = c->owner;
    hc->dead = 1;
    if (hc->abort_cb != NULL)
        hc->abort_cb(hc, hc->abort_ud);
    hc->abort_cb = NULL;
    if (!hc->in_process)
        free_http_conn(hc);
}

static const struct conn_handler http_handler = {on_conn_read, on_conn_close};

/* A connection refused for being one too many: what it sends is ignored. */
static void on_refused_read(struct conn *c, char *data, size_t len)
{
    (void)c, (void)data, (void)len;
}

static const struct conn_handler refused_handler = {on_refused_read, NULL};

static void refuse_connection(struct http_server *srv)
{
    static const char msg[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
        "Content-Length: 20\r\nConnection: close\r\n" SECURITY_HEADERS DEFAULT_CSP "\r\n"
        "too many connections";
    struct conn *c = conn_accept(srv->pool, (uv_stream_t *)&srv->listener, &refused_handler, NULL);
    if (c == NULL)
        return;
    conn_write(c, msg, sizeof(msg) - 1);
    conn_close_after_flush(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    if (status != 0 || srv->stopped)
        return;
    if (srv->pool->count >= srv->limits.max_connections) {
        log_warn("http", "connection refused: max_connections=%zu reached",
                 srv->limits.max_connections);
        refuse_connection(srv);
        return;
    }
    struct http_conn *hc = xcalloc(1, sizeof(*hc));
    hc->srv = srv;
    http_reader_init(&hc->parser, srv->limits.max_header_bytes, srv->limits.max_headers,
                     srv->limits.max_body);
    buf_init(&hc->pending, srv->limits.max_header_bytes + srv->limits.max_body);
    buf_init(&hc->next_headers, srv->limits.max_header_bytes + 512);
    hc->conn = conn_accept(srv->pool, listener, &http_handler, hc);
    if (hc->conn == NULL)
        return; /* on_conn_close freed hc */
    conn_deadline(hc->conn, srv->limits.header_timeout_ms);
}

void http_server_init(struct http_server *srv, uv_loop_t *loop, struct conn_pool *pool,
                      const struct http_limits *limits)
{
    memset(srv, 0, sizeof(*srv));
    srv->loop = loop;
    srv->pool = pool;
    srv->limits = *limits;
}

void http_server_route(struct http_server *srv, const char *path, const struct http_route_ops *ops,
                       void *ud)
{
    struct http_route *r = xcalloc(1, sizeof(*r));
    r->path = path;
    r->path_len = strlen(path);
    while (r->path_len > 1 && path[r->path_len - 1] == '/')
        r->path_len--;
    r->ops = ops;
    r->ud = ud;
    r->next = srv->routes;
    srv->routes = r;
}

void http_server_route_prefix(struct http_server *srv, const char *prefix,
                              const struct http_route_ops *ops, void *ud)
{
    http_server_route(srv, prefix, ops, ud);
    srv->routes->prefix = 1;
    srv->routes->path_len = strlen(prefix);
}

int http_server_listen(struct http_server *srv, const char *host, int port)
{
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc != 0)
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
    if (rc != 0)
        return rc;
    uv_tcp_init(srv->loop, &srv->listener);
    srv->listener.data = srv;
    rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection);
    if (rc != 0)
        return rc;
    int len = sizeof(addr);
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&addr, &len);
    srv->port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
    return 0;
}

void http_server_stop(struct http_server *srv)
{
    if (srv->stopped)
        return;
    srv->stopped = 1;
    if (uv_is_active((uv_handle_t *)&srv->listener) || srv->port != 0)
        uv_close((uv_handle_t *)&srv->listener, NULL);
}

void http_server_release(struct http_server *srv)
{
    struct http_route *r = srv->routes;
    while (r != NULL) {
        struct http_route *next = r->next;
        free(r);
        r = next;
    }
    srv->routes = NULL;
}

static const struct http_route *find_route(const struct http_server *srv,
                                           const struct http_request *req)
{
    size_t len;
    const char *path = http_request_path(req, &len);
    while (len > 1 && path[len - 1] == '/')
        len--;
    for (const struct http_route *r = srv->routes; r != NULL; r = r->next) {
        if (!r->prefix && r->path_len == len && memcmp(r->path, path, len) == 0)
            return r;
    }
    for (const struct http_route *r = srv->routes; r != NULL; r = r->next) {
        if (r->prefix && len > r->path_len && memcmp(r->path, path, r->path_len) == 0)
            return r;
    }
    return NULL;
}

/* Whether a block of "Name: value\r\n" lines has a line called name (case-insensitive). */
static int has_header(const char *lines, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = lines; p != NULL && *p != '\0';) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            return 1;
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return 0;
}

/* Writes the status line and headers: the caller's, those added for this response, and the
 * security headers. */
static int write_head(struct http_conn *hc, int status, const char *content_type,
                      const char *extra_headers, uint64_t len, int close)
{
    struct buf head;
    buf_init(&head, BUF_NO_CAP);
    buf_printf(&head, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
    if (status != 204) /* RFC 9110: a 204 has no Content-Length */
        buf_printf(&head, "Content-Length: %llu\r\n", (unsigned long long)len);
    if (content_type != NULL)
        buf_printf(&head, "Content-Type: %s\r\n", content_type);
    if (extra_headers != NULL)
        buf_append_str(&head, extra_headers);
    int own_csp = has_header(extra_headers, "Content-Security-Policy");
    if (hc->next_headers.len > 0) {
        own_csp = own_csp || has_header(hc->next_headers.data, "Content-Security-Policy");
        buf_append(&head, hc->next_headers.data, hc->next_headers.len);
        buf_reset(&hc->next_headers);
    }
    buf_append_str(&head, SECURITY_HEADERS);
    if (!own_csp)
        buf_append_str(&head, DEFAULT_CSP);
    if (close)
        buf_append_str(&head, "Connection: close\r\n");
    buf_append_str(&head, "\r\n");
    int rc = conn_write(hc->conn, head.data, head.len);
    buf_release(&head);
    return rc;
}

/* The response is out: close, or get ready for the next request. */
static void response_done(struct http_conn *hc, int close)
{
    hc->awaiting_response = 0;
    hc->abort_cb = NULL;
    hc->drain_cb = NULL;
    if (close) {
        hc->refused = 1;
        conn_close_after_flush(hc->conn);
        return;
    }
    http_reader_next(&hc->parser);
    conn_deadline(hc->conn, hc->srv->limits.header_timeout_ms);
    if (!hc->in_process && hc->pending.len > 0) {
        size_t plen;
        char *pending = buf_detach(&hc->pending, &plen);
        process(hc, pending, plen);
        free(pending);
    }
}

void http_conn_respond(struct http_conn *hc, int status, const char *content_type,
                       const char *extra_headers, const void *body, size_t len, int close)
{
    if (write_head(hc, status, content_type, extra_headers, len, close) != 0 ||
        (len > 0 && conn_write(hc->conn, body, len) != 0)) {
        hc->awaiting_response = 0;
        hc->abort_cb = NULL;
        return; /* the connection is closing */
    }
    response_done(hc, close);
}

void http_conn_stream_start(struct http_conn *hc, int status, const char *content_type,
                            uint64_t len)
{
    write_head(hc, status, content_type, NULL, len, 0);
}

int http_conn_stream_write(struct http_conn *hc, const void *data, size_t len)
{
    return conn_write(hc->conn, data, len);
}

void http_conn_stream_end(struct http_conn *hc)
{
    response_done(hc, 0);
}

static void on_conn_drained(struct conn *c, void *ud)
{
    struct http_conn *hc = ud;
    void (*cb)(struct http_conn *, void *) = hc->drain_cb;
    (void)c;
    hc->drain_cb = NULL;
    if (cb != NULL)
        cb(hc, hc->drain_ud);
}

void http_conn_on_drain(struct http_conn *hc, void (*cb)(struct http_conn *hc, void *ud), void *ud)
{
    hc->drain_cb = cb;
    hc->drain_ud = ud;
    conn_on_drain(hc->conn, on_conn_drained, hc);
}

void http_conn_add_headers(struct http_conn *hc, const char *lines)
{
    if (buf_append_str(&hc->next_headers, lines) != 0)
        log_warn("http", "response headers dropped: over %zu bytes", hc->next_headers.max);
}

void http_conn_set_data(struct http_conn *hc, void *data)
{
    hc->data = data;
}

void *http_conn_data(const struct http_conn *hc)
{
    return hc->data;
}

void http_conn_fail(struct http_conn *hc, int status, const char *body)
{
    const char *type = body[0] == '{' ? "application/json" : "text/plain; charset=UTF-8";
    http_conn_respond(hc, status, type, NULL, body, strlen(body), 1);
}

void http_conn_hold(struct http_conn *hc, http_abort_cb abort_cb, void *ud)
{
    hc->abort_cb = abort_cb;
    hc->abort_ud = ud;
}

struct conn *http_conn_detach(struct http_conn *hc)
{
    struct conn *c = hc->conn;
    conn_deadline(c, 0);
    conn_set_handler(c, NULL, NULL);
    free_http_conn(hc);
    return c;
}

static void on_parse_error(struct http_conn *hc)
{
    int status = hc->parser.status ? hc->parser.status : 400;
    log_info("http", "bad request: status=%d reason=\"%s\"", status,
             hc->parser.reason ? hc->parser.reason : "");
    char body[160];
    snprintf(body, sizeof(body), "%s", http_status_text(status));
    http_conn_fail(hc, status, body);
}

static int route_body(void *ud, const char *data, size_t len)
{
    struct http_conn *hc = ud;
    return hc->route->ops->on_body(hc, data, len, hc->route->ud);
}

static int on_headers(struct http_conn *hc)
{
    const struct http_request *req = &hc->parser.req;
    hc->route = find_route(hc->srv, req);
    if (hc->route == NULL) {
        http_conn_fail(hc, 404, "Not Found");
        return -1;
    }
    int status = 0;
    int streaming = hc->route->ops->on_body != NULL;
    if (hc->route->ops->on_headers != NULL)
        status = hc->route->ops->on_headers(hc, req, hc->route->ud);
    if (status == 0 && !streaming && req->has_content_length &&
        req->content_length > hc->srv->limits.max_body)
        status = 413;
    if (status == 0 && streaming) {
        hc->parser.body_cb = route_body;
        hc->parser.body_ud = hc;
    }
    if (status != 0) {
        if (!hc->refused)
            http_conn_fail(hc, status, http_status_text(status));
        return -1;
    }
    return 0;
}

/* Parses input and dispatches requests until the input is used up or a response is held. */
static void process(struct http_conn *hc, char *data, size_t len)
{
    hc->in_process = 1;
    while (!hc->refused && !hc->dead) {
        size_t used = 0;
        enum http_event ev = http_reader_feed(&hc->parser, data, len, &used);
        data += used;
        len -= used;
        if (ev == HTTP_EV_NEED_MORE)
            break;
        if (ev == HTTP_EV_ERROR) {
            on_parse_error(hc);
            break;
        }
        if (ev == HTTP_EV_HEADERS) {
            if (on_headers(hc) != 0)
                break;
            continue;
        }
        const struct http_route *route = hc->route;
        conn_deadline(hc->conn, 0);
        hc->awaiting_response = 1;
        if (ev == HTTP_EV_UPGRADE) {
            hc->in_process = 0; /* on_upgrade may free hc */
            if (route->ops->on_upgrade != NULL)
                route->ops->on_upgrade(hc, &hc->parser.req, data, len, route->ud);
            else
                http_conn_fail(hc, 400, "Bad Request");
            return; /* hc may be gone */
        }
        route->ops->on_request(hc, &hc->parser.req, route->ud);
        if (hc->awaiting_response && !hc->dead) {
            if (len > 0 && buf_append(&hc->pending, data, len) != 0)
                conn_close(hc->conn);
            break;
        }
    }
    hc->in_process = 0;
    if (hc->dead)
        free_http_conn(hc);
}
