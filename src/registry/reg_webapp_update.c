/* State changes and scores through the webapp, exactly once as far as the broker can know:
 * PATCH /api/external_graders/<webapp id> first, then the mirror and its synced marker in one
 * SQLite transaction. A change is not sent again once the mirror shows it (the submission is
 * final there, or RUNNING is already synced), nor when the webapp took it but the mirror
 * failed to record it (kept in memory and recorded on the retry). Changes of one submission
 * go to the webapp one at a time, in call order. A crash between the webapp's answer and the
 * local commit can send the same change again after restart: same values, so applying it
 * twice leaves the webapp as once (docs/webapp.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "registry/reg_submission.h"
#include "registry/reg_webapp_api.h"
#include "registry/reg_webapp_internal.h"
#include "registry/reg_webapp_store.h"

#define UPDATE_MSG_LEN 512

struct update_op {
    struct list link; /* r->updates, in call order, until answered */
    struct reg_webapp_done d;
    struct reg_webapp *r;
    int64_t sub_id;
    struct reg_webapp_change change; /* change.message points at message */
    char message[UPDATE_MSG_LEN];
    int started; /* its turn came: no earlier change of its submission is left */
    int result;
    reg_update_cb cb;
    void *ud;
};

/* A change the webapp took whose local record failed: the retry records it without a second
 * PATCH. */
struct applied_change {
    struct list link; /* r->applied */
    int64_t sub_id;
    struct reg_webapp_change change;
    char message[UPDATE_MSG_LEN];
};

static int is_final(enum reg_sub_state s)
{
    return s == REG_SUB_COMPLETE || s == REG_SUB_ERROR || s == REG_SUB_TIMEOUT ||
           s == REG_SUB_CANCELLED;
}

static const char *state_label(enum reg_sub_state s)
{
    static const char *const names[] = {"QUEUED", "RUNNING", "COMPLETE",
                                        "ERROR",  "TIMEOUT", "CANCELLED"};
    return (unsigned)s < 6 ? names[s] : "?";
}

/* ---- changes the webapp took, not yet mirrored ---- */

static struct applied_change *applied_find(struct reg_webapp *r, const struct update_op *u)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->applied)
    {
        struct applied_change *a = container_of(pos, struct applied_change, link);
        if (a->sub_id == u->sub_id && reg_webapp_api_change_equal(&a->change, &u->change))
            return a;
    }
    return NULL;
}

static void applied_forget(struct reg_webapp *r, int64_t sub_id)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->applied)
    {
        struct applied_change *a = container_of(pos, struct applied_change, link);
        if (a->sub_id == sub_id) {
            list_remove(&a->link);
            free(a);
        }
    }
}

static void applied_remember(struct reg_webapp *r, const struct update_op *u)
{
    applied_forget(r, u->sub_id);
    struct applied_change *a = xcalloc(1, sizeof(*a));
    a->sub_id = u->sub_id;
    a->change = u->change;
    memcpy(a->message, u->message, sizeof(a->message));
    a->change.message = a->message;
    list_insert_tail(&r->applied, &a->link);
}

void reg_webapp_update_release(struct reg_webapp *r)
{
    while (!list_empty(&r->applied)) {
        struct applied_change *a = container_of(r->applied.next, struct applied_change, link);
        list_remove(&a->link);
        free(a);
    }
}

/* ---- the mirror ---- */

/* The change in the mirror only (a submission the webapp has no twin of). */
static int apply_local(struct update_op *u)
{
    struct reg_webapp *r = u->r;
    const struct reg_webapp_change *c = &u->change;
    int64_t now = reg_webapp_now(r);
    if (c->state == REG_SUB_COMPLETE)
        return reg_submission_record_score(r->store, u->sub_id, c->score, c->has_secondary,
                                           c->score_secondary, now);
    return reg_submission_set_state(r->store, u->sub_id, c->state, c->message, now);
}

/* The change the webapp has, into the mirror with the synced marker. */
static int apply_synced(struct update_op *u)
{
    int result = reg_webapp_store_apply(u->r->store, u->sub_id, &u->change, reg_webapp_now(u->r));
    if (result >= 0)
        applied_forget(u->r, u->sub_id);
    else
        log_error("webapp",
                  "sub=%" PRId64 " the webapp has %s but the local registry could not "
                  "record it; recorded on the next try, without asking the webapp again",
                  u->sub_id, state_label(u->change.state));
    return result;
}

/* ---- one change at a time per submission ---- */

static void update_deliver(struct reg_webapp_done *d)
{
    struct update_op *u = container_of(d, struct update_op, d);
    u->cb(u->ud, u->result);
    free(u);
}

static void update_start(struct update_op *u);

static void update_end(struct update_op *u, int result)
{
    struct reg_webapp *r = u->r;
    struct list *pos, *tmp;
    u->result = result;
    list_remove(&u->link);
    reg_webapp_defer(r, &u->d, update_deliver);
    list_for_each_safe(pos, tmp, &r->updates)
    {
        struct update_op *next = container_of(pos, struct update_op, link);
        if (!next->started && next->sub_id == u->sub_id) {
            update_start(next);
            return;
        }
    }
}

