/* The bridge to crowdAI's Gen-2 graders ("job factories"), which speak Redis lists: for a
 * pool configured with --gen2, the broker takes jobs from its own queue like any grader (up
 * to a capacity) and LPUSHes each to `<namespace>::enqueue_job` on the graders' Redis as
 * {broker_response_channel, data_sequence_no, function_name, data, extra_params}; the
 * grader RPUSHes its JSON messages to broker_response_channel, which the bridge drains every
 * GEN2_POLL_MS and turns into progress, info, complete and fail reports (fenced like any
 * grader's). While a job is out, the bridge renews its lease, so a grader that never answers
 * ends in TIMEOUT at the challenge's time limit; a job the graders' Redis did not take goes
 * back to the queue. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/reply.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "queue/rq_conn.h"

#define GEN2_POLL_MS       200
#define GEN2_MAX_CAPACITY  64
#define GEN2_MAX_MESSAGES  64    /* drained per job per poll */
#define GEN2_MAX_MESSAGE   65536 /* bytes of one message */
#define GEN2_COMMAND_MS    5000
#define GEN2_RETRY_BASE_MS 2000

/* ARGV: db list json. */
static const char push_script[] = "redis.call('SELECT', tonumber(ARGV[1]))\n"
                                  "return redis.call('LPUSH', ARGV[2], ARGV[3])\n";
/* ARGV: db list max: pops up to max messages, oldest first. */
static const char pop_script[] = "redis.call('SELECT', tonumber(ARGV[1]))\n"
                                 "local n = tonumber(ARGV[3])\n"
                                 "local m = redis.call('LRANGE', ARGV[2], 0, n - 1)\n"
                                 "if #m > 0 then redis.call('LTRIM', ARGV[2], #m, -1) end\n"
                                 "return m\n";
static const char *const gen2_scripts[] = {push_script, pop_script};
enum { SCRIPT_PUSH = 0, SCRIPT_POP = 1 };

struct gen2_job {
    int used;
    int pushed;  /* the graders' Redis has it */
    int popping; /* a drain is in flight */
    int64_t sub_id;
    uint64_t token;
    char channel[200];
    struct gen2 *g;
};

struct gen2 {
    struct broker *b;
    struct gen2_config cfg;
    char grader_id[140];
    struct rq_conn *conn;
    uv_timer_t timer;
    uint64_t last_renew_ms;
    int asking;
    int stopping;
    struct gen2_job jobs[GEN2_MAX_CAPACITY];
};

static int jobs_out(const struct gen2 *g)
{
    int n = 0;
    for (int i = 0; i < g->cfg.capacity; i++)
        n += g->jobs[i].used;
    return n;
}

static void job_drop(struct gen2_job *j)
{
    j->used = 0;
    j->pushed = 0;
}

static void on_released(void *ud, const char *err, int ok)
{
    (void)ud, (void)err, (void)ok;
}

static void on_marked(void *ud, int result)
{
    (void)ud, (void)result;
}

static void on_reported(void *ud, const char *err, int ok)
{
    struct gen2_job *j = ud;
    if (err == NULL && !ok && j->used) {
        log_info("broker", "gen2 job no longer ours sub=%" PRId64, j->sub_id);
        job_drop(j); /* cancelled, timed out, or its lease went elsewhere */
    }
}

static void on_final_reported(void *ud, const char *err, int ok)
{
    struct gen2_job *j = ud;
    struct gen2 *g = j->g;
    if (err != NULL)
        return; /* Redis is away: the message is lost, the lease decides (documented) */
    if (ok)
        outbox_kick(g->b);
    job_drop(j);
    gen2_dispatch(g->b);
}

static void on_final_failed(void *ud, const char *err, int ok, enum rq_state outcome,
                            int64_t retry_in_ms)
{
    (void)outcome, (void)retry_in_ms;
    on_final_reported(ud, err, ok);
}

