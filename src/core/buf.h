/* A growable byte buffer with a hard cap: every buffer that a peer can fill has one. */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;   /* NUL-terminated when len < cap; owned */
    size_t len;   /* bytes in use */
    size_t alloc; /* bytes allocated */
    size_t max;   /* cap on len; appends beyond it fail */
};

#define BUF_NO_CAP ((size_t)-1)

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Empties the buffer, keeping its allocation. */
void buf_reset(struct buf *b);
/* Appends len bytes; returns 0, or -1 (and appends nothing) if the cap would be exceeded. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Takes the data out: the caller owns the returned pointer; the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
