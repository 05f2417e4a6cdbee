/* Queue tests against a real redis-server: idempotent enqueue, positions under round robin,
 * fairness between participants, fencing tokens, empty pools, refused arguments. */
#include <string.h>
#include <unistd.h>

#include "await.h"
#include "fixture.h"
#include "test.h"

TEST(rq_enqueue_is_idempotent)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    int existing = -1;
    int64_t pos = -2, pos_again = -2;
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", 1, 7, 3, 0, &existing, &pos), NULL);
    ASSERT_EQ(existing, 0);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", 2, 7, 3, 0, &existing, &pos), NULL);
    ASSERT_EQ(existing, 0);
    ASSERT_EQ(pos, 1);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", 2, 7, 3, 0, &existing, &pos_again), NULL);
    ASSERT_EQ(existing, 1);
    ASSERT_EQ(pos_again, pos);
    int64_t depth = 0;
    ASSERT_STR_EQ(await_depth(&f, f.q, "p", &depth), NULL);
    ASSERT_EQ(depth, 2);
    /* One ENQUEUED event only, carrying the position. */
    struct await_event ev[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_events(&f, f.q, 2, 0, ev, &n), NULL);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(ev[0].seq, 1);
    ASSERT_EQ(ev[0].id, 2);
    ASSERT_TRUE(strstr(ev[0].event, "\"type\":\"ENQUEUED\"") != NULL);
    ASSERT_TRUE(strstr(ev[0].event, "\"position\":1}") != NULL);
    fixture_finish(&f);
}

/* The positions given at enqueue and by rq_position are the order dispatch really follows. */
TEST(rq_positions_follow_round_robin)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    /* Participant 1 queues three, then 2 and 3 one each: order 10, 20, 30, 11, 12. */
    const int64_t ids[] = {10, 11, 12, 20, 30};
    const int64_t parts[] = {1, 1, 1, 2, 3};
    const int64_t at_enqueue[] = {0, 1, 2, 1, 2};
    for (size_t i = 0; i < 5; i++) {
        int64_t pos = -2;
        ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", ids[i], parts[i], 3, 0, NULL, &pos), NULL);
        ASSERT_EQ(pos, at_enqueue[i]);
    }
    int64_t expected[5];
    for (size_t i = 0; i < 5; i++)
        ASSERT_STR_EQ(await_position(&f, f.q, "p", ids[i], &expected[i]), NULL);
    ASSERT_EQ(expected[2], 4); /* 12 is behind 10, 20, 30, 11 */
    int64_t other = 0;
    ASSERT_STR_EQ(await_position(&f, f.q, "other", 10, &other), NULL);
    ASSERT_EQ(other, -1);
    for (int64_t turn = 0; turn < 5; turn++) {
        struct await_job job;
        ASSERT_STR_EQ(await_dispatch(&f, f.q, "p", "g1", 60000, &job), NULL);
        ASSERT_TRUE(job.has);
        size_t k = 0;
        while (k < 5 && ids[k] != job.id)
            k++;
        ASSERT_TRUE(k < 5);
        ASSERT_EQ(expected[k], turn);
        int64_t pos = 0;
        ASSERT_STR_EQ(await_position(&f, f.q, "p", job.id, &pos), NULL);
        ASSERT_EQ(pos, -1);
    }
    fixture_finish(&f);
}

TEST(rq_dispatch_is_fair_and_tokens_increase)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    for (int64_t i = 1; i <= 10; i++)
        ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", i, 100, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", 11, 200, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", 12, 200, 3, 0, NULL, NULL), NULL);
    const int64_t want_ids[] = {1, 11, 2, 12, 3, 4, 5, 6, 7, 8, 9, 10};
    uint64_t last_token = 0;
    for (size_t i = 0; i < 12; i++) {
        struct await_job job;
        ASSERT_STR_EQ(await_dispatch(&f, f.q, "p", "g1", 60000, &job), NULL);
        ASSERT_TRUE(job.has);
        ASSERT_EQ(job.id, want_ids[i]);
        ASSERT_EQ(job.participant, want_ids[i] > 10 ? 200 : 100);
        ASSERT_EQ(job.attempt, 1);
        ASSERT_EQ(job.deadline, 0);
        ASSERT_TRUE(job.token > last_token);
        last_token = job.token;
        char payload[64];
        snprintf(payload, sizeof(payload), "{\"file\":\"s%lld.csv\"}", (long long)job.id);
        ASSERT_STR_EQ(job.payload, payload);
    }
    struct await_job job;
    ASSERT_STR_EQ(await_dispatch(&f, f.q, "p", "g1", 60000, &job), NULL);
    ASSERT_FALSE(job.has);
    int64_t depth = -1;
    ASSERT_STR_EQ(await_depth(&f, f.q, "p", &depth), NULL);
    ASSERT_EQ(depth, 0);
    fixture_finish(&f);
}

