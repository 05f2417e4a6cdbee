/* The broker connection behind every command; see cli_session.h. */
#include "cli/cli_session.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_json.h"
#include "core/buf.h"
#include "core/xalloc.h"

#define CLI_VERSION       "0.1.0"
#define TICK_MS           100
#define OPEN_TIMEOUT_MS   30000             /* connect + WebSocket + Socket.IO, at most */
#define CLOSE_TIMEOUT_MS  3000              /* the goodbye at the end, at most */
#define MAX_MESSAGE       (1024 * 1024)     /* largest message either way */
#define MAX_OUTPUT        (4 * 1024 * 1024) /* bytes queued to the socket */
#define MAX_QUEUED_EVENTS 4096              /* events waiting for cli_follow */
#define CALL_ATTEMPTS     4                 /* sends of one call across reconnections */

/* One call waiting for its ack. It lives on the heap: if the wait ends first (Ctrl-C), the
 * ack callback, which runs exactly once later, frees it. */
struct pending {
    int done;
    int abandoned;
    const char *err;
    json_t *reply;
};

/* ---- Library callbacks ---- */

static void set_reason(struct cli_session *s, const char *reason, const char *detail)
{
    snprintf(s->reason, sizeof(s->reason), "%s%s%s", reason,
             detail != NULL && detail[0] != '\0' ? ": " : "", detail != NULL ? detail : "");
}

static void on_connect_error(struct sioc_client *c, const char *reason, const char *detail,
                             void *ud)
{
    struct cli_session *s = ud;
    (void)c;
    set_reason(s, reason, detail);
    if (!s->ever_connected && !s->fatal) {
        s->fatal = 1;
        snprintf(s->problem, sizeof(s->problem),
                 "Could not connect to the broker at %.300s (%s). Check the URL (crowdai login, "
                 "--broker or CROWDAI_BROKER) and that the broker is running.",
                 s->url, s->reason);
    }
}

static void on_client_disconnect(struct sioc_client *c, const char *reason, const char *detail,
                                 void *ud)
{
    struct cli_session *s = ud;
    (void)c;
    if (reason == sioc_reason_io_client_disconnect)
        s->client_down = 1;
    else
        set_reason(s, reason, detail);
}

static const struct sioc_client_callbacks client_cbs = {
    NULL, on_connect_error, on_client_disconnect, NULL, NULL,
};

static void on_nsp_connect(struct sioc_socket *sock, const char *sid, void *ud)
{
    struct cli_session *s = ud;
    (void)sock, (void)sid;
    s->connected = 1;
    s->ever_connected = 1;
    s->connects++;
    s->lost_at = 0;
}

static void on_nsp_connect_error(struct sioc_socket *sock, const char *message, const char *data,
                                 void *ud)
{
    struct cli_session *s = ud;
    (void)sock, (void)data;
    s->fatal = 1;
    snprintf(s->problem, sizeof(s->problem), "The broker at %.300s refused the connection: %.300s",
             s->url, message[0] != '\0' ? message : "no reason given");
}

static void on_nsp_disconnect(struct sioc_socket *sock, const char *reason, void *ud)
{
    struct cli_session *s = ud;
    s->connected = 0;
    if (reason == sioc_reason_io_client_disconnect)
        return;
    s->losses++;
    uv_update_time(&s->loop);
    s->lost_at = uv_now(&s->loop);
    if (s->reason[0] == '\0' || reason == sioc_reason_io_server_disconnect)
        snprintf(s->reason, sizeof(s->reason), "%s", reason);
    /* A broker that sends us away is asked again: it may be restarting. */
    if (reason == sioc_reason_io_server_disconnect)
        sioc_socket_connect(sock, NULL);
}

static const struct sioc_socket_callbacks socket_cbs = {
    on_nsp_connect,
    on_nsp_connect_error,
    on_nsp_disconnect,
};

static void on_event(struct sioc_socket *sock, const struct sioc_event *ev, void *ud)
{
    struct cli_session *s = ud;
    (void)sock;
    json_t *obj = cli_json_first_object(ev->msg.args, ev->msg.args_len);
    if (obj == NULL)
        return;
    if (json_array_size(s->events) >= MAX_QUEUED_EVENTS) {
        s->events_dropped = 1; /* cli_follow asks for them again */
        json_decref(obj);
        return;
    }
    json_array_append_new(s->events, obj);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct cli_session *s = h->data;
    (void)signum;
    s->interrupted = 1;
}

