/* Session tokens handed to participants by `authenticate`: HMAC-SHA256-signed, carrying the
 * participant, the challenge, an expiry and a random id (so one token can be revoked).
 * Pure functions: the secret and the clock are passed in. Never log a token. */
#ifndef BROKER_TOKEN_H
#define BROKER_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX_LEN    256
#define TOKEN_SECRET_LEN 32
#define TOKEN_ID_LEN     20

struct token_claims {
    int64_t participant_id;
    char challenge_id[64];
    int64_t issued_at;               /* Unix ms; sessions issued before a key rotation or
                                        revocation are refused (the registry knows when) */
    int64_t expires_at;              /* Unix ms */
    char token_id[TOKEN_ID_LEN + 1]; /* random; the handle for revocation */
};

enum token_error {
    TOKEN_OK = 0,
    TOKEN_MALFORMED = -1,
    TOKEN_BAD_SIGNATURE = -2,
    TOKEN_EXPIRED = -3,
};

/* Writes a token for claims (token_id is filled in) into out (TOKEN_MAX_LEN bytes).
 * Returns 0, or -1 if the challenge id does not fit. */
int token_issue(const unsigned char secret[TOKEN_SECRET_LEN], struct token_claims *claims,
                char out[TOKEN_MAX_LEN]);
/* Checks the signature (in constant time) and the expiry against now (Unix ms). */
enum token_error token_verify(const unsigned char secret[TOKEN_SECRET_LEN], const char *token,
                              int64_t now, struct token_claims *claims);
/* Plain words for the participant. */
const char *token_error_message(enum token_error err);

#endif
