/* The submission pipeline: registry rules, then the durable enqueue; see submit.h. */
#include "broker/submit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/reply.h"
#include "core/log.h"
#include "core/xalloc.h"

struct submission {
    struct broker *b;
    struct reg_challenge challenge;
    int64_t participant_id;
    int64_t external_id;
    int round;
    char *client_id, *file_key, *data, *description;
    int outbox_waited; /* the registry was asked again after an outbox pass */
    struct submission_outcome out;
    char *message; /* owned copy of out.message */
    submission_cb cb;
    void *ud;
};

const char *submission_refusal_code(enum reg_refusal r)
{
    switch (r) {
    case REG_ERR_LIMIT:
        return "LIMIT_REACHED";
    case REG_ERR_PARALLEL:
        return "TOO_MANY_IN_FLIGHT";
    case REG_ERR_ROUND_CLOSED:
        return "ROUND_CLOSED";
    case REG_ERR_NOT_QUALIFIED:
        return "NOT_QUALIFIED";
    case REG_ERR_UNKNOWN_ROUND:
        return "UNKNOWN_ROUND";
    case REG_ERR_CONFLICT:
        return "CONFLICT";
    default:
        return "INTERNAL";
    }
}

static void finish(struct submission *s)
{
    s->cb(s->ud, &s->out);
    free(s->client_id);
    free(s->file_key);
    free(s->data);
    free(s->description);
    free(s->message);
    free(s);
}

static void on_enqueued(void *ud, const char *err, int existing, int64_t position)
{
    struct submission *s = ud;
    struct broker *b = s->b;
    if (err != NULL) {
        log_warn("broker", "enqueue failed sub=%" PRId64 " err=\"%s\"", s->out.submission_id, err);
        s->out.code = "QUEUE_UNAVAILABLE";
        s->out.message = "Your submission is recorded but could not be queued just now; submit "
                         "again with the same client_submission_id to retry.";
    } else {
        s->out.position = position;
        if (!existing) {
            b->metrics.submissions_accepted++;
            broker_pool_seen(b, s->challenge.pool);
            waiting_check(b, s->out.submission_id, s->challenge.pool);
        }
        grader_dispatch_all(b);
    }
    finish(s);
}

/* What a grader gets as the job's payload. */
static char *grader_payload(const struct submission *s)
{
    json_t *data = s->data != NULL ? json_loads(s->data, JSON_DECODE_ANY, NULL) : NULL;
    json_t *p = json_pack(
        "{s:I,s:I,s:s,s:i,s:o,s:s}", "submission_id", (json_int_t)s->out.submission_id,
        "participant_id", (json_int_t)s->participant_id, "challenge_id", s->challenge.id, "round",
        s->out.round, "data", data != NULL ? data : json_null(), "file_key", s->file_key);
    if (s->file_key[0] != '\0') {
        char url[96];
        snprintf(url, sizeof(url), "/files?key=%s", s->file_key);
        json_object_set_new(p, "file_url", json_string(url));
    }
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return text;
}

static void ask_registry(struct submission *s);

/* Refusals that a result still on its way from Redis to the registry can cause: a submission
 * the participant already saw end still counts as in flight, a refund or a qualifying score is
 * not there yet. */
static int refusal_may_be_stale(enum reg_refusal r)
{
    return r == REG_ERR_LIMIT || r == REG_ERR_PARALLEL || r == REG_ERR_NOT_QUALIFIED;
}

static void on_outbox_applied(void *ud, int stopping)
{
    struct submission *s = ud;
    if (stopping) {
        s->out.code = "INTERNAL";
        s->out.message = "The broker is shutting down; submit again in a moment.";
        finish(s);
        return;
    }
    ask_registry(s);
}

static void on_submitted(void *ud, const struct reg_submit_result *r)
{
    struct submission *s = ud;
    struct broker *b = s->b;
    if (r->refusal != REG_OK && refusal_may_be_stale(r->refusal) && !s->outbox_waited) {
        /* Ask again once the results already final in Redis are in the registry, so that
         * an event the participant received is never contradicted by a refusal. */
        s->outbox_waited = 1;
        outbox_wait(b, on_outbox_applied, s);
        return;
    }
    s->out.submissions_remaining = r->submissions_remaining;
    s->out.reset_at = r->reset_at;
    if (r->refusal != REG_OK) {
        b->metrics.submissions_refused++;
        s->out.code = submission_refusal_code(r->refusal);
        s->message = xstrdup(r->message != NULL ? r->message : "Refused.");
        s->out.message = s->message;
        finish(s);
        return;
    }
    s->out.submission_id = r->submission_id;
    s->out.round = r->round_number;
    s->out.existing = r->existing;
    char *payload = grader_payload(s);
    char *event = reply_event("ENQUEUED", 0, "Queued for grading.", NULL);
    rq_enqueue(b->rq, s->challenge.pool, s->out.submission_id, s->participant_id, payload,
               s->challenge.max_attempts > 0 ? s->challenge.max_attempts : 3,
               s->challenge.time_limit_ms, event, on_enqueued, s);
    free(payload);
    free(event);
}

static void ask_registry(struct submission *s)
{
    struct reg_submit_request req = {
        .participant_id = s->participant_id,
        .challenge_id = s->challenge.id,
        .round_number = s->round,
        .client_submission_id = s->client_id,
        .file_key = s->file_key,
        .data = s->data,
        .description = s->description,
        .now = broker_now(),
        .external_id = s->external_id,
    };
    s->b->reg->ops->submit(s->b->reg, &req, on_submitted, s);
}

void submission_start(struct broker *b, const struct submission_request *req, submission_cb cb,
                      void *ud)
{
    struct submission *s = xcalloc(1, sizeof(*s));
    s->b = b;
    s->challenge = *req->challenge;
    s->participant_id = req->participant_id;
    s->external_id = req->external_id;
    s->round = req->round;
    s->client_id = xstrdup(req->client_submission_id);
    s->file_key = xstrdup(req->file_key != NULL ? req->file_key : "");
    s->data = req->data != NULL ? xstrdup(req->data) : NULL;
    s->description = xstrdup(req->description != NULL ? req->description : "");
    s->out.submissions_remaining = -1;
    s->cb = cb;
    s->ud = ud;
    ask_registry(s);
}
