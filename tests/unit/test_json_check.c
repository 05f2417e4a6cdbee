/* Unit tests for core/json_check: RFC 8259 syntax, depth limits, top-level array offsets and
 * binary placeholder detection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_check.h"
#include "test.h"

static int check(const char *s)
{
    return json_check(s, strlen(s), JSON_CHECK_MAX_DEPTH, NULL);
}

static int check_info(const char *s, struct json_info *info)
{
    return json_check(s, strlen(s), JSON_CHECK_MAX_DEPTH, info);
}

/* n nested arrays around `inner` ("" for the innermost to be empty). */
static char *nested_arrays(size_t n, const char *inner)
{
    size_t ilen = strlen(inner);
    char *s = malloc(2 * n + ilen + 1);
    memset(s, '[', n);
    memcpy(s + n, inner, ilen);
    memset(s + n + ilen, ']', n);
    s[2 * n + ilen] = '\0';
    return s;
}

TEST(json_scalars)
{
    ASSERT_EQ(check("true"), 0);
    ASSERT_EQ(check("false"), 0);
    ASSERT_EQ(check("null"), 0);
    ASSERT_EQ(check("0"), 0);
    ASSERT_EQ(check("-0"), 0);
    ASSERT_EQ(check("123"), 0);
    ASSERT_EQ(check("-1.5e10"), 0);
    ASSERT_EQ(check("1E+2"), 0);
    ASSERT_EQ(check("1e-2"), 0);
    ASSERT_EQ(check("0.25"), 0);
    ASSERT_EQ(check("1e999999"), 0); /* syntactically fine; the range is the caller's business */
    ASSERT_EQ(check("\"\""), 0);
    ASSERT_EQ(check("\"hello\""), 0);
    ASSERT_EQ(check(" \t\r\n 42 \n"), 0);
}

TEST(json_containers)
{
    ASSERT_EQ(check("[]"), 0);
    ASSERT_EQ(check("{}"), 0);
    ASSERT_EQ(check("[ ]"), 0);
    ASSERT_EQ(check("{ }"), 0);
    ASSERT_EQ(check("[1,\"2\",{\"3\":[false]}]"), 0);
    ASSERT_EQ(check("{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}"), 0);
    ASSERT_EQ(check(" [ 1 , 2 ] "), 0);
    ASSERT_EQ(check("{ \"a\" : 1 , \"b\" : 2 }"), 0);
    ASSERT_EQ(check("{\"a\":1,\"a\":2}"), 0); /* duplicate keys are syntax-valid */
}

