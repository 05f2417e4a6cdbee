/* Registry tests: the submission limit per rolling day, rolling week and round, at the exact
 * window boundaries, with refunds of failed submissions, and the in-flight cap. */
#include <stdio.h>
#include <string.h>

#include "reg_fixture.h"
#include "test.h"

/* Challenge c with one round [T0, T0+30d) limited as given; returns a participant. */
static int64_t limited(struct fx *f, int limit, enum reg_period period, int refunded, int parallel)
{
    fx_open(f);
    fx_challenge(f, "c", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("c", 1, T0, T0 + 30 * DAY);
    r.submission_limit = limit;
    r.period = period;
    r.failed_refunded = refunded;
    r.max_parallel = parallel;
    fx_round_add(f, &r);
    return fx_participant(f, "p", NULL);
}

static void submit_at(struct fx *f, int64_t pid, const char *csid, int64_t now,
                      struct fx_submit *out)
{
    struct reg_submit_request req = fx_req(pid, "c", csid, now);
    fx_submit(f, &req, out);
}

TEST(unlimited_round_reports_no_quota)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 0, REG_PERIOD_DAY, 0, 0);
    for (int i = 0; i < 20; i++) {
        char csid[16];
        snprintf(csid, sizeof(csid), "s%d", i);
        submit_at(&f, pid, csid, T0 + i, &s);
        ASSERT_EQ(s.res.refusal, REG_OK);
        ASSERT_EQ(s.res.submissions_remaining, -1);
        ASSERT_EQ(s.res.reset_at, 0);
    }
    fx_close(&f);
}

TEST(day_limit_counts_down_and_says_when_a_slot_frees)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 2, REG_PERIOD_DAY, 0, 0);
    submit_at(&f, pid, "a", T0 + HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.submissions_remaining, 1);
    ASSERT_EQ(s.res.reset_at, T0 + HOUR + DAY);
    submit_at(&f, pid, "b", T0 + 2 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.submissions_remaining, 0);
    ASSERT_EQ(s.res.reset_at, T0 + HOUR + DAY);
    submit_at(&f, pid, "c", T0 + 3 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.submissions_remaining, 0);
    ASSERT_EQ(s.res.reset_at, T0 + HOUR + DAY);
    ASSERT_STR_EQ(s.res.message, "Submission limit reached: 2 per rolling 24 h. The next slot "
                                 "frees up at 2026-11-26T01:00:00Z.");
    fx_close(&f);
}

TEST(day_window_boundary_is_exact)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 2, REG_PERIOD_DAY, 0, 0);
    submit_at(&f, pid, "a", T0 + HOUR, &s);
    submit_at(&f, pid, "b", T0 + 2 * HOUR, &s);
    submit_at(&f, pid, "c", T0 + HOUR + DAY - 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.reset_at, T0 + HOUR + DAY);
    submit_at(&f, pid, "c", T0 + HOUR + DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.submissions_remaining, 0);
    ASSERT_EQ(s.res.reset_at, T0 + 2 * HOUR + DAY);
    submit_at(&f, pid, "d", T0 + 2 * HOUR + DAY - 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    submit_at(&f, pid, "d", T0 + 2 * HOUR + DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    fx_close(&f);
}

TEST(message_rounds_a_reset_time_up_to_the_second)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 1, REG_PERIOD_DAY, 0, 0);
    submit_at(&f, pid, "a", T0 + HOUR + 250, &s);
    submit_at(&f, pid, "b", T0 + 2 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.reset_at, T0 + HOUR + DAY + 250);
    ASSERT_STR_EQ(s.res.message, "Submission limit reached: 1 per rolling 24 h. The next slot "
                                 "frees up at 2026-11-26T01:00:01Z.");
    fx_close(&f);
}

