/* Participants, API keys and grader keys: made at random, stored as SHA-256 only. */
#include "registry/reg_access.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "registry/reg_catalog.h"

static const char sql_participant_insert[] =
    "INSERT INTO participants (name, created_at) VALUES (?1, ?2)";
static const char sql_participant_get[] = "SELECT id, name FROM participants WHERE id = ?1";
static const char sql_participant_list[] =
    "SELECT p.id, p.name, p.created_at, EXISTS (SELECT 1 FROM api_keys k"
    " WHERE k.participant_id = p.id AND k.revoked_at IS NULL) FROM participants p ORDER BY p.id";
static const char sql_key_insert[] =
    "INSERT INTO api_keys (participant_id, key_hash, created_at) VALUES (?1, ?2, ?3)";
static const char sql_key_revoke[] =
    "UPDATE api_keys SET revoked_at = ?2 WHERE participant_id = ?1 AND revoked_at IS NULL";
static const char sql_sessions_end[] =
    "UPDATE participants SET sessions_valid_after = ?2 WHERE id = ?1";
static const char sql_sessions_valid_after[] =
    "SELECT sessions_valid_after FROM participants WHERE id = ?1";
static const char sql_key_find[] =
    "SELECT p.id, p.name FROM api_keys k JOIN participants p ON p.id = k.participant_id"
    " WHERE k.key_hash = ?1 AND k.revoked_at IS NULL";
static const char sql_grader_insert[] =
    "INSERT INTO grader_keys (name, key_hash, created_at) VALUES (?1, ?2, ?3)";
static const char sql_grader_revoke[] =
    "UPDATE grader_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL";
static const char sql_grader_find[] =
    "SELECT name FROM grader_keys WHERE key_hash = ?1 AND revoked_at IS NULL";

static void to_hex(const unsigned char *raw, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * n] = '\0';
}

void reg_access_key_new(char key[REG_ACCESS_KEY_LEN + 1])
{
    unsigned char raw[REG_ACCESS_KEY_LEN / 2];
    /* getrandom never returns short for 32 bytes once the pool is initialised. */
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        abort();
    to_hex(raw, sizeof(raw), key);
}

void reg_access_key_hash(const char *key, char hash[REG_ACCESS_KEY_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(key, strlen(key), md, &len, EVP_sha256(), NULL) != 1 ||
        len != REG_ACCESS_KEY_LEN / 2)
        abort();
    to_hex(md, len, hash);
}

int reg_access_name_check(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 127)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return -1;
    }
    return 0;
}

/* Stores the hash of a new key for the participant; fills key. */
static int key_insert(struct reg_store *s, int64_t participant_id, int64_t now,
                      char key[REG_ACCESS_KEY_LEN + 1])
{
    char hash[REG_ACCESS_KEY_LEN + 1];
    reg_access_key_new(key);
    reg_access_key_hash(key, hash);
    sqlite3_stmt *st = reg_store_stmt(s, sql_key_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    reg_store_bind_text(st, 2, hash);
    sqlite3_bind_int64(st, 3, now);
    return reg_store_run(s, st);
}

/* Sessions issued before now end with the keys they were issued for. */
static int sessions_end(struct reg_store *s, int64_t participant_id, int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_sessions_end);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    sqlite3_bind_int64(st, 2, now);
    return reg_store_run(s, st);
}

static int key_revoke_all(struct reg_store *s, int64_t participant_id, int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_key_revoke);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    sqlite3_bind_int64(st, 2, now);
    int rc = reg_store_run(s, st);
    int revoked = rc == 0 ? sqlite3_changes(reg_store_db(s)) : rc;
    if (revoked >= 0 && (rc = sessions_end(s, participant_id, now)) != 0)
        return rc;
    return revoked;
}

int reg_access_session_valid(struct reg_store *s, int64_t participant_id, int64_t issued_at)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_sessions_valid_after);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, participant_id);
    int rc = sqlite3_step(st);
    int valid = rc == SQLITE_ROW ? issued_at > sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? valid : REG_STORE_ERROR;
}

/* Commits when rc says all went well, rolls back otherwise; returns rc (or the failed
 * commit's error). */
