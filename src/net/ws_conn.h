/* A server-side WebSocket connection: the RFC 6455 handshake on an HTTP upgrade request,
 * then messages in and out over a conn, with the close handshake and protocol errors
 * answered by the right close code. */
#ifndef NET_WS_CONN_H
#define NET_WS_CONN_H

#include <stddef.h>

#include "net/conn.h"
#include "net/http_server.h"
#include "net/ws_frame.h"

struct ws_conn;

struct ws_handler {
    /* A complete text or binary message; data is borrowed for the call. */
    void (*on_message)(struct ws_conn *ws, enum ws_opcode op, char *data, size_t len, void *ud);
    /* The connection is gone (closed by either side or failed); called once. ws is freed
     * after the call returns. */
    void (*on_close)(struct ws_conn *ws, void *ud);
};

struct ws_conn {
    struct conn *conn;
    struct ws_reader reader;
    const struct ws_handler *handler;
    void *ud;
    int close_sent;
    int in_callback;
    int dead;
};

/* Checks the upgrade request, answers 101 and takes the connection over. On a bad request
 * it answers 400 itself and returns NULL. rest are bytes that followed the request;
 * they are parsed with the next read, so no callback runs before this returns. */
struct ws_conn *ws_conn_accept(struct http_conn *hc, const struct http_request *req, char *rest,
                               size_t rest_len, size_t max_message,
                               const struct ws_handler *handler, void *ud);
/* Sends one message made of two parts (prefix may be NULL): a frame header, then both.
 * Returns 0 or -1 if the connection is closing. */
int ws_conn_send(struct ws_conn *ws, enum ws_opcode op, const void *prefix, size_t prefix_len,
                 const void *data, size_t len);
/* Starts the close handshake with code; the connection closes once it is written. */
void ws_conn_close(struct ws_conn *ws, unsigned code);
/* Changes who gets the callbacks. */
void ws_conn_set_handler(struct ws_conn *ws, const struct ws_handler *handler, void *ud);

#endif
