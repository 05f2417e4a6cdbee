/* The code archive's passes and publishing; see archive.h. */
#include "archive/archive.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive_git.h"
#include "core/log.h"
#include "core/xalloc.h"

#define PASS_COMMITS 20 /* commits per pass; more is left for the next pass */
#define PASS_NOTES   50
#define PASS_PUSHES  8
#define GITHUB_BODY  65536

void archive_env_init(struct archive_env *env, const char *dir, volatile int *stop)
{
    memset(env, 0, sizeof(*env));
    snprintf(env->data_dir, sizeof(env->data_dir), "%s", dir);
    snprintf(env->db_path, sizeof(env->db_path), "%s/registry.sqlite3", dir);
    snprintf(env->blob_dir, sizeof(env->blob_dir), "%s/blobs", dir);
    env->stop = stop;
}

void archive_repo_path(const struct archive_env *env, const char *challenge_id, char *out,
                       size_t outlen)
{
    snprintf(out, outlen, "%s/archive/%s.git", env->data_dir, challenge_id);
}

/* Bytes of a tar holding lim's worth of files: headers, long names and padding included. */
static size_t tar_bytes_cap(const struct tar_limits *lim)
{
    return (size_t)lim->max_total + (lim->max_files * 4 + 64) * (1536 + lim->max_path);
}

static int read_file(const char *path, size_t cap, uint8_t **out, size_t *len, char *err,
                     size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "the code upload was not found (upload it again)");
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > cap) {
        close(fd);
        snprintf(err, errlen, "the code archive is larger than %zu bytes", cap);
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = xmalloc(n > 0 ? n : 1);
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0 && errno != EINTR)
            break;
        if (r > 0)
            got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        snprintf(err, errlen, "the code upload could not be read");
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

int archive_code_load(const char *blob_dir, const char *key, const struct tar_limits *lim,
                      uint8_t **buf, struct tar_tree *tree, char *err, size_t errlen)
{
    char path[700];
    size_t cap = tar_bytes_cap(lim), len;
    uint8_t *raw;
    if (strlen(key) != 64 || strspn(key, "0123456789abcdef") != 64) {
        snprintf(err, errlen, "code_key must be the key the upload answered");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%.2s/%s", blob_dir, key, key);
    if (read_file(path, cap, &raw, &len, err, errlen) != 0)
        return -1;
    if (tar_is_gzip(raw, len)) {
        uint8_t *plain;
        size_t plen;
        int rc = tar_gunzip(raw, len, cap, &plain, &plen, err, errlen);
        free(raw);
        if (rc != 0)
            return -1;
        raw = plain;
        len = plen;
    }
    if (tar_read(raw, len, lim, tree, err, errlen) != 0) {
        free(raw);
        return -1;
    }
    *buf = raw;
    return 0;
}

void archive_note_text(const struct archive_row *r, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "submission: %" PRId64 "\nround: %d\nscore: %.17g\n",
                     r->submission_id, r->round, r->score);
    if (r->has_secondary && n > 0 && (size_t)n < outlen)
        snprintf(out + n, outlen - (size_t)n, "score_secondary: %.17g\n", r->score_secondary);
}

/* ---- one pass ---- */

struct rows {
    struct archive_row *items;
    int n;
};

static void collect(void *ud, const struct archive_row *r)
{
    struct rows *rows = ud;
    rows->items = xrealloc(rows->items, (size_t)(rows->n + 1) * sizeof(*rows->items));
    rows->items[rows->n++] = *r;
}

