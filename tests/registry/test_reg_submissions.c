/* Registry tests: idempotency by client_submission_id (retry vs conflict), reading a
 * submission, state changes only from QUEUED/RUNNING, and scores recorded exactly once. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reg_fixture.h"
#include "test.h"

/* Challenge c: rounds 1 [T0, T0+10d) and 2 [T0+10d, T0+20d), one submission a day. */
static int64_t setup(struct fx *f)
{
    fx_open(f);
    fx_challenge(f, "c", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("c", 1, T0, T0 + 10 * DAY);
    r.submission_limit = 1;
    fx_round_add(f, &r);
    r = fx_round_def("c", 2, T0 + 10 * DAY, T0 + 20 * DAY);
    fx_round_add(f, &r);
    return fx_participant(f, "p", NULL);
}

static struct reg_submit_request full_req(int64_t pid, int64_t now)
{
    struct reg_submit_request req = fx_req(pid, "c", "client-1", now);
    req.file_key = "0f1e2d";
    req.data = "{\"k\":1}";
    req.description = "first try";
    return req;
}

TEST(retry_with_same_content_returns_the_same_submission)
{
    struct fx f;
    struct fx_submit first, again;
    int64_t pid = setup(&f);
    struct reg_submit_request req = full_req(pid, T0 + HOUR);
    fx_submit(&f, &req, &first);
    ASSERT_EQ(first.res.refusal, REG_OK);
    ASSERT_EQ(first.res.existing, 0);
    req.now = T0 + 2 * HOUR; /* the limit is used up, but a retry is not a new submission */
    fx_submit(&f, &req, &again);
    ASSERT_EQ(again.res.refusal, REG_OK);
    ASSERT_EQ(again.res.existing, 1);
    ASSERT_EQ(again.res.submission_id, first.res.submission_id);
    ASSERT_EQ(again.res.round_number, 1);
    ASSERT_EQ(again.res.submissions_remaining, 0);
    ASSERT_EQ(again.res.reset_at, T0 + HOUR + DAY);
    /* No second row was made: the next new submission is refused by the limit. */
    req.client_submission_id = "client-2";
    fx_submit(&f, &req, &again);
    ASSERT_EQ(again.res.refusal, REG_ERR_LIMIT);
    fx_close(&f);
}

TEST(retry_with_round_zero_matches_the_assigned_round)
{
    struct fx f;
    struct fx_submit first, again;
    int64_t pid = setup(&f);
    struct reg_submit_request req = full_req(pid, T0 + HOUR);
    req.round_number = 1;
    fx_submit(&f, &req, &first);
    ASSERT_EQ(first.res.refusal, REG_OK);
    req.round_number = 0;
    req.now = T0 + 11 * DAY; /* round 2 is open now */
    fx_submit(&f, &req, &again);
    ASSERT_EQ(again.res.refusal, REG_OK);
    ASSERT_EQ(again.res.existing, 1);
    ASSERT_EQ(again.res.round_number, 1);
    fx_close(&f);
}

static void expect_conflict(struct fx *f, const struct reg_submit_request *req, int64_t id,
                            const char *what)
{
    struct fx_submit s;
    char want[512];
    fx_submit(f, req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_CONFLICT);
    ASSERT_EQ(s.res.existing, 0);
    snprintf(want, sizeof(want),
             "client_submission_id \"client-1\" was already used for submission %lld with "
             "different content (%s). Use a new client_submission_id for new content.",
             (long long)id, what);
    ASSERT_STR_EQ(s.res.message, want);
}

TEST(same_id_with_different_content_is_a_conflict)
{
    struct fx f;
    struct fx_submit first;
    int64_t pid = setup(&f);
    struct reg_submit_request req = full_req(pid, T0 + HOUR);
    fx_submit(&f, &req, &first);
    int64_t id = first.res.submission_id;
    struct reg_submit_request other = req;
    other.data = "{\"k\":2}";
    expect_conflict(&f, &other, id, "data");
    other.data = NULL;
    expect_conflict(&f, &other, id, "data");
    other = req;
    other.file_key = "ffff";
    other.description = "";
    expect_conflict(&f, &other, id, "file and description");
    other = req;
    other.round_number = 2;
    other.now = T0 + 11 * DAY;
    expect_conflict(&f, &other, id, "round");
    other.file_key = "x";
    other.data = "[]";
    expect_conflict(&f, &other, id, "file, data and round");
    fx_close(&f);
}

TEST(client_ids_are_scoped_to_participant_and_challenge)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = setup(&f);
    int64_t other = fx_participant(&f, "other", NULL);
    fx_challenge(&f, "d", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("d", 1, T0, T0 + DAY);
    fx_round_add(&f, &r);
    struct reg_submit_request req = full_req(pid, T0 + HOUR);
    fx_submit(&f, &req, &s);
    int64_t first = s.res.submission_id;
    req.participant_id = other;
    fx_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.existing, 0);
    ASSERT_TRUE(s.res.submission_id != first);
    req.participant_id = pid;
    req.challenge_id = "d";
    fx_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.existing, 0);
    fx_close(&f);
}

