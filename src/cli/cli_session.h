/* The connection to the broker for one command: a crowdai_client (src/client) on a libuv
 * loop of its own, driven from straight-line code. Each call runs the loop until its answer
 * comes, and every wait is bounded. After a lost connection the library reconnects; a call
 * made meanwhile waits for it (up to the reconnect timeout) and is sent again if the loss
 * swallowed its answer (every participant call is idempotent). `submission_event`
 * arguments are queued for cli_follow. Ctrl-C (SIGINT, also SIGTERM) ends any wait.
 *
 * Results: 0, or an enum cli_exit with the problem in plain words in `problem` (and, for
 * CLI_EXIT_REFUSED, the broker's answer {ok:false, code, message, ...} in `refusal`). */
#ifndef CLI_CLI_SESSION_H
#define CLI_CLI_SESSION_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "cli/cli.h"
#include "client/sioc.h"

#define CLI_SESSION_TIMEOUT (-1) /* cli_session_run: the time given ran out */

struct cli_session {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t tick; /* wakes the loop while a wait is on, so that its bounds are checked */
    struct sioc_client *client;
    struct sioc_socket *sock; /* namespace "/" */
    char url[CLI_URL_MAX];
    char api_key[CLI_KEY_MAX];
    char challenge[CLI_CHALLENGE_MAX];
    char token[CLI_TOKEN_MAX];      /* from authenticate */
    char participant[CLI_NAME_MAX]; /* the participant's name, from authenticate */
    uint64_t call_timeout_ms;       /* longest wait for one answer */
    uint64_t reconnect_timeout_ms;  /* longest time without a connection */
    int connected;                  /* namespace "/" is connected */
    int ever_connected;
    int fatal; /* the connection cannot be made: `problem` says why */
    int interrupted;
    int client_down; /* the clean disconnect at the end is over */
    int closed;
    unsigned connects; /* connections of "/" so far: a new one means resume */
    unsigned losses;   /* connections lost so far */
    uint64_t lost_at;  /* loop time of the loss, 0 while connected */
    json_t *events;    /* submission_event arguments not taken yet (array, capped) */
    int events_dropped;
    json_t *refusal;
    char problem[1024];
    char reason[256]; /* why the last connection was lost or could not be made */
};

/* Connects to url and waits for the namespace. */
int cli_session_open(struct cli_session *s, const char *url, uint64_t reconnect_timeout_ms);
/* Leaves cleanly (bounded) and frees everything. Safe after a failed open. */
void cli_session_close(struct cli_session *s);

/* Runs the loop until done(ud) returns nonzero (0), timeout_ms passes (CLI_SESSION_TIMEOUT),
 * Ctrl-C (CLI_EXIT_INTERRUPTED), or the connection is gone for good or for longer than the
 * reconnect timeout (CLI_EXIT_CONNECTION). done may be NULL: then it just waits. */
int cli_session_run(struct cli_session *s, int (*done)(void *ud), void *ud, uint64_t timeout_ms);
/* Runs what is ready on the loop without blocking (heartbeats, Ctrl-C) during a long
 * blocking step such as the upload. */
void cli_session_pump(struct cli_session *s);

/* Emits event with args (a JSON object, not consumed) and waits for its ack; *reply gets
 * the answer when it is {ok:true} (the caller frees it). */
int cli_session_call(struct cli_session *s, const char *event, json_t *args, json_t **reply);
/* Authenticates with s->api_key for s->challenge; keeps the token and the name. */
int cli_session_authenticate(struct cli_session *s);
/* cli_session_call with the session token put into args; a token the broker no longer takes
 * (expired, revoked, from a broker with another secret) gets one new authenticate. */
int cli_session_call_auth(struct cli_session *s, const char *event, json_t *args, json_t **reply);

/* The oldest queued submission_event argument (the caller frees it), or NULL. */
json_t *cli_session_take_event(struct cli_session *s);

#endif
