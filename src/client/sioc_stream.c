/* A client byte stream: DNS, TCP, optional TLS; see sioc_stream.h. */
#include "client/sioc_stream.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sioc.h"
#include "core/log.h"
#include "core/xalloc.h"

#define READ_BUF  65536
#define PLAIN_BUF 16384
#define ERR_LEN   256

enum stream_state {
    ST_RESOLVING,
    ST_CONNECTING,
    ST_TLS, /* TCP is up, TLS handshake in progress */
    ST_OPEN,
    ST_CLOSING,
};

struct sioc_stream {
    uv_loop_t *loop;
    uv_getaddrinfo_t gai;
    uv_connect_t connect_req;
    uv_tcp_t tcp;
    struct addrinfo *addrs;
    struct addrinfo *next_addr; /* the next address to try */
    struct sioc_tls_ctx *tls_ctx;
    struct sioc_tls *tls;
    char *host;
    const struct sioc_stream_handler *h;
    void *ud;
    enum stream_state state;
    int refs;          /* open handles, requests in flight, and calls out in progress */
    int resolving;     /* the getaddrinfo request has not completed */
    int tcp_open;      /* tcp is initialised and not closing */
    int failed;        /* on_error has run */
    int close_flushed; /* close the TCP handle once queued output is written */
    size_t queued;
    char last_error[ERR_LEN];
    char rbuf[READ_BUF];
    char plain[PLAIN_BUF];
};

struct write_req {
    uv_write_t req; /* first member: the request is the write_req */
    struct sioc_stream *s;
    char *data;
    size_t len;
};

/* ---- Teardown ---- */

static void maybe_free(struct sioc_stream *s)
{
    if (s->state != ST_CLOSING || s->refs > 0)
        return;
    s->refs = 1; /* nothing may free it again from inside on_closed */
    if (s->h->on_closed != NULL)
        s->h->on_closed(s->ud);
    sioc_tls_free(s->tls);
    if (s->addrs != NULL)
        uv_freeaddrinfo(s->addrs);
    free(s->host);
    free(s);
}

static void on_tcp_closed(uv_handle_t *handle)
{
    struct sioc_stream *s = handle->data;
    s->refs--;
    maybe_free(s);
}

static void close_tcp(struct sioc_stream *s)
{
    if (!s->tcp_open)
        return;
    s->tcp_open = 0;
    uv_close((uv_handle_t *)&s->tcp, on_tcp_closed);
}

static void flush_tls(struct sioc_stream *s);

void sioc_stream_close(struct sioc_stream *s, int flush)
{
    if (s->state == ST_CLOSING) {
        if (!flush && s->close_flushed)
            close_tcp(s);
        maybe_free(s);
        return;
    }
    int was_open = s->state == ST_OPEN;
    s->state = ST_CLOSING;
    if (s->resolving)
        uv_cancel((uv_req_t *)&s->gai); /* harmless if it is already running */
    if (flush && was_open && s->tls != NULL) {
        sioc_tls_shutdown(s->tls);
        flush_tls(s);
    }
    if (flush && was_open && s->queued > 0)
        s->close_flushed = 1;
    else
        close_tcp(s);
    maybe_free(s);
}

/* Reports a failure once, then closes. */
static void fail(struct sioc_stream *s, const char *reason, const char *detail)
{
    if (s->failed || s->state == ST_CLOSING)
        return;
    s->failed = 1;
    log_debug("sioc", "stream failed reason=\"%s\" detail=\"%s\"", reason, detail);
    s->refs++; /* the handler may close the stream: keep it until we are done */
    s->h->on_error(s->ud, reason, detail);
    s->refs--;
    sioc_stream_close(s, 0);
}

/* ---- Writing ---- */

static void on_write(uv_write_t *req, int status)
{
    struct write_req *wr = (struct write_req *)req;
    struct sioc_stream *s = wr->s;
    s->queued -= wr->len;
    free(wr->data);
    free(wr);
    s->refs--;
    if (status < 0 && status != UV_ECANCELED && s->state != ST_CLOSING)
        fail(s, sioc_reason_transport_error, uv_strerror(status));
    if (s->close_flushed && (s->queued == 0 || status < 0))
        close_tcp(s);
    maybe_free(s);
}

/* Hands data (malloc'd, taken) to libuv. */
static void queue_write(struct sioc_stream *s, char *data, size_t len)
{
    if (!s->tcp_open) {
        free(data);
        return;
    }
    struct write_req *wr = xmalloc(sizeof(*wr));
    wr->s = s;
    wr->data = data;
    wr->len = len;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&wr->req, (uv_stream_t *)&s->tcp, &b, 1, on_write);
    if (rc != 0) {
        free(data);
        free(wr);
        fail(s, sioc_reason_transport_error, uv_strerror(rc));
        return;
    }
    s->refs++;
    s->queued += len;
}

static void flush_tls(struct sioc_stream *s)
{
    size_t n;
    char *out;
    while ((out = sioc_tls_take_output(s->tls, &n)) != NULL)
        queue_write(s, out, n);
}

int sioc_stream_write(struct sioc_stream *s, char *data, size_t len)
{
    if (s->state != ST_OPEN || len > UINT32_MAX) {
        free(data);
        return -1;
    }
    if (s->tls == NULL) {
        queue_write(s, data, len);
        return 0;
    }
    int rc = sioc_tls_write(s->tls, data, len);
    free(data);
    if (rc != 0) {
        fail(s, sioc_reason_tls_error, "TLS write failed");
        return -1;
    }
    flush_tls(s);
    return 0;
}

size_t sioc_stream_queued(const struct sioc_stream *s)
{
    return s->queued;
}

