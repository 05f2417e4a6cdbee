/* The crowdAI webapp's API as data: request paths and forms, and the meaning of answers. */
#include "registry/reg_webapp_api.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reg_time.h"

/* ---- answers ---- */

static enum reg_webapp_outcome outcome_of(long status)
{
    if (status >= 200 && status < 300)
        return REG_WEBAPP_OK;
    if (status == 0 || status >= 500 || status == 401 || status == 403 || status == 408 ||
        status == 429)
        return REG_WEBAPP_RETRY;
    return REG_WEBAPP_REFUSED;
}

static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* The first line of a body that is not JSON, without its line end. */
static void message_from_text(struct reg_webapp_answer *a, const char *body, size_t len)
{
    size_t n = 0;
    while (n < len && body[n] != '\n' && body[n] != '\r' && body[n] != '\0')
        n++;
    copy_text(a->message, sizeof(a->message), body, n);
}

static int64_t json_id(json_t *v)
{
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) >= 1 && json_real_value(v) < 9e15)
        return (int64_t)json_real_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

static void copy_string_field(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v) && dst[0] == '\0')
        copy_text(dst, cap, json_string_value(v), json_string_length(v));
}

/* "Participant NAME scored": the name the webapp gives on creation. */
static void name_from_message(struct reg_webapp_answer *a)
{
    static const char head[] = "Participant ", tail[] = " scored";
    size_t n = strlen(a->message), h = sizeof(head) - 1, t = sizeof(tail) - 1;
    if (a->name[0] != '\0' || n <= h + t || strncmp(a->message, head, h) != 0 ||
        strcmp(a->message + n - t, tail) != 0)
        return;
    copy_text(a->name, sizeof(a->name), a->message + h, n - h - t);
}

static void fields_from_json(struct reg_webapp_answer *a, json_t *o)
{
    json_t *msg = json_object_get(o, "message");
    if (json_is_string(msg))
        copy_text(a->message, sizeof(a->message), json_string_value(msg), json_string_length(msg));
    a->id = json_id(json_object_get(o, "participant_id"));
    if (a->id == 0)
        a->id = json_id(json_object_get(o, "submission_id"));
    json_t *rem = json_object_get(o, "submissions_remaining");
    if (json_is_integer(rem) && json_integer_value(rem) >= 0 && json_integer_value(rem) < INT32_MAX)
        a->remaining = (int)json_integer_value(rem);
    const char *reset = json_string_value(json_object_get(o, "reset_dttm"));
    if (reset == NULL)
        reset = json_string_value(json_object_get(o, "reset_date"));
    if (reset != NULL && reg_webapp_api_time(reset, &a->reset_at) != 0)
        a->reset_at = 0;
    copy_string_field(o, "participant_name", a->name, sizeof(a->name));
    copy_string_field(o, "name", a->name, sizeof(a->name));
    copy_string_field(o, "username", a->name, sizeof(a->name));
    name_from_message(a);
}

void reg_webapp_api_parse(const struct reg_webapp_http_response *res, struct reg_webapp_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->status = res->status;
    a->remaining = -1;
    a->outcome = outcome_of(res->status);
    if (res->status == 0) {
        copy_text(a->message, sizeof(a->message), res->err != NULL ? res->err : "no answer",
                  strlen(res->err != NULL ? res->err : "no answer"));
        return;
    }
    json_t *o = json_loadb(res->body, res->len, 0, NULL);
    if (json_is_object(o))
        fields_from_json(a, o);
    else
        message_from_text(a, res->body, res->len);
    if (o != NULL)
        json_decref(o);
}

/* The fixed opening words of the webapp's refusals of a new submission (its messages may go
 * on with advice after them). */
static const struct {
    const char *prefix;
    enum reg_refusal refusal;
} refusals[] = {
    {"The participant has no submission slots remaining", REG_ERR_LIMIT},
    {"You have exceeded the allowed number of parallel submissions", REG_ERR_PARALLEL},
    {"The challenge is not open for submissions", REG_ERR_ROUND_CLOSED},
    {"You have not qualified for this round", REG_ERR_NOT_QUALIFIED},
    {"This challenge_round_id does not exist", REG_ERR_UNKNOWN_ROUND},
    {"The Challenge Client Name string did not match any challenge", REG_ERR_UNKNOWN_ROUND},
};