static void commit_row(sqlite3 *db, const struct archive_env *env, const struct archive_row *r,
                       int64_t now)
{
    struct archive_settings s;
    struct tar_tree tree;
    uint8_t *buf = NULL;
    char err[512], repo[700], sha[ARCHIVE_SHA_LEN + 1];
    if (archive_store_settings(db, r->challenge_id, &s) != 0)
        return;
    if (archive_code_load(env->blob_dir, r->code_key, &s.limits, &buf, &tree, err, sizeof(err)) !=
        0) {
        log_info("archive", "code refused sub=%" PRId64 " reason=\"%s\"", r->submission_id, err);
        archive_store_set_refused(db, r, err);
        return;
    }
    struct archive_commit_info info = {
        .submission_id = r->submission_id,
        .participant_id = r->participant_id,
        .participant_name = r->participant_name,
        .round = r->round,
        .submitted_at = r->submitted_at,
        .consent_at = r->consent_at,
        .now = now,
        .code_key = r->code_key,
        .description = r->description,
    };
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/archive", env->data_dir);
    mkdir(dir, 0700);
    archive_repo_path(env, r->challenge_id, repo, sizeof(repo));
    int rc = archive_git_commit(repo, &info, &tree, sha, err, sizeof(err));
    if (rc == 0) {
        log_info("archive", "committed sub=%" PRId64 " participant=%" PRId64 " commit=%s",
                 r->submission_id, r->participant_id, sha);
        archive_store_set_commit(db, r, sha, now);
    } else if (rc == -2) {
        log_info("archive", "code refused sub=%" PRId64 " reason=\"%s\"", r->submission_id, err);
        archive_store_set_refused(db, r, err);
    } else {
        log_error("archive", "commit failed sub=%" PRId64 " err=\"%s\"", r->submission_id, err);
    }
    tar_tree_release(&tree);
    free(buf);
}

static void note_row(sqlite3 *db, const struct archive_env *env, const struct archive_row *r,
                     int64_t now)
{
    char text[256], err[512], repo[700];
    archive_note_text(r, text, sizeof(text));
    archive_repo_path(env, r->challenge_id, repo, sizeof(repo));
    if (archive_git_note(repo, r->commit_sha, text, now, err, sizeof(err)) == 0)
        archive_store_set_noted(db, r);
    else
        log_error("archive", "note failed sub=%" PRId64 " err=\"%s\"", r->submission_id, err);
}

/* The token in a settings' token file (trailing whitespace dropped), "" when none. */
static void read_token(const struct archive_settings *s, char *out, size_t outlen)
{
    out[0] = '\0';
    if (s->token_file[0] == '\0')
        return;
    FILE *f = fopen(s->token_file, "re");
    if (f == NULL)
        return;
    size_t n = fread(out, 1, outlen - 1, f);
    fclose(f);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        out[--n] = '\0';
}

static int push_challenge(sqlite3 *db, const struct archive_env *env, const char *challenge_id,
                          int64_t now, char *err, size_t errlen)
{
    struct archive_settings s;
    char repo[700], token[1024];
    if (archive_store_settings(db, challenge_id, &s) != 0) {
        snprintf(err, errlen, "cannot read the settings");
        return -1;
    }
    if (s.remote_url[0] == '\0')
        return 0;
    read_token(&s, token, sizeof(token));
    archive_repo_path(env, challenge_id, repo, sizeof(repo));
    int rc = archive_git_push(repo, s.remote_url, token, s.ssh_key_file, s.known_hosts_file, NULL,
                              0, env->stop, err, errlen);
    memset(token, 0, sizeof(token));
    log_info("archive", "push challenge=%s %s%s", challenge_id,
             rc == 0 ? "ok" : "failed: ", rc == 0 ? "" : err);
    archive_store_pushed(db, challenge_id, s.changes, rc == 0 ? NULL : err, now);
    return rc;
}

int archive_pass(const struct archive_env *env, int64_t now)
{
    char err[512];
    sqlite3 *db = archive_store_open(env->db_path, err, sizeof(err));
    if (db == NULL) {
        log_error("archive", "%s", err);
        return -1;
    }
    struct rows todo = {0}, notes = {0};
    int more = 0;
    if (archive_store_todo(db, PASS_COMMITS, collect, &todo) == PASS_COMMITS)
        more = 1;
    for (int i = 0; i < todo.n && !(env->stop && *env->stop); i++)
        commit_row(db, env, &todo.items[i], now);
    if (archive_store_notes_due(db, PASS_NOTES, collect, &notes) == PASS_NOTES)
        more = 1;
    for (int i = 0; i < notes.n && !(env->stop && *env->stop); i++)
        note_row(db, env, &notes.items[i], now);
    free(todo.items);
    free(notes.items);
    char ids[PASS_PUSHES][64];
    int n = archive_store_push_due(db, now, ids, PASS_PUSHES);
    for (int i = 0; i < n && !(env->stop && *env->stop); i++)
        push_challenge(db, env, ids[i], now, err, sizeof(err));
    n = archive_store_publish_due(db, now, ids, PASS_PUSHES);
    for (int i = 0; i < n && !(env->stop && *env->stop); i++) {
        if (archive_publish(db, env, ids[i], now, err, sizeof(err)) != 0)
            log_warn("archive", "publish challenge=%s failed: %s", ids[i], err);
    }
    sqlite3_close(db);
    return more;
}