/* ---- Reading ---- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct sioc_stream *s = handle->data;
    (void)suggested;
    *buf = uv_buf_init(s->rbuf, sizeof(s->rbuf));
}

static void established(struct sioc_stream *s)
{
    s->state = ST_OPEN;
    s->h->on_connected(s->ud);
}

/* Drives the TLS handshake with what has arrived. Returns 1 once it is done. */
static int tls_progress(struct sioc_stream *s)
{
    char err[ERR_LEN];
    int rc = sioc_tls_handshake(s->tls, err, sizeof(err));
    flush_tls(s); /* handshake messages, or the alert of a failure */
    if (rc < 0)
        fail(s, sioc_reason_tls_error, err);
    return rc == 1;
}

/* Decrypts and delivers everything that can be. */
static void tls_deliver(struct sioc_stream *s)
{
    char err[ERR_LEN];
    while (s->state == ST_OPEN) {
        int n = sioc_tls_read(s->tls, s->plain, sizeof(s->plain), err, sizeof(err));
        if (n == 0)
            break;
        if (n < 0) {
            fail(s, sioc_reason_transport_close, err);
            return;
        }
        s->h->on_data(s->ud, s->plain, (size_t)n);
    }
    if (s->state == ST_OPEN)
        flush_tls(s); /* TLS 1.3 may answer post-handshake messages */
}

static void on_tls_read(struct sioc_stream *s, const char *data, size_t len)
{
    if (sioc_tls_feed(s->tls, data, len) != 0) {
        fail(s, sioc_reason_tls_error, "cannot buffer TLS input");
        return;
    }
    if (s->state == ST_TLS) {
        if (!tls_progress(s))
            return;
        established(s);
    }
    tls_deliver(s);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct sioc_stream *s = stream->data;
    if (s->state == ST_CLOSING || nread == 0)
        return;
    if (nread == UV_EOF) {
        fail(s, sioc_reason_transport_close, "connection closed by the server");
        return;
    }
    if (nread < 0) {
        fail(s, sioc_reason_transport_error, uv_strerror((int)nread));
        return;
    }
    s->refs++;
    if (s->tls != NULL)
        on_tls_read(s, buf->base, (size_t)nread);
    else
        s->h->on_data(s->ud, buf->base, (size_t)nread);
    s->refs--;
    maybe_free(s);
}

/* ---- Connecting ---- */

static void try_next_address(struct sioc_stream *s);

static void on_retry_closed(uv_handle_t *handle)
{
    struct sioc_stream *s = handle->data;
    s->refs--;
    if (s->state == ST_CLOSING)
        maybe_free(s);
    else
        try_next_address(s);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct sioc_stream *s = req->data;
    s->refs--;
    if (s->state == ST_CLOSING) {
        maybe_free(s);
        return;
    }
    if (status < 0) {
        snprintf(s->last_error, sizeof(s->last_error), "connect to %s: %s", s->host,
                 uv_strerror(status));
        /* A handle that failed to connect cannot be reused: close it, then go on. */
        s->tcp_open = 0;
        uv_close((uv_handle_t *)&s->tcp, on_retry_closed);
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    if (rc != 0) {
        fail(s, sioc_reason_connect_error, uv_strerror(rc));
        return;
    }
    if (s->tls_ctx == NULL) {
        established(s);
        return;
    }
    s->state = ST_TLS;
    s->tls = sioc_tls_new(s->tls_ctx, s->host);
    tls_progress(s); /* sends the ClientHello */
}

static void try_next_address(struct sioc_stream *s)
{
    struct addrinfo *ai = s->next_addr;
    if (ai == NULL) {
        fail(s, sioc_reason_connect_error, s->last_error);
        return;
    }
    s->next_addr = ai->ai_next;
    uv_tcp_init(s->loop, &s->tcp);
    s->tcp.data = s;
    s->tcp_open = 1;
    s->refs++;
    s->connect_req.data = s;
    int rc = uv_tcp_connect(&s->connect_req, &s->tcp, ai->ai_addr, on_connect);
    if (rc != 0) {
        snprintf(s->last_error, sizeof(s->last_error), "connect to %s: %s", s->host,
                 uv_strerror(rc));
        s->tcp_open = 0;
        uv_close((uv_handle_t *)&s->tcp, on_retry_closed);
        return;
    }
    s->refs++;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct sioc_stream *s = req->data;
    s->refs--;
    s->resolving = 0;
    if (s->state == ST_CLOSING) {
        if (res != NULL)
            uv_freeaddrinfo(res);
        maybe_free(s);
        return;
    }
    if (status < 0) {
        char detail[ERR_LEN];
        snprintf(detail, sizeof(detail), "cannot resolve %s: %s", s->host, uv_strerror(status));
        fail(s, sioc_reason_connect_error, detail);
        return;
    }
    s->addrs = res;
    s->next_addr = res;
    s->state = ST_CONNECTING;
    snprintf(s->last_error, sizeof(s->last_error), "no address for %s", s->host);
    try_next_address(s);
}

struct sioc_stream *sioc_stream_open(uv_loop_t *loop, const char *host, int port,
                                     struct sioc_tls_ctx *tls, const struct sioc_stream_handler *h,
                                     void *ud, char *err, size_t errlen)
{
    struct sioc_stream *s = xcalloc(1, sizeof(*s));
    struct addrinfo hints;
    char service[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%d", port);
    s->loop = loop;
    s->tls_ctx = tls;
    s->host = xstrdup(host);
    s->h = h;
    s->ud = ud;
    s->state = ST_RESOLVING;
    s->gai.data = s;
    int rc = uv_getaddrinfo(loop, &s->gai, on_resolved, host, service, &hints);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, uv_strerror(rc));
        free(s->host);
        free(s);
        return NULL;
    }
    s->resolving = 1;
    s->refs = 1;
    return s;
}
