/* Unit tests for core/buf: appends under a cap, printf, consume, detach. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "test.h"

TEST(buf_init_is_empty)
{
    struct buf b;
    buf_init(&b, 10);
    ASSERT_TRUE(b.data == NULL);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b.max, 10);
    buf_release(&b);
}

TEST(buf_append_keeps_bytes_and_nul)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    ASSERT_EQ(buf_append(&b, "abc", 3), 0);
    ASSERT_EQ(buf_append(&b, "\0de", 3), 0);
    ASSERT_MEM_EQ(b.data, b.len, "abc\0de", 6);
    ASSERT_EQ(b.data[b.len], '\0');
    buf_release(&b);
    ASSERT_TRUE(b.data == NULL);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b.max, BUF_NO_CAP);
}

TEST(buf_append_zero_bytes)
{
    struct buf b;
    buf_init(&b, 4);
    ASSERT_EQ(buf_append(&b, NULL, 0), 0);
    ASSERT_EQ(b.len, 0);
    ASSERT_TRUE(b.data != NULL);
    ASSERT_EQ(b.data[0], '\0');
    buf_release(&b);
}

TEST(buf_cap_exact_fits)
{
    struct buf b;
    buf_init(&b, 5);
    ASSERT_EQ(buf_append(&b, "12345", 5), 0);
    ASSERT_MEM_STR(b.data, b.len, "12345");
    ASSERT_EQ(b.data[5], '\0');
    buf_release(&b);
}

TEST(buf_cap_exceeded_appends_nothing)
{
    struct buf b;
    buf_init(&b, 5);
    ASSERT_EQ(buf_append(&b, "123", 3), 0);
    ASSERT_EQ(buf_append(&b, "456", 3), -1);
    ASSERT_MEM_STR(b.data, b.len, "123");
    ASSERT_EQ(buf_append_char(&b, '4'), 0);
    ASSERT_EQ(buf_append_char(&b, '5'), 0);
    ASSERT_EQ(buf_append_char(&b, '6'), -1);
    ASSERT_MEM_STR(b.data, b.len, "12345");
    buf_release(&b);
}

TEST(buf_cap_zero)
{
    struct buf b;
    buf_init(&b, 0);
    ASSERT_EQ(buf_append(&b, "x", 1), -1);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(buf_append(&b, "", 0), 0);
    buf_release(&b);
}

TEST(buf_huge_append_rejected)
{
    struct buf b;
    buf_init(&b, 100);
    ASSERT_EQ(buf_append(&b, "x", 1), 0);
    /* A length that would wrap len + extra must be refused, not allocated. */
    ASSERT_EQ(buf_append(&b, "x", (size_t)-1), -1);
    ASSERT_EQ(b.len, 1);
    buf_release(&b);
}

TEST(buf_grows_over_many_appends)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    for (int i = 0; i < 10000; i++)
        ASSERT_EQ(buf_append_char(&b, (char)('a' + i % 26)), 0);
    ASSERT_EQ(b.len, 10000);
    ASSERT_TRUE(b.alloc > b.len);
    for (int i = 0; i < 10000; i++)
        ASSERT_EQ(b.data[i], 'a' + i % 26);
    ASSERT_EQ(b.data[10000], '\0');
    buf_release(&b);
}

TEST(buf_append_str)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    ASSERT_EQ(buf_append_str(&b, "hello "), 0);
    ASSERT_EQ(buf_append_str(&b, ""), 0);
    ASSERT_EQ(buf_append_str(&b, "world"), 0);
    ASSERT_STR_EQ(b.data, "hello world");
    ASSERT_EQ(b.len, 11);
    buf_release(&b);
}

TEST(buf_printf_short_and_long)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    ASSERT_EQ(buf_printf(&b, "%d:%s", 42, "x"), 0);
    ASSERT_STR_EQ(b.data, "42:x");
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_EQ(buf_printf(&b, "[%s]", big), 0);
    ASSERT_EQ(b.len, 4 + 2 + 999);
    ASSERT_EQ(b.data[4], '[');
    ASSERT_EQ(b.data[5], 'q');
    ASSERT_EQ(b.data[1003], 'q');
    ASSERT_EQ(b.data[1004], ']');
    ASSERT_EQ(b.data[1005], '\0');
    buf_release(&b);
}

TEST(buf_printf_respects_cap)
{
    struct buf b;
    buf_init(&b, 6);
    ASSERT_EQ(buf_printf(&b, "%s", "abc"), 0);
    ASSERT_EQ(buf_printf(&b, "%s", "defg"), -1);
    ASSERT_STR_EQ(b.data, "abc");
    char big[400];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_EQ(buf_printf(&b, "%s", big), -1);
    ASSERT_STR_EQ(b.data, "abc");
    ASSERT_EQ(buf_printf(&b, "%d", 123), 0);
    ASSERT_STR_EQ(b.data, "abc123");
    buf_release(&b);
}

TEST(buf_consume)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append_str(&b, "abcdef");
    buf_consume(&b, 2);
    ASSERT_STR_EQ(b.data, "cdef");
    ASSERT_EQ(b.len, 4);
    buf_consume(&b, 0);
    ASSERT_STR_EQ(b.data, "cdef");
    buf_consume(&b, 4);
    ASSERT_EQ(b.len, 0);
    ASSERT_STR_EQ(b.data, "");
    buf_append_str(&b, "xy");
    buf_consume(&b, 100);
    ASSERT_EQ(b.len, 0);
    buf_release(&b);
}

TEST(buf_consume_empty_unallocated)
{
    struct buf b;
    buf_init(&b, 8);
    buf_consume(&b, 3);
    ASSERT_EQ(b.len, 0);
    buf_reset(&b);
    ASSERT_EQ(b.len, 0);
    buf_release(&b);
}

TEST(buf_reset_keeps_allocation)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append_str(&b, "hello");
    char *data = b.data;
    size_t alloc = b.alloc;
    buf_reset(&b);
    ASSERT_EQ(b.len, 0);
    ASSERT_TRUE(b.data == data);
    ASSERT_EQ(b.alloc, alloc);
    ASSERT_STR_EQ(b.data, "");
    buf_release(&b);
}

TEST(buf_detach)
{
    struct buf b;
    buf_init(&b, 50);
    buf_append_str(&b, "owned");
    size_t len = 0;
    char *p = buf_detach(&b, &len);
    ASSERT_EQ(len, 5);
    ASSERT_STR_EQ(p, "owned");
    ASSERT_TRUE(b.data == NULL);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b.max, 50);
    free(p);
    /* The buffer is usable again after a detach. */
    ASSERT_EQ(buf_append_str(&b, "again"), 0);
    ASSERT_STR_EQ(b.data, "again");
    buf_release(&b);
}

TEST(buf_detach_empty_gives_empty_string)
{
    struct buf b;
    buf_init(&b, 50);
    size_t len = 99;
    char *p = buf_detach(&b, &len);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(len, 0);
    ASSERT_STR_EQ(p, "");
    free(p);
    p = buf_detach(&b, NULL);
    ASSERT_TRUE(p != NULL);
    free(p);
}
