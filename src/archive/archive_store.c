/* The code archive's records; see archive_store.h. Statements are prepared per call: the
 * archive's queries are few and far between. */
#include "archive/archive_store.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

#define BUSY_WAIT_MS 5000

sqlite3 *archive_store_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 db != NULL ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, BUSY_WAIT_MS);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return db;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("archive", "sqlite prepare failed: %s", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

/* Steps a statement that returns no rows and finalizes it: 0 or -1. */
static int run(sqlite3 *db, sqlite3_stmt *st)
{
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    log_error("archive", "sqlite step failed: %s", sqlite3_errmsg(db));
    return -1;
}

static void column_text(sqlite3_stmt *st, int col, char *dst, size_t dstlen)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(dst, dstlen, "%s", t != NULL ? t : "");
}

int64_t archive_backoff_ms(int failures)
{
    int64_t ms = 1000;
    for (int i = 1; i < failures && ms < 600000; i++)
        ms *= 2;
    return ms < 600000 ? ms : 600000;
}

/* ---- settings ---- */

static const char settings_sql[] =
    "SELECT remote_url, token_file, public_url, github_repo, github_api, max_file_bytes,"
    " max_files, max_total_bytes, publish_at_end, changes, pushed_changes, push_failures,"
    " next_push_at, push_error, COALESCE(published_at, 0), publish_error, next_publish_at,"
    " ssh_key_file, known_hosts_file"
    " FROM archive_settings WHERE challenge_id = ?";

int archive_store_settings(sqlite3 *db, const char *challenge_id, struct archive_settings *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->challenge_id, sizeof(out->challenge_id), "%s", challenge_id);
    snprintf(out->github_api, sizeof(out->github_api), "https://api.github.com");
    tar_limits_default(&out->limits);
    out->publish_at_end = 1;
    sqlite3_stmt *st = prepare(db, settings_sql);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, challenge_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        column_text(st, 0, out->remote_url, sizeof(out->remote_url));
        column_text(st, 1, out->token_file, sizeof(out->token_file));
        column_text(st, 2, out->public_url, sizeof(out->public_url));
        column_text(st, 3, out->github_repo, sizeof(out->github_repo));
        column_text(st, 4, out->github_api, sizeof(out->github_api));
        out->limits.max_file = (uint64_t)sqlite3_column_int64(st, 5);
        out->limits.max_files = (size_t)sqlite3_column_int64(st, 6);
        out->limits.max_total = (uint64_t)sqlite3_column_int64(st, 7);
        out->publish_at_end = sqlite3_column_int(st, 8);
        out->changes = sqlite3_column_int64(st, 9);
        out->pushed_changes = sqlite3_column_int64(st, 10);
        out->push_failures = sqlite3_column_int(st, 11);
        out->next_push_at = sqlite3_column_int64(st, 12);
        column_text(st, 13, out->push_error, sizeof(out->push_error));
        out->published_at = sqlite3_column_int64(st, 14);
        column_text(st, 15, out->publish_error, sizeof(out->publish_error));
        out->next_publish_at = sqlite3_column_int64(st, 16);
        column_text(st, 17, out->ssh_key_file, sizeof(out->ssh_key_file));
        column_text(st, 18, out->known_hosts_file, sizeof(out->known_hosts_file));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int ensure_settings(sqlite3 *db, const char *challenge_id)
{
    sqlite3_stmt *st =
        prepare(db, "INSERT OR IGNORE INTO archive_settings (challenge_id) VALUES (?)");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, challenge_id, -1, SQLITE_TRANSIENT);
    return run(db, st);
}

static int is_setting(const char *column)
{
    static const char *const names[] = {"remote_url",
                                        "token_file",
                                        "public_url",
                                        "github_repo",
                                        "github_api",
                                        "max_file_bytes",
                                        "max_files",
                                        "max_total_bytes",
                                        "publish_at_end",
                                        "published_at",
                                        "ssh_key_file",
                                        "known_hosts_file",
                                        NULL};
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(names[i], column) == 0)
            return 1;
    }
    return 0;
}

