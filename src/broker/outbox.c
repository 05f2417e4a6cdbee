/* The score outbox: final results land in Redis first (atomically with the job's end), and
 * this loop applies them to the registry, removing each from the outbox only once the
 * registry has it. The registry's record_score is exactly-once by submission id, so a
 * crash between applying and removing only repeats a no-op. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/reply.h"
#include "core/log.h"
#include "core/xalloc.h"

#define OUTBOX_BATCH 500

struct outbox_waiter {
    struct list link;
    uint64_t pass; /* done once this pass is over */
    outbox_done_cb done;
    void *ud;
};

struct outbox_item {
    struct broker *b;
    int64_t sub_id;
};

/* One piece of the pass (the list call, or one item) is over. */
/* Calls the waiters whose pass is over (a whole pass: its last batch was not full). */
static void wake_waiters(struct broker *b)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &b->outbox_waiters)
    {
        struct outbox_waiter *w = container_of(pos, struct outbox_waiter, link);
        if (w->pass > b->outbox_pass)
            continue;
        list_remove(&w->link);
        w->done(w->ud, 0);
        free(w);
    }
}

static void pass_release(struct broker *b)
{
    if (--b->outbox_running > 0 || b->stopping)
        return;
    if (!b->outbox_full)
        wake_waiters(b);
    grader_dispatch_all(b);
    /* A full batch: more are probably waiting. A waiter that came during this pass needs
     * the next one. */
    if (b->outbox_full || !list_empty(&b->outbox_waiters))
        outbox_kick(b);
}

static void item_done(struct outbox_item *it)
{
    struct broker *b = it->b;
    free(it);
    pass_release(b);
}

static void on_removed(void *ud, const char *err)
{
    struct outbox_item *it = ud;
    if (err != NULL)
        log_warn("broker", "outbox remove failed sub=%" PRId64 " err=\"%s\"", it->sub_id, err);
    item_done(it);
}

static void on_applied(void *ud, int result)
{
    struct outbox_item *it = ud;
    if (result < 0) {
        log_warn("broker", "registry did not take the result sub=%" PRId64 "; retrying later",
                 it->sub_id);
        item_done(it);
        return;
    }
    if (result == 1)
        it->b->metrics.scores_applied++;
    rq_outbox_remove(it->b->rq, it->sub_id, on_removed, it);
}

static void apply_score(struct outbox_item *it, const char *result)
{
    json_t *r = json_loads(result != NULL ? result : "", 0, NULL);
    json_t *score = r ? json_object_get(r, "score") : NULL;
    json_t *secondary = r ? json_object_get(r, "score_secondary") : NULL;
    struct registry *reg = it->b->reg;
    if (!json_is_number(score)) {
        reg->ops->set_state(reg, it->sub_id, REG_SUB_ERROR, "The grader's result had no score.",
                            on_applied, it);
    } else {
        int has_secondary = json_is_number(secondary);
        reg->ops->record_score(reg, it->sub_id, json_number_value(score), has_secondary,
                               has_secondary ? json_number_value(secondary) : 0.0, on_applied, it);
    }
    if (r != NULL)
        json_decref(r);
}

static void on_fetched(void *ud, const char *err, enum rq_state state, const char *result,
                       const char *message, int attempt)
{
    struct outbox_item *it = ud;
    struct registry *reg = it->b->reg;
    (void)attempt;
    const char *why = message != NULL ? message : "";
    if (err != NULL) {
        item_done(it);
        return;
    }
    switch (state) {
    case RQ_DONE:
        apply_score(it, result);
        return;
    case RQ_ERROR:
        reg->ops->set_state(reg, it->sub_id, REG_SUB_ERROR, why, on_applied, it);
        return;
    case RQ_TIMEOUT:
        reg->ops->set_state(reg, it->sub_id, REG_SUB_TIMEOUT, why, on_applied, it);
        return;
    case RQ_CANCELLED:
        reg->ops->set_state(reg, it->sub_id, REG_SUB_CANCELLED, why, on_applied, it);
        return;
    case RQ_UNKNOWN:
        rq_outbox_remove(it->b->rq, it->sub_id, on_removed, it);
        return;
    default:
        item_done(it); /* not final: a stray entry, looked at again later */
        return;
    }
}

static void on_listed(void *ud, const char *err, const int64_t *ids, size_t n)
{
    struct broker *b = ud;
    b->outbox_full = err == NULL && n == OUTBOX_BATCH;
    if (err == NULL) {
        b->outbox_running += (int)n;
        for (size_t i = 0; i < n; i++) {
            struct outbox_item *it = xmalloc(sizeof(*it));
            it->b = b;
            it->sub_id = ids[i];
            rq_get(b->rq, ids[i], on_fetched, it);
        }
    }
    pass_release(b); /* the list call's own share */
}

void outbox_kick(struct broker *b)
{
    if (b->outbox_running > 0 || b->stopping)
        return;
    b->outbox_running = 1;
    b->outbox_pass++;
    rq_outbox_list(b->rq, OUTBOX_BATCH, on_listed, b);
}

void outbox_wait(struct broker *b, outbox_done_cb done, void *ud)
{
    if (b->stopping) {
        done(ud, 1);
        return;
    }
    struct outbox_waiter *w = xmalloc(sizeof(*w));
    w->pass = b->outbox_pass + 1;
    w->done = done;
    w->ud = ud;
    list_insert_tail(&b->outbox_waiters, &w->link);
    outbox_kick(b); /* starts that pass now, or after the running one */
}

void outbox_stop(struct broker *b)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &b->outbox_waiters)
    {
        struct outbox_waiter *w = container_of(pos, struct outbox_waiter, link);
        list_remove(&w->link);
        w->done(w->ud, 1);
        free(w);
    }
}
