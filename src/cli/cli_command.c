/* The set-up and tear-down every command shares; see cli_command.h. */
#include "cli/cli_command.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_record.h"
#include "cli/cli_report.h"

int cli_command_setup(struct cli_command *c, int need_key)
{
    char url[CLI_URL_MAX];
    cli_out_init(&c->out, c->common.json);
    int rc = cli_settings_load(&c->settings, c->common.broker, c->common.api_key);
    if (rc != 0)
        return rc;
    if (c->settings.broker[0] == '\0')
        return cli_report_problem(&c->out, CLI_EXIT_USAGE,
                                  "No broker URL is set. Run 'crowdai login', or give --broker "
                                  "URL or CROWDAI_BROKER.");
    if (cli_broker_url(c->settings.broker, url, sizeof(url)) != 0)
        return cli_report_problem(&c->out, CLI_EXIT_USAGE,
                                  "The broker URL must start with http://, https://, ws:// or "
                                  "wss:// (or be HOST:PORT).");
    snprintf(c->settings.broker, sizeof(c->settings.broker), "%s", url);
    if (need_key && c->settings.api_key[0] == '\0')
        return cli_report_problem(&c->out, CLI_EXIT_USAGE,
                                  "No API key is set. Run 'crowdai login', or give --api-key KEY "
                                  "or CROWDAI_API_KEY.");
    return 0;
}

int cli_command_connect(struct cli_command *c, long reconnect_timeout_s)
{
    c->connected = 1;
    int rc =
        cli_session_open(&c->session, c->settings.broker, (uint64_t)reconnect_timeout_s * 1000);
    return rc != 0 ? cli_command_fail(c, rc) : 0;
}

int cli_command_authenticate(struct cli_command *c, const char *challenge)
{
    struct cli_session *s = &c->session;
    snprintf(s->api_key, sizeof(s->api_key), "%s", c->settings.api_key);
    snprintf(s->challenge, sizeof(s->challenge), "%s", challenge);
    int rc = cli_session_authenticate(s);
    return rc != 0 ? cli_command_fail(c, rc) : 0;
}

int cli_command_challenge_of(struct cli_command *c, const char *flag, long long id, char *out,
                             size_t n)
{
    if (flag != NULL) {
        snprintf(out, n, "%s", flag);
        return 0;
    }
    if (cli_record_find(c->settings.broker, id, out, n) == 0)
        return 0;
    char problem[300];
    snprintf(problem, sizeof(problem),
             "Submission %lld was not made from this machine, so crowdai does not know its "
             "challenge. Give it with --challenge ID.",
             id);
    return cli_report_problem(&c->out, CLI_EXIT_USAGE, problem);
}

int cli_command_fail(struct cli_command *c, int rc)
{
    if (rc == CLI_EXIT_REFUSED && c->session.refusal != NULL)
        return cli_report_refusal(&c->out, c->session.refusal);
    if (rc == CLI_EXIT_INTERRUPTED)
        return cli_report_problem(&c->out, rc, "Interrupted.");
    return cli_report_problem(&c->out, rc, c->session.problem);
}

int cli_command_end(struct cli_command *c, int status)
{
    if (c->connected)
        cli_session_close(&c->session);
    c->connected = 0;
    return status;
}

int cli_command_open_submission(struct cli_command *c, const char *challenge_flag, long long id,
                                long reconnect_timeout_s, char *challenge, size_t len)
{
    int rc = cli_command_setup(c, 1);
    if (rc == 0)
        rc = cli_command_challenge_of(c, challenge_flag, id, challenge, len);
    if (rc == 0)
        rc = cli_command_connect(c, reconnect_timeout_s);
    if (rc == 0)
        rc = cli_command_authenticate(c, challenge);
    return rc;
}

int cli_command_on_submission(const char *name, int argc, char **argv, const char *help,
                              const char *missing_id, cli_submission_fn run)
{
    const char *id_text = NULL;
    const char *challenge_flag = NULL;
    long long id = 0;
    char challenge[CLI_CHALLENGE_MAX];
    struct cli_command c = {.name = name};
    const struct cli_opt opts[] = {
        {"challenge", CLI_OPT_TEXT, &challenge_flag, 0, 0, CLI_CHALLENGE_MAX - 1},
        {NULL, CLI_OPT_FLAG, NULL, 0, 0, 0},
    };
    struct cli_command_line cl = {name, opts, &c.common, &id_text, 1, 0};
    if (cli_args_parse(&cl, argc, argv) != 0)
        return CLI_EXIT_USAGE;
    if (help != NULL && c.common.help) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (cl.n_positional != 1 || cli_parse_id(id_text, &id) != 0)
        return cli_usage_error(name, "%s", missing_id);
    int rc = cli_command_open_submission(&c, challenge_flag, id, CLI_RECONNECT_DEFAULT_S, challenge,
                                         sizeof(challenge));
    if (rc == 0)
        rc = run(&c, challenge, id);
    return cli_command_end(&c, rc);
}
