/* Running a challenge's evaluator for one job: a child process on the libuv loop whose stdout
 * lines become progress and info callbacks and whose result (or failure) becomes one done()
 * callback. Limits (wall time, CPU time, memory, output size) are enforced, and every process
 * the evaluator starts is killed and reaped before done(). The contract an evaluator follows
 * is in docs/evaluator.md. No networking here: crowdai-grader forwards the callbacks.
 *
 * How it runs: eval_start forks a small supervisor process (a new session, and a "child
 * subreaper" so that every orphan of the evaluator becomes its child), which forks the
 * evaluator in a process group of its own with the limits applied, then reaps it and kills
 * whatever it left behind. The supervisor also kills the evaluator if this process dies.
 * The program must not reap children it did not start (no waitpid(-1)). */
#ifndef GRADER_EVAL_RUN_H
#define GRADER_EVAL_RUN_H

#include <stdint.h>
#include <uv.h>

#define EVAL_RESULT_FD     3           /* the descriptor the result is written to */
#define EVAL_RESULT_MAX    (64 * 1024) /* bytes of result on fd 3 (more: EVAL_BAD_RESULT) */
#define EVAL_LINE_MAX      (64 * 1024) /* bytes of one stdout line (longer: garbage) */
#define EVAL_MESSAGE_MAX   1000        /* bytes of a progress or info message (cut beyond) */
#define EVAL_DATA_MAX      (64 * 1024) /* bytes of data_json (passed in the environment) */
#define EVAL_GRACE_DEFAULT 2000        /* ms between SIGTERM and SIGKILL when grace_ms is 0 */

/* Each limit applies to one job; 0 means no limit. */
struct eval_limits {
    uint64_t wall_ms;      /* wall-clock time from start; then the group is killed */
    uint64_t cpu_ms;       /* CPU time of each process (RLIMIT_CPU, rounded up to seconds) */
    uint64_t memory_bytes; /* address space of each process (RLIMIT_AS) */
    uint64_t output_bytes; /* stdout and stderr bytes together; beyond: "output flood" */
};

/* What to run. Everything is copied by eval_start: nothing needs to outlive the call. */
struct eval_spec {
    /* The command, NULL-terminated, no shell. argv[0] without a '/' is looked up in PATH;
     * "{submission}", "{answer}", "{submission_id}" and "{round}" are replaced anywhere in
     * each argument. */
    const char *const *argv;
    /* Extra "NAME=value" environment entries (NULL-terminated; may be NULL). They override
     * the defaults; nothing else of this process's environment is passed on except PATH,
     * HOME, LANG, LC_ALL, LC_CTYPE, TZ and TMPDIR. */
    const char *const *env;
    const char *submission_file; /* may be NULL: the variable and placeholder are empty */
    const char *answer_file;     /* may be NULL, likewise */
    const char *data_json;       /* the submission's data, JSON text; NULL: "null" */
    const char *workdir;         /* the evaluator's working directory; NULL: this one's */
    int64_t submission_id;
    int round;
    struct eval_limits limits;
    uint64_t grace_ms;             /* SIGTERM to SIGKILL; 0: EVAL_GRACE_DEFAULT */
    uint64_t progress_interval_ms; /* at most one progress callback per interval (the latest
                                    * value wins; the last one is always delivered);
                                    * 0: one callback per progress line */
};

/* Why a run failed. Each has its own message; see docs/evaluator.md. */
enum eval_failure {
    EVAL_OK = 0,
    EVAL_START_FAILED, /* could not start the evaluator (retryable) */
    EVAL_INTERNAL,     /* the runner itself failed mid-run (retryable) */
    EVAL_EXIT_STATUS,  /* exited with a non-zero status */
    EVAL_CRASHED,      /* killed by a signal it did not get from the runner */
    EVAL_TIMEOUT,      /* ran past limits.wall_ms */
    EVAL_CPU_LIMIT,    /* used more than limits.cpu_ms */
    EVAL_MEMORY_LIMIT, /* failed with evident lack of memory under limits.memory_bytes */
    EVAL_OUTPUT_FLOOD, /* wrote more than limits.output_bytes on stdout and stderr */
    EVAL_GARBAGE,      /* exited 0 without a result, stdout had lines not understood */
    EVAL_NO_SCORE,     /* exited 0 without a result, or the result has no numeric score */
    EVAL_BAD_RESULT,   /* the result is not a JSON object, or is too large */
    EVAL_CANCELLED     /* eval_cancel was called */
};

/* Passed to done(); every pointer is borrowed and valid only during that call. */
struct eval_outcome {
    int ok;                  /* 1: scored; then kind is EVAL_OK */
    const char *result_json; /* when ok: the result object as written (NUL-terminated) */
    double score;            /* when ok */
    int has_score_secondary; /* when ok: score_secondary was given (and not null) */
    double score_secondary;
    enum eval_failure kind;
    const char *message;     /* plain words for the participant; "" when ok */
    const char *stderr_tail; /* the last lines of stderr (at most 5 lines, 1000 bytes) */
    int retryable;           /* the failure is the platform's, not the evaluator's */
    int exit_status;         /* the exit status, or -1 if it did not exit normally */
    int term_signal;         /* the signal that killed it, or 0 */
    uint64_t wall_ms;
    uint64_t cpu_ms;             /* user + system, of the evaluator and every process it started */
    uint64_t max_rss_kb;         /* the largest resident size of any of them */
    uint64_t output_bytes;       /* stdout + stderr */
    unsigned garbage_lines;      /* stdout lines neither progress, info, blank nor JSON */
    unsigned leftover_processes; /* processes still there when the evaluator exited */
};

/* Strings are borrowed: valid only during the call. progress and info may be NULL; they are
 * never called after eval_cancel or after the runner decided to kill the evaluator. Any
 * callback may call eval_cancel on its run. */
struct eval_callbacks {
    void (*progress)(void *ud, int percent, const char *message); /* message may be NULL */
    void (*info)(void *ud, const char *message);
    void (*done)(void *ud, const struct eval_outcome *o); /* required */
};

struct eval_run;

/* Starts the evaluator. done() is called exactly once, from the loop and never before
 * eval_start has returned, after the evaluator and everything it started have exited and
 * been reaped; the run frees itself when done() returns. Failures to start (program not
 * found, fork failure, bad working directory) come through done() as EVAL_START_FAILED.
 * Returns NULL only when the spec itself is unusable (no argv, data_json too large, a bad
 * env entry); err then says why and no callback will come. The loop must keep running until
 * done(): to stop early, eval_cancel. */
struct eval_run *eval_start(uv_loop_t *loop, const struct eval_spec *spec,
                            const struct eval_callbacks *cb, void *ud, char *err, size_t errlen);

/* Stops the run: SIGTERM to the evaluator's process group, SIGKILL after the grace period.
 * done() still comes, once, with kind EVAL_CANCELLED and reason (copied; may be NULL) in its
 * message. Calls after the first are ignored. Must not be called once done() has begun. */
void eval_cancel(struct eval_run *r, const char *reason);

/* The evaluator's process id (also its process group), or 0 if it was not started. */
int eval_pid(const struct eval_run *r);

/* A constant name for a failure kind, such as "TIMEOUT" (for logs and metrics). */
const char *eval_failure_name(enum eval_failure kind);

#endif
