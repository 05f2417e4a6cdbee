/* The upload of a submission file: `PUT /upload?name=FILE` on the broker's HTTP port with the
 * session token as a Bearer credential, through libcurl's easy interface. The file is
 * streamed from disk; a callback sees the progress and may stop the transfer. */
#ifndef CLI_CLI_UPLOAD_H
#define CLI_CLI_UPLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct cli_upload {
    const char *broker; /* the broker URL (http, https, ws or wss) */
    const char *token;
    const char *path;
    uint64_t size;
    /* Called as bytes go out (and about once a second when none do); nonzero stops. */
    int (*progress)(void *ud, uint64_t sent, uint64_t total);
    void *ud;
    /* Out: */
    char file_key[80];
    char sha256[80];
    uint64_t stored; /* size the broker stored */
    json_t *refusal; /* the broker's {ok:false, code, message} (caller frees) */
    char problem[1024];
};

/* Returns 0, CLI_EXIT_REFUSED (u->refusal set), CLI_EXIT_CONNECTION, CLI_EXIT_LOCAL or
 * CLI_EXIT_INTERRUPTED (the progress callback stopped it); problem says why. */
int cli_upload_run(struct cli_upload *u);

/* The HTTP base "http(s)://HOST[:PORT]" of a broker URL. Returns 0 or -1. */
int cli_upload_base(const char *broker, char *out, size_t n);

#endif
