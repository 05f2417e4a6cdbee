/* A helper for the crowdai-admin tests: makes submissions the way the broker would, and
 * checks keys, on a registry database (the admin command line cannot do either).
 *   reg_seed DB submit PARTICIPANT_ID CHALLENGE CSID ISO_TIME STATE [SCORE [SECONDARY]]
 *   reg_seed DB auth API_KEY CHALLENGE        prints ok, bad_key, unknown_challenge, closed
 *   reg_seed DB grader GRADER_KEY             prints the grader's name or "refused" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reg_access.h"
#include "registry/reg_store.h"
#include "registry/reg_submission.h"
#include "registry/reg_submit.h"
#include "registry/reg_time.h"

static int seed_finish(struct reg_store *s, int64_t id, int state, int argc, char **argv,
                       int64_t now)
{
    if (state == REG_SUB_QUEUED)
        return 0;
    if (state == REG_SUB_COMPLETE) {
        if (argc < 1)
            return -1;
        double secondary = argc > 1 ? strtod(argv[1], NULL) : 0.0;
        return reg_submission_record_score(s, id, strtod(argv[0], NULL), argc > 1, secondary,
                                           now) == 1
                   ? 0
                   : -1;
    }
    return reg_submission_set_state(s, id, (enum reg_sub_state)state, "seeded", now) == 1 ? 0 : -1;
}

static int seed_submit(struct reg_store *s, int argc, char **argv)
{
    struct reg_submit_request req;
    struct reg_submit_result res;
    char msg[REG_SUBMIT_MSG_LEN];
    if (argc < 5)
        return -1;
    memset(&req, 0, sizeof(req));
    req.participant_id = strtoll(argv[0], NULL, 10);
    req.challenge_id = argv[1];
    req.client_submission_id = argv[2];
    req.file_key = "";
    req.description = "";
    int state = reg_submission_state_parse(argv[4]);
    if (reg_time_parse(argv[3], &req.now) != 0 || state < 0)
        return -1;
    if (reg_submit_create(s, &req, &res, msg) != 0 || res.refusal != REG_OK) {
        fprintf(stderr, "reg_seed: refused: %s\n", res.message != NULL ? res.message : "?");
        return -1;
    }
    printf("%lld\n", (long long)res.submission_id);
    return seed_finish(s, res.submission_id, state, argc - 5, argv + 5, req.now);
}

static int seed_auth(struct reg_store *s, int argc, char **argv)
{
    static const char *const names[] = {"ok", "bad_key", "unknown_challenge", "closed", "internal"};
    struct reg_participant p;
    struct reg_challenge c;
    if (argc < 2)
        return -1;
    enum reg_auth a = reg_access_authenticate(s, argv[0], argv[1], reg_time_now(), &p, &c);
    printf("%s\n", names[a]);
    return 0;
}

static int seed_grader(struct reg_store *s, int argc, char **argv)
{
    char name[64];
    if (argc < 1)
        return -1;
    printf("%s\n", reg_access_grader_check(s, argv[0], name) == 0 ? name : "refused");
    return 0;
}

int main(int argc, char **argv)
{
    char err[256];
    if (argc < 3) {
        fprintf(stderr, "usage: reg_seed DB submit|auth|grader ...\n");
        return 2;
    }
    struct reg_store *s = reg_store_open(argv[1], err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "reg_seed: %s\n", err);
        return 1;
    }
    int rc = -1;
    if (strcmp(argv[2], "submit") == 0)
        rc = seed_submit(s, argc - 3, argv + 3);
    else if (strcmp(argv[2], "auth") == 0)
        rc = seed_auth(s, argc - 3, argv + 3);
    else if (strcmp(argv[2], "grader") == 0)
        rc = seed_grader(s, argc - 3, argv + 3);
    reg_store_close(s);
    return rc == 0 ? 0 : 1;
}
