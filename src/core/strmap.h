/* A hash map from NUL-terminated string keys (copied) to borrowed pointers: Engine.IO
 * sessions by sid, Socket.IO rooms by name. Not thread-safe. */
#ifndef CORE_STRMAP_H
#define CORE_STRMAP_H

#include <stddef.h>

struct strmap_entry {
    char *key;
    void *value;
    struct strmap_entry *next;
};

struct strmap {
    struct strmap_entry **buckets;
    size_t nbuckets;
    size_t count;
};

void strmap_init(struct strmap *m);
/* Frees the entries and keys, not the values. */
void strmap_release(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Sets key to value, replacing any previous value. */
void strmap_put(struct strmap *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *strmap_remove(struct strmap *m, const char *key);
/* Calls fn for every entry; fn must not modify the map. */
void strmap_each(const struct strmap *m, void (*fn)(const char *key, void *value, void *ud),
                 void *ud);

#endif
