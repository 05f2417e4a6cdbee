/* Who watches which submission on this broker, and the gate that makes every socket see a
 * submission's events exactly once and in seq order: live events (Pub/Sub) and replays
 * (the event stream) race each other, so each (socket, submission) remembers the last seq
 * it was sent; an event is sent only if it is the next one, a gap triggers a replay from
 * the stream, and anything older is dropped. The stream keeps a submission's latest ~1,000
 * events: a replay that finds the ones asked for trimmed goes on from the oldest kept. */
#ifndef BROKER_WATCH_H
#define BROKER_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/strmap.h"
#include "queue/rq.h"
#include "socketio/sio_server.h"

/* Another way to hand a socket a submission's events than `submission_event` (the crowdAI
 * client's response channel): deliver gets each event once and in order; gone is called when
 * the watch ends (watchers_remove, or the socket left). */
struct watch_sink {
    void (*deliver)(struct watch_sink *sink, struct sio_socket *sock, const struct rq_event *ev);
    void (*gone)(struct watch_sink *sink);
};

struct watch_entry {
    struct sio_socket *sock;
    struct watch_sink *sink; /* NULL: submission_event */
    int64_t last_seq;        /* last seq sent to this socket */
    int replaying;           /* a replay query is in flight */
    int64_t seen_during;     /* highest live seq ignored while replaying */
    uint64_t replay_gen;     /* the replay in flight that counts (older ones are ignored) */
    int replay_again;        /* replay once more when this one ends (a resync came) */
};

struct watchers {
    struct strmap by_sub; /* decimal submission id -> struct watch_list */
    struct rq *rq;
    size_t count;
    uint64_t next_gen; /* replay generations, unique per watchers */
};

void watchers_init(struct watchers *w, struct rq *rq);
void watchers_release(struct watchers *w);
/* Starts sending sock the events of sub_id after after_seq (replay, then live). */
void watchers_add(struct watchers *w, int64_t sub_id, struct sio_socket *sock, int64_t after_seq);
/* Starts sending sock the events of sub_id from the first, unless it already watches it
 * (a repeated submit must not send the history again). */
void watchers_follow(struct watchers *w, int64_t sub_id, struct sio_socket *sock);
/* Sends sock the events of sub_id from the first through sink (see struct watch_sink). */
void watchers_add_sink(struct watchers *w, int64_t sub_id, struct sio_socket *sock,
                       struct watch_sink *sink);
/* Ends the watch of sub_id by sock, if any. Not from inside a sink's deliver. */
void watchers_remove(struct watchers *w, int64_t sub_id, struct sio_socket *sock);
/* Replays every watch from its last seq: call when live events may have been missed (the
 * Pub/Sub connection was down). */
void watchers_resync(struct watchers *w);
/* Forgets every watch of sock (call from its disconnect callback). */
void watchers_remove_socket(struct watchers *w, struct sio_socket *sock);
/* A live event from the queue's Pub/Sub. */
void watchers_deliver(struct watchers *w, const struct rq_event *ev);

#endif
