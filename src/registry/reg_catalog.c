/* Challenges and rounds: the definitions every submission rule reads. */
#include "registry/reg_catalog.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHALLENGE_COLUMNS                                                                          \
    "id, title, pool, primary_name, primary_sort, secondary_name, secondary_sort,"                 \
    " max_upload_bytes, accepted_types, time_limit_ms, max_attempts, score_precision"
#define ROUND_COLUMNS                                                                              \
    "id, challenge_id, number, starts_at, ends_at, submission_limit, period, failed_refunded,"     \
    " max_parallel, has_min_score, min_score, accept_late"

static const char sql_challenge_insert[] =
    "INSERT INTO challenges (" CHALLENGE_COLUMNS ", created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?12, ?12)";
static const char sql_challenge_update[] =
    "UPDATE challenges SET title = ?2, pool = ?3, primary_name = ?4, primary_sort = ?5,"
    " secondary_name = ?6, secondary_sort = ?7, max_upload_bytes = ?8, accepted_types = ?9,"
    " time_limit_ms = ?10, max_attempts = ?11, score_precision = ?13, updated_at = ?12"
    " WHERE id = ?1";
static const char sql_challenge_get[] =
    "SELECT " CHALLENGE_COLUMNS " FROM challenges WHERE id = ?1";
static const char sql_challenge_list[] = "SELECT " CHALLENGE_COLUMNS " FROM challenges ORDER BY id";
static const char sql_challenge_last_round[] =
    "SELECT ends_at, accept_late FROM rounds WHERE challenge_id = ?1"
    " ORDER BY ends_at DESC, number DESC LIMIT 1";
static const char sql_round_insert[] =
    "INSERT INTO rounds (challenge_id, number, starts_at, ends_at, submission_limit, period,"
    " failed_refunded, max_parallel, has_min_score, min_score, accept_late)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char sql_round_update[] =
    "UPDATE rounds SET starts_at = ?3, ends_at = ?4, submission_limit = ?5, period = ?6,"
    " failed_refunded = ?7, max_parallel = ?8, has_min_score = ?9, min_score = ?10,"
    " accept_late = ?11 WHERE challenge_id = ?1 AND number = ?2";
static const char sql_round_get[] =
    "SELECT " ROUND_COLUMNS " FROM rounds WHERE challenge_id = ?1 AND number = ?2";
static const char sql_round_list[] =
    "SELECT " ROUND_COLUMNS " FROM rounds WHERE challenge_id = ?1 ORDER BY number";

/* ---- validation ---- */

void reg_catalog_challenge_defaults(struct reg_challenge *c)
{
    memset(c, 0, sizeof(*c));
    c->primary_sort = REG_SORT_DESC;
    c->secondary_sort = REG_SORT_DESC;
    c->max_upload_bytes = 50LL * 1024 * 1024;
    c->time_limit_ms = 600 * 1000;
    c->max_attempts = 3;
    c->score_precision = REG_CATALOG_PRECISION_DEFAULT;
}

