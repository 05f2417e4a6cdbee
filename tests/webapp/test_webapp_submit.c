/* Webapp backend tests: submissions created with POST /api/external_graders and mirrored
 * locally, retries and conflicts answered from the mirror, and each refusal of the webapp
 * reaching the participant word for word with its reg_refusal and quota. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "registry/reg_access.h"
#include "registry/reg_submission.h"
#include "registry/reg_webapp_store.h"
#include "test.h"
#include "webapp_fixture.h"

/* The double's world with one challenge "demo" whose rounds are given as JSON. */
static void world_rounds(struct wf *f, const char *rounds)
{
    char json[2048];
    snprintf(json, sizeof(json),
             "{\"participants\":[{\"id\":501,\"api_key\":\"key-alice\",\"name\":\"alice\"}],"
             "\"challenges\":[{\"id\":1,\"challenge_client_name\":\"demo\",\"rounds\":[%s]}]}",
             rounds);
    wf_world(f, json);
}

/* One open round with these extra fields. */
static void world_round(struct wf *f, const char *fields)
{
    char round[512];
    snprintf(round, sizeof(round), "{\"id\":11,\"start\":%lld,\"end\":%lld%s%s}",
             (long long)(f->clock - WF_DAY), (long long)(f->clock + 30 * WF_DAY),
             fields[0] ? "," : "", fields);
    world_rounds(f, round);
}

static json_t *last_request(struct wf *f)
{
    json_t *log = wf_get(f, "/__log");
    ASSERT_TRUE(json_array_size(log) > 0);
    json_t *e = json_incref(json_array_get(log, json_array_size(log) - 1));
    json_decref(log);
    return e;
}

static const char *param(json_t *entry, const char *name)
{
    return json_string_value(json_object_get(json_object_get(entry, "params"), name));
}

TEST(submit_creates_the_submission_at_the_webapp_then_locally)
{
    struct wf f;
    struct wf_submit s;
    struct reg_submission sub;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    struct reg_submit_request req = wf_req(&f, pid, "csid-1");
    req.file_key = "ab12";
    req.description = "first try";
    req.data = "{\"k\":1}";
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_STR_EQ(s.res.message, NULL);
    ASSERT_EQ(s.res.existing, 0);
    ASSERT_EQ(s.res.round_number, 1);
    ASSERT_EQ(s.res.submissions_remaining, 2); /* 3 a day, one used */
    ASSERT_EQ(s.res.reset_at, f.clock + WF_DAY);
    /* What the webapp was sent. */
    json_t *e = last_request(&f);
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "method")), "POST");
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "path")), "/api/external_graders");
    ASSERT_STR_EQ(param(e, "api_key"), "key-alice");
    ASSERT_STR_EQ(param(e, "challenge_client_name"), "demo");
    ASSERT_STR_EQ(param(e, "grading_status"), "submitted");
    ASSERT_STR_EQ(param(e, "description_markdown"), "first try");
    json_t *meta = json_object_get(json_object_get(e, "params"), "meta");
    ASSERT_STR_EQ(json_string_value(json_object_get(meta, "client_submission_id")), "csid-1");
    ASSERT_STR_EQ(json_string_value(json_object_get(meta, "file_key")), "ab12");
    json_decref(e);
    /* The mirror: QUEUED, its content, linked to the webapp's id. */
    ASSERT_EQ(reg_submission_get(f.store, s.res.submission_id, &sub), 0);
    ASSERT_EQ(sub.state, REG_SUB_QUEUED);
    ASSERT_EQ(sub.participant_id, pid);
    ASSERT_STR_EQ(sub.client_submission_id, "csid-1");
    ASSERT_STR_EQ(sub.data, "{\"k\":1}");
    free(sub.data);
    json_t *subs = wf_get(&f, "/__submissions");
    ASSERT_EQ(json_array_size(subs), 1);
    ASSERT_EQ(wf_webapp_id(&f, s.res.submission_id),
              json_integer_value(json_object_get(json_array_get(subs, 0), "id")));
    json_decref(subs);
    /* The creation's answer named the participant: the made-up name is replaced. */
    struct reg_participant p;
    ASSERT_EQ(reg_access_participant_get(f.store, pid, &p), 0);
    ASSERT_STR_EQ(p.name, "alice");
    wf_close(&f);
}

TEST(submit_retry_and_conflict_are_answered_from_the_mirror)
{
    struct wf f;
    struct wf_submit s;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "csid-1");
    struct reg_submit_request req = wf_req(&f, pid, "csid-1");
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.existing, 1);
    ASSERT_EQ(s.res.submission_id, id);
    ASSERT_EQ(s.res.submissions_remaining, 2); /* what the webapp said at creation */
    req.description = "other content";
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_CONFLICT);
    ASSERT_EQ(wf_count(&f, "POST", "/api/external_graders", NULL, 0), 1);
    wf_close(&f);
}

