/* `crowdai status ID`: a submission's state, queue position, message, score and rank. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_command.h"
#include "cli/cli_json.h"
#include "cli/cli_rank.h"

#define RANK_WAIT_MS 3000

static const char help[] =
    "Usage: crowdai status ID [--challenge CHALLENGE]\n"
    "\n"
    "Shows the state of submission ID (QUEUED, RUNNING, COMPLETE, ERROR, TIMEOUT or\n"
    "CANCELLED), its place in the queue, the broker's message, and once graded its score and\n"
    "your rank.\n"
    "\n"
    "Options:\n"
    "  --challenge CHALLENGE        the submission's challenge (known already for submissions\n"
    "                               made from this machine)\n"
    "  --broker URL, --api-key KEY  (default: from 'crowdai login')\n"
    "  --json                       one JSON object (the default when stdout is not a terminal)\n"
    "\n"
    "Exit status: 0 queued, running or graded, 1 ended in ERROR, TIMEOUT or CANCELLED,\n"
    "2 refused (unknown submission, bad key), 3 connection failure, 64 usage error.\n";

static void say_number(struct cli_out *o, const char *what, json_t *v)
{
    char num[32];
    if (json_is_number(v)) {
        cli_json_number(json_number_value(v), num);
        cli_out_text(o, "%-10s%s", what, num);
    }
}

static void say_status(struct cli_command *c, const char *challenge, json_t *st,
                       const struct cli_rank *r)
{
    int64_t id = 0, round = 0, position = -1;
    const char *state = cli_json_str(st, "state");
    const char *message = cli_json_str(st, "message");
    json_object_del(st, "ok");
    if (c->out.json) {
        json_object_set_new(st, "challenge_id", json_string(challenge));
        if (r != NULL) {
            json_object_set_new(st, "rank", r->known ? json_integer(r->rank) : json_null());
            json_object_set_new(st, "rank_submission_id",
                                r->known ? json_integer(r->submission_id) : json_null());
        }
        cli_out_json(&c->out, "status", st);
        return;
    }
    cli_json_int(st, "submission_id", &id);
    cli_json_int(st, "round", &round);
    cli_out_text(&c->out, "Submission %lld (challenge %s, round %lld)", (long long)id, challenge,
                 (long long)round);
    if (cli_json_int(st, "position", &position) == 0)
        cli_out_text(&c->out, "%-10s%s, position %lld in the queue", "State:", state,
                     (long long)position);
    else
        cli_out_text(&c->out, "%-10s%s", "State:", state != NULL ? state : "?");
    if (message != NULL && message[0] != '\0')
        cli_out_text(&c->out, "%-10s%s", "Message:", message);
    say_number(&c->out, "Score:", json_object_get(st, "score"));
    say_number(&c->out, "Secondary:", json_object_get(st, "score_secondary"));
    if (r != NULL && r->known && r->exact)
        cli_out_text(&c->out, "%-10s%lld of %zu", "Rank:", (long long)r->rank, r->rows);
    else if (r != NULL && r->known)
        cli_out_text(&c->out, "%-10s%lld of %zu with your best submission (%lld)",
                     "Rank:", (long long)r->rank, r->rows, (long long)r->submission_id);
}

static int status_of(struct cli_command *c, const char *challenge, long long id)
{
    json_t *st = NULL;
    json_t *args = json_pack("{s:I}", "submission_id", (json_int_t)id);
    int rc = cli_session_call_auth(&c->session, "status", args, &st);
    json_decref(args);
    if (rc != 0)
        return cli_command_fail(c, rc);
    const char *state = cli_json_str(st, "state");
    struct cli_rank r;
    int64_t round = 0;
    int ranked = 0;
    cli_json_int(st, "round", &round);
    if (state != NULL && strcmp(state, "COMPLETE") == 0)
        ranked = cli_rank_find(&c->session, challenge, round, id, RANK_WAIT_MS, &r) == 0;
    say_status(c, challenge, st, ranked ? &r : NULL);
    int failed = state != NULL && (strcmp(state, "ERROR") == 0 || strcmp(state, "TIMEOUT") == 0 ||
                                   strcmp(state, "CANCELLED") == 0);
    json_decref(st);
    return failed ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

int cli_cmd_status(int argc, char **argv)
{
    return cli_command_on_submission("status", argc, argv, help,
                                     "give the submission ID (a number).", status_of);
}
