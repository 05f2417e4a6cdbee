/* The runner: the grader connection to the broker, job intake within the capacity, the tick
 * that drives retries and heartbeats, and the graceful shutdown. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "grader/runner_internal.h"

#define TICK_MS         200  /* retries, heartbeats and shutdown checks */
#define REJOIN_DELAY_MS 5000 /* after the broker refused or dropped the namespace */
#define LEAVE_SLACK_MS  1000 /* after the grace period: kill grace + one ack + this */

/* ---- capacity ---- */

/* Jobs that hold a slot or wait for one. */
static int occupied(const struct runner *r)
{
    int n = 0;
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, (struct list *)&r->jobs)
    {
        n += container_of(pos, struct job, link)->state != JOB_ENDED;
    }
    return n;
}

/* The capacity to declare: what is free now. A job that kept running through a broker
 * restart is not known to the new connection, so it is subtracted; the broker accepts no
 * less than 1, so a runner whose slots are all busy may get one job more, which waits for a
 * slot (held, its lease renewed). */
static int free_capacity(const struct runner *r)
{
    int free_slots = r->cfg->capacity - occupied(r);
    return free_slots > 0 ? free_slots : 1;
}

/* Sets the CONNECT auth for the next (re)connection of the namespace. */
static void set_auth(struct runner *r)
{
    const struct runner_config *cfg = r->cfg;
    json_t *pools = json_array();
    for (size_t i = 0; i < cfg->pools.n; i++)
        json_array_append_new(pools, json_string(cfg->pools.v[i]));
    r->declared = free_capacity(r);
    json_t *auth = json_pack("{s:s,s:o,s:i,s:s}", "grader_key", cfg->key, "pools", pools,
                             "capacity", r->declared, "name", cfg->name);
    char *text = json_dumps(auth, JSON_COMPACT);
    if (text == NULL || sioc_socket_connect(r->sock, text) != 0)
        log_error(RUNNER_LOG, "could not prepare the CONNECT to /grader");
    free(text);
    json_decref(auth);
}

void runner_schedule(struct runner *r)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->jobs)
    {
        struct job *j = container_of(pos, struct job, link);
        if (r->stopping || r->slots_used >= r->cfg->capacity)
            return;
        if (j->state == JOB_HELD)
            job_start(j);
    }
}

/* ---- the namespace ---- */

static void pump_all(struct runner *r)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->jobs)
    {
        report_pump(container_of(pos, struct job, link));
    }
}

static void on_ns_connect(struct sioc_socket *s, const char *sid, void *ud)
{
    struct runner *r = ud;
    (void)s, (void)sid;
    r->generation++;
    r->ever_connected = 1;
    r->rejoin_at = 0;
    log_info(RUNNER_LOG, "connected to the broker name=%s pools=%zu capacity=%d jobs=%d",
             r->cfg->name, r->cfg->pools.n, r->declared, occupied(r));
    pump_all(r);
    runner_check_shutdown(r);
}

static void on_ns_connect_error(struct sioc_socket *s, const char *message, const char *data,
                                void *ud)
{
    struct runner *r = ud;
    (void)s, (void)data;
    if (!r->ever_connected) {
        log_error(RUNNER_LOG, "the broker refused this grader: \"%s\"", message);
        r->exit_code = 1;
        r->stopping = 1;
        r->grace_end = uv_now(r->loop);
        runner_check_shutdown(r);
        return;
    }
    log_warn(RUNNER_LOG, "the broker refused this grader: \"%s\"; trying again in %d ms", message,
             REJOIN_DELAY_MS);
    r->rejoin_at = uv_now(r->loop) + REJOIN_DELAY_MS;
}

