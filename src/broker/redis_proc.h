/* The private redis-server of the embedded default: started under the data directory with
 * durable settings (AOF, fsync on every write, no eviction), listening only on a unix
 * socket, restarted with backoff if it dies, and stopped with the broker. */
#ifndef BROKER_REDIS_PROC_H
#define BROKER_REDIS_PROC_H

#include <uv.h>

struct redis_proc {
    uv_loop_t *loop;
    uv_process_t proc;
    uv_timer_t restart;
    char dir[512];         /* data/redis */
    char socket_path[600]; /* the path the broker connects to */
    char binary[256];
    int running;
    int stopping;
    unsigned restarts;
};

/* Creates dir (mode 0700) and starts redis-server there. Returns 0 or -1 (message on
 * stderr). socket_path is set before it returns. */
int redis_proc_start(struct redis_proc *r, uv_loop_t *loop, const char *data_dir,
                     const char *binary);
/* Sends SIGTERM (redis writes its AOF and exits); the handles close when it has. */
void redis_proc_stop(struct redis_proc *r);

#endif
