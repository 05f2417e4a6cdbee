/* An HTTP client on a libuv loop: libcurl's multi interface driven by uv_poll handles (one per
 * socket curl opens) and one uv_timer (curl's timeout), so that no request ever blocks the
 * loop. One multi handle keeps connections alive between requests.
 *
 * Every request has a deadline (timeout_ms from its start, connecting and queueing inside curl
 * included) and a cap on its response body, which is kept in memory or streamed to a file.
 * Its callback runs exactly once, from the loop, never before http_client_request returns,
 * unless the request is cancelled first (then it never runs).
 *
 * Users: the registry's webapp client (registry/reg_webapp_http) and crowdai-grader's
 * submission downloads (grader/runner_job.c). */
#ifndef NET_HTTP_CLIENT_H
#define NET_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_client;
struct http_client_req;

/* Why a request got no usable answer (compared by pointer; fine to log as they are). */
extern const char http_client_err_timeout[];   /* the deadline passed */
extern const char http_client_err_too_large[]; /* the body went over max_body */
extern const char http_client_err_closed[];    /* the client was closed first */
extern const char http_client_err_file[];      /* save_to could not be created or written */
extern const char http_client_err_start[];     /* libcurl refused the request */

struct http_client_options {
    const char *user_agent;    /* NULL: "crowdai" */
    long max_host_connections; /* open at once to one host; further requests wait their turn
                                  inside curl (0: no limit) */
    const char *log_module;    /* tag of this client's log lines (NULL: "http"); static */
};

/* One request. Everything is copied by http_client_request. */
struct http_client_fetch {
    const char *method;         /* "GET" (also when NULL), "POST", "PATCH", "PUT", ... */
    const char *url;            /* absolute http:// or https:// URL, escaped already */
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;           /* for methods other than GET; NULL sends an empty body */
    size_t body_len;
    uint64_t timeout_ms; /* whole request; 0: no deadline */
    size_t max_body;     /* bytes of response body, in memory or in save_to; 0: no cap */
    /* NULL: the body is kept in memory. Else a new file (created with O_EXCL, mode 0600)
     * that receives a 2xx response's body as it arrives; it is removed again unless the
     * request ends with a 2xx status and err NULL. Other statuses' bodies stay in memory
     * (their first 4 KiB), for the error message. */
    const char *save_to;
};

struct http_client_response {
    long status;      /* the HTTP status, or 0 when no answer came (err says why) */
    const char *err;  /* NULL when status is set; else one of the above or curl's reason */
    const char *body; /* NUL-terminated (never NULL); may hold NULs of its own. With
                         save_to and a 2xx status: "" (the body is in the file) */
    size_t len;
    uint64_t saved; /* with save_to: bytes written to the file */
};

/* The response is borrowed for the call. The callback may start requests, cancel others,
 * or close the client. */
typedef void (*http_client_cb)(void *ud, const struct http_client_response *res);

/* Returns NULL (logged) if libcurl cannot start. opts may be NULL for the defaults. */
struct http_client *http_client_new(uv_loop_t *loop, const struct http_client_options *opts);

/* Starts a request. The returned handle is valid until its callback has run or until
 * http_client_cancel; it may be ignored. Failures to start (a file that cannot be created,
 * libcurl refusing an option) come through the callback too. */
struct http_client_req *http_client_request(struct http_client *h,
                                            const struct http_client_fetch *f, http_client_cb cb,
                                            void *ud);

/* Stops a request whose callback has not run yet: its callback never runs, save_to is
 * removed. Not from inside that request's own callback. */
void http_client_cancel(struct http_client_req *r);

/* Requests started and not yet answered or cancelled. */
size_t http_client_pending(const struct http_client *h);

/* Ends every request still running (their callbacks run inside this call with
 * http_client_err_closed; requests those callbacks start are answered the same way) and
 * releases the client; the memory goes once libuv has closed its handles, so run the loop
 * afterwards. Safe to call from one of its own callbacks. */
void http_client_close(struct http_client *h);

#endif
