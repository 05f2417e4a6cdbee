/* Socket.IO internals shared by the server (clients, namespaces, packet dispatch) and the
 * socket (emits, acks, rooms). */
#ifndef SOCKETIO_SIO_INTERNAL_H
#define SOCKETIO_SIO_INTERNAL_H

#include "core/list.h"
#include "core/random_id.h"
#include "core/strmap.h"
#include "socketio/sio_server.h"

struct sio_handler {
    char *event;
    sio_event_cb cb;
    void *ud;
    struct sio_handler *next;
};

struct sio_room {
    char *name;
    struct sio_socket **members;
    size_t count, alloc;
};

struct sio_namespace {
    char *name;
    struct sio_server *srv;
    sio_connect_cb check;
    sio_connected_cb connected;
    void *connect_ud;
    sio_disconnect_cb on_disconnect;
    void *disconnect_ud;
    struct sio_handler *handlers;
    struct list sockets;
    struct strmap rooms;
    struct sio_namespace *next;
};

/* A binary packet waiting for its attachments. */
struct sio_partial {
    char *text;
    size_t text_len;
    long expected;
    long received;
    struct sio_bin *bins; /* owned copies */
};

struct sio_client {
    struct sio_server *srv;
    struct eio_session *eio;
    struct list sockets; /* sio_socket.client_link */
    struct list link;    /* in srv->clients */
    struct sio_partial partial;
    uv_timer_t connect_timer;
    int protocol; /* 5, or 4 over Engine.IO v3 */
    int closed;
};

struct sio_pending_ack {
    struct list link;
    long long id;
    sio_ack_cb cb;
    void *ud;
    uv_timer_t timer;
    struct sio_socket *sock;
};

struct sio_socket {
    char id[RANDOM_ID_LEN + 1];
    struct sio_client *client;
    struct sio_namespace *nsp;
    struct list client_link;
    struct list nsp_link;
    struct sio_room **rooms;
    size_t nrooms, rooms_alloc;
    struct list acks;
    long long next_ack_id;
    void *data;
    int pending; /* CONNECT deferred, not decided yet */
};

struct sio_server {
    struct eio_server eio;
    struct sio_config cfg;
    struct sio_namespace *namespaces;
    struct list clients;
    size_t client_count;
    uv_loop_t *loop;
};

/* sio_socket.c */
struct sio_socket *sio_socket_new(struct sio_client *client, struct sio_namespace *nsp);
/* Removes the socket from everything, runs the disconnect callback and frees it. */
void sio_socket_destroy(struct sio_socket *sock, const char *reason);
void sio_socket_on_ack(struct sio_socket *sock, const struct sio_event *ev);
/* Encodes a packet `type` for nsp with `[prefix args]` as JSON (prefix is the quoted event
 * name or empty) into out. */
void sio_encode(struct buf *out, enum sio_type type, const char *nsp, long long ack_id,
                const char *event, const char *args, size_t args_len, size_t nbins);
/* Sends an encoded packet and its attachments to one client. */
int sio_client_send(struct sio_client *c, const struct buf *text, const struct sio_bin *bins,
                    size_t nbins);

#endif
