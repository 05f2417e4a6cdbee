/* The broker's shared state and timers: the janitor (expired leases, timeouts, due retries),
 * the outbox timer, and live events from every broker fanned out to local watchers. */
#include "broker/broker.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

int64_t broker_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_reaped(void *ud, const char *err, int64_t sub_id, enum rq_state now,
                      const char *grader)
{
    struct broker *b = ud;
    if (err != NULL) {
        log_warn("broker", "janitor pass failed err=\"%s\"", err);
        return;
    }
    if (sub_id == 0) {
        outbox_kick(b);
        grader_dispatch_all(b);
        return;
    }
    log_info("broker", "janitor sub=%" PRId64 " now=%d grader=%s", sub_id, (int)now,
             grader != NULL ? grader : "-");
    if (now == RQ_QUEUED)
        b->metrics.lease_expiries++;
    else if (now == RQ_TIMEOUT)
        b->metrics.timeouts++;
    else if (now == RQ_ERROR)
        b->metrics.dead_letters++;
    if (grader != NULL && grader[0] != '\0' && (now == RQ_QUEUED || now == RQ_ERROR))
        grader_suspend(b, grader); /* before the cancel frees its slot */
    if (grader != NULL && grader[0] != '\0' && now != RQ_RUNNING)
        grader_forward_cancel(b, grader, sub_id,
                              now == RQ_TIMEOUT ? "time limit reached" : "lease expired");
}

static void on_janitor(uv_timer_t *t)
{
    struct broker *b = t->data;
    if (rq_connected(b->rq))
        rq_reap(b->rq, 100, on_reaped, b);
}

static void on_outbox_timer(uv_timer_t *t)
{
    outbox_kick(t->data);
}

static int is_final_event(const char *event)
{
    static const char *const finals[] = {"\"COMPLETE\"", "\"ERROR\"", "\"TIMEOUT\"",
                                         "\"CANCELLED\""};
    const char *type = strstr(event, "\"type\":");
    if (type == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
        if (strncmp(type + 7, finals[i], strlen(finals[i])) == 0)
            return 1;
    }
    return 0;
}

static void on_live_event(void *ud, const struct rq_event *ev)
{
    struct broker *b = ud;
    if (ev == NULL) {
        /* (Re)subscribed: events may have been missed while Pub/Sub was down. */
        watchers_resync(&b->watchers);
        outbox_kick(b);
        grader_dispatch_all(b);
        return;
    }
    watchers_deliver(&b->watchers, ev);
    /* A job that ended while a grader of this broker holds it (cancelled from any broker,
     * or timed out): tell that grader to stop. */
    if (strstr(ev->event, "\"type\":\"CANCELLED\"") != NULL)
        grader_forward_cancel(b, NULL, ev->submission_id, "cancelled");
    else if (strstr(ev->event, "\"type\":\"TIMEOUT\"") != NULL)
        grader_forward_cancel(b, NULL, ev->submission_id, "time limit reached");
    if (is_final_event(ev->event))
        outbox_kick(b);
    if (strstr(ev->event, "\"type\":\"COMPLETE\"") != NULL)
        board_note_complete(b, ev->submission_id);
    else if (strstr(ev->event, "\"type\":\"ENQUEUED\"") != NULL)
        grader_dispatch_all(b);
}

void broker_init(struct broker *b, uv_loop_t *loop, const struct broker_config *cfg,
                 struct registry *reg, struct rq *rq, struct sio_server *sio,
                 const unsigned char secret[TOKEN_SECRET_LEN])
{
    memset(b, 0, sizeof(*b));
    b->loop = loop;
    b->cfg = *cfg;
    b->reg = reg;
    b->rq = rq;
    b->sio = sio;
    memcpy(b->secret, secret, TOKEN_SECRET_LEN);
    list_init(&b->graders);
    list_init(&b->outbox_waiters);
    watchers_init(&b->watchers, rq);
    b->participants = sio_server_of(sio, "/");
    b->graders_nsp = sio_server_of(sio, "/grader");
    participant_install(b);
    board_install(b);
    web_calls_install(b);
    grader_install(b);
    rq_subscribe(rq, on_live_event, b);
    uv_timer_init(loop, &b->janitor);
    uv_timer_init(loop, &b->outbox_timer);
    b->janitor.data = b;
    b->outbox_timer.data = b;
    uv_timer_start(&b->janitor, on_janitor, cfg->janitor_ms, cfg->janitor_ms);
    uv_timer_start(&b->outbox_timer, on_outbox_timer, cfg->outbox_ms, cfg->outbox_ms);
    waiting_start(b);
    presence_start(b);
}

void broker_stop(struct broker *b)
{
    b->stopping = 1;
    uv_timer_stop(&b->janitor);
    uv_timer_stop(&b->outbox_timer);
    uv_close((uv_handle_t *)&b->janitor, NULL);
    uv_close((uv_handle_t *)&b->outbox_timer, NULL);
    waiting_stop(b);
    presence_stop(b);
    board_stop(b);
    gen2_stop(b);
    outbox_stop(b);
}

void broker_release(struct broker *b)
{
    gen2_release(b);
    watchers_release(&b->watchers);
    board_release(b);
    web_calls_release(b);
}