/* ---- publishing ---- */

struct body {
    char *data;
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    size_t len = size * n;
    if (b->len + len > GITHUB_BODY)
        return 0;
    b->data = xrealloc(b->data, b->len + len + 1);
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* PATCH /repos/{owner}/{repo} {"private": false}; 0 once GitHub says it is public. */
static int github_make_public(const struct archive_settings *s, const char *token, char *err,
                              size_t errlen)
{
    char url[800], auth[1100];
    struct body body = {0};
    long status = 0;
    snprintf(url, sizeof(url), "%s/repos/%s", s->github_api, s->github_repo);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Accept: application/vnd.github+json");
    h = curl_slist_append(h, "X-GitHub-Api-Version: 2022-11-28");
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"private\":false}");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "crowdai-broker");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    memset(auth, 0, sizeof(auth));
    json_t *j = body.data != NULL ? json_loads(body.data, 0, NULL) : NULL;
    free(body.data);
    int rc = -1;
    if (cc != CURLE_OK)
        snprintf(err, errlen, "GitHub API unreachable: %s", curl_easy_strerror(cc));
    else if (status == 200 && json_is_false(json_object_get(j, "private")))
        rc = 0;
    else
        snprintf(err, errlen, "GitHub answered %ld: %s", status,
                 json_is_string(json_object_get(j, "message"))
                     ? json_string_value(json_object_get(j, "message"))
                     : "the repository is still private");
    json_decref(j);
    return rc;
}

struct refs {
    char **names;
    size_t n;
};

static void refs_add(struct refs *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->names[i], name) == 0)
            return;
    }
    r->names = xrealloc(r->names, (r->n + 1) * sizeof(*r->names));
    r->names[r->n++] = xstrdup(name);
}

static void add_published_refs(void *ud, const struct archive_row *r)
{
    char name[96];
    if (r->commit_sha[0] == '\0' || r->consent_at == 0)
        return;
    snprintf(name, sizeof(name), "refs/heads/participant/%" PRId64, r->participant_id);
    refs_add(ud, name);
    snprintf(name, sizeof(name), "refs/tags/submission/%" PRId64, r->submission_id);
    refs_add(ud, name);
}

/* Pushes the consenting participants' branches, their tags and the notes to the public remote. */
static int push_public(sqlite3 *db, const struct archive_env *env, const struct archive_settings *s,
                       const char *token, char *err, size_t errlen)
{
    struct refs refs = {0};
    char repo[700];
    if (archive_store_list(db, s->challenge_id, 0, add_published_refs, &refs) < 0) {
        snprintf(err, errlen, "cannot read the archive's records");
        return -1;
    }
    refs_add(&refs, "refs/notes/scores");
    archive_repo_path(env, s->challenge_id, repo, sizeof(repo));
    int rc = archive_git_push(repo, s->public_url, token, s->ssh_key_file, s->known_hosts_file,
                              (const char *const *)refs.names, refs.n, env->stop, err, errlen);
    for (size_t i = 0; i < refs.n; i++)
        free(refs.names[i]);
    free(refs.names);
    return rc;
}

int archive_publish(sqlite3 *db, const struct archive_env *env, const char *challenge_id,
                    int64_t now, char *err, size_t errlen)
{
    struct archive_settings s;
    char token[1024];
    if (archive_store_settings(db, challenge_id, &s) != 0) {
        snprintf(err, errlen, "cannot read the archive settings");
        return -1;
    }
    if (s.github_repo[0] == '\0' && s.public_url[0] == '\0') {
        snprintf(err, errlen, "challenge %s has neither a GitHub repository nor a public remote",
                 challenge_id);
        return -1;
    }
    int rc = 0;
    if (s.remote_url[0] != '\0')
        rc = push_challenge(db, env, challenge_id, now, err, errlen);
    read_token(&s, token, sizeof(token));
    if (rc == 0 && s.github_repo[0] != '\0')
        rc = github_make_public(&s, token, err, errlen);
    else if (rc == 0)
        rc = push_public(db, env, &s, token, err, errlen);
    memset(token, 0, sizeof(token));
    archive_store_published(db, challenge_id, rc == 0 ? NULL : err, now);
    log_info("archive", "publish challenge=%s %s%s", challenge_id,
             rc == 0 ? "done" : "failed: ", rc == 0 ? "" : err);
    return rc;
}