TEST(week_window_boundary_is_exact)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 1, REG_PERIOD_WEEK, 0, 0);
    submit_at(&f, pid, "a", T0, &s);
    ASSERT_EQ(s.res.reset_at, T0 + 7 * DAY);
    submit_at(&f, pid, "b", T0 + 7 * DAY - 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.reset_at, T0 + 7 * DAY);
    ASSERT_STR_EQ(s.res.message, "Submission limit reached: 1 per rolling 7 days. The next slot "
                                 "frees up at 2026-12-02T00:00:00Z.");
    submit_at(&f, pid, "b", T0 + 7 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    fx_close(&f);
}

TEST(round_limit_never_resets_within_the_round)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 2, REG_PERIOD_ROUND, 0, 0);
    submit_at(&f, pid, "a", T0, &s);
    ASSERT_EQ(s.res.submissions_remaining, 1);
    ASSERT_EQ(s.res.reset_at, 0);
    submit_at(&f, pid, "b", T0 + 5 * DAY, &s);
    ASSERT_EQ(s.res.submissions_remaining, 0);
    submit_at(&f, pid, "c", T0 + 29 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.reset_at, 0);
    ASSERT_STR_EQ(s.res.message,
                  "Submission limit reached: 2 per round. No slot frees up in round 1.");
    fx_close(&f);
}

TEST(window_counts_only_the_submissions_round)
{
    struct fx f;
    struct fx_submit s;
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("c", 1, T0, T0 + DAY);
    r.submission_limit = 1;
    fx_round_add(&f, &r);
    r = fx_round_def("c", 2, T0 + DAY, T0 + 2 * DAY);
    r.submission_limit = 1;
    fx_round_add(&f, &r);
    int64_t pid = fx_participant(&f, "p", NULL);
    submit_at(&f, pid, "a", T0 + 23 * HOUR, &s);
    ASSERT_EQ(s.res.round_number, 1);
    submit_at(&f, pid, "b", T0 + 25 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.round_number, 2);
    fx_close(&f);
}

TEST(limits_are_per_participant)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 1, REG_PERIOD_DAY, 0, 0);
    int64_t other = fx_participant(&f, "other", NULL);
    submit_at(&f, pid, "a", T0, &s);
    submit_at(&f, pid, "b", T0 + 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    submit_at(&f, other, "a", T0 + 1, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    fx_close(&f);
}

/* ---- refunds ---- */

TEST(failed_submissions_are_refunded_up_to_the_allowance)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 2, REG_PERIOD_DAY, 1, 0);
    submit_at(&f, pid, "a", T0 + HOUR, &s);
    ASSERT_EQ(s.res.submissions_remaining, 1);
    ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_ERROR, "grader crashed"), 1);
    submit_at(&f, pid, "b", T0 + 2 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.submissions_remaining, 1);
    ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_TIMEOUT, "too slow"), 1);
    submit_at(&f, pid, "c", T0 + 3 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.submissions_remaining, 0);
    ASSERT_EQ(s.res.reset_at, T0 + HOUR + DAY);
    submit_at(&f, pid, "d", T0 + 4 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.reset_at, T0 + HOUR + DAY);
    ASSERT_STR_EQ(s.res.message, "Submission limit reached: 2 per rolling 24 h (up to 1 failed "
                                 "submission is refunded). The next slot frees up at "
                                 "2026-11-26T01:00:00Z.");
    fx_close(&f);
}

TEST(refunded_oldest_failure_does_not_free_a_slot_when_it_leaves)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 2, REG_PERIOD_DAY, 1, 0);
    submit_at(&f, pid, "a", T0 + HOUR, &s);
    ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_ERROR, "oops"), 1);
    submit_at(&f, pid, "b", T0 + 2 * HOUR, &s);
    ASSERT_EQ(fx_record(&f, s.res.submission_id, 1.0, 0, 0), 1);
    submit_at(&f, pid, "c", T0 + 3 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    submit_at(&f, pid, "d", T0 + 4 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.reset_at, T0 + 2 * HOUR + DAY);
    submit_at(&f, pid, "d", T0 + 2 * HOUR + DAY - 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    submit_at(&f, pid, "d", T0 + 2 * HOUR + DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    fx_close(&f);
}

TEST(failures_beyond_the_refund_count)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 2, REG_PERIOD_DAY, 1, 0);
    submit_at(&f, pid, "a", T0 + HOUR, &s);
    ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_ERROR, "x"), 1);
    submit_at(&f, pid, "b", T0 + 2 * HOUR, &s);
    ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_ERROR, "x"), 1);
    submit_at(&f, pid, "c", T0 + 3 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.submissions_remaining, 0);
    submit_at(&f, pid, "d", T0 + 4 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    fx_close(&f);
}

