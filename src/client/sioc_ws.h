/* The client side of RFC 6455 with no I/O: the opening handshake (a random key, the upgrade
 * request, checking the server's 101 answer and its Sec-WebSocket-Accept) and masked
 * frames. Reading the server's frames is ws_reader's job (net/ws_frame.h). */
#ifndef CLIENT_SIOC_WS_H
#define CLIENT_SIOC_WS_H

#include <stddef.h>

#include "client/sioc_url.h"
#include "core/buf.h"
#include "net/ws_frame.h"

#define SIOC_WS_KEY_LEN    24 /* base64 of 16 random bytes */
#define SIOC_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 digest */
#define SIOC_WS_MAX_HEAD   16384

/* Writes a fresh random Sec-WebSocket-Key and a NUL. */
void sioc_ws_key(char out[SIOC_WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept a server must answer to key. Returns 0 or -1. */
int sioc_ws_accept(const char *key, char out[SIOC_WS_ACCEPT_LEN + 1]);
/* Appends the upgrade request for u with key. */
void sioc_ws_request(struct buf *out, const struct sioc_url *u, const char *key);
/* Offset just past the blank line ending the response head in data[0..len), or 0 if it is
 * not complete yet. */
size_t sioc_ws_head_end(const char *data, size_t len);
/* Checks a complete response head: status 101, Upgrade: websocket, Connection: upgrade,
 * the right Sec-WebSocket-Accept, no extension or subprotocol we did not ask for. Returns 0,
 * or -1 with a reason in err. */
int sioc_ws_check_response(const char *head, size_t len, const char *key, char *err, size_t errlen);
/* Appends one complete masked frame (fin set) carrying prefix then data, with a fresh random
 * mask. Returns 0 or -1 when out's cap is reached. */
int sioc_ws_frame(struct buf *out, enum ws_opcode op, const void *prefix, size_t prefix_len,
                  const void *data, size_t len);

#endif
