/* Registry tests: the leaderboard (best COMPLETE submission per participant, primary then
 * secondary score in each sort order, ties to the earlier submission, rounds, limits). */
#include <stdio.h>
#include <string.h>

#include "reg_fixture.h"
#include "test.h"

/* Challenge b with the given sorts (secondary < 0: none), rounds 1 and 2 of ten days. */
static void board_setup(struct fx *f, enum reg_sort primary, int secondary)
{
    fx_open(f);
    fx_challenge(f, "b", primary, secondary);
    struct reg_round r = fx_round_def("b", 1, T0, T0 + 10 * DAY);
    fx_round_add(f, &r);
    r = fx_round_def("b", 2, T0 + 10 * DAY, T0 + 20 * DAY);
    fx_round_add(f, &r);
}

static int csid_counter;

/* A graded submission of pid at now; returns its id. */
static int64_t graded(struct fx *f, int64_t pid, int64_t now, double score, int has2, double s2)
{
    char csid[32];
    snprintf(csid, sizeof(csid), "g%d", ++csid_counter);
    int64_t id = fx_submit_ok(f, pid, "b", csid, now);
    ASSERT_EQ(fx_record(f, id, score, has2, s2), 1);
    return id;
}

static void expect_order(const struct fx_board *b, const char *const *names, int n)
{
    ASSERT_EQ(b->count, n);
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(b->rows[i].rank, i + 1);
        ASSERT_STR_EQ(b->rows[i].participant_name, names[i]);
    }
}

TEST(board_descending_primary_ascending_secondary)
{
    struct fx f;
    struct fx_board b;
    board_setup(&f, REG_SORT_DESC, REG_SORT_ASC);
    int64_t alice = fx_participant(&f, "alice", NULL);
    int64_t bob = fx_participant(&f, "bob", NULL);
    int64_t carol = fx_participant(&f, "carol", NULL);
    int64_t dave = fx_participant(&f, "dave", NULL);
    graded(&f, alice, T0 + 1 * HOUR, 0.5, 1, 1.0);
    int64_t alice_best = graded(&f, alice, T0 + 2 * HOUR, 0.9, 1, 5.0);
    graded(&f, alice, T0 + 3 * HOUR, 0.7, 1, 0.1);
    graded(&f, bob, T0 + 4 * HOUR, 0.9, 1, 3.0);
    graded(&f, carol, T0 + 5 * HOUR, 0.95, 1, 9.0);
    int64_t failed = fx_submit_ok(&f, dave, "b", "dave-1", T0 + 6 * HOUR);
    ASSERT_EQ(fx_set_state(&f, failed, REG_SUB_ERROR, "x"), 1);
    fx_submit_ok(&f, bob, "b", "bob-running", T0 + 7 * HOUR);
    fx_board(&f, "b", 0, 0, &b);
    static const char *const order[] = {"carol", "bob", "alice"};
    expect_order(&b, order, 3);
    ASSERT_EQ(b.rows[2].participant_id, alice);
    ASSERT_EQ(b.rows[2].submission_id, alice_best);
    ASSERT_EQ(b.rows[2].submissions, 3);
    ASSERT_EQ(b.rows[2].best_at, T0 + 2 * HOUR);
    ASSERT_TRUE(b.rows[2].score == 0.9);
    ASSERT_EQ(b.rows[2].has_secondary, 1);
    ASSERT_TRUE(b.rows[2].score_secondary == 5.0);
    ASSERT_EQ(b.rows[1].submissions, 1);
    fx_close(&f);
}

TEST(board_ascending_primary_descending_secondary)
{
    struct fx f;
    struct fx_board b;
    board_setup(&f, REG_SORT_ASC, REG_SORT_DESC);
    int64_t alice = fx_participant(&f, "alice", NULL);
    int64_t bob = fx_participant(&f, "bob", NULL);
    int64_t carol = fx_participant(&f, "carol", NULL);
    graded(&f, alice, T0 + 1 * HOUR, 2.0, 1, 1.0);
    graded(&f, alice, T0 + 2 * HOUR, 1.0, 1, 3.0);
    graded(&f, bob, T0 + 3 * HOUR, 1.0, 1, 7.0);
    graded(&f, carol, T0 + 4 * HOUR, 0.5, 1, 0.0);
    fx_board(&f, "b", 0, 0, &b);
    static const char *const order[] = {"carol", "bob", "alice"};
    expect_order(&b, order, 3);
    ASSERT_TRUE(b.rows[2].score == 1.0);
    ASSERT_EQ(b.rows[2].best_at, T0 + 2 * HOUR);
    ASSERT_EQ(b.rows[2].submissions, 2);
    fx_close(&f);
}