static void on_submit_pair(void *ud, const struct reg_submit_result *r)
{
    struct wf_submit *out = ud;
    ASSERT_EQ(out->called, 0);
    out->res = *r;
    out->called = 1;
}

TEST(submit_same_csid_twice_at_once_makes_one_webapp_submission)
{
    struct wf f;
    struct wf_submit a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    struct reg_submit_request req = wf_req(&f, pid, "csid-twice");
    f.reg->ops->submit(f.reg, &req, on_submit_pair, &a);
    f.reg->ops->submit(f.reg, &req, on_submit_pair, &b);
    wf_wait(&f, &a.called);
    wf_wait(&f, &b.called);
    ASSERT_EQ(a.res.refusal, REG_OK);
    ASSERT_EQ(b.res.refusal, REG_OK);
    ASSERT_EQ(a.res.existing, 0);
    ASSERT_EQ(b.res.existing, 1);
    ASSERT_EQ(a.res.submission_id, b.res.submission_id);
    ASSERT_EQ(wf_count(&f, "POST", "/api/external_graders", NULL, 0), 1);
    wf_close(&f);
}

/* Submits csid and expects the refusal why with exactly message. */
static void expect_refusal(struct wf *f, int64_t pid, const char *csid, enum reg_refusal why,
                           const char *message)
{
    struct wf_submit s;
    int64_t id;
    struct reg_submit_request req = wf_req(f, pid, csid);
    wf_submit(f, &req, &s);
    ASSERT_EQ(s.res.refusal, why);
    ASSERT_STR_EQ(s.res.message, message);
    /* Nothing is mirrored for a refused submission. */
    ASSERT_EQ(reg_webapp_store_find(f->store, pid, "demo", csid, &id), 0);
}

TEST(submit_refused_no_slots_left_with_quota_then_the_window_rolls)
{
    struct wf f;
    struct wf_submit s;
    wf_open(&f, NULL);
    world_round(&f, "\"submission_limit\":1,\"period\":\"day\"");
    int64_t pid = wf_login(&f, "key-alice");
    int64_t first_at = f.clock;
    wf_submit_ok(&f, pid, "one");
    f.clock += 3600 * 1000;
    wf_control(&f, "/__clock", "{\"advance\":3600000}");
    struct reg_submit_request req = wf_req(&f, pid, "two");
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_STR_EQ(s.res.message, "The participant has no submission slots remaining for today.");
    ASSERT_EQ(s.res.submissions_remaining, 0);
    ASSERT_EQ(s.res.reset_at, first_at + WF_DAY);
    /* 24 h after the first one, a slot is free again (rolling window). */
    f.clock = first_at + WF_DAY + 1;
    wf_control(&f, "/__clock", "{\"advance\":82800001}");
    req = wf_req(&f, pid, "two");
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.submissions_remaining, 0);
    wf_close(&f);
}

TEST(submit_refused_too_many_in_parallel)
{
    struct wf f;
    wf_open(&f, NULL);
    world_round(&f, "\"parallel_submissions\":1");
    int64_t pid = wf_login(&f, "key-alice");
    int64_t id = wf_submit_ok(&f, pid, "one");
    expect_refusal(&f, pid, "two", REG_ERR_PARALLEL,
                   "You have exceeded the allowed number of parallel submissions. Please wait "
                   "until your earlier submissions are graded.");
    /* Graded, it no longer counts. */
    ASSERT_EQ(wf_record(&f, id, 0.5, 0, 0), 1);
    wf_submit_ok(&f, pid, "two");
    wf_close(&f);
}

TEST(submit_refused_round_not_open)
{
    struct wf f;
    char round[256];
    wf_open(&f, NULL);
    snprintf(round, sizeof(round), "{\"id\":11,\"start\":%lld,\"end\":%lld}",
             (long long)(f.clock + WF_DAY), (long long)(f.clock + 2 * WF_DAY));
    world_rounds(&f, round);
    int64_t pid = wf_login(&f, "key-alice");
    expect_refusal(&f, pid, "one", REG_ERR_ROUND_CLOSED,
                   "The challenge is not open for submissions at this time. Please check the "
                   "challenge page at www.crowdai.org");
    wf_close(&f);
}

