/* Test fixture for the webapp registry backend: the webapp test double (webapp-double.mjs) in
 * a node child process, control calls to it (state, clock, faults, its request log), and the
 * backend on a temp directory with a libuv loop. Each registry operation is checked to answer
 * after its call returned, then the loop runs until it does (bounded). */
#ifndef TESTS_WEBAPP_WEBAPP_FIXTURE_H
#define TESTS_WEBAPP_WEBAPP_FIXTURE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "registry/reg_store.h"
#include "registry/registry.h"

#define WF_ADMIN_KEY "broker-token-7f3a"
#define WF_DAY       (INT64_C(24) * 3600 * 1000)

struct wf {
    char dir[64];
    char path[128];
    char url[64];
    pid_t double_pid;
    int double_stdin;
    uv_loop_t loop;
    struct registry *reg;
    struct reg_store *store;
    int64_t clock; /* what the backend's clock says (Unix ms) */
    int closed;    /* the test closed the registry itself */
};

struct wf_opts {
    const char *broker_key; /* NULL: WF_ADMIN_KEY */
    uint64_t timeout_ms;    /* 0: 5000 */
    int64_t key_cache_ms;   /* 0: 60000; -1: no cache */
    size_t max_body;        /* 0: the default */
};

struct wf_auth {
    int called;
    enum reg_auth result;
    int has_p, has_c;
    struct reg_participant p;
    struct reg_challenge c;
};

struct wf_submit {
    int called;
    struct reg_submit_result res;
    char msg[512];
};

/* Starts the double, frozen at the fixture's clock, with the default world: participants
 * alice (webapp id 501, key "key-alice") and bob (502, "key-bob", whose key check tells his
 * name), challenge "demo" (round 11 open, 3 submissions a rolling day), and opens the backend
 * with o (NULL: defaults); the local catalog has "demo" with round 1 open. */
void wf_open(struct wf *f, const struct wf_opts *o);
/* Opens the backend again on the same directory (a broker restart). */
void wf_reopen(struct wf *f, const struct wf_opts *o);
/* Closes the backend (unless the test did), runs the loop dry, stops the double, removes the
 * temp files. */
void wf_close(struct wf *f);

/* Control of the double: POST path with a JSON body (NULL: {}), answered 200. */
void wf_control(struct wf *f, const char *path, const char *json);
/* The double's state: replaces participants/challenges (json as for POST /__reset; "now" is
 * added: the fixture's clock). */
void wf_world(struct wf *f, const char *json);
/* GET /__log or /__submissions, parsed (the caller decrefs). */
json_t *wf_get(struct wf *f, const char *path);
/* Requests in the double's log with this method whose path starts with path_prefix, with
 * grading_status (NULL: any) and HTTP status (0: any). */
int wf_count(struct wf *f, const char *method, const char *path_prefix, const char *grading,
             long status);

/* The local catalog: a challenge (primary "score", descending) with round 1 open around now. */
void wf_local_challenge(struct wf *f, const char *id);

/* Operations: each asserts that its callback did not run before it returned. */
void wf_auth(struct wf *f, const char *key, const char *challenge, struct wf_auth *out);
void wf_submit(struct wf *f, const struct reg_submit_request *req, struct wf_submit *out);
/* Authenticates key on "demo" (must succeed) and returns the local participant id. */
int64_t wf_login(struct wf *f, const char *key);
/* A request from participant to "demo" with csid at the fixture's clock. */
struct reg_submit_request wf_req(struct wf *f, int64_t participant, const char *csid);
/* wf_submit that must create a new submission; returns its local id. */
int64_t wf_submit_ok(struct wf *f, int64_t participant, const char *csid);
int wf_set_state(struct wf *f, int64_t id, enum reg_sub_state state, const char *message);
int wf_record(struct wf *f, int64_t id, double score, int has_secondary, double secondary);
int wf_session(struct wf *f, int64_t participant, int64_t issued_at);
/* The webapp id the mirror keeps for a local submission. */
int64_t wf_webapp_id(struct wf *f, int64_t id);
/* The local submission's state, or -1 if there is none. */
int wf_local_state(struct wf *f, int64_t id, double *score);

/* Runs the loop until *flag is set (fails the test after 20 s). */
void wf_wait(struct wf *f, const int *flag);

#endif
