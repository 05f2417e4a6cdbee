/* The setting of a queue test: a private redis-server, a libuv loop, and an rq connected
 * to it. Every wait is bounded: the test fails if its callback has not come in time. */
#ifndef TESTS_QUEUE_FIXTURE_H
#define TESTS_QUEUE_FIXTURE_H

#include <stdint.h>
#include <uv.h>

#include "queue/rq.h"
#include "redis_proc.h"

#define FIXTURE_WAIT_MS 5000
#define FIXTURE_PREFIX  "t:"

struct fixture {
    uv_loop_t loop;
    uv_timer_t guard;
    const char *waiting_for; /* what the guard reports if it fires */
    struct redis_proc redis;
    struct rq_config cfg;
    struct rq *q;
};

/* Starts redis-server, the loop, and f->q (command timeout timeout_ms; over its unix
 * socket when use_unix), and waits until f->q is connected. */
void fixture_start(struct fixture *f, uint64_t timeout_ms, int use_unix);
/* Another rq on the same server (another broker), connected. */
struct rq *fixture_open(struct fixture *f);
/* Runs the loop until *flag is not 0; fails the test after FIXTURE_WAIT_MS. */
void fixture_wait(struct fixture *f, const int *flag, const char *what);
/* Runs the loop until q is connected (or reconnected), bounded by 3 * FIXTURE_WAIT_MS. */
void fixture_wait_connected(struct fixture *f, struct rq *q);
/* Runs the loop for ms milliseconds. */
void fixture_sleep(struct fixture *f, uint64_t ms);
/* Frees q and runs the loop until its handles are closed. */
void fixture_close_rq(struct fixture *f, struct rq *q);
/* Frees f->q, checks that the loop closes with nothing left open, stops redis-server. */
void fixture_finish(struct fixture *f);

#endif
