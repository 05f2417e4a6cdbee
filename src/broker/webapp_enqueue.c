/* `POST /enqueue_grading_job`: the crowdAI webapp's way in for submissions made on the
 * website. A form body as Rails encodes it (grader_api_key, api_key of the participant,
 * grader_id, challenge_client_name, function_name, data[][file_key], data[][submission_id],
 * ..., enqueue_only); the caller proves itself with a grader key of the registry. Each
 * element of data becomes a submission (idempotent by the webapp's submission_id); the
 * answer is {"response_type":"CrowdAI.Event.SUCCESS","message":"Successfully enqueued N
 * Job","data":{}} once all are queued, or CrowdAI.Event.ERROR with the reason. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/submit.h"
#include "core/form.h"
#include "core/log.h"
#include "core/random_id.h"
#include "core/xalloc.h"

#define ENQUEUE_MAX_JOBS  16
#define ENQUEUE_MAX_FIELD 4096

struct enqueue_req {
    struct broker *b;
    struct http_conn *hc; /* NULL once gone */
    json_t *form;         /* plain fields, and "data": [{...}, ...] */
    char challenge[64];
    struct reg_challenge ch;
    int64_t participant_id;
    int pending, queued;
    char error[400];
};

static void respond(struct http_conn *hc, int status, const char *type, const char *message)
{
    json_t *body = json_pack("{s:s,s:s,s:{}}", "response_type", type, "message", message, "data");
    char *text = json_dumps(body, JSON_COMPACT);
    http_conn_respond(hc, status, "application/json", NULL, text, strlen(text), 0);
    free(text);
    json_decref(body);
}

static void finish(struct enqueue_req *r)
{
    if (r->hc != NULL) {
        if (r->error[0] != '\0') {
            respond(r->hc, 400, "CrowdAI.Event.ERROR", r->error);
        } else {
            char msg[64];
            snprintf(msg, sizeof(msg), "Successfully enqueued %d Job", r->queued);
            respond(r->hc, 200, "CrowdAI.Event.SUCCESS", msg);
        }
    }
    json_decref(r->form);
    free(r);
}

static void fail(struct enqueue_req *r, const char *message)
{
    snprintf(r->error, sizeof(r->error), "%s", message);
    finish(r);
}

/* Rails arrays of hashes: "data[][k]=..." pairs; a key seen again starts the next hash. */
static int on_pair(void *ud, const char *name, const char *value)
{
    json_t *form = ud;
    if (strncmp(name, "data[][", 7) == 0 && name[strlen(name) - 1] == ']') {
        char key[128];
        size_t n = strlen(name) - 8;
        if (n == 0 || n >= sizeof(key))
            return -1;
        memcpy(key, name + 7, n);
        key[n] = '\0';
        json_t *data = json_object_get(form, "data");
        size_t len = json_array_size(data);
        json_t *last = len > 0 ? json_array_get(data, len - 1) : NULL;
        if (last == NULL || json_object_get(last, key) != NULL) {
            if (len == ENQUEUE_MAX_JOBS)
                return -2;
            last = json_object();
            json_array_append_new(data, last);
        }
        json_object_set_new(last, key, json_string(value));
    } else if (strchr(name, '[') == NULL) {
        json_object_set_new(form, name, json_string(value));
    }
    return 0;
}

static const char *field(const struct enqueue_req *r, const char *name)
{
    return json_string_value(json_object_get(r->form, name));
}

static void on_queued(void *ud, const struct submission_outcome *o)
{
    struct enqueue_req *r = ud;
    if (o->code != NULL && r->error[0] == '\0')
        snprintf(r->error, sizeof(r->error), "%s", o->message);
    else if (o->code == NULL)
        r->queued++;
    if (--r->pending == 0)
        finish(r);
}

