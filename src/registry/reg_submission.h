/* Submissions after they are made: reading them, their state changes (only from QUEUED or
 * RUNNING) and recording their scores exactly once, and listing them for the admin.
 * Synchronous. */
#ifndef REGISTRY_REG_SUBMISSION_H
#define REGISTRY_REG_SUBMISSION_H

#include <stdint.h>

#include "registry/reg_store.h"
#include "registry/registry.h"

struct reg_submission_filter {
    const char *challenge_id; /* NULL = any */
    int64_t participant_id;   /* 0 = any */
    int state;                /* an enum reg_sub_state, or -1 = any */
    int limit;                /* at most this many, newest first; 0 = all */
};

/* Called once per row; sub->data is borrowed. */
typedef void (*reg_submission_fn)(void *ud, const struct reg_submission *sub);

/* Fills *sub: sub->data is a copy the caller frees (NULL when the submission has none).
 * Returns 0, REG_STORE_NOT_FOUND or REG_STORE_ERROR. */
int reg_submission_get(struct reg_store *s, int64_t id, struct reg_submission *sub);
/* Sets RUNNING, ERROR, TIMEOUT or CANCELLED with message (may be NULL) if the submission is
 * QUEUED or RUNNING. Returns 1 applied, 0 not applied (final state, no such submission, or a
 * target state not listed), -1 on a store error. */
int reg_submission_set_state(struct reg_store *s, int64_t id, enum reg_sub_state state,
                             const char *message, int64_t now);
/* Records the scores and COMPLETE if the submission is QUEUED or RUNNING: 1 applied, 0 not
 * (already final, no such submission, or a score that is not a finite number), -1 error. */
int reg_submission_record_score(struct reg_store *s, int64_t id, double score, int has_secondary,
                                double score_secondary, int64_t now);
/* Puts an ERROR or TIMEOUT submission back to QUEUED (its dead letter was requeued).
 * Returns 1 when changed, 0 when it was in another state, -1 on a database error. */
int reg_submission_requeue(struct reg_store *s, int64_t id, int64_t now);
/* Puts an ended submission (COMPLETE, ERROR or TIMEOUT) back to QUEUED with its score
 * cleared, to be graded again. Returns 1, 0 (another state) or -1. */
int reg_submission_regrade(struct reg_store *s, int64_t id, int64_t now);
int reg_submission_list(struct reg_store *s, const struct reg_submission_filter *f,
                        reg_submission_fn fn, void *ud);
/* A participant's submissions to a challenge, newest first (created_at, then id), at most
 * limit (0 or less: all). */
int reg_submission_list_own(struct reg_store *s, int64_t participant_id, const char *challenge_id,
                            int limit, reg_submission_fn fn, void *ud);
/* Fills counts[state] for every state. Returns 0 or REG_STORE_ERROR. */
int reg_submission_count_by_state(struct reg_store *s, int64_t counts[REG_SUB_STATES]);
/* "QUEUED", "RUNNING", ...; and back (case-insensitive), -1 if unknown. */
const char *reg_submission_state_name(enum reg_sub_state state);
int reg_submission_state_parse(const char *name);

#endif
