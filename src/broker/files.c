/* Files over HTTP: participants upload with `PUT /upload?name=FILE` (or POST) and their
 * session token in `Authorization: Bearer`, streamed into the blob store and capped by the
 * challenge; graders download with `GET /files?key=KEY` and their grader key, streamed a
 * chunk at a time. Every refusal is JSON {"ok":false,"code","message"}. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"
#include "core/log.h"
#include "core/xalloc.h"

#define CHUNK (64 * 1024)

static void refuse(struct http_conn *hc, int status, const char *code, const char *message)
{
    char body[600];
    snprintf(body, sizeof(body), "{\"ok\":false,\"code\":\"%s\",\"message\":\"%s\"}", code,
             message);
    http_conn_respond(hc, status, "application/json", NULL, body, strlen(body), 1);
}

/* The credential after "Bearer " in Authorization, or NULL. */
static const char *bearer(const struct http_request *req)
{
    const char *auth = http_request_header(req, HTTP_H_AUTHORIZATION);
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    return auth + 7;
}

/* ---- uploads ---- */

struct upload {
    struct broker *b;
    struct http_conn *hc; /* NULL once answered or gone */
    struct blob_writer *w;
    struct token_claims claims;
    char name[256];
    char alias[101]; /* a presigned upload's name (the crowdAI client's s3_key), or "" */
    uint64_t declared;
    int has_declared;
    int challenge_known;
    int complete;
    int refs;
};

static void upload_unref(struct upload *u)
{
    if (--u->refs > 0)
        return;
    if (u->w != NULL)
        blob_writer_abort(u->w);
    free(u);
}

/* Answers the upload (once) and lets go of the exchange. */
static void upload_refuse(struct upload *u, int status, const char *code, const char *message)
{
    struct http_conn *hc = u->hc;
    if (hc == NULL)
        return;
    u->hc = NULL;
    http_conn_set_data(hc, NULL);
    refuse(hc, status, code, message);
    upload_unref(u);
}

static void on_stored(void *ud, const char *err, const char *key, uint64_t size)
{
    struct upload *u = ud;
    struct http_conn *hc = u->hc;
    if (hc != NULL && err != NULL) {
        upload_refuse(u, 500, "STORE_FAILED", "The file could not be stored; try again.");
    } else if (hc != NULL && u->alias[0] != '\0' &&
               blob_alias_link(&u->b->blobs, u->alias, key) != 0) {
        upload_refuse(u, 500, "STORE_FAILED", "The file could not be stored; try again.");
    } else if (hc != NULL) {
        char body[256];
        int n = snprintf(body, sizeof(body),
                         "{\"ok\":true,\"file_key\":\"%s\",\"size\":%" PRIu64 ",\"sha256\":\"%s\"}",
                         key, size, key);
        u->hc = NULL;
        http_conn_set_data(hc, NULL);
        http_conn_respond(hc, 200, "application/json", NULL, body, (size_t)n, 0);
        upload_unref(u); /* the exchange's reference */
        log_info("broker", "upload stored participant=%" PRId64 " size=%" PRIu64,
                 u->claims.participant_id, size);
    }
    upload_unref(u); /* the finish's reference */
}

static void finish_upload(struct upload *u)
{
    struct blob_writer *w = u->w;
    u->w = NULL;
    u->refs++;
    blob_writer_finish(w, on_stored, u);
}

/* Whether name's extension is in the comma-separated list (".csv,.zip"); "" accepts all. */
static int type_accepted(const char *types, const char *name)
{
    if (types[0] == '\0')
        return 1;
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return 0;
    size_t n = strlen(dot);
    for (const char *p = types; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && strncasecmp(p, dot, n) == 0)
            return 1;
        p += len + (end != NULL);
    }
    return 0;
}

static void on_upload_challenge(void *ud, int found, const struct reg_challenge *ch)
{
    struct upload *u = ud;
    char msg[400];
    u->challenge_known = 1;
    if (!found) {
        upload_refuse(u, 404, "UNKNOWN_CHALLENGE", "The challenge of your session is gone.");
    } else if (ch->max_upload_bytes > 0 && u->has_declared &&
               u->declared > (uint64_t)ch->max_upload_bytes) {
        snprintf(msg, sizeof(msg),
                 "The file is too large: %" PRIu64 " bytes; this challenge "
                 "accepts at most %lld bytes.",
                 u->declared, (long long)ch->max_upload_bytes);
        upload_refuse(u, 413, "FILE_TOO_LARGE", msg);
    } else if (!type_accepted(ch->accepted_types, u->name)) {
        snprintf(msg, sizeof(msg),
                 "This challenge accepts only %s files; name your file with "
                 "?name=FILE.",
                 ch->accepted_types);
        upload_refuse(u, 415, "WRONG_FILE_TYPE", msg);
    } else if (u->hc != NULL && u->complete) {
        finish_upload(u);
    }
    upload_unref(u); /* the lookup's reference */
}

