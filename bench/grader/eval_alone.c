/* The grader benchmark's baseline: runs an evaluator N times in a row as bare as can be
 * (posix_spawn with a pipe on fd 3, read the result, waitpid) and prints the time per run.
 * usage: eval_alone N PROGRAM [ARG...] */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One run: returns 0 when it exited 0 and wrote something on fd 3. */
static int run_once(char **argv)
{
    int fds[2];
    char buf[256];
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status, rc;
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, fds[0]); /* before the dup2: it may be fd 3 */
    posix_spawn_file_actions_adddup2(&fa, fds[1], 3);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    ssize_t got = rc == 0 ? read(fds[0], buf, sizeof(buf)) : -1;
    close(fds[0]);
    if (rc != 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: eval_alone N PROGRAM [ARG...]\n");
        return 2;
    }
    int n = (int)strtol(argv[1], NULL, 10), errors = 0;
    if (n <= 0)
        return 2;
    double *t = calloc((size_t)n, sizeof(*t));
    double start = now_us();
    for (int i = 0; i < n; i++) {
        double t0 = now_us();
        errors += run_once(argv + 2) != 0;
        t[i] = now_us() - t0;
    }
    double total = now_us() - start;
    qsort(t, (size_t)n, sizeof(*t), cmp);
    /* CPU of this process and of the evaluators it reaped. */
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double cpu_us = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                             kids.ru_stime.tv_sec) *
                        1e6 +
                    (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                             kids.ru_stime.tv_usec);
    printf("RESULT mode=alone runs=%d errors=%d runs_per_s=%.1f mean_us=%.1f p50_us=%.1f "
           "p99_us=%.1f cpu_us=%.1f\n",
           n, errors, n / (total / 1e6), total / n, t[n / 2], t[(n * 99) / 100], cpu_us / n);
    free(t);
    return errors == 0 ? 0 : 1;
}
