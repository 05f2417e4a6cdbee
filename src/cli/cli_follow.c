/* Following a submission's events to the end; see cli_follow.h. */
#include "cli/cli_follow.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli_json.h"
#include "cli/cli_rank.h"
#include "cli/cli_report.h"

#define ANSWER_GRACE_MS 10000 /* after watch said "over", its events come within this */
#define RANK_WAIT_MS    3000  /* the score reaches the leaderboard within this, normally */

static int is_final(const char *type)
{
    static const char *const finals[] = {"COMPLETE", "ERROR", "TIMEOUT", "CANCELLED"};
    for (size_t i = 0; type != NULL && i < sizeof(finals) / sizeof(finals[0]); i++) {
        if (strcmp(type, finals[i]) == 0)
            return 1;
    }
    return 0;
}

void cli_follow_init(struct cli_follow *f, struct cli_session *s, struct cli_out *out,
                     const char *challenge, int64_t sub_id, uint64_t timeout_ms)
{
    memset(f, 0, sizeof(*f));
    f->s = s;
    f->out = out;
    f->challenge = challenge;
    f->sub_id = sub_id;
    f->timeout_ms = timeout_ms;
    snprintf(f->state, sizeof(f->state), "QUEUED");
}

void cli_follow_release(struct cli_follow *f)
{
    json_decref(f->final);
    json_decref(f->answer);
    f->final = NULL;
    f->answer = NULL;
}

static uint64_t now_ms(struct cli_follow *f)
{
    uv_update_time(&f->s->loop);
    return uv_now(&f->s->loop);
}

/* ---- Showing events ---- */

/* Updates the state, percent and detail that the bar shows. */
static void track(struct cli_follow *f, const char *type, json_t *ev)
{
    const char *message = cli_json_str(ev, "message");
    int64_t percent = 0;
    if (strcmp(type, "ENQUEUED") == 0)
        snprintf(f->state, sizeof(f->state), "QUEUED");
    else if (strcmp(type, "WAITING") == 0 || strcmp(type, "RUNNING") == 0 || is_final(type))
        snprintf(f->state, sizeof(f->state), "%s", type);
    else if (strcmp(type, "PROGRESS_UPDATE") == 0)
        snprintf(f->state, sizeof(f->state), "RUNNING");
    if (strcmp(type, "PROGRESS_UPDATE") == 0 && cli_json_int(ev, "percent", &percent) == 0)
        f->percent = percent < 0 ? 0 : percent > 100 ? 100 : (int)percent;
    if (strcmp(type, "INFO") != 0 && message != NULL)
        snprintf(f->detail, sizeof(f->detail), "%s", message);
}

static void show_event(struct cli_follow *f, const char *type, json_t *ev)
{
    const char *message = cli_json_str(ev, "message");
    track(f, type, ev);
    if (f->out->json) {
        cli_out_json(f->out, "event", ev);
        return;
    }
    if (is_final(type))
        return; /* cli_follow_finish says it */
    if (strcmp(type, "INFO") == 0)
        cli_out_text(f->out, "info: %s", message != NULL ? message : "");
    else if (strcmp(type, "PROGRESS_UPDATE") != 0 && message != NULL)
        cli_out_text(f->out, "%s", message);
    cli_out_bar(f->out, f->state, f->percent, f->detail);
}

/* Shows ev if it is the next one of our submission; asks for a resync on a gap. */
static void take_event(struct cli_follow *f, json_t *ev)
{
    int64_t id = 0, seq = 0;
    const char *type = cli_json_str(ev, "type");
    if (cli_json_int(ev, "submission_id", &id) != 0 || id != f->sub_id ||
        cli_json_int(ev, "seq", &seq) != 0 || type == NULL || f->final != NULL)
        return;
    if (seq <= f->last_seq)
        return; /* seen already (a replay overlapping live events) */
    if (seq > f->last_seq + 1) {
        f->resync = 1; /* some went missing: the replay brings them in order */
        return;
    }
    f->last_seq = seq;
    show_event(f, type, ev);
    if (is_final(type))
        f->final = json_incref(ev);
}

/* ---- The stream ---- */

