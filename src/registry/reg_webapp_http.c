/* The webapp's HTTP client: its base URL, token and limits over net/http_client. */
#include "registry/reg_webapp_http.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "net/http_client.h"

const char reg_webapp_http_err_timeout[] = "timed out";
const char reg_webapp_http_err_too_large[] = "response too large";
const char reg_webapp_http_err_closed[] = "client closed";

#define HTTP_MAX_CONNECTIONS 16 /* to the webapp at once */

struct reg_webapp_http {
    struct http_client *client;
    char *base_url;
    char *auth_header;
    uint64_t timeout_ms;
    size_t max_body;
};

/* One request's callback, between the HTTP client and the caller. */
struct webapp_call {
    reg_webapp_http_cb cb;
    void *ud;
};

struct reg_webapp_http *reg_webapp_http_new(uv_loop_t *loop,
                                            const struct reg_webapp_http_config *cfg)
{
    /* A burst (an outbox pass after an outage) queues inside curl instead of opening a
     * connection per request; the deadline counts from the start, queueing included. */
    struct http_client_options opts = {"crowdai-broker", HTTP_MAX_CONNECTIONS, "webapp"};
    struct http_client *client = http_client_new(loop, &opts);
    if (client == NULL)
        return NULL;
    struct reg_webapp_http *h = xcalloc(1, sizeof(*h));
    struct buf b;
    h->client = client;
    h->base_url = xstrdup(cfg->base_url);
    for (size_t n = strlen(h->base_url); n > 0 && h->base_url[n - 1] == '/';)
        h->base_url[--n] = '\0';
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "Authorization: Token token=%s", cfg->token);
    h->auth_header = buf_detach(&b, NULL);
    h->timeout_ms = cfg->timeout_ms;
    h->max_body = cfg->max_body;
    return h;
}

/* The client's reasons, as this module's own (callers compare them by pointer). */
static const char *webapp_err(const char *err)
{
    if (err == http_client_err_timeout)
        return reg_webapp_http_err_timeout;
    if (err == http_client_err_too_large)
        return reg_webapp_http_err_too_large;
    if (err == http_client_err_closed)
        return reg_webapp_http_err_closed;
    return err;
}

static void on_answer(void *ud, const struct http_client_response *res)
{
    struct webapp_call *call = ud;
    struct reg_webapp_http_response out = {res->status, webapp_err(res->err), res->body, res->len};
    call->cb(call->ud, &out);
    free(call);
}

void reg_webapp_http_request(struct reg_webapp_http *h, const char *method, const char *path,
                             const char *form, reg_webapp_http_cb cb, void *ud)
{
    int has_body = strcmp(method, "GET") != 0;
    const char *headers[] = {h->auth_header, "Accept: application/json",
                             has_body ? "Content-Type: application/x-www-form-urlencoded" : NULL,
                             NULL};
    struct webapp_call *call = xcalloc(1, sizeof(*call));
    struct buf url;
    buf_init(&url, BUF_NO_CAP);
    buf_printf(&url, "%s%s", h->base_url, path);
    struct http_client_fetch f = {
        .method = method,
        .url = url.data,
        .headers = headers,
        .body = has_body && form != NULL ? form : NULL,
        .body_len = has_body && form != NULL ? strlen(form) : 0,
        .timeout_ms = h->timeout_ms,
        .max_body = h->max_body,
    };
    call->cb = cb;
    call->ud = ud;
    http_client_request(h->client, &f, on_answer, call);
    buf_release(&url);
}

size_t reg_webapp_http_pending(const struct reg_webapp_http *h)
{
    return http_client_pending(h->client);
}

void reg_webapp_http_close(struct reg_webapp_http *h)
{
    /* The client answers what is still running inside this call, then frees itself once
     * libuv has closed its handles. */
    http_client_close(h->client);
    free(h->base_url);
    free(h->auth_header);
    free(h);
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
