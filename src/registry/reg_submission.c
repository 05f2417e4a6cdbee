/* Submissions once made: reads, guarded state changes and exactly-once scores. */
#include "registry/reg_submission.h"

#include <math.h>
#include <stdio.h>
#include <strings.h>

#include "core/xalloc.h"

#define SUBMISSION_COLUMNS                                                                         \
    "id, participant_id, challenge_id, round_number, client_submission_id, file_key, data,"        \
    " description, state, late, has_score, score, score_secondary, message, created_at,"           \
    " updated_at, has_secondary"

static const char sql_requeue[] = "UPDATE submissions SET state = 0, message = '', updated_at = ?2"
                                  " WHERE id = ?1 AND state IN (3, 4)";
static const char sql_regrade[] =
    "UPDATE submissions SET state = 0, has_score = 0, has_secondary = 0, message = '',"
    " updated_at = ?2 WHERE id = ?1 AND state IN (2, 3, 4)";
static const char sql_get[] = "SELECT " SUBMISSION_COLUMNS " FROM submissions WHERE id = ?1";
static const char sql_set_state[] =
    "UPDATE submissions SET state = ?2, message = ?3, updated_at = ?4"
    " WHERE id = ?1 AND state IN (0, 1)";
static const char sql_record_score[] =
    "UPDATE submissions SET state = 2, has_score = 1, score = ?2, has_secondary = ?3,"
    " score_secondary = ?4, updated_at = ?5 WHERE id = ?1 AND state IN (0, 1)";
static const char sql_list[] =
    "SELECT " SUBMISSION_COLUMNS " FROM submissions"
    " WHERE (?1 IS NULL OR challenge_id = ?1) AND (?2 = 0 OR participant_id = ?2)"
    " AND (?3 < 0 OR state = ?3) ORDER BY id DESC LIMIT ?4";
/* Served by the index submissions_own (schema v5) without a sort. */
static const char sql_list_own[] =
    "SELECT " SUBMISSION_COLUMNS " FROM submissions WHERE participant_id = ?1 AND challenge_id = ?2"
    " ORDER BY created_at DESC, id DESC LIMIT ?3";

static const char sql_count_by_state[] = "SELECT state, COUNT(*) FROM submissions GROUP BY state";

static const char *const state_names[] = {"QUEUED", "RUNNING", "COMPLETE",
                                          "ERROR",  "TIMEOUT", "CANCELLED"};

/* Fills sub from the current row; sub->data points into the statement (borrowed). */
static void submission_from_row(sqlite3_stmt *st, struct reg_submission *sub)
{
    sub->id = sqlite3_column_int64(st, 0);
    sub->participant_id = sqlite3_column_int64(st, 1);
    reg_store_column_text(st, 2, sub->challenge_id, sizeof(sub->challenge_id));
    sub->round_number = sqlite3_column_int(st, 3);
    reg_store_column_text(st, 4, sub->client_submission_id, sizeof(sub->client_submission_id));
    reg_store_column_text(st, 5, sub->file_key, sizeof(sub->file_key));
    sub->data = (char *)sqlite3_column_text(st, 6);
    reg_store_column_text(st, 7, sub->description, sizeof(sub->description));
    sub->state = (enum reg_sub_state)sqlite3_column_int(st, 8);
    sub->late = sqlite3_column_int(st, 9);
    sub->has_score = sqlite3_column_int(st, 10);
    sub->score = sqlite3_column_double(st, 11);
    sub->score_secondary = sqlite3_column_double(st, 12);
    reg_store_column_text(st, 13, sub->message, sizeof(sub->message));
    sub->created_at = sqlite3_column_int64(st, 14);
    sub->updated_at = sqlite3_column_int64(st, 15);
    sub->has_secondary = sqlite3_column_int(st, 16);
}

