/* A TCP connection on the libuv loop: reads go to a handler, writes are queued and flushed
 * once per loop iteration (so a burst of small packets costs one syscall), queued output is
 * capped (a peer that does not read is disconnected), and closing is two-phase. */
#ifndef NET_CONN_H
#define NET_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "core/list.h"

struct conn;
struct conn_pool;

struct conn_handler {
    /* Bytes read. data points into a buffer shared by all connections: it may be modified
     * in place and is valid only for the call. */
    void (*on_read)(struct conn *c, char *data, size_t len);
    /* Called exactly once when the connection closes, whatever the reason; the conn is
     * freed later, after libuv releases its handles. Optional. */
    void (*on_close)(struct conn *c);
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* deadline (header timeout, lingering close) */
    struct conn_pool *pool;
    const struct conn_handler *handler;
    void *owner;            /* the handler's state */
    struct buf out;         /* output not yet handed to libuv */
    size_t in_flight;       /* bytes handed to uv_write and not yet written */
    struct list dirty_link; /* in pool->dirty while out has bytes to flush */
    struct list all_link;   /* in pool->all */
    int closing;
    int close_after_flush;
    int lingering; /* shut down for writing; waiting for the peer's EOF */
    void (*drain_cb)(struct conn *c, void *ud); /* one-shot: all queued output written */
    void *drain_ud;
    int handles_open;
};

struct conn_pool {
    uv_loop_t *loop;
    uv_prepare_t flusher;
    struct list dirty;
    struct list all;
    size_t count;
    size_t max_output;
    char read_buf[65536];
};

void conn_pool_init(struct conn_pool *pool, uv_loop_t *loop, size_t max_output);
/* Stops the flusher handle; every conn must be closed first. */
void conn_pool_close(struct conn_pool *pool);

/* Accepts a pending connection from server and starts reading. Returns NULL on failure. */
struct conn *conn_accept(struct conn_pool *pool, uv_stream_t *server,
                         const struct conn_handler *handler, void *owner);
/* Queues data (copied). Returns 0, or -1 if the connection is closing or the cap on queued
 * output was exceeded, in which case the connection is being closed. */
int conn_write(struct conn *c, const void *data, size_t len);
/* Closes now, dropping queued output. Safe to call more than once. */
void conn_close(struct conn *c);
/* Closes once queued output is written: shuts down for writing and waits (briefly) for the
 * peer to close, so that a final error response is not lost to a reset. */
void conn_close_after_flush(struct conn *c);
/* Arms the deadline: when it fires the connection is closed. 0 disarms it. */
void conn_deadline(struct conn *c, uint64_t ms);
/* Calls cb once, when everything queued so far has been written (never synchronously). */
void conn_on_drain(struct conn *c, void (*cb)(struct conn *c, void *ud), void *ud);
/* Swaps the handler (used when HTTP turns into WebSocket). */
void conn_set_handler(struct conn *c, const struct conn_handler *handler, void *owner);
/* Bytes queued and not yet written. */
size_t conn_queued(const struct conn *c);

#endif
