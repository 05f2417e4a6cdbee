/* Allocation wrappers that abort on out-of-memory: the broker has nothing sensible to do
 * without memory, so callers never see NULL from these. */
#ifndef CORE_XALLOC_H
#define CORE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* Copies len bytes of s and adds a terminating NUL. */
char *xmemdup0(const void *s, size_t len);

#endif
