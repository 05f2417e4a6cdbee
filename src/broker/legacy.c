/* The crowdAI participant client's protocol (crowdai 1.0.x on socketIO-client 0.7.x, EIO3) on
 * namespace "/", beside ours: authenticate with API_KEY, answered by an
 * `authenticate_response` event and by the ack (so the client does not wait out its 10 s);
 * execute_function, one submission per element of `data`, whose events go out to that socket
 * only, as JSON strings, on the event named by `response_channel`, and whose ack is the array
 * of final messages in data_sequence_no order; close_session. docs/CROWDAI.md has the
 * mapping. */
#include <ctype.h>
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

#define LEGACY_MAX_JOBS    16
#define LEGACY_MAX_CHANNEL 100 /* the client's is "<challenge>::<uuid4>" */

#define AUTH_SUCCESS "CrowdAI.Event.Authentication.SUCCESS"
#define AUTH_ERROR   "CrowdAI.Event.Authentication.ERROR"
#define JOB_PREFIX   "CrowdAI.Event.Job."

#define NO_GRADER_MESSAGE                                                                          \
    "No grader is online for this challenge right now, so nothing was submitted and your "         \
    "submission count is untouched. Please try again later."

/* The crowdAI client names challenges like "IEEEInvestmentRankingChallenge"; the broker's
 * challenge id is that name in lower case. -1 if it cannot be one. */
static int challenge_slug(const char *name, char out[64])
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > 63)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)tolower((unsigned char)name[i]);
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return -1;
        out[i] = (char)ch;
    }
    out[n] = '\0';
    return 0;
}

/* ---- authenticate ---- */

struct lauth {
    struct psess *ps;
    long long ack_id;
};

static void auth_answer(struct sio_socket *sock, long long ack_id, int ok, const char *token,
                        const char *message)
{
    json_t *m = json_pack("{s:s,s:s,s:s}", "response_type", ok ? AUTH_SUCCESS : AUTH_ERROR,
                          "session_token", token != NULL ? token : "", "message", message);
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    sio_socket_emit(sock, "authenticate_response", text, strlen(text), NULL, 0);
    if (ack_id != SIO_NO_ACK)
        sio_socket_ack(sock, ack_id, text, strlen(text), NULL, 0);
    free(text);
}

static const char *auth_refusal(enum reg_auth r)
{
    switch (r) {
    case REG_AUTH_BAD_KEY:
        return "Invalid API key. Please copy your API key again from your crowdAI profile page.";
    case REG_AUTH_UNKNOWN_CHALLENGE:
        return "Unrecognized challenge. Please check the challenge_id and/or update your client.";
    case REG_AUTH_CHALLENGE_CLOSED:
        return "This challenge is closed: its last round has ended.";
    default:
        return "The broker could not check your API key just now. Please try again in a minute.";
    }
}

static void on_legacy_authenticated(void *ud, enum reg_auth result, const struct reg_participant *p,
                                    const struct reg_challenge *ch)
{
    struct lauth *a = ud;
    struct sio_socket *sock = a->ps->sock;
    if (sock != NULL && result != REG_AUTH_OK) {
        auth_answer(sock, a->ack_id, 0, NULL, auth_refusal(result));
    } else if (sock != NULL) {
        char token[TOKEN_MAX_LEN];
        int64_t expires_at;
        if (participant_session_issue(a->ps->b, p->id, ch->id, token, &expires_at) != 0) {
            auth_answer(sock, a->ack_id, 0, NULL, "Could not issue a session token.");
        } else {
            log_info("broker", "authenticated participant=%" PRId64 " challenge=%s client=crowdai",
                     p->id, ch->id);
            auth_answer(sock, a->ack_id, 1, token, "Authentication successful.");
        }
    }
    psess_unref(a->ps);
    free(a);
}

