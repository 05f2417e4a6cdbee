/* Event tests against a real redis-server: replay after a sequence number, live delivery to
 * another broker over Pub/Sub, and the shape of the events the scripts write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "await.h"
#include "core/json_check.h"
#include "fixture.h"
#include "queue/rq_scripts.h"
#include "test.h"

#define POOL "p"

/* Submission 1 goes through ENQUEUED, RUNNING, 3 x PROGRESS_UPDATE and COMPLETE. */
static void six_events(struct fixture *f, struct rq *q)
{
    struct await_job job;
    ASSERT_STR_EQ(await_enqueue(f, q, POOL, 1, 1, 3, 0, NULL, NULL), NULL);
    ASSERT_STR_EQ(await_dispatch(f, q, POOL, "g1", 60000, &job), NULL);
    ASSERT_TRUE(job.has);
    int ok = 0;
    for (int pct = 20; pct <= 60; pct += 20) {
        ASSERT_STR_EQ(await_progress(f, q, 1, job.token, 60000, pct, &ok), NULL);
        ASSERT_EQ(ok, 1);
    }
    ASSERT_STR_EQ(await_complete(f, q, 1, job.token, "{\"score\":1}", &ok), NULL);
    ASSERT_EQ(ok, 1);
}

TEST(rq_events_replay_after_seq_exactly)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    six_events(&f, f.q);
    struct await_event all[AWAIT_MAX], tail[AWAIT_MAX];
    size_t n_all = 0, n_tail = 0;
    ASSERT_STR_EQ(await_events(&f, f.q, 1, 0, all, &n_all), NULL);
    ASSERT_EQ(n_all, 6);
    for (int64_t after = 0; after <= 7; after++) {
        ASSERT_STR_EQ(await_events(&f, f.q, 1, after, tail, &n_tail), NULL);
        size_t want = after >= 6 ? 0 : (size_t)(6 - after);
        ASSERT_EQ(n_tail, want);
        for (size_t i = 0; i < n_tail; i++) {
            ASSERT_EQ(tail[i].id, 1);
            ASSERT_EQ(tail[i].seq, after + 1 + (int64_t)i);
            ASSERT_STR_EQ(tail[i].event, all[after + (int64_t)i].event);
        }
    }
    ASSERT_TRUE(strstr(all[5].event, "\"type\":\"COMPLETE\"") != NULL);
    ASSERT_STR_EQ(await_events(&f, f.q, 42, 0, tail, &n_tail), NULL);
    ASSERT_EQ(n_tail, 0);
    fixture_finish(&f);
}

struct live {
    int count;
    int64_t ids[AWAIT_MAX];
    int64_t seqs[AWAIT_MAX];
    char events[AWAIT_MAX][AWAIT_TEXT];
    int want;
    int enough;
    int subscriptions; /* times rq said it (re)subscribed */
    int resubscribed;  /* set at the second one */
};

static void on_live(void *ud, const struct rq_event *ev)
{
    struct live *l = ud;
    if (ev == NULL) {
        l->resubscribed = ++l->subscriptions >= 2;
        return;
    }
    if (l->count >= AWAIT_MAX)
        test_fail(__FILE__, __LINE__, "too many live events");
    l->ids[l->count] = ev->submission_id;
    l->seqs[l->count] = ev->seq;
    await_copy(l->events[l->count], AWAIT_TEXT, ev->event);
    l->count++;
    l->enough = l->count >= l->want;
}

/* Waits until Redis counts one subscriber to the events channel (bounded). */
static void wait_subscribed(struct fixture *f)
{
    for (int i = 0; i < 500; i++) {
        redisReply *r = redis_proc_command(&f->redis, "PUBSUB NUMSUB %sevents", FIXTURE_PREFIX);
        int subscribed = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                         r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == 1;
        freeReplyObject(r);
        if (subscribed)
            return;
        fixture_sleep(f, 20);
    }
    test_fail(__FILE__, __LINE__, "the subscriber never subscribed");
}

/* Subscribes q and waits until Redis counts the subscriber, so that nothing is missed. */
static void subscribe(struct fixture *f, struct rq *q, struct live *l)
{
    rq_subscribe(q, on_live, l);
    wait_subscribed(f);
}

TEST(rq_pubsub_delivers_every_event_to_another_broker)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct rq *other = fixture_open(&f);
    struct live l = {.want = 7};
    subscribe(&f, other, &l);
    six_events(&f, f.q);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 2, 9, 3, 0, NULL, NULL), NULL);
    fixture_wait(&f, &l.enough, "the live events");
    ASSERT_EQ(l.count, 7);
    struct await_event stored[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_events(&f, f.q, 1, 0, stored, &n), NULL);
    ASSERT_EQ(n, 6);
    for (size_t i = 0; i < 6; i++) {
        ASSERT_EQ(l.ids[i], 1);
        ASSERT_EQ(l.seqs[i], (int64_t)i + 1);
        ASSERT_STR_EQ(l.events[i], stored[i].event);
    }
    ASSERT_EQ(l.ids[6], 2);
    ASSERT_EQ(l.seqs[6], 1);
    ASSERT_TRUE(strstr(l.events[6], "\"position\":0") != NULL);
    fixture_close_rq(&f, other);
    fixture_finish(&f);
}

