/* crowdai-grader's runner: one grader connection to a broker (namespace /grader) that takes
 * jobs within its capacity, runs the evaluator for each (grader/eval_run.h), relays progress
 * and info, and reports the result with the job's lease token.
 *
 * Delivery: each job's reports go one at a time, in order, and are sent again while the broker
 * is unreachable or answers QUEUE_UNAVAILABLE (for up to report_retry_ms), so a result
 * survives a broker restart; the first STALE_LEASE (the job is no longer this grader's: its
 * lease expired, it was cancelled, or an earlier copy of the report was applied) stops the
 * job and drops its reports, so no result is applied twice. The connection comes back by
 * itself (backoff with jitter), and running evaluators keep running meanwhile.
 *
 * Shutdown (runner_shutdown): no new evaluator starts; the running ones may finish for
 * shutdown_grace_ms, then they are cancelled and reported as retryable failures (the broker
 * grades them again); jobs that never started are handed back by leaving the namespace
 * cleanly. docs/grader.md tells the whole story. */
#ifndef GRADER_RUNNER_H
#define GRADER_RUNNER_H

#include <uv.h>

#include "grader/runner_config.h"

struct runner;

/* Called once, when the runner has left and released its handles: code is the exit status
 * (0 after a shutdown, 1 when the broker refused this grader at its first connection). */
typedef void (*runner_exit_cb)(void *ud, int code);

/* Starts connecting. cfg must outlive the runner. Returns NULL (logged) when the HTTP
 * or Socket.IO client cannot be made. */
struct runner *runner_start(uv_loop_t *loop, const struct runner_config *cfg, runner_exit_cb cb,
                            void *ud);

/* The first call begins the graceful shutdown; a second one ends its grace period at once. */
void runner_shutdown(struct runner *r);

/* Frees the runner after its exit callback ran. */
void runner_free(struct runner *r);

#endif
