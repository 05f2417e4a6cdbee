/* crowdai-admin: submissions and their states, and the leaderboard. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "registry/reg_board.h"
#include "registry/reg_catalog.h"
#include "registry/reg_store.h"
#include "registry/reg_submission.h"
#include "registry/reg_time.h"

#define DEFAULT_SUBMISSIONS 100

/* ---- submissions ---- */

struct submission_listing {
    int json, count;
    struct admin_table table;
};

static void submission_json(const struct reg_submission *sub)
{
    char at[REG_TIME_LEN];
    reg_time_format(sub->created_at, at);
    printf("{\"submission_id\":%lld,\"participant_id\":%lld,\"challenge_id\":", (long long)sub->id,
           (long long)sub->participant_id);
    admin_json_str(stdout, sub->challenge_id);
    printf(",\"round\":%d,\"client_submission_id\":", sub->round_number);
    admin_json_str(stdout, sub->client_submission_id);
    printf(",\"state\":\"%s\",\"late\":%s,\"score\":", reg_submission_state_name(sub->state),
           sub->late ? "true" : "false");
    if (sub->has_score)
        admin_json_num(stdout, sub->score);
    else
        fputs("null", stdout);
    fputs(",\"message\":", stdout);
    admin_json_str(stdout, sub->message);
    printf(",\"created_at\":\"%s\"}", at);
}

static void list_submission(void *ud, const struct reg_submission *sub)
{
    struct submission_listing *l = ud;
    char at[REG_TIME_LEN];
    if (l->json) {
        fputs(l->count++ == 0 ? "\n  " : ",\n  ", stdout);
        submission_json(sub);
        return;
    }
    reg_time_format(sub->created_at, at);
    admin_table_cell(&l->table, "%lld", (long long)sub->id);
    admin_table_cell(&l->table, "%lld", (long long)sub->participant_id);
    admin_table_cell(&l->table, "%s", sub->challenge_id);
    admin_table_cell(&l->table, "%d%s", sub->round_number, sub->late ? " (late)" : "");
    admin_table_cell(&l->table, "%s", reg_submission_state_name(sub->state));
    if (sub->has_score)
        admin_table_cell(&l->table, "%.10g", sub->score);
    else
        admin_table_cell(&l->table, "-");
    admin_table_cell(&l->table, "%s", at);
    admin_table_cell(&l->table, "%s", sub->message);
}

static int submission_filter(struct admin *a, const struct admin_args *args,
                             struct reg_submission_filter *f)
{
    long long v;
    f->challenge_id = admin_args_get(args, "challenge");
    f->state = -1;
    f->limit = DEFAULT_SUBMISSIONS;
    int rc = admin_args_int(a, args, "participant", 1, INT64_MAX, &v);
    if (rc == ADMIN_USAGE)
        return rc;
    f->participant_id = rc == 0 ? v : 0;
    rc = admin_args_int(a, args, "limit", 0, 1000000, &v);
    if (rc == ADMIN_USAGE)
        return rc;
    if (rc == 0)
        f->limit = (int)v;
    const char *state = admin_args_get(args, "state");
    if (state != NULL && (f->state = reg_submission_state_parse(state)) < 0)
        return admin_usage(a,
                           "--state must be QUEUED, RUNNING, COMPLETE, ERROR, TIMEOUT or "
                           "CANCELLED, not '%s'",
                           state);
    return 0;
}

int admin_report_submissions(struct admin *a, const struct admin_args *args)
{
    static const char *const headers[] = {"ID",    "PARTICIPANT", "CHALLENGE", "ROUND",
                                          "STATE", "SCORE",       "CREATED",   "MESSAGE"};
    struct reg_submission_filter f;
    int rc = submission_filter(a, args, &f);
    if (rc != 0)
        return rc;
    struct submission_listing l = {.json = admin_args_flag(args, "json")};
    admin_table_init(&l.table, 8, headers);
    if (l.json)
        fputs("[", stdout);
    rc = reg_submission_list(a->store, &f, list_submission, &l);
    if (l.json)
        fputs(l.count > 0 ? "\n]\n" : "]\n", stdout);
    else
        admin_table_print(&l.table, stdout);
    admin_table_release(&l.table);
    return rc == 0 ? ADMIN_OK : admin_fail("could not list the submissions");
}

