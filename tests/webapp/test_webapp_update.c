/* Webapp backend tests: state changes and scores as PATCH /api/external_graders/<id>, in call
 * order per submission, never sent again once the broker knows the webapp has them; a webapp
 * failing (500s, then a hang past the timeout) and recovering takes every score exactly once,
 * as its request log shows. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "registry/reg_submit.h"
#include "test.h"
#include "webapp_fixture.h"

static void patch_path(struct wf *f, int64_t id, char out[64])
{
    snprintf(out, 64, "/api/external_graders/%lld", (long long)wf_webapp_id(f, id));
}

/* The PATCHes of one webapp submission in the double's log, in order (a new reference). */
static json_t *patches(struct wf *f, int64_t id)
{
    char path[64];
    patch_path(f, id, path);
    json_t *log = wf_get(f, "/__log"), *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "method")), "PATCH") == 0 &&
            strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
            json_array_append(out, e);
    }
    json_decref(log);
    return out;
}

static const char *param(json_t *entry, const char *name)
{
    return json_string_value(json_object_get(json_object_get(entry, "params"), name));
}

static long status_of(json_t *entry)
{
    return (long)json_integer_value(json_object_get(entry, "status"));
}

/* The double's record of a webapp submission. */
static json_t *webapp_submission(struct wf *f, int64_t id)
{
    int64_t webapp_id = wf_webapp_id(f, id);
    json_t *subs = wf_get(f, "/__submissions"), *found = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(subs, i, s)
    {
        if (json_integer_value(json_object_get(s, "id")) == webapp_id)
            found = json_incref(s);
    }
    json_decref(subs);
    ASSERT_TRUE(found != NULL);
    return found;
}

/* Graded PATCHes of id the webapp answered 202 (took). */
static int graded_taken(struct wf *f, int64_t id)
{
    char path[64];
    patch_path(f, id, path);
    return wf_count(f, "PATCH", path, "graded", 202);
}

TEST(running_then_score_patch_initiated_then_graded_in_order)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    ASSERT_EQ(wf_set_state(&f, id, REG_SUB_RUNNING, ""), 1);
    ASSERT_EQ(wf_local_state(&f, id, NULL), REG_SUB_RUNNING);
    ASSERT_EQ(wf_record(&f, id, 0.875, 1, 12.5), 1);
    json_t *p = patches(&f, id);
    ASSERT_EQ(json_array_size(p), 2);
    ASSERT_STR_EQ(param(json_array_get(p, 0), "grading_status"), "initiated");
    ASSERT_STR_EQ(param(json_array_get(p, 1), "grading_status"), "graded");
    ASSERT_STR_EQ(param(json_array_get(p, 1), "score"), "0.875");
    ASSERT_STR_EQ(param(json_array_get(p, 1), "score_secondary"), "12.5");
    json_decref(p);
    json_t *s = webapp_submission(&f, id);
    ASSERT_STR_EQ(json_string_value(json_object_get(s, "grading_status")), "graded");
    ASSERT_TRUE(json_real_value(json_object_get(s, "score")) == 0.875);
    json_decref(s);
    double score = 0;
    ASSERT_EQ(wf_local_state(&f, id, &score), REG_SUB_COMPLETE);
    ASSERT_TRUE(score == 0.875);
    wf_close(&f);
}

struct pending {
    int called, result;
};

static void on_pending(void *ud, int result)
{
    struct pending *p = ud;
    ASSERT_EQ(p->called, 0);
    p->result = result;
    p->called = 1;
}

TEST(changes_of_one_submission_reach_the_webapp_one_at_a_time)
{
    struct wf f;
    struct pending run = {0, 0}, score = {0, 0}, late = {0, 0};
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    f.reg->ops->set_state(f.reg, id, REG_SUB_RUNNING, "", on_pending, &run);
    f.reg->ops->record_score(f.reg, id, 0.25, 0, 0, on_pending, &score);
    f.reg->ops->set_state(f.reg, id, REG_SUB_RUNNING, "", on_pending, &late);
    ASSERT_EQ(run.called + score.called + late.called, 0);
    wf_wait(&f, &run.called);
    wf_wait(&f, &score.called);
    wf_wait(&f, &late.called);
    ASSERT_EQ(run.result, 1);
    ASSERT_EQ(score.result, 1);
    ASSERT_EQ(late.result, 0); /* after the score: not sent, and not applied */
    json_t *p = patches(&f, id);
    ASSERT_EQ(json_array_size(p), 2);
    ASSERT_STR_EQ(param(json_array_get(p, 0), "grading_status"), "initiated");
    ASSERT_STR_EQ(param(json_array_get(p, 1), "grading_status"), "graded");
    json_decref(p);
    json_t *s = webapp_submission(&f, id);
    ASSERT_STR_EQ(json_string_value(json_object_get(s, "grading_status")), "graded");
    json_decref(s);
    wf_close(&f);
}

