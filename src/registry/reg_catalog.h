/* Challenges and their rounds in the registry's store: validation, create, update, read and
 * list. Synchronous; every function returns 0 or a negative enum reg_store_status. */
#ifndef REGISTRY_REG_CATALOG_H
#define REGISTRY_REG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "registry/reg_store.h"
#include "registry/registry.h"

/* Digits shown after the decimal point on a challenge's leaderboard: the default and the
 * largest allowed (the smallest is 0). */
#define REG_CATALOG_PRECISION_DEFAULT 3
#define REG_CATALOG_PRECISION_MAX     12

/* Whether s[0..n) is a challenge id: [a-z0-9-], 1-63 characters. */
int reg_catalog_valid_id(const char *s, size_t n);

/* Called once per row; borrowed pointer. */
typedef void (*reg_catalog_challenge_fn)(void *ud, const struct reg_challenge *c);
typedef void (*reg_catalog_round_fn)(void *ud, const struct reg_round *r);

/* Clears c and sets the defaults of the optional fields: 50 MiB uploads, any file type,
 * 600 s per grading job, 3 attempts, scores sorted descending (higher is better) and shown
 * with 3 digits after the decimal point. */
void reg_catalog_challenge_defaults(struct reg_challenge *c);

/* Check a definition before it is stored: 0, or -1 with a message in plain words. */
int reg_catalog_challenge_check(const struct reg_challenge *c, char *msg, size_t msglen);
int reg_catalog_round_check(const struct reg_round *r, char *msg, size_t msglen);

/* EXISTS if the id is taken / NOT_FOUND if there is no such challenge. The caller checks
 * the definition first (reg_catalog_challenge_check). */
int reg_catalog_challenge_create(struct reg_store *s, const struct reg_challenge *c, int64_t now);
int reg_catalog_challenge_update(struct reg_store *s, const struct reg_challenge *c, int64_t now);
int reg_catalog_challenge_get(struct reg_store *s, const char *id, struct reg_challenge *c);
/* In id order. */
int reg_catalog_challenge_list(struct reg_store *s, reg_catalog_challenge_fn fn, void *ud);
/* 1 if the challenge's most recent round (latest end) has ended at now and accepts no late
 * submissions, 0 if not (or it has no rounds), REG_STORE_ERROR on failure. */
int reg_catalog_challenge_closed(struct reg_store *s, const char *id, int64_t now);

/* Rounds are named by (challenge_id, number); r->id is ignored on input. create answers
 * NOT_FOUND when the challenge does not exist, EXISTS when the round does. */
int reg_catalog_round_create(struct reg_store *s, const struct reg_round *r);
int reg_catalog_round_update(struct reg_store *s, const struct reg_round *r);
int reg_catalog_round_get(struct reg_store *s, const char *challenge_id, int number,
                          struct reg_round *r);
/* In number order. */
int reg_catalog_round_list(struct reg_store *s, const char *challenge_id, reg_catalog_round_fn fn,
                           void *ud);

/* Names of enum values as used by the command line and definition files. */
const char *reg_catalog_sort_name(enum reg_sort sort);       /* "desc", "asc" */
const char *reg_catalog_period_name(enum reg_period period); /* "day", "week", "round" */
int reg_catalog_sort_parse(const char *name, enum reg_sort *out);
int reg_catalog_period_parse(const char *name, enum reg_period *out);

#endif
