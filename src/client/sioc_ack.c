/* Acks the client waits for: one list per client in the order sent, one timer armed for
 * the earliest deadline, and every callback run exactly once (ack, timeout, or failure). */
#include <stdlib.h>

#include "client/sioc_internal.h"
#include "core/xalloc.h"

static void rearm(struct sioc_client *c)
{
    if (c->state == CS_FREEING)
        return;
    uint64_t now = uv_now(c->loop);
    uint64_t first = UINT64_MAX;
    int any = 0;
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->acks)
    {
        struct sioc_pending_ack *a = container_of(pos, struct sioc_pending_ack, link);
        if (a->deadline < first)
            first = a->deadline;
        any = 1;
    }
    if (!any)
        uv_timer_stop(&c->ack_timer);
    else
        uv_timer_start(&c->ack_timer, sioc_ack_on_timer, first > now ? first - now : 0, 0);
}

/* Runs and frees every ack of the detached list with err. Acks are taken out of the
 * client's list first, so callbacks that reach the client again cannot see them. */
static void fail_list(struct list *done, const char *err)
{
    while (!list_empty(done)) {
        struct sioc_pending_ack *a = container_of(done->next, struct sioc_pending_ack, link);
        list_remove(&a->link);
        a->cb(a->socket, err, NULL, a->ud);
        free(a);
    }
}

void sioc_ack_add(struct sioc_client *c, struct sioc_socket *s, long long id, uint64_t timeout_ms,
                  sioc_ack_cb cb, void *ud)
{
    struct sioc_pending_ack *a = xcalloc(1, sizeof(*a));
    a->socket = s;
    a->id = id;
    uint64_t now = uv_now(c->loop);
    a->deadline = timeout_ms > UINT64_MAX - now ? UINT64_MAX : now + timeout_ms;
    a->cb = cb;
    a->ud = ud;
    list_insert_tail(&c->acks, &a->link);
    rearm(c);
}

void sioc_ack_resolve(struct sioc_client *c, struct sioc_socket *s, long long id,
                      const struct sioc_message *reply)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->acks)
    {
        struct sioc_pending_ack *a = container_of(pos, struct sioc_pending_ack, link);
        if (a->socket != s || a->id != id)
            continue;
        list_remove(&a->link);
        rearm(c);
        a->cb(s, NULL, reply, a->ud);
        free(a);
        return;
    }
}

void sioc_ack_fail(struct sioc_client *c, struct sioc_socket *s, const char *err)
{
    struct list done;
    struct list *pos, *tmp;
    list_init(&done);
    list_for_each_safe(pos, tmp, &c->acks)
    {
        struct sioc_pending_ack *a = container_of(pos, struct sioc_pending_ack, link);
        if (s != NULL && a->socket != s)
            continue;
        list_remove(&a->link);
        list_insert_tail(&done, &a->link);
    }
    rearm(c);
    fail_list(&done, err);
}

void sioc_ack_on_timer(uv_timer_t *timer)
{
    struct sioc_client *c = timer->data;
    uint64_t now = uv_now(c->loop);
    struct list done;
    struct list *pos, *tmp;
    list_init(&done);
    list_for_each_safe(pos, tmp, &c->acks)
    {
        struct sioc_pending_ack *a = container_of(pos, struct sioc_pending_ack, link);
        if (a->deadline > now)
            continue;
        list_remove(&a->link);
        list_insert_tail(&done, &a->link);
    }
    rearm(c);
    fail_list(&done, sioc_err_timeout);
}
