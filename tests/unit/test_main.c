/* The unit-test runner: runs every registered test (or those whose name contains one of the
 * arguments) in a forked child, so that a crash or hang fails only that test. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define TEST_TIMEOUT_SECONDS 60

static struct test_case *first_test;
static struct test_case **last_test = &first_test;

void test_register(struct test_case *tc)
{
    tc->next = NULL;
    *last_test = tc;
    last_test = &tc->next;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    /* _exit: a failed test may leave allocations behind; do not let the leak checker
     * bury the real message. */
    _exit(1);
}

static void print_bytes(const char *label, const void *data, size_t len)
{
    const unsigned char *p = data;
    fprintf(stderr, "  %s (%zu bytes): \"", label, len);
    for (size_t i = 0; i < len && i < 200; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '"' && p[i] != '\\')
            fputc(p[i], stderr);
        else
            fprintf(stderr, "\\x%02x", p[i]);
    }
    fprintf(stderr, "%s\"\n", len > 200 ? "..." : "");
}

void test_fail_mem(const char *file, int line, const char *what, const void *actual,
                   size_t actual_len, const void *expected, size_t expected_len)
{
    fprintf(stderr, "%s:%d: %s differs\n", file, line, what);
    print_bytes("got", actual != NULL ? actual : "", actual != NULL ? actual_len : 0);
    print_bytes("expected", expected, expected_len);
    fflush(stderr);
    _exit(1);
}

static int selected(const struct test_case *tc, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strstr(tc->name, argv[i]) != NULL)
            return 1;
    }
    return 0;
}

/* Runs one test in a child process; returns 1 if it passed. */
static int run_one(const struct test_case *tc)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 0;
    }
    if (pid == 0) {
        alarm(TEST_TIMEOUT_SECONDS);
        tc->fn();
        fflush(stdout);
        exit(0); /* exit, not _exit: the leak checker runs at exit */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            return 0;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: killed by signal %d (%s)\n", tc->name, WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    else
        fprintf(stderr, "%s: exit status %d\n", tc->name, WEXITSTATUS(status));
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (const struct test_case *tc = first_test; tc != NULL; tc = tc->next) {
        if (!selected(tc, argc, argv))
            continue;
        if (run_one(tc)) {
            printf("ok   %s\n", tc->name);
            passed++;
        } else {
            printf("FAIL %s (%s)\n", tc->name, tc->file);
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