void legacy_authenticate(struct broker *b, struct sio_socket *sock, long long ack_id, json_t *args)
{
    const char *key = reply_string(args, "API_KEY", 128);
    const char *name = reply_string(args, "challenge_id", 63);
    char slug[64];
    if (key == NULL || name == NULL) {
        auth_answer(sock, ack_id, 0, NULL,
                    "The following params are required params : [API_KEY, challenge_id]");
        return;
    }
    if (challenge_slug(name, slug) != 0) {
        auth_answer(sock, ack_id, 0, NULL, auth_refusal(REG_AUTH_UNKNOWN_CHALLENGE));
        return;
    }
    struct lauth *a = xmalloc(sizeof(*a));
    a->ps = psess_of(sock);
    a->ack_id = ack_id;
    psess_ref(a->ps);
    /* The client strips the key; so does the broker. */
    char trimmed[129];
    size_t n = strlen(key);
    while (n > 0 && isspace((unsigned char)key[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*key))
        key++, n--;
    snprintf(trimmed, sizeof(trimmed), "%.*s", (int)n, key);
    b->reg->ops->authenticate(b->reg, trimmed, slug, on_legacy_authenticated, a);
}

/* ---- execute_function ---- */

struct lcall;

/* One element of `data`: one submission, whose events the watch hands to the sink. */
struct ljob {
    struct watch_sink sink; /* first: the sink is the job */
    struct lcall *call;
    int seq_no;
    int64_t sub_id;
    json_t *final; /* its final message, once it ended */
};

struct lcall {
    struct broker *b;
    struct psess *ps;
    long long ack_id;
    char channel[LEGACY_MAX_CHANNEL + 1];
    struct token_claims claims;
    struct reg_challenge challenge;
    json_t *data; /* the array */
    int njobs, nfinal;
    int refs; /* this call's own work, and each job's watch */
    struct ljob jobs[LEGACY_MAX_JOBS];
};

static void lcall_unref(struct lcall *c)
{
    if (--c->refs > 0)
        return;
    for (int i = 0; i < c->njobs; i++) {
        if (c->jobs[i].final != NULL)
            json_decref(c->jobs[i].final);
    }
    if (c->data != NULL)
        json_decref(c->data);
    psess_unref(c->ps);
    free(c);
}

/* A message of the crowdAI wire format. */
static json_t *message_new(const char *type, int64_t sub_id, int seq_no, json_t *data,
                           const char *message)
{
    char rt[64], job_id[24] = "";
    snprintf(rt, sizeof(rt), JOB_PREFIX "%s", type);
    if (sub_id > 0)
        snprintf(job_id, sizeof(job_id), "%" PRId64, sub_id);
    return json_pack("{s:s,s:s,s:i,s:o,s:s}", "response_type", rt, "job_id", job_id,
                     "data_sequence_no", seq_no, "data", data != NULL ? data : json_object(),
                     "message", message != NULL ? message : "");
}

/* Emits m on the response channel as the client wants it: one argument, a JSON string. */
static void channel_emit(struct lcall *c, const json_t *m)
{
    struct sio_socket *sock = c->ps->sock;
    if (sock == NULL || c->channel[0] == '\0')
        return;
    char *text = json_dumps(m, JSON_COMPACT);
    json_t *str = json_string(text);
    char *arg = json_dumps(str, JSON_ENCODE_ANY | JSON_COMPACT);
    sio_socket_emit(sock, c->channel, arg, strlen(arg), NULL, 0);
    free(arg);
    json_decref(str);
    free(text);
}

/* The ack: one argument, the final messages in data_sequence_no order. */
static void answer_ack(struct lcall *c)
{
    struct sio_socket *sock = c->ps->sock;
    if (sock == NULL || c->ack_id == SIO_NO_ACK)
        return;
    json_t *all = json_array();
    for (int i = 0; i < c->njobs; i++)
        json_array_append(all, c->jobs[i].final != NULL ? c->jobs[i].final : json_null());
    char *text = json_dumps(all, JSON_COMPACT);
    sio_socket_ack(sock, c->ack_id, text, strlen(text), NULL, 0);
    free(text);
    json_decref(all);
}

/* Job i ended with m (a reference is taken). */
static void job_ended(struct ljob *j, json_t *m)
{
    struct lcall *c = j->call;
    if (j->final != NULL)
        return;
    j->final = json_incref(m);
    if (++c->nfinal == c->njobs)
        answer_ack(c);
}

/* The whole call fails before any job started: ERROR on the channel, and in the ack. */
static void call_fail(struct lcall *c, const char *message)
{
    if (c->njobs == 0)
        c->njobs = 1;
    for (int i = 0; i < c->njobs; i++) {
        json_t *m = message_new("ERROR", 0, i, NULL, message);
        if (i == 0)
            channel_emit(c, m);
        job_ended(&c->jobs[i], m);
        json_decref(m);
    }
}

static const char *legacy_type(const char *type, int *final)
{
    static const char *const finals[] = {"COMPLETE", "ERROR", "TIMEOUT"};
    *final = 0;
    if (strcmp(type, "CANCELLED") == 0) {
        *final = 1;
        return "ERROR"; /* the crowdAI client knows no CANCELLED */
    }
    if (strcmp(type, "WAITING") == 0)
        return "INFO"; /* nor WAITING: it would stop with "Malformed response from server" */
    for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
        if (strcmp(type, finals[i]) == 0)
            *final = 1;
    }
    return type;
}