/* Asks the broker for the events after last_seq (then live ones). */
static int watch(struct cli_follow *f)
{
    json_t *reply = NULL;
    json_t *args = json_pack("{s:I,s:I}", "submission_id", (json_int_t)f->sub_id, "after_seq",
                             (json_int_t)f->last_seq);
    int first = f->answer == NULL;
    f->connects = f->s->connects;
    f->resync = 0;
    f->s->events_dropped = 0;
    int rc = cli_session_call_auth(f->s, "watch", args, &reply);
    json_decref(args);
    if (rc != 0)
        return rc;
    json_object_del(reply, "ok");
    json_decref(f->answer);
    f->answer = reply;
    const char *state = cli_json_str(reply, "state");
    cli_json_int(reply, "round", &f->round);
    f->answer_final_at = is_final(state) ? now_ms(f) : 0;
    if (first && state != NULL) {
        if (!is_final(state))
            snprintf(f->state, sizeof(f->state), "%s", state);
        if (f->out->json)
            cli_out_json(f->out, "watching", reply);
        else
            cli_out_text(f->out, "Submission %lld (challenge %s, round %lld): %s.",
                         (long long)f->sub_id, f->challenge, (long long)f->round, state);
    }
    return 0;
}

static int has_news(void *ud)
{
    struct cli_follow *f = ud;
    struct cli_session *s = f->s;
    return json_array_size(s->events) > 0 || s->losses != f->losses || s->connects != f->connects ||
           s->events_dropped;
}

static void say_connection(struct cli_follow *f, const char *state)
{
    if (f->out->json) {
        json_t *line = json_pack("{s:s,s:s,s:I}", "state", state, "reason", f->s->reason,
                                 "after_seq", (json_int_t)f->last_seq);
        cli_out_json(f->out, "connection", line);
        json_decref(line);
    } else if (strcmp(state, "lost") == 0) {
        cli_out_text(f->out, "Connection lost (%s); reconnecting...", f->s->reason);
    } else {
        cli_out_text(f->out, "Reconnected; resuming after event %lld.", (long long)f->last_seq);
    }
}

/* The final event made from a watch answer whose events never came. */
static json_t *final_from_answer(struct cli_follow *f)
{
    json_t *a = f->answer;
    json_t *data = json_pack(
        "{s:O,s:O}", "score",
        json_object_get(a, "score") ? json_object_get(a, "score") : json_null(), "score_secondary",
        json_object_get(a, "score_secondary") ? json_object_get(a, "score_secondary")
                                              : json_null());
    const char *message = cli_json_str(a, "message");
    return json_pack("{s:I,s:s,s:s,s:o}", "submission_id", (json_int_t)f->sub_id, "type",
                     cli_json_str(a, "state"), "message", message != NULL ? message : "", "data",
                     data);
}

/* Handles whatever came; returns 0 to go on waiting, or a result for cli_follow_run. */
static int step(struct cli_follow *f)
{
    struct cli_session *s = f->s;
    json_t *ev;
    while (f->final == NULL && (ev = cli_session_take_event(s)) != NULL) {
        take_event(f, ev);
        json_decref(ev);
    }
    if (f->final != NULL)
        return 0;
    if (s->losses != f->losses) {
        f->losses = s->losses;
        say_connection(f, "lost");
    }
    if (s->connects != f->connects && s->connected) {
        say_connection(f, "resumed");
        return watch(f);
    }
    if (f->resync || s->events_dropped)
        return watch(f);
    return 0;
}

int cli_follow_run(struct cli_follow *f, int watch_first)
{
    uint64_t deadline = now_ms(f) + f->timeout_ms;
    int rc = 0;
    f->connects = f->s->connects;
    f->losses = f->s->losses;
    if (watch_first)
        rc = watch(f);
    while (rc == 0 && f->final == NULL) {
        rc = step(f);
        if (rc != 0 || f->final != NULL)
            break;
        uint64_t now = now_ms(f);
        uint64_t until = deadline;
        if (f->answer_final_at != 0 && f->answer_final_at + ANSWER_GRACE_MS < until)
            until = f->answer_final_at + ANSWER_GRACE_MS;
        if (now >= until && until != deadline) {
            f->final = final_from_answer(f);
            break;
        }
        if (now >= deadline)
            return CLI_SESSION_TIMEOUT;
        rc = cli_session_run(f->s, has_news, f, until - now);
        if (rc == CLI_SESSION_TIMEOUT)
            rc = 0;
    }
    return rc;
}

/* ---- The end ---- */

static json_t *summary(struct cli_follow *f, const char *state, int status)
{
    const char *message = f->final != NULL ? cli_json_str(f->final, "message") : NULL;
    return json_pack("{s:I,s:s,s:I,s:s,s:s,s:I,s:i}", "submission_id", (json_int_t)f->sub_id,
                     "challenge_id", f->challenge, "round", (json_int_t)f->round, "state", state,
                     "message", message != NULL ? message : "", "last_seq", (json_int_t)f->last_seq,
                     "exit_status", status);
}

