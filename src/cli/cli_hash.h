/* SHA-256 of the file to submit, and the client_submission_id derived from it: the same
 * file for the same challenge and round always gets the same id, so that submitting again
 * after a dropped connection answers the submission already made instead of a second one. */
#ifndef CLI_CLI_HASH_H
#define CLI_CLI_HASH_H

#include <stdint.h>

#define CLI_HEX_LEN  65 /* 64 hex digits and the NUL */
#define CLI_CSID_LEN 72 /* "cli-" and 64 hex digits and the NUL */

/* Hashes the regular file at path. Returns 0, or -1 with errno set. */
int cli_hash_file(const char *path, char hex[CLI_HEX_LEN], uint64_t *size);
/* "cli-" + hex(SHA-256("crowdai-cli\0" file_hex "\0" challenge "\0" round)); round 0 stands
 * for "the round that is open". */
void cli_hash_submission_id(const char *file_hex, const char *challenge, long round,
                            char out[CLI_CSID_LEN]);
/* The same with the SHA-256 of the packed code (submit --code) covered too:
 * "cli-" + hex(SHA-256("crowdai-cli\0" file_hex "\0" challenge "\0" round "\0code\0"
 * code_hex)). code_hex NULL: cli_hash_submission_id. */
void cli_hash_submission_id_code(const char *file_hex, const char *code_hex, const char *challenge,
                                 long round, char out[CLI_CSID_LEN]);

#endif