static void on_ns_disconnect(struct sioc_socket *s, const char *reason, void *ud)
{
    struct runner *r = ud;
    (void)s;
    if (r->leaving || reason == sioc_reason_io_client_disconnect)
        return; /* on purpose: whoever left joins again if need be */
    log_warn(RUNNER_LOG,
             "disconnected from the broker reason=\"%s\" jobs=%d (they keep running; their "
             "reports wait)",
             reason, occupied(r));
    if (reason == sioc_reason_io_server_disconnect)
        r->rejoin_at = uv_now(r->loop) + REJOIN_DELAY_MS; /* not rejoined by the library */
    else
        set_auth(r); /* rejoined with the session, with what is free by then */
}

/* `job`: one object. */
static void on_job(struct sioc_socket *s, const struct sioc_event *ev, void *ud)
{
    struct runner *r = ud;
    (void)s;
    json_t *args = json_loadb(ev->msg.args, ev->msg.args_len, 0, NULL);
    json_t *msg = json_array_get(args, 0);
    struct job *j = json_is_object(msg) ? job_new(r, msg) : NULL;
    if (j == NULL && !json_is_object(msg))
        log_error(RUNNER_LOG, "a job message that is not an object was ignored");
    json_decref(args);
    if (j == NULL)
        return;
    j->generation = r->generation;
    list_insert_tail(&r->jobs, &j->link);
    if (j->state == JOB_HELD && r->stopping)
        log_info(RUNNER_LOG, "job held until the grader leaves sub=%" PRId64, j->sub_id);
    else if (j->state == JOB_HELD && r->slots_used >= r->cfg->capacity)
        log_info(RUNNER_LOG, "job waits for a free slot sub=%" PRId64, j->sub_id);
    runner_schedule(r);
    report_pump(j);
}

/* `cancel`: {submission_id, lease_token, reason}. */
static void on_cancel(struct sioc_socket *s, const struct sioc_event *ev, void *ud)
{
    struct runner *r = ud;
    (void)s;
    json_t *args = json_loadb(ev->msg.args, ev->msg.args_len, 0, NULL);
    json_t *msg = json_array_get(args, 0);
    json_t *id = json_object_get(msg, "submission_id");
    json_t *lease = json_object_get(msg, "lease_token");
    const char *reason = json_string_value(json_object_get(msg, "reason"));
    char buf[32];
    if (json_is_integer(lease)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(lease));
        lease = json_string(buf);
    } else {
        json_incref(lease);
    }
    struct job *j = json_is_integer(id) && json_is_string(lease)
                        ? job_find(r, json_integer_value(id), json_string_value(lease))
                        : NULL;
    char why[300];
    snprintf(why, sizeof(why), "cancelled by the broker: %s", reason != NULL ? reason : "");
    if (j != NULL)
        job_drop(j, why);
    else
        log_info(RUNNER_LOG, "cancel for a job this grader does not have");
    json_decref(lease);
    json_decref(args);
}

/* ---- the client ---- */

static void on_connect_failed(struct sioc_client *c, const char *reason, const char *detail,
                              void *ud)
{
    (void)c, (void)ud;
    log_warn(RUNNER_LOG, "cannot reach the broker reason=\"%s\" detail=\"%s\"", reason, detail);
}

static void on_client_closed(struct sioc_client *c, void *ud);
static void runner_close(struct runner *r);

static void on_client_disconnect(struct sioc_client *c, const char *reason, const char *detail,
                                 void *ud)
{
    struct runner *r = ud;
    (void)c, (void)detail;
    if (r->leaving && reason == sioc_reason_io_client_disconnect)
        runner_close(r);
}

static const struct sioc_client_callbacks client_cbs = {
    .on_connect_error = on_connect_failed,
    .on_disconnect = on_client_disconnect,
};

static const struct sioc_socket_callbacks socket_cbs = {
    .on_connect = on_ns_connect,
    .on_connect_error = on_ns_connect_error,
    .on_disconnect = on_ns_disconnect,
};

/* ---- shutdown ---- */

/* Every job holding a slot is stopped; a held one from an earlier connection (the broker
 * would not release it) is handed back too. */
