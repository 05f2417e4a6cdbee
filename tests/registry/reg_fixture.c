/* The registry test fixture: temp database, loop, seeding and deferred-callback checks. */
#include "reg_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/reg_catalog.h"
#include "registry/reg_sqlite.h"
#include "test.h"

#define WAIT_ITERATIONS 200

static int64_t fx_clock(void *ud)
{
    struct fx *f = ud;
    return f->clock;
}

void fx_open(struct fx *f)
{
    char err[256] = "";
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/reg-test-XXXXXX");
    ASSERT_TRUE(mkdtemp(f->dir) != NULL);
    snprintf(f->path, sizeof(f->path), "%s/registry.sqlite3", f->dir);
    ASSERT_EQ(uv_loop_init(&f->loop), 0);
    f->reg = reg_sqlite_open(&f->loop, f->path, err, sizeof(err));
    if (f->reg == NULL)
        test_fail(__FILE__, __LINE__, "reg_sqlite_open: %s", err);
    f->store = reg_sqlite_store(f->reg);
    f->clock = T0;
    reg_sqlite_set_clock(f->reg, fx_clock, f);
}

static void remove_file(const char *dir, const char *suffix)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/registry.sqlite3%s", dir, suffix);
    unlink(path);
}

void fx_close(struct fx *f)
{
    if (!f->closed)
        f->reg->ops->close(f->reg);
    ASSERT_EQ(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(uv_loop_close(&f->loop), 0);
    remove_file(f->dir, "");
    remove_file(f->dir, "-wal");
    remove_file(f->dir, "-shm");
    rmdir(f->dir);
}

void fx_wait(struct fx *f, const int *flag)
{
    for (int i = 0; i < WAIT_ITERATIONS && !*flag; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    ASSERT_TRUE(*flag);
}

/* ---- seeding ---- */

void fx_challenge(struct fx *f, const char *id, enum reg_sort primary, int secondary_sort)
{
    struct reg_challenge c;
    char why[256];
    reg_catalog_challenge_defaults(&c);
    snprintf(c.id, sizeof(c.id), "%s", id);
    snprintf(c.title, sizeof(c.title), "Challenge %s", id);
    snprintf(c.pool, sizeof(c.pool), "default");
    snprintf(c.primary_name, sizeof(c.primary_name), "score");
    c.primary_sort = primary;
    if (secondary_sort >= 0) {
        snprintf(c.secondary_name, sizeof(c.secondary_name), "time");
        c.secondary_sort = (enum reg_sort)secondary_sort;
    }
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), 0);
    ASSERT_EQ(reg_catalog_challenge_create(f->store, &c, T0), 0);
}

struct reg_round fx_round_def(const char *challenge, int number, int64_t start, int64_t end)
{
    struct reg_round r;
    memset(&r, 0, sizeof(r));
    snprintf(r.challenge_id, sizeof(r.challenge_id), "%s", challenge);
    r.number = number;
    r.starts_at = start;
    r.ends_at = end;
    r.period = REG_PERIOD_DAY;
    return r;
}

void fx_round_add(struct fx *f, const struct reg_round *r)
{
    char why[256];
    ASSERT_EQ(reg_catalog_round_check(r, why, sizeof(why)), 0);
    ASSERT_EQ(reg_catalog_round_create(f->store, r), 0);
}

int64_t fx_participant(struct fx *f, const char *name, char key[REG_ACCESS_KEY_LEN + 1])
{
    char unused[REG_ACCESS_KEY_LEN + 1];
    int64_t id = 0;
    ASSERT_EQ(reg_access_participant_add(f->store, name, T0, &id, key != NULL ? key : unused), 0);
    ASSERT_TRUE(id > 0);
    return id;
}

struct reg_submit_request fx_req(int64_t participant, const char *challenge, const char *csid,
                                 int64_t now)
{
    struct reg_submit_request req;
    memset(&req, 0, sizeof(req));
    req.participant_id = participant;
    req.challenge_id = challenge;
    req.client_submission_id = csid;
    req.file_key = "";
    req.description = "";
    req.now = now;
    return req;
}

