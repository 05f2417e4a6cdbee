/* The durable job queue on Redis 7, shared by every broker: submissions queued per grader
 * pool with per-participant fairness, leases with fencing tokens, retries with backoff, a
 * dead-letter stream, per-submission event streams with sequence numbers, live event
 * fan-out between brokers (Pub/Sub), and the score outbox.
 *
 * Every state change is one Lua script (atomic, one round trip) that uses Redis's own clock
 * (TIME), so brokers' clocks do not matter. Completion comes through callbacks that are never
 * called before the function returns; `err` is NULL on success or a static message (Redis
 * unreachable, timeout, script error). All JSON passed in is copied; pointers passed to
 * callbacks are borrowed for the call.
 *
 * Keys (prefix from rq_config, default "crowdai:"):
 *   sub:<id>            hash: pool participant state attempt max_attempts token grader payload
 *                       time_limit_ms started_at lease_until seq result message
 *   pool:<pool>:p:<participant>   list of queued submission ids (FIFO per participant)
 *   pool:<pool>:ring    list of participants with queued work (round robin)
 *   pool:<pool>:order   zset submission id -> Redis time (ms) it last entered the queue, at
 *                       enqueue or when queued again (queue positions, oldest queued job)
 *   pool:<pool>:leases  zset submission id -> lease expiry (ms)
 *   pool:<pool>:graders zset grader id -> presence expiry (ms), from every broker
 *   pool:<pool>:capacity  hash grader id -> announced capacity (members of graders only)
 *   pool:<pool>:delayed zset submission id -> due time of a retry (ms): the pool's share of
 *                       delayed, always updated with it
 *   pool:<pool>:stats:<unix minute>  hash finished retried dead: jobs of the pool that ended,
 *                       had a retry scheduled, were dead-lettered in that minute (Redis time);
 *                       expires after 2 h
 *   delayed             zset submission id -> due time of a retry (ms)
 *   token               counter for fencing tokens
 *   ev:<id>             stream of the submission's events (fields: seq, event)
 *   outbox              set of submission ids whose final result is not yet in the registry
 *   dlq                 stream of dead-lettered jobs (sub, pool, attempts, reason)
 *   channel "events"    Pub/Sub: each event as `{"submission_id":..,"seq":..,<event fields>}`
 */
#ifndef QUEUE_RQ_H
#define QUEUE_RQ_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct rq;

struct rq_config {
    const char *host; /* Redis TCP host, or NULL to use unix_path */
    int port;
    const char *unix_path;
    const char *prefix;          /* key prefix, e.g. "crowdai:" */
    uint64_t command_timeout_ms; /* a command with no reply by then fails with rq_err_timeout */
};

extern const char rq_err_timeout[];     /* "redis command timed out" */
extern const char rq_err_unavailable[]; /* "redis unavailable" */

/* Final states and outcomes of state-changing scripts. */
enum rq_state {
    RQ_QUEUED = 0,
    RQ_RUNNING,
    RQ_DONE,  /* completed with a result */
    RQ_ERROR, /* failed for good (not retryable, or attempts used up: dead-lettered) */
    RQ_TIMEOUT,
    RQ_CANCELLED,
    RQ_UNKNOWN, /* no such submission in Redis */
};

/* A job handed to a grader. */
struct rq_job {
    int64_t submission_id;
    int64_t participant_id;
    int attempt;         /* 1 for the first delivery */
    uint64_t token;      /* fencing token: every later call about this job carries it */
    int64_t deadline;    /* Redis time (ms) by which the job must finish (time limit) */
    const char *payload; /* the JSON given at enqueue, for the grader */
};

/* One event of a submission; event is the JSON object without submission_id and seq. */
struct rq_event {
    int64_t submission_id;
    int64_t seq;
    const char *event;
};

typedef void (*rq_done_cb)(void *ud, const char *err);
/* position: jobs queued ahead in the pool (0 = next). existing: already enqueued before. */
typedef void (*rq_enqueue_cb)(void *ud, const char *err, int existing, int64_t position);
/* job is NULL when nothing is queued for the pool. */
typedef void (*rq_dispatch_cb)(void *ud, const char *err, const struct rq_job *job);
/* ok: 1 applied, 0 refused because the token is stale or the job is not running (fenced). */
typedef void (*rq_fenced_cb)(void *ud, const char *err, int ok);
/* outcome for fail(): RQ_QUEUED (retry scheduled, retry_in_ms set) or RQ_ERROR (dead). */
typedef void (*rq_fail_cb)(void *ud, const char *err, int ok, enum rq_state outcome,
                           int64_t retry_in_ms);
