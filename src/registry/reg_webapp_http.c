/* The webapp's HTTP client: libcurl's multi-socket API on the libuv loop (a uv_poll per
 * socket curl wants watched, a uv_timer for curl's own timeout). */
#include "registry/reg_webapp_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/log.h"
#include "core/xalloc.h"

const char reg_webapp_http_err_timeout[] = "timed out";
const char reg_webapp_http_err_too_large[] = "response too large";
const char reg_webapp_http_err_closed[] = "client closed";
static const char err_start[] = "could not start the request";

#define HTTP_MAX_CONNECTIONS 16 /* to the webapp at once */

struct reg_webapp_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    uv_idle_t idle; /* answers requests that ended before curl took them */
    char *base_url;
    char *auth_header;
    uint64_t timeout_ms;
    size_t max_body;
    struct list running; /* struct http_req inside curl */
    struct list failed;  /* struct http_req answered without curl, waiting for the idle */
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
    struct reg_webapp_http *h;
};

struct http_req {
    struct list link;
    struct reg_webapp_http *h;
    CURL *easy;
    struct curl_slist *headers;
    struct buf body;
    int too_large;
    const char *err; /* set when it ended without curl's answer */
    reg_webapp_http_cb cb;
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

static void req_free(struct http_req *r)
{
    if (r->easy != NULL)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    buf_release(&r->body);
    free(r);
}

/* Calls the request's callback with what curl said (rc) or r->err, then frees it. */
static void req_finish(struct http_req *r, CURLcode rc)
{
    struct reg_webapp_http_response res;
    memset(&res, 0, sizeof(res));
    res.err = r->err;
    if (res.err == NULL && rc == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
    else if (res.err == NULL && rc == CURLE_OPERATION_TIMEDOUT)
        res.err = reg_webapp_http_err_timeout;
    else if (res.err == NULL && rc == CURLE_WRITE_ERROR && r->too_large)
        res.err = reg_webapp_http_err_too_large;
    else if (res.err == NULL)
        res.err = r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(rc);
    if (res.err == NULL && res.status == 0)
        res.err = "no HTTP status";
    res.body = r->body.data != NULL ? r->body.data : "";
    res.len = r->body.len;
    r->h->npending--;
    r->cb(r->ud, &res);
    req_free(r);
}

/* Answers every transfer curl has finished. A callback may close the client: then the rest
 * were answered by the close already. */
static void drain(struct reg_webapp_http *h)
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
        struct http_req *r = (struct http_req *)(void *)priv;
        curl_multi_remove_handle(h->multi, easy);
        list_remove(&r->link);
        req_finish(r, rc);
    }
}

static void on_idle(uv_idle_t *idle)
{
    struct reg_webapp_http *h = idle->data;
    while (!h->closing && !list_empty(&h->failed)) {
        struct http_req *r = container_of(h->failed.next, struct http_req, link);
        list_remove(&r->link);
        req_finish(r, CURLE_OK);
    }
    if (!h->closing)
        uv_idle_stop(&h->idle);
}

/* Answers r with r->err from the loop, later. */
static void req_fail_later(struct reg_webapp_http *h, struct http_req *r, const char *err)
{
    r->err = err;
    list_insert_tail(&h->failed, &r->link);
    if (!h->closing)
        uv_idle_start(&h->idle, on_idle);
}

/* ---- curl's sockets and timer on libuv ---- */

static void on_handle_closed(uv_handle_t *handle)
{
    struct reg_webapp_http *h = handle->data;
    if (handle->type == UV_POLL)
        free(container_of((uv_poll_t *)(void *)handle, struct http_sock, poll));
    if (--h->open_handles > 0 || !h->closing)
        return;
    free(h->base_url);
    free(h->auth_header);
    free(h);
    curl_unuse();
}

static void sock_close(struct reg_webapp_http *h, struct http_sock *s)
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
    struct reg_webapp_http *h = s->h;
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

static struct http_sock *sock_open(struct reg_webapp_http *h, curl_socket_t fd)
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
    struct reg_webapp_http *h = userp;
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
    struct reg_webapp_http *h = timer->data;
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
    struct reg_webapp_http *h = userp;
    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else if (!h->closing)
        uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- the client ---- */

