/* One evaluator run on the libuv loop: starts the supervisor and evaluator (eval_spawn.c),
 * reads stdout (progress and info lines), stderr (its last bytes), fd 3 (the result) and the
 * supervisor's status pipe, enforces the wall time and the output limit, kills on cancel,
 * and delivers done() once every process is gone and every handle is closed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "grader/eval_internal.h"

#define STDERR_KEEP       (8 * 1024) /* bytes of stderr kept for the message */
#define GARBAGE_SAMPLE    200        /* bytes of the first garbage line kept */
#define SWEEP_DEADLINE_MS 10000      /* after the exit, for the supervisor to clean up */
#define DRAIN_DEADLINE_MS 2000       /* after the supervisor, for the pipes to close */
#define REAP_POLL_MS      2          /* between tries to reap the exiting supervisor */

enum { R_OUT = 1, R_ERR = 2, R_RES = 4, R_STATUS = 8 };

enum reap_phase { REAP_IDLE, REAP_SWEEP_DEADLINE, REAP_POLL, REAP_DRAIN };

struct eval_run {
    uv_loop_t *loop;
    struct eval_callbacks cb;
    void *ud;
    struct eval_limits limits;
    uint64_t grace_ms, progress_interval_ms;
    int64_t submission_id;

    pid_t supervisor, evaluator;
    uv_pipe_t out, err, res, status;
    uv_timer_t wall, grace, progress, reap;
    unsigned open_handles; /* initialised and not yet closed */
    unsigned piped;        /* R_* pipes initialised */
    unsigned reading;      /* R_* pipes not yet at their end */
    enum reap_phase reap_phase;

    int cancelled;
    char *cancel_reason;
    enum eval_failure killed; /* why the runner killed it (EVAL_OK: it did not) */
    int stopping;             /* killing: no more progress or info */
    int exited, supervisor_reaped, finishing;
    int wait_status;
    uint64_t evaluator_cpu_us, others_cpu_us, max_rss_kb;
    unsigned leftovers;
    uint64_t start_ns, end_ns, output_bytes;
    char start_error[512];

    struct buf record;    /* a partial status record */
    struct buf line;      /* the stdout line being read */
    int line_overlong;    /* it passed EVAL_LINE_MAX: discarded up to its '\n' */
    struct buf last_json; /* the last stdout line, when it is a JSON object */
    int last_is_json;
    unsigned garbage;
    char garbage_sample[GARBAGE_SAMPLE + 1];
    struct buf errtail; /* the last STDERR_KEEP (to 2 * STDERR_KEEP) bytes of stderr */
    struct buf result;  /* fd 3 */

    int pending; /* a progress line waits for progress_interval_ms */
    struct eval_line pending_line;
    int progress_sent;
    uint64_t last_progress_ms;

    char readbuf[64 * 1024];
};

static void finish(struct eval_run *r);

/* ---- killing ---- */

static void on_grace(uv_timer_t *t)
{
    struct eval_run *r = t->data;
    if (!r->exited && r->evaluator > 0)
        kill(-r->evaluator, SIGKILL);
}

/* Stops the evaluator: SIGTERM to its group now, SIGKILL after the grace period. Once it has
 * exited the supervisor kills what is left, so nothing more is sent then. */
static void stop(struct eval_run *r, enum eval_failure why)
{
    if (why != EVAL_CANCELLED && r->killed == EVAL_OK && !r->exited)
        r->killed = why;
    if (r->stopping)
        return;
    r->stopping = 1;
    r->pending = 0;
    uv_timer_stop(&r->progress);
    uv_timer_stop(&r->wall);
    if (r->exited || r->evaluator <= 0)
        return;
    log_info("eval", "stopping the evaluator submission=%lld pid=%d reason=%s",
             (long long)r->submission_id, (int)r->evaluator, eval_failure_name(why));
    kill(-r->evaluator, SIGTERM);
    uv_timer_start(&r->grace, on_grace, r->grace_ms, 0);
}

static void on_wall(uv_timer_t *t)
{
    stop(t->data, EVAL_TIMEOUT);
}

/* ---- progress and info ---- */

static void emit_progress(struct eval_run *r, const struct eval_line *l)
{
    r->progress_sent = 1;
    r->last_progress_ms = uv_now(r->loop);
    if (r->cb.progress != NULL)
        r->cb.progress(r->ud, l->percent, l->has_message ? l->message : NULL);
}

