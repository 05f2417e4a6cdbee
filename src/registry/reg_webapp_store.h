/* The webapp backend's part of the local SQLite registry (schema v3): webapp participants
 * and their local rows, and the local mirror of each submission made through the webapp
 * with its webapp id and "synced" marker. Synchronous, on the loop thread; functions return
 * 0 or a negative enum reg_store_status unless said otherwise. */
#ifndef REGISTRY_REG_WEBAPP_STORE_H
#define REGISTRY_REG_WEBAPP_STORE_H

#include <stdint.h>

#include "registry/reg_store.h"
#include "registry/reg_webapp_api.h"
#include "registry/registry.h"

/* A mirrored submission's link to the webapp. */
struct reg_webapp_link {
    int64_t webapp_id;
    enum reg_sub_state synced_state; /* the last state the webapp confirmed */
    int remaining;                   /* the quota the webapp reported at creation; -1 none */
    int64_t reset_at;                /* 0 none */
};

/* The local participant standing for webapp participant webapp_id, made on first sight: named
 * name when the webapp gave one (else "crowdai-<webapp_id>" until it does), with a suffix when
 * a local participant has that name already. Fills *p. */
int reg_webapp_store_participant(struct reg_store *s, int64_t webapp_id, const char *name,
                                 int64_t now, struct reg_participant *p);
/* Gives the participant the webapp's name if it still has a made-up one (a name taken by
 * another participant is left alone). Returns 1 renamed, 0 not, or REG_STORE_ERROR. */
int reg_webapp_store_participant_name(struct reg_store *s, int64_t participant_id,
                                      const char *name);

/* The local submission of (participant, challenge, client_submission_id): 1 and *id when there
 * is one, 0 when not, or REG_STORE_ERROR. */
int reg_webapp_store_find(struct reg_store *s, int64_t participant_id, const char *challenge_id,
                          const char *client_submission_id, int64_t *id);

/* The round a new submission of challenge_id is mirrored under at now: the open one (the
 * highest-numbered if several), else the one that ended last, else the next to open.
 * NOT_FOUND when the challenge has no rounds. */
int reg_webapp_store_round(struct reg_store *s, const char *challenge_id, int64_t now,
                           struct reg_round *r);

/* Inserts the mirror of a submission the webapp accepted (QUEUED, none of the local rules
 * applied: the webapp decided) and its link, in one transaction. EXISTS when the
 * client_submission_id is taken. */
int reg_webapp_store_insert(struct reg_store *s, const struct reg_submit_request *req,
                            const struct reg_round *round, const struct reg_webapp_link *link,
                            int64_t *id);

/* NOT_FOUND when the submission has no webapp twin. */
int reg_webapp_store_link(struct reg_store *s, int64_t submission_id, struct reg_webapp_link *l);

/* Applies a change the webapp confirmed to the mirror (the local rules: only from QUEUED or
 * RUNNING) and records that the webapp has it, in one transaction. Returns 1 applied, 0 not
 * applied locally (the marker is set all the same), -1 on a store error (nothing changed). */
int reg_webapp_store_apply(struct reg_store *s, int64_t submission_id,
                           const struct reg_webapp_change *c, int64_t now);

#endif
