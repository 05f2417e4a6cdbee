/* Pool statistics tests against a real redis-server: queued, running and retrying jobs, the
 * age of the oldest queued job, the per-minute counters of retries, dead letters and ended
 * jobs (and the 60-minute window), graders online with their capacities, and pools kept
 * apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "await.h"
#include "fixture.h"
#include "test.h"

#define POOL "p"

/* The counters are per minute of Redis's clock (the same host's clock): a test that checks
 * the current minute starts far enough from its end not to cross it. */
static void away_from_minute_end(struct fixture *f)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long ms_in_minute = (long)(tv.tv_sec % 60) * 1000 + (long)(tv.tv_usec / 1000);
    if (ms_in_minute > 45000)
        fixture_sleep(f, (uint64_t)(60000 - ms_in_minute + 200));
}

/* Redis's clock in minutes since the epoch. */
static long long redis_minute(struct fixture *f)
{
    redisReply *r = redis_proc_command(&f->redis, "TIME");
    ASSERT_TRUE(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    long long minute = strtoll(r->element[0]->str, NULL, 10) / 60;
    freeReplyObject(r);
    return minute;
}

static int64_t sum_per_minute(const struct rq_pool_stats *s)
{
    int64_t sum = 0;
    for (int i = 0; i < RQ_STATS_MINUTES; i++)
        sum += s->finished_per_minute[i];
    return sum;
}

/* The figures of a pool where nothing happened. */
static void assert_idle(const struct rq_pool_stats *s)
{
    ASSERT_EQ(s->graders_online, 0);
    ASSERT_EQ(s->capacity_online, 0);
    ASSERT_EQ(s->queued, 0);
    ASSERT_EQ(s->running, 0);
    ASSERT_EQ(s->retrying, 0);
    ASSERT_EQ(s->oldest_queued_ms, -1);
    ASSERT_EQ(s->retried_hour, 0);
    ASSERT_EQ(s->dead_hour, 0);
    ASSERT_EQ(s->finished_hour, 0);
    ASSERT_EQ(sum_per_minute(s), 0);
}

/* Queued, running and the counters after each step, in one call. */
static void assert_counts(struct fixture *f, const char *pool, int64_t queued, int64_t running,
                          int64_t retrying, int64_t retried, int64_t dead, int64_t finished)
{
    struct rq_pool_stats s;
    ASSERT_STR_EQ(await_stats(f, f->q, pool, &s), NULL);
    ASSERT_EQ(s.queued, queued);
    ASSERT_EQ(s.running, running);
    ASSERT_EQ(s.retrying, retrying);
    ASSERT_EQ(s.retried_hour, retried);
    ASSERT_EQ(s.dead_hour, dead);
    ASSERT_EQ(s.finished_hour, finished);
    ASSERT_EQ(s.finished_per_minute[0], finished);
    ASSERT_EQ(sum_per_minute(&s), finished);
    if (queued == 0)
        ASSERT_EQ(s.oldest_queued_ms, -1);
    else
        ASSERT_TRUE(s.oldest_queued_ms >= 0);
}

static void take(struct fixture *f, const char *pool, int64_t lease_ms, int64_t want_id,
                 struct await_job *job)
{
    ASSERT_STR_EQ(await_dispatch(f, f->q, pool, "g1", lease_ms, job), NULL);
    ASSERT_TRUE(job->has);
    ASSERT_EQ(job->id, want_id);
}

TEST(rq_stats_queued_running_and_oldest_age)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct rq_pool_stats s;
    ASSERT_STR_EQ(await_stats(&f, f.q, POOL, &s), NULL);
    assert_idle(&s);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 10, 3, 0, NULL, NULL), NULL);
    fixture_sleep(&f, 300);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 2, 10, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 3, 20, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_stats(&f, f.q, POOL, &s), NULL);
    ASSERT_EQ(s.queued, 3);
    ASSERT_EQ(s.running, 0);
    ASSERT_TRUE(s.oldest_queued_ms >= 300); /* job 1's age, not the newer ones' */
    ASSERT_TRUE(s.oldest_queued_ms < 5000);
    int64_t first_age = s.oldest_queued_ms;
    fixture_sleep(&f, 200);
    ASSERT_STR_EQ(await_stats(&f, f.q, POOL, &s), NULL);
    ASSERT_TRUE(s.oldest_queued_ms >= first_age + 200); /* it grows while it waits */
    int64_t second_age = s.oldest_queued_ms;
    /* Job 1 leaves: the oldest is now 2 or 3, queued 300 ms after it. */
    struct await_job job;
    take(&f, POOL, 60000, 1, &job);
    ASSERT_STR_EQ(await_stats(&f, f.q, POOL, &s), NULL);
    ASSERT_EQ(s.queued, 2);
    ASSERT_EQ(s.running, 1);
    ASSERT_TRUE(s.oldest_queued_ms >= 200);
    ASSERT_TRUE(s.oldest_queued_ms < second_age - 200);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_STR_EQ(await_stats(&f, f.q, POOL, &s), NULL);
    ASSERT_EQ(s.queued, 0);
    ASSERT_EQ(s.running, 3);
    ASSERT_EQ(s.oldest_queued_ms, -1);
    ASSERT_EQ(s.finished_hour, 0);
    /* A bad pool is refused. */
    ASSERT_TRUE(await_stats(&f, f.q, "bad pool", &s) != NULL);
    fixture_finish(&f);
}