static void flush_progress(struct eval_run *r)
{
    if (!r->pending || r->stopping)
        return;
    r->pending = 0;
    uv_timer_stop(&r->progress);
    emit_progress(r, &r->pending_line);
}

static void on_progress_timer(uv_timer_t *t)
{
    flush_progress(t->data);
}

/* Delivers a progress line now, or keeps it (the latest wins) until the interval is over. */
static void on_progress_line(struct eval_run *r, const struct eval_line *l)
{
    uint64_t now = uv_now(r->loop);
    uint64_t interval = r->progress_interval_ms;
    if (interval == 0 || !r->progress_sent || now - r->last_progress_ms >= interval) {
        r->pending = 0;
        uv_timer_stop(&r->progress);
        emit_progress(r, l);
        return;
    }
    r->pending = 1;
    r->pending_line = *l;
    if (!uv_is_active((uv_handle_t *)&r->progress))
        uv_timer_start(&r->progress, on_progress_timer, r->last_progress_ms + interval - now, 0);
}

static void on_info_line(struct eval_run *r, const struct eval_line *l)
{
    flush_progress(r); /* keeps the order the evaluator wrote them in */
    if (!r->stopping && r->cb.info != NULL)
        r->cb.info(r->ud, l->message);
}

/* ---- stdout ---- */

static void note_garbage(struct eval_run *r, const char *line, size_t len)
{
    if (r->garbage++ == 0)
        eval_text_clean(r->garbage_sample, sizeof(r->garbage_sample), line, len, 0);
}

static void handle_line(struct eval_run *r, const char *text, size_t len)
{
    struct eval_line l;
    if (r->line_overlong) {
        static const char overlong[] = "(a line longer than 64 KiB)";
        r->line_overlong = 0;
        r->last_is_json = 0;
        note_garbage(r, overlong, strlen(overlong));
        return;
    }
    eval_line_parse(text, len, &l);
    switch (l.kind) {
    case EVAL_LINE_BLANK:
        return; /* changes nothing, not even which line was the last */
    case EVAL_LINE_JSON:
        buf_reset(&r->last_json);
        r->last_is_json = buf_append(&r->last_json, text, len) == 0;
        return;
    case EVAL_LINE_PROGRESS:
        r->last_is_json = 0;
        on_progress_line(r, &l);
        return;
    case EVAL_LINE_INFO:
        r->last_is_json = 0;
        on_info_line(r, &l);
        return;
    case EVAL_LINE_GARBAGE:
        r->last_is_json = 0;
        note_garbage(r, text, len);
        return;
    }
}

static void feed_stdout(struct eval_run *r, const char *data, size_t len)
{
    while (len > 0 && !r->stopping) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl != NULL ? (size_t)(nl - data) : len;
        if (!r->line_overlong && buf_append(&r->line, data, n) != 0) {
            r->line_overlong = 1;
            buf_reset(&r->line);
        }
        if (nl == NULL)
            return;
        handle_line(r, r->line.data != NULL ? r->line.data : "", r->line.len);
        buf_reset(&r->line);
        data += n + 1;
        len -= n + 1;
    }
}

