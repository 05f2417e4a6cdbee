/* crowdai-admin: challenge create, update and list; round add, update and list. */
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "registry/reg_catalog.h"
#include "registry/reg_store.h"
#include "registry/reg_time.h"

#define MAX_TIME_LIMIT_S (7LL * 24 * 3600)

/* ---- challenges ---- */

/* "NAME[:asc|desc]" into name and sort (desc when not said). */
static int score_spec(struct admin *a, const char *spec, const char *opt, char name[64],
                      enum reg_sort *sort)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    *sort = REG_SORT_DESC;
    if (colon != NULL && reg_catalog_sort_parse(colon + 1, sort) != 0)
        return admin_usage(a, "%s: the sort order after ':' must be asc or desc, not '%s'", opt,
                           colon + 1);
    if (len >= 64)
        return admin_usage(a, "%s: the score name is too long (at most 63 bytes)", opt);
    memcpy(name, spec, len);
    name[len] = '\0';
    return 0;
}

static int challenge_numbers(struct admin *a, const struct admin_args *args,
                             struct reg_challenge *c)
{
    long long v;
    int rc = admin_args_int(a, args, "max-upload", 1, 1LL << 50, &v);
    if (rc == ADMIN_USAGE)
        return rc;
    if (rc == 0)
        c->max_upload_bytes = v;
    rc = admin_args_int(a, args, "time-limit", 1, MAX_TIME_LIMIT_S, &v);
    if (rc == ADMIN_USAGE)
        return rc;
    if (rc == 0)
        c->time_limit_ms = v * 1000;
    rc = admin_args_int(a, args, "max-attempts", 1, 100, &v);
    if (rc == ADMIN_USAGE)
        return rc;
    if (rc == 0)
        c->max_attempts = (int)v;
    rc = admin_args_int(a, args, "precision", 0, REG_CATALOG_PRECISION_MAX, &v);
    if (rc == ADMIN_USAGE)
        return rc;
    if (rc == 0)
        c->score_precision = (int)v;
    return 0;
}

static int challenge_texts(struct admin *a, const struct admin_args *args, struct reg_challenge *c)
{
    const char *v;
    int rc = 0;
    if ((v = admin_args_get(args, "title")) != NULL)
        rc = admin_copy(a, c->title, sizeof(c->title), v, "--title");
    if (rc == 0 && (v = admin_args_get(args, "pool")) != NULL)
        rc = admin_copy(a, c->pool, sizeof(c->pool), v, "--pool");
    if (rc == 0 && (v = admin_args_get(args, "types")) != NULL)
        rc = admin_copy(a, c->accepted_types, sizeof(c->accepted_types), v, "--types");
    if (rc == 0 && (v = admin_args_get(args, "primary")) != NULL)
        rc = score_spec(a, v, "--primary", c->primary_name, &c->primary_sort);
    if (rc == 0 && (v = admin_args_get(args, "secondary")) != NULL)
        rc = score_spec(a, v, "--secondary", c->secondary_name, &c->secondary_sort);
    return rc;
}

/* Applies the options given to c, then checks the whole definition. */
static int challenge_apply(struct admin *a, const struct admin_args *args, struct reg_challenge *c)
{
    char why[256];
    int rc = challenge_texts(a, args, c);
    if (rc == 0)
        rc = challenge_numbers(a, args, c);
    if (rc != 0)
        return rc;
    if (reg_catalog_challenge_check(c, why, sizeof(why)) != 0)
        return admin_usage(a, "%s", why);
    return 0;
}

int admin_challenge_create(struct admin *a, const struct admin_args *args)
{
    static const char *const required[] = {"title", "pool", "primary"};
    struct reg_challenge c;
    reg_catalog_challenge_defaults(&c);
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (admin_args_get(args, required[i]) == NULL)
            return admin_usage(a, "--%s is required", required[i]);
    }
    if (admin_copy(a, c.id, sizeof(c.id), args->pos[0], "the challenge id") != 0)
        return ADMIN_USAGE;
    int rc = challenge_apply(a, args, &c);
    if (rc != 0)
        return rc;
    rc = reg_catalog_challenge_create(a->store, &c, a->now);
    if (rc == REG_STORE_EXISTS)
        return admin_fail("challenge %s exists already (use 'challenge update')", c.id);
    if (rc != 0)
        return admin_fail("could not create challenge %s", c.id);
    printf("created challenge %s\n", c.id);
    return ADMIN_OK;
}

