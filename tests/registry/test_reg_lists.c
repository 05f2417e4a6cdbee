/* Registry tests: what the web pages read. Each challenge's score precision (default, set,
 * refused out of range, carried by every operation that answers a challenge), the list of
 * challenges, a participant's own submissions to a challenge (newest first, limited, from
 * its index), and the schema v4 -> v5 migration. */
#include <stdio.h>
#include <string.h>

#include "reg_fixture.h"
#include "registry/reg_catalog.h"
#include "registry/reg_sqlite.h"
#include "test.h"

/* A challenge with every optional field away from its default. */
static void full_challenge(struct fx *f, const char *id, int precision)
{
    struct reg_challenge c;
    char why[256];
    reg_catalog_challenge_defaults(&c);
    snprintf(c.id, sizeof(c.id), "%s", id);
    snprintf(c.title, sizeof(c.title), "Title of %s", id);
    snprintf(c.pool, sizeof(c.pool), "gpu");
    snprintf(c.primary_name, sizeof(c.primary_name), "f1");
    c.primary_sort = REG_SORT_ASC;
    snprintf(c.secondary_name, sizeof(c.secondary_name), "logloss");
    c.secondary_sort = REG_SORT_ASC;
    c.max_upload_bytes = 1234;
    snprintf(c.accepted_types, sizeof(c.accepted_types), ".csv,.zip");
    c.time_limit_ms = 45000;
    c.max_attempts = 7;
    c.score_precision = precision;
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), 0);
    ASSERT_EQ(reg_catalog_challenge_create(f->store, &c, T0), 0);
}

static void assert_full(const struct reg_challenge *c, const char *id, int precision)
{
    char title[64];
    snprintf(title, sizeof(title), "Title of %s", id);
    ASSERT_STR_EQ(c->id, id);
    ASSERT_STR_EQ(c->title, title);
    ASSERT_STR_EQ(c->pool, "gpu");
    ASSERT_STR_EQ(c->primary_name, "f1");
    ASSERT_EQ(c->primary_sort, REG_SORT_ASC);
    ASSERT_STR_EQ(c->secondary_name, "logloss");
    ASSERT_EQ(c->secondary_sort, REG_SORT_ASC);
    ASSERT_EQ(c->max_upload_bytes, 1234);
    ASSERT_STR_EQ(c->accepted_types, ".csv,.zip");
    ASSERT_EQ(c->time_limit_ms, 45000);
    ASSERT_EQ(c->max_attempts, 7);
    ASSERT_EQ(c->score_precision, precision);
}

/* ---- precision ---- */

TEST(precision_defaults_to_3_and_is_checked)
{
    struct reg_challenge c;
    char why[256] = "";
    reg_catalog_challenge_defaults(&c);
    ASSERT_EQ(c.score_precision, 3);
    snprintf(c.id, sizeof(c.id), "p");
    snprintf(c.title, sizeof(c.title), "T");
    snprintf(c.pool, sizeof(c.pool), "gpu");
    snprintf(c.primary_name, sizeof(c.primary_name), "f1");
    static const int good[] = {0, 3, 12}, bad[] = {-1, 13, 100};
    for (size_t i = 0; i < 3; i++) {
        c.score_precision = good[i];
        ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), 0);
        c.score_precision = bad[i];
        why[0] = '\0';
        ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), -1);
        ASSERT_STR_EQ(why, "the score precision must be 0 to 12 digits after the decimal point");
    }
}

