/* The webapp backend's test fixture: the double in a node child, control calls over blocking
 * libcurl, the backend on a temp directory, and operations that wait for their callbacks. */
#include "webapp_fixture.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "registry/reg_catalog.h"
#include "registry/reg_submission.h"
#include "registry/reg_webapp.h"
#include "test.h"

#define WAIT_LIMIT_MS  20000
#define READY_LIMIT_MS 15000

/* ---- the double ---- */

static void double_read_ready(struct wf *f, int fd)
{
    char text[256];
    size_t len = 0;
    int port = 0;
    while (port == 0) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, READY_LIMIT_MS) <= 0)
            test_fail(__FILE__, __LINE__, "the webapp double did not print READY");
        ssize_t n = read(fd, text + len, sizeof(text) - 1 - len);
        if (n <= 0)
            test_fail(__FILE__, __LINE__, "the webapp double exited before READY");
        len += (size_t)n;
        text[len] = '\0';
        const char *ready = strstr(text, "READY port=");
        if (ready != NULL && strchr(ready, '\n') != NULL)
            port = atoi(ready + 11);
    }
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
}

static void double_start(struct wf *f)
{
    int in[2], out[2];
    ASSERT_EQ(pipe(in), 0);
    ASSERT_EQ(pipe(out), 0);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test _exits: the double goes with it */
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execlp("node", "node", WEBAPP_DOUBLE, "--port", "0", "--admin-key", WF_ADMIN_KEY,
               (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f->double_pid = pid;
    f->double_stdin = in[1];
    double_read_ready(f, out[0]);
    close(out[0]);
}

static void double_stop(struct wf *f)
{
    close(f->double_stdin);
    kill(f->double_pid, SIGKILL);
    while (waitpid(f->double_pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    return buf_append(ud, data, size * n) == 0 ? size * n : 0;
}

/* A blocking request to the double; returns the body (caller frees). */
static char *double_call(struct wf *f, const char *method, const char *path, const char *json)
{
    char url[256];
    struct buf body;
    long status = 0;
    buf_init(&body, BUF_NO_CAP);
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    CURL *e = curl_easy_init();
    ASSERT_TRUE(e != NULL);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, json != NULL ? json : "{}");
    ASSERT_EQ(curl_easy_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    if (status != 200)
        test_fail(__FILE__, __LINE__, "%s %s: status %ld: %s", method, path, status,
                  body.data != NULL ? body.data : "");
    return buf_detach(&body, NULL);
}

void wf_control(struct wf *f, const char *path, const char *json)
{
    free(double_call(f, "POST", path, json));
}

json_t *wf_get(struct wf *f, const char *path)
{
    char *text = double_call(f, "GET", path, NULL);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    ASSERT_TRUE(j != NULL);
    return j;
}

void wf_world(struct wf *f, const char *json)
{
    json_t *w = json_loads(json, 0, NULL);
    ASSERT_TRUE(json_is_object(w));
    json_object_set_new(w, "now", json_integer(f->clock));
    char *text = json_dumps(w, JSON_COMPACT);
    wf_control(f, "/__reset", text);
    free(text);
    json_decref(w);
}

int wf_count(struct wf *f, const char *method, const char *path_prefix, const char *grading,
             long status)
{
    json_t *log = wf_get(f, "/__log");
    size_t i;
    json_t *e;
    int n = 0;
    json_array_foreach(log, i, e)
    {
        const char *m = json_string_value(json_object_get(e, "method"));
        const char *path = json_string_value(json_object_get(e, "path"));
        const char *g =
            json_string_value(json_object_get(json_object_get(e, "params"), "grading_status"));
        json_t *st = json_object_get(e, "status");
        if (strcmp(m, method) != 0 || strncmp(path, path_prefix, strlen(path_prefix)) != 0)
            continue;
        if (grading != NULL && (g == NULL || strcmp(g, grading) != 0))
            continue;
        if (status != 0 && (!json_is_integer(st) || json_integer_value(st) != status))
            continue;
        n++;
    }
    json_decref(log);
    return n;
}

static void default_world(struct wf *f)
{
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"participants\":[{\"id\":501,\"api_key\":\"key-alice\",\"name\":\"alice\"},"
             "{\"id\":502,\"api_key\":\"key-bob\",\"name\":\"bob\",\"showName\":true}],"
             "\"challenges\":[{\"id\":1,\"challenge_client_name\":\"demo\",\"rounds\":[{\"id\":11,"
             "\"start\":%lld,\"end\":%lld,\"submission_limit\":3,\"period\":\"day\"}]}]}",
             (long long)(f->clock - WF_DAY), (long long)(f->clock + 30 * WF_DAY));
    wf_world(f, json);
}

/* ---- the backend ---- */

static int64_t fixture_clock(void *ud)
{
    struct wf *f = ud;
    return f->clock;
}

static void backend_open(struct wf *f, const struct wf_opts *o)
{
    char err[256] = "";
    struct wf_opts none = {NULL, 0, 0, 0};
    if (o == NULL)
        o = &none;
    struct reg_webapp_config c = {
        .url = f->url,
        .api_key = o->broker_key != NULL ? o->broker_key : WF_ADMIN_KEY,
        .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000,
        .key_cache_ms = o->key_cache_ms == 0 ? 60000 : (o->key_cache_ms < 0 ? 0 : o->key_cache_ms),
        .max_body = o->max_body,
    };
    f->reg = reg_webapp_open(&f->loop, f->path, &c, err, sizeof(err));
    if (f->reg == NULL)
        test_fail(__FILE__, __LINE__, "reg_webapp_open: %s", err);
    f->store = reg_webapp_store(f->reg);
    reg_webapp_set_clock(f->reg, fixture_clock, f);
    f->closed = 0;
}

void wf_local_challenge(struct wf *f, const char *id)
{
    struct reg_challenge c;
    struct reg_round r;
    char why[256];
    reg_catalog_challenge_defaults(&c);
    snprintf(c.id, sizeof(c.id), "%s", id);
    snprintf(c.title, sizeof(c.title), "Challenge %s", id);
    snprintf(c.pool, sizeof(c.pool), "default");
    snprintf(c.primary_name, sizeof(c.primary_name), "score");
    ASSERT_EQ(reg_catalog_challenge_check(&c, why, sizeof(why)), 0);
    ASSERT_EQ(reg_catalog_challenge_create(f->store, &c, f->clock), 0);
    memset(&r, 0, sizeof(r));
    snprintf(r.challenge_id, sizeof(r.challenge_id), "%s", id);
    r.number = 1;
    r.starts_at = f->clock - WF_DAY;
    r.ends_at = f->clock + 30 * WF_DAY;
    ASSERT_EQ(reg_catalog_round_check(&r, why, sizeof(why)), 0);
    ASSERT_EQ(reg_catalog_round_create(f->store, &r), 0);
}

void wf_open(struct wf *f, const struct wf_opts *o)
{
    memset(f, 0, sizeof(*f));
    f->clock = (int64_t)time(NULL) * 1000;
    snprintf(f->dir, sizeof(f->dir), "/tmp/webapp-test-XXXXXX");
    ASSERT_TRUE(mkdtemp(f->dir) != NULL);
    snprintf(f->path, sizeof(f->path), "%s/registry.sqlite3", f->dir);
    ASSERT_EQ(uv_loop_init(&f->loop), 0);
    double_start(f);
    default_world(f);
    backend_open(f, o);
    wf_local_challenge(f, "demo");
}

static void backend_close(struct wf *f)
{
    if (!f->closed)
        f->reg->ops->close(f->reg);
    f->closed = 1;
    ASSERT_EQ(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
}

void wf_reopen(struct wf *f, const struct wf_opts *o)
{
    backend_close(f);
    backend_open(f, o);
}

static void remove_file(const char *dir, const char *suffix)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/registry.sqlite3%s", dir, suffix);
    unlink(path);
}

void wf_close(struct wf *f)
{
    backend_close(f);
    ASSERT_EQ(uv_loop_close(&f->loop), 0);
    double_stop(f);
    remove_file(f->dir, "");
    remove_file(f->dir, "-wal");
    remove_file(f->dir, "-shm");
    rmdir(f->dir);
}

/* ---- waiting ---- */

static void on_guard(uv_timer_t *t)
{
    int *expired = t->data;
    *expired = 1;
}

void wf_wait(struct wf *f, const int *flag)
{
    uv_timer_t guard;
    int expired = 0;
    uv_timer_init(&f->loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, WAIT_LIMIT_MS, 0);
    while (!*flag && !expired)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    if (!*flag)
        test_fail(__FILE__, __LINE__, "no answer within %d ms", WAIT_LIMIT_MS);
}

/* ---- operations ---- */

static void on_auth(void *ud, enum reg_auth result, const struct reg_participant *p,
                    const struct reg_challenge *c)
{
    struct wf_auth *out = ud;
    ASSERT_EQ(out->called, 0);
    out->result = result;
    out->has_p = p != NULL;
    out->has_c = c != NULL;
    if (p != NULL)
        out->p = *p;
    if (c != NULL)
        out->c = *c;
    out->called = 1;
}

void wf_auth(struct wf *f, const char *key, const char *challenge, struct wf_auth *out)
{
    memset(out, 0, sizeof(*out));
    f->reg->ops->authenticate(f->reg, key, challenge, on_auth, out);
    ASSERT_EQ(out->called, 0);
    wf_wait(f, &out->called);
}

int64_t wf_login(struct wf *f, const char *key)
{
    struct wf_auth a;
    wf_auth(f, key, "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_TRUE(a.p.id > 0);
    return a.p.id;
}

static void on_submit(void *ud, const struct reg_submit_result *r)
{
    struct wf_submit *out = ud;
    ASSERT_EQ(out->called, 0);
    out->res = *r;
    out->res.message = NULL;
    if (r->message != NULL) {
        snprintf(out->msg, sizeof(out->msg), "%s", r->message);
        out->res.message = out->msg;
    }
    out->called = 1;
}

void wf_submit(struct wf *f, const struct reg_submit_request *req, struct wf_submit *out)
{
    memset(out, 0, sizeof(*out));
    f->reg->ops->submit(f->reg, req, on_submit, out);
    ASSERT_EQ(out->called, 0);
    wf_wait(f, &out->called);
}

struct reg_submit_request wf_req(struct wf *f, int64_t participant, const char *csid)
{
    struct reg_submit_request req;
    memset(&req, 0, sizeof(req));
    req.participant_id = participant;
    req.challenge_id = "demo";
    req.client_submission_id = csid;
    req.file_key = "";
    req.description = "";
    req.now = f->clock;
    return req;
}

int64_t wf_submit_ok(struct wf *f, int64_t participant, const char *csid)
{
    struct reg_submit_request req = wf_req(f, participant, csid);
    struct wf_submit out;
    wf_submit(f, &req, &out);
    if (out.res.refusal != REG_OK)
        test_fail(__FILE__, __LINE__, "submit %s refused (%d): %s", csid, out.res.refusal, out.msg);
    ASSERT_EQ(out.res.existing, 0);
    ASSERT_TRUE(out.res.submission_id > 0);
    return out.res.submission_id;
}

struct update_wait {
    int called, result;
};

static void on_update(void *ud, int result)
{
    struct update_wait *w = ud;
    ASSERT_EQ(w->called, 0);
    w->result = result;
    w->called = 1;
}

int wf_set_state(struct wf *f, int64_t id, enum reg_sub_state state, const char *message)
{
    struct update_wait w = {0, 0};
    f->reg->ops->set_state(f->reg, id, state, message, on_update, &w);
    ASSERT_EQ(w.called, 0);
    wf_wait(f, &w.called);
    return w.result;
}

int wf_record(struct wf *f, int64_t id, double score, int has_secondary, double secondary)
{
    struct update_wait w = {0, 0};
    f->reg->ops->record_score(f->reg, id, score, has_secondary, secondary, on_update, &w);
    ASSERT_EQ(w.called, 0);
    wf_wait(f, &w.called);
    return w.result;
}

int wf_session(struct wf *f, int64_t participant, int64_t issued_at)
{
    struct update_wait w = {0, 0};
    f->reg->ops->check_session(f->reg, participant, issued_at, on_update, &w);
    ASSERT_EQ(w.called, 0);
    wf_wait(f, &w.called);
    return w.result;
}

int64_t wf_webapp_id(struct wf *f, int64_t id)
{
    sqlite3_stmt *st;
    ASSERT_EQ(
        sqlite3_prepare_v2(reg_store_db(f->store),
                           "SELECT webapp_id FROM webapp_submissions WHERE submission_id = ?1", -1,
                           &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    int64_t webapp_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return webapp_id;
}

int wf_local_state(struct wf *f, int64_t id, double *score)
{
    struct reg_submission sub;
    if (reg_submission_get(f->store, id, &sub) != 0)
        return -1;
    free(sub.data);
    if (score != NULL)
        *score = sub.score;
    return (int)sub.state;
}
