/* Defensive readers for the replies of the queue's scripts; see rq_reply.h. */
#include "queue/rq_reply.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

int rq_reply_int(const redisReply *r, int64_t *out)
{
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = r->integer;
        return 0;
    }
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20)
        return -1;
    const char *s = r->str;
    if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end != s + r->len)
        return -1;
    *out = v;
    return 0;
}

int rq_reply_str(const redisReply *r, const char **s, size_t *len)
{
    if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) ||
        r->str == NULL)
        return -1;
    *s = r->str;
    if (len != NULL)
        *len = r->len;
    return 0;
}

static const char *const state_names[] = {
    [RQ_QUEUED] = "QUEUED",   [RQ_RUNNING] = "RUNNING", [RQ_DONE] = "DONE",
    [RQ_ERROR] = "ERROR",     [RQ_TIMEOUT] = "TIMEOUT", [RQ_CANCELLED] = "CANCELLED",
    [RQ_UNKNOWN] = "UNKNOWN",
};

int rq_reply_state(const redisReply *r, enum rq_state *out)
{
    const char *s;
    size_t len;
    if (rq_reply_str(r, &s, &len) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strlen(state_names[i]) == len && memcmp(state_names[i], s, len) == 0) {
            *out = (enum rq_state)i;
            return 0;
        }
    }
    return -1;
}

const redisReply *rq_reply_array(const redisReply *r, size_t n)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || (n != 0 && r->elements != n))
        return NULL;
    if (r->elements > 0 && r->element == NULL)
        return NULL;
    return r;
}

