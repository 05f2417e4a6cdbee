/* Synchronous wrappers for the queue tests: each makes one rq call, checks that its
 * callback did not run before the call returned, runs the loop until the callback has run
 * exactly once (bounded), and copies out what it was given. Each returns the call's err. */
#ifndef TESTS_QUEUE_AWAIT_H
#define TESTS_QUEUE_AWAIT_H

#include <stddef.h>
#include <stdint.h>

#include "fixture.h"
#include "queue/rq.h"

#define AWAIT_TEXT 512
#define AWAIT_MAX  64

/* The events the wrappers hand to rq. */
#define AWAIT_ENQUEUED "{\"type\":\"ENQUEUED\",\"message\":\"queued\",\"data\":null}"
#define AWAIT_RUNNING  "{\"type\":\"RUNNING\",\"message\":\"grading\",\"data\":null}"
#define AWAIT_COMPLETE "{\"type\":\"COMPLETE\",\"percent\":100,\"message\":\"done\",\"data\":null}"

struct await_job {
    int has; /* 0: the pool had nothing queued */
    int64_t id, participant, deadline;
    int attempt;
    uint64_t token;
    char payload[AWAIT_TEXT];
};

struct await_reaped {
    int64_t id;
    enum rq_state now;
    char grader[64]; /* "" when none */
};

struct await_event {
    int64_t id, seq;
    char event[AWAIT_TEXT];
};

struct await_sub {
    enum rq_state state;
    int attempt;
    char result[AWAIT_TEXT];  /* "" when none */
    char message[AWAIT_TEXT]; /* "" when none */
};

/* Payload {"file":"s<id>.csv"}, event AWAIT_ENQUEUED. */
const char *await_enqueue(struct fixture *f, struct rq *q, const char *pool, int64_t id,
                          int64_t participant, int max_attempts, int64_t time_limit_ms,
                          int *existing, int64_t *position);
const char *await_dispatch(struct fixture *f, struct rq *q, const char *pool, const char *grader,
                           int64_t lease_ms, struct await_job *job);
/* Event PROGRESS_UPDATE with the percent. */
const char *await_progress(struct fixture *f, struct rq *q, int64_t id, uint64_t token,
                           int64_t lease_ms, int percent, int *ok);
const char *await_complete(struct fixture *f, struct rq *q, int64_t id, uint64_t token,
                           const char *result, int *ok);
const char *await_fail(struct fixture *f, struct rq *q, int64_t id, uint64_t token, int retryable,
                       const char *message, int64_t base_ms, int64_t cap_ms, int *ok,
                       enum rq_state *outcome, int64_t *retry_in_ms);
const char *await_release(struct fixture *f, struct rq *q, int64_t id, uint64_t token, int *ok);
const char *await_cancel(struct fixture *f, struct rq *q, int64_t id, enum rq_state *before,
                         char grader[64]);
/* out has AWAIT_MAX entries. */
const char *await_reap(struct fixture *f, struct rq *q, int max_jobs, struct await_reaped *out,
                       size_t *n);
/* Sleeps 20 ms and reaps, again and again, until a pass changes something (bounded). */
size_t await_reap_until(struct fixture *f, struct rq *q, struct await_reaped *out);
/* out has AWAIT_MAX entries. */
const char *await_events(struct fixture *f, struct rq *q, int64_t id, int64_t after_seq,
                         struct await_event *out, size_t *n);
const char *await_get(struct fixture *f, struct rq *q, int64_t id, struct await_sub *out);
const char *await_depth(struct fixture *f, struct rq *q, const char *pool, int64_t *n);
const char *await_presence(struct fixture *f, struct rq *q, const char *grader,
                           const char (*pools)[64], int npools, int capacity, int64_t ttl_ms);
const char *await_online(struct fixture *f, struct rq *q, const char *pool, int64_t *n);
const char *await_stats(struct fixture *f, struct rq *q, const char *pool,
                        struct rq_pool_stats *out);
const char *await_position(struct fixture *f, struct rq *q, const char *pool, int64_t id,
                           int64_t *n);
/* ids has AWAIT_MAX entries. */
const char *await_outbox(struct fixture *f, struct rq *q, int64_t *ids, size_t *n);
const char *await_dlq(struct fixture *f, struct rq *q, int64_t *ids, size_t *n);
const char *await_outbox_remove(struct fixture *f, struct rq *q, int64_t id);
const char *await_dlq_requeue(struct fixture *f, struct rq *q, int64_t id);

int await_has_id(const int64_t *ids, size_t n, int64_t id);
/* Copies s into a buffer of size cap, failing the test if it does not fit. */
void await_copy(char *dst, size_t cap, const char *s);

#endif