int reg_catalog_valid_id(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

/* A name of a pool or a score: letters, digits, '_', '-', '.'. */
static int is_word(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* "" or ".csv,.zip": each entry a dot and then letters or digits. */
static int is_type_list(const char *s)
{
    if (*s == '\0')
        return 1;
    while (*s != '\0') {
        if (*s++ != '.')
            return 0;
        size_t n = 0;
        for (; *s != '\0' && *s != ','; s++, n++) {
            if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                  (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
                return 0;
        }
        if (n == 0 || (*s == ',' && *++s == '\0'))
            return 0;
    }
    return 1;
}

int reg_catalog_challenge_check(const struct reg_challenge *c, char *msg, size_t msglen)
{
    const char *why = NULL;
    if (!reg_catalog_valid_id(c->id, strlen(c->id)))
        why = "the challenge id must be 1 to 63 characters of a-z, 0-9 and '-'";
    else if (c->title[0] == '\0')
        why = "the title must not be empty";
    else if (!is_word(c->pool))
        why = "the grader pool must be a word of letters, digits, '_', '-' or '.'";
    else if (!is_word(c->primary_name))
        why = "the primary score name must be a word of letters, digits, '_', '-' or '.'";
    else if (c->secondary_name[0] != '\0' && !is_word(c->secondary_name))
        why = "the secondary score name must be a word of letters, digits, '_', '-' or '.'";
    else if (c->primary_sort != REG_SORT_ASC && c->primary_sort != REG_SORT_DESC)
        why = "the primary sort order must be asc or desc";
    else if (c->secondary_sort != REG_SORT_ASC && c->secondary_sort != REG_SORT_DESC)
        why = "the secondary sort order must be asc or desc";
    else if (c->max_upload_bytes <= 0)
        why = "the maximum upload size must be at least 1 byte";
    else if (!is_type_list(c->accepted_types))
        why = "accepted file types must be a comma-separated list of extensions such as .csv,.zip";
    else if (c->time_limit_ms <= 0)
        why = "the time limit must be positive";
    else if (c->max_attempts < 1)
        why = "the maximum number of attempts must be at least 1";
    else if (c->score_precision < 0 || c->score_precision > REG_CATALOG_PRECISION_MAX)
        why = "the score precision must be 0 to 12 digits after the decimal point";
    if (why == NULL)
        return 0;
    snprintf(msg, msglen, "%s", why);
    return -1;
}

int reg_catalog_round_check(const struct reg_round *r, char *msg, size_t msglen)
{
    const char *why = NULL;
    if (r->number < 1)
        why = "round numbers start at 1";
    else if (r->ends_at <= r->starts_at)
        why = "a round must end after it starts";
    else if (r->submission_limit < 0)
        why = "the submission limit must be 0 (unlimited) or more";
    else if (r->period != REG_PERIOD_DAY && r->period != REG_PERIOD_WEEK &&
             r->period != REG_PERIOD_ROUND)
        why = "the period must be day, week or round";
    else if (r->failed_refunded < 0)
        why = "the number of refunded failures must be 0 or more";
    else if (r->max_parallel < 0)
        why = "max parallel must be 0 (unlimited) or more";
    else if (r->has_min_score && !isfinite(r->min_score))
        why = "the minimum score must be a finite number";
    if (why == NULL)
        return 0;
    snprintf(msg, msglen, "%s", why);
    return -1;
}

/* ---- challenges ---- */

static void challenge_bind(sqlite3_stmt *st, const struct reg_challenge *c, int64_t now)
{
    reg_store_bind_text(st, 1, c->id);
    reg_store_bind_text(st, 2, c->title);
    reg_store_bind_text(st, 3, c->pool);
    reg_store_bind_text(st, 4, c->primary_name);
    sqlite3_bind_int(st, 5, (int)c->primary_sort);
    reg_store_bind_text(st, 6, c->secondary_name);
    sqlite3_bind_int(st, 7, (int)c->secondary_sort);
    sqlite3_bind_int64(st, 8, c->max_upload_bytes);
    reg_store_bind_text(st, 9, c->accepted_types);
    sqlite3_bind_int64(st, 10, c->time_limit_ms);
    sqlite3_bind_int(st, 11, c->max_attempts);
    sqlite3_bind_int64(st, 12, now);
    sqlite3_bind_int(st, 13, c->score_precision);
}

static void challenge_from_row(sqlite3_stmt *st, struct reg_challenge *c)
{
    memset(c, 0, sizeof(*c));
    reg_store_column_text(st, 0, c->id, sizeof(c->id));
    reg_store_column_text(st, 1, c->title, sizeof(c->title));
    reg_store_column_text(st, 2, c->pool, sizeof(c->pool));
    reg_store_column_text(st, 3, c->primary_name, sizeof(c->primary_name));
    c->primary_sort = sqlite3_column_int(st, 4) == REG_SORT_ASC ? REG_SORT_ASC : REG_SORT_DESC;
    reg_store_column_text(st, 5, c->secondary_name, sizeof(c->secondary_name));
    c->secondary_sort = sqlite3_column_int(st, 6) == REG_SORT_ASC ? REG_SORT_ASC : REG_SORT_DESC;
    c->max_upload_bytes = sqlite3_column_int64(st, 7);
    reg_store_column_text(st, 8, c->accepted_types, sizeof(c->accepted_types));
    c->time_limit_ms = sqlite3_column_int64(st, 9);
    c->max_attempts = sqlite3_column_int(st, 10);
    c->score_precision = sqlite3_column_int(st, 11);
}

int reg_catalog_challenge_create(struct reg_store *s, const struct reg_challenge *c, int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_challenge_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    challenge_bind(st, c, now);
    return reg_store_run(s, st);
}

int reg_catalog_challenge_update(struct reg_store *s, const struct reg_challenge *c, int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_challenge_update);
    if (st == NULL)
        return REG_STORE_ERROR;
    challenge_bind(st, c, now);
    int rc = reg_store_run(s, st);
    if (rc == 0 && sqlite3_changes(reg_store_db(s)) == 0)
        return REG_STORE_NOT_FOUND;
    return rc;
}

int reg_catalog_challenge_get(struct reg_store *s, const char *id, struct reg_challenge *c)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_challenge_get);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        challenge_from_row(st, c);
    reg_store_done(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? REG_STORE_NOT_FOUND : REG_STORE_ERROR;
}

int reg_catalog_challenge_list(struct reg_store *s, reg_catalog_challenge_fn fn, void *ud)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_challenge_list);
    if (st == NULL)
        return REG_STORE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reg_challenge c;
        challenge_from_row(st, &c);
        fn(ud, &c);
    }
    reg_store_done(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}

