/* The two processes behind a run. The supervisor leads a new session, is a "child subreaper"
 * (every orphan of the evaluator becomes its child) and dies with this process; it forks the
 * evaluator, reports on its status pipe when the evaluator started, exited (with its
 * resource usage), and when everything it left behind has been killed and reaped. The
 * evaluator gets a process group of its own, the limits, stdin from /dev/null, stdout,
 * stderr and fd 3 on pipes, and nothing else of this process.
 *
 * This process may have other threads: between fork and exec only async-signal-safe calls
 * are made, on data prepared before the fork. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grader/eval_internal.h"

/* Where the supervisor keeps the descriptors it was given. */
enum { FD_STATUS = 3, FD_OUT, FD_ERR, FD_RES, FD_NULL, FD_FIRST_FREE };

#define SWEEP_PAUSE_NS  10000000L /* between two sweeps of what the evaluator left */
#define WATCH_PAUSE_SEC 1         /* between two checks that this process is still there */

const char *eval_stage_words(int stage)
{
    switch (stage) {
    case EVAL_STAGE_FORK:
        return "could not fork the evaluator";
    case EVAL_STAGE_CHDIR:
        return "could not change to the working directory";
    case EVAL_STAGE_EXEC:
        return "could not execute the program";
    default:
        return "could not set up the evaluator's process";
    }
}

static void write_record(int fd, int type, int a, int b, int64_t cpu_us, int64_t max_rss_kb)
{
    struct eval_record rec;
    memset(&rec, 0, sizeof(rec));
    rec.type = type;
    rec.a = a;
    rec.b = b;
    rec.cpu_us = cpu_us;
    rec.max_rss_kb = max_rss_kb;
    while (write(fd, &rec, sizeof(rec)) < 0 && errno == EINTR)
        ;
}

static void close_from(int first, int max_fd)
{
    if (close_range((unsigned)first, ~0U, 0) == 0)
        return;
    for (int fd = first; fd <= max_fd; fd++)
        close(fd);
}

/* Puts the descriptors the children need at FD_STATUS..FD_NULL, /dev/null on 0-2, and closes
 * every other one (the loop's, the grader's sockets): nothing of this process lives on. */
static int tidy_fds(const struct eval_child_plan *p)
{
    const int keep[] = {p->status_w, p->out_w, p->err_w, p->res_w, p->devnull};
    int moved[sizeof(keep) / sizeof(keep[0])];
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        moved[i] = fcntl(keep[i], F_DUPFD, FD_FIRST_FREE + 2);
        if (moved[i] < 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        if (dup2(moved[i], FD_STATUS + (int)i) < 0)
            return -1;
    }
    for (int fd = 0; fd <= 2; fd++) {
        if (dup2(FD_NULL, fd) < 0)
            return -1;
    }
    close_from(FD_FIRST_FREE, p->max_fd);
    return 0;
}

static int set_limits(const struct eval_limits *l)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return -1;
    if (l->cpu_ms > 0) {
        /* SIGXCPU at the limit (rounded up to a second), SIGKILL a second later. */
        rlim_t seconds = (rlim_t)((l->cpu_ms + 999) / 1000);
        struct rlimit cpu = {seconds, seconds + 1};
        if (setrlimit(RLIMIT_CPU, &cpu) != 0)
            return -1;
    }
    if (l->memory_bytes > 0) {
        struct rlimit as = {(rlim_t)l->memory_bytes, (rlim_t)l->memory_bytes};
        if (setrlimit(RLIMIT_AS, &as) != 0)
            return -1;
    }
    return 0;
}

/* In the evaluator's process: everything up to exec. Reports a failure on errfd. */
static _Noreturn void become_evaluator(const struct eval_child_plan *p, pid_t supervisor, int errfd)
{
    int stage = EVAL_STAGE_SETUP;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP and the like */
    if (setpgid(0, 0) != 0)
        goto fail;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != supervisor)
        goto fail;
    if (dup2(FD_NULL, 0) < 0 || dup2(FD_OUT, 1) < 0 || dup2(FD_ERR, 2) < 0 ||
        dup2(FD_RES, EVAL_RESULT_FD) < 0)
        goto fail;
    for (int fd = FD_OUT; fd <= FD_NULL; fd++)
        close(fd);
    if (p->workdir != NULL && chdir(p->workdir) != 0) {
        stage = EVAL_STAGE_CHDIR;
        goto fail;
    }
    if (set_limits(&p->limits) != 0)
        goto fail;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    stage = EVAL_STAGE_EXEC;
    execve(p->path, p->argv, p->envp);
fail:
    write_record(errfd, EVAL_REC_START_FAILED, stage, errno, 0, 0);
    _exit(127);
}

static int64_t cpu_us(const struct rusage *ru)
{
    return (int64_t)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec +
           (int64_t)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
}

/* Kills the evaluator's group, then every child of the supervisor: the orphans that were
 * re-parented to it, including those that left the group (setsid, setpgid). */
