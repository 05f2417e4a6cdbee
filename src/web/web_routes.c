/* Serving the embedded pages: a page route picks the HTML file, /static/<name> serves a file
 * by name. Pages carry a Content-Security-Policy that lets them load only the broker's own
 * scripts and styles and connect only to the broker itself; nothing is rendered on the
 * server, so no participant data ever passes through here. */
#include <string.h>

#include "registry/reg_catalog.h"
#include "web/web_assets.h"
#include "web/web_routes.h"

#define PAGE_HEADERS                                                                               \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "                    \
    "frame-ancestors 'none'\r\n"                                                                   \
    "Cache-Control: no-cache\r\n"
#define STATIC_HEADERS "Cache-Control: no-cache\r\n"

static void serve(struct http_conn *hc, const struct http_request *req, const char *name,
                  const char *headers)
{
    const struct web_asset *a = name != NULL ? web_asset_find(name, strlen(name)) : NULL;
    if (req->method != HTTP_GET) {
        http_conn_respond(hc, 405, "text/plain; charset=utf-8", "Allow: GET\r\n",
                          "Only GET is served here.\n", 25, 0);
    } else if (a == NULL) {
        http_conn_respond(hc, 404, "text/plain; charset=utf-8", NULL, "Not found.\n", 11, 0);
    } else {
        http_conn_respond(hc, 200, a->content_type, headers, a->body, a->len, 0);
    }
}

static void on_index(struct http_conn *hc, const struct http_request *req, void *ud)
{
    serve(hc, req, ud, PAGE_HEADERS);
}

/* /challenges/<id> and /challenges/<id>/submit (a trailing slash allowed). */
static void on_challenge(struct http_conn *hc, const struct http_request *req, void *ud)
{
    size_t len;
    const char *path = http_request_path(req, &len);
    const char *rest = path + strlen("/challenges/");
    size_t rest_len = len - strlen("/challenges/");
    while (rest_len > 0 && rest[rest_len - 1] == '/')
        rest_len--;
    const char *slash = memchr(rest, '/', rest_len);
    size_t id_len = slash != NULL ? (size_t)(slash - rest) : rest_len;
    const char *page = NULL;
    if (reg_catalog_valid_id(rest, id_len)) {
        if (slash == NULL)
            page = "challenge.html";
        else if (rest_len - id_len == 7 && memcmp(slash, "/submit", 7) == 0)
            page = "submit.html";
    }
    (void)ud;
    serve(hc, req, page, PAGE_HEADERS);
}

static void on_static(struct http_conn *hc, const struct http_request *req, void *ud)
{
    size_t len;
    const char *path = http_request_path(req, &len);
    const char *name = path + strlen("/static/");
    size_t name_len = len - strlen("/static/");
    const struct web_asset *a = web_asset_find(name, name_len);
    (void)ud;
    /* Pages are served at their own routes only. */
    if (a != NULL && strstr(a->content_type, "text/html") != NULL)
        a = NULL;
    serve(hc, req, a != NULL ? a->name : NULL, STATIC_HEADERS);
}

static const struct http_route_ops index_ops = {.on_request = on_index};
static const struct http_route_ops challenge_ops = {.on_request = on_challenge};
static const struct http_route_ops static_ops = {.on_request = on_static};

void web_routes_install(struct http_server *http)
{
    http_server_route(http, "/", &index_ops, "index.html");
    http_server_route(http, "/status", &index_ops, "status.html");
    http_server_route_prefix(http, "/challenges/", &challenge_ops, NULL);
    http_server_route_prefix(http, "/static/", &static_ops, NULL);
}
