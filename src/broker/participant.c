/* The participant protocol on namespace "/": authenticate, submit, watch, status, cancel and
 * leaderboard, each answered through its ack. Every call but leaderboard carries the session
 * token, checked each time; a participant sees and touches only their own submissions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/psess.h"
#include "broker/reply.h"
#include "broker/submit.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "registry/reg_submission.h"

#define MAX_CLIENT_ID   128
#define MAX_DESCRIPTION 500
#define MAX_KEY         128

/* One call in flight. */
struct pcall {
    struct psess *ps;
    long long ack_id;
    struct token_claims claims;
    int64_t sub_id;
    int64_t after_seq;
    char *client_id;
    char *file_key;
    char *description;
    char *data;
    int round;
    void (*after_session)(struct pcall *c); /* what the call does once its session stands */
    void (*owned_then)(struct pcall *c, const struct reg_submission *s);
    struct reg_challenge challenge;
    json_t *rows;
};

static struct pcall *pcall_new(struct psess *ps, long long ack_id)
{
    struct pcall *c = xcalloc(1, sizeof(*c));
    c->ps = ps;
    c->ack_id = ack_id;
    psess_ref(ps);
    return c;
}

static void pcall_free(struct pcall *c)
{
    psess_unref(c->ps);
    free(c->client_id);
    free(c->file_key);
    free(c->description);
    free(c->data);
    if (c->rows != NULL)
        json_decref(c->rows);
    free(c);
}

/* ---- authenticate ---- */

static const char *auth_code(enum reg_auth r)
{
    switch (r) {
    case REG_AUTH_BAD_KEY:
        return "BAD_API_KEY";
    case REG_AUTH_UNKNOWN_CHALLENGE:
        return "UNKNOWN_CHALLENGE";
    case REG_AUTH_CHALLENGE_CLOSED:
        return "CHALLENGE_CLOSED";
    default:
        return "INTERNAL";
    }
}

static const char *auth_message(enum reg_auth r)
{
    switch (r) {
    case REG_AUTH_BAD_KEY:
        return "This API key is not valid (unknown, rotated or revoked). Copy it again from "
               "your profile page.";
    case REG_AUTH_UNKNOWN_CHALLENGE:
        return "There is no challenge with that id. Check the challenge id.";
    case REG_AUTH_CHALLENGE_CLOSED:
        return "This challenge is closed: its last round has ended.";
    default:
        return "The broker could not check your key just now. Try again in a minute.";
    }
}

int participant_session_issue(struct broker *b, int64_t participant_id, const char *challenge_id,
                              char token[TOKEN_MAX_LEN], int64_t *expires_at)
{
    struct token_claims claims = {0};
    claims.participant_id = participant_id;
    snprintf(claims.challenge_id, sizeof(claims.challenge_id), "%s", challenge_id);
    claims.issued_at = broker_now();
    claims.expires_at = claims.issued_at + b->cfg.token_ttl_ms;
    *expires_at = claims.expires_at;
    return token_issue(b->secret, &claims, token);
}

static void on_authenticated(void *ud, enum reg_auth result, const struct reg_participant *p,
                             const struct reg_challenge *ch)
{
    struct pcall *c = ud;
    struct sio_socket *sock = c->ps->sock;
    if (sock != NULL && result != REG_AUTH_OK) {
        reply_error(sock, c->ack_id, auth_code(result), auth_message(result), NULL);
    } else if (sock != NULL) {
        char token[TOKEN_MAX_LEN];
        char expires[32];
        int64_t expires_at = 0;
        int rc = participant_session_issue(c->ps->b, p->id, ch->id, token, &expires_at);
        reply_iso_time(expires_at, expires);
        if (rc != 0) {
            reply_error(sock, c->ack_id, "INTERNAL", "Could not issue a session token.", NULL);
        } else {
            log_info("broker", "authenticated participant=%" PRId64 " challenge=%s", p->id, ch->id);
            reply_ok(sock, c->ack_id,
                     json_pack("{s:s,s:s,s:{s:I,s:s},s:{s:s,s:s}}", "session_token", token,
                               "expires_at", expires, "participant", "id", (json_int_t)p->id,
                               "name", p->name, "challenge", "id", ch->id, "title", ch->title));
        }
    }
    pcall_free(c);
}