static void end_grace(struct runner *r)
{
    struct list *pos, *tmp;
    r->grace_over = 1;
    r->leave_end =
        uv_now(r->loop) + r->cfg->kill_grace_ms + r->cfg->ack_timeout_ms + LEAVE_SLACK_MS;
    list_for_each_safe(pos, tmp, &r->jobs)
    {
        struct job *j = container_of(pos, struct job, link);
        if (j->state == JOB_DOWNLOADING || j->state == JOB_RUNNING)
            job_give_back(j, "the grader was stopped before the evaluation ended");
    }
}

/* Whether the runner may leave now: nothing runs, nothing is left to say (a held job of
 * this connection is handed back by leaving it). */
static int ready_to_leave(struct runner *r)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->jobs)
    {
        struct job *j = container_of(pos, struct job, link);
        if (j->state == JOB_HELD && j->generation != r->generation)
            job_give_back(j, "the grader is shutting down");
        if (j->state == JOB_DOWNLOADING || j->state == JOB_RUNNING)
            return 0;
        if (j->state == JOB_ENDED && report_pending(j) && uv_now(r->loop) < r->leave_end)
            return 0;
    }
    return 1;
}

static void leave(struct runner *r)
{
    if (r->leaving)
        return;
    r->leaving = 1;
    r->leave_end = uv_now(r->loop);
    log_info(RUNNER_LOG, "leaving the broker jobs_handed_back=%d", occupied(r));
    if (!sioc_client_is_open(r->client)) {
        runner_close(r);
        return;
    }
    /* Leaving /grader cleanly hands this connection's unstarted jobs back at once; the
     * client's on_disconnect follows the WebSocket close (or its timeout). */
    sioc_client_disconnect(r->client);
}

void runner_check_shutdown(struct runner *r)
{
    if (!r->stopping || r->leaving || r->closing)
        return;
    uint64_t now = uv_now(r->loop);
    if (!r->grace_over && now >= r->grace_end)
        end_grace(r);
    if (ready_to_leave(r))
        leave(r);
}

void runner_shutdown(struct runner *r)
{
    if (r->closing || r->leaving)
        return;
    if (r->stopping) {
        log_info(RUNNER_LOG, "second signal: the running jobs are handed back now");
        r->grace_end = uv_now(r->loop);
    } else {
        r->stopping = 1;
        r->grace_end = uv_now(r->loop) + r->cfg->shutdown_grace_ms;
        r->leave_end = r->grace_end;
        log_info(RUNNER_LOG, "shutting down: no new jobs; running=%d grace_ms=%" PRIu64,
                 r->slots_used, r->cfg->shutdown_grace_ms);
    }
    runner_check_shutdown(r);
}

/* ---- the tick ---- */

static void on_tick(uv_timer_t *t)
{
    struct runner *r = t->data;
    uint64_t now = uv_now(r->loop);
    struct list *pos, *tmp;
    if (r->leaving && now >= r->leave_end + 5000) {
        runner_close(r); /* the WebSocket close never completed */
        return;
    }
    if (!sioc_client_is_open(r->client) && !r->leaving && r->declared != free_capacity(r))
        set_auth(r);
    if (r->rejoin_at != 0 && now >= r->rejoin_at && !r->leaving) {
        r->rejoin_at = 0;
        set_auth(r);
    }
    list_for_each_safe(pos, tmp, &r->jobs)
    {
        report_tick(container_of(pos, struct job, link), now);
    }
    /* After a restart the declared capacity may be short: take it back when idle. */
    if (!r->stopping && list_empty(&r->jobs) && r->declared < r->cfg->capacity &&
        sioc_socket_is_connected(r->sock)) {
        log_info(RUNNER_LOG, "idle: joining again with the whole capacity");
        sioc_socket_disconnect(r->sock);
        set_auth(r);
    }
    runner_check_shutdown(r);
}

