/* A job's reports to the broker: queued in order, one in flight at a time, each with the
 * submission id and lease token. Progress is coalesced (the latest wins) and repeated as a
 * heartbeat when the job has been silent for cfg->heartbeat_ms (it renews the lease). A report
 * is sent again after a lost ack or QUEUE_UNAVAILABLE, for up to cfg->report_retry_ms; the
 * first STALE_LEASE drops the job. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "grader/runner_internal.h"

#define MAX_QUEUED_INFOS 100  /* info lines waiting to be sent; more are dropped */
#define MESSAGE_MAX      2000 /* bytes of a message the broker accepts */
#define RETRY_MIN_MS     250  /* after QUEUE_UNAVAILABLE, doubling */
#define RETRY_MAX_MS     5000

enum report_kind { REPORT_PROGRESS, REPORT_INFO, REPORT_COMPLETE, REPORT_FAIL };

static const char *const event_names[] = {"progress", "info", "complete", "fail"};

struct report {
    struct list link;
    enum report_kind kind;
    char *args;         /* the JSON array text sent */
    uint64_t queued_at; /* loop time */
};

static struct report *head(const struct job *j)
{
    return list_empty(&j->reports) ? NULL : container_of(j->reports.next, struct report, link);
}

static struct report *tail(const struct job *j)
{
    return list_empty(&j->reports) ? NULL : container_of(j->reports.prev, struct report, link);
}

static void report_free(struct report *rep)
{
    list_remove(&rep->link);
    free(rep->args);
    free(rep);
}

int report_pending(const struct job *j)
{
    return j->sending || !list_empty(&j->reports);
}

void report_drop_all(struct job *j)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &j->reports)
    {
        if (j->sending && pos == j->reports.next)
            continue; /* in flight: forgotten when its ack comes */
        report_free(container_of(pos, struct report, link));
    }
}

/* ---- building ---- */

/* message cut to what the broker accepts, on a UTF-8 character boundary. */
static json_t *message_json(const char *message)
{
    size_t len = strlen(message);
    if (len > MESSAGE_MAX) {
        len = MESSAGE_MAX;
        while (len > 0 && ((unsigned char)message[len] & 0xC0) == 0x80)
            len--;
    }
    return json_stringn(message, len);
}

/* {submission_id, lease_token} plus the fields of extra (consumed), as a JSON array text. */
static char *args_text(const struct job *j, json_t *extra)
{
    json_t *obj =
        json_pack("{s:I,s:s}", "submission_id", (json_int_t)j->sub_id, "lease_token", j->lease);
    json_object_update(obj, extra);
    json_decref(extra);
    json_t *arr = json_pack("[o]", obj);
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (text == NULL)
        abort(); /* out of memory: jansson's allocation failed */
    return text;
}

static void push(struct job *j, enum report_kind kind, json_t *extra)
{
    struct report *rep = xcalloc(1, sizeof(*rep));
    rep->kind = kind;
    rep->args = args_text(j, extra);
    rep->queued_at = uv_now(j->r->loop);
    list_insert_tail(&j->reports, &rep->link);
    report_pump(j);
}

/* A progress report; when the last queued one is a progress not yet sent, it is replaced. */
static void push_progress(struct job *j, int percent, const char *message)
{
    json_t *extra = json_pack("{s:i,s:o}", "percent", percent, "message", message_json(message));
    struct report *last = tail(j);
    if (last != NULL && last->kind == REPORT_PROGRESS && !(j->sending && last == head(j))) {
        free(last->args);
        last->args = args_text(j, extra);
        return;
    }
    push(j, REPORT_PROGRESS, extra);
}

void report_progress(struct job *j)
{
    if (!j->dropped)
        push_progress(j, j->percent, j->message);
}

void report_info(struct job *j, const char *message)
{
    unsigned queued = 0;
    struct list *pos, *tmp;
    if (j->dropped)
        return;
    list_for_each_safe(pos, tmp, &j->reports)
    {
        queued += container_of(pos, struct report, link)->kind == REPORT_INFO;
    }
    if (queued >= MAX_QUEUED_INFOS) {
        if (j->infos_dropped++ == 0)
            log_warn(RUNNER_LOG,
                     "info lines dropped: the broker does not take them fast enough "
                     "sub=%" PRId64,
                     j->sub_id);
        return;
    }
    push(j, REPORT_INFO, json_pack("{s:o}", "message", message_json(message)));
}

void report_complete(struct job *j, double score, int has_secondary, double secondary)
{
    json_t *extra = json_pack("{s:f}", "score", score);
    if (has_secondary)
        json_object_set_new(extra, "score_secondary", json_real(secondary));
    log_info(RUNNER_LOG, "result sub=%" PRId64 " score=%.15g", j->sub_id, score);
    push(j, REPORT_COMPLETE, extra);
}