TEST(precision_is_stored_and_answered_by_every_challenge_operation)
{
    struct fx f;
    struct reg_challenge c;
    struct fx_auth a;
    char key[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("c", 1, T0 - DAY, T0 + DAY);
    fx_round_add(&f, &r);
    fx_participant(&f, "p", key);
    ASSERT_EQ(fx_get_challenge(&f, "c", &c), 1);
    ASSERT_EQ(c.score_precision, 3);
    c.score_precision = 0;
    ASSERT_EQ(reg_catalog_challenge_update(f.store, &c, T0), 0);
    ASSERT_EQ(fx_get_challenge(&f, "c", &c), 1);
    ASSERT_EQ(c.score_precision, 0);
    c.score_precision = 9;
    ASSERT_EQ(reg_catalog_challenge_update(f.store, &c, T0), 0);
    fx_auth(&f, key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_EQ(a.c.score_precision, 9);
    full_challenge(&f, "full", 12);
    ASSERT_EQ(fx_get_challenge(&f, "full", &c), 1);
    assert_full(&c, "full", 12);
    fx_close(&f);
}

/* ---- list_challenges ---- */

TEST(list_challenges_in_id_order_with_every_field)
{
    struct fx f;
    struct fx_challenges l;
    fx_open(&f);
    full_challenge(&f, "zeta", 0);
    fx_challenge(&f, "alpha", REG_SORT_DESC, -1);
    full_challenge(&f, "mid-2", 12);
    fx_list_challenges(&f, &l);
    ASSERT_EQ(l.count, 3);
    ASSERT_EQ(l.n, 3);
    ASSERT_STR_EQ(l.rows[0].id, "alpha");
    ASSERT_STR_EQ(l.rows[0].title, "Challenge alpha");
    ASSERT_STR_EQ(l.rows[0].primary_name, "score");
    ASSERT_STR_EQ(l.rows[0].secondary_name, "");
    ASSERT_EQ(l.rows[0].max_upload_bytes, 50LL * 1024 * 1024);
    ASSERT_EQ(l.rows[0].time_limit_ms, 600 * 1000);
    ASSERT_EQ(l.rows[0].max_attempts, 3);
    ASSERT_EQ(l.rows[0].score_precision, 3);
    assert_full(&l.rows[1], "mid-2", 12);
    assert_full(&l.rows[2], "zeta", 0);
    fx_close(&f);
}

TEST(list_challenges_of_an_empty_registry_ends_with_0)
{
    struct fx f;
    struct fx_challenges l;
    fx_open(&f);
    fx_list_challenges(&f, &l);
    ASSERT_EQ(l.n, 0);
    ASSERT_EQ(l.count, 0);
    fx_close(&f);
}

TEST(lists_answer_minus_1_when_the_store_fails)
{
    struct fx f;
    struct fx_challenges lc;
    struct fx_submissions ls;
    fx_open(&f);
    ASSERT_EQ(sqlite3_exec(reg_store_db(f.store),
                           "DROP TABLE webapp_submissions; DROP TABLE submissions;"
                           "DROP TABLE rounds; DROP TABLE challenges",
                           NULL, NULL, NULL),
              SQLITE_OK);
    fx_list_challenges(&f, &lc);
    ASSERT_EQ(lc.n, 0);
    ASSERT_EQ(lc.count, -1);
    fx_list_submissions(&f, 1, "c", 10, &ls);
    ASSERT_EQ(ls.n, 0);
    ASSERT_EQ(ls.count, -1);
    fx_close(&f);
}

/* ---- list_submissions ---- */

struct world {
    int64_t p, q;
    int64_t p_a[4]; /* p's submissions to "a", in the order made */
};

/* Participants p and q, challenges a and b open around T0. p makes four submissions to a whose
 * times are not in id order (the third is the oldest; the last two share a time), one to b;
 * q makes one to a. */
static void make_world(struct fx *f, struct world *w)
{
    static const int64_t at[4] = {T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + HOUR, T0 + 3 * HOUR};
    char csid[16];
    fx_challenge(f, "a", REG_SORT_DESC, -1);
    fx_challenge(f, "b", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("a", 1, T0 - DAY, T0 + DAY);
    fx_round_add(f, &r);
    r = fx_round_def("b", 1, T0 - DAY, T0 + DAY);
    fx_round_add(f, &r);
    w->p = fx_participant(f, "p", NULL);
    w->q = fx_participant(f, "q", NULL);
    for (int i = 0; i < 4; i++) {
        snprintf(csid, sizeof(csid), "pa-%d", i);
        w->p_a[i] = fx_submit_ok(f, w->p, "a", csid, at[i]);
    }
    fx_submit_ok(f, w->p, "b", "pb", T0 + 4 * HOUR);
    fx_submit_ok(f, w->q, "a", "qa", T0 + 4 * HOUR);
}

TEST(list_submissions_only_the_participants_to_the_challenge_newest_first)
{
    struct fx f;
    struct world w;
    struct fx_submissions l;
    fx_open(&f);
    make_world(&f, &w);
    ASSERT_EQ(fx_record(&f, w.p_a[0], 0.25, 1, 7.5), 1);
    fx_list_submissions(&f, w.p, "a", 10, &l);
    ASSERT_EQ(l.count, 4);
    ASSERT_EQ(l.n, 4);
    static const int newest_first[4] = {3, 1, 0, 2};
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(l.rows[i].id, w.p_a[newest_first[i]]);
        ASSERT_EQ(l.rows[i].participant_id, w.p);
        ASSERT_STR_EQ(l.rows[i].challenge_id, "a");
    }
    ASSERT_STR_EQ(l.rows[2].client_submission_id, "pa-0");
    ASSERT_EQ(l.rows[2].state, REG_SUB_COMPLETE);
    ASSERT_EQ(l.rows[2].has_score, 1);
    ASSERT_EQ(l.rows[2].has_secondary, 1);
    ASSERT_TRUE(l.rows[2].score == 0.25 && l.rows[2].score_secondary == 7.5);
    ASSERT_EQ(l.rows[2].created_at, T0 + 2 * HOUR);
    ASSERT_EQ(l.rows[2].round_number, 1);
    ASSERT_EQ(l.rows[3].state, REG_SUB_QUEUED);
    ASSERT_EQ(l.rows[3].created_at, T0 + HOUR);
    fx_list_submissions(&f, w.p, "b", 10, &l);
    ASSERT_EQ(l.count, 1);
    ASSERT_STR_EQ(l.rows[0].client_submission_id, "pb");
    fx_list_submissions(&f, w.q, "a", 10, &l);
    ASSERT_EQ(l.count, 1);
    ASSERT_STR_EQ(l.rows[0].client_submission_id, "qa");
    fx_close(&f);
}

TEST(list_submissions_honours_the_limit)
{
    struct fx f;
    struct world w;
    struct fx_submissions l;
    fx_open(&f);
    make_world(&f, &w);
    fx_list_submissions(&f, w.p, "a", 2, &l);
    ASSERT_EQ(l.count, 2);
    ASSERT_EQ(l.n, 2);
    ASSERT_EQ(l.rows[0].id, w.p_a[3]);
    ASSERT_EQ(l.rows[1].id, w.p_a[1]);
    fx_list_submissions(&f, w.p, "a", 1, &l);
    ASSERT_EQ(l.count, 1);
    ASSERT_EQ(l.rows[0].id, w.p_a[3]);
    fx_list_submissions(&f, w.p, "a", 0, &l); /* 0: no limit */
    ASSERT_EQ(l.count, 4);
    fx_close(&f);
}

TEST(list_submissions_with_nothing_to_list_ends_with_0)
{
    struct fx f;
    struct world w;
    struct fx_submissions l;
    fx_open(&f);
    make_world(&f, &w);
    fx_list_submissions(&f, w.q, "b", 10, &l);
    ASSERT_EQ(l.n, 0);
    ASSERT_EQ(l.count, 0);
    fx_list_submissions(&f, w.p, "nope", 10, &l);
    ASSERT_EQ(l.count, 0);
    fx_list_submissions(&f, 999, "a", 10, &l);
    ASSERT_EQ(l.count, 0);
    fx_list_submissions(&f, w.p, NULL, 10, &l);
    ASSERT_EQ(l.count, 0);
    fx_close(&f);
}

/* The plan of the list query (the same SQL as reg_submission.c) reads the index in order. */
TEST(list_submissions_reads_its_index_without_sorting)
{
    struct fx f;
    sqlite3_stmt *st;
    char plan[1024] = "";
    fx_open(&f);
    ASSERT_EQ(sqlite3_prepare_v2(reg_store_db(f.store),
                                 "EXPLAIN QUERY PLAN SELECT id FROM submissions"
                                 " WHERE participant_id = ?1 AND challenge_id = ?2"
                                 " ORDER BY created_at DESC, id DESC LIMIT ?3",
                                 -1, &st, NULL),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(plan);
        snprintf(plan + n, sizeof(plan) - n, "%s;", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    if (strstr(plan, "submissions_own") == NULL || strstr(plan, "TEMP B-TREE") != NULL)
        test_fail(__FILE__, __LINE__, "query plan: %s", plan);
    fx_close(&f);
}

/* ---- migration ---- */

static int has_index(struct reg_store *s, const char *name)
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(reg_store_db(s),
                                 "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"
                                 " AND name = ?1",
                                 -1, &st, NULL),
              SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A database as version 4 wrote it: no precision column, no index of own submissions. */
static void back_to_v4(struct fx *f)
{
    ASSERT_EQ(sqlite3_exec(reg_store_db(f->store),
                           "DROP INDEX submissions_own;"
                           "ALTER TABLE challenges DROP COLUMN score_precision;"
                           "PRAGMA user_version = 4",
                           NULL, NULL, NULL),
              SQLITE_OK);
    ASSERT_EQ(has_index(f->store, "submissions_own"), 0);
    ASSERT_TRUE(sqlite3_exec(reg_store_db(f->store), "SELECT score_precision FROM challenges", NULL,
                             NULL, NULL) != SQLITE_OK);
}

TEST(store_migrates_a_version_4_database_in_place)
{
    struct fx f;
    struct world w;
    struct reg_challenge c;
    char err[256] = "";
    fx_open(&f);
    make_world(&f, &w);
    back_to_v4(&f);
    struct reg_store *s = reg_store_open(f.path, err, sizeof(err));
    if (s == NULL)
        test_fail(__FILE__, __LINE__, "reopen: %s", err);
    ASSERT_EQ(has_index(s, "submissions_own"), 1);
    ASSERT_EQ(reg_catalog_challenge_get(s, "a", &c), 0);
    ASSERT_EQ(c.score_precision, 3);
    c.score_precision = 5;
    ASSERT_EQ(reg_catalog_challenge_update(s, &c, T0), 0);
    ASSERT_TRUE(sqlite3_exec(reg_store_db(s), "UPDATE challenges SET score_precision = 13", NULL,
                             NULL, NULL) != SQLITE_OK); /* the CHECK holds */
    reg_store_close(s);
    /* The registry that was open all along sees the new column too. */
    struct fx_submissions l;
    fx_list_submissions(&f, w.p, "a", 10, &l);
    ASSERT_EQ(l.count, 4);
    ASSERT_EQ(l.rows[0].id, w.p_a[3]);
    ASSERT_EQ(fx_get_challenge(&f, "a", &c), 1);
    ASSERT_EQ(c.score_precision, 5);
    ASSERT_EQ(fx_get_challenge(&f, "b", &c), 1);
    ASSERT_EQ(c.score_precision, 3);
    fx_close(&f);
}
