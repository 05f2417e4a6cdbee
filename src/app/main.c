/* crowdai-broker: reads the configuration, starts the HTTP/Engine.IO/Socket.IO server on one
 * libuv loop, and shuts down cleanly on SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "app/broker_app.h"
#include "app/config.h"
#include "app/conformance.h"
#include "core/log.h"
#include "net/conn.h"
#include "net/http_server.h"
#include "socketio/sio_server.h"

#define SHUTDOWN_GRACE_MS 1000

struct app {
    uv_loop_t *loop;
    struct config cfg;
    struct conn_pool pool;
    struct http_server http;
    struct sio_server *sio;
    struct eio_server echo; /* conformance mode only */
    int has_echo;
    struct broker_app broker; /* broker mode only */
    uv_signal_t sigterm, sigint;
    uv_timer_t grace;
    int stopping;
};

static void on_healthz(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct app *app = ud;
    char body[128];
    (void)req;
    int n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"clients\":%zu}\n",
                     sio_server_client_count(app->sio));
    http_conn_respond(hc, 200, "application/json", NULL, body, (size_t)n, 0);
}

static const struct http_route_ops healthz_ops = {.on_request = on_healthz};

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The grace period is over: drop whatever is still open and let the loop end. */
static void on_grace_over(uv_timer_t *t)
{
    struct app *app = t->data;
    if (!app->cfg.conformance)
        broker_app_close(&app->broker);
    while (!list_empty(&app->pool.all))
        conn_close(container_of(app->pool.all.next, struct conn, all_link));
    uv_walk(app->loop, close_handle, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct app *app = h->data;
    if (app->stopping)
        return;
    app->stopping = 1;
    log_info("main", "shutting down on signal %d", signum);
    http_server_stop(&app->http);
    if (!app->cfg.conformance)
        broker_app_stop(&app->broker);
    sio_server_close_all(app->sio);
    if (app->has_echo)
        eio_server_close_all(&app->echo, "server shutting down");
    uv_timer_start(&app->grace, on_grace_over, SHUTDOWN_GRACE_MS, 0);
}

static void setup(struct app *app)
{
    const struct config *cfg = &app->cfg;
    struct http_limits limits = {cfg->max_header_bytes, cfg->max_headers, cfg->max_payload,
                                 cfg->header_timeout_ms, cfg->max_connections};
    struct eio_config eio = {cfg->ping_interval_ms, cfg->ping_timeout_ms, cfg->upgrade_timeout_ms,
                             cfg->max_payload,      cfg->max_packets,     cfg->max_output};
    struct sio_config sio = {cfg->connect_timeout_ms, cfg->max_attachments};
    conn_pool_init(&app->pool, app->loop, cfg->max_output);
    http_server_init(&app->http, app->loop, &app->pool, &limits);
    app->sio = sio_server_new(&app->http, "/socket.io/", &eio, &sio);
    if (cfg->conformance) {
        http_server_route(&app->http, "/healthz", &healthz_ops, app);
        conformance_install(app->sio);
        eio_server_init(&app->echo, &app->http, "/engine.io/", &eio, &conformance_echo_callbacks,
                        NULL);
        app->has_echo = 1;
    }
    uv_signal_init(app->loop, &app->sigterm);
    uv_signal_init(app->loop, &app->sigint);
    app->sigterm.data = app->sigint.data = app;
    uv_signal_start(&app->sigterm, on_signal, SIGTERM);
    uv_signal_start(&app->sigint, on_signal, SIGINT);
    uv_timer_init(app->loop, &app->grace);
    app->grace.data = app;
}

static void teardown(struct app *app)
{
    if (!app->cfg.conformance)
        broker_app_release(&app->broker);
    sio_server_free(app->sio);
    if (app->has_echo)
        eio_server_release(&app->echo);
    http_server_release(&app->http);
}

int main(int argc, char **argv)
{
    static struct app app;
    int rc = config_parse(&app.cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    log_set_level((enum log_level)app.cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    app.loop = uv_default_loop();
    setup(&app);
    /* Listen first: a port in use is then found before the private redis-server starts (no
     * request is served before the loop runs, after the broker is wired). */
    rc = http_server_listen(&app.http, app.cfg.host, app.cfg.port);
    if (rc != 0) {
        fprintf(stderr, "error: cannot listen on %s:%d: %s\n", app.cfg.host, app.cfg.port,
                uv_strerror(rc));
        return 1;
    }
    if (!app.cfg.conformance &&
        broker_app_start(&app.broker, app.loop, &app.cfg, app.sio, &app.http) != 0)
        return 1;
    log_info("main", "listening host=%s port=%d mode=%s", app.cfg.host, app.http.port,
             app.cfg.conformance ? "conformance" : "broker");
    printf("READY port=%d\n", app.http.port);
    fflush(stdout);
    uv_run(app.loop, UV_RUN_DEFAULT);
    teardown(&app);
    uv_loop_close(app.loop);
    return 0;
}
