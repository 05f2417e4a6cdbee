/* Unit tests for grader/eval_verdict.c: from what the runner saw to a failure kind, whether
 * it is retryable, and the message. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "grader/eval_internal.h"
#include "test.h"

#define EXITED_WITH(code) ((code) << 8)
#define KILLED_BY(sig)    (sig)

static struct eval_facts exited(int status, const char *stderr_text)
{
    struct eval_facts f;
    memset(&f, 0, sizeof(f));
    f.exited = 1;
    f.wait_status = status;
    f.stderr_text = stderr_text;
    f.stderr_len = strlen(stderr_text);
    return f;
}

static void with_fd3(struct eval_facts *f, const char *json)
{
    f->fd3 = json;
    f->fd3_len = strlen(json);
}

/* Decides and keeps the message in a static buffer (the verdict is released). */
static struct eval_verdict decide(const struct eval_facts *f, const char **message)
{
    static char text[4096];
    struct eval_verdict v;
    eval_verdict_decide(f, &v);
    snprintf(text, sizeof(text), "%s", v.message.data != NULL ? v.message.data : "");
    *message = text;
    eval_verdict_release(&v);
    return v;
}

TEST(verdict_result_on_fd3)
{
    const char *m;
    struct eval_facts f = exited(EXITED_WITH(0), "");
    with_fd3(&f, "{\"score\": 0.25}\n");
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_OK);
    ASSERT_STR_EQ(m, "");
    ASSERT_TRUE(v.result_json == f.fd3);
    ASSERT_TRUE(v.result.score == 0.25);
    ASSERT_EQ(v.exit_status, 0);
}

TEST(verdict_fd3_before_last_line)
{
    const char *m;
    struct eval_facts f = exited(EXITED_WITH(0), "");
    with_fd3(&f, "{\"score\": 1}");
    f.last_json = "{\"score\": 2}";
    f.last_json_len = strlen(f.last_json);
    struct eval_verdict v = decide(&f, &m);
    ASSERT_TRUE(v.result.score == 1.0);
    f.fd3 = NULL;
    f.fd3_len = 0;
    v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_OK);
    ASSERT_TRUE(v.result.score == 2.0);
    ASSERT_TRUE(v.result_json == f.last_json);
}

TEST(verdict_no_result_and_garbage)
{
    const char *m;
    struct eval_facts f = exited(EXITED_WITH(0), "");
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_NO_SCORE);
    ASSERT_STR_EQ(m, "no score: the evaluator exited without writing a result");
    f.garbage_lines = 1;
    f.garbage_sample = "Score: 1";
    v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_GARBAGE);
    ASSERT_STR_EQ(m, "the evaluator exited without a result, and 1 line of its output was not "
                     "understood (the first: \"Score: 1\")");
    /* A result makes garbage harmless. */
    with_fd3(&f, "{\"score\": 1}");
    ASSERT_EQ(decide(&f, &m).kind, EVAL_OK);
}

TEST(verdict_exit_status_with_tail)
{
    const char *m;
    struct eval_facts f = exited(EXITED_WITH(2), "one\ntwo\nthree\nfour\nfive\nsix\n");
    with_fd3(&f, "{\"score\": 1}"); /* a result does not make a failure a success */
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_EXIT_STATUS);
    ASSERT_EQ(v.retryable, 0);
    ASSERT_EQ(v.exit_status, 2);
    ASSERT_EQ(v.term_signal, 0);
    ASSERT_STR_EQ(m, "the evaluator failed with exit status 2; the last lines on stderr:\n"
                     "two\nthree\nfour\nfive\nsix");
    ASSERT_STR_EQ(v.tail, "two\nthree\nfour\nfive\nsix");
}

TEST(verdict_crash)
{
    const char *m;
    struct eval_facts f = exited(KILLED_BY(SIGSEGV), "");
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_CRASHED);
    ASSERT_EQ(v.exit_status, -1);
    ASSERT_EQ(v.term_signal, SIGSEGV);
    ASSERT_STR_EQ(m, "the evaluator crashed: killed by signal SIGSEGV (segmentation fault: an "
                     "invalid memory access)");
    f = exited(KILLED_BY(SIGABRT), "");
    ASSERT_EQ(decide(&f, &m).kind, EVAL_CRASHED);
    ASSERT_STR_EQ(m, "the evaluator crashed: killed by signal SIGABRT (aborted)");
}

TEST(verdict_cpu_limit)
{
    const char *m;
    struct eval_facts f = exited(KILLED_BY(SIGXCPU), "");
    f.limits.cpu_ms = 2000;
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_CPU_LIMIT);
    ASSERT_STR_EQ(m, "the evaluator used more than its CPU time limit of 2 s");
    /* The hard limit's SIGKILL, or a program that caught SIGXCPU and exited. */
    f = exited(KILLED_BY(SIGKILL), "");
    f.limits.cpu_ms = 1500;
    f.cpu_ms = 3000;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_CPU_LIMIT);
    ASSERT_STR_EQ(m, "the evaluator used more than its CPU time limit of 1.5 s");
    f.wait_status = EXITED_WITH(1);
    ASSERT_EQ(decide(&f, &m).kind, EVAL_CPU_LIMIT);
    /* Below the limit, a SIGKILL from elsewhere is a crash. */
    f = exited(KILLED_BY(SIGKILL), "");
    f.limits.cpu_ms = 1500;
    f.cpu_ms = 100;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_CRASHED);
}

