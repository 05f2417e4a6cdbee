/* One Redis connection on the libuv loop (hiredis 0.14 async): connects over TCP or a unix
 * socket, reconnects with exponential backoff and jitter, loads the Lua scripts after every
 * connect, times commands out, caps what is pending, and can hold one subscription. */
#ifndef QUEUE_RQ_CONN_H
#define QUEUE_RQ_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct redisReply;
struct rq_conn;

/* A command refused because max_pending commands are already waiting for Redis. */
extern const char rq_conn_err_full[];

struct rq_conn_config {
    const char *name; /* for log lines, e.g. "cmd" or "sub" */
    const char *host; /* TCP host, or NULL to use unix_path */
    int port;
    const char *unix_path;
    uint64_t command_timeout_ms; /* also bounds connecting and loading the scripts */
    uint64_t backoff_base_ms;    /* first reconnect delay; doubles up to backoff_cap_ms */
    uint64_t backoff_cap_ms;
    size_t max_pending;         /* commands waiting for a connection or a reply */
    const char *const *scripts; /* Lua texts loaded after every connect; borrowed, must */
    size_t nscripts;            /* outlive the connection */
};

/* The outcome of a command: err is NULL and reply the reply (an error reply of Redis
 * included, as type REDIS_REPLY_ERROR), or err is rq_err_timeout (no reply in time: the
 * connection is dropped and made again, since hiredis cannot cancel), rq_err_unavailable
 * (no connection, or it dropped before the reply) or rq_conn_err_full; reply is then NULL.
 * The reply is borrowed for the call. */
typedef void (*rq_conn_reply_cb)(void *ud, const char *err, const struct redisReply *reply);
/* A message published on the subscribed channel; borrowed for the call. msg is NULL each
 * time the subscription is (re)established. */
typedef void (*rq_conn_message_cb)(void *ud, const char *msg, size_t len);

/* Copies cfg (strings included, except scripts) and starts connecting. */
struct rq_conn *rq_conn_new(uv_loop_t *loop, const struct rq_conn_config *cfg);
/* Fails every pending command with rq_err_unavailable (or the error already decided for
 * it) before returning, then closes; memory goes once libuv has closed the handles. Calls
 * made from those callbacks fail the same way. No call may follow. */
void rq_conn_free(struct rq_conn *c);
/* 1 when connected with the scripts loaded (or subscribed, for a subscriber). */
int rq_conn_ready(const struct rq_conn *c);

/* Runs scripts[script] with EVALSHA (EVAL when Redis answers NOSCRIPT) and no KEYS, the
 * argc arguments being copied. Commands made before the connection is ready wait for it
 * until their timeout. cb is never called before this function returns. */
void rq_conn_eval(struct rq_conn *c, size_t script, size_t argc, const char *const *argv,
                  const size_t *lens, rq_conn_reply_cb cb, void *ud);
/* Calls cb with err and no reply from the loop, soon (never before returning). */
void rq_conn_defer(struct rq_conn *c, const char *err, rq_conn_reply_cb cb, void *ud);
/* Makes this a subscriber connection: SUBSCRIBE channel after every connect, and cb for
 * each message. Messages published while disconnected are lost (Pub/Sub keeps nothing).
 * A subscriber runs no commands. */
void rq_conn_subscribe(struct rq_conn *c, const char *channel, rq_conn_message_cb cb, void *ud);

#endif
