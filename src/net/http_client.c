/* The HTTP client: libcurl's multi-socket API on the libuv loop (a uv_poll per socket curl
 * wants watched, a uv_timer for curl's own timeout), bodies into memory or a file. */
#include "net/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/log.h"
#include "core/xalloc.h"

const char http_client_err_timeout[] = "timed out";
const char http_client_err_too_large[] = "response too large";
const char http_client_err_closed[] = "client closed";
const char http_client_err_file[] = "could not write the response to its file";
const char http_client_err_start[] = "could not start the request";

#define ERROR_BODY_KEEP 4096 /* bytes of a non-2xx body kept when the body goes to a file */

struct http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    uv_idle_t idle; /* answers requests that ended before curl took them */
    char *user_agent;
    const char *log_module;
    struct list running; /* struct http_client_req inside curl */
    struct list failed;  /* struct http_client_req answered without curl, waiting for the idle */
    struct list socks;   /* struct http_sock */
    size_t npending;
    int open_handles; /* libuv handles not closed yet; the struct goes with the last one */
    int closing;
};

/* A socket curl asked us to watch. */
struct http_sock {
    struct list link;
    uv_poll_t poll;
    curl_socket_t fd;
    struct http_client *h;
};

struct http_client_req {
    struct list link;
    struct http_client *h;
    CURL *easy;
    struct curl_slist *headers;
    struct buf body;
    size_t max_body;
    char *save_to; /* the file's path, or NULL: the body stays in memory */
    int fd;        /* save_to's descriptor while open, else -1 */
    uint64_t saved;
    int too_large;
    int write_failed;
    const char *err; /* set when it ended without curl's answer */
    http_client_cb cb;
    void *ud;
    char errbuf[CURL_ERROR_SIZE];
};

/* curl_global_init is process-wide: the first client makes it, the last one undoes it. */
static int curl_users;

static int curl_use(void)
{
    if (curl_users == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    curl_users++;
    return 0;
}

static void curl_unuse(void)
{
    if (--curl_users == 0)
        curl_global_cleanup();
}

/* ---- requests ending ---- */

/* Closes the file, and removes it unless keep. */
static void req_file_end(struct http_client_req *r, int keep)
{
    if (r->fd >= 0 && close(r->fd) != 0)
        keep = 0;
    r->fd = -1;
    if (r->save_to != NULL && !keep)
        unlink(r->save_to);
}

static void req_free(struct http_client_req *r)
{
    if (r->easy != NULL)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    buf_release(&r->body);
    free(r->save_to);
    free(r);
}

static const char *curl_reason(struct http_client_req *r, CURLcode rc)
{
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return http_client_err_timeout;
    if (rc == CURLE_WRITE_ERROR && r->too_large)
        return http_client_err_too_large;
    if (rc == CURLE_WRITE_ERROR && r->write_failed)
        return http_client_err_file;
    return r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(rc);
}

/* Calls the request's callback with what curl said (rc) or r->err, then frees it. */
static void req_finish(struct http_client_req *r, CURLcode rc)
{
    struct http_client_response res;
    memset(&res, 0, sizeof(res));
    res.err = r->err;
    if (res.err == NULL && rc == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
    else if (res.err == NULL)
        res.err = curl_reason(r, rc);
    if (res.err == NULL && res.status == 0)
        res.err = "no HTTP status";
    req_file_end(r, res.err == NULL && res.status >= 200 && res.status < 300);
    res.body = r->body.data != NULL ? r->body.data : "";
    res.len = r->body.len;
    res.saved = r->saved;
    r->h->npending--;
    r->cb(r->ud, &res);
    req_free(r);
}

/* Answers every transfer curl has finished. A callback may close the client: then the rest
 * were answered by the close already. */
static void drain(struct http_client *h)
{
    CURLMsg *m;
    int left;
    while (!h->closing && (m = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        struct http_client_req *r = (struct http_client_req *)(void *)priv;
        curl_multi_remove_handle(h->multi, easy);
        list_remove(&r->link);
        req_finish(r, rc);
    }
}

static void on_idle(uv_idle_t *idle)
{
    struct http_client *h = idle->data;
    while (!h->closing && !list_empty(&h->failed)) {
        struct http_client_req *r = container_of(h->failed.next, struct http_client_req, link);
        list_remove(&r->link);
        req_finish(r, CURLE_OK);
    }
    if (!h->closing)
        uv_idle_stop(&h->idle);
}

/* Answers r with err from the loop, later. */
static void req_fail_later(struct http_client *h, struct http_client_req *r, const char *err)
{
    r->err = err;
    list_insert_tail(&h->failed, &r->link);
    if (!h->closing)
        uv_idle_start(&h->idle, on_idle);
}

/* ---- curl's sockets and timer on libuv ---- */

static void on_handle_closed(uv_handle_t *handle)
{
    struct http_client *h = handle->data;
    if (handle->type == UV_POLL)
        free(container_of((uv_poll_t *)(void *)handle, struct http_sock, poll));
    if (--h->open_handles > 0 || !h->closing)
        return;
    free(h->user_agent);
    free(h);
    curl_unuse();
}

static void sock_close(struct http_client *h, struct http_sock *s)
{
    if (h->multi != NULL)
        curl_multi_assign(h->multi, s->fd, NULL);
    list_remove(&s->link);
    uv_poll_stop(&s->poll);
    s->poll.data = h;
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct http_sock *s = container_of(poll, struct http_sock, poll);
    struct http_client *h = s->h;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    drain(h);
}

static struct http_sock *sock_open(struct http_client *h, curl_socket_t fd)
{
    struct http_sock *s = xcalloc(1, sizeof(*s));
    if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
        free(s);
        return NULL;
    }
    s->fd = fd;
    s->h = h;
    s->poll.data = h;
    h->open_handles++;
    list_insert_tail(&h->socks, &s->link);
    curl_multi_assign(h->multi, fd, s);
    return s;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct http_client *h = userp;
    struct http_sock *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL)
            sock_close(h, s);
        return 0;
    }
    if (h->closing)
        return 0;
    if (s == NULL && (s = sock_open(h, fd)) == NULL)
        return -1;
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) == 0 ? 0 : -1;
}

