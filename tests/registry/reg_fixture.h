/* Test fixture for the registry: a SQLite registry on a temp file and a libuv loop, helpers
 * that seed it through the synchronous store, and helpers that call each registry operation,
 * check that its callback did not run before the call returned, then run the loop (a bounded
 * number of iterations) until it does. */
#ifndef TESTS_REGISTRY_REG_FIXTURE_H
#define TESTS_REGISTRY_REG_FIXTURE_H

#include <stdint.h>
#include <uv.h>

#include "registry/reg_access.h"
#include "registry/reg_store.h"
#include "registry/registry.h"

/* 2026-11-25T00:00:00Z and friends, in Unix milliseconds. */
#define T0     INT64_C(1795564800000)
#define SEC    INT64_C(1000)
#define MINUTE (60 * SEC)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)

struct fx {
    char dir[64];
    char path[128];
    uv_loop_t loop;
    struct registry *reg;
    struct reg_store *store;
    int64_t clock; /* what the registry's clock says */
    int closed;    /* the test closed the registry itself */
};

struct fx_submit {
    int called;
    struct reg_submit_result res;
    char msg[512];
};

struct fx_auth {
    int called;
    enum reg_auth result;
    int has_p, has_c;
    struct reg_participant p;
    struct reg_challenge c;
};

#define FX_MAX_ROWS 32

struct fx_board {
    int called, ended, count;
    struct reg_leaderboard_row rows[FX_MAX_ROWS];
    char names[FX_MAX_ROWS][128];
};

/* What list_challenges / list_submissions delivered: the rows in order, then the final count
 * (-2 until the end call came). */
struct fx_challenges {
    int called, count, n;
    struct reg_challenge rows[FX_MAX_ROWS];
};

struct fx_submissions {
    int called, count, n;
    struct reg_submission rows[FX_MAX_ROWS]; /* data not kept (NULL) */
};

void fx_open(struct fx *f);
/* Closes the registry, runs the loop until it is released, and removes the temp files. */
void fx_close(struct fx *f);

/* Seeding: a challenge (primary "score"; secondary "time" if secondary_sort >= 0). */
void fx_challenge(struct fx *f, const char *id, enum reg_sort primary, int secondary_sort);
/* A round of challenge with no limits, open [start, end). */
struct reg_round fx_round_def(const char *challenge, int number, int64_t start, int64_t end);
void fx_round_add(struct fx *f, const struct reg_round *r);
int64_t fx_participant(struct fx *f, const char *name, char key[REG_ACCESS_KEY_LEN + 1]);

/* A submit request for participant to challenge at now (data and description empty). */
struct reg_submit_request fx_req(int64_t participant, const char *challenge, const char *csid,
                                 int64_t now);

/* Registry operations, each asserting the callback is deferred and delivered once. */
void fx_submit(struct fx *f, const struct reg_submit_request *req, struct fx_submit *out);
/* fx_submit that must succeed (new submission); returns its id. */
int64_t fx_submit_ok(struct fx *f, int64_t participant, const char *challenge, const char *csid,
                     int64_t now);
int fx_set_state(struct fx *f, int64_t id, enum reg_sub_state state, const char *message);
int fx_record(struct fx *f, int64_t id, double score, int has_secondary, double secondary);
void fx_auth(struct fx *f, const char *key, const char *challenge, struct fx_auth *out);
/* 1 and the name, or 0 (name ""). */
int fx_grader(struct fx *f, const char *key, char name[64]);
/* 1 with *sub filled (sub->data copied into data[1024], or NULL), or 0. */
int fx_get_submission(struct fx *f, int64_t id, struct reg_submission *sub, char data[1024]);
int fx_get_challenge(struct fx *f, const char *id, struct reg_challenge *c);
void fx_board(struct fx *f, const char *challenge, int round, int limit, struct fx_board *out);

void fx_list_challenges(struct fx *f, struct fx_challenges *out);
void fx_list_submissions(struct fx *f, int64_t participant, const char *challenge, int limit,
                         struct fx_submissions *out);

/* Runs the loop until *flag is set, at most a few hundred iterations (never sleeps). */
void fx_wait(struct fx *f, const int *flag);

#endif
