/* The Socket.IO server API the broker is built on (protocol v5 over Engine.IO v4, and v4
 * over Engine.IO v3): namespaces with a connect hook and event handlers, sockets, emits with
 * and without acks, acks back to the client, rooms and broadcasts, binary attachments.
 *
 * Threading and re-entrancy: everything runs on the loop thread. Callbacks are never called
 * synchronously from an emit. A socket may be disconnected from inside any of its own
 * callbacks; it is freed when that callback returns, so do not use it afterwards.
 * Event arguments are JSON text relayed byte for byte (never re-serialised). */
#ifndef SOCKETIO_SIO_SERVER_H
#define SOCKETIO_SIO_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "engineio/eio_server.h"
#include "socketio/sio_packet.h"

struct sio_server;
struct sio_namespace;
struct sio_socket;

/* A binary attachment: borrowed bytes. */
struct sio_bin {
    const char *data;
    size_t len;
};

/* An event or an ack from a client; every pointer is borrowed for the callback only. */
struct sio_event {
    const char *name; /* raw content of the event name string (events only) */
    size_t name_len;
    const char *args; /* arguments as JSON text without the brackets: "1,\"2\"" */
    size_t args_len;
    const struct sio_bin *bins;
    size_t nbins;
    long long ack_id; /* the client wants an ack with this id, or SIO_NO_ACK */
};

/* Decides on a CONNECT. auth is the JSON text of the auth object ("{}" when none). Return
 * NULL to accept, a message for the CONNECT_ERROR packet, or sio_connect_defer to decide
 * later with sio_socket_connect_decide() (events from the client are ignored meanwhile; if
 * the client goes away first, the disconnect callback runs and the socket must not be used
 * afterwards). */
typedef const char *(*sio_connect_cb)(struct sio_socket *sock, const char *auth, size_t auth_len,
                                      void *ud);
/* The socket is connected (its CONNECT reply is queued). */
extern const char sio_connect_defer[];

typedef void (*sio_connected_cb)(struct sio_socket *sock, const char *auth, size_t auth_len,
                                 void *ud);
typedef void (*sio_event_cb)(struct sio_socket *sock, const struct sio_event *ev, void *ud);
typedef void (*sio_disconnect_cb)(struct sio_socket *sock, const char *reason, void *ud);
/* reply is the client's ack, or NULL when it timed out or the socket went away. */
typedef void (*sio_ack_cb)(struct sio_socket *sock, const struct sio_event *reply, void *ud);

struct sio_config {
    uint64_t connect_timeout_ms; /* engine sessions that join no namespace in time are closed */
    long max_attachments;
};

struct sio_server *sio_server_new(struct http_server *http, const char *path,
                                  const struct eio_config *eio_cfg, const struct sio_config *cfg);
/* Checks the Origin of browsers on the Engine.IO endpoint; see eio_server_set_origins(). */
void sio_server_set_origins(struct sio_server *srv, const struct origin_list *origins);
/* Disconnects every socket (each client gets DISCONNECT, then an Engine.IO close). */
void sio_server_close_all(struct sio_server *srv);
void sio_server_free(struct sio_server *srv);
/* Number of connected Engine.IO sessions. */
size_t sio_server_client_count(const struct sio_server *srv);

/* The namespace called name ("/" or "/x"), created on first use. */
struct sio_namespace *sio_server_of(struct sio_server *srv, const char *name);
void sio_namespace_on_connect(struct sio_namespace *nsp, sio_connect_cb check,
                              sio_connected_cb connected, void *ud);
void sio_namespace_on_disconnect(struct sio_namespace *nsp, sio_disconnect_cb cb, void *ud);
/* Calls cb for events called `event` (a literal name without escapes; copied). */
void sio_namespace_on(struct sio_namespace *nsp, const char *event, sio_event_cb cb, void *ud);
/* Emits to every socket of the namespace. Returns the number of sockets reached. */
size_t sio_namespace_emit(struct sio_namespace *nsp, const char *event, const char *args,
                          size_t args_len, const struct sio_bin *bins, size_t nbins);
/* Emits to every socket of the namespace in room. Returns the number reached. */
size_t sio_room_emit(struct sio_namespace *nsp, const char *room, const char *event,
                     const char *args, size_t args_len, const struct sio_bin *bins, size_t nbins);

/* Emits `event` with args (JSON text without brackets, may be empty) and attachments
 * (referenced from args by {"_placeholder":true,"num":i}). Returns 0 or -1 if the socket is
 * disconnected. With cb, the client is asked for an ack: cb runs once, with the reply or
 * with NULL after timeout_ms or on disconnect. */
int sio_socket_emit(struct sio_socket *sock, const char *event, const char *args, size_t args_len,
                    const struct sio_bin *bins, size_t nbins);
int sio_socket_emit_ack(struct sio_socket *sock, const char *event, const char *args,
                        size_t args_len, const struct sio_bin *bins, size_t nbins, sio_ack_cb cb,
                        void *ud, uint64_t timeout_ms);
/* Gives the decision on a deferred CONNECT: NULL accepts (the connected callback runs with
 * auth "{}"), a message refuses (the socket is freed, no disconnect callback). */
void sio_socket_connect_decide(struct sio_socket *sock, const char *refusal);
/* Answers the client's ack request ack_id with args and attachments. */
int sio_socket_ack(struct sio_socket *sock, long long ack_id, const char *args, size_t args_len,
                   const struct sio_bin *bins, size_t nbins);
void sio_socket_join(struct sio_socket *sock, const char *room);
void sio_socket_leave(struct sio_socket *sock, const char *room);
/* Disconnects the socket from its namespace (the client gets DISCONNECT); the Engine.IO
 * session stays. The disconnect callback runs before this returns. */
void sio_socket_disconnect(struct sio_socket *sock);
const char *sio_socket_id(const struct sio_socket *sock);
const char *sio_socket_namespace(const struct sio_socket *sock);
/* Socket.IO protocol version of the client: 5, or 4 for Engine.IO v3 clients. */
int sio_socket_protocol(const struct sio_socket *sock);
void *sio_socket_data(const struct sio_socket *sock);
void sio_socket_set_data(struct sio_socket *sock, void *data);

#endif
