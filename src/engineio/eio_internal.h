/* Engine.IO internals shared by the session core, the polling and the WebSocket transport. */
#ifndef ENGINEIO_EIO_INTERNAL_H
#define ENGINEIO_EIO_INTERNAL_H

#include "core/list.h"
#include "core/random_id.h"
#include "engineio/eio_packet.h"
#include "engineio/eio_server.h"
#include "net/ws_conn.h"

enum eio_transport { EIO_POLLING, EIO_WEBSOCKET };

struct eio_out {
    struct list link;
    enum eio_type type;
    int binary;
    size_t len;
    char data[];
};

struct eio_session {
    char sid[RANDOM_ID_LEN + 1];
    struct eio_server *srv;
    int protocol; /* 3 or 4 */
    enum eio_transport transport;
    int closed;
    int b64;                    /* v3 polling: text framing instead of binary */
    struct http_conn *held_get; /* polling GET waiting for packets */
    struct http_conn *post;     /* polling POST whose body is being read */
    struct ws_conn *ws;         /* the WebSocket transport once upgraded */
    struct ws_conn *probe;      /* a WebSocket being upgraded to */
    int probed;                 /* the probe answered 2probe */
    struct list queue;          /* packets waiting for a polling GET */
    size_t queued_bytes;
    uv_timer_t heartbeat;
    uv_timer_t upgrade_timer;
    int awaiting_pong;
    int handles_open;
    void *user;
    struct buf scratch; /* decoded binary data */
};

/* Query parameters common to every request. */
struct eio_query {
    int protocol;  /* 3 or 4, 0 when missing or unsupported */
    int websocket; /* transport=websocket */
    int polling;   /* transport=polling */
    int b64;
    char sid[32];
    int has_sid;
};

/* eio_server.c */
void eio_parse_query(const struct http_request *req, struct eio_query *q);
/* Answers an Engine.IO error (code 0-5) as engine.io does: 400 (403 for code 4) with JSON. */
void eio_fail(struct http_conn *hc, int code);
struct eio_session *eio_session_new(struct eio_server *e, int protocol,
                                    enum eio_transport transport);
/* The open packet's JSON for this session. */
void eio_open_packet(const struct eio_session *s, struct buf *out);
/* Handles one packet from the client on the session's current transport. */
void eio_session_on_packet(struct eio_session *s, const struct eio_packet *pkt);
/* Closes the session. What a held polling GET receives: EIO_CLOSE or EIO_NOOP. */
void eio_session_shutdown(struct eio_session *s, const char *reason, enum eio_type to_get);
/* Queues a packet of any type on the session's transport. */
int eio_session_send_packet(struct eio_session *s, enum eio_type type, int binary, const char *data,
                            size_t len);

/* eio_polling.c */
void eio_polling_get(struct eio_session *s, struct http_conn *hc);
void eio_polling_post(struct eio_session *s, struct http_conn *hc, const struct http_request *req);
/* Answers the held GET with every queued packet, if both exist. */
void eio_polling_flush(struct eio_session *s);
/* Answers the held GET with just this packet type (EIO_NOOP or EIO_CLOSE). */
void eio_polling_release_get(struct eio_session *s, enum eio_type type);
void eio_queue_clear(struct eio_session *s);
void eio_polling_handshake(struct eio_server *e, struct http_conn *hc, const struct eio_query *q,
                           const struct http_request *req);

/* eio_websocket.c */
void eio_websocket_upgrade(struct eio_server *e, struct http_conn *hc,
                           const struct http_request *req, char *rest, size_t rest_len);
/* Sends one packet on the session's WebSocket. */
int eio_websocket_send(struct eio_session *s, struct ws_conn *ws, enum eio_type type, int binary,
                       const char *data, size_t len);
/* Detaches and closes the session's WebSockets. */
void eio_websocket_close_all(struct eio_session *s);

#endif
