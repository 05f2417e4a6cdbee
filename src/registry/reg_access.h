/* Who may use the broker: participants and their API keys, grader keys, and the checks made
 * when either presents a key. Keys are 32 random bytes (getrandom) in hex; the store keeps
 * only their SHA-256 (hex), so a key is shown once, when it is made. Synchronous; functions
 * return 0 or a negative enum reg_store_status unless said otherwise. */
#ifndef REGISTRY_REG_ACCESS_H
#define REGISTRY_REG_ACCESS_H

#include <stdint.h>

#include "registry/reg_store.h"
#include "registry/registry.h"

#define REG_ACCESS_KEY_LEN 64 /* hex characters of a key, and of its SHA-256 */

typedef void (*reg_access_participant_fn)(void *ud, const struct reg_participant *p, int has_key,
                                          int64_t created_at);

/* A new random key. */
void reg_access_key_new(char key[REG_ACCESS_KEY_LEN + 1]);
/* The SHA-256 of key's text, in lower-case hex. */
void reg_access_key_hash(const char *key, char hash[REG_ACCESS_KEY_LEN + 1]);

/* 0 if name can name a participant or grader (1 to 127 bytes, no control characters), else
 * -1. */
int reg_access_name_check(const char *name);

/* Adds a participant with a new API key: fills *id and key. EXISTS if the name is taken. */
int reg_access_participant_add(struct reg_store *s, const char *name, int64_t now, int64_t *id,
                               char key[REG_ACCESS_KEY_LEN + 1]);
int reg_access_participant_get(struct reg_store *s, int64_t id, struct reg_participant *p);
int reg_access_participant_list(struct reg_store *s, reg_access_participant_fn fn, void *ud);
/* Revokes the participant's API keys and makes a new one; sessions issued before now end.
 * NOT_FOUND if no such participant. */
int reg_access_key_rotate(struct reg_store *s, int64_t participant_id, int64_t now,
                          char key[REG_ACCESS_KEY_LEN + 1]);
/* Revokes the participant's API keys and ends their sessions: returns how many keys were
 * active (0 or more), NOT_FOUND if no such participant. */
int reg_access_key_revoke(struct reg_store *s, int64_t participant_id, int64_t now);
/* 1 if a session of the participant issued at issued_at (Unix ms) is still valid, 0 if the
 * participant is gone or their key was rotated or revoked since (or in the same millisecond),
 * or a negative status. */
int reg_access_session_valid(struct reg_store *s, int64_t participant_id, int64_t issued_at);

/* Adds a grader key named name (the caller checks it: reg_access_name_check and at most 63
 * bytes). EXISTS if an active key has that name. */
int reg_access_grader_add(struct reg_store *s, const char *name, int64_t now,
                          char key[REG_ACCESS_KEY_LEN + 1]);
/* NOT_FOUND if no active key has that name. */
int reg_access_grader_revoke(struct reg_store *s, const char *name, int64_t now);
/* 0 and the grader's name if key is an active grader key, NOT_FOUND if not. */
int reg_access_grader_check(struct reg_store *s, const char *key, char name[64]);

/* Checks an API key, then the challenge: fills *p and *c for each part that passed. */
enum reg_auth reg_access_authenticate(struct reg_store *s, const char *key,
                                      const char *challenge_id, int64_t now,
                                      struct reg_participant *p, struct reg_challenge *c);

#endif
