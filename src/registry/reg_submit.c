/* The submission rules: each refusal says what was refused and, for quotas, when it
 * resets. */
#include "registry/reg_submit.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "registry/reg_catalog.h"
#include "registry/reg_time.h"

static const char sql_existing[] =
    "SELECT id, round_number, file_key, data, description FROM submissions"
    " WHERE participant_id = ?1 AND challenge_id = ?2 AND client_submission_id = ?3";
static const char sql_round_open[] =
    "SELECT number FROM rounds WHERE challenge_id = ?1 AND starts_at <= ?2 AND ends_at > ?2"
    " ORDER BY number DESC LIMIT 1";
static const char sql_round_recent[] =
    "SELECT number FROM rounds WHERE challenge_id = ?1 AND ends_at <= ?2"
    " ORDER BY ends_at DESC, number DESC LIMIT 1";
static const char sql_round_next[] =
    "SELECT number FROM rounds WHERE challenge_id = ?1 AND starts_at > ?2"
    " ORDER BY starts_at, number LIMIT 1";
static const char sql_round_max[] = "SELECT max(number) FROM rounds WHERE challenge_id = ?1";
static const char sql_best_scores[] =
    "SELECT count(*), max(score), min(score) FROM submissions WHERE participant_id = ?1"
    " AND challenge_id = ?2 AND round_number = ?3 AND state = 2 AND late = 0";
static const char sql_window[] =
    "SELECT created_at, state FROM submissions WHERE participant_id = ?1 AND challenge_id = ?2"
    " AND round_number = ?3 AND state != 5 AND created_at > ?4 AND created_at <= ?5"
    " ORDER BY created_at, id";
static const char sql_in_flight[] =
    "SELECT count(*) FROM submissions WHERE participant_id = ?1 AND challenge_id = ?2"
    " AND state IN (0, 1)";
static const char sql_insert[] =
    "INSERT INTO submissions (participant_id, challenge_id, round_number, client_submission_id,"
    " file_key, data, description, state, late, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?9)";

/* Steps return 0 to go on, 1 when the request has its answer (refused or a retry), or
 * REG_STORE_ERROR. */
#define STEP_DONE 1

struct submit_ctx {
    struct reg_store *s;
    const struct reg_submit_request *req;
    struct reg_submit_result *res;
    char *msg;
    struct reg_challenge ch;
    struct reg_round round;
    int late;
};

/* The submissions of one participant in one round that fall in the limit's window. */
struct window {
    int n, failed;
    int64_t *times;
    unsigned char *is_failed;
};

static int refuse(struct submit_ctx *x, enum reg_refusal why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answers with a refusal and its message for the participant. */
static int refuse(struct submit_ctx *x, enum reg_refusal why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, REG_SUBMIT_MSG_LEN, fmt, ap);
    va_end(ap);
    x->res->refusal = why;
    x->res->message = x->msg;
    return STEP_DONE;
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* ---- the submission limit ---- */

static int64_t period_ms(enum reg_period period)
{
    if (period == REG_PERIOD_DAY)
        return REG_TIME_MS_PER_DAY;
    if (period == REG_PERIOD_WEEK)
        return 7 * REG_TIME_MS_PER_DAY;
    return 0;
}

static int window_load(struct submit_ctx *x, struct window *w)
{
    int64_t period = period_ms(x->round.period);
    sqlite3_stmt *st = reg_store_stmt(x->s, sql_window);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, x->req->participant_id);
    reg_store_bind_text(st, 2, x->ch.id);
    sqlite3_bind_int(st, 3, x->round.number);
    sqlite3_bind_int64(st, 4, period > 0 ? x->req->now - period : INT64_MIN);
    sqlite3_bind_int64(st, 5, x->req->now);
    int rc, alloc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (w->n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            w->times = xrealloc(w->times, (size_t)alloc * sizeof(*w->times));
            w->is_failed = xrealloc(w->is_failed, (size_t)alloc);
        }
        int state = sqlite3_column_int(st, 1);
        w->times[w->n] = sqlite3_column_int64(st, 0);
        w->is_failed[w->n] = state == REG_SUB_ERROR || state == REG_SUB_TIMEOUT;
        w->failed += w->is_failed[w->n];
        w->n++;
    }
    reg_store_done(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}

static int counted(int n, int failed, int refunded)
{
    return n - (failed < refunded ? failed : refunded);
}

/* Fills submissions_remaining and reset_at: reset_at is when, as the oldest submissions
 * leave the rolling window, the count first drops below min(limit, count now). */
