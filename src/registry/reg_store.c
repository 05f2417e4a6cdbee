/* The registry's SQLite core: connection settings, the schema and its migrations, the
 * prepared-statement cache and transactions. */
#include "registry/reg_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"

#define STORE_MAX_STMTS    64
#define STORE_BUSY_WAIT_MS 2000

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *stmt;
};

struct reg_store {
    sqlite3 *db;
    int nslots;
    struct stmt_slot slots[STORE_MAX_STMTS];
};

/* Version 1: challenges, rounds, participants with hashed API keys, grader keys and
 * submissions with their scores. Times are Unix milliseconds. */
static const char schema_v1[] =
    "CREATE TABLE challenges ("
    " id TEXT PRIMARY KEY,"
    " title TEXT NOT NULL,"
    " pool TEXT NOT NULL,"
    " primary_name TEXT NOT NULL,"
    " primary_sort INTEGER NOT NULL CHECK (primary_sort IN (0, 1)),"
    " secondary_name TEXT NOT NULL DEFAULT '',"
    " secondary_sort INTEGER NOT NULL DEFAULT 0 CHECK (secondary_sort IN (0, 1)),"
    " max_upload_bytes INTEGER NOT NULL,"
    " accepted_types TEXT NOT NULL DEFAULT '',"
    " time_limit_ms INTEGER NOT NULL,"
    " max_attempts INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE rounds ("
    " id INTEGER PRIMARY KEY,"
    " challenge_id TEXT NOT NULL REFERENCES challenges(id),"
    " number INTEGER NOT NULL CHECK (number >= 1),"
    " starts_at INTEGER NOT NULL,"
    " ends_at INTEGER NOT NULL,"
    " submission_limit INTEGER NOT NULL DEFAULT 0,"
    " period INTEGER NOT NULL DEFAULT 0 CHECK (period IN (0, 1, 2)),"
    " failed_refunded INTEGER NOT NULL DEFAULT 0,"
    " max_parallel INTEGER NOT NULL DEFAULT 0,"
    " has_min_score INTEGER NOT NULL DEFAULT 0,"
    " min_score REAL NOT NULL DEFAULT 0,"
    " accept_late INTEGER NOT NULL DEFAULT 0,"
    " CHECK (ends_at > starts_at),"
    " UNIQUE (challenge_id, number));"
    "CREATE TABLE participants ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE api_keys ("
    " id INTEGER PRIMARY KEY,"
    " participant_id INTEGER NOT NULL REFERENCES participants(id),"
    " key_hash TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER);"
    "CREATE INDEX api_keys_active ON api_keys(participant_id) WHERE revoked_at IS NULL;"
    "CREATE TABLE grader_keys ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " key_hash TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER);"
    "CREATE UNIQUE INDEX grader_keys_active ON grader_keys(name) WHERE revoked_at IS NULL;"
    "CREATE TABLE submissions ("
    " id INTEGER PRIMARY KEY,"
    " participant_id INTEGER NOT NULL REFERENCES participants(id),"
    " challenge_id TEXT NOT NULL,"
    " round_number INTEGER NOT NULL,"
    " client_submission_id TEXT NOT NULL,"
    " file_key TEXT NOT NULL DEFAULT '',"
    " data TEXT,"
    " description TEXT NOT NULL DEFAULT '',"
    " state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 5),"
    " late INTEGER NOT NULL DEFAULT 0,"
    " has_score INTEGER NOT NULL DEFAULT 0,"
    " score REAL,"
    " has_secondary INTEGER NOT NULL DEFAULT 0,"
    " score_secondary REAL,"
    " message TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " FOREIGN KEY (challenge_id, round_number) REFERENCES rounds(challenge_id, number),"
    " UNIQUE (participant_id, challenge_id, client_submission_id));"
    "CREATE INDEX submissions_quota"
    " ON submissions(participant_id, challenge_id, round_number, created_at);"
    "CREATE INDEX submissions_in_flight"
    " ON submissions(participant_id, challenge_id) WHERE state IN (0, 1);"
    "CREATE INDEX submissions_board ON submissions(challenge_id, state, round_number);";

/* Version 2: session tokens issued before this time are refused (set when the participant's
 * API key is rotated or revoked); submissions counted by state from an index. */
static const char schema_v2[] =
    "ALTER TABLE participants ADD COLUMN sessions_valid_after INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX submissions_state ON submissions(state);";

/* Version 3: the crowdAI webapp backend (reg_webapp.c) mirrors the webapp here: which local
 * participant stands for each webapp participant (named: the name came from the webapp), and
 * for each submission made through the webapp its id there, the last state the webapp
 * confirmed (the "synced" marker of exactly-once updates) and the quota it reported. */
