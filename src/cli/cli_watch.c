/* `crowdai watch ID`: follows a submission's grading live from its first event (those
 * already past are replayed) to its end, as `submit --wait` does. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/cli_command.h"
#include "cli/cli_follow.h"

static const char help[] =
    "Usage: crowdai watch ID [--challenge CHALLENGE]\n"
    "\n"
    "Follows the grading of submission ID live, from its first event, to its end: the score\n"
    "and your rank, or the reason it failed. Ctrl-C stops watching (the grading goes on). A\n"
    "dropped connection is resumed where it stopped, without missing or repeating an event.\n"
    "\n"
    "Options:\n"
    "  --challenge CHALLENGE        the submission's challenge (known already for submissions\n"
    "                               made from this machine)\n"
    "  --timeout SECONDS            stop watching after this long (default 86400)\n"
    "  --reconnect-timeout SECONDS  give up after this long without the broker (default 120)\n"
    "  --broker URL, --api-key KEY  (default: from 'crowdai login')\n"
    "  --json                       JSON lines (the default when stdout is not a terminal)\n"
    "\n"
    "Exit status: 0 graded, 1 grading failed (ERROR, TIMEOUT, CANCELLED), 2 refused (unknown\n"
    "submission, bad key), 3 connection failure or --timeout, 64 usage error, 130 Ctrl-C.\n";

int cli_cmd_watch(int argc, char **argv)
{
    const char *id_text = NULL;
    const char *challenge_flag = NULL;
    long timeout_s = CLI_WATCH_TIMEOUT_S, reconnect_s = CLI_RECONNECT_DEFAULT_S;
    long long id = 0;
    char challenge[CLI_CHALLENGE_MAX];
    struct cli_command c = {.name = "watch"};
    const struct cli_opt opts[] = {
        {"challenge", CLI_OPT_TEXT, &challenge_flag, 0, 0, CLI_CHALLENGE_MAX - 1},
        {"timeout", CLI_OPT_NUMBER, &timeout_s, 1, 30L * 86400, 0},
        {"reconnect-timeout", CLI_OPT_NUMBER, &reconnect_s, 1, 86400, 0},
        {NULL, CLI_OPT_FLAG, NULL, 0, 0, 0},
    };
    struct cli_command_line cl = {"watch", opts, &c.common, &id_text, 1, 0};
    if (cli_args_parse(&cl, argc, argv) != 0)
        return CLI_EXIT_USAGE;
    if (c.common.help) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (cl.n_positional != 1 || cli_parse_id(id_text, &id) != 0)
        return cli_usage_error("watch", "give the submission ID (a number) to watch.");
    int rc = cli_command_open_submission(&c, challenge_flag, id, reconnect_s, challenge,
                                         sizeof(challenge));
    if (rc == 0) {
        struct cli_follow f;
        cli_follow_init(&f, &c.session, &c.out, challenge, id, (uint64_t)timeout_s * 1000);
        rc = cli_follow_finish(&f, cli_follow_run(&f, 1));
        cli_follow_release(&f);
    }
    return cli_command_end(&c, rc);
}
