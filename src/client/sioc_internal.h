/* The client's internal structures, shared by sioc_client.c (lifecycle, reconnection),
 * sioc_socket.c (namespaces, emitting), sioc_ack.c (acks awaited) and sioc_inbound.c
 * (packets from the server). Not part of the public API. */
#ifndef CLIENT_SIOC_INTERNAL_H
#define CLIENT_SIOC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "client/sioc.h"
#include "client/sioc_conn.h"
#include "client/sioc_tls.h"
#include "client/sioc_url.h"
#include "core/buf.h"
#include "core/list.h"

#define SIOC_LOG            "sioc"
#define SIOC_MAX_NSP        256
#define SIOC_MAX_ACK_ID     999999999999999LL /* 15 digits, as sio_packet accepts */
#define SIOC_FRAME_OVERHEAD 14                /* WebSocket header, masked */
#define SIOC_DETAIL_LEN     256

enum sioc_client_state {
    CS_IDLE,       /* not connected, nothing scheduled */
    CS_CONNECTING, /* an attempt is in progress */
    CS_OPEN,       /* an Engine.IO session is open */
    CS_CLOSING,    /* sioc_client_disconnect(): waiting for the close handshake */
    CS_WAITING,    /* waiting for the next reconnection attempt */
    CS_FREEING,    /* sioc_client_close() was called */
};

/* A binary packet whose attachments are still arriving. */
struct sioc_inbound {
    struct buf text;   /* the packet as received */
    struct buf *parts; /* attachments, `want` of them */
    size_t want, have;
};

struct sioc_client {
    uv_loop_t *loop;
    struct sioc_url url;
    struct sioc_options opts;
    char *ca_file;            /* opts.ca_file points here */
    struct sioc_tls_ctx *tls; /* NULL for ws:// and http:// */
    struct sioc_client_callbacks cbs;
    void *ud;
    enum sioc_client_state state;
    struct sioc_conn *conn; /* the current attempt or session, or NULL */
    unsigned live_conns;    /* conns not released yet (an old one may still be closing) */
    uv_timer_t reconnect_timer;
    uv_timer_t ack_timer;
    int handles_open;
    unsigned attempt; /* reconnection attempts since the last open session */
    uint64_t session; /* number of sessions opened; names the current one */
    long long next_ack_id;
    struct list sockets; /* struct sioc_socket */
    struct list acks;    /* struct sioc_pending_ack, in the order sent */
    struct sioc_inbound inbound;
    struct sioc_stats stats;
    void (*close_cb)(struct sioc_client *c, void *ud);
};

enum sioc_socket_state {
    SS_IDLE,
    SS_CONNECTING, /* CONNECT sent */
    SS_CONNECTED,
};

struct sioc_handler {
    struct list link;
    char *name;
    sioc_event_cb cb; /* NULL once removed (entries live as long as the socket) */
    void *ud;
};

struct sioc_socket {
    struct list link;
    struct sioc_client *client;
    char *nsp;
    char *auth; /* JSON object text, or NULL */
    char *sid;  /* while connected */
    int active; /* wants to be connected (again after a reconnection) */
    enum sioc_socket_state state;
    struct sioc_socket_callbacks cbs;
    void *ud;
    struct list handlers; /* struct sioc_handler */
    sioc_event_cb any_cb;
    void *any_ud;
};

struct sioc_pending_ack {
    struct list link;
    struct sioc_socket *socket;
    long long id;
    uint64_t deadline; /* loop time in ms */
    sioc_ack_cb cb;
    void *ud;
};

/* ---- sioc_client.c ---- */

/* Sends a Socket.IO packet (text) and its attachments over the open session. Returns 0,
 * SIOC_ERR_NOT_CONNECTED or SIOC_ERR_TOO_BIG. */
int sioc_client_send(struct sioc_client *c, const char *text, size_t len,
                     const struct sioc_binary *attachments, size_t n_attachments);
/* The server broke the Socket.IO protocol: ends the session with reason and detail. */
void sioc_client_protocol_error(struct sioc_client *c, const char *detail);

/* ---- sioc_socket.c ---- */

struct sioc_socket *sioc_socket_find(struct sioc_client *c, const char *nsp, size_t len);
/* A session opened: sends CONNECT for every socket that wants to be connected. */
void sioc_sockets_on_open(struct sioc_client *c);
/* The session is gone: every socket is idle again (still active), connected ones get
 * on_disconnect(reason). */
void sioc_sockets_on_lost(struct sioc_client *c, const char *reason);
/* Sends DISCONNECT for every joined namespace, for sioc_client_disconnect(); the sockets
 * stay active so that the next sioc_client_connect() joins them again. */
void sioc_sockets_leave_all(struct sioc_client *c);
/* Leaves the namespace (no packet sent): idle, inactive, acks failed, on_disconnect. */
void sioc_socket_lost(struct sioc_socket *s, const char *reason);
void sioc_socket_free(struct sioc_socket *s);

/* ---- sioc_ack.c ---- */

void sioc_ack_add(struct sioc_client *c, struct sioc_socket *s, long long id, uint64_t timeout_ms,
                  sioc_ack_cb cb, void *ud);
/* The server acked id on s: runs and forgets its callback (unknown ids are ignored). */
void sioc_ack_resolve(struct sioc_client *c, struct sioc_socket *s, long long id,
                      const struct sioc_message *reply);
/* Fails every ack awaited on s (every ack when s is NULL) with err. */
void sioc_ack_fail(struct sioc_client *c, struct sioc_socket *s, const char *err);
void sioc_ack_on_timer(uv_timer_t *timer);

/* ---- sioc_inbound.c ---- */

/* An Engine.IO message from the server: one Socket.IO packet. */
void sioc_inbound_text(struct sioc_client *c, char *data, size_t len);
/* A binary frame: the next attachment of the pending binary packet. */
void sioc_inbound_binary(struct sioc_client *c, const char *data, size_t len);
/* Forgets a partly received binary packet. */
void sioc_inbound_reset(struct sioc_client *c);

#endif
