/* The grader protocol on namespace "/grader": a grader connects with its key, the pools it
 * serves and its capacity; the broker pushes `job`s within that capacity; the grader sends
 * progress, info, complete and fail with the job's lease token, and gets `cancel`s. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/reply.h"
#include "core/log.h"
#include "core/xalloc.h"

#define MAX_POOLS    8
#define MAX_ASKING   4 /* dispatch calls in flight per grader while jobs are flowing */
#define MAX_CAPACITY 64

struct grader_job {
    int64_t sub_id;
    uint64_t token;
};

struct grader {
    struct broker *b;
    struct sio_socket *sock; /* NULL once gone */
    int refs;
    struct list link;
    char name[64];
    char id[160]; /* name#socket id: who holds a job, in Redis */
    char pools[MAX_POOLS][64];
    int npools;
    int next_pool;
    int capacity;
    int asking;    /* dispatch requests in flight */
    int suspended; /* a lease expired: no new job until it reports again */
    int idle;      /* the last dispatch found the queue empty: ask one at a time */
    struct grader_job jobs[MAX_CAPACITY];
    int njobs;
};

static void grader_unref(struct grader *g)
{
    if (--g->refs == 0)
        free(g);
}

int grader_count(const struct broker *b, const char *pool)
{
    int n = 0;
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, (struct list *)&b->graders)
    {
        struct grader *g = container_of(pos, struct grader, link);
        for (int i = 0; i < g->npools; i++)
            n += strcmp(g->pools[i], pool) == 0;
    }
    return n;
}

void grader_announce_all(struct broker *b)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &b->graders)
    {
        struct grader *g = container_of(pos, struct grader, link);
        presence_announce(b, g->id, (const char(*)[64])g->pools, g->npools, g->capacity);
    }
}

int grader_pool_online(const struct broker *b, const char *pool)
{
    return grader_count(b, pool) > 0 || gen2_pool_served(b, pool);
}

static int find_job(const struct grader *g, int64_t sub_id)
{
    for (int i = 0; i < g->njobs; i++) {
        if (g->jobs[i].sub_id == sub_id)
            return i;
    }
    return -1;
}

static void drop_job(struct grader *g, int64_t sub_id)
{
    int i = find_job(g, sub_id);
    if (i >= 0)
        g->jobs[i] = g->jobs[--g->njobs];
}

/* ---- dispatch ---- */

static void ask_for_job(struct grader *g);

static void on_released(void *ud, const char *err, int ok)
{
    (void)ud, (void)err, (void)ok;
}

static void on_marked_running(void *ud, int result)
{
    (void)ud, (void)result;
}

static void send_job(struct grader *g, const struct rq_job *job)
{
    char token[24], deadline[32];
    snprintf(token, sizeof(token), "%" PRIu64, job->token);
    reply_iso_time(job->deadline, deadline);
    json_t *payload = json_loads(job->payload, 0, NULL);
    json_t *msg = json_pack("{s:I,s:i,s:s,s:s}", "submission_id", (json_int_t)job->submission_id,
                            "attempt", job->attempt, "lease_token", token, "deadline", deadline);
    if (payload != NULL) {
        json_object_update_missing(msg, payload);
        json_decref(payload);
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    sio_socket_emit(g->sock, "job", text, strlen(text), NULL, 0);
    free(text);
    json_decref(msg);
}

static void on_dispatched(void *ud, const char *err, const struct rq_job *job)
{
    struct grader *g = ud;
    struct broker *b = g->b;
    g->asking--;
    if (err != NULL)
        log_warn("broker", "dispatch failed grader=%s err=\"%s\"", g->name, err);
    g->idle = job == NULL && err == NULL;
    if (job != NULL && g->sock == NULL) {
        rq_release(b->rq, job->submission_id, job->token, on_released, NULL);
    } else if (job != NULL) {
        b->metrics.jobs_dispatched++;
        g->jobs[g->njobs].sub_id = job->submission_id;
        g->jobs[g->njobs].token = job->token;
        g->njobs++;
        log_info("broker", "job sent sub=%" PRId64 " attempt=%d grader=%s", job->submission_id,
                 job->attempt, g->name);
        send_job(g, job);
        b->reg->ops->set_state(b->reg, job->submission_id, REG_SUB_RUNNING, "", on_marked_running,
                               NULL);
        ask_for_job(g);
    }
    grader_unref(g);
}

static void ask_for_job(struct grader *g)
{
    if (g->sock == NULL || g->b->stopping || g->npools == 0 || g->suspended)
        return;
    int max_asking = g->idle ? 1 : MAX_ASKING;
    while (g->njobs + g->asking < g->capacity && g->asking < max_asking) {
        const char *pool = g->pools[g->next_pool];
        g->next_pool = (g->next_pool + 1) % g->npools;
        char *event = reply_event("RUNNING", 0, "A grader has started on your submission.", NULL);
        g->asking++;
        g->refs++;
        rq_dispatch(g->b->rq, pool, g->id, g->b->cfg.lease_ms, event, on_dispatched, g);
        free(event);
    }
}

void grader_dispatch_all(struct broker *b)
{
    gen2_dispatch(b);
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &b->graders)
    {
        ask_for_job(container_of(pos, struct grader, link));
    }
}