static void on_upload_session(void *ud, int result)
{
    struct upload *u = ud;
    if (result == 1 && u->hc != NULL) {
        struct registry *reg = u->b->reg;
        reg->ops->get_challenge(reg, u->claims.challenge_id, on_upload_challenge, u);
        return; /* the lookup's reference goes on */
    }
    if (result == 0)
        upload_refuse(u, 401, "SESSION_REVOKED",
                      "This session ended because your API key was changed or revoked. "
                      "Authenticate again with your current API key.");
    else if (result < 0)
        upload_refuse(u, 503, "REGISTRY_UNAVAILABLE",
                      "The broker could not check your session just now. Try again in a minute.");
    upload_unref(u); /* the lookup's reference */
}

static void on_upload_aborted(struct http_conn *hc, void *ud)
{
    struct upload *u = ud;
    (void)hc;
    u->hc = NULL;
    upload_unref(u);
}

/* An upload to a presigned URL (presign.c): no session, the broker's size cap. */
static int presigned_upload(struct http_conn *hc, const struct http_request *req, struct broker *b)
{
    char name[101];
    int64_t participant;
    int rc = presign_check(b, req, name, &participant);
    if (rc != 0) {
        refuse(hc, 403, rc == -2 ? "LINK_EXPIRED" : "BAD_SIGNATURE",
               rc == -2 ? "This upload link has expired: ask for a new one."
                        : "This upload link is not valid.");
        return 403;
    }
    if (req->has_content_length && req->content_length > b->cfg.max_upload) {
        refuse(hc, 413, "FILE_TOO_LARGE", "The file is larger than this broker accepts.");
        return 413;
    }
    struct upload *u = xcalloc(1, sizeof(*u));
    u->b = b;
    u->hc = hc;
    u->claims.participant_id = participant;
    snprintf(u->alias, sizeof(u->alias), "%s", name);
    u->w = blob_writer_new(&b->blobs, b->cfg.max_upload);
    if (u->w == NULL) {
        free(u);
        refuse(hc, 500, "STORE_FAILED", "The file could not be stored; try again.");
        return 500;
    }
    u->refs = 1; /* the exchange */
    u->challenge_known = 1;
    http_conn_set_data(hc, u);
    http_conn_hold(hc, on_upload_aborted, u);
    return 0;
}

static int upload_headers(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct broker *b = ud;
    struct token_claims claims;
    const char *token = bearer(req);
    char sig[80];
    if (req->method != HTTP_PUT && req->method != HTTP_POST) {
        refuse(hc, 405, "BAD_METHOD", "Upload with PUT (or POST).");
        return 405;
    }
    if (token == NULL && http_request_query(req, "sig", sig, sizeof(sig)) != -1)
        return presigned_upload(hc, req, b);
    enum token_error e =
        token != NULL ? token_verify(b->secret, token, broker_now(), &claims) : TOKEN_MALFORMED;
    if (e != TOKEN_OK) {
        refuse(hc, 401, "BAD_SESSION", token_error_message(e));
        return 401;
    }
    if (req->has_content_length && req->content_length > b->cfg.max_upload) {
        refuse(hc, 413, "FILE_TOO_LARGE", "The file is larger than this broker accepts.");
        return 413;
    }
    struct upload *u = xcalloc(1, sizeof(*u));
    u->b = b;
    u->hc = hc;
    u->claims = claims;
    u->declared = req->content_length;
    u->has_declared = req->has_content_length;
    if (http_request_query(req, "name", u->name, sizeof(u->name)) < 0)
        u->name[0] = '\0';
    u->w = blob_writer_new(&b->blobs, b->cfg.max_upload);
    if (u->w == NULL) {
        free(u);
        refuse(hc, 500, "STORE_FAILED", "The file could not be stored; try again.");
        return 500;
    }
    u->refs = 2; /* the exchange, the session and challenge lookups */
    http_conn_set_data(hc, u);
    http_conn_hold(hc, on_upload_aborted, u);
    b->reg->ops->check_session(b->reg, claims.participant_id, claims.issued_at, on_upload_session,
                               u);
    return 0;
}