static void sweep(pid_t group, int *group_gone)
{
    if (!*group_gone && kill(-group, SIGKILL) != 0 && errno == ESRCH)
        *group_gone = 1; /* never signal that group id again: it could be reused */
    int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char text[4096];
    ssize_t n = read(fd, text, sizeof(text));
    close(fd);
    long pid = 0;
    int digits = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (text[i] >= '0' && text[i] <= '9') {
            pid = pid * 10 + (text[i] - '0');
            digits++;
        } else {
            /* A number is whole only once a separator follows it. */
            if (digits > 0 && pid > 1)
                kill((pid_t)pid, SIGKILL);
            pid = 0;
            digits = 0;
        }
    }
}

/* Reaps the evaluator and reports its exit; from then on (or as soon as this process is
 * gone) kills what is left until nothing is. */
static void watch(pid_t evaluator, pid_t parent)
{
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, SIGCHLD);
    sigaddset(&wake, SIGTERM); /* the parent-death signal */
    int evaluator_done = 0, parent_gone = 0, group_gone = 0, others = 0;
    int64_t others_cpu = 0, others_rss = 0;
    for (;;) {
        struct rusage ru;
        int status;
        pid_t w;
        while ((w = wait4(-1, &status, WNOHANG, &ru)) > 0) {
            if (w == evaluator) {
                evaluator_done = 1;
                write_record(FD_STATUS, EVAL_REC_EXITED, 0, status, cpu_us(&ru), ru.ru_maxrss);
            } else {
                others++;
                others_cpu += cpu_us(&ru);
                if (ru.ru_maxrss > others_rss)
                    others_rss = ru.ru_maxrss;
            }
        }
        if (w < 0 && errno == ECHILD)
            break;
        if (evaluator_done || parent_gone)
            sweep(evaluator, &group_gone);
        struct timespec pause = {WATCH_PAUSE_SEC, 0};
        if (evaluator_done || parent_gone)
            pause = (struct timespec){0, SWEEP_PAUSE_NS};
        siginfo_t info;
        int sig = sigtimedwait(&wake, &info, &pause);
        if (sig == SIGTERM || getppid() != parent)
            parent_gone = 1;
    }
    write_record(FD_STATUS, EVAL_REC_SWEPT, others, 0, others_cpu, others_rss);
}

/* fork() without the pthread_atfork handlers: libuv's would replace, in the child, the pipe
 * it keeps at descriptor numbers that are now the evaluator's stdout and stderr. */
static pid_t raw_fork(void)
{
#ifdef SYS_fork
    return (pid_t)syscall(SYS_fork);
#else
    return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

static ssize_t read_record(int fd, struct eval_record *rec)
{
    size_t got = 0;
    while (got < sizeof(*rec)) {
        ssize_t n = read(fd, (char *)rec + got, sizeof(*rec) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* In the supervisor's process. All signals stay blocked here: it waits for them. */
static _Noreturn void become_supervisor(const struct eval_child_plan *p)
{
    if (tidy_fds(p) != 0) {
        write_record(p->status_w, EVAL_REC_START_FAILED, EVAL_STAGE_SETUP, errno, 0, 0);
        _exit(1);
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL; /* SIGCHLD ignored would reap the children behind its back */
    sigemptyset(&dfl.sa_mask);
    int ep[2];
    if (setsid() < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 ||
        prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || sigaction(SIGCHLD, &dfl, NULL) != 0 ||
        pipe2(ep, O_CLOEXEC) != 0) {
        write_record(FD_STATUS, EVAL_REC_START_FAILED, EVAL_STAGE_SETUP, errno, 0, 0);
        _exit(1);
    }
    if (getppid() != p->parent)
        _exit(1); /* the grader is already gone */
    pid_t self = getpid();
    pid_t evaluator = raw_fork();
    if (evaluator == 0) {
        close(ep[0]);
        become_evaluator(p, self, ep[1]);
    }
    int fork_errno = errno;
    close(ep[1]);
    for (int fd = FD_OUT; fd <= FD_NULL; fd++)
        close(fd);
    if (evaluator < 0) {
        write_record(FD_STATUS, EVAL_REC_START_FAILED, EVAL_STAGE_FORK, fork_errno, 0, 0);
        _exit(1);
    }
    struct eval_record rec;
    if (read_record(ep[0], &rec) == (ssize_t)sizeof(rec)) {
        int status;
        while (waitpid(evaluator, &status, 0) < 0 && errno == EINTR)
            ;
        write_record(FD_STATUS, EVAL_REC_START_FAILED, rec.a, rec.b, 0, 0);
        _exit(1);
    }
    close(ep[0]);
    write_record(FD_STATUS, EVAL_REC_STARTED, (int)evaluator, 0, 0, 0);
    watch(evaluator, p->parent);
    _exit(0);
}

pid_t eval_spawn(const struct eval_child_plan *plan)
{
    sigset_t all, old;
    sigfillset(&all);
    /* Blocked across the fork: no handler of this process may run in the children. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        become_supervisor(plan);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid < 0 ? -saved : pid;
}
