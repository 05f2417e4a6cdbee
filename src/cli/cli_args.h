/* Options of one command: `--name VALUE`, `--name=VALUE`, flags, positional arguments, and
 * the options every command takes (--broker, --api-key, --json, --help). */
#ifndef CLI_CLI_ARGS_H
#define CLI_CLI_ARGS_H

#include <stddef.h>

enum cli_opt_kind {
    CLI_OPT_FLAG,   /* target: int *, set to 1 */
    CLI_OPT_TEXT,   /* target: const char **, pointing into argv */
    CLI_OPT_NUMBER, /* target: long *, within [min, max] */
};

struct cli_opt {
    const char *name; /* without the dashes; NULL ends a table */
    enum cli_opt_kind kind;
    void *target;
    long min, max;  /* bounds of a number */
    size_t max_len; /* longest text in bytes (it must also be valid UTF-8) */
};

/* The options of every command. */
struct cli_common {
    const char *broker;
    const char *api_key;
    int json;
    int help;
};

struct cli_command_line {
    const char *command;        /* for messages: "submit" */
    const struct cli_opt *opts; /* the command's own options, or NULL */
    struct cli_common *common;
    const char **positional; /* filled in order */
    size_t max_positional;
    size_t n_positional; /* out */
};

/* Parses argv[0..argc). A -h or --help anywhere (before "--") only sets common->help.
 * Returns 0, or prints what is wrong to stderr and returns CLI_EXIT_USAGE. */
int cli_args_parse(struct cli_command_line *cl, int argc, char **argv);

/* Prints "crowdai COMMAND: PROBLEM" and how to get help to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses a submission id (a whole number > 0). Returns 0 or -1. */
int cli_parse_id(const char *text, long long *id);

#endif
