/* A Socket.IO client (protocol v5 over Engine.IO v4, WebSocket transport only) on a libuv
 * loop: one connection to one server, several namespaces on it, events and acks both ways
 * with binary attachments, heartbeats, optional TLS, and automatic reconnection.
 *
 * Threading: everything runs on the loop given to sioc_client_new(); no function may be
 * called from another thread.
 *
 * Callbacks never run inside the call that causes them, except where a function says so:
 * sioc_client_disconnect() and sioc_socket_disconnect() run the namespaces' on_disconnect
 * and fail their pending acks at once, sioc_client_close() fails pending acks at once. Any
 * function of this API may be called from inside any callback, including
 * sioc_client_close().
 *
 * Memory: the client owns every struct sioc_socket it hands out; they stay valid until
 * the client's close callback has run. Every pointer passed to a callback is borrowed and
 * valid only for that call; copy what you keep. Strings and buffers passed to the API are
 * copied before the call returns. */
#ifndef CLIENT_SIOC_H
#define CLIENT_SIOC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct sioc_client;
struct sioc_socket;

/* ---- Results of synchronous calls: 0 or one of these (negative) ---- */

enum sioc_error {
    SIOC_OK = 0,
    SIOC_ERR_BAD_URL = -4000,       /* not a ws/wss/http/https URL we can use */
    SIOC_ERR_BAD_JSON = -4001,      /* not valid JSON, or not the expected array/object */
    SIOC_ERR_BAD_ARGUMENT = -4002,  /* bad namespace, reserved or invalid event name,
                                       placeholders that do not match the attachments */
    SIOC_ERR_NOT_CONNECTED = -4003, /* the namespace (or the client) is not connected */
    SIOC_ERR_TOO_BIG = -4004,       /* over max_message, or max_output would be exceeded */
    SIOC_ERR_STATE = -4005,         /* not allowed now (connect while connecting, ...) */
    SIOC_ERR_TLS = -4006,           /* the TLS context could not be set up (CA file...) */
};

/* A short English description of a sioc_error (or "unknown error"). */
const char *sioc_strerror(int err);

/* ---- Errors and reasons given to callbacks: static strings, compare by pointer ---- */

extern const char sioc_err_timeout[];      /* ack: no answer within the timeout */
extern const char sioc_err_disconnected[]; /* ack: the namespace or session went away */
extern const char sioc_err_closed[];       /* ack: sioc_client_close() was called */

extern const char sioc_reason_io_server_disconnect[]; /* namespace: the server sent DISCONNECT */
extern const char sioc_reason_io_client_disconnect[]; /* we disconnected on purpose */
extern const char sioc_reason_ping_timeout[];         /* no ping within interval + timeout */
extern const char sioc_reason_transport_close[];      /* the server closed the connection */
extern const char sioc_reason_transport_error[];      /* I/O error on the connection */
extern const char sioc_reason_parse_error[];          /* the server broke a protocol */
extern const char sioc_reason_too_big[];              /* a message over max_message */
extern const char sioc_reason_connect_error[];        /* DNS or TCP connect failed */
extern const char sioc_reason_connect_timeout[];      /* no TCP/TLS within connect_timeout */
extern const char sioc_reason_tls_error[];            /* TLS handshake or verification failed */
extern const char sioc_reason_handshake_error[];      /* the WebSocket upgrade was refused */
extern const char sioc_reason_handshake_timeout[];    /* no Engine.IO open in time */

/* ---- Options ---- */

/* Zero in a timeout, size or reconnect delay field means its default. */
struct sioc_options {
    uint64_t connect_timeout_ms;     /* DNS + TCP connect + TLS handshake (default 10000) */
    uint64_t handshake_timeout_ms;   /* WebSocket upgrade + Engine.IO open (default 10000) */
    uint64_t close_timeout_ms;       /* wait for the server's WebSocket close (default 2000) */
    uint64_t ack_timeout_ms;         /* used by emit_ack when its timeout is 0 (default 30000) */
    size_t max_message;              /* largest message (text or one attachment) either way:
                                        default 16 MiB, at least 1024 */
    size_t max_output;               /* bytes queued to the socket; an emit past it fails with
                                        SIOC_ERR_TOO_BIG, and a pong or close frame past it
                                        ends the session (default 64 MiB) */
    unsigned max_attachments;        /* binary attachments per packet, both ways (default 10) */
    int reconnect;                   /* reconnect after an unexpected loss (default 1) */
    uint64_t reconnect_base_ms;      /* first delay (default 1000); doubled every attempt */
    uint64_t reconnect_cap_ms;       /* largest delay (default 5000) */
    double reconnect_jitter;         /* 0..1: delay *= 1 +- jitter*random (default 0.5) */
    unsigned reconnect_max_attempts; /* 0: unlimited (default) */
    const char *ca_file;             /* PEM CA bundle for wss/https; NULL: system store */
    int tls_insecure;                /* 1: no certificate or host name check (tests only) */
};

