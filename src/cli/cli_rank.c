/* Rank lookup on the leaderboard; see cli_rank.h. */
#include "cli/cli_rank.h"

#include <string.h>

#include "cli/cli_json.h"

#define POLL_MS 250

static void read_rows(struct cli_session *s, json_t *reply, int64_t sub_id, struct cli_rank *r)
{
    json_t *rows = json_object_get(reply, "rows");
    json_t *row;
    size_t i;
    memset(r, 0, sizeof(*r));
    r->rows = json_array_size(rows);
    json_array_foreach(rows, i, row)
    {
        int64_t id = 0, rank = 0;
        const char *name = cli_json_str(row, "participant");
        if (cli_json_int(row, "submission_id", &id) != 0 || cli_json_int(row, "rank", &rank) != 0)
            continue;
        if (id == sub_id || (name != NULL && strcmp(name, s->participant) == 0)) {
            r->known = 1;
            r->exact = id == sub_id;
            r->rank = rank;
            r->submission_id = id;
            return;
        }
    }
}

int cli_rank_find(struct cli_session *s, const char *challenge, int64_t round, int64_t sub_id,
                  uint64_t wait_ms, struct cli_rank *r)
{
    uint64_t waited = 0;
    json_t *args = json_pack("{s:s}", "challenge_id", challenge);
    if (round > 0)
        json_object_set_new(args, "round", json_integer(round));
    for (;;) {
        json_t *reply = NULL;
        int rc = cli_session_call(s, "leaderboard", args, &reply);
        if (rc != 0) {
            json_decref(args);
            return rc;
        }
        read_rows(s, reply, sub_id, r);
        json_decref(reply);
        if (r->exact || waited >= wait_ms)
            break;
        rc = cli_session_run(s, NULL, NULL, POLL_MS);
        if (rc != CLI_SESSION_TIMEOUT) {
            json_decref(args);
            return rc;
        }
        waited += POLL_MS;
    }
    json_decref(args);
    return 0;
}
