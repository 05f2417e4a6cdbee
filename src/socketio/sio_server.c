/* Socket.IO server: one client per Engine.IO session, namespaces, and the dispatch of
 * packets (CONNECT, DISCONNECT, EVENT, ACK and their binary forms with attachments). */
#include "socketio/sio_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"

static void client_fail(struct sio_client *c, const char *why)
{
    log_info("sio", "closing client sid=%s reason=\"%s\"", eio_session_id(c->eio), why);
    eio_session_close(c->eio, why);
}

/* ---- namespaces ---- */

struct sio_namespace *sio_server_of(struct sio_server *srv, const char *name)
{
    for (struct sio_namespace *n = srv->namespaces; n != NULL; n = n->next) {
        if (strcmp(n->name, name) == 0)
            return n;
    }
    struct sio_namespace *n = xcalloc(1, sizeof(*n));
    n->name = xstrdup(name);
    n->srv = srv;
    list_init(&n->sockets);
    strmap_init(&n->rooms);
    n->next = srv->namespaces;
    srv->namespaces = n;
    return n;
}

void sio_namespace_on_connect(struct sio_namespace *nsp, sio_connect_cb check,
                              sio_connected_cb connected, void *ud)
{
    nsp->check = check;
    nsp->connected = connected;
    nsp->connect_ud = ud;
}

void sio_namespace_on_disconnect(struct sio_namespace *nsp, sio_disconnect_cb cb, void *ud)
{
    nsp->on_disconnect = cb;
    nsp->disconnect_ud = ud;
}

void sio_namespace_on(struct sio_namespace *nsp, const char *event, sio_event_cb cb, void *ud)
{
    struct sio_handler *h = xcalloc(1, sizeof(*h));
    h->event = xstrdup(event);
    h->cb = cb;
    h->ud = ud;
    h->next = nsp->handlers;
    nsp->handlers = h;
}

static struct sio_namespace *find_namespace(struct sio_server *srv, const char *name, size_t len)
{
    for (struct sio_namespace *n = srv->namespaces; n != NULL; n = n->next) {
        if (strlen(n->name) == len && memcmp(n->name, name, len) == 0)
            return n;
    }
    return NULL;
}

static struct sio_socket *find_socket(struct sio_client *c, const char *nsp, size_t len)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->sockets)
    {
        struct sio_socket *s = container_of(pos, struct sio_socket, client_link);
        if (strlen(s->nsp->name) == len && memcmp(s->nsp->name, nsp, len) == 0)
            return s;
    }
    return NULL;
}

/* ---- CONNECT ---- */

static void send_connect_error(struct sio_client *c, const char *nsp, size_t nsp_len,
                               const char *message)
{
    struct buf text;
    char *name = xmemdup0(nsp, nsp_len);
    buf_init(&text, BUF_NO_CAP);
    sio_packet_header(&text, SIO_CONNECT_ERROR, 0, name, SIO_NO_ACK);
    free(name);
    /* message is ours (no characters that need escaping). socket.io 4 answers EIO3
     * clients with the same object form, and socket.io-client 2.x reads it. */
    buf_printf(&text, "{\"message\":\"%s\"}", message);
    sio_client_send(c, &text, NULL, 0);
    buf_release(&text);
}

const char sio_connect_defer[] = "deferred";

/* Accepts (refusal NULL) or refuses a socket whose CONNECT was decided. */
static void finish_connect(struct sio_socket *sock, const char *refusal, const char *auth,
                           size_t auth_len)
{
    struct sio_client *c = sock->client;
    struct sio_namespace *nsp = sock->nsp;
    if (refusal != NULL) {
        send_connect_error(c, nsp->name, strlen(nsp->name), refusal);
        list_remove(&sock->client_link);
        list_remove(&sock->nsp_link);
        free(sock);
        return;
    }
    uv_timer_stop(&c->connect_timer);
    struct buf text;
    buf_init(&text, BUF_NO_CAP);
    sio_packet_header(&text, SIO_CONNECT, 0, nsp->name, SIO_NO_ACK);
    if (c->protocol == 5)
        buf_printf(&text, "{\"sid\":\"%s\"}", sock->id);
    sio_client_send(c, &text, NULL, 0);
    buf_release(&text);
    if (nsp->connected != NULL)
        nsp->connected(sock, auth, auth_len, nsp->connect_ud);
}

