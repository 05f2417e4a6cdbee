/* crowdai-grader: reads its settings, runs the grader runner on one libuv loop until it has
 * left the broker, and turns SIGTERM and SIGINT into a graceful shutdown. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "core/log.h"
#include "grader/runner.h"
#include "grader/runner_config.h"

struct app {
    uv_loop_t *loop;
    struct runner *runner;
    uv_signal_t sigterm, sigint;
    int exit_code;
};

static void on_signal(uv_signal_t *h, int signum)
{
    struct app *app = h->data;
    log_info("grader", "signal %d received", signum);
    runner_shutdown(app->runner);
}

/* The runner is done: the signal handles are all that keeps the loop alive. */
static void on_runner_exit(void *ud, int code)
{
    struct app *app = ud;
    app->exit_code = code;
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    uv_close((uv_handle_t *)&app->sigint, NULL);
}

int main(int argc, char **argv)
{
    static struct runner_config cfg;
    static struct app app;
    int rc = runner_config_parse(&cfg, argc, argv);
    if (rc != 0) {
        runner_config_release(&cfg);
        return rc > 0 ? 0 : 2;
    }
    log_set_level((enum log_level)cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    app.loop = uv_default_loop();
    app.runner = runner_start(app.loop, &cfg, on_runner_exit, &app);
    if (app.runner == NULL) {
        runner_config_release(&cfg);
        return 1;
    }
    uv_signal_init(app.loop, &app.sigterm);
    uv_signal_init(app.loop, &app.sigint);
    app.sigterm.data = app.sigint.data = &app;
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_run(app.loop, UV_RUN_DEFAULT);
    runner_free(app.runner);
    if (uv_loop_close(app.loop) != 0)
        log_warn("grader", "the loop still had handles at exit");
    runner_config_release(&cfg);
    return app.exit_code;
}
