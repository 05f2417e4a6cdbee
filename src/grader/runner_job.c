/* One job of crowdai-grader: read from the broker's `job` message, given a directory of its
 * own, its submission file downloaded into it, the evaluator run there, the outcome turned
 * into a complete or fail report; the directory is removed once the evaluator is gone. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "grader/runner_internal.h"

static const char msg_mkdir[] = "the grader could not make a directory for the job";

/* ---- reading the job ---- */

/* The lease token as text (the broker sends a string; a number is accepted too). */
static const char *lease_text(json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    const char *s = json_string_value(v);
    return s != NULL && s[0] != '\0' && strlen(s) < len ? s : NULL;
}

/* The file URL made absolute on the broker's origin; NULL when it points elsewhere (the
 * grader key is sent with the download: never to another host). */
static char *resolve_url(const struct runner *r, const char *url)
{
    size_t n = strlen(r->http_base);
    struct buf b;
    if (url[0] == '/' && url[1] != '/') {
        buf_init(&b, BUF_NO_CAP);
        buf_printf(&b, "%s%s", r->http_base, url);
        return buf_detach(&b, NULL);
    }
    if (strncmp(url, r->http_base, n) == 0 && url[n] == '/')
        return xstrdup(url);
    return NULL;
}

/* The job directory's path: the workdir, the submission and the lease (safe characters). */
static char *job_dir_path(const struct runner *r, int64_t sub_id, const char *lease)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "%s/%" PRId64 "-", r->cfg->workdir, sub_id);
    for (const char *p = lease; *p != '\0' && b.len < 4096; p++) {
        int safe = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_';
        buf_append_char(&b, safe ? *p : '_');
    }
    return buf_detach(&b, NULL);
}

struct job *job_find(struct runner *r, int64_t sub_id, const char *lease)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->jobs)
    {
        struct job *j = container_of(pos, struct job, link);
        if (j->sub_id == sub_id && strcmp(j->lease, lease) == 0)
            return j;
    }
    return NULL;
}

/* An earlier lease of the same submission is over: the broker gave it again. */
static void drop_earlier_leases(struct runner *r, int64_t sub_id)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->jobs)
    {
        struct job *j = container_of(pos, struct job, link);
        if (j->sub_id == sub_id && !j->dropped)
            job_drop(j, "the broker gave the submission again, with a new lease");
    }
}

static int json_int_or(json_t *v, int dflt)
{
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

struct job *job_new(struct runner *r, json_t *msg)
{
    char buf[64];
    json_t *id = json_object_get(msg, "submission_id");
    const char *lease = lease_text(json_object_get(msg, "lease_token"), buf, sizeof(buf));
    if (!json_is_integer(id) || json_integer_value(id) <= 0 || lease == NULL) {
        log_error(RUNNER_LOG, "a job without submission_id or lease_token was ignored");
        return NULL;
    }
    int64_t sub_id = json_integer_value(id);
    if (job_find(r, sub_id, lease) != NULL) {
        log_warn(RUNNER_LOG, "the same job came twice sub=%" PRId64 " lease=%s", sub_id, lease);
        return NULL;
    }
    drop_earlier_leases(r, sub_id);
    struct job *j = xcalloc(1, sizeof(*j));
    json_t *data = json_object_get(msg, "data");
    const char *url = json_string_value(json_object_get(msg, "file_url"));
    j->r = r;
    j->sub_id = sub_id;
    j->lease = xstrdup(lease);
    j->attempt = json_int_or(json_object_get(msg, "attempt"), 1);
    j->round = json_int_or(json_object_get(msg, "round"), 0);
    j->data_json = data != NULL ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    j->message = xstrdup("");
    j->last_acked_ms = uv_now(r->loop);
    j->received_ns = uv_hrtime();
    j->state = JOB_HELD;
    list_init(&j->link);
    list_init(&j->reports);
    log_info(RUNNER_LOG, "job received sub=%" PRId64 " attempt=%d lease=%s file=%s", sub_id,
             j->attempt, lease, url != NULL && url[0] != '\0' ? "yes" : "no");
    if (url != NULL && url[0] != '\0' && (j->file_url = resolve_url(r, url)) == NULL) {
        j->state = JOB_ENDED;
        report_fail(j, "the job's file_url is not on the broker the grader is connected to", 0);
    }
    return j;
}

/* ---- the directory ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0)
        log_warn(RUNNER_LOG, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static void remove_tree(const char *path)
{
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        log_warn(RUNNER_LOG, "cannot remove %s: %s", path, strerror(errno));
}

static int make_job_dir(struct job *j)
{
    j->dir = job_dir_path(j->r, j->sub_id, j->lease);
    if (mkdir(j->dir, 0700) == 0)
        return 0;
    if (errno == EEXIST) { /* left by a grader that was killed: start afresh */
        remove_tree(j->dir);
        if (mkdir(j->dir, 0700) == 0)
            return 0;
    }
    log_error(RUNNER_LOG, "cannot make %s: %s", j->dir, strerror(errno));
    free(j->dir);
    j->dir = NULL;
    return -1;
}

