/* The submission pipeline shared by every way in (the participant protocol, the crowdAI
 * client's execute_function, the webapp's /enqueue_grading_job): the registry's rules
 * create the submission, then it is queued durably in Redis; the outcome comes once both are
 * done, whether or not the caller is still there. */
#ifndef BROKER_SUBMIT_H
#define BROKER_SUBMIT_H

#include <stdint.h>

#include "registry/registry.h"

struct broker;

struct submission_request {
    int64_t participant_id;
    const struct reg_challenge *challenge; /* copied */
    int round;                             /* 0 = the open round */
    const char *client_submission_id;
    const char *file_key;    /* a blob key, or "" */
    const char *data;        /* JSON text, or NULL */
    const char *description; /* may be "" */
    int64_t external_id;     /* the webapp's own id of it, or 0 (see registry.h) */
};

struct submission_outcome {
    /* NULL when queued; else a refusal code ("LIMIT_REACHED", ...), "QUEUE_UNAVAILABLE"
     * (recorded, not queued: the same client_submission_id again retries) or "INTERNAL". */
    const char *code;
    const char *message; /* plain words, set when code is */
    int64_t submission_id;
    int round;
    int existing; /* the same client_submission_id was seen before */
    int64_t position;
    int submissions_remaining; /* -1 = unlimited or unknown */
    int64_t reset_at;          /* 0 = none */
};

typedef void (*submission_cb)(void *ud, const struct submission_outcome *o);

/* Runs the pipeline; cb is called once, never before this returns. */
void submission_start(struct broker *b, const struct submission_request *req, submission_cb cb,
                      void *ud);
/* The code of a refusal ("LIMIT_REACHED", ...). */
const char *submission_refusal_code(enum reg_refusal r);

#endif
