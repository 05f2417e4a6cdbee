/* What the eval_*.c files share, and what the tests reach: the pure parsing (eval_parse.c),
 * the verdict (eval_verdict.c), the command line and environment (eval_command.c) and the
 * fork of the supervisor and evaluator (eval_spawn.c). Not for users of eval_run.h. */
#ifndef GRADER_EVAL_INTERNAL_H
#define GRADER_EVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "grader/eval_run.h"

/* ---- eval_parse.c: stdout lines, the result, text shown to people (pure) ---- */

enum eval_line_kind {
    EVAL_LINE_BLANK,    /* only whitespace */
    EVAL_LINE_PROGRESS, /* "progress <0-100> [message]" */
    EVAL_LINE_INFO,     /* "info <message>" */
    EVAL_LINE_JSON,     /* a well-formed JSON object (a result, if it is the last line) */
    EVAL_LINE_GARBAGE   /* anything else */
};

struct eval_line {
    enum eval_line_kind kind;
    int percent;                        /* PROGRESS: 0-100 (a fraction is cut off) */
    int has_message;                    /* PROGRESS: a message followed the number; INFO: always */
    char message[EVAL_MESSAGE_MAX + 1]; /* cleaned: see eval_text_clean */
};

/* Classifies one stdout line (without its '\n'; a trailing '\r' is ignored). */
void eval_line_parse(const char *line, size_t len, struct eval_line *out);

/* Copies in[0..len) into out (size outsize > 0) as text safe to show and to put in JSON:
 * invalid UTF-8 becomes U+FFFD, control characters become spaces (except tabs, and newlines
 * when keep_newlines), and the text is cut at a character boundary to fit. Returns the
 * length written (out is NUL-terminated). */
size_t eval_text_clean(char *out, size_t outsize, const char *in, size_t len, int keep_newlines);

/* The last max_lines non-blank lines of text, at most max_bytes (whole lines, except that a
 * single last line longer than that keeps its end), cleaned, joined by '\n', into out. */
size_t eval_text_tail(char *out, size_t outsize, const char *text, size_t len, size_t max_lines,
                      size_t max_bytes);

struct eval_result {
    double score;
    int has_secondary;
    double score_secondary;
};

/* Checks a result: a JSON object with a numeric "score" (and, if present and not null, a
 * numeric "score_secondary"). Returns EVAL_OK, EVAL_BAD_RESULT (not a JSON object, duplicate
 * keys, score_secondary not a number) or EVAL_NO_SCORE, with the reason in why. */
enum eval_failure eval_result_parse(const char *json, size_t len, struct eval_result *out,
                                    char *why, size_t whylen);

/* ---- eval_verdict.c: what happened, in words (pure) ---- */

/* Everything the runner observed about one run. */
struct eval_facts {
    int cancelled;
    const char *cancel_reason; /* may be NULL */
    const char *start_error;   /* non-NULL: the evaluator could not be started */
    enum eval_failure killed;  /* EVAL_OK, or why the runner killed it: EVAL_TIMEOUT,
                                * EVAL_OUTPUT_FLOOD, EVAL_BAD_RESULT (result too large),
                                * EVAL_INTERNAL (its output could not be read) */
    int exited;                /* wait_status is known (else the supervisor was lost) */
    int wait_status;           /* the evaluator's status, as from waitpid */
    uint64_t cpu_ms;           /* of the evaluator and the processes it waited for */
    uint64_t max_rss_kb;
    struct eval_limits limits;
    const char *stderr_text; /* the last bytes of stderr (any length) */
    size_t stderr_len;
    const char *fd3; /* what was written on fd 3 */
    size_t fd3_len;
    const char *last_json; /* the last stdout line, when it is a JSON object; else NULL */
    size_t last_json_len;
    unsigned garbage_lines;
    const char *garbage_sample; /* the first garbage line (cleaned), or NULL */
};

struct eval_verdict {
    enum eval_failure kind;
    int retryable;
    int exit_status;         /* -1 unless exited */
    int term_signal;         /* 0 unless killed by a signal */
    const char *result_json; /* when EVAL_OK: points into facts->fd3 or facts->last_json */
    size_t result_len;
    struct eval_result result;
    char tail[1024]; /* eval_text_tail of stderr: 5 lines, 1000 bytes */
    struct buf message;
};

#define EVAL_TAIL_LINES 5
#define EVAL_TAIL_BYTES 1000

/* Decides the outcome. v->message must be released with eval_verdict_release. */
void eval_verdict_decide(const struct eval_facts *f, struct eval_verdict *v);
void eval_verdict_release(struct eval_verdict *v);
/* "SIGSEGV (segmentation fault: an invalid memory access)" and the like. */
const char *eval_signal_words(int sig, char *buf, size_t len);

/* ---- eval_command.c: the command line and the environment ---- */

struct eval_command {
    char **argv; /* placeholders substituted; NULL-terminated; owned */
    char **envp; /* NULL-terminated; owned */
    char *path;  /* the program to execute, or NULL if it was not found in PATH */
};

/* Builds the command from the spec. Returns 0, or -1 with err set when the spec is
 * unusable. A program not found is not an error here: path is NULL. */
int eval_command_build(struct eval_command *c, const struct eval_spec *spec, char *err,
                       size_t errlen);
void eval_command_release(struct eval_command *c);
/* arg with the placeholders replaced (caller frees). */
char *eval_substitute(const char *arg, const struct eval_spec *spec);
/* The first executable file named name in the ':'-separated dirs (caller frees), or NULL. */
char *eval_find_program(const char *name, const char *dirs);

/* ---- eval_spawn.c: the supervisor and the evaluator processes ---- */

/* What the supervisor reports on its status pipe: fixed-size records, each one write(). */
enum eval_record_type {
    EVAL_REC_STARTED = 1,  /* a: the evaluator's pid (exec succeeded) */
    EVAL_REC_START_FAILED, /* a: the stage (enum eval_stage), b: errno */
    EVAL_REC_EXITED,       /* b: wait status; cpu_us, max_rss_kb of the evaluator */
    EVAL_REC_SWEPT         /* a: processes reaped after it; cpu_us, max_rss_kb of those */
};

enum eval_stage { EVAL_STAGE_SETUP = 1, EVAL_STAGE_FORK, EVAL_STAGE_CHDIR, EVAL_STAGE_EXEC };

struct eval_record {
    int32_t type;
    int32_t a;
    int32_t b;
    int32_t pad;
    int64_t cpu_us;
    int64_t max_rss_kb;
};

/* Everything the children need, prepared before the fork (after it, the children call only
 * async-signal-safe functions). The descriptors are this process's ends given to them. */
struct eval_child_plan {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *workdir; /* may be NULL */
    struct eval_limits limits;
    int status_w, out_w, err_w, res_w, devnull;
    pid_t parent;
    int max_fd; /* for closing descriptors if close_range is missing */
};

/* Forks the supervisor (which forks the evaluator). Returns its pid, or -errno. */
pid_t eval_spawn(const struct eval_child_plan *plan);
/* What went wrong at a start stage, in words ("could not change to the directory"). */
const char *eval_stage_words(int stage);

#endif
