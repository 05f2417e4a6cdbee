/* What the files of the webapp registry backend share: its state, the queue that delivers
 * answers on a later loop iteration, the HTTP entry point, and each file's operations. Not
 * for use outside src/registry/reg_webapp*.c. */
#ifndef REGISTRY_REG_WEBAPP_INTERNAL_H
#define REGISTRY_REG_WEBAPP_INTERNAL_H

#include <stdint.h>
#include <uv.h>

#include "core/list.h"
#include "core/strmap.h"
#include "registry/reg_store.h"
#include "registry/reg_webapp.h"
#include "registry/reg_webapp_http.h"
#include "registry/registry.h"

struct reg_webapp {
    struct registry base;
    uv_loop_t *loop;
    struct registry *inner;  /* the SQLite backend: catalog, mirror, grader keys */
    struct reg_store *store; /* inner's store */
    struct reg_webapp_http *http;
    int64_t key_cache_ms;
    struct strmap keys;           /* API key -> struct reg_webapp_key (owned) */
    struct strmap by_participant; /* local participant id (decimal) -> the latest valid
                                     struct reg_webapp_key of that participant (borrowed) */
    struct list submits;          /* submissions being created (reg_webapp_submit.c) */
    struct list updates;          /* state changes in call order (reg_webapp_update.c) */
    struct list applied;          /* changes the webapp took, not yet in the mirror */
    uv_idle_t idle;
    struct list deferred; /* struct reg_webapp_done, oldest first */
    size_t ndeferred;
    int64_t (*clock)(void *ud);
    void *clock_ud;
    int closing;
    int http_closed;
};

/* An answer waiting for the loop: deliver calls the operation's callback and frees it. */
struct reg_webapp_done {
    struct list link;
    void (*deliver)(struct reg_webapp_done *d);
};

/* An API key the webapp said is valid: kept in memory only, never written or logged. */
struct reg_webapp_key {
    char *key;
    int64_t participant_id; /* local */
    int64_t webapp_id;
    int64_t checked_at; /* when the webapp last said so (reg_webapp_now) */
};

/* The backend behind base; aborts when it is closed (no operation may come after close). */
struct reg_webapp *reg_webapp_from(struct registry *base);
/* Queues d; its deliver runs on a later loop iteration (inside close when closing). */
void reg_webapp_defer(struct reg_webapp *r, struct reg_webapp_done *d,
                      void (*deliver)(struct reg_webapp_done *d));
/* reg_webapp_http_request, or, once the client is closed, an answer with
 * reg_webapp_http_err_closed from the deferred queue. */
void reg_webapp_request(struct reg_webapp *r, const char *method, const char *path,
                        const char *form, reg_webapp_http_cb cb, void *ud);
int64_t reg_webapp_now(struct reg_webapp *r);

/* reg_webapp_auth.c: keys, the participant they stand for, sessions. */
void reg_webapp_auth_authenticate(struct registry *base, const char *api_key,
                                  const char *challenge_id, reg_auth_cb cb, void *ud);
void reg_webapp_auth_check_session(struct registry *base, int64_t participant_id, int64_t issued_at,
                                   reg_update_cb cb, void *ud);
/* The latest valid key of a local participant, or NULL. */
const char *reg_webapp_auth_key_of(struct reg_webapp *r, int64_t participant_id);
/* Forgets a participant's key (the webapp no longer knows it): their sessions end. */
void reg_webapp_auth_forget(struct reg_webapp *r, int64_t participant_id);
void reg_webapp_auth_release(struct reg_webapp *r);

/* reg_webapp_submit.c: creating submissions. */
void reg_webapp_submit_create(struct registry *base, const struct reg_submit_request *req,
                              reg_submit_cb cb, void *ud);

/* reg_webapp_update.c: state changes and scores, exactly once. */
void reg_webapp_update_set_state(struct registry *base, int64_t submission_id,
                                 enum reg_sub_state state, const char *message, reg_update_cb cb,
                                 void *ud);
void reg_webapp_update_record_score(struct registry *base, int64_t submission_id, double score,
                                    int has_secondary, double score_secondary, reg_update_cb cb,
                                    void *ud);
void reg_webapp_update_release(struct reg_webapp *r);

#endif
