/* The code archive against real git repositories: archive passes over a real registry
 * database and blob store, checked with the git command line (history, branches, tags, notes,
 * trees and contents exactly as submitted), pushes over file:// (a remote that is down and
 * comes back), hostile archives refused with nothing written, consent given later, no consent
 * nothing archived, and publishing to a public remote with only consenting participants. */
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "archive/archive_git.h"
#include "archive/archive_store.h"
#include "registry/reg_store.h"
#include "tar_build.h"
#include "test.h"

#define T0 INT64_C(1795564800000) /* 2026-11-25T00:00:00Z */

struct gfx {
    char dir[64];
    char data[128];
    struct reg_store *store;
    sqlite3 *db;
    struct archive_env env;
    int64_t now;
};

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command that must succeed. */
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        test_fail(__FILE__, __LINE__, "command failed: %s", cmd);
}

static char *out_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command and returns its stdout (static buffer); the exit status must be 0. */
static char *out_of(const char *fmt, ...)
{
    static char buf[65536];
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        test_fail(__FILE__, __LINE__, "popen failed: %s", cmd);
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    if (pclose(p) != 0)
        test_fail(__FILE__, __LINE__, "command failed: %s\n%s", cmd, buf);
    return buf;
}

static void exec_sql(struct gfx *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void exec_sql(struct gfx *g, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    char *msg = NULL;
    if (sqlite3_exec(g->db, sql, NULL, NULL, &msg) != SQLITE_OK)
        test_fail(__FILE__, __LINE__, "sql failed: %s: %s", sql, msg ? msg : "?");
}

static void gfx_open(struct gfx *g)
{
    char err[256];
    memset(g, 0, sizeof(*g));
    snprintf(g->dir, sizeof(g->dir), "/tmp/archive-test-XXXXXX");
    ASSERT_TRUE(mkdtemp(g->dir) != NULL);
    snprintf(g->data, sizeof(g->data), "%s/data", g->dir);
    ASSERT_EQ(mkdir(g->data, 0700), 0);
    sh("mkdir -p %s/blobs", g->data);
    archive_env_init(&g->env, g->data, NULL);
    g->store = reg_store_open(g->env.db_path, err, sizeof(err));
    ASSERT_TRUE(g->store != NULL);
    g->db = reg_store_db(g->store);
    g->now = T0 + 3600000;
    exec_sql(g, "INSERT INTO participants (id, name, created_at) VALUES (1, 'alice', 0),"
                " (2, 'bob', 0);");
    for (int i = 0; i < 2; i++) {
        const char *ch = i == 0 ? "c" : "hostile";
        exec_sql(g,
                 "INSERT INTO challenges (id, title, pool, primary_name, primary_sort,"
                 " max_upload_bytes, time_limit_ms, max_attempts, created_at, updated_at)"
                 " VALUES ('%s', 'T', 'p', 'score', 0, 1000000, 1000, 3, 0, 0);"
                 "INSERT INTO rounds (challenge_id, number, starts_at, ends_at)"
                 " VALUES ('%s', 1, 0, %lld);",
                 ch, ch, (long long)(T0 + 86400000));
    }
    archive_git_init();
}

static void gfx_close(struct gfx *g)
{
    reg_store_close(g->store);
    archive_git_shutdown();
    sh("rm -rf %s", g->dir);
}

/* Stores bytes as a blob; key gets its hex SHA-256. */
static void put_blob(struct gfx *g, const uint8_t *data, size_t len, char key[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (int i = 0; i < 32; i++)
        snprintf(key + 2 * i, 3, "%02x", md[i]);
    char path[512];
    snprintf(path, sizeof(path), "%s/blobs/%.2s", g->data, key);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/blobs/%.2s/%s", g->data, key, key);
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A submission (state QUEUED) with its code recorded; consent given at consent_at (0 none). */
static void submit(struct gfx *g, const char *challenge, int64_t id, int64_t participant,
                   struct tarb *code, int gzip, int64_t consent_at)
{
    char key[65], csid[32], msg[256];
    tarb_end(code);
    if (gzip) {
        size_t zlen;
        uint8_t *z = tarb_gzip(code->data, code->len, &zlen);
        put_blob(g, z, zlen, key);
        free(z);
    } else {
        put_blob(g, code->data, code->len, key);
    }
    tarb_free(code);
    snprintf(csid, sizeof(csid), "csid-%lld", (long long)id);
    ASSERT_EQ(archive_store_intent(g->db, participant, challenge, csid, key, consent_at > 0,
                                   consent_at > 0 ? consent_at : T0, msg, sizeof(msg)),
              0);
    exec_sql(g,
             "INSERT INTO submissions (id, participant_id, challenge_id, round_number,"
             " client_submission_id, description, created_at, updated_at)"
             " VALUES (%lld, %lld, '%s', 1, '%s', 'my model', %lld, %lld)",
             (long long)id, (long long)participant, challenge, csid, (long long)(T0 + id * 60000),
             (long long)(T0 + id * 60000));
}

static void grade(struct gfx *g, int64_t id, double score, int64_t at)
{
    exec_sql(g,
             "UPDATE submissions SET state = 2, has_score = 1, score = %.17g, updated_at = %lld"
             " WHERE id = %lld",
             score, (long long)at, (long long)id);
}

static char *repo(struct gfx *g, const char *challenge)
{
    static char path[256];
    archive_repo_path(&g->env, challenge, path, sizeof(path));
    return path;
}

static void pass(struct gfx *g)
{
    ASSERT_EQ(archive_pass(&g->env, g->now), 0);
}

struct found {
    struct archive_row rows[16];
    int n;
};

static void keep_row(void *ud, const struct archive_row *r)
{
    struct found *f = ud;
    if (f->n < 16)
        f->rows[f->n++] = *r;
}

static struct archive_row row_of(struct gfx *g, const char *challenge, int64_t sub_id)
{
    struct found f = {.n = 0};
    ASSERT_TRUE(archive_store_list(g->db, challenge, 0, keep_row, &f) >= 0);
    for (int i = 0; i < f.n; i++) {
        if (f.rows[i].submission_id == sub_id)
            return f.rows[i];
    }
    test_fail(__FILE__, __LINE__, "no archive row for submission %lld", (long long)sub_id);
}

static void code_v1(struct tarb *t)
{
    tarb_entry(t, '5', "src/", 0755, NULL, 0, NULL);
    tarb_file(t, "src/main.py", "print('v1')\n");
    tarb_entry(t, '0', "run.sh", 0755, "#!/bin/sh\npython3 src/main.py\n", 30, NULL);
    tarb_entry(t, '2', "src/run", 0777, NULL, 0, "../run.sh");
}

TEST(archive_commits_branches_tags_notes_as_submitted)
{
    struct gfx g;
    gfx_open(&g);
    struct tarb t = {0};
    code_v1(&t);
    submit(&g, "c", 1, 1, &t, 0, T0 + 100);
    t = (struct tarb){0};
    tarb_file(&t, "src/main.py", "print('v2')\n");
    tarb_file(&t, "README.md", "# two\n");
    submit(&g, "c", 2, 1, &t, 1, T0 + 200);
    t = (struct tarb){0};
    tarb_file(&t, "model.txt", "bob's\n");
    submit(&g, "c", 3, 2, &t, 0, T0 + 300);
    t = (struct tarb){0};
    tarb_file(&t, "secret.txt", "no consent\n");
    submit(&g, "c", 4, 1, &t, 0, 0);
    pass(&g);

    const char *r = repo(&g, "c");
    ASSERT_STR_EQ(out_of("git --git-dir=%s for-each-ref --format='%%(refname)'", r),
                  "refs/heads/participant/1\nrefs/heads/participant/2\n"
                  "refs/tags/submission/1\nrefs/tags/submission/2\nrefs/tags/submission/3\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s log --format='%%s|%%an|%%ae|%%at' participant/1", r),
                  "Submission 2 (round 1)|alice|participant-1@crowdai.invalid|1795564920\n"
                  "Submission 1 (round 1)|alice|participant-1@crowdai.invalid|1795564860\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s log --format=%%s participant/2", r),
                  "Submission 3 (round 1)\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s ls-tree -r --format='%%(objectmode) %%(path)' "
                         "submission/1",
                         r),
                  "100755 run.sh\n100644 src/main.py\n120000 src/run\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s ls-tree -r --name-only submission/2", r),
                  "README.md\nsrc/main.py\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s show submission/1:src/main.py", r), "print('v1')\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s show submission/1:run.sh", r),
                  "#!/bin/sh\npython3 src/main.py\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s cat-file -p submission/1:src/run", r), "../run.sh");
    ASSERT_STR_EQ(out_of("git --git-dir=%s show submission/2:src/main.py", r), "print('v2')\n");
    /* The message carries the submission, round and time; the tag points at the commit. */
    char *body = out_of("git --git-dir=%s log -1 --format=%%B submission/1", r);
    ASSERT_TRUE(strstr(body, "Submission: 1\nRound: 1\nParticipant: 1 (alice)\n"
                             "Submitted-at: 2026-11-25T00:01:00.000Z\n"
                             "Consent-at: 2026-11-25T00:00:00.100Z\n") != NULL);
    ASSERT_TRUE(strstr(body, "Description: my model\n") != NULL);
    struct archive_row r1 = row_of(&g, "c", 1);
    char want[64];
    snprintf(want, sizeof(want), "%s\n", r1.commit_sha);
    ASSERT_STR_EQ(out_of("git --git-dir=%s rev-parse 'submission/1^{commit}'", r), want);
    ASSERT_STR_EQ(out_of("git --git-dir=%s cat-file -t submission/1", r), "tag\n");
    ASSERT_EQ(r1.archived_at, g.now);
    /* No consent: nothing of submission 4 anywhere. */
    ASSERT_STR_EQ(row_of(&g, "c", 4).commit_sha, "");
    ASSERT_STR_EQ(out_of("git --git-dir=%s log --all --format=%%s | grep -c 'Submission 4' || "
                         "true",
                         r),
                  "0\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s grep -l 'no consent' $(git --git-dir=%s rev-list "
                         "--all) | wc -l",
                         r, r),
                  "0\n");

    /* Notes once graded, replaced on a regrade; a pass with nothing new writes nothing. */
    ASSERT_STR_EQ(out_of("git --git-dir=%s notes --ref=scores list | wc -l", r), "0\n");
    grade(&g, 1, 0.5, T0 + 500000);
    pass(&g);
    ASSERT_STR_EQ(out_of("git --git-dir=%s notes --ref=scores show 'submission/1^{commit}'", r),
                  "submission: 1\nround: 1\nscore: 0.5\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s notes --ref=scores list | wc -l", r), "1\n");
    grade(&g, 1, 0.75, T0 + 600000);
    pass(&g);
    ASSERT_STR_EQ(out_of("git --git-dir=%s notes --ref=scores show 'submission/1^{commit}'", r),
                  "submission: 1\nround: 1\nscore: 0.75\n");
    char before[4096];
    snprintf(before, sizeof(before), "%s",
             out_of("git --git-dir=%s for-each-ref --format='%%(objectname) %%(refname)'", r));
    g.now += 1000;
    pass(&g);
    ASSERT_STR_EQ(out_of("git --git-dir=%s for-each-ref --format='%%(objectname) %%(refname)'", r),
                  before);
    ASSERT_STR_EQ(out_of("git --git-dir=%s fsck --strict >/dev/null 2>&1 && echo ok", r), "ok\n");
    gfx_close(&g);
}

