/* The code archive on the participant protocol (namespace "/"): submit with code_key and
 * code_consent, archive_consent for a past submission, archive_list; and the archive's passes
 * (commits, notes, pushes, publishing at a challenge's end), run off the loop one at a time
 * with uv_queue_work on a timer. See docs/archive.md.
 *
 * A submit carrying code is checked first (the archive is read off the loop against the
 * challenge's limits), its code recorded under the client_submission_id, and then handed to
 * the plain submit as it came, so that the submission pipeline stays in one place. The
 * archive's state lives in one static structure: there is one broker per process. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "archive/archive_git.h"
#include "broker/broker.h"
#include "broker/psess.h"
#include "broker/reply.h"
#include "core/log.h"
#include "core/xalloc.h"

#define TICK_MS 1000 /* how often a pass looks for work */

static struct archive_svc {
    struct broker *b;
    sio_event_cb plain_submit;
    uv_timer_t timer;
    int ready; /* env and db set up (the data directory is known once blobs are) */
    struct archive_env env;
    sqlite3 *db; /* the loop thread's connection */
    int pass_running, pass_again;
    volatile int stop;
} svc;

/* Sets up the paths and the loop's connection on first use: 0, or -1 (logged). */
static int svc_ready(void)
{
    if (svc.ready)
        return 0;
    if (svc.stop)
        return -1; /* shutting down: the connection was closed for good */
    const char *blobs = svc.b->blobs.dir;
    size_t n = strlen(blobs);
    if (n < 6 || strcmp(blobs + n - 6, "/blobs") != 0)
        return -1;
    char dir[512];
    snprintf(dir, sizeof(dir), "%.*s", (int)(n - 6), blobs);
    archive_env_init(&svc.env, dir, &svc.stop);
    char err[256];
    svc.db = archive_store_open(svc.env.db_path, err, sizeof(err));
    if (svc.db == NULL) {
        log_error("archive", "%s", err);
        return -1;
    }
    svc.ready = 1;
    return 0;
}

/* ---- passes ---- */

struct pass_job {
    uv_work_t work;
    int result;
};

static void schedule_pass(void);

static void pass_work(uv_work_t *w)
{
    struct pass_job *j = container_of(w, struct pass_job, work);
    j->result = archive_pass(&svc.env, broker_now());
}

static void pass_done(uv_work_t *w, int status)
{
    struct pass_job *j = container_of(w, struct pass_job, work);
    int again = status == 0 && (j->result == 1 || svc.pass_again);
    free(j);
    svc.pass_running = 0;
    svc.pass_again = 0;
    if (again && !svc.b->stopping)
        schedule_pass();
}

static void schedule_pass(void)
{
    if (svc.pass_running) {
        svc.pass_again = 1;
        return;
    }
    if (svc.b->stopping || svc_ready() != 0)
        return;
    struct pass_job *j = xcalloc(1, sizeof(*j));
    svc.pass_running = 1;
    uv_queue_work(svc.b->loop, &j->work, pass_work, pass_done);
}

static void on_tick(uv_timer_t *t)
{
    if (!svc.b->stopping) {
        schedule_pass();
        return;
    }
    /* The broker stops: transfers give up, and no new pass starts. */
    svc.stop = 1;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    if (svc.db != NULL)
        sqlite3_close(svc.db);
    svc.db = NULL;
    svc.ready = 0;
}

/* ---- calls ---- */

struct acall {
    uv_work_t work;
    struct psess *ps;
    long long ack_id;
    struct token_claims claims;
    char *args; /* submit: its arguments as sent */
    size_t args_len;
    char code_key[BLOB_KEY_LEN + 1];
    char client_id[129];
    int consent;
    struct tar_limits limits;
    int rc;
    char err[512];
    int64_t sub_id;
    void (*then)(struct acall *c);
};

static struct acall *acall_new(struct sio_socket *sock, long long ack_id,
                               const struct token_claims *claims)
{
    struct acall *c = xcalloc(1, sizeof(*c));
    c->ps = psess_of(sock);
    c->ack_id = ack_id;
    c->claims = *claims;
    psess_ref(c->ps);
    return c;
}

