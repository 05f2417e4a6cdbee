/* The evaluator runner with real child processes (tests/grader/evaluators): how it starts,
 * what it passes, how stdout and fd 3 become callbacks and results, how it fails, cancels,
 * and kills what an evaluator leaves behind. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_helper.h"
#include "test.h"

#define SH "/bin/sh"

/* ---- starting ---- */

static void never_done(void *ud, const struct eval_outcome *o)
{
    test_fail(__FILE__, __LINE__, "done() for a run that did not start");
}

TEST(run_start_failed_no_such_file)
{
    const char *argv[] = {"/nonexistent/evaluator", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c); /* also: done() did not come before eval_start returned */
    ASSERT_FALSE(c.ok);
    ASSERT_EQ(c.kind, EVAL_START_FAILED);
    ASSERT_EQ(c.retryable, 1);
    ASSERT_TRUE(contains(c.message, "could not start the evaluator"));
    ASSERT_TRUE(contains(c.message, "/nonexistent/evaluator"));
    ASSERT_TRUE(contains(c.message, "No such file or directory"));
}

TEST(run_start_failed_not_in_path)
{
    const char *argv[] = {"no-such-evaluator-anywhere", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_START_FAILED);
    ASSERT_EQ(c.retryable, 1);
    ASSERT_TRUE(contains(c.message, "\"no-such-evaluator-anywhere\" was not found in PATH"));
}

