/* The SQLite registry backend: runs each operation on the store at once and queues its
 * answer, delivered from a uv_idle handle on a later loop iteration. */
#include "registry/reg_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "registry/reg_access.h"
#include "registry/reg_board.h"
#include "registry/reg_catalog.h"
#include "registry/reg_store.h"
#include "registry/reg_submission.h"
#include "registry/reg_submit.h"
#include "registry/reg_time.h"

struct reg_sqlite {
    struct registry base;
    uv_loop_t *loop;
    struct reg_store *store;
    uv_idle_t idle;
    struct list pending; /* struct done, oldest first */
    size_t npending;
    int64_t (*clock)(void *ud);
    void *clock_ud;
    int closing;
};

/* A queued answer: deliver calls the operation's callback, then frees the record. */
struct done {
    struct list link;
    void (*deliver)(struct done *d);
};

static struct reg_sqlite *from_base(struct registry *base)
{
    struct reg_sqlite *r = container_of(base, struct reg_sqlite, base);
    if (r->store == NULL) {
        log_error("registry", "operation on a closed registry");
        abort();
    }
    return r;
}

static int64_t sqlite_now(struct reg_sqlite *r)
{
    return r->clock != NULL ? r->clock(r->clock_ud) : reg_time_now();
}

/* ---- the completion queue ---- */

static void deliver_one(struct reg_sqlite *r)
{
    struct done *d = container_of(r->pending.next, struct done, link);
    list_remove(&d->link);
    r->npending--;
    d->deliver(d);
}

/* Delivers the answers queued before this iteration began; answers queued by their
 * callbacks wait for the next one, so a callback chain cannot starve the loop. */
static void on_idle(uv_idle_t *h)
{
    struct reg_sqlite *r = h->data;
    size_t batch = r->npending;
    while (batch-- > 0 && !list_empty(&r->pending) && !r->closing)
        deliver_one(r);
    if (list_empty(&r->pending) && !r->closing)
        uv_idle_stop(&r->idle);
}

static void enqueue(struct reg_sqlite *r, struct done *d, void (*deliver)(struct done *d))
{
    d->deliver = deliver;
    list_insert_tail(&r->pending, &d->link);
    r->npending++;
    if (!r->closing && !uv_is_active((uv_handle_t *)&r->idle))
        uv_idle_start(&r->idle, on_idle);
}

/* ---- authenticate ---- */

struct auth_done {
    struct done d;
    reg_auth_cb cb;
    void *ud;
    enum reg_auth result;
    struct reg_participant p;
    struct reg_challenge c;
};

static void auth_deliver(struct done *d)
{
    struct auth_done *a = container_of(d, struct auth_done, d);
    int has_p = a->result != REG_AUTH_BAD_KEY && a->result != REG_AUTH_INTERNAL;
    int has_c = a->result == REG_AUTH_OK || a->result == REG_AUTH_CHALLENGE_CLOSED;
    a->cb(a->ud, a->result, has_p ? &a->p : NULL, has_c ? &a->c : NULL);
    free(a);
}

static void sqlite_authenticate(struct registry *base, const char *api_key,
                                const char *challenge_id, reg_auth_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct auth_done *a = xcalloc(1, sizeof(*a));
    a->cb = cb;
    a->ud = ud;
    a->result =
        reg_access_authenticate(r->store, api_key, challenge_id, sqlite_now(r), &a->p, &a->c);
    enqueue(r, &a->d, auth_deliver);
}

/* ---- grader keys ---- */

struct grader_done {
    struct done d;
    reg_grader_cb cb;
    void *ud;
    int ok;
    char name[64];
};

static void grader_deliver(struct done *d)
{
    struct grader_done *g = container_of(d, struct grader_done, d);
    g->cb(g->ud, g->ok, g->ok ? g->name : NULL);
    free(g);
}

