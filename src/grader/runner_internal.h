/* What the parts of crowdai-grader share: the runner (runner.c: the broker connection, job
 * intake, capacity, shutdown), its jobs (runner_job.c: directory, download, evaluator) and
 * their reports (runner_report.c: queued per job, sent one at a time with the lease token,
 * retried until acked, dropped on STALE_LEASE). Everything runs on one libuv loop. */
#ifndef GRADER_RUNNER_INTERNAL_H
#define GRADER_RUNNER_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "client/sioc.h"
#include "core/list.h"
#include "grader/eval_run.h"
#include "grader/runner.h"
#include "grader/runner_config.h"
#include "net/http_client.h"

#define RUNNER_LOG "grader"

enum job_state {
    JOB_HELD,        /* accepted, waiting for a free slot (or for the runner to leave) */
    JOB_DOWNLOADING, /* fetching the submission file: holds a slot */
    JOB_RUNNING,     /* the evaluator runs: holds a slot */
    JOB_ENDED,       /* nothing runs for it any more; reports may still be queued */
};

struct job {
    struct list link; /* in runner.jobs, in arrival order */
    struct runner *r;
    int64_t sub_id;
    int attempt;
    int round;
    char *lease;          /* the lease token, as the broker wrote it */
    char *data_json;      /* the submission's data, JSON text */
    char *file_url;       /* absolute URL of the submission file, or NULL */
    char *dir;            /* the job directory, while it exists */
    char *file;           /* the downloaded submission file in it, or NULL */
    unsigned generation;  /* the namespace connection the job came on */
    uint64_t received_ns; /* uv_hrtime() when the job message arrived */
    enum job_state state;
    struct http_client_req *download;
    struct eval_run *run;
    int dropped;         /* the broker no longer counts the job ours: report nothing more */
    int shutdown_cancel; /* stopped by the runner's shutdown: handed back as retryable */
    /* reports (runner_report.c) */
    struct list reports;    /* struct report, sent in order, the head first */
    int sending;            /* the head is in flight, waiting for its ack */
    uint64_t retry_at;      /* loop time before which the head is not sent again */
    uint64_t retry_delay;   /* the last wait after QUEUE_UNAVAILABLE */
    uint64_t last_acked_ms; /* loop time of the last acked report (or arrival) */
    unsigned infos_dropped; /* info lines beyond the queue's cap */
    int percent;            /* the last progress, repeated as the heartbeat */
    char *message;
};

struct runner {
    uv_loop_t *loop;
    const struct runner_config *cfg;
    struct sioc_client *client;
    struct sioc_socket *sock;
    struct http_client *http;
    char *http_base;   /* scheme://host[:port] of the broker, for relative file URLs */
    char *auth_header; /* "Authorization: Bearer <key>", for downloads (never logged) */
    uv_timer_t tick;
    struct list jobs;    /* struct job */
    int slots_used;      /* jobs downloading or running */
    unsigned generation; /* namespace connections so far */
    int ever_connected;
    int declared;       /* the capacity sent with the last CONNECT */
    uint64_t rejoin_at; /* loop time to ask for the namespace again (0: not due) */
    int stopping;       /* SIGTERM: no new jobs */
    int grace_over;     /* the running jobs were cancelled */
    uint64_t grace_end; /* loop time when running jobs are cancelled */
    uint64_t leave_end; /* loop time when the runner leaves whatever is pending */
    int leaving;        /* disconnecting from the broker: nothing more is sent */
    int closing;        /* handles closing */
    int open_parts;     /* the client and the tick timer, until closed */
    int exit_code;
    /* for the log line at the end: evaluations done, scored, and the time from each job
     * message to its outcome (download and evaluator included) */
    unsigned evaluated, scored;
    uint64_t evaluated_ns;
    runner_exit_cb on_exit;
    void *exit_ud;
};

/* ---- runner.c ---- */

/* Starts held jobs while slots are free (never while stopping). */
void runner_schedule(struct runner *r);
/* Called when a job changes state: leaves once a shutdown is complete. */
void runner_check_shutdown(struct runner *r);

/* ---- runner_job.c ---- */

/* A job from the broker's `job` message (the object), or NULL after logging why (no
 * submission id or lease token, or a job this grader has already). A job whose file_url is
 * not on the broker is returned already ended, with its failure queued. */
struct job *job_new(struct runner *r, json_t *msg);
/* Takes a slot: makes the directory, downloads the file, starts the evaluator. */
void job_start(struct job *j);
/* The broker no longer counts the job this grader's (cancel, STALE_LEASE): stops its work
 * and drops its reports. why is logged. */
void job_drop(struct job *j, const char *why);
/* Shutdown: stops the work and hands the job back as a retryable failure. */
void job_give_back(struct job *j, const char *why);
/* Frees the job once it has ended and has nothing left to send or wait for. */
void job_maybe_free(struct job *j);
/* Frees a job at the runner's close, whatever its reports (nothing may run for it). */
void job_free(struct job *j);
/* The job of that submission and lease, or NULL. */
struct job *job_find(struct runner *r, int64_t sub_id, const char *lease);

/* ---- runner_report.c ---- */

void report_progress(struct job *j);
void report_info(struct job *j, const char *message);
void report_complete(struct job *j, double score, int has_secondary, double secondary);
void report_fail(struct job *j, const char *message, int retryable);
/* Sends the head report if it may go now. */
void report_pump(struct job *j);
/* Every tick: retries that are due, heartbeats, reports retried for too long. */
void report_tick(struct job *j, uint64_t now);
/* Forgets every queued report (one in flight is forgotten when its ack comes). */
void report_drop_all(struct job *j);
/* 1 while a report is queued or in flight. */
int report_pending(const struct job *j);

#endif