TEST(rq_dispatch_on_an_empty_pool_gives_no_job)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct await_job job;
    ASSERT_STR_EQ(await_dispatch(&f, f.q, "nothing-here", "g1", 1000, &job), NULL);
    ASSERT_FALSE(job.has);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, "p", 1, 1, 1, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, "nothing-here", "g1", 1000, &job), NULL);
    ASSERT_FALSE(job.has);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, "p", "g1", 1000, &job), NULL);
    ASSERT_TRUE(job.has);
    ASSERT_STR_EQ(await_dispatch(&f, f.q, "p", "g1", 1000, &job), NULL);
    ASSERT_FALSE(job.has);
    fixture_finish(&f);
}

struct refused {
    int done;
    const char *err;
};

static void on_refused(void *ud, const char *err, int existing, int64_t position)
{
    struct refused *r = ud;
    r->done++;
    r->err = err;
}

/* Bad input gets an error from the loop, not before the call returns, and changes nothing. */
TEST(rq_bad_arguments_are_refused_later)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    const char *events[] = {"[1]", "{\"type\":", "\"text\""};
    for (size_t i = 0; i < 3; i++) {
        struct refused r = {0};
        rq_enqueue(f.q, "p", 5, 1, "{}", 3, 0, events[i], on_refused, &r);
        ASSERT_EQ(r.done, 0);
        fixture_wait(&f, &r.done, "a refusal");
        ASSERT_TRUE(r.err != NULL);
    }
    struct refused r = {0};
    rq_enqueue(f.q, "bad:pool", 5, 1, "{}", 3, 0, AWAIT_ENQUEUED, on_refused, &r);
    fixture_wait(&f, &r.done, "a refusal");
    ASSERT_TRUE(r.err != NULL);
    memset(&r, 0, sizeof(r));
    rq_enqueue(f.q, "p", 0, 1, "{}", 3, 0, AWAIT_ENQUEUED, on_refused, &r);
    fixture_wait(&f, &r.done, "a refusal");
    ASSERT_TRUE(r.err != NULL);
    memset(&r, 0, sizeof(r));
    rq_enqueue(f.q, "p", 5, 1, "not json", 3, 0, AWAIT_ENQUEUED, on_refused, &r);
    fixture_wait(&f, &r.done, "a refusal");
    ASSERT_TRUE(r.err != NULL);
    struct await_sub sub;
    ASSERT_STR_EQ(await_get(&f, f.q, 5, &sub), NULL);
    ASSERT_EQ(sub.state, RQ_UNKNOWN);
    fixture_finish(&f);
}

/* Grader presence is shared between brokers, expires, and is withdrawn at once. */
TEST(rq_presence_is_shared_expires_and_is_withdrawn)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct rq *other = fixture_open(&f);
    const char pools[2][64] = {"a", "b"};
    int64_t n = -1;
    ASSERT_STR_EQ(await_online(&f, other, "a", &n), NULL);
    ASSERT_EQ(n, 0);
    ASSERT_STR_EQ(await_presence(&f, f.q, "g1#x", pools, 2, 1, 60000), NULL);
    ASSERT_STR_EQ(await_presence(&f, f.q, "g2#y", pools, 1, 1, 60000), NULL);
    ASSERT_STR_EQ(await_online(&f, other, "a", &n), NULL); /* seen from the other broker */
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(await_online(&f, other, "b", &n), NULL);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(await_presence(&f, f.q, "g1#x", pools, 2, 1, 0), NULL); /* withdrawn */
    ASSERT_STR_EQ(await_online(&f, other, "a", &n), NULL);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(await_online(&f, other, "b", &n), NULL);
    ASSERT_EQ(n, 0);
    /* A presence not renewed expires (a broker that died). */
    ASSERT_STR_EQ(await_presence(&f, f.q, "g3#z", pools + 1, 1, 1, 150), NULL);
    ASSERT_STR_EQ(await_online(&f, other, "b", &n), NULL);
    ASSERT_EQ(n, 1);
    usleep(300 * 1000);
    ASSERT_STR_EQ(await_online(&f, other, "b", &n), NULL);
    ASSERT_EQ(n, 0);
    /* Bad arguments are refused. */
    const char bad[1][64] = {"no spaces"};
    ASSERT_TRUE(await_presence(&f, f.q, "g", bad, 1, 1, 1000) != NULL);
    ASSERT_TRUE(await_presence(&f, f.q, "", pools, 1, 1, 1000) != NULL);
    ASSERT_TRUE(await_presence(&f, f.q, "g", pools, 1, -1, 1000) != NULL);
    ASSERT_TRUE(await_online(&f, f.q, "", &n) != NULL);
    fixture_close_rq(&f, other);
    fixture_finish(&f);
}
