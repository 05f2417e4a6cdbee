/* The private, supervised redis-server; see redis_proc.h. */
#include "broker/redis_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define RESTART_MIN_MS 200
#define ORPHAN_WAIT_MS 5000
#define PID_FILE       "broker-owned.pid"
#define RESTART_MAX_MS 10000

static void spawn(struct redis_proc *r);

/* Whether pid is a running redis-server (its command line names it). */
static int is_redis(pid_t pid)
{
    char path[64], cmd[256];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    cmd[n] = '\0';
    return strstr(cmd, "redis-server") != NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A broker that was killed (-9) leaves its redis-server running on the same files: stop
 * it (SIGTERM, then SIGKILL) before starting ours. Runs once, at start-up. */
static void stop_orphan(const struct redis_proc *r)
{
    char path[600], text[32] = "";
    snprintf(path, sizeof(path), "%s/" PID_FILE, r->dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fgets(text, sizeof(text), f) == NULL)
        text[0] = '\0';
    fclose(f);
    pid_t pid = (pid_t)strtol(text, NULL, 10);
    if (pid <= 1 || !is_redis(pid))
        return;
    log_warn("redis", "stopping the redis-server left by a previous broker pid=%d", (int)pid);
    kill(pid, SIGTERM);
    for (long waited = 0; waited < ORPHAN_WAIT_MS && kill(pid, 0) == 0 && is_redis(pid);
         waited += 50)
        sleep_ms(50);
    if (kill(pid, 0) == 0 && is_redis(pid))
        kill(pid, SIGKILL);
}

static void write_pid(const struct redis_proc *r)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/" PID_FILE, r->dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    fprintf(f, "%d\n", r->proc.pid);
    fclose(f);
}

static void on_restart_timer(uv_timer_t *t)
{
    spawn(t->data);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int signo)
{
    struct redis_proc *r = p->data;
    r->running = 0;
    uv_close((uv_handle_t *)p, NULL);
    if (r->stopping) {
        uv_close((uv_handle_t *)&r->restart, NULL);
        return;
    }
    uint64_t delay = RESTART_MIN_MS << (r->restarts < 6 ? r->restarts : 6);
    if (delay > RESTART_MAX_MS)
        delay = RESTART_MAX_MS;
    r->restarts++;
    log_error("redis", "redis-server exited status=%lld signal=%d; restarting in %llu ms",
              (long long)status, signo, (unsigned long long)delay);
    uv_timer_start(&r->restart, on_restart_timer, delay, 0);
}

static void spawn(struct redis_proc *r)
{
    char *args[] = {r->binary,    "--port",
                    "0",          "--unixsocket",
                    "redis.sock", "--unixsocketperm",
                    "700",        "--dir",
                    ".",          "--appendonly",
                    "yes",        "--appendfsync",
                    "always",     "--maxmemory-policy",
                    "noeviction", "--save",
                    "",           "--daemonize",
                    "no",         "--loglevel",
                    "warning",    NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.file = r->binary;
    opts.args = args;
    opts.cwd = r->dir;
    opts.exit_cb = on_exit_cb;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    r->proc.data = r;
    int rc = uv_spawn(r->loop, &r->proc, &opts);
    if (rc != 0) {
        log_error("redis", "cannot start %s: %s", r->binary, uv_strerror(rc));
        uv_close((uv_handle_t *)&r->proc, NULL);
        uv_timer_start(&r->restart, on_restart_timer, RESTART_MAX_MS, 0);
        return;
    }
    r->running = 1;
    write_pid(r);
    log_info("redis", "redis-server started pid=%d dir=%s", r->proc.pid, r->dir);
}

int redis_proc_start(struct redis_proc *r, uv_loop_t *loop, const char *data_dir,
                     const char *binary)
{
    memset(r, 0, sizeof(*r));
    r->loop = loop;
    snprintf(r->binary, sizeof(r->binary), "%s", binary);
    int n = snprintf(r->dir, sizeof(r->dir), "%s/redis", data_dir);
    if (n < 0 || (size_t)n >= sizeof(r->dir)) {
        fprintf(stderr, "error: the data directory path is too long\n");
        return -1;
    }
    if (mkdir(r->dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "error: cannot create %s: %s\n", r->dir, strerror(errno));
        return -1;
    }
    /* A unix socket path is limited to about 107 bytes. */
    snprintf(r->socket_path, sizeof(r->socket_path), "%s/redis.sock", r->dir);
    if (strlen(r->socket_path) > 100) {
        fprintf(stderr, "error: %s is too long for a unix socket; use a shorter --data\n",
                r->socket_path);
        return -1;
    }
    stop_orphan(r);
    uv_timer_init(loop, &r->restart);
    r->restart.data = r;
    spawn(r);
    return 0;
}

void redis_proc_stop(struct redis_proc *r)
{
    r->stopping = 1;
    uv_timer_stop(&r->restart);
    if (r->running)
        uv_process_kill(&r->proc, SIGTERM);
    else
        uv_close((uv_handle_t *)&r->restart, NULL);
}
