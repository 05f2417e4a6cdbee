/* The calls the web pages make besides the participant protocol, all on namespace "/":
 * `challenges` and `challenge` (public settings: names, sort orders, precision),
 * `my_submissions` (a participant's own, with the session token) and `queue_status` (each
 * grader pool's public figures, for the status page; answered from a cache at most
 * STATUS_CACHE_MS old, so that many open status pages cost Redis one query per pool). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/psess.h"
#include "broker/reply.h"
#include "core/xalloc.h"
#include "registry/reg_submission.h"

#define STATUS_CACHE_MS      2000
#define STATUS_MAX_POOLS     64
#define STATUS_MAX_WAITING   4096 /* calls waiting for the figures being gathered */
#define MY_SUBMISSIONS_LIMIT 100

/* One call in flight. */
struct wcall {
    struct broker *b;
    struct psess *ps;
    long long ack_id;
    struct token_claims claims;
    json_t *list;
};

/* The status figures being gathered, and the last answer. */
struct web_status_cache {
    char *answer; /* JSON object text of the last answer, or NULL */
    int64_t at;   /* when it was made */
    int building;
    json_t *pools; /* pool name -> object, while building */
    int pending;   /* pool queries outstanding */
    int failed;    /* a pool query failed */
    struct wcall **waiting;
    size_t nwaiting, waiting_alloc;
};

static struct wcall *wcall_new(struct broker *b, struct sio_socket *sock, long long ack_id)
{
    struct wcall *c = xcalloc(1, sizeof(*c));
    c->b = b;
    c->ps = psess_of(sock);
    c->ack_id = ack_id;
    psess_ref(c->ps);
    return c;
}

static void wcall_free(struct wcall *c)
{
    psess_unref(c->ps);
    if (c->list != NULL)
        json_decref(c->list);
    free(c);
}

static const char *sort_name(enum reg_sort s)
{
    return s == REG_SORT_ASC ? "asc" : "desc";
}

static json_t *challenge_json(const struct reg_challenge *c)
{
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i}", "id", c->id, "title", c->title, "pool", c->pool,
                  "primary_name", c->primary_name, "primary_sort", sort_name(c->primary_sort),
                  "secondary_sort", sort_name(c->secondary_sort), "precision", c->score_precision);
    json_object_set_new(o, "secondary_name",
                        c->secondary_name[0] ? json_string(c->secondary_name) : json_null());
    return o;
}

static void registry_unavailable(struct wcall *c)
{
    if (c->ps->sock != NULL)
        reply_error(c->ps->sock, c->ack_id, "REGISTRY_UNAVAILABLE",
                    "The broker could not read the registry just now. Try again in a minute.",
                    NULL);
}

/* ---- challenges, challenge ---- */

static void on_challenge_row(void *ud, const struct reg_challenge *ch, int count)
{
    struct wcall *c = ud;
    if (ch != NULL) {
        json_array_append_new(c->list, challenge_json(ch));
        return;
    }
    if (count < 0)
        registry_unavailable(c);
    else if (c->ps->sock != NULL)
        reply_ok(c->ps->sock, c->ack_id, json_pack("{s:O}", "challenges", c->list));
    wcall_free(c);
}

static void on_challenges(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    struct wcall *c = wcall_new(b, sock, ev->ack_id);
    c->list = json_array();
    b->reg->ops->list_challenges(b->reg, on_challenge_row, c);
}

static void on_one_challenge(void *ud, int found, const struct reg_challenge *ch)
{
    struct wcall *c = ud;
    if (c->ps->sock != NULL && !found)
        reply_error(c->ps->sock, c->ack_id, "UNKNOWN_CHALLENGE",
                    "There is no challenge with that id.", NULL);
    else if (c->ps->sock != NULL)
        reply_ok(c->ps->sock, c->ack_id, json_pack("{s:o}", "challenge", challenge_json(ch)));
    wcall_free(c);
}

