/* The verdict on a run: from what the runner observed (exit status, signal, the limits, the
 * kill it decided, stderr, the result) to one failure kind and a message a participant can
 * act on. Pure functions. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "grader/eval_internal.h"

#define MESSAGE_MAX 4096

const char *eval_failure_name(enum eval_failure kind)
{
    switch (kind) {
    case EVAL_OK:
        return "OK";
    case EVAL_START_FAILED:
        return "START_FAILED";
    case EVAL_INTERNAL:
        return "INTERNAL";
    case EVAL_EXIT_STATUS:
        return "EXIT_STATUS";
    case EVAL_CRASHED:
        return "CRASHED";
    case EVAL_TIMEOUT:
        return "TIMEOUT";
    case EVAL_CPU_LIMIT:
        return "CPU_LIMIT";
    case EVAL_MEMORY_LIMIT:
        return "MEMORY_LIMIT";
    case EVAL_OUTPUT_FLOOD:
        return "OUTPUT_FLOOD";
    case EVAL_GARBAGE:
        return "GARBAGE";
    case EVAL_NO_SCORE:
        return "NO_SCORE";
    case EVAL_BAD_RESULT:
        return "BAD_RESULT";
    case EVAL_CANCELLED:
        return "CANCELLED";
    }
    return "UNKNOWN";
}

struct signal_words {
    int sig;
    const char *name;
    const char *words;
};

static const struct signal_words signal_table[] = {
    {SIGSEGV, "SIGSEGV", "segmentation fault: an invalid memory access"},
    {SIGBUS, "SIGBUS", "bus error: an invalid memory access"},
    {SIGABRT, "SIGABRT", "aborted"},
    {SIGFPE, "SIGFPE", "arithmetic error, such as an integer division by zero"},
    {SIGILL, "SIGILL", "illegal instruction"},
    {SIGKILL, "SIGKILL", "killed"},
    {SIGTERM, "SIGTERM", "terminated"},
    {SIGINT, "SIGINT", "interrupted"},
    {SIGHUP, "SIGHUP", "hangup"},
    {SIGQUIT, "SIGQUIT", "quit"},
    {SIGPIPE, "SIGPIPE", "broken pipe: it wrote to a pipe nobody reads"},
    {SIGXCPU, "SIGXCPU", "CPU time limit exceeded"},
    {SIGXFSZ, "SIGXFSZ", "file size limit exceeded"},
    {SIGTRAP, "SIGTRAP", "trace or breakpoint trap"},
    {SIGSYS, "SIGSYS", "bad system call"},
    {SIGALRM, "SIGALRM", "alarm clock"},
    {SIGUSR1, "SIGUSR1", "user signal 1"},
    {SIGUSR2, "SIGUSR2", "user signal 2"},
};

const char *eval_signal_words(int sig, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++) {
        if (signal_table[i].sig == sig) {
            snprintf(buf, len, "%s (%s)", signal_table[i].name, signal_table[i].words);
            return buf;
        }
    }
    snprintf(buf, len, "%d", sig);
    return buf;
}

/* "2 s", "1.5 s", "250 ms". */
static const char *duration_words(uint64_t ms, char *buf, size_t len)
{
    if (ms < 1000)
        snprintf(buf, len, "%llu ms", (unsigned long long)ms);
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%llu s", (unsigned long long)(ms / 1000));
    else
        snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
    return buf;
}

/* "256 MiB", "64 KiB", "1000 bytes", "1.5 MiB". */
static const char *size_words(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    double value = (double)bytes;
    uint64_t whole = bytes;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && value >= 1024.0) {
        value /= 1024.0;
        u++;
    }
    for (size_t i = 0; i < u; i++)
        whole /= 1024;
    if ((double)whole == value)
        snprintf(buf, len, "%llu %s", (unsigned long long)whole, units[u]);
    else
        snprintf(buf, len, "%.1f %s", value, units[u]);
    return buf;
}

/* Whether needle (lower case) occurs in text[0..len), ignoring ASCII case. */
static int contains_words(const char *text, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        size_t k = 0;
        while (k < n) {
            char c = text[i + k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != needle[k])
                break;
            k++;
        }
        if (k == n)
            return 1;
    }
    return 0;
}

/* What programs print when an allocation fails (Python, C, C++, glibc, numpy, bash, R). */
static const char *const memory_phrases[] = {
    "memoryerror",
    "out of memory",
    "cannot allocate memory",
    "bad_alloc",
    "memory exhausted",
    "failed to allocate",
    "allocation failed",
    "unable to allocate",
    "cannot allocate vector",
    "memory allocation failed",
};

/* Whether the memory limit is the evident cause of a failure: the evaluator said an
 * allocation failed, or something (the kernel's OOM killer) killed it outright once it was
 * close to the limit. */
static int memory_evident(const struct eval_facts *f, int term_signal)
{
    if (f->limits.memory_bytes == 0)
        return 0;
    for (size_t i = 0; i < sizeof(memory_phrases) / sizeof(memory_phrases[0]); i++) {
        if (contains_words(f->stderr_text, f->stderr_len, memory_phrases[i]))
            return 1;
    }
    return term_signal == SIGKILL && f->max_rss_kb * 1024 >= f->limits.memory_bytes / 10 * 9;
}

static int cpu_evident(const struct eval_facts *f, int term_signal)
{
    if (term_signal == SIGXCPU)
        return 1;
    return f->limits.cpu_ms > 0 && f->cpu_ms >= f->limits.cpu_ms &&
           (term_signal == SIGKILL || term_signal == 0);
}

static void set(struct eval_verdict *v, enum eval_failure kind, int retryable)
{
    v->kind = kind;
    v->retryable = retryable;
}