/* Nothing runs for the job any more: its slot is free, its directory gone. */
static void job_end(struct job *j)
{
    if (j->state == JOB_DOWNLOADING || j->state == JOB_RUNNING)
        j->r->slots_used--;
    j->state = JOB_ENDED;
    if (j->dir != NULL) {
        remove_tree(j->dir);
        free(j->dir);
        j->dir = NULL;
    }
}

/* ---- the evaluator ---- */

static void on_progress(void *ud, int percent, const char *message)
{
    struct job *j = ud;
    j->percent = percent;
    free(j->message);
    j->message = xstrdup(message != NULL ? message : "");
    report_progress(j);
}

static void on_info(void *ud, const char *message)
{
    report_info(ud, message);
}

static void on_done(void *ud, const struct eval_outcome *o)
{
    struct job *j = ud;
    struct runner *r = j->r;
    j->run = NULL;
    r->evaluated++;
    r->scored += o->ok != 0;
    r->evaluated_ns += uv_hrtime() - j->received_ns;
    log_info(RUNNER_LOG,
             "evaluator ended sub=%" PRId64 " outcome=%s wall_ms=%" PRIu64 " cpu_ms=%" PRIu64
             " max_rss_kb=%" PRIu64 " output_bytes=%" PRIu64,
             j->sub_id, eval_failure_name(o->kind), o->wall_ms, o->cpu_ms, o->max_rss_kb,
             o->output_bytes);
    job_end(j);
    if (j->dropped)
        ; /* the broker no longer wants to hear about it */
    else if (o->ok)
        report_complete(j, o->score, o->has_score_secondary, o->score_secondary);
    else if (j->shutdown_cancel)
        report_fail(j, "the grader was stopped before the evaluation ended", 1);
    else
        report_fail(j, o->message, o->retryable);
    job_maybe_free(j);
    runner_schedule(r);
    runner_check_shutdown(r);
}

static const struct eval_callbacks eval_cbs = {on_progress, on_info, on_done};

static void start_eval(struct job *j)
{
    const struct runner_config *cfg = j->r->cfg;
    struct eval_spec spec = {
        .argv = (const char *const *)cfg->command.v,
        .env = (const char *const *)cfg->env.v,
        .submission_file = j->file,
        .answer_file = cfg->answer,
        .data_json = j->data_json,
        .workdir = j->dir,
        .submission_id = j->sub_id,
        .round = j->round,
        .limits = cfg->limits,
        .grace_ms = cfg->kill_grace_ms,
        .progress_interval_ms = cfg->progress_interval_ms,
    };
    char err[256], msg[400];
    j->state = JOB_RUNNING;
    j->run = eval_start(j->r->loop, &spec, &eval_cbs, j, err, sizeof(err));
    if (j->run == NULL) {
        snprintf(msg, sizeof(msg), "could not start the evaluator: %s", err);
        job_end(j);
        report_fail(j, msg, 0);
        return;
    }
    log_info(RUNNER_LOG, "evaluator started sub=%" PRId64 " pid=%d", j->sub_id, eval_pid(j->run));
}

/* ---- the download ---- */