static void on_timer(uv_timer_t *timer)
{
    struct http_client *h = timer->data;
    int running;
    if (h->closing)
        return;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(h);
}

/* curl asks for its timeout: -1 stops it, 0 means as soon as possible (the next loop
 * iteration: curl must not be called back from inside this function). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_client *h = userp;
    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else if (!h->closing)
        uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- the client ---- */

struct http_client *http_client_new(uv_loop_t *loop, const struct http_client_options *opts)
{
    const char *module = opts != NULL && opts->log_module != NULL ? opts->log_module : "http";
    if (curl_use() != 0) {
        log_error(module, "libcurl could not be initialised");
        return NULL;
    }
    CURLM *multi = curl_multi_init();
    if (multi == NULL) {
        log_error(module, "libcurl could not make a multi handle");
        curl_unuse();
        return NULL;
    }
    struct http_client *h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->multi = multi;
    h->log_module = module;
    h->user_agent =
        xstrdup(opts != NULL && opts->user_agent != NULL ? opts->user_agent : "crowdai");
    list_init(&h->running);
    list_init(&h->failed);
    list_init(&h->socks);
    uv_timer_init(loop, &h->timer);
    uv_idle_init(loop, &h->idle);
    h->timer.data = h;
    h->idle.data = h;
    h->open_handles = 2;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, h);
    if (opts != NULL && opts->max_host_connections > 0)
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, opts->max_host_connections);
    return h;
}

