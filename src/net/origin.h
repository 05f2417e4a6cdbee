/* Which browser origins may use the Engine.IO endpoint: the --allowed-origins list, parsed
 * once at start, and the decision for one request (no Origin, the request's own origin, a
 * listed origin, or refused). Pure code, no allocation. */
#ifndef NET_ORIGIN_H
#define NET_ORIGIN_H

#include <stddef.h>

/* Bytes for the whole list, lower-cased entries with their NUL terminators. */
#define ORIGIN_LIST_BYTES 1024

struct origin_list {
    int any;      /* "*": every well-formed origin */
    size_t count; /* entries in text */
    size_t used;  /* bytes of text in use */
    char text[ORIGIN_LIST_BYTES];
};

enum origin_verdict {
    ORIGIN_ABSENT,  /* no Origin header: not a browser, allowed */
    ORIGIN_SAME,    /* the request's own origin: allowed */
    ORIGIN_LISTED,  /* cross-origin and allowed by the list: answer with CORS headers */
    ORIGIN_REFUSED, /* anything else, "null" included */
};

/* Parses a comma-separated list of scheme://host[:port] origins, or "*", or "" (none: same
 * origin only). Entries are lower-cased; spaces around them, empty entries and one trailing
 * slash are dropped. Returns 0, or -1 with the offending entry (or a reason) in bad. */
int origin_list_parse(struct origin_list *l, const char *text, char *bad, size_t bad_len);
/* Whether text[0..len) looks like scheme://host[:port]. */
int origin_well_formed(const char *text, size_t len);
/* Decides on a request's Origin header (NULL when absent) given its Host header (NULL when
 * absent). */
enum origin_verdict origin_decide(const struct origin_list *l, const char *origin,
                                  const char *host);

#endif