static void window_apply(struct submit_ctx *x, const struct window *w, int *count)
{
    const struct reg_round *r = &x->round;
    int64_t period = period_ms(r->period);
    *count = counted(w->n, w->failed, r->failed_refunded);
    x->res->submissions_remaining = *count < r->submission_limit ? r->submission_limit - *count : 0;
    x->res->reset_at = 0;
    if (period == 0)
        return;
    int target = *count < r->submission_limit ? *count : r->submission_limit;
    int failed = w->failed;
    for (int i = 0; i < w->n; i++) {
        failed -= w->is_failed[i];
        if (counted(w->n - i - 1, failed, r->failed_refunded) < target) {
            x->res->reset_at = w->times[i] + period;
            return;
        }
    }
}

/* Measures the limit at req->now into res; *count is what counts against it. */
static int quota_measure(struct submit_ctx *x, int *count)
{
    *count = 0;
    x->res->submissions_remaining = -1;
    x->res->reset_at = 0;
    if (x->round.submission_limit == 0)
        return 0;
    struct window w = {0, 0, NULL, NULL};
    int rc = window_load(x, &w);
    if (rc == 0)
        window_apply(x, &w, count);
    free(w.times);
    free(w.is_failed);
    return rc;
}

static const char *period_phrase(enum reg_period period)
{
    if (period == REG_PERIOD_DAY)
        return "per rolling 24 h";
    if (period == REG_PERIOD_WEEK)
        return "per rolling 7 days";
    return "per round";
}

static int refuse_limit(struct submit_ctx *x)
{
    const struct reg_round *r = &x->round;
    char refunds[96] = "", when[160], at[REG_TIME_LEN];
    if (r->failed_refunded > 0)
        snprintf(refunds, sizeof(refunds), " (up to %d failed submission%s refunded)",
                 r->failed_refunded, r->failed_refunded == 1 ? " is" : "s are");
    if (r->period == REG_PERIOD_ROUND) {
        snprintf(when, sizeof(when), "No slot frees up in round %d.", r->number);
    } else {
        reg_time_format_ceil(x->res->reset_at, at);
        snprintf(when, sizeof(when), "The next slot frees up at %s.", at);
    }
    return refuse(x, REG_ERR_LIMIT, "Submission limit reached: %d %s%s. %s", r->submission_limit,
                  period_phrase(r->period), refunds, when);
}

static int check_limit(struct submit_ctx *x)
{
    int count;
    int rc = quota_measure(x, &count);
    if (rc != 0)
        return rc;
    if (x->round.submission_limit > 0 && count >= x->round.submission_limit)
        return refuse_limit(x);
    return 0;
}

/* ---- in flight ---- */

static int check_parallel(struct submit_ctx *x)
{
    int max = x->round.max_parallel;
    if (max == 0)
        return 0;
    sqlite3_stmt *st = reg_store_stmt(x->s, sql_in_flight);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, x->req->participant_id);
    reg_store_bind_text(st, 2, x->ch.id);
    int rc = sqlite3_step(st);
    int n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    reg_store_done(st);
    if (rc != SQLITE_ROW)
        return REG_STORE_ERROR;
    if (n < max)
        return 0;
    return refuse(x, REG_ERR_PARALLEL,
                  "Too many submissions in flight: %d queued or running, at most %d allowed at a "
                  "time. Submit again when one of them finishes.",
                  n, max);
}

/* ---- round selection ---- */

