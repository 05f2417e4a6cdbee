/* crowdai-admin: the registry's administration command line. Each command is one function
 * with one entry in the table of admin_main.c; this header is what they share. */
#ifndef ADMIN_ADMIN_H
#define ADMIN_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct reg_store;

/* Exit statuses. */
enum admin_status { ADMIN_OK = 0, ADMIN_FAIL = 1, ADMIN_USAGE = 2 };

#define ADMIN_MAX_POS  4
#define ADMIN_MAX_OPTS 24

struct admin_opt_value {
    const char *name;  /* without the leading "--" */
    const char *value; /* NULL for a flag */
};

/* A command's arguments once parsed: positionals in order, then the options given. */
struct admin_args {
    int npos;
    const char *pos[ADMIN_MAX_POS];
    int nopts;
    struct admin_opt_value opts[ADMIN_MAX_OPTS];
};

struct admin;

struct admin_cmd {
    const char *name;     /* "challenge create" */
    const char *synopsis; /* what follows the name in the usage line */
    const char *summary;  /* one line for the command list */
    const char *help;     /* details: one option per line */
    /* Options it takes, space-separated without "--"; a trailing '=' means it takes a value:
     * "title= pool= json". */
    const char *opts;
    int min_pos, max_pos;
    int (*run)(struct admin *a, const struct admin_args *args);
};

struct admin {
    const struct admin_cmd *cmd;
    const char *data_dir;
    struct reg_store *store;
    int64_t now;
};

/* ---- admin_args.c: parsing and errors ---- */

/* Parses argv (after the command's name) against cmd. Returns 0, or prints a usage error and
 * returns ADMIN_USAGE. */
int admin_args_parse(const struct admin_cmd *cmd, int argc, char **argv, struct admin_args *out);
/* The value of option name, or NULL if it was not given. */
const char *admin_args_get(const struct admin_args *args, const char *name);
int admin_args_flag(const struct admin_args *args, const char *name);
/* Reads option name as an integer in [min, max] into *out: 0 if read, 1 if not given (out
 * untouched), ADMIN_USAGE (printed) if malformed. */
int admin_args_int(struct admin *a, const struct admin_args *args, const char *name, long long min,
                   long long max, long long *out);
/* Parses s as an integer in [min, max] / a finite number: 0 or -1. */
int admin_parse_int(const char *s, long long min, long long max, long long *out);
int admin_parse_double(const char *s, double *out);
/* Copies src into dst[size], or prints a usage error naming what and returns ADMIN_USAGE when
 * it does not fit. */
int admin_copy(struct admin *a, char *dst, size_t size, const char *src, const char *what);
/* Print "crowdai-admin: error: ..." and return ADMIN_FAIL / print a usage error for the
 * current command and return ADMIN_USAGE. */
int admin_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int admin_usage(struct admin *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- admin_out.c: aligned tables and JSON ---- */

struct admin_table {
    int ncols;
    int ncells, alloc;
    char **cells; /* row-major, the headers first */
};

void admin_table_init(struct admin_table *t, int ncols, const char *const *headers);
/* Appends the next cell (rows fill left to right). */
void admin_table_cell(struct admin_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void admin_table_print(const struct admin_table *t, FILE *out);
void admin_table_release(struct admin_table *t);
/* Writes s as a JSON string literal. */
void admin_json_str(FILE *out, const char *s);
/* Writes a finite double so that it reads back the same ("null" if not finite). */
void admin_json_num(FILE *out, double v);

/* ---- the commands ---- */

/* admin_queue.c: commands that act on the queue in Redis. */
int admin_queue_cancel(struct admin *a, const struct admin_args *args);
int admin_queue_dead_letters(struct admin *a, const struct admin_args *args);
int admin_queue_requeue(struct admin *a, const struct admin_args *args);
int admin_queue_regrade(struct admin *a, const struct admin_args *args);
int admin_challenge_create(struct admin *a, const struct admin_args *args);
int admin_challenge_update(struct admin *a, const struct admin_args *args);
int admin_challenge_list(struct admin *a, const struct admin_args *args);
int admin_import_challenge(struct admin *a, const struct admin_args *args);
int admin_challenge_round_add(struct admin *a, const struct admin_args *args);
int admin_challenge_round_update(struct admin *a, const struct admin_args *args);
int admin_challenge_round_list(struct admin *a, const struct admin_args *args);
int admin_access_participant_add(struct admin *a, const struct admin_args *args);
int admin_access_participant_list(struct admin *a, const struct admin_args *args);
int admin_access_key_rotate(struct admin *a, const struct admin_args *args);
int admin_access_key_revoke(struct admin *a, const struct admin_args *args);
int admin_access_grader_add(struct admin *a, const struct admin_args *args);
int admin_access_grader_revoke(struct admin *a, const struct admin_args *args);
int admin_report_submissions(struct admin *a, const struct admin_args *args);
int admin_report_leaderboard(struct admin *a, const struct admin_args *args);
/* admin_archive.c: a challenge's code archive. */
int admin_archive_set(struct admin *a, const struct admin_args *args);
int admin_archive_list(struct admin *a, const struct admin_args *args);
int admin_archive_publish(struct admin *a, const struct admin_args *args);

#endif
