/* The Engine.IO server (protocol v3 and v4): sessions identified by sid over HTTP long
 * polling and WebSocket, the upgrade from one to the other, heartbeats and limits. The layer
 * above (Socket.IO, or a raw echo) sees sessions open, messages arrive and sessions close. */
#ifndef ENGINEIO_EIO_SERVER_H
#define ENGINEIO_EIO_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/strmap.h"
#include "net/http_server.h"
#include "net/origin.h"

struct eio_session;
struct eio_server;

struct eio_config {
    uint64_t ping_interval_ms;
    uint64_t ping_timeout_ms;
    uint64_t upgrade_timeout_ms;
    size_t max_payload; /* bytes in one POST body or one WebSocket message */
    size_t max_packets; /* packets in one POST body */
    size_t max_queued;  /* bytes queued for a polling client that does not poll */
};

struct eio_callbacks {
    /* A new session; req is the handshake request (valid for the call only). */
    void (*on_open)(struct eio_session *s, const struct http_request *req, void *ud);
    /* A message packet; data is borrowed for the call. */
    void (*on_message)(struct eio_session *s, int binary, const char *data, size_t len, void *ud);
    /* The session is closed; no call may use s after this returns. */
    void (*on_close)(struct eio_session *s, const char *reason, void *ud);
};

struct eio_server {
    struct http_server *http;
    struct eio_config cfg;
    struct eio_callbacks cb;
    void *ud;
    struct strmap sessions;
    uv_loop_t *loop;
    const struct origin_list *origins; /* NULL: no Origin check (conformance mode) */
};

/* Serves Engine.IO on path of the HTTP server. cfg, cb are copied; ud is passed back. */
void eio_server_init(struct eio_server *e, struct http_server *http, const char *path,
                     const struct eio_config *cfg, const struct eio_callbacks *cb, void *ud);
/* Checks every request's Origin header against origins (borrowed, must outlive the server):
 * browsers may come from the request's own origin or a listed one; the others get 403. Without
 * this call, no Origin is checked. */
void eio_server_set_origins(struct eio_server *e, const struct origin_list *origins);
/* Closes every session (each client gets a close packet). */
void eio_server_close_all(struct eio_server *e, const char *reason);
void eio_server_release(struct eio_server *e);

/* Queues a message packet. Returns 0, or -1 if the session is closed (or just got closed
 * for exceeding its output cap). */
int eio_session_send(struct eio_session *s, int binary, const char *data, size_t len);
/* Closes the session from the server side; the client gets a close packet. on_close is
 * called before this returns. */
void eio_session_close(struct eio_session *s, const char *reason);
/* Engine.IO protocol version of the session (3 or 4). */
int eio_session_protocol(const struct eio_session *s);
const char *eio_session_id(const struct eio_session *s);
/* The layer above's pointer. */
void *eio_session_user(const struct eio_session *s);
void eio_session_set_user(struct eio_session *s, void *user);

#endif
