/* crowdai-admin challenge import: a challenge and its rounds from a JSON definition file
 * (format in docs/registry.md), read with SQLite's JSON functions and applied in one
 * transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/xalloc.h"
#include "registry/reg_catalog.h"
#include "registry/reg_store.h"
#include "registry/reg_time.h"

#define IMPORT_MAX_BYTES  (1024 * 1024)
#define IMPORT_MAX_ROUNDS 1000

static const char sql_json_type[] = "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) END";
static const char sql_json_each[] = "SELECT key, type, atom, value FROM json_each(?1)";

struct import {
    struct admin *a;
    const char *file;
    struct reg_challenge c;
    unsigned seen; /* bits of the required challenge fields read */
    char *rounds_json;
    int nrounds;
    struct reg_round *rounds;
};

/* One member of an object being read: where it is (for messages) and its value. */
struct member {
    char path[96];
    const char *type; /* json_type: "text", "integer", "real", "true", "false", "null", ... */
    sqlite3_stmt *st; /* column 2 is the scalar value, column 3 the JSON text */
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *text = xmalloc(IMPORT_MAX_BYTES + 1);
    *len = fread(text, 1, IMPORT_MAX_BYTES + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || *len > IMPORT_MAX_BYTES) {
        free(text);
        errno = failed ? EIO : EFBIG;
        return NULL;
    }
    text[*len] = '\0';
    return text;
}

/* The JSON type of text, or "" if it is not JSON. */
static void json_type_of(struct reg_store *s, const char *text, char *out, size_t len)
{
    sqlite3_stmt *st = reg_store_stmt(s, sql_json_type);
    out[0] = '\0';
    if (st == NULL)
        return;
    reg_store_bind_text(st, 1, text);
    if (sqlite3_step(st) == SQLITE_ROW)
        reg_store_column_text(st, 0, out, len);
    reg_store_done(st);
}

/* ---- typed values ---- */

