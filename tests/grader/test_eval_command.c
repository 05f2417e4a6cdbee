/* Unit tests for grader/eval_command.c: placeholders, the environment and the PATH lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grader/eval_internal.h"
#include "test.h"

static struct eval_spec base_spec(const char *const *argv)
{
    struct eval_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.argv = argv;
    spec.submission_file = "/in/sub.csv";
    spec.answer_file = "/in/ans.csv";
    spec.submission_id = 1234567890123LL;
    spec.round = 3;
    return spec;
}

static void assert_substituted(const struct eval_spec *spec, const char *arg, const char *want)
{
    char *got = eval_substitute(arg, spec);
    ASSERT_STR_EQ(got, want);
    free(got);
}

TEST(command_placeholders)
{
    const char *argv[] = {"x", NULL};
    struct eval_spec spec = base_spec(argv);
    assert_substituted(&spec, "{submission}", "/in/sub.csv");
    assert_substituted(&spec, "--pred={submission}", "--pred=/in/sub.csv");
    assert_substituted(&spec, "{answer}{answer}", "/in/ans.csv/in/ans.csv");
    assert_substituted(&spec, "{submission_id}-{round}", "1234567890123-3");
    assert_substituted(&spec, "{unknown} {submission", "{unknown} {submission");
    assert_substituted(&spec, "", "");
    spec.submission_file = NULL;
    assert_substituted(&spec, "[{submission}]", "[]");
}

/* The value of NAME in envp, or NULL. */
static const char *env_value(char **envp, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    for (size_t i = 0; envp[i] != NULL; i++) {
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') {
            ASSERT_TRUE(found == NULL); /* each name once */
            found = envp[i] + n + 1;
        }
    }
    return found;
}

TEST(command_environment)
{
    const char *argv[] = {"sh", "{answer}", NULL};
    const char *extra[] = {"EXTRA=1", "CROWDAI_ROUND=9", NULL};
    struct eval_spec spec = base_spec(argv);
    spec.env = extra;
    spec.data_json = "{\"a\":[1,2]}";
    setenv("CROWDAI_TEST_SECRET", "s3cret", 1);
    setenv("LANG", "C.UTF-8", 1);
    struct eval_command c;
    char err[128];
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), 0);
    ASSERT_STR_EQ(c.argv[0], "sh");
    ASSERT_STR_EQ(c.argv[1], "/in/ans.csv");
    ASSERT_TRUE(c.argv[2] == NULL);
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_SUBMISSION_FILE"), "/in/sub.csv");
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_ANSWER_FILE"), "/in/ans.csv");
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_SUBMISSION_ID"), "1234567890123");
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_ROUND"), "9"); /* the extra entry overrides */
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_DATA"), "{\"a\":[1,2]}");
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_RESULT_FD"), "3");
    ASSERT_STR_EQ(env_value(c.envp, "PYTHONUNBUFFERED"), "1");
    ASSERT_STR_EQ(env_value(c.envp, "EXTRA"), "1");
    ASSERT_STR_EQ(env_value(c.envp, "LANG"), "C.UTF-8");
    ASSERT_TRUE(env_value(c.envp, "CROWDAI_TEST_SECRET") == NULL);
    ASSERT_TRUE(env_value(c.envp, "PATH") != NULL);
    ASSERT_TRUE(c.path != NULL && strcmp(c.path + strlen(c.path) - 3, "/sh") == 0);
    eval_command_release(&c);

    spec.env = NULL;
    spec.data_json = NULL;
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), 0);
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_DATA"), "null");
    ASSERT_STR_EQ(env_value(c.envp, "CROWDAI_ROUND"), "3");
    eval_command_release(&c);
}

TEST(command_path_lookup)
{
    const char *argv[] = {"sh", NULL};
    const char *path_env[] = {"PATH=/nonexistent:/bin", NULL};
    struct eval_spec spec = base_spec(argv);
    spec.env = path_env; /* the evaluator's PATH is the one searched */
    struct eval_command c;
    char err[128];
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), 0);
    ASSERT_STR_EQ(c.path, "/bin/sh");
    eval_command_release(&c);

    const char *nowhere[] = {"PATH=/nonexistent", NULL};
    spec.env = nowhere;
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), 0);
    ASSERT_TRUE(c.path == NULL);
    eval_command_release(&c);

    const char *relative[] = {"./run.sh", NULL};
    spec.argv = relative;
    spec.env = NULL;
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), 0);
    ASSERT_STR_EQ(c.path, "./run.sh"); /* with a '/': as given */
    eval_command_release(&c);
}

TEST(command_find_program)
{
    char dir[] = "/tmp/crowdai-grader-find-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char sub[128], file[128];
    snprintf(sub, sizeof(sub), "%s/tool", dir); /* a directory named like the program */
    ASSERT_EQ(mkdir(sub, 0755), 0);
    char *found = eval_find_program("tool", dir);
    ASSERT_TRUE(found == NULL);
    snprintf(file, sizeof(file), "%s/plain", dir); /* not executable */
    FILE *f = fopen(file, "w");
    ASSERT_TRUE(f != NULL);
    fclose(f);
    ASSERT_TRUE(eval_find_program("plain", dir) == NULL);
    ASSERT_EQ(chmod(file, 0755), 0);
    char dirs[300];
    snprintf(dirs, sizeof(dirs), "/nonexistent::%s", dir);
    found = eval_find_program("plain", dirs);
    ASSERT_STR_EQ(found, file);
    free(found);
    ASSERT_TRUE(eval_find_program("", dirs) == NULL);
    unlink(file);
    rmdir(sub);
    rmdir(dir);
}

TEST(command_refusals)
{
    struct eval_command c;
    char err[128];
    const char *empty_name[] = {"", NULL};
    struct eval_spec spec = base_spec(empty_name);
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), -1);
    ASSERT_STR_EQ(err, "no evaluator command");
    spec.argv = NULL;
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), -1);

    const char *argv[] = {"sh", NULL};
    spec.argv = argv;
    const char *bad[][2] = {{"NOEQUALS", NULL}, {"1X=y", NULL}, {"=v", NULL}, {"A-B=c", NULL}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spec.env = bad[i];
        if (eval_command_build(&c, &spec, err, sizeof(err)) != -1)
            test_fail(__FILE__, __LINE__, "\"%s\" was accepted", bad[i][0]);
        ASSERT_STR_EQ(err, "bad environment entry 0: expected NAME=value");
    }
    spec.env = NULL;
    char *big = malloc(EVAL_DATA_MAX + 2);
    memset(big, '1', EVAL_DATA_MAX + 1);
    big[EVAL_DATA_MAX + 1] = '\0';
    spec.data_json = big;
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), -1);
    big[EVAL_DATA_MAX] = '\0'; /* exactly the maximum is fine */
    ASSERT_EQ(eval_command_build(&c, &spec, err, sizeof(err)), 0);
    eval_command_release(&c);
    free(big);
}