/* ---- start and end ---- */

static void part_closed(struct runner *r)
{
    if (--r->open_parts == 0 && r->on_exit != NULL)
        r->on_exit(r->exit_ud, r->exit_code);
}

static void on_client_closed(struct sioc_client *c, void *ud)
{
    (void)c;
    part_closed(ud);
}

static void on_tick_closed(uv_handle_t *h)
{
    part_closed(h->data);
}

static void runner_close(struct runner *r)
{
    if (r->closing)
        return;
    r->closing = 1;
    r->leaving = 1;
    /* Pending acks fail inside sioc_client_close; their jobs go with them. */
    sioc_client_close(r->client, on_client_closed);
    while (!list_empty(&r->jobs))
        job_free(container_of(r->jobs.next, struct job, link));
    http_client_close(r->http);
    uv_close((uv_handle_t *)&r->tick, on_tick_closed);
    log_info(RUNNER_LOG, "stopped evaluated=%u scored=%u mean_job_ms=%.3f", r->evaluated, r->scored,
             r->evaluated > 0 ? (double)r->evaluated_ns / 1e6 / (double)r->evaluated : 0.0);
}

/* scheme://host[:port] of the broker's URL, with ws mapped to http. */
static char *http_base(const char *url)
{
    const char *rest = strstr(url, "://") + 3;
    int tls = strncmp(url, "wss:", 4) == 0 || strncmp(url, "https:", 6) == 0;
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "%s://%.*s", tls ? "https" : "http", (int)strcspn(rest, "/?#"), rest);
    return buf_detach(&b, NULL);
}

static int make_client(struct runner *r)
{
    const struct runner_config *cfg = r->cfg;
    struct sioc_options o;
    sioc_options_init(&o);
    o.ack_timeout_ms = cfg->ack_timeout_ms;
    o.ca_file = cfg->ca_file;
    o.tls_insecure = cfg->tls_insecure;
    int rc = sioc_client_new(r->loop, cfg->broker_url, &o, &client_cbs, r, &r->client);
    if (rc != 0) {
        log_error(RUNNER_LOG, "cannot use the broker URL: %s", sioc_strerror(rc));
        return -1;
    }
    r->sock = sioc_client_socket(r->client, "/grader");
    sioc_socket_set_callbacks(r->sock, &socket_cbs, r);
    sioc_socket_on(r->sock, "job", on_job, r);
    sioc_socket_on(r->sock, "cancel", on_cancel, r);
    set_auth(r);
    return 0;
}

struct runner *runner_start(uv_loop_t *loop, const struct runner_config *cfg, runner_exit_cb cb,
                            void *ud)
{
    struct http_client_options ho = {"crowdai-grader", 0, RUNNER_LOG};
    struct runner *r = xcalloc(1, sizeof(*r));
    struct buf b;
    r->loop = loop;
    r->cfg = cfg;
    r->on_exit = cb;
    r->exit_ud = ud;
    list_init(&r->jobs);
    r->http_base = http_base(cfg->broker_url);
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "Authorization: Bearer %s", cfg->key);
    r->auth_header = buf_detach(&b, NULL);
    r->http = http_client_new(loop, &ho);
    if (r->http == NULL || make_client(r) != 0) {
        if (r->http != NULL)
            http_client_close(r->http);
        free(r->http_base);
        free(r->auth_header);
        free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->tick);
    r->tick.data = r;
    uv_timer_start(&r->tick, on_tick, TICK_MS, TICK_MS);
    r->open_parts = 2;
    log_info(RUNNER_LOG, "starting name=%s broker=%s capacity=%d workdir=%s", cfg->name,
             r->http_base, cfg->capacity, cfg->workdir);
    sioc_client_connect(r->client);
    return r;
}

void runner_free(struct runner *r)
{
    free(r->http_base);
    free(r->auth_header);
    free(r);
}
