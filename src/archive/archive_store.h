/* The code archive's records in the registry's SQLite database (tables of schema v4, see
 * reg_store.c): code sent with submissions, consents, commits, notes, and each challenge's
 * settings and push/publish progress. Synchronous; each function takes the connection of the
 * thread it runs on (the broker's loop, an archive worker, or crowdai-admin). */
#ifndef ARCHIVE_ARCHIVE_STORE_H
#define ARCHIVE_ARCHIVE_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/tar.h"

struct archive_settings {
    char challenge_id[64];
    char remote_url[512];       /* "" = no remote */
    char token_file[512];       /* a file holding the token for https remotes and GitHub */
    char ssh_key_file[512];     /* ssh:// remotes: the private key (no passphrase) */
    char known_hosts_file[512]; /* ssh:// remotes: the known_hosts lines the host must match */
    char public_url[512];       /* where publishing pushes (non-GitHub remotes) */
    char github_repo[256];      /* "owner/repo": publishing switches it to public */
    char github_api[256];
    struct tar_limits limits;
    int publish_at_end;
    int64_t changes, pushed_changes;
    int push_failures;
    int64_t next_push_at;
    char push_error[512];
    int64_t published_at; /* 0 = not yet */
    char publish_error[512];
    int64_t next_publish_at;
};

/* One code record with what the registry knows of its submission. */
struct archive_row {
    int64_t participant_id;
    char participant_name[128];
    char challenge_id[64];
    char client_submission_id[128];
    char code_key[80];
    int64_t created_at;
    int64_t consent_at; /* 0 = no consent */
    char commit_sha[48];
    int64_t archived_at;
    char refused[512];
    int64_t noted_at;
    int64_t submission_id; /* 0 while the submission does not exist */
    int round;
    int state; /* enum reg_sub_state */
    int has_score, has_secondary;
    double score, score_secondary;
    int64_t submitted_at, updated_at;
    char description[512];
};

/* Opens the database at path for this thread (it must exist with schema v4). NULL on error. */
sqlite3 *archive_store_open(const char *path, char *err, size_t errlen);

/* A challenge's settings (defaults when it has no row). 0 or -1. */
int archive_store_settings(sqlite3 *db, const char *challenge_id, struct archive_settings *out);

/* Records the code of a submission to be: 0 recorded (or the same again: a retry, whose
 * consent, if given now, is added), 1 refused with a message in msg (this
 * client_submission_id has other code, or was submitted without code), -1 error. */
int archive_store_intent(sqlite3 *db, int64_t participant_id, const char *challenge_id,
                         const char *client_submission_id, const char *code_key, int consent,
                         int64_t now, char *msg, size_t msglen);

/* Consent for a past submission: 0 recorded (*consent_at is when; the first consent stands),
 * -2 no such submission of this participant in this challenge, -3 it has no code, -1 error. */
int archive_store_consent(sqlite3 *db, int64_t participant_id, const char *challenge_id,
                          int64_t submission_id, int64_t now, int64_t *consent_at);

/* Rows of one challenge (participant_id 0 = every participant), oldest first; cb is called
 * per row. Returns the number of rows or -1. */
typedef void (*archive_row_cb)(void *ud, const struct archive_row *r);
int archive_store_list(sqlite3 *db, const char *challenge_id, int64_t participant_id,
                       archive_row_cb cb, void *ud);

/* ---- for the archive worker ---- */

/* Consented rows not yet archived nor refused whose submission exists, oldest first (at most
 * limit). Returns how many or -1. */
int archive_store_todo(sqlite3 *db, int limit, archive_row_cb cb, void *ud);
/* Archived rows of COMPLETE submissions whose note is missing or older than their last
 * update. */
int archive_store_notes_due(sqlite3 *db, int limit, archive_row_cb cb, void *ud);
int archive_store_set_commit(sqlite3 *db, const struct archive_row *r, const char *sha,
                             int64_t now);
int archive_store_set_refused(sqlite3 *db, const struct archive_row *r, const char *why);
int archive_store_set_noted(sqlite3 *db, const struct archive_row *r);
/* Challenges with something to push (changes beyond pushed_changes, due now), or to publish
 * (publish_at_end, the last round over, not published, due now): ids into out[max][64]. */
int archive_store_push_due(sqlite3 *db, int64_t now, char (*out)[64], int max);
int archive_store_publish_due(sqlite3 *db, int64_t now, char (*out)[64], int max);
/* Records a push's outcome: err NULL = the remote has changes_at_start. */
int archive_store_pushed(sqlite3 *db, const char *challenge_id, int64_t changes_at_start,
                         const char *err, int64_t now);
int archive_store_published(sqlite3 *db, const char *challenge_id, const char *err, int64_t now);

/* Sets one settings column (admin). column is one of the names of archive_settings' text or
 * integer columns; value is bound as text or integer. Creates the row if missing; a new
 * remote makes everything due for pushing. 0 or -1. */
int archive_store_set_text(sqlite3 *db, const char *challenge_id, const char *column,
                           const char *value);
int archive_store_set_int(sqlite3 *db, const char *challenge_id, const char *column, int64_t value);

/* Backoff of the n-th consecutive failure of a push or publish (ms): 1 s doubling, capped at
 * 10 min. */
int64_t archive_backoff_ms(int failures);

#endif