/* A retryable failure waits in delayed (retrying) and counts as a retry once, not again when
 * it is due; a cancel takes it out of retrying (not finished: it was not running). */
TEST(rq_stats_retries_and_cancel)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    away_from_minute_end(&f);
    struct await_job job;
    int ok = 0;
    enum rq_state outcome;
    int64_t retry_in = 0;
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 1, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 2, 1, 3, 0, NULL, NULL), NULL);
    take(&f, POOL, 60000, 1, &job);
    ASSERT_STR_EQ(
        await_fail(&f, f.q, 1, job.token, 1, "flaky", 60000, 60000, &ok, &outcome, &retry_in),
        NULL);
    ASSERT_EQ(outcome, RQ_QUEUED);
    assert_counts(&f, POOL, 1, 0, 1, 1, 0, 0);
    /* Job 2 fails with a short backoff and is made due by the janitor. */
    take(&f, POOL, 60000, 2, &job);
    ASSERT_STR_EQ(await_fail(&f, f.q, 2, job.token, 1, "flaky", 1, 1, &ok, &outcome, &retry_in),
                  NULL);
    assert_counts(&f, POOL, 0, 0, 2, 2, 0, 0);
    struct await_reaped reaped[AWAIT_MAX];
    size_t n = await_reap_until(&f, f.q, reaped);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(reaped[0].id, 2);
    assert_counts(&f, POOL, 1, 0, 1, 2, 0, 0);
    /* Job 1, still in its backoff, is cancelled. */
    enum rq_state before;
    char grader[64];
    ASSERT_STR_EQ(await_cancel(&f, f.q, 1, &before, grader), NULL);
    ASSERT_EQ(before, RQ_QUEUED);
    assert_counts(&f, POOL, 1, 0, 0, 2, 0, 0);
    /* Cancelling again changes nothing. */
    ASSERT_STR_EQ(await_cancel(&f, f.q, 1, &before, grader), NULL);
    ASSERT_EQ(before, RQ_CANCELLED);
    assert_counts(&f, POOL, 1, 0, 0, 2, 0, 0);
    ASSERT_EQ(redis_proc_int(&f.redis, "ZCARD %sdelayed", FIXTURE_PREFIX), 0);
    fixture_finish(&f);
}

/* A lease that expires with attempts left is a retry; with none left, a dead letter (which
 * also ends the job); a non-retryable failure too. A release is neither. */
TEST(rq_stats_lease_expiry_and_dead_letters)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    away_from_minute_end(&f);
    struct await_job job;
    struct await_reaped reaped[AWAIT_MAX];
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 1, 2, 0, NULL, NULL), NULL);
    take(&f, POOL, 50, 1, &job);
    assert_counts(&f, POOL, 0, 1, 0, 0, 0, 0);
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].now, RQ_QUEUED);
    assert_counts(&f, POOL, 1, 0, 0, 1, 0, 0);
    take(&f, POOL, 50, 1, &job);
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].now, RQ_ERROR);
    assert_counts(&f, POOL, 0, 0, 0, 1, 1, 1);
    /* Released: queued again, no retry counted. */
    int ok = 0;
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 2, 1, 3, 0, NULL, NULL), NULL);
    take(&f, POOL, 60000, 2, &job);
    ASSERT_STR_EQ(await_release(&f, f.q, 2, job.token, &ok), NULL);
    ASSERT_EQ(ok, 1);
    assert_counts(&f, POOL, 1, 0, 0, 1, 1, 1);
    /* Not retryable: dead at once. */
    take(&f, POOL, 60000, 2, &job);
    enum rq_state outcome;
    int64_t retry_in = 0;
    ASSERT_STR_EQ(
        await_fail(&f, f.q, 2, job.token, 0, "broken", 100, 100, &ok, &outcome, &retry_in), NULL);
    ASSERT_EQ(outcome, RQ_ERROR);
    assert_counts(&f, POOL, 0, 0, 0, 1, 2, 2);
    /* A stale token changes no figure. */
    ASSERT_STR_EQ(await_fail(&f, f.q, 2, job.token, 0, "again", 100, 100, &ok, &outcome, &retry_in),
                  NULL);
    ASSERT_EQ(ok, 0);
    assert_counts(&f, POOL, 0, 0, 0, 1, 2, 2);
    fixture_finish(&f);
}

