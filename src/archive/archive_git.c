/* The code archive's git side; see archive_git.h. */
#include "archive/archive_git.h"

#include <git2.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xalloc.h"

#define COMMITTER_NAME  "crowdai-broker"
#define COMMITTER_EMAIL "archive@crowdai.invalid"
#define NOTES_REF       "refs/notes/scores"

void archive_git_init(void)
{
    git_libgit2_init();
}

void archive_git_shutdown(void)
{
    git_libgit2_shutdown();
}

/* Puts "what: libgit2's message" in err; returns -1. */
static int git_fail(char *err, size_t errlen, const char *what)
{
    const git_error *e = git_error_last();
    snprintf(err, errlen, "%s: %s", what, e != NULL && e->message != NULL ? e->message : "failed");
    return -1;
}

#define ISO_LEN 64

static void iso_time(int64_t ms, char out[ISO_LEN])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int repo_open(git_repository **repo, const char *path, int create, char *err, size_t errlen)
{
    if (git_repository_open_bare(repo, path) == 0)
        return 0;
    if (!create)
        return git_fail(err, errlen, "cannot open the archive repository");
    if (git_repository_init(repo, path, 1) != 0)
        return git_fail(err, errlen, "cannot create the archive repository");
    return 0;
}

/* Builds the tree of files[lo, hi), whose paths all start with the prefix_len bytes of a
 * directory's path (and its '/'), into oid. */
static int build_tree(git_repository *repo, const struct tar_tree *t, size_t lo, size_t hi,
                      size_t prefix_len, git_oid *oid)
{
    git_treebuilder *bld;
    if (git_treebuilder_new(&bld, repo, NULL) != 0)
        return -1;
    int rc = 0;
    size_t i = lo;
    while (rc == 0 && i < hi) {
        const struct tar_file *f = &t->files[i];
        const char *rest = f->path + prefix_len;
        const char *slash = strchr(rest, '/');
        git_oid child;
        if (slash == NULL) {
            rc = git_blob_create_from_buffer(&child, repo, f->data, f->len);
            if (rc == 0)
                rc = git_treebuilder_insert(NULL, bld, rest, &child, (git_filemode_t)f->mode);
            i++;
            continue;
        }
        size_t clen = (size_t)(slash - rest);
        size_t j = i + 1;
        while (j < hi && strncmp(t->files[j].path + prefix_len, rest, clen + 1) == 0)
            j++;
        char *name = xmemdup0(rest, clen);
        rc = build_tree(repo, t, i, j, prefix_len + clen + 1, &child);
        if (rc == 0)
            rc = git_treebuilder_insert(NULL, bld, name, &child, GIT_FILEMODE_TREE);
        free(name);
        i = j;
    }
    if (rc == 0)
        rc = git_treebuilder_write(oid, bld);
    git_treebuilder_free(bld);
    return rc;
}

/* A name git accepts in a signature. */
static void signature_name(const char *in, int64_t id, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = in; *p != '\0' && n + 1 < outlen; p++)
        out[n++] = (*p == '<' || *p == '>' || (unsigned char)*p < 0x20) ? '_' : *p;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outlen, "participant %" PRId64, id);
}

static char *commit_message(const struct archive_commit_info *in)
{
    char submitted[ISO_LEN], consent[ISO_LEN];
    iso_time(in->submitted_at, submitted);
    iso_time(in->consent_at, consent);
    size_t len = 1024 + strlen(in->participant_name) + strlen(in->description);
    char *msg = xmalloc(len);
    int n = snprintf(msg, len,
                     "Submission %" PRId64 " (round %d)\n\n"
                     "Submission: %" PRId64 "\nRound: %d\nParticipant: %" PRId64 " (%s)\n"
                     "Submitted-at: %s\nConsent-at: %s\nCode-key: %s\n",
                     in->submission_id, in->round, in->submission_id, in->round, in->participant_id,
                     in->participant_name, submitted, consent, in->code_key);
    if (in->description[0] != '\0' && n > 0 && (size_t)n < len)
        snprintf(msg + n, len - (size_t)n, "Description: %s\n", in->description);
    return msg;
}