/* ---- reading the pipes ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct eval_run *r = h->data;
    b->base = r->readbuf;
    b->len = sizeof(r->readbuf);
}

static void check_finish(struct eval_run *r)
{
    if (!r->finishing && r->supervisor_reaped && r->reading == 0)
        finish(r);
}

static void pipe_ended(struct eval_run *r, uv_pipe_t *p, unsigned bit, ssize_t status)
{
    if (status != UV_EOF)
        log_warn("eval", "reading the evaluator's output failed submission=%lld error=%s",
                 (long long)r->submission_id, uv_strerror((int)status));
    uv_read_stop((uv_stream_t *)p);
    r->reading &= ~bit;
    check_finish(r);
}

static void count_output(struct eval_run *r, size_t n)
{
    r->output_bytes += n;
    if (r->limits.output_bytes > 0 && r->output_bytes > r->limits.output_bytes)
        stop(r, EVAL_OUTPUT_FLOOD);
}

static void on_out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct eval_run *r = s->data;
    if (n > 0) {
        count_output(r, (size_t)n);
        feed_stdout(r, b->base, (size_t)n);
    } else if (n < 0) {
        if (!r->stopping && (r->line.len > 0 || r->line_overlong))
            handle_line(r, r->line.data != NULL ? r->line.data : "", r->line.len);
        buf_reset(&r->line);
        pipe_ended(r, &r->out, R_OUT, n);
    }
}

static void on_err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct eval_run *r = s->data;
    if (n > 0) {
        const char *data = b->base;
        size_t len = (size_t)n;
        count_output(r, len);
        if (len >= STDERR_KEEP) {
            buf_reset(&r->errtail);
            data += len - STDERR_KEEP;
            len = STDERR_KEEP;
        }
        buf_append(&r->errtail, data, len);
        if (r->errtail.len > 2 * STDERR_KEEP)
            buf_consume(&r->errtail, r->errtail.len - STDERR_KEEP);
    } else if (n < 0) {
        pipe_ended(r, &r->err, R_ERR, n);
    }
}

static void on_res_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct eval_run *r = s->data;
    if (n > 0) {
        if (buf_append(&r->result, b->base, (size_t)n) != 0)
            stop(r, EVAL_BAD_RESULT); /* more than EVAL_RESULT_MAX */
    } else if (n < 0) {
        pipe_ended(r, &r->res, R_RES, n);
    }
}

/* ---- the supervisor ---- */

static void on_reap_timer(uv_timer_t *t);

static void arm_reap(struct eval_run *r, enum reap_phase phase, uint64_t ms)
{
    r->reap_phase = phase;
    uv_timer_start(&r->reap, on_reap_timer, ms, 0);
}

static void handle_record(struct eval_run *r, const struct eval_record *rec)
{
    if (rec->type == EVAL_REC_EXITED) {
        r->exited = 1;
        r->end_ns = uv_hrtime();
        r->wait_status = rec->b;
        r->evaluator_cpu_us = (uint64_t)rec->cpu_us;
        if ((uint64_t)rec->max_rss_kb > r->max_rss_kb)
            r->max_rss_kb = (uint64_t)rec->max_rss_kb;
        uv_timer_stop(&r->wall);
        uv_timer_stop(&r->grace);
        arm_reap(r, REAP_SWEEP_DEADLINE, SWEEP_DEADLINE_MS);
    } else if (rec->type == EVAL_REC_SWEPT) {
        r->leftovers = (unsigned)rec->a;
        r->others_cpu_us = (uint64_t)rec->cpu_us;
        if ((uint64_t)rec->max_rss_kb > r->max_rss_kb)
            r->max_rss_kb = (uint64_t)rec->max_rss_kb;
        if (r->leftovers > 0)
            log_info("eval", "killed what the evaluator left behind submission=%lld processes=%u",
                     (long long)r->submission_id, r->leftovers);
    }
}

/* Reaps the supervisor once its status pipe has ended (it has exited, or is exiting). */
static void reap_supervisor(struct eval_run *r)
{
    int status;
    pid_t w = waitpid(r->supervisor, &status, WNOHANG);
    if (w == 0) {
        arm_reap(r, REAP_POLL, REAP_POLL_MS);
        return;
    }
    if (w < 0)
        log_warn("eval", "could not reap the supervisor pid=%d error=%s", (int)r->supervisor,
                 strerror(errno));
    r->supervisor_reaped = 1;
    r->reap_phase = REAP_IDLE;
    uv_timer_stop(&r->reap); /* its pid may be reused from now on: never signal it again */
    if (!r->exited && r->evaluator > 0) {
        /* It died without reporting: take down the group it watched, if any is left. */
        log_error("eval", "the supervisor ended unexpectedly submission=%lld pid=%d",
                  (long long)r->submission_id, (int)r->supervisor);
        kill(-r->evaluator, SIGKILL);
        r->end_ns = uv_hrtime();
    }
    if (r->reading != 0)
        arm_reap(r, REAP_DRAIN, DRAIN_DEADLINE_MS);
    check_finish(r);
}

