/* The blob store: uploaded files on local disk under DATA/blobs, content-addressed by their
 * SHA-256 (DATA/blobs/ab/abcdef...). A write goes to a temp file as it arrives; finishing
 * fsyncs it, renames it into place and fsyncs the directory, off the loop thread, so a key
 * that was answered is on disk. Writes of chunks are plain write(2) calls on the loop (they
 * land in the page cache). */
#ifndef BROKER_BLOB_H
#define BROKER_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define BLOB_KEY_LEN 64 /* hex SHA-256 */

struct blob_store {
    uv_loop_t *loop;
    char dir[512];
};

struct blob_writer;

/* Creates DIR/blobs and DIR/blobs/tmp (mode 0700). Returns 0 or -1 (message on stderr). */
int blob_store_init(struct blob_store *bs, uv_loop_t *loop, const char *data_dir);
/* Whether key is 64 lower-case hex digits (the only keys that name a blob). */
int blob_key_valid(const char *key);
/* The path of a blob; -1 when the key is not valid. */
int blob_path(const struct blob_store *bs, const char *key, char *out, size_t outlen);

/* Aliases: a name chosen before the upload (the crowdAI client's s3_key), pointing at the
 * blob once stored. Names are [A-Za-z0-9_-], 1 to 100 bytes. Links are symlinks under
 * DIR/blobs/alias (not fsynced: a name lost in a crash means uploading again). */
int blob_alias_valid(const char *name);
/* Points name at key (replacing an older link). 0 or -1. */
int blob_alias_link(const struct blob_store *bs, const char *name, const char *key);
/* The key name points at, into key (BLOB_KEY_LEN + 1 bytes); -1 if none. */
int blob_alias_resolve(const struct blob_store *bs, const char *name, char *key);

/* Starts an upload of at most max_size bytes; NULL on I/O error. */
struct blob_writer *blob_writer_new(struct blob_store *bs, uint64_t max_size);
/* Appends a chunk. Returns 0, -1 on an I/O error, -2 when max_size would be exceeded. */
int blob_writer_write(struct blob_writer *w, const void *data, size_t len);
uint64_t blob_writer_size(const struct blob_writer *w);
/* err is NULL on success; key is the hex SHA-256. Never called before finish returns. */
typedef void (*blob_done_cb)(void *ud, const char *err, const char *key, uint64_t size);
/* Makes the upload durable and names it; frees w. */
void blob_writer_finish(struct blob_writer *w, blob_done_cb cb, void *ud);
/* Drops the upload (closes and removes the temp file); frees w. */
void blob_writer_abort(struct blob_writer *w);

#endif