TEST(json_string_escapes)
{
    ASSERT_EQ(check("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), 0);
    ASSERT_EQ(check("\"\\u00e9\\u20AC\""), 0);
    ASSERT_EQ(check("\"\\ud83d\\ude00\""), 0);
    ASSERT_EQ(check("\"\\u0000\""), 0);
    ASSERT_EQ(check("\"raw \xe2\x82\xac ok\""), 0);
}

TEST(json_lone_surrogate_escapes_accepted)
{
    ASSERT_EQ(check("\"\\ud800\""), 0);
    ASSERT_EQ(check("\"\\udfff\""), 0);
    ASSERT_EQ(check("[\"\\ud800x\"]"), 0);
}

TEST(json_bad_strings)
{
    ASSERT_EQ(check("\"unterminated"), -1);
    ASSERT_EQ(check("\"bad \\x escape\""), -1);
    ASSERT_EQ(check("\"\\u12G4\""), -1);
    ASSERT_EQ(check("\"\\u12\""), -1);
    ASSERT_EQ(check("\"\\u"), -1);
    ASSERT_EQ(check("\"\\"), -1);
    ASSERT_EQ(check("\"a\x01"
                    "b\""),
              -1);
    ASSERT_EQ(check("\"tab\there\""), -1);
    ASSERT_EQ(check("\"new\nline\""), -1);
    ASSERT_EQ(check("'single'"), -1);
    ASSERT_EQ(json_check("\"a\\\0\"", 5, JSON_CHECK_MAX_DEPTH, NULL), -1);
    ASSERT_EQ(json_check("\"a\0\"", 4, JSON_CHECK_MAX_DEPTH, NULL), -1);
}

TEST(json_bad_numbers)
{
    ASSERT_EQ(check("-"), -1);
    ASSERT_EQ(check("+1"), -1);
    ASSERT_EQ(check("01"), -1);
    ASSERT_EQ(check("[01]"), -1);
    ASSERT_EQ(check("1."), -1);
    ASSERT_EQ(check(".5"), -1);
    ASSERT_EQ(check("1e"), -1);
    ASSERT_EQ(check("1e+"), -1);
    ASSERT_EQ(check("-a"), -1);
    ASSERT_EQ(check("0x10"), -1);
    ASSERT_EQ(check("1.5.5"), -1);
}

TEST(json_nan_and_infinity_rejected)
{
    ASSERT_EQ(check("NaN"), -1);
    ASSERT_EQ(check("[NaN]"), -1);
    ASSERT_EQ(check("Infinity"), -1);
    ASSERT_EQ(check("-Infinity"), -1);
    ASSERT_EQ(check("{\"a\":NaN}"), -1);
}

TEST(json_bad_literals)
{
    ASSERT_EQ(check("tru"), -1);
    ASSERT_EQ(check("True"), -1);
    ASSERT_EQ(check("nul"), -1);
    ASSERT_EQ(check("nulll"), -1);
    ASSERT_EQ(check("undefined"), -1);
}

TEST(json_bad_structure)
{
    ASSERT_EQ(check(""), -1);
    ASSERT_EQ(check("   "), -1);
    ASSERT_EQ(check("["), -1);
    ASSERT_EQ(check("[1"), -1);
    ASSERT_EQ(check("[1,"), -1);
    ASSERT_EQ(check("[1,]"), -1);
    ASSERT_EQ(check("[,1]"), -1);
    ASSERT_EQ(check("[1 2]"), -1);
    ASSERT_EQ(check("]"), -1);
    ASSERT_EQ(check("{"), -1);
    ASSERT_EQ(check("{\"a\"}"), -1);
    ASSERT_EQ(check("{\"a\":}"), -1);
    ASSERT_EQ(check("{\"a\" 1}"), -1);
    ASSERT_EQ(check("{a:1}"), -1);
    ASSERT_EQ(check("{\"a\":1,}"), -1);
    ASSERT_EQ(check("{1:1}"), -1);
    ASSERT_EQ(check("{\"a\":1"), -1);
    ASSERT_EQ(check("[}"), -1);
}

TEST(json_trailing_garbage_rejected)
{
    ASSERT_EQ(check("[1] x"), -1);
    ASSERT_EQ(check("[1]]"), -1);
    ASSERT_EQ(check("{}{}"), -1);
    ASSERT_EQ(check("1 2"), -1);
    ASSERT_EQ(check("\"a\"\"b\""), -1);
    ASSERT_EQ(json_check("[1]\0", 4, JSON_CHECK_MAX_DEPTH, NULL), -1);
}

TEST(json_bom_rejected)
{
    ASSERT_EQ(check("\xef\xbb\xbf[]"), -1);
    ASSERT_EQ(check("\xef\xbb\xbf\"x\""), -1);
}

TEST(json_length_is_respected)
{
    /* Only the first len bytes count, whatever follows. */
    ASSERT_EQ(json_check("[1,2]xyz", 5, JSON_CHECK_MAX_DEPTH, NULL), 0);
    ASSERT_EQ(json_check("[1,2]", 4, JSON_CHECK_MAX_DEPTH, NULL), -1);
    ASSERT_EQ(json_check("true", 3, JSON_CHECK_MAX_DEPTH, NULL), -1);
    ASSERT_EQ(json_check("\"ab\"", 3, JSON_CHECK_MAX_DEPTH, NULL), -1);
    ASSERT_EQ(json_check("-5", 1, JSON_CHECK_MAX_DEPTH, NULL), -1);
}

TEST(json_depth_64_accepted_65_rejected)
{
    char *s = nested_arrays(64, "");
    ASSERT_EQ(check(s), 0);
    free(s);
    s = nested_arrays(64, "1");
    ASSERT_EQ(check(s), 0);
    free(s);
    s = nested_arrays(64, "\"x\",{}");
    ASSERT_EQ(check(s), -1); /* the object is a 65th level */
    free(s);
    s = nested_arrays(63, "{\"a\":1}");
    ASSERT_EQ(check(s), 0);
    free(s);
    s = nested_arrays(65, "");
    ASSERT_EQ(check(s), -1);
    free(s);
    s = nested_arrays(65, "1");
    ASSERT_EQ(check(s), -1);
    free(s);
}

TEST(json_depth_of_objects)
{
    /* {"a":{"a":...{"a":1}...}} with n objects. */
    for (int n = 63; n <= 66; n++) {
        char *s = malloc((size_t)n * 6 + 2);
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            memcpy(s + off, "{\"a\":", 5);
            off += 5;
        }
        s[off++] = '1';
        memset(s + off, '}', (size_t)n);
        off += (size_t)n;
        s[off] = '\0';
        ASSERT_EQ(check(s), n <= 64 ? 0 : -1);
        free(s);
    }
}

TEST(json_max_depth_parameter)
{
    ASSERT_EQ(json_check("1", 1, 1, NULL), 0);
    ASSERT_EQ(json_check("[]", 2, 1, NULL), 0);
    ASSERT_EQ(json_check("[1,2]", 5, 1, NULL), 0);
    ASSERT_EQ(json_check("{\"a\":\"b\"}", 9, 1, NULL), 0);
    ASSERT_EQ(json_check("[[]]", 4, 1, NULL), -1);
    ASSERT_EQ(json_check("[{}]", 4, 1, NULL), -1);
    ASSERT_EQ(json_check("[[1]]", 5, 2, NULL), 0);
    ASSERT_EQ(json_check("[[[1]]]", 7, 2, NULL), -1);
}

TEST(json_depth_10000_rejected_without_crash)
{
    char *s = nested_arrays(10000, "");
    ASSERT_EQ(check(s), -1);
    free(s);
    /* Unbalanced: only openers. */
    s = malloc(100001);
    memset(s, '[', 100000);
    s[100000] = '\0';
    ASSERT_EQ(check(s), -1);
    free(s);
}

TEST(json_big_string_and_many_members)
{
    size_t n = 1 << 20;
    char *s = malloc(n + 3);
    s[0] = '"';
    memset(s + 1, 'a', n);
    s[n + 1] = '"';
    s[n + 2] = '\0';
    ASSERT_EQ(check(s), 0);
    free(s);
    /* An object with 100000 members. */
    struct json_info info;
    struct buf o;
    buf_init(&o, BUF_NO_CAP);
    buf_append_char(&o, '{');
    for (int i = 0; i < 100000; i++)
        buf_printf(&o, "%s\"k%d\":%d", i ? "," : "", i, i);
    buf_append_char(&o, '}');
    ASSERT_EQ(json_check(o.data, o.len, JSON_CHECK_MAX_DEPTH, &info), 0);
    ASSERT_EQ(info.top, '{');
    /* Break the last member: the whole check must fail. */
    o.data[o.len - 2] = ',';
    ASSERT_EQ(json_check(o.data, o.len, JSON_CHECK_MAX_DEPTH, &info), -1);
    buf_release(&o);
}

TEST(json_info_top)
{
    struct json_info info;
    ASSERT_EQ(check_info("  [1]", &info), 0);
    ASSERT_EQ(info.top, '[');
    ASSERT_EQ(check_info("{}", &info), 0);
    ASSERT_EQ(info.top, '{');
    ASSERT_EQ(check_info("\"s\"", &info), 0);
    ASSERT_EQ(info.top, '"');
    ASSERT_EQ(check_info("-1", &info), 0);
    ASSERT_EQ(info.top, '-');
    ASSERT_EQ(check_info("7", &info), 0);
    ASSERT_EQ(info.top, '7');
    ASSERT_EQ(check_info("null", &info), 0);
    ASSERT_EQ(info.top, 'n');
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(info.max_placeholder, -1);
    ASSERT_EQ(info.bad_placeholder, 0);
}

TEST(json_info_array_offsets)
{
    struct json_info info;
    const char *s = "[\"ev\",1,\"2\"]";
    ASSERT_EQ(check_info(s, &info), 0);
    ASSERT_EQ(info.elems, 3);
    ASSERT_MEM_STR(s + info.first_start, info.first_end - info.first_start, "\"ev\"");
    ASSERT_MEM_STR(s + info.rest_start, info.rest_end - info.rest_start, "1,\"2\"");
    ASSERT_EQ(s[info.rest_end], ']');

    s = " [ \"a\" , {\"b\":[1]} ] ";
    ASSERT_EQ(check_info(s, &info), 0);
    ASSERT_EQ(info.elems, 2);
    ASSERT_MEM_STR(s + info.first_start, info.first_end - info.first_start, "\"a\"");
    ASSERT_EQ(s[info.rest_start], '{');
    ASSERT_EQ(s[info.rest_end], ']');
    ASSERT_EQ(info.rest_end, strlen(s) - 2);
}

TEST(json_info_single_and_empty_array)
{
    struct json_info info;
    const char *s = "[42]";
    ASSERT_EQ(check_info(s, &info), 0);
    ASSERT_EQ(info.elems, 1);
    ASSERT_MEM_STR(s + info.first_start, info.first_end - info.first_start, "42");
    ASSERT_EQ(info.rest_start, 3);
    ASSERT_EQ(info.rest_end, 3);

    s = "[ ]";
    ASSERT_EQ(check_info(s, &info), 0);
    ASSERT_EQ(info.elems, 0);
    ASSERT_EQ(info.rest_start, 2);
    ASSERT_EQ(info.rest_end, 2);
}

TEST(json_info_nested_arrays_do_not_disturb_top)
{
    struct json_info info;
    const char *s = "[[1,2,3],[4]]";
    ASSERT_EQ(check_info(s, &info), 0);
    ASSERT_EQ(info.elems, 2);
    ASSERT_MEM_STR(s + info.first_start, info.first_end - info.first_start, "[1,2,3]");
    ASSERT_MEM_STR(s + info.rest_start, info.rest_end - info.rest_start, "[4]");
}

TEST(json_placeholder_detected)
{
    struct json_info info;
    ASSERT_EQ(check_info("[\"baz\",{\"_placeholder\":true,\"num\":0}]", &info), 0);
    ASSERT_EQ(info.placeholders, 1);
    ASSERT_EQ(info.max_placeholder, 0);
    ASSERT_EQ(info.bad_placeholder, 0);

    ASSERT_EQ(check_info("{\"num\":3,\"_placeholder\":true}", &info), 0);
    ASSERT_EQ(info.placeholders, 1);
    ASSERT_EQ(info.max_placeholder, 3);
    ASSERT_EQ(info.bad_placeholder, 0);

    ASSERT_EQ(check_info("[{\"_placeholder\":true,\"num\":1},{\"x\":[{\"_placeholder\":true,"
                         "\"num\":7}]},{\"_placeholder\":true,\"num\":2}]",
                         &info),
              0);
    ASSERT_EQ(info.placeholders, 3);
    ASSERT_EQ(info.max_placeholder, 7);
    ASSERT_EQ(info.bad_placeholder, 0);

    ASSERT_EQ(check_info("{ \"_placeholder\" : true , \"num\" : 12 }", &info), 0);
    ASSERT_EQ(info.placeholders, 1);
    ASSERT_EQ(info.max_placeholder, 12);
}

TEST(json_placeholder_false_or_absent_ignored)
{
    struct json_info info;
    ASSERT_EQ(check_info("[{\"_placeholder\":false,\"num\":\"x\"}]", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(info.bad_placeholder, 0);
    ASSERT_EQ(check_info("[{\"_placeholder\":1,\"num\":0}]", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(check_info("[{\"num\":0}]", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(info.max_placeholder, -1);
    ASSERT_EQ(check_info("[\"_placeholder\",true,\"num\",0]", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(check_info("[{\"_placeholderx\":true,\"num\":0}]", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
}

TEST(json_bad_placeholder_num)
{
    static const char *const bad[] = {
        "{\"_placeholder\":true,\"num\":\"0\"}",      /* string (CVE-2022-2421 shape) */
        "{\"_placeholder\":true,\"num\":\"splice\"}", /* string */
        "{\"_placeholder\":true,\"num\":1.5}",        /* float */
        "{\"_placeholder\":true,\"num\":1.0}",        /* float */
        "{\"_placeholder\":true,\"num\":1e2}",        /* exponent */
        "{\"_placeholder\":true,\"num\":-1}",         /* negative */
        "{\"_placeholder\":true,\"num\":null}",
        "{\"_placeholder\":true,\"num\":[0]}",
        "{\"_placeholder\":true,\"num\":{}}",
        "{\"_placeholder\":true,\"num\":1234567890}", /* out of any sane range */
        "{\"_placeholder\":true}",                    /* missing */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct json_info info;
        ASSERT_EQ(check_info(bad[i], &info), 0);
        ASSERT_EQ(info.placeholders, 1);
        ASSERT_EQ(info.bad_placeholder, 1);
    }
}

TEST(json_placeholder_last_key_wins)
{
    struct json_info info;
    ASSERT_EQ(check_info("{\"_placeholder\":true,\"num\":\"x\",\"num\":4}", &info), 0);
    ASSERT_EQ(info.bad_placeholder, 0);
    ASSERT_EQ(info.max_placeholder, 4);
    ASSERT_EQ(check_info("{\"_placeholder\":true,\"num\":4,\"_placeholder\":false}", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
}

TEST(json_placeholder_keys_with_escapes)
{
    /* JSON.parse reads escaped keys as their text: these are placeholders too. */
    struct json_info info;
    ASSERT_EQ(check_info("{\"\\u005fplaceholder\":true,\"num\":\"splice\"}", &info), 0);
    ASSERT_EQ(info.placeholders, 1);
    ASSERT_EQ(info.bad_placeholder, 1);
    ASSERT_EQ(check_info("{\"\\u005Fplaceholder\":true,\"n\\u0075m\":5}", &info), 0);
    ASSERT_EQ(info.placeholders, 1);
    ASSERT_EQ(info.bad_placeholder, 0);
    ASSERT_EQ(info.max_placeholder, 5);
    ASSERT_EQ(check_info("{\"_placeholder\":true,\"\\u006e\\u0075\\u006d\":\"x\"}", &info), 0);
    ASSERT_EQ(info.bad_placeholder, 1);
    /* Near misses are not. */
    ASSERT_EQ(check_info("{\"_placeholder\\u0000\":true,\"num\":0}", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(check_info("{\"\\/placeholder\":true,\"num\":0}", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(check_info("{\"_placeholde\\n\":true,\"num\":0}", &info), 0);
    ASSERT_EQ(info.placeholders, 0);
    ASSERT_EQ(check_info("{\"_placeholder\":true,\"nu\\u006dx\":0}", &info), 0);
    ASSERT_EQ(info.placeholders, 1);
    ASSERT_EQ(info.bad_placeholder, 1); /* "numx" is not "num": num is missing */
}