/* The commit a submission's tag points at, if the tag exists: 1 found, 0 not. */
static int tagged_commit(git_repository *repo, int64_t sub_id, char sha[ARCHIVE_SHA_LEN + 1])
{
    char ref[96];
    snprintf(ref, sizeof(ref), "refs/tags/submission/%" PRId64, sub_id);
    git_reference *r;
    if (git_reference_lookup(&r, repo, ref) != 0)
        return 0;
    git_object *obj;
    int found = git_reference_peel(&obj, r, GIT_OBJECT_COMMIT) == 0;
    if (found) {
        git_oid_tostr(sha, ARCHIVE_SHA_LEN + 1, git_object_id(obj));
        git_object_free(obj);
    }
    git_reference_free(r);
    return found;
}

struct commit_parts {
    git_signature *author, *committer;
    git_tree *tree;
    git_commit *parent;
    git_object *commit;
};

static void parts_free(struct commit_parts *p)
{
    git_signature_free(p->author);
    git_signature_free(p->committer);
    git_tree_free(p->tree);
    git_commit_free(p->parent);
    git_object_free(p->commit);
}

static int write_commit(git_repository *repo, const struct archive_commit_info *in,
                        const struct tar_tree *tree, struct commit_parts *p, git_oid *commit,
                        int *invalid)
{
    char branch[96], name[160], email[96];
    git_oid tree_oid, parent_oid;
    snprintf(branch, sizeof(branch), "refs/heads/participant/%" PRId64, in->participant_id);
    signature_name(in->participant_name, in->participant_id, name, sizeof(name));
    snprintf(email, sizeof(email), "participant-%" PRId64 "@crowdai.invalid", in->participant_id);
    if (git_signature_new(&p->author, name, email, (git_time_t)(in->submitted_at / 1000), 0) != 0 ||
        git_signature_new(&p->committer, COMMITTER_NAME, COMMITTER_EMAIL,
                          (git_time_t)(in->now / 1000), 0) != 0)
        return -1;
    if (build_tree(repo, tree, 0, tree->n, 0, &tree_oid) != 0) {
        /* Names libgit2 refuses (".git." and other names that some file systems take for
         * .git) make the same archive fail every time. */
        const git_error *e = git_error_last();
        *invalid = e != NULL && e->klass == GIT_ERROR_TREE;
        return -1;
    }
    if (git_tree_lookup(&p->tree, repo, &tree_oid) != 0)
        return -1;
    int has_parent = git_reference_name_to_id(&parent_oid, repo, branch) == 0;
    if (has_parent && git_commit_lookup(&p->parent, repo, &parent_oid) != 0)
        return -1;
    char *msg = commit_message(in);
    const git_commit *parents[1] = {p->parent};
    int rc = git_commit_create(commit, repo, branch, p->author, p->committer, NULL, msg, p->tree,
                               has_parent ? 1 : 0, parents);
    free(msg);
    return rc;
}

int archive_git_commit(const char *repo_path, const struct archive_commit_info *info,
                       const struct tar_tree *tree, char sha[ARCHIVE_SHA_LEN + 1], char *err,
                       size_t errlen)
{
    git_repository *repo;
    if (repo_open(&repo, repo_path, 1, err, errlen) != 0)
        return -1;
    if (tagged_commit(repo, info->submission_id, sha)) {
        git_repository_free(repo);
        return 0;
    }
    struct commit_parts p = {0};
    git_oid commit, tag;
    int invalid = 0;
    int rc = write_commit(repo, info, tree, &p, &commit, &invalid);
    if (rc == 0)
        rc = git_object_lookup(&p.commit, repo, &commit, GIT_OBJECT_COMMIT);
    if (rc == 0) {
        char name[64], msg[128];
        snprintf(name, sizeof(name), "submission/%" PRId64, info->submission_id);
        snprintf(msg, sizeof(msg), "Submission %" PRId64 " of participant %" PRId64 "\n",
                 info->submission_id, info->participant_id);
        rc = git_tag_create(&tag, repo, name, p.commit, p.committer, msg, 0);
    }
    if (rc != 0)
        git_fail(err, errlen,
                 invalid ? "git does not accept a name in the archive" : "cannot commit the code");
    else
        git_oid_tostr(sha, ARCHIVE_SHA_LEN + 1, &commit);
    parts_free(&p);
    git_repository_free(repo);
    return rc == 0 ? 0 : invalid ? -2 : -1;
}

