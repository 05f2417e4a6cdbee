/* Unit tests for grader/eval_parse.c: stdout lines, text cleaning, the stderr tail and the
 * result object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "grader/eval_internal.h"
#include "test.h"

static struct eval_line parse(const char *s)
{
    struct eval_line l;
    eval_line_parse(s, strlen(s), &l);
    return l;
}

TEST(parse_progress_lines)
{
    struct eval_line l = parse("progress 42");
    ASSERT_EQ(l.kind, EVAL_LINE_PROGRESS);
    ASSERT_EQ(l.percent, 42);
    ASSERT_EQ(l.has_message, 0);

    l = parse("progress 7 scoring rows 1-100\r");
    ASSERT_EQ(l.kind, EVAL_LINE_PROGRESS);
    ASSERT_EQ(l.percent, 7);
    ASSERT_EQ(l.has_message, 1);
    ASSERT_STR_EQ(l.message, "scoring rows 1-100");

    ASSERT_EQ(parse("progress 0").percent, 0);
    ASSERT_EQ(parse("progress 100").percent, 100);
    ASSERT_EQ(parse("progress 100.0").kind, EVAL_LINE_PROGRESS);
    ASSERT_EQ(parse("progress 99.9 almost").percent, 99);
    ASSERT_EQ(parse("progress 50% half").percent, 50);
    ASSERT_EQ(parse("  progress\t3\tx  ").percent, 3);
    ASSERT_STR_EQ(parse("  progress\t3\tx  ").message, "x");
}

TEST(parse_progress_refusals)
{
    const char *bad[] = {"progress",       "progress ",     "progress 101", "progress -1",
                         "progress 100.5", "progress abc",  "progress 5x",  "progress 1e2",
                         "progress 50.",   "progressive 5", "Progress 5",   "progress 1000",
                         "progress 10000", "progress .5",   "progress 5%%", "xprogress 5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i]).kind != EVAL_LINE_GARBAGE)
            test_fail(__FILE__, __LINE__, "\"%s\" was not garbage", bad[i]);
    }
}

TEST(parse_info_lines)
{
    struct eval_line l = parse("info read 8 rows");
    ASSERT_EQ(l.kind, EVAL_LINE_INFO);
    ASSERT_EQ(l.has_message, 1);
    ASSERT_STR_EQ(l.message, "read 8 rows");
    ASSERT_EQ(parse("info").kind, EVAL_LINE_GARBAGE);
    ASSERT_EQ(parse("info   ").kind, EVAL_LINE_GARBAGE);
    ASSERT_EQ(parse("information is here").kind, EVAL_LINE_GARBAGE);
    ASSERT_EQ(parse("INFO x").kind, EVAL_LINE_GARBAGE);
}

TEST(parse_json_and_blank_lines)
{
    ASSERT_EQ(parse("{\"score\": 1}").kind, EVAL_LINE_JSON);
    ASSERT_EQ(parse("  {}  \r").kind, EVAL_LINE_JSON);
    ASSERT_EQ(parse("{\"score\": 1").kind, EVAL_LINE_GARBAGE);
    ASSERT_EQ(parse("[1, 2]").kind, EVAL_LINE_GARBAGE);
    ASSERT_EQ(parse("{} {}").kind, EVAL_LINE_GARBAGE);
    ASSERT_EQ(parse("").kind, EVAL_LINE_BLANK);
    ASSERT_EQ(parse(" \t\r").kind, EVAL_LINE_BLANK);
    ASSERT_EQ(parse("hello").kind, EVAL_LINE_GARBAGE);
}

TEST(parse_text_clean)
{
    char out[64];
    /* Control characters become spaces; tabs stay; newlines only when asked. */
    ASSERT_EQ(eval_text_clean(out, sizeof(out),
                              "a\x01"
                              "b\tc\nd\x7f",
                              8, 0),
              8);
    ASSERT_STR_EQ(out, "a b\tc d ");
    eval_text_clean(out, sizeof(out), "c\nd", 3, 1);
    ASSERT_STR_EQ(out, "c\nd");
    /* Valid UTF-8 is kept; invalid bytes become U+FFFD each. */
    eval_text_clean(out, sizeof(out), "caf\xC3\xA9 \xE6\x97\xA5", 9, 0);
    ASSERT_STR_EQ(out, "caf\xC3\xA9 \xE6\x97\xA5");
    eval_text_clean(out, sizeof(out),
                    "a\xFF"
                    "b\xC3",
                    4, 0);
    ASSERT_STR_EQ(out, "a\xEF\xBF\xBD"
                       "b\xEF\xBF\xBD");
    eval_text_clean(out, sizeof(out), "\xED\xA0\x80", 3, 0); /* a surrogate: 3 bad bytes */
    ASSERT_STR_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    /* Cut to fit, never inside a character. */
    ASSERT_EQ(eval_text_clean(out, 5, "\xC3\xA9\xC3\xA9\xC3\xA9", 6, 0), 4);
    ASSERT_STR_EQ(out, "\xC3\xA9\xC3\xA9");
}