void report_fail(struct job *j, const char *message, int retryable)
{
    log_info(RUNNER_LOG, "failure sub=%" PRId64 " retryable=%d message=\"%.200s\"", j->sub_id,
             retryable, message);
    push(j, REPORT_FAIL,
         json_pack("{s:o,s:b}", "message", message_json(message), "retryable", retryable));
}

/* ---- sending ---- */

static void on_ack(struct sioc_socket *s, const char *err, const struct sioc_message *reply,
                   void *ud);

void report_pump(struct job *j)
{
    struct runner *r = j->r;
    struct report *rep = head(j);
    if (j->sending || rep == NULL || r->leaving || !sioc_socket_is_connected(r->sock) ||
        uv_now(r->loop) < j->retry_at)
        return;
    int rc =
        sioc_socket_emit_ack(r->sock, event_names[rep->kind], rep->args, NULL, 0, 0, on_ack, j);
    if (rc != 0) {
        log_warn(RUNNER_LOG, "could not send %s sub=%" PRId64 ": %s", event_names[rep->kind],
                 j->sub_id, sioc_strerror(rc));
        j->retry_at = uv_now(r->loop) + RETRY_MAX_MS;
        return;
    }
    j->sending = 1;
}

/* The broker's answer to the head report. Returns 0, or -1 when the job may be gone. */
static int answered(struct job *j, const struct sioc_message *reply)
{
    struct report *rep = head(j);
    json_t *args = json_loadb(reply->args, reply->args_len, 0, NULL);
    json_t *a = json_array_get(args, 0);
    const char *code = json_string_value(json_object_get(a, "code"));
    const char *text = json_string_value(json_object_get(a, "message"));
    int rc = 0;
    if (json_is_true(json_object_get(a, "ok"))) {
        j->last_acked_ms = uv_now(j->r->loop);
        j->retry_delay = 0;
        if (rep->kind >= REPORT_COMPLETE)
            log_info(RUNNER_LOG, "reported sub=%" PRId64 " event=%s", j->sub_id,
                     event_names[rep->kind]);
        report_free(rep);
    } else if (code != NULL && strcmp(code, "QUEUE_UNAVAILABLE") == 0) {
        j->retry_delay = j->retry_delay == 0 ? RETRY_MIN_MS : j->retry_delay * 2;
        if (j->retry_delay > RETRY_MAX_MS)
            j->retry_delay = RETRY_MAX_MS;
        j->retry_at = uv_now(j->r->loop) + j->retry_delay;
    } else if (code != NULL && strcmp(code, "STALE_LEASE") == 0) {
        report_free(rep);
        job_drop(j, "the broker answered STALE_LEASE: the job is no longer this grader's");
        rc = -1;
    } else {
        log_warn(RUNNER_LOG, "the broker refused %s sub=%" PRId64 " code=%s message=\"%s\"",
                 event_names[rep->kind], j->sub_id, code != NULL ? code : "?",
                 text != NULL ? text : "");
        report_free(rep);
    }
    json_decref(args);
    return rc;
}

static void on_ack(struct sioc_socket *s, const char *err, const struct sioc_message *reply,
                   void *ud)
{
    struct job *j = ud;
    struct runner *r = j->r;
    (void)s;
    j->sending = 0;
    if (r->closing || err == sioc_err_closed)
        return; /* the runner frees its jobs */
    if (j->dropped) {
        if (head(j) != NULL)
            report_free(head(j)); /* answered or not, nothing more is said */
    } else if (err != NULL) {
        log_info(RUNNER_LOG, "no answer to a report sub=%" PRId64 " (%s): it will be sent again",
                 j->sub_id, err);
    } else if (answered(j, reply) != 0) {
        runner_check_shutdown(r);
        return;
    }
    report_pump(j);
    job_maybe_free(j);
    runner_check_shutdown(r);
}

/* ---- the tick ---- */

static const char *heartbeat_message(const struct job *j)
{
    if (j->state == JOB_HELD)
        return j->r->stopping ? "the grader is shutting down; the job goes back to the queue"
                              : "waiting for a free slot on the grader";
    if (j->state == JOB_DOWNLOADING)
        return "downloading the submission file";
    return j->message;
}

void report_tick(struct job *j, uint64_t now)
{
    const struct runner_config *cfg = j->r->cfg;
    struct report *rep;
    while (!j->sending && (rep = head(j)) != NULL && now - rep->queued_at > cfg->report_retry_ms) {
        log_error(RUNNER_LOG, "gave up sending %s sub=%" PRId64 " after %" PRIu64 " ms",
                  event_names[rep->kind], j->sub_id, now - rep->queued_at);
        report_free(rep);
    }
    if (j->state != JOB_ENDED && !j->dropped && !report_pending(j) &&
        now - j->last_acked_ms >= cfg->heartbeat_ms)
        push_progress(j, j->percent, heartbeat_message(j));
    report_pump(j);
    job_maybe_free(j);
}