static void start_jobs(struct enqueue_req *r)
{
    json_t *data = json_object_get(r->form, "data");
    r->pending = (int)json_array_size(data);
    for (size_t i = 0; i < json_array_size(data); i++) {
        json_t *e = json_array_get(data, i);
        const char *webapp_id = json_string_value(json_object_get(e, "submission_id"));
        const char *file_key = json_string_value(json_object_get(e, "file_key"));
        char client_id[128], rid[RANDOM_ID_LEN + 1];
        if (webapp_id != NULL && webapp_id[0] != '\0') {
            snprintf(client_id, sizeof(client_id), "webapp-%.100s", webapp_id);
        } else {
            random_id(rid);
            snprintf(client_id, sizeof(client_id), "webapp-%s", rid);
        }
        char *text = json_dumps(e, JSON_COMPACT);
        struct submission_request req = {
            .participant_id = r->participant_id,
            .challenge = &r->ch,
            .client_submission_id = client_id,
            /* The webapp's own storage key travels in data; a blob key of ours is the file. */
            .file_key = file_key != NULL && blob_key_valid(file_key) ? file_key : "",
            .data = text,
            .description = "",
            .external_id = webapp_id != NULL ? strtoll(webapp_id, NULL, 10) : 0,
        };
        if (req.external_id < 0)
            req.external_id = 0;
        submission_start(r->b, &req, on_queued, r);
        free(text);
    }
}

static void on_participant(void *ud, enum reg_auth result, const struct reg_participant *p,
                           const struct reg_challenge *ch)
{
    struct enqueue_req *r = ud;
    if (result != REG_AUTH_OK) {
        fail(r, result == REG_AUTH_BAD_KEY             ? "Invalid participant api_key"
                : result == REG_AUTH_UNKNOWN_CHALLENGE ? "No grader found for this challenge"
                : result == REG_AUTH_CHALLENGE_CLOSED  ? "This challenge is closed"
                                                       : "The registry is unavailable");
        return;
    }
    r->participant_id = p->id;
    r->ch = *ch;
    start_jobs(r);
}

static void on_caller(void *ud, int ok, const char *grader_name)
{
    struct enqueue_req *r = ud;
    if (!ok) {
        fail(r, "Invalid grader_api_key");
        return;
    }
    log_info("broker", "enqueue_grading_job from=%s challenge=%s jobs=%zu", grader_name,
             r->challenge, json_array_size(json_object_get(r->form, "data")));
    r->b->reg->ops->authenticate(r->b->reg, field(r, "api_key"), r->challenge, on_participant, r);
}

static void on_aborted(struct http_conn *hc, void *ud)
{
    struct enqueue_req *r = ud;
    (void)hc;
    r->hc = NULL;
}

/* The challenge: challenge_client_name (or challenge_id, or grader_id), lower-cased. */
static int challenge_of(const struct enqueue_req *r, char out[64])
{
    const char *name = field(r, "challenge_client_name");
    if (name == NULL || name[0] == '\0')
        name = field(r, "challenge_id");
    if (name == NULL || name[0] == '\0')
        name = field(r, "grader_id");
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > 63)
        return -1;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    return 0;
}

static void enqueue_request(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct broker *b = ud;
    if (req->method != HTTP_POST) {
        respond(hc, 405, "CrowdAI.Event.ERROR", "Use POST with a form body.");
        return;
    }
    struct enqueue_req *r = xcalloc(1, sizeof(*r));
    r->b = b;
    r->hc = hc;
    r->form = json_pack("{s:[]}", "data");
    int rc = form_parse(req->body.data != NULL ? req->body.data : "", req->body.len,
                        ENQUEUE_MAX_FIELD, on_pair, r->form);
    const char *problem = NULL;
    if (rc == -2)
        problem = "Too many jobs in one request (at most 16).";
    else if (rc != 0)
        problem = "The form body could not be read.";
    else if (field(r, "grader_api_key") == NULL || field(r, "api_key") == NULL)
        problem = "The following params are required params : [grader_api_key, api_key]";
    else if (challenge_of(r, r->challenge) != 0)
        problem = "The following params are required params : [challenge_client_name]";
    else if (json_array_size(json_object_get(r->form, "data")) == 0)
        problem = "The following params are required params : [data]";
    if (problem != NULL) {
        r->hc = NULL;
        respond(hc, 400, "CrowdAI.Event.ERROR", problem);
        finish(r);
        return;
    }
    http_conn_hold(hc, on_aborted, r);
    b->reg->ops->check_grader_key(b->reg, field(r, "grader_api_key"), on_caller, r);
}

static const struct http_route_ops enqueue_ops = {.on_request = enqueue_request};

void webapp_enqueue_install(struct broker *b, struct http_server *http)
{
    http_server_route(http, "/enqueue_grading_job", &enqueue_ops, b);
}