TEST(archive_push_over_file_url_retried_until_the_remote_is_back)
{
    struct gfx g;
    gfx_open(&g);
    char remote[256], url[300];
    snprintf(remote, sizeof(remote), "%s/remote.git", g.dir);
    snprintf(url, sizeof(url), "file://%s", remote);
    ASSERT_EQ(archive_store_set_text(g.db, "c", "remote_url", url), 0);
    struct tarb t = {0};
    code_v1(&t);
    submit(&g, "c", 1, 1, &t, 0, T0 + 100);
    /* The remote does not exist yet: the commit is made, the push fails and waits. */
    pass(&g);
    struct archive_settings s;
    ASSERT_EQ(archive_store_settings(g.db, "c", &s), 0);
    ASSERT_EQ(s.push_failures, 1);
    ASSERT_TRUE(s.pushed_changes < s.changes);
    ASSERT_EQ(s.next_push_at, g.now + archive_backoff_ms(1));
    ASSERT_TRUE(s.push_error[0] != '\0');
    ASSERT_STR_EQ(out_of("git --git-dir=%s log --format=%%s participant/1", repo(&g, "c")),
                  "Submission 1 (round 1)\n");
    /* Before the backoff is over nothing is tried; a second commit queues meanwhile. */
    sh("git init -q --bare %s", remote);
    t = (struct tarb){0};
    tarb_file(&t, "b.txt", "b\n");
    submit(&g, "c", 2, 2, &t, 0, T0 + 200);
    pass(&g);
    ASSERT_EQ(archive_store_settings(g.db, "c", &s), 0);
    ASSERT_EQ(s.push_failures, 1);
    ASSERT_STR_EQ(out_of("git --git-dir=%s for-each-ref | wc -l", remote), "0\n");
    /* After it, everything reaches the remote: the same refs and objects as the archive. */
    g.now += archive_backoff_ms(1);
    grade(&g, 2, 1.25, T0 + 500000);
    pass(&g);
    ASSERT_EQ(archive_store_settings(g.db, "c", &s), 0);
    ASSERT_EQ(s.push_failures, 0);
    ASSERT_EQ(s.pushed_changes, s.changes);
    char local[4096];
    snprintf(local, sizeof(local), "%s",
             out_of("git --git-dir=%s for-each-ref --format='%%(objectname) %%(refname)'",
                    repo(&g, "c")));
    ASSERT_STR_EQ(
        out_of("git --git-dir=%s for-each-ref --format='%%(objectname) %%(refname)'", remote),
        local);
    ASSERT_TRUE(strstr(local, "refs/notes/scores") != NULL);
    ASSERT_STR_EQ(
        out_of("git --git-dir=%s notes --ref=scores show 'submission/2^{commit}'", remote),
        "submission: 2\nround: 1\nscore: 1.25\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s show participant/2:b.txt", remote), "b\n");
    ASSERT_STR_EQ(out_of("git --git-dir=%s fsck --strict >/dev/null 2>&1 && echo ok", remote),
                  "ok\n");
    gfx_close(&g);
}