static void acall_free(struct acall *c)
{
    psess_unref(c->ps);
    free(c->args);
    free(c);
}

static json_t *no_quota(void)
{
    return json_pack("{s:n,s:n}", "submissions_remaining", "reset_at");
}

static void on_session(void *ud, int result)
{
    struct acall *c = ud;
    struct sio_socket *sock = c->ps->sock;
    if (!session_stands(sock, c->ack_id, result)) {
        acall_free(c);
        return;
    }
    if (svc_ready() != 0) {
        reply_error(sock, c->ack_id, "INTERNAL", "The code archive is not available just now.",
                    NULL);
        acall_free(c);
        return;
    }
    c->then(c);
}

/* Checks the session with the registry (revocations), then runs then. */
static void session_then(struct acall *c, void (*then)(struct acall *c))
{
    c->then = then;
    svc.b->reg->ops->check_session(svc.b->reg, c->claims.participant_id, c->claims.issued_at,
                                   on_session, c);
}

/* ---- submit with code ---- */

static void check_code_work(uv_work_t *w)
{
    struct acall *c = container_of(w, struct acall, work);
    struct tar_tree tree;
    uint8_t *buf = NULL;
    c->rc = archive_code_load(svc.env.blob_dir, c->code_key, &c->limits, &buf, &tree, c->err,
                              sizeof(c->err));
    if (c->rc == 0) {
        tar_tree_release(&tree);
        free(buf);
    }
}

static void check_code_done(uv_work_t *w, int status)
{
    struct acall *c = container_of(w, struct acall, work);
    struct sio_socket *sock = c->ps->sock;
    char msg[600];
    if (sock == NULL || status != 0 || svc.db == NULL) {
        acall_free(c); /* gone: the client retries with the same client_submission_id */
        return;
    }
    if (c->rc != 0) {
        snprintf(msg, sizeof(msg), "Your code was refused: %s. Nothing was submitted.", c->err);
        reply_error(sock, c->ack_id, "CODE_REFUSED", msg, no_quota());
        acall_free(c);
        return;
    }
    int rc =
        archive_store_intent(svc.db, c->claims.participant_id, c->claims.challenge_id, c->client_id,
                             c->code_key, c->consent, broker_now(), msg, sizeof(msg));
    if (rc != 0) {
        reply_error(sock, c->ack_id, rc > 0 ? "CONFLICT" : "INTERNAL",
                    rc > 0 ? msg : "The code could not be recorded just now; try again.",
                    no_quota());
        acall_free(c);
        return;
    }
    struct sio_event ev = {.name = "submit",
                           .name_len = 6,
                           .args = c->args,
                           .args_len = c->args_len,
                           .ack_id = c->ack_id};
    svc.plain_submit(sock, &ev, svc.b);
    acall_free(c);
    schedule_pass();
}

static void submit_checked_session(struct acall *c)
{
    struct archive_settings s;
    if (archive_store_settings(svc.db, c->claims.challenge_id, &s) != 0) {
        reply_error(c->ps->sock, c->ack_id, "INTERNAL",
                    "The code archive is not available just now.", no_quota());
        acall_free(c);
        return;
    }
    c->limits = s.limits;
    uv_queue_work(svc.b->loop, &c->work, check_code_work, check_code_done);
}

/* Reads code_key, code_consent and client_submission_id: 0, 1 (the plain submit answers what
 * is wrong besides the code) or -1 (answered). */
