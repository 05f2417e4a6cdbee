/* What every command does around its own work: read its settings (configuration file,
 * environment, flags), choose the output, connect, authenticate, find the challenge of a
 * submission, report a failure, and clean up. */
#ifndef CLI_CLI_COMMAND_H
#define CLI_CLI_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli_args.h"
#include "cli/cli_config.h"
#include "cli/cli_out.h"
#include "cli/cli_session.h"

#define CLI_RECONNECT_DEFAULT_S 120   /* --reconnect-timeout */
#define CLI_WATCH_TIMEOUT_S     86400 /* --timeout of a followed grading */

struct cli_command {
    const char *name; /* "submit" */
    struct cli_common common;
    struct cli_settings settings;
    struct cli_out out;
    struct cli_session session;
    int connected; /* session opened (and to be closed) */
};

/* Reads the settings and sets up the output. need_key: the command authenticates. Returns 0
 * or an exit status after saying what is missing. */
int cli_command_setup(struct cli_command *c, int need_key);
/* Connects to the broker. */
int cli_command_connect(struct cli_command *c, long reconnect_timeout_s);
/* Authenticates with the API key for challenge. */
int cli_command_authenticate(struct cli_command *c, const char *challenge);
/* The challenge submission id belongs to: the flag when given, else the local record of
 * submissions. Returns 0, or CLI_EXIT_USAGE after saying to use --challenge. */
int cli_command_challenge_of(struct cli_command *c, const char *flag, long long id, char *out,
                             size_t n);
/* What every command about one submission does first: the settings, the submission's
 * challenge, the connection, authentication. Returns 0 or an exit status. */
int cli_command_open_submission(struct cli_command *c, const char *challenge_flag, long long id,
                                long reconnect_timeout_s, char *challenge, size_t len);
/* What a command about one submission runs once it is open. Returns an exit status. */
typedef int (*cli_submission_fn)(struct cli_command *c, const char *challenge, long long id);
/* The whole of `NAME ID [--challenge C]` (no other option): parses, prints help (when help is
 * not NULL and --help was given), says missing_id on a bad ID, opens the submission, runs run
 * and ends the command. Returns the exit status. */
int cli_command_on_submission(const char *name, int argc, char **argv, const char *help,
                              const char *missing_id, cli_submission_fn run);
/* Reports rc (a session result: refusal, problem, Ctrl-C) and returns it. */
int cli_command_fail(struct cli_command *c, int rc);
/* Disconnects and frees; returns status. */
int cli_command_end(struct cli_command *c, int status);

#endif
