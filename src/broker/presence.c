/* Grader presence shared through Redis, so that every broker knows whether some grader (on
 * any broker) serves a pool: each broker announces its graders, with their capacities (for
 * the status page), when they connect and again every PRESENCE_REFRESH_MS, and withdraws
 * them when they leave. A broker that dies stops announcing; its graders count as gone
 * PRESENCE_TTL_MS later. */
#include "broker/broker.h"
#include "core/log.h"

#define PRESENCE_REFRESH_MS 5000
#define PRESENCE_TTL_MS     15000

static void on_presence(void *ud, const char *err)
{
    (void)ud;
    if (err != NULL)
        log_warn("broker", "grader presence not recorded err=\"%s\"", err);
}

void presence_announce(struct broker *b, const char *grader_id, const char (*pools)[64], int npools,
                       int capacity)
{
    if (rq_connected(b->rq))
        rq_presence(b->rq, grader_id, pools, npools, capacity, PRESENCE_TTL_MS, on_presence, NULL);
}

void presence_withdraw(struct broker *b, const char *grader_id, const char (*pools)[64], int npools)
{
    if (rq_connected(b->rq))
        rq_presence(b->rq, grader_id, pools, npools, 0 /* capacity: unused */, 0, on_presence,
                    NULL);
}

static void on_refresh(uv_timer_t *t)
{
    grader_announce_all(t->data);
}

void presence_start(struct broker *b)
{
    uv_timer_init(b->loop, &b->presence_timer);
    b->presence_timer.data = b;
    uv_timer_start(&b->presence_timer, on_refresh, PRESENCE_REFRESH_MS, PRESENCE_REFRESH_MS);
}

void presence_stop(struct broker *b)
{
    uv_timer_stop(&b->presence_timer);
    uv_close((uv_handle_t *)&b->presence_timer, NULL);
}
