/* Registry tests: the store (schema version, pragmas, migrations), times, definitions
 * checks, and the deferred delivery of every callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reg_fixture.h"
#include "registry/reg_catalog.h"
#include "registry/reg_sqlite.h"
#include "registry/reg_time.h"
#include "test.h"

static void pragma_text(struct fx *f, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(reg_store_db(f->store), sql, -1, &st, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

TEST(store_schema_version_and_settings)
{
    struct fx f;
    char v[32];
    fx_open(&f);
    pragma_text(&f, "PRAGMA user_version", v, sizeof(v));
    ASSERT_STR_EQ(v, "5");
    ASSERT_EQ(REG_STORE_SCHEMA_VERSION, 5);
    pragma_text(&f, "PRAGMA journal_mode", v, sizeof(v));
    ASSERT_STR_EQ(v, "wal");
    pragma_text(&f, "PRAGMA synchronous", v, sizeof(v));
    ASSERT_STR_EQ(v, "1"); /* NORMAL */
    pragma_text(&f, "PRAGMA foreign_keys", v, sizeof(v));
    ASSERT_STR_EQ(v, "1");
    fx_close(&f);
}

TEST(store_reopen_keeps_data_and_refuses_newer_schema)
{
    struct fx f;
    char err[256] = "";
    struct reg_challenge c;
    fx_open(&f);
    fx_challenge(&f, "kept", REG_SORT_DESC, -1);
    struct reg_store *s = reg_store_open(f.path, err, sizeof(err));
    ASSERT_TRUE(s != NULL);
    ASSERT_EQ(reg_catalog_challenge_get(s, "kept", &c), 0);
    ASSERT_STR_EQ(c.title, "Challenge kept");
    ASSERT_EQ(sqlite3_exec(reg_store_db(s), "PRAGMA user_version = 7", NULL, NULL, NULL),
              SQLITE_OK);
    reg_store_close(s);
    ASSERT_TRUE(reg_store_open(f.path, err, sizeof(err)) == NULL);
    ASSERT_STR_EQ(err, "database schema version 7 is newer than this program's (5)");
    fx_close(&f);
}

TEST(store_migrates_a_version_1_database_keeping_its_participants)
{
    struct fx f;
    char err[256] = "", key[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    int64_t id = fx_participant(&f, "alice", key);
    /* Back to version 1's shape, as a database written by the previous release (the tables of
     * versions 3 and 4 are made only if missing, so they may stay). */
    ASSERT_EQ(sqlite3_exec(reg_store_db(f.store),
                           "ALTER TABLE participants DROP COLUMN sessions_valid_after;"
                           "DROP INDEX submissions_state;"
                           "ALTER TABLE challenges DROP COLUMN score_precision;"
                           "DROP INDEX submissions_own;"
                           "PRAGMA user_version = 1",
                           NULL, NULL, NULL),
              SQLITE_OK);
    struct reg_store *s = reg_store_open(f.path, err, sizeof(err));
    ASSERT_TRUE(s != NULL);
    struct reg_participant p;
    ASSERT_EQ(reg_access_participant_get(s, id, &p), 0);
    ASSERT_STR_EQ(p.name, "alice");
    ASSERT_EQ(reg_access_session_valid(s, id, 1), 1);
    reg_store_close(s);
    fx_close(&f);
}

TEST(store_migrates_an_empty_file)
{
    char dir[] = "/tmp/reg-empty-XXXXXX", path[64], err[256];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/db", dir);
    FILE *fp = fopen(path, "w");
    ASSERT_TRUE(fp != NULL);
    fclose(fp);
    struct reg_store *s = reg_store_open(path, err, sizeof(err));
    ASSERT_TRUE(s != NULL);
    struct reg_challenge c;
    ASSERT_EQ(reg_catalog_challenge_get(s, "none", &c), REG_STORE_NOT_FOUND);
    reg_store_close(s);
    char extra[80];
    snprintf(extra, sizeof(extra), "%s-wal", path);
    unlink(extra);
    snprintf(extra, sizeof(extra), "%s-shm", path);
    unlink(extra);
    unlink(path);
    rmdir(dir);
}

TEST(store_open_reports_unusable_path)
{
    char err[256] = "";
    ASSERT_TRUE(reg_store_open("/nonexistent-dir/x/registry.sqlite3", err, sizeof(err)) == NULL);
    ASSERT_TRUE(strstr(err, "cannot open the registry database") != NULL);
}

TEST(time_format_and_parse)
{
    char out[REG_TIME_LEN];
    int64_t ms;
    reg_time_format(T0, out);
    ASSERT_STR_EQ(out, "2026-11-25T00:00:00Z");
    reg_time_format(T0 + DAY + HOUR + 250, out);
    ASSERT_STR_EQ(out, "2026-11-26T01:00:00.250Z");
    reg_time_format_ceil(T0 + 1, out);
    ASSERT_STR_EQ(out, "2026-11-25T00:00:01Z");
    reg_time_format_ceil(T0, out);
    ASSERT_STR_EQ(out, "2026-11-25T00:00:00Z");
    ASSERT_EQ(reg_time_parse("2026-11-25T00:00:00Z", &ms), 0);
    ASSERT_EQ(ms, T0);
    ASSERT_EQ(reg_time_parse("2026-11-25", &ms), 0);
    ASSERT_EQ(ms, T0);
    ASSERT_EQ(reg_time_parse("2026-11-25 02:30+02:30", &ms), 0);
    ASSERT_EQ(ms, T0);
    ASSERT_EQ(reg_time_parse("2026-11-24T19:00:00.5-05:00", &ms), 0);
    ASSERT_EQ(ms, T0 + 500);
    ASSERT_EQ(reg_time_parse("2028-02-29T00:00:00Z", &ms), 0);
    static const char *const bad[] = {
        "",           "2026-11-25T00:00:00",   "2026-13-01",
        "2026-02-29", "2026-11-25T24:00Z",     "2026-11-25T00:00:00Zjunk",
        "26-11-25",   "2026-11-25T00:00:00.Z", "tomorrow"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (reg_time_parse(bad[i], &ms) == 0)
            test_fail(__FILE__, __LINE__, "parsed \"%s\"", bad[i]);
    }
}

TEST(catalog_checks_definitions)
{
    struct reg_challenge c;
    char why[256];
    reg_catalog_challenge_defaults(&c);
    snprintf(c.id, sizeof(c.id), "good-id-1");
    snprintf(c.title, sizeof(c.title), "T");
    snprintf(c.pool, sizeof(c.pool), "gpu");
    snprintf(c.primary_name, sizeof(c.primary_name), "f1");
    snprintf(c.accepted_types, sizeof(c.accepted_types), ".csv,.tar.gz");
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), 0);
    snprintf(c.id, sizeof(c.id), "Bad_Id");
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), -1);
    ASSERT_STR_EQ(why, "the challenge id must be 1 to 63 characters of a-z, 0-9 and '-'");
    snprintf(c.id, sizeof(c.id), "ok");
    snprintf(c.accepted_types, sizeof(c.accepted_types), "csv");
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), -1);
    snprintf(c.accepted_types, sizeof(c.accepted_types), ".csv,");
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), -1);
    c.accepted_types[0] = '\0';
    c.max_attempts = 0;
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), -1);
    ASSERT_STR_EQ(why, "the maximum number of attempts must be at least 1");

    struct reg_round r = fx_round_def("ok", 1, T0, T0);
    ASSERT_EQ(reg_catalog_round_check(&r, why, sizeof(why)), -1);
    ASSERT_STR_EQ(why, "a round must end after it starts");
    r.ends_at = T0 + 1;
    ASSERT_EQ(reg_catalog_round_check(&r, why, sizeof(why)), 0);
    r.number = 0;
    ASSERT_EQ(reg_catalog_round_check(&r, why, sizeof(why)), -1);
}

