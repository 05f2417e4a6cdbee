/* The code archive's work, synchronous and blocking: one pass over what is due (commit the
 * code of consented submissions, write the scores notes of graded ones, push to remotes with
 * backoff, publish challenges that ended), and publishing on demand. The broker runs passes off
 * its loop (src/broker/archive_calls.c); crowdai-admin calls archive_publish directly.
 * Design notes: docs/archive.md. */
#ifndef ARCHIVE_ARCHIVE_H
#define ARCHIVE_ARCHIVE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/archive_store.h"
#include "archive/tar.h"

struct archive_env {
    char data_dir[512]; /* DATA: repositories go to DATA/archive/<challenge>.git */
    char db_path[600];  /* DATA/registry.sqlite3 */
    char blob_dir[600]; /* DATA/blobs */
    volatile int *stop; /* when non-zero, transfers in progress give up (may be NULL) */
};

/* Fills env for the data directory dir. */
void archive_env_init(struct archive_env *env, const char *dir, volatile int *stop);
/* DATA/archive/<challenge>.git into out. */
void archive_repo_path(const struct archive_env *env, const char *challenge_id, char *out,
                       size_t outlen);

/* Reads the uploaded code archive key (a .tar or .tar.gz in the blob store) and checks it
 * against lim. On success *buf holds the unpacked tar (free it after tar_tree_release) and tree
 * its files. 0, or -1 with the reason in err (for the participant). */
int archive_code_load(const char *blob_dir, const char *key, const struct tar_limits *lim,
                      uint8_t **buf, struct tar_tree *tree, char *err, size_t errlen);

/* One pass over what is due, on its own database connection. Returns 1 when work is left for
 * another pass at once, 0 when done, -1 when the database could not be used. */
int archive_pass(const struct archive_env *env, int64_t now);

/* Publishes a challenge's archive: pushes everything to its remote first (if any), then for a
 * GitHub repository switches it to public through the REST API, else pushes the branches of
 * consenting participants, their tags and the notes to the public remote. Records the outcome.
 * 0, or -1 with err. */
int archive_publish(sqlite3 *db, const struct archive_env *env, const char *challenge_id,
                    int64_t now, char *err, size_t errlen);

/* The text of a submission's scores note. */
void archive_note_text(const struct archive_row *r, char *out, size_t outlen);

#endif
