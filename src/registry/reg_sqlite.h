/* The embedded registry backend: registry.h on a SQLite file (WAL, synchronous=NORMAL).
 *
 * Queries run on the loop thread: each operation is a few small indexed statements in one
 * short transaction, cheaper than handing it to a thread. Their answers are queued and
 * delivered from a uv_idle handle on a later loop iteration, in the order the operations
 * were called, never before the operation returns. Another process (crowdai-admin) may use
 * the same file at once; a statement waits up to 2 s for its lock. */
#ifndef REGISTRY_REG_SQLITE_H
#define REGISTRY_REG_SQLITE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "registry/registry.h"

struct reg_store;

/* Opens (creating if missing) the database file at path and migrates its schema. Returns
 * NULL with a message in err on failure. Free it with r->ops->close(r): close delivers the
 * answers still queued (their callbacks run inside close, and operations they start are
 * answered there too), closes the database, and the memory goes when libuv releases the
 * handle, so run the loop once more afterwards. No operation may be called after close.
 *
 * When SQLite fails (logged): submit answers REG_ERR_INTERNAL, authenticate
 * REG_AUTH_INTERNAL, set_state and record_score -1; check_grader_key, get_challenge and
 * get_submission answer "not found" (a refusal the caller may retry), leaderboard no rows, and
 * list_challenges and list_submissions no rows with count -1. list_submissions with a limit of
 * 0 or less lists every submission of the participant to the challenge.
 * submit needs a non-empty client_submission_id: it is the idempotency key. Rules and their
 * messages: docs/registry.md. */
struct registry *reg_sqlite_open(uv_loop_t *loop, const char *path, char *err, size_t errlen);

/* The synchronous store underneath (reg_store.h and friends), for seeding a demo and for
 * tests; use it on the loop thread only. */
struct reg_store *reg_sqlite_store(struct registry *r);

/* Replaces the wall clock that authenticate (closed challenges) and the update times use;
 * for tests. clock NULL restores the wall clock. */
void reg_sqlite_set_clock(struct registry *r, int64_t (*clock)(void *ud), void *ud);

#endif
