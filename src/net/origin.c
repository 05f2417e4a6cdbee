/* Allowed browser origins for the Engine.IO endpoint; see origin.h. */
#include "net/origin.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int scheme_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

static int host_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

static int ipv6_char(char c)
{
    return isxdigit((unsigned char)c) || c == ':' || c == '.';
}

/* Length of the host at s[0..len): a name, or an IPv6 address in brackets; 0 if neither. */
static size_t host_length(const char *s, size_t len)
{
    size_t i = 0;
    if (len > 0 && s[0] == '[') {
        for (i = 1; i < len && ipv6_char(s[i]); i++)
            ;
        return i > 1 && i < len && s[i] == ']' ? i + 1 : 0;
    }
    while (i < len && host_char(s[i]))
        i++;
    return i;
}

/* Whether s[0..len) is a port from 1 to 65535. */
static int port_valid(const char *s, size_t len)
{
    unsigned long v = 0;
    if (len == 0 || len > 5)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

int origin_well_formed(const char *text, size_t len)
{
    size_t i = 0;
    if (len == 0 || !isalpha((unsigned char)text[0]))
        return 0;
    while (i < len && scheme_char(text[i]))
        i++;
    if (len - i < 3 || memcmp(text + i, "://", 3) != 0)
        return 0;
    i += 3;
    size_t host = host_length(text + i, len - i);
    if (host == 0)
        return 0;
    i += host;
    if (i == len)
        return 1;
    return text[i] == ':' && port_valid(text + i + 1, len - i - 1);
}

/* Adds one trimmed, non-empty entry. Returns 0, or -1 with the entry or reason in bad. */
static int add_entry(struct origin_list *l, const char *s, size_t len, char *bad, size_t bad_len)
{
    size_t keep = len;
    if (len == 1 && s[0] == '*') {
        l->any = 1;
        return 0;
    }
    if (keep > 1 && s[keep - 1] == '/')
        keep--;
    if (!origin_well_formed(s, keep)) {
        snprintf(bad, bad_len, "\"%.*s\" is not an origin like https://host[:port]", (int)len, s);
        return -1;
    }
    if (l->used + keep + 1 > sizeof(l->text)) {
        snprintf(bad, bad_len, "the list is longer than %d bytes", ORIGIN_LIST_BYTES);
        return -1;
    }
    for (size_t i = 0; i < keep; i++)
        l->text[l->used + i] = (char)tolower((unsigned char)s[i]);
    l->text[l->used + keep] = '\0';
    l->used += keep + 1;
    l->count++;
    return 0;
}

int origin_list_parse(struct origin_list *l, const char *text, char *bad, size_t bad_len)
{
    memset(l, 0, sizeof(*l));
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e > s && add_entry(l, s, (size_t)(e - s), bad, bad_len) != 0)
            return -1;
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

/* Whether a ends with ":port" (port given as text); the length without it, else alen. */
static size_t without_port(const char *a, size_t alen, const char *port)
{
    size_t plen = strlen(port);
    if (alen > plen + 1 && a[alen - plen - 1] == ':' && memcmp(a + alen - plen, port, plen) == 0)
        return alen - plen - 1;
    return alen;
}

/* Whether the authority after an origin's scheme names the same host and port as Host, the
 * scheme's default port being optional on either side. */
static int same_authority(const char *authority, const char *host, const char *default_port)
{
    size_t alen = without_port(authority, strlen(authority), default_port);
    size_t hlen = without_port(host, strlen(host), default_port);
    return alen > 0 && alen == hlen && strncasecmp(authority, host, alen) == 0;
}

static int same_origin(const char *origin, const char *host)
{
    if (host == NULL || host[0] == '\0')
        return 0;
    if (strncasecmp(origin, "http://", 7) == 0)
        return same_authority(origin + 7, host, "80");
    if (strncasecmp(origin, "https://", 8) == 0)
        return same_authority(origin + 8, host, "443");
    return 0;
}

static int listed(const struct origin_list *l, const char *origin)
{
    const char *entry = l->text;
    for (size_t i = 0; i < l->count; i++) {
        if (strcasecmp(origin, entry) == 0)
            return 1;
        entry += strlen(entry) + 1;
    }
    return 0;
}

enum origin_verdict origin_decide(const struct origin_list *l, const char *origin, const char *host)
{
    if (origin == NULL)
        return ORIGIN_ABSENT;
    if (same_origin(origin, host))
        return ORIGIN_SAME;
    if (listed(l, origin) || (l->any && origin_well_formed(origin, strlen(origin))))
        return ORIGIN_LISTED;
    return ORIGIN_REFUSED;
}
