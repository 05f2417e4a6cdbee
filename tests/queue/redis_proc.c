/* A private redis-server per test, in a directory under one per-run scratch directory that
 * the runner process removes at exit. */
#include "redis_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define READY_TIMEOUT_MS 10000

static char scratch[64];
static pid_t scratch_owner;

__attribute__((constructor)) static void scratch_create(void)
{
    snprintf(scratch, sizeof(scratch), "/tmp/queue_tests.XXXXXX");
    if (mkdtemp(scratch) == NULL) {
        perror("mkdtemp");
        scratch[0] = '\0';
    }
    scratch_owner = getpid();
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Only the runner removes the scratch directory: each test runs in a child of it. */
__attribute__((destructor)) static void scratch_remove(void)
{
    if (scratch[0] != '\0' && getpid() == scratch_owner)
        remove_tree(scratch);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(addr);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        test_fail(__FILE__, __LINE__, "no free port: %s", strerror(errno));
    close(fd);
    return ntohs(addr.sin_port);
}

static void exec_server(const struct redis_proc *rp, pid_t parent)
{
    char port[16], log[300];
    snprintf(port, sizeof(port), "%d", rp->port);
    snprintf(log, sizeof(log), "%s/redis.log", rp->dir);
    /* Dies with the test process, even when a failed test leaves with _exit. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", rp->dir,
           "--unixsocket", rp->sock, "--unixsocketperm", "700", "--appendonly", "yes",
           "--appendfsync", "always", "--maxmemory-policy", "noeviction", "--save", "", "--logfile",
           log, "--daemonize", "no", (char *)NULL);
    _exit(127);
}

static int answers_ping(int port)
{
    struct timeval tv = {0, 200000};
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (ctx != NULL && ctx->err == 0) {
        redisReply *r = redisCommand(ctx, "PING");
        ok = r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
        if (r != NULL)
            freeReplyObject(r);
    }
    if (ctx != NULL)
        redisFree(ctx);
    return ok;
}

static void launch(struct redis_proc *rp)
{
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    rp->pid = fork();
    if (rp->pid < 0)
        test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (rp->pid == 0)
        exec_server(rp, parent);
    for (int waited = 0; waited < READY_TIMEOUT_MS; waited += 20) {
        int status;
        if (waitpid(rp->pid, &status, WNOHANG) == rp->pid) {
            rp->pid = 0;
            test_fail(__FILE__, __LINE__, "redis-server exited at start (see %s/redis.log)",
                      rp->dir);
        }
        if (answers_ping(rp->port))
            return;
        sleep_ms(20);
    }
    test_fail(__FILE__, __LINE__, "redis-server did not answer within %d ms", READY_TIMEOUT_MS);
}

void redis_proc_start(struct redis_proc *rp)
{
    memset(rp, 0, sizeof(*rp));
    if (scratch[0] == '\0')
        test_fail(__FILE__, __LINE__, "no scratch directory");
    snprintf(rp->dir, sizeof(rp->dir), "%s/redis.XXXXXX", scratch);
    if (mkdtemp(rp->dir) == NULL)
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    snprintf(rp->sock, sizeof(rp->sock), "%s/redis.sock", rp->dir);
    rp->port = free_port();
    launch(rp);
}

void redis_proc_restart(struct redis_proc *rp)
{
    if (rp->pid != 0)
        test_fail(__FILE__, __LINE__, "redis-server is still running");
    launch(rp);
}

void redis_proc_signal(struct redis_proc *rp, int sig)
{
    if (rp->pid == 0 || kill(rp->pid, sig) != 0)
        test_fail(__FILE__, __LINE__, "cannot signal redis-server");
}

void redis_proc_kill(struct redis_proc *rp)
{
    if (rp->pid == 0)
        return;
    kill(rp->pid, SIGKILL);
    while (waitpid(rp->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    rp->pid = 0;
}

void redis_proc_stop(struct redis_proc *rp)
{
    redis_proc_kill(rp);
    remove_tree(rp->dir);
}

static redisReply *run_command(struct redis_proc *rp, const char *fmt, va_list ap)
{
    struct timeval tv = {2, 0};
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", rp->port, tv);
    if (ctx == NULL || ctx->err != 0)
        test_fail(__FILE__, __LINE__, "cannot connect to redis-server");
    redisSetTimeout(ctx, tv);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    redisFree(ctx);
    if (r == NULL)
        test_fail(__FILE__, __LINE__, "redis command failed: %s", fmt);
    return r;
}

redisReply *redis_proc_command(struct redis_proc *rp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = run_command(rp, fmt, ap);
    va_end(ap);
    return r;
}

long long redis_proc_int(struct redis_proc *rp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = run_command(rp, fmt, ap);
    va_end(ap);
    if (r->type != REDIS_REPLY_INTEGER)
        test_fail(__FILE__, __LINE__, "not an integer reply to %s", fmt);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}
