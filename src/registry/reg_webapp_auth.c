/* Authentication against the webapp (GET /api/external_graders/<key>), the short-lived cache
 * of its answers, the local participant each webapp participant maps to, and sessions: a
 * session stands while the broker holds its participant's key in memory, since submissions
 * are made at the webapp with that key. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "registry/reg_access.h"
#include "registry/reg_catalog.h"
#include "registry/reg_webapp_api.h"
#include "registry/reg_webapp_internal.h"
#include "registry/reg_webapp_store.h"

struct auth_op {
    struct reg_webapp_done d;
    struct reg_webapp *r;
    char *key;
    char challenge_id[64];
    reg_auth_cb cb;
    void *ud;
    enum reg_auth result;
    struct reg_participant p;
    struct reg_challenge c;
};

/* ---- keys in memory ---- */

static void participant_key_name(int64_t participant_id, char out[24])
{
    snprintf(out, 24, "%" PRId64, participant_id);
}

/* The entry for key if the webapp said it is valid less than key_cache_ms ago. */
static struct reg_webapp_key *key_fresh(struct reg_webapp *r, const char *key)
{
    struct reg_webapp_key *k = strmap_get(&r->keys, key);
    int64_t now = reg_webapp_now(r);
    if (k == NULL || r->key_cache_ms == 0 || now < k->checked_at ||
        now - k->checked_at >= r->key_cache_ms)
        return NULL;
    return k;
}

static void key_remember(struct reg_webapp *r, const char *key, int64_t participant_id,
                         int64_t webapp_id)
{
    char name[24];
    struct reg_webapp_key *k = strmap_get(&r->keys, key);
    if (k == NULL) {
        k = xcalloc(1, sizeof(*k));
        k->key = xstrdup(key);
        strmap_put(&r->keys, key, k);
    }
    k->participant_id = participant_id;
    k->webapp_id = webapp_id;
    k->checked_at = reg_webapp_now(r);
    participant_key_name(participant_id, name);
    strmap_put(&r->by_participant, name, k);
}

static void key_free(struct reg_webapp *r, struct reg_webapp_key *k)
{
    char name[24];
    participant_key_name(k->participant_id, name);
    if (strmap_get(&r->by_participant, name) == k)
        strmap_remove(&r->by_participant, name);
    /* Overwritten before it is freed: the key must not linger in freed memory. */
    memset(k->key, 0, strlen(k->key));
    free(k->key);
    free(k);
}

/* The webapp said it does not know key (any more). */
static void key_drop(struct reg_webapp *r, const char *key)
{
    struct reg_webapp_key *k = strmap_remove(&r->keys, key);
    if (k != NULL)
        key_free(r, k);
}

const char *reg_webapp_auth_key_of(struct reg_webapp *r, int64_t participant_id)
{
    char name[24];
    participant_key_name(participant_id, name);
    struct reg_webapp_key *k = strmap_get(&r->by_participant, name);
    return k != NULL ? k->key : NULL;
}

void reg_webapp_auth_forget(struct reg_webapp *r, int64_t participant_id)
{
    char name[24];
    participant_key_name(participant_id, name);
    struct reg_webapp_key *k = strmap_get(&r->by_participant, name);
    if (k != NULL)
        key_drop(r, k->key);
}

static void free_entry(const char *key, void *value, void *ud)
{
    struct reg_webapp_key *k = value;
    (void)key, (void)ud;
    memset(k->key, 0, strlen(k->key));
    free(k->key);
    free(k);
}

void reg_webapp_auth_release(struct reg_webapp *r)
{
    strmap_release(&r->by_participant);
    strmap_each(&r->keys, free_entry, NULL);
    strmap_release(&r->keys);
}

/* ---- authenticate ---- */

static void auth_deliver(struct reg_webapp_done *d)
{
    struct auth_op *a = container_of(d, struct auth_op, d);
    int has_p = a->result != REG_AUTH_BAD_KEY && a->result != REG_AUTH_INTERNAL;
    int has_c = a->result == REG_AUTH_OK || a->result == REG_AUTH_CHALLENGE_CLOSED;
    a->cb(a->ud, a->result, has_p ? &a->p : NULL, has_c ? &a->c : NULL);
    free(a->key);
    free(a);
}