/* state before the cancel; grader is the id of the grader that held it when RUNNING. */
typedef void (*rq_cancel_cb)(void *ud, const char *err, enum rq_state before, const char *grader);
/* Called once per event, then once with ev NULL at the end. */
typedef void (*rq_events_cb)(void *ud, const char *err, const struct rq_event *ev);
/* A job the janitor changed: requeued (lease expired), dead-lettered, timed out, or a delayed
 * retry made due. Called per job, then once with sub_id 0 at the end. grader: who held it. */
typedef void (*rq_reap_cb)(void *ud, const char *err, int64_t sub_id, enum rq_state now,
                           const char *grader);
typedef void (*rq_live_cb)(void *ud, const struct rq_event *ev);
typedef void (*rq_ids_cb)(void *ud, const char *err, const int64_t *ids, size_t n);
typedef void (*rq_count_cb)(void *ud, const char *err, int64_t n);

/* Connects (and reconnects with backoff when the connection drops); loads the scripts. */
struct rq *rq_new(uv_loop_t *loop, const struct rq_config *cfg);
/* Closes the connections; pending callbacks get rq_err_unavailable first. */
void rq_free(struct rq *q);
int rq_connected(const struct rq *q);

/* Queues a submission (idempotent by submission_id) and appends its ENQUEUED event (event
 * is the JSON object of the event; the script adds "position"). */
void rq_enqueue(struct rq *q, const char *pool, int64_t submission_id, int64_t participant_id,
                const char *payload, int max_attempts, int64_t time_limit_ms, const char *event,
                rq_enqueue_cb cb, void *ud);
/* Takes the next job of the pool, fairly across participants, and leases it to grader for
 * lease_ms; appends the RUNNING event given. */
void rq_dispatch(struct rq *q, const char *pool, const char *grader, int64_t lease_ms,
                 const char *running_event, rq_dispatch_cb cb, void *ud);
/* With the job's token: extends the lease and appends the event (PROGRESS_UPDATE or INFO). */
void rq_progress(struct rq *q, int64_t submission_id, uint64_t token, int64_t lease_ms,
                 const char *event, rq_fenced_cb cb, void *ud);
/* With the job's token: extends the lease only (no event). */
void rq_renew(struct rq *q, int64_t submission_id, uint64_t token, int64_t lease_ms,
              rq_fenced_cb cb, void *ud);
/* Appends a broker-made event (WAITING) to a submission still QUEUED; ok 0 when it is not. */
void rq_note(struct rq *q, int64_t submission_id, const char *event, rq_fenced_cb cb, void *ud);
/* With the job's token: records the result JSON, ends the lease, adds the submission to the
 * outbox and appends the COMPLETE event. A stale token changes nothing (and is logged in
 * the stream "stale"). */
void rq_complete(struct rq *q, int64_t submission_id, uint64_t token, const char *result,
                 const char *event, rq_fenced_cb cb, void *ud);
/* With the job's token: a grader failure. Retryable and attempts left: requeued after a
 * backoff (base_ms * 2^(attempt-1), capped at cap_ms, with jitter), an INFO event says so.
 * Otherwise: ERROR, outbox, dead-letter entry, the ERROR event. */
void rq_fail(struct rq *q, int64_t submission_id, uint64_t token, int retryable,
             const char *message, int64_t base_ms, int64_t cap_ms, rq_fail_cb cb, void *ud);
/* A grader that disconnected cleanly gives its job back: requeued at the head of its
 * participant's queue, the attempt not counted. */
void rq_release(struct rq *q, int64_t submission_id, uint64_t token, rq_fenced_cb cb, void *ud);
/* Cancels a queued or running submission (CANCELLED event, outbox). */
void rq_cancel(struct rq *q, int64_t submission_id, const char *message, rq_cancel_cb cb, void *ud);
/* The janitor's pass (run every few seconds by each broker; safe concurrently): leases that
 * expired are requeued, or dead-lettered after max_attempts; running jobs past their deadline
 * become TIMEOUT; delayed retries that are due are queued again. */