static void on_downloaded(void *ud, const struct http_client_response *res)
{
    struct job *j = ud;
    struct runner *r = j->r;
    char msg[400];
    int retryable = 1;
    j->download = NULL;
    if (res->err == NULL && res->status == 200) {
        log_info(RUNNER_LOG, "downloaded sub=%" PRId64 " bytes=%" PRIu64, j->sub_id, res->saved);
        start_eval(j);
        return;
    }
    if (res->err == http_client_err_too_large) {
        snprintf(msg, sizeof(msg),
                 "the submission file is larger than this grader accepts (%" PRIu64 " bytes)",
                 r->cfg->max_download);
        retryable = 0;
    } else if (res->err != NULL) {
        snprintf(msg, sizeof(msg), "the grader could not download the submission file: %s",
                 res->err);
    } else {
        snprintf(msg, sizeof(msg),
                 "the grader could not download the submission file: the broker answered "
                 "HTTP %ld",
                 res->status);
    }
    log_warn(RUNNER_LOG, "download failed sub=%" PRId64 ": %s", j->sub_id, msg);
    job_end(j);
    report_fail(j, msg, retryable);
    runner_schedule(r);
    runner_check_shutdown(r);
}

static void start_download(struct job *j)
{
    struct runner *r = j->r;
    const char *headers[] = {r->auth_header, NULL};
    struct buf path;
    buf_init(&path, BUF_NO_CAP);
    buf_printf(&path, "%s/%s", j->dir, r->cfg->submission_name);
    j->file = buf_detach(&path, NULL);
    struct http_client_fetch f = {
        .url = j->file_url,
        .headers = headers,
        .timeout_ms = r->cfg->download_timeout_ms,
        .max_body = r->cfg->max_download,
        .save_to = j->file,
    };
    j->state = JOB_DOWNLOADING;
    j->download = http_client_request(r->http, &f, on_downloaded, j);
}

void job_start(struct job *j)
{
    j->r->slots_used++;
    j->state = j->file_url != NULL ? JOB_DOWNLOADING : JOB_RUNNING;
    if (make_job_dir(j) != 0) {
        job_end(j);
        report_fail(j, msg_mkdir, 1);
        return;
    }
    if (j->file_url != NULL)
        start_download(j);
    else
        start_eval(j);
}

/* ---- stopping ---- */

/* Stops what runs for the job: a download at once, an evaluator through eval_cancel (its
 * done() follows, from the loop). */
static void stop_work(struct job *j, const char *why)
{
    if (j->state == JOB_DOWNLOADING && j->download != NULL) {
        http_client_cancel(j->download);
        j->download = NULL;
        job_end(j);
    } else if (j->state == JOB_RUNNING && j->run != NULL) {
        eval_cancel(j->run, why);
    } else if (j->state == JOB_HELD) {
        job_end(j);
    }
}

void job_drop(struct job *j, const char *why)
{
    struct runner *r = j->r;
    if (j->dropped)
        return;
    j->dropped = 1;
    log_info(RUNNER_LOG, "job dropped sub=%" PRId64 " lease=%s: %s", j->sub_id, j->lease, why);
    report_drop_all(j);
    stop_work(j, why);
    job_maybe_free(j);
    runner_schedule(r);
}

void job_give_back(struct job *j, const char *why)
{
    if (j->dropped || j->state == JOB_ENDED || j->shutdown_cancel)
        return;
    j->shutdown_cancel = 1;
    log_info(RUNNER_LOG, "job handed back sub=%" PRId64 ": %s", j->sub_id, why);
    int evaluating = j->state == JOB_RUNNING;
    stop_work(j, why);
    if (!evaluating)
        report_fail(j, why, 1); /* else when the evaluator is gone */
}

void job_free(struct job *j)
{
    if (j->run != NULL || j->download != NULL)
        log_error(RUNNER_LOG, "job freed while it runs sub=%" PRId64, j->sub_id);
    list_remove(&j->link);
    report_drop_all(j);
    free(j->lease);
    free(j->data_json);
    free(j->file_url);
    free(j->dir);
    free(j->file);
    free(j->message);
    free(j);
}

void job_maybe_free(struct job *j)
{
    if (j->state == JOB_ENDED && j->run == NULL && j->download == NULL && !report_pending(j))
        job_free(j);
}
