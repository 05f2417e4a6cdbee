/* Unit tests for queue/rq_reply: script replies of every wrong shape are refused, right ones
 * are read; live event messages are split into id, seq and event. */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "queue/rq_reply.h"
#include "test.h"

static redisReply int_reply(long long v)
{
    return (redisReply){.type = REDIS_REPLY_INTEGER, .integer = v};
}

static redisReply str_reply(const char *s)
{
    return (redisReply){.type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s)};
}

static redisReply nil_reply(void)
{
    return (redisReply){.type = REDIS_REPLY_NIL};
}

static redisReply array_reply(redisReply **elements, size_t n)
{
    return (redisReply){.type = REDIS_REPLY_ARRAY, .element = elements, .elements = n};
}

TEST(rq_reply_int_is_strict)
{
    int64_t v = 0;
    redisReply r = int_reply(-42);
    ASSERT_EQ(rq_reply_int(&r, &v), 0);
    ASSERT_EQ(v, -42);
    r = str_reply("9007199254740993");
    ASSERT_EQ(rq_reply_int(&r, &v), 0);
    ASSERT_EQ(v, 9007199254740993LL);
    const char *bad[] = {"", " 1", "1 ", "12a", "1.5", "+1", "99999999999999999999", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = str_reply(bad[i]);
        ASSERT_EQ(rq_reply_int(&r, &v), -1);
    }
    r = nil_reply();
    ASSERT_EQ(rq_reply_int(&r, &v), -1);
    ASSERT_EQ(rq_reply_int(NULL, &v), -1);
}

TEST(rq_reply_dispatch_checks_every_element)
{
    redisReply e[6] = {str_reply("12"), str_reply("7"), int_reply(2),
                       int_reply(99),   int_reply(0),   str_reply("{\"a\":1}")};
    redisReply *p[6] = {&e[0], &e[1], &e[2], &e[3], &e[4], &e[5]};
    redisReply r = array_reply(p, 6);
    struct rq_job job;
    int has = -1;
    ASSERT_EQ(rq_reply_dispatch(&r, &has, &job), 0);
    ASSERT_EQ(has, 1);
    ASSERT_EQ(job.submission_id, 12);
    ASSERT_EQ(job.participant_id, 7);
    ASSERT_EQ(job.attempt, 2);
    ASSERT_EQ(job.token, 99);
    ASSERT_EQ(job.deadline, 0);
    ASSERT_STR_EQ(job.payload, "{\"a\":1}");
    redisReply nil = nil_reply();
    ASSERT_EQ(rq_reply_dispatch(&nil, &has, &job), 0);
    ASSERT_EQ(has, 0);
    r.elements = 5;
    ASSERT_EQ(rq_reply_dispatch(&r, &has, &job), -1);
    r.elements = 6;
    e[3] = str_reply("abc"); /* token */
    ASSERT_EQ(rq_reply_dispatch(&r, &has, &job), -1);
    e[3] = int_reply(99);
    e[2] = int_reply(0); /* attempt */
    ASSERT_EQ(rq_reply_dispatch(&r, &has, &job), -1);
    e[2] = int_reply(2);
    e[5] = int_reply(5); /* payload */
    ASSERT_EQ(rq_reply_dispatch(&r, &has, &job), -1);
    e[5] = str_reply("{}");
    e[0] = int_reply(-3); /* id */
    ASSERT_EQ(rq_reply_dispatch(&r, &has, &job), -1);
    redisReply err = {.type = REDIS_REPLY_ERROR, .str = "ERR x", .len = 5};
    ASSERT_EQ(rq_reply_dispatch(&err, &has, &job), -1);
}

TEST(rq_reply_fail_and_cancel_check_states)
{
    redisReply e[3] = {int_reply(1), str_reply("QUEUED"), int_reply(40)};
    redisReply *p[3] = {&e[0], &e[1], &e[2]};
    redisReply r = array_reply(p, 3);
    int ok = 0;
    enum rq_state st = RQ_UNKNOWN;
    int64_t retry = 0;
    ASSERT_EQ(rq_reply_fail(&r, &ok, &st, &retry), 0);
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(st, RQ_QUEUED);
    ASSERT_EQ(retry, 40);
    e[1] = str_reply("RUNNING"); /* applied, yet neither queued nor dead */
    ASSERT_EQ(rq_reply_fail(&r, &ok, &st, &retry), -1);
    e[1] = str_reply("queued");
    ASSERT_EQ(rq_reply_fail(&r, &ok, &st, &retry), -1);
    e[1] = str_reply("ERROR");
    e[2] = int_reply(-1);
    ASSERT_EQ(rq_reply_fail(&r, &ok, &st, &retry), -1);
    redisReply c[2] = {str_reply("RUNNING"), str_reply("g7")};
    redisReply *cp[2] = {&c[0], &c[1]};
    redisReply cr = array_reply(cp, 2);
    const char *grader = NULL;
    ASSERT_EQ(rq_reply_cancel(&cr, &st, &grader), 0);
    ASSERT_EQ(st, RQ_RUNNING);
    ASSERT_STR_EQ(grader, "g7");
    c[1] = str_reply("");
    ASSERT_EQ(rq_reply_cancel(&cr, &st, &grader), 0);
    ASSERT_TRUE(grader == NULL);
    c[1] = nil_reply();
    ASSERT_EQ(rq_reply_cancel(&cr, &st, &grader), -1);
}

