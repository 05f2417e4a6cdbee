/* Unit tests for core/utf8: strict validation and UTF-16 unit counting. */
#include <string.h>

#include "core/utf8.h"
#include "test.h"

#define VALID(lit)   ASSERT_EQ(utf8_valid(lit, sizeof(lit) - 1), 1)
#define INVALID(lit) ASSERT_EQ(utf8_valid(lit, sizeof(lit) - 1), 0)

TEST(utf8_valid_ascii_and_empty)
{
    VALID("");
    VALID("hello");
    VALID("\0nul inside");
    VALID("\x7f");
}

TEST(utf8_valid_boundaries)
{
    VALID("\xc2\x80");         /* U+0080 */
    VALID("\xc3\xa9");         /* U+00E9 */
    VALID("\xdf\xbf");         /* U+07FF */
    VALID("\xe0\xa0\x80");     /* U+0800 */
    VALID("\xe2\x82\xac");     /* U+20AC euro */
    VALID("\xed\x9f\xbf");     /* U+D7FF, just below the surrogates */
    VALID("\xee\x80\x80");     /* U+E000, just above */
    VALID("\xef\xbf\xbf");     /* U+FFFF */
    VALID("\xf0\x90\x80\x80"); /* U+10000 */
    VALID("\xf0\x9f\x98\x80"); /* U+1F600 emoji */
    VALID("\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    VALID("a\xe2\x82\xac"
          "b\xf0\x9f\x98\x80"
          "c");
}

TEST(utf8_rejects_overlongs)
{
    INVALID("\xc0\x80");
    INVALID("\xc1\xbf");
    INVALID("\xe0\x80\x80");
    INVALID("\xe0\x9f\xbf");
    INVALID("\xf0\x80\x80\x80");
    INVALID("\xf0\x8f\xbf\xbf");
}

TEST(utf8_rejects_surrogates)
{
    INVALID("\xed\xa0\x80"); /* U+D800 */
    INVALID("\xed\xbf\xbf"); /* U+DFFF */
    INVALID("\xed\xa0\xbd\xed\xb8\x80");
}

TEST(utf8_rejects_above_max)
{
    INVALID("\xf4\x90\x80\x80"); /* U+110000 */
    INVALID("\xf5\x80\x80\x80");
    INVALID("\xf7\xbf\xbf\xbf");
    INVALID("\xf8\x88\x80\x80\x80");
    INVALID("\xfe");
    INVALID("\xff");
}

TEST(utf8_rejects_bad_continuations)
{
    INVALID("\x80");
    INVALID("a\xbf");
    INVALID("\xe2\x28\xa1");
    INVALID("\xe2\x82\x28");
    INVALID("\xf0\x9f\x98\x28");
    INVALID("\xc3\xc3");
}

TEST(utf8_rejects_truncated)
{
    INVALID("\xc3");
    INVALID("\xe2\x82");
    INVALID("\xf0\x9f\x98");
    INVALID("abc\xf0");
    /* A valid sequence cut by the length argument. */
    ASSERT_EQ(utf8_valid("\xe2\x82\xac", 2), 0);
    ASSERT_EQ(utf8_valid("\xe2\x82\xac", 3), 1);
}

TEST(utf8_utf16_len_counts_units)
{
    ASSERT_EQ(utf8_utf16_len("", 0), 0);
    ASSERT_EQ(utf8_utf16_len("abc", 3), 3);
    ASSERT_EQ(utf8_utf16_len("\xc3\xa9", 2), 1);
    ASSERT_EQ(utf8_utf16_len("\xe2\x82\xac", 3), 1);
    ASSERT_EQ(utf8_utf16_len("\xf0\x9f\x98\x80", 4), 2);
    ASSERT_EQ(utf8_utf16_len("4\xe2\x82\xac", 4), 2);
    ASSERT_EQ(utf8_utf16_len("a\xe2\x82\xac\xf0\x9f\x98\x80z", 9), 5);
}

TEST(utf8_prefix_for_utf16)
{
    /* "a€😀b": 1 + 3 + 4 + 1 bytes; 1 + 1 + 2 + 1 units. */
    const char *s = "a\xe2\x82\xac\xf0\x9f\x98\x80"
                    "b";
    size_t len = strlen(s);
    ASSERT_EQ(utf8_prefix_for_utf16(s, len, 0), 0);
    ASSERT_EQ(utf8_prefix_for_utf16(s, len, 1), 1);
    ASSERT_EQ(utf8_prefix_for_utf16(s, len, 2), 4);
    ASSERT_EQ(utf8_prefix_for_utf16(s, len, 3), (size_t)-1); /* would split the surrogate pair */
    ASSERT_EQ(utf8_prefix_for_utf16(s, len, 4), 8);
    ASSERT_EQ(utf8_prefix_for_utf16(s, len, 5), 9);
    ASSERT_EQ(utf8_prefix_for_utf16(s, len, 6), (size_t)-1); /* text too short */
    ASSERT_EQ(utf8_prefix_for_utf16(s, 3, 2), (size_t)-1);   /* euro cut by len */
}

TEST(utf8_prefix_for_utf16_rejects_invalid)
{
    ASSERT_EQ(utf8_prefix_for_utf16("\xc0\x80xx", 4, 1), (size_t)-1);
    ASSERT_EQ(utf8_prefix_for_utf16("a\xed\xa0\x80", 4, 2), (size_t)-1);
    ASSERT_EQ(utf8_prefix_for_utf16("a\xff", 2, 2), (size_t)-1);
    /* Invalid bytes after the prefix do not matter. */
    ASSERT_EQ(utf8_prefix_for_utf16("ab\xff", 3, 2), 2);
}
