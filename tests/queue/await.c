/* Synchronous wrappers around the rq calls for the queue tests. */
#include "await.h"

#include <stdio.h>
#include <string.h>

#include "test.h"

struct res {
    int done;
    const char *err;
    int flag;
    int64_t n;
    enum rq_state state;
    void *out;
    size_t count;
};

static void once(struct res *r, const char *err)
{
    if (r->done)
        test_fail(__FILE__, __LINE__, "a callback ran twice");
    r->done = 1;
    r->err = err;
}

/* Every rq call must return before its callback runs. */
static const char *wait_for(struct fixture *f, struct res *r, const char *what)
{
    if (r->done)
        test_fail(__FILE__, __LINE__, "%s: callback ran before the call returned", what);
    fixture_wait(f, &r->done, what);
    return r->err;
}

void await_copy(char *dst, size_t cap, const char *s)
{
    if (s == NULL)
        s = "";
    if (strlen(s) >= cap)
        test_fail(__FILE__, __LINE__, "text too long for the test's buffer");
    memcpy(dst, s, strlen(s) + 1);
}

int await_has_id(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == id)
            return 1;
    }
    return 0;
}

static void on_enqueue(void *ud, const char *err, int existing, int64_t position)
{
    struct res *r = ud;
    once(r, err);
    r->flag = existing;
    r->n = position;
}

const char *await_enqueue(struct fixture *f, struct rq *q, const char *pool, int64_t id,
                          int64_t participant, int max_attempts, int64_t time_limit_ms,
                          int *existing, int64_t *position)
{
    struct res r = {0};
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"file\":\"s%lld.csv\"}", (long long)id);
    rq_enqueue(q, pool, id, participant, payload, max_attempts, time_limit_ms, AWAIT_ENQUEUED,
               on_enqueue, &r);
    wait_for(f, &r, "enqueue");
    if (existing != NULL)
        *existing = r.flag;
    if (position != NULL)
        *position = r.n;
    return r.err;
}

static void on_dispatch(void *ud, const char *err, const struct rq_job *job)
{
    struct res *r = ud;
    struct await_job *out = r->out;
    once(r, err);
    memset(out, 0, sizeof(*out));
    if (job == NULL)
        return;
    out->has = 1;
    out->id = job->submission_id;
    out->participant = job->participant_id;
    out->attempt = job->attempt;
    out->token = job->token;
    out->deadline = job->deadline;
    await_copy(out->payload, sizeof(out->payload), job->payload);
}

const char *await_dispatch(struct fixture *f, struct rq *q, const char *pool, const char *grader,
                           int64_t lease_ms, struct await_job *job)
{
    struct res r = {.out = job};
    rq_dispatch(q, pool, grader, lease_ms, AWAIT_RUNNING, on_dispatch, &r);
    return wait_for(f, &r, "dispatch");
}

static void on_fenced(void *ud, const char *err, int ok)
{
    struct res *r = ud;
    once(r, err);
    r->flag = ok;
}

const char *await_progress(struct fixture *f, struct rq *q, int64_t id, uint64_t token,
                           int64_t lease_ms, int percent, int *ok)
{
    struct res r = {0};
    char event[160];
    snprintf(event, sizeof(event),
             "{\"type\":\"PROGRESS_UPDATE\",\"percent\":%d,\"message\":\"step\",\"data\":null}",
             percent);
    rq_progress(q, id, token, lease_ms, event, on_fenced, &r);
    wait_for(f, &r, "progress");
    *ok = r.flag;
    return r.err;
}

const char *await_complete(struct fixture *f, struct rq *q, int64_t id, uint64_t token,
                           const char *result, int *ok)
{
    struct res r = {0};
    rq_complete(q, id, token, result, AWAIT_COMPLETE, on_fenced, &r);
    wait_for(f, &r, "complete");
    *ok = r.flag;
    return r.err;
}

