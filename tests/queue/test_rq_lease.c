/* Lease tests against a real redis-server: progress renews, complete once, fencing of stale
 * tokens, retries with backoff, dead letters, release, cancel, and the janitor. */
#include <stdio.h>
#include <string.h>

#include "await.h"
#include "fixture.h"
#include "test.h"

#define POOL "p"

/* Enqueues submission id (participant 1) and leases it to grader g1. */
static void queue_and_take(struct fixture *f, int64_t id, int max_attempts, int64_t time_limit,
                           int64_t lease_ms, struct await_job *job)
{
    ASSERT_STR_EQ(await_enqueue(f, f->q, POOL, id, 1, max_attempts, time_limit, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_dispatch(f, f->q, POOL, "g1", lease_ms, job), NULL);
    ASSERT_TRUE(job->has);
    ASSERT_EQ(job->id, id);
}

/* The type of the last event of a submission; the events' seqs must be 1..n. */
static void last_event(struct fixture *f, int64_t id, char *type, size_t cap, size_t *count)
{
    struct await_event ev[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_events(f, f->q, id, 0, ev, &n), NULL);
    ASSERT_TRUE(n > 0);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(ev[i].seq, (int64_t)i + 1);
    const char *t = strstr(ev[n - 1].event, "\"type\":\"");
    ASSERT_TRUE(t != NULL);
    t += 8;
    size_t len = strcspn(t, "\"");
    ASSERT_TRUE(len < cap);
    memcpy(type, t, len);
    type[len] = '\0';
    if (count != NULL)
        *count = n;
}

static void assert_last_event(struct fixture *f, int64_t id, const char *want)
{
    char type[32];
    last_event(f, id, type, sizeof(type), NULL);
    ASSERT_STR_EQ(type, want);
}

static long long stale_count(struct fixture *f)
{
    return redis_proc_int(&f->redis, "XLEN %sstale", FIXTURE_PREFIX);
}

TEST(rq_progress_extends_the_lease_and_appends_events)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 3, 0, 100, &job);
    int ok = -1;
    ASSERT_STR_EQ(await_progress(&f, f.q, 1, job.token, 60000, 40, &ok), NULL);
    ASSERT_EQ(ok, 1);
    ASSERT_STR_EQ(await_progress(&f, f.q, 1, job.token, 60000, 80, &ok), NULL);
    ASSERT_EQ(ok, 1);
    /* Past the first lease of 100 ms: renewed, so the janitor leaves it alone. */
    fixture_sleep(&f, 250);
    struct await_reaped reaped[AWAIT_MAX];
    size_t n = 9;
    ASSERT_STR_EQ(await_reap(&f, f.q, 100, reaped, &n), NULL);
    ASSERT_EQ(n, 0);
    struct await_event ev[AWAIT_MAX];
    ASSERT_STR_EQ(await_events(&f, f.q, 1, 0, ev, &n), NULL);
    ASSERT_EQ(n, 4);
    const char *types[] = {"ENQUEUED", "RUNNING", "PROGRESS_UPDATE", "PROGRESS_UPDATE"};
    for (size_t i = 0; i < n; i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"type\":\"%s\"", types[i]);
        ASSERT_EQ(ev[i].seq, (int64_t)i + 1);
        ASSERT_TRUE(strstr(ev[i].event, want) != NULL);
    }
    ASSERT_TRUE(strstr(ev[3].event, "\"percent\":80") != NULL);
    /* A wrong token renews nothing and is recorded. */
    ASSERT_STR_EQ(await_progress(&f, f.q, 1, job.token + 1, 60000, 90, &ok), NULL);
    ASSERT_EQ(ok, 0);
    ASSERT_EQ(stale_count(&f), 1);
    fixture_finish(&f);
}

TEST(rq_complete_applies_once)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 3, 0, 60000, &job);
    int ok = -1;
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, job.token, "{\"score\":0.75}", &ok), NULL);
    ASSERT_EQ(ok, 1);
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, job.token, "{\"score\":0.99}", &ok), NULL);
    ASSERT_EQ(ok, 0);
    ASSERT_EQ(stale_count(&f), 1);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_DONE);
    ASSERT_STR_EQ(sub.result, "{\"score\":0.75}");
    ASSERT_EQ(sub.attempt, 1);
    size_t count = 0;
    char type[32];
    last_event(&f, 1, type, sizeof(type), &count);
    ASSERT_STR_EQ(type, "COMPLETE");
    ASSERT_EQ(count, 3);
    int64_t ids[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_outbox(&f, f.q, ids, &n), NULL);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(ids[0], 1);
    ASSERT_STR_EQ(await_outbox_remove(&f, f.q, 1), NULL);
    ASSERT_STR_EQ(await_outbox(&f, f.q, ids, &n), NULL);
    ASSERT_EQ(n, 0);
    fixture_finish(&f);
}

