/* Standard base64 (RFC 4648 §4, with padding): Engine.IO binary packets over polling and the
 * WebSocket accept key. Pure functions. */
#ifndef CORE_BASE64_H
#define CORE_BASE64_H

#include <stddef.h>

#include "core/buf.h"

/* Bytes needed to encode len input bytes (without a NUL). */
size_t base64_encoded_len(size_t len);
/* Appends the encoding of src to out; returns 0 or -1 when out's cap is reached. */
int base64_encode(struct buf *out, const void *src, size_t len);
/* Appends the decoding of src to out. Returns 0, or -1 on invalid input (bad characters,
 * bad length, misplaced padding) or when out's cap is reached. */
int base64_decode(struct buf *out, const char *src, size_t len);

#endif