/* A store failure answers "not a grader key": the grader is refused and retries. */
static void sqlite_check_grader_key(struct registry *base, const char *grader_key, reg_grader_cb cb,
                                    void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct grader_done *g = xcalloc(1, sizeof(*g));
    g->cb = cb;
    g->ud = ud;
    g->ok = reg_access_grader_check(r->store, grader_key, g->name) == 0;
    enqueue(r, &g->d, grader_deliver);
}

/* ---- challenges ---- */

struct challenge_done {
    struct done d;
    reg_challenge_cb cb;
    void *ud;
    int found;
    struct reg_challenge c;
};

static void challenge_deliver(struct done *d)
{
    struct challenge_done *c = container_of(d, struct challenge_done, d);
    c->cb(c->ud, c->found, c->found ? &c->c : NULL);
    free(c);
}

static void sqlite_get_challenge(struct registry *base, const char *challenge_id,
                                 reg_challenge_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct challenge_done *c = xcalloc(1, sizeof(*c));
    c->cb = cb;
    c->ud = ud;
    c->found =
        reg_catalog_challenge_get(r->store, challenge_id != NULL ? challenge_id : "", &c->c) == 0;
    enqueue(r, &c->d, challenge_deliver);
}

/* ---- submit ---- */

struct submit_done {
    struct done d;
    reg_submit_cb cb;
    void *ud;
    struct reg_submit_result res;
    char msg[REG_SUBMIT_MSG_LEN];
};

static void submit_deliver(struct done *d)
{
    struct submit_done *s = container_of(d, struct submit_done, d);
    s->res.message = s->res.message != NULL ? s->msg : NULL;
    s->cb(s->ud, &s->res);
    free(s);
}

static void sqlite_submit(struct registry *base, const struct reg_submit_request *req,
                          reg_submit_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct submit_done *s = xcalloc(1, sizeof(*s));
    s->cb = cb;
    s->ud = ud;
    reg_submit_create(r->store, req, &s->res, s->msg);
    enqueue(r, &s->d, submit_deliver);
}

/* ---- submissions ---- */

struct submission_done {
    struct done d;
    reg_submission_cb cb;
    void *ud;
    int found;
    struct reg_submission sub;
};

static void submission_deliver(struct done *d)
{
    struct submission_done *s = container_of(d, struct submission_done, d);
    s->cb(s->ud, s->found, s->found ? &s->sub : NULL);
    free(s->sub.data);
    free(s);
}

static void sqlite_get_submission(struct registry *base, int64_t submission_id,
                                  reg_submission_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct submission_done *s = xcalloc(1, sizeof(*s));
    s->cb = cb;
    s->ud = ud;
    s->found = reg_submission_get(r->store, submission_id, &s->sub) == 0;
    enqueue(r, &s->d, submission_deliver);
}

struct update_done {
    struct done d;
    reg_update_cb cb;
    void *ud;
    int result;
};

static void update_deliver(struct done *d)
{
    struct update_done *u = container_of(d, struct update_done, d);
    u->cb(u->ud, u->result);
    free(u);
}

static void update_enqueue(struct reg_sqlite *r, int result, reg_update_cb cb, void *ud)
{
    struct update_done *u = xcalloc(1, sizeof(*u));
    u->cb = cb;
    u->ud = ud;
    u->result = result;
    enqueue(r, &u->d, update_deliver);
}

static void sqlite_check_session(struct registry *base, int64_t participant_id, int64_t issued_at,
                                 reg_update_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    int rc = reg_access_session_valid(r->store, participant_id, issued_at);
    update_enqueue(r, rc < 0 ? -1 : rc, cb, ud);
}

static void sqlite_set_state(struct registry *base, int64_t submission_id, enum reg_sub_state state,
                             const char *message, reg_update_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    int result = reg_submission_set_state(r->store, submission_id, state, message, sqlite_now(r));
    update_enqueue(r, result, cb, ud);
}