static int want_text(struct import *im, const struct member *m, char *dst, size_t size)
{
    if (strcmp(m->type, "text") != 0)
        return admin_fail("%s: %s must be a string", im->file, m->path);
    const char *v = (const char *)sqlite3_column_text(m->st, 2);
    if (strlen(v) >= size)
        return admin_fail("%s: %s is too long (at most %zu bytes)", im->file, m->path, size - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int want_int(struct import *im, const struct member *m, long long min, long long max,
                    long long *out)
{
    long long v = sqlite3_column_int64(m->st, 2);
    if (strcmp(m->type, "integer") != 0 || v < min || v > max)
        return admin_fail("%s: %s must be a whole number from %lld to %lld", im->file, m->path, min,
                          max);
    *out = v;
    return 0;
}

static int want_time(struct import *im, const struct member *m, int64_t *out)
{
    char text[64];
    if (want_text(im, m, text, sizeof(text)) != 0)
        return ADMIN_FAIL;
    if (reg_time_parse(text, out) != 0)
        return admin_fail("%s: %s must be an ISO 8601 time such as 2026-11-26T14:00:00Z", im->file,
                          m->path);
    return 0;
}

static int want_score(struct import *im, const struct member *m, char name[64], enum reg_sort *sort)
{
    char spec[80];
    if (want_text(im, m, spec, sizeof(spec)) != 0)
        return ADMIN_FAIL;
    char *colon = strchr(spec, ':');
    *sort = REG_SORT_DESC;
    if (colon != NULL) {
        *colon = '\0';
        if (reg_catalog_sort_parse(colon + 1, sort) != 0)
            return admin_fail("%s: %s must be NAME, NAME:asc or NAME:desc", im->file, m->path);
    }
    if (strlen(spec) >= 64)
        return admin_fail("%s: %s has a name that is too long", im->file, m->path);
    memcpy(name, spec, strlen(spec) + 1);
    return 0;
}

/* ---- a round ---- */

static int round_counts(struct import *im, const char *key, const struct member *m,
                        struct reg_round *r)
{
    long long v;
    int rc = want_int(im, m, 0, 1000000, &v);
    if (rc != 0)
        return rc;
    if (strcmp(key, "limit") == 0)
        r->submission_limit = (int)v;
    else if (strcmp(key, "refund") == 0)
        r->failed_refunded = (int)v;
    else
        r->max_parallel = (int)v;
    return 0;
}

static int round_member(struct import *im, const char *key, const struct member *m,
                        struct reg_round *r, unsigned *seen)
{
    long long v;
    char word[16];
    if (strcmp(key, "number") == 0) {
        *seen |= 1;
        int rc = want_int(im, m, 1, 1000000, &v);
        r->number = (int)v;
        return rc;
    }
    if (strcmp(key, "start") == 0 || strcmp(key, "end") == 0) {
        *seen |= key[0] == 's' ? 2 : 4;
        return want_time(im, m, key[0] == 's' ? &r->starts_at : &r->ends_at);
    }
    if (strcmp(key, "limit") == 0 || strcmp(key, "refund") == 0 || strcmp(key, "parallel") == 0)
        return round_counts(im, key, m, r);
    if (strcmp(key, "period") == 0) {
        if (want_text(im, m, word, sizeof(word)) != 0 ||
            reg_catalog_period_parse(word, &r->period) != 0)
            return admin_fail("%s: %s must be \"day\", \"week\" or \"round\"", im->file, m->path);
        return 0;
    }
    if (strcmp(key, "min_score") == 0) {
        r->has_min_score = strcmp(m->type, "null") != 0;
        r->min_score = sqlite3_column_double(m->st, 2);
        if (r->has_min_score && strcmp(m->type, "integer") != 0 && strcmp(m->type, "real") != 0)
            return admin_fail("%s: %s must be a number or null", im->file, m->path);
        return 0;
    }
    if (strcmp(key, "late") == 0) {
        if (strcmp(m->type, "true") != 0 && strcmp(m->type, "false") != 0)
            return admin_fail("%s: %s must be true or false", im->file, m->path);
        r->accept_late = strcmp(m->type, "true") == 0;
        return 0;
    }
    return admin_fail("%s: unknown field %s", im->file, m->path);
}

static int round_parse(struct import *im, int index, const char *text, struct reg_round *r)
{
    char why[256];
    unsigned seen = 0;
    memset(r, 0, sizeof(r[0]));
    snprintf(r->challenge_id, sizeof(r->challenge_id), "%s", im->c.id);
    r->period = REG_PERIOD_DAY;
    sqlite3_stmt *st = reg_store_stmt(im->a->store, sql_json_each);
    if (st == NULL)
        return admin_fail("could not read %s", im->file);
    reg_store_bind_text(st, 1, text);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct member m = {.type = (const char *)sqlite3_column_text(st, 1), .st = st};
        const char *key = (const char *)sqlite3_column_text(st, 0);
        snprintf(m.path, sizeof(m.path), "rounds[%d].%.40s", index, key);
        rc = round_member(im, key, &m, r, &seen);
    }
    reg_store_done(st);
    if (rc != 0)
        return rc;
    if (seen != 7)
        return admin_fail("%s: rounds[%d] needs number, start and end", im->file, index);
    if (reg_catalog_round_check(r, why, sizeof(why)) != 0)
        return admin_fail("%s: rounds[%d]: %s", im->file, index, why);
    return 0;
}

/* Copies out the elements of the "rounds" array (each must be an object). */
static int rounds_split(struct import *im, char ***elems, int *n)
{
    sqlite3_stmt *st = reg_store_stmt(im->a->store, sql_json_each);
    if (st == NULL)
        return admin_fail("could not read %s", im->file);
    reg_store_bind_text(st, 1, im->rounds_json);
    int rc = 0;
    *elems = NULL;
    *n = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(st, 1), "object") != 0 ||
            *n == IMPORT_MAX_ROUNDS) {
            rc = admin_fail("%s: rounds[%d] must be an object (at most %d rounds)", im->file, *n,
                            IMPORT_MAX_ROUNDS);
            break;
        }
        *elems = xrealloc(*elems, (size_t)(*n + 1) * sizeof(**elems));
        (*elems)[(*n)++] = xstrdup((const char *)sqlite3_column_text(st, 3));
    }
    reg_store_done(st);
    return rc;
}

static int rounds_parse(struct import *im)
{
    char **elems = NULL;
    int n = 0;
    int rc = rounds_split(im, &elems, &n);
    im->rounds = xcalloc((size_t)n + 1, sizeof(*im->rounds));
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = round_parse(im, i, elems[i], &im->rounds[i]);
        for (int j = 0; rc == 0 && j < i; j++) {
            if (im->rounds[j].number == im->rounds[i].number)
                rc = admin_fail("%s: round %d is defined twice", im->file, im->rounds[i].number);
        }
        im->nrounds = i + 1;
    }
    for (int i = 0; i < n; i++)
        free(elems[i]);
    free(elems);
    return rc;
}

/* ---- the challenge ---- */

static int challenge_numbers(struct import *im, const char *key, const struct member *m)
{
    long long v;
    int rc;
    if (strcmp(key, "max_upload_bytes") == 0) {
        if ((rc = want_int(im, m, 1, 1LL << 50, &v)) == 0)
            im->c.max_upload_bytes = v;
    } else if (strcmp(key, "time_limit_seconds") == 0) {
        if ((rc = want_int(im, m, 1, 7LL * 24 * 3600, &v)) == 0)
            im->c.time_limit_ms = v * 1000;
    } else if (strcmp(key, "max_attempts") == 0) {
        if ((rc = want_int(im, m, 1, 100, &v)) == 0)
            im->c.max_attempts = (int)v;
    } else if (strcmp(key, "precision") == 0) {
        if ((rc = want_int(im, m, 0, REG_CATALOG_PRECISION_MAX, &v)) == 0)
            im->c.score_precision = (int)v;
    } else {
        rc = admin_fail("%s: unknown field %s", im->file, m->path);
    }
    return rc;
}

