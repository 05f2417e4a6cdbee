/* The crowdAI webapp's /api/external_graders as data: the paths and form bodies the webapp
 * backend sends, and what the webapp's answers mean (outcome, message, ids, quota). Pure
 * functions, no I/O. The API itself: docs/webapp.md. */
#ifndef REGISTRY_REG_WEBAPP_API_H
#define REGISTRY_REG_WEBAPP_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "registry/reg_webapp_http.h"
#include "registry/registry.h"

#define REG_WEBAPP_API_MSG_LEN  512
#define REG_WEBAPP_API_NAME_LEN 128

/* What an answer means for the caller. */
enum reg_webapp_outcome {
    REG_WEBAPP_OK = 0,  /* 2xx */
    REG_WEBAPP_REFUSED, /* another 4xx: the webapp said no, and saying it again will not help */
    REG_WEBAPP_RETRY,   /* no answer (timeout, connection), 5xx, 401/403 (the broker's own
                           token), 408 or 429: nothing is known to have happened; try again */
};

struct reg_webapp_answer {
    enum reg_webapp_outcome outcome;
    long status;                          /* 0 when no answer came */
    char message[REG_WEBAPP_API_MSG_LEN]; /* the JSON "message", else the reason; "" if none */
    int64_t id;       /* "participant_id" or else "submission_id"; 0 when absent */
    int remaining;    /* "submissions_remaining", -1 when absent or null */
    int64_t reset_at; /* "reset_dttm" or "reset_date" in Unix ms, 0 when absent */
    char name[REG_WEBAPP_API_NAME_LEN]; /* the participant's name when the answer tells it:
                                           a "participant_name", "name" or "username" field,
                                           or the message "Participant NAME scored" */
};

/* Reads an HTTP result into *a. A body that is not JSON (the webapp's 401 is plain text)
 * leaves the fields empty and the message set to the start of the text. */
void reg_webapp_api_parse(const struct reg_webapp_http_response *res, struct reg_webapp_answer *a);

/* The refusal a 400 message of submission creation stands for (matched on the webapp's fixed
 * opening words): slots, parallel, round not open, not qualified, unknown round or challenge;
 * anything else is REG_ERR_INTERNAL. */
enum reg_refusal reg_webapp_api_refusal(const char *message);

/* Whether a 400 message of an update says the webapp does not know the submission. */
int reg_webapp_api_unknown_submission(const char *message);

/* Parses a Rails time ("2017-11-09T12:00:00.000Z", "...+01:00" or "2017-11-09 12:00:00 UTC").
 * Returns 0, or -1. */
int reg_webapp_api_time(const char *s, int64_t *ms);

/* "/api/external_graders/<escaped api_key>" (key validation). */
void reg_webapp_api_key_path(struct buf *b, const char *api_key);
/* "/api/external_graders/<id>" (updates). */
void reg_webapp_api_submission_path(struct buf *b, int64_t webapp_id);

/* The form of POST /api/external_graders creating a submission in grading status
 * "submitted"; the description goes as description_markdown (and comment, the name older
 * webapps read); client_submission_id and file_key go in meta. */
struct reg_webapp_create {
    const char *api_key;
    const char *challenge_client_name;
    const char *description;
    const char *client_submission_id;
    const char *file_key;
};
void reg_webapp_api_create_form(struct buf *b, const struct reg_webapp_create *c);

/* A change of a submission the webapp is told with PATCH /api/external_graders/<id>. */
struct reg_webapp_change {
    enum reg_sub_state state; /* RUNNING, COMPLETE, ERROR, TIMEOUT or CANCELLED */
    const char *message;      /* for ERROR, TIMEOUT, CANCELLED; may be "" */
    double score, score_secondary;
    int has_secondary;
};

/* RUNNING is "initiated", COMPLETE "graded" with score (and score_secondary), the others
 * "failed" with a grading_message (a default one when message is empty: the webapp requires
 * it). Scores are written with the fewest digits that read back as the same double. */
void reg_webapp_api_update_form(struct buf *b, const struct reg_webapp_change *c);

/* Two changes ask for the same thing (same state, scores and message). */
int reg_webapp_api_change_equal(const struct reg_webapp_change *a,
                                const struct reg_webapp_change *b);

#endif
