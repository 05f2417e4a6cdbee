/* `crowdai submit FILE --challenge ID`: hashes the file, authenticates, uploads it with a
 * progress bar, submits it under a client_submission_id derived from its SHA-256, the
 * challenge and the round (so that running it again never makes a second submission), and
 * with --wait follows the grading to its end. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cli_command.h"
#include "cli/cli_follow.h"
#include "cli/cli_hash.h"
#include "cli/cli_json.h"
#include "cli/cli_pack.h"
#include "cli/cli_record.h"
#include "cli/cli_report.h"
#include "cli/cli_upload.h"

static const char help[] =
    "Usage: crowdai submit FILE --challenge ID [--round N] [--description TEXT] [--wait]\n"
    "                      [--code DIR [--consent]]\n"
    "\n"
    "Uploads FILE and submits it to challenge ID. The same file (and code) for the same\n"
    "challenge and round is always the same submission: running the command again (after a\n"
    "dropped connection, say) finds the submission already made instead of making a second\n"
    "one.\n"
    "\n"
    "Options:\n"
    "  --challenge ID               the challenge (required)\n"
    "  --round N                    the round (default: the round open now)\n"
    "  --description TEXT           a note kept with the submission (at most 500 bytes)\n"
    "  --wait                       follow the grading live; end with the score and your rank\n"
    "  --code DIR                   send the code in DIR with the submission (packed with tar\n"
    "                               as a .tar.gz); the broker checks it before submitting\n"
    "  --consent                    with --code: consent to the code's archiving (see\n"
    "                               'crowdai code --help'; consent can also be given later)\n"
    "  --timeout SECONDS            with --wait, stop watching after this long (default 86400)\n"
    "  --reconnect-timeout SECONDS  give up after this long without the broker (default 120)\n"
    "  --broker URL                 the broker (default: from 'crowdai login')\n"
    "  --api-key KEY                your API key (default: from 'crowdai login')\n"
    "  --json                       JSON lines (the default when stdout is not a terminal)\n"
    "\n"
    "Without --wait it prints the submission id; follow it with 'crowdai watch ID'.\n"
    "Exit status: 0 submitted (with --wait: graded), 1 grading failed, 2 refused by the\n"
    "broker (also: code refused), 3 connection failure, 4 FILE cannot be read or DIR packed,\n"
    "64 usage error, 130 Ctrl-C.\n";

struct submit_args {
    const char *file;
    const char *challenge;
    const char *description;
    long round;
    long timeout_s;
    long reconnect_s;
    int wait;
    const char *code_dir; /* --code */
    int consent;          /* --consent */
    char sha256[CLI_HEX_LEN];
    uint64_t size;
    struct cli_pack pack; /* the packed code, while it exists */
    char code_sha256[CLI_HEX_LEN];
    uint64_t code_size;
};

/* One file to upload: the submission file, or the packed code. */
struct upload_item {
    const char *path;  /* what is read */
    const char *label; /* "file" of the JSON line, and the name in text */
    const char *sha256;
    uint64_t size;
    int code;
};

/* The upload's view: the progress bar, and the loop kept running (heartbeats, Ctrl-C). */
struct upload_view {
    struct cli_command *c;
    const char *name;
    int percent;
};

