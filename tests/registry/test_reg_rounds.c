/* Registry tests: round selection (open, not yet open, closed, late, unknown) and
 * qualification from the previous round in both sort orders. */
#include <stdio.h>
#include <string.h>

#include "reg_fixture.h"
#include "test.h"

/* Challenge c: round 1 [T0, T0+10d), round 2 [T0+12d, T0+20d). */
static int64_t two_rounds(struct fx *f, int late1, int late2)
{
    fx_open(f);
    fx_challenge(f, "c", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("c", 1, T0, T0 + 10 * DAY);
    r.accept_late = late1;
    fx_round_add(f, &r);
    r = fx_round_def("c", 2, T0 + 12 * DAY, T0 + 20 * DAY);
    r.accept_late = late2;
    fx_round_add(f, &r);
    return fx_participant(f, "p", NULL);
}

static void submit_at(struct fx *f, int64_t pid, const char *csid, int round, int64_t now,
                      struct fx_submit *out)
{
    struct reg_submit_request req = fx_req(pid, "c", csid, now);
    req.round_number = round;
    fx_submit(f, &req, out);
}

static int submission_late(struct fx *f, int64_t id)
{
    struct reg_submission sub;
    char data[1024];
    ASSERT_EQ(fx_get_submission(f, id, &sub, data), 1);
    return sub.late;
}

TEST(round_zero_picks_the_open_round_with_inclusive_start)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 0, 0);
    submit_at(&f, pid, "a", 0, T0, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.round_number, 1);
    ASSERT_TRUE(s.res.message == NULL);
    ASSERT_EQ(submission_late(&f, s.res.submission_id), 0);
    submit_at(&f, pid, "b", 0, T0 + 12 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.round_number, 2);
    fx_close(&f);
}

TEST(round_zero_between_rounds_says_when_the_next_opens)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 0, 0);
    submit_at(&f, pid, "a", 0, T0 + 10 * DAY, &s); /* the end is exclusive */
    ASSERT_EQ(s.res.refusal, REG_ERR_ROUND_CLOSED);
    ASSERT_STR_EQ(s.res.message,
                  "No round of c is open now; round 2 opens at 2026-12-07T00:00:00Z.");
    submit_at(&f, pid, "a", 0, T0 - 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_ROUND_CLOSED);
    ASSERT_STR_EQ(s.res.message,
                  "No round of c is open now; round 1 opens at 2026-11-25T00:00:00Z.");
    ASSERT_EQ(s.res.submission_id, 0);
    fx_close(&f);
}

TEST(round_zero_after_the_last_round)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 0, 0);
    submit_at(&f, pid, "a", 0, T0 + 20 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_ROUND_CLOSED);
    ASSERT_STR_EQ(s.res.message,
                  "Challenge c is closed: its last round (round 2) ended at 2026-12-15T00:00:00Z.");
    fx_close(&f);
}

TEST(round_zero_late_goes_to_the_most_recent_round)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 1, 1);
    submit_at(&f, pid, "a", 0, T0 + 11 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.round_number, 1);
    ASSERT_EQ(submission_late(&f, s.res.submission_id), 1);
    submit_at(&f, pid, "b", 0, T0 + 30 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.round_number, 2);
    ASSERT_EQ(submission_late(&f, s.res.submission_id), 1);
    fx_close(&f);
}

TEST(round_zero_late_only_on_the_most_recent_round)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 1, 0);
    submit_at(&f, pid, "a", 0, T0 + 21 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_ROUND_CLOSED);
    ASSERT_STR_EQ(s.res.message,
                  "Challenge c is closed: its last round (round 2) ended at 2026-12-15T00:00:00Z.");
    fx_close(&f);
}

TEST(explicit_round_not_yet_open)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 0, 0);
    submit_at(&f, pid, "a", 2, T0 + 12 * DAY - 1, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_ROUND_CLOSED);
    ASSERT_STR_EQ(s.res.message, "Round 2 of c is not open yet: it opens at 2026-12-07T00:00:00Z.");
    submit_at(&f, pid, "a", 2, T0 + 12 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.round_number, 2);
    fx_close(&f);
}

TEST(explicit_round_closed_or_late)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 0, 1);
    submit_at(&f, pid, "a", 1, T0 + 10 * DAY - 1, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(submission_late(&f, s.res.submission_id), 0);
    submit_at(&f, pid, "b", 1, T0 + 10 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_ROUND_CLOSED);
    ASSERT_STR_EQ(s.res.message,
                  "Round 1 of c closed at 2026-12-05T00:00:00Z and accepts no late submissions.");
    submit_at(&f, pid, "c", 2, T0 + 25 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(submission_late(&f, s.res.submission_id), 1);
    fx_close(&f);
}

TEST(unknown_round_and_challenge)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 0, 0);
    fx_challenge(&f, "empty", REG_SORT_DESC, -1);
    submit_at(&f, pid, "a", 3, T0 + DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_UNKNOWN_ROUND);
    ASSERT_STR_EQ(s.res.message, "Challenge c has no round 3 (its rounds go up to 2).");
    submit_at(&f, pid, "a", -1, T0 + DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_UNKNOWN_ROUND);
    struct reg_submit_request req = fx_req(pid, "empty", "a", T0);
    fx_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_ROUND_CLOSED);
    ASSERT_STR_EQ(s.res.message, "Challenge empty has no rounds yet.");
    req.round_number = 1;
    fx_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_UNKNOWN_ROUND);
    ASSERT_STR_EQ(s.res.message, "Challenge empty has no rounds yet.");
    req = fx_req(pid, "nope", "a", T0);
    fx_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_UNKNOWN_ROUND);
    ASSERT_STR_EQ(s.res.message, "Unknown challenge \"nope\".");
    fx_close(&f);
}