/* One message of the grader, in the crowdAI wire format (§2.4). */
static void handle_message(struct gen2_job *j, const char *text, size_t len)
{
    struct broker *b = j->g->b;
    json_t *m = json_loadb(text, len, 0, NULL);
    const char *type = m != NULL ? json_string_value(json_object_get(m, "response_type")) : NULL;
    if (type == NULL && m != NULL)
        type = json_string_value(json_object_get(m, "job_state")); /* Gen-1 */
    const char *dot = type != NULL ? strrchr(type, '.') : NULL;
    if (dot == NULL) {
        log_warn("broker", "gen2 message without a response_type sub=%" PRId64, j->sub_id);
        if (m != NULL)
            json_decref(m);
        return;
    }
    const char *kind = dot + 1;
    const char *message = json_string_value(json_object_get(m, "message"));
    json_t *data = json_object_get(m, "data");
    if (strcmp(kind, "PROGRESS_UPDATE") == 0 || strcmp(kind, "INFO") == 0) {
        json_t *pct = json_object_get(data, "percent_complete");
        int percent = json_is_number(pct) ? (int)json_number_value(pct) : 0;
        percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
        if (message == NULL || message[0] == '\0')
            message = json_string_value(json_object_get(data, "message"));
        char *event = reply_event(kind[0] == 'I' ? "INFO" : "PROGRESS_UPDATE", percent,
                                  message != NULL ? message : "", NULL);
        rq_progress(b->rq, j->sub_id, j->token, b->cfg.lease_ms, event, on_reported, j);
        free(event);
    } else if (strcmp(kind, "COMPLETE") == 0 && json_is_number(json_object_get(data, "score"))) {
        json_t *secondary = json_object_get(data, "score_secondary");
        grader_report_complete(b, j->sub_id, j->token, json_object_get(data, "score"),
                               json_is_number(secondary) ? secondary : NULL, on_final_reported, j);
    } else if (strcmp(kind, "COMPLETE") == 0 || strcmp(kind, "ERROR") == 0 ||
               strcmp(kind, "TIMEOUT") == 0) {
        const char *why = message != NULL && message[0] != '\0' ? message
                          : kind[0] == 'C' ? "The grader's result had no score."
                                           : "The grader reported a failure.";
        rq_fail(b->rq, j->sub_id, j->token, 0, why, b->cfg.retry_base_ms, b->cfg.retry_cap_ms,
                on_final_failed, j);
    } else {
        rq_renew(b->rq, j->sub_id, j->token, b->cfg.lease_ms, on_reported, j); /* ENQUEUED... */
    }
    json_decref(m);
}

static void on_popped(void *ud, const char *err, const redisReply *r)
{
    struct gen2_job *j = ud;
    j->popping = 0;
    if (err != NULL || r == NULL || r->type != REDIS_REPLY_ARRAY || !j->used)
        return;
    for (size_t i = 0; i < r->elements && j->used; i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_STRING && e->len <= GEN2_MAX_MESSAGE)
            handle_message(j, e->str, e->len);
    }
}

static void drain(struct gen2_job *j)
{
    char db[16], max[16];
    snprintf(db, sizeof(db), "%d", j->g->cfg.db);
    snprintf(max, sizeof(max), "%d", GEN2_MAX_MESSAGES);
    const char *argv[] = {db, j->channel, max};
    const size_t lens[] = {strlen(db), strlen(j->channel), strlen(max)};
    j->popping = 1;
    rq_conn_eval(j->g->conn, SCRIPT_POP, 3, argv, lens, on_popped, j);
}

static void on_pushed(void *ud, const char *err, const redisReply *r)
{
    struct gen2_job *j = ud;
    struct gen2 *g = j->g;
    if (!j->used)
        return;
    if (err != NULL || r == NULL || r->type != REDIS_REPLY_INTEGER) {
        log_warn("broker", "gen2 push failed sub=%" PRId64 " err=\"%s\"; job back to the queue",
                 j->sub_id, err != NULL ? err : "unexpected reply");
        rq_release(g->b->rq, j->sub_id, j->token, on_released, NULL);
        job_drop(j);
        return;
    }
    j->pushed = 1;
}