int reg_catalog_challenge_closed(struct reg_store *s, const char *id, int64_t now)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_challenge_last_round);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    int closed = 0;
    if (rc == SQLITE_ROW)
        closed = sqlite3_column_int64(st, 0) <= now && sqlite3_column_int(st, 1) == 0;
    reg_store_done(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return REG_STORE_ERROR;
    return closed;
}

/* ---- rounds ---- */

static void round_bind(sqlite3_stmt *st, const struct reg_round *r)
{
    reg_store_bind_text(st, 1, r->challenge_id);
    sqlite3_bind_int(st, 2, r->number);
    sqlite3_bind_int64(st, 3, r->starts_at);
    sqlite3_bind_int64(st, 4, r->ends_at);
    sqlite3_bind_int(st, 5, r->submission_limit);
    sqlite3_bind_int(st, 6, (int)r->period);
    sqlite3_bind_int(st, 7, r->failed_refunded);
    sqlite3_bind_int(st, 8, r->max_parallel);
    sqlite3_bind_int(st, 9, r->has_min_score ? 1 : 0);
    sqlite3_bind_double(st, 10, r->has_min_score ? r->min_score : 0.0);
    sqlite3_bind_int(st, 11, r->accept_late ? 1 : 0);
}

static void round_from_row(sqlite3_stmt *st, struct reg_round *r)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    reg_store_column_text(st, 1, r->challenge_id, sizeof(r->challenge_id));
    r->number = sqlite3_column_int(st, 2);
    r->starts_at = sqlite3_column_int64(st, 3);
    r->ends_at = sqlite3_column_int64(st, 4);
    r->submission_limit = sqlite3_column_int(st, 5);
    r->period = (enum reg_period)sqlite3_column_int(st, 6);
    r->failed_refunded = sqlite3_column_int(st, 7);
    r->max_parallel = sqlite3_column_int(st, 8);
    r->has_min_score = sqlite3_column_int(st, 9);
    r->min_score = sqlite3_column_double(st, 10);
    r->accept_late = sqlite3_column_int(st, 11);
}

int reg_catalog_round_create(struct reg_store *s, const struct reg_round *r)
{
    struct reg_challenge c;
    int rc = reg_catalog_challenge_get(s, r->challenge_id, &c);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = reg_store_stmt(s, sql_round_insert);
    if (st == NULL)
        return REG_STORE_ERROR;
    round_bind(st, r);
    return reg_store_run(s, st);
}

int reg_catalog_round_update(struct reg_store *s, const struct reg_round *r)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_round_update);
    if (st == NULL)
        return REG_STORE_ERROR;
    round_bind(st, r);
    int rc = reg_store_run(s, st);
    if (rc == 0 && sqlite3_changes(reg_store_db(s)) == 0)
        return REG_STORE_NOT_FOUND;
    return rc;
}

int reg_catalog_round_get(struct reg_store *s, const char *challenge_id, int number,
                          struct reg_round *r)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_round_get);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, challenge_id);
    sqlite3_bind_int(st, 2, number);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        round_from_row(st, r);
    reg_store_done(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? REG_STORE_NOT_FOUND : REG_STORE_ERROR;
}

int reg_catalog_round_list(struct reg_store *s, const char *challenge_id, reg_catalog_round_fn fn,
                           void *ud)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_round_list);
    if (st == NULL)
        return REG_STORE_ERROR;
    reg_store_bind_text(st, 1, challenge_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reg_round r;
        round_from_row(st, &r);
        fn(ud, &r);
    }
    reg_store_done(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}

/* ---- names ---- */

const char *reg_catalog_sort_name(enum reg_sort sort)
{
    return sort == REG_SORT_ASC ? "asc" : "desc";
}

const char *reg_catalog_period_name(enum reg_period period)
{
    switch (period) {
    case REG_PERIOD_DAY:
        return "day";
    case REG_PERIOD_WEEK:
        return "week";
    case REG_PERIOD_ROUND:
        return "round";
    }
    return "?";
}

int reg_catalog_sort_parse(const char *name, enum reg_sort *out)
{
    if (strcmp(name, "asc") == 0)
        *out = REG_SORT_ASC;
    else if (strcmp(name, "desc") == 0)
        *out = REG_SORT_DESC;
    else
        return -1;
    return 0;
}

int reg_catalog_period_parse(const char *name, enum reg_period *out)
{
    if (strcmp(name, "day") == 0)
        *out = REG_PERIOD_DAY;
    else if (strcmp(name, "week") == 0)
        *out = REG_PERIOD_WEEK;
    else if (strcmp(name, "round") == 0)
        *out = REG_PERIOD_ROUND;
    else
        return -1;
    return 0;
}
