/* HTTP/1.1 request parsing over llhttp with no I/O: bytes in, one request at a time out,
 * with caps on header bytes, header count and body size. Keeps only the headers the
 * server acts on. */
#ifndef NET_HTTP_REQUEST_H
#define NET_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "core/buf.h"

enum http_header_id {
    HTTP_H_CONTENT_TYPE,
    HTTP_H_CONNECTION,
    HTTP_H_UPGRADE,
    HTTP_H_SEC_WEBSOCKET_KEY,
    HTTP_H_SEC_WEBSOCKET_VERSION,
    HTTP_H_ORIGIN,
    HTTP_H_COOKIE,
    HTTP_H_AUTHORIZATION,
    HTTP_H_HOST,
    HTTP_H_COUNT
};

struct http_request {
    int method;     /* llhttp_method_t */
    struct buf url; /* request target, as sent */
    struct buf headers[HTTP_H_COUNT];
    struct buf body;
    uint64_t content_length; /* valid when has_content_length */
    int has_content_length;
    int keep_alive;
    int upgrade; /* the request asks for a protocol upgrade */
};

enum http_event {
    HTTP_EV_NEED_MORE = 0, /* all input consumed, no event */
    HTTP_EV_HEADERS,       /* the current request's headers are complete; the caller checks
                              content_length against its cap (the body is capped anyway) */
    HTTP_EV_MESSAGE,       /* the current request is complete */
    HTTP_EV_UPGRADE,       /* an upgrade request is complete; the rest is the new protocol */
    HTTP_EV_ERROR,         /* the peer broke HTTP; see http_reader.status */
};

struct http_reader {
    llhttp_t ll;
    llhttp_settings_t settings;
    struct http_request req;
    struct buf field; /* header name being read */
    int field_id;     /* which kept header the value belongs to, or -1 */
    int in_value;
    size_t header_bytes;
    size_t header_count;
    size_t max_header_bytes;
    size_t max_headers;
    int paused_at_message; /* the last pause came from the end of a message */
    /* When set, body bytes go to body_cb instead of req.body (no cap here): it returns 0,
     * or an HTTP status to refuse the request. Reset by http_reader_next(). */
    int (*body_cb)(void *ud, const char *data, size_t len);
    void *body_ud;
    int status;         /* on HTTP_EV_ERROR: 400, 413 or 431 */
    const char *reason; /* on HTTP_EV_ERROR: why, for the log */
};

void http_reader_init(struct http_reader *p, size_t max_header_bytes, size_t max_headers,
                      size_t max_body);
void http_reader_release(struct http_reader *p);
/* Parses data[0..len) up to the next event; *used tells how many bytes were taken. After
 * HTTP_EV_MESSAGE the caller handles the request, then calls http_reader_next() before
 * feeding more. After HTTP_EV_HEADERS it may feed the rest straight away. */
enum http_event http_reader_feed(struct http_reader *p, const char *data, size_t len, size_t *used);
/* Gets ready for the next request on the same connection. */
void http_reader_next(struct http_reader *p);

/* The path of the request target (before '?'); sets *len. */
const char *http_request_path(const struct http_request *req, size_t *len);
/* Copies the percent-decoded value of query parameter `name` into out (NUL-terminated).
 * Returns its length, or -1 if absent or longer than outlen - 1. */
int http_request_query(const struct http_request *req, const char *name, char *out, size_t outlen);
/* The value of a kept header, or NULL when absent. */
const char *http_request_header(const struct http_request *req, enum http_header_id id);
/* Whether a comma-separated header value contains token (case-insensitive). */
int http_header_has_token(const char *value, const char *token);

#endif
