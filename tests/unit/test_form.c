/* Unit tests for core/form: percent-decoding and form bodies, as Rails encodes them. */
#include <stdio.h>
#include <string.h>

#include "core/form.h"
#include "test.h"

TEST(form_decode_plus_percent_and_bad_escapes)
{
    char out[32];
    ASSERT_EQ(form_decode("a+b%20c%2Fd", 11, out, sizeof(out)), 7);
    ASSERT_STR_EQ(out, "a b c/d");
    ASSERT_EQ(form_decode("100%", 4, out, sizeof(out)), 4); /* kept as it is */
    ASSERT_STR_EQ(out, "100%");
    ASSERT_EQ(form_decode("%zz%4", 5, out, sizeof(out)), 5);
    ASSERT_STR_EQ(out, "%zz%4");
    ASSERT_EQ(form_decode("%5B%5d", 6, out, sizeof(out)), 2);
    ASSERT_STR_EQ(out, "[]");
    ASSERT_EQ(form_decode("abcd", 4, out, 4), -1); /* no room for the NUL */
    ASSERT_EQ(form_decode("", 0, out, 0), -1);
    ASSERT_EQ(form_decode("", 0, out, 1), 0);
}

struct pairs {
    char text[512];
    int stop_at; /* pair index that stops the walk, or -1 */
    int n;
};

static int collect(void *ud, const char *name, const char *value)
{
    struct pairs *p = ud;
    size_t len = strlen(p->text);
    snprintf(p->text + len, sizeof(p->text) - len, "%s=%s;", name, value);
    return p->n++ == p->stop_at ? 7 : 0;
}

TEST(form_parse_walks_pairs_in_order)
{
    static const char body[] = "api_key=abc&data%5B%5D%5Bfile_key%5D=k+1&data[][submission_id]=9"
                               "&&flag&empty=&data[][file_key]=k2";
    struct pairs p = {"", -1, 0};
    ASSERT_EQ(form_parse(body, strlen(body), 64, collect, &p), 0);
    ASSERT_STR_EQ(p.text, "api_key=abc;data[][file_key]=k 1;data[][submission_id]=9;flag=;empty=;"
                          "data[][file_key]=k2;");
    ASSERT_EQ(p.n, 6);
}

TEST(form_parse_stops_when_asked_and_on_long_fields)
{
    struct pairs p = {"", 1, 0};
    ASSERT_EQ(form_parse("a=1&b=2&c=3", 11, 64, collect, &p), 7);
    ASSERT_STR_EQ(p.text, "a=1;b=2;");
    struct pairs q = {"", -1, 0};
    ASSERT_EQ(form_parse("a=1&b=0123456789", 16, 8, collect, &q), -1);
    ASSERT_STR_EQ(q.text, "a=1;");
}
