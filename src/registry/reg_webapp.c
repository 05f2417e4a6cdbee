/* The webapp registry backend: opening and closing it, the deferred-answer queue, and the
 * operations the local SQLite registry answers on its own (grader keys, challenges and their
 * list, reading and listing submissions, the leaderboard, counts). */
#include "registry/reg_webapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "registry/reg_sqlite.h"
#include "registry/reg_time.h"
#include "registry/reg_webapp_internal.h"

struct reg_webapp *reg_webapp_from(struct registry *base)
{
    struct reg_webapp *r = container_of(base, struct reg_webapp, base);
    if (r->store == NULL) {
        log_error("webapp", "operation on a closed registry");
        abort();
    }
    return r;
}

int64_t reg_webapp_now(struct reg_webapp *r)
{
    return r->clock != NULL ? r->clock(r->clock_ud) : reg_time_now();
}

/* ---- the deferred queue ---- */

static void deliver_one(struct reg_webapp *r)
{
    struct reg_webapp_done *d = container_of(r->deferred.next, struct reg_webapp_done, link);
    list_remove(&d->link);
    r->ndeferred--;
    d->deliver(d);
}

/* Delivers what was queued before this iteration; what their callbacks queue waits for the
 * next one. */
static void on_idle(uv_idle_t *h)
{
    struct reg_webapp *r = h->data;
    size_t batch = r->ndeferred;
    while (batch-- > 0 && !list_empty(&r->deferred) && !r->closing)
        deliver_one(r);
    if (list_empty(&r->deferred) && !r->closing)
        uv_idle_stop(&r->idle);
}

void reg_webapp_defer(struct reg_webapp *r, struct reg_webapp_done *d,
                      void (*deliver)(struct reg_webapp_done *d))
{
    d->deliver = deliver;
    list_insert_tail(&r->deferred, &d->link);
    r->ndeferred++;
    if (!r->closing && !uv_is_active((uv_handle_t *)&r->idle))
        uv_idle_start(&r->idle, on_idle);
}

/* ---- HTTP ---- */

struct closed_answer {
    struct reg_webapp_done d;
    reg_webapp_http_cb cb;
    void *ud;
};

static void closed_deliver(struct reg_webapp_done *d)
{
    struct closed_answer *c = container_of(d, struct closed_answer, d);
    struct reg_webapp_http_response res = {0, reg_webapp_http_err_closed, "", 0};
    c->cb(c->ud, &res);
    free(c);
}

void reg_webapp_request(struct reg_webapp *r, const char *method, const char *path,
                        const char *form, reg_webapp_http_cb cb, void *ud)
{
    if (!r->http_closed) {
        reg_webapp_http_request(r->http, method, path, form, cb, ud);
        return;
    }
    struct closed_answer *c = xcalloc(1, sizeof(*c));
    c->cb = cb;
    c->ud = ud;
    reg_webapp_defer(r, &c->d, closed_deliver);
}

/* ---- what the local registry answers alone ---- */

static void webapp_check_grader_key(struct registry *base, const char *grader_key, reg_grader_cb cb,
                                    void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->inner->ops->check_grader_key(r->inner, grader_key, cb, ud);
}

static void webapp_get_challenge(struct registry *base, const char *challenge_id,
                                 reg_challenge_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->inner->ops->get_challenge(r->inner, challenge_id, cb, ud);
}

static void webapp_get_submission(struct registry *base, int64_t submission_id,
                                  reg_submission_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->inner->ops->get_submission(r->inner, submission_id, cb, ud);
}

static void webapp_leaderboard(struct registry *base, const char *challenge_id, int round_number,
                               int limit, reg_leaderboard_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->inner->ops->leaderboard(r->inner, challenge_id, round_number, limit, cb, ud);
}

static void webapp_count_by_state(struct registry *base, reg_counts_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->inner->ops->count_by_state(r->inner, cb, ud);
}

/* The catalog is local (crowdai-admin), so the list is the local one, precision included: the
 * webapp's API tells nothing about challenges. */
static void webapp_list_challenges(struct registry *base, reg_challenges_cb cb, void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->inner->ops->list_challenges(r->inner, cb, ud);
}

