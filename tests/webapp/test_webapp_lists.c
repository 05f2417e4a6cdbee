/* Webapp backend tests: the lists of the web pages answered from the local catalog and
 * mirror (the webapp's API has no such reads): challenges with their score precision, and a
 * participant's own submissions, newest first and limited, after the callers returned. */
#include <stdio.h>
#include <string.h>

#include "registry/reg_catalog.h"
#include "test.h"
#include "webapp_fixture.h"

#define MAX_ROWS 16

struct challenges {
    int called, count, n;
    struct reg_challenge rows[MAX_ROWS];
};

struct submissions {
    int called, count, n;
    struct reg_submission rows[MAX_ROWS];
};

static void on_challenges(void *ud, const struct reg_challenge *c, int count)
{
    struct challenges *out = ud;
    ASSERT_EQ(out->called, 0);
    if (c == NULL) {
        out->count = count;
        out->called = 1;
        return;
    }
    ASSERT_TRUE(out->n < MAX_ROWS);
    out->rows[out->n++] = *c;
}

static void list_challenges(struct wf *f, struct challenges *out)
{
    memset(out, 0, sizeof(*out));
    f->reg->ops->list_challenges(f->reg, on_challenges, out);
    ASSERT_EQ(out->called, 0);
    ASSERT_EQ(out->n, 0);
    wf_wait(f, &out->called);
}

static void on_submissions(void *ud, const struct reg_submission *s, int count)
{
    struct submissions *out = ud;
    ASSERT_EQ(out->called, 0);
    if (s == NULL) {
        out->count = count;
        out->called = 1;
        return;
    }
    ASSERT_TRUE(out->n < MAX_ROWS);
    out->rows[out->n] = *s;
    out->rows[out->n].data = NULL;
    out->n++;
}

static void list_submissions(struct wf *f, int64_t participant, const char *challenge, int limit,
                             struct submissions *out)
{
    memset(out, 0, sizeof(*out));
    f->reg->ops->list_submissions(f->reg, participant, challenge, limit, on_submissions, out);
    ASSERT_EQ(out->called, 0);
    ASSERT_EQ(out->n, 0);
    wf_wait(f, &out->called);
}

/* A submission of participant to "demo" made at the webapp, filed locally at time at. */
static int64_t submit_at(struct wf *f, int64_t participant, const char *csid, int64_t at)
{
    struct wf_submit s;
    struct reg_submit_request req = wf_req(f, participant, csid);
    req.now = at;
    wf_submit(f, &req, &s);
    ASSERT_EQ(s.res.refusal, REG_OK);
    return s.res.submission_id;
}

TEST(webapp_list_challenges_is_the_local_catalog_with_its_precision)
{
    struct wf f;
    struct challenges l;
    struct reg_challenge c;
    wf_open(&f, NULL);
    wf_local_challenge(&f, "another");
    list_challenges(&f, &l);
    ASSERT_EQ(l.count, 2);
    ASSERT_EQ(l.n, 2);
    ASSERT_STR_EQ(l.rows[0].id, "another");
    ASSERT_STR_EQ(l.rows[1].id, "demo");
    ASSERT_STR_EQ(l.rows[1].title, "Challenge demo");
    ASSERT_STR_EQ(l.rows[1].pool, "default");
    ASSERT_EQ(l.rows[1].score_precision, 3);
    ASSERT_EQ(reg_catalog_challenge_get(f.store, "demo", &c), 0);
    c.score_precision = 6;
    ASSERT_EQ(reg_catalog_challenge_update(f.store, &c, f.clock), 0);
    list_challenges(&f, &l);
    ASSERT_EQ(l.rows[1].score_precision, 6);
    ASSERT_EQ(l.rows[0].score_precision, 3);
    /* Nothing was asked of the webapp. */
    ASSERT_EQ(wf_count(&f, "GET", "/api", NULL, 0) + wf_count(&f, "POST", "/api", NULL, 0), 0);
    wf_close(&f);
}

TEST(webapp_list_submissions_from_the_mirror_own_newest_first)
{
    struct wf f;
    struct submissions l;
    wf_open(&f, NULL);
    wf_local_challenge(&f, "other");
    int64_t alice = wf_login(&f, "key-alice");
    int64_t bob = wf_login(&f, "key-bob");
    int64_t a1 = submit_at(&f, alice, "a1", f.clock - 3000);
    int64_t a2 = submit_at(&f, alice, "a2", f.clock - 1000);
    int64_t a3 = submit_at(&f, alice, "a3", f.clock - 2000);
    submit_at(&f, bob, "b1", f.clock);
    ASSERT_EQ(wf_record(&f, a2, 0.5, 0, 0), 1);
    list_submissions(&f, alice, "demo", 10, &l);
    ASSERT_EQ(l.count, 3);
    ASSERT_EQ(l.rows[0].id, a2);
    ASSERT_EQ(l.rows[1].id, a3);
    ASSERT_EQ(l.rows[2].id, a1);
    ASSERT_EQ(l.rows[0].state, REG_SUB_COMPLETE);
    ASSERT_TRUE(l.rows[0].has_score && l.rows[0].score == 0.5);
    ASSERT_STR_EQ(l.rows[1].client_submission_id, "a3");
    ASSERT_EQ(l.rows[1].participant_id, alice);
    list_submissions(&f, alice, "demo", 2, &l);
    ASSERT_EQ(l.count, 2);
    ASSERT_EQ(l.rows[1].id, a3);
    list_submissions(&f, bob, "demo", 10, &l);
    ASSERT_EQ(l.count, 1);
    ASSERT_STR_EQ(l.rows[0].client_submission_id, "b1");
    list_submissions(&f, alice, "other", 10, &l);
    ASSERT_EQ(l.n, 0);
    ASSERT_EQ(l.count, 0);
    wf_close(&f);
}