/* ---- operations ---- */

static void on_submit(void *ud, const struct reg_submit_result *r)
{
    struct fx_submit *out = ud;
    ASSERT_EQ(out->called, 0);
    out->res = *r;
    out->res.message = NULL;
    if (r->message != NULL) {
        snprintf(out->msg, sizeof(out->msg), "%s", r->message);
        out->res.message = out->msg;
    }
    out->called = 1;
}

void fx_submit(struct fx *f, const struct reg_submit_request *req, struct fx_submit *out)
{
    memset(out, 0, sizeof(*out));
    f->reg->ops->submit(f->reg, req, on_submit, out);
    ASSERT_EQ(out->called, 0);
    fx_wait(f, &out->called);
}

int64_t fx_submit_ok(struct fx *f, int64_t participant, const char *challenge, const char *csid,
                     int64_t now)
{
    struct reg_submit_request req = fx_req(participant, challenge, csid, now);
    struct fx_submit out;
    fx_submit(f, &req, &out);
    if (out.res.refusal != REG_OK)
        test_fail(__FILE__, __LINE__, "submit %s refused (%d): %s", csid, out.res.refusal, out.msg);
    ASSERT_EQ(out.res.existing, 0);
    ASSERT_TRUE(out.res.submission_id > 0);
    return out.res.submission_id;
}

struct update_wait {
    int called, result;
};

static void on_update(void *ud, int result)
{
    struct update_wait *w = ud;
    ASSERT_EQ(w->called, 0);
    w->result = result;
    w->called = 1;
}

int fx_set_state(struct fx *f, int64_t id, enum reg_sub_state state, const char *message)
{
    struct update_wait w = {0, 0};
    f->reg->ops->set_state(f->reg, id, state, message, on_update, &w);
    ASSERT_EQ(w.called, 0);
    fx_wait(f, &w.called);
    return w.result;
}

int fx_record(struct fx *f, int64_t id, double score, int has_secondary, double secondary)
{
    struct update_wait w = {0, 0};
    f->reg->ops->record_score(f->reg, id, score, has_secondary, secondary, on_update, &w);
    ASSERT_EQ(w.called, 0);
    fx_wait(f, &w.called);
    return w.result;
}

static void on_auth(void *ud, enum reg_auth result, const struct reg_participant *p,
                    const struct reg_challenge *c)
{
    struct fx_auth *out = ud;
    ASSERT_EQ(out->called, 0);
    out->result = result;
    out->has_p = p != NULL;
    out->has_c = c != NULL;
    if (p != NULL)
        out->p = *p;
    if (c != NULL)
        out->c = *c;
    out->called = 1;
}

void fx_auth(struct fx *f, const char *key, const char *challenge, struct fx_auth *out)
{
    memset(out, 0, sizeof(*out));
    f->reg->ops->authenticate(f->reg, key, challenge, on_auth, out);
    ASSERT_EQ(out->called, 0);
    fx_wait(f, &out->called);
}

struct grader_wait {
    int called, ok;
    char name[64];
};

static void on_grader(void *ud, int ok, const char *name)
{
    struct grader_wait *w = ud;
    ASSERT_EQ(w->called, 0);
    ASSERT_EQ(ok != 0, name != NULL);
    w->ok = ok;
    snprintf(w->name, sizeof(w->name), "%s", name != NULL ? name : "");
    w->called = 1;
}

int fx_grader(struct fx *f, const char *key, char name[64])
{
    struct grader_wait w;
    memset(&w, 0, sizeof(w));
    f->reg->ops->check_grader_key(f->reg, key, on_grader, &w);
    ASSERT_EQ(w.called, 0);
    fx_wait(f, &w.called);
    memcpy(name, w.name, sizeof(w.name));
    return w.ok;
}

struct submission_wait {
    int called, found;
    struct reg_submission *sub;
    char *data;
};