static int read_code_args(struct acall *c, struct sio_socket *sock, json_t *args)
{
    json_t *consent = json_object_get(args, "code_consent");
    int has_key = json_object_get(args, "code_key") != NULL;
    const char *key = has_key ? reply_string(args, "code_key", 64) : "";
    const char *client_id = reply_string(args, "client_submission_id", 128);
    const char *problem = NULL;
    if (client_id == NULL || client_id[0] == '\0')
        return 1;
    if (consent != NULL && !json_is_boolean(consent))
        problem = "code_consent must be true or false.";
    else if (!has_key)
        problem = "code_consent needs a code_key: the upload of your code archive.";
    else if (key == NULL || !blob_key_valid(key))
        problem = "code_key must be the key the upload of your code archive answered.";
    if (problem != NULL) {
        reply_error(sock, c->ack_id, "BAD_REQUEST", problem, no_quota());
        return -1;
    }
    snprintf(c->code_key, sizeof(c->code_key), "%s", key);
    snprintf(c->client_id, sizeof(c->client_id), "%s", client_id);
    c->consent = json_is_true(consent);
    return 0;
}

static void on_submit_code(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    json_t *args = reply_first_object(ev);
    const char *token = args ? reply_string(args, "session_token", TOKEN_MAX_LEN) : NULL;
    struct token_claims claims;
    if (args == NULL ||
        (json_object_get(args, "code_key") == NULL &&
         json_object_get(args, "code_consent") == NULL) ||
        token == NULL || token_verify(svc.b->secret, token, broker_now(), &claims) != TOKEN_OK) {
        if (args != NULL)
            json_decref(args);
        svc.plain_submit(sock, ev, ud); /* no code, or it answers the session problem */
        return;
    }
    struct acall *c = acall_new(sock, ev->ack_id, &claims);
    int rc = read_code_args(c, sock, args);
    json_decref(args);
    if (rc != 0) {
        acall_free(c);
        if (rc > 0)
            svc.plain_submit(sock, ev, ud);
        return;
    }
    c->args = xmemdup0(ev->args, ev->args_len);
    c->args_len = ev->args_len;
    session_then(c, submit_checked_session);
}

/* ---- archive_consent ---- */

static void consent_checked_session(struct acall *c)
{
    int64_t at = 0;
    int rc = archive_store_consent(svc.db, c->claims.participant_id, c->claims.challenge_id,
                                   c->sub_id, broker_now(), &at);
    char iso[32];
    if (rc == -2)
        reply_error(c->ps->sock, c->ack_id, "NOT_FOUND", "You have no submission with that id.",
                    NULL);
    else if (rc == -3)
        reply_error(c->ps->sock, c->ack_id, "NO_CODE",
                    "This submission was made without code: there is nothing to archive.", NULL);
    else if (rc != 0)
        reply_error(c->ps->sock, c->ack_id, "INTERNAL",
                    "The consent could not be recorded just now; try again.", NULL);
    if (rc == 0) {
        reply_iso_time(at, iso);
        log_info("archive", "consent participant=%" PRId64 " sub=%" PRId64,
                 c->claims.participant_id, c->sub_id);
        reply_ok(c->ps->sock, c->ack_id,
                 json_pack("{s:I,s:s}", "submission_id", (json_int_t)c->sub_id, "consent_at", iso));
        schedule_pass();
    }
    acall_free(c);
}