TEST(get_submission_returns_every_field)
{
    struct fx f;
    struct fx_submit s;
    struct reg_submission sub;
    char data[1024];
    int64_t pid = setup(&f);
    struct reg_submit_request req = full_req(pid, T0 + HOUR);
    fx_submit(&f, &req, &s);
    ASSERT_EQ(fx_get_submission(&f, s.res.submission_id, &sub, data), 1);
    ASSERT_EQ(sub.id, s.res.submission_id);
    ASSERT_EQ(sub.participant_id, pid);
    ASSERT_STR_EQ(sub.challenge_id, "c");
    ASSERT_EQ(sub.round_number, 1);
    ASSERT_STR_EQ(sub.client_submission_id, "client-1");
    ASSERT_STR_EQ(sub.file_key, "0f1e2d");
    ASSERT_STR_EQ(sub.data, "{\"k\":1}");
    ASSERT_STR_EQ(sub.description, "first try");
    ASSERT_EQ(sub.state, REG_SUB_QUEUED);
    ASSERT_EQ(sub.late, 0);
    ASSERT_EQ(sub.has_score, 0);
    ASSERT_EQ(sub.created_at, T0 + HOUR);
    ASSERT_EQ(sub.updated_at, T0 + HOUR);
    ASSERT_EQ(fx_get_submission(&f, s.res.submission_id + 1, &sub, data), 0);
    fx_close(&f);
}

TEST(submission_without_data_reads_back_null)
{
    struct fx f;
    struct reg_submission sub;
    char data[1024];
    int64_t pid = setup(&f);
    int64_t id = fx_submit_ok(&f, pid, "c", "x", T0);
    ASSERT_EQ(fx_get_submission(&f, id, &sub, data), 1);
    ASSERT_TRUE(sub.data == NULL);
    ASSERT_STR_EQ(sub.file_key, "");
    fx_close(&f);
}

TEST(record_score_applies_exactly_once)
{
    struct fx f;
    struct reg_submission sub;
    char data[1024];
    int64_t pid = setup(&f);
    int64_t id = fx_submit_ok(&f, pid, "c", "x", T0);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_RUNNING, NULL), 1);
    f.clock = T0 + MINUTE;
    ASSERT_EQ(fx_record(&f, id, 0.75, 1, 12.5), 1);
    f.clock = T0 + 2 * MINUTE;
    ASSERT_EQ(fx_record(&f, id, 0.99, 1, 1.0), 0);
    ASSERT_EQ(fx_get_submission(&f, id, &sub, data), 1);
    ASSERT_EQ(sub.state, REG_SUB_COMPLETE);
    ASSERT_EQ(sub.has_score, 1);
    ASSERT_TRUE(sub.score == 0.75);
    ASSERT_TRUE(sub.score_secondary == 12.5);
    ASSERT_EQ(sub.updated_at, T0 + MINUTE);
    fx_close(&f);
}

TEST(record_score_refused_after_a_final_state_or_for_a_bad_score)
{
    struct fx f;
    struct reg_submission sub;
    char data[1024];
    int64_t pid = setup(&f);
    int64_t failed = fx_submit_ok(&f, pid, "c", "a", T0);
    ASSERT_EQ(fx_set_state(&f, failed, REG_SUB_ERROR, "x"), 1);
    ASSERT_EQ(fx_record(&f, failed, 1.0, 0, 0), 0);
    int64_t cancelled = fx_submit_ok(&f, pid, "c", "b", T0 + DAY);
    ASSERT_EQ(fx_set_state(&f, cancelled, REG_SUB_CANCELLED, "x"), 1);
    ASSERT_EQ(fx_record(&f, cancelled, 1.0, 0, 0), 0);
    ASSERT_EQ(fx_record(&f, 12345, 1.0, 0, 0), 0);
    int64_t queued = fx_submit_ok(&f, pid, "c", "c", T0 + 2 * DAY);
    ASSERT_EQ(fx_record(&f, queued, NAN, 0, 0), 0);
    ASSERT_EQ(fx_record(&f, queued, 1.0, 1, INFINITY), 0);
    ASSERT_EQ(fx_get_submission(&f, queued, &sub, data), 1);
    ASSERT_EQ(sub.state, REG_SUB_QUEUED);
    ASSERT_EQ(fx_record(&f, queued, 1.0, 0, 0), 1); /* straight from QUEUED */
    fx_close(&f);
}

TEST(set_state_only_from_queued_or_running)
{
    struct fx f;
    struct reg_submission sub;
    char data[1024];
    int64_t pid = setup(&f);
    int64_t id = fx_submit_ok(&f, pid, "c", "a", T0);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_QUEUED, NULL), 0);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_COMPLETE, NULL), 0);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_RUNNING, NULL), 1);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_RUNNING, NULL), 1);
    f.clock = T0 + HOUR;
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_TIMEOUT, "took longer than 600 s"), 1);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_RUNNING, NULL), 0);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_CANCELLED, "late cancel"), 0);
    ASSERT_EQ(fx_set_state(&f, id, REG_SUB_ERROR, "late error"), 0);
    ASSERT_EQ(fx_get_submission(&f, id, &sub, data), 1);
    ASSERT_EQ(sub.state, REG_SUB_TIMEOUT);
    ASSERT_STR_EQ(sub.message, "took longer than 600 s");
    ASSERT_EQ(sub.updated_at, T0 + HOUR);
    int64_t done = fx_submit_ok(&f, pid, "c", "b", T0 + DAY);
    ASSERT_EQ(fx_record(&f, done, 0.5, 0, 0), 1);
    ASSERT_EQ(fx_set_state(&f, done, REG_SUB_ERROR, "x"), 0);
    int64_t queued = fx_submit_ok(&f, pid, "c", "c", T0 + 2 * DAY);
    ASSERT_EQ(fx_set_state(&f, queued, REG_SUB_CANCELLED, "cancelled by you"), 1);
    ASSERT_EQ(fx_set_state(&f, 999, REG_SUB_RUNNING, NULL), 0);
    fx_close(&f);
}