void grader_suspend(struct broker *b, const char *grader_id)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &b->graders)
    {
        struct grader *g = container_of(pos, struct grader, link);
        if (strcmp(g->id, grader_id) == 0 && !g->suspended) {
            g->suspended = 1;
            log_warn("broker",
                     "grader silent past its lease, no new jobs until it reports "
                     "name=%s",
                     g->name);
        }
    }
}

/* Any report shows the grader is alive again. */
static struct grader *grader_of_report(struct sio_socket *sock)
{
    struct grader *g = sio_socket_data(sock);
    if (g != NULL && g->suspended) {
        g->suspended = 0;
        log_info("broker", "grader reports again name=%s", g->name);
    }
    return g;
}

void grader_forward_cancel(struct broker *b, const char *grader_id, int64_t sub_id,
                           const char *reason)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &b->graders)
    {
        struct grader *g = container_of(pos, struct grader, link);
        int mine = grader_id == NULL || strcmp(g->id, grader_id) == 0;
        int i = mine ? find_job(g, sub_id) : -1;
        if (i < 0)
            continue;
        char token[24];
        snprintf(token, sizeof(token), "%" PRIu64, g->jobs[i].token);
        json_t *msg = json_pack("{s:I,s:s,s:s}", "submission_id", (json_int_t)sub_id, "lease_token",
                                token, "reason", reason);
        char *text = json_dumps(msg, JSON_COMPACT);
        sio_socket_emit(g->sock, "cancel", text, strlen(text), NULL, 0);
        free(text);
        json_decref(msg);
        drop_job(g, sub_id);
        ask_for_job(g);
        return;
    }
}

/* ---- reports from the grader ---- */

struct gcall {
    struct grader *g;
    long long ack_id;
    int64_t sub_id;
    int final;
    uint64_t started_ns;
};

/* Reads submission_id and lease_token; answers and returns -1 when malformed. */
static int read_job_ref(struct sio_socket *sock, const struct sio_event *ev, json_t *args,
                        int64_t *sub_id, uint64_t *token)
{
    int ok = 0;
    *sub_id = args ? reply_integer(args, "submission_id", -1, &ok) : -1;
    json_t *t = args ? json_object_get(args, "lease_token") : NULL;
    char *end = NULL;
    if (json_is_string(t))
        *token = strtoull(json_string_value(t), &end, 10);
    else if (json_is_integer(t))
        *token = (uint64_t)json_integer_value(t);
    if (ok != 0 || *sub_id <= 0 || t == NULL || (end != NULL && *end != '\0')) {
        reply_error(sock, ev->ack_id, "BAD_REQUEST",
                    "Reports need submission_id (number) and lease_token (from the job).", NULL);
        return -1;
    }
    return 0;
}

static void on_fenced(void *ud, const char *err, int ok)
{
    struct gcall *c = ud;
    struct grader *g = c->g;
    struct broker_metrics *m = &g->b->metrics;
    if (err == NULL && ok) {
        m->reports_ok++;
        metrics_observe_latency(m, (double)(uv_hrtime() - c->started_ns) / 1e6);
    } else if (err == NULL) {
        m->reports_stale++;
    }
    if (g->sock != NULL) {
        if (err != NULL)
            reply_error(g->sock, c->ack_id, "QUEUE_UNAVAILABLE", err, NULL);
        else if (!ok)
            reply_error(g->sock, c->ack_id, "STALE_LEASE",
                        "This job is no longer yours (its lease expired, it was cancelled or "
                        "it already ended); drop it.",
                        NULL);
        else
            reply_ok(g->sock, c->ack_id, json_object());
    }
    if (err == NULL && (c->final || !ok)) {
        drop_job(g, c->sub_id);
        if (c->final && ok)
            outbox_kick(g->b);
        ask_for_job(g);
    }
    grader_unref(g);
    free(c);
}

