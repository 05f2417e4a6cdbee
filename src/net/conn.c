/* A TCP connection on the libuv loop with batched, capped output; see conn.h. */
#include "net/conn.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"

#define LINGER_MS 2000

struct write_req {
    uv_write_t req;
    struct conn *conn;
    char *data;
    size_t len;
};

static void flush_one(struct conn *c);

/* Everything is written: the one-shot drain callback, if any. */
static void drained(struct conn *c)
{
    void (*cb)(struct conn *, void *) = c->drain_cb;
    c->drain_cb = NULL;
    if (cb != NULL)
        cb(c, c->drain_ud);
}

static void on_flush_all(uv_prepare_t *h)
{
    struct conn_pool *pool = h->data;
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &pool->dirty)
    {
        struct conn *c = container_of(pos, struct conn, dirty_link);
        list_remove(&c->dirty_link);
        flush_one(c);
    }
}

void conn_pool_init(struct conn_pool *pool, uv_loop_t *loop, size_t max_output)
{
    pool->loop = loop;
    pool->max_output = max_output;
    pool->count = 0;
    list_init(&pool->dirty);
    list_init(&pool->all);
    uv_prepare_init(loop, &pool->flusher);
    pool->flusher.data = pool;
    uv_prepare_start(&pool->flusher, on_flush_all);
}

void conn_pool_close(struct conn_pool *pool)
{
    uv_prepare_stop(&pool->flusher);
    uv_close((uv_handle_t *)&pool->flusher, NULL);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct conn *c = h->data;
    (void)suggested;
    b->base = c->pool->read_buf;
    b->len = sizeof(c->pool->read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0 || c->closing)
        return;
    if (c->lingering)
        return; /* discard what the peer still sends */
    c->handler->on_read(c, b->base, (size_t)nread);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    buf_release(&c->out);
    free(c);
}

static void on_deadline(uv_timer_t *t)
{
    struct conn *c = t->data;
    conn_close(c);
}

struct conn *conn_accept(struct conn_pool *pool, uv_stream_t *server,
                         const struct conn_handler *handler, void *owner)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    c->pool = pool;
    c->handler = handler;
    c->owner = owner;
    buf_init(&c->out, BUF_NO_CAP);
    list_init(&c->dirty_link);
    uv_tcp_init(pool->loop, &c->tcp);
    uv_timer_init(pool->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    list_insert_tail(&pool->all, &c->all_link);
    pool->count++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return NULL;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}

size_t conn_queued(const struct conn *c)
{
    return c->out.len + c->in_flight;
}

int conn_write(struct conn *c, const void *data, size_t len)
{
    if (c->closing || c->close_after_flush)
        return -1;
    if (conn_queued(c) + len > c->pool->max_output) {
        log_info("net", "closing a connection that does not read: queued=%zu",
                 conn_queued(c) + len);
        conn_close(c);
        return -1;
    }
    buf_append(&c->out, data, len);
    if (!list_linked(&c->dirty_link))
        list_insert_tail(&c->pool->dirty, &c->dirty_link);
    return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    free(req);
    if (status != 0)
        conn_close(c);
}

/* Everything is written: shut down for writing, then close on the peer's EOF or a timer. */
static void start_linger(struct conn *c)
{
    if (c->closing || c->lingering)
        return;
    c->lingering = 1;
    uv_shutdown_t *req = xmalloc(sizeof(*req));
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        free(req);
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_deadline, LINGER_MS, 0);
}

static void on_write_done(uv_write_t *req, int status)
{
    struct write_req *w = container_of(req, struct write_req, req);
    struct conn *c = w->conn;
    c->in_flight -= w->len;
    free(w->data);
    free(w);
    if (status != 0 || c->closing) {
        conn_close(c);
        return;
    }
    if (c->out.len > 0)
        flush_one(c);
    else if (c->close_after_flush)
        start_linger(c);
    else
        drained(c);
}

static void flush_one(struct conn *c)
{
    if (c->closing || c->in_flight > 0)
        return;
    if (c->out.len == 0) {
        if (c->close_after_flush)
            start_linger(c);
        else
            drained(c);
        return;
    }
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (n > 0)
        buf_consume(&c->out, (size_t)n);
    if (c->out.len == 0) {
        if (c->close_after_flush)
            start_linger(c);
        else
            drained(c);
        return;
    }
    struct write_req *w = xmalloc(sizeof(*w));
    w->conn = c;
    w->data = buf_detach(&c->out, &w->len);
    c->in_flight += w->len;
    b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write_done) != 0) {
        c->in_flight -= w->len;
        free(w->data);
        free(w);
        conn_close(c);
    }
}

void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->drain_cb = NULL;
    if (list_linked(&c->dirty_link))
        list_remove(&c->dirty_link);
    list_remove(&c->all_link);
    c->pool->count--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (c->handler != NULL && c->handler->on_close != NULL)
        c->handler->on_close(c);
}

void conn_close_after_flush(struct conn *c)
{
    if (c->closing || c->close_after_flush)
        return;
    c->close_after_flush = 1;
    uv_timer_stop(&c->timer);
    if (!list_linked(&c->dirty_link))
        list_insert_tail(&c->pool->dirty, &c->dirty_link);
}

void conn_deadline(struct conn *c, uint64_t ms)
{
    if (c->closing || c->close_after_flush)
        return;
    if (ms == 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_deadline, ms, 0);
}

void conn_on_drain(struct conn *c, void (*cb)(struct conn *c, void *ud), void *ud)
{
    c->drain_cb = cb;
    c->drain_ud = ud;
    if (!c->closing && !list_linked(&c->dirty_link))
        list_insert_tail(&c->pool->dirty, &c->dirty_link); /* checked at the next flush */
}

void conn_set_handler(struct conn *c, const struct conn_handler *handler, void *owner)
{
    c->handler = handler;
    c->owner = owner;
}
