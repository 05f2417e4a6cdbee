/* The HTTP/1.1 server: listener, connection limits, header deadlines, routing by path, and
 * responses that may be given later (an Engine.IO polling GET is held until there is
 * something to send). A WebSocket upgrade hands the connection over to ws_conn. */
#ifndef NET_HTTP_SERVER_H
#define NET_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/conn.h"
#include "net/http_request.h"

struct http_conn;

struct http_limits {
    size_t max_header_bytes;
    size_t max_headers;
    size_t max_body;
    uint64_t header_timeout_ms;
    size_t max_connections;
};

struct http_route_ops {
    /* Headers are complete (the body is not read yet). Return 0 to go on, or an HTTP status
     * to refuse: the server answers it and closes the connection. Optional. */
    int (*on_headers)(struct http_conn *hc, const struct http_request *req, void *ud);
    /* The request is complete. Answer with http_conn_respond(), now or after
     * http_conn_hold(). req is valid only during the call. */
    void (*on_request)(struct http_conn *hc, const struct http_request *req, void *ud);
    /* Streams the body instead of buffering it (no max_body cap: the route caps it): called
     * per chunk between on_headers and on_request. Return 0, or an HTTP status to refuse
     * (the server answers it and closes). Optional. */
    int (*on_body)(struct http_conn *hc, const char *data, size_t len, void *ud);
    /* A complete `Upgrade:` request; rest[0..rest_len) are bytes that followed it. Take the
     * connection with ws_conn_accept() or answer with http_conn_respond(). Optional. */
    void (*on_upgrade)(struct http_conn *hc, const struct http_request *req, char *rest,
                       size_t rest_len, void *ud);
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct conn_pool *pool;
    struct http_limits limits;
    struct http_route *routes;
    int port;
    int stopped;
};

/* Called when the connection dies while its response is held. */
typedef void (*http_abort_cb)(struct http_conn *hc, void *ud);

void http_server_init(struct http_server *srv, uv_loop_t *loop, struct conn_pool *pool,
                      const struct http_limits *limits);
/* Routes requests whose path is `path` (with or without a trailing slash) to ops. The
 * strings and ops are borrowed and must outlive the server. */
void http_server_route(struct http_server *srv, const char *path, const struct http_route_ops *ops,
                       void *ud);
/* Routes requests whose path starts with prefix and goes on (exact routes win). */
void http_server_route_prefix(struct http_server *srv, const char *prefix,
                              const struct http_route_ops *ops, void *ud);
/* Binds and listens; srv->port holds the bound port. Returns 0 or a libuv error. */
int http_server_listen(struct http_server *srv, const char *host, int port);
/* Stops accepting (existing connections carry on). */
void http_server_stop(struct http_server *srv);
void http_server_release(struct http_server *srv);

/* Keeps the request open: the response will come later. abort_cb (may be NULL) is called
 * if the connection dies before the response; after it, hc must not be used. May also be
 * called from on_headers, to learn of a connection that dies while its body is read;
 * http_conn_hold(hc, NULL, NULL) forgets the callback. */
void http_conn_hold(struct http_conn *hc, http_abort_cb abort_cb, void *ud);
/* Sends the response. content_type may be NULL (no body type); extra_headers, if not NULL,
 * is a block of "Name: value\r\n" lines. close: close the connection after it. Every
 * response also carries X-Content-Type-Options, Referrer-Policy, X-Frame-Options and a
 * Content-Security-Policy that allows nothing, unless extra_headers has a
 * Content-Security-Policy line of its own. */
void http_conn_respond(struct http_conn *hc, int status, const char *content_type,
                       const char *extra_headers, const void *body, size_t len, int close);
/* Starts a response whose body (len bytes) follows in chunks with http_conn_stream_write();
 * http_conn_stream_end() after the last one. drain: see http_conn_on_drain(). */
void http_conn_stream_start(struct http_conn *hc, int status, const char *content_type,
                            uint64_t len);
int http_conn_stream_write(struct http_conn *hc, const void *data, size_t len);
void http_conn_stream_end(struct http_conn *hc);
/* Calls cb once when what was written so far has left (to write the next chunk without
 * queueing more than a chunk). cb does not run if the connection dies first (the hold's
 * abort callback does). */
void http_conn_on_drain(struct http_conn *hc, void (*cb)(struct http_conn *hc, void *ud), void *ud);
/* Adds "Name: value\r\n" lines to the next response on hc only (whoever sends it), e.g. CORS
 * headers decided from the request's headers, or a Content-Security-Policy for a response
 * started with http_conn_stream_start(). */
void http_conn_add_headers(struct http_conn *hc, const char *lines);
/* A pointer for the route, per connection (cleared by nothing: the route owns it). */
void http_conn_set_data(struct http_conn *hc, void *data);
void *http_conn_data(const struct http_conn *hc);
/* Answers status with a small JSON or text body and closes the connection. */
void http_conn_fail(struct http_conn *hc, int status, const char *body);
/* Gives up HTTP on this connection and returns the raw conn (for WebSocket); hc is freed. */
struct conn *http_conn_detach(struct http_conn *hc);
const char *http_status_text(int status);

#endif