TEST(a_score_is_patched_once_and_later_changes_are_not_sent)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    ASSERT_EQ(wf_record(&f, id, 0.1, 0, 0), 1);
    ASSERT_EQ(wf_record(&f, id, 0.1, 0, 0), 0);
    ASSERT_EQ(wf_record(&f, id, 0.9, 0, 0), 0);
    ASSERT_EQ(wf_set_state(&f, id, REG_SUB_ERROR, "late failure"), 0);
    json_t *p = patches(&f, id);
    ASSERT_EQ(json_array_size(p), 1);
    ASSERT_STR_EQ(param(json_array_get(p, 0), "score"), "0.1"); /* shortest exact form */
    ASSERT_TRUE(param(json_array_get(p, 0), "score_secondary") == NULL);
    json_decref(p);
    wf_close(&f);
}

TEST(failures_are_patched_failed_with_their_message)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t e = wf_submit_ok(&f, pid, "error");
    int64_t t = wf_submit_ok(&f, pid, "timeout");
    int64_t c = wf_submit_ok(&f, pid, "cancel");
    ASSERT_EQ(wf_set_state(&f, e, REG_SUB_ERROR, "predictions.csv: line 3 has 2 columns"), 1);
    ASSERT_EQ(wf_set_state(&f, t, REG_SUB_TIMEOUT, ""), 1);
    ASSERT_EQ(wf_set_state(&f, c, REG_SUB_CANCELLED, "Cancelled by the participant."), 1);
    const int64_t ids[] = {e, t, c};
    const char *messages[] = {"predictions.csv: line 3 has 2 columns", "Grading timed out.",
                              "Cancelled by the participant."};
    const int states[] = {REG_SUB_ERROR, REG_SUB_TIMEOUT, REG_SUB_CANCELLED};
    for (int i = 0; i < 3; i++) {
        json_t *p = patches(&f, ids[i]);
        ASSERT_EQ(json_array_size(p), 1);
        ASSERT_STR_EQ(param(json_array_get(p, 0), "grading_status"), "failed");
        ASSERT_STR_EQ(param(json_array_get(p, 0), "grading_message"), messages[i]);
        ASSERT_EQ(status_of(json_array_get(p, 0)), 202);
        json_decref(p);
        ASSERT_EQ(wf_local_state(&f, ids[i], NULL), states[i]);
    }
    wf_close(&f);
}

TEST(running_again_after_a_redelivery_is_not_sent_again)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    ASSERT_EQ(wf_set_state(&f, id, REG_SUB_RUNNING, ""), 1);
    ASSERT_EQ(wf_set_state(&f, id, REG_SUB_RUNNING, ""), 1);
    char path[64];
    patch_path(&f, id, path);
    ASSERT_EQ(wf_count(&f, "PATCH", path, "initiated", 0), 1);
    wf_close(&f);
}

TEST(a_submission_without_a_webapp_twin_is_changed_locally_only)
{
    struct wf f;
    struct reg_submit_result res;
    char msg[REG_SUBMIT_MSG_LEN];
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    /* As made by the SQLite backend before the broker switched to the webapp. */
    struct reg_submit_request req = wf_req(&f, pid, "local");
    ASSERT_EQ(reg_submit_create(f.store, &req, &res, msg), 0);
    ASSERT_EQ(res.refusal, REG_OK);
    ASSERT_EQ(wf_record(&f, res.submission_id, 0.5, 0, 0), 1);
    ASSERT_EQ(wf_record(&f, res.submission_id, 0.5, 0, 0), 0);
    ASSERT_EQ(wf_count(&f, "PATCH", "/", NULL, 0), 0);
    ASSERT_EQ(wf_local_state(&f, res.submission_id, NULL), REG_SUB_COMPLETE);
    wf_close(&f);
}