/* The job as Gen-2 graders read it. */
static char *gen2_job_json(const struct gen2_job *j, const struct rq_job *job)
{
    json_t *p = json_loads(job->payload, 0, NULL);
    json_t *data = p != NULL ? json_object_get(p, "data") : NULL;
    const char *function = json_string_value(json_object_get(data, "function_name"));
    json_t *extra =
        json_pack("{s:I,s:I,s:i,s:s}", "submission_id", (json_int_t)j->sub_id, "participant_id",
                  (json_int_t)job->participant_id, "attempt", job->attempt, "api_key", "");
    if (p != NULL) {
        const char *keys[] = {"challenge_id", "round", "file_key", "file_url"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            json_t *v = json_object_get(p, keys[i]);
            if (v != NULL)
                json_object_set(extra, keys[i], v);
        }
    }
    json_t *msg = json_pack("{s:s,s:i,s:s,s:O,s:o}", "broker_response_channel", j->channel,
                            "data_sequence_no", 0, "function_name",
                            function != NULL ? function : "grade_submission", "data",
                            data != NULL ? data : json_null(), "extra_params", extra);
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (p != NULL)
        json_decref(p);
    return text;
}

static void on_dispatched(void *ud, const char *err, const struct rq_job *job)
{
    struct gen2 *g = ud;
    g->asking--;
    if (job == NULL || g->stopping) {
        if (job != NULL)
            rq_release(g->b->rq, job->submission_id, job->token, on_released, NULL);
        if (err != NULL)
            log_warn("broker", "gen2 dispatch failed pool=%s err=\"%s\"", g->cfg.pool, err);
        return;
    }
    struct gen2_job *j = NULL;
    for (int i = 0; i < g->cfg.capacity && j == NULL; i++)
        j = g->jobs[i].used ? NULL : &g->jobs[i];
    if (j == NULL) { /* cannot happen: asking is bounded by the free slots */
        rq_release(g->b->rq, job->submission_id, job->token, on_released, NULL);
        return;
    }
    memset(j, 0, sizeof(*j));
    j->g = g;
    j->used = 1;
    j->sub_id = job->submission_id;
    j->token = job->token;
    snprintf(j->channel, sizeof(j->channel), "%s::broker_response::%" PRId64 "::%" PRIu64,
             g->cfg.ns, job->submission_id, job->token);
    g->b->metrics.jobs_dispatched++;
    char db[16], list[200];
    snprintf(db, sizeof(db), "%d", g->cfg.db);
    snprintf(list, sizeof(list), "%s::enqueue_job", g->cfg.ns);
    char *text = gen2_job_json(j, job);
    const char *argv[] = {db, list, text};
    const size_t lens[] = {strlen(db), strlen(list), strlen(text)};
    rq_conn_eval(g->conn, SCRIPT_PUSH, 3, argv, lens, on_pushed, j);
    free(text);
    log_info("broker", "gen2 job sent sub=%" PRId64 " attempt=%d namespace=%s", job->submission_id,
             job->attempt, g->cfg.ns);
    g->b->reg->ops->set_state(g->b->reg, job->submission_id, REG_SUB_RUNNING, "", on_marked, NULL);
    gen2_dispatch(g->b);
}

static void ask(struct gen2 *g)
{
    if (g->stopping || !rq_conn_ready(g->conn) || !rq_connected(g->b->rq))
        return;
    while (jobs_out(g) + g->asking < g->cfg.capacity && g->asking < 1) {
        char *event = reply_event("RUNNING", 0, "Sent to the challenge's graders.", NULL);
        g->asking++;
        rq_dispatch(g->b->rq, g->cfg.pool, g->grader_id, g->b->cfg.lease_ms, event, on_dispatched,
                    g);
        free(event);
    }
}

static void on_tick(uv_timer_t *t)
{
    struct gen2 *g = t->data;
    uint64_t now = uv_now(t->loop);
    int renew = now - g->last_renew_ms >= (uint64_t)g->b->cfg.lease_ms / 3;
    if (renew)
        g->last_renew_ms = now;
    for (int i = 0; i < g->cfg.capacity; i++) {
        struct gen2_job *j = &g->jobs[i];
        if (!j->used || !j->pushed)
            continue;
        if (renew)
            rq_renew(g->b->rq, j->sub_id, j->token, g->b->cfg.lease_ms, on_reported, j);
        if (!j->popping)
            drain(j);
    }
    ask(g);
}

