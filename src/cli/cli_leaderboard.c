/* `crowdai leaderboard CHALLENGE`: the challenge's leaderboard (public: no API key needed),
 * each participant's best graded submission, best first. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/cli_command.h"
#include "cli/cli_json.h"

static const char help[] =
    "Usage: crowdai leaderboard CHALLENGE [--round N]\n"
    "\n"
    "Shows the leaderboard of CHALLENGE: each participant's best graded submission, best\n"
    "first (the top 100). No API key is needed.\n"
    "\n"
    "Options:\n"
    "  --round N     only this round (default: every round)\n"
    "  --broker URL  (default: from 'crowdai login')\n"
    "  --json        one JSON object (the default when stdout is not a terminal)\n"
    "\n"
    "Exit status: 0 shown, 2 refused, 3 connection failure, 64 usage error.\n";

static void number_or_blank(json_t *v, char out[32])
{
    if (json_is_number(v))
        cli_json_number(json_number_value(v), out);
    else
        out[0] = '\0';
}

static void say_table(struct cli_command *c, const char *challenge, long round, json_t *rows)
{
    json_t *row;
    size_t i;
    if (json_array_size(rows) == 0) {
        cli_out_text(&c->out, "No graded submission on the leaderboard of %s%s yet.", challenge,
                     round > 0 ? " for this round" : "");
        return;
    }
    if (round > 0)
        cli_out_text(&c->out, "Leaderboard of %s, round %ld", challenge, round);
    else
        cli_out_text(&c->out, "Leaderboard of %s", challenge);
    cli_out_text(&c->out, "%4s  %-24s %14s %14s %11s %10s", "rank", "participant", "score",
                 "secondary", "submissions", "submission");
    json_array_foreach(rows, i, row)
    {
        char score[32], secondary[32];
        int64_t rank = 0, count = 0, id = 0;
        const char *name = cli_json_str(row, "participant");
        cli_json_int(row, "rank", &rank);
        cli_json_int(row, "submissions", &count);
        cli_json_int(row, "submission_id", &id);
        number_or_blank(json_object_get(row, "score"), score);
        number_or_blank(json_object_get(row, "score_secondary"), secondary);
        cli_out_text(&c->out, "%4lld  %-24.64s %14s %14s %11lld %10lld", (long long)rank,
                     name != NULL ? name : "?", score, secondary, (long long)count, (long long)id);
    }
}

int cli_cmd_leaderboard(int argc, char **argv)
{
    const char *challenge = NULL;
    long round = 0;
    json_t *reply = NULL;
    struct cli_command c = {.name = "leaderboard"};
    const struct cli_opt opts[] = {
        {"round", CLI_OPT_NUMBER, &round, 1, 1000000, 0},
        {NULL, CLI_OPT_FLAG, NULL, 0, 0, 0},
    };
    struct cli_command_line cl = {"leaderboard", opts, &c.common, &challenge, 1, 0};
    if (cli_args_parse(&cl, argc, argv) != 0)
        return CLI_EXIT_USAGE;
    if (c.common.help) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (cl.n_positional != 1)
        return cli_usage_error("leaderboard", "give the CHALLENGE whose leaderboard to show.");
    int rc = cli_command_setup(&c, 0);
    if (rc == 0)
        rc = cli_command_connect(&c, CLI_RECONNECT_DEFAULT_S);
    if (rc == 0) {
        json_t *args = json_pack("{s:s}", "challenge_id", challenge);
        if (round > 0)
            json_object_set_new(args, "round", json_integer(round));
        rc = cli_session_call(&c.session, "leaderboard", args, &reply);
        json_decref(args);
        if (rc != 0)
            rc = cli_command_fail(&c, rc);
    }
    if (rc == 0 && c.out.json) {
        json_object_del(reply, "ok");
        json_object_set_new(reply, "round", round > 0 ? json_integer(round) : json_null());
        cli_out_json(&c.out, "leaderboard", reply);
    } else if (rc == 0) {
        say_table(&c, challenge, round, json_object_get(reply, "rows"));
    }
    json_decref(reply);
    return cli_command_end(&c, rc);
}