/* ---- leaderboard ---- */

struct board_listing {
    int json, count, secondary;
    struct admin_table table;
};

static void board_json(const struct reg_leaderboard_row *row)
{
    char at[REG_TIME_LEN];
    reg_time_format(row->best_at, at);
    printf("{\"rank\":%d,\"participant_id\":%lld,\"participant\":", row->rank,
           (long long)row->participant_id);
    admin_json_str(stdout, row->participant_name);
    printf(",\"submission_id\":%lld,\"score\":", (long long)row->submission_id);
    admin_json_num(stdout, row->score);
    fputs(",\"score_secondary\":", stdout);
    if (row->has_secondary)
        admin_json_num(stdout, row->score_secondary);
    else
        fputs("null", stdout);
    printf(",\"submissions\":%d,\"best_at\":\"%s\"}", row->submissions, at);
}

static void board_row(void *ud, const struct reg_leaderboard_row *row)
{
    struct board_listing *l = ud;
    char at[REG_TIME_LEN];
    if (l->json) {
        fputs(l->count++ == 0 ? "\n  " : ",\n  ", stdout);
        board_json(row);
        return;
    }
    reg_time_format(row->best_at, at);
    admin_table_cell(&l->table, "%d", row->rank);
    admin_table_cell(&l->table, "%s", row->participant_name);
    admin_table_cell(&l->table, "%.10g", row->score);
    if (l->secondary && row->has_secondary)
        admin_table_cell(&l->table, "%.10g", row->score_secondary);
    else if (l->secondary)
        admin_table_cell(&l->table, "-");
    admin_table_cell(&l->table, "%d", row->submissions);
    admin_table_cell(&l->table, "%s", at);
    admin_table_cell(&l->table, "%lld", (long long)row->submission_id);
}

static void board_headers(struct board_listing *l, const struct reg_challenge *c)
{
    const char *headers[7];
    int n = 0;
    headers[n++] = "RANK";
    headers[n++] = "PARTICIPANT";
    headers[n++] = c->primary_name;
    if (l->secondary)
        headers[n++] = c->secondary_name;
    headers[n++] = "SUBMISSIONS";
    headers[n++] = "BEST_AT";
    headers[n++] = "SUBMISSION";
    admin_table_init(&l->table, n, headers);
}

int admin_report_leaderboard(struct admin *a, const struct admin_args *args)
{
    struct reg_challenge c;
    long long round = 0, limit = 0;
    if (admin_args_int(a, args, "round", 1, 1000000, &round) == ADMIN_USAGE ||
        admin_args_int(a, args, "limit", 0, 1000000, &limit) == ADMIN_USAGE)
        return ADMIN_USAGE;
    int rc = reg_catalog_challenge_get(a->store, args->pos[0], &c);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("there is no challenge %s", args->pos[0]);
    if (rc != 0)
        return admin_fail("could not read challenge %s", args->pos[0]);
    struct board_listing l = {.json = admin_args_flag(args, "json"),
                              .secondary = c.secondary_name[0] != '\0'};
    board_headers(&l, &c);
    if (l.json)
        fputs("[", stdout);
    rc = reg_board_query(a->store, c.id, (int)round, (int)limit, board_row, &l);
    if (l.json)
        fputs(l.count > 0 ? "\n]\n" : "]\n", stdout);
    else
        admin_table_print(&l.table, stdout);
    admin_table_release(&l.table);
    return rc == 0 ? ADMIN_OK : admin_fail("could not read the leaderboard of %s", c.id);
}