/* The verdict on an evaluator that was killed or exited non-zero. */
static void decide_failure(const struct eval_facts *f, struct eval_verdict *v)
{
    char words[128], limit[64];
    if (f->killed == EVAL_INTERNAL) {
        set(v, EVAL_INTERNAL, 1);
        buf_printf(&v->message, "the grader could not read the evaluator's output");
    } else if (f->killed == EVAL_TIMEOUT) {
        set(v, EVAL_TIMEOUT, 0);
        buf_printf(&v->message,
                   "the evaluator ran longer than its time limit of %s and was stopped",
                   duration_words(f->limits.wall_ms, limit, sizeof(limit)));
    } else if (f->killed == EVAL_OUTPUT_FLOOD) {
        set(v, EVAL_OUTPUT_FLOOD, 0);
        buf_printf(&v->message,
                   "output flood: the evaluator wrote more than %s on stdout and stderr and was "
                   "stopped",
                   size_words(f->limits.output_bytes, limit, sizeof(limit)));
    } else if (f->killed == EVAL_BAD_RESULT) {
        set(v, EVAL_BAD_RESULT, 0);
        buf_printf(&v->message,
                   "bad result: the evaluator wrote more than %s on file descriptor 3 and was "
                   "stopped",
                   size_words(EVAL_RESULT_MAX, limit, sizeof(limit)));
    } else if (cpu_evident(f, v->term_signal)) {
        set(v, EVAL_CPU_LIMIT, 0);
        buf_printf(&v->message, "the evaluator used more than its CPU time limit of %s",
                   duration_words(f->limits.cpu_ms, limit, sizeof(limit)));
    } else if (memory_evident(f, v->term_signal)) {
        set(v, EVAL_MEMORY_LIMIT, 0);
        buf_printf(&v->message, "memory limit of %s reached: the evaluator ran out of memory",
                   size_words(f->limits.memory_bytes, limit, sizeof(limit)));
    } else if (v->term_signal != 0) {
        set(v, EVAL_CRASHED, 0);
        buf_printf(&v->message, "the evaluator crashed: killed by signal %s",
                   eval_signal_words(v->term_signal, words, sizeof(words)));
    } else {
        set(v, EVAL_EXIT_STATUS, 0);
        buf_printf(&v->message, "the evaluator failed with exit status %d", v->exit_status);
    }
}

/* The verdict on an evaluator that exited 0: its result decides. */
static void decide_result(const struct eval_facts *f, struct eval_verdict *v)
{
    const char *json = NULL;
    size_t len = 0;
    char why[256];
    if (f->fd3 != NULL && f->fd3_len > 0) {
        json = f->fd3;
        len = f->fd3_len;
    } else if (f->last_json != NULL) {
        json = f->last_json;
        len = f->last_json_len;
    }
    if (json == NULL && f->garbage_lines > 0) {
        set(v, EVAL_GARBAGE, 0);
        buf_printf(&v->message,
                   "the evaluator exited without a result, and %u line%s of its output %s not "
                   "understood (the first: \"%s\")",
                   f->garbage_lines, f->garbage_lines == 1 ? "" : "s",
                   f->garbage_lines == 1 ? "was" : "were",
                   f->garbage_sample != NULL ? f->garbage_sample : "");
        return;
    }
    if (json == NULL) {
        set(v, EVAL_NO_SCORE, 0);
        buf_printf(&v->message, "no score: the evaluator exited without writing a result");
        return;
    }
    enum eval_failure kind = eval_result_parse(json, len, &v->result, why, sizeof(why));
    if (kind != EVAL_OK) {
        set(v, kind, 0);
        buf_printf(&v->message, "%s: %s", kind == EVAL_NO_SCORE ? "no score" : "bad result", why);
        return;
    }
    set(v, EVAL_OK, 0);
    v->result_json = json;
    v->result_len = len;
}

void eval_verdict_decide(const struct eval_facts *f, struct eval_verdict *v)
{
    memset(v, 0, sizeof(*v));
    buf_init(&v->message, MESSAGE_MAX);
    v->exit_status = -1;
    if (f->exited && WIFEXITED(f->wait_status))
        v->exit_status = WEXITSTATUS(f->wait_status);
    else if (f->exited && WIFSIGNALED(f->wait_status))
        v->term_signal = WTERMSIG(f->wait_status);
    eval_text_tail(v->tail, sizeof(v->tail), f->stderr_text, f->stderr_len, EVAL_TAIL_LINES,
                   EVAL_TAIL_BYTES);

    if (f->cancelled) {
        set(v, EVAL_CANCELLED, 0);
        buf_printf(&v->message, "the evaluation was cancelled%s%s",
                   f->cancel_reason != NULL && f->cancel_reason[0] != '\0' ? ": " : "",
                   f->cancel_reason != NULL ? f->cancel_reason : "");
        return;
    }
    if (f->start_error != NULL) {
        set(v, EVAL_START_FAILED, 1);
        buf_printf(&v->message, "could not start the evaluator: %s", f->start_error);
        return;
    }
    if (!f->exited && f->killed == EVAL_OK) {
        set(v, EVAL_INTERNAL, 1);
        buf_printf(&v->message, "the grader lost track of the evaluator (its supervisor process "
                                "ended unexpectedly)");
        return;
    }
    if (f->killed != EVAL_OK || v->exit_status != 0)
        decide_failure(f, v);
    else
        decide_result(f, v);
    if (v->kind != EVAL_OK && v->tail[0] != '\0')
        buf_printf(&v->message, "; the last lines on stderr:\n%s", v->tail);
}

void eval_verdict_release(struct eval_verdict *v)
{
    buf_release(&v->message);
}