/* Runs a query for one round number: 1 and *number if a row came back, 0 if none. */
static int round_number_query(struct submit_ctx *x, const char *sql, int *number)
{
    sqlite3_stmt *st = reg_store_stmt(x->s, sql);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, x->ch.id);
    if (sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int64(st, 2, x->req->now);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (found)
        *number = sqlite3_column_int(st, 0);
    reg_store_done(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return REG_STORE_ERROR;
    return found;
}

static int round_load(struct submit_ctx *x, int number)
{
    int rc = reg_catalog_round_get(x->s, x->ch.id, number, &x->round);
    return rc == REG_STORE_NOT_FOUND ? REG_STORE_ERROR : rc;
}

/* No round is open now: a late submission to the most recent one, or a refusal that says
 * when the next opens. */
static int select_round_closed(struct submit_ctx *x)
{
    char at[REG_TIME_LEN];
    int number, ended = 0;
    int64_t ended_at = 0;
    int rc = round_number_query(x, sql_round_recent, &number);
    if (rc == 1) {
        if ((rc = round_load(x, number)) != 0)
            return rc;
        if (x->round.accept_late) {
            x->late = 1;
            return 0;
        }
        ended = number;
        ended_at = x->round.ends_at;
    }
    if (rc < 0)
        return rc;
    rc = round_number_query(x, sql_round_next, &number);
    if (rc == 1 && (rc = round_load(x, number)) == 0) {
        reg_time_format(x->round.starts_at, at);
        return refuse(x, REG_ERR_ROUND_CLOSED, "No round of %s is open now; round %d opens at %s.",
                      x->ch.id, number, at);
    }
    if (rc < 0)
        return rc;
    if (ended == 0)
        return refuse(x, REG_ERR_ROUND_CLOSED, "Challenge %s has no rounds yet.", x->ch.id);
    reg_time_format(ended_at, at);
    return refuse(x, REG_ERR_ROUND_CLOSED,
                  "Challenge %s is closed: its last round (round %d) ended at %s.", x->ch.id, ended,
                  at);
}

static int refuse_unknown_round(struct submit_ctx *x, int number)
{
    int last;
    int rc = round_number_query(x, sql_round_max, &last);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return refuse(x, REG_ERR_UNKNOWN_ROUND, "Challenge %s has no rounds yet.", x->ch.id);
    return refuse(x, REG_ERR_UNKNOWN_ROUND,
                  "Challenge %s has no round %d (its rounds go up to %d).", x->ch.id, number, last);
}

static int select_round_numbered(struct submit_ctx *x, int number)
{
    char at[REG_TIME_LEN];
    int rc =
        number > 0 ? reg_catalog_round_get(x->s, x->ch.id, number, &x->round) : REG_STORE_NOT_FOUND;
    if (rc == REG_STORE_NOT_FOUND)
        return refuse_unknown_round(x, number);
    if (rc != 0)
        return rc;
    if (x->req->now < x->round.starts_at) {
        reg_time_format(x->round.starts_at, at);
        return refuse(x, REG_ERR_ROUND_CLOSED, "Round %d of %s is not open yet: it opens at %s.",
                      number, x->ch.id, at);
    }
    if (x->req->now < x->round.ends_at)
        return 0;
    if (x->round.accept_late) {
        x->late = 1;
        return 0;
    }
    reg_time_format(x->round.ends_at, at);
    return refuse(x, REG_ERR_ROUND_CLOSED,
                  "Round %d of %s closed at %s and accepts no late submissions.", number, x->ch.id,
                  at);
}

static int select_round(struct submit_ctx *x)
{
    if (x->req->round_number != 0)
        return select_round_numbered(x, x->req->round_number);
    int number;
    int rc = round_number_query(x, sql_round_open, &number);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return select_round_closed(x);
    return round_load(x, number);
}

/* ---- qualification ---- */

static int refuse_unqualified(struct submit_ctx *x, const struct reg_round *prev, int graded,
                              double best)
{
    const char *bound = x->ch.primary_sort == REG_SORT_ASC ? "at most" : "at least";
    char yours[128];
    if (graded == 0)
        snprintf(yours, sizeof(yours), "you have no graded submission there");
    else
        snprintf(yours, sizeof(yours), "your best there is %.10g", best);
    return refuse(x, REG_ERR_NOT_QUALIFIED,
                  "Not qualified for round %d: it needs a %s of %s %.10g in round %d, and %s.",
                  x->round.number, x->ch.primary_name, bound, prev->min_score, prev->number, yours);
}

static int check_qualified(struct submit_ctx *x)
{
    struct reg_round prev;
    if (x->round.number < 2)
        return 0;
    int rc = reg_catalog_round_get(x->s, x->ch.id, x->round.number - 1, &prev);
    if (rc == REG_STORE_NOT_FOUND || (rc == 0 && !prev.has_min_score))
        return 0;
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = reg_store_stmt(x->s, sql_best_scores);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, x->req->participant_id);
    reg_store_bind_text(st, 2, x->ch.id);
    sqlite3_bind_int(st, 3, prev.number);
    if (sqlite3_step(st) != SQLITE_ROW) {
        reg_store_done(st);
        return REG_STORE_ERROR;
    }
    int asc = x->ch.primary_sort == REG_SORT_ASC;
    int graded = sqlite3_column_int(st, 0);
    double best = sqlite3_column_double(st, asc ? 2 : 1);
    reg_store_done(st);
    int ok = graded > 0 && (asc ? best <= prev.min_score : best >= prev.min_score);
    return ok ? 0 : refuse_unqualified(x, &prev, graded, best);
}

/* ---- idempotency ---- */

static int text_differs(sqlite3_stmt *st, int col, const char *want)
{
    const char *have = (const char *)sqlite3_column_text(st, col);
    if (have == NULL || want == NULL)
        return (have == NULL) != (want == NULL);
    return strcmp(have, want) != 0;
}

