/* The crowdAI webapp registry backend: registry.h on the webapp's HTTP API
 * (/api/external_graders), wrapped around the embedded SQLite backend on the same data
 * directory.
 *
 * The webapp is the authority for participants' API keys, for accepting or refusing a
 * submission (quotas, rounds, qualification, parallel limits: its messages reach the
 * participant word for word) and for scores: every state change goes to it first. The local
 * SQLite registry holds what the webapp cannot serve: the challenge catalog (made with
 * crowdai-admin), a local participant row per webapp participant, and a mirror of each
 * submission with its webapp id and a "synced" marker, which status, watch, ownership checks,
 * the leaderboard and /metrics read. Design and guarantees: docs/webapp.md. */
#ifndef REGISTRY_REG_WEBAPP_H
#define REGISTRY_REG_WEBAPP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "registry/registry.h"

struct reg_store;

#define REG_WEBAPP_DEFAULT_TIMEOUT_MS   10000
#define REG_WEBAPP_DEFAULT_KEY_CACHE_MS 60000
#define REG_WEBAPP_DEFAULT_MAX_BODY     65536

struct reg_webapp_config {
    const char *url;      /* the webapp, e.g. "https://www.crowdai.org" (http or https) */
    const char *api_key;  /* the webapp's admin key (CROWDAI_API_KEY); never logged */
    uint64_t timeout_ms;  /* per HTTP request, connecting included; 0 = the default */
    int64_t key_cache_ms; /* how long a key the webapp said is valid is trusted without
                             asking again; 0 = ask every time */
    size_t max_body;      /* bytes of an answer; 0 = the default */
};

/* Opens the SQLite registry at sqlite_path (as reg_sqlite_open does) and wraps it. Returns
 * NULL with a message in err on failure. cfg's strings are copied.
 *
 * Every callback comes from a later loop iteration, never from inside the call. close ends
 * the HTTP requests still running (their operations answer as on a webapp failure: -1,
 * REG_AUTH_INTERNAL, REG_ERR_INTERNAL), delivers every answer still queued, then closes the
 * SQLite registry; the memory goes once libuv has closed the handles, so run the loop once
 * more afterwards. No operation may be called after close. */
struct registry *reg_webapp_open(uv_loop_t *loop, const char *sqlite_path,
                                 const struct reg_webapp_config *cfg, char *err, size_t errlen);

/* The local store (the catalog and the mirror), for tests and seeding; loop thread only. */
struct reg_store *reg_webapp_store(struct registry *r);

/* Replaces the wall clock (local times and the key cache's age) for tests; NULL restores it. */
void reg_webapp_set_clock(struct registry *r, int64_t (*clock)(void *ud), void *ud);

#endif
