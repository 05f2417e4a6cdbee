/* The durable job queue (rq.h) on rq_conn: checks the arguments, runs one Lua script per
 * call, reads its reply defensively and calls back. Log lines never carry payloads. */
#include "queue/rq.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_check.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "queue/rq_conn.h"
#include "queue/rq_reply.h"
#include "queue/rq_scripts.h"

const char rq_err_timeout[] = "redis command timed out";
const char rq_err_unavailable[] = "redis unavailable";
static const char err_script[] = "redis script error";
static const char err_reply[] = "malformed redis reply";
static const char err_args[] = "invalid arguments";
static const char err_not_dead[] = "not in the dead-letter queue";

#define DEFAULT_TIMEOUT_MS 2000
#define BACKOFF_BASE_MS    100
#define BACKOFF_CAP_MS     2000
#define MAX_PENDING        100000
#define MAX_ARGS           12
#define MAX_NAME_LEN       200
#define MAX_LIVE_EVENT     (16u << 20)

struct rq {
    uv_loop_t *loop;
    char *prefix;
    char *channel;
    char *host, *unix_path;
    int port;
    uint64_t timeout_ms;
    struct rq_conn *cmd;
    struct rq_conn *sub;
    rq_live_cb live_cb;
    void *live_ud;
    int closing;
};

/* One call in flight: the caller's callback, of the type its function takes. */
struct call {
    enum rq_script script;
    int64_t id; /* the submission, for the events it reads */
    void *ud;
    union {
        rq_done_cb done;
        rq_enqueue_cb enqueue;
        rq_dispatch_cb dispatch;
        rq_fenced_cb fenced;
        rq_fail_cb fail;
        rq_cancel_cb cancel;
        rq_events_cb events;
        rq_reap_cb reap;
        rq_ids_cb ids;
        rq_count_cb count;
        rq_sub_cb sub;
        rq_stats_cb stats;
    } cb;
};

/* A script's arguments; ARGV[1] is always the key prefix. */
struct args {
    const char *v[MAX_ARGS];
    size_t len[MAX_ARGS];
    size_t n;
    char nums[MAX_ARGS][24];
};

static void args_init(struct args *a, const struct rq *q)
{
    a->n = 0;
    a->v[a->n] = q->prefix;
    a->len[a->n++] = strlen(q->prefix);
}

static void args_str(struct args *a, const char *s)
{
    a->v[a->n] = s != NULL ? s : "";
    a->len[a->n] = strlen(a->v[a->n]);
    a->n++;
}

static void args_int(struct args *a, int64_t v)
{
    int len = snprintf(a->nums[a->n], sizeof(a->nums[a->n]), "%" PRId64, v);
    a->v[a->n] = a->nums[a->n];
    a->len[a->n++] = (size_t)len;
}

static void args_uint(struct args *a, uint64_t v)
{
    int len = snprintf(a->nums[a->n], sizeof(a->nums[a->n]), "%" PRIu64, v);
    a->v[a->n] = a->nums[a->n];
    a->len[a->n++] = (size_t)len;
}

/* ---- argument checks ---- */

/* Pool names become parts of keys: letters, digits, '_', '-' and '.', at most 100. */
static int valid_pool(const char *pool)
{
    if (pool == NULL || pool[0] == '\0' || strlen(pool) > 100)
        return 0;
    for (const char *p = pool; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

static int valid_name(const char *s)
{
    return s != NULL && s[0] != '\0' && strlen(s) <= MAX_NAME_LEN;
}

static int valid_json(const char *s, int object)
{
    struct json_info info;
    if (s == NULL || json_check(s, strlen(s), JSON_CHECK_MAX_DEPTH, &info) != 0)
        return 0;
    return !object || info.top == '{';
}

/* ---- calls ---- */

static struct call *call_new(enum rq_script script, void *ud)
{
    struct call *call = xcalloc(1, sizeof(*call));
    call->script = script;
    call->ud = ud;
    return call;
}

static void call_run(struct rq *q, struct call *call, const struct args *a,
                     rq_conn_reply_cb on_reply)
{
    rq_conn_eval(q->cmd, call->script, a->n, a->v, a->len, on_reply, call);
}

static void call_refuse(struct rq *q, struct call *call, const char *why, rq_conn_reply_cb on_reply)
{
    log_info("rq", "call refused: op=%s reason=\"%s\"", rq_scripts_name[call->script], why);
    rq_conn_defer(q->cmd, err_args, on_reply, call);
}

/* The error for a reply: the transport's, or a script error (logged), or NULL. */
static const char *reply_error(const struct call *call, const char *err, const redisReply *r)
{
    if (err != NULL)
        return err;
    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("rq", "script failed: op=%s error=\"%.200s\"", rq_scripts_name[call->script],
                 r->str != NULL ? r->str : "");
        return err_script;
    }
    return NULL;
}

static const char *malformed(const struct call *call)
{
    log_warn("rq", "malformed reply: op=%s", rq_scripts_name[call->script]);
    return err_reply;
}

/* ---- replies ---- */

static void on_enqueue_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    int existing = 0;
    int64_t position = -1;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_enqueue(r, &existing, &position) != 0)
        err = malformed(call);
    call->cb.enqueue(call->ud, err, existing, position);
    free(call);
}

