/* The test loop and its watchdog; see loop_util.h. */
#include "loop_util.h"

#include <stdio.h>

static uv_loop_t loop;
static uv_timer_t watchdog;
static int initialised;
static int fired;

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    fired = 1;
}

uv_loop_t *test_loop(void)
{
    if (!initialised) {
        uv_loop_init(&loop);
        uv_timer_init(&loop, &watchdog);
        initialised = 1;
    }
    return &loop;
}

void loop_arm(uint64_t ms)
{
    test_loop();
    fired = 0;
    uv_update_time(&loop);
    uv_timer_start(&watchdog, on_watchdog, ms, 0);
}

int loop_step(void)
{
    uv_run(&loop, UV_RUN_ONCE);
    return fired;
}

void loop_disarm(void)
{
    uv_timer_stop(&watchdog);
}

void loop_run_for(uint64_t ms)
{
    loop_arm(ms);
    while (!loop_step())
        ;
    loop_disarm();
}

static void on_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    fprintf(stderr, "handle left open: type=%s closing=%d\n", uv_handle_type_name(h->type),
            uv_is_closing(h));
}

void loop_finish(void)
{
    test_loop();
    uv_close((uv_handle_t *)&watchdog, NULL);
    /* Closing handles and cancelled DNS requests may take a few iterations. */
    for (int i = 0; i < 300 && uv_run(&loop, UV_RUN_NOWAIT) != 0; i++)
        uv_sleep(10);
    if (uv_loop_close(&loop) != 0) {
        uv_walk(&loop, on_walk, NULL);
        test_fail(__FILE__, __LINE__, "the loop still has handles");
    }
    initialised = 0;
}
