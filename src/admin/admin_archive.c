/* crowdai-admin: the code archive of a challenge: its settings (remote, publishing, limits),
 * what is archived, and publishing it. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "archive/archive.h"
#include "archive/archive_git.h"
#include "registry/reg_catalog.h"
#include "registry/reg_store.h"
#include "registry/reg_time.h"

static int challenge_exists(struct admin *a, const char *id)
{
    struct reg_challenge ch;
    if (reg_catalog_challenge_get(a->store, id, &ch) != 0)
        return admin_fail("no challenge '%s'", id);
    return ADMIN_OK;
}

/* ---- archive set ---- */

static int set_text(struct admin *a, const struct admin_args *args, const char *opt,
                    const char *column)
{
    const char *v = admin_args_get(args, opt);
    if (v == NULL)
        return ADMIN_OK;
    if (strlen(v) >= 500)
        return admin_usage(a, "--%s is too long", opt);
    if (archive_store_set_text(reg_store_db(a->store), args->pos[0], column, v) != 0)
        return admin_fail("cannot store --%s", opt);
    return ADMIN_OK;
}

static int set_int(struct admin *a, const struct admin_args *args, const char *opt,
                   const char *column, long long min, long long max)
{
    long long v;
    int rc = admin_args_int(a, args, opt, min, max, &v);
    if (rc == 1)
        return ADMIN_OK;
    if (rc != 0)
        return rc;
    if (archive_store_set_int(reg_store_db(a->store), args->pos[0], column, v) != 0)
        return admin_fail("cannot store --%s", opt);
    return ADMIN_OK;
}

int admin_archive_set(struct admin *a, const struct admin_args *args)
{
    static const char *const text[][2] = {
        {"remote", "remote_url"},        {"token-file", "token_file"},
        {"ssh-key", "ssh_key_file"},     {"known-hosts", "known_hosts_file"},
        {"public-remote", "public_url"}, {"github", "github_repo"},
        {"github-api", "github_api"}};
    int rc = challenge_exists(a, args->pos[0]);
    for (size_t i = 0; rc == ADMIN_OK && i < sizeof(text) / sizeof(text[0]); i++)
        rc = set_text(a, args, text[i][0], text[i][1]);
    if (rc == ADMIN_OK)
        rc = set_int(a, args, "max-file-size", "max_file_bytes", 1, INT64_C(1) << 40);
    if (rc == ADMIN_OK)
        rc = set_int(a, args, "max-files", "max_files", 1, 1000000);
    if (rc == ADMIN_OK)
        rc = set_int(a, args, "max-total", "max_total_bytes", 1, INT64_C(1) << 40);
    const char *end = admin_args_get(args, "publish-at-end");
    if (rc == ADMIN_OK && end != NULL) {
        if (strcmp(end, "yes") != 0 && strcmp(end, "no") != 0)
            return admin_usage(a, "--publish-at-end takes yes or no");
        if (archive_store_set_int(reg_store_db(a->store), args->pos[0], "publish_at_end",
                                  strcmp(end, "yes") == 0) != 0)
            return admin_fail("cannot store --publish-at-end");
    }
    if (rc == ADMIN_OK)
        printf("archive settings of %s updated\n", args->pos[0]);
    return rc;
}

/* ---- archive list ---- */

struct listing {
    int json, count;
    struct admin_table table;
};

static const char *row_state(const struct archive_row *r)
{
    if (r->commit_sha[0] != '\0')
        return "ARCHIVED";
    if (r->refused[0] != '\0')
        return "REFUSED";
    if (r->submission_id == 0)
        return "NO_SUBMISSION";
    return r->consent_at > 0 ? "PENDING" : "NO_CONSENT";
}

