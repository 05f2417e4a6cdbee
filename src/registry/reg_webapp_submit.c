/* Creating a submission through the webapp: POST /api/external_graders decides (its refusal
 * messages go to the participant word for word), then the local mirror gets the row the
 * broker's submission id is. A repeated client_submission_id is answered from the mirror;
 * one that comes while the first is still at the webapp waits for it, so that one
 * client_submission_id never makes two webapp submissions from one broker. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "registry/reg_catalog.h"
#include "registry/reg_submit.h"
#include "registry/reg_webapp_api.h"
#include "registry/reg_webapp_internal.h"
#include "registry/reg_webapp_store.h"

struct submit_op {
    struct list link; /* r->submits, in call order, until answered */
    struct reg_webapp_done d;
    struct reg_webapp *r;
    struct reg_submit_request req; /* its strings are the copies below */
    char *challenge_id, *client_submission_id, *file_key, *data, *description;
    reg_submit_cb cb;
    void *ud;
    int started; /* its turn came: no earlier one with the same client_submission_id is left */
    struct reg_round round;
    struct reg_submit_result res;
    char msg[REG_SUBMIT_MSG_LEN];
};

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

static int same_request(const struct submit_op *a, const struct submit_op *b)
{
    return a->req.participant_id == b->req.participant_id &&
           strcmp(a->challenge_id, b->challenge_id) == 0 &&
           strcmp(a->client_submission_id, b->client_submission_id) == 0;
}

static void submit_deliver(struct reg_webapp_done *d)
{
    struct submit_op *s = container_of(d, struct submit_op, d);
    s->res.message = s->res.refusal != REG_OK ? s->msg : NULL;
    s->cb(s->ud, &s->res);
    free(s->challenge_id);
    free(s->client_submission_id);
    free(s->file_key);
    free(s->data);
    free(s->description);
    free(s);
}

static void submit_start(struct submit_op *s);

/* Answers s (from the loop, later) and lets the next one with its client_submission_id go. */
static void submit_end(struct submit_op *s)
{
    struct reg_webapp *r = s->r;
    struct list *pos, *tmp;
    list_remove(&s->link);
    reg_webapp_defer(r, &s->d, submit_deliver);
    list_for_each_safe(pos, tmp, &r->submits)
    {
        struct submit_op *next = container_of(pos, struct submit_op, link);
        if (!next->started && same_request(next, s)) {
            submit_start(next);
            return;
        }
    }
}