static void sink_deliver(struct watch_sink *sink, struct sio_socket *sock,
                         const struct rq_event *ev)
{
    struct ljob *j = (struct ljob *)sink;
    (void)sock;
    if (j->final != NULL)
        return; /* graded again after the call ended: not this call's any more */
    json_t *e = json_loads(ev->event, 0, NULL);
    const char *type = e != NULL ? json_string_value(json_object_get(e, "type")) : NULL;
    if (type == NULL) {
        if (e != NULL)
            json_decref(e);
        return;
    }
    const char *message = json_string_value(json_object_get(e, "message"));
    int final;
    const char *lt = legacy_type(type, &final);
    json_t *data = NULL;
    if (strcmp(type, "PROGRESS_UPDATE") == 0) {
        json_t *pct = json_object_get(e, "percent");
        data = json_pack("{s:f,s:s,s:i}", "percent_complete",
                         json_is_number(pct) ? json_number_value(pct) : 0.0, "message",
                         message != NULL ? message : "", "data_sequence_no", j->seq_no);
    } else if (strcmp(type, "COMPLETE") == 0 && json_is_object(json_object_get(e, "data"))) {
        data = json_deep_copy(json_object_get(e, "data"));
    }
    json_t *m = message_new(lt, j->sub_id, j->seq_no, data, message);
    channel_emit(j->call, m);
    if (final)
        job_ended(j, m);
    json_decref(m);
    json_decref(e);
}

static void sink_gone(struct watch_sink *sink)
{
    lcall_unref(((struct ljob *)sink)->call);
}

static void on_job_submitted(void *ud, const struct submission_outcome *o)
{
    struct ljob *j = ud;
    struct lcall *c = j->call;
    if (o->code != NULL) {
        json_t *m = message_new("ERROR", o->submission_id, j->seq_no, NULL, o->message);
        channel_emit(c, m);
        job_ended(j, m);
        json_decref(m);
    } else if (c->ps->sock != NULL) {
        j->sub_id = o->submission_id;
        c->refs++; /* the watch's, given back by sink_gone */
        watchers_add_sink(&c->b->watchers, o->submission_id, c->ps->sock, &j->sink);
    }
    lcall_unref(c); /* this job's submission */
}

/* The element's file into key: a blob key as our upload answers it, or the s3_key of a
 * presigned upload of this participant. -1 if there is none. */
static int element_file_key(const struct lcall *c, json_t *e, char key[BLOB_KEY_LEN + 1])
{
    const char *k = json_string_value(json_object_get(e, "file_key"));
    char mine[32];
    if (k == NULL)
        return -1;
    if (blob_key_valid(k)) {
        snprintf(key, BLOB_KEY_LEN + 1, "%s", k);
        return 0;
    }
    snprintf(mine, sizeof(mine), "p%" PRId64 "-", c->claims.participant_id);
    if (strncmp(k, mine, strlen(mine)) != 0)
        return -1; /* another participant's upload */
    return blob_alias_resolve(&c->b->blobs, k, key);
}

static void start_jobs(struct lcall *c)
{
    /* Check every element first: nothing is submitted when one is unusable. */
    for (int i = 0; i < c->njobs; i++) {
        json_t *e = json_array_get(c->data, (size_t)i);
        char key[BLOB_KEY_LEN + 1];
        if (json_is_object(e) && json_object_get(e, "file_key") != NULL &&
            element_file_key(c, e, key) != 0) {
            call_fail(c, "The file_key of this submission is unknown: upload the file first.");
            return;
        }
    }
    for (int i = 0; i < c->njobs; i++) {
        struct ljob *j = &c->jobs[i];
        json_t *e = json_array_get(c->data, (size_t)i);
        char file_key[BLOB_KEY_LEN + 1] = "";
        if (json_is_object(e))
            element_file_key(c, e, file_key);
        json_t *round = json_is_object(e) ? json_object_get(e, "round") : NULL;
        char client_id[LEGACY_MAX_CHANNEL + 16];
        snprintf(client_id, sizeof(client_id), "%s#%d", c->channel, i);
        char *data = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
        struct submission_request req = {
            .participant_id = c->claims.participant_id,
            .challenge = &c->challenge,
            .round = json_is_integer(round) && json_integer_value(round) > 0
                         ? (int)json_integer_value(round)
                         : 0,
            .client_submission_id = client_id,
            .file_key = file_key,
            .data = data,
            .description = "",
        };
        c->refs++;
        submission_start(c->b, &req, on_job_submitted, j);
        free(data);
    }
}

static void on_graders_online(void *ud, const char *err, int64_t n)
{
    struct lcall *c = ud;
    if (err == NULL && n == 0)
        call_fail(c, NO_GRADER_MESSAGE);
    else
        start_jobs(c); /* Redis down: the submit itself will say so */
    lcall_unref(c);
}

