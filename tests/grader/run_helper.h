/* Running an evaluator to its end in a test: a loop of its own, the callbacks recorded, the
 * outcome copied, and the checks every run must pass (done() exactly once, never before
 * eval_start returned, every handle closed). */
#ifndef TESTS_GRADER_RUN_HELPER_H
#define TESTS_GRADER_RUN_HELPER_H

#include <stdint.h>
#include <sys/types.h>

#include "grader/eval_run.h"

#define CAPTURE_MAX 128

struct capture {
    struct eval_run *run;
    int start_returned;    /* set once eval_start has returned */
    int early_callbacks;   /* callbacks that came before that: must stay 0 */
    int cancel_at_percent; /* cancel when this progress arrives; -1: never */
    const char *cancel_reason;
    struct eval_run *cancel_on_done; /* another run to cancel when this one is done */

    int progress_count;
    int percents[CAPTURE_MAX];
    char progress_messages[CAPTURE_MAX][128]; /* "(none)" when the line had no message */
    int info_count;
    char infos[CAPTURE_MAX][512];

    int done_count;
    int ok;
    enum eval_failure kind;
    char message[4096];
    char stderr_tail[1100];
    char result_json[4096];
    double score, score_secondary;
    int has_score_secondary, retryable, exit_status, term_signal;
    uint64_t wall_ms, cpu_ms, max_rss_kb, output_bytes;
    unsigned garbage_lines, leftover_processes;
};

/* A spec with generous limits for argv (a NULL-terminated list). */
struct eval_spec spec_with(const char *const *argv);
void capture_init(struct capture *c);
/* Starts the run on loop (asserting it starts) with c as the callbacks' user data. */
void capture_start(uv_loop_t *loop, const struct eval_spec *spec, struct capture *c);
/* Runs one evaluator to its end on a fresh loop; asserts done() came exactly once. */
void run_to_end(const struct eval_spec *spec, struct capture *c);
/* Asserts the loop has nothing left and closes it. */
void loop_finish(uv_loop_t *loop);

/* The path of a test evaluator or an example file (kept until the test ends). */
const char *evaluator_path(const char *name);
const char *example_path(const char *name);
/* A fresh directory under /tmp for one test, and a file path inside it. */
const char *make_workdir(void);
const char *workdir_file(const char *dir, const char *name);
/* Removes the directory and the files in it. */
void remove_workdir(const char *dir);
/* Reads a pid written to path; asserts there is one. */
pid_t read_pid(const char *path);
/* Asserts pid no longer exists (killed and reaped). */
void assert_process_gone(pid_t pid);
/* Whether haystack contains needle. */
int contains(const char *haystack, const char *needle);

#endif