static void sqlite_record_score(struct registry *base, int64_t submission_id, double score,
                                int has_secondary, double score_secondary, reg_update_cb cb,
                                void *ud)
{
    struct reg_sqlite *r = from_base(base);
    int result = reg_submission_record_score(r->store, submission_id, score, has_secondary,
                                             score_secondary, sqlite_now(r));
    update_enqueue(r, result, cb, ud);
}

/* ---- leaderboard ---- */

struct board_done {
    struct done d;
    reg_leaderboard_cb cb;
    void *ud;
    int n, alloc;
    struct reg_leaderboard_row *rows; /* participant_name owned */
};

static void board_collect(void *ud, const struct reg_leaderboard_row *row)
{
    struct board_done *b = ud;
    if (b->n == b->alloc) {
        b->alloc = b->alloc ? b->alloc * 2 : 16;
        b->rows = xrealloc(b->rows, (size_t)b->alloc * sizeof(*b->rows));
    }
    b->rows[b->n] = *row;
    b->rows[b->n].participant_name = xstrdup(row->participant_name);
    b->n++;
}

static void board_deliver(struct done *d)
{
    struct board_done *b = container_of(d, struct board_done, d);
    for (int i = 0; i < b->n; i++)
        b->cb(b->ud, &b->rows[i], 0);
    b->cb(b->ud, NULL, b->n);
    for (int i = 0; i < b->n; i++)
        free((char *)b->rows[i].participant_name);
    free(b->rows);
    free(b);
}

/* An unknown challenge, or a store failure, answers an empty board. */
static void sqlite_leaderboard(struct registry *base, const char *challenge_id, int round_number,
                               int limit, reg_leaderboard_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct board_done *b = xcalloc(1, sizeof(*b));
    b->cb = cb;
    b->ud = ud;
    int rc = reg_board_query(r->store, challenge_id != NULL ? challenge_id : "", round_number,
                             limit, board_collect, b);
    if (rc != 0) {
        for (int i = 0; i < b->n; i++)
            free((char *)b->rows[i].participant_name);
        b->n = 0;
    }
    enqueue(r, &b->d, board_deliver);
}

/* ---- counts ---- */

struct counts_done {
    struct done d;
    reg_counts_cb cb;
    void *ud;
    int ok;
    int64_t counts[REG_SUB_STATES];
};

static void counts_deliver(struct done *d)
{
    struct counts_done *c = container_of(d, struct counts_done, d);
    c->cb(c->ud, c->ok ? c->counts : NULL);
    free(c);
}

static void sqlite_count_by_state(struct registry *base, reg_counts_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct counts_done *c = xcalloc(1, sizeof(*c));
    c->cb = cb;
    c->ud = ud;
    c->ok = reg_submission_count_by_state(r->store, c->counts) == 0;
    enqueue(r, &c->d, counts_deliver);
}

/* ---- lists for the web pages ---- */

struct challenges_done {
    struct done d;
    reg_challenges_cb cb;
    void *ud;
    int n, alloc, failed;
    struct reg_challenge *rows;
};

static void challenges_collect(void *ud, const struct reg_challenge *c)
{
    struct challenges_done *l = ud;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 8;
        l->rows = xrealloc(l->rows, (size_t)l->alloc * sizeof(*l->rows));
    }
    l->rows[l->n++] = *c;
}

static void challenges_deliver(struct done *d)
{
    struct challenges_done *l = container_of(d, struct challenges_done, d);
    for (int i = 0; i < l->n; i++)
        l->cb(l->ud, &l->rows[i], 0);
    l->cb(l->ud, NULL, l->failed ? -1 : l->n);
    free(l->rows);
    free(l);
}