int admin_challenge_update(struct admin *a, const struct admin_args *args)
{
    struct reg_challenge c;
    int rc = reg_catalog_challenge_get(a->store, args->pos[0], &c);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("there is no challenge %s", args->pos[0]);
    if (rc != 0)
        return admin_fail("could not read challenge %s", args->pos[0]);
    rc = challenge_apply(a, args, &c);
    if (rc != 0)
        return rc;
    if (reg_catalog_challenge_update(a->store, &c, a->now) != 0)
        return admin_fail("could not update challenge %s", c.id);
    printf("updated challenge %s\n", c.id);
    return ADMIN_OK;
}

struct challenge_listing {
    struct admin *a;
    int json, count;
    struct admin_table table;
};

static void count_round(void *ud, const struct reg_round *r)
{
    (void)r;
    (*(int *)ud)++;
}

static void json_score(const char *key, const char *name, enum reg_sort sort)
{
    printf(",\"%s\":", key);
    if (name[0] == '\0') {
        fputs("null", stdout);
        return;
    }
    char spec[80];
    snprintf(spec, sizeof(spec), "%s:%s", name, reg_catalog_sort_name(sort));
    admin_json_str(stdout, spec);
}

static void challenge_json(const struct reg_challenge *c, int rounds)
{
    fputs("{\"id\":", stdout);
    admin_json_str(stdout, c->id);
    fputs(",\"title\":", stdout);
    admin_json_str(stdout, c->title);
    fputs(",\"pool\":", stdout);
    admin_json_str(stdout, c->pool);
    json_score("primary", c->primary_name, c->primary_sort);
    json_score("secondary", c->secondary_name, c->secondary_sort);
    printf(",\"max_upload_bytes\":%lld,\"types\":", (long long)c->max_upload_bytes);
    admin_json_str(stdout, c->accepted_types);
    printf(",\"time_limit_seconds\":%lld,\"max_attempts\":%d,\"precision\":%d,"
           "\"round_count\":%d}",
           (long long)(c->time_limit_ms / 1000), c->max_attempts, c->score_precision, rounds);
}

static void list_challenge(void *ud, const struct reg_challenge *c)
{
    struct challenge_listing *l = ud;
    int rounds = 0;
    reg_catalog_round_list(l->a->store, c->id, count_round, &rounds);
    if (l->json) {
        fputs(l->count++ == 0 ? "\n  " : ",\n  ", stdout);
        challenge_json(c, rounds);
        return;
    }
    admin_table_cell(&l->table, "%s", c->id);
    admin_table_cell(&l->table, "%s", c->pool);
    admin_table_cell(&l->table, "%s:%s", c->primary_name, reg_catalog_sort_name(c->primary_sort));
    if (c->secondary_name[0] != '\0')
        admin_table_cell(&l->table, "%s:%s", c->secondary_name,
                         reg_catalog_sort_name(c->secondary_sort));
    else
        admin_table_cell(&l->table, "-");
    admin_table_cell(&l->table, "%d", c->score_precision);
    admin_table_cell(&l->table, "%d", rounds);
    admin_table_cell(&l->table, "%s", c->title);
}

int admin_challenge_list(struct admin *a, const struct admin_args *args)
{
    static const char *const headers[] = {"ID",        "POOL",   "PRIMARY", "SECONDARY",
                                          "PRECISION", "ROUNDS", "TITLE"};
    struct challenge_listing l = {.a = a, .json = admin_args_flag(args, "json")};
    admin_table_init(&l.table, 7, headers);
    if (l.json)
        fputs("[", stdout);
    int rc = reg_catalog_challenge_list(a->store, list_challenge, &l);
    if (l.json)
        fputs(l.count > 0 ? "\n]\n" : "]\n", stdout);
    else
        admin_table_print(&l.table, stdout);
    admin_table_release(&l.table);
    return rc == 0 ? ADMIN_OK : admin_fail("could not list the challenges");
}