/* Fills in the defaults above. */
void sioc_options_init(struct sioc_options *o);

/* ---- Client ---- */

struct sioc_stats {
    uint64_t opens;              /* Engine.IO sessions opened */
    uint64_t pings;              /* server pings answered */
    uint64_t reconnect_attempts; /* attempts started by the reconnection logic */
    uint64_t ping_interval_ms;   /* from the last open packet */
    uint64_t ping_timeout_ms;    /* from the last open packet */
    unsigned last_close_code;    /* code of the last WebSocket close frame from the server
                                    (1005 if it had none), 0 if none was received */
};

/* Client-level callbacks (each may be NULL). `detail` is a human-readable explanation,
 * borrowed for the call. */
struct sioc_client_callbacks {
    /* An Engine.IO session is open (first connection or reconnection). CONNECT packets for
     * the namespaces that want to be connected are sent right after this returns. */
    void (*on_open)(struct sioc_client *c, void *ud);
    /* A connection attempt failed before the session opened (reason: one of the
     * sioc_reason_* connect/tls/handshake values, or transport/parse errors). A reconnect
     * is scheduled after this returns when reconnection is on. */
    void (*on_connect_error)(struct sioc_client *c, const char *reason, const char *detail,
                             void *ud);
    /* An open session ended. reason is sioc_reason_io_client_disconnect after
     * sioc_client_disconnect() (once the WebSocket close handshake is over), else why it
     * was lost; a reconnect is then scheduled when reconnection is on. Namespaces got their
     * own on_disconnect before this. */
    void (*on_disconnect)(struct sioc_client *c, const char *reason, const char *detail, void *ud);
    /* A reconnection attempt is scheduled: attempt counts from 1 since the last open
     * session, delay_ms is the backoff chosen for it. */
    void (*on_reconnecting)(struct sioc_client *c, unsigned attempt, uint64_t delay_ms, void *ud);
    /* reconnect_max_attempts attempts failed; the client stays disconnected. */
    void (*on_reconnect_failed)(struct sioc_client *c, void *ud);
};

/* Creates a client for url: ws://, wss://, http:// or https://, host (name, IPv4 or
 * [IPv6]), optional port (default 80/443), optional path of the Engine.IO endpoint (empty
 * or "/" means /socket.io/) and optional query, to which EIO=4&transport=websocket is
 * added. opts may be NULL for the defaults; cbs may be NULL. Nothing happens on the network
 * until sioc_client_connect(). Returns 0 and sets *out, or SIOC_ERR_BAD_URL / SIOC_ERR_TLS
 * (*out is then NULL). */
int sioc_client_new(uv_loop_t *loop, const char *url, const struct sioc_options *opts,
                    const struct sioc_client_callbacks *cbs, void *ud, struct sioc_client **out);
/* Starts connecting (and, on loss, reconnecting). SIOC_ERR_STATE if already connecting,
 * connected, waiting to reconnect, disconnecting or closed. */
int sioc_client_connect(struct sioc_client *c);
/* Leaves cleanly: a DISCONNECT packet for every connected namespace (their on_disconnect
 * runs at once, with sioc_reason_io_client_disconnect), pending acks fail at once with
 * sioc_err_disconnected, then a WebSocket close; the client's on_disconnect runs when the
 * server has answered the close (or after close_timeout_ms). No reconnection follows; the
 * namespaces stay registered and sioc_client_connect() connects them again. Stops a
 * pending attempt or a reconnect wait silently. */
void sioc_client_disconnect(struct sioc_client *c);
/* Stops everything at once (no goodbye packets: call sioc_client_disconnect first for
 * those), fails pending acks with sioc_err_closed (synchronously), then frees the client
 * and its sockets once libuv has released every handle, after calling close_cb (may be
 * NULL). No other callback runs after this call. Call it exactly once. */
void sioc_client_close(struct sioc_client *c, void (*close_cb)(struct sioc_client *c, void *ud));
/* 1 while an Engine.IO session is open. */
int sioc_client_is_open(const struct sioc_client *c);
/* Counters, valid until the client is freed. */
const struct sioc_stats *sioc_client_stats(const struct sioc_client *c);
void *sioc_client_userdata(const struct sioc_client *c);

/* ---- Namespaces ---- */

/* Binary data: an attachment to send (copied) or one received (borrowed). */
struct sioc_binary {
    const void *data;
    size_t len;
};

/* Arguments received with an event or an ack: args is the JSON array text of the
 * arguments, NUL-terminated ("[]" when none); binary values appear in it as
 * {"_placeholder":true,"num":i}, standing for attachments[i]. */
struct sioc_message {
    const char *args;
    size_t args_len;
    const struct sioc_binary *attachments;
    size_t n_attachments;
};