static void on_reap_timer(uv_timer_t *t)
{
    struct eval_run *r = t->data;
    switch (r->reap_phase) {
    case REAP_SWEEP_DEADLINE:
        log_warn("eval", "the supervisor did not finish cleaning up; killing it pid=%d",
                 (int)r->supervisor);
        kill(r->supervisor, SIGKILL);
        break;
    case REAP_POLL:
        reap_supervisor(r);
        break;
    case REAP_DRAIN:
        /* Something outside the group still holds a pipe: stop waiting for it. */
        log_warn("eval", "the evaluator's pipes stayed open after it ended submission=%lld",
                 (long long)r->submission_id);
        if (r->reading & R_OUT)
            uv_read_stop((uv_stream_t *)&r->out);
        if (r->reading & R_ERR)
            uv_read_stop((uv_stream_t *)&r->err);
        if (r->reading & R_RES)
            uv_read_stop((uv_stream_t *)&r->res);
        r->reading = 0;
        check_finish(r);
        break;
    case REAP_IDLE:
        break;
    }
}

static void on_status_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct eval_run *r = s->data;
    if (n > 0) {
        buf_append(&r->record, b->base, (size_t)n);
        while (r->record.len >= sizeof(struct eval_record)) {
            struct eval_record rec;
            memcpy(&rec, r->record.data, sizeof(rec));
            buf_consume(&r->record, sizeof(rec));
            handle_record(r, &rec);
        }
    } else if (n < 0) {
        uv_read_stop(s);
        r->reading &= ~R_STATUS;
        reap_supervisor(r);
    }
}

/* ---- the end ---- */

static void deliver_done(struct eval_run *r)
{
    struct eval_facts f;
    memset(&f, 0, sizeof(f));
    f.cancelled = r->cancelled;
    f.cancel_reason = r->cancel_reason;
    f.start_error = r->start_error[0] != '\0' ? r->start_error : NULL;
    f.killed = r->killed;
    f.exited = r->exited;
    f.wait_status = r->wait_status;
    f.cpu_ms = r->evaluator_cpu_us / 1000;
    f.max_rss_kb = r->max_rss_kb;
    f.limits = r->limits;
    f.stderr_text = r->errtail.data != NULL ? r->errtail.data : "";
    f.stderr_len = r->errtail.len;
    f.fd3 = r->result.data;
    f.fd3_len = r->result.len;
    f.last_json = r->last_is_json ? r->last_json.data : NULL;
    f.last_json_len = r->last_is_json ? r->last_json.len : 0;
    f.garbage_lines = r->garbage;
    f.garbage_sample = r->garbage > 0 ? r->garbage_sample : NULL;

    struct eval_verdict v;
    eval_verdict_decide(&f, &v);
    struct eval_outcome o;
    memset(&o, 0, sizeof(o));
    char *result = NULL;
    o.ok = v.kind == EVAL_OK;
    if (o.ok) {
        result = xmemdup0(v.result_json, v.result_len);
        o.result_json = result;
        o.score = v.result.score;
        o.has_score_secondary = v.result.has_secondary;
        o.score_secondary = v.result.score_secondary;
    }
    o.kind = v.kind;
    o.message = v.message.data != NULL ? v.message.data : "";
    o.stderr_tail = v.tail;
    o.retryable = v.retryable;
    o.exit_status = v.exit_status;
    o.term_signal = v.term_signal;
    if (r->start_ns != 0 && r->end_ns >= r->start_ns)
        o.wall_ms = (r->end_ns - r->start_ns) / 1000000;
    o.cpu_ms = (r->evaluator_cpu_us + r->others_cpu_us) / 1000;
    o.max_rss_kb = r->max_rss_kb;
    o.output_bytes = r->output_bytes;
    o.garbage_lines = r->garbage;
    o.leftover_processes = r->leftovers;
    log_info("eval", "evaluator done submission=%lld kind=%s wall_ms=%llu cpu_ms=%llu",
             (long long)r->submission_id, eval_failure_name(o.kind), (unsigned long long)o.wall_ms,
             (unsigned long long)o.cpu_ms);

    r->cb.done(r->ud, &o);

    free(result);
    eval_verdict_release(&v);
    buf_release(&r->record);
    buf_release(&r->line);
    buf_release(&r->last_json);
    buf_release(&r->errtail);
    buf_release(&r->result);
    free(r->cancel_reason);
    free(r);
}

