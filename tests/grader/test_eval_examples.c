/* The example evaluators of docs/examples, run as a grader runs them, on their sample data,
 * with the exact scores worked out by hand below. */
#include <math.h>
#include <string.h>

#include "run_helper.h"
#include "test.h"

#define PYTHON "/usr/bin/python3"

static struct eval_spec example_spec(const char *const *argv, const char *predictions,
                                     const char *answers)
{
    struct eval_spec spec = spec_with(argv);
    spec.submission_file = example_path(predictions);
    spec.answer_file = example_path(answers);
    spec.limits.cpu_ms = 20000;
    spec.limits.memory_bytes = 512ull * 1024 * 1024;
    return spec;
}

/* The progress the examples report on four rows or more: 0, 10 once the files are read,
 * then 10 + 80 * rows scored / rows about four times, then 100. */
static void assert_example_progress(const struct capture *c, const int *expected, int n)
{
    ASSERT_EQ(c->progress_count, n);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(c->percents[i], expected[i]);
    ASSERT_STR_EQ(c->progress_messages[0], "reading the files");
    ASSERT_STR_EQ(c->progress_messages[n - 1], "done");
}

/* data/f1_answers.csv has ids 1-4 "cat" and 5-8 "dog"; data/f1_predictions.csv (in another
 * order) says cat for 1, 2, 3, 7, 8 and dog for 4, 5, 6.
 *   cat: true positives 3 (1, 2, 3), false positives 2 (7, 8), false negatives 1 (4):
 *        F1 = 2TP / (2TP + FP + FN) = 6 / 9 = 2/3
 *   dog: true positives 2 (5, 6), false positives 1 (4), false negatives 2 (7, 8):
 *        F1 = 4 / 7
 *   macro F1 = (2/3 + 4/7) / 2 = (14/21 + 12/21) / 2 = 13/21 = 0.619047619047619...
 *   accuracy = 5 right of 8 = 0.625 (exact in binary) */
TEST(example_python_f1)
{
    const char *argv[] = {PYTHON, example_path("evaluate_f1.py"), "{submission}", "{answer}", NULL};
    struct eval_spec spec = example_spec(argv, "data/f1_predictions.csv", "data/f1_answers.csv");
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_STR_EQ(c.message, "");
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_TRUE(fabs(c.score - 13.0 / 21.0) < 1e-12);
    ASSERT_EQ(c.has_score_secondary, 1);
    ASSERT_TRUE(c.score_secondary == 0.625);
    ASSERT_TRUE(contains(c.result_json, "\"metric\": \"macro_f1\""));
    const int progress[] = {0, 10, 30, 50, 70, 90, 100};
    assert_example_progress(&c, progress, 7);
    ASSERT_EQ(c.info_count, 1);
    ASSERT_STR_EQ(c.infos[0], "read 8 predictions for 8 answers");
    ASSERT_EQ(c.garbage_lines, 0);
}

/* data/rmse_answers.csv: 1 -> 2.5, 2 -> 10, 3 -> -4, 4 -> 0.25; data/rmse_predictions.csv:
 * 1 -> 3.5, 2 -> 7, 3 -> 1, 4 -> -0.75. Errors +1, -3, +5, -1 (all exact in binary):
 *   RMSE = sqrt((1 + 9 + 25 + 1) / 4) = sqrt(9) = 3 exactly
 *   MAE  = (1 + 3 + 5 + 1) / 4 = 2.5 exactly */
TEST(example_python_rmse_through_the_environment)
{
    /* No file arguments: the evaluator reads CROWDAI_SUBMISSION_FILE and CROWDAI_ANSWER_FILE. */
    const char *argv[] = {PYTHON, example_path("evaluate_f1.py"), "--metric", "rmse", NULL};
    struct eval_spec spec =
        example_spec(argv, "data/rmse_predictions.csv", "data/rmse_answers.csv");
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_STR_EQ(c.message, "");
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_TRUE(c.score == 3.0);
    ASSERT_TRUE(c.score_secondary == 2.5);
    const int progress[] = {0, 10, 30, 50, 70, 90, 100};
    assert_example_progress(&c, progress, 7);
}

TEST(example_c_rmse)
{
    /* The C example is built with the sanitizers of this build, whose address-space
     * reservations a memory limit would refuse: no memory limit here. */
    const char *argv[] = {EVAL_TEST_RMSE_BIN, "{submission}", "{answer}", NULL};
    struct eval_spec spec =
        example_spec(argv, "data/rmse_predictions.csv", "data/rmse_answers.csv");
    spec.limits.memory_bytes = 0;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_STR_EQ(c.message, "");
    ASSERT_EQ(c.kind, EVAL_OK);
    ASSERT_TRUE(c.score == 3.0);
    ASSERT_TRUE(c.score_secondary == 2.5);
    const int progress[] = {0, 10, 30, 50, 70, 90, 100};
    assert_example_progress(&c, progress, 7);
    ASSERT_STR_EQ(c.infos[0], "read 4 predictions for 4 answers");
}

TEST(example_python_refuses_missing_rows)
{
    const char *argv[] = {PYTHON, example_path("evaluate_f1.py"), "{submission}", "{answer}", NULL};
    struct eval_spec spec =
        example_spec(argv, "data/f1_predictions_missing.csv", "data/f1_answers.csv");
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_EXIT_STATUS);
    ASSERT_EQ(c.retryable, 0);
    ASSERT_EQ(c.exit_status, 1);
    ASSERT_STR_EQ(c.message, "the evaluator failed with exit status 1; the last lines on "
                             "stderr:\nerror: the predictions lack 1 id(s), the first being 4");
}

TEST(example_c_refuses_a_wrong_file)
{
    const char *argv[] = {EVAL_TEST_RMSE_BIN, "{submission}", "{answer}", NULL};
    struct eval_spec spec = example_spec(argv, "data/f1_predictions.csv", "data/rmse_answers.csv");
    spec.limits.memory_bytes = 0;
    struct capture c;
    capture_init(&c);
    run_to_end(&spec, &c);
    ASSERT_EQ(c.kind, EVAL_EXIT_STATUS);
    ASSERT_STR_EQ(c.stderr_tail,
                  "error: the prediction file must start with the header line id,value");
}