void rq_reap(struct rq *q, int max_jobs, rq_reap_cb cb, void *ud);
/* Events of a submission with seq > after_seq, in order. */
void rq_events(struct rq *q, int64_t submission_id, int64_t after_seq, rq_events_cb cb, void *ud);
/* Live events from every broker (Pub/Sub on its own connection). One subscriber. cb gets
 * ev NULL each time the subscription is (re)established: events published while it was
 * down are not delivered, so the caller replays from the event streams. */
void rq_subscribe(struct rq *q, rq_live_cb cb, void *ud);
/* Outbox: submission ids whose final result awaits the registry, and removal once applied. */
void rq_outbox_list(struct rq *q, int max, rq_ids_cb cb, void *ud);
void rq_outbox_remove(struct rq *q, int64_t submission_id, rq_done_cb cb, void *ud);
/* The stored hash fields of a submission (state, result JSON, message, attempt...). */
typedef void (*rq_sub_cb)(void *ud, const char *err, enum rq_state state, const char *result,
                          const char *message, int attempt);
void rq_get(struct rq *q, int64_t submission_id, rq_sub_cb cb, void *ud);
/* Queue depth of a pool, and a submission's position in it (-1 when not queued). */
void rq_depth(struct rq *q, const char *pool, rq_count_cb cb, void *ud);
void rq_position(struct rq *q, const char *pool, int64_t submission_id, rq_count_cb cb, void *ud);
/* Dead letters: ids, and requeueing one (attempts reset). */
void rq_dlq_list(struct rq *q, int max, rq_ids_cb cb, void *ud);
void rq_dlq_requeue(struct rq *q, int64_t submission_id, rq_done_cb cb, void *ud);

/* Grader presence, shared by every broker: a grader is online in its pools with the capacity
 * it announced (>= 0) until ttl_ms from now (announce again before then), or gone at once
 * with ttl_ms 0. At most RQ_MAX_PRESENCE_POOLS pools. */
#define RQ_MAX_PRESENCE_POOLS 8
void rq_presence(struct rq *q, const char *grader_id, const char (*pools)[64], int npools,
                 int capacity, int64_t ttl_ms, rq_done_cb cb, void *ud);
/* How many graders are online in pool, on any broker. */
void rq_pool_online(struct rq *q, const char *pool, rq_count_cb cb, void *ud);

/* Public figures of one grader pool, for the status page. */
#define RQ_STATS_MINUTES 60
struct rq_pool_stats {
    int64_t graders_online;   /* graders present in the pool on any broker */
    int64_t capacity_online;  /* sum of their announced capacities */
    int64_t queued;           /* jobs waiting for a grader now */
    int64_t running;          /* jobs leased to a grader now */
    int64_t retrying;         /* jobs waiting for a retry backoff now (in `delayed`, this pool) */
    int64_t oldest_queued_ms; /* age of the oldest queued job (Redis TIME), -1 when none */
    /* retries scheduled in the last 60 minutes (retryable fail + lease expiry requeue) */
    int64_t retried_hour;
    int64_t dead_hour; /* jobs dead-lettered in the last 60 minutes */
    /* jobs that ended (COMPLETE, ERROR, TIMEOUT, CANCELLED) in the last 60 minutes */
    int64_t finished_hour;
    /* [0] = the current minute, [59] = 59 minutes ago */
    int64_t finished_per_minute[RQ_STATS_MINUTES];
};
typedef void (*rq_stats_cb)(void *ud, const char *err, const struct rq_pool_stats *s);
/* The pool's figures, read in one script: cost O(graders of the pool + log of its queue).
 * The age of the oldest queued job counts from when it last entered the queue (a job queued
 * again after a lease expiry, a release or a retry backoff starts waiting anew). Running
 * includes leases expired but not yet reaped. "The last 60 minutes" are the current minute
 * of Redis's clock and the 59 before it. s is NULL when err is set. */
void rq_pool_stats(struct rq *q, const char *pool, rq_stats_cb cb, void *ud);

#endif