TEST(run_start_failed_bad_workdir)
{
    const char *argv[] = {SH, evaluator_path("env.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    spec.workdir = "/nonexistent-directory";
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_START_FAILED);
    ASSERT_EQ(c.retryable, 1);
    ASSERT_TRUE(contains(c.message, "could not change to the working directory "
                                    "(/nonexistent-directory): No such file or directory"));
    ASSERT_EQ(c.info_count, 0);
}

TEST(run_start_refuses_bad_specs)
{
    uv_loop_t loop;
    struct eval_callbacks cb = {NULL, NULL, NULL};
    char err[256];
    const char *empty[] = {NULL};
    const char *argv[] = {SH, "-c", "exit 0", NULL};
    const char *bad_env[] = {"NO_EQUALS_SIGN", NULL};
    ASSERT_EQ(uv_loop_init(&loop), 0);

    struct eval_spec spec = spec_with(argv);
    err[0] = '\0';
    ASSERT_TRUE(eval_start(&loop, &spec, &cb, NULL, err, sizeof(err)) == NULL); /* no done */
    ASSERT_TRUE(contains(err, "done callback"));

    cb.done = never_done;
    spec.argv = empty;
    err[0] = '\0';
    ASSERT_TRUE(eval_start(&loop, &spec, &cb, NULL, err, sizeof(err)) == NULL);
    ASSERT_TRUE(contains(err, "no evaluator command"));

    spec.argv = argv;
    spec.env = bad_env;
    err[0] = '\0';
    ASSERT_TRUE(eval_start(&loop, &spec, &cb, NULL, err, sizeof(err)) == NULL);
    ASSERT_TRUE(contains(err, "NAME=value"));

    char *big = malloc(EVAL_DATA_MAX + 2);
    memset(big, ' ', EVAL_DATA_MAX + 1);
    big[EVAL_DATA_MAX + 1] = '\0';
    spec.env = NULL;
    spec.data_json = big;
    err[0] = '\0';
    ASSERT_TRUE(eval_start(&loop, &spec, &cb, NULL, err, sizeof(err)) == NULL);
    ASSERT_TRUE(contains(err, "data"));
    free(big);
    loop_finish(&loop); /* nothing was started: nothing to run */
}

/* ---- what the evaluator is given ---- */

TEST(run_passes_files_data_and_placeholders)
{
    const char *dir = make_workdir();
    const char *argv[] = {SH,         evaluator_path("env.sh"),  "--pred={submission}",
                          "{answer}", "{submission_id}/{round}", NULL};
    const char *env[] = {"EXTRA=yes", NULL};
    struct eval_spec spec = spec_with(argv);
    spec.submission_file = "/data/sub.csv";
    spec.answer_file = "/data/answers.csv";
    spec.env = env;
    spec.workdir = dir;
    setenv("CROWDAI_TEST_SECRET", "s3cret", 1); /* the grader's: must not be passed on */
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_EQ(c.info_count, 9);
    ASSERT_STR_EQ(c.infos[0], "file=/data/sub.csv");
    ASSERT_STR_EQ(c.infos[1], "answer=/data/answers.csv");
    ASSERT_STR_EQ(c.infos[2], "id=42 round=2");
    ASSERT_STR_EQ(c.infos[3], "data={\"k\":1}");
    ASSERT_STR_EQ(c.infos[4], "fd=3");
    ASSERT_STR_EQ(c.infos[5], "args=--pred=/data/sub.csv /data/answers.csv 42/2");
    ASSERT_STR_EQ(c.infos[6], "secret=absent");
    ASSERT_STR_EQ(c.infos[7], "extra=yes");
    char pwd[300];
    snprintf(pwd, sizeof(pwd), "pwd=%s", dir);
    ASSERT_STR_EQ(c.infos[8], pwd);
    remove_workdir(dir);
}

/* ---- stdout and the result ---- */

TEST(run_result_on_last_stdout_line)
{
    const char *argv[] = {SH, evaluator_path("last_line.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.ok, 1);
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_STR_EQ(c.message, "");
    ASSERT_TRUE(c.score == 0.75);
    ASSERT_EQ(c.has_score_secondary, 1);
    ASSERT_TRUE(c.score_secondary == 2.0);
    ASSERT_STR_EQ(c.result_json,
                  "{\"score\": 0.75, \"score_secondary\": 2, \"note\": \"on stdout\"}");
    ASSERT_EQ(c.garbage_lines, 0);
    ASSERT_EQ(c.exit_status, 0);
    ASSERT_EQ(c.progress_count, 1);
    ASSERT_EQ(c.percents[0], 50);
    ASSERT_STR_EQ(c.progress_messages[0], "half");
}

TEST(run_result_fd3_wins_over_stdout)
{
    const char *argv[] = {SH, evaluator_path("result.sh"), "both", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_TRUE(c.score == 1.0);
    ASSERT_EQ(c.has_score_secondary, 0);
}

TEST(run_result_not_json)
{
    const char *argv[] = {SH, evaluator_path("result.sh"), "bad", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.ok, 0);
    ASSERT_EQ(c.kind, EVAL_BAD_RESULT);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_TRUE(contains(c.message, "bad result: the result is not a valid JSON object"));
}

TEST(run_result_without_score)
{
    const char *argv[] = {SH, evaluator_path("result.sh"), "noscore", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_NO_SCORE);
    ASSERT_STR_EQ(c.message, "no score: the result has no \"score\"");
}

TEST(run_exit_0_without_result)
{
    const char *argv[] = {SH, "-c", "echo 'progress 100 done'; exit 0", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_NO_SCORE);
    ASSERT_TRUE(contains(c.message, "no score: the evaluator exited without writing a result"));
    ASSERT_EQ(c.progress_count, 1);
}

TEST(run_garbage_then_exit_0)
{
    const char *argv[] = {SH, evaluator_path("garbage.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.ok, 0);
    ASSERT_EQ(c.kind, EVAL_GARBAGE);
    ASSERT_EQ(c.garbage_lines, 3);
    ASSERT_TRUE(contains(c.message, "3 lines of its output were not understood"));
    ASSERT_TRUE(contains(c.message, "(the first: \"hello world\")"));
    /* The lines that were understood still came through, in order. */
    ASSERT_EQ(c.progress_count, 1);
    ASSERT_EQ(c.percents[0], 20);
    ASSERT_EQ(c.info_count, 1);
    ASSERT_STR_EQ(c.infos[0], "halfway");
}

TEST(run_every_progress_line_without_interval)
{
    const char *argv[] = {SH, evaluator_path("progress_burst.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_EQ(c.progress_count, 100);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(c.percents[i], i + 1);
    ASSERT_STR_EQ(c.progress_messages[99], "step 100");
}

TEST(run_progress_interval_keeps_first_and_last)
{
    const char *argv[] = {SH, evaluator_path("progress_burst.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    spec.progress_interval_ms = 60000; /* longer than the whole run */
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_EQ(c.progress_count, 2);
    ASSERT_EQ(c.percents[0], 1);
    ASSERT_EQ(c.percents[1], 100);
    ASSERT_STR_EQ(c.progress_messages[1], "step 100");
}

/* ---- failures ---- */

TEST(run_exit_status_with_stderr_tail)
{
    const char *argv[] = {SH, evaluator_path("exit_status.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_EXIT_STATUS);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_EQ(c.exit_status, 3);
    ASSERT_EQ(c.term_signal, 0);
    ASSERT_TRUE(contains(c.message, "the evaluator failed with exit status 3"));
    /* The last five lines, and not the two before them. */
    ASSERT_STR_EQ(c.stderr_tail,
                  "stderr line 3\nstderr line 4\nstderr line 5\nstderr line 6\nstderr line 7");
    ASSERT_TRUE(contains(c.message, "stderr line 3\nstderr line 4"));
    ASSERT_FALSE(contains(c.message, "stderr line 2"));
}

TEST(run_crash_by_signal)
{
    const char *argv[] = {SH, evaluator_path("crash.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_CRASHED);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_EQ(c.term_signal, SIGSEGV);
    ASSERT_EQ(c.exit_status, -1);
    ASSERT_TRUE(contains(c.message, "killed by signal SIGSEGV (segmentation fault"));
    ASSERT_TRUE(contains(c.message, "about to crash"));
    ASSERT_EQ(c.progress_count, 1);
}

/* ---- cancelling ---- */

TEST(run_cancel_mid_run_needs_sigkill)
{
    const char *argv[] = {SH, evaluator_path("stubborn.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    c.cancel_at_percent = 50; /* from inside the progress callback */
    c.cancel_reason = "cancelled by the participant";
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_CANCELLED);
    ASSERT_STR_EQ(c.message, "the evaluation was cancelled: cancelled by the participant");
    /* It ignores SIGTERM: only the SIGKILL after the grace period ended it. */
    ASSERT_EQ(c.term_signal, SIGKILL);
    ASSERT_EQ(c.progress_count, 1);
}

TEST(run_cancel_right_after_start)
{
    const char *argv[] = {SH, evaluator_path("hang.sh"), NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    uv_loop_t loop;
    capture_init(&c);
    ASSERT_EQ(uv_loop_init(&loop), 0);
    capture_start(&loop, &spec, &c);
    ASSERT_TRUE(eval_pid(c.run) > 0);
    eval_cancel(c.run, NULL);
    eval_cancel(c.run, "ignored: the second call"); /* changes nothing */
    loop_finish(&loop);
    ASSERT_EQ(c.done_count, 1);
    ASSERT_EQ(c.kind, EVAL_CANCELLED);
    ASSERT_STR_EQ(c.message, "the evaluation was cancelled");
    ASSERT_EQ(c.progress_count, 0);
}

TEST(run_two_at_once)
{
    const char *stubborn[] = {SH, evaluator_path("stubborn.sh"), NULL};
    const char *scorer[] = {SH, evaluator_path("last_line.sh"), NULL};
    struct eval_spec a = spec_with(stubborn), b = spec_with(scorer);
    struct capture ca, cb;
    uv_loop_t loop;
    capture_init(&ca);
    capture_init(&cb);
    ASSERT_EQ(uv_loop_init(&loop), 0);
    capture_start(&loop, &a, &ca);
    capture_start(&loop, &b, &cb);
    cb.cancel_on_done = ca.run; /* the first ends only when the second is done */
    loop_finish(&loop);
    ASSERT_EQ(ca.done_count, 1);
    ASSERT_EQ(cb.done_count, 1);
    ASSERT_EQ(cb.kind, EVAL_OK);
    ASSERT_TRUE(cb.score == 0.75);
    ASSERT_EQ(ca.kind, EVAL_CANCELLED);
    ASSERT_TRUE(contains(ca.message, "the other run is done"));
}

/* ---- what an evaluator leaves behind ---- */

/* The evaluator (with mode) starts a grandchild that ignores SIGTERM; after done() the
 * grandchild must be gone: killed and reaped. */
static void grandchild_case(const char *mode, enum eval_failure expected, uint64_t wall_ms)
{
    const char *dir = make_workdir();
    const char *pidfile = workdir_file(dir, "grandchild.pid");
    const char *argv[] = {SH, evaluator_path("grandchild.sh"), pidfile, mode, NULL};
    struct eval_spec spec = spec_with(argv);
    spec.limits.wall_ms = wall_ms;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    assert_process_gone(read_pid(pidfile));
    ASSERT_EQ(c.kind, expected);
    ASSERT_EQ(c.progress_count, 1); /* the grandchild had started */
    ASSERT_EQ(c.leftover_processes, 1);
    remove_workdir(dir);
}

TEST(run_grandchild_left_behind_is_killed)
{
    grandchild_case("exit", EVAL_OK, 50000);
}

TEST(run_grandchild_that_left_the_group_is_killed)
{
    grandchild_case("escape", EVAL_OK, 50000);
}

TEST(run_grandchild_killed_on_timeout)
{
    grandchild_case("hang", EVAL_TIMEOUT, 1000);
}

TEST(run_grandchild_killed_on_cancel)
{
    const char *dir = make_workdir();
    const char *pidfile = workdir_file(dir, "grandchild.pid");
    const char *argv[] = {SH, evaluator_path("grandchild.sh"), pidfile, "hang", NULL};
    struct eval_spec spec = spec_with(argv);
    struct capture c;
    capture_init(&c);
    c.cancel_at_percent = 50;
    run_to_end(&spec, &c);
    assert_process_gone(read_pid(pidfile));
    ASSERT_EQ(c.kind, EVAL_CANCELLED);
    ASSERT_EQ(c.leftover_processes, 1);
    remove_workdir(dir);
}

/* The grader itself dies (here: a child process standing for it calls _exit while the run is
 * in progress): the evaluator and its grandchild must not outlive it. */
static const char *death_dir;

static void die_at_progress(void *ud, int percent, const char *message)
{
    struct eval_run **run = ud;
    FILE *f = fopen(workdir_file(death_dir, "evaluator.pid"), "w");
    if (f != NULL) {
        fprintf(f, "%d\n", eval_pid(*run));
        fclose(f);
    }
    _exit(0);
}

static void never_done_either(void *ud, const struct eval_outcome *o)
{
    _exit(1);
}

/* Waits (up to a generous deadline, polling) for pid to be gone; returns 1 if it is. */
static int gone_within(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 100; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return 1;
        usleep(10000);
    }
    return 0;
}

TEST(run_grader_death_kills_everything)
{
    death_dir = make_workdir();
    const char *pidfile = workdir_file(death_dir, "grandchild.pid");
    const char *argv[] = {SH, evaluator_path("grandchild.sh"), pidfile, "hang", NULL};
    struct eval_spec spec = spec_with(argv);
    pid_t grader = fork();
    ASSERT_TRUE(grader >= 0);
    if (grader == 0) {
        static const struct eval_callbacks cb = {die_at_progress, NULL, never_done_either};
        static struct eval_run *run;
        char err[256];
        uv_loop_t loop;
        uv_loop_init(&loop);
        run = eval_start(&loop, &spec, &cb, &run, err, sizeof(err));
        if (run == NULL)
            _exit(1);
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(1);
    }
    int status;
    ASSERT_EQ(waitpid(grader, &status, 0), grader);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* it died at progress 50 */
    pid_t evaluator = read_pid(workdir_file(death_dir, "evaluator.pid"));
    pid_t grandchild = read_pid(pidfile);
    int evaluator_gone = gone_within(evaluator, 20);
    int grandchild_gone = gone_within(grandchild, 20);
    assert_process_gone(evaluator);
    assert_process_gone(grandchild);
    ASSERT_TRUE(evaluator_gone && grandchild_gone);
    remove_workdir(death_dir);
}