TEST(submit_refused_not_qualified)
{
    struct wf f;
    char rounds[512];
    wf_open(&f, NULL);
    snprintf(rounds, sizeof(rounds),
             "{\"id\":10,\"start\":%lld,\"end\":%lld,\"minimum_score\":0.5},"
             "{\"id\":11,\"start\":%lld,\"end\":%lld}",
             (long long)(f.clock - 3 * WF_DAY), (long long)(f.clock - WF_DAY),
             (long long)(f.clock - WF_DAY), (long long)(f.clock + WF_DAY));
    world_rounds(&f, rounds);
    int64_t pid = wf_login(&f, "key-alice");
    expect_refusal(&f, pid, "one", REG_ERR_NOT_QUALIFIED,
                   "You have not qualified for this round. Please review the challenge rules at "
                   "www.crowdai.org");
    wf_close(&f);
}

TEST(submit_refused_challenge_unknown_to_the_webapp)
{
    struct wf f;
    struct wf_submit s;
    wf_open(&f, NULL);
    wf_local_challenge(&f, "local-only");
    int64_t pid = wf_login(&f, "key-alice");
    struct reg_submit_request req = wf_req(&f, pid, "one");
    req.challenge_id = "local-only";
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_UNKNOWN_ROUND);
    ASSERT_STR_EQ(s.res.message, "The Challenge Client Name string did not match any challenge.");
    ASSERT_EQ(s.res.submissions_remaining, -1);
    wf_close(&f);
}

TEST(submit_with_a_key_the_webapp_dropped_ends_the_session)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    wf_world(&f, "{\"participants\":[],\"challenges\":[]}");
    expect_refusal(&f, pid, "one", REG_ERR_INTERNAL,
                   "The API key did not match any participant record.");
    ASSERT_EQ(wf_session(&f, pid, f.clock), 0);
    wf_close(&f);
}

TEST(submit_checks_the_local_catalog_first)
{
    struct wf f;
    struct wf_submit s;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    struct reg_submit_request req = wf_req(&f, pid, "one");
    req.challenge_id = "nope";
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_UNKNOWN_ROUND);
    ASSERT_STR_EQ(s.res.message, "Unknown challenge \"nope\".");
    req = wf_req(&f, pid, "two");
    req.round_number = 7;
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_UNKNOWN_ROUND);
    ASSERT_STR_EQ(s.res.message, "Challenge demo has no round 7.");
    ASSERT_EQ(wf_count(&f, "POST", "/api/external_graders", NULL, 0), 0);
    wf_close(&f);
}

TEST(submit_when_the_webapp_fails_or_hangs_is_internal_and_retryable)
{
    struct wf f;
    struct wf_submit s;
    struct wf_opts o = {NULL, 1000, 0, 0};
    wf_open(&f, &o);
    int64_t pid = wf_login(&f, "key-alice");
    struct reg_submit_request req = wf_req(&f, pid, "one");
    wf_control(&f, "/__fault", "{\"fail\":1,\"status\":500}");
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_INTERNAL);
    ASSERT_STR_EQ(s.res.message, "The registry could not record the submission; try again.");
    wf_control(&f, "/__fault", "{\"hang\":1}");
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_INTERNAL);
    wf_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.existing, 0);
    json_t *subs = wf_get(&f, "/__submissions");
    ASSERT_EQ(json_array_size(subs), 1); /* the failed and hung POSTs made nothing */
    json_decref(subs);
    wf_close(&f);
}

TEST(submit_without_the_key_in_memory_asks_to_authenticate_again)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    wf_reopen(&f, NULL);
    expect_refusal(&f, pid, "one", REG_ERR_INTERNAL,
                   "Your session has to be renewed: authenticate again, then submit.");
    ASSERT_EQ(wf_count(&f, "POST", "/api/external_graders", NULL, 0), 0);
    wf_close(&f);
}

static void on_closed_submit(void *ud, const struct reg_submit_result *r)
{
    struct wf_submit *out = ud;
    out->res = *r;
    out->called++;
}

TEST(close_answers_a_submission_still_at_the_webapp)
{
    struct wf f;
    struct wf_submit s;
    memset(&s, 0, sizeof(s));
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    wf_control(&f, "/__fault", "{\"hang\":1}");
    struct reg_submit_request req = wf_req(&f, pid, "one");
    f.reg->ops->submit(f.reg, &req, on_closed_submit, &s);
    for (int i = 0; i < 20; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT); /* the request is on its way */
    ASSERT_EQ(s.called, 0);
    f.reg->ops->close(f.reg);
    f.closed = 1;
    ASSERT_EQ(s.called, 1);
    ASSERT_EQ(s.res.refusal, REG_ERR_INTERNAL);
    wf_close(&f);
}