static int status_2xx(struct http_client_req *r)
{
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    return status >= 200 && status < 300;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A 2xx body goes to the file (capped); any other body into memory, its start only. */
static size_t on_write_file(struct http_client_req *r, const char *data, size_t len)
{
    if (!status_2xx(r)) {
        size_t room = ERROR_BODY_KEEP - r->body.len;
        buf_append(&r->body, data, len < room ? len : room);
        return len;
    }
    if (r->max_body > 0 && (r->saved + len > r->max_body || r->saved + len < r->saved)) {
        r->too_large = 1;
        return 0;
    }
    if (write_all(r->fd, data, len) != 0) {
        r->write_failed = 1;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    r->saved += len;
    return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    struct http_client_req *r = ud;
    if (r->save_to != NULL)
        return on_write_file(r, data, size * n);
    if (buf_append(&r->body, data, size * n) != 0) {
        r->too_large = 1;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    return size * n;
}

static int req_headers(struct http_client_req *r, const char *const *lines, int has_body)
{
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++) {
        struct curl_slist *l = curl_slist_append(r->headers, lines[i]);
        if (l == NULL)
            return -1;
        r->headers = l;
    }
    /* No "Expect: 100-continue" round trip before a body. */
    struct curl_slist *l = has_body ? curl_slist_append(r->headers, "Expect:") : r->headers;
    if (l == NULL)
        return -1;
    r->headers = l;
    return 0;
}

static int req_setup_body(CURL *e, const struct http_client_fetch *f, const char *method)
{
    const char *body = f->body != NULL ? f->body : "";
    size_t len = f->body != NULL ? f->body_len : 0;
    return curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK &&
                   curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body) == CURLE_OK &&
                   curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK
               ? 0
               : -1;
}

static int req_setup(struct http_client *h, struct http_client_req *r,
                     const struct http_client_fetch *f)
{
    const char *method = f->method != NULL ? f->method : "GET";
    int has_body = strcmp(method, "GET") != 0;
    r->easy = curl_easy_init();
    int ok = r->easy != NULL && req_headers(r, f->headers, has_body) == 0;
    CURL *e = r->easy;
    ok = ok && curl_easy_setopt(e, CURLOPT_URL, f->url) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)f->timeout_ms) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)(void *)r) == CURLE_OK;
    if (ok && has_body)
        ok = req_setup_body(e, f, method) == 0;
    return ok ? 0 : -1;
}

struct http_client_req *http_client_request(struct http_client *h,
                                            const struct http_client_fetch *f, http_client_cb cb,
                                            void *ud)
{
    struct http_client_req *r = xcalloc(1, sizeof(*r));
    r->h = h;
    r->cb = cb;
    r->ud = ud;
    r->fd = -1;
    r->max_body = f->max_body;
    buf_init(&r->body, f->save_to == NULL && f->max_body > 0 ? f->max_body : BUF_NO_CAP);
    list_init(&r->link);
    h->npending++;
    if (h->closing) {
        req_fail_later(h, r, http_client_err_closed);
        return r;
    }
    if (f->save_to != NULL) {
        r->fd = open(f->save_to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (r->fd < 0) {
            log_warn(h->log_module, "cannot create %s: %s", f->save_to, strerror(errno));
            req_fail_later(h, r, http_client_err_file);
            return r;
        }
        r->save_to = xstrdup(f->save_to);
    }
    if (req_setup(h, r, f) != 0 || curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        log_error(h->log_module, "libcurl refused a %s request", f->method ? f->method : "GET");
        req_fail_later(h, r, http_client_err_start);
        return r;
    }
    list_insert_tail(&h->running, &r->link);
    return r;
}

void http_client_cancel(struct http_client_req *r)
{
    struct http_client *h = r->h;
    list_remove(&r->link);
    if (r->err == NULL && h->multi != NULL)
        curl_multi_remove_handle(h->multi, r->easy);
    req_file_end(r, 0);
    h->npending--;
    req_free(r);
}

size_t http_client_pending(const struct http_client *h)
{
    return h->npending;
}

void http_client_close(struct http_client *h)
{
    if (h->closing)
        return;
    h->closing = 1;
    /* Callbacks run here may start requests: those land on the failed list, answered below. */
    while (!list_empty(&h->running)) {
        struct http_client_req *r = container_of(h->running.next, struct http_client_req, link);
        list_remove(&r->link);
        curl_multi_remove_handle(h->multi, r->easy);
        r->err = http_client_err_closed;
        req_finish(r, CURLE_OK);
    }
    while (!list_empty(&h->failed)) {
        struct http_client_req *r = container_of(h->failed.next, struct http_client_req, link);
        list_remove(&r->link);
        req_finish(r, CURLE_OK);
    }
    while (!list_empty(&h->socks))
        sock_close(h, container_of(h->socks.next, struct http_sock, link));
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    uv_close((uv_handle_t *)&h->timer, on_handle_closed);
    uv_close((uv_handle_t *)&h->idle, on_handle_closed);
}