static void on_authenticate(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    json_t *args = reply_first_object(ev);
    if (args != NULL && json_object_get(args, "API_KEY") != NULL &&
        json_object_get(args, "api_key") == NULL) {
        legacy_authenticate(b, sock, ev->ack_id, args); /* the crowdAI client */
        json_decref(args);
        return;
    }
    const char *key = args ? reply_string(args, "api_key", MAX_KEY) : NULL;
    const char *challenge = args ? reply_string(args, "challenge_id", 63) : NULL;
    if (key == NULL || challenge == NULL) {
        reply_error(sock, ev->ack_id, "BAD_REQUEST",
                    "authenticate needs {api_key, challenge_id} as strings.", NULL);
    } else {
        struct pcall *c = pcall_new(psess_of(sock), ev->ack_id);
        b->reg->ops->authenticate(b->reg, key, challenge, on_authenticated, c);
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- shared checks ---- */

static void on_session_checked(void *ud, int result)
{
    struct pcall *c = ud;
    if (!session_stands(c->ps->sock, c->ack_id, result)) {
        pcall_free(c);
        return;
    }
    c->after_session(c);
}

/* Asks the registry whether the (verified) token's session still stands, then runs next. */
static void session_then(struct pcall *c, void (*next)(struct pcall *c))
{
    struct registry *reg = c->ps->b->reg;
    c->after_session = next;
    reg->ops->check_session(reg, c->claims.participant_id, c->claims.issued_at, on_session_checked,
                            c);
}

/* ---- submit ---- */

static json_t *quota_fields(const struct submission_outcome *o)
{
    json_t *q = json_object();
    json_object_set_new(q, "submissions_remaining",
                        o->submissions_remaining < 0 ? json_null()
                                                     : json_integer(o->submissions_remaining));
    if (o->reset_at > 0) {
        char iso[32];
        reply_iso_time(o->reset_at, iso);
        json_object_set_new(q, "reset_at", json_string(iso));
    } else {
        json_object_set_new(q, "reset_at", json_null());
    }
    return q;
}

static void on_submission(void *ud, const struct submission_outcome *o)
{
    struct pcall *c = ud;
    struct sio_socket *sock = c->ps->sock;
    if (sock != NULL && o->code != NULL && o->submission_id > 0) {
        reply_error(sock, c->ack_id, o->code, o->message,
                    json_pack("{s:I}", "submission_id", (json_int_t)o->submission_id));
    } else if (sock != NULL && o->code != NULL) {
        reply_error(sock, c->ack_id, o->code, o->message, quota_fields(o));
    } else if (sock != NULL) {
        json_t *r = quota_fields(o);
        json_object_set_new(r, "submission_id", json_integer(o->submission_id));
        json_object_set_new(r, "state", json_string("QUEUED"));
        json_object_set_new(r, "position", json_integer(o->position));
        json_object_set_new(r, "round", json_integer(o->round));
        json_object_set_new(r, "existing", json_boolean(o->existing));
        reply_ok(sock, c->ack_id, r);
        watchers_follow(&c->ps->b->watchers, o->submission_id, sock);
    }
    pcall_free(c);
}

static void on_submit_challenge(void *ud, int found, const struct reg_challenge *ch)
{
    struct pcall *c = ud;
    if (!found) {
        if (c->ps->sock != NULL)
            reply_error(c->ps->sock, c->ack_id, "UNKNOWN_CHALLENGE",
                        auth_message(REG_AUTH_UNKNOWN_CHALLENGE), NULL);
        pcall_free(c);
        return;
    }
    struct submission_request req = {
        .participant_id = c->claims.participant_id,
        .challenge = ch,
        .round = c->round,
        .client_submission_id = c->client_id,
        .file_key = c->file_key,
        .data = c->data,
        .description = c->description,
    };
    submission_start(c->ps->b, &req, on_submission, c);
}

static void submit_get_challenge(struct pcall *c)
{
    struct registry *reg = c->ps->b->reg;
    reg->ops->get_challenge(reg, c->claims.challenge_id, on_submit_challenge, c);
}

/* Reads submit's arguments into c; answers and returns -1 when one is malformed. */
static int read_submit_args(struct pcall *c, struct sio_socket *sock, json_t *args)
{
    int ok = 0;
    const char *client_id = reply_string(args, "client_submission_id", MAX_CLIENT_ID);
    const char *challenge = reply_string(args, "challenge_id", 63);
    const char *file_key =
        json_object_get(args, "file_key") ? reply_string(args, "file_key", 64) : "";
    const char *description = json_object_get(args, "description")
                                  ? reply_string(args, "description", MAX_DESCRIPTION)
                                  : "";
    c->round = (int)reply_integer(args, "round", 0, &ok);
    const char *problem = NULL;
    if (client_id == NULL || client_id[0] == '\0')
        problem = "submit needs a client_submission_id (a string you choose, at most 128 bytes, "
                  "the same when you retry).";
    else if (challenge == NULL || strcmp(challenge, c->claims.challenge_id) != 0)
        problem = "challenge_id is missing or is not the challenge of your session.";
    else if (file_key == NULL || (file_key[0] != '\0' && !blob_key_valid(file_key)))
        problem = "file_key must be the key the upload answered.";
    else if (description == NULL)
        problem = "description must be a string of at most 500 bytes.";
    else if (ok != 0 || c->round < 0)
        problem = "round must be a positive whole number.";
    else if (file_key[0] == '\0' && json_object_get(args, "data") == NULL)
        problem = "submit needs data or a file_key.";
    if (problem != NULL) {
        /* Not counted against the quota, which is not known here: null, not omitted. */
        reply_error(sock, c->ack_id, "BAD_REQUEST", problem,
                    json_pack("{s:n,s:n}", "submissions_remaining", "reset_at"));
        return -1;
    }
    c->client_id = xstrdup(client_id);
    c->file_key = xstrdup(file_key);
    c->description = xstrdup(description);
    json_t *data = json_object_get(args, "data");
    if (data != NULL)
        c->data = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    return 0;
}

static void on_submit(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    json_t *args = reply_first_object(ev);
    struct token_claims claims;
    if (session_token_check(b, sock, ev->ack_id, args, &claims) == 0) {
        struct pcall *c = pcall_new(psess_of(sock), ev->ack_id);
        c->claims = claims;
        if (read_submit_args(c, sock, args) != 0)
            pcall_free(c);
        else
            session_then(c, submit_get_challenge);
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- watch, status, cancel: a submission of one's own ---- */

static void on_owned_lookup(void *ud, int found, const struct reg_submission *s)
{
    struct pcall *c = ud;
    if (!found || s->participant_id != c->claims.participant_id) {
        /* Same answer whether it does not exist or is someone else's. */
        if (c->ps->sock != NULL)
            reply_error(c->ps->sock, c->ack_id, "NOT_FOUND", "You have no submission with that id.",
                        NULL);
        pcall_free(c);
        return;
    }
    c->owned_then(c, s);
}

/* Looks up c->sub_id, then calls c->owned_then if it is the caller's own. */
static void owned_lookup(struct pcall *c)
{
    struct registry *reg = c->ps->b->reg;
    reg->ops->get_submission(reg, c->sub_id, on_owned_lookup, c);
}

static void with_owned(struct sio_socket *sock, const struct sio_event *ev, struct broker *b,
                       void (*then)(struct pcall *c, const struct reg_submission *s))
{
    json_t *args = reply_first_object(ev);
    struct token_claims claims;
    if (session_token_check(b, sock, ev->ack_id, args, &claims) == 0) {
        int ok = 0;
        int64_t id = reply_integer(args, "submission_id", -1, &ok);
        if (ok != 0 || id <= 0) {
            reply_error(sock, ev->ack_id, "BAD_REQUEST", "submission_id must be a number.", NULL);
        } else {
            struct pcall *c = pcall_new(psess_of(sock), ev->ack_id);
            c->claims = claims;
            c->sub_id = id;
            c->after_seq = reply_integer(args, "after_seq", 0, &ok);
            c->owned_then = then;
            session_then(c, owned_lookup);
        }
    }
    if (args != NULL)
        json_decref(args);
}

static json_t *submission_json(const struct reg_submission *s)
{
    json_t *o = json_pack("{s:I,s:s,s:i,s:s}", "submission_id", (json_int_t)s->id, "state",
                          reg_submission_state_name(s->state), "round", s->round_number, "message",
                          s->message);
    json_object_set_new(o, "score", s->has_score ? json_real(s->score) : json_null());
    json_object_set_new(o, "score_secondary",
                        s->has_score && s->has_secondary ? json_real(s->score_secondary)
                                                         : json_null());
    return o;
}

static void watch_owned(struct pcall *c, const struct reg_submission *s)
{
    if (c->ps->sock != NULL) {
        reply_ok(c->ps->sock, c->ack_id, submission_json(s));
        watchers_add(&c->ps->b->watchers, s->id, c->ps->sock, c->after_seq);
    }
    pcall_free(c);
}

static void on_watch(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    with_owned(sock, ev, ud, watch_owned);
}

static void on_position(void *ud, const char *err, int64_t n)
{
    struct pcall *c = ud;
    if (c->ps->sock != NULL) {
        json_t *o = c->rows;
        c->rows = NULL;
        json_object_set_new(o, "position", err == NULL && n >= 0 ? json_integer(n) : json_null());
        reply_ok(c->ps->sock, c->ack_id, o);
    }
    pcall_free(c);
}

/* Puts the queue's view into the answer: it is ahead of the registry, which the outbox
 * updates a moment after a submission ends. */
static void apply_queue_state(json_t *o, enum rq_state state, const char *result,
                              const char *message)
{
    static const char *const names[] = {
        [RQ_QUEUED] = "QUEUED", [RQ_RUNNING] = "RUNNING", [RQ_DONE] = "COMPLETE",
        [RQ_ERROR] = "ERROR",   [RQ_TIMEOUT] = "TIMEOUT", [RQ_CANCELLED] = "CANCELLED",
    };
    json_object_set_new(o, "state", json_string(names[state]));
    if (state != RQ_DONE && state != RQ_QUEUED && state != RQ_RUNNING && message != NULL)
        json_object_set_new(o, "message", json_string(message));
    json_t *r = state == RQ_DONE && result != NULL ? json_loads(result, 0, NULL) : NULL;
    if (r != NULL) {
        json_t *score = json_object_get(r, "score");
        json_t *secondary = json_object_get(r, "score_secondary");
        json_object_set(o, "score", json_is_number(score) ? score : json_null());
        json_object_set(o, "score_secondary", json_is_number(secondary) ? secondary : json_null());
        json_decref(r);
    }
}

static void on_queue_state(void *ud, const char *err, enum rq_state state, const char *result,
                           const char *message, int attempt)
{
    struct pcall *c = ud;
    (void)attempt;
    if (err == NULL && state != RQ_UNKNOWN)
        apply_queue_state(c->rows, state, result, message);
    if (err == NULL && state == RQ_QUEUED) {
        rq_position(c->ps->b->rq, c->challenge.pool, c->sub_id, on_position, c);
        return;
    }
    on_position(c, "not queued", -1);
}

static void status_owned(struct pcall *c, const struct reg_submission *s)
{
    c->rows = submission_json(s);
    if (s->state == REG_SUB_QUEUED || s->state == REG_SUB_RUNNING) {
        rq_get(c->ps->b->rq, s->id, on_queue_state, c);
        return;
    }
    on_position(c, "not queued", -1);
}

static void status_with_challenge(void *ud, int found, const struct reg_challenge *ch)
{
    struct pcall *c = ud;
    if (found)
        c->challenge = *ch;
    c->owned_then = status_owned;
    owned_lookup(c);
}

static void status_get_challenge(struct pcall *c)
{
    struct registry *reg = c->ps->b->reg;
    reg->ops->get_challenge(reg, c->claims.challenge_id, status_with_challenge, c);
}

static void on_status(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    json_t *args = reply_first_object(ev);
    struct token_claims claims;
    int ok = 0;
    if (session_token_check(b, sock, ev->ack_id, args, &claims) == 0) {
        int64_t id = reply_integer(args, "submission_id", -1, &ok);
        if (ok != 0 || id <= 0) {
            reply_error(sock, ev->ack_id, "BAD_REQUEST", "submission_id must be a number.", NULL);
        } else {
            struct pcall *c = pcall_new(psess_of(sock), ev->ack_id);
            c->claims = claims;
            c->sub_id = id;
            session_then(c, status_get_challenge);
        }
    }
    if (args != NULL)
        json_decref(args);
}

static void on_cancelled(void *ud, const char *err, enum rq_state before, const char *grader)
{
    struct pcall *c = ud;
    if (err == NULL && before == RQ_RUNNING && grader != NULL)
        grader_forward_cancel(c->ps->b, grader, c->sub_id, "cancelled by the participant");
    if (err == NULL)
        outbox_kick(c->ps->b);
    if (c->ps->sock != NULL) {
        if (err != NULL)
            reply_error(c->ps->sock, c->ack_id, "QUEUE_UNAVAILABLE",
                        "Could not cancel just now; try again.", NULL);
        else if (before == RQ_QUEUED || before == RQ_RUNNING)
            reply_ok(c->ps->sock, c->ack_id,
                     json_pack("{s:I,s:s}", "submission_id", (json_int_t)c->sub_id, "state",
                               "CANCELLED"));
        else
            reply_error(c->ps->sock, c->ack_id, "ALREADY_FINISHED",
                        "This submission has already finished; there is nothing to cancel.", NULL);
    }
    pcall_free(c);
}

static void cancel_owned(struct pcall *c, const struct reg_submission *s)
{
    rq_cancel(c->ps->b->rq, s->id, "Cancelled by the participant.", on_cancelled, c);
}

static void on_cancel(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    with_owned(sock, ev, ud, cancel_owned);
}

/* ---- leaderboard (public) ---- */

static void on_leaderboard_row(void *ud, const struct reg_leaderboard_row *row, int count)
{
    struct pcall *c = ud;
    if (row != NULL) {
        char best[32];
        reply_iso_time(row->best_at, best);
        json_t *r =
            json_pack("{s:i,s:s,s:I,s:f,s:i,s:s}", "rank", row->rank, "participant",
                      row->participant_name, "submission_id", (json_int_t)row->submission_id,
                      "score", row->score, "submissions", row->submissions, "best_at", best);
        json_object_set_new(r, "score_secondary",
                            row->has_secondary ? json_real(row->score_secondary) : json_null());
        json_t *code = archive_code_link(c->challenge.id, row->participant_id);
        json_object_set_new(r, "code", code != NULL ? code : json_null());
        json_array_append_new(c->rows, r);
        return;
    }
    (void)count;
    if (c->ps->sock != NULL) {
        reply_ok(c->ps->sock, c->ack_id,
                 json_pack("{s:s,s:O}", "challenge_id", c->challenge.id, "rows", c->rows));
    }
    pcall_free(c);
}

static void on_leaderboard(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    json_t *args = reply_first_object(ev);
    const char *challenge = args ? reply_string(args, "challenge_id", 63) : NULL;
    int ok = 0;
    int round = args ? (int)reply_integer(args, "round", 0, &ok) : 0;
    if (challenge == NULL || ok != 0) {
        reply_error(sock, ev->ack_id, "BAD_REQUEST",
                    "leaderboard needs {challenge_id} and an optional round number.", NULL);
    } else {
        struct pcall *c = pcall_new(psess_of(sock), ev->ack_id);
        snprintf(c->challenge.id, sizeof(c->challenge.id), "%s", challenge);
        c->rows = json_array();
        b->reg->ops->leaderboard(b->reg, challenge, round, 100, on_leaderboard_row, c);
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- connection ---- */

static void on_connected(struct sio_socket *sock, const char *auth, size_t len, void *ud)
{
    struct psess *ps = xcalloc(1, sizeof(*ps));
    (void)auth, (void)len;
    ps->b = ud;
    ps->sock = sock;
    ps->refs = 1;
    sio_socket_set_data(sock, ps);
}

static void on_disconnect(struct sio_socket *sock, const char *reason, void *ud)
{
    struct broker *b = ud;
    struct psess *ps = psess_of(sock);
    (void)reason;
    watchers_remove_socket(&b->watchers, sock);
    if (ps == NULL)
        return;
    board_forget(b, ps);
    ps->sock = NULL;
    psess_unref(ps);
}

void participant_install(struct broker *b)
{
    struct sio_namespace *nsp = b->participants;
    sio_namespace_on_connect(nsp, NULL, on_connected, b);
    sio_namespace_on_disconnect(nsp, on_disconnect, b);
    sio_namespace_on(nsp, "authenticate", on_authenticate, b);
    sio_namespace_on(nsp, "submit", on_submit, b);
    sio_namespace_on(nsp, "watch", on_watch, b);
    sio_namespace_on(nsp, "status", on_status, b);
    sio_namespace_on(nsp, "cancel", on_cancel, b);
    sio_namespace_on(nsp, "leaderboard", on_leaderboard, b);
    legacy_install(b);
    archive_calls_install(b, on_submit);
}