static void on_submission(void *ud, int found, const struct reg_submission *sub)
{
    struct submission_wait *w = ud;
    ASSERT_EQ(w->called, 0);
    ASSERT_EQ(found != 0, sub != NULL);
    w->found = found;
    if (sub != NULL) {
        *w->sub = *sub;
        w->sub->data = NULL;
        if (sub->data != NULL) {
            snprintf(w->data, 1024, "%s", sub->data);
            w->sub->data = w->data;
        }
    }
    w->called = 1;
}

int fx_get_submission(struct fx *f, int64_t id, struct reg_submission *sub, char data[1024])
{
    struct submission_wait w = {0, 0, sub, data};
    memset(sub, 0, sizeof(*sub));
    f->reg->ops->get_submission(f->reg, id, on_submission, &w);
    ASSERT_EQ(w.called, 0);
    fx_wait(f, &w.called);
    return w.found;
}

struct challenge_wait {
    int called, found;
    struct reg_challenge *c;
};

static void on_challenge(void *ud, int found, const struct reg_challenge *c)
{
    struct challenge_wait *w = ud;
    ASSERT_EQ(w->called, 0);
    ASSERT_EQ(found != 0, c != NULL);
    w->found = found;
    if (c != NULL)
        *w->c = *c;
    w->called = 1;
}

int fx_get_challenge(struct fx *f, const char *id, struct reg_challenge *c)
{
    struct challenge_wait w = {0, 0, c};
    f->reg->ops->get_challenge(f->reg, id, on_challenge, &w);
    ASSERT_EQ(w.called, 0);
    fx_wait(f, &w.called);
    return w.found;
}

static void on_board(void *ud, const struct reg_leaderboard_row *row, int count)
{
    struct fx_board *out = ud;
    ASSERT_EQ(out->ended, 0);
    if (row == NULL) {
        ASSERT_EQ(count, out->count);
        out->ended = 1;
        out->called = 1;
        return;
    }
    ASSERT_TRUE(out->count < FX_MAX_ROWS);
    out->rows[out->count] = *row;
    snprintf(out->names[out->count], sizeof(out->names[0]), "%s", row->participant_name);
    out->rows[out->count].participant_name = out->names[out->count];
    out->count++;
}

void fx_board(struct fx *f, const char *challenge, int round, int limit, struct fx_board *out)
{
    memset(out, 0, sizeof(*out));
    f->reg->ops->leaderboard(f->reg, challenge, round, limit, on_board, out);
    ASSERT_EQ(out->count, 0);
    ASSERT_EQ(out->called, 0);
    fx_wait(f, &out->called);
}

static void on_challenges(void *ud, const struct reg_challenge *c, int count)
{
    struct fx_challenges *out = ud;
    ASSERT_EQ(out->called, 0);
    if (c == NULL) {
        out->count = count;
        out->called = 1;
        return;
    }
    ASSERT_EQ(count, 0);
    ASSERT_TRUE(out->n < FX_MAX_ROWS);
    out->rows[out->n++] = *c;
}

void fx_list_challenges(struct fx *f, struct fx_challenges *out)
{
    memset(out, 0, sizeof(*out));
    out->count = -2;
    f->reg->ops->list_challenges(f->reg, on_challenges, out);
    ASSERT_EQ(out->n, 0);
    ASSERT_EQ(out->called, 0);
    fx_wait(f, &out->called);
}

static void on_submissions(void *ud, const struct reg_submission *s, int count)
{
    struct fx_submissions *out = ud;
    ASSERT_EQ(out->called, 0);
    if (s == NULL) {
        out->count = count;
        out->called = 1;
        return;
    }
    ASSERT_EQ(count, 0);
    ASSERT_TRUE(out->n < FX_MAX_ROWS);
    out->rows[out->n] = *s;
    out->rows[out->n].data = NULL;
    out->n++;
}

void fx_list_submissions(struct fx *f, int64_t participant, const char *challenge, int limit,
                         struct fx_submissions *out)
{
    memset(out, 0, sizeof(*out));
    out->count = -2;
    f->reg->ops->list_submissions(f->reg, participant, challenge, limit, on_submissions, out);
    ASSERT_EQ(out->n, 0);
    ASSERT_EQ(out->called, 0);
    fx_wait(f, &out->called);
}
