/* A JSON syntax checker (RFC 8259) that never builds a tree: Socket.IO event arguments are
 * relayed as their original bytes, so they only need to be proven well-formed, bounded in
 * depth, and scanned for binary placeholders. Pure functions. */
#ifndef CORE_JSON_CHECK_H
#define CORE_JSON_CHECK_H

#include <stddef.h>

#define JSON_CHECK_MAX_DEPTH 64

struct json_info {
    char top;             /* first byte of the value: '[', '{', '"', 't', 'f', 'n', or '-'/digit */
    size_t elems;         /* for a top-level array: its number of elements */
    size_t first_start;   /* for a top-level array: offset of its first element */
    size_t first_end;     /* ... offset just past its first element */
    size_t rest_start;    /* ... offset of its second element, or of the closing ']' */
    size_t rest_end;      /* ... offset of the closing ']' */
    size_t placeholders;  /* objects with "_placeholder":true */
    long max_placeholder; /* largest placeholder "num" seen, -1 if none */
    int bad_placeholder;  /* a placeholder whose "num" is missing or not an integer >= 0 */
};

/* Checks that s[0..len) is exactly one JSON value, optionally surrounded by whitespace,
 * nested at most max_depth deep. Fills *info (may be NULL). Returns 0 or -1. */
int json_check(const char *s, size_t len, int max_depth, struct json_info *info);

#endif