static void refuse(struct submit_op *s, enum reg_refusal why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void refuse(struct submit_op *s, enum reg_refusal why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    s->res.refusal = why;
    submit_end(s);
}

static void refuse_internal(struct submit_op *s)
{
    s->res.submissions_remaining = -1;
    s->res.reset_at = 0;
    refuse(s, REG_ERR_INTERNAL, "The registry could not record the submission; try again.");
}

/* ---- the webapp's answer ---- */

/* A webapp submission with no local twin is told it will not be graded (best effort). */
static void on_orphan_failed(void *ud, const struct reg_webapp_http_response *res)
{
    int64_t *webapp_id = ud;
    if (res->status < 200 || res->status >= 300)
        log_error("webapp", "webapp submission %" PRId64 " stays \"submitted\" (status %ld)",
                  *webapp_id, res->status);
    free(webapp_id);
}

static void orphan_fail(struct reg_webapp *r, int64_t webapp_id)
{
    struct reg_webapp_change c = {REG_SUB_ERROR,
                                  "The broker could not record this submission; "
                                  "it will not be graded. Please submit again.",
                                  0, 0, 0};
    struct buf path, form;
    int64_t *ud = xmalloc(sizeof(*ud));
    *ud = webapp_id;
    buf_init(&path, BUF_NO_CAP);
    buf_init(&form, BUF_NO_CAP);
    reg_webapp_api_submission_path(&path, webapp_id);
    reg_webapp_api_update_form(&form, &c);
    reg_webapp_request(r, "PATCH", path.data, form.data, on_orphan_failed, ud);
    buf_release(&path);
    buf_release(&form);
}

static void created(struct submit_op *s, const struct reg_webapp_answer *ans)
{
    struct reg_webapp *r = s->r;
    struct reg_webapp_link link = {ans->id, REG_SUB_QUEUED, ans->remaining, ans->reset_at};
    int64_t id = 0;
    if (ans->id <= 0) {
        log_error("webapp",
                  "the webapp accepted a submission without giving its id "
                  "(status %ld)",
                  ans->status);
        refuse_internal(s);
        return;
    }
    if (reg_webapp_store_insert(r->store, &s->req, &s->round, &link, &id) != 0) {
        log_error("webapp", "webapp submission %" PRId64 " could not be mirrored locally", ans->id);
        orphan_fail(r, ans->id);
        refuse_internal(s);
        return;
    }
    if (ans->name[0] != '\0')
        reg_webapp_store_participant_name(r->store, s->req.participant_id, ans->name);
    log_info("webapp",
             "submission created sub=%" PRId64 " webapp_id=%" PRId64 " participant=%" PRId64
             " remaining=%d",
             id, ans->id, s->req.participant_id, ans->remaining);
    s->res.refusal = REG_OK;
    s->res.submission_id = id;
    s->res.round_number = s->round.number;
    s->res.submissions_remaining = ans->remaining;
    s->res.reset_at = ans->reset_at;
    submit_end(s);
}

static void refused(struct submit_op *s, const struct reg_webapp_answer *ans)
{
    s->res.submissions_remaining = ans->remaining;
    s->res.reset_at = ans->reset_at;
    log_info("webapp",
             "submission refused participant=%" PRId64 " challenge=%s status=%ld "
             "message=\"%s\"",
             s->req.participant_id, s->challenge_id, ans->status, ans->message);
    if (strncmp(ans->message, "The API key did not match", 25) == 0)
        reg_webapp_auth_forget(s->r, s->req.participant_id);
    if (ans->message[0] == '\0')
        refuse(s, REG_ERR_INTERNAL, "The webapp refused the submission (HTTP %ld).", ans->status);
    else
        refuse(s, reg_webapp_api_refusal(ans->message), "%s", ans->message);
}

static void on_created(void *ud, const struct reg_webapp_http_response *res)
{
    struct submit_op *s = ud;
    struct reg_webapp_answer ans;
    reg_webapp_api_parse(res, &ans);
    if (ans.outcome == REG_WEBAPP_OK) {
        created(s, &ans);
    } else if (ans.outcome == REG_WEBAPP_REFUSED) {
        refused(s, &ans);
    } else {
        log_warn("webapp",
                 "submission not created participant=%" PRId64 " status=%ld "
                 "message=\"%s\"",
                 s->req.participant_id, ans.status, ans.message);
        refuse_internal(s);
    }
}

/* ---- before asking the webapp ---- */

/* The same client_submission_id is in the mirror: the local rules answer (a retry with the
 * same content is that submission, other content a conflict), with the webapp's quota. */
static void answer_existing(struct submit_op *s, int64_t id)
{
    struct reg_webapp_link link;
    if (reg_submit_create(s->r->store, &s->req, &s->res, s->msg) != 0) {
        refuse_internal(s);
        return;
    }
    if (s->res.refusal == REG_OK && reg_webapp_store_link(s->r->store, id, &link) == 0) {
        s->res.submissions_remaining = link.remaining;
        s->res.reset_at = link.reset_at;
    }
    submit_end(s);
}

/* The local round the mirror files it under; 0 to go on, -1 when s was answered. */
static int pick_round(struct submit_op *s)
{
    struct reg_store *store = s->r->store;
    struct reg_round asked;
    int rc = reg_webapp_store_round(store, s->challenge_id, s->req.now, &s->round);
    if (rc == REG_STORE_NOT_FOUND)
        refuse(s, REG_ERR_ROUND_CLOSED, "Challenge %s has no rounds yet.", s->challenge_id);
    else if (rc != 0)
        refuse_internal(s);
    if (rc != 0)
        return -1;
    int n = s->req.round_number;
    if (n == 0 || n == s->round.number)
        return 0;
    rc = reg_catalog_round_get(store, s->challenge_id, n, &asked);
    if (rc == REG_STORE_NOT_FOUND)
        refuse(s, REG_ERR_UNKNOWN_ROUND, "Challenge %s has no round %d.", s->challenge_id, n);
    else if (rc != 0)
        refuse_internal(s);
    else
        refuse(s, REG_ERR_ROUND_CLOSED,
               "Round %d of %s cannot be chosen: the crowdAI webapp takes submissions for the "
               "current round only (round %d).",
               n, s->challenge_id, s->round.number);
    return -1;
}

static void post(struct submit_op *s, const char *api_key)
{
    struct buf form;
    struct reg_webapp_create c = {
        .api_key = api_key,
        .challenge_client_name = s->challenge_id,
        .description = s->description,
        .client_submission_id = s->client_submission_id,
        .file_key = s->file_key,
    };
    buf_init(&form, BUF_NO_CAP);
    reg_webapp_api_create_form(&form, &c);
    reg_webapp_request(s->r, "POST", "/api/external_graders", form.data, on_created, s);
    /* The form holds the participant's key: wiped before it is freed. */
    if (form.data != NULL)
        memset(form.data, 0, form.len);
    buf_release(&form);
}

static void submit_start(struct submit_op *s)
{
    struct reg_webapp *r = s->r;
    struct reg_challenge ch;
    int64_t id;
    s->started = 1;
    int rc = reg_webapp_store_find(r->store, s->req.participant_id, s->challenge_id,
                                   s->client_submission_id, &id);
    if (rc < 0) {
        refuse_internal(s);
        return;
    }
    if (rc == 1) {
        answer_existing(s, id);
        return;
    }
    rc = reg_catalog_challenge_get(r->store, s->challenge_id, &ch);
    if (rc != 0) {
        if (rc == REG_STORE_NOT_FOUND)
            refuse(s, REG_ERR_UNKNOWN_ROUND, "Unknown challenge \"%.64s\".", s->challenge_id);
        else
            refuse_internal(s);
        return;
    }
    if (pick_round(s) != 0)
        return;
    if (s->req.external_id > 0) {
        /* The webapp made this one itself (/enqueue_grading_job): mirror it, post nothing. */
        struct reg_webapp_answer ans = {
            .outcome = REG_WEBAPP_OK, .id = s->req.external_id, .remaining = -1};
        created(s, &ans);
        return;
    }
    const char *key = reg_webapp_auth_key_of(r, s->req.participant_id);
    if (key == NULL) {
        refuse(s, REG_ERR_INTERNAL,
               "Your session has to be renewed: authenticate again, then "
               "submit.");
        return;
    }
    post(s, key);
}

void reg_webapp_submit_create(struct registry *base, const struct reg_submit_request *req,
                              reg_submit_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    struct submit_op *s = xcalloc(1, sizeof(*s));
    s->r = r;
    s->cb = cb;
    s->ud = ud;
    s->challenge_id = xstrdup(or_empty(req->challenge_id));
    s->client_submission_id = xstrdup(or_empty(req->client_submission_id));
    s->file_key = xstrdup(or_empty(req->file_key));
    s->data = dup_or_null(req->data);
    s->description = xstrdup(or_empty(req->description));
    s->req = *req;
    s->req.challenge_id = s->challenge_id;
    s->req.client_submission_id = s->client_submission_id;
    s->req.file_key = s->file_key;
    s->req.data = s->data;
    s->req.description = s->description;
    s->res.submissions_remaining = -1;
    list_insert_tail(&r->submits, &s->link);
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->submits)
    {
        struct submit_op *earlier = container_of(pos, struct submit_op, link);
        if (earlier == s)
            break;
        if (same_request(earlier, s))
            return; /* it goes when that one is answered */
    }
    submit_start(s);
}
