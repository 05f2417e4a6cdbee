/* Server processes for the client tests; see server_proc.h. */
#include "server_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define READY_TIMEOUT_MS 20000

const char *server_kind(void)
{
    const char *kind = getenv("SIOC_SERVER");
    return kind != NULL && strcmp(kind, "reference") == 0 ? "reference" : "broker";
}

const char *repo_root(void)
{
    const char *root = getenv("REPO_ROOT");
    return root != NULL ? root : ".";
}

static void exec_child(int out_fd, pid_t parent, char *const argv[])
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(out_fd, 1);
    if (getenv("SIOC_SERVER_LOG") == NULL)
        dup2(null, 2);
    execvp(argv[0], argv);
    _exit(127);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the child's stdout until "READY port=N". */
static int read_ready(int fd)
{
    char line[256];
    size_t used = 0;
    long long deadline = now_ms() + READY_TIMEOUT_MS;
    while (used < sizeof(line) - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        long long left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t n = read(fd, line + used, sizeof(line) - 1 - used);
        if (n <= 0)
            return -1;
        used += (size_t)n;
        line[used] = '\0';
        const char *ready = strstr(line, "READY port=");
        if (ready != NULL && strchr(ready, '\n') != NULL)
            return (int)strtol(ready + strlen("READY port="), NULL, 10);
    }
    return -1;
}

void server_spawn(struct server_proc *sp, char *const argv[])
{
    int fds[2];
    pid_t parent = getpid();
    if (pipe(fds) != 0)
        test_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        exec_child(fds[1], parent, argv);
    }
    close(fds[1]);
    sp->pid = pid;
    sp->out_fd = fds[0];
    int port = read_ready(fds[0]);
    if (port <= 0) {
        server_kill(sp);
        test_fail(__FILE__, __LINE__, "%s did not print READY (set SIOC_SERVER_LOG=1 to see why)",
                  argv[0]);
    }
    sp->port = port;
}

void server_start(struct server_proc *sp, int port)
{
    char port_arg[16], script[512];
    snprintf(port_arg, sizeof(port_arg), "%d", port);
    if (strcmp(server_kind(), "reference") == 0) {
        snprintf(script, sizeof(script), "%s/tests/interop/reference-server.mjs", repo_root());
        char *argv[] = {"node", script, "--conformance", "--port", port_arg, NULL};
        server_spawn(sp, argv);
        return;
    }
    const char *bin = getenv("BROKER_BIN");
    if (bin == NULL)
        test_fail(__FILE__, __LINE__, "BROKER_BIN is not set");
    snprintf(script, sizeof(script), "%s", bin);
    char *argv[] = {script, "--conformance", "--port", port_arg, NULL};
    server_spawn(sp, argv);
}

void server_signal(struct server_proc *sp, int sig)
{
    if (sp->pid == 0 || kill(sp->pid, sig) != 0)
        test_fail(__FILE__, __LINE__, "cannot signal the server");
}

void server_kill(struct server_proc *sp)
{
    if (sp->pid == 0)
        return;
    kill(sp->pid, SIGKILL);
    while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(sp->out_fd);
    sp->pid = 0;
}

/* ---- Scratch directories: one per run, removed by the runner (a failed test leaves with
 * _exit, so it cannot clean up after itself) ---- */

static char scratch_root[64];
static pid_t scratch_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

__attribute__((constructor)) static void scratch_root_create(void)
{
    snprintf(scratch_root, sizeof(scratch_root), "/tmp/sioc_tests.XXXXXX");
    if (mkdtemp(scratch_root) == NULL)
        scratch_root[0] = '\0';
    scratch_owner = getpid();
}

__attribute__((destructor)) static void scratch_root_remove(void)
{
    if (scratch_root[0] != '\0' && getpid() == scratch_owner)
        nftw(scratch_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void scratch_dir(char *out, size_t len)
{
    if (scratch_root[0] == '\0')
        test_fail(__FILE__, __LINE__, "no scratch directory");
    snprintf(out, len, "%s/t.XXXXXX", scratch_root);
    if (mkdtemp(out) == NULL)
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
}

void scratch_remove(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