static int set_column(sqlite3 *db, const char *challenge_id, const char *column, const char *text,
                      int64_t value)
{
    if (!is_setting(column) || ensure_settings(db, challenge_id) != 0)
        return -1;
    char sql[256];
    /* A new remote has none of the archive yet: everything is due for pushing. */
    snprintf(sql, sizeof(sql), "UPDATE archive_settings SET %s = ?%s WHERE challenge_id = ?",
             column,
             strcmp(column, "remote_url") == 0
                 ? ", changes = changes + 1, pushed_changes = 0, push_failures = 0,"
                   " next_push_at = 0, push_error = ''"
                 : "");
    sqlite3_stmt *st = prepare(db, sql);
    if (st == NULL)
        return -1;
    if (text != NULL)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    else if (value < 0)
        sqlite3_bind_null(st, 1);
    else
        sqlite3_bind_int64(st, 1, value);
    sqlite3_bind_text(st, 2, challenge_id, -1, SQLITE_TRANSIENT);
    return run(db, st);
}

int archive_store_set_text(sqlite3 *db, const char *challenge_id, const char *column,
                           const char *value)
{
    return set_column(db, challenge_id, column, value, 0);
}

int archive_store_set_int(sqlite3 *db, const char *challenge_id, const char *column, int64_t value)
{
    return set_column(db, challenge_id, column, NULL, value);
}

/* ---- code records ---- */

int archive_store_intent(sqlite3 *db, int64_t participant_id, const char *challenge_id,
                         const char *client_submission_id, const char *code_key, int consent,
                         int64_t now, char *msg, size_t msglen)
{
    static const char find_code[] =
        "SELECT code_key FROM archive_code WHERE participant_id = ? AND challenge_id = ?"
        " AND client_submission_id = ?";
    static const char find_sub[] =
        "SELECT id FROM submissions WHERE participant_id = ? AND challenge_id = ?"
        " AND client_submission_id = ?";
    char existing[80] = "";
    int has_code = 0, has_sub = 0;
    for (int q = 0; q < 2; q++) {
        sqlite3_stmt *st = prepare(db, q == 0 ? find_code : find_sub);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, participant_id);
        sqlite3_bind_text(st, 2, challenge_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, client_submission_id, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && q == 0)
            column_text(st, 0, existing, sizeof(existing));
        if (rc == SQLITE_ROW)
            *(q == 0 ? &has_code : &has_sub) = 1;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return -1;
    }
    if (has_code && strcmp(existing, code_key) != 0) {
        snprintf(msg, msglen, "This client_submission_id was already used with other code.");
        return 1;
    }
    if (!has_code && has_sub) {
        snprintf(msg, msglen, "This client_submission_id was already used without code.");
        return 1;
    }
    sqlite3_stmt *st = prepare(
        db, "INSERT INTO archive_code (participant_id, challenge_id, client_submission_id,"
            " code_key, created_at, consent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            " ON CONFLICT (participant_id, challenge_id, client_submission_id) DO UPDATE SET"
            " consent_at = COALESCE(consent_at, excluded.consent_at)");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, participant_id);
    sqlite3_bind_text(st, 2, challenge_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, client_submission_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, code_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now);
    if (consent)
        sqlite3_bind_int64(st, 6, now);
    else
        sqlite3_bind_null(st, 6);
    return run(db, st);
}

int archive_store_consent(sqlite3 *db, int64_t participant_id, const char *challenge_id,
                          int64_t submission_id, int64_t now, int64_t *consent_at)
{
    sqlite3_stmt *st = prepare(
        db, "SELECT s.client_submission_id, c.code_key IS NOT NULL, COALESCE(c.consent_at, 0)"
            " FROM submissions s LEFT JOIN archive_code c ON c.participant_id = s.participant_id"
            " AND c.challenge_id = s.challenge_id"
            " AND c.client_submission_id = s.client_submission_id"
            " WHERE s.id = ? AND s.participant_id = ? AND s.challenge_id = ?");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, submission_id);
    sqlite3_bind_int64(st, 2, participant_id);
    sqlite3_bind_text(st, 3, challenge_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    char csid[128] = "";
    int has_code = 0;
    int64_t before = 0;
    if (rc == SQLITE_ROW) {
        column_text(st, 0, csid, sizeof(csid));
        has_code = sqlite3_column_int(st, 1);
        before = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return -2;
    if (rc != SQLITE_ROW)
        return -1;
    if (!has_code)
        return -3;
    if (before > 0) {
        *consent_at = before;
        return 0;
    }
    st = prepare(db, "UPDATE archive_code SET consent_at = ? WHERE participant_id = ?"
                     " AND challenge_id = ? AND client_submission_id = ? AND consent_at IS NULL");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, participant_id);
    sqlite3_bind_text(st, 3, challenge_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, csid, -1, SQLITE_TRANSIENT);
    *consent_at = now;
    return run(db, st);
}