static int upload_body(struct http_conn *hc, const char *data, size_t len, void *ud)
{
    struct upload *u = http_conn_data(hc);
    (void)ud;
    if (u == NULL || u->w == NULL)
        return 0; /* already answered: drop the rest */
    int rc = blob_writer_write(u->w, data, len);
    if (rc == -2) {
        upload_refuse(u, 413, "FILE_TOO_LARGE", "The file is larger than this broker accepts.");
        return 413;
    }
    if (rc != 0) {
        upload_refuse(u, 500, "STORE_FAILED", "The file could not be stored; try again.");
        return 500;
    }
    return 0;
}

static void upload_request(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct upload *u = http_conn_data(hc);
    (void)req, (void)ud;
    if (u == NULL)
        return;
    u->complete = 1;
    if (u->challenge_known)
        finish_upload(u);
}

/* ---- downloads (graders) ---- */

struct download {
    struct broker *b;
    struct http_conn *hc; /* NULL once gone */
    char key[BLOB_KEY_LEN + 1];
    int fd;
    int refs;
};

static void download_unref(struct download *d)
{
    if (--d->refs > 0)
        return;
    if (d->fd >= 0)
        close(d->fd);
    free(d);
}

static void send_chunk(struct http_conn *hc, void *ud)
{
    struct download *d = ud;
    char chunk[CHUNK];
    ssize_t n = read(d->fd, chunk, sizeof(chunk));
    if (n > 0) {
        /* A failed write closed the connection: the abort callback has let go already. */
        if (http_conn_stream_write(hc, chunk, (size_t)n) == 0)
            http_conn_on_drain(hc, send_chunk, d);
        return;
    }
    if (n < 0)
        log_error("broker", "reading blob %s failed: %s", d->key, strerror(errno));
    http_conn_stream_end(hc); /* on a read error the client sees a short body */
    d->hc = NULL;
    download_unref(d); /* the exchange's reference */
}

static void on_download_key(void *ud, int ok, const char *grader_name)
{
    struct download *d = ud;
    struct http_conn *hc = d->hc;
    char path[700];
    struct stat st;
    (void)grader_name;
    if (hc == NULL) {
        download_unref(d);
        return;
    }
    if (!ok) {
        d->hc = NULL;
        d->refs--; /* the exchange's: answered (the key check's goes below) */
        refuse(hc, 401, "BAD_GRADER_KEY", "Downloads need a valid grader key.");
    } else if (blob_path(&d->b->blobs, d->key, path, sizeof(path)) != 0 ||
               (d->fd = open(path, O_RDONLY)) < 0 || fstat(d->fd, &st) != 0) {
        d->hc = NULL;
        d->refs--; /* the exchange's: answered (the key check's goes below) */
        refuse(hc, 404, "NO_SUCH_FILE", "There is no file with that key.");
    } else {
        http_conn_stream_start(hc, 200, "application/octet-stream", (uint64_t)st.st_size);
        send_chunk(hc, d);
    }
    download_unref(d); /* the key check's reference */
}

static void on_download_aborted(struct http_conn *hc, void *ud)
{
    struct download *d = ud;
    (void)hc;
    d->hc = NULL;
    download_unref(d);
}

static void download_request(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct broker *b = ud;
    const char *key = bearer(req);
    struct download *d = xcalloc(1, sizeof(*d));
    d->b = b;
    d->hc = hc;
    d->fd = -1;
    if (req->method != HTTP_GET || key == NULL ||
        http_request_query(req, "key", d->key, sizeof(d->key)) < 0 || !blob_key_valid(d->key)) {
        free(d);
        refuse(hc, 400, "BAD_REQUEST",
               "Download with GET /files?key=KEY and Authorization: Bearer GRADER_KEY.");
        return;
    }
    d->refs = 2; /* the exchange, the key check */
    http_conn_hold(hc, on_download_aborted, d);
    b->reg->ops->check_grader_key(b->reg, key, on_download_key, d);
}

static const struct http_route_ops upload_ops = {
    .on_headers = upload_headers, .on_body = upload_body, .on_request = upload_request};
static const struct http_route_ops download_ops = {.on_request = download_request};

void files_install(struct broker *b, struct http_server *http)
{
    http_server_route(http, "/upload", &upload_ops, b);
    http_server_route(http, "/files", &download_ops, b);
}
