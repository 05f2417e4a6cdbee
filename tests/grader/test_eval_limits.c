/* The limits of a run, each hit by an evaluator made for it (tests/grader/evaluators): wall
 * time, CPU time, memory, output size and result size. The limits are generous or the
 * evaluators endless, so that nothing here depends on timing. */
#include <signal.h>
#include <string.h>

#include "run_helper.h"
#include "test.h"

#define SH "/bin/sh"

TEST(limits_wall_time)
{
    const char *argv[] = {SH, evaluator_path("hang.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    spec.limits.wall_ms = 500;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.ok, 0);
    ASSERT_EQ(c.kind, EVAL_TIMEOUT);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_STR_EQ(c.message,
                  "the evaluator ran longer than its time limit of 500 ms and was stopped");
    ASSERT_EQ(c.term_signal, SIGTERM); /* sleep does not ignore it: no SIGKILL needed */
    ASSERT_EQ(c.progress_count, 1);
}

TEST(limits_cpu_time)
{
    const char *argv[] = {SH, evaluator_path("cpu_burn.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    spec.limits.cpu_ms = 1000;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_CPU_LIMIT);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_EQ(c.term_signal, SIGXCPU);
    ASSERT_STR_EQ(c.message, "the evaluator used more than its CPU time limit of 1 s");
}

TEST(limits_memory)
{
    const char *argv[] = {"/usr/bin/python3", evaluator_path("memory_hog.py"), NULL};
    struct eval_spec spec = spec_with(argv);
    spec.limits.memory_bytes = 256ull * 1024 * 1024;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_MEMORY_LIMIT);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_EQ(c.exit_status, 1); /* Python's MemoryError */
    ASSERT_TRUE(contains(c.message, "memory limit of 256 MiB reached"));
    ASSERT_TRUE(contains(c.stderr_tail, "MemoryError"));
    ASSERT_EQ(c.progress_count, 1);
}

TEST(limits_same_hog_without_memory_limit_is_not_memory)
{
    /* The verdict needs the limit: the same words on stderr without one are an exit status
     * (the script here only prints them). */
    const char *argv[] = {SH, "-c", "echo MemoryError >&2; exit 1", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_EXIT_STATUS);
}

TEST(limits_output_flood)
{
    const char *argv[] = {SH, evaluator_path("flood.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    spec.limits.output_bytes = 64 * 1024;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_OUTPUT_FLOOD);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_TRUE(c.output_bytes > 64 * 1024);
    ASSERT_TRUE(contains(c.message, "output flood: the evaluator wrote more than 64 KiB"));
    ASSERT_EQ(c.garbage_lines > 0, 1); /* its lines were garbage until it was stopped */
}

TEST(limits_output_flood_on_stderr)
{
    const char *argv[] = {SH, "-c", "exec yes 'on stderr' >&2", NULL};
    struct eval_spec spec = spec_with(argv);
    spec.limits.output_bytes = 100 * 1000;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_OUTPUT_FLOOD);
    ASSERT_TRUE(contains(c.message, "more than 97.7 KiB"));
    ASSERT_TRUE(contains(c.stderr_tail, "on stderr\non stderr"));
}

TEST(limits_result_too_large)
{
    const char *argv[] = {SH, evaluator_path("result.sh"), "big", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_BAD_RESULT);
    ASSERT_TRUE(contains(c.message, "more than 64 KiB on file descriptor 3"));
}

TEST(limits_generous_ones_change_nothing)
{
    const char *argv[] = {SH, evaluator_path("last_line.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    spec.limits.cpu_ms = 10000;
    spec.limits.memory_bytes = 512ull * 1024 * 1024;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_TRUE(c.score == 0.75);
}