TEST(rq_stale_token_after_requeue_is_refused_and_recorded)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job first, second;
    queue_and_take(&f, 1, 3, 0, 50, &first);
    struct await_reaped reaped[AWAIT_MAX];
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].id, 1);
    ASSERT_EQ(reaped[0].now, RQ_QUEUED);
    ASSERT_STR_EQ(reaped[0].grader, "g1");
    assert_last_event(&f, 1, "INFO");
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g2", 60000, &second), NULL);
    ASSERT_TRUE(second.has);
    ASSERT_EQ(second.id, 1);
    ASSERT_EQ(second.attempt, 2);
    ASSERT_TRUE(second.token > first.token);
    int ok = -1;
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, first.token, "{\"score\":1}", &ok), NULL);
    ASSERT_EQ(ok, 0);
    redisReply *r = redis_proc_command(&f.redis, "XRANGE %sstale - +", FIXTURE_PREFIX);
    ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
    ASSERT_EQ(r->elements, 1);
    redisReply *fields = r->element[0]->element[1];
    char token[24];
    snprintf(token, sizeof(token), "%llu", (unsigned long long)first.token);
    ASSERT_STR_EQ(fields->element[1]->str, "complete");
    ASSERT_STR_EQ(fields->element[3]->str, "1");
    ASSERT_STR_EQ(fields->element[5]->str, token);
    freeReplyObject(r);
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, second.token, "{\"score\":2}", &ok), NULL);
    ASSERT_EQ(ok, 1);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_STR_EQ(sub.result, "{\"score\":2}");
    fixture_finish(&f);
}

TEST(rq_retryable_failure_waits_then_becomes_due)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 3, 0, 60000, &job);
    int ok = -1;
    enum rq_state outcome = RQ_UNKNOWN;
    int64_t retry_in = -1;
    ASSERT_STR_EQ(
        await_fail(&f, f.q, 1, job.token, 1, "out of memory", 50, 1000, &ok, &outcome, &retry_in),
        NULL);
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(outcome, RQ_QUEUED);
    ASSERT_TRUE(retry_in >= 25 && retry_in <= 50); /* 50 * 2^0 with a jitter in [0.5, 1) */
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_QUEUED);
    ASSERT_STR_EQ(sub.message, "out of memory");
    struct await_event ev[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_events(&f, f.q, 1, 2, ev, &n), NULL);
    ASSERT_EQ(n, 1);
    ASSERT_TRUE(strstr(ev[0].event, "\"type\":\"INFO\"") != NULL);
    ASSERT_TRUE(strstr(ev[0].event, "retrying in 0.0 s (attempt 2 of 3)") != NULL);
    /* Delayed: not in the queue until the janitor finds it due. */
    int64_t pos = 0;
    ASSERT_STR_EQ(await_position(&f, f.q, POOL, 1, &pos), NULL);
    ASSERT_EQ(pos, -1);
    struct await_job none;
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &none), NULL);
    ASSERT_FALSE(none.has);
    struct await_reaped reaped[AWAIT_MAX];
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].id, 1);
    ASSERT_EQ(reaped[0].now, RQ_QUEUED);
    ASSERT_STR_EQ(await_position(&f, f.q, POOL, 1, &pos), NULL);
    ASSERT_EQ(pos, 0);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_TRUE(job.has);
    ASSERT_EQ(job.attempt, 2);
    fixture_finish(&f);
}

/* Fails the running attempt (retryable), waits until it is due and takes it again. */
static void fail_and_retake(struct fixture *f, struct await_job *job)
{
    int ok;
    enum rq_state outcome;
    int64_t retry_in;
    ASSERT_STR_EQ(
        await_fail(f, f->q, job->id, job->token, 1, "crash", 10, 20, &ok, &outcome, &retry_in),
        NULL);
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(outcome, RQ_QUEUED);
    struct await_reaped reaped[AWAIT_MAX];
    ASSERT_EQ(await_reap_until(f, f->q, reaped), 1);
    ASSERT_STR_EQ(await_dispatch(f, f->q, POOL, "g1", 60000, job), NULL);
    ASSERT_TRUE(job->has);
}

