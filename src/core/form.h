/* application/x-www-form-urlencoded: percent-decoding, and the pairs of a form body in order.
 * Pure functions, no I/O. */
#ifndef CORE_FORM_H
#define CORE_FORM_H

#include <stddef.h>

/* Percent-decodes s[0..len) ('+' is a space) into out, NUL-terminated; returns the length,
 * or -1 if it does not fit in outlen. A '%' not followed by two hex digits stays as it is. */
int form_decode(const char *s, size_t len, char *out, size_t outlen);

/* Called once per name=value pair, both decoded; returns 0 to go on, anything else to stop
 * (form_parse then returns it). */
typedef int (*form_pair_fn)(void *ud, const char *name, const char *value);

/* Walks body's pairs in order; a name or value longer than max_len makes it return -1.
 * Returns 0 when every pair was visited. */
int form_parse(const char *body, size_t len, size_t max_len, form_pair_fn fn, void *ud);

#endif