static void on_fail(void *ud, const char *err, int ok, enum rq_state outcome, int64_t retry_in_ms)
{
    struct res *r = ud;
    once(r, err);
    r->flag = ok;
    r->state = outcome;
    r->n = retry_in_ms;
}

const char *await_fail(struct fixture *f, struct rq *q, int64_t id, uint64_t token, int retryable,
                       const char *message, int64_t base_ms, int64_t cap_ms, int *ok,
                       enum rq_state *outcome, int64_t *retry_in_ms)
{
    struct res r = {0};
    rq_fail(q, id, token, retryable, message, base_ms, cap_ms, on_fail, &r);
    wait_for(f, &r, "fail");
    *ok = r.flag;
    *outcome = r.state;
    *retry_in_ms = r.n;
    return r.err;
}

const char *await_release(struct fixture *f, struct rq *q, int64_t id, uint64_t token, int *ok)
{
    struct res r = {0};
    rq_release(q, id, token, on_fenced, &r);
    wait_for(f, &r, "release");
    *ok = r.flag;
    return r.err;
}

static void on_cancel(void *ud, const char *err, enum rq_state before, const char *grader)
{
    struct res *r = ud;
    once(r, err);
    r->state = before;
    r->flag = grader != NULL;
    await_copy(r->out, 64, grader);
}

const char *await_cancel(struct fixture *f, struct rq *q, int64_t id, enum rq_state *before,
                         char grader[64])
{
    struct res r = {.out = grader};
    rq_cancel(q, id, "cancelled by the participant", on_cancel, &r);
    wait_for(f, &r, "cancel");
    *before = r.state;
    return r.err;
}

static void on_reap(void *ud, const char *err, int64_t sub_id, enum rq_state now,
                    const char *grader)
{
    struct res *r = ud;
    struct await_reaped *out = r->out;
    if (sub_id == 0) {
        once(r, err);
        return;
    }
    if (r->done || err != NULL || r->count >= AWAIT_MAX)
        test_fail(__FILE__, __LINE__, "unexpected reap callback");
    out[r->count].id = sub_id;
    out[r->count].now = now;
    await_copy(out[r->count].grader, sizeof(out[r->count].grader), grader);
    r->count++;
}

const char *await_reap(struct fixture *f, struct rq *q, int max_jobs, struct await_reaped *out,
                       size_t *n)
{
    struct res r = {.out = out};
    rq_reap(q, max_jobs, on_reap, &r);
    wait_for(f, &r, "reap");
    *n = r.count;
    return r.err;
}

size_t await_reap_until(struct fixture *f, struct rq *q, struct await_reaped *out)
{
    for (int i = 0; i < 200; i++) {
        size_t n;
        fixture_sleep(f, 20);
        ASSERT_STR_EQ(await_reap(f, q, 100, out, &n), NULL);
        if (n > 0)
            return n;
    }
    test_fail(__FILE__, __LINE__, "the janitor found nothing to do");
}

static void on_events(void *ud, const char *err, const struct rq_event *ev)
{
    struct res *r = ud;
    struct await_event *out = r->out;
    if (ev == NULL) {
        once(r, err);
        return;
    }
    if (r->done || err != NULL || r->count >= AWAIT_MAX)
        test_fail(__FILE__, __LINE__, "unexpected events callback");
    out[r->count].id = ev->submission_id;
    out[r->count].seq = ev->seq;
    await_copy(out[r->count].event, sizeof(out[r->count].event), ev->event);
    r->count++;
}

const char *await_events(struct fixture *f, struct rq *q, int64_t id, int64_t after_seq,
                         struct await_event *out, size_t *n)
{
    struct res r = {.out = out};
    rq_events(q, id, after_seq, on_events, &r);
    wait_for(f, &r, "events");
    *n = r.count;
    return r.err;
}