TEST(a_submission_the_webapp_does_not_know_is_recorded_locally)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    ASSERT_EQ(sqlite3_exec(reg_store_db(f.store),
                           "UPDATE webapp_submissions SET webapp_id = 999999", NULL, NULL, NULL),
              SQLITE_OK);
    ASSERT_EQ(wf_record(&f, id, 0.5, 0, 0), 1);
    ASSERT_EQ(wf_count(&f, "PATCH", "/api/external_graders/999999", "graded", 400), 1);
    ASSERT_EQ(wf_local_state(&f, id, NULL), REG_SUB_COMPLETE);
    ASSERT_EQ(wf_record(&f, id, 0.5, 0, 0), 0);
    ASSERT_EQ(wf_count(&f, "PATCH", "/", NULL, 0), 1);
    wf_close(&f);
}

TEST(non_finite_scores_and_unknown_targets_are_refused_without_a_request)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    ASSERT_EQ(wf_record(&f, id, NAN, 0, 0), 0);
    ASSERT_EQ(wf_record(&f, id, 1, 1, INFINITY), 0);
    ASSERT_EQ(wf_set_state(&f, id, REG_SUB_COMPLETE, ""), 0);
    ASSERT_EQ(wf_set_state(&f, id, REG_SUB_QUEUED, ""), 0);
    ASSERT_EQ(wf_count(&f, "PATCH", "/", NULL, 0), 0);
    ASSERT_EQ(wf_local_state(&f, id, NULL), REG_SUB_QUEUED);
    wf_close(&f);
}

/* An outbox pass: record_score for each submission not yet taken; counts what it got. */
static void outbox_pass(struct wf *f, const int64_t *ids, const double *scores, int *done, int n,
                        int *applied, int *failed)
{
    *applied = *failed = 0;
    for (int i = 0; i < n; i++) {
        if (done[i])
            continue;
        int r = wf_record(f, ids[i], scores[i], 1, scores[i] * 10);
        if (r < 0) {
            (*failed)++;
            continue;
        }
        done[i] = 1;
        *applied += r;
    }
}

TEST(webapp_failing_then_hanging_then_recovering_takes_every_score_once)
{
    struct wf f;
    struct wf_opts o = {NULL, 1000, 0, 0};
    int64_t ids[4];
    const double scores[4] = {0.61, 0.72, 0.83, 0.94};
    int done[4] = {0, 0, 0, 0}, applied, failed;
    char world[512];
    wf_open(&f, &o);
    snprintf(world, sizeof(world),
             "{\"participants\":[{\"id\":501,\"api_key\":\"key-alice\",\"name\":\"alice\"}],"
             "\"challenges\":[{\"id\":1,\"challenge_client_name\":\"demo\",\"rounds\":"
             "[{\"id\":11,\"start\":%lld,\"end\":%lld}]}]}",
             (long long)(f.clock - WF_DAY), (long long)(f.clock + WF_DAY));
    wf_world(&f, world); /* no submission limit */
    int64_t pid = wf_login(&f, "key-alice");
    for (int i = 0; i < 4; i++) {
        char csid[16];
        snprintf(csid, sizeof(csid), "sub-%d", i);
        ids[i] = wf_submit_ok(&f, pid, csid);
    }
    /* 500s for a while: nothing is taken, every call says "retry". */
    wf_control(&f, "/__fault", "{\"fail\":6,\"status\":500}");
    outbox_pass(&f, ids, scores, done, 4, &applied, &failed);
    ASSERT_EQ(failed, 4);
    ASSERT_EQ(wf_count(&f, "PATCH", "/", NULL, 500), 4);
    /* Then two more 500s and a hang past the broker's timeout. */
    wf_control(&f, "/__fault", "{\"fail\":2,\"status\":502}");
    outbox_pass(&f, ids, scores, done, 2, &applied, &failed);
    ASSERT_EQ(failed, 2);
    wf_control(&f, "/__fault", "{\"hang\":1}");
    outbox_pass(&f, ids, scores, done, 1, &applied, &failed);
    ASSERT_EQ(failed, 1);
    /* Recovered: every score is taken on the next pass, then passes change nothing. */
    wf_control(&f, "/__release", NULL);
    outbox_pass(&f, ids, scores, done, 4, &applied, &failed);
    ASSERT_EQ(applied, 4);
    ASSERT_EQ(failed, 0);
    int before = wf_count(&f, "PATCH", "/", NULL, 0);
    memset(done, 0, sizeof(done));
    outbox_pass(&f, ids, scores, done, 4, &applied, &failed);
    ASSERT_EQ(applied, 0);
    ASSERT_EQ(failed, 0);
    ASSERT_EQ(wf_count(&f, "PATCH", "/", NULL, 0), before);
    /* The log: each score taken exactly once, with its values; the webapp holds them. */
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(graded_taken(&f, ids[i]), 1);
        json_t *s = webapp_submission(&f, ids[i]);
        ASSERT_STR_EQ(json_string_value(json_object_get(s, "grading_status")), "graded");
        ASSERT_TRUE(json_number_value(json_object_get(s, "score")) == scores[i]);
        ASSERT_TRUE(json_number_value(json_object_get(s, "score_secondary")) == scores[i] * 10);
        ASSERT_EQ(json_integer_value(json_object_get(s, "updates")), 1);
        json_decref(s);
        ASSERT_EQ(wf_local_state(&f, ids[i], NULL), REG_SUB_COMPLETE);
    }
    ASSERT_EQ(wf_count(&f, "PATCH", "/", NULL, 502), 2);
    json_t *log = wf_get(&f, "/__log");
    int hung = 0;
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e)
    {
        hung += strcmp(json_string_value(json_object_get(e, "outcome")), "hung") == 0;
    }
    json_decref(log);
    ASSERT_EQ(hung, 1);
    wf_close(&f);
}

