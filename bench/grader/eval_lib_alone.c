/* The grader benchmark's middle figure: runs an evaluator N times in a row through the
 * evaluator runner library (src/grader/eval_run.h: supervisor, pipes, limits, reaping) on a
 * libuv loop, without any broker or network, and prints the time per run. Between the bare
 * spawn of eval_alone.c and a job through crowdai-grader, it shows where the time goes.
 * usage: eval_lib_alone N PROGRAM [ARG...] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <uv.h>

#include "core/log.h"
#include "grader/eval_run.h"

struct bench {
    uv_loop_t *loop;
    struct eval_spec spec;
    int left, errors, runs;
    uint64_t started_ns, total_ns;
};

static void start_one(struct bench *b);

static void on_done(void *ud, const struct eval_outcome *o)
{
    struct bench *b = ud;
    b->total_ns += uv_hrtime() - b->started_ns;
    b->errors += !o->ok;
    b->runs++;
    if (--b->left > 0)
        start_one(b);
}

static const struct eval_callbacks callbacks = {NULL, NULL, on_done};

static void start_one(struct bench *b)
{
    char err[256];
    b->started_ns = uv_hrtime();
    if (eval_start(b->loop, &b->spec, &callbacks, b, err, sizeof(err)) == NULL) {
        fprintf(stderr, "eval_start: %s\n", err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static struct bench b;
    if (argc < 3) {
        fprintf(stderr, "usage: eval_lib_alone N PROGRAM [ARG...]\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    b.loop = uv_default_loop();
    b.left = (int)strtol(argv[1], NULL, 10);
    b.spec.argv = (const char *const *)(argv + 2);
    b.spec.submission_id = 1;
    if (b.left <= 0)
        return 2;
    uint64_t t0 = uv_hrtime();
    start_one(&b);
    uv_run(b.loop, UV_RUN_DEFAULT);
    double total_s = (double)(uv_hrtime() - t0) / 1e9;
    /* This process's own CPU (not its children's): what a runner pays per job for the
     * library, the supervisor's fork included. */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    printf("RESULT mode=library runs=%d errors=%d runs_per_s=%.1f mean_us=%.1f cpu_us=%.1f\n",
           b.runs, b.errors, b.runs / total_s, (double)b.total_ns / 1e3 / b.runs, cpu_us / b.runs);
    return b.errors == 0 ? 0 : 1;
}
