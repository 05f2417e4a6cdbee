/* Parsing of the server URL; see sioc_url.h. */
#include "client/sioc_url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/sioc.h"
#include "core/buf.h"
#include "core/xalloc.h"

struct scheme {
    const char *name;
    int tls;
    int port;
};

static const struct scheme schemes[] = {
    {"ws", 0, 80},
    {"wss", 1, 443},
    {"http", 0, 80},
    {"https", 1, 443},
};

static const struct scheme *find_scheme(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strlen(schemes[i].name) == len && strncasecmp(schemes[i].name, s, len) == 0)
            return &schemes[i];
    }
    return NULL;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A host name or IPv4 address: letters, digits, '-', '.', '_'. */
static int valid_name(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
            return 0;
    }
    return 1;
}

/* The inside of [...]: hex digits, ':' and '.' (IPv4-mapped forms). */
static int valid_ipv6(const char *s, size_t len)
{
    if (len < 2 || len > 45)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
            return 0;
    }
    return 1;
}

/* Path and query: visible ASCII except '#', which ends them. */
static int valid_part(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F)
            return 0;
    }
    return 1;
}

static int parse_port(const char *s, size_t len, int *port)
{
    int n = 0;
    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    if (n < 1 || n > 65535)
        return -1;
    *port = n;
    return 0;
}

/* Splits the authority into host and port. */
static int parse_authority(const char *a, size_t len, const char **host, size_t *host_len,
                           int *port)
{
    const char *colon;
    if (memchr(a, '@', len) != NULL)
        return -1; /* user information is not supported */
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (close == NULL)
            return -1;
        *host = a + 1;
        *host_len = (size_t)(close - a - 1);
        if (!valid_ipv6(*host, *host_len))
            return -1;
        colon = close + 1 < a + len ? close + 1 : NULL;
        if (colon != NULL && *colon != ':')
            return -1;
    } else {
        colon = memchr(a, ':', len);
        *host = a;
        *host_len = colon != NULL ? (size_t)(colon - a) : len;
        if (!valid_name(*host, *host_len))
            return -1;
    }
    if (colon == NULL)
        return 0;
    return parse_port(colon + 1, (size_t)(a + len - colon - 1), port);
}

static char *build_host_header(const struct sioc_url *u, int default_port)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int v6 = strchr(u->host, ':') != NULL;
    buf_printf(&b, v6 ? "[%s]" : "%s", u->host);
    if (u->port != default_port)
        buf_printf(&b, ":%d", u->port);
    return buf_detach(&b, NULL);
}

static char *build_target(const char *path, size_t path_len, const char *query, size_t query_len)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    if (path_len <= 1)
        buf_append_str(&b, SIOC_DEFAULT_PATH);
    else
        buf_append(&b, path, path_len);
    buf_append_str(&b, "?EIO=4&transport=websocket");
    if (query_len > 0) {
        buf_append_char(&b, '&');
        buf_append(&b, query, query_len);
    }
    return buf_detach(&b, NULL);
}

int sioc_url_parse(const char *url, struct sioc_url *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = url != NULL ? strnlen(url, SIOC_URL_MAX + 1) : 0;
    const char *sep = len > 0 && len <= SIOC_URL_MAX ? strstr(url, "://") : NULL;
    if (sep == NULL)
        return SIOC_ERR_BAD_URL;
    const struct scheme *sc = find_scheme(url, (size_t)(sep - url));
    if (sc == NULL)
        return SIOC_ERR_BAD_URL;
    const char *auth = sep + 3;
    const char *end = url + len;
    const char *hash = memchr(auth, '#', (size_t)(end - auth));
    if (hash != NULL)
        end = hash; /* a fragment is never sent */
    size_t auth_len = strcspn(auth, "/?#");
    if (auth + auth_len > end)
        auth_len = (size_t)(end - auth);
    const char *path = auth + auth_len;
    const char *q = memchr(path, '?', (size_t)(end - path));
    size_t path_len = (size_t)((q != NULL ? q : end) - path);
    const char *query = q != NULL ? q + 1 : end;
    size_t query_len = (size_t)(end - query);
    const char *host;
    size_t host_len;
    int port = sc->port;
    if (parse_authority(auth, auth_len, &host, &host_len, &port) != 0 ||
        !valid_part(path, path_len) || !valid_part(query, query_len))
        return SIOC_ERR_BAD_URL;
    out->tls = sc->tls;
    out->port = port;
    out->host = xmemdup0(host, host_len);
    out->host_header = build_host_header(out, sc->port);
    out->target = build_target(path, path_len, query, query_len);
    return 0;
}

void sioc_url_release(struct sioc_url *u)
{
    free(u->host);
    free(u->host_header);
    free(u->target);
    memset(u, 0, sizeof(*u));
}