void gen2_dispatch(struct broker *b)
{
    if (b->gen2 != NULL && !b->gen2->stopping)
        ask(b->gen2);
}

int gen2_pool_served(const struct broker *b, const char *pool)
{
    return b->gen2 != NULL && !b->gen2->stopping && strcmp(b->gen2->cfg.pool, pool) == 0;
}

/* POOL=HOST:PORT/DB/NAMESPACE[/CAPACITY] */
int gen2_config_parse(const char *spec, struct gen2_config *out, char *err, size_t errlen)
{
    char host[128], ns[128], pool[64];
    int port = 0, db = 0, capacity = 4, used = 0;
    memset(out, 0, sizeof(*out));
    int n = sscanf(spec, "%63[A-Za-z0-9_.-]=%127[^:/]:%d/%d/%127[A-Za-z0-9_.:-]%n", pool, host,
                   &port, &db, ns, &used);
    if (n != 5) {
        snprintf(err, errlen, "write POOL=HOST:PORT/DB/NAMESPACE[/CAPACITY], not \"%s\"", spec);
        return -1;
    }
    if (spec[used] == '/' && (sscanf(spec + used + 1, "%d", &capacity) != 1 || capacity < 1 ||
                              capacity > GEN2_MAX_CAPACITY)) {
        snprintf(err, errlen, "the capacity is a whole number from 1 to %d", GEN2_MAX_CAPACITY);
        return -1;
    }
    if (port < 1 || port > 65535 || db < 0 || db > 15) {
        snprintf(err, errlen, "the port is 1-65535 and the db 0-15");
        return -1;
    }
    snprintf(out->pool, sizeof(out->pool), "%s", pool);
    snprintf(out->host, sizeof(out->host), "%s", host);
    snprintf(out->ns, sizeof(out->ns), "%s", ns);
    out->port = port;
    out->db = db;
    out->capacity = capacity;
    return 0;
}

void gen2_start(struct broker *b, const struct gen2_config *cfg)
{
    struct gen2 *g = xcalloc(1, sizeof(*g));
    g->b = b;
    g->cfg = *cfg;
    if (g->cfg.capacity < 1 || g->cfg.capacity > GEN2_MAX_CAPACITY)
        g->cfg.capacity = 4;
    snprintf(g->grader_id, sizeof(g->grader_id), "gen2:%s", cfg->ns);
    struct rq_conn_config cc = {
        .name = "gen2",
        .host = g->cfg.host,
        .port = g->cfg.port,
        .command_timeout_ms = GEN2_COMMAND_MS,
        .backoff_base_ms = 200,
        .backoff_cap_ms = GEN2_RETRY_BASE_MS * 5,
        .max_pending = 4 * GEN2_MAX_CAPACITY,
        .scripts = gen2_scripts,
        .nscripts = 2,
    };
    g->conn = rq_conn_new(b->loop, &cc);
    uv_timer_init(b->loop, &g->timer);
    g->timer.data = g;
    uv_timer_start(&g->timer, on_tick, GEN2_POLL_MS, GEN2_POLL_MS);
    b->gen2 = g;
    broker_pool_seen(b, g->cfg.pool);
    log_info("broker", "gen2 bridge pool=%s redis=%s:%d db=%d namespace=%s capacity=%d",
             g->cfg.pool, g->cfg.host, g->cfg.port, g->cfg.db, g->cfg.ns, g->cfg.capacity);
}

void gen2_stop(struct broker *b)
{
    struct gen2 *g = b->gen2;
    if (g == NULL || g->stopping)
        return;
    g->stopping = 1;
    /* Jobs out stay leased: another broker (or this one restarted) takes them back once the
     * lease expires, and a late message of the grader is fenced off. */
    for (int i = 0; i < g->cfg.capacity; i++)
        g->jobs[i].used = 0;
    rq_conn_free(g->conn);
    uv_timer_stop(&g->timer);
    uv_close((uv_handle_t *)&g->timer, NULL);
}

void gen2_release(struct broker *b)
{
    free(b->gen2); /* after the loop closed the timer, and rq answered every call */
    b->gen2 = NULL;
}