/* One hostile archive: refused with want in the reason, and no repository at all. */
static void hostile(struct gfx *g, int64_t id, struct tarb *t, const char *want)
{
    submit(g, "hostile", id, 1, t, id % 2, T0 + 100);
    pass(g);
    struct archive_row r = row_of(g, "hostile", id);
    ASSERT_STR_EQ(r.commit_sha, "");
    if (strstr(r.refused, want) == NULL)
        test_fail(__FILE__, __LINE__, "submission %lld refused with \"%s\", not \"%s\"",
                  (long long)id, r.refused, want);
    ASSERT_TRUE(access(repo(g, "hostile"), F_OK) != 0);
}

TEST(archive_hostile_archives_refused_nothing_written)
{
    struct gfx g;
    gfx_open(&g);
    ASSERT_EQ(archive_store_set_int(g.db, "hostile", "max_file_bytes", 1000), 0);
    struct tarb t = {0};
    tarb_file(&t, "ok.txt", "fine");
    tarb_file(&t, "../../../etc/cron.d/x", "* * * * * root sh");
    hostile(&g, 1, &t, "leads outside the tree");
    t = (struct tarb){0};
    tarb_file(&t, "ok.txt", "fine");
    tarb_entry(&t, '2', "data/link", 0777, NULL, 0, "../../../home/user/.ssh/id_rsa");
    hostile(&g, 2, &t, "points outside the tree");
    t = (struct tarb){0};
    char *big = malloc(1002);
    memset(big, 'x', 1001);
    big[1001] = '\0';
    tarb_file(&t, "weights.bin", big);
    free(big);
    hostile(&g, 3, &t, "weights.bin is larger than 1000 bytes");
    t = (struct tarb){0};
    for (int i = 0; i < 3000; i++) {
        char name[32];
        snprintf(name, sizeof(name), "many/f%04d", i);
        tarb_file(&t, name, "x");
    }
    hostile(&g, 4, &t, "more than 1000 files");
    t = (struct tarb){0};
    tarb_file(&t, "a\nb.py", "x");
    hostile(&g, 5, &t, "newline");
    t = (struct tarb){0};
    tarb_file(&t, "--upload-pack=evil", "x");
    hostile(&g, 6, &t, "starts with '-'");
    t = (struct tarb){0};
    tarb_file(&t, "/abs.txt", "x");
    hostile(&g, 7, &t, "absolute path");
    t = (struct tarb){0};
    tarb_entry(&t, '4', "dev/sda", 0600, NULL, 0, NULL);
    hostile(&g, 8, &t, "device files");
    /* Names a file system takes for .git. */
    t = (struct tarb){0};
    tarb_file(&t, "ok.txt", "fine");
    tarb_file(&t, "sub/.GIT. /config", "x");
    hostile(&g, 11, &t, "a name taken for one: .GIT. ");
    /* Not a tar at all. */
    t = (struct tarb){0};
    tarb_file(&t, "x", "y");
    t.data[0] ^= 0x55;
    hostile(&g, 9, &t, "not a tar archive");
    /* The same challenge still archives a good one afterwards. */
    t = (struct tarb){0};
    tarb_file(&t, "good.py", "ok\n");
    submit(&g, "hostile", 10, 1, &t, 0, T0 + 100);
    pass(&g);
    ASSERT_STR_EQ(
        out_of("git --git-dir=%s for-each-ref --format='%%(refname)'", repo(&g, "hostile")),
        "refs/heads/participant/1\nrefs/tags/submission/10\n");
    gfx_close(&g);
}