TEST(catalog_create_update_and_round_errors)
{
    struct fx f;
    struct reg_challenge c;
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    ASSERT_EQ(reg_catalog_challenge_get(f.store, "c", &c), 0);
    ASSERT_EQ(reg_catalog_challenge_create(f.store, &c, T0), REG_STORE_EXISTS);
    snprintf(c.title, sizeof(c.title), "Renamed");
    ASSERT_EQ(reg_catalog_challenge_update(f.store, &c, T0), 0);
    ASSERT_EQ(reg_catalog_challenge_get(f.store, "c", &c), 0);
    ASSERT_STR_EQ(c.title, "Renamed");
    snprintf(c.id, sizeof(c.id), "missing");
    ASSERT_EQ(reg_catalog_challenge_update(f.store, &c, T0), REG_STORE_NOT_FOUND);
    struct reg_round r = fx_round_def("missing", 1, T0, T0 + DAY);
    ASSERT_EQ(reg_catalog_round_create(f.store, &r), REG_STORE_NOT_FOUND);
    r = fx_round_def("c", 1, T0, T0 + DAY);
    fx_round_add(&f, &r);
    ASSERT_EQ(reg_catalog_round_create(f.store, &r), REG_STORE_EXISTS);
    r.number = 2;
    ASSERT_EQ(reg_catalog_round_update(f.store, &r), REG_STORE_NOT_FOUND);
    fx_close(&f);
}

/* ---- callbacks are never synchronous ---- */

struct order {
    int seen[10];
    int n;
};

static void order_auth(void *ud, enum reg_auth result, const struct reg_participant *p,
                       const struct reg_challenge *c)
{
    struct order *o = ud;
    o->seen[o->n++] = 1;
}

static void order_grader(void *ud, int ok, const char *name)
{
    struct order *o = ud;
    o->seen[o->n++] = 2;
}

static void order_challenge(void *ud, int found, const struct reg_challenge *c)
{
    struct order *o = ud;
    o->seen[o->n++] = 3;
}

static void order_submit(void *ud, const struct reg_submit_result *r)
{
    struct order *o = ud;
    o->seen[o->n++] = 4;
}

static void order_submission(void *ud, int found, const struct reg_submission *s)
{
    struct order *o = ud;
    o->seen[o->n++] = 5;
}

static void order_update(void *ud, int result)
{
    struct order *o = ud;
    o->seen[o->n++] = 6;
}