/* COMPLETE, CANCELLED while running and TIMEOUT count as finished, once; a job cancelled while
 * queued does not (no grader worked on it). */
TEST(rq_stats_finished_jobs)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    away_from_minute_end(&f);
    struct await_job job;
    int ok = 0;
    for (int64_t id = 1; id <= 4; id++)
        ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, id, 1, 3, id == 3 ? 50 : 0, NULL, NULL), NULL);
    take(&f, POOL, 60000, 1, &job);
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, job.token, "{\"score\":1}", &ok), NULL);
    ASSERT_EQ(ok, 1);
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, job.token, "{\"score\":1}", &ok), NULL);
    ASSERT_EQ(ok, 0); /* fenced: not counted twice */
    assert_counts(&f, POOL, 3, 0, 0, 0, 0, 1);
    take(&f, POOL, 60000, 2, &job);
    enum rq_state before;
    char grader[64];
    ASSERT_STR_EQ(await_cancel(&f, f.q, 2, &before, grader), NULL);
    ASSERT_EQ(before, RQ_RUNNING);
    assert_counts(&f, POOL, 2, 0, 0, 0, 0, 2);
    take(&f, POOL, 60000, 3, &job); /* time limit 50 ms */
    struct await_reaped reaped[AWAIT_MAX];
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].now, RQ_TIMEOUT);
    assert_counts(&f, POOL, 1, 0, 0, 0, 0, 3);
    ASSERT_STR_EQ(await_cancel(&f, f.q, 4, &before, grader), NULL);
    ASSERT_EQ(before, RQ_QUEUED);
    assert_counts(&f, POOL, 0, 0, 0, 0, 0, 3);
    /* The counters of this minute expire, after the hour they are shown for. */
    long long ttl = redis_proc_int(&f.redis, "TTL %spool:%s:stats:%lld", FIXTURE_PREFIX, POOL,
                                   redis_minute(&f));
    ASSERT_TRUE(ttl > 3600 && ttl <= 7200);
    fixture_finish(&f);
}

/* The hour is the current minute and the 59 before it: older counters are not summed. */
TEST(rq_stats_window_is_sixty_minutes)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    away_from_minute_end(&f);
    long long now = redis_minute(&f);
    const int ago[] = {5, 59, 60, 61};
    for (size_t i = 0; i < sizeof(ago) / sizeof(ago[0]); i++) {
        redisReply *r = redis_proc_command(&f.redis,
                                           "HSET %spool:%s:stats:%lld finished %d "
                                           "retried %d dead %d",
                                           FIXTURE_PREFIX, POOL, now - ago[i], 10 + ago[i],
                                           100 + ago[i], 1000 + ago[i]);
        freeReplyObject(r);
    }
    struct rq_pool_stats s;
    ASSERT_STR_EQ(await_stats(&f, f.q, POOL, &s), NULL);
    ASSERT_EQ(s.finished_per_minute[0], 0);
    ASSERT_EQ(s.finished_per_minute[5], 15);
    ASSERT_EQ(s.finished_per_minute[59], 69);
    ASSERT_EQ(s.finished_hour, 15 + 69);
    ASSERT_EQ(sum_per_minute(&s), 15 + 69);
    ASSERT_EQ(s.retried_hour, 105 + 159);
    ASSERT_EQ(s.dead_hour, 1005 + 1059);
    fixture_finish(&f);
}

/* Graders with capacities 2 and 3 give 2 online, capacity 5; a re-announce updates the
 * capacity; a withdrawn or expired grader counts no more (nor its capacity). */