int archive_git_note(const char *repo_path, const char *sha, const char *text, int64_t now,
                     char *err, size_t errlen)
{
    git_repository *repo;
    if (repo_open(&repo, repo_path, 0, err, errlen) != 0)
        return -1;
    git_signature *sig = NULL;
    git_oid target, note;
    int rc = git_oid_fromstr(&target, sha);
    if (rc == 0)
        rc = git_signature_new(&sig, COMMITTER_NAME, COMMITTER_EMAIL, (git_time_t)(now / 1000), 0);
    if (rc == 0)
        rc = git_note_create(&note, repo, NOTES_REF, sig, sig, &target, text, 1);
    if (rc != 0)
        git_fail(err, errlen, "cannot write the scores note");
    git_signature_free(sig);
    git_repository_free(repo);
    return rc == 0 ? 0 : -1;
}

/* ---- push ---- */

struct push_state {
    const char *token;
    const char *ssh_key, *known_hosts;
    char host[256];
    int port;
    volatile int *stop;
    int tried_credentials;
    char rejected[256];
    char host_error[384];
};

/* The host and port of an ssh remote: ssh://[user@]host[:port]/path or [user@]host:path
 * (port 22). 0, or -1 when url is neither. */
static int ssh_host(const char *url, char *host, size_t hostlen, int *port)
{
    const char *p;
    int scp = 0;
    if (strncmp(url, "ssh://", 6) == 0) {
        p = url + 6;
    } else if (strstr(url, "://") == NULL && strchr(url, ':') != NULL && url[0] != '/') {
        p = url;
        scp = 1;
    } else {
        return -1;
    }
    const char *at = strchr(p, '@');
    const char *end = p + strcspn(p, scp ? ":" : ":/");
    if (at != NULL && at < end) {
        p = at + 1;
        end = p + strcspn(p, scp ? ":" : ":/");
    }
    *port = 22;
    if (p[0] == '[') { /* ssh://[::1]:2222/... */
        const char *close = strchr(p, ']');
        if (close == NULL)
            return -1;
        p++;
        end = close;
    }
    size_t len = (size_t)(end - p);
    if (len == 0 || len >= hostlen)
        return -1;
    memcpy(host, p, len);
    host[len] = '\0';
    const char *after = end + (*end == ']');
    if (!scp && *after == ':')
        *port = atoi(after + 1);
    if (*port <= 0 || *port > 65535)
        *port = 22;
    return 0;
}

static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 text (stopping at '=' or the end); the length, or -1 when invalid. */
static long base64_decode(const char *in, unsigned char *out, size_t outlen)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = in; *p != '\0' && *p != '='; p++) {
        int v = base64_value(*p);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == outlen)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return (long)n;
}