#define ROW_COLUMNS                                                                                \
    "SELECT c.participant_id, COALESCE(p.name, ''), c.challenge_id, c.client_submission_id,"       \
    " c.code_key, c.created_at, COALESCE(c.consent_at, 0), COALESCE(c.commit_sha, ''),"            \
    " COALESCE(c.archived_at, 0), COALESCE(c.refused, ''), COALESCE(c.noted_at, 0),"               \
    " COALESCE(s.id, 0), COALESCE(s.round_number, 0), COALESCE(s.state, 0),"                       \
    " COALESCE(s.has_score, 0), COALESCE(s.has_secondary, 0), COALESCE(s.score, 0),"               \
    " COALESCE(s.score_secondary, 0), COALESCE(s.created_at, 0), COALESCE(s.updated_at, 0),"       \
    " COALESCE(s.description, '')"                                                                 \
    " FROM archive_code c LEFT JOIN participants p ON p.id = c.participant_id"                     \
    " LEFT JOIN submissions s ON s.participant_id = c.participant_id"                              \
    " AND s.challenge_id = c.challenge_id AND s.client_submission_id = c.client_submission_id "

static void read_row(sqlite3_stmt *st, struct archive_row *r)
{
    memset(r, 0, sizeof(*r));
    r->participant_id = sqlite3_column_int64(st, 0);
    column_text(st, 1, r->participant_name, sizeof(r->participant_name));
    column_text(st, 2, r->challenge_id, sizeof(r->challenge_id));
    column_text(st, 3, r->client_submission_id, sizeof(r->client_submission_id));
    column_text(st, 4, r->code_key, sizeof(r->code_key));
    r->created_at = sqlite3_column_int64(st, 5);
    r->consent_at = sqlite3_column_int64(st, 6);
    column_text(st, 7, r->commit_sha, sizeof(r->commit_sha));
    r->archived_at = sqlite3_column_int64(st, 8);
    column_text(st, 9, r->refused, sizeof(r->refused));
    r->noted_at = sqlite3_column_int64(st, 10);
    r->submission_id = sqlite3_column_int64(st, 11);
    r->round = sqlite3_column_int(st, 12);
    r->state = sqlite3_column_int(st, 13);
    r->has_score = sqlite3_column_int(st, 14);
    r->has_secondary = sqlite3_column_int(st, 15);
    r->score = sqlite3_column_double(st, 16);
    r->score_secondary = sqlite3_column_double(st, 17);
    r->submitted_at = sqlite3_column_int64(st, 18);
    r->updated_at = sqlite3_column_int64(st, 19);
    column_text(st, 20, r->description, sizeof(r->description));
}

/* Steps st (bound already) and calls cb per row; finalizes it. */
static int each_row(sqlite3_stmt *st, archive_row_cb cb, void *ud)
{
    int n = 0, rc;
    struct archive_row r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_row(st, &r);
        cb(ud, &r);
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

int archive_store_list(sqlite3 *db, const char *challenge_id, int64_t participant_id,
                       archive_row_cb cb, void *ud)
{
    sqlite3_stmt *st = prepare(db, ROW_COLUMNS "WHERE c.challenge_id = ?1"
                                               " AND (?2 = 0 OR c.participant_id = ?2)"
                                               " ORDER BY c.created_at, c.rowid");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, challenge_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, participant_id);
    return each_row(st, cb, ud);
}

int archive_store_todo(sqlite3 *db, int limit, archive_row_cb cb, void *ud)
{
    sqlite3_stmt *st = prepare(db, ROW_COLUMNS "WHERE c.consent_at IS NOT NULL"
                                               " AND c.commit_sha IS NULL AND c.refused IS NULL"
                                               " AND s.id IS NOT NULL"
                                               " ORDER BY s.created_at, s.id LIMIT ?");
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, limit);
    return each_row(st, cb, ud);
}

int archive_store_notes_due(sqlite3 *db, int limit, archive_row_cb cb, void *ud)
{
    sqlite3_stmt *st = prepare(db, ROW_COLUMNS "WHERE c.commit_sha IS NOT NULL AND s.state = 2"
                                               " AND (c.noted_at IS NULL"
                                               " OR s.updated_at > c.noted_at)"
                                               " ORDER BY s.updated_at LIMIT ?");
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, limit);
    return each_row(st, cb, ud);
}

/* Runs sql (bound: ?1 value, ?2 participant, ?3 challenge, ?4 client id) on r's row. */
static int update_row(sqlite3 *db, const char *sql, const struct archive_row *r, const char *text,
                      int64_t value)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (st == NULL)
        return -1;
    if (text != NULL)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, 1, value);
    sqlite3_bind_int64(st, 2, r->participant_id);
    sqlite3_bind_text(st, 3, r->challenge_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, r->client_submission_id, -1, SQLITE_TRANSIENT);
    return run(db, st);
}