/* A subscriber whose connection dies subscribes again once Redis is back. */
TEST(rq_subscriber_subscribes_again_after_a_restart)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    struct rq *other = fixture_open(&f);
    struct live l = {.want = 1};
    subscribe(&f, other, &l);
    redis_proc_kill(&f.redis);
    fixture_sleep(&f, 50);
    redis_proc_restart(&f.redis);
    wait_subscribed(&f);
    fixture_wait_connected(&f, f.q);
    fixture_wait(&f, &l.resubscribed, "rq saying it subscribed again");
    ASSERT_EQ(l.subscriptions, 2);
    ASSERT_EQ(l.count, 0);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 3, 1, 3, 0, NULL, NULL), NULL);
    fixture_wait(&f, &l.enough, "a live event after the restart");
    ASSERT_EQ(l.ids[0], 3);
    ASSERT_EQ(l.seqs[0], 1);
    fixture_close_rq(&f, other);
    fixture_finish(&f);
}

static void iso_of(long long ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* Years stay within 4 digits here; the wider buffer keeps the compiler's bound happy. */
    char wide[64];
    snprintf(wide, sizeof(wide), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", wide);
}

static long long redis_ms(struct fixture *f)
{
    redisReply *r = redis_proc_command(&f->redis, "TIME");
    ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
    long long ms = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
    freeReplyObject(r);
    return ms;
}

/* The events the scripts write (here CANCELLED) are JSON objects with type, message, data
 * and an ISO 8601 UTC time taken from Redis's clock. */
TEST(rq_script_events_are_well_formed)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    ASSERT_STR_EQ(await_enqueue(&f, f.q, POOL, 1, 1, 3, 0, NULL, NULL), NULL);
    long long before = redis_ms(&f);
    enum rq_state state;
    char grader[64];
    ASSERT_STR_EQ(await_cancel(&f, f.q, 1, &state, grader), NULL);
    long long after = redis_ms(&f);
    struct await_event ev[AWAIT_MAX];
    size_t n = 0;
    ASSERT_STR_EQ(await_events(&f, f.q, 1, 1, ev, &n), NULL);
    ASSERT_EQ(n, 1);
    const char *e = ev[0].event;
    struct json_info info;
    ASSERT_EQ(json_check(e, strlen(e), 8, &info), 0);
    ASSERT_EQ(info.top, '{');
    ASSERT_TRUE(strstr(e, "\"type\":\"CANCELLED\"") != NULL);
    ASSERT_TRUE(strstr(e, "\"message\":\"cancelled by the participant\"") != NULL);
    ASSERT_TRUE(strstr(e, "\"data\":null") != NULL);
    const char *at = strstr(e, "\"at\":\"");
    ASSERT_TRUE(at != NULL);
    char stamp[32] = "", lo[32], hi[32];
    memcpy(stamp, at + 6, 24);
    stamp[24] = '\0';
    iso_of(before, lo);
    iso_of(after, hi);
    /* ISO 8601 strings of one format sort as the times they stand for. */
    ASSERT_TRUE(strcmp(lo, stamp) <= 0);
    ASSERT_TRUE(strcmp(stamp, hi) <= 0);
    fixture_finish(&f);
}

/* The scripts' date arithmetic against gmtime, across leap days and century years: the
 * helpers shared by every script (the text before the depth script's own) plus a line. */
TEST(rq_script_time_stamps_match_gmtime)
{
    struct fixture f;
    fixture_start(&f, 2000, 0);
    const char *body = rq_scripts_body[RQ_SCRIPT_DEPTH];
    const char *own = strstr(body, "\n-- depth:");
    ASSERT_TRUE(own != NULL);
    char script[16384];
    int len = snprintf(script, sizeof(script), "%.*s\nreturn iso_time(tonumber(ARGV[2]))",
                       (int)(own - body), body);
    ASSERT_TRUE(len > 0 && (size_t)len < sizeof(script));
    const long long samples[] = {0LL,
                                 951782400000LL,
                                 951868799999LL,
                                 4107542400123LL,
                                 4102444799999LL,
                                 1709164800500LL,
                                 1735689599999LL,
                                 253402300799999LL};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char want[32], ms[24];
        iso_of(samples[i], want);
        snprintf(ms, sizeof(ms), "%lld", samples[i]);
        redisReply *r = redis_proc_command(&f.redis, "EVAL %s 0 t: %s", script, ms);
        ASSERT_EQ(r->type, REDIS_REPLY_STRING);
        ASSERT_STR_EQ(r->str, want);
        freeReplyObject(r);
    }
    fixture_finish(&f);
}
