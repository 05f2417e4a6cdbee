/* `crowdai code consent ID` and `crowdai code list --challenge ID`: the code archive of
 * docs/archive.md from the participant's side. consent is `archive_consent` (the first
 * consent stands; a repeat answers it), list is `archive_list` (the participant's
 * submissions with code in a challenge, oldest first). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_command.h"
#include "cli/cli_json.h"
#include "cli/cli_report.h"

static const char help[] =
    "Usage: crowdai code consent ID [--challenge CHALLENGE]\n"
    "       crowdai code list --challenge CHALLENGE\n"
    "\n"
    "The code sent with 'crowdai submit FILE --code DIR'. With your consent (--consent there,\n"
    "or 'code consent' later) the broker archives it in the challenge's git repository, one\n"
    "commit per submission on your branch, published when the challenge ends.\n"
    "\n"
    "  consent ID   consent to the archiving of submission ID's code (the first consent\n"
    "               stands; giving it again is harmless)\n"
    "  list         your submissions with code in CHALLENGE: submission, round, state\n"
    "               (NO_CONSENT, PENDING, ARCHIVED or REFUSED), commit, score\n"
    "\n"
    "Options:\n"
    "  --challenge CHALLENGE        the challenge (for consent: known already for submissions\n"
    "                               made from this machine)\n"
    "  --broker URL, --api-key KEY  (default: from 'crowdai login')\n"
    "  --json                       JSON lines (the default when stdout is not a terminal)\n"
    "\n"
    "Exit status: 0 done, 2 refused (unknown submission, no code, bad key), 3 connection\n"
    "failure, 64 usage error.\n";

static int want_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

static int consent(struct cli_command *c, const char *challenge, long long id)
{
    json_t *ack = NULL;
    json_t *args = json_pack("{s:I}", "submission_id", (json_int_t)id);
    int rc = cli_session_call_auth(&c->session, "archive_consent", args, &ack);
    json_decref(args);
    if (rc != 0)
        return cli_command_fail(c, rc);
    const char *at = cli_json_str(ack, "consent_at");
    if (c->out.json) {
        json_object_del(ack, "ok");
        json_object_set_new(ack, "challenge_id", json_string(challenge));
        cli_out_json(&c->out, "consent", ack);
    } else {
        cli_out_text(&c->out, "Consent recorded for the code of submission %lld at %s.", id,
                     at != NULL ? at : "?");
        cli_out_text(&c->out, "It is archived within a few seconds.");
        cli_out_text(&c->out, "See it with: crowdai code list --challenge %s", challenge);
    }
    json_decref(ack);
    return CLI_EXIT_OK;
}

static void number_or_blank(json_t *v, char out[32])
{
    if (json_is_number(v))
        cli_json_number(json_number_value(v), out);
    else
        snprintf(out, 32, "-");
}

static void say_rows(struct cli_command *c, const char *challenge, json_t *rows)
{
    json_t *row;
    size_t i;
    if (c->out.json) {
        json_array_foreach(rows, i, row)
        {
            json_object_set_new(row, "challenge_id", json_string(challenge));
            cli_out_json(&c->out, "code", row);
        }
        return;
    }
    if (json_array_size(rows) == 0) {
        cli_out_text(&c->out, "None of your submissions to %s was sent with code.", challenge);
        return;
    }
    cli_out_text(&c->out, "%10s %6s  %-10s  %-12s %14s", "submission", "round", "state", "commit",
                 "score");
    json_array_foreach(rows, i, row)
    {
        char score[32];
        int64_t id = 0, round = 0;
        const char *state = cli_json_str(row, "state");
        const char *commit = cli_json_str(row, "commit");
        cli_json_int(row, "submission_id", &id);
        cli_json_int(row, "round", &round);
        number_or_blank(json_object_get(row, "score"), score);
        cli_out_text(&c->out, "%10lld %6lld  %-10.16s  %-12.12s %14s", (long long)id,
                     (long long)round, state != NULL ? state : "?", commit != NULL ? commit : "-",
                     score);
        const char *refused = cli_json_str(row, "refused");
        if (refused != NULL && refused[0] != '\0')
            cli_out_text(&c->out, "%10s refused: %.400s", "", refused);
    }
}

static int list(struct cli_command *c, const char *challenge)
{
    json_t *ack = NULL;
    json_t *args = json_object();
    int rc = cli_session_call_auth(&c->session, "archive_list", args, &ack);
    json_decref(args);
    if (rc != 0)
        return cli_command_fail(c, rc);
    say_rows(c, challenge, json_object_get(ack, "commits"));
    json_decref(ack);
    return CLI_EXIT_OK;
}

static int run_consent(int argc, char **argv)
{
    return cli_command_on_submission("code consent", argc, argv, NULL,
                                     "give the submission ID (a number).", consent);
}

static int run_list(int argc, char **argv)
{
    const char *challenge = NULL;
    struct cli_command c = {.name = "code list"};
    const struct cli_opt opts[] = {
        {"challenge", CLI_OPT_TEXT, &challenge, 0, 0, CLI_CHALLENGE_MAX - 1},
        {NULL, CLI_OPT_FLAG, NULL, 0, 0, 0},
    };
    struct cli_command_line cl = {"code list", opts, &c.common, NULL, 0, 0};
    if (cli_args_parse(&cl, argc, argv) != 0)
        return CLI_EXIT_USAGE;
    if (challenge == NULL)
        return cli_usage_error("code list", "give the challenge with --challenge ID.");
    int rc = cli_command_setup(&c, 1);
    if (rc == 0)
        rc = cli_command_connect(&c, CLI_RECONNECT_DEFAULT_S);
    if (rc == 0)
        rc = cli_command_authenticate(&c, challenge);
    if (rc == 0)
        rc = list(&c, challenge);
    return cli_command_end(&c, rc);
}

int cli_cmd_code(int argc, char **argv)
{
    if (argc == 0 || want_help(argc, argv)) {
        fputs(help, argc == 0 ? stderr : stdout);
        return argc == 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[0], "consent") == 0)
        return run_consent(argc - 1, argv + 1);
    if (strcmp(argv[0], "list") == 0)
        return run_list(argc - 1, argv + 1);
    return cli_usage_error("code", "'%s' is not one of its commands: consent, list.", argv[0]);
}