static void on_dispatch_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    struct rq_job job;
    int has_job = 0;
    memset(&job, 0, sizeof(job));
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_dispatch(r, &has_job, &job) != 0)
        err = malformed(call);
    call->cb.dispatch(call->ud, err, err == NULL && has_job ? &job : NULL);
    free(call);
}

static void on_fenced_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    int ok = 0;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_fenced(r, &ok) != 0)
        err = malformed(call);
    if (err == NULL && !ok)
        log_info("rq", "stale token refused: op=%s", rq_scripts_name[call->script]);
    call->cb.fenced(call->ud, err, ok);
    free(call);
}

static void on_fail_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    int ok = 0;
    enum rq_state outcome = RQ_UNKNOWN;
    int64_t retry_in_ms = 0;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_fail(r, &ok, &outcome, &retry_in_ms) != 0)
        err = malformed(call);
    if (err != NULL || !ok) {
        outcome = RQ_UNKNOWN;
        retry_in_ms = 0;
    }
    call->cb.fail(call->ud, err, ok, outcome, retry_in_ms);
    free(call);
}

static void on_cancel_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    enum rq_state before = RQ_UNKNOWN;
    const char *grader = NULL;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_cancel(r, &before, &grader) != 0)
        err = malformed(call);
    if (err != NULL) {
        before = RQ_UNKNOWN;
        grader = NULL;
    }
    call->cb.cancel(call->ud, err, before, grader);
    free(call);
}

static void on_reap_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    size_t n = 0;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_reap(r, &n) != 0)
        err = malformed(call);
    for (size_t i = 0; err == NULL && i < n; i++) {
        int64_t id;
        enum rq_state now;
        const char *grader;
        rq_reply_reap_item(r, i, &id, &now, &grader);
        call->cb.reap(call->ud, NULL, id, now, grader);
    }
    if (err == NULL && n > 0)
        log_info("rq", "janitor changed jobs: count=%zu", n);
    call->cb.reap(call->ud, err, 0, RQ_UNKNOWN, NULL);
    free(call);
}

static void on_events_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    size_t n = 0;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_events(r, &n) != 0)
        err = malformed(call);
    for (size_t i = 0; err == NULL && i < n; i++) {
        struct rq_event ev = {.submission_id = call->id};
        rq_reply_events_item(r, i, &ev.seq, &ev.event);
        call->cb.events(call->ud, NULL, &ev);
    }
    call->cb.events(call->ud, err, NULL);
    free(call);
}

static void on_ids_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    int64_t *ids = NULL;
    size_t n = 0;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_ids(r, &ids, &n) != 0)
        err = malformed(call);
    call->cb.ids(call->ud, err, err == NULL ? ids : NULL, err == NULL ? n : 0);
    free(ids);
    free(call);
}

static void on_count_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    int64_t n = 0;
    err = reply_error(call, err, r);
    if (err == NULL && (rq_reply_int(r, &n) != 0 || n < -1))
        err = malformed(call);
    call->cb.count(call->ud, err, err == NULL ? n : 0);
    free(call);
}

static void on_done_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    int64_t n = 0;
    err = reply_error(call, err, r);
    if (err == NULL && (rq_reply_int(r, &n) != 0 || n < 0 || n > 1))
        err = malformed(call);
    if (err == NULL && call->script == RQ_SCRIPT_DLQ_REQUEUE && n == 0)
        err = err_not_dead;
    call->cb.done(call->ud, err);
    free(call);
}

