/* Where the participant stands on a challenge's leaderboard once a submission is graded.
 * The score reaches the leaderboard a moment after the final event (the broker's outbox
 * puts it in the registry), so the leaderboard is asked again, for a bounded time, until
 * the submission appears on it. */
#ifndef CLI_CLI_RANK_H
#define CLI_CLI_RANK_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli_session.h"

struct cli_rank {
    int known;             /* the participant has a row */
    int exact;             /* ... and it is the submission asked about */
    int64_t rank;          /* 1 is the top */
    int64_t submission_id; /* the row's submission (the participant's best) */
    size_t rows;           /* rows on the leaderboard (the broker sends at most 100) */
};

/* Looks for submission sub_id of the session's participant on the leaderboard of challenge
 * (round, or every round when 0), for up to wait_ms. Returns 0 (r says what was found), or
 * an enum cli_exit when the leaderboard could not be read. */
int cli_rank_find(struct cli_session *s, const char *challenge, int64_t round, int64_t sub_id,
                  uint64_t wait_ms, struct cli_rank *r);

#endif
