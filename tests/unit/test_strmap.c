/* Unit tests for core/strmap: put/get/remove, replacement, growth, iteration. */
#include <stdio.h>
#include <string.h>

#include "core/strmap.h"
#include "test.h"

TEST(strmap_empty)
{
    struct strmap m;
    strmap_init(&m);
    ASSERT_EQ(m.count, 0);
    ASSERT_TRUE(strmap_get(&m, "x") == NULL);
    ASSERT_TRUE(strmap_remove(&m, "x") == NULL);
    ASSERT_EQ(m.count, 0);
    strmap_release(&m);
}

TEST(strmap_put_get_remove)
{
    struct strmap m;
    int a = 1, b = 2;
    strmap_init(&m);
    strmap_put(&m, "alpha", &a);
    strmap_put(&m, "beta", &b);
    ASSERT_EQ(m.count, 2);
    ASSERT_TRUE(strmap_get(&m, "alpha") == &a);
    ASSERT_TRUE(strmap_get(&m, "beta") == &b);
    ASSERT_TRUE(strmap_get(&m, "gamma") == NULL);
    ASSERT_TRUE(strmap_get(&m, "alph") == NULL);
    ASSERT_TRUE(strmap_get(&m, "alphaa") == NULL);
    ASSERT_TRUE(strmap_remove(&m, "alpha") == &a);
    ASSERT_EQ(m.count, 1);
    ASSERT_TRUE(strmap_get(&m, "alpha") == NULL);
    ASSERT_TRUE(strmap_remove(&m, "alpha") == NULL);
    ASSERT_TRUE(strmap_get(&m, "beta") == &b);
    strmap_release(&m);
}

TEST(strmap_put_replaces)
{
    struct strmap m;
    int a = 1, b = 2;
    strmap_init(&m);
    strmap_put(&m, "k", &a);
    strmap_put(&m, "k", &b);
    ASSERT_EQ(m.count, 1);
    ASSERT_TRUE(strmap_get(&m, "k") == &b);
    strmap_release(&m);
}

TEST(strmap_keys_are_copied)
{
    struct strmap m;
    int a = 1;
    char key[16];
    strmap_init(&m);
    strcpy(key, "room-1");
    strmap_put(&m, key, &a);
    strcpy(key, "room-2");
    ASSERT_TRUE(strmap_get(&m, "room-1") == &a);
    ASSERT_TRUE(strmap_get(&m, "room-2") == NULL);
    strmap_release(&m);
}

TEST(strmap_empty_key_and_null_value)
{
    struct strmap m;
    int a = 1;
    strmap_init(&m);
    strmap_put(&m, "", &a);
    ASSERT_TRUE(strmap_get(&m, "") == &a);
    strmap_put(&m, "n", NULL);
    ASSERT_EQ(m.count, 2);
    ASSERT_TRUE(strmap_get(&m, "n") == NULL);
    ASSERT_TRUE(strmap_remove(&m, "n") == NULL);
    ASSERT_EQ(m.count, 1);
    strmap_release(&m);
}

static int values[5000];

TEST(strmap_many_keys_grow_and_shrink)
{
    struct strmap m;
    char key[32];
    strmap_init(&m);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "sid-%d", i);
        strmap_put(&m, key, &values[i]);
    }
    ASSERT_EQ(m.count, 5000);
    ASSERT_TRUE(m.nbuckets >= 5000 / 2);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "sid-%d", i);
        ASSERT_TRUE(strmap_get(&m, key) == &values[i]);
    }
    /* Remove every other key: the chains must stay intact around the removed entries. */
    for (int i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof(key), "sid-%d", i);
        ASSERT_TRUE(strmap_remove(&m, key) == &values[i]);
    }
    ASSERT_EQ(m.count, 2500);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "sid-%d", i);
        ASSERT_TRUE(strmap_get(&m, key) == (i % 2 ? &values[i] : NULL));
    }
    strmap_release(&m);
    ASSERT_EQ(m.count, 0);
}

struct each_state {
    int seen[100];
    int calls;
};

static void count_entry(const char *key, void *value, void *ud)
{
    struct each_state *st = ud;
    int idx = (int)((int *)value - values);
    int parsed = -1;
    sscanf(key, "k%d", &parsed);
    if (parsed == idx && idx >= 0 && idx < 100)
        st->seen[idx]++;
    st->calls++;
}

TEST(strmap_each_visits_every_entry_once)
{
    struct strmap m;
    struct each_state st;
    char key[16];
    memset(&st, 0, sizeof(st));
    strmap_init(&m);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        strmap_put(&m, key, &values[i]);
    }
    strmap_remove(&m, "k50");
    strmap_each(&m, count_entry, &st);
    ASSERT_EQ(st.calls, 99);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(st.seen[i], i == 50 ? 0 : 1);
    strmap_release(&m);
}

TEST(strmap_release_then_init_again)
{
    struct strmap m;
    int a = 1;
    strmap_init(&m);
    strmap_put(&m, "x", &a);
    strmap_release(&m);
    ASSERT_TRUE(m.buckets == NULL);
    strmap_init(&m);
    ASSERT_TRUE(strmap_get(&m, "x") == NULL);
    strmap_release(&m);
}
