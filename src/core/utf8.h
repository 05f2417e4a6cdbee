/* Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF)
 * and UTF-16 length counting for Engine.IO v3's length-prefixed payloads. Pure functions. */
#ifndef CORE_UTF8_H
#define CORE_UTF8_H

#include <stddef.h>

/* Returns 1 if s[0..len) is valid UTF-8, else 0. */
int utf8_valid(const char *s, size_t len);
/* Number of UTF-16 code units of the valid UTF-8 text s[0..len). */
size_t utf8_utf16_len(const char *s, size_t len);
/* Byte length of the longest prefix of valid UTF-8 s[0..len) that holds `units` UTF-16 code
 * units; returns (size_t)-1 if the text is shorter or a code point would be split. */
size_t utf8_prefix_for_utf16(const char *s, size_t len, size_t units);

#endif