TEST(parse_long_message_is_cut_whole)
{
    size_t n = 2000; /* 1000 two-byte characters after "info " */
    char *line = malloc(5 + 2 * n + 1);
    memcpy(line, "info ", 5);
    for (size_t i = 0; i < n; i++)
        memcpy(line + 5 + 2 * i, "\xC3\xA9", 2);
    line[5 + 2 * n] = '\0';
    struct eval_line l = parse(line);
    ASSERT_EQ(l.kind, EVAL_LINE_INFO);
    ASSERT_EQ(strlen(l.message), EVAL_MESSAGE_MAX);
    ASSERT_TRUE(utf8_valid(l.message, strlen(l.message)));
    free(line);
}

static const char *tail(const char *text, size_t lines, size_t bytes)
{
    static char out[2048];
    eval_text_tail(out, sizeof(out), text, strlen(text), lines, bytes);
    return out;
}

TEST(parse_stderr_tail)
{
    ASSERT_STR_EQ(tail("1\n2\n3\n4\n5\n6\n7\n", 5, 1000), "3\n4\n5\n6\n7");
    ASSERT_STR_EQ(tail("1\n2\n3", 5, 1000), "1\n2\n3");
    ASSERT_STR_EQ(tail("a\n\n  \nb\r\n\n", 5, 1000), "a\nb"); /* blank lines skipped */
    ASSERT_STR_EQ(tail("", 5, 1000), "");
    ASSERT_STR_EQ(tail("\n\n", 5, 1000), "");
    /* Whole lines within the byte budget: "ccc\nddd" is 7 bytes, "bbb\n" would make 11. */
    ASSERT_STR_EQ(tail("aaa\nbbb\nccc\nddd\n", 5, 10), "ccc\nddd");
    /* A single line longer than the budget keeps its end. */
    ASSERT_STR_EQ(tail("x\n0123456789abcdef\n", 5, 6), "abcdef");
    ASSERT_STR_EQ(tail("\x01"
                       "bell\n",
                       5, 100),
                  " bell");
}

TEST(parse_result_ok)
{
    struct eval_result r;
    char why[256];
    const char *json = "{\"score\": 0.5, \"score_secondary\": 2, \"extra\": [1, {\"a\": null}]}";
    ASSERT_EQ(eval_result_parse(json, strlen(json), &r, why, sizeof(why)), EVAL_OK);
    ASSERT_TRUE(r.score == 0.5);
    ASSERT_EQ(r.has_secondary, 1);
    ASSERT_TRUE(r.score_secondary == 2.0);

    json = " {\"score\": 12345678901234567890, \"score_secondary\": null}\n";
    ASSERT_EQ(eval_result_parse(json, strlen(json), &r, why, sizeof(why)), EVAL_OK);
    ASSERT_TRUE(r.score == 12345678901234567890.0);
    ASSERT_EQ(r.has_secondary, 0);

    json = "{\"score\": -3}";
    ASSERT_EQ(eval_result_parse(json, strlen(json), &r, why, sizeof(why)), EVAL_OK);
    ASSERT_TRUE(r.score == -3.0);
}

static enum eval_failure result_kind(const char *json, char *why, size_t whylen)
{
    struct eval_result r;
    return eval_result_parse(json, strlen(json), &r, why, whylen);
}

TEST(parse_result_refusals)
{
    char why[256];
    ASSERT_EQ(result_kind("score = 1", why, sizeof(why)), EVAL_BAD_RESULT);
    ASSERT_TRUE(strstr(why, "not a valid JSON object") != NULL);
    ASSERT_EQ(result_kind("[1]", why, sizeof(why)), EVAL_BAD_RESULT);
    ASSERT_EQ(result_kind("{\"score\": 1} x", why, sizeof(why)), EVAL_BAD_RESULT);
    ASSERT_EQ(result_kind("{\"score\": 1, \"score\": 2}", why, sizeof(why)), EVAL_BAD_RESULT);
    ASSERT_EQ(result_kind("{\"score\": 1, \"score_secondary\": \"x\"}", why, sizeof(why)),
              EVAL_BAD_RESULT);
    ASSERT_STR_EQ(why, "the result's \"score_secondary\" is a string, not a number");
    ASSERT_EQ(result_kind("{}", why, sizeof(why)), EVAL_NO_SCORE);
    ASSERT_STR_EQ(why, "the result has no \"score\"");
    ASSERT_EQ(result_kind("{\"score\": \"0.5\"}", why, sizeof(why)), EVAL_NO_SCORE);
    ASSERT_STR_EQ(why, "the result's \"score\" is a string, not a number");
    ASSERT_EQ(result_kind("{\"score\": null}", why, sizeof(why)), EVAL_NO_SCORE);
    ASSERT_EQ(result_kind("{\"score\": true}", why, sizeof(why)), EVAL_NO_SCORE);
    ASSERT_EQ(result_kind("{\"Score\": 1}", why, sizeof(why)), EVAL_NO_SCORE);
}
