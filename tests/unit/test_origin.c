/* Unit tests for net/origin: parsing and validating --allowed-origins, and the decision on a
 * request's Origin (absent, same origin over http or https, listed, "*", null, foreign). */
#include <string.h>

#include "net/origin.h"
#include "test.h"

static struct origin_list parse_ok(const char *text)
{
    struct origin_list l;
    char bad[160] = "";
    int rc = origin_list_parse(&l, text, bad, sizeof(bad));
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "parse of \"%s\" failed: %s", text, bad);
    return l;
}

static void expect_bad(const char *text, const char *named)
{
    struct origin_list l;
    char bad[160] = "";
    if (origin_list_parse(&l, text, bad, sizeof(bad)) == 0)
        test_fail(__FILE__, __LINE__, "parse of \"%s\" succeeded", text);
    if (strstr(bad, named) == NULL)
        test_fail(__FILE__, __LINE__, "error \"%s\" does not name \"%s\"", bad, named);
}

TEST(origin_parse_empty_is_same_origin_only)
{
    struct origin_list l = parse_ok("");
    ASSERT_EQ(l.count, 0);
    ASSERT_FALSE(l.any);
    l = parse_ok(" , ,");
    ASSERT_EQ(l.count, 0);
}

TEST(origin_parse_list_lowercases_trims_and_drops_trailing_slash)
{
    struct origin_list l =
        parse_ok(" HTTPS://CrowdAI.org , http://localhost:3000/,http://[::1]:8080");
    ASSERT_EQ(l.count, 3);
    ASSERT_FALSE(l.any);
    ASSERT_STR_EQ(l.text, "https://crowdai.org");
    ASSERT_STR_EQ(l.text + strlen("https://crowdai.org") + 1, "http://localhost:3000");
}

TEST(origin_parse_star)
{
    struct origin_list l = parse_ok("*");
    ASSERT_TRUE(l.any);
    ASSERT_EQ(l.count, 0);
}

TEST(origin_parse_refuses_malformed_entries_by_name)
{
    expect_bad("https://ok.example,crowdai.org", "\"crowdai.org\"");
    expect_bad("http://", "\"http://\"");
    expect_bad("http://a.example:0", "\"http://a.example:0\"");
    expect_bad("http://a.example:65536", "65536");
    expect_bad("http://a.example/path", "\"http://a.example/path\"");
    expect_bad("http://a.example:80x", "80x");
    expect_bad("null", "\"null\"");
    expect_bad("http://a b", "\"http://a b\"");
    expect_bad("1http://a", "1http");
    expect_bad("http://[zz]", "[zz]");
}

TEST(origin_parse_refuses_a_list_too_long)
{
    char text[2 * ORIGIN_LIST_BYTES];
    size_t n = 0;
    while (n + 32 < sizeof(text)) {
        memcpy(text + n, "http://a-long-name.example:8080,", 32);
        n += 32;
    }
    text[n] = '\0';
    expect_bad(text, "longer");
}

TEST(origin_well_formed_cases)
{
    ASSERT_TRUE(origin_well_formed("http://a", 8));
    ASSERT_TRUE(origin_well_formed("https://a.example:443", 21));
    ASSERT_TRUE(origin_well_formed("app+x.y-z://host", 16));
    ASSERT_FALSE(origin_well_formed("", 0));
    ASSERT_FALSE(origin_well_formed("http:/a", 7));
    ASSERT_FALSE(origin_well_formed("http://a:", 9));
    ASSERT_FALSE(origin_well_formed("http://a\r\nX: y", 14));
}

TEST(origin_decide_absent_is_allowed)
{
    struct origin_list l = parse_ok("");
    ASSERT_EQ(origin_decide(&l, NULL, "127.0.0.1:8080"), ORIGIN_ABSENT);
    ASSERT_EQ(origin_decide(&l, NULL, NULL), ORIGIN_ABSENT);
}

TEST(origin_decide_same_origin)
{
    struct origin_list l = parse_ok("");
    ASSERT_EQ(origin_decide(&l, "http://127.0.0.1:8080", "127.0.0.1:8080"), ORIGIN_SAME);
    ASSERT_EQ(origin_decide(&l, "HTTP://Broker.Example:8080", "broker.example:8080"), ORIGIN_SAME);
    ASSERT_EQ(origin_decide(&l, "https://broker.example", "broker.example"), ORIGIN_SAME);
    /* Default ports may be left out on either side. */
    ASSERT_EQ(origin_decide(&l, "https://broker.example", "broker.example:443"), ORIGIN_SAME);
    ASSERT_EQ(origin_decide(&l, "http://broker.example:80", "broker.example"), ORIGIN_SAME);
    ASSERT_EQ(origin_decide(&l, "http://broker.example:81", "broker.example"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "http://127.0.0.1:8081", "127.0.0.1:8080"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "http://127.0.0.1", "127.0.0.1:8080"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "ftp://127.0.0.1:8080", "127.0.0.1:8080"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "http://127.0.0.1:8080", NULL), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "http://", ""), ORIGIN_REFUSED);
}

TEST(origin_decide_listed_and_foreign)
{
    struct origin_list l = parse_ok("https://crowdai.org,http://a.example:8080");
    ASSERT_EQ(origin_decide(&l, "https://crowdai.org", "127.0.0.1:1"), ORIGIN_LISTED);
    ASSERT_EQ(origin_decide(&l, "HTTPS://CROWDAI.ORG", "127.0.0.1:1"), ORIGIN_LISTED);
    ASSERT_EQ(origin_decide(&l, "http://a.example:8080", "127.0.0.1:1"), ORIGIN_LISTED);
    ASSERT_EQ(origin_decide(&l, "http://a.example", "127.0.0.1:1"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "https://crowdai.org.evil.example", "x"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "https://crowdai.org/", "x"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&l, "http://b.example:8080", "x"), ORIGIN_REFUSED);
}

TEST(origin_decide_null_is_refused_even_with_star)
{
    struct origin_list none = parse_ok("");
    struct origin_list any = parse_ok("*");
    ASSERT_EQ(origin_decide(&none, "null", "127.0.0.1:1"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&any, "null", "127.0.0.1:1"), ORIGIN_REFUSED);
    ASSERT_EQ(origin_decide(&any, "", "127.0.0.1:1"), ORIGIN_REFUSED);
}

TEST(origin_decide_star_allows_any_well_formed_origin)
{
    struct origin_list l = parse_ok("*");
    ASSERT_EQ(origin_decide(&l, "https://anything.example", "127.0.0.1:1"), ORIGIN_LISTED);
    ASSERT_EQ(origin_decide(&l, "http://127.0.0.1:1", "127.0.0.1:1"), ORIGIN_SAME);
    ASSERT_EQ(origin_decide(&l, "not an origin", "127.0.0.1:1"), ORIGIN_REFUSED);
}
