/* The leaderboard: each participant's best COMPLETE submission, ranked by primary then
 * secondary score in the challenge's sort orders, ties to the earlier submission.
 * Synchronous. */
#ifndef REGISTRY_REG_BOARD_H
#define REGISTRY_REG_BOARD_H

#include "registry/reg_store.h"
#include "registry/registry.h"

/* Called once per row, best first; the row is borrowed. */
typedef void (*reg_board_fn)(void *ud, const struct reg_leaderboard_row *row);

/* round_number 0 = all rounds; limit <= 0 = every row. Returns 0, REG_STORE_NOT_FOUND for an
 * unknown challenge, or REG_STORE_ERROR. */
int reg_board_query(struct reg_store *s, const char *challenge_id, int round_number, int limit,
                    reg_board_fn fn, void *ud);

#endif
