/* Socket.IO sockets: one per client and namespace; emits, acks both ways, rooms. */
#include "socketio/sio_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/random_id.h"
#include "core/xalloc.h"

struct sio_socket *sio_socket_new(struct sio_client *client, struct sio_namespace *nsp)
{
    struct sio_socket *sock = xcalloc(1, sizeof(*sock));
    random_id(sock->id);
    sock->client = client;
    sock->nsp = nsp;
    list_init(&sock->acks);
    list_insert_tail(&client->sockets, &sock->client_link);
    list_insert_tail(&nsp->sockets, &sock->nsp_link);
    return sock;
}

void sio_encode(struct buf *out, enum sio_type type, const char *nsp, long long ack_id,
                const char *event, const char *args, size_t args_len, size_t nbins)
{
    if (nbins > 0)
        type = type == SIO_ACK ? SIO_BINARY_ACK : SIO_BINARY_EVENT;
    sio_packet_header(out, type, (long)nbins, nsp, ack_id);
    buf_append_char(out, '[');
    if (event != NULL) {
        buf_append_char(out, '"');
        buf_append_str(out, event);
        buf_append_char(out, '"');
        if (args_len > 0)
            buf_append_char(out, ',');
    }
    buf_append(out, args, args_len);
    buf_append_char(out, ']');
}

int sio_client_send(struct sio_client *c, const struct buf *text, const struct sio_bin *bins,
                    size_t nbins)
{
    if (c->closed || eio_session_send(c->eio, 0, text->data, text->len) != 0)
        return -1;
    for (size_t i = 0; i < nbins; i++) {
        if (eio_session_send(c->eio, 1, bins[i].data, bins[i].len) != 0)
            return -1;
    }
    return 0;
}

static int send_event(struct sio_socket *sock, long long ack_id, const char *event,
                      const char *args, size_t args_len, const struct sio_bin *bins, size_t nbins)
{
    struct buf text;
    buf_init(&text, BUF_NO_CAP);
    sio_encode(&text, SIO_EVENT, sock->nsp->name, ack_id, event, args, args_len, nbins);
    int rc = sio_client_send(sock->client, &text, bins, nbins);
    buf_release(&text);
    return rc;
}

int sio_socket_emit(struct sio_socket *sock, const char *event, const char *args, size_t args_len,
                    const struct sio_bin *bins, size_t nbins)
{
    return send_event(sock, SIO_NO_ACK, event, args, args_len, bins, nbins);
}

static void on_ack_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void finish_ack(struct sio_pending_ack *a, const struct sio_event *reply)
{
    list_remove(&a->link);
    uv_timer_stop(&a->timer);
    uv_close((uv_handle_t *)&a->timer, on_ack_timer_closed);
    a->cb(a->sock, reply, a->ud);
}

static void on_ack_timeout(uv_timer_t *t)
{
    struct sio_pending_ack *a = t->data;
    log_debug("sio", "ack timeout sid=%s id=%lld", a->sock->id, a->id);
    finish_ack(a, NULL);
}

int sio_socket_emit_ack(struct sio_socket *sock, const char *event, const char *args,
                        size_t args_len, const struct sio_bin *bins, size_t nbins, sio_ack_cb cb,
                        void *ud, uint64_t timeout_ms)
{
    long long id = sock->next_ack_id++;
    if (send_event(sock, id, event, args, args_len, bins, nbins) != 0)
        return -1;
    struct sio_pending_ack *a = xcalloc(1, sizeof(*a));
    a->id = id;
    a->cb = cb;
    a->ud = ud;
    a->sock = sock;
    uv_timer_init(sock->client->srv->loop, &a->timer);
    a->timer.data = a;
    uv_timer_start(&a->timer, on_ack_timeout, timeout_ms, 0);
    list_insert_tail(&sock->acks, &a->link);
    return 0;
}

void sio_socket_on_ack(struct sio_socket *sock, const struct sio_event *ev)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &sock->acks)
    {
        struct sio_pending_ack *a = container_of(pos, struct sio_pending_ack, link);
        if (a->id == ev->ack_id) {
            finish_ack(a, ev);
            return;
        }
    }
    log_debug("sio", "ack for unknown id sid=%s id=%lld", sock->id, ev->ack_id);
}

int sio_socket_ack(struct sio_socket *sock, long long ack_id, const char *args, size_t args_len,
                   const struct sio_bin *bins, size_t nbins)
{
    struct buf text;
    buf_init(&text, BUF_NO_CAP);
    sio_encode(&text, SIO_ACK, sock->nsp->name, ack_id, NULL, args, args_len, nbins);
    int rc = sio_client_send(sock->client, &text, bins, nbins);
    buf_release(&text);
    return rc;
}

/* ---- rooms ---- */

