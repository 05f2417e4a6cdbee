/* WAITING: a submission queued for a pool that no grader serves, on any broker (presence in
 * Redis), is told so at once, and again every waiting_repeat_ms while it lasts, so that
 * nobody waits in silence. The list holds the submissions this broker queued; an entry goes
 * once the submission leaves the queue (the note script answers 0) or a grader serves its
 * pool. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/reply.h"
#include "core/log.h"
#include "core/xalloc.h"

#define WAITING_MESSAGE                                                                            \
    "No grader is online for this challenge right now. Your submission is safe in the queue "      \
    "and will be graded as soon as one connects."

#define WAITING_POOLS 64

struct waiting_note {
    struct broker *b;
    int64_t sub_id;
};

static void waiting_drop(struct broker *b, int64_t sub_id)
{
    for (size_t i = 0; i < b->nwaiting; i++) {
        if (b->waiting[i].sub_id == sub_id) {
            b->waiting[i] = b->waiting[--b->nwaiting];
            return;
        }
    }
}

static void on_noted(void *ud, const char *err, int ok)
{
    struct waiting_note *n = ud;
    if (err == NULL && !ok)
        waiting_drop(n->b, n->sub_id); /* no longer queued */
    free(n);
}

static void note(struct broker *b, int64_t sub_id)
{
    struct waiting_note *n = xmalloc(sizeof(*n));
    n->b = b;
    n->sub_id = sub_id;
    char *event = reply_event("WAITING", 0, WAITING_MESSAGE, NULL);
    rq_note(b->rq, sub_id, event, on_noted, n);
    free(event);
}

static void waiting_add(struct broker *b, int64_t sub_id, const char *pool)
{
    if (b->nwaiting == b->waiting_alloc) {
        b->waiting_alloc = b->waiting_alloc ? b->waiting_alloc * 2 : 8;
        b->waiting = xrealloc(b->waiting, b->waiting_alloc * sizeof(*b->waiting));
    }
    b->waiting[b->nwaiting].sub_id = sub_id;
    snprintf(b->waiting[b->nwaiting].pool, sizeof(b->waiting[0].pool), "%s", pool);
    b->nwaiting++;
    log_info("broker", "no grader online sub=%" PRId64 " pool=%s", sub_id, pool);
    note(b, sub_id);
}

/* A question to Redis: does any broker have a grader for pool? sub_id 0: asked by the
 * timer for every waiting submission of the pool. */
struct online_ask {
    struct broker *b;
    int64_t sub_id;
    char pool[64];
};

static void on_online(void *ud, const char *err, int64_t graders)
{
    struct online_ask *a = ud;
    struct broker *b = a->b;
    if (b->stopping) {
        free(a);
        return;
    }
    /* Redis unreachable: say WAITING (the submission is safe in the queue either way). */
    int none = err != NULL || graders == 0;
    if (err != NULL)
        log_warn("broker", "graders online in pool=%s unknown err=\"%s\"", a->pool, err);
    if (a->sub_id != 0) {
        if (none && !grader_pool_online(b, a->pool))
            waiting_add(b, a->sub_id, a->pool);
        free(a);
        return;
    }
    for (size_t i = 0; i < b->nwaiting;) {
        if (strcmp(b->waiting[i].pool, a->pool) != 0) {
            i++;
        } else if (!none || grader_pool_online(b, a->pool)) {
            b->waiting[i] = b->waiting[--b->nwaiting];
        } else {
            note(b, b->waiting[i].sub_id);
            i++;
        }
    }
    free(a);
}

static void ask_online(struct broker *b, int64_t sub_id, const char *pool)
{
    struct online_ask *a = xmalloc(sizeof(*a));
    a->b = b;
    a->sub_id = sub_id;
    snprintf(a->pool, sizeof(a->pool), "%s", pool);
    rq_pool_online(b->rq, pool, on_online, a);
}

void waiting_check(struct broker *b, int64_t sub_id, const char *pool)
{
    if (!grader_pool_online(b, pool))
        ask_online(b, sub_id, pool);
}

static void on_waiting_timer(uv_timer_t *t)
{
    struct broker *b = t->data;
    /* One question per pool with waiting submissions (the first WAITING_POOLS pools; the
     * others are asked on a later tick, as entries leave). */
    const char *asked[WAITING_POOLS];
    size_t nasked = 0;
    for (size_t i = 0; i < b->nwaiting && nasked < WAITING_POOLS; i++) {
        size_t j = 0;
        while (j < nasked && strcmp(asked[j], b->waiting[i].pool) != 0)
            j++;
        if (j == nasked)
            asked[nasked++] = b->waiting[i].pool;
    }
    for (size_t j = 0; j < nasked; j++)
        ask_online(b, 0, asked[j]);
}

void waiting_start(struct broker *b)
{
    uv_timer_init(b->loop, &b->waiting_timer);
    b->waiting_timer.data = b;
    uv_timer_start(&b->waiting_timer, on_waiting_timer, b->cfg.waiting_repeat_ms,
                   b->cfg.waiting_repeat_ms);
}

void waiting_stop(struct broker *b)
{
    uv_timer_stop(&b->waiting_timer);
    uv_close((uv_handle_t *)&b->waiting_timer, NULL);
    free(b->waiting);
    b->waiting = NULL;
    b->nwaiting = b->waiting_alloc = 0;
}