static void order_board(void *ud, const struct reg_leaderboard_row *row, int count)
{
    struct order *o = ud;
    if (row == NULL)
        o->seen[o->n++] = 7;
}

static void order_challenges(void *ud, const struct reg_challenge *c, int count)
{
    struct order *o = ud;
    if (c == NULL)
        o->seen[o->n++] = 8;
}

static void order_submissions(void *ud, const struct reg_submission *s, int count)
{
    struct order *o = ud;
    if (s == NULL)
        o->seen[o->n++] = 9;
}

static void start_all_ops(struct fx *f, struct order *o, int64_t pid)
{
    struct reg_submit_request req = fx_req(pid, "c", "x", T0 + HOUR);
    f->reg->ops->authenticate(f->reg, "bad", "c", order_auth, o);
    f->reg->ops->check_grader_key(f->reg, "bad", order_grader, o);
    f->reg->ops->get_challenge(f->reg, "c", order_challenge, o);
    f->reg->ops->submit(f->reg, &req, order_submit, o);
    f->reg->ops->get_submission(f->reg, 1, order_submission, o);
    f->reg->ops->set_state(f->reg, 1, REG_SUB_RUNNING, NULL, order_update, o);
    f->reg->ops->leaderboard(f->reg, "c", 0, 10, order_board, o);
    f->reg->ops->list_challenges(f->reg, order_challenges, o);
    f->reg->ops->list_submissions(f->reg, pid, "c", 10, order_submissions, o);
}

TEST(callbacks_are_deferred_and_in_call_order)
{
    struct fx f;
    struct order o;
    memset(&o, 0, sizeof(o));
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("c", 1, T0, T0 + DAY);
    fx_round_add(&f, &r);
    int64_t pid = fx_participant(&f, "p", NULL);
    start_all_ops(&f, &o, pid);
    ASSERT_EQ(o.n, 0);
    uv_run(&f.loop, UV_RUN_NOWAIT);
    ASSERT_EQ(o.n, 9);
    for (int i = 0; i < 9; i++)
        ASSERT_EQ(o.seen[i], i + 1);
    fx_close(&f);
}

struct chain {
    struct fx *f;
    int outer, inner, inner_during_outer;
};

static void chain_inner(void *ud, int found, const struct reg_submission *s)
{
    struct chain *c = ud;
    c->inner++;
}

static void chain_outer(void *ud, const struct reg_submit_result *r)
{
    struct chain *c = ud;
    c->outer++;
    c->f->reg->ops->get_submission(c->f->reg, r->submission_id, chain_inner, c);
    c->inner_during_outer = c->inner;
}

TEST(callbacks_started_from_a_callback_wait_for_the_next_iteration)
{
    struct fx f;
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    struct reg_round r = fx_round_def("c", 1, T0, T0 + DAY);
    fx_round_add(&f, &r);
    int64_t pid = fx_participant(&f, "p", NULL);
    struct chain c = {&f, 0, 0, -1};
    struct reg_submit_request req = fx_req(pid, "c", "x", T0 + HOUR);
    f.reg->ops->submit(f.reg, &req, chain_outer, &c);
    ASSERT_EQ(c.outer, 0);
    uv_run(&f.loop, UV_RUN_NOWAIT);
    ASSERT_EQ(c.outer, 1);
    ASSERT_EQ(c.inner_during_outer, 0);
    ASSERT_EQ(c.inner, 0);
    fx_wait(&f, &c.inner);
    ASSERT_EQ(c.inner, 1);
    fx_close(&f);
}

TEST(close_delivers_pending_answers)
{
    struct fx f;
    struct order o;
    memset(&o, 0, sizeof(o));
    fx_open(&f);
    f.reg->ops->get_challenge(f.reg, "none", order_challenge, &o);
    f.reg->ops->check_grader_key(f.reg, "none", order_grader, &o);
    ASSERT_EQ(o.n, 0);
    f.reg->ops->close(f.reg);
    f.closed = 1;
    ASSERT_EQ(o.n, 2);
    ASSERT_EQ(o.seen[0], 3);
    ASSERT_EQ(o.seen[1], 2);
    fx_close(&f);
}

struct close_chain {
    struct fx *f;
    int first, second;
};

static void close_chain_second(void *ud, int found, const struct reg_challenge *c)
{
    struct close_chain *cc = ud;
    cc->second++;
}

static void close_chain_first(void *ud, int found, const struct reg_challenge *c)
{
    struct close_chain *cc = ud;
    cc->first++;
    cc->f->reg->ops->get_challenge(cc->f->reg, "c", close_chain_second, cc);
    ASSERT_EQ(cc->second, 0);
}

TEST(close_answers_operations_started_by_pending_callbacks)
{
    struct fx f;
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    struct close_chain cc = {&f, 0, 0};
    f.reg->ops->get_challenge(f.reg, "c", close_chain_first, &cc);
    f.reg->ops->close(f.reg);
    f.closed = 1;
    ASSERT_EQ(cc.first, 1);
    ASSERT_EQ(cc.second, 1);
    fx_close(&f);
}