/* Lists what differs between the stored submission and the request ("" if nothing). */
static void existing_diff(struct submit_ctx *x, sqlite3_stmt *st, char *out, size_t len)
{
    const struct reg_submit_request *req = x->req;
    const char *parts[4];
    int n = 0;
    if (text_differs(st, 2, or_empty(req->file_key)))
        parts[n++] = "file";
    if (text_differs(st, 3, req->data))
        parts[n++] = "data";
    if (text_differs(st, 4, or_empty(req->description)))
        parts[n++] = "description";
    if (req->round_number != 0 && req->round_number != sqlite3_column_int(st, 1))
        parts[n++] = "round";
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", i == 0 ? "" : (i == n - 1 ? " and " : ", "),
                 parts[i]);
    }
}

/* The same client_submission_id was used before: the same content is a retry and answers
 * with that submission, different content is refused. */
static int answer_existing(struct submit_ctx *x, sqlite3_stmt *st)
{
    char diff[64];
    int64_t id = sqlite3_column_int64(st, 0);
    int number = sqlite3_column_int(st, 1);
    existing_diff(x, st, diff, sizeof(diff));
    reg_store_done(st);
    if (diff[0] != '\0')
        return refuse(x, REG_ERR_CONFLICT,
                      "client_submission_id \"%.64s\" was already used for submission %lld with "
                      "different content (%s). Use a new client_submission_id for new content.",
                      x->req->client_submission_id, (long long)id, diff);
    int rc = round_load(x, number);
    int count;
    if (rc == 0)
        rc = quota_measure(x, &count);
    if (rc != 0)
        return rc;
    x->res->existing = 1;
    x->res->submission_id = id;
    x->res->round_number = number;
    return STEP_DONE;
}

static int find_existing(struct submit_ctx *x)
{
    sqlite3_stmt *st = reg_store_stmt(x->s, sql_existing);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, x->req->participant_id);
    reg_store_bind_text(st, 2, x->ch.id);
    reg_store_bind_text(st, 3, or_empty(x->req->client_submission_id));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return answer_existing(x, st);
    reg_store_done(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}

/* ---- creating it ---- */

static int insert(struct submit_ctx *x)
{
    const struct reg_submit_request *req = x->req;
    sqlite3_stmt *st = reg_store_stmt(x->s, sql_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, req->participant_id);
    reg_store_bind_text(st, 2, x->ch.id);
    sqlite3_bind_int(st, 3, x->round.number);
    reg_store_bind_text(st, 4, or_empty(req->client_submission_id));
    reg_store_bind_text(st, 5, or_empty(req->file_key));
    reg_store_bind_text(st, 6, req->data);
    reg_store_bind_text(st, 7, or_empty(req->description));
    sqlite3_bind_int(st, 8, x->late);
    sqlite3_bind_int64(st, 9, req->now);
    int rc = reg_store_run(x->s, st);
    if (rc != 0)
        return REG_STORE_ERROR;
    x->res->submission_id = sqlite3_last_insert_rowid(reg_store_db(x->s));
    x->res->round_number = x->round.number;
    int count;
    return quota_measure(x, &count);
}

static int submit_steps(struct submit_ctx *x)
{
    int rc = reg_catalog_challenge_get(x->s, or_empty(x->req->challenge_id), &x->ch);
    if (rc == REG_STORE_NOT_FOUND)
        return refuse(x, REG_ERR_UNKNOWN_ROUND, "Unknown challenge \"%.64s\".",
                      or_empty(x->req->challenge_id));
    if (rc == 0)
        rc = find_existing(x);
    if (rc == 0)
        rc = select_round(x);
    if (rc == 0) {
        x->res->round_number = x->round.number;
        rc = check_qualified(x);
    }
    if (rc == 0)
        rc = check_limit(x);
    if (rc == 0)
        rc = check_parallel(x);
    if (rc == 0)
        rc = insert(x);
    return rc;
}

static int fail_internal(struct submit_ctx *x)
{
    memset(x->res, 0, sizeof(*x->res));
    x->res->submissions_remaining = -1;
    refuse(x, REG_ERR_INTERNAL, "The registry could not record the submission; try again.");
    return REG_STORE_ERROR;
}

int reg_submit_create(struct reg_store *s, const struct reg_submit_request *req,
                      struct reg_submit_result *res, char msg[REG_SUBMIT_MSG_LEN])
{
    struct submit_ctx x = {.s = s, .req = req, .res = res, .msg = msg};
    memset(res, 0, sizeof(*res));
    res->submissions_remaining = -1;
    msg[0] = '\0';
    if (reg_store_begin(s) != 0)
        return fail_internal(&x);
    if (submit_steps(&x) < 0) {
        reg_store_rollback(s);
        return fail_internal(&x);
    }
    if (reg_store_commit(s) != 0) {
        reg_store_rollback(s);
        return fail_internal(&x);
    }
    return 0;
}
