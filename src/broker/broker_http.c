/* The broker's own HTTP endpoints: /healthz (Redis reachable, registry open) and /metrics
 * (Prometheus text: the counters, connections, submissions by state, graders online and queue
 * depth per pool). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "core/xalloc.h"

static void on_healthz(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct broker *b = ud;
    char body[160];
    (void)req;
    int redis = rq_connected(b->rq);
    int n = snprintf(
        body, sizeof(body), "{\"status\":\"%s\",\"redis\":%s,\"registry\":true,\"clients\":%zu}\n",
        redis ? "ok" : "degraded", redis ? "true" : "false", sio_server_client_count(b->sio));
    http_conn_respond(hc, redis ? 200 : 503, "application/json", NULL, body, (size_t)n, 0);
}

/* A /metrics answer being assembled: queue depths come from Redis. */
struct metrics_req {
    struct broker *b;
    struct http_conn *hc; /* NULL if the client went away */
    struct buf out;
    int pending;
};

static void finish_metrics(struct metrics_req *m)
{
    if (--m->pending > 0)
        return;
    if (m->hc != NULL)
        http_conn_respond(m->hc, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, m->out.data,
                          m->out.len, 0);
    buf_release(&m->out);
    free(m);
}

struct depth_req {
    struct metrics_req *m;
    char pool[64];
};

static void on_depth(void *ud, const char *err, int64_t n)
{
    struct depth_req *d = ud;
    if (err == NULL)
        buf_printf(&d->m->out, "crowdai_queue_depth{pool=\"%s\"} %lld\n", d->pool, (long long)n);
    finish_metrics(d->m);
    free(d);
}

static void on_online(void *ud, const char *err, int64_t n)
{
    struct depth_req *d = ud;
    if (err == NULL)
        buf_printf(&d->m->out, "crowdai_graders_online_all{pool=\"%s\"} %lld\n", d->pool,
                   (long long)n);
    finish_metrics(d->m);
    free(d);
}

/* Asks Redis for one figure of pool. */
static void ask_pool(struct metrics_req *m, const char *pool,
                     void (*ask)(struct rq *, const char *, rq_count_cb, void *), rq_count_cb cb)
{
    struct depth_req *d = xmalloc(sizeof(*d));
    d->m = m;
    snprintf(d->pool, sizeof(d->pool), "%s", pool);
    m->pending++;
    ask(m->b->rq, pool, cb, d);
}

static void on_counts(void *ud, const int64_t *counts)
{
    static const char *const names[REG_SUB_STATES] = {"queued", "running", "complete",
                                                      "error",  "timeout", "cancelled"};
    struct metrics_req *m = ud;
    if (counts != NULL) {
        buf_append_str(&m->out,
                       "# HELP crowdai_submissions Submissions in the registry, by state.\n"
                       "# TYPE crowdai_submissions gauge\n");
        for (int i = 0; i < REG_SUB_STATES; i++)
            buf_printf(&m->out, "crowdai_submissions{state=\"%s\"} %lld\n", names[i],
                       (long long)counts[i]);
    }
    finish_metrics(m);
}

static void on_metrics_aborted(struct http_conn *hc, void *ud)
{
    struct metrics_req *m = ud;
    (void)hc;
    m->hc = NULL;
}

static void on_metrics(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct broker *b = ud;
    (void)req;
    struct metrics_req *m = xcalloc(1, sizeof(*m));
    m->b = b;
    m->hc = hc;
    buf_init(&m->out, BUF_NO_CAP);
    metrics_render(&b->metrics, &m->out);
    buf_printf(&m->out,
               "# HELP crowdai_socketio_clients Connected Engine.IO sessions.\n"
               "# TYPE crowdai_socketio_clients gauge\ncrowdai_socketio_clients %zu\n"
               "# HELP crowdai_redis_up Whether Redis is reachable.\n"
               "# TYPE crowdai_redis_up gauge\ncrowdai_redis_up %d\n",
               sio_server_client_count(b->sio), rq_connected(b->rq));
    buf_append_str(&m->out, "# HELP crowdai_graders_online Graders connected here, per pool.\n"
                            "# TYPE crowdai_graders_online gauge\n"
                            "# HELP crowdai_graders_online_all Graders online on every broker "
                            "sharing this Redis, per pool.\n"
                            "# TYPE crowdai_graders_online_all gauge\n"
                            "# HELP crowdai_queue_depth Jobs queued, per pool.\n"
                            "# TYPE crowdai_queue_depth gauge\n");
    m->pending = 1;
    for (size_t i = 0; i < b->npools; i++) {
        buf_printf(&m->out, "crowdai_graders_online{pool=\"%s\"} %d\n", b->pools[i],
                   grader_count(b, b->pools[i]));
        ask_pool(m, b->pools[i], rq_depth, on_depth);
        ask_pool(m, b->pools[i], rq_pool_online, on_online);
    }
    m->pending++;
    b->reg->ops->count_by_state(b->reg, on_counts, m);
    http_conn_hold(hc, on_metrics_aborted, m);
    finish_metrics(m);
}

static const struct http_route_ops healthz_ops = {.on_request = on_healthz};
static const struct http_route_ops metrics_ops = {.on_request = on_metrics};

void broker_http_install(struct broker *b, struct http_server *http)
{
    http_server_route(http, "/healthz", &healthz_ops, b);
    http_server_route(http, "/metrics", &metrics_ops, b);
    files_install(b, http);
    presign_install(b, http);
    webapp_enqueue_install(b, http);
}

void broker_pool_seen(struct broker *b, const char *pool)
{
    for (size_t i = 0; i < b->npools; i++) {
        if (strcmp(b->pools[i], pool) == 0)
            return;
    }
    if (b->npools < BROKER_MAX_POOLS)
        snprintf(b->pools[b->npools++], sizeof(b->pools[0]), "%s", pool);
}