/* Whether a known_hosts host pattern list (comma-separated) names host:port exactly. */
static int hosts_match(const char *list, const char *host, int port)
{
    char want[300];
    if (port == 22)
        snprintf(want, sizeof(want), "%s", host);
    else
        snprintf(want, sizeof(want), "[%s]:%d", host, port);
    size_t wlen = strlen(want);
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == wlen && strncmp(p, want, len) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* 1 when the known_hosts file has key (the raw host key) for host:port, 0 when it does not
 * (why in ps->host_error), -1 when it cannot be read. */
static int known_host(struct push_state *ps, const unsigned char *key, size_t keylen)
{
    FILE *f = fopen(ps->known_hosts, "re");
    if (f == NULL) {
        snprintf(ps->host_error, sizeof(ps->host_error),
                 "ssh host key of %s:%d not checked: cannot read the known_hosts file %s", ps->host,
                 ps->port, ps->known_hosts);
        return -1;
    }
    char line[8192];
    unsigned char *decoded = xmalloc(sizeof(line));
    int listed = 0, match = 0;
    while (!match && fgets(line, sizeof(line), f) != NULL) {
        char *save = NULL;
        char *hosts = strtok_r(line, " \t\r\n", &save);
        if (hosts == NULL || hosts[0] == '#' || hosts[0] == '@')
            continue;
        char *type = strtok_r(NULL, " \t\r\n", &save);
        char *b64 = strtok_r(NULL, " \t\r\n", &save);
        if (type == NULL || b64 == NULL || !hosts_match(hosts, ps->host, ps->port))
            continue;
        listed = 1;
        long n = base64_decode(b64, decoded, sizeof(line));
        match = n >= 0 && (size_t)n == keylen && memcmp(decoded, key, keylen) == 0;
    }
    free(decoded);
    fclose(f);
    if (!match)
        snprintf(ps->host_error, sizeof(ps->host_error),
                 listed ? "ssh host key of %s:%d does not match the known_hosts file %s"
                        : "ssh host key of %s:%d is not in the known_hosts file %s",
                 ps->host, ps->port, ps->known_hosts);
    return match;
}

/* ssh remotes: the host key must be in the configured known_hosts file (never ~/.ssh). */
static int on_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
    struct push_state *ps = payload;
    (void)valid, (void)host;
    if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
        return GIT_PASSTHROUGH; /* https: libgit2's own check of the certificate */
    const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
    if (ps->host[0] == '\0') {
        snprintf(ps->host_error, sizeof(ps->host_error), "ssh host key: unknown remote host");
        return GIT_ECERTIFICATE;
    }
    if (ps->known_hosts == NULL || ps->known_hosts[0] == '\0') {
        snprintf(ps->host_error, sizeof(ps->host_error),
                 "ssh host key of %s:%d not checked: no known_hosts file is set (--known-hosts)",
                 ps->host, ps->port);
        return GIT_ECERTIFICATE;
    }
    if (!(hk->type & GIT_CERT_SSH_RAW) || hk->hostkey == NULL || hk->hostkey_len == 0) {
        snprintf(ps->host_error, sizeof(ps->host_error),
                 "ssh host key of %s:%d not checked: libgit2 gave no raw key", ps->host, ps->port);
        return GIT_ECERTIFICATE;
    }
    return known_host(ps, (const unsigned char *)hk->hostkey, hk->hostkey_len) == 1
               ? 0
               : GIT_ECERTIFICATE;
}