struct reg_webapp_http *reg_webapp_http_new(uv_loop_t *loop,
                                            const struct reg_webapp_http_config *cfg)
{
    if (curl_use() != 0) {
        log_error("webapp", "libcurl could not be initialised");
        return NULL;
    }
    CURLM *multi = curl_multi_init();
    if (multi == NULL) {
        log_error("webapp", "libcurl could not make a multi handle");
        curl_unuse();
        return NULL;
    }
    struct reg_webapp_http *h = xcalloc(1, sizeof(*h));
    struct buf b;
    h->loop = loop;
    h->multi = multi;
    h->base_url = xstrdup(cfg->base_url);
    for (size_t n = strlen(h->base_url); n > 0 && h->base_url[n - 1] == '/';)
        h->base_url[--n] = '\0';
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "Authorization: Token token=%s", cfg->token);
    h->auth_header = buf_detach(&b, NULL);
    h->timeout_ms = cfg->timeout_ms;
    h->max_body = cfg->max_body;
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
    /* A burst (an outbox pass after an outage) queues inside curl instead of opening a
     * connection per request; the deadline counts from the start, queueing included. */
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)HTTP_MAX_CONNECTIONS);
    return h;
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    struct http_req *r = ud;
    if (buf_append(&r->body, data, size * n) != 0) {
        r->too_large = 1;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    return size * n;
}

static int req_headers(struct reg_webapp_http *h, struct http_req *r, int has_body)
{
    const char *lines[] = {h->auth_header, "Accept: application/json",
                           has_body ? "Content-Type: application/x-www-form-urlencoded" : NULL,
                           "Expect:"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (lines[i] == NULL)
            continue;
        struct curl_slist *l = curl_slist_append(r->headers, lines[i]);
        if (l == NULL)
            return -1;
        r->headers = l;
    }
    return 0;
}

static int req_setup(struct reg_webapp_http *h, struct http_req *r, const char *method,
                     const char *path, const char *form)
{
    int has_body = strcmp(method, "GET") != 0;
    struct buf url;
    buf_init(&url, BUF_NO_CAP);
    buf_printf(&url, "%s%s", h->base_url, path);
    r->easy = curl_easy_init();
    int ok = r->easy != NULL && req_headers(h, r, has_body) == 0;
    CURL *e = r->easy;
    ok = ok && curl_easy_setopt(e, CURLOPT_URL, url.data) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_USERAGENT, "crowdai-broker") == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)(void *)r) == CURLE_OK;
    if (ok && has_body) {
        const char *body = form != NULL ? form : "";
        ok = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    }
    buf_release(&url);
    return ok ? 0 : -1;
}

void reg_webapp_http_request(struct reg_webapp_http *h, const char *method, const char *path,
                             const char *form, reg_webapp_http_cb cb, void *ud)
{
    struct http_req *r = xcalloc(1, sizeof(*r));
    r->h = h;
    r->cb = cb;
    r->ud = ud;
    buf_init(&r->body, h->max_body);
    list_init(&r->link);
    h->npending++;
    if (h->closing) {
        req_fail_later(h, r, reg_webapp_http_err_closed);
        return;
    }
    if (req_setup(h, r, method, path, form) != 0 ||
        curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        log_error("webapp", "libcurl refused a %s request", method);
        req_fail_later(h, r, err_start);
        return;
    }
    list_insert_tail(&h->running, &r->link);
}

size_t reg_webapp_http_pending(const struct reg_webapp_http *h)
{
    return h->npending;
}

void reg_webapp_http_close(struct reg_webapp_http *h)
{
    if (h->closing)
        return;
    h->closing = 1;
    /* Callbacks run here may start requests: those land on the failed list, answered below. */
    while (!list_empty(&h->running)) {
        struct http_req *r = container_of(h->running.next, struct http_req, link);
        list_remove(&r->link);
        curl_multi_remove_handle(h->multi, r->easy);
        r->err = reg_webapp_http_err_closed;
        req_finish(r, CURLE_OK);
    }
    while (!list_empty(&h->failed)) {
        struct http_req *r = container_of(h->failed.next, struct http_req, link);
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

/* ---- encoding ---- */

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int reg_webapp_http_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (unreserved(c) ? buf_append_char(b, (char)c) : buf_append(b, esc, 3))
            return -1;
    }
    return 0;
}

int reg_webapp_http_form_add(struct buf *b, const char *name, const char *value)
{
    if (b->len > 0 && buf_append_char(b, '&') != 0)
        return -1;
    if (reg_webapp_http_escape(b, name) != 0 || buf_append_char(b, '=') != 0)
        return -1;
    return reg_webapp_http_escape(b, value);
}