static void say_rank(struct cli_follow *f, const struct cli_rank *r)
{
    char where[200];
    snprintf(where, sizeof(where), "the leaderboard of %s%s", f->challenge,
             f->round > 0 ? "" : " (all rounds)");
    if (f->round > 0)
        snprintf(where + strlen(where), sizeof(where) - strlen(where), ", round %lld",
                 (long long)f->round);
    if (!r->known)
        cli_out_text(f->out, "Not on %s yet (it lists the top %zu).", where, r->rows);
    else if (r->exact)
        cli_out_text(f->out, "Rank %lld of %zu on %s.", (long long)r->rank, r->rows, where);
    else
        cli_out_text(f->out, "Your best submission (%lld) is rank %lld of %zu on %s.",
                     (long long)r->submission_id, (long long)r->rank, r->rows, where);
}

static int finish_complete(struct cli_follow *f)
{
    json_t *data = json_object_get(f->final, "data");
    json_t *score = json_object_get(data, "score");
    json_t *secondary = json_object_get(data, "score_secondary");
    struct cli_rank r;
    int ranked = cli_rank_find(f->s, f->challenge, f->round, f->sub_id, RANK_WAIT_MS, &r) == 0;
    if (f->out->json) {
        json_t *line = summary(f, "COMPLETE", CLI_EXIT_OK);
        json_object_set(line, "score", json_is_number(score) ? score : json_null());
        json_object_set(line, "score_secondary",
                        json_is_number(secondary) ? secondary : json_null());
        json_object_set_new(line, "rank", ranked && r.known ? json_integer(r.rank) : json_null());
        json_object_set_new(line, "rank_submission_id",
                            ranked && r.known ? json_integer(r.submission_id) : json_null());
        json_object_set_new(line, "leaderboard_rows",
                            json_integer(ranked ? (json_int_t)r.rows : 0));
        cli_out_json(f->out, "summary", line);
        json_decref(line);
        return CLI_EXIT_OK;
    }
    char num[32], num2[32];
    cli_json_number(json_number_value(score), num);
    if (!json_is_number(score)) {
        cli_out_text(f->out, "Graded.");
    } else if (json_is_number(secondary)) {
        cli_json_number(json_number_value(secondary), num2);
        cli_out_text(f->out, "Graded: score %s (secondary %s).", num, num2);
    } else {
        cli_out_text(f->out, "Graded: score %s.", num);
    }
    if (ranked)
        say_rank(f, &r);
    return CLI_EXIT_OK;
}

static int finish_final(struct cli_follow *f)
{
    const char *type = cli_json_str(f->final, "type");
    const char *message = cli_json_str(f->final, "message");
    if (strcmp(type, "COMPLETE") == 0)
        return finish_complete(f);
    if (f->out->json) {
        json_t *line = summary(f, type, CLI_EXIT_FAILED);
        cli_out_json(f->out, "summary", line);
        json_decref(line);
    } else {
        const char *what = strcmp(type, "TIMEOUT") == 0     ? "Grading timed out"
                           : strcmp(type, "CANCELLED") == 0 ? "Cancelled"
                                                            : "Grading failed";
        cli_out_text(f->out, "%s: %s", what, message != NULL && message[0] ? message : type);
    }
    return CLI_EXIT_FAILED;
}

int cli_follow_finish(struct cli_follow *f, int rc)
{
    char problem[1200];
    cli_out_bar_clear(f->out);
    if (rc == 0 && f->final != NULL)
        return finish_final(f);
    if (rc == CLI_EXIT_REFUSED)
        return cli_report_refusal(f->out, f->s->refusal);
    if (rc == CLI_EXIT_INTERRUPTED) {
        if (f->out->json) {
            json_t *line = summary(f, f->state, rc);
            json_object_set_new(line, "interrupted", json_true());
            cli_out_json(f->out, "summary", line);
            json_decref(line);
        }
        cli_out_problem(f->out,
                        "Stopped watching submission %lld. It was not cancelled: its grading "
                        "goes on.\ncrowdai: Follow it again with: crowdai watch %lld",
                        (long long)f->sub_id, (long long)f->sub_id);
        return rc;
    }
    if (rc == CLI_SESSION_TIMEOUT)
        snprintf(problem, sizeof(problem),
                 "Stopped watching submission %lld after %llu s (--timeout); its grading goes on.",
                 (long long)f->sub_id, (unsigned long long)(f->timeout_ms / 1000));
    else
        snprintf(problem, sizeof(problem), "%s", f->s->problem);
    rc = rc == CLI_SESSION_TIMEOUT ? CLI_EXIT_CONNECTION : rc;
    cli_report_problem(f->out, rc, problem);
    fprintf(stderr,
            "crowdai: Submission %lld is safe on the broker. Follow it again with: crowdai "
            "watch %lld\n",
            (long long)f->sub_id, (long long)f->sub_id);
    return rc;
}