static struct gcall *gcall_new(struct grader *g, long long ack_id, int64_t sub_id, int final)
{
    struct gcall *c = xcalloc(1, sizeof(*c));
    c->g = g;
    c->ack_id = ack_id;
    c->sub_id = sub_id;
    c->final = final;
    c->started_ns = uv_hrtime();
    g->refs++;
    return c;
}

static void report_progress(struct sio_socket *sock, const struct sio_event *ev, int info)
{
    struct grader *g = grader_of_report(sock);
    json_t *args = reply_first_object(ev);
    int64_t sub_id;
    uint64_t token = 0;
    if (read_job_ref(sock, ev, args, &sub_id, &token) == 0) {
        int ok = 0;
        int percent = (int)reply_integer(args, "percent", 0, &ok);
        const char *message = reply_string(args, "message", 2000);
        if (percent < 0)
            percent = 0;
        if (percent > 100)
            percent = 100;
        char *event = reply_event(info ? "INFO" : "PROGRESS_UPDATE", percent,
                                  message != NULL ? message : "", NULL);
        rq_progress(g->b->rq, sub_id, token, g->b->cfg.lease_ms, event, on_fenced,
                    gcall_new(g, ev->ack_id, sub_id, 0));
        free(event);
    }
    if (args != NULL)
        json_decref(args);
}

static void on_progress(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ud;
    report_progress(sock, ev, 0);
}

static void on_info(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ud;
    report_progress(sock, ev, 1);
}

static void on_complete(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct grader *g = grader_of_report(sock);
    json_t *args = reply_first_object(ev);
    int64_t sub_id;
    uint64_t token = 0;
    (void)ud;
    if (read_job_ref(sock, ev, args, &sub_id, &token) == 0) {
        json_t *score = json_object_get(args, "score");
        json_t *secondary = json_object_get(args, "score_secondary");
        if (!json_is_number(score) ||
            (secondary != NULL && !json_is_number(secondary) && !json_is_null(secondary))) {
            reply_error(sock, ev->ack_id, "BAD_REQUEST",
                        "complete needs score (a number) and optionally score_secondary.", NULL);
        } else {
            grader_report_complete(g->b, sub_id, token, score, secondary, on_fenced,
                                   gcall_new(g, ev->ack_id, sub_id, 1));
        }
    }
    if (args != NULL)
        json_decref(args);
}

void grader_report_complete(struct broker *b, int64_t sub_id, uint64_t token, json_t *score,
                            json_t *secondary, rq_fenced_cb cb, void *ud)
{
    json_t *result = json_pack("{s:O,s:O}", "score", score, "score_secondary",
                               secondary != NULL ? secondary : json_null());
    char *result_text = json_dumps(result, JSON_COMPACT);
    char message[160];
    snprintf(message, sizeof(message), "Graded: score %.6g.", json_number_value(score));
    char *event = reply_event("COMPLETE", 100, message, result);
    rq_complete(b->rq, sub_id, token, result_text, event, cb, ud);
    free(result_text);
    free(event);
}

static void on_failed(void *ud, const char *err, int ok, enum rq_state outcome, int64_t retry_in_ms)
{
    (void)outcome, (void)retry_in_ms;
    on_fenced(ud, err, ok);
}

