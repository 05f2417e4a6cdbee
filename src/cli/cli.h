/* The participant command line `crowdai`: its exit statuses, the caps on what a user or the
 * broker hands it, and one function per command. A command takes the arguments after its
 * name and returns the process's exit status (documented in docs/cli.md). */
#ifndef CLI_CLI_H
#define CLI_CLI_H

enum cli_exit {
    CLI_EXIT_OK = 0,            /* done; for a followed submission: graded (COMPLETE) */
    CLI_EXIT_FAILED = 1,        /* grading ended in ERROR, TIMEOUT or CANCELLED */
    CLI_EXIT_REFUSED = 2,       /* the broker said no: API key, limit, unknown id, ... */
    CLI_EXIT_CONNECTION = 3,    /* the broker could not be reached, was lost, or never answered */
    CLI_EXIT_LOCAL = 4,         /* a local file could not be read or written */
    CLI_EXIT_USAGE = 64,        /* the command line is wrong */
    CLI_EXIT_INTERRUPTED = 130, /* Ctrl-C: we stopped watching; nothing was cancelled */
};

#define CLI_URL_MAX         1024 /* broker URL, bytes with the NUL */
#define CLI_KEY_MAX         256  /* API key */
#define CLI_CHALLENGE_MAX   64   /* challenge id: the broker takes up to 63 bytes */
#define CLI_DESCRIPTION_MAX 500  /* submission description, as the broker caps it */
#define CLI_NAME_MAX        128  /* participant name */
#define CLI_TOKEN_MAX       1024 /* session token */

int cli_cmd_login(int argc, char **argv);
int cli_cmd_submit(int argc, char **argv);
int cli_cmd_watch(int argc, char **argv);
int cli_cmd_status(int argc, char **argv);
int cli_cmd_cancel(int argc, char **argv);
int cli_cmd_leaderboard(int argc, char **argv);
int cli_cmd_code(int argc, char **argv);

#endif
