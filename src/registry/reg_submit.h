/* The submission rules, checked and applied in one write transaction: idempotency by
 * client_submission_id, round selection (open, not yet open, late), qualification from the
 * previous round, the submission limit per rolling day, rolling week or round with refunds
 * of failed submissions, and the in-flight cap. Synchronous. */
#ifndef REGISTRY_REG_SUBMIT_H
#define REGISTRY_REG_SUBMIT_H

#include <stddef.h>

#include "registry/reg_store.h"
#include "registry/registry.h"

#define REG_SUBMIT_MSG_LEN 512

/* Checks every rule and creates the submission (QUEUED), or finds the earlier one for a
 * repeated client_submission_id with the same content. Always fills *res; res->message
 * points into msg (REG_SUBMIT_MSG_LEN bytes) when the submission is refused. Returns 0, or
 * REG_STORE_ERROR when the store failed (res->refusal is then REG_ERR_INTERNAL). */
int reg_submit_create(struct reg_store *s, const struct reg_submit_request *req,
                      struct reg_submit_result *res, char msg[REG_SUBMIT_MSG_LEN]);

#endif
