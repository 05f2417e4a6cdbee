/* One connection attempt and, once it opens, one Engine.IO v4 session over WebSocket: the
 * upgrade request on a sioc_stream, then frames read by ws_reader, the Engine.IO open
 * packet, pongs for the server's pings, the ping timeout, and the close handshake.
 * Engine.IO message payloads (Socket.IO packets) and binary frames go to the handler. One
 * deadline timer covers every wait: connect, handshake, next ping, close. */
#ifndef CLIENT_SIOC_CONN_H
#define CLIENT_SIOC_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "client/sioc_tls.h"
#include "client/sioc_url.h"

struct sioc_conn;

struct sioc_conn_config {
    uint64_t connect_timeout_ms;
    uint64_t handshake_timeout_ms;
    uint64_t close_timeout_ms;
    size_t max_message; /* largest WebSocket message accepted */
    size_t max_output;  /* bytes queued to a server that does not read: past it, the session
                           ends (sioc_reason_transport_error) */
};

/* What the server's open packet said. */
struct sioc_open_info {
    const char *sid;
    uint64_t ping_interval_ms;
    uint64_t ping_timeout_ms;
};

struct sioc_conn_handler {
    void (*on_open)(struct sioc_conn *c, const struct sioc_open_info *info, void *ud);
    /* A ping was answered. */
    void (*on_ping)(struct sioc_conn *c, void *ud);
    /* An Engine.IO message in a text frame: its payload without the type byte; data may be
     * modified in place and is valid for the call. */
    void (*on_text)(struct sioc_conn *c, char *data, size_t len, void *ud);
    /* A binary frame (an Engine.IO binary message). */
    void (*on_binary)(struct sioc_conn *c, const char *data, size_t len, void *ud);
    /* The attempt failed or the session ended (reason: a sioc_reason_* string); exactly once
     * unless sioc_conn_abort() came first. Sending is refused from then on. */
    void (*on_end)(struct sioc_conn *c, const char *reason, const char *detail, void *ud);
    /* The conn's memory is released; always the last call, even after an abort. */
    void (*on_released)(void *ud);
};

/* Starts connecting to url (borrowed: it must outlive the conn), over TLS when tls is not
 * NULL. Callbacks never run before this returns. */
struct sioc_conn *sioc_conn_start(uv_loop_t *loop, const struct sioc_url *url,
                                  struct sioc_tls_ctx *tls, const struct sioc_conn_config *cfg,
                                  const struct sioc_conn_handler *h, void *ud);
/* Sends an Engine.IO message: "4" + data in a text frame, or data in a binary frame.
 * Returns 0, or -1 when the session is not open or data is over max_message. */
int sioc_conn_send_text(struct sioc_conn *c, const char *data, size_t len);
int sioc_conn_send_binary(struct sioc_conn *c, const void *data, size_t len);
/* Bytes queued to the socket and not yet written. */
size_t sioc_conn_queued(const struct sioc_conn *c);
/* Starts the close handshake (close frame 1000); on_end follows with
 * sioc_reason_io_client_disconnect when the server has answered or close_timeout_ms has
 * passed. Before the session is open this ends it at once, the same way. */
void sioc_conn_close(struct sioc_conn *c);
/* Ends the session because the server broke a protocol above Engine.IO: a close frame
 * 1002 goes out and on_end follows with reason and detail. */
void sioc_conn_fail(struct sioc_conn *c, const char *reason, const char *detail);
/* Ends everything now; only on_released runs afterwards. */
void sioc_conn_abort(struct sioc_conn *c);
/* The code of the server's close frame (1005 when it had none), 0 if none came. */
unsigned sioc_conn_close_code(const struct sioc_conn *c);

#endif
