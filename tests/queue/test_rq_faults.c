/* Fault tests against a real redis-server: kill -9 and restart on the same AOF, a stalled
 * server (SIGSTOP), a flushed script cache, freeing with calls pending, the cap on pending
 * commands, and the unix socket. */
#include <signal.h>
#include <string.h>

#include "await.h"
#include "fixture.h"
#include "queue/rq_conn.h"
#include "test.h"

#define POOL "p"

struct pending {
    int done;
    const char *err;
};

static void on_pending_enqueue(void *ud, const char *err, int existing, int64_t position)
{
    struct pending *p = ud;
    p->done++;
    p->err = err;
}

static void on_pending_get(void *ud, const char *err, enum rq_state state, const char *result,
                           const char *message, int attempt)
{
    struct pending *p = ud;
    p->done++;
    p->err = err;
}

struct all_done {
    struct pending *p;
    size_t n;
    int done;
};

static void on_check_all(uv_timer_t *t)
{
    struct all_done *a = t->data;
    a->done = 1;
    for (size_t i = 0; i < a->n; i++)
        a->done &= a->p[i].done > 0;
}

/* Runs the loop until every pending call has had its callback (bounded). */
static void wait_all(struct fixture *f, struct pending *p, size_t n)
{
    struct all_done a = {p, n, 0};
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = &a;
    uv_timer_start(&t, on_check_all, 5, 5);
    fixture_wait(f, &a.done, "the pending calls");
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

TEST(rq_survives_a_redis_restart)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    for (int64_t id = 1; id <= 3; id++)
        ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, id, id, 3, 0, NULL, NULL), NULL);
    /* Calls sent to a stopped server, which then dies: they fail, they do not hang. */
    redis_proc_signal(&f.redis, SIGSTOP);
    struct pending p[3] = {{0}};
    rq_enqueue(f.q, POOL, 4, 4, "{}", 3, 0, AWAIT_ENQUEUED, on_pending_enqueue, &p[0]);
    rq_enqueue(f.q, POOL, 5, 5, "{}", 3, 0, AWAIT_ENQUEUED, on_pending_enqueue, &p[1]);
    rq_get(f.q, 1, on_pending_get, &p[2]);
    fixture_sleep(&f, 50);
    redis_proc_kill(&f.redis);
    wait_all(&f, p, 3);
    for (size_t i = 0; i < 3; i++) {
        ASSERT_EQ(p[i].done, 1);
        ASSERT_TRUE(p[i].err == rq_err_unavailable || p[i].err == rq_err_timeout);
    }
    /* While it is down: unavailable, after the command timeout. */
    struct await_sub sub;
    ASSERT_TRUE(await_get(&f, f.q, 1, &sub) == rq_err_unavailable);
    ASSERT_FALSE(rq_connected(f.q));
    /* Back on the same port and AOF: rq reconnects by itself and the acked work is there. */
    redis_proc_restart(&f.redis);
    fixture_wait_connected(&f, f.q);
    int64_t depth = 0;
    ASSERT_STR_EQ(await_depth(&f, f.q, POOL, &depth), NULL);
    ASSERT_EQ(depth, 3);
    for (int64_t id = 1; id <= 3; id++) {
        struct await_job job;
        ASSERT_STR_EQ(await_get(&f, f.q, id, &sub), NULL);
        ASSERT_EQ(sub.state, RQ_QUEUED);
        ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
        ASSERT_TRUE(job.has);
        ASSERT_EQ(job.id, id);
    }
    ASSERT_STR_EQ(await_get(&f, f.q, 4, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_UNKNOWN);
    fixture_finish(&f);
}

TEST(rq_command_times_out_when_redis_stalls)
{
    struct fixture f;
    fixture_start(&f, 300, 0);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 1, 3, 0, NULL, NULL), NULL);
    redis_proc_signal(&f.redis, SIGSTOP);
    struct await_sub sub;
    ASSERT_TRUE(await_get(&f, f.q, 1, &sub) == rq_err_timeout);
    redis_proc_signal(&f.redis, SIGCONT);
    fixture_wait_connected(&f, f.q);
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_QUEUED);
    fixture_finish(&f);
}

