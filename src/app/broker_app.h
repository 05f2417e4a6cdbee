/* Broker mode's start-up and shutdown: the data directory, the token secret, Redis (private
 * and supervised, or external), the registry, and the broker on the Socket.IO server. */
#ifndef APP_BROKER_APP_H
#define APP_BROKER_APP_H

#include <uv.h>

#include "app/config.h"
#include "broker/broker.h"
#include "broker/redis_proc.h"

struct broker_app {
    struct broker broker;
    struct redis_proc redis;
    int has_redis_proc;
    struct rq *rq;
    struct registry *reg;
    int started;
};

/* Returns 0, or -1 after printing what is wrong on stderr. */
int broker_app_start(struct broker_app *a, uv_loop_t *loop, const struct config *cfg,
                     struct sio_server *sio, struct http_server *http);
/* First half of shutdown: stops taking work (timers) and stops the private Redis. */
void broker_app_stop(struct broker_app *a);
/* Second half, at the end of the grace period: closes Redis and the registry. */
void broker_app_close(struct broker_app *a);
/* After the loop has ended: frees what is left. */
void broker_app_release(struct broker_app *a);

#endif