static void human_size(uint64_t n, char *out, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    snprintf(out, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static int on_upload_progress(void *ud, uint64_t sent, uint64_t total)
{
    struct upload_view *v = ud;
    cli_session_pump(&v->c->session);
    if (v->c->session.interrupted)
        return 1;
    int percent = total > 0 ? (int)(sent * 100 / total) : 100;
    if (percent != v->percent && !v->c->out.json) {
        char done[32], all[32], detail[300];
        human_size(sent, done, sizeof(done));
        human_size(total, all, sizeof(all));
        snprintf(detail, sizeof(detail), "%s  %s of %s", v->name, done, all);
        cli_out_bar(&v->c->out, "Uploading", percent, detail);
        v->percent = percent;
    }
    return 0;
}

/* Uploads the item; sets file_key. A session the broker no longer takes gets one new
 * authenticate. */
static int upload(struct cli_command *c, const struct upload_item *a, char *file_key, size_t n)
{
    const char *slash = strrchr(a->label, '/');
    struct upload_view view = {c, a->code || slash == NULL ? a->label : slash + 1, -1};
    struct cli_upload u = {.broker = c->settings.broker,
                           .token = c->session.token,
                           .path = a->path,
                           .size = a->size,
                           .progress = on_upload_progress,
                           .ud = &view};
    int rc = cli_upload_run(&u);
    const char *code = u.refusal != NULL ? cli_json_str(u.refusal, "code") : NULL;
    if (rc == CLI_EXIT_REFUSED && code != NULL && strstr(code, "SESSION") != NULL &&
        cli_session_authenticate(&c->session) == 0) {
        json_decref(u.refusal);
        u.token = c->session.token;
        rc = cli_upload_run(&u);
    }
    cli_out_bar_clear(&c->out);
    if (rc == CLI_EXIT_REFUSED)
        rc = cli_report_refusal(&c->out, u.refusal);
    else if (rc != 0)
        rc = cli_report_problem(&c->out, rc, u.problem);
    else if (strcasecmp(u.sha256, a->sha256) != 0)
        rc = cli_report_problem(&c->out, CLI_EXIT_LOCAL,
                                "The file changed while it was being uploaded (its SHA-256 is "
                                "not the one computed before). Run the command again.");
    json_decref(u.refusal);
    if (rc != 0)
        return rc;
    snprintf(file_key, n, "%s", u.file_key);
    if (c->out.json) {
        json_t *line = json_pack("{s:s,s:I,s:s,s:s}", "file", a->label, "size",
                                 (json_int_t)u.stored, "sha256", u.sha256, "file_key", u.file_key);
        if (a->code)
            json_object_set_new(line, "code", json_true());
        cli_out_json(&c->out, "upload", line);
        json_decref(line);
    } else {
        char size[32];
        human_size(u.stored, size, sizeof(size));
        cli_out_text(&c->out, a->code ? "Uploaded the code of %s (%s)." : "Uploaded %s (%s).",
                     view.name, size);
    }
    return 0;
}

static void say_submitted(struct cli_command *c, const struct submit_args *a, json_t *ack,
                          const char *csid)
{
    int64_t id = 0, round = 0, position = 0, left = -1;
    cli_json_int(ack, "submission_id", &id);
    cli_json_int(ack, "round", &round);
    cli_json_int(ack, "position", &position);
    if (c->out.json) {
        char watch[64];
        snprintf(watch, sizeof(watch), "crowdai watch %" PRId64, id);
        json_object_del(ack, "ok");
        json_object_set_new(ack, "client_submission_id", json_string(csid));
        json_object_set_new(ack, "challenge_id", json_string(a->challenge));
        json_object_set_new(ack, "watch", json_string(watch));
        cli_out_json(&c->out, "submitted", ack);
        return;
    }
    if (json_is_true(json_object_get(ack, "existing")))
        cli_out_text(&c->out,
                     "This file was already submitted to %s (round %" PRId64 ") as submission "
                     "%" PRId64 "; no new submission was made.",
                     a->challenge, round, id);
    else
        cli_out_text(&c->out,
                     "Submitted: submission %" PRId64 " to %s, round %" PRId64 ", position %" PRId64
                     " in the queue.",
                     id, a->challenge, round, position);
    if (cli_json_int(ack, "submissions_remaining", &left) == 0 && left >= 0) {
        const char *reset = cli_json_str(ack, "reset_at");
        char when[160] = "";
        if (reset != NULL)
            cli_format_time(reset, when, sizeof(when));
        cli_out_text(&c->out, "Submissions left in this period: %" PRId64 "%s%s.", left,
                     reset != NULL ? "; more after " : "", when);
    }
    if (a->code_dir != NULL && !a->consent)
        cli_out_text(
            &c->out,
            "Your code is kept but not archived; to consent: crowdai code consent %" PRId64, id);
    if (!a->wait)
        cli_out_text(&c->out, "Follow its grading with: crowdai watch %" PRId64, id);
}

/* Submits the uploaded file (and code, code_key not NULL); *ack gets the broker's answer. */
static int submit(struct cli_command *c, const struct submit_args *a, const char *file_key,
                  const char *code_key, json_t **ack)
{
    char csid[CLI_CSID_LEN];
    cli_hash_submission_id_code(a->sha256, a->code_dir != NULL ? a->code_sha256 : NULL,
                                a->challenge, a->round, csid);
    json_t *args = json_pack("{s:s,s:s,s:s}", "challenge_id", a->challenge, "client_submission_id",
                             csid, "file_key", file_key);
    if (code_key != NULL) {
        json_object_set_new(args, "code_key", json_string(code_key));
        json_object_set_new(args, "code_consent", json_boolean(a->consent));
    }
    if (a->round > 0)
        json_object_set_new(args, "round", json_integer(a->round));
    if (a->description != NULL)
        json_object_set_new(args, "description", json_string(a->description));
    int rc = cli_session_call_auth(&c->session, "submit", args, ack);
    json_decref(args);
    if (rc != 0)
        return cli_command_fail(c, rc);
    int64_t id = 0;
    cli_json_int(*ack, "submission_id", &id);
    if (cli_record_add(c->settings.broker, id, a->challenge) != 0)
        fprintf(stderr,
                "crowdai: warning: could not note submission %" PRId64 " under "
                "$XDG_STATE_HOME; give --challenge to watch it.\n",
                id);
    say_submitted(c, a, *ack, csid);
    return 0;
}

static int run(struct cli_command *c, struct submit_args *a)
{
    char file_key[80], code_key[80];
    json_t *ack = NULL;
    struct upload_item file = {a->file, a->file, a->sha256, a->size, 0};
    struct upload_item code = {a->pack.path, a->code_dir, a->code_sha256, a->code_size, 1};
    int rc = cli_command_connect(c, a->reconnect_s);
    if (rc == 0)
        rc = cli_command_authenticate(c, a->challenge);
    if (rc == 0)
        rc = upload(c, &file, file_key, sizeof(file_key));
    if (rc == 0 && a->code_dir != NULL)
        rc = upload(c, &code, code_key, sizeof(code_key));
    cli_pack_remove(&a->pack);
    if (rc == 0)
        rc = submit(c, a, file_key, a->code_dir != NULL ? code_key : NULL, &ack);
    if (rc != 0 || !a->wait) {
        json_decref(ack);
        return rc;
    }
    int64_t id = 0, round = 0;
    cli_json_int(ack, "submission_id", &id);
    cli_json_int(ack, "round", &round);
    json_decref(ack);
    struct cli_follow f;
    cli_follow_init(&f, &c->session, &c->out, a->challenge, id, (uint64_t)a->timeout_s * 1000);
    f.round = round;
    rc = cli_follow_finish(&f, cli_follow_run(&f, 0));
    cli_follow_release(&f);
    return rc;
}

int cli_cmd_submit(int argc, char **argv)
{
    struct submit_args a = {.timeout_s = CLI_WATCH_TIMEOUT_S,
                            .reconnect_s = CLI_RECONNECT_DEFAULT_S};
    struct cli_command c = {.name = "submit"};
    const struct cli_opt opts[] = {
        {"challenge", CLI_OPT_TEXT, &a.challenge, 0, 0, CLI_CHALLENGE_MAX - 1},
        {"round", CLI_OPT_NUMBER, &a.round, 1, 1000000, 0},
        {"description", CLI_OPT_TEXT, &a.description, 0, 0, CLI_DESCRIPTION_MAX},
        {"wait", CLI_OPT_FLAG, &a.wait, 0, 0, 0},
        {"timeout", CLI_OPT_NUMBER, &a.timeout_s, 1, 30L * 86400, 0},
        {"reconnect-timeout", CLI_OPT_NUMBER, &a.reconnect_s, 1, 86400, 0},
        {"code", CLI_OPT_TEXT, &a.code_dir, 0, 0, 4000},
        {"consent", CLI_OPT_FLAG, &a.consent, 0, 0, 0},
        {NULL, CLI_OPT_FLAG, NULL, 0, 0, 0},
    };
    struct cli_command_line cl = {"submit", opts, &c.common, &a.file, 1, 0};
    if (cli_args_parse(&cl, argc, argv) != 0)
        return CLI_EXIT_USAGE;
    if (c.common.help) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (cl.n_positional != 1)
        return cli_usage_error("submit", "give the FILE to submit.");
    if (a.challenge == NULL)
        return cli_usage_error("submit", "give the challenge with --challenge ID.");
    if (cli_hash_file(a.file, a.sha256, &a.size) != 0) {
        fprintf(stderr, "crowdai: Cannot read %s: %s. Check the file's path.\n", a.file,
                strerror(errno));
        return CLI_EXIT_LOCAL;
    }
    if (a.consent && a.code_dir == NULL)
        return cli_usage_error("submit", "--consent goes with --code DIR.");
    int rc = cli_command_setup(&c, 1);
    if (rc != 0)
        return rc;
    if (a.code_dir != NULL) {
        rc = cli_pack_dir(&a.pack, a.code_dir);
        if (rc == 0 && cli_hash_file(a.pack.path, a.code_sha256, &a.code_size) != 0) {
            snprintf(a.pack.problem, sizeof(a.pack.problem), "Cannot read the packed code: %s.",
                     strerror(errno));
            cli_pack_remove(&a.pack);
            rc = CLI_EXIT_LOCAL;
        }
        if (rc != 0)
            return cli_report_problem(&c.out, rc, a.pack.problem);
    }
    rc = cli_command_end(&c, run(&c, &a));
    cli_pack_remove(&a.pack);
    return rc;
}