/* The participant is known (a->p): the challenge is the local catalog's business. */
static enum reg_auth auth_challenge(struct auth_op *a)
{
    struct reg_webapp *r = a->r;
    int rc = reg_catalog_challenge_get(r->store, a->challenge_id, &a->c);
    if (rc != 0)
        return rc == REG_STORE_NOT_FOUND ? REG_AUTH_UNKNOWN_CHALLENGE : REG_AUTH_INTERNAL;
    rc = reg_catalog_challenge_closed(r->store, a->c.id, reg_webapp_now(r));
    if (rc < 0)
        return REG_AUTH_INTERNAL;
    return rc == 1 ? REG_AUTH_CHALLENGE_CLOSED : REG_AUTH_OK;
}

static enum reg_auth auth_valid_key(struct auth_op *a, const struct reg_webapp_answer *ans)
{
    struct reg_webapp *r = a->r;
    if (ans->id <= 0) {
        log_error("webapp", "key check answered %ld without a participant_id", ans->status);
        return REG_AUTH_INTERNAL;
    }
    if (reg_webapp_store_participant(r->store, ans->id, ans->name, reg_webapp_now(r), &a->p) != 0)
        return REG_AUTH_INTERNAL;
    key_remember(r, a->key, a->p.id, ans->id);
    log_info("webapp", "key valid participant=%" PRId64 " webapp_participant=%" PRId64, a->p.id,
             ans->id);
    return auth_challenge(a);
}

static void on_key_checked(void *ud, const struct reg_webapp_http_response *res)
{
    struct auth_op *a = ud;
    struct reg_webapp_answer ans;
    reg_webapp_api_parse(res, &ans);
    if (ans.outcome == REG_WEBAPP_OK) {
        a->result = auth_valid_key(a, &ans);
    } else if (ans.status == 404) {
        key_drop(a->r, a->key);
        a->result = REG_AUTH_BAD_KEY;
    } else {
        if (ans.status == 401 || ans.status == 403)
            log_error("webapp",
                      "the webapp refused the broker's API key (status %ld): check "
                      "webapp-key",
                      ans.status);
        else
            log_warn("webapp", "key check failed status=%ld message=\"%s\"", ans.status,
                     ans.message);
        a->result = REG_AUTH_INTERNAL;
    }
    reg_webapp_defer(a->r, &a->d, auth_deliver);
}

/* A key the webapp said is valid a moment ago: answered from the local registry. */
static enum reg_auth auth_cached(struct auth_op *a, const struct reg_webapp_key *k)
{
    int rc = reg_access_participant_get(a->r->store, k->participant_id, &a->p);
    if (rc != 0)
        return REG_AUTH_INTERNAL;
    return auth_challenge(a);
}

void reg_webapp_auth_authenticate(struct registry *base, const char *api_key,
                                  const char *challenge_id, reg_auth_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    struct auth_op *a = xcalloc(1, sizeof(*a));
    a->r = r;
    a->cb = cb;
    a->ud = ud;
    snprintf(a->challenge_id, sizeof(a->challenge_id), "%s",
             challenge_id != NULL ? challenge_id : "");
    if (api_key == NULL || api_key[0] == '\0') {
        a->result = REG_AUTH_BAD_KEY;
        reg_webapp_defer(r, &a->d, auth_deliver);
        return;
    }
    const struct reg_webapp_key *k = key_fresh(r, api_key);
    if (k != NULL) {
        a->result = auth_cached(a, k);
        reg_webapp_defer(r, &a->d, auth_deliver);
        return;
    }
    struct buf path;
    buf_init(&path, BUF_NO_CAP);
    reg_webapp_api_key_path(&path, api_key);
    a->key = xstrdup(api_key);
    reg_webapp_request(r, "GET", path.data, NULL, on_key_checked, a);
    buf_release(&path);
}

/* ---- sessions ---- */

struct session_op {
    struct reg_webapp *r;
    int64_t participant_id;
    reg_update_cb cb;
    void *ud;
};

static void on_local_session(void *ud, int result)
{
    struct session_op *s = ud;
    if (result == 1 && reg_webapp_auth_key_of(s->r, s->participant_id) == NULL)
        result = 0; /* the broker restarted, or the webapp dropped the key since */
    s->cb(s->ud, result);
    free(s);
}

void reg_webapp_auth_check_session(struct registry *base, int64_t participant_id, int64_t issued_at,
                                   reg_update_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    struct session_op *s = xcalloc(1, sizeof(*s));
    s->r = r;
    s->participant_id = participant_id;
    s->cb = cb;
    s->ud = ud;
    r->inner->ops->check_session(r->inner, participant_id, issued_at, on_local_session, s);
}