static const char schema_v3[] =
    "CREATE TABLE IF NOT EXISTS webapp_participants ("
    " webapp_id INTEGER PRIMARY KEY,"
    " participant_id INTEGER NOT NULL UNIQUE REFERENCES participants(id),"
    " named INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS webapp_submissions ("
    " submission_id INTEGER PRIMARY KEY REFERENCES submissions(id),"
    " webapp_id INTEGER NOT NULL UNIQUE,"
    " synced_state INTEGER NOT NULL CHECK (synced_state BETWEEN 0 AND 5),"
    " synced_at INTEGER NOT NULL,"
    " submissions_remaining INTEGER NOT NULL DEFAULT -1,"
    " reset_at INTEGER NOT NULL DEFAULT 0);";

/* Version 4: the code archive (src/archive). archive_code holds the code sent with a
 * submission (named by the participant's client_submission_id, so it is recorded before the
 * submission exists), the participant's consent and its time, and what archiving did: the
 * commit, or why the code was refused, and when the scores note was written.
 * archive_settings holds each challenge's remote, publishing and limits, and the push and
 * publish progress (changes counts commits and notes; pushed_changes what reached the
 * remote). */
static const char schema_v4[] =
    "CREATE TABLE IF NOT EXISTS archive_code ("
    " participant_id INTEGER NOT NULL REFERENCES participants(id),"
    " challenge_id TEXT NOT NULL,"
    " client_submission_id TEXT NOT NULL,"
    " code_key TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " consent_at INTEGER,"
    " commit_sha TEXT,"
    " archived_at INTEGER,"
    " refused TEXT,"
    " noted_at INTEGER,"
    " PRIMARY KEY (participant_id, challenge_id, client_submission_id));"
    "CREATE INDEX IF NOT EXISTS archive_code_todo ON archive_code(created_at)"
    " WHERE consent_at IS NOT NULL AND commit_sha IS NULL AND refused IS NULL;"
    "CREATE TABLE IF NOT EXISTS archive_settings ("
    " challenge_id TEXT PRIMARY KEY,"
    " remote_url TEXT NOT NULL DEFAULT '',"
    " token_file TEXT NOT NULL DEFAULT '',"
    " ssh_key_file TEXT NOT NULL DEFAULT '',"
    " known_hosts_file TEXT NOT NULL DEFAULT '',"
    " public_url TEXT NOT NULL DEFAULT '',"
    " github_repo TEXT NOT NULL DEFAULT '',"
    " github_api TEXT NOT NULL DEFAULT 'https://api.github.com',"
    " max_file_bytes INTEGER NOT NULL DEFAULT 10485760,"
    " max_files INTEGER NOT NULL DEFAULT 1000,"
    " max_total_bytes INTEGER NOT NULL DEFAULT 104857600,"
    " publish_at_end INTEGER NOT NULL DEFAULT 1,"
    " changes INTEGER NOT NULL DEFAULT 0,"
    " pushed_changes INTEGER NOT NULL DEFAULT 0,"
    " push_failures INTEGER NOT NULL DEFAULT 0,"
    " next_push_at INTEGER NOT NULL DEFAULT 0,"
    " push_error TEXT NOT NULL DEFAULT '',"
    " published_at INTEGER,"
    " publish_error TEXT NOT NULL DEFAULT '',"
    " next_publish_at INTEGER NOT NULL DEFAULT 0);";

/* Version 5: the web pages. Each challenge says how many digits after the decimal point its
 * leaderboard shows; a participant's own submissions to a challenge are listed newest first
 * from an index (reg_submission_list_own). */
static const char schema_v5[] =
    "ALTER TABLE challenges ADD COLUMN score_precision INTEGER NOT NULL DEFAULT 3"
    " CHECK (score_precision BETWEEN 0 AND 12);"
    "CREATE INDEX IF NOT EXISTS submissions_own"
    " ON submissions(participant_id, challenge_id, created_at);";

/* migrations[v] takes a database from version v to v + 1. */
static const char *const migrations[REG_STORE_SCHEMA_VERSION] = {schema_v1, schema_v2, schema_v3,
                                                                 schema_v4, schema_v5};

static void store_error(char *err, size_t errlen, const char *what, sqlite3 *db)
{
    snprintf(err, errlen, "%s: %s", what, db != NULL ? sqlite3_errmsg(db) : "out of memory");
}

static int store_exec(struct reg_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    log_error("registry", "sqlite exec failed: %s", msg != NULL ? msg : "?");
    sqlite3_free(msg);
    return REG_STORE_ERROR;
}