void sio_socket_join(struct sio_socket *sock, const char *name)
{
    struct sio_namespace *nsp = sock->nsp;
    struct sio_room *room = strmap_get(&nsp->rooms, name);
    if (room == NULL) {
        room = xcalloc(1, sizeof(*room));
        room->name = xstrdup(name);
        strmap_put(&nsp->rooms, name, room);
    }
    for (size_t i = 0; i < sock->nrooms; i++) {
        if (sock->rooms[i] == room)
            return;
    }
    if (room->count == room->alloc) {
        room->alloc = room->alloc ? room->alloc * 2 : 4;
        room->members = xrealloc(room->members, room->alloc * sizeof(*room->members));
    }
    room->members[room->count++] = sock;
    if (sock->nrooms == sock->rooms_alloc) {
        sock->rooms_alloc = sock->rooms_alloc ? sock->rooms_alloc * 2 : 2;
        sock->rooms = xrealloc(sock->rooms, sock->rooms_alloc * sizeof(*sock->rooms));
    }
    sock->rooms[sock->nrooms++] = room;
}

static void room_remove_member(struct sio_namespace *nsp, struct sio_room *room,
                               struct sio_socket *sock)
{
    for (size_t i = 0; i < room->count; i++) {
        if (room->members[i] == sock) {
            room->members[i] = room->members[--room->count];
            break;
        }
    }
    if (room->count == 0) {
        strmap_remove(&nsp->rooms, room->name);
        free(room->name);
        free(room->members);
        free(room);
    }
}

void sio_socket_leave(struct sio_socket *sock, const char *name)
{
    struct sio_room *room = strmap_get(&sock->nsp->rooms, name);
    if (room == NULL)
        return;
    for (size_t i = 0; i < sock->nrooms; i++) {
        if (sock->rooms[i] == room) {
            sock->rooms[i] = sock->rooms[--sock->nrooms];
            room_remove_member(sock->nsp, room, sock);
            return;
        }
    }
}

size_t sio_room_emit(struct sio_namespace *nsp, const char *name, const char *event,
                     const char *args, size_t args_len, const struct sio_bin *bins, size_t nbins)
{
    struct sio_room *room = strmap_get(&nsp->rooms, name);
    if (room == NULL)
        return 0;
    struct buf text;
    buf_init(&text, BUF_NO_CAP);
    sio_encode(&text, SIO_EVENT, nsp->name, SIO_NO_ACK, event, args, args_len, nbins);
    /* Sending never disconnects synchronously a socket of this room, except one whose
     * client exceeded its output cap: copy the member list first. */
    size_t n = room->count;
    struct sio_client **targets = xcalloc(n, sizeof(*targets));
    for (size_t i = 0; i < n; i++)
        targets[i] = room->members[i]->client;
    size_t reached = 0;
    for (size_t i = 0; i < n; i++)
        reached += sio_client_send(targets[i], &text, bins, nbins) == 0;
    free(targets);
    buf_release(&text);
    return reached;
}

size_t sio_namespace_emit(struct sio_namespace *nsp, const char *event, const char *args,
                          size_t args_len, const struct sio_bin *bins, size_t nbins)
{
    struct buf text;
    buf_init(&text, BUF_NO_CAP);
    sio_encode(&text, SIO_EVENT, nsp->name, SIO_NO_ACK, event, args, args_len, nbins);
    size_t reached = 0;
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &nsp->sockets)
    {
        struct sio_socket *sock = container_of(pos, struct sio_socket, nsp_link);
        reached += sio_client_send(sock->client, &text, bins, nbins) == 0;
    }
    buf_release(&text);
    return reached;
}

/* ---- lifecycle ---- */

void sio_socket_destroy(struct sio_socket *sock, const char *reason)
{
    struct sio_namespace *nsp = sock->nsp;
    while (sock->nrooms > 0) {
        struct sio_room *room = sock->rooms[--sock->nrooms];
        room_remove_member(nsp, room, sock);
    }
    free(sock->rooms);
    list_remove(&sock->client_link);
    list_remove(&sock->nsp_link);
    while (!list_empty(&sock->acks)) {
        struct sio_pending_ack *a = container_of(sock->acks.next, struct sio_pending_ack, link);
        finish_ack(a, NULL);
    }
    if (nsp->on_disconnect != NULL)
        nsp->on_disconnect(sock, reason, nsp->disconnect_ud);
    free(sock);
}

void sio_socket_disconnect(struct sio_socket *sock)
{
    struct buf text;
    buf_init(&text, BUF_NO_CAP);
    sio_packet_header(&text, SIO_DISCONNECT, 0, sock->nsp->name, SIO_NO_ACK); /* "41/nsp," */
    sio_client_send(sock->client, &text, NULL, 0);
    buf_release(&text);
    sio_socket_destroy(sock, "server namespace disconnect");
}

const char *sio_socket_id(const struct sio_socket *sock)
{
    return sock->id;
}

const char *sio_socket_namespace(const struct sio_socket *sock)
{
    return sock->nsp->name;
}

int sio_socket_protocol(const struct sio_socket *sock)
{
    return sock->client->protocol;
}

void *sio_socket_data(const struct sio_socket *sock)
{
    return sock->data;
}

void sio_socket_set_data(struct sio_socket *sock, void *data)
{
    sock->data = data;
}