static void connect_namespace(struct sio_client *c, const char *name, size_t name_len,
                              const char *auth, size_t auth_len)
{
    struct sio_namespace *nsp = find_namespace(c->srv, name, name_len);
    if (nsp == NULL) {
        send_connect_error(c, name, name_len, "Invalid namespace");
        return;
    }
    if (find_socket(c, name, name_len) != NULL) {
        log_debug("sio", "duplicate CONNECT ignored sid=%s nsp=%s", eio_session_id(c->eio),
                  nsp->name);
        return;
    }
    if (auth_len == 0) {
        auth = "{}";
        auth_len = 2;
    }
    struct sio_socket *sock = sio_socket_new(c, nsp);
    const char *refusal =
        nsp->check != NULL ? nsp->check(sock, auth, auth_len, nsp->connect_ud) : NULL;
    if (refusal == sio_connect_defer) {
        sock->pending = 1;
        return;
    }
    finish_connect(sock, refusal, auth, auth_len);
}

void sio_socket_connect_decide(struct sio_socket *sock, const char *refusal)
{
    if (!sock->pending)
        return;
    sock->pending = 0;
    finish_connect(sock, refusal, "{}", 2);
}

/* ---- packets ---- */

static void dispatch_event(struct sio_socket *sock, const struct sio_packet *pkt,
                           const struct sio_bin *bins, size_t nbins)
{
    struct sio_event ev = {0};
    ev.name = sio_packet_event_name(pkt, &ev.name_len);
    ev.args = sio_packet_args(pkt, &ev.args_len);
    ev.bins = bins;
    ev.nbins = nbins;
    ev.ack_id = pkt->ack_id;
    if (pkt->type == SIO_ACK || pkt->type == SIO_BINARY_ACK) {
        ev.name = NULL;
        ev.name_len = 0;
        sio_socket_on_ack(sock, &ev);
        return;
    }
    if (ev.name == NULL)
        return; /* numeric event names are valid but nothing listens to them */
    for (struct sio_handler *h = sock->nsp->handlers; h != NULL; h = h->next) {
        if (strlen(h->event) == ev.name_len && memcmp(h->event, ev.name, ev.name_len) == 0) {
            h->cb(sock, &ev, h->ud);
            return; /* sock may be gone */
        }
    }
}

static void handle_packet(struct sio_client *c, const struct sio_packet *pkt,
                          const struct sio_bin *bins, size_t nbins)
{
    if (pkt->type == SIO_CONNECT) {
        connect_namespace(c, pkt->nsp, pkt->nsp_len, pkt->data, pkt->data_len);
        return;
    }
    struct sio_socket *sock = find_socket(c, pkt->nsp, pkt->nsp_len);
    if (sock == NULL) {
        if (pkt->type == SIO_DISCONNECT)
            return;
        client_fail(c, "packet for a namespace not joined");
        return;
    }
    if (pkt->type == SIO_DISCONNECT) {
        sio_socket_destroy(sock, "client namespace disconnect");
        return;
    }
    if (sock->pending) {
        log_debug("sio", "event before the CONNECT was decided, ignored sid=%s", sock->id);
        return;
    }
    dispatch_event(sock, pkt, bins, nbins);
}

static void partial_clear(struct sio_partial *p)
{
    for (long i = 0; i < p->received; i++)
        free((void *)p->bins[i].data);
    free(p->bins);
    free(p->text);
    memset(p, 0, sizeof(*p));
}

static void on_text(struct sio_client *c, const char *data, size_t len)
{
    struct sio_packet pkt;
    if (c->partial.text != NULL) {
        client_fail(c, "packet while attachments were awaited");
        return;
    }
    int rc = sio_packet_decode(data, len, c->srv->cfg.max_attachments, &pkt);
    if (rc != SIO_DECODE_OK) {
        client_fail(c, sio_decode_error_name(rc));
        return;
    }
    if ((pkt.type == SIO_BINARY_EVENT || pkt.type == SIO_BINARY_ACK) && pkt.attachments > 0) {
        struct sio_partial *p = &c->partial;
        p->text = xmemdup0(data, len);
        p->text_len = len;
        p->expected = pkt.attachments;
        p->bins = xcalloc((size_t)pkt.attachments, sizeof(*p->bins));
        return;
    }
    handle_packet(c, &pkt, NULL, 0);
}