static void row_json(const struct archive_row *r)
{
    char at[REG_TIME_LEN];
    printf("{\"submission_id\":%" PRId64 ",\"participant_id\":%" PRId64 ",\"participant\":",
           r->submission_id, r->participant_id);
    admin_json_str(stdout, r->participant_name);
    printf(",\"round\":%d,\"state\":\"%s\",\"commit\":", r->round, row_state(r));
    admin_json_str(stdout, r->commit_sha);
    fputs(",\"consent_at\":", stdout);
    if (r->consent_at > 0) {
        reg_time_format(r->consent_at, at);
        printf("\"%s\"", at);
    } else {
        fputs("null", stdout);
    }
    fputs(",\"refused\":", stdout);
    admin_json_str(stdout, r->refused);
    fputs(",\"code_key\":", stdout);
    admin_json_str(stdout, r->code_key);
    fputs("}", stdout);
}

static void list_row(void *ud, const struct archive_row *r)
{
    struct listing *l = ud;
    if (l->json) {
        fputs(l->count++ == 0 ? "\n  " : ",\n  ", stdout);
        row_json(r);
        return;
    }
    char at[REG_TIME_LEN] = "-";
    if (r->consent_at > 0)
        reg_time_format(r->consent_at, at);
    admin_table_cell(&l->table, "%" PRId64, r->submission_id);
    admin_table_cell(&l->table, "%" PRId64 " %s", r->participant_id, r->participant_name);
    admin_table_cell(&l->table, "%d", r->round);
    admin_table_cell(&l->table, "%s", row_state(r));
    admin_table_cell(&l->table, "%s", at);
    admin_table_cell(&l->table, "%s", r->commit_sha[0] ? r->commit_sha : r->refused);
}

int admin_archive_list(struct admin *a, const struct admin_args *args)
{
    static const char *const headers[] = {"SUBMISSION", "PARTICIPANT", "ROUND",
                                          "STATE",      "CONSENT",     "COMMIT / REASON"};
    struct listing l = {.json = admin_args_flag(args, "json")};
    struct archive_settings s;
    int rc = challenge_exists(a, args->pos[0]);
    if (rc != ADMIN_OK)
        return rc;
    if (archive_store_settings(reg_store_db(a->store), args->pos[0], &s) != 0)
        return admin_fail("cannot read the archive settings");
    if (l.json)
        fputs("{\"rows\":[", stdout);
    else
        admin_table_init(&l.table, 6, headers);
    if (archive_store_list(reg_store_db(a->store), args->pos[0], 0, list_row, &l) < 0) {
        if (!l.json)
            admin_table_release(&l.table);
        return admin_fail("cannot read the archive");
    }
    if (l.json) {
        printf("%s],\"remote\":", l.count > 0 ? "\n" : "");
        admin_json_str(stdout, s.remote_url);
        printf(",\"pushed\":%s,\"push_error\":", s.changes <= s.pushed_changes ? "true" : "false");
        admin_json_str(stdout, s.push_error);
        printf(",\"published\":%s}\n", s.published_at > 0 ? "true" : "false");
        return ADMIN_OK;
    }
    admin_table_print(&l.table, stdout);
    admin_table_release(&l.table);
    printf("\nremote: %s (%s)\npublished: %s\n", s.remote_url[0] ? s.remote_url : "none",
           s.changes <= s.pushed_changes ? "up to date"
           : s.push_error[0]             ? s.push_error
                                         : "push pending",
           s.published_at > 0 ? "yes" : "no");
    return ADMIN_OK;
}

/* ---- archive publish ---- */

int admin_archive_publish(struct admin *a, const struct admin_args *args)
{
    struct archive_env env;
    char err[512];
    int rc = challenge_exists(a, args->pos[0]);
    if (rc != ADMIN_OK)
        return rc;
    archive_env_init(&env, a->data_dir, NULL);
    archive_git_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = archive_publish(reg_store_db(a->store), &env, args->pos[0], a->now, err, sizeof(err));
    curl_global_cleanup();
    archive_git_shutdown();
    if (rc != 0)
        return admin_fail("publishing %s failed: %s", args->pos[0], err);
    printf("archive of %s published\n", args->pos[0]);
    return ADMIN_OK;
}