static void on_get_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    enum rq_state state = RQ_UNKNOWN;
    const char *result = NULL, *message = NULL;
    int attempt = 0;
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_get(r, &state, &result, &message, &attempt) != 0)
        err = malformed(call);
    if (err != NULL) {
        state = RQ_UNKNOWN;
        result = message = NULL;
        attempt = 0;
    }
    call->cb.sub(call->ud, err, state, result, message, attempt);
    free(call);
}

static void on_stats_reply(void *ud, const char *err, const redisReply *r)
{
    struct call *call = ud;
    struct rq_pool_stats s;
    memset(&s, 0, sizeof(s));
    err = reply_error(call, err, r);
    if (err == NULL && rq_reply_stats(r, &s) != 0)
        err = malformed(call);
    call->cb.stats(call->ud, err, err == NULL ? &s : NULL);
    free(call);
}

/* ---- life cycle ---- */

static struct rq_conn *open_conn(struct rq *q, const char *name, const char *const *scripts,
                                 size_t nscripts)
{
    struct rq_conn_config cfg = {
        .name = name,
        .host = q->host,
        .port = q->port,
        .unix_path = q->unix_path,
        .command_timeout_ms = q->timeout_ms,
        .backoff_base_ms = BACKOFF_BASE_MS,
        .backoff_cap_ms = BACKOFF_CAP_MS,
        .max_pending = MAX_PENDING,
        .scripts = scripts,
        .nscripts = nscripts,
    };
    return rq_conn_new(q->loop, &cfg);
}

struct rq *rq_new(uv_loop_t *loop, const struct rq_config *cfg)
{
    struct rq *q = xcalloc(1, sizeof(*q));
    q->loop = loop;
    q->prefix = xstrdup(cfg->prefix != NULL ? cfg->prefix : "crowdai:");
    size_t len = strlen(q->prefix) + sizeof("events");
    q->channel = xmalloc(len);
    snprintf(q->channel, len, "%sevents", q->prefix);
    q->host = cfg->host != NULL ? xstrdup(cfg->host) : NULL;
    q->unix_path = cfg->unix_path != NULL ? xstrdup(cfg->unix_path) : NULL;
    q->port = cfg->port;
    q->timeout_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms : DEFAULT_TIMEOUT_MS;
    q->cmd = open_conn(q, "cmd", rq_scripts_body, RQ_SCRIPT_COUNT);
    return q;
}

void rq_free(struct rq *q)
{
    if (q == NULL || q->closing)
        return;
    q->closing = 1;
    rq_conn_free(q->cmd);
    rq_conn_free(q->sub);
    free(q->prefix);
    free(q->channel);
    free(q->host);
    free(q->unix_path);
    free(q);
}

int rq_connected(const struct rq *q)
{
    return rq_conn_ready(q->cmd);
}

/* ---- calls ---- */