TEST(archive_consent_later_for_a_past_submission)
{
    struct gfx g;
    gfx_open(&g);
    struct tarb t = {0};
    tarb_file(&t, "first.py", "1\n");
    submit(&g, "c", 1, 1, &t, 0, 0);
    t = (struct tarb){0};
    tarb_file(&t, "second.py", "2\n");
    submit(&g, "c", 2, 1, &t, 0, T0 + 50);
    exec_sql(&g, "INSERT INTO submissions (id, participant_id, challenge_id, round_number,"
                 " client_submission_id, created_at, updated_at)"
                 " VALUES (3, 1, 'c', 1, 'no-code', 0, 0)");
    pass(&g);
    const char *r = repo(&g, "c");
    ASSERT_STR_EQ(out_of("git --git-dir=%s log --format=%%s participant/1", r),
                  "Submission 2 (round 1)\n");
    ASSERT_EQ(row_of(&g, "c", 1).consent_at, 0);
    /* Someone else's submission, one without code, one that does not exist. */
    int64_t at = 0;
    ASSERT_EQ(archive_store_consent(g.db, 2, "c", 1, T0 + 7000, &at), -2);
    ASSERT_EQ(archive_store_consent(g.db, 1, "c", 3, T0 + 7000, &at), -3);
    ASSERT_EQ(archive_store_consent(g.db, 1, "c", 99, T0 + 7000, &at), -2);
    ASSERT_EQ(archive_store_consent(g.db, 1, "hostile", 1, T0 + 7000, &at), -2);
    ASSERT_EQ(row_of(&g, "c", 1).consent_at, 0);
    ASSERT_EQ(archive_store_consent(g.db, 1, "c", 1, T0 + 7000, &at), 0);
    ASSERT_EQ(at, T0 + 7000);
    /* The first consent stands. */
    ASSERT_EQ(archive_store_consent(g.db, 1, "c", 1, T0 + 9000, &at), 0);
    ASSERT_EQ(at, T0 + 7000);
    ASSERT_EQ(row_of(&g, "c", 1).consent_at, T0 + 7000);
    pass(&g);
    ASSERT_STR_EQ(out_of("git --git-dir=%s log --format=%%s participant/1", r),
                  "Submission 1 (round 1)\nSubmission 2 (round 1)\n");
    ASSERT_TRUE(strstr(out_of("git --git-dir=%s log -1 --format=%%B submission/1", r),
                       "Consent-at: 2026-11-25T00:00:07.000Z\n") != NULL);
    ASSERT_STR_EQ(out_of("git --git-dir=%s show submission/1:first.py", r), "1\n");
    gfx_close(&g);
}

