/* crowdai: the participant command line. Picks the command and hands it the rest of the
 * arguments; each command lives in its own file (cli_submit.c, cli_watch.c, ...). */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"

static const char help[] =
    "crowdai: submit to a crowdAI challenge and follow the grading live.\n"
    "\n"
    "Usage: crowdai COMMAND [ARGUMENTS] [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  login                        store the broker URL and your API key\n"
    "  submit FILE --challenge ID   upload FILE and submit it (--wait: follow the grading;\n"
    "                               --code DIR [--consent]: send the code in DIR too)\n"
    "  watch ID                     follow a submission's grading live\n"
    "  status ID                    a submission's state, score and rank\n"
    "  cancel ID                    cancel a queued or running submission\n"
    "  leaderboard CHALLENGE        a challenge's leaderboard\n"
    "  code consent ID              consent to the archiving of a submission's code\n"
    "  code list --challenge ID     your submissions with code and their archive state\n"
    "\n"
    "Options of every command:\n"
    "  --broker URL    the broker (default: from 'crowdai login', or CROWDAI_BROKER)\n"
    "  --api-key KEY   your API key (default: from 'crowdai login', or CROWDAI_API_KEY)\n"
    "  --json          one JSON object per line (the default when stdout is not a terminal)\n"
    "  -h, --help      how to use the command\n"
    "\n"
    "Exit status: 0 success (with --wait: graded), 1 grading failed (ERROR, TIMEOUT,\n"
    "CANCELLED), 2 refused by the broker (key, limit, ...), 3 connection failure, 4 a local\n"
    "file cannot be read or written, 64 usage error, 130 stopped by Ctrl-C.\n"
    "\n"
    "Run 'crowdai COMMAND --help' for a command's own options. See docs/cli.md.\n";

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"login", cli_cmd_login},   {"submit", cli_cmd_submit}, {"watch", cli_cmd_watch},
    {"status", cli_cmd_status}, {"cancel", cli_cmd_cancel}, {"leaderboard", cli_cmd_leaderboard},
    {"code", cli_cmd_code},
};

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    /* The client library logs its reconnections; the command line says them in its own
     * words. CROWDAI_DEBUG=1 shows everything. */
    log_set_level(getenv("CROWDAI_DEBUG") != NULL ? LOG_DEBUG : LOG_ERROR);
    if (argc < 2) {
        fputs(help, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 && argc > 2 && find(argv[2]) != NULL) {
        char *args[] = {(char *)"--help", NULL};
        return find(argv[2])->run(1, args);
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    const struct command *cmd = find(name);
    if (cmd == NULL) {
        fprintf(stderr, "crowdai: '%s' is not a command.\nRun 'crowdai --help' to see them.\n",
                name);
        return CLI_EXIT_USAGE;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = cmd->run(argc - 2, argv + 2);
    curl_global_cleanup();
    return status;
}