TEST(no_refund_without_an_allowance)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 1, REG_PERIOD_DAY, 0, 0);
    submit_at(&f, pid, "a", T0 + HOUR, &s);
    ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_TIMEOUT, "x"), 1);
    submit_at(&f, pid, "b", T0 + 2 * HOUR, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    fx_close(&f);
}

TEST(cancelled_submissions_never_count)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 1, REG_PERIOD_ROUND, 0, 1);
    for (int i = 0; i < 3; i++) {
        char csid[16];
        snprintf(csid, sizeof(csid), "s%d", i);
        submit_at(&f, pid, csid, T0 + i, &s);
        ASSERT_EQ(s.res.refusal, REG_OK);
        ASSERT_EQ(s.res.submissions_remaining, 0);
        ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_CANCELLED, "by you"), 1);
    }
    fx_close(&f);
}

TEST(round_limit_refunds)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 1, REG_PERIOD_ROUND, 2, 0);
    submit_at(&f, pid, "a", T0, &s);
    ASSERT_EQ(fx_set_state(&f, s.res.submission_id, REG_SUB_ERROR, "x"), 1);
    submit_at(&f, pid, "b", T0 + 1, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    submit_at(&f, pid, "c", T0 + 2, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_STR_EQ(s.res.message, "Submission limit reached: 1 per round (up to 2 failed "
                                 "submissions are refunded). No slot frees up in round 1.");
    fx_close(&f);
}

/* ---- in flight ---- */

TEST(parallel_cap_counts_queued_and_running)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 0, REG_PERIOD_DAY, 0, 2);
    int64_t a = fx_submit_ok(&f, pid, "c", "a", T0);
    int64_t b = fx_submit_ok(&f, pid, "c", "b", T0 + 1);
    submit_at(&f, pid, "c", T0 + 2, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_PARALLEL);
    ASSERT_STR_EQ(s.res.message, "Too many submissions in flight: 2 queued or running, at most 2 "
                                 "allowed at a time. Submit again when one of them finishes.");
    ASSERT_EQ(fx_set_state(&f, a, REG_SUB_RUNNING, NULL), 1);
    submit_at(&f, pid, "c", T0 + 3, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_PARALLEL);
    ASSERT_EQ(fx_record(&f, a, 0.5, 0, 0), 1);
    submit_at(&f, pid, "c", T0 + 4, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    submit_at(&f, pid, "d", T0 + 5, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_PARALLEL);
    ASSERT_EQ(fx_set_state(&f, b, REG_SUB_ERROR, "x"), 1);
    submit_at(&f, pid, "d", T0 + 6, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    fx_close(&f);
}

TEST(parallel_cap_is_per_participant)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 0, REG_PERIOD_DAY, 0, 1);
    int64_t other = fx_participant(&f, "other", NULL);
    fx_submit_ok(&f, pid, "c", "a", T0);
    submit_at(&f, other, "a", T0 + 1, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    submit_at(&f, pid, "b", T0 + 2, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_PARALLEL);
    fx_close(&f);
}

TEST(limit_refusal_carries_its_reset_even_when_also_too_many_in_flight)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = limited(&f, 1, REG_PERIOD_DAY, 0, 1);
    fx_submit_ok(&f, pid, "c", "a", T0);
    submit_at(&f, pid, "b", T0 + 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_LIMIT);
    ASSERT_EQ(s.res.reset_at, T0 + DAY);
    fx_close(&f);
}