static void on_close(uv_handle_t *h)
{
    struct eval_run *r = h->data;
    if (--r->open_handles == 0)
        deliver_done(r);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_close);
}

/* Everything has ended: close the handles; the last close delivers done(). */
static void finish(struct eval_run *r)
{
    r->finishing = 1;
    if (r->end_ns == 0)
        r->end_ns = uv_hrtime();
    flush_progress(r);
    close_handle((uv_handle_t *)&r->wall);
    close_handle((uv_handle_t *)&r->grace);
    close_handle((uv_handle_t *)&r->progress);
    close_handle((uv_handle_t *)&r->reap);
    if (r->piped & R_OUT)
        close_handle((uv_handle_t *)&r->out);
    if (r->piped & R_ERR)
        close_handle((uv_handle_t *)&r->err);
    if (r->piped & R_RES)
        close_handle((uv_handle_t *)&r->res);
    if (r->piped & R_STATUS)
        close_handle((uv_handle_t *)&r->status);
}

/* ---- the start ---- */

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

static int open_max(void)
{
    long n = sysconf(_SC_OPEN_MAX);
    return n > 0 && n < 65536 ? (int)n - 1 : 65535;
}

/* Watches one pipe's read end (taken: closed with the handle). */
static int watch_pipe(struct eval_run *r, uv_pipe_t *p, int fd, unsigned bit, uv_read_cb cb)
{
    uv_pipe_init(r->loop, p, 0);
    p->data = r;
    r->open_handles++;
    r->piped |= bit;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int rc = uv_pipe_open(p, fd);
    if (rc != 0) {
        close(fd); /* not taken by the handle */
        return rc;
    }
    rc = uv_read_start((uv_stream_t *)p, on_alloc, cb);
    if (rc == 0)
        r->reading |= bit;
    return rc;
}

/* Reads the supervisor's first record: the evaluator started (its exec succeeded) or not.
 * Blocks for as long as fork and exec take, as uv_spawn does. */