static int bump_changes(sqlite3 *db, const char *challenge_id)
{
    if (ensure_settings(db, challenge_id) != 0)
        return -1;
    sqlite3_stmt *st =
        prepare(db, "UPDATE archive_settings SET changes = changes + 1 WHERE challenge_id = ?");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, challenge_id, -1, SQLITE_TRANSIENT);
    return run(db, st);
}

#define WHERE_ROW " WHERE participant_id = ?2 AND challenge_id = ?3 AND client_submission_id = ?4"

int archive_store_set_commit(sqlite3 *db, const struct archive_row *r, const char *sha, int64_t now)
{
    if (update_row(db, "UPDATE archive_code SET commit_sha = ?1" WHERE_ROW, r, sha, 0) != 0 ||
        update_row(db, "UPDATE archive_code SET archived_at = ?1" WHERE_ROW, r, NULL, now) != 0)
        return -1;
    return bump_changes(db, r->challenge_id);
}

int archive_store_set_refused(sqlite3 *db, const struct archive_row *r, const char *why)
{
    return update_row(db, "UPDATE archive_code SET refused = ?1" WHERE_ROW, r, why, 0);
}

int archive_store_set_noted(sqlite3 *db, const struct archive_row *r)
{
    if (update_row(db, "UPDATE archive_code SET noted_at = ?1" WHERE_ROW, r, NULL, r->updated_at) !=
        0)
        return -1;
    return bump_changes(db, r->challenge_id);
}

static int due_ids(sqlite3 *db, const char *sql, int64_t now, char (*out)[64], int max)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, max);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
        column_text(st, 0, out[n++], 64);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? n : -1;
}

int archive_store_push_due(sqlite3 *db, int64_t now, char (*out)[64], int max)
{
    return due_ids(db,
                   "SELECT challenge_id FROM archive_settings WHERE remote_url != ''"
                   " AND changes > pushed_changes AND next_push_at <= ?1 LIMIT ?2",
                   now, out, max);
}

int archive_store_publish_due(sqlite3 *db, int64_t now, char (*out)[64], int max)
{
    return due_ids(db,
                   "SELECT a.challenge_id FROM archive_settings a WHERE a.publish_at_end = 1"
                   " AND a.published_at IS NULL AND a.next_publish_at <= ?1"
                   " AND (a.public_url != '' OR a.github_repo != '')"
                   " AND (SELECT MAX(ends_at) FROM rounds r WHERE r.challenge_id = a.challenge_id)"
                   " < ?1 LIMIT ?2",
                   now, out, max);
}

int archive_store_pushed(sqlite3 *db, const char *challenge_id, int64_t changes_at_start,
                         const char *err, int64_t now)
{
    sqlite3_stmt *st;
    if (err == NULL) {
        st = prepare(db, "UPDATE archive_settings SET pushed_changes = MAX(pushed_changes, ?1),"
                         " push_failures = 0, next_push_at = 0, push_error = ''"
                         " WHERE challenge_id = ?2");
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, changes_at_start);
    } else {
        struct archive_settings s;
        if (archive_store_settings(db, challenge_id, &s) != 0)
            return -1;
        st = prepare(db, "UPDATE archive_settings SET push_failures = push_failures + 1,"
                         " next_push_at = ?1, push_error = ?3 WHERE challenge_id = ?2");
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, now + archive_backoff_ms(s.push_failures + 1));
        sqlite3_bind_text(st, 3, err, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(st, 2, challenge_id, -1, SQLITE_TRANSIENT);
    return run(db, st);
}

int archive_store_published(sqlite3 *db, const char *challenge_id, const char *err, int64_t now)
{
    if (ensure_settings(db, challenge_id) != 0)
        return -1;
    sqlite3_stmt *st;
    if (err == NULL) {
        st = prepare(db, "UPDATE archive_settings SET published_at = ?1, publish_error = ''"
                         " WHERE challenge_id = ?2");
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, now);
    } else {
        st = prepare(db, "UPDATE archive_settings SET publish_error = ?3, next_publish_at = ?1"
                         " WHERE challenge_id = ?2");
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, now + 60000);
        sqlite3_bind_text(st, 3, err, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(st, 2, challenge_id, -1, SQLITE_TRANSIENT);
    return run(db, st);
}
