/* The little JSON the client has to read or write itself: quoting an event name, finding a
 * member of an object ("sid", "pingInterval", "message"...), decoding a string and an
 * unsigned integer. The input is always text that json_check() has accepted; every scan is
 * still bounded by its length. Pure functions. */
#ifndef CLIENT_SIOC_JSON_H
#define CLIENT_SIOC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends s[0..len) (UTF-8) as a JSON string literal, quotes included. Returns 0 or -1 when
 * out's cap is reached. */
int sioc_json_quote(struct buf *out, const char *s, size_t len);
/* Finds the member `key` of the top-level object in obj[0..len): sets *val and *val_len to
 * its raw JSON value. Returns 0, or -1 if obj is not an object or has no such member. */
int sioc_json_member(const char *obj, size_t len, const char *key, const char **val,
                     size_t *val_len);
/* Decodes the JSON string literal val[0..len) (quotes included) into UTF-8 appended to out
 * (escapes resolved, lone surrogates as U+FFFD). Returns 0, or -1 if val is not a string or
 * out's cap is reached. */
int sioc_json_string(const char *val, size_t len, struct buf *out);
/* Parses val[0..len) as an integer in 0..max (digits only). Returns 0 or -1. */
int sioc_json_uint(const char *val, size_t len, uint64_t max, uint64_t *out);

#endif