/* ---- rounds ---- */

static int round_time(struct admin *a, const struct admin_args *args, const char *name,
                      int64_t *out)
{
    const char *v = admin_args_get(args, name);
    if (v == NULL)
        return 0;
    if (reg_time_parse(v, out) != 0)
        return admin_usage(
            a, "--%s must be an ISO 8601 time such as 2026-11-26T14:00:00Z, not '%s'", name, v);
    return 0;
}

static int round_score(struct admin *a, const struct admin_args *args, struct reg_round *r)
{
    const char *v = admin_args_get(args, "min-score");
    if (v == NULL)
        return 0;
    if (strcmp(v, "none") == 0) {
        r->has_min_score = 0;
        r->min_score = 0;
        return 0;
    }
    if (admin_parse_double(v, &r->min_score) != 0)
        return admin_usage(a, "--min-score must be a number or 'none', not '%s'", v);
    r->has_min_score = 1;
    return 0;
}

static int round_words(struct admin *a, const struct admin_args *args, struct reg_round *r)
{
    const char *v = admin_args_get(args, "period");
    if (v != NULL && reg_catalog_period_parse(v, &r->period) != 0)
        return admin_usage(a, "--period must be day, week or round, not '%s'", v);
    v = admin_args_get(args, "late");
    if (v != NULL) {
        if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
            return admin_usage(a, "--late must be yes or no, not '%s'", v);
        r->accept_late = strcmp(v, "yes") == 0;
    }
    return 0;
}

static int round_counts(struct admin *a, const struct admin_args *args, struct reg_round *r)
{
    static const char *const names[] = {"limit", "refund", "parallel"};
    int *fields[] = {&r->submission_limit, &r->failed_refunded, &r->max_parallel};
    for (int i = 0; i < 3; i++) {
        long long v;
        int rc = admin_args_int(a, args, names[i], 0, 1000000, &v);
        if (rc == ADMIN_USAGE)
            return rc;
        if (rc == 0)
            *fields[i] = (int)v;
    }
    return 0;
}

static int round_apply(struct admin *a, const struct admin_args *args, struct reg_round *r)
{
    char why[256];
    int rc = round_time(a, args, "start", &r->starts_at);
    if (rc == 0)
        rc = round_time(a, args, "end", &r->ends_at);
    if (rc == 0)
        rc = round_counts(a, args, r);
    if (rc == 0)
        rc = round_words(a, args, r);
    if (rc == 0)
        rc = round_score(a, args, r);
    if (rc != 0)
        return rc;
    if (reg_catalog_round_check(r, why, sizeof(why)) != 0)
        return admin_usage(a, "%s", why);
    return 0;
}

static int round_number_arg(struct admin *a, const struct admin_args *args, int *number)
{
    long long n;
    if (admin_parse_int(args->pos[1], 1, 1000000, &n) != 0)
        return admin_usage(a, "the round number must be a whole number from 1, not '%s'",
                           args->pos[1]);
    *number = (int)n;
    return 0;
}

int admin_challenge_round_add(struct admin *a, const struct admin_args *args)
{
    struct reg_round r;
    memset(&r, 0, sizeof(r));
    if (admin_args_get(args, "start") == NULL || admin_args_get(args, "end") == NULL)
        return admin_usage(a, "--start and --end are required");
    if (admin_copy(a, r.challenge_id, sizeof(r.challenge_id), args->pos[0], "the challenge id") !=
            0 ||
        round_number_arg(a, args, &r.number) != 0)
        return ADMIN_USAGE;
    r.period = REG_PERIOD_DAY;
    int rc = round_apply(a, args, &r);
    if (rc != 0)
        return rc;
    rc = reg_catalog_round_create(a->store, &r);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("there is no challenge %s", r.challenge_id);
    if (rc == REG_STORE_EXISTS)
        return admin_fail("round %d of %s exists already (use 'round update')", r.number,
                          r.challenge_id);
    if (rc != 0)
        return admin_fail("could not add round %d to %s", r.number, r.challenge_id);
    printf("added round %d to challenge %s\n", r.number, r.challenge_id);
    return ADMIN_OK;
}