enum reg_refusal reg_webapp_api_refusal(const char *message)
{
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        if (strncmp(message, refusals[i].prefix, strlen(refusals[i].prefix)) == 0)
            return refusals[i].refusal;
    }
    return REG_ERR_INTERNAL;
}

int reg_webapp_api_unknown_submission(const char *message)
{
    return strncmp(message, "Submission ID is invalid", 24) == 0 ||
           strncmp(message, "Couldn't find Submission", 24) == 0;
}

int reg_webapp_api_time(const char *s, int64_t *ms)
{
    char iso[64];
    size_t n = strlen(s);
    if (n >= sizeof(iso))
        return -1;
    memcpy(iso, s, n + 1);
    /* Time#to_s in UTC: "2017-11-09 12:00:00 UTC". */
    if (n > 4 && strcmp(iso + n - 4, " UTC") == 0)
        memcpy(iso + n - 4, "Z", 2);
    return reg_time_parse(iso, ms);
}

/* ---- requests ---- */

void reg_webapp_api_key_path(struct buf *b, const char *api_key)
{
    buf_append_str(b, "/api/external_graders/");
    reg_webapp_http_escape(b, api_key);
}

void reg_webapp_api_submission_path(struct buf *b, int64_t webapp_id)
{
    buf_printf(b, "/api/external_graders/%" PRId64, webapp_id);
}

void reg_webapp_api_create_form(struct buf *b, const struct reg_webapp_create *c)
{
    reg_webapp_http_form_add(b, "api_key", c->api_key);
    reg_webapp_http_form_add(b, "challenge_client_name", c->challenge_client_name);
    reg_webapp_http_form_add(b, "grading_status", "submitted");
    if (c->description != NULL && c->description[0] != '\0') {
        reg_webapp_http_form_add(b, "description_markdown", c->description);
        reg_webapp_http_form_add(b, "comment", c->description);
    }
    reg_webapp_http_form_add(b, "meta[client_submission_id]", c->client_submission_id);
    if (c->file_key != NULL && c->file_key[0] != '\0')
        reg_webapp_http_form_add(b, "meta[file_key]", c->file_key);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v. */
static void format_score(double v, char out[32])
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, 32, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static const char *default_failure(enum reg_sub_state state)
{
    if (state == REG_SUB_TIMEOUT)
        return "Grading timed out.";
    if (state == REG_SUB_CANCELLED)
        return "Cancelled.";
    return "Grading failed.";
}

void reg_webapp_api_update_form(struct buf *b, const struct reg_webapp_change *c)
{
    char num[32];
    if (c->state == REG_SUB_RUNNING) {
        reg_webapp_http_form_add(b, "grading_status", "initiated");
    } else if (c->state == REG_SUB_COMPLETE) {
        reg_webapp_http_form_add(b, "grading_status", "graded");
        format_score(c->score, num);
        reg_webapp_http_form_add(b, "score", num);
        if (c->has_secondary) {
            format_score(c->score_secondary, num);
            reg_webapp_http_form_add(b, "score_secondary", num);
        }
    } else {
        const char *msg =
            c->message != NULL && c->message[0] != '\0' ? c->message : default_failure(c->state);
        reg_webapp_http_form_add(b, "grading_status", "failed");
        reg_webapp_http_form_add(b, "grading_message", msg);
    }
}

int reg_webapp_api_change_equal(const struct reg_webapp_change *a,
                                const struct reg_webapp_change *b)
{
    if (a->state != b->state)
        return 0;
    if (a->state == REG_SUB_COMPLETE)
        return a->score == b->score && a->has_secondary == b->has_secondary &&
               (!a->has_secondary || a->score_secondary == b->score_secondary);
    if (a->state == REG_SUB_RUNNING)
        return 1;
    return strcmp(a->message != NULL ? a->message : "", b->message != NULL ? b->message : "") == 0;
}
