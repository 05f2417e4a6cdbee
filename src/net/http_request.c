/* HTTP/1.1 request parsing over llhttp with no I/O; see http_request.h. */
#include "net/http_request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/form.h"

/* Indexed by enum http_header_id (designated, so that a missing name fails to build). */
static const char *const kept_names[] = {
    [HTTP_H_CONTENT_TYPE] = "content-type",
    [HTTP_H_CONNECTION] = "connection",
    [HTTP_H_UPGRADE] = "upgrade",
    [HTTP_H_SEC_WEBSOCKET_KEY] = "sec-websocket-key",
    [HTTP_H_SEC_WEBSOCKET_VERSION] = "sec-websocket-version",
    [HTTP_H_ORIGIN] = "origin",
    [HTTP_H_COOKIE] = "cookie",
    [HTTP_H_AUTHORIZATION] = "authorization",
    [HTTP_H_HOST] = "host",
};
_Static_assert(sizeof(kept_names) / sizeof(kept_names[0]) == HTTP_H_COUNT,
               "every kept header needs its name");

static struct http_reader *parser_of(llhttp_t *ll)
{
    return ll->data;
}

static int fail(struct http_reader *p, int status, const char *reason)
{
    p->status = status;
    p->reason = reason;
    return -1;
}

static int count_header_bytes(struct http_reader *p, size_t len)
{
    p->header_bytes += len;
    if (p->header_bytes > p->max_header_bytes)
        return fail(p, 431, "headers too large");
    return 0;
}

static int on_url(llhttp_t *ll, const char *at, size_t len)
{
    struct http_reader *p = parser_of(ll);
    if (count_header_bytes(p, len) != 0)
        return -1;
    return buf_append(&p->req.url, at, len) == 0 ? 0 : fail(p, 414, "url too long");
}

/* RFC 9110 token characters, the only ones allowed in a header name. */
static int is_token_char(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return 1;
    if (c >= 'A' && c <= 'Z')
        return 1;
    if (c >= '0' && c <= '9')
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int on_header_field(llhttp_t *ll, const char *at, size_t len)
{
    struct http_reader *p = parser_of(ll);
    if (count_header_bytes(p, len) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_token_char((unsigned char)at[i]))
            return fail(p, 400, "invalid character in a header name");
    }
    if (p->in_value) {
        p->in_value = 0;
        buf_reset(&p->field);
    }
    if (buf_append(&p->field, at, len) != 0)
        p->field.len = p->field.max; /* too long to be one we keep */
    return 0;
}

static int on_header_field_complete(llhttp_t *ll)
{
    struct http_reader *p = parser_of(ll);
    if (++p->header_count > p->max_headers)
        return fail(p, 431, "too many headers");
    p->field_id = -1;
    for (int i = 0; i < HTTP_H_COUNT; i++) {
        if (p->field.len == strlen(kept_names[i]) && p->field.data != NULL &&
            strncasecmp(p->field.data, kept_names[i], p->field.len) == 0)
            p->field_id = i;
    }
    if (p->field_id >= 0)
        buf_reset(&p->req.headers[p->field_id]); /* a repeated header: the last one wins */
    return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t len)
{
    struct http_reader *p = parser_of(ll);
    if (count_header_bytes(p, len) != 0)
        return -1;
    p->in_value = 1;
    if (p->field_id >= 0 && buf_append(&p->req.headers[p->field_id], at, len) != 0)
        return fail(p, 431, "header too large");
    return 0;
}

static int on_headers_complete(llhttp_t *ll)
{
    struct http_reader *p = parser_of(ll);
    struct http_request *req = &p->req;
    if (ll->http_major != 1)
        return fail(p, 400, "not an HTTP/1.x request");
    req->method = ll->method;
    req->keep_alive = llhttp_should_keep_alive(ll);
    req->upgrade = ll->upgrade;
    req->has_content_length = (ll->flags & F_CONTENT_LENGTH) != 0;
    req->content_length = ll->content_length;
    p->paused_at_message = 0;
    return HPE_PAUSED;
}

static int on_body(llhttp_t *ll, const char *at, size_t len)
{
    struct http_reader *p = parser_of(ll);
    if (p->body_cb != NULL) {
        int status = p->body_cb(p->body_ud, at, len);
        return status == 0 ? 0 : fail(p, status, "body refused");
    }
    if (buf_append(&p->req.body, at, len) != 0)
        return fail(p, 413, "body too large");
    return 0;
}

static int on_message_complete(llhttp_t *ll)
{
    if (ll->upgrade)
        return 0;
    parser_of(ll)->paused_at_message = 1;
    return HPE_PAUSED;
}

