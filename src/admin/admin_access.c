/* crowdai-admin: participants and their API keys, grader keys. A key is printed once, when
 * it is made; the registry keeps only its SHA-256. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "registry/reg_access.h"
#include "registry/reg_store.h"
#include "registry/reg_time.h"

static const char key_note[] =
    "Keep this key now: it is shown only once (the registry stores only its SHA-256).\n";

static int participant_id_arg(struct admin *a, const char *arg, int64_t *id)
{
    long long v;
    if (admin_parse_int(arg, 1, INT64_MAX, &v) != 0)
        return admin_usage(a, "a participant id is a whole number from 1, not '%s'", arg);
    *id = v;
    return 0;
}

/* Prints a participant's new API key (name NULL when not just created). */
static void print_participant_key(const struct admin_args *args, int64_t id, const char *name,
                                  const char *key)
{
    if (admin_args_flag(args, "json")) {
        printf("{\"participant_id\":%lld", (long long)id);
        if (name != NULL) {
            fputs(",\"name\":", stdout);
            admin_json_str(stdout, name);
        }
        printf(",\"api_key\":\"%s\"}\n", key);
    } else {
        printf("participant_id: %lld\n", (long long)id);
        if (name != NULL)
            printf("name: %s\n", name);
        printf("api_key: %s\n", key);
    }
    fputs(key_note, stderr);
}

static void print_grader_key(const struct admin_args *args, const char *name, const char *key)
{
    if (admin_args_flag(args, "json")) {
        fputs("{\"grader\":", stdout);
        admin_json_str(stdout, name);
        printf(",\"grader_key\":\"%s\"}\n", key);
    } else {
        printf("grader: %s\ngrader_key: %s\n", name, key);
    }
    fputs(key_note, stderr);
}

int admin_access_participant_add(struct admin *a, const struct admin_args *args)
{
    const char *name = args->pos[0];
    char key[REG_ACCESS_KEY_LEN + 1];
    int64_t id;
    if (reg_access_name_check(name) != 0)
        return admin_usage(a, "a participant name is 1 to 127 bytes with no control characters");
    int rc = reg_access_participant_add(a->store, name, a->now, &id, key);
    if (rc == REG_STORE_EXISTS)
        return admin_fail("a participant named '%s' exists already", name);
    if (rc != 0)
        return admin_fail("could not add participant '%s'", name);
    print_participant_key(args, id, name, key);
    return ADMIN_OK;
}

struct participant_listing {
    int json, count;
    struct admin_table table;
};

static void list_participant(void *ud, const struct reg_participant *p, int has_key,
                             int64_t created_at)
{
    struct participant_listing *l = ud;
    char at[REG_TIME_LEN];
    reg_time_format(created_at, at);
    if (l->json) {
        printf("%s{\"participant_id\":%lld,\"name\":", l->count++ == 0 ? "\n  " : ",\n  ",
               (long long)p->id);
        admin_json_str(stdout, p->name);
        printf(",\"active_key\":%s,\"created_at\":\"%s\"}", has_key ? "true" : "false", at);
        return;
    }
    admin_table_cell(&l->table, "%lld", (long long)p->id);
    admin_table_cell(&l->table, "%s", p->name);
    admin_table_cell(&l->table, "%s", has_key ? "active" : "revoked");
    admin_table_cell(&l->table, "%s", at);
}

int admin_access_participant_list(struct admin *a, const struct admin_args *args)
{
    static const char *const headers[] = {"ID", "NAME", "API_KEY", "CREATED"};
    struct participant_listing l = {.json = admin_args_flag(args, "json")};
    admin_table_init(&l.table, 4, headers);
    if (l.json)
        fputs("[", stdout);
    int rc = reg_access_participant_list(a->store, list_participant, &l);
    if (l.json)
        fputs(l.count > 0 ? "\n]\n" : "]\n", stdout);
    else
        admin_table_print(&l.table, stdout);
    admin_table_release(&l.table);
    return rc == 0 ? ADMIN_OK : admin_fail("could not list the participants");
}

int admin_access_key_rotate(struct admin *a, const struct admin_args *args)
{
    int64_t id = 0;
    char key[REG_ACCESS_KEY_LEN + 1];
    if (participant_id_arg(a, args->pos[0], &id) != 0)
        return ADMIN_USAGE;
    int rc = reg_access_key_rotate(a->store, id, a->now, key);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("there is no participant %lld", (long long)id);
    if (rc < 0)
        return admin_fail("could not rotate the key of participant %lld", (long long)id);
    print_participant_key(args, id, NULL, key);
    return ADMIN_OK;
}

int admin_access_key_revoke(struct admin *a, const struct admin_args *args)
{
    int64_t id = 0;
    if (participant_id_arg(a, args->pos[0], &id) != 0)
        return ADMIN_USAGE;
    int rc = reg_access_key_revoke(a->store, id, a->now);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("there is no participant %lld", (long long)id);
    if (rc < 0)
        return admin_fail("could not revoke the key of participant %lld", (long long)id);
    if (rc == 0)
        printf("participant %lld had no active API key\n", (long long)id);
    else
        printf("revoked the API key of participant %lld\n", (long long)id);
    return ADMIN_OK;
}

int admin_access_grader_add(struct admin *a, const struct admin_args *args)
{
    const char *name = args->pos[0];
    char key[REG_ACCESS_KEY_LEN + 1];
    if (reg_access_name_check(name) != 0 || strlen(name) > 63)
        return admin_usage(a, "a grader name is 1 to 63 bytes with no control characters");
    int rc = reg_access_grader_add(a->store, name, a->now, key);
    if (rc == REG_STORE_EXISTS)
        return admin_fail("grader '%s' has an active key already (revoke it first)", name);
    if (rc != 0)
        return admin_fail("could not add a key for grader '%s'", name);
    print_grader_key(args, name, key);
    return ADMIN_OK;
}

int admin_access_grader_revoke(struct admin *a, const struct admin_args *args)
{
    const char *name = args->pos[0];
    int rc = reg_access_grader_revoke(a->store, name, a->now);
    if (rc == REG_STORE_NOT_FOUND)
        return admin_fail("grader '%s' has no active key", name);
    if (rc != 0)
        return admin_fail("could not revoke the key of grader '%s'", name);
    printf("revoked the key of grader '%s'\n", name);
    return ADMIN_OK;
}