static int on_credentials(git_credential **out, const char *url, const char *user, unsigned types,
                          void *payload)
{
    struct push_state *ps = payload;
    (void)url;
    if (ps->host[0] != '\0') { /* ssh */
        if (user == NULL || user[0] == '\0' || ps->ssh_key == NULL || ps->ssh_key[0] == '\0')
            return GIT_PASSTHROUGH;
        if (types & GIT_CREDENTIAL_USERNAME)
            return git_credential_username_new(out, user);
        if (ps->tried_credentials || !(types & GIT_CREDENTIAL_SSH_KEY))
            return GIT_PASSTHROUGH;
        ps->tried_credentials = 1;
        char pub[600];
        snprintf(pub, sizeof(pub), "%s.pub", ps->ssh_key);
        FILE *f = fopen(pub, "re");
        if (f != NULL)
            fclose(f);
        return git_credential_ssh_key_new(out, user, f != NULL ? pub : NULL, ps->ssh_key, NULL);
    }
    if (ps->token == NULL || ps->token[0] == '\0' || ps->tried_credentials ||
        !(types & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
        return GIT_PASSTHROUGH;
    ps->tried_credentials = 1;
    return git_credential_userpass_plaintext_new(out, "x-access-token", ps->token);
}

static int on_push_update(const char *ref, const char *status, void *payload)
{
    struct push_state *ps = payload;
    if (status != NULL && ps->rejected[0] == '\0')
        snprintf(ps->rejected, sizeof(ps->rejected), "%s: %s", ref, status);
    return 0;
}

static int on_push_progress(unsigned current, unsigned total, size_t bytes, void *payload)
{
    struct push_state *ps = payload;
    (void)current, (void)total, (void)bytes;
    return ps->stop != NULL && *ps->stop ? -1 : 0;
}

struct refspecs {
    char **items;
    size_t n, alloc;
};

static void refspecs_add(struct refspecs *r, const char *ref)
{
    if (r->n == r->alloc) {
        r->alloc = r->alloc ? r->alloc * 2 : 16;
        r->items = xrealloc(r->items, r->alloc * sizeof(*r->items));
    }
    size_t len = strlen(ref) * 2 + 2;
    r->items[r->n] = xmalloc(len);
    snprintf(r->items[r->n], len, "%s:%s", ref, ref);
    r->n++;
}

static int collect_ref(const char *name, void *payload)
{
    refspecs_add(payload, name);
    return 0;
}

static void collect_refs(git_repository *repo, const char *const *refs, size_t nrefs,
                         struct refspecs *out)
{
    if (refs == NULL) {
        git_reference_foreach_name(repo, collect_ref, out);
        return;
    }
    for (size_t i = 0; i < nrefs; i++) {
        git_oid oid;
        if (git_reference_name_to_id(&oid, repo, refs[i]) == 0)
            refspecs_add(out, refs[i]);
    }
}

int archive_git_push(const char *repo_path, const char *url, const char *token, const char *ssh_key,
                     const char *known_hosts, const char *const *refs, size_t nrefs,
                     volatile int *stop, char *err, size_t errlen)
{
    git_repository *repo;
    if (repo_open(&repo, repo_path, 1, err, errlen) != 0)
        return -1;
    struct refspecs specs = {0};
    collect_refs(repo, refs, nrefs, &specs);
    struct push_state ps = {
        .token = token, .ssh_key = ssh_key, .known_hosts = known_hosts, .stop = stop};
    if (ssh_host(url, ps.host, sizeof(ps.host), &ps.port) != 0)
        ps.host[0] = '\0';
    git_remote *remote = NULL;
    int rc = 0;
    if (specs.n > 0) {
        git_push_options opts;
        git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
        opts.callbacks.credentials = on_credentials;
        opts.callbacks.certificate_check = on_certificate;
        opts.callbacks.push_update_reference = on_push_update;
        opts.callbacks.push_transfer_progress = on_push_progress;
        opts.callbacks.payload = &ps;
        git_strarray arr = {specs.items, specs.n};
        /* Not git_remote_create_anonymous: its url.*.insteadOf lookup goes through
         * libgit2 1.5's regexp matcher, which leaks pcre2 match data on every non-match. */
        git_remote_create_options ro;
        git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
        ro.repository = repo;
        ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
        rc = git_remote_create_with_opts(&remote, url, &ro);
        if (rc == 0)
            rc = git_remote_push(remote, &arr, &opts);
        if (rc != 0 && ps.host_error[0] != '\0')
            snprintf(err, errlen, "push failed: %s", ps.host_error);
        else if (rc != 0)
            git_fail(err, errlen, "push failed");
        if (rc == 0 && ps.rejected[0] != '\0') {
            snprintf(err, errlen, "the remote refused %s", ps.rejected);
            rc = -1;
        }
    }
    git_remote_free(remote);
    for (size_t i = 0; i < specs.n; i++)
        free(specs.items[i]);
    free(specs.items);
    git_repository_free(repo);
    return rc == 0 ? 0 : -1;
}