static void on_challenge(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    json_t *args = reply_first_object(ev);
    const char *id = args ? reply_string(args, "challenge_id", 63) : NULL;
    if (id == NULL) {
        reply_error(sock, ev->ack_id, "BAD_REQUEST", "challenge needs {challenge_id}.", NULL);
    } else {
        struct wcall *c = wcall_new(b, sock, ev->ack_id);
        b->reg->ops->get_challenge(b->reg, id, on_one_challenge, c);
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- my_submissions ---- */

static void on_submission_row(void *ud, const struct reg_submission *s, int count)
{
    struct wcall *c = ud;
    if (s != NULL) {
        char created[32];
        reply_iso_time(s->created_at, created);
        json_t *o = json_pack("{s:I,s:s,s:i,s:s,s:s,s:s,s:b}", "submission_id", (json_int_t)s->id,
                              "state", reg_submission_state_name(s->state), "round",
                              s->round_number, "message", s->message, "description", s->description,
                              "created_at", created, "late", s->late);
        json_object_set_new(o, "score", s->has_score ? json_real(s->score) : json_null());
        json_object_set_new(o, "score_secondary",
                            s->has_score && s->has_secondary ? json_real(s->score_secondary)
                                                             : json_null());
        json_array_append_new(c->list, o);
        return;
    }
    if (count < 0)
        registry_unavailable(c);
    else if (c->ps->sock != NULL)
        reply_ok(
            c->ps->sock, c->ack_id,
            json_pack("{s:s,s:O}", "challenge_id", c->claims.challenge_id, "submissions", c->list));
    wcall_free(c);
}

static void on_my_session(void *ud, int result)
{
    struct wcall *c = ud;
    if (!session_stands(c->ps->sock, c->ack_id, result)) {
        wcall_free(c);
        return;
    }
    c->list = json_array();
    c->b->reg->ops->list_submissions(c->b->reg, c->claims.participant_id, c->claims.challenge_id,
                                     MY_SUBMISSIONS_LIMIT, on_submission_row, c);
}

static void on_my_submissions(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    json_t *args = reply_first_object(ev);
    struct token_claims claims;
    if (session_token_check(b, sock, ev->ack_id, args, &claims) == 0) {
        struct wcall *c = wcall_new(b, sock, ev->ack_id);
        c->claims = claims;
        b->reg->ops->check_session(b->reg, claims.participant_id, claims.issued_at, on_my_session,
                                   c);
    }
    if (args != NULL)
        json_decref(args);
}

/* ---- queue_status ---- */

static void answer_waiting(struct broker *b, int ok)
{
    struct web_status_cache *sc = b->status_cache;
    for (size_t i = 0; i < sc->nwaiting; i++) {
        struct wcall *c = sc->waiting[i];
        struct sio_socket *sock = c->ps->sock;
        if (sock != NULL && ok) {
            /* The cached text is the ack's whole argument. */
            sio_socket_ack(sock, c->ack_id, sc->answer, strlen(sc->answer), NULL, 0);
        } else if (sock != NULL) {
            reply_error(sock, c->ack_id, "QUEUE_UNAVAILABLE",
                        "The queue's figures could not be read just now. Try again shortly.", NULL);
        }
        wcall_free(c);
    }
    sc->nwaiting = 0;
}

static json_t *minutes_json(const int64_t *per_minute)
{
    /* Oldest first, for a chart read left to right. */
    json_t *a = json_array();
    for (int i = RQ_STATS_MINUTES - 1; i >= 0; i--)
        json_array_append_new(a, json_integer(per_minute[i]));
    return a;
}

static void status_finish(struct broker *b, int ok)
{
    struct web_status_cache *sc = b->status_cache;
    if (ok) {
        json_t *pools = json_array();
        const char *name;
        json_t *pool;
        json_object_foreach(sc->pools, name, pool) json_array_append(pools, pool);
        char at[32];
        reply_iso_time(broker_now(), at);
        json_t *answer = json_pack("{s:b,s:s,s:o}", "ok", 1, "at", at, "pools", pools);
        free(sc->answer);
        sc->answer = json_dumps(answer, JSON_COMPACT);
        json_decref(answer);
        sc->at = broker_now();
        ok = sc->answer != NULL;
    }
    json_decref(sc->pools);
    sc->pools = NULL;
    sc->building = 0;
    answer_waiting(b, ok);
}

struct pool_query {
    struct broker *b;
    char pool[64];
};

static void on_pool_stats(void *ud, const char *err, const struct rq_pool_stats *st)
{
    struct pool_query *q = ud;
    struct broker *b = q->b;
    struct web_status_cache *sc = b->status_cache;
    if (sc == NULL || !sc->building) { /* the broker stopped */
        free(q);
        return;
    }
    json_t *pool = json_object_get(sc->pools, q->pool);
    if (err != NULL || st == NULL) {
        sc->failed = 1;
    } else if (pool != NULL) {
        json_object_set_new(pool, "graders_online", json_integer(st->graders_online));
        json_object_set_new(pool, "capacity", json_integer(st->capacity_online));
        json_object_set_new(pool, "queued", json_integer(st->queued));
        json_object_set_new(pool, "running", json_integer(st->running));
        json_object_set_new(pool, "retrying", json_integer(st->retrying));
        json_object_set_new(pool, "retried_last_hour", json_integer(st->retried_hour));
        json_object_set_new(pool, "dead_lettered_last_hour", json_integer(st->dead_hour));
        json_object_set_new(pool, "finished_last_hour", json_integer(st->finished_hour));
        json_object_set_new(pool, "oldest_queued_seconds",
                            st->oldest_queued_ms < 0 ? json_null()
                                                     : json_integer(st->oldest_queued_ms / 1000));
        json_object_set_new(pool, "finished_per_minute", minutes_json(st->finished_per_minute));
        /* Graded by crowdAI's Gen-2 graders through this broker's bridge (--gen2): they are not
         * in the presence figures. */
        json_object_set_new(pool, "gen2_bridge", json_boolean(gen2_pool_served(b, q->pool)));
    }
    free(q);
    if (--sc->pending == 0)
        status_finish(b, !sc->failed);
}

static json_t *pool_entry(json_t *pools, const char *name)
{
    json_t *pool = json_object_get(pools, name);
    if (pool == NULL && json_object_size(pools) < STATUS_MAX_POOLS) {
        pool = json_pack("{s:s,s:[]}", "pool", name, "challenges");
        json_object_set_new(pools, name, pool);
    }
    return pool;
}

static void query_pools(struct broker *b)
{
    struct web_status_cache *sc = b->status_cache;
    const char *name;
    json_t *pool;
    sc->failed = 0;
    sc->pending = 1; /* held until every query is sent */
    json_object_foreach(sc->pools, name, pool)
    {
        struct pool_query *q = xcalloc(1, sizeof(*q));
        q->b = b;
        snprintf(q->pool, sizeof(q->pool), "%s", name);
        sc->pending++;
        rq_pool_stats(b->rq, q->pool, on_pool_stats, q);
    }
    if (--sc->pending == 0)
        status_finish(b, !sc->failed);
}

static void on_status_challenge(void *ud, const struct reg_challenge *ch, int count)
{
    struct broker *b = ud;
    struct web_status_cache *sc = b->status_cache;
    if (sc == NULL || !sc->building) /* the broker stopped */
        return;
    if (ch != NULL) {
        json_t *pool = pool_entry(sc->pools, ch->pool);
        if (pool != NULL)
            json_array_append_new(json_object_get(pool, "challenges"), json_string(ch->id));
        return;
    }
    if (count < 0) {
        status_finish(b, 0);
        return;
    }
    for (size_t i = 0; i < b->npools; i++)
        pool_entry(sc->pools, b->pools[i]);
    query_pools(b);
}

static void on_queue_status(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    struct web_status_cache *sc = b->status_cache;
    if (ev->ack_id == SIO_NO_ACK)
        return; /* nobody to answer */
    if (sc->answer != NULL && broker_now() - sc->at < STATUS_CACHE_MS) {
        sio_socket_ack(sock, ev->ack_id, sc->answer, strlen(sc->answer), NULL, 0);
        return;
    }
    if (sc->nwaiting == STATUS_MAX_WAITING) {
        reply_error(sock, ev->ack_id, "BUSY",
                    "Too many status requests at once. Try again in a moment.", NULL);
        return;
    }
    if (sc->nwaiting == sc->waiting_alloc) {
        sc->waiting_alloc = sc->waiting_alloc ? sc->waiting_alloc * 2 : 8;
        sc->waiting = xrealloc(sc->waiting, sc->waiting_alloc * sizeof(*sc->waiting));
    }
    sc->waiting[sc->nwaiting++] = wcall_new(b, sock, ev->ack_id);
    if (sc->building)
        return;
    sc->building = 1;
    sc->pools = json_object();
    b->reg->ops->list_challenges(b->reg, on_status_challenge, b);
}

void web_calls_install(struct broker *b)
{
    struct sio_namespace *nsp = b->participants;
    b->status_cache = xcalloc(1, sizeof(*b->status_cache));
    sio_namespace_on(nsp, "challenges", on_challenges, b);
    sio_namespace_on(nsp, "challenge", on_challenge, b);
    sio_namespace_on(nsp, "my_submissions", on_my_submissions, b);
    sio_namespace_on(nsp, "queue_status", on_queue_status, b);
}

void web_calls_release(struct broker *b)
{
    struct web_status_cache *sc = b->status_cache;
    if (sc == NULL)
        return;
    answer_waiting(b, 0);
    if (sc->pools != NULL)
        json_decref(sc->pools);
    free(sc->waiting);
    free(sc->answer);
    free(sc);
    b->status_cache = NULL;
}
