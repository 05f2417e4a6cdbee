/* The code archive's git side (libgit2): one bare repository per challenge, a branch per
 * participant (refs/heads/participant/<id>), one commit per archived submission built straight
 * from the archive's files (no work tree), an annotated tag per submission
 * (refs/tags/submission/<id>), scores in notes (refs/notes/scores), pushes to remotes.
 *
 * Every function blocks: call them off the loop (uv_queue_work) or from crowdai-admin. A
 * repository handle is opened and freed inside each call, so calls on different threads never
 * share one. archive_git_init() must have been called once before. */
#ifndef ARCHIVE_ARCHIVE_GIT_H
#define ARCHIVE_ARCHIVE_GIT_H

#include <stddef.h>
#include <stdint.h>

#include "archive/tar.h"

#define ARCHIVE_SHA_LEN 40

/* Initialises libgit2 (refcounted); archive_git_shutdown undoes one call. */
void archive_git_init(void);
void archive_git_shutdown(void);

struct archive_commit_info {
    int64_t submission_id;
    int64_t participant_id;
    const char *participant_name;
    int round;
    int64_t submitted_at; /* Unix ms: the author time */
    int64_t consent_at;
    int64_t now; /* Unix ms: the committer and tagger time */
    const char *code_key;
    const char *description;
};

/* Commits tree on the participant's branch of the bare repository at repo_path (created if
 * missing) and tags it. Idempotent: when the submission's tag exists already, its commit is
 * answered and nothing is written. sha gets the commit's hex id. 0, or with err: -2 when git
 * refuses a name of the tree (the same archive always will), -1 otherwise (retrying may
 * help). */
int archive_git_commit(const char *repo_path, const struct archive_commit_info *info,
                       const struct tar_tree *tree, char sha[ARCHIVE_SHA_LEN + 1], char *err,
                       size_t errlen);
/* Sets the note of commit sha in refs/notes/scores to text (replacing an older note). */
int archive_git_note(const char *repo_path, const char *sha, const char *text, int64_t now,
                     char *err, size_t errlen);

/* Pushes to url: with refs NULL every participant branch, submission tag and the notes that
 * exist; else exactly the nrefs refs named ("refs/heads/participant/3", ...; those missing
 * locally are skipped). Refs only move forward (never forced): a push is idempotent. token
 * (NULL or "" for none) is the password of user x-access-token over https. ssh remotes
 * (ssh://user@host[:port]/path or user@host:path) authenticate as the URL's user with the
 * private key file ssh_key (no passphrase; ssh_key.pub is used when it exists), and the host's
 * key must be in the known_hosts file (never ~/.ssh): otherwise the push fails with a host-key
 * error. stop, once non-zero, aborts the transfer. 0, or -1 with err. */
int archive_git_push(const char *repo_path, const char *url, const char *token, const char *ssh_key,
                     const char *known_hosts, const char *const *refs, size_t nrefs,
                     volatile int *stop, char *err, size_t errlen);

#endif
