/* Following one submission's grading live, for `submit --wait` and `watch`: each
 * submission_event is shown once and in order (a seq gate drops repeats; a gap or a new
 * connection asks the broker to `watch` again from the last seq seen), up to the final
 * event, then the score and the participant's rank or the reason it failed. */
#ifndef CLI_CLI_FOLLOW_H
#define CLI_CLI_FOLLOW_H

#include <jansson.h>
#include <stdint.h>

#include "cli/cli_out.h"
#include "cli/cli_session.h"

struct cli_follow {
    struct cli_session *s;
    struct cli_out *out;
    const char *challenge;
    int64_t sub_id;
    int64_t round;
    int64_t last_seq;         /* the last event shown */
    unsigned connects;        /* s->connects when the stream was last (re)started */
    unsigned losses;          /* s->losses already reported */
    int resync;               /* a gap: ask for the stream again */
    json_t *final;            /* the final event (owned) */
    json_t *answer;           /* the last answer to watch (owned) */
    uint64_t answer_final_at; /* loop time when a watch answer said the grading is over */
    uint64_t timeout_ms;
    char state[16]; /* the last state shown */
    int percent;    /* the bar */
    char detail[256];
};

void cli_follow_init(struct cli_follow *f, struct cli_session *s, struct cli_out *out,
                     const char *challenge, int64_t sub_id, uint64_t timeout_ms);
void cli_follow_release(struct cli_follow *f);
/* Follows until the final event. With watch_first the stream is asked for with `watch`;
 * without, the session already receives it (the socket that submitted does). Returns 0 when
 * the final event came, else an enum cli_exit or CLI_SESSION_TIMEOUT (timeout_ms ran out). */
int cli_follow_run(struct cli_follow *f, int watch_first);
/* Says how it ended after cli_follow_run returned rc: the score and rank, the reason it
 * failed, or how to resume. Returns the exit status. */
int cli_follow_finish(struct cli_follow *f, int rc);

#endif