static void on_tick(uv_timer_t *t)
{
    (void)t; /* waking the loop is all it is for */
}

/* ---- Waiting ---- */

static void say_lost(struct cli_session *s)
{
    snprintf(
        s->problem, sizeof(s->problem),
        "Lost the connection to the broker at %.300s (%s) and could not reconnect within %llu s.",
        s->url, s->reason[0] != '\0' ? s->reason : "no reason given",
        (unsigned long long)(s->reconnect_timeout_ms / 1000));
}

static int lost_too_long(struct cli_session *s, uint64_t now)
{
    if (s->connected || s->lost_at == 0 || now - s->lost_at < s->reconnect_timeout_ms)
        return 0;
    say_lost(s);
    return 1;
}

int cli_session_run(struct cli_session *s, int (*done)(void *ud), void *ud, uint64_t timeout_ms)
{
    uv_update_time(&s->loop);
    uint64_t deadline = uv_now(&s->loop) + timeout_ms;
    int rc;
    uv_timer_start(&s->tick, on_tick, TICK_MS, TICK_MS);
    for (;;) {
        uint64_t now = uv_now(&s->loop);
        if (done != NULL && done(ud)) {
            rc = 0;
            break;
        }
        if (s->interrupted) {
            rc = CLI_EXIT_INTERRUPTED;
            break;
        }
        if (s->fatal || lost_too_long(s, now)) {
            rc = CLI_EXIT_CONNECTION;
            break;
        }
        if (now >= deadline) {
            rc = CLI_SESSION_TIMEOUT;
            break;
        }
        uv_run(&s->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&s->tick);
    return rc;
}

void cli_session_pump(struct cli_session *s)
{
    uv_run(&s->loop, UV_RUN_NOWAIT);
}

static int is_connected(void *ud)
{
    struct cli_session *s = ud;
    return s->connected;
}

/* ---- Opening and closing ---- */

int cli_session_open(struct cli_session *s, const char *url, uint64_t reconnect_timeout_ms)
{
    struct sioc_options o;
    memset(s, 0, sizeof(*s));
    snprintf(s->url, sizeof(s->url), "%s", url);
    s->reconnect_timeout_ms = reconnect_timeout_ms;
    s->call_timeout_ms = 30000;
    s->events = json_array();
    uv_loop_init(&s->loop);
    uv_timer_init(&s->loop, &s->tick);
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    s->sigint.data = s;
    s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);

    sioc_options_init(&o);
    o.max_message = MAX_MESSAGE;
    o.max_output = MAX_OUTPUT;
    o.ack_timeout_ms = s->call_timeout_ms;
    o.reconnect_base_ms = 500;
    o.reconnect_cap_ms = 4000;
    int rc = sioc_client_new(&s->loop, url, &o, &client_cbs, s, &s->client);
    if (rc != 0) {
        snprintf(s->problem, sizeof(s->problem),
                 "The broker URL '%.300s' cannot be used (%s). Give it as http://HOST:PORT or "
                 "https://HOST.",
                 url, sioc_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    s->sock = sioc_client_socket(s->client, "/");
    sioc_socket_set_callbacks(s->sock, &socket_cbs, s);
    sioc_socket_on(s->sock, "submission_event", on_event, s);
    sioc_socket_connect(s->sock, NULL);
    sioc_client_connect(s->client);
    rc = cli_session_run(s, is_connected, s, OPEN_TIMEOUT_MS);
    if (rc == CLI_SESSION_TIMEOUT) {
        snprintf(s->problem, sizeof(s->problem),
                 "Could not connect to the broker at %.300s within %d s. Check the URL and your "
                 "network.",
                 url, OPEN_TIMEOUT_MS / 1000);
        rc = CLI_EXIT_CONNECTION;
    }
    return rc;
}

static int is_client_down(void *ud)
{
    struct cli_session *s = ud;
    return s->client_down;
}

static int is_closed(void *ud)
{
    struct cli_session *s = ud;
    return s->closed;
}

static void on_closed(struct sioc_client *c, void *ud)
{
    struct cli_session *s = ud;
    (void)c;
    s->closed = 1;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void cli_session_close(struct cli_session *s)
{
    if (s->client != NULL) {
        s->interrupted = 0; /* the goodbye still runs after Ctrl-C */
        s->fatal = 0;
        if (sioc_client_is_open(s->client)) {
            sioc_client_disconnect(s->client);
            cli_session_run(s, is_client_down, s, CLOSE_TIMEOUT_MS);
        }
        sioc_client_close(s->client, on_closed);
        s->interrupted = 0;
        cli_session_run(s, is_closed, s, CLOSE_TIMEOUT_MS);
        s->client = NULL;
    }
    close_handle((uv_handle_t *)&s->tick);
    close_handle((uv_handle_t *)&s->sigint);
    close_handle((uv_handle_t *)&s->sigterm);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    if (s->events != NULL)
        json_decref(s->events);
    if (s->refusal != NULL)
        json_decref(s->refusal);
    s->events = NULL;
    s->refusal = NULL;
}

/* ---- Calls ---- */

static void on_ack(struct sioc_socket *sock, const char *err, const struct sioc_message *reply,
                   void *ud)
{
    struct pending *p = ud;
    (void)sock;
    if (p->abandoned) {
        free(p);
        return;
    }
    p->done = 1;
    p->err = err;
    if (reply != NULL)
        p->reply = cli_json_first_object(reply->args, reply->args_len);
}

static int is_done(void *ud)
{
    struct pending *p = ud;
    return p->done;
}

/* Takes p's answer: {ok:true} into *reply, anything else is a refusal or a problem. */
static int take_answer(struct cli_session *s, const char *event, struct pending *p, json_t **reply)
{
    json_t *r = p->reply;
    p->reply = NULL;
    if (r == NULL || !json_is_boolean(json_object_get(r, "ok"))) {
        snprintf(s->problem, sizeof(s->problem),
                 "The broker at %.300s gave an answer to '%s' that crowdai does not understand. Is "
                 "the URL that of a crowdAI broker?",
                 s->url, event);
        if (r != NULL)
            json_decref(r);
        return CLI_EXIT_CONNECTION;
    }
    if (json_is_true(json_object_get(r, "ok"))) {
        *reply = r;
        return 0;
    }
    const char *message = cli_json_str(r, "message");
    const char *code = cli_json_str(r, "code");
    snprintf(s->problem, sizeof(s->problem), "%.900s", message != NULL ? message : "Refused.");
    if (code == NULL)
        json_object_set_new(r, "code", json_string("REFUSED"));
    if (s->refusal != NULL)
        json_decref(s->refusal);
    s->refusal = r;
    return CLI_EXIT_REFUSED;
}

/* One send of the call; CLI_SESSION_TIMEOUT means "send it again": the connection went
 * away before the answer came. */
static int call_once(struct cli_session *s, const char *event, const char *text, json_t **reply)
{
    int rc = cli_session_run(s, is_connected, s, s->reconnect_timeout_ms);
    if (rc == CLI_SESSION_TIMEOUT) {
        say_lost(s);
        return CLI_EXIT_CONNECTION;
    }
    if (rc != 0)
        return rc;
    struct pending *p = xcalloc(1, sizeof(*p));
    rc = sioc_socket_emit_ack(s->sock, event, text, NULL, 0, s->call_timeout_ms, on_ack, p);
    if (rc != 0) {
        free(p);
        if (rc == SIOC_ERR_NOT_CONNECTED)
            return CLI_SESSION_TIMEOUT;
        snprintf(s->problem, sizeof(s->problem), "Could not send '%s' to the broker: %s.", event,
                 sioc_strerror(rc));
        return CLI_EXIT_CONNECTION;
    }
    /* The library's ack timeout ends the wait; this bound is only a safety net. */
    rc = cli_session_run(s, is_done, p, s->call_timeout_ms + 5000);
    int no_answer = rc == CLI_SESSION_TIMEOUT;
    if (rc != 0) {
        p->abandoned = 1; /* on_ack frees it when it runs */
        rc = no_answer ? CLI_EXIT_CONNECTION : rc;
    } else if (p->err == sioc_err_disconnected) {
        rc = CLI_SESSION_TIMEOUT;
    } else if (p->err != NULL) {
        no_answer = 1;
        rc = CLI_EXIT_CONNECTION;
    } else {
        rc = take_answer(s, event, p, reply);
    }
    if (no_answer)
        snprintf(s->problem, sizeof(s->problem),
                 "The broker at %.300s did not answer '%s' within %llu s. Try again in a minute.",
                 s->url, event, (unsigned long long)(s->call_timeout_ms / 1000));
    if (!p->abandoned) {
        if (p->reply != NULL)
            json_decref(p->reply);
        free(p);
    }
    return rc;
}

int cli_session_call(struct cli_session *s, const char *event, json_t *args, json_t **reply)
{
    struct buf text;
    *reply = NULL;
    if (args == NULL) {
        snprintf(s->problem, sizeof(s->problem), "The '%s' request holds invalid UTF-8.", event);
        return CLI_EXIT_USAGE;
    }
    json_t *arr = json_pack("[O]", args);
    buf_init(&text, MAX_MESSAGE);
    int rc = cli_json_dump(&text, arr);
    json_decref(arr);
    if (rc != 0) {
        buf_release(&text);
        snprintf(s->problem, sizeof(s->problem), "The '%s' request is too large to send.", event);
        return CLI_EXIT_USAGE;
    }
    rc = CLI_SESSION_TIMEOUT;
    for (int attempt = 0; attempt < CALL_ATTEMPTS && rc == CLI_SESSION_TIMEOUT; attempt++)
        rc = call_once(s, event, text.data, reply);
    if (rc == CLI_SESSION_TIMEOUT) {
        snprintf(
            s->problem, sizeof(s->problem),
            "The connection to the broker at %.300s kept dropping before it answered '%s'. Try "
            "again in a minute.",
            s->url, event);
        rc = CLI_EXIT_CONNECTION;
    }
    buf_release(&text);
    return rc;
}

int cli_session_authenticate(struct cli_session *s)
{
    json_t *reply = NULL;
    json_t *args = json_pack("{s:s,s:s,s:s}", "api_key", s->api_key, "challenge_id", s->challenge,
                             "client_version", "crowdai-cli/" CLI_VERSION);
    if (args == NULL) {
        snprintf(s->problem, sizeof(s->problem),
                 "The API key or the challenge id is not valid text.");
        return CLI_EXIT_USAGE;
    }
    int rc = cli_session_call(s, "authenticate", args, &reply);
    json_decref(args);
    if (rc != 0)
        return rc;
    const char *token = cli_json_str(reply, "session_token");
    const char *name = cli_json_str(json_object_get(reply, "participant"), "name");
    if (token == NULL || strlen(token) >= sizeof(s->token)) {
        snprintf(s->problem, sizeof(s->problem),
                 "The broker's answer to authenticate had no "
                 "usable session token.");
        json_decref(reply);
        return CLI_EXIT_CONNECTION;
    }
    snprintf(s->token, sizeof(s->token), "%s", token);
    snprintf(s->participant, sizeof(s->participant), "%s", name != NULL ? name : "");
    json_decref(reply);
    return 0;
}

static int session_refused(const json_t *refusal)
{
    static const char *const codes[] = {"NO_SESSION", "BAD_SESSION", "SESSION_EXPIRED",
                                        "SESSION_REVOKED"};
    const char *code = json_string_value(json_object_get(refusal, "code"));
    for (size_t i = 0; code != NULL && i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(code, codes[i]) == 0)
            return 1;
    }
    return 0;
}

int cli_session_call_auth(struct cli_session *s, const char *event, json_t *args, json_t **reply)
{
    for (int attempt = 0;; attempt++) {
        json_object_set_new(args, "session_token", json_string(s->token));
        int rc = cli_session_call(s, event, args, reply);
        if (rc != CLI_EXIT_REFUSED || attempt > 0 || !session_refused(s->refusal))
            return rc;
        rc = cli_session_authenticate(s);
        if (rc != 0)
            return rc;
    }
}

json_t *cli_session_take_event(struct cli_session *s)
{
    if (json_array_size(s->events) == 0)
        return NULL;
    json_t *ev = json_incref(json_array_get(s->events, 0));
    json_array_remove(s->events, 0);
    return ev;
}
