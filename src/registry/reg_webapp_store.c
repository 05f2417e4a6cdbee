/* The webapp backend's tables in the local registry: participant links, submission mirrors
 * and their synced markers. */
#include "registry/reg_webapp_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "registry/reg_access.h"
#include "registry/reg_catalog.h"
#include "registry/reg_submission.h"

static const char sql_participant_find[] =
    "SELECT p.id, p.name FROM webapp_participants w JOIN participants p ON p.id = w.participant_id"
    " WHERE w.webapp_id = ?1";
static const char sql_participant_insert[] =
    "INSERT INTO participants (name, created_at) VALUES (?1, ?2)";
static const char sql_participant_link[] =
    "INSERT INTO webapp_participants (webapp_id, participant_id, named) VALUES (?1, ?2, ?3)";
static const char sql_participant_rename[] =
    "UPDATE participants SET name = ?2 WHERE id = ?1"
    " AND EXISTS (SELECT 1 FROM webapp_participants WHERE participant_id = ?1 AND named = 0)";
static const char sql_participant_named[] =
    "UPDATE webapp_participants SET named = 1 WHERE participant_id = ?1";
static const char sql_find[] = "SELECT id FROM submissions WHERE participant_id = ?1"
                               " AND challenge_id = ?2 AND client_submission_id = ?3";
static const char sql_round[] =
    "SELECT number FROM rounds WHERE challenge_id = ?1 ORDER BY"
    " CASE WHEN starts_at <= ?2 AND ends_at > ?2 THEN 0 WHEN starts_at <= ?2 THEN 1 ELSE 2 END,"
    " CASE WHEN starts_at <= ?2 AND ends_at > ?2 THEN -number"
    " WHEN starts_at <= ?2 THEN -ends_at ELSE starts_at END LIMIT 1";
static const char sql_insert[] =
    "INSERT INTO submissions (participant_id, challenge_id, round_number, client_submission_id,"
    " file_key, data, description, state, late, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?9)";
static const char sql_link_insert[] =
    "INSERT INTO webapp_submissions (submission_id, webapp_id, synced_state, synced_at,"
    " submissions_remaining, reset_at) VALUES (?1, ?2, 0, ?3, ?4, ?5)";
static const char sql_link_get[] =
    "SELECT webapp_id, synced_state, submissions_remaining, reset_at FROM webapp_submissions"
    " WHERE submission_id = ?1";
static const char sql_link_synced[] =
    "UPDATE webapp_submissions SET synced_state = ?2, synced_at = ?3 WHERE submission_id = ?1";

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* Commits when rc >= 0, rolls back otherwise; returns rc (or the failed commit's error). */
static int finish(struct reg_store *s, int rc)
{
    if (rc < 0) {
        reg_store_rollback(s);
        return rc;
    }
    return reg_store_commit(s) == 0 ? rc : REG_STORE_ERROR;
}

/* ---- participants ---- */

static int participant_find(struct reg_store *s, int64_t webapp_id, struct reg_participant *p)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_participant_find);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, webapp_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p->id = sqlite3_column_int64(st, 0);
        reg_store_column_text(st, 1, p->name, sizeof(p->name));
    }
    reg_store_done(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? REG_STORE_NOT_FOUND : REG_STORE_ERROR;
}

static int participant_insert(struct reg_store *s, const char *name, int64_t now, int64_t *id)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_participant_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, now);
    int rc = reg_store_run(s, st);
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(reg_store_db(s));
    return rc;
}

/* Inserts the participant under the first free name of: the webapp's, the webapp's with its
 * id, "crowdai-<id>", the same with the time. */
static int participant_create(struct reg_store *s, int64_t webapp_id, const char *name, int64_t now,
                              struct reg_participant *p)
{
    int named = name != NULL && reg_access_name_check(name) == 0 && strlen(name) <= 100;
    char names[4][sizeof(p->name)];
    snprintf(names[0], sizeof(names[0]), "%s", named ? name : "");
    snprintf(names[1], sizeof(names[1]), "%s (crowdAI %" PRId64 ")", named ? name : "", webapp_id);
    snprintf(names[2], sizeof(names[2]), "crowdai-%" PRId64, webapp_id);
    snprintf(names[3], sizeof(names[3]), "crowdai-%" PRId64 "-%" PRId64, webapp_id, now);
    int rc = REG_STORE_EXISTS;
    for (int i = named ? 0 : 2; i < 4 && rc == REG_STORE_EXISTS; i++) {
        rc = participant_insert(s, names[i], now, &p->id);
        if (rc == 0)
            snprintf(p->name, sizeof(p->name), "%s", names[i]);
    }
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = reg_store_stmt(s, sql_participant_link);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, webapp_id);
    sqlite3_bind_int64(st, 2, p->id);
    sqlite3_bind_int(st, 3, named);
    return reg_store_run(s, st);
}

