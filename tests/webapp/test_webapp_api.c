/* Webapp backend tests without the network: what answers mean (outcome, plain-text 401,
 * ids given as strings, Rails times), the refusal behind each message, and the forms sent. */
#include <stdio.h>
#include <string.h>

#include "registry/reg_webapp_api.h"
#include "test.h"

static void parse(long status, const char *body, struct reg_webapp_answer *a)
{
    struct reg_webapp_http_response res = {status, NULL, body, strlen(body)};
    reg_webapp_api_parse(&res, a);
}

TEST(api_outcomes_by_status)
{
    struct reg_webapp_answer a;
    const struct {
        long status;
        enum reg_webapp_outcome outcome;
    } cases[] = {{200, REG_WEBAPP_OK},      {202, REG_WEBAPP_OK},     {400, REG_WEBAPP_REFUSED},
                 {404, REG_WEBAPP_REFUSED}, {401, REG_WEBAPP_RETRY},  {403, REG_WEBAPP_RETRY},
                 {408, REG_WEBAPP_RETRY},   {429, REG_WEBAPP_RETRY},  {500, REG_WEBAPP_RETRY},
                 {503, REG_WEBAPP_RETRY},   {422, REG_WEBAPP_REFUSED}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse(cases[i].status, "{}", &a);
        ASSERT_EQ(a.outcome, cases[i].outcome);
    }
    struct reg_webapp_http_response none = {0, reg_webapp_http_err_timeout, "", 0};
    reg_webapp_api_parse(&none, &a);
    ASSERT_EQ(a.outcome, REG_WEBAPP_RETRY);
    ASSERT_STR_EQ(a.message, "timed out");
}

TEST(api_parses_answers)
{
    struct reg_webapp_answer a;
    parse(202,
          "{\"message\":\"Participant Ada Lovelace scored\",\"submission_id\":1234,"
          "\"submissions_remaining\":4,\"reset_dttm\":\"2026-11-27T04:13:16.859Z\"}",
          &a);
    ASSERT_EQ(a.id, 1234);
    ASSERT_EQ(a.remaining, 4);
    ASSERT_EQ(a.reset_at, INT64_C(1795752796859));
    ASSERT_STR_EQ(a.name, "Ada Lovelace");
    /* PATCH answers give the id as a string (params[:id]) and reset_date. */
    parse(202,
          "{\"message\":\"Submission 77 updated\",\"submission_id\":\"77\","
          "\"submissions_remaining\":null,\"reset_date\":\"2026-11-27 04:13:16 UTC\"}",
          &a);
    ASSERT_EQ(a.id, 77);
    ASSERT_EQ(a.remaining, -1);
    ASSERT_EQ(a.reset_at, INT64_C(1795752796000));
    ASSERT_STR_EQ(a.name, "");
    parse(200, "{\"message\":\"Developer API key is valid\",\"participant_id\":501}", &a);
    ASSERT_EQ(a.id, 501);
    ASSERT_STR_EQ(a.message, "Developer API key is valid");
    /* Rails' token refusal is plain text. */
    parse(401, "HTTP Token: Access denied.\n", &a);
    ASSERT_EQ(a.outcome, REG_WEBAPP_RETRY);
    ASSERT_STR_EQ(a.message, "HTTP Token: Access denied.");
    ASSERT_EQ(a.id, 0);
}

TEST(api_refusals_by_message)
{
    ASSERT_EQ(
        reg_webapp_api_refusal("The participant has no submission slots remaining for today."),
        REG_ERR_LIMIT);
    ASSERT_EQ(reg_webapp_api_refusal("You have exceeded the allowed number of parallel "
                                     "submissions. Whatever follows."),
              REG_ERR_PARALLEL);
    ASSERT_EQ(reg_webapp_api_refusal("The challenge is not open for submissions at this time."),
              REG_ERR_ROUND_CLOSED);
    ASSERT_EQ(reg_webapp_api_refusal("You have not qualified for this round. ..."),
              REG_ERR_NOT_QUALIFIED);
    ASSERT_EQ(reg_webapp_api_refusal("This challenge_round_id does not exist"),
              REG_ERR_UNKNOWN_ROUND);
    ASSERT_EQ(reg_webapp_api_refusal("PG::ConnectionBad: could not connect"), REG_ERR_INTERNAL);
    ASSERT_TRUE(reg_webapp_api_unknown_submission("Submission ID is invalid."));
    ASSERT_TRUE(reg_webapp_api_unknown_submission("Couldn't find Submission with 'id'=9"));
    ASSERT_FALSE(reg_webapp_api_unknown_submission("Grading message must be provided"));
}

TEST(api_forms)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    struct reg_webapp_create c = {"k&y", "demo", "a b", "c/1", ""};
    reg_webapp_api_create_form(&b, &c);
    ASSERT_STR_EQ(b.data, "api_key=k%26y&challenge_client_name=demo&grading_status=submitted&"
                          "description_markdown=a%20b&comment=a%20b&"
                          "meta%5Bclient_submission_id%5D=c%2F1");
    buf_reset(&b);
    struct reg_webapp_change score = {REG_SUB_COMPLETE, "", 0.1, 1.0 / 3, 1};
    reg_webapp_api_update_form(&b, &score);
    ASSERT_STR_EQ(b.data, "grading_status=graded&score=0.1&score_secondary=0.3333333333333333");
    buf_reset(&b);
    struct reg_webapp_change run = {REG_SUB_RUNNING, "", 0, 0, 0};
    reg_webapp_api_update_form(&b, &run);
    ASSERT_STR_EQ(b.data, "grading_status=initiated");
    buf_reset(&b);
    struct reg_webapp_change fail = {REG_SUB_ERROR, "", 0, 0, 0};
    reg_webapp_api_update_form(&b, &fail);
    ASSERT_STR_EQ(b.data, "grading_status=failed&grading_message=Grading%20failed.");
    buf_release(&b);
    buf_init(&b, BUF_NO_CAP);
    reg_webapp_api_key_path(&b, "ab/c");
    ASSERT_STR_EQ(b.data, "/api/external_graders/ab%2Fc");
    buf_release(&b);
}