TEST(board_full_ties_go_to_the_earlier_submission)
{
    struct fx f;
    struct fx_board b;
    board_setup(&f, REG_SORT_DESC, REG_SORT_ASC);
    int64_t late = fx_participant(&f, "late", NULL);
    int64_t early = fx_participant(&f, "early", NULL);
    graded(&f, late, T0 + 3 * HOUR, 0.8, 1, 2.0);
    graded(&f, early, T0 + 1 * HOUR, 0.8, 1, 2.0);
    /* Within one participant, the earlier of two equal bests is the one shown. */
    int64_t first = graded(&f, early, T0 + 2 * HOUR, 0.8, 1, 2.0);
    (void)first;
    fx_board(&f, "b", 0, 0, &b);
    static const char *const order[] = {"early", "late"};
    expect_order(&b, order, 2);
    ASSERT_EQ(b.rows[0].best_at, T0 + 1 * HOUR);
    ASSERT_EQ(b.rows[0].submissions, 2);
    fx_close(&f);
}

TEST(board_missing_secondary_ranks_after_a_present_one)
{
    struct fx f;
    struct fx_board b;
    board_setup(&f, REG_SORT_DESC, REG_SORT_ASC);
    int64_t without = fx_participant(&f, "without", NULL);
    int64_t with = fx_participant(&f, "with", NULL);
    graded(&f, without, T0 + 1 * HOUR, 0.8, 0, 0);
    graded(&f, with, T0 + 2 * HOUR, 0.8, 1, 100.0);
    fx_board(&f, "b", 0, 0, &b);
    static const char *const order[] = {"with", "without"};
    expect_order(&b, order, 2);
    ASSERT_EQ(b.rows[1].has_secondary, 0);
    fx_close(&f);
}

TEST(board_without_secondary_score_ignores_it)
{
    struct fx f;
    struct fx_board b;
    board_setup(&f, REG_SORT_DESC, -1);
    int64_t first = fx_participant(&f, "first", NULL);
    int64_t second = fx_participant(&f, "second", NULL);
    graded(&f, first, T0 + 1 * HOUR, 0.8, 1, 100.0);
    graded(&f, second, T0 + 2 * HOUR, 0.8, 1, 0.0);
    fx_board(&f, "b", 0, 0, &b);
    static const char *const order[] = {"first", "second"};
    expect_order(&b, order, 2);
    ASSERT_EQ(b.rows[0].has_secondary, 0);
    fx_close(&f);
}

TEST(board_by_round_and_limited)
{
    struct fx f;
    struct fx_board b;
    board_setup(&f, REG_SORT_DESC, -1);
    int64_t p1 = fx_participant(&f, "p1", NULL);
    int64_t p2 = fx_participant(&f, "p2", NULL);
    int64_t p3 = fx_participant(&f, "p3", NULL);
    graded(&f, p1, T0 + HOUR, 0.9, 0, 0);
    graded(&f, p2, T0 + 2 * HOUR, 0.5, 0, 0);
    graded(&f, p2, T0 + 11 * DAY, 0.95, 0, 0);
    graded(&f, p3, T0 + 12 * DAY, 0.6, 0, 0);
    fx_board(&f, "b", 1, 0, &b);
    static const char *const round1[] = {"p1", "p2"};
    expect_order(&b, round1, 2);
    ASSERT_EQ(b.rows[1].submissions, 1);
    fx_board(&f, "b", 2, 0, &b);
    static const char *const round2[] = {"p2", "p3"};
    expect_order(&b, round2, 2);
    fx_board(&f, "b", 0, 0, &b);
    static const char *const all[] = {"p2", "p1", "p3"};
    expect_order(&b, all, 3);
    ASSERT_EQ(b.rows[0].submissions, 2);
    fx_board(&f, "b", 0, 2, &b);
    expect_order(&b, all, 2);
    fx_close(&f);
}

TEST(board_of_an_unknown_or_empty_challenge)
{
    struct fx f;
    struct fx_board b;
    board_setup(&f, REG_SORT_DESC, -1);
    fx_board(&f, "nope", 0, 0, &b);
    ASSERT_EQ(b.ended, 1);
    ASSERT_EQ(b.count, 0);
    fx_board(&f, "b", 0, 0, &b);
    ASSERT_EQ(b.ended, 1);
    ASSERT_EQ(b.count, 0);
    fx_close(&f);
}