static int int_in(const redisReply *r, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    if (rq_reply_int(r, &v) != 0 || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int rq_reply_enqueue(const redisReply *r, int *existing, int64_t *position)
{
    int64_t e;
    if (rq_reply_array(r, 2) == NULL || int_in(r->element[0], 0, 1, &e) != 0 ||
        int_in(r->element[1], -1, INT64_MAX, position) != 0)
        return -1;
    *existing = (int)e;
    return 0;
}

int rq_reply_dispatch(const redisReply *r, int *has_job, struct rq_job *job)
{
    if (r != NULL && r->type == REDIS_REPLY_NIL) {
        *has_job = 0;
        return 0;
    }
    int64_t attempt, token;
    if (rq_reply_array(r, 6) == NULL || int_in(r->element[0], 1, INT64_MAX, &job->submission_id) ||
        rq_reply_int(r->element[1], &job->participant_id) ||
        int_in(r->element[2], 1, INT32_MAX, &attempt) ||
        int_in(r->element[3], 1, INT64_MAX, &token) ||
        int_in(r->element[4], 0, INT64_MAX, &job->deadline) ||
        rq_reply_str(r->element[5], &job->payload, NULL))
        return -1;
    job->attempt = (int)attempt;
    job->token = (uint64_t)token;
    *has_job = 1;
    return 0;
}

int rq_reply_fenced(const redisReply *r, int *ok)
{
    int64_t v;
    if (int_in(r, 0, 1, &v) != 0)
        return -1;
    *ok = (int)v;
    return 0;
}

int rq_reply_fail(const redisReply *r, int *ok, enum rq_state *outcome, int64_t *retry_in_ms)
{
    int64_t applied;
    if (rq_reply_array(r, 3) == NULL || int_in(r->element[0], 0, 1, &applied) != 0 ||
        rq_reply_state(r->element[1], outcome) != 0 ||
        int_in(r->element[2], 0, INT64_MAX, retry_in_ms) != 0)
        return -1;
    if (applied && *outcome != RQ_QUEUED && *outcome != RQ_ERROR)
        return -1;
    *ok = (int)applied;
    return 0;
}

static const char *str_or_null(const redisReply *r)
{
    return r->len > 0 ? r->str : NULL;
}

int rq_reply_cancel(const redisReply *r, enum rq_state *before, const char **grader)
{
    const char *g;
    if (rq_reply_array(r, 2) == NULL || rq_reply_state(r->element[0], before) != 0 ||
        rq_reply_str(r->element[1], &g, NULL) != 0)
        return -1;
    *grader = str_or_null(r->element[1]);
    return 0;
}

int rq_reply_reap(const redisReply *r, size_t *count)
{
    if (rq_reply_array(r, 0) == NULL || r->elements % 3 != 0)
        return -1;
    for (size_t i = 0; i < r->elements; i += 3) {
        int64_t id;
        enum rq_state state;
        const char *g;
        if (int_in(r->element[i], 1, INT64_MAX, &id) != 0 ||
            rq_reply_state(r->element[i + 1], &state) != 0 ||
            rq_reply_str(r->element[i + 2], &g, NULL) != 0)
            return -1;
    }
    *count = r->elements / 3;
    return 0;
}

void rq_reply_reap_item(const redisReply *r, size_t i, int64_t *id, enum rq_state *now,
                        const char **grader)
{
    rq_reply_int(r->element[3 * i], id);
    rq_reply_state(r->element[3 * i + 1], now);
    *grader = str_or_null(r->element[3 * i + 2]);
}

int rq_reply_events(const redisReply *r, size_t *count)
{
    if (rq_reply_array(r, 0) == NULL || r->elements % 2 != 0)
        return -1;
    for (size_t i = 0; i < r->elements; i += 2) {
        int64_t seq;
        const char *ev;
        if (int_in(r->element[i], 1, INT64_MAX, &seq) != 0 ||
            rq_reply_str(r->element[i + 1], &ev, NULL) != 0)
            return -1;
    }
    *count = r->elements / 2;
    return 0;
}

void rq_reply_events_item(const redisReply *r, size_t i, int64_t *seq, const char **event)
{
    rq_reply_int(r->element[2 * i], seq);
    *event = r->element[2 * i + 1]->str;
}

int rq_reply_ids(const redisReply *r, int64_t **ids, size_t *n)
{
    if (rq_reply_array(r, 0) == NULL)
        return -1;
    int64_t *out = xcalloc(r->elements, sizeof(*out));
    for (size_t i = 0; i < r->elements; i++) {
        if (int_in(r->element[i], 1, INT64_MAX, &out[i]) != 0) {
            free(out);
            return -1;
        }
    }
    *ids = out;
    *n = r->elements;
    return 0;
}

int rq_reply_get(const redisReply *r, enum rq_state *state, const char **result,
                 const char **message, int *attempt)
{
    if (r != NULL && r->type == REDIS_REPLY_NIL) {
        *state = RQ_UNKNOWN;
        *result = *message = NULL;
        *attempt = 0;
        return 0;
    }
    int64_t a;
    if (rq_reply_array(r, 4) == NULL || rq_reply_state(r->element[0], state) != 0 ||
        *state == RQ_UNKNOWN || rq_reply_str(r->element[1], result, NULL) != 0 ||
        rq_reply_str(r->element[2], message, NULL) != 0 ||
        int_in(r->element[3], 0, INT32_MAX, &a) != 0)
        return -1;
    *result = str_or_null(r->element[1]);
    *message = str_or_null(r->element[2]);
    *attempt = (int)a;
    return 0;
}

#define STATS_FIGURES 9

int rq_reply_stats(const redisReply *r, struct rq_pool_stats *s)
{
    int64_t v[STATS_FIGURES + RQ_STATS_MINUTES];
    const size_t n = sizeof(v) / sizeof(v[0]);
    if (rq_reply_array(r, n) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t lo = i == 5 ? -1 : 0; /* oldest_queued_ms: -1 when nothing is queued */
        if (int_in(r->element[i], lo, INT64_MAX, &v[i]) != 0)
            return -1;
    }
    s->graders_online = v[0];
    s->capacity_online = v[1];
    s->queued = v[2];
    s->running = v[3];
    s->retrying = v[4];
    s->oldest_queued_ms = v[5];
    s->retried_hour = v[6];
    s->dead_hour = v[7];
    s->finished_hour = v[8];
    memcpy(s->finished_per_minute, v + STATS_FIGURES, sizeof(s->finished_per_minute));
    return 0;
}

/* Reads a decimal integer > 0 of at most 18 digits at *p, advancing it. */
static int read_positive(const char **p, const char *end, int64_t *out)
{
    int64_t v = 0;
    const char *s = *p;
    while (s < end && *s >= '0' && *s <= '9' && s - *p < 18)
        v = v * 10 + (*s++ - '0');
    if (s == *p || v == 0 || (s < end && *s >= '0' && *s <= '9'))
        return -1;
    *p = s;
    *out = v;
    return 0;
}

static int expect(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return -1;
    *p += n;
    return 0;
}

int rq_reply_live(const char *msg, size_t len, int64_t *id, int64_t *seq, struct buf *event)
{
    const char *p = msg, *end = msg + len;
    if (expect(&p, end, "{\"submission_id\":") != 0 || read_positive(&p, end, id) != 0 ||
        expect(&p, end, ",\"seq\":") != 0 || read_positive(&p, end, seq) != 0 || p == end)
        return -1;
    buf_reset(event);
    if (*p == '}' && p + 1 == end)
        return buf_append_str(event, "{}");
    if (*p != ',' || end[-1] != '}' || end - p < 3)
        return -1;
    if (buf_append_char(event, '{') != 0 || buf_append(event, p + 1, (size_t)(end - p - 1)) != 0)
        return -1;
    return 0;
}