int admin_challenge_round_update(struct admin *a, const struct admin_args *args)
{
    struct reg_round r;
    int number = 0;
    if (round_number_arg(a, args, &number) != 0)
        return ADMIN_USAGE;
    int rc = reg_catalog_round_get(a->store, args->pos[0], number, &r);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("challenge %s has no round %d", args->pos[0], number);
    if (rc != 0)
        return admin_fail("could not read round %d of %s", number, args->pos[0]);
    rc = round_apply(a, args, &r);
    if (rc != 0)
        return rc;
    if (reg_catalog_round_update(a->store, &r) != 0)
        return admin_fail("could not update round %d of %s", number, r.challenge_id);
    printf("updated round %d of challenge %s\n", r.number, r.challenge_id);
    return ADMIN_OK;
}

struct round_listing {
    int json, count;
    int64_t now;
    struct admin_table table;
};

static const char *round_status(const struct reg_round *r, int64_t now)
{
    if (now < r->starts_at)
        return "upcoming";
    if (now < r->ends_at)
        return "open";
    return r->accept_late ? "late" : "closed";
}

static void round_json(const struct reg_round *r, int64_t now)
{
    char start[REG_TIME_LEN], end[REG_TIME_LEN];
    reg_time_format(r->starts_at, start);
    reg_time_format(r->ends_at, end);
    printf("{\"number\":%d,\"start\":\"%s\",\"end\":\"%s\",\"limit\":%d,\"period\":\"%s\","
           "\"refund\":%d,\"parallel\":%d,\"min_score\":",
           r->number, start, end, r->submission_limit, reg_catalog_period_name(r->period),
           r->failed_refunded, r->max_parallel);
    if (r->has_min_score)
        admin_json_num(stdout, r->min_score);
    else
        fputs("null", stdout);
    printf(",\"late\":%s,\"status\":\"%s\"}", r->accept_late ? "true" : "false",
           round_status(r, now));
}

static void list_round(void *ud, const struct reg_round *r)
{
    struct round_listing *l = ud;
    char start[REG_TIME_LEN], end[REG_TIME_LEN];
    if (l->json) {
        fputs(l->count++ == 0 ? "\n  " : ",\n  ", stdout);
        round_json(r, l->now);
        return;
    }
    reg_time_format(r->starts_at, start);
    reg_time_format(r->ends_at, end);
    admin_table_cell(&l->table, "%d", r->number);
    admin_table_cell(&l->table, "%s", start);
    admin_table_cell(&l->table, "%s", end);
    if (r->submission_limit > 0)
        admin_table_cell(&l->table, "%d/%s", r->submission_limit,
                         reg_catalog_period_name(r->period));
    else
        admin_table_cell(&l->table, "unlimited");
    admin_table_cell(&l->table, "%d", r->failed_refunded);
    admin_table_cell(&l->table, "%d", r->max_parallel);
    if (r->has_min_score)
        admin_table_cell(&l->table, "%.10g", r->min_score);
    else
        admin_table_cell(&l->table, "-");
    admin_table_cell(&l->table, "%s", r->accept_late ? "yes" : "no");
    admin_table_cell(&l->table, "%s", round_status(r, l->now));
}

int admin_challenge_round_list(struct admin *a, const struct admin_args *args)
{
    static const char *const headers[] = {"ROUND",    "START",     "END",  "LIMIT", "REFUND",
                                          "PARALLEL", "MIN_SCORE", "LATE", "STATUS"};
    struct reg_challenge c;
    int rc = reg_catalog_challenge_get(a->store, args->pos[0], &c);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("there is no challenge %s", args->pos[0]);
    if (rc != 0)
        return admin_fail("could not read challenge %s", args->pos[0]);
    struct round_listing l = {.json = admin_args_flag(args, "json"), .now = a->now};
    admin_table_init(&l.table, 9, headers);
    if (l.json)
        fputs("[", stdout);
    rc = reg_catalog_round_list(a->store, c.id, list_round, &l);
    if (l.json)
        fputs(l.count > 0 ? "\n]\n" : "]\n", stdout);
    else
        admin_table_print(&l.table, stdout);
    admin_table_release(&l.table);
    return rc == 0 ? ADMIN_OK : admin_fail("could not list the rounds of %s", c.id);
}