TEST(archive_intent_conflicts)
{
    struct gfx g;
    gfx_open(&g);
    char msg[256];
    const char *k1 = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *k2 = "2222222222222222222222222222222222222222222222222222222222222222";
    ASSERT_EQ(archive_store_intent(g.db, 1, "c", "x", k1, 0, T0, msg, sizeof(msg)), 0);
    ASSERT_EQ(archive_store_intent(g.db, 1, "c", "x", k1, 1, T0 + 5, msg, sizeof(msg)), 0);
    ASSERT_EQ(archive_store_intent(g.db, 1, "c", "x", k2, 1, T0, msg, sizeof(msg)), 1);
    ASSERT_TRUE(strstr(msg, "other code") != NULL);
    exec_sql(&g, "INSERT INTO submissions (id, participant_id, challenge_id, round_number,"
                 " client_submission_id, created_at, updated_at)"
                 " VALUES (5, 1, 'c', 1, 'plain', 0, 0)");
    ASSERT_EQ(archive_store_intent(g.db, 1, "c", "plain", k1, 1, T0, msg, sizeof(msg)), 1);
    ASSERT_TRUE(strstr(msg, "without code") != NULL);
    /* A retry adds the consent it now carries. */
    exec_sql(&g, "INSERT INTO submissions (id, participant_id, challenge_id, round_number,"
                 " client_submission_id, created_at, updated_at)"
                 " VALUES (6, 1, 'c', 1, 'x', 0, 0)");
    ASSERT_EQ(row_of(&g, "c", 6).consent_at, T0 + 5);
    gfx_close(&g);
}