static void on_patched(void *ud, const struct reg_webapp_http_response *res)
{
    struct update_op *u = ud;
    struct reg_webapp_answer ans;
    reg_webapp_api_parse(res, &ans);
    if (ans.outcome == REG_WEBAPP_OK) {
        log_info("webapp", "sub=%" PRId64 " webapp took %s", u->sub_id,
                 state_label(u->change.state));
        applied_remember(u->r, u);
        update_end(u, apply_synced(u));
    } else if (ans.outcome == REG_WEBAPP_REFUSED &&
               reg_webapp_api_unknown_submission(ans.message)) {
        /* Asking again cannot help: the mirror alone gets it, and the marker says the webapp
         * does not have it. */
        log_error("webapp",
                  "sub=%" PRId64 " the webapp does not know it (\"%s\"); %s recorded "
                  "locally only",
                  u->sub_id, ans.message, state_label(u->change.state));
        update_end(u, apply_local(u));
    } else {
        log_warn("webapp",
                 "sub=%" PRId64 " %s not taken by the webapp status=%ld "
                 "message=\"%s\"; retried later",
                 u->sub_id, state_label(u->change.state), ans.status, ans.message);
        update_end(u, -1);
    }
}

static void patch(struct update_op *u, int64_t webapp_id)
{
    struct buf path, form;
    buf_init(&path, BUF_NO_CAP);
    buf_init(&form, BUF_NO_CAP);
    reg_webapp_api_submission_path(&path, webapp_id);
    reg_webapp_api_update_form(&form, &u->change);
    reg_webapp_request(u->r, "PATCH", path.data, form.data, on_patched, u);
    buf_release(&path);
    buf_release(&form);
}

static void update_start(struct update_op *u)
{
    struct reg_webapp *r = u->r;
    struct reg_webapp_link link;
    struct reg_submission sub;
    u->started = 1;
    int rc = reg_webapp_store_link(r->store, u->sub_id, &link);
    if (rc == REG_STORE_NOT_FOUND) {
        update_end(u, apply_local(u));
        return;
    }
    if (rc == 0)
        rc = reg_submission_get(r->store, u->sub_id, &sub);
    if (rc != 0) {
        update_end(u, rc == REG_STORE_NOT_FOUND ? 0 : -1);
        return;
    }
    free(sub.data);
    if (is_final(sub.state)) {
        update_end(u, 0); /* already applied, or not allowed: the webapp is not asked */
        return;
    }
    if (u->change.state == REG_SUB_RUNNING && link.synced_state == REG_SUB_RUNNING) {
        update_end(u, apply_local(u)); /* a job delivered again: "initiated" already */
        return;
    }
    if (applied_find(r, u) != NULL) {
        update_end(u, apply_synced(u));
        return;
    }
    patch(u, link.webapp_id);
}

/* Queues a change; it starts at once unless an earlier change of the same submission is still
 * at the webapp. */
static void update_add(struct reg_webapp *r, int64_t sub_id, const struct reg_webapp_change *c,
                       reg_update_cb cb, void *ud)
{
    struct update_op *u = xcalloc(1, sizeof(*u));
    u->r = r;
    u->sub_id = sub_id;
    u->change = *c;
    snprintf(u->message, sizeof(u->message), "%s", c->message != NULL ? c->message : "");
    u->change.message = u->message;
    u->cb = cb;
    u->ud = ud;
    list_insert_tail(&r->updates, &u->link);
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->updates)
    {
        struct update_op *earlier = container_of(pos, struct update_op, link);
        if (earlier == u)
            break;
        if (earlier->sub_id == sub_id)
            return; /* started by update_end of the one before it */
    }
    update_start(u);
}

/* A change the local rules refuse anyway: answered 0 without asking the webapp. */
static void update_refuse(struct reg_webapp *r, reg_update_cb cb, void *ud)
{
    struct update_op *u = xcalloc(1, sizeof(*u));
    u->cb = cb;
    u->ud = ud;
    u->result = 0;
    reg_webapp_defer(r, &u->d, update_deliver);
}

void reg_webapp_update_set_state(struct registry *base, int64_t submission_id,
                                 enum reg_sub_state state, const char *message, reg_update_cb cb,
                                 void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    struct reg_webapp_change c = {state, message, 0, 0, 0};
    if (state != REG_SUB_RUNNING && state != REG_SUB_ERROR && state != REG_SUB_TIMEOUT &&
        state != REG_SUB_CANCELLED) {
        update_refuse(r, cb, ud);
        return;
    }
    update_add(r, submission_id, &c, cb, ud);
}

void reg_webapp_update_record_score(struct registry *base, int64_t submission_id, double score,
                                    int has_secondary, double score_secondary, reg_update_cb cb,
                                    void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    struct reg_webapp_change c = {REG_SUB_COMPLETE, "", score, has_secondary ? score_secondary : 0,
                                  has_secondary ? 1 : 0};
    if (!isfinite(score) || (has_secondary && !isfinite(score_secondary))) {
        update_refuse(r, cb, ud);
        return;
    }
    update_add(r, submission_id, &c, cb, ud);
}