static void on_binary(struct sio_client *c, const char *data, size_t len)
{
    struct sio_partial *p = &c->partial;
    if (p->text == NULL) {
        client_fail(c, "unexpected binary attachment");
        return;
    }
    p->bins[p->received].data = xmemdup0(data, len);
    p->bins[p->received].len = len;
    if (++p->received < p->expected)
        return;
    struct sio_partial done = *p;
    memset(p, 0, sizeof(*p));
    struct sio_packet pkt;
    sio_packet_decode(done.text, done.text_len, c->srv->cfg.max_attachments, &pkt);
    handle_packet(c, &pkt, done.bins, (size_t)done.received);
    partial_clear(&done);
}

/* ---- Engine.IO callbacks ---- */

static void on_connect_timeout(uv_timer_t *t)
{
    struct sio_client *c = t->data;
    if (list_empty(&c->sockets))
        client_fail(c, "no namespace joined in time");
}

static void on_eio_open(struct eio_session *s, const struct http_request *req, void *ud)
{
    struct sio_server *srv = ud;
    (void)req;
    struct sio_client *c = xcalloc(1, sizeof(*c));
    c->srv = srv;
    c->eio = s;
    c->protocol = eio_session_protocol(s) == 3 ? 4 : 5;
    list_init(&c->sockets);
    list_insert_tail(&srv->clients, &c->link);
    srv->client_count++;
    uv_timer_init(srv->loop, &c->connect_timer);
    c->connect_timer.data = c;
    eio_session_set_user(s, c);
    if (c->protocol == 4) {
        connect_namespace(c, "/", 1, NULL, 0); /* v4: "/" is joined implicitly */
        return;
    }
    uv_timer_start(&c->connect_timer, on_connect_timeout, srv->cfg.connect_timeout_ms, 0);
}

static void on_eio_message(struct eio_session *s, int binary, const char *data, size_t len,
                           void *ud)
{
    struct sio_client *c = eio_session_user(s);
    (void)ud;
    if (binary)
        on_binary(c, data, len);
    else
        on_text(c, data, len);
}

static void on_client_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_eio_close(struct eio_session *s, const char *reason, void *ud)
{
    struct sio_client *c = eio_session_user(s);
    struct sio_server *srv = ud;
    c->closed = 1;
    while (!list_empty(&c->sockets)) {
        struct sio_socket *sock = container_of(c->sockets.next, struct sio_socket, client_link);
        sio_socket_destroy(sock, reason);
    }
    partial_clear(&c->partial);
    list_remove(&c->link);
    srv->client_count--;
    uv_timer_stop(&c->connect_timer);
    uv_close((uv_handle_t *)&c->connect_timer, on_client_timer_closed);
}

struct sio_server *sio_server_new(struct http_server *http, const char *path,
                                  const struct eio_config *eio_cfg, const struct sio_config *cfg)
{
    static const struct eio_callbacks callbacks = {on_eio_open, on_eio_message, on_eio_close};
    struct sio_server *srv = xcalloc(1, sizeof(*srv));
    srv->cfg = *cfg;
    srv->loop = http->loop;
    list_init(&srv->clients);
    eio_server_init(&srv->eio, http, path, eio_cfg, &callbacks, srv);
    return srv;
}

void sio_server_set_origins(struct sio_server *srv, const struct origin_list *origins)
{
    eio_server_set_origins(&srv->eio, origins);
}

size_t sio_server_client_count(const struct sio_server *srv)
{
    return srv->client_count;
}

void sio_server_close_all(struct sio_server *srv)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &srv->clients)
    {
        struct sio_client *c = container_of(pos, struct sio_client, link);
        struct list *spos, *stmp;
        list_for_each_safe(spos, stmp, &c->sockets)
        {
            struct sio_socket *sock = container_of(spos, struct sio_socket, client_link);
            sio_socket_disconnect(sock);
        }
    }
    eio_server_close_all(&srv->eio, "server shutting down");
}

static void free_namespace(struct sio_namespace *n)
{
    struct sio_handler *h = n->handlers;
    while (h != NULL) {
        struct sio_handler *next = h->next;
        free(h->event);
        free(h);
        h = next;
    }
    strmap_release(&n->rooms);
    free(n->name);
    free(n);
}

void sio_server_free(struct sio_server *srv)
{
    struct sio_namespace *n = srv->namespaces;
    while (n != NULL) {
        struct sio_namespace *next = n->next;
        free_namespace(n);
        n = next;
    }
    eio_server_release(&srv->eio);
    free(srv);
}