static int challenge_member(struct import *im, const char *key, const struct member *m)
{
    struct reg_challenge *c = &im->c;
    if (strcmp(key, "id") == 0) {
        im->seen |= 1;
        return want_text(im, m, c->id, sizeof(c->id));
    }
    if (strcmp(key, "title") == 0) {
        im->seen |= 2;
        return want_text(im, m, c->title, sizeof(c->title));
    }
    if (strcmp(key, "pool") == 0) {
        im->seen |= 4;
        return want_text(im, m, c->pool, sizeof(c->pool));
    }
    if (strcmp(key, "primary") == 0) {
        im->seen |= 8;
        return want_score(im, m, c->primary_name, &c->primary_sort);
    }
    if (strcmp(key, "secondary") == 0) {
        c->secondary_name[0] = '\0';
        if (strcmp(m->type, "null") == 0)
            return 0;
        return want_score(im, m, c->secondary_name, &c->secondary_sort);
    }
    if (strcmp(key, "types") == 0)
        return want_text(im, m, c->accepted_types, sizeof(c->accepted_types));
    if (strcmp(key, "rounds") == 0) {
        if (strcmp(m->type, "array") != 0)
            return admin_fail("%s: rounds must be an array", im->file);
        im->rounds_json = xstrdup((const char *)sqlite3_column_text(m->st, 3));
        return 0;
    }
    return challenge_numbers(im, key, m);
}

static int challenge_parse(struct import *im, const char *text)
{
    char why[256];
    sqlite3_stmt *st = reg_store_stmt(im->a->store, sql_json_each);
    if (st == NULL)
        return admin_fail("could not read %s", im->file);
    reg_store_bind_text(st, 1, text);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct member m = {.type = (const char *)sqlite3_column_text(st, 1), .st = st};
        const char *key = (const char *)sqlite3_column_text(st, 0);
        snprintf(m.path, sizeof(m.path), "%.60s", key);
        rc = challenge_member(im, key, &m);
    }
    reg_store_done(st);
    if (rc != 0)
        return rc;
    if (im->seen != 15)
        return admin_fail("%s: a challenge needs id, title, pool and primary", im->file);
    if (reg_catalog_challenge_check(&im->c, why, sizeof(why)) != 0)
        return admin_fail("%s: %s", im->file, why);
    return 0;
}

/* ---- storing it ---- */

static int store_round(struct import *im, const struct reg_round *r, int *created)
{
    struct reg_round old;
    int rc = reg_catalog_round_get(im->a->store, r->challenge_id, r->number, &old);
    if (rc == REG_STORE_NOT_FOUND) {
        (*created)++;
        return reg_catalog_round_create(im->a->store, r);
    }
    return rc == 0 ? reg_catalog_round_update(im->a->store, r) : rc;
}

static int store_all(struct import *im, int *challenge_created, int *rounds_created)
{
    struct reg_challenge old;
    int rc = reg_catalog_challenge_get(im->a->store, im->c.id, &old);
    *challenge_created = rc == REG_STORE_NOT_FOUND;
    if (rc == REG_STORE_NOT_FOUND)
        rc = reg_catalog_challenge_create(im->a->store, &im->c, im->a->now);
    else if (rc == 0)
        rc = reg_catalog_challenge_update(im->a->store, &im->c, im->a->now);
    for (int i = 0; rc == 0 && i < im->nrounds; i++)
        rc = store_round(im, &im->rounds[i], rounds_created);
    return rc;
}

static int import_store(struct import *im)
{
    int challenge_created = 0, rounds_created = 0;
    if (reg_store_begin(im->a->store) != 0)
        return admin_fail("could not import %s", im->file);
    if (store_all(im, &challenge_created, &rounds_created) != 0) {
        reg_store_rollback(im->a->store);
        return admin_fail("could not import %s: nothing was changed", im->file);
    }
    if (reg_store_commit(im->a->store) != 0)
        return admin_fail("could not import %s: nothing was changed", im->file);
    printf("%s challenge %s: %d round%s (%d created, %d updated)\n",
           challenge_created ? "created" : "updated", im->c.id, im->nrounds,
           im->nrounds == 1 ? "" : "s", rounds_created, im->nrounds - rounds_created);
    return ADMIN_OK;
}

static int import_text(struct import *im, const char *text)
{
    char type[16];
    json_type_of(im->a->store, text, type, sizeof(type));
    if (type[0] == '\0')
        return admin_fail("%s is not valid JSON", im->file);
    if (strcmp(type, "object") != 0)
        return admin_fail("%s must hold one JSON object (a challenge)", im->file);
    reg_catalog_challenge_defaults(&im->c);
    int rc = challenge_parse(im, text);
    if (rc == 0 && im->rounds_json != NULL)
        rc = rounds_parse(im);
    return rc == 0 ? import_store(im) : rc;
}

int admin_import_challenge(struct admin *a, const struct admin_args *args)
{
    struct import im = {.a = a, .file = args->pos[0]};
    size_t len;
    char *text = read_file(im.file, &len);
    if (text == NULL)
        return admin_fail("cannot read %s: %s", im.file,
                          errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
    int rc = import_text(&im, text);
    free(text);
    free(im.rounds_json);
    free(im.rounds);
    return rc;
}