static void on_legacy_challenge(void *ud, int found, const struct reg_challenge *ch)
{
    struct lcall *c = ud;
    if (!found) {
        call_fail(c, auth_refusal(REG_AUTH_UNKNOWN_CHALLENGE));
    } else if (c->ps->sock != NULL) {
        c->challenge = *ch;
        if (grader_pool_online(c->b, ch->pool)) {
            start_jobs(c);
        } else {
            c->refs++;
            rq_pool_online(c->b->rq, ch->pool, on_graders_online, c);
        }
    }
    lcall_unref(c);
}

static void on_legacy_session(void *ud, int valid)
{
    struct lcall *c = ud;
    if (valid != 1) {
        call_fail(c, valid == 0 ? "Your session ended because your API key was changed or "
                                  "revoked. Please authenticate again."
                                : "The broker could not check your session just now. Please try "
                                  "again in a minute.");
        lcall_unref(c);
        return;
    }
    c->b->reg->ops->get_challenge(c->b->reg, c->claims.challenge_id, on_legacy_challenge, c);
}

/* Reads the call's arguments; returns a refusal for the participant, or NULL. */
static const char *read_call(struct lcall *c, json_t *args)
{
    const char *token = reply_string(args, "session_token", TOKEN_MAX_LEN);
    const char *name = reply_string(args, "challenge_id", 63);
    if (json_object_get(args, "grader_id") != NULL)
        name = reply_string(args, "challenge_client_name", 63);
    char slug[64];
    c->data = json_incref(json_object_get(args, "data"));
    if (token == NULL)
        return "The following params are required params : [session_token]";
    if (token_verify(c->b->secret, token, broker_now(), &c->claims) != TOKEN_OK)
        return "Your session is not valid or has expired. Please authenticate again.";
    if (name == NULL || challenge_slug(name, slug) != 0 || strcmp(slug, c->claims.challenge_id))
        return "Unrecognized challenge: it is not the challenge you authenticated for.";
    if (reply_string(args, "function_name", 64) == NULL)
        return "The following params are required params : [function_name]";
    if (!json_is_array(c->data) || json_array_size(c->data) == 0)
        return "data must be a list with one element per job.";
    if (json_array_size(c->data) > LEGACY_MAX_JOBS)
        return "Too many jobs in one call: at most 16 elements in data.";
    return NULL;
}

/* The channel becomes an event name: kept to what the client makes ("<challenge>::<uuid4>"). */
static int channel_valid(const char *channel)
{
    if (channel == NULL || channel[0] == '\0')
        return 0;
    for (const char *p = channel; *p; p++) {
        if (!isalnum((unsigned char)*p) && strchr(":_-.", *p) == NULL)
            return 0;
    }
    return 1;
}

static void on_execute_function(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    json_t *args = reply_first_object(ev);
    struct lcall *c = xcalloc(1, sizeof(*c));
    c->b = b;
    c->ps = psess_of(sock);
    c->ack_id = ev->ack_id;
    c->refs = 1;
    psess_ref(c->ps);
    for (int i = 0; i < LEGACY_MAX_JOBS; i++) {
        c->jobs[i].sink.deliver = sink_deliver;
        c->jobs[i].sink.gone = sink_gone;
        c->jobs[i].call = c;
        c->jobs[i].seq_no = i;
    }
    const char *refusal = NULL;
    const char *channel =
        args != NULL ? reply_string(args, "response_channel", LEGACY_MAX_CHANNEL) : NULL;
    if (!channel_valid(channel))
        refusal = "The following params are required params : [response_channel] (at most 100 "
                  "letters, digits and ':', '_', '-', '.')";
    else
        snprintf(c->channel, sizeof(c->channel), "%s", channel);
    if (refusal == NULL)
        refusal = read_call(c, args);
    if (refusal == NULL) {
        c->njobs = (int)json_array_size(c->data);
        b->reg->ops->check_session(b->reg, c->claims.participant_id, c->claims.issued_at,
                                   on_legacy_session, c);
    } else {
        call_fail(c, refusal);
        lcall_unref(c);
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- close_session ---- */

static void on_close_session(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    static const char answer[] = "{\"status\":true,\"message\":\"\"}";
    (void)ud;
    if (ev->ack_id != SIO_NO_ACK)
        sio_socket_ack(sock, ev->ack_id, answer, sizeof(answer) - 1, NULL, 0);
}

void legacy_install(struct broker *b)
{
    sio_namespace_on(b->participants, "execute_function", on_execute_function, b);
    sio_namespace_on(b->participants, "close_session", on_close_session, b);
}
