/* Watchers of submissions with an in-order, exactly-once gate per socket; see watch.h. */
#include "broker/watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"

struct watch_list {
    int64_t sub_id;
    struct watch_entry **entries;
    size_t n, alloc;
};

/* A replay in flight: the entry may go away meanwhile, so it is looked up again. */
struct replay {
    struct watchers *w;
    int64_t sub_id;
    struct sio_socket *sock;
    uint64_t gen;  /* the entry's replay_gen when it started */
    int64_t after; /* it reads the events after this seq */
    int read_any;  /* an event of this replay was read */
};

static void key_of(int64_t sub_id, char key[24])
{
    snprintf(key, 24, "%" PRId64, sub_id);
}

void watchers_init(struct watchers *w, struct rq *rq)
{
    strmap_init(&w->by_sub);
    w->rq = rq;
    w->count = 0;
    w->next_gen = 0;
}

static void entry_free(struct watch_entry *e);

static void free_list(const char *key, void *value, void *ud)
{
    struct watch_list *l = value;
    (void)key, (void)ud;
    for (size_t i = 0; i < l->n; i++)
        entry_free(l->entries[i]);
    free(l->entries);
    free(l);
}

void watchers_release(struct watchers *w)
{
    strmap_each(&w->by_sub, free_list, NULL);
    strmap_release(&w->by_sub);
}

static struct watch_entry *find_entry(struct watchers *w, int64_t sub_id, struct sio_socket *sock)
{
    char key[24];
    key_of(sub_id, key);
    struct watch_list *l = strmap_get(&w->by_sub, key);
    if (l == NULL)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (l->entries[i]->sock == sock)
            return l->entries[i];
    }
    return NULL;
}

/* Sends one event to the socket as `submission_event`. */
static void emit_event(struct sio_socket *sock, const struct rq_event *ev)
{
    /* ev->event is a JSON object; the socket gets it with submission_id and seq first. */
    const char *fields = ev->event;
    while (*fields == ' ')
        fields++;
    if (*fields != '{')
        return;
    fields++;
    char head[96];
    int n = snprintf(head, sizeof(head), "{\"submission_id\":%" PRId64 ",\"seq\":%" PRId64 "%s",
                     ev->submission_id, ev->seq, *fields == '}' ? "" : ",");
    size_t flen = strlen(fields);
    char *json = xmalloc((size_t)n + flen + 1);
    memcpy(json, head, (size_t)n);
    memcpy(json + n, fields, flen + 1);
    sio_socket_emit(sock, "submission_event", json, (size_t)n + flen, NULL, 0);
    free(json);
}

static void send_event(struct watch_entry *e, const struct rq_event *ev)
{
    if (e->sink != NULL)
        e->sink->deliver(e->sink, e->sock, ev);
    else
        emit_event(e->sock, ev);
}

static void entry_free(struct watch_entry *e)
{
    if (e->sink != NULL && e->sink->gone != NULL)
        e->sink->gone(e->sink);
    free(e);
}

static void start_replay(struct watchers *w, struct watch_entry *e, int64_t sub_id);

static void on_replay_event(void *ud, const char *err, const struct rq_event *ev)
{
    struct replay *r = ud;
    struct watch_entry *e = find_entry(r->w, r->sub_id, r->sock);
    if (e != NULL && e->replay_gen != r->gen)
        e = NULL; /* superseded (the watch was aimed again, or another socket took its place) */
    if (ev != NULL) {
        /* The stream keeps the latest ~1,000 events of a submission: when the first one read
         * is past the gap, the missing ones are gone for good; go on from there (the client
         * sees seq jump) instead of waiting for them forever. */
        if (e != NULL && err == NULL && !r->read_any && ev->seq > r->after + 1 &&
            e->last_seq == r->after) {
            log_info("broker", "events trimmed sub=%" PRId64 " resuming at seq=%" PRId64, r->sub_id,
                     ev->seq);
            e->last_seq = ev->seq - 1;
        }
        r->read_any = 1;
        if (e != NULL && err == NULL && ev->seq == e->last_seq + 1) {
            send_event(e, ev);
            e->last_seq = ev->seq;
        }
        return;
    }
    /* The end of the replay. */
    if (e != NULL) {
        int again = e->replay_again;
        e->replaying = 0;
        e->replay_again = 0;
        if (err != NULL)
            log_warn("broker", "event replay failed sub=%" PRId64 " err=\"%s\"", r->sub_id, err);
        /* Events came while we read; or the live feed was re-established meanwhile (events
         * published while it was down may be missing from what was read): once more, once. */
        if ((err == NULL && e->seen_during > e->last_seq) || again)
            start_replay(r->w, e, r->sub_id);
    }
    free(r);
}

static void start_replay(struct watchers *w, struct watch_entry *e, int64_t sub_id)
{
    struct replay *r = xmalloc(sizeof(*r));
    r->w = w;
    r->sub_id = sub_id;
    r->sock = e->sock;
    r->read_any = 0;
    r->after = e->last_seq;
    r->gen = ++w->next_gen;
    e->replay_gen = r->gen;
    e->replaying = 1;
    e->seen_during = 0;
    rq_events(w->rq, sub_id, e->last_seq, on_replay_event, r);
}