int reg_submission_get(struct reg_store *s, int64_t id, struct reg_submission *sub)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_get);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        submission_from_row(st, sub);
        sub->data = sub->data != NULL ? xstrdup(sub->data) : NULL;
    }
    reg_store_done(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? REG_STORE_NOT_FOUND : REG_STORE_ERROR;
}

int reg_submission_set_state(struct reg_store *s, int64_t id, enum reg_sub_state state,
                             const char *message, int64_t now)
{
    if (state != REG_SUB_RUNNING && state != REG_SUB_ERROR && state != REG_SUB_TIMEOUT &&
        state != REG_SUB_CANCELLED)
        return 0;
    sqlite3_stmt *st = reg_store_stmt(s, sql_set_state);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)state);
    reg_store_bind_text(st, 3, message != NULL ? message : "");
    sqlite3_bind_int64(st, 4, now);
    if (reg_store_run(s, st) != 0)
        return -1;
    return sqlite3_changes(reg_store_db(s)) > 0 ? 1 : 0;
}

int reg_submission_record_score(struct reg_store *s, int64_t id, double score, int has_secondary,
                                double score_secondary, int64_t now)
{
    if (!isfinite(score) || (has_secondary && !isfinite(score_secondary)))
        return 0;
    sqlite3_stmt *st = reg_store_stmt(s, sql_record_score);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_double(st, 2, score);
    sqlite3_bind_int(st, 3, has_secondary ? 1 : 0);
    if (has_secondary)
        sqlite3_bind_double(st, 4, score_secondary);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, now);
    if (reg_store_run(s, st) != 0)
        return -1;
    return sqlite3_changes(reg_store_db(s)) > 0 ? 1 : 0;
}

/* Steps st, handing each row to fn. */
static int list_rows(sqlite3_stmt *st, reg_submission_fn fn, void *ud)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reg_submission sub;
        submission_from_row(st, &sub);
        fn(ud, &sub);
    }
    reg_store_done(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}

int reg_submission_list(struct reg_store *s, const struct reg_submission_filter *f,
                        reg_submission_fn fn, void *ud)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_list);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, f->challenge_id);
    sqlite3_bind_int64(st, 2, f->participant_id);
    sqlite3_bind_int(st, 3, f->state);
    sqlite3_bind_int(st, 4, f->limit > 0 ? f->limit : -1);
    return list_rows(st, fn, ud);
}

int reg_submission_list_own(struct reg_store *s, int64_t participant_id, const char *challenge_id,
                            int limit, reg_submission_fn fn, void *ud)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_list_own);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    reg_store_bind_text(st, 2, challenge_id);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
    return list_rows(st, fn, ud);
}

const char *reg_submission_state_name(enum reg_sub_state state)
{
    if ((int)state < 0 || (int)state > REG_SUB_CANCELLED)
        return "?";
    return state_names[state];
}

int reg_submission_state_parse(const char *name)
{
    for (int i = 0; i <= REG_SUB_CANCELLED; i++) {
        if (strcasecmp(name, state_names[i]) == 0)
            return i;
    }
    return -1;
}

/* Runs an UPDATE of one submission by (id, now); 1 changed, 0 not, -1 error. */
static int update_one(struct reg_store *s, const char *sql, int64_t id, int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    if (reg_store_run(s, st) != 0)
        return -1;
    return sqlite3_changes(reg_store_db(s)) > 0 ? 1 : 0;
}

int reg_submission_requeue(struct reg_store *s, int64_t id, int64_t now)
{
    return update_one(s, sql_requeue, id, now);
}

int reg_submission_regrade(struct reg_store *s, int64_t id, int64_t now)
{
    return update_one(s, sql_regrade, id, now);
}

int reg_submission_count_by_state(struct reg_store *s, int64_t counts[REG_SUB_STATES])
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_count_by_state);
    if (st == NULL)
        return REG_STORE_ERROR;
    for (int i = 0; i < REG_SUB_STATES; i++)
        counts[i] = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int state = sqlite3_column_int(st, 0);
        if (state >= 0 && state < REG_SUB_STATES)
            counts[state] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}