TEST(rq_failure_after_max_attempts_is_dead_lettered)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 2, 0, 60000, &job);
    fail_and_retake(&f, &job);
    ASSERT_EQ(job.attempt, 2);
    int ok;
    enum rq_state outcome;
    int64_t retry_in = -1;
    ASSERT_STR_EQ(
        await_fail(&f, f.q, 1, job.token, 1, "still crashing", 10, 20, &ok, &outcome, &retry_in),
        NULL);
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(outcome, RQ_ERROR);
    ASSERT_EQ(retry_in, 0);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_ERROR);
    ASSERT_STR_EQ(sub.message, "still crashing");
    assert_last_event(&f, 1, "ERROR");
    int64_t ids[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_dlq(&f, f.q, ids, &n), NULL);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(ids[0], 1);
    ASSERT_STR_EQ(await_outbox(&f, f.q, ids, &n), NULL);
    ASSERT_TRUE(await_has_id(ids, n, 1));
    /* Requeued from the dead letters: attempts start again. */
    ASSERT_STR_EQ(await_dlq_requeue(&f, f.q, 1), NULL);
    ASSERT_TRUE(await_dlq_requeue(&f, f.q, 1) != NULL);
    ASSERT_STR_EQ(await_dlq(&f, f.q, ids, &n), NULL);
    ASSERT_EQ(n, 0);
    ASSERT_STR_EQ(await_outbox(&f, f.q, ids, &n), NULL);
    ASSERT_FALSE(await_has_id(ids, n, 1));
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_TRUE(job.has);
    ASSERT_EQ(job.attempt, 1);
    fixture_finish(&f);
}

TEST(rq_failure_not_retryable_is_final_at_once)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 5, 0, 60000, &job);
    int ok;
    enum rq_state outcome;
    int64_t retry_in;
    ASSERT_STR_EQ(await_fail(&f, f.q, 1, job.token, 0, "", 10, 20, &ok, &outcome, &retry_in), NULL);
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(outcome, RQ_ERROR);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_ERROR);
    ASSERT_TRUE(sub.message[0] != '\0');
    assert_last_event(&f, 1, "ERROR");
    /* The same token again: the job is no longer running. */
    ASSERT_STR_EQ(await_fail(&f, f.q, 1, job.token, 0, "x", 10, 20, &ok, &outcome, &retry_in),
                  NULL);
    ASSERT_EQ(ok, 0);
    fixture_finish(&f);
}

TEST(rq_release_requeues_at_the_head_without_counting)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job, again;
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 1, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 2, 1, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_EQ(job.id, 1);
    int ok = -1;
    ASSERT_STR_EQ(await_release(&f, f.q, 1, job.token, &ok), NULL);
    ASSERT_EQ(ok, 1);
    int64_t pos = -2;
    ASSERT_STR_EQ(await_position(&f, f.q, POOL, 1, &pos), NULL);
    ASSERT_EQ(pos, 0);
    ASSERT_STR_EQ(await_position(&f, f.q, POOL, 2, &pos), NULL);
    ASSERT_EQ(pos, 1);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_QUEUED);
    ASSERT_EQ(sub.attempt, 0);
    assert_last_event(&f, 1, "INFO");
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g2", 60000, &again), NULL);
    ASSERT_EQ(again.id, 1);
    ASSERT_EQ(again.attempt, 1);
    ASSERT_STR_EQ(await_release(&f, f.q, 1, job.token, &ok), NULL);
    ASSERT_EQ(ok, 0);
    fixture_finish(&f);
}

TEST(rq_cancel_of_a_queued_submission)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    for (int64_t id = 1; id <= 3; id++)
        ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, id, 1, 3, 0, NULL, NULL), NULL);
    enum rq_state before = RQ_UNKNOWN;
    char grader[64] = "x";
    ASSERT_STR_EQ(await_cancel(&f, f.q, 2, &before, grader), NULL);
    ASSERT_EQ(before, RQ_QUEUED);
    ASSERT_STR_EQ(grader, "");
    int64_t depth = 0, pos = 0;
    ASSERT_STR_EQ(await_depth(&f, f.q, POOL, &depth), NULL);
    ASSERT_EQ(depth, 2);
    ASSERT_STR_EQ(await_position(&f, f.q, POOL, 3, &pos), NULL);
    ASSERT_EQ(pos, 1);
    assert_last_event(&f, 2, "CANCELLED");
    int64_t ids[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_outbox(&f, f.q, ids, &n), NULL);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(ids[0], 2);
    struct await_job job;
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_EQ(job.id, 1);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_EQ(job.id, 3);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g1", 60000, &job), NULL);
    ASSERT_FALSE(job.has);
    fixture_finish(&f);
}

