/* An intrusive doubly linked list (the links live inside the listed objects), recovered with
 * container_of: no allocation per element. */
#ifndef CORE_LIST_H
#define CORE_LIST_H

#include <stddef.h>

struct list {
    struct list *prev, *next;
};

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void list_init(struct list *head)
{
    head->prev = head->next = head;
}

static inline int list_empty(const struct list *head)
{
    return head->next == head;
}

/* A node that is not in any list points at itself (after list_init or list_remove). */
static inline int list_linked(const struct list *node)
{
    return node->next != node && node->next != NULL;
}

static inline void list_insert_tail(struct list *head, struct list *node)
{
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
}

static inline void list_remove(struct list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = node;
}

#define list_for_each_safe(pos, tmp, head)                                                         \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                               \
         (pos) = (tmp), (tmp) = (pos)->next)

#endif