TEST(rq_reply_lists_check_their_items)
{
    redisReply e[6] = {str_reply("5"), str_reply("QUEUED"),  str_reply("g1"),
                       str_reply("6"), str_reply("TIMEOUT"), str_reply("")};
    redisReply *p[6] = {&e[0], &e[1], &e[2], &e[3], &e[4], &e[5]};
    redisReply r = array_reply(p, 6);
    size_t n = 0;
    ASSERT_EQ(rq_reply_reap(&r, &n), 0);
    ASSERT_EQ(n, 2);
    int64_t id;
    enum rq_state st;
    const char *grader;
    rq_reply_reap_item(&r, 1, &id, &st, &grader);
    ASSERT_EQ(id, 6);
    ASSERT_EQ(st, RQ_TIMEOUT);
    ASSERT_TRUE(grader == NULL);
    r.elements = 4;
    ASSERT_EQ(rq_reply_reap(&r, &n), -1);
    r.elements = 6;
    e[3] = str_reply("0");
    ASSERT_EQ(rq_reply_reap(&r, &n), -1);
    /* events: {seq, event} pairs with seq > 0 */
    redisReply v[4] = {int_reply(1), str_reply("{}"), int_reply(2), str_reply("{\"a\":2}")};
    redisReply *vp[4] = {&v[0], &v[1], &v[2], &v[3]};
    redisReply vr = array_reply(vp, 4);
    ASSERT_EQ(rq_reply_events(&vr, &n), 0);
    ASSERT_EQ(n, 2);
    vr.elements = 3;
    ASSERT_EQ(rq_reply_events(&vr, &n), -1);
    vr.elements = 4;
    v[2] = int_reply(0);
    ASSERT_EQ(rq_reply_events(&vr, &n), -1);
    /* ids: positive integers only, no nested arrays */
    int64_t *ids = NULL;
    redisReply i[2] = {str_reply("3"), array_reply(NULL, 0)};
    redisReply *ip[2] = {&i[0], &i[1]};
    redisReply ir = array_reply(ip, 2);
    ASSERT_EQ(rq_reply_ids(&ir, &ids, &n), -1);
    ir.elements = 1;
    ASSERT_EQ(rq_reply_ids(&ir, &ids, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(ids[0], 3);
    free(ids);
}

TEST(rq_reply_get_reads_a_submission)
{
    redisReply e[4] = {str_reply("DONE"), str_reply("{\"s\":1}"), str_reply(""), int_reply(2)};
    redisReply *p[4] = {&e[0], &e[1], &e[2], &e[3]};
    redisReply r = array_reply(p, 4);
    enum rq_state st;
    const char *result, *message;
    int attempt;
    ASSERT_EQ(rq_reply_get(&r, &st, &result, &message, &attempt), 0);
    ASSERT_EQ(st, RQ_DONE);
    ASSERT_STR_EQ(result, "{\"s\":1}");
    ASSERT_TRUE(message == NULL);
    ASSERT_EQ(attempt, 2);
    e[0] = str_reply("UNKNOWN");
    ASSERT_EQ(rq_reply_get(&r, &st, &result, &message, &attempt), -1);
    e[0] = str_reply("DONE");
    e[3] = str_reply("two");
    ASSERT_EQ(rq_reply_get(&r, &st, &result, &message, &attempt), -1);
    redisReply nil = nil_reply();
    ASSERT_EQ(rq_reply_get(&nil, &st, &result, &message, &attempt), 0);
    ASSERT_EQ(st, RQ_UNKNOWN);
}

TEST(rq_reply_live_splits_messages)
{
    struct buf ev;
    buf_init(&ev, 1024);
    int64_t id = 0, seq = 0;
    const char *m = "{\"submission_id\":12,\"seq\":3,\"type\":\"INFO\",\"data\":null}";
    ASSERT_EQ(rq_reply_live(m, strlen(m), &id, &seq, &ev), 0);
    ASSERT_EQ(id, 12);
    ASSERT_EQ(seq, 3);
    ASSERT_MEM_STR(ev.data, ev.len, "{\"type\":\"INFO\",\"data\":null}");
    m = "{\"submission_id\":1,\"seq\":1}";
    ASSERT_EQ(rq_reply_live(m, strlen(m), &id, &seq, &ev), 0);
    ASSERT_MEM_STR(ev.data, ev.len, "{}");
    const char *bad[] = {
        "",
        "{\"submission_id\":0,\"seq\":1}",
        "{\"submission_id\":1,\"seq\":0}",
        "{\"submission_id\":-1,\"seq\":1}",
        "{\"submission_id\":1,\"seq\":2",
        "{\"submission_id\":1,\"seq\":2,}",
        "{\"submission_id\":1,\"seq\":2,\"a\":1",
        "{\"seq\":2,\"submission_id\":1}",
        "{\"submission_id\":1234567890123456789,\"seq\":1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_EQ(rq_reply_live(bad[i], strlen(bad[i]), &id, &seq, &ev), -1);
    buf_release(&ev);
}
