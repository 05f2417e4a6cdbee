/* A private redis-server for one test: a free port and a fresh directory, AOF with fsync on
 * every write, killed with the test process whatever happens (PR_SET_PDEATHSIG). */
#ifndef TESTS_QUEUE_REDIS_PROC_H
#define TESTS_QUEUE_REDIS_PROC_H

#include <hiredis/hiredis.h>
#include <sys/types.h>

struct redis_proc {
    pid_t pid; /* 0 when not running */
    int port;
    char dir[256];
    char sock[320]; /* its unix socket */
};

/* Starts redis-server (from PATH) and waits until it answers PING; fails the test if it
 * does not within 10 s. */
void redis_proc_start(struct redis_proc *rp);
/* Starts it again on the same port and directory (its AOF), after redis_proc_kill. */
void redis_proc_restart(struct redis_proc *rp);
/* Sends a signal (SIGSTOP, SIGCONT...) to the running server. */
void redis_proc_signal(struct redis_proc *rp, int sig);
/* kill -9 and reap. */
void redis_proc_kill(struct redis_proc *rp);
/* Kills it and removes its directory. */
void redis_proc_stop(struct redis_proc *rp);
/* Runs one command on a blocking connection of its own; fails the test on a connection
 * error. The caller frees the reply with freeReplyObject. */
redisReply *redis_proc_command(struct redis_proc *rp, const char *fmt, ...);
/* The same, for an integer reply. */
long long redis_proc_int(struct redis_proc *rp, const char *fmt, ...);

#endif