void rq_enqueue(struct rq *q, const char *pool, int64_t submission_id, int64_t participant_id,
                const char *payload, int max_attempts, int64_t time_limit_ms, const char *event,
                rq_enqueue_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_ENQUEUE, ud);
    call->cb.enqueue = cb;
    if (!valid_pool(pool) || submission_id <= 0 || max_attempts < 1 || time_limit_ms < 0 ||
        !valid_json(payload, 0) || !valid_json(event, 1)) {
        call_refuse(q, call, "bad pool, id, attempts, time limit, payload or event",
                    on_enqueue_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_str(&a, pool);
    args_int(&a, submission_id);
    args_int(&a, participant_id);
    args_str(&a, payload);
    args_int(&a, max_attempts);
    args_int(&a, time_limit_ms);
    args_str(&a, event);
    call_run(q, call, &a, on_enqueue_reply);
}

void rq_dispatch(struct rq *q, const char *pool, const char *grader, int64_t lease_ms,
                 const char *running_event, rq_dispatch_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_DISPATCH, ud);
    call->cb.dispatch = cb;
    if (!valid_pool(pool) || !valid_name(grader) || lease_ms <= 0 ||
        !valid_json(running_event, 1)) {
        call_refuse(q, call, "bad pool, grader, lease or event", on_dispatch_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_str(&a, pool);
    args_str(&a, grader);
    args_int(&a, lease_ms);
    args_str(&a, running_event);
    call_run(q, call, &a, on_dispatch_reply);
}

void rq_progress(struct rq *q, int64_t submission_id, uint64_t token, int64_t lease_ms,
                 const char *event, rq_fenced_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_PROGRESS, ud);
    call->cb.fenced = cb;
    if (submission_id <= 0 || lease_ms <= 0 || (event[0] != '\0' && !valid_json(event, 1))) {
        call_refuse(q, call, "bad id, lease or event", on_fenced_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    args_uint(&a, token);
    args_int(&a, lease_ms);
    args_str(&a, event);
    call_run(q, call, &a, on_fenced_reply);
}

void rq_renew(struct rq *q, int64_t submission_id, uint64_t token, int64_t lease_ms,
              rq_fenced_cb cb, void *ud)
{
    rq_progress(q, submission_id, token, lease_ms, "", cb, ud);
}

void rq_note(struct rq *q, int64_t submission_id, const char *event, rq_fenced_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_NOTE, ud);
    call->cb.fenced = cb;
    if (submission_id <= 0 || !valid_json(event, 1)) {
        call_refuse(q, call, "bad id or event", on_fenced_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    args_str(&a, event);
    call_run(q, call, &a, on_fenced_reply);
}

void rq_complete(struct rq *q, int64_t submission_id, uint64_t token, const char *result,
                 const char *event, rq_fenced_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_COMPLETE, ud);
    call->cb.fenced = cb;
    if (submission_id <= 0 || !valid_json(result, 0) || !valid_json(event, 1)) {
        call_refuse(q, call, "bad id, result or event", on_fenced_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    args_uint(&a, token);
    args_str(&a, result);
    args_str(&a, event);
    call_run(q, call, &a, on_fenced_reply);
}

void rq_fail(struct rq *q, int64_t submission_id, uint64_t token, int retryable,
             const char *message, int64_t base_ms, int64_t cap_ms, rq_fail_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_FAIL, ud);
    call->cb.fail = cb;
    if (submission_id <= 0 || base_ms < 0 || cap_ms < base_ms) {
        call_refuse(q, call, "bad id or backoff", on_fail_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    args_uint(&a, token);
    args_int(&a, retryable ? 1 : 0);
    args_str(&a, message);
    args_int(&a, base_ms);
    args_int(&a, cap_ms);
    call_run(q, call, &a, on_fail_reply);
}

void rq_release(struct rq *q, int64_t submission_id, uint64_t token, rq_fenced_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_RELEASE, ud);
    call->cb.fenced = cb;
    if (submission_id <= 0) {
        call_refuse(q, call, "bad id", on_fenced_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    args_uint(&a, token);
    call_run(q, call, &a, on_fenced_reply);
}

void rq_cancel(struct rq *q, int64_t submission_id, const char *message, rq_cancel_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_CANCEL, ud);
    call->cb.cancel = cb;
    if (submission_id <= 0) {
        call_refuse(q, call, "bad id", on_cancel_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    args_str(&a, message);
    call_run(q, call, &a, on_cancel_reply);
}

void rq_reap(struct rq *q, int max_jobs, rq_reap_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_REAP, ud);
    call->cb.reap = cb;
    if (max_jobs <= 0) {
        call_refuse(q, call, "bad max_jobs", on_reap_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, max_jobs);
    call_run(q, call, &a, on_reap_reply);
}

void rq_events(struct rq *q, int64_t submission_id, int64_t after_seq, rq_events_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_EVENTS, ud);
    call->cb.events = cb;
    call->id = submission_id;
    if (submission_id <= 0 || after_seq < 0) {
        call_refuse(q, call, "bad id or seq", on_events_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    args_int(&a, after_seq);
    call_run(q, call, &a, on_events_reply);
}

static void on_live(void *ud, const char *msg, size_t len)
{
    struct rq *q = ud;
    if (msg == NULL) {
        if (q->live_cb != NULL)
            q->live_cb(q->live_ud, NULL); /* (re)subscribed: replay what was missed */
        return;
    }
    struct rq_event ev;
    struct buf event;
    buf_init(&event, MAX_LIVE_EVENT);
    if (rq_reply_live(msg, len, &ev.submission_id, &ev.seq, &event) != 0) {
        log_warn("rq", "malformed live event dropped: bytes=%zu", len);
        buf_release(&event);
        return;
    }
    ev.event = event.data;
    if (q->live_cb != NULL)
        q->live_cb(q->live_ud, &ev); /* may free q */
    buf_release(&event);
}

void rq_subscribe(struct rq *q, rq_live_cb cb, void *ud)
{
    if (q->closing)
        return;
    q->live_cb = cb;
    q->live_ud = ud;
    if (q->sub != NULL)
        return;
    q->sub = open_conn(q, "sub", NULL, 0);
    rq_conn_subscribe(q->sub, q->channel, on_live, q);
}

static void run_ids(struct rq *q, enum rq_script script, int max, rq_ids_cb cb, void *ud)
{
    struct call *call = call_new(script, ud);
    call->cb.ids = cb;
    if (max <= 0) {
        call_refuse(q, call, "bad max", on_ids_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, max);
    call_run(q, call, &a, on_ids_reply);
}

void rq_outbox_list(struct rq *q, int max, rq_ids_cb cb, void *ud)
{
    run_ids(q, RQ_SCRIPT_OUTBOX_LIST, max, cb, ud);
}

static void run_done(struct rq *q, enum rq_script script, int64_t submission_id, rq_done_cb cb,
                     void *ud)
{
    struct call *call = call_new(script, ud);
    call->cb.done = cb;
    if (submission_id <= 0) {
        call_refuse(q, call, "bad id", on_done_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    call_run(q, call, &a, on_done_reply);
}

void rq_outbox_remove(struct rq *q, int64_t submission_id, rq_done_cb cb, void *ud)
{
    run_done(q, RQ_SCRIPT_OUTBOX_REMOVE, submission_id, cb, ud);
}

void rq_get(struct rq *q, int64_t submission_id, rq_sub_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_GET, ud);
    call->cb.sub = cb;
    if (submission_id <= 0) {
        call_refuse(q, call, "bad id", on_get_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_int(&a, submission_id);
    call_run(q, call, &a, on_get_reply);
}

/* A script whose only argument is a pool and whose answer is a count. */
static void run_pool_count(struct rq *q, enum rq_script script, const char *pool, rq_count_cb cb,
                           void *ud)
{
    struct call *call = call_new(script, ud);
    call->cb.count = cb;
    if (!valid_pool(pool)) {
        call_refuse(q, call, "bad pool", on_count_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_str(&a, pool);
    call_run(q, call, &a, on_count_reply);
}

void rq_depth(struct rq *q, const char *pool, rq_count_cb cb, void *ud)
{
    run_pool_count(q, RQ_SCRIPT_DEPTH, pool, cb, ud);
}

void rq_position(struct rq *q, const char *pool, int64_t submission_id, rq_count_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_POSITION, ud);
    call->cb.count = cb;
    if (!valid_pool(pool) || submission_id <= 0) {
        call_refuse(q, call, "bad pool or id", on_count_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_str(&a, pool);
    args_int(&a, submission_id);
    call_run(q, call, &a, on_count_reply);
}

void rq_dlq_list(struct rq *q, int max, rq_ids_cb cb, void *ud)
{
    run_ids(q, RQ_SCRIPT_DLQ_LIST, max, cb, ud);
}

void rq_dlq_requeue(struct rq *q, int64_t submission_id, rq_done_cb cb, void *ud)
{
    run_done(q, RQ_SCRIPT_DLQ_REQUEUE, submission_id, cb, ud);
}

void rq_presence(struct rq *q, const char *grader_id, const char (*pools)[64], int npools,
                 int capacity, int64_t ttl_ms, rq_done_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_PRESENCE, ud);
    call->cb.done = cb;
    int ok = grader_id != NULL && grader_id[0] != '\0' && ttl_ms >= 0 && capacity >= 0 &&
             npools > 0 && npools <= RQ_MAX_PRESENCE_POOLS;
    for (int i = 0; ok && i < npools; i++)
        ok = valid_pool(pools[i]);
    if (!ok) {
        call_refuse(q, call, "bad presence", on_done_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_str(&a, grader_id);
    args_int(&a, ttl_ms);
    args_int(&a, capacity);
    for (int i = 0; i < npools; i++)
        args_str(&a, pools[i]);
    call_run(q, call, &a, on_done_reply);
}

void rq_pool_online(struct rq *q, const char *pool, rq_count_cb cb, void *ud)
{
    run_pool_count(q, RQ_SCRIPT_ONLINE, pool, cb, ud);
}

void rq_pool_stats(struct rq *q, const char *pool, rq_stats_cb cb, void *ud)
{
    struct call *call = call_new(RQ_SCRIPT_STATS, ud);
    call->cb.stats = cb;
    if (!valid_pool(pool)) {
        call_refuse(q, call, "bad pool", on_stats_reply);
        return;
    }
    struct args a;
    args_init(&a, q);
    args_str(&a, pool);
    call_run(q, call, &a, on_stats_reply);
}
