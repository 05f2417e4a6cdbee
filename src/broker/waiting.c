/* WAITING: a submission queued for a pool that no grader serves is told so at once, and
 * again every waiting_repeat_ms while it lasts, so that nobody waits in silence. The list
 * holds the submissions this broker queued; an entry goes once the submission leaves the
 * queue (the note script answers 0) or a grader serves its pool. */
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

void waiting_check(struct broker *b, int64_t sub_id, const char *pool)
{
    if (grader_pool_online(b, pool))
        return;
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

static void on_waiting_timer(uv_timer_t *t)
{
    struct broker *b = t->data;
    for (size_t i = 0; i < b->nwaiting;) {
        if (grader_pool_online(b, b->waiting[i].pool)) {
            b->waiting[i] = b->waiting[--b->nwaiting];
            continue;
        }
        note(b, b->waiting[i].sub_id);
        i++;
    }
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