static void on_consent(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    json_t *args = reply_first_object(ev);
    struct token_claims claims;
    (void)ud;
    if (session_token_check(svc.b, sock, ev->ack_id, args, &claims) == 0) {
        int ok = 0;
        int64_t id = reply_integer(args, "submission_id", -1, &ok);
        if (ok != 0 || id <= 0) {
            reply_error(sock, ev->ack_id, "BAD_REQUEST", "submission_id must be a number.", NULL);
        } else {
            struct acall *c = acall_new(sock, ev->ack_id, &claims);
            c->sub_id = id;
            session_then(c, consent_checked_session);
        }
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- archive_list ---- */

static json_t *time_or_null(int64_t ms)
{
    char iso[32];
    if (ms <= 0)
        return json_null();
    reply_iso_time(ms, iso);
    return json_string(iso);
}

static const char *row_state(const struct archive_row *r)
{
    if (r->commit_sha[0] != '\0')
        return "ARCHIVED";
    if (r->refused[0] != '\0')
        return "REFUSED";
    return r->consent_at > 0 ? "PENDING" : "NO_CONSENT";
}

static void add_list_row(void *ud, const struct archive_row *r)
{
    if (r->submission_id == 0)
        return; /* the submission was refused: no code of it is kept */
    int scored = r->state == 2 && r->has_score;
    json_t *o =
        json_pack("{s:I,s:i,s:s,s:o,s:o,s:o,s:s}", "submission_id", (json_int_t)r->submission_id,
                  "round", r->round, "state", row_state(r), "submitted_at",
                  time_or_null(r->submitted_at), "consent_at", time_or_null(r->consent_at),
                  "archived_at", time_or_null(r->archived_at), "code_key", r->code_key);
    json_object_set_new(o, "commit", r->commit_sha[0] ? json_string(r->commit_sha) : json_null());
    if (r->commit_sha[0] != '\0') {
        char name[96];
        snprintf(name, sizeof(name), "participant/%" PRId64, r->participant_id);
        json_object_set_new(o, "branch", json_string(name));
        snprintf(name, sizeof(name), "submission/%" PRId64, r->submission_id);
        json_object_set_new(o, "tag", json_string(name));
    }
    json_object_set_new(o, "refused", r->refused[0] ? json_string(r->refused) : json_null());
    json_object_set_new(o, "score", scored ? json_real(r->score) : json_null());
    json_object_set_new(o, "score_secondary",
                        scored && r->has_secondary ? json_real(r->score_secondary) : json_null());
    json_array_append_new(ud, o);
}

static void list_checked_session(struct acall *c)
{
    json_t *rows = json_array();
    if (archive_store_list(svc.db, c->claims.challenge_id, c->claims.participant_id, add_list_row,
                           rows) < 0) {
        json_decref(rows);
        reply_error(c->ps->sock, c->ack_id, "INTERNAL",
                    "The code archive could not be read just now; try again.", NULL);
    } else {
        reply_ok(c->ps->sock, c->ack_id,
                 json_pack("{s:s,s:o}", "challenge_id", c->claims.challenge_id, "commits", rows));
    }
    acall_free(c);
}

static void on_list(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    json_t *args = reply_first_object(ev);
    struct token_claims claims;
    (void)ud;
    if (session_token_check(svc.b, sock, ev->ack_id, args, &claims) == 0)
        session_then(acall_new(sock, ev->ack_id, &claims), list_checked_session);
    if (args != NULL)
        json_decref(args);
}

struct has_commit {
    int found;
};

static void on_row_committed(void *ud, const struct archive_row *r)
{
    struct has_commit *h = ud;
    if (r->consent_at > 0 && r->commit_sha[0] != '\0')
        h->found = 1;
}

json_t *archive_code_link(const char *challenge_id, int64_t participant_id)
{
    struct archive_settings st;
    struct has_commit h = {0};
    if (svc_ready() != 0 || archive_store_settings(svc.db, challenge_id, &st) != 0 ||
        st.published_at == 0 || (st.github_repo[0] == '\0' && st.public_url[0] == '\0'))
        return NULL;
    if (archive_store_list(svc.db, challenge_id, participant_id, on_row_committed, &h) < 0 ||
        !h.found)
        return NULL;
    char branch[64], url[700];
    snprintf(branch, sizeof(branch), "participant/%" PRId64, participant_id);
    if (st.github_repo[0] != '\0')
        snprintf(url, sizeof(url), "https://github.com/%s/tree/%s", st.github_repo, branch);
    else
        snprintf(url, sizeof(url), "%s", st.public_url);
    return json_pack("{s:s,s:s}", "url", url, "branch", branch);
}

void archive_calls_install(struct broker *b, sio_event_cb plain_submit)
{
    memset(&svc, 0, sizeof(svc));
    svc.b = b;
    svc.plain_submit = plain_submit;
    archive_git_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Registered after the plain submit, so this one is found first. */
    sio_namespace_on(b->participants, "submit", on_submit_code, b);
    sio_namespace_on(b->participants, "archive_consent", on_consent, b);
    sio_namespace_on(b->participants, "archive_list", on_list, b);
    uv_timer_init(b->loop, &svc.timer);
    uv_timer_start(&svc.timer, on_tick, TICK_MS, TICK_MS);
}