TEST(rq_falls_back_to_eval_after_script_flush)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    redisReply *r = redis_proc_command(&f.redis, "SCRIPT FLUSH");
    ASSERT_EQ(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    int64_t pos = -2;
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 1, 3, 0, NULL, &pos), NULL);
    ASSERT_EQ(pos, 0);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_QUEUED);
    fixture_finish(&f);
}

TEST(rq_calls_made_before_the_connection_wait_for_it)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct rq *fresh = rq_new(&f.loop, &f.cfg);
    ASSERT_FALSE(rq_connected(fresh));
    int64_t pos = -2;
    ASSERT_STR_EQ(await_enqueue(&f, fresh, POOL, 1, 1, 3, 0, NULL, &pos), NULL);
    ASSERT_EQ(pos, 0);
    fixture_close_rq(&f, fresh);
    fixture_finish(&f);
}

TEST(rq_free_fails_pending_calls_first)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct pending p[2] = {{0}};
    rq_enqueue(f.q, POOL, 1, 1, "{}", 3, 0, AWAIT_ENQUEUED, on_pending_enqueue, &p[0]);
    rq_get(f.q, 1, on_pending_get, &p[1]);
    ASSERT_EQ(p[0].done + p[1].done, 0);
    rq_free(f.q);
    f.q = NULL;
    for (size_t i = 0; i < 2; i++) {
        ASSERT_EQ(p[i].done, 1);
        ASSERT_TRUE(p[i].err == rq_err_unavailable);
    }
    fixture_finish(&f);
}

struct free_inside {
    struct rq *q;
    struct pending first, second;
};

static void on_first_then_free(void *ud, const char *err, int existing, int64_t position)
{
    struct free_inside *fi = ud;
    fi->first.done++;
    fi->first.err = err;
    rq_free(fi->q);
}

/* Freeing from inside one of its own callbacks, with another call still pending. */
TEST(rq_free_from_inside_a_callback)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct free_inside fi = {.q = f.q};
    rq_enqueue(f.q, POOL, 1, 1, "{}", 3, 0, AWAIT_ENQUEUED, on_first_then_free, &fi);
    rq_get(f.q, 1, on_pending_get, &fi.second);
    f.q = NULL;
    fixture_wait(&f, &fi.first.done, "the first call");
    ASSERT_STR_EQ(fi.first.err, NULL);
    ASSERT_EQ(fi.second.done, 1);
    ASSERT_TRUE(fi.second.err == rq_err_unavailable);
    fixture_finish(&f);
}

static void on_conn_reply(void *ud, const char *err, const struct redisReply *reply)
{
    struct pending *p = ud;
    p->done++;
    p->err = err;
}

TEST(rq_conn_caps_pending_commands)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    redis_proc_kill(&f.redis); /* nothing listens on the port any more */
    const char *scripts[] = {"return 1"};
    struct rq_conn_config cfg = {
        .name = "capped",
        .host = "127.0.0.1",
        .port = f.redis.port,
        .command_timeout_ms = 300,
        .backoff_base_ms = 10,
        .backoff_cap_ms = 50,
        .max_pending = 2,
        .scripts = scripts,
        .nscripts = 1,
    };
    struct rq_conn *c = rq_conn_new(&f.loop, &cfg);
    struct pending p[3] = {{0}};
    const char *argv[] = {"x"};
    const size_t lens[] = {1};
    for (size_t i = 0; i < 3; i++)
        rq_conn_eval(c, 0, 1, argv, lens, on_conn_reply, &p[i]);
    ASSERT_EQ(p[0].done + p[1].done + p[2].done, 0);
    wait_all(&f, p, 3);
    ASSERT_TRUE(p[0].err == rq_err_unavailable);
    ASSERT_TRUE(p[1].err == rq_err_unavailable);
    ASSERT_TRUE(p[2].err == rq_conn_err_full);
    ASSERT_FALSE(rq_conn_ready(c));
    rq_conn_free(c);
    fixture_finish(&f);
}

TEST(rq_works_over_a_unix_socket)
{
    struct fixture f;
    fixture_start(&f, 2000, 1);
    int existing = -1;
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 1, 3, 0, &existing, NULL), NULL);
    ASSERT_EQ(existing, 0);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_QUEUED);
    fixture_finish(&f);
}