void http_reader_init(struct http_reader *p, size_t max_header_bytes, size_t max_headers,
                      size_t max_body)
{
    memset(p, 0, sizeof(*p));
    llhttp_settings_init(&p->settings);
    p->settings.on_url = on_url;
    p->settings.on_header_field = on_header_field;
    p->settings.on_header_field_complete = on_header_field_complete;
    p->settings.on_header_value = on_header_value;
    p->settings.on_headers_complete = on_headers_complete;
    p->settings.on_body = on_body;
    p->settings.on_message_complete = on_message_complete;
    llhttp_init(&p->ll, HTTP_REQUEST, &p->settings);
    p->ll.data = p;
    buf_init(&p->req.url, max_header_bytes);
    for (int i = 0; i < HTTP_H_COUNT; i++)
        buf_init(&p->req.headers[i], max_header_bytes);
    buf_init(&p->req.body, max_body);
    buf_init(&p->field, 64);
    p->max_header_bytes = max_header_bytes;
    p->max_headers = max_headers;
    p->field_id = -1;
}

void http_reader_release(struct http_reader *p)
{
    buf_release(&p->req.url);
    for (int i = 0; i < HTTP_H_COUNT; i++)
        buf_release(&p->req.headers[i]);
    buf_release(&p->req.body);
    buf_release(&p->field);
}

void http_reader_next(struct http_reader *p)
{
    buf_reset(&p->req.url);
    for (int i = 0; i < HTTP_H_COUNT; i++)
        buf_reset(&p->req.headers[i]);
    buf_reset(&p->req.body);
    buf_reset(&p->field);
    p->req.has_content_length = 0;
    p->req.content_length = 0;
    p->req.upgrade = 0;
    p->field_id = -1;
    p->in_value = 0;
    p->header_bytes = 0;
    p->header_count = 0;
    p->body_cb = NULL;
    p->body_ud = NULL;
    if (llhttp_get_errno(&p->ll) == HPE_PAUSED)
        llhttp_resume(&p->ll);
}

enum http_event http_reader_feed(struct http_reader *p, const char *data, size_t len, size_t *used)
{
    if (llhttp_get_errno(&p->ll) == HPE_PAUSED)
        llhttp_resume(&p->ll);
    llhttp_errno_t err = llhttp_execute(&p->ll, data, len);
    const char *stop = llhttp_get_error_pos(&p->ll);
    switch (err) {
    case HPE_OK:
        *used = len;
        return HTTP_EV_NEED_MORE;
    case HPE_PAUSED:
        *used = (size_t)(stop - data);
        /* A pause comes from on_headers_complete or on_message_complete. */
        return p->paused_at_message ? HTTP_EV_MESSAGE : HTTP_EV_HEADERS;
    case HPE_PAUSED_UPGRADE:
        *used = (size_t)(stop - data);
        return HTTP_EV_UPGRADE;
    default:
        *used = len;
        if (p->status == 0) {
            p->status = 400;
            p->reason = llhttp_get_error_reason(&p->ll);
        }
        return HTTP_EV_ERROR;
    }
}

const char *http_request_path(const struct http_request *req, size_t *len)
{
    const char *url = req->url.data != NULL ? req->url.data : "";
    const char *q = memchr(url, '?', req->url.len);
    *len = q != NULL ? (size_t)(q - url) : req->url.len;
    return url;
}

int http_request_query(const struct http_request *req, const char *name, char *out, size_t outlen)
{
    const char *url = req->url.data != NULL ? req->url.data : "";
    const char *end = url + req->url.len;
    const char *p = memchr(url, '?', req->url.len);
    if (p == NULL || outlen == 0)
        return -1;
    size_t nlen = strlen(name);
    p++;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *key_end = eq != NULL ? eq : stop;
        if ((size_t)(key_end - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq != NULL ? eq + 1 : stop;
            return form_decode(v, (size_t)(stop - v), out, outlen);
        }
        p = stop + 1;
    }
    return -1;
}

const char *http_request_header(const struct http_request *req, enum http_header_id id)
{
    const struct buf *b = &req->headers[id];
    return b->data != NULL && b->len > 0 ? b->data : NULL;
}

int http_header_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;
    while (p != NULL && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *trim = end;
        while (trim > p && (trim[-1] == ' ' || trim[-1] == '\t'))
            trim--;
        if ((size_t)(trim - p) == tlen && strncasecmp(p, token, tlen) == 0)
            return 1;
        p = end;
    }
    return 0;
}
