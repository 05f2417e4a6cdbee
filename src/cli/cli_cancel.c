/* `crowdai cancel ID`: cancels a queued or running submission; its grader is told to stop.
 * Cancelling what is already cancelled succeeds (a retry after a lost answer lands there). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_command.h"
#include "cli/cli_json.h"
#include "cli/cli_report.h"

static const char help[] =
    "Usage: crowdai cancel ID [--challenge CHALLENGE]\n"
    "\n"
    "Cancels submission ID while it is queued or being graded; its grader is told to stop.\n"
    "\n"
    "Options:\n"
    "  --challenge CHALLENGE        the submission's challenge (known already for submissions\n"
    "                               made from this machine)\n"
    "  --broker URL, --api-key KEY  (default: from 'crowdai login')\n"
    "  --json                       one JSON object (the default when stdout is not a terminal)\n"
    "\n"
    "Exit status: 0 cancelled (or it already was), 2 refused (already graded or failed,\n"
    "unknown submission, bad key), 3 connection failure, 64 usage error.\n";

static void say_cancelled(struct cli_command *c, long long id, int already)
{
    if (c->out.json) {
        json_t *line = json_pack("{s:I,s:s,s:b}", "submission_id", (json_int_t)id, "state",
                                 "CANCELLED", "already", already);
        cli_out_json(&c->out, "cancel", line);
        json_decref(line);
    } else if (already) {
        cli_out_text(&c->out, "Submission %lld was already cancelled.", id);
    } else {
        cli_out_text(&c->out, "Cancelled submission %lld; its grader was told to stop.", id);
    }
}

/* The broker says the submission has finished: cancelled already is fine, anything else is
 * a refusal that names the state. */
static int already_finished(struct cli_command *c, long long id)
{
    json_t *st = NULL;
    json_t *refusal = json_incref(c->session.refusal);
    json_t *args = json_pack("{s:I}", "submission_id", (json_int_t)id);
    int rc = cli_session_call_auth(&c->session, "status", args, &st);
    json_decref(args);
    const char *state = rc == 0 ? cli_json_str(st, "state") : NULL;
    if (state != NULL && strcmp(state, "CANCELLED") == 0) {
        say_cancelled(c, id, 1);
        rc = CLI_EXIT_OK;
    } else {
        char message[400];
        snprintf(message, sizeof(message),
                 "Submission %lld has already finished (%s); there is nothing to cancel.", id,
                 state != NULL ? state : "state unknown");
        json_object_set_new(refusal, "message", json_string(message));
        if (state != NULL)
            json_object_set_new(refusal, "state", json_string(state));
        rc = cli_report_refusal(&c->out, refusal);
    }
    json_decref(st);
    json_decref(refusal);
    return rc;
}

static int cancel(struct cli_command *c, const char *challenge, long long id)
{
    (void)challenge;
    json_t *ack = NULL;
    json_t *args = json_pack("{s:I}", "submission_id", (json_int_t)id);
    int rc = cli_session_call_auth(&c->session, "cancel", args, &ack);
    json_decref(args);
    if (rc == 0)
        say_cancelled(c, id, 0);
    else if (rc == CLI_EXIT_REFUSED &&
             strcmp(cli_json_str(c->session.refusal, "code"), "ALREADY_FINISHED") == 0)
        rc = already_finished(c, id);
    else
        rc = cli_command_fail(c, rc);
    json_decref(ack);
    return rc;
}

int cli_cmd_cancel(int argc, char **argv)
{
    return cli_command_on_submission("cancel", argc, argv, help,
                                     "give the submission ID (a number) to cancel.", cancel);
}