static int store_user_version(struct reg_store *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int version = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return version;
}

static int store_migrate_all(struct reg_store *s, char *err, size_t errlen)
{
    int version = store_user_version(s);
    if (version < 0) {
        store_error(err, errlen, "cannot read the schema version", s->db);
        return -1;
    }
    if (version > REG_STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "database schema version %d is newer than this program's (%d)",
                 version, REG_STORE_SCHEMA_VERSION);
        return -1;
    }
    for (int v = version; v < REG_STORE_SCHEMA_VERSION; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (store_exec(s, migrations[v]) != 0 || store_exec(s, pragma) != 0) {
            store_error(err, errlen, "schema migration failed", s->db);
            return -1;
        }
        log_info("registry", "schema migrated to version %d", v + 1);
    }
    return 0;
}

/* Runs the migrations inside one write transaction, so that two processes opening a new
 * database at once do not both create the schema. */
static int store_migrate(struct reg_store *s, char *err, size_t errlen)
{
    if (reg_store_begin(s) != 0) {
        store_error(err, errlen, "cannot start the schema migration", s->db);
        return -1;
    }
    if (store_migrate_all(s, err, errlen) != 0) {
        reg_store_rollback(s);
        return -1;
    }
    if (reg_store_commit(s) != 0) {
        store_error(err, errlen, "cannot commit the schema migration", s->db);
        return -1;
    }
    return 0;
}

static int store_journal_is_wal(struct reg_store *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
        return 0;
    int ok = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        /* An in-memory database (tests) cannot use a WAL and says "memory". */
        ok = mode != NULL && (strcmp(mode, "wal") == 0 || strcmp(mode, "memory") == 0);
    }
    sqlite3_finalize(st);
    return ok;
}

static int store_configure(struct reg_store *s, char *err, size_t errlen)
{
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_WAIT_MS);
    if (!store_journal_is_wal(s)) {
        store_error(err, errlen, "cannot switch the database to WAL mode", s->db);
        return -1;
    }
    if (store_exec(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON") != 0) {
        store_error(err, errlen, "cannot configure the database", s->db);
        return -1;
    }
    return 0;
}

struct reg_store *reg_store_open(const char *path, char *err, size_t errlen)
{
    struct reg_store *s = xcalloc(1, sizeof(*s));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        store_error(err, errlen, "cannot open the registry database", s->db);
        goto out_close;
    }
    if (store_configure(s, err, errlen) != 0 || store_migrate(s, err, errlen) != 0)
        goto out_close;
    return s;
out_close:
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

void reg_store_close(struct reg_store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nslots; i++)
        sqlite3_finalize(s->slots[i].stmt);
    if (sqlite3_close(s->db) != SQLITE_OK)
        log_error("registry", "sqlite close failed: %s", sqlite3_errmsg(s->db));
    free(s);
}

sqlite3 *reg_store_db(struct reg_store *s)
{
    return s->db;
}

static sqlite3_stmt *store_prepare(struct reg_store *s, const char *sql)
{
    if (s->nslots == STORE_MAX_STMTS) {
        log_error("registry", "statement cache full (%d)", STORE_MAX_STMTS);
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error("registry", "sqlite prepare failed: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    s->slots[s->nslots].sql = sql;
    s->slots[s->nslots].stmt = st;
    s->nslots++;
    return st;
}

sqlite3_stmt *reg_store_stmt(struct reg_store *s, const char *sql)
{
    for (int i = 0; i < s->nslots; i++) {
        if (s->slots[i].sql == sql) {
            sqlite3_reset(s->slots[i].stmt);
            sqlite3_clear_bindings(s->slots[i].stmt);
            return s->slots[i].stmt;
        }
    }
    return store_prepare(s, sql);
}

void reg_store_done(sqlite3_stmt *st)
{
    if (st != NULL)
        sqlite3_reset(st);
}

int reg_store_run(struct reg_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return REG_STORE_EXISTS;
    log_error("registry", "sqlite step failed: %s", sqlite3_errmsg(s->db));
    return REG_STORE_ERROR;
}

int reg_store_begin(struct reg_store *s)
{
    return store_exec(s, "BEGIN IMMEDIATE");
}

int reg_store_commit(struct reg_store *s)
{
    return store_exec(s, "COMMIT");
}

void reg_store_rollback(struct reg_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        store_exec(s, "ROLLBACK");
}

void reg_store_column_text(sqlite3_stmt *st, int col, char *dst, size_t dstlen)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    snprintf(dst, dstlen, "%s", text != NULL ? text : "");
}

int reg_store_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s == NULL)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}
