/* A client whose every callback is recorded, for the tests to wait on and check: sessions
 * opened and lost, reconnection delays, and per namespace the connects, refusals,
 * disconnects and every event received (arguments and attachments copied). */
#ifndef TESTS_CLIENT_CLIENT_FIXTURE_H
#define TESTS_CLIENT_CLIENT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "client/sioc.h"

#define FX_MAX         64
#define FX_MAX_SOCKETS 4
#define FX_MAX_ATT     10
#define FX_TEXT        512

struct fx_blob {
    char *data;
    size_t len;
};

struct fx_event {
    char name[FX_TEXT];
    char *args; /* owned */
    size_t n_att;
    struct fx_blob att[FX_MAX_ATT];
    struct sioc_ack_ref ack;
};

struct fx_socket {
    struct fx *fx;
    struct sioc_socket *s;
    int connects;
    char sid[FX_TEXT];
    int connect_errors;
    char error_message[FX_TEXT];
    char error_data[FX_TEXT]; /* "" when none */
    int disconnects;
    const char *disconnect_reason;
    int n_events;
    struct fx_event events[FX_MAX];
};

struct fx {
    struct sioc_client *c;
    int opens;
    int connect_errors;
    const char *connect_error_reason;
    char connect_error_detail[FX_TEXT];
    int disconnects;
    const char *disconnect_reason;
    char disconnect_detail[FX_TEXT];
    int n_reconnecting;
    unsigned attempts[FX_MAX];
    uint64_t delays[FX_MAX];
    int reconnect_failed;
    int closed;
    int n_sockets;
    struct fx_socket sockets[FX_MAX_SOCKETS];
};

/* The result of an emit_ack. */
struct fx_ack {
    int done;
    const char *err;
    char *args; /* owned; NULL on error */
    size_t n_att;
    struct fx_blob att[FX_MAX_ATT];
};

/* Creates the client (fails the test on error). opts may be NULL. */
void fx_init(struct fx *fx, const char *url, const struct sioc_options *opts);
/* The URL of a local server on port: http://127.0.0.1:port/ */
const char *fx_url(int port);
/* Adds namespace nsp with its recorders and asks to connect it with auth (may be NULL). */
struct fx_socket *fx_socket(struct fx *fx, const char *nsp, const char *auth);
/* Closes the client, waits for its close callback, frees what was recorded. */
void fx_free(struct fx *fx);

/* The nth (0-based) event called name, or NULL. */
const struct fx_event *fx_event(const struct fx_socket *fs, const char *name, int nth);
int fx_count(const struct fx_socket *fs, const char *name);

/* An ack callback that records into the struct fx_ack given as ud. */
void fx_on_ack(struct sioc_socket *s, const char *err, const struct sioc_message *reply, void *ud);
void fx_ack_release(struct fx_ack *a);

/* Emits name with args on fs, asking for an ack; waits for the result (fails the test
 * if emit fails or nothing comes within 10 s). */
void fx_call(struct fx_socket *fs, const char *name, const char *args,
             const struct sioc_binary *att, size_t n_att, struct fx_ack *out);

#endif
