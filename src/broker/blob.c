/* The content-addressed blob store; see blob.h. */
#include "broker/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xalloc.h"

struct blob_writer {
    struct blob_store *bs;
    int fd;
    char tmp_path[600];
    EVP_MD_CTX *sha;
    uint64_t size, max_size;
    /* finishing */
    uv_work_t work;
    blob_done_cb cb;
    void *ud;
    const char *err;
    char key[BLOB_KEY_LEN + 1];
};

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "error: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int blob_store_init(struct blob_store *bs, uv_loop_t *loop, const char *data_dir)
{
    char tmp[600], alias[600];
    bs->loop = loop;
    snprintf(bs->dir, sizeof(bs->dir), "%s/blobs", data_dir);
    snprintf(tmp, sizeof(tmp), "%s/tmp", bs->dir);
    snprintf(alias, sizeof(alias), "%s/alias", bs->dir);
    return make_dir(bs->dir) == 0 && make_dir(tmp) == 0 && make_dir(alias) == 0 ? 0 : -1;
}

int blob_key_valid(const char *key)
{
    size_t n = 0;
    for (; key[n] != '\0'; n++) {
        char c = key[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || n >= BLOB_KEY_LEN)
            return 0;
    }
    return n == BLOB_KEY_LEN;
}

int blob_path(const struct blob_store *bs, const char *key, char *out, size_t outlen)
{
    if (!blob_key_valid(key))
        return -1;
    int n = snprintf(out, outlen, "%s/%.2s/%s", bs->dir, key, key);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

struct blob_writer *blob_writer_new(struct blob_store *bs, uint64_t max_size)
{
    struct blob_writer *w = xcalloc(1, sizeof(*w));
    w->bs = bs;
    w->max_size = max_size;
    snprintf(w->tmp_path, sizeof(w->tmp_path), "%s/tmp/upload-XXXXXX", bs->dir);
    w->fd = mkstemp(w->tmp_path);
    if (w->fd < 0) {
        log_error("blob", "cannot create a temp file: %s", strerror(errno));
        free(w);
        return NULL;
    }
    w->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL);
    return w;
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len)
{
    if (len > w->max_size - w->size)
        return -2;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_error("blob", "write failed: %s", strerror(errno));
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    EVP_DigestUpdate(w->sha, data, len);
    w->size += len;
    return 0;
}

uint64_t blob_writer_size(const struct blob_writer *w)
{
    return w->size;
}

static void writer_free(struct blob_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    EVP_MD_CTX_free(w->sha);
    free(w);
}

void blob_writer_abort(struct blob_writer *w)
{
    unlink(w->tmp_path);
    writer_free(w);
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* On the thread pool: fsync, rename into place, fsync the directory. */
static void finish_work(uv_work_t *req)
{
    struct blob_writer *w = req->data;
    char shard[600], path[700];
    if (fsync(w->fd) != 0) {
        w->err = "could not write the file to disk";
        return;
    }
    close(w->fd);
    w->fd = -1;
    snprintf(shard, sizeof(shard), "%s/%.2s", w->bs->dir, w->key);
    snprintf(path, sizeof(path), "%s/%s", shard, w->key);
    if ((mkdir(shard, 0700) != 0 && errno != EEXIST) || rename(w->tmp_path, path) != 0 ||
        fsync_dir(shard) != 0) {
        w->err = "could not store the file";
        unlink(w->tmp_path);
    }
}

static void finish_done(uv_work_t *req, int status)
{
    struct blob_writer *w = req->data;
    if (status != 0 && w->err == NULL)
        w->err = "the store was shut down";
    if (w->err != NULL)
        log_error("blob", "upload not stored: %s", w->err);
    w->cb(w->ud, w->err, w->key, w->size);
    writer_free(w);
}

void blob_writer_finish(struct blob_writer *w, blob_done_cb cb, void *ud)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(w->sha, digest, &len);
    for (unsigned int i = 0; i < len && i < BLOB_KEY_LEN / 2; i++)
        snprintf(w->key + 2 * i, 3, "%02x", digest[i]);
    w->cb = cb;
    w->ud = ud;
    w->work.data = w;
    uv_queue_work(w->bs->loop, &w->work, finish_work, finish_done);
}