/* ---- qualification ---- */

/* Challenge q (primary sort given): round 1 [T0, T0+10d) needs min_score, round 2 after it;
 * round 1 accepts late submissions. */
static void qualifying_rounds(struct fx *f, enum reg_sort sort, double min_score)
{
    fx_open(f);
    fx_challenge(f, "q", sort, -1);
    struct reg_round r = fx_round_def("q", 1, T0, T0 + 10 * DAY);
    r.has_min_score = 1;
    r.min_score = min_score;
    r.accept_late = 1;
    fx_round_add(f, &r);
    r = fx_round_def("q", 2, T0 + 10 * DAY, T0 + 20 * DAY);
    fx_round_add(f, &r);
}

/* A participant with graded round-1 submissions of the given scores. */
static int64_t scored(struct fx *f, const char *name, const double *scores, int n)
{
    int64_t pid = fx_participant(f, name, NULL);
    for (int i = 0; i < n; i++) {
        char csid[32];
        snprintf(csid, sizeof(csid), "r1-%d", i);
        int64_t id = fx_submit_ok(f, pid, "q", csid, T0 + HOUR + i);
        ASSERT_EQ(fx_record(f, id, scores[i], 0, 0), 1);
    }
    return pid;
}

static void round2(struct fx *f, int64_t pid, struct fx_submit *out)
{
    struct reg_submit_request req = fx_req(pid, "q", "r2", T0 + 11 * DAY);
    fx_submit(f, &req, out);
}

TEST(qualification_descending)
{
    struct fx f;
    struct fx_submit s;
    qualifying_rounds(&f, REG_SORT_DESC, 0.8);
    const double above[] = {0.5, 0.85}, equal[] = {0.8}, below[] = {0.79, 0.3};
    round2(&f, scored(&f, "above", above, 2), &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(s.res.round_number, 2);
    round2(&f, scored(&f, "equal", equal, 1), &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    round2(&f, scored(&f, "below", below, 2), &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_NOT_QUALIFIED);
    ASSERT_EQ(s.res.round_number, 2);
    ASSERT_STR_EQ(s.res.message, "Not qualified for round 2: it needs a score of at least 0.8 in "
                                 "round 1, and your best there is 0.79.");
    round2(&f, scored(&f, "none", NULL, 0), &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_NOT_QUALIFIED);
    ASSERT_STR_EQ(s.res.message, "Not qualified for round 2: it needs a score of at least 0.8 in "
                                 "round 1, and you have no graded submission there.");
    fx_close(&f);
}

TEST(qualification_ascending)
{
    struct fx f;
    struct fx_submit s;
    qualifying_rounds(&f, REG_SORT_ASC, 10);
    const double above[] = {12, 10.5}, equal[] = {10}, below[] = {12, 9};
    round2(&f, scored(&f, "above", above, 2), &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_NOT_QUALIFIED);
    ASSERT_STR_EQ(s.res.message, "Not qualified for round 2: it needs a score of at most 10 in "
                                 "round 1, and your best there is 10.5.");
    round2(&f, scored(&f, "equal", equal, 1), &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    round2(&f, scored(&f, "below", below, 2), &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    fx_close(&f);
}

TEST(qualification_ignores_failed_and_late_submissions)
{
    struct fx f;
    struct fx_submit s;
    qualifying_rounds(&f, REG_SORT_DESC, 0.8);
    int64_t pid = fx_participant(&f, "p", NULL);
    int64_t failed = fx_submit_ok(&f, pid, "q", "failed", T0 + HOUR);
    ASSERT_EQ(fx_set_state(&f, failed, REG_SUB_ERROR, "bad csv"), 1);
    struct reg_submit_request req = fx_req(pid, "q", "late", T0 + 11 * DAY);
    req.round_number = 1;
    fx_submit(&f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    ASSERT_EQ(fx_record(&f, s.res.submission_id, 0.99, 0, 0), 1);
    round2(&f, pid, &s);
    ASSERT_EQ(s.res.refusal, REG_ERR_NOT_QUALIFIED);
    ASSERT_TRUE(strstr(s.res.message, "you have no graded submission there") != NULL);
    fx_close(&f);
}

TEST(qualification_only_when_the_previous_round_sets_a_minimum)
{
    struct fx f;
    struct fx_submit s;
    int64_t pid = two_rounds(&f, 0, 0);
    submit_at(&f, pid, "a", 2, T0 + 13 * DAY, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    fx_close(&f);
}
