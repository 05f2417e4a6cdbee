/* A client byte stream on libuv: resolves the host, connects over TCP (trying each address
 * in turn), runs TLS on top when asked, then carries plaintext both ways. It has no timers:
 * deadlines belong to the caller, who closes the stream when one passes. */
#ifndef CLIENT_SIOC_STREAM_H
#define CLIENT_SIOC_STREAM_H

#include <stddef.h>
#include <uv.h>

#include "client/sioc_tls.h"

struct sioc_stream;

struct sioc_stream_handler {
    /* TCP (and TLS, when asked) is up: writes are accepted from now on. */
    void (*on_connected)(void *ud);
    /* Plaintext from the server; data may be modified in place, valid for the call. */
    void (*on_data)(void *ud, char *data, size_t len);
    /* The connection failed or was lost (reason: a sioc_reason_* string); at most once and
     * never after sioc_stream_close(). The stream closes itself after this returns. */
    void (*on_error)(void *ud, const char *reason, const char *detail);
    /* Every handle and request is released; the stream is freed after this returns. */
    void (*on_closed)(void *ud);
};

/* Starts resolving and connecting to host:port, over TLS when tls is not NULL (the context
 * must outlive the stream). No callback runs before this returns. Returns NULL, with err
 * filled, when resolution could not even start. */
struct sioc_stream *sioc_stream_open(uv_loop_t *loop, const char *host, int port,
                                     struct sioc_tls_ctx *tls, const struct sioc_stream_handler *h,
                                     void *ud, char *err, size_t errlen);
/* Sends data (a malloc'd block: the stream takes it and frees it, even on error). Returns 0,
 * or -1 when the stream is not connected or closing. */
int sioc_stream_write(struct sioc_stream *s, char *data, size_t len);
/* Bytes handed to the socket and not yet written. */
size_t sioc_stream_queued(const struct sioc_stream *s);
/* Ends the connection. With flush, queued output (and a TLS close_notify) is written
 * first; a later call without flush cuts it short. Only on_closed runs afterwards. */
void sioc_stream_close(struct sioc_stream *s, int flush);

#endif