static void on_get(void *ud, const char *err, enum rq_state state, const char *result,
                   const char *message, int attempt)
{
    struct res *r = ud;
    struct await_sub *out = r->out;
    once(r, err);
    out->state = state;
    out->attempt = attempt;
    await_copy(out->result, sizeof(out->result), result);
    await_copy(out->message, sizeof(out->message), message);
}

const char *await_get(struct fixture *f, struct rq *q, int64_t id, struct await_sub *out)
{
    struct res r = {.out = out};
    rq_get(q, id, on_get, &r);
    return wait_for(f, &r, "get");
}

static void on_count(void *ud, const char *err, int64_t n)
{
    struct res *r = ud;
    once(r, err);
    r->n = n;
}

const char *await_depth(struct fixture *f, struct rq *q, const char *pool, int64_t *n)
{
    struct res r = {0};
    rq_depth(q, pool, on_count, &r);
    wait_for(f, &r, "depth");
    *n = r.n;
    return r.err;
}

const char *await_position(struct fixture *f, struct rq *q, const char *pool, int64_t id,
                           int64_t *n)
{
    struct res r = {0};
    rq_position(q, pool, id, on_count, &r);
    wait_for(f, &r, "position");
    *n = r.n;
    return r.err;
}

static void on_ids(void *ud, const char *err, const int64_t *ids, size_t n)
{
    struct res *r = ud;
    once(r, err);
    if (n > AWAIT_MAX)
        test_fail(__FILE__, __LINE__, "too many ids for the test's buffer");
    if (n > 0)
        memcpy(r->out, ids, n * sizeof(*ids));
    r->count = n;
}

const char *await_outbox(struct fixture *f, struct rq *q, int64_t *ids, size_t *n)
{
    struct res r = {.out = ids};
    rq_outbox_list(q, AWAIT_MAX, on_ids, &r);
    wait_for(f, &r, "outbox");
    *n = r.count;
    return r.err;
}

const char *await_dlq(struct fixture *f, struct rq *q, int64_t *ids, size_t *n)
{
    struct res r = {.out = ids};
    rq_dlq_list(q, AWAIT_MAX, on_ids, &r);
    wait_for(f, &r, "dlq");
    *n = r.count;
    return r.err;
}

static void on_done(void *ud, const char *err)
{
    once(ud, err);
}

const char *await_outbox_remove(struct fixture *f, struct rq *q, int64_t id)
{
    struct res r = {0};
    rq_outbox_remove(q, id, on_done, &r);
    return wait_for(f, &r, "outbox remove");
}

const char *await_dlq_requeue(struct fixture *f, struct rq *q, int64_t id)
{
    struct res r = {0};
    rq_dlq_requeue(q, id, on_done, &r);
    return wait_for(f, &r, "dlq requeue");
}

const char *await_presence(struct fixture *f, struct rq *q, const char *grader,
                           const char (*pools)[64], int npools, int capacity, int64_t ttl_ms)
{
    struct res r = {0};
    rq_presence(q, grader, pools, npools, capacity, ttl_ms, on_done, &r);
    wait_for(f, &r, "presence");
    return r.err;
}

const char *await_online(struct fixture *f, struct rq *q, const char *pool, int64_t *n)
{
    struct res r = {0};
    rq_pool_online(q, pool, on_count, &r);
    wait_for(f, &r, "online");
    *n = r.n;
    return r.err;
}

static void on_stats(void *ud, const char *err, const struct rq_pool_stats *s)
{
    struct res *r = ud;
    once(r, err);
    if ((err == NULL) != (s != NULL))
        test_fail(__FILE__, __LINE__, "stats: err and figures both set or both missing");
    if (s != NULL)
        memcpy(r->out, s, sizeof(*s));
}

const char *await_stats(struct fixture *f, struct rq *q, const char *pool,
                        struct rq_pool_stats *out)
{
    struct res r = {.out = out};
    memset(out, 0xff, sizeof(*out));
    rq_pool_stats(q, pool, on_stats, &r);
    return wait_for(f, &r, "stats");
}