/* A store failure answers no rows and count -1. */
static void sqlite_list_challenges(struct registry *base, reg_challenges_cb cb, void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct challenges_done *l = xcalloc(1, sizeof(*l));
    l->cb = cb;
    l->ud = ud;
    if (reg_catalog_challenge_list(r->store, challenges_collect, l) != 0) {
        l->failed = 1;
        l->n = 0;
    }
    enqueue(r, &l->d, challenges_deliver);
}

struct submissions_done {
    struct done d;
    reg_submissions_cb cb;
    void *ud;
    int n, alloc, failed;
    struct reg_submission *rows; /* data owned */
};

static void submissions_collect(void *ud, const struct reg_submission *sub)
{
    struct submissions_done *l = ud;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 8;
        l->rows = xrealloc(l->rows, (size_t)l->alloc * sizeof(*l->rows));
    }
    l->rows[l->n] = *sub;
    l->rows[l->n].data = sub->data != NULL ? xstrdup(sub->data) : NULL;
    l->n++;
}

static void submissions_free_rows(struct submissions_done *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->rows[i].data);
    l->n = 0;
}

static void submissions_deliver(struct done *d)
{
    struct submissions_done *l = container_of(d, struct submissions_done, d);
    for (int i = 0; i < l->n; i++)
        l->cb(l->ud, &l->rows[i], 0);
    l->cb(l->ud, NULL, l->failed ? -1 : l->n);
    submissions_free_rows(l);
    free(l->rows);
    free(l);
}

/* A store failure answers no rows and count -1. */
static void sqlite_list_submissions(struct registry *base, int64_t participant_id,
                                    const char *challenge_id, int limit, reg_submissions_cb cb,
                                    void *ud)
{
    struct reg_sqlite *r = from_base(base);
    struct submissions_done *l = xcalloc(1, sizeof(*l));
    l->cb = cb;
    l->ud = ud;
    if (reg_submission_list_own(r->store, participant_id, challenge_id != NULL ? challenge_id : "",
                                limit, submissions_collect, l) != 0) {
        l->failed = 1;
        submissions_free_rows(l);
    }
    enqueue(r, &l->d, submissions_deliver);
}

/* ---- open and close ---- */

static void on_idle_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sqlite_close(struct registry *base)
{
    struct reg_sqlite *r = container_of(base, struct reg_sqlite, base);
    if (r->closing)
        return;
    r->closing = 1;
    while (!list_empty(&r->pending))
        deliver_one(r);
    reg_store_close(r->store);
    r->store = NULL;
    uv_close((uv_handle_t *)&r->idle, on_idle_closed);
}

static const struct registry_ops sqlite_ops = {
    .authenticate = sqlite_authenticate,
    .check_grader_key = sqlite_check_grader_key,
    .check_session = sqlite_check_session,
    .get_challenge = sqlite_get_challenge,
    .submit = sqlite_submit,
    .get_submission = sqlite_get_submission,
    .set_state = sqlite_set_state,
    .record_score = sqlite_record_score,
    .leaderboard = sqlite_leaderboard,
    .count_by_state = sqlite_count_by_state,
    .list_challenges = sqlite_list_challenges,
    .list_submissions = sqlite_list_submissions,
    .close = sqlite_close,
};

struct registry *reg_sqlite_open(uv_loop_t *loop, const char *path, char *err, size_t errlen)
{
    struct reg_store *store = reg_store_open(path, err, errlen);
    if (store == NULL)
        return NULL;
    struct reg_sqlite *r = xcalloc(1, sizeof(*r));
    r->base.ops = &sqlite_ops;
    r->loop = loop;
    r->store = store;
    list_init(&r->pending);
    uv_idle_init(loop, &r->idle);
    r->idle.data = r;
    return &r->base;
}

struct reg_store *reg_sqlite_store(struct registry *base)
{
    return from_base(base)->store;
}

void reg_sqlite_set_clock(struct registry *base, int64_t (*clock)(void *ud), void *ud)
{
    struct reg_sqlite *r = from_base(base);
    r->clock = clock;
    r->clock_ud = ud;
}