int reg_webapp_store_participant(struct reg_store *s, int64_t webapp_id, const char *name,
                                 int64_t now, struct reg_participant *p)
{
    int rc = participant_find(s, webapp_id, p);
    if (rc == REG_STORE_NOT_FOUND) {
        if (reg_store_begin(s) != 0)
            return REG_STORE_ERROR;
        rc = participant_find(s, webapp_id, p); /* another process may have made it meanwhile */
        if (rc == REG_STORE_NOT_FOUND)
            rc = participant_create(s, webapp_id, name, now, p);
        rc = finish(s, rc);
    }
    if (rc == 0 && name != NULL && reg_webapp_store_participant_name(s, p->id, name) == 1)
        snprintf(p->name, sizeof(p->name), "%s", name);
    return rc;
}

static int participant_named(struct reg_store *s, int64_t participant_id)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_participant_named);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    return reg_store_run(s, st);
}

int reg_webapp_store_participant_name(struct reg_store *s, int64_t participant_id, const char *name)
{
    if (reg_access_name_check(name) != 0 || strlen(name) > 100)
        return 0;
    sqlite3_stmt *st = reg_store_stmt(s, sql_participant_rename);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    reg_store_bind_text(st, 2, name);
    int rc = reg_store_run(s, st);
    if (rc == 0 && sqlite3_changes(reg_store_db(s)) > 0)
        return participant_named(s, participant_id) == 0 ? 1 : REG_STORE_ERROR;
    return rc == REG_STORE_EXISTS ? 0 : rc;
}

/* ---- submissions ---- */

int reg_webapp_store_find(struct reg_store *s, int64_t participant_id, const char *challenge_id,
                          const char *client_submission_id, int64_t *id)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_find);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    reg_store_bind_text(st, 2, or_empty(challenge_id));
    reg_store_bind_text(st, 3, or_empty(client_submission_id));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    reg_store_done(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}

int reg_webapp_store_round(struct reg_store *s, const char *challenge_id, int64_t now,
                           struct reg_round *r)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_round);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, challenge_id);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    int number = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    reg_store_done(st);
    if (rc == SQLITE_DONE)
        return REG_STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return REG_STORE_ERROR;
    return reg_catalog_round_get(s, challenge_id, number, r);
}

static int mirror_insert(struct reg_store *s, const struct reg_submit_request *req,
                         const struct reg_round *round, int64_t *id)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, req->participant_id);
    reg_store_bind_text(st, 2, round->challenge_id);
    sqlite3_bind_int(st, 3, round->number);
    reg_store_bind_text(st, 4, or_empty(req->client_submission_id));
    reg_store_bind_text(st, 5, or_empty(req->file_key));
    reg_store_bind_text(st, 6, req->data);
    reg_store_bind_text(st, 7, or_empty(req->description));
    sqlite3_bind_int(st, 8, req->now >= round->ends_at);
    sqlite3_bind_int64(st, 9, req->now);
    int rc = reg_store_run(s, st);
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(reg_store_db(s));
    return rc;
}

static int link_insert(struct reg_store *s, int64_t id, const struct reg_webapp_link *link,
                       int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_link_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, link->webapp_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int(st, 4, link->remaining);
    sqlite3_bind_int64(st, 5, link->reset_at);
    return reg_store_run(s, st);
}

int reg_webapp_store_insert(struct reg_store *s, const struct reg_submit_request *req,
                            const struct reg_round *round, const struct reg_webapp_link *link,
                            int64_t *id)
{
    if (reg_store_begin(s) != 0)
        return REG_STORE_ERROR;
    int rc = mirror_insert(s, req, round, id);
    if (rc == 0)
        rc = link_insert(s, *id, link, req->now);
    return finish(s, rc);
}

int reg_webapp_store_link(struct reg_store *s, int64_t submission_id, struct reg_webapp_link *l)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_link_get);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, submission_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        l->webapp_id = sqlite3_column_int64(st, 0);
        l->synced_state = (enum reg_sub_state)sqlite3_column_int(st, 1);
        l->remaining = sqlite3_column_int(st, 2);
        l->reset_at = sqlite3_column_int64(st, 3);
    }
    reg_store_done(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? REG_STORE_NOT_FOUND : REG_STORE_ERROR;
}

static int link_synced(struct reg_store *s, int64_t submission_id, enum reg_sub_state state,
                       int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_link_synced);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, submission_id);
    sqlite3_bind_int(st, 2, (int)state);
    sqlite3_bind_int64(st, 3, now);
    return reg_store_run(s, st);
}

int reg_webapp_store_apply(struct reg_store *s, int64_t submission_id,
                           const struct reg_webapp_change *c, int64_t now)
{
    if (reg_store_begin(s) != 0)
        return -1;
    int result;
    if (c->state == REG_SUB_COMPLETE)
        result = reg_submission_record_score(s, submission_id, c->score, c->has_secondary,
                                             c->score_secondary, now);
    else
        result = reg_submission_set_state(s, submission_id, c->state, c->message, now);
    if (result >= 0 && link_synced(s, submission_id, c->state, now) != 0)
        result = -1;
    return finish(s, result) < 0 ? -1 : result;
}