TEST(rq_stats_graders_and_capacity)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct rq *other = fixture_open(&f);
    const char pools[2][64] = {"a", "b"};
    struct rq_pool_stats s;
    ASSERT_STR_EQ(await_presence(&f, f.q, "g1#x", pools, 2, 2, 60000), NULL);
    ASSERT_STR_EQ(await_presence(&f, other, "g2#y", pools, 1, 3, 60000), NULL);
    ASSERT_STR_EQ(await_stats(&f, f.q, "a", &s), NULL);
    ASSERT_EQ(s.graders_online, 2);
    ASSERT_EQ(s.capacity_online, 5);
    ASSERT_STR_EQ(await_stats(&f, other, "b", &s), NULL);
    ASSERT_EQ(s.graders_online, 1);
    ASSERT_EQ(s.capacity_online, 2);
    ASSERT_STR_EQ(await_presence(&f, f.q, "g1#x", pools, 2, 4, 60000), NULL);
    ASSERT_STR_EQ(await_stats(&f, f.q, "a", &s), NULL);
    ASSERT_EQ(s.graders_online, 2);
    ASSERT_EQ(s.capacity_online, 7);
    /* Withdrawn. */
    ASSERT_STR_EQ(await_presence(&f, f.q, "g1#x", pools, 2, 4, 0), NULL);
    ASSERT_STR_EQ(await_stats(&f, f.q, "a", &s), NULL);
    ASSERT_EQ(s.graders_online, 1);
    ASSERT_EQ(s.capacity_online, 3);
    ASSERT_STR_EQ(await_stats(&f, f.q, "b", &s), NULL);
    ASSERT_EQ(s.graders_online, 0);
    ASSERT_EQ(s.capacity_online, 0);
    /* Expired: a broker that stopped announcing (g3), next to one that did not (g4). */
    ASSERT_STR_EQ(await_presence(&f, f.q, "g4#w", pools + 1, 1, 1, 60000), NULL);
    ASSERT_STR_EQ(await_presence(&f, f.q, "g3#z", pools + 1, 1, 10, 150), NULL);
    ASSERT_STR_EQ(await_stats(&f, f.q, "b", &s), NULL);
    ASSERT_EQ(s.graders_online, 2);
    ASSERT_EQ(s.capacity_online, 11);
    fixture_sleep(&f, 300);
    ASSERT_STR_EQ(await_stats(&f, f.q, "b", &s), NULL);
    ASSERT_EQ(s.graders_online, 1);
    ASSERT_EQ(s.capacity_online, 1);
    ASSERT_EQ(redis_proc_int(&f.redis, "HLEN %spool:b:capacity", FIXTURE_PREFIX), 1);
    int64_t online = 0;
    ASSERT_STR_EQ(await_online(&f, other, "a", &online), NULL); /* unchanged behaviour */
    ASSERT_EQ(online, 1);
    fixture_close_rq(&f, other);
    fixture_finish(&f);
}

/* Two pools' figures do not mix. */
TEST(rq_stats_pools_are_independent)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    away_from_minute_end(&f);
    const char x[1][64] = {"x"};
    struct await_job job;
    int ok = 0;
    enum rq_state outcome;
    int64_t retry_in = 0;
    ASSERT_STR_EQ(await_presence(&f, f.q, "gx", x, 1, 5, 60000), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "x", 1, 1, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "x", 2, 1, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "y", 3, 1, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "y", 4, 1, 3, 0, NULL, NULL), NULL);
    take(&f, "x", 60000, 1, &job);
    ASSERT_STR_EQ(
        await_fail(&f, f.q, 1, job.token, 1, "flaky", 60000, 60000, &ok, &outcome, &retry_in),
        NULL);
    take(&f, "y", 60000, 3, &job);
    ASSERT_STR_EQ(await_complete(&f, f.q, 3, job.token, "{}", &ok), NULL);
    take(&f, "y", 60000, 4, &job);
    assert_counts(&f, "x", 1, 0, 1, 1, 0, 0);
    assert_counts(&f, "y", 0, 1, 0, 0, 0, 1);
    struct rq_pool_stats s;
    ASSERT_STR_EQ(await_stats(&f, f.q, "y", &s), NULL);
    ASSERT_EQ(s.graders_online, 0);
    ASSERT_EQ(s.capacity_online, 0);
    ASSERT_STR_EQ(await_stats(&f, f.q, "x", &s), NULL);
    ASSERT_EQ(s.graders_online, 1);
    ASSERT_EQ(s.capacity_online, 5);
    ASSERT_STR_EQ(await_stats(&f, f.q, "z", &s), NULL);
    assert_idle(&s);
    fixture_finish(&f);
}