/* The mirror holds every submission made through this broker, under local participant ids. */
static void webapp_list_submissions(struct registry *base, int64_t participant_id,
                                    const char *challenge_id, int limit, reg_submissions_cb cb,
                                    void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->inner->ops->list_submissions(r->inner, participant_id, challenge_id, limit, cb, ud);
}

/* ---- open and close ---- */

static void flush(struct reg_webapp *r)
{
    while (!list_empty(&r->deferred))
        deliver_one(r);
}

static void on_idle_closed(uv_handle_t *h)
{
    free(h->data);
}

static void webapp_close(struct registry *base)
{
    struct reg_webapp *r = container_of(base, struct reg_webapp, base);
    if (r->closing)
        return;
    r->closing = 1;
    /* The requests still running answer "closed" (as a webapp failure); what their callbacks
     * start is answered from the deferred queue. */
    r->http_closed = 1;
    reg_webapp_http_close(r->http);
    flush(r);
    r->inner->ops->close(r->inner);
    r->store = NULL; /* closed with the SQLite registry */
    flush(r);
    reg_webapp_update_release(r);
    reg_webapp_auth_release(r);
    uv_close((uv_handle_t *)&r->idle, on_idle_closed);
}

static const struct registry_ops webapp_ops = {
    .authenticate = reg_webapp_auth_authenticate,
    .check_grader_key = webapp_check_grader_key,
    .check_session = reg_webapp_auth_check_session,
    .get_challenge = webapp_get_challenge,
    .submit = reg_webapp_submit_create,
    .get_submission = webapp_get_submission,
    .set_state = reg_webapp_update_set_state,
    .record_score = reg_webapp_update_record_score,
    .leaderboard = webapp_leaderboard,
    .count_by_state = webapp_count_by_state,
    .list_challenges = webapp_list_challenges,
    .list_submissions = webapp_list_submissions,
    .close = webapp_close,
};

struct registry *reg_webapp_open(uv_loop_t *loop, const char *sqlite_path,
                                 const struct reg_webapp_config *cfg, char *err, size_t errlen)
{
    if (cfg->url == NULL ||
        (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0)) {
        snprintf(err, errlen, "the webapp URL must start with http:// or https://");
        return NULL;
    }
    if (cfg->api_key == NULL || cfg->api_key[0] == '\0' || strpbrk(cfg->api_key, "\r\n") != NULL) {
        snprintf(err, errlen, "the webapp API key is missing or has a line break");
        return NULL;
    }
    struct reg_webapp_http_config hc = {
        .base_url = cfg->url,
        .token = cfg->api_key,
        .timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : REG_WEBAPP_DEFAULT_TIMEOUT_MS,
        .max_body = cfg->max_body > 0 ? cfg->max_body : REG_WEBAPP_DEFAULT_MAX_BODY,
    };
    struct registry *inner = reg_sqlite_open(loop, sqlite_path, err, errlen);
    if (inner == NULL)
        return NULL;
    struct reg_webapp_http *http = reg_webapp_http_new(loop, &hc);
    if (http == NULL) {
        snprintf(err, errlen, "libcurl could not start");
        inner->ops->close(inner);
        return NULL;
    }
    struct reg_webapp *r = xcalloc(1, sizeof(*r));
    r->base.ops = &webapp_ops;
    r->loop = loop;
    r->inner = inner;
    r->store = reg_sqlite_store(inner);
    r->http = http;
    r->key_cache_ms = cfg->key_cache_ms > 0 ? cfg->key_cache_ms : 0;
    strmap_init(&r->keys);
    strmap_init(&r->by_participant);
    list_init(&r->submits);
    list_init(&r->updates);
    list_init(&r->applied);
    list_init(&r->deferred);
    uv_idle_init(loop, &r->idle);
    r->idle.data = r;
    log_info("webapp", "registry on the crowdAI webapp url=%s timeout_ms=%llu key_cache_ms=%lld",
             cfg->url, (unsigned long long)hc.timeout_ms, (long long)r->key_cache_ms);
    return &r->base;
}

struct reg_store *reg_webapp_store(struct registry *base)
{
    return reg_webapp_from(base)->store;
}

void reg_webapp_set_clock(struct registry *base, int64_t (*clock)(void *ud), void *ud)
{
    struct reg_webapp *r = reg_webapp_from(base);
    r->clock = clock;
    r->clock_ud = ud;
    reg_sqlite_set_clock(r->inner, clock, ud);
}