static struct watch_entry *entry_new(struct watchers *w, int64_t sub_id, struct sio_socket *sock,
                                     int64_t after_seq)
{
    struct watch_entry *e = find_entry(w, sub_id, sock);
    if (e == NULL) {
        char key[24];
        key_of(sub_id, key);
        struct watch_list *l = strmap_get(&w->by_sub, key);
        if (l == NULL) {
            l = xcalloc(1, sizeof(*l));
            l->sub_id = sub_id;
            strmap_put(&w->by_sub, key, l);
        }
        if (l->n == l->alloc) {
            l->alloc = l->alloc ? l->alloc * 2 : 2;
            l->entries = xrealloc(l->entries, l->alloc * sizeof(*l->entries));
        }
        e = xcalloc(1, sizeof(*e));
        e->sock = sock;
        l->entries[l->n++] = e;
        w->count++;
    }
    e->last_seq = after_seq < 0 ? 0 : after_seq;
    return e;
}

void watchers_add(struct watchers *w, int64_t sub_id, struct sio_socket *sock, int64_t after_seq)
{
    struct watch_entry *e = entry_new(w, sub_id, sock, after_seq);
    start_replay(w, e, sub_id); /* supersedes one in flight, aimed at the old after_seq */
}

void watchers_add_sink(struct watchers *w, int64_t sub_id, struct sio_socket *sock,
                       struct watch_sink *sink)
{
    struct watch_entry *e = entry_new(w, sub_id, sock, 0);
    if (e->sink != NULL && e->sink != sink && e->sink->gone != NULL)
        e->sink->gone(e->sink);
    e->sink = sink;
    start_replay(w, e, sub_id);
}

static void drop_list_if_empty(struct watchers *w, const char *key, struct watch_list *l)
{
    if (l->n > 0)
        return;
    strmap_remove(&w->by_sub, key);
    free(l->entries);
    free(l);
}

void watchers_remove(struct watchers *w, int64_t sub_id, struct sio_socket *sock)
{
    char key[24];
    key_of(sub_id, key);
    struct watch_list *l = strmap_get(&w->by_sub, key);
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        if (l->entries[i]->sock == sock) {
            struct watch_entry *e = l->entries[i];
            l->entries[i] = l->entries[--l->n];
            w->count--;
            entry_free(e);
            break;
        }
    }
    drop_list_if_empty(w, key, l);
}

void watchers_follow(struct watchers *w, int64_t sub_id, struct sio_socket *sock)
{
    if (find_entry(w, sub_id, sock) == NULL)
        watchers_add(w, sub_id, sock, 0);
}

static void resync_list(const char *key, void *value, void *ud)
{
    struct watchers *w = ud;
    struct watch_list *l = value;
    (void)key;
    for (size_t i = 0; i < l->n; i++) {
        if (!l->entries[i]->replaying)
            start_replay(w, l->entries[i], l->sub_id);
        else
            l->entries[i]->replay_again = 1;
    }
}

void watchers_resync(struct watchers *w)
{
    strmap_each(&w->by_sub, resync_list, w);
}

struct removal {
    struct watchers *w;
    struct sio_socket *sock;
    char **empty_keys;
    size_t nempty;
};

static void remove_from_list(const char *key, void *value, void *ud)
{
    struct removal *rm = ud;
    struct watch_list *l = value;
    for (size_t i = 0; i < l->n;) {
        if (l->entries[i]->sock == rm->sock) {
            struct watch_entry *e = l->entries[i];
            l->entries[i] = l->entries[--l->n];
            entry_free(e);
            rm->w->count--;
        } else {
            i++;
        }
    }
    if (l->n == 0) {
        rm->empty_keys = xrealloc(rm->empty_keys, (rm->nempty + 1) * sizeof(char *));
        rm->empty_keys[rm->nempty++] = xstrdup(key);
    }
}

void watchers_remove_socket(struct watchers *w, struct sio_socket *sock)
{
    struct removal rm = {w, sock, NULL, 0};
    strmap_each(&w->by_sub, remove_from_list, &rm);
    for (size_t i = 0; i < rm.nempty; i++) {
        struct watch_list *l = strmap_remove(&w->by_sub, rm.empty_keys[i]);
        free(l->entries);
        free(l);
        free(rm.empty_keys[i]);
    }
    free(rm.empty_keys);
}

void watchers_deliver(struct watchers *w, const struct rq_event *ev)
{
    char key[24];
    key_of(ev->submission_id, key);
    struct watch_list *l = strmap_get(&w->by_sub, key);
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct watch_entry *e = l->entries[i];
        if (e->replaying) {
            if (ev->seq > e->seen_during)
                e->seen_during = ev->seq;
        } else if (ev->seq == e->last_seq + 1) {
            send_event(e, ev);
            e->last_seq = ev->seq;
        } else if (ev->seq > e->last_seq + 1) {
            start_replay(w, e, ev->submission_id); /* a gap: read what we missed */
        }
    }
}
