/* A hash map from string keys to borrowed pointers (FNV-1a, chained buckets). */
#include "core/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

static uint64_t hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

void strmap_init(struct strmap *m)
{
    m->nbuckets = 16;
    m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
    m->count = 0;
}

void strmap_release(struct strmap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct strmap_entry *e = m->buckets[i];
        while (e != NULL) {
            struct strmap_entry *next = e->next;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

static struct strmap_entry **find(const struct strmap *m, const char *key)
{
    struct strmap_entry **slot = &m->buckets[hash(key) & (m->nbuckets - 1)];
    while (*slot != NULL && strcmp((*slot)->key, key) != 0)
        slot = &(*slot)->next;
    return slot;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_entry *e = *find(m, key);
    return e != NULL ? e->value : NULL;
}

static void grow(struct strmap *m)
{
    size_t n = m->nbuckets * 2;
    struct strmap_entry **b = xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct strmap_entry *e = m->buckets[i];
        while (e != NULL) {
            struct strmap_entry *next = e->next;
            size_t k = hash(e->key) & (n - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void strmap_put(struct strmap *m, const char *key, void *value)
{
    struct strmap_entry **slot = find(m, key);
    if (*slot != NULL) {
        (*slot)->value = value;
        return;
    }
    struct strmap_entry *e = xmalloc(sizeof(*e));
    e->key = xstrdup(key);
    e->value = value;
    e->next = NULL;
    *slot = e;
    if (++m->count > m->nbuckets)
        grow(m);
}

void *strmap_remove(struct strmap *m, const char *key)
{
    struct strmap_entry **slot = find(m, key);
    struct strmap_entry *e = *slot;
    if (e == NULL)
        return NULL;
    void *value = e->value;
    *slot = e->next;
    free(e->key);
    free(e);
    m->count--;
    return value;
}

void strmap_each(const struct strmap *m, void (*fn)(const char *key, void *value, void *ud),
                 void *ud)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (struct strmap_entry *e = m->buckets[i]; e != NULL; e = e->next)
            fn(e->key, e->value, ud);
    }
}