TEST(a_change_taken_by_the_webapp_but_not_recorded_locally_is_not_sent_again)
{
    struct wf f;
    sqlite3 *other;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    /* Another process holds the database's write lock: the local record fails (busy). */
    ASSERT_EQ(sqlite3_open(f.path, &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ASSERT_EQ(wf_record(&f, id, 0.5, 0, 0), -1);
    ASSERT_EQ(graded_taken(&f, id), 1);
    ASSERT_EQ(wf_local_state(&f, id, NULL), REG_SUB_QUEUED);
    ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    /* The retry records it without a second PATCH. */
    ASSERT_EQ(wf_record(&f, id, 0.5, 0, 0), 1);
    ASSERT_EQ(wf_count(&f, "PATCH", "/", NULL, 0), 1);
    ASSERT_EQ(wf_local_state(&f, id, NULL), REG_SUB_COMPLETE);
    wf_close(&f);
}

TEST(a_patch_applied_but_unanswered_is_repeated_with_the_same_values)
{
    struct wf f;
    struct wf_opts o = {NULL, 1000, 0, 0};
    wf_open(&f, &o);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    /* The webapp applies it and never answers: the broker cannot know, and asks again. */
    wf_control(&f, "/__fault", "{\"hang\":1,\"apply\":true}");
    ASSERT_EQ(wf_record(&f, id, 0.3, 1, 7), -1);
    ASSERT_EQ(wf_record(&f, id, 0.3, 1, 7), 1);
    json_t *p = patches(&f, id);
    ASSERT_EQ(json_array_size(p), 2);
    for (size_t i = 0; i < 2; i++) {
        ASSERT_STR_EQ(param(json_array_get(p, i), "grading_status"), "graded");
        ASSERT_STR_EQ(param(json_array_get(p, i), "score"), "0.3");
        ASSERT_STR_EQ(param(json_array_get(p, i), "score_secondary"), "7");
    }
    json_decref(p);
    json_t *s = webapp_submission(&f, id);
    ASSERT_TRUE(json_number_value(json_object_get(s, "score")) == 0.3);
    ASSERT_STR_EQ(json_string_value(json_object_get(s, "grading_status")), "graded");
    json_decref(s);
    wf_close(&f);
}

TEST(close_answers_changes_still_at_the_webapp)
{
    struct wf f;
    struct pending a = {0, 0}, b = {0, 0};
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    wf_control(&f, "/__fault", "{\"hang\":1}");
    f.reg->ops->set_state(f.reg, id, REG_SUB_RUNNING, "", on_pending, &a);
    f.reg->ops->record_score(f.reg, id, 1, 0, 0, on_pending, &b); /* waits for the first */
    for (int i = 0; i < 20; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    ASSERT_EQ(a.called + b.called, 0);
    f.reg->ops->close(f.reg);
    f.closed = 1;
    ASSERT_EQ(a.called, 1);
    ASSERT_EQ(b.called, 1);
    ASSERT_EQ(a.result, -1);
    ASSERT_EQ(b.result, -1);
    wf_close(&f);
}
