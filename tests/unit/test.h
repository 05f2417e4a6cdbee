/* A tiny unit-test framework: TEST(name) registers a test, the ASSERT_* macros fail it with
 * file:line, and the runner in test_main.c runs every test in its own child process. */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include <stddef.h>
#include <string.h>

struct test_case {
    const char *name;
    const char *file;
    void (*fn)(void);
    struct test_case *next;
};

void test_register(struct test_case *tc);
/* Reports a failed assertion and ends the current test (never returns). */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
void test_fail_mem(const char *file, int line, const char *what, const void *actual,
                   size_t actual_len, const void *expected, size_t expected_len)
    __attribute__((noreturn));

#define TEST(name)                                                                                 \
    static void test_fn_##name(void);                                                              \
    __attribute__((constructor)) static void test_reg_##name(void)                                 \
    {                                                                                              \
        static struct test_case tc = {#name, __FILE__, test_fn_##name, NULL};                      \
        test_register(&tc);                                                                        \
    }                                                                                              \
    static void test_fn_##name(void)

#define ASSERT_TRUE(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test_fail(__FILE__, __LINE__, "expected true: %s", #cond);                             \
    } while (0)

#define ASSERT_FALSE(cond)                                                                         \
    do {                                                                                           \
        if (cond)                                                                                  \
            test_fail(__FILE__, __LINE__, "expected false: %s", #cond);                            \
    } while (0)

/* Compares two integer values (any integer type that fits in long long or unsigned long long
 * without loss of equality). */
#define ASSERT_EQ(actual, expected)                                                                \
    do {                                                                                           \
        long long test_a_ = (long long)(actual);                                                   \
        long long test_e_ = (long long)(expected);                                                 \
        if (test_a_ != test_e_)                                                                    \
            test_fail(__FILE__, __LINE__, "%s == %s: got %lld, expected %lld", #actual, #expected, \
                      test_a_, test_e_);                                                           \
    } while (0)

#define ASSERT_NE(actual, unexpected)                                                              \
    do {                                                                                           \
        long long test_a_ = (long long)(actual);                                                   \
        long long test_e_ = (long long)(unexpected);                                               \
        if (test_a_ == test_e_)                                                                    \
            test_fail(__FILE__, __LINE__, "%s != %s: both are %lld", #actual, #unexpected,         \
                      test_a_);                                                                    \
    } while (0)

/* Compares two NUL-terminated strings; NULL equals only NULL. */
#define ASSERT_STR_EQ(actual, expected)                                                            \
    do {                                                                                           \
        const char *test_a_ = (actual);                                                            \
        const char *test_e_ = (expected);                                                          \
        if ((test_a_ == NULL) != (test_e_ == NULL) ||                                              \
            (test_a_ != NULL && strcmp(test_a_, test_e_) != 0))                                    \
            test_fail(__FILE__, __LINE__, "%s: got \"%s\", expected \"%s\"", #actual,              \
                      test_a_ ? test_a_ : "(null)", test_e_ ? test_e_ : "(null)");                 \
    } while (0)

/* Compares a byte range with an expected byte range (lengths included). */
#define ASSERT_MEM_EQ(actual, actual_len, expected, expected_len)                                  \
    do {                                                                                           \
        const void *test_a_ = (actual);                                                            \
        const void *test_e_ = (expected);                                                          \
        size_t test_al_ = (actual_len), test_el_ = (expected_len);                                 \
        if (test_al_ != test_el_ ||                                                                \
            (test_al_ > 0 && (test_a_ == NULL || memcmp(test_a_, test_e_, test_al_) != 0)))        \
            test_fail_mem(__FILE__, __LINE__, #actual, test_a_, test_al_, test_e_, test_el_);      \
    } while (0)

/* ASSERT_MEM_EQ against a string literal or other NUL-terminated expected value. */
#define ASSERT_MEM_STR(actual, actual_len, expected)                                               \
    ASSERT_MEM_EQ(actual, actual_len, expected, strlen(expected))

#endif