static int finish(struct reg_store *s, int rc)
{
    if (rc < 0) {
        reg_store_rollback(s);
        return rc;
    }
    return reg_store_commit(s) == 0 ? rc : REG_STORE_ERROR;
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

int reg_access_participant_add(struct reg_store *s, const char *name, int64_t now, int64_t *id,
                               char key[REG_ACCESS_KEY_LEN + 1])
{
    if (reg_store_begin(s) != 0)
        return REG_STORE_ERROR;
    int rc = participant_insert(s, name, now, id);
    if (rc == 0)
        rc = key_insert(s, *id, now, key);
    return finish(s, rc);
}

/* Steps a bound statement that selects (id, name) of one participant into p. Returns 0,
 * REG_STORE_NOT_FOUND or REG_STORE_ERROR. */
static int participant_row(sqlite3_stmt *st, struct reg_participant *p)
{
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

int reg_access_participant_get(struct reg_store *s, int64_t id, struct reg_participant *p)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_participant_get);
    if (st == NULL)
        return REG_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return participant_row(st, p);
}

int reg_access_participant_list(struct reg_store *s, reg_access_participant_fn fn, void *ud)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_participant_list);
    if (st == NULL)
        return REG_STORE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reg_participant p;
        p.id = sqlite3_column_int64(st, 0);
        reg_store_column_text(st, 1, p.name, sizeof(p.name));
        fn(ud, &p, sqlite3_column_int(st, 3), sqlite3_column_int64(st, 2));
    }
    reg_store_done(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}

int reg_access_key_rotate(struct reg_store *s, int64_t participant_id, int64_t now,
                          char key[REG_ACCESS_KEY_LEN + 1])
{
    struct reg_participant p;
    if (reg_store_begin(s) != 0)
        return REG_STORE_ERROR;
    int rc = reg_access_participant_get(s, participant_id, &p);
    if (rc == 0)
        rc = key_revoke_all(s, participant_id, now);
    if (rc >= 0)
        rc = key_insert(s, participant_id, now, key);
    return finish(s, rc);
}

int reg_access_key_revoke(struct reg_store *s, int64_t participant_id, int64_t now)
{
    struct reg_participant p;
    if (reg_store_begin(s) != 0)
        return REG_STORE_ERROR;
    int rc = reg_access_participant_get(s, participant_id, &p);
    if (rc == 0)
        rc = key_revoke_all(s, participant_id, now);
    return finish(s, rc);
}

int reg_access_grader_add(struct reg_store *s, const char *name, int64_t now,
                          char key[REG_ACCESS_KEY_LEN + 1])
{
    char hash[REG_ACCESS_KEY_LEN + 1];
    reg_access_key_new(key);
    reg_access_key_hash(key, hash);
    sqlite3_stmt *st = reg_store_stmt(s, sql_grader_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, name);
    reg_store_bind_text(st, 2, hash);
    sqlite3_bind_int64(st, 3, now);
    return reg_store_run(s, st);
}

int reg_access_grader_revoke(struct reg_store *s, const char *name, int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_grader_revoke);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, now);
    int rc = reg_store_run(s, st);
    if (rc == 0 && sqlite3_changes(reg_store_db(s)) == 0)
        return REG_STORE_NOT_FOUND;
    return rc;
}

int reg_access_grader_check(struct reg_store *s, const char *key, char name[64])
{
    if (key == NULL || key[0] == '\0')
        return REG_STORE_NOT_FOUND;
    char hash[REG_ACCESS_KEY_LEN + 1];
    reg_access_key_hash(key, hash);
    sqlite3_stmt *st = reg_store_stmt(s, sql_grader_find);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        reg_store_column_text(st, 0, name, 64);
    reg_store_done(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? REG_STORE_NOT_FOUND : REG_STORE_ERROR;
}

static int key_find(struct reg_store *s, const char *key, struct reg_participant *p)
{
    char hash[REG_ACCESS_KEY_LEN + 1];
    reg_access_key_hash(key, hash);
    sqlite3_stmt *st = reg_store_stmt(s, sql_key_find);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, hash);
    return participant_row(st, p);
}

enum reg_auth reg_access_authenticate(struct reg_store *s, const char *key,
                                      const char *challenge_id, int64_t now,
                                      struct reg_participant *p, struct reg_challenge *c)
{
    if (key == NULL || key[0] == '\0')
        return REG_AUTH_BAD_KEY;
    int rc = key_find(s, key, p);
    if (rc != 0)
        return rc == REG_STORE_NOT_FOUND ? REG_AUTH_BAD_KEY : REG_AUTH_INTERNAL;
    rc = reg_catalog_challenge_get(s, challenge_id != NULL ? challenge_id : "", c);
    if (rc != 0)
        return rc == REG_STORE_NOT_FOUND ? REG_AUTH_UNKNOWN_CHALLENGE : REG_AUTH_INTERNAL;
    rc = reg_catalog_challenge_closed(s, c->id, now);
    if (rc < 0)
        return REG_AUTH_INTERNAL;
    return rc == 1 ? REG_AUTH_CHALLENGE_CLOSED : REG_AUTH_OK;
}
