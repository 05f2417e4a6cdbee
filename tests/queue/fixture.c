/* The setting of a queue test: redis-server, loop, rq, and bounded waits. */
#include "fixture.h"

#include <string.h>

#include "test.h"

static void on_guard(uv_timer_t *t)
{
    struct fixture *f = t->data;
    test_fail(__FILE__, __LINE__, "timed out waiting for %s", f->waiting_for);
}

void fixture_start(struct fixture *f, uint64_t timeout_ms, int use_unix)
{
    memset(f, 0, sizeof(*f));
    redis_proc_start(&f->redis);
    ASSERT_EQ(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    f->cfg.host = use_unix ? NULL : "127.0.0.1";
    f->cfg.port = f->redis.port;
    f->cfg.unix_path = use_unix ? f->redis.sock : NULL;
    f->cfg.prefix = FIXTURE_PREFIX;
    f->cfg.command_timeout_ms = timeout_ms;
    f->q = rq_new(&f->loop, &f->cfg);
    fixture_wait_connected(f, f->q);
}

struct rq *fixture_open(struct fixture *f)
{
    struct rq *q = rq_new(&f->loop, &f->cfg);
    fixture_wait_connected(f, q);
    return q;
}

static void run_until(struct fixture *f, const int *flag, const char *what, uint64_t bound_ms)
{
    f->waiting_for = what;
    uv_timer_start(&f->guard, on_guard, bound_ms, 0);
    while (!*flag)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->guard);
}

void fixture_wait(struct fixture *f, const int *flag, const char *what)
{
    run_until(f, flag, what, FIXTURE_WAIT_MS);
}

struct poll_connected {
    struct rq *q;
    int done;
};

static void on_poll_connected(uv_timer_t *t)
{
    struct poll_connected *p = t->data;
    if (rq_connected(p->q))
        p->done = 1;
}

void fixture_wait_connected(struct fixture *f, struct rq *q)
{
    struct poll_connected p = {q, rq_connected(q)};
    uv_timer_t poll;
    uv_timer_init(&f->loop, &poll);
    poll.data = &p;
    uv_timer_start(&poll, on_poll_connected, 5, 5);
    run_until(f, &p.done, "the connection to redis", 3 * FIXTURE_WAIT_MS);
    uv_close((uv_handle_t *)&poll, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void on_slept(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

void fixture_sleep(struct fixture *f, uint64_t ms)
{
    int done = 0;
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = &done;
    uv_timer_start(&t, on_slept, ms, 0);
    run_until(f, &done, "a sleep", ms + FIXTURE_WAIT_MS);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

void fixture_close_rq(struct fixture *f, struct rq *q)
{
    rq_free(q);
    /* The handles close on the next iterations; the guard bounds it. */
    fixture_sleep(f, 20);
}

void fixture_finish(struct fixture *f)
{
    rq_free(f->q);
    f->q = NULL;
    uv_close((uv_handle_t *)&f->guard, NULL);
    for (int i = 0; i < 2000 && uv_loop_alive(&f->loop); i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    ASSERT_EQ(uv_loop_close(&f->loop), 0);
    redis_proc_stop(&f->redis);
}