/* Names the server's request for an ack; copy it to answer later with sioc_socket_ack(). */
struct sioc_ack_ref {
    uint64_t session; /* the Engine.IO session the event came in */
    long long id;     /* -1: the server asked for no ack */
};

struct sioc_event {
    const char *name; /* decoded event name, NUL-terminated (a number's text if the server
                         used a number) */
    struct sioc_message msg;
    struct sioc_ack_ref ack;
};

/* Handler for an incoming event. */
typedef void (*sioc_event_cb)(struct sioc_socket *s, const struct sioc_event *ev, void *ud);
/* Completion of sioc_socket_emit_ack(): err is NULL and reply set when the server acked,
 * else err is sioc_err_timeout, sioc_err_disconnected or sioc_err_closed and reply NULL.
 * Runs exactly once. */
typedef void (*sioc_ack_cb)(struct sioc_socket *s, const char *err,
                            const struct sioc_message *reply, void *ud);

struct sioc_socket_callbacks {
    /* The server accepted our CONNECT; sid is its socket id ("" if it sent none). */
    void (*on_connect)(struct sioc_socket *s, const char *sid, void *ud);
    /* The server refused our CONNECT: message from its CONNECT_ERROR ("" if none), data
     * the raw JSON of its "data" member or NULL. The namespace is not retried until
     * sioc_socket_connect() is called again. */
    void (*on_connect_error)(struct sioc_socket *s, const char *message, const char *data,
                             void *ud);
    /* A connected namespace is no longer connected (a sioc_reason_* value). After
     * sioc_reason_io_server_disconnect or _io_client_disconnect it is not reconnected;
     * after a lost session it is connected again with the session. */
    void (*on_disconnect)(struct sioc_socket *s, const char *reason, void *ud);
};

/* The socket for namespace nsp ("/" or "/name"; no ',' or '?', at most 256 bytes),
 * created on first use. Returns NULL for an invalid namespace or a closed client. */
struct sioc_socket *sioc_client_socket(struct sioc_client *c, const char *nsp);
void sioc_socket_set_callbacks(struct sioc_socket *s, const struct sioc_socket_callbacks *cbs,
                               void *ud);
/* Asks to join the namespace with auth (a JSON object text, or NULL for none): now if the
 * session is open, else when it opens, and again after every reconnection. auth replaces
 * the previous one. SIOC_ERR_BAD_JSON if auth is not a JSON object. */
int sioc_socket_connect(struct sioc_socket *s, const char *auth_json);
/* Leaves the namespace (DISCONNECT packet if the session is open); on_disconnect runs at
 * once if it was connected, and its pending acks fail with sioc_err_disconnected. */
void sioc_socket_disconnect(struct sioc_socket *s);
int sioc_socket_is_connected(const struct sioc_socket *s);
/* The namespace, and the socket id the server gave (NULL when not connected). */
const char *sioc_socket_namespace(const struct sioc_socket *s);
const char *sioc_socket_id(const struct sioc_socket *s);
struct sioc_client *sioc_socket_client(const struct sioc_socket *s);

/* Sets (or with cb NULL, removes) the handler for event `name`. Events without a handler
 * go to the catch-all handler, if any. */
void sioc_socket_on(struct sioc_socket *s, const char *name, sioc_event_cb cb, void *ud);
void sioc_socket_on_any(struct sioc_socket *s, sioc_event_cb cb, void *ud);

/* Emits event `name` with args_json, a JSON array text ("[]" or NULL for no arguments),
 * which must hold one {"_placeholder":true,"num":i} per attachment, numbered from 0.
 * Only while the namespace is connected (SIOC_ERR_NOT_CONNECTED otherwise: nothing is
 * buffered). Returns 0 when queued to the socket, or a sioc_error. */
int sioc_socket_emit(struct sioc_socket *s, const char *name, const char *args_json,
                     const struct sioc_binary *attachments, size_t n_attachments);
/* The same, asking for an ack: cb runs once, with the server's ack or with an error after
 * timeout_ms (0: the client's ack_timeout_ms) or when the namespace is left. cb does not
 * run when an error is returned. */
int sioc_socket_emit_ack(struct sioc_socket *s, const char *name, const char *args_json,
                         const struct sioc_binary *attachments, size_t n_attachments,
                         uint64_t timeout_ms, sioc_ack_cb cb, void *ud);
/* Answers the server's request for an ack (ref from a sioc_event), with args_json as for
 * emit. SIOC_ERR_NOT_CONNECTED if the session it came in has ended or the namespace was
 * left; SIOC_ERR_BAD_ARGUMENT if ref asks for no ack. */
int sioc_socket_ack(struct sioc_socket *s, struct sioc_ack_ref ref, const char *args_json,
                    const struct sioc_binary *attachments, size_t n_attachments);

#endif