static int await_start(struct eval_run *r, int fd, const char *program, const char *workdir)
{
    struct eval_record rec = {0};
    size_t got = 0;
    while (got < sizeof(rec)) {
        ssize_t n = read(fd, (char *)&rec + got, sizeof(rec) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == sizeof(rec) && rec.type == EVAL_REC_STARTED) {
        r->evaluator = rec.a;
        return 0;
    }
    if (got == sizeof(rec) && rec.type == EVAL_REC_START_FAILED)
        snprintf(r->start_error, sizeof(r->start_error), "%s (%s): %s", eval_stage_words(rec.a),
                 rec.a == EVAL_STAGE_CHDIR ? workdir : program, strerror(rec.b));
    else
        snprintf(r->start_error, sizeof(r->start_error),
                 "its supervisor process ended before starting it");
    int status;
    while (waitpid(r->supervisor, &status, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

/* Creates the pipes, forks, and starts watching. On failure sets start_error. */
static void launch(struct eval_run *r, const struct eval_command *cmd, const char *workdir)
{
    int fds[9] = {-1, -1, -1, -1, -1, -1, -1, -1, -1}; /* out, err, res, status pairs; null */
    for (int i = 0; i < 4; i++) {
        if (pipe2(fds + 2 * i, O_CLOEXEC) != 0) {
            snprintf(r->start_error, sizeof(r->start_error), "could not create a pipe: %s",
                     strerror(errno));
            close_fds(fds, 9);
            return;
        }
    }
    fds[8] = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fds[8] < 0) {
        snprintf(r->start_error, sizeof(r->start_error), "could not open /dev/null: %s",
                 strerror(errno));
        close_fds(fds, 9);
        return;
    }
    struct eval_child_plan plan = {
        .path = cmd->path,
        .argv = cmd->argv,
        .envp = cmd->envp,
        .workdir = workdir,
        .limits = r->limits,
        .status_w = fds[7],
        .out_w = fds[1],
        .err_w = fds[3],
        .res_w = fds[5],
        .devnull = fds[8],
        .parent = getpid(),
        .max_fd = open_max(),
    };
    pid_t pid = eval_spawn(&plan);
    int writers[] = {fds[1], fds[3], fds[5], fds[7], fds[8]};
    close_fds(writers, sizeof(writers) / sizeof(writers[0]));
    if (pid < 0) {
        snprintf(r->start_error, sizeof(r->start_error), "could not fork: %s", strerror(-pid));
        int readers[] = {fds[0], fds[2], fds[4], fds[6]};
        close_fds(readers, 4);
        return;
    }
    r->supervisor = pid;
    r->start_ns = uv_hrtime();
    if (await_start(r, fds[6], cmd->path, workdir) != 0) {
        int readers[] = {fds[0], fds[2], fds[4], fds[6]};
        close_fds(readers, 4);
        return;
    }
    log_info("eval", "evaluator started submission=%lld pid=%d program=%s",
             (long long)r->submission_id, (int)r->evaluator, cmd->path);
    /* From here on the run ends through the status pipe, whatever fails. */
    if (watch_pipe(r, &r->status, fds[6], R_STATUS, on_status_read) != 0) {
        int status;
        kill(-r->evaluator, SIGKILL);
        kill(r->supervisor, SIGKILL);
        while (waitpid(r->supervisor, &status, 0) < 0 && errno == EINTR)
            ;
        r->supervisor_reaped = 1;
        stop(r, EVAL_INTERNAL);
    }
    int failed = watch_pipe(r, &r->out, fds[0], R_OUT, on_out_read) != 0;
    failed |= watch_pipe(r, &r->err, fds[2], R_ERR, on_err_read) != 0;
    failed |= watch_pipe(r, &r->res, fds[4], R_RES, on_res_read) != 0;
    if (failed)
        stop(r, EVAL_INTERNAL);
    if (r->limits.wall_ms > 0 && !r->stopping)
        uv_timer_start(&r->wall, on_wall, r->limits.wall_ms, 0);
}

static void init_timer(struct eval_run *r, uv_timer_t *t)
{
    uv_timer_init(r->loop, t);
    t->data = r;
    r->open_handles++;
}

struct eval_run *eval_start(uv_loop_t *loop, const struct eval_spec *spec,
                            const struct eval_callbacks *cb, void *ud, char *err, size_t errlen)
{
    struct eval_command cmd;
    if (loop == NULL || spec == NULL || cb == NULL || cb->done == NULL) {
        snprintf(err, errlen, "eval_start needs a loop, a spec and a done callback");
        return NULL;
    }
    if (eval_command_build(&cmd, spec, err, errlen) != 0)
        return NULL;
    struct eval_run *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->cb = *cb;
    r->ud = ud;
    r->limits = spec->limits;
    r->grace_ms = spec->grace_ms > 0 ? spec->grace_ms : EVAL_GRACE_DEFAULT;
    r->progress_interval_ms = spec->progress_interval_ms;
    r->submission_id = spec->submission_id;
    buf_init(&r->record, 16 * sizeof(struct eval_record));
    buf_init(&r->line, EVAL_LINE_MAX);
    buf_init(&r->last_json, EVAL_LINE_MAX);
    buf_init(&r->errtail, BUF_NO_CAP);
    buf_init(&r->result, EVAL_RESULT_MAX);
    init_timer(r, &r->wall);
    init_timer(r, &r->grace);
    init_timer(r, &r->progress);
    init_timer(r, &r->reap);

    if (cmd.path == NULL)
        snprintf(r->start_error, sizeof(r->start_error), "\"%s\" was not found in PATH",
                 cmd.argv[0]);
    else
        launch(r, &cmd, spec->workdir);
    if (r->start_error[0] != '\0') {
        log_warn("eval", "could not start the evaluator submission=%lld: %s",
                 (long long)spec->submission_id, r->start_error);
        finish(r); /* done() comes from the close callbacks, after this returns */
    }
    eval_command_release(&cmd);
    return r;
}

void eval_cancel(struct eval_run *r, const char *reason)
{
    if (r->cancelled)
        return;
    r->cancelled = 1;
    if (reason != NULL) {
        size_t len = strlen(reason) < EVAL_MESSAGE_MAX ? strlen(reason) : EVAL_MESSAGE_MAX;
        r->cancel_reason = xmalloc(len * 3 + 1);
        eval_text_clean(r->cancel_reason, len * 3 + 1, reason, len, 0);
    }
    if (!r->finishing)
        stop(r, EVAL_CANCELLED);
}

int eval_pid(const struct eval_run *r)
{
    return (int)r->evaluator;
}