TEST(verdict_memory_limit)
{
    const char *m;
    struct eval_facts f = exited(EXITED_WITH(1), "Traceback\nMemoryError\n");
    f.limits.memory_bytes = 256u << 20;
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_MEMORY_LIMIT);
    ASSERT_EQ(v.retryable, 0);
    ASSERT_STR_EQ(m, "memory limit of 256 MiB reached: the evaluator ran out of memory; the last "
                     "lines on stderr:\nTraceback\nMemoryError");
    f = exited(KILLED_BY(SIGABRT), "terminate called after throwing 'std::bad_alloc'");
    f.limits.memory_bytes = 1536u << 20;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_MEMORY_LIMIT);
    ASSERT_TRUE(strstr(m, "memory limit of 1.5 GiB reached") != NULL);
    f = exited(EXITED_WITH(1), "numpy: Unable to allocate 7.45 GiB for an array");
    f.limits.memory_bytes = 1u << 30;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_MEMORY_LIMIT);
    /* Killed outright near the limit (the kernel's OOM killer). */
    f = exited(KILLED_BY(SIGKILL), "");
    f.limits.memory_bytes = 100u << 20;
    f.max_rss_kb = 95 * 1024;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_MEMORY_LIMIT);
    f.max_rss_kb = 10 * 1024;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_CRASHED);
    /* Without a memory limit, the same words are just a failure. */
    f = exited(EXITED_WITH(1), "MemoryError\n");
    ASSERT_EQ(decide(&f, &m).kind, EVAL_EXIT_STATUS);
}

TEST(verdict_kills_by_the_runner)
{
    const char *m;
    struct eval_facts f = exited(KILLED_BY(SIGTERM), "");
    f.killed = EVAL_TIMEOUT;
    f.limits.wall_ms = 600000;
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_TIMEOUT);
    ASSERT_EQ(v.retryable, 0);
    ASSERT_STR_EQ(m, "the evaluator ran longer than its time limit of 600 s and was stopped");
    /* Even if it caught SIGTERM and exited 0 with a result. */
    f = exited(EXITED_WITH(0), "");
    with_fd3(&f, "{\"score\": 1}");
    f.killed = EVAL_OUTPUT_FLOOD;
    f.limits.output_bytes = 10u << 20;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_OUTPUT_FLOOD);
    ASSERT_STR_EQ(m, "output flood: the evaluator wrote more than 10 MiB on stdout and stderr and "
                     "was stopped");
    f.killed = EVAL_BAD_RESULT;
    ASSERT_EQ(decide(&f, &m).kind, EVAL_BAD_RESULT);
    ASSERT_STR_EQ(m, "bad result: the evaluator wrote more than 64 KiB on file descriptor 3 and "
                     "was stopped");
    f.killed = EVAL_INTERNAL;
    v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_INTERNAL);
    ASSERT_EQ(v.retryable, 1);
}

TEST(verdict_cancel_start_and_lost)
{
    const char *m;
    struct eval_facts f = exited(EXITED_WITH(0), "");
    with_fd3(&f, "{\"score\": 1}");
    f.cancelled = 1;
    f.killed = EVAL_TIMEOUT;
    f.cancel_reason = "by the participant";
    struct eval_verdict v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_CANCELLED);
    ASSERT_STR_EQ(m, "the evaluation was cancelled: by the participant");

    memset(&f, 0, sizeof(f));
    f.stderr_text = "";
    f.start_error = "\"x\" was not found in PATH";
    v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_START_FAILED);
    ASSERT_EQ(v.retryable, 1);
    ASSERT_STR_EQ(m, "could not start the evaluator: \"x\" was not found in PATH");

    f.start_error = NULL; /* started, but its exit was never reported */
    v = decide(&f, &m);
    ASSERT_EQ(v.kind, EVAL_INTERNAL);
    ASSERT_EQ(v.retryable, 1);
}

TEST(verdict_names_and_signal_words)
{
    char words[128];
    for (int a = EVAL_OK; a <= EVAL_CANCELLED; a++) {
        for (int b = a + 1; b <= EVAL_CANCELLED; b++)
            ASSERT_TRUE(strcmp(eval_failure_name((enum eval_failure)a),
                               eval_failure_name((enum eval_failure)b)) != 0);
    }
    ASSERT_STR_EQ(eval_failure_name(EVAL_MEMORY_LIMIT), "MEMORY_LIMIT");
    ASSERT_STR_EQ(eval_signal_words(SIGFPE, words, sizeof(words)),
                  "SIGFPE (arithmetic error, such as an integer division by zero)");
    char number[16]; /* an unnamed signal: its number */
    snprintf(number, sizeof(number), "%d", SIGRTMIN + 3);
    ASSERT_STR_EQ(eval_signal_words(SIGRTMIN + 3, words, sizeof(words)), number);
}