TEST(rq_cancel_of_a_running_submission_names_its_grader)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 3, 0, 60000, &job);
    enum rq_state before = RQ_UNKNOWN;
    char grader[64] = "";
    ASSERT_STR_EQ(await_cancel(&f, f.q, 1, &before, grader), NULL);
    ASSERT_EQ(before, RQ_RUNNING);
    ASSERT_STR_EQ(grader, "g1");
    int ok = -1;
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, job.token, "{}", &ok), NULL);
    ASSERT_EQ(ok, 0);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_CANCELLED);
    ASSERT_STR_EQ(sub.message, "cancelled by the participant");
    /* The janitor does not bring it back. */
    struct await_reaped reaped[AWAIT_MAX];
    size_t n = 9;
    ASSERT_STR_EQ(await_reap(&f, f.q, 100, reaped, &n), NULL);
    ASSERT_EQ(n, 0);
    fixture_finish(&f);
}

TEST(rq_cancel_of_a_final_or_unknown_submission_changes_nothing)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 3, 0, 60000, &job);
    int ok = -1;
    ASSERT_STR_EQ(await_complete(&f, f.q, 1, job.token, "{\"score\":3}", &ok), NULL);
    ASSERT_EQ(ok, 1);
    size_t before_count = 0, after_count = 0;
    char type[32];
    last_event(&f, 1, type, sizeof(type), &before_count);
    enum rq_state before = RQ_UNKNOWN;
    char grader[64];
    ASSERT_STR_EQ(await_cancel(&f, f.q, 1, &before, grader), NULL);
    ASSERT_EQ(before, RQ_DONE);
    last_event(&f, 1, type, sizeof(type), &after_count);
    ASSERT_EQ(after_count, before_count);
    ASSERT_STR_EQ(type, "COMPLETE");
    ASSERT_STR_EQ(await_cancel(&f, f.q, 99, &before, grader), NULL);
    ASSERT_EQ(before, RQ_UNKNOWN);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_DONE);
    fixture_finish(&f);
}

TEST(rq_expired_leases_requeue_then_dead_letter)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 2, 0, 50, &job);
    struct await_reaped reaped[AWAIT_MAX];
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].now, RQ_QUEUED);
    ASSERT_STR_EQ(reaped[0].grader, "g1");
    ASSERT_STR_EQ(await_dispatch(&f, f.q, POOL, "g2", 50, &job), NULL);
    ASSERT_TRUE(job.has);
    ASSERT_EQ(job.attempt, 2);
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].id, 1);
    ASSERT_EQ(reaped[0].now, RQ_ERROR);
    ASSERT_STR_EQ(reaped[0].grader, "g2");
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_ERROR);
    assert_last_event(&f, 1, "ERROR");
    int64_t ids[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_dlq(&f, f.q, ids, &n), NULL);
    ASSERT_TRUE(await_has_id(ids, n, 1));
    ASSERT_STR_EQ(await_outbox(&f, f.q, ids, &n), NULL);
    ASSERT_TRUE(await_has_id(ids, n, 1));
    redisReply *r = redis_proc_command(&f.redis, "XRANGE %sdlq - +", FIXTURE_PREFIX);
    ASSERT_EQ(r->elements, 1);
    ASSERT_STR_EQ(r->element[0]->element[1]->element[7]->str, "lease expired");
    freeReplyObject(r);
    fixture_finish(&f);
}

TEST(rq_deadline_gives_timeout)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    queue_and_take(&f, 1, 3, 50, 60000, &job);
    ASSERT_TRUE(job.deadline > 0);
    struct await_reaped reaped[AWAIT_MAX];
    ASSERT_EQ(await_reap_until(&f, f.q, reaped), 1);
    ASSERT_EQ(reaped[0].id, 1);
    ASSERT_EQ(reaped[0].now, RQ_TIMEOUT);
    ASSERT_STR_EQ(reaped[0].grader, "g1");
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 1, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_TIMEOUT);
    assert_last_event(&f, 1, "TIMEOUT");
    int ok = -1;
    ASSERT_STR_EQ(await_progress(&f, f.q, 1, job.token, 60000, 50, &ok), NULL);
    ASSERT_EQ(ok, 0);
    int64_t ids[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_outbox(&f, f.q, ids, &n), NULL);
    ASSERT_TRUE(await_has_id(ids, n, 1));
    fixture_finish(&f);
}