TEST(archive_publish_pushes_only_consenting_participants)
{
    struct gfx g;
    gfx_open(&g);
    char pub[256], err[512];
    snprintf(pub, sizeof(pub), "file://%s/public.git", g.dir);
    sh("git init -q --bare %s", pub + 7);
    struct tarb t = {0};
    tarb_file(&t, "a.py", "a\n");
    submit(&g, "c", 1, 1, &t, 0, T0 + 100);
    t = (struct tarb){0};
    tarb_file(&t, "b.py", "b\n");
    submit(&g, "c", 2, 2, &t, 0, 0);
    pass(&g);
    grade(&g, 1, 2.5, T0 + 500000);
    pass(&g);
    /* A branch in the repository that no consent covers (made by hand) stays private. */
    const char *r = repo(&g, "c");
    sh("git --git-dir=%s branch participant/99 participant/1", r);
    ASSERT_EQ(archive_publish(g.db, &g.env, "c", g.now, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "neither a GitHub repository nor a public remote") != NULL);
    ASSERT_EQ(archive_store_set_text(g.db, "c", "public_url", pub), 0);
    ASSERT_EQ(archive_publish(g.db, &g.env, "c", g.now, err, sizeof(err)), 0);
    ASSERT_STR_EQ(out_of("git --git-dir=%s for-each-ref --format='%%(refname)'", pub + 7),
                  "refs/heads/participant/1\nrefs/notes/scores\nrefs/tags/submission/1\n");
    ASSERT_STR_EQ(
        out_of("git --git-dir=%s notes --ref=scores show 'submission/1^{commit}'", pub + 7),
        "submission: 1\nround: 1\nscore: 2.5\n");
    struct archive_settings s;
    ASSERT_EQ(archive_store_settings(g.db, "c", &s), 0);
    ASSERT_EQ(s.published_at, g.now);
    gfx_close(&g);
}