static void on_fail(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct grader *g = grader_of_report(sock);
    json_t *args = reply_first_object(ev);
    int64_t sub_id;
    uint64_t token = 0;
    (void)ud;
    if (read_job_ref(sock, ev, args, &sub_id, &token) == 0) {
        const char *message = reply_string(args, "message", 2000);
        int retryable = json_is_true(json_object_get(args, "retryable"));
        rq_fail(g->b->rq, sub_id, token, retryable,
                message != NULL && message[0] ? message : "The grader reported a failure.",
                g->b->cfg.retry_base_ms, g->b->cfg.retry_cap_ms, on_failed,
                gcall_new(g, ev->ack_id, sub_id, 1));
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- connection ---- */

struct gconnect {
    struct grader *g;
};

static void on_key_checked(void *ud, int ok, const char *grader_name)
{
    struct grader *g = ud;
    struct broker *b = g->b;
    if (g->sock == NULL) {
        grader_unref(g);
        return;
    }
    if (!ok) {
        log_info("broker", "grader refused: bad grader key");
        sio_socket_set_data(g->sock, NULL);
        sio_socket_connect_decide(g->sock, "Invalid grader key");
        g->sock = NULL;
        g->refs--;       /* the socket's reference (this call's still holds it) */
        grader_unref(g); /* this call's */
        return;
    }
    if (grader_name != NULL && grader_name[0] != '\0' && g->name[0] == '\0')
        snprintf(g->name, sizeof(g->name), "%s", grader_name);
    snprintf(g->id, sizeof(g->id), "%s#%s", g->name, sio_socket_id(g->sock));
    list_insert_tail(&b->graders, &g->link);
    for (int i = 0; i < g->npools; i++)
        broker_pool_seen(b, g->pools[i]);
    presence_announce(b, g->id, (const char(*)[64])g->pools, g->npools, g->capacity);
    log_info("broker", "grader online name=%s pools=%d capacity=%d", g->name, g->npools,
             g->capacity);
    sio_socket_connect_decide(g->sock, NULL);
    grader_unref(g);
}

/* Reads the CONNECT auth; returns a refusal message or NULL. */
static const char *read_auth(struct grader *g, json_t *auth, const char **key)
{
    *key = auth ? reply_string(auth, "grader_key", 128) : NULL;
    json_t *pools = auth ? json_object_get(auth, "pools") : NULL;
    int ok = 0;
    g->capacity = auth ? (int)reply_integer(auth, "capacity", 1, &ok) : 0;
    const char *name = auth ? reply_string(auth, "name", 60) : NULL;
    if (*key == NULL)
        return "Graders connect with auth {grader_key, pools, capacity}";
    if (!json_is_array(pools) || json_array_size(pools) == 0 || json_array_size(pools) > MAX_POOLS)
        return "pools must be a list of 1 to 8 pool names";
    if (ok != 0 || g->capacity < 1 || g->capacity > MAX_CAPACITY)
        return "capacity must be a whole number from 1 to 64";
    for (size_t i = 0; i < json_array_size(pools); i++) {
        json_t *p = json_array_get(pools, i);
        if (!json_is_string(p) || json_string_length(p) == 0 || json_string_length(p) > 63)
            return "each pool name must be a string of 1 to 63 bytes";
        snprintf(g->pools[g->npools++], sizeof(g->pools[0]), "%s", json_string_value(p));
    }
    snprintf(g->name, sizeof(g->name), "%s", name != NULL ? name : "");
    return NULL;
}

static const char *on_check(struct sio_socket *sock, const char *auth, size_t len, void *ud)
{
    struct broker *b = ud;
    json_t *obj = json_loadb(auth, len, 0, NULL);
    struct grader *g = xcalloc(1, sizeof(*g));
    g->b = b;
    g->sock = sock;
    g->refs = 1;
    list_init(&g->link);
    const char *key;
    const char *refusal = read_auth(g, json_is_object(obj) ? obj : NULL, &key);
    if (refusal != NULL) {
        free(g);
        if (obj != NULL)
            json_decref(obj);
        return refusal;
    }
    sio_socket_set_data(sock, g);
    g->refs++;
    b->reg->ops->check_grader_key(b->reg, key, on_key_checked, g);
    json_decref(obj);
    return sio_connect_defer;
}

static void on_connected(struct sio_socket *sock, const char *auth, size_t len, void *ud)
{
    struct grader *g = sio_socket_data(sock);
    (void)auth, (void)len, (void)ud;
    if (g != NULL)
        ask_for_job(g);
}

static int clean_reason(const char *reason)
{
    return strcmp(reason, "client namespace disconnect") == 0 ||
           strcmp(reason, "client close") == 0 || strcmp(reason, "server shutting down") == 0;
}

static void on_disconnect(struct sio_socket *sock, const char *reason, void *ud)
{
    struct grader *g = sio_socket_data(sock);
    struct broker *b = ud;
    if (g == NULL)
        return;
    if (list_linked(&g->link)) {
        list_remove(&g->link);
        presence_withdraw(b, g->id, (const char(*)[64])g->pools, g->npools);
    }
    log_info("broker", "grader offline name=%s reason=\"%s\" jobs=%d", g->name, reason, g->njobs);
    if (clean_reason(reason)) {
        for (int i = 0; i < g->njobs; i++)
            rq_release(b->rq, g->jobs[i].sub_id, g->jobs[i].token, on_released, NULL);
    }
    g->njobs = 0;
    g->sock = NULL;
    grader_unref(g);
}

void grader_install(struct broker *b)
{
    struct sio_namespace *nsp = b->graders_nsp;
    sio_namespace_on_connect(nsp, on_check, on_connected, b);
    sio_namespace_on_disconnect(nsp, on_disconnect, b);
    sio_namespace_on(nsp, "progress", on_progress, b);
    sio_namespace_on(nsp, "info", on_info, b);
    sio_namespace_on(nsp, "complete", on_complete, b);
    sio_namespace_on(nsp, "fail", on_fail, b);
}
