/* An HTTP client for the crowdAI webapp's API on the broker's libuv loop, over the project's
 * HTTP client (net/http_client: libcurl's multi interface on the loop, so that no request
 * ever blocks it). One multi handle keeps connections to the webapp alive between requests;
 * at most 16 are open at once, and further requests wait their turn inside curl (their
 * deadline runs meanwhile).
 *
 * Every request carries "Authorization: Token token=<token>", has a deadline (timeout_ms
 * from its start, connecting included) and a cap on its response body. Its callback runs
 * exactly once and never before reg_webapp_http_request returns. */
#ifndef REGISTRY_REG_WEBAPP_HTTP_H
#define REGISTRY_REG_WEBAPP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"

struct reg_webapp_http;

/* Why a request got no HTTP answer (compared by pointer; also fine to log as they are). */
extern const char reg_webapp_http_err_timeout[];   /* the deadline passed */
extern const char reg_webapp_http_err_too_large[]; /* the body went over the cap */
extern const char reg_webapp_http_err_closed[];    /* the client was closed first */

struct reg_webapp_http_response {
    long status;      /* the HTTP status, or 0 when no answer came (err says why) */
    const char *err;  /* NULL when status is set; else one of the above or curl's reason */
    const char *body; /* NUL-terminated (never NULL); may hold NULs of its own */
    size_t len;
};

/* The response is borrowed for the call. */
typedef void (*reg_webapp_http_cb)(void *ud, const struct reg_webapp_http_response *res);

struct reg_webapp_http_config {
    const char *base_url; /* "https://www.crowdai.org": paths are appended to it */
    const char *token;    /* the webapp's API token (never logged) */
    uint64_t timeout_ms;  /* whole request */
    size_t max_body;      /* bytes of response body */
};

/* The strings of cfg are copied. Returns NULL (logged) if libcurl cannot start. */
struct reg_webapp_http *reg_webapp_http_new(uv_loop_t *loop,
                                            const struct reg_webapp_http_config *cfg);

/* Starts method ("GET", "POST", "PATCH") on base_url + path (path starts with '/', escaped
 * already). form, for POST and PATCH, is an application/x-www-form-urlencoded body (copied;
 * NULL sends an empty one). */
void reg_webapp_http_request(struct reg_webapp_http *h, const char *method, const char *path,
                             const char *form, reg_webapp_http_cb cb, void *ud);

/* Requests started and not yet answered. */
size_t reg_webapp_http_pending(const struct reg_webapp_http *h);

/* Ends every request still running (their callbacks run inside this call with
 * reg_webapp_http_err_closed) and releases the client; the memory goes once libuv has closed
 * its handles, so run the loop afterwards. Safe to call from one of its own callbacks. */
void reg_webapp_http_close(struct reg_webapp_http *h);

/* Appends s percent-encoded for a URL path segment or a form value (RFC 3986 unreserved
 * characters stay as they are). Returns 0, or -1 when the buffer's cap is reached. */
int reg_webapp_http_escape(struct buf *b, const char *s);
/* Appends "name=value" (both encoded), preceded by '&' unless b is empty. */
int reg_webapp_http_form_add(struct buf *b, const char *name, const char *value);

#endif
