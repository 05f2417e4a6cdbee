/* The registry: the system of record for challenges, rounds, participants and their API
 * keys, grader keys, submissions and scores, and the leaderboard derived from them.
 *
 * The broker sees only this interface. The embedded default is SQLite (reg_sqlite.c); the
 * crowdAI webapp's HTTP API becomes a second backend later. Every operation completes
 * through its callback, which is NEVER called before the operation function returns (a
 * backend that has its answer at once delivers it on the next loop iteration). Pointers
 * passed to callbacks are borrowed for the call; copy what you keep.
 *
 * Times are Unix milliseconds (int64_t). Ids of rows are int64_t; a challenge's id is its
 * slug. */
#ifndef REGISTRY_REGISTRY_H
#define REGISTRY_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

struct registry;

enum reg_period {
    REG_PERIOD_DAY = 0,   /* rolling 24 h */
    REG_PERIOD_WEEK = 1,  /* rolling 7 x 24 h */
    REG_PERIOD_ROUND = 2, /* the whole round */
};

enum reg_sort { REG_SORT_DESC = 0, REG_SORT_ASC = 1 }; /* DESC: higher is better */

struct reg_challenge {
    char id[64]; /* slug: [a-z0-9-], 1-63 chars */
    char title[256];
    char pool[64];         /* grader pool that grades it */
    char primary_name[64]; /* e.g. "f1" */
    enum reg_sort primary_sort;
    char secondary_name[64]; /* "" when there is none */
    enum reg_sort secondary_sort;
    int64_t max_upload_bytes;
    char accepted_types[256]; /* comma-separated file extensions (".csv,.zip"); "" = any */
    int64_t time_limit_ms;    /* per grading job */
    int max_attempts;         /* deliveries before a job is dead-lettered */
    /* digits shown after the decimal point on leaderboards (default 3, 0-12) */
    int score_precision;
};

struct reg_round {
    int64_t id;
    char challenge_id[64];
    int number; /* 1, 2, ... within the challenge */
    int64_t starts_at, ends_at;
    int submission_limit; /* per participant per period; 0 = unlimited */
    enum reg_period period;
    int failed_refunded; /* failed submissions per period that do not count */
    int max_parallel;    /* submissions in flight per participant; 0 = unlimited */
    int has_min_score;   /* qualifying for the next round needs min_score in this one */
    double min_score;
    int accept_late; /* submissions after ends_at are accepted (and marked late) */
};

struct reg_participant {
    int64_t id;
    char name[128];
};

enum reg_sub_state {
    REG_SUB_QUEUED = 0,
    REG_SUB_RUNNING = 1,
    REG_SUB_COMPLETE = 2, /* graded, scores recorded */
    REG_SUB_ERROR = 3,    /* the grader reported a failure, or it was dead-lettered */
    REG_SUB_TIMEOUT = 4,
    REG_SUB_CANCELLED = 5,
};

struct reg_submission {
    int64_t id;
    int64_t participant_id;
    char challenge_id[64];
    int round_number;
    char client_submission_id[128];
    char file_key[80]; /* blob key (sha256 hex) or "" */
    char *data;        /* JSON text given with the submission, or NULL (owned by the struct
                          only inside callbacks: borrowed) */
    char description[512];
    enum reg_sub_state state;
    int late;
    int has_score;
    int has_secondary; /* the grader gave a secondary score */
    double score, score_secondary;
    char message[512]; /* reason for ERROR/TIMEOUT/CANCELLED */
    int64_t created_at, updated_at;
};

/* Why a submission was refused; message is for the participant, in plain words. */
enum reg_refusal {
    REG_OK = 0,
    REG_ERR_LIMIT,         /* submission limit reached; reset_at tells when one frees up */
    REG_ERR_PARALLEL,      /* too many in flight */
    REG_ERR_ROUND_CLOSED,  /* no open round (or not yet open) and late ones not accepted */
    REG_ERR_NOT_QUALIFIED, /* the previous round's min_score was not reached */
    REG_ERR_UNKNOWN_ROUND,
    REG_ERR_CONFLICT, /* same client_submission_id with different content */
    REG_ERR_INTERNAL, /* the backend failed; retryable */
};

struct reg_submit_request {
    int64_t participant_id;
    const char *challenge_id;
    int round_number; /* 0 = the round open now */
    const char *client_submission_id;
    const char *file_key;    /* may be "" */
    const char *data;        /* JSON text or NULL */
    const char *description; /* may be "" */
    int64_t now;
    /* The crowdAI webapp's id of a submission the webapp made itself (it posted it to
     * /enqueue_grading_job): the webapp backend links to it instead of creating another.
     * 0 otherwise; the SQLite backend ignores it. */
    int64_t external_id;
};

struct reg_submit_result {
    enum reg_refusal refusal;
    const char *message; /* set when refused */
    int existing;        /* 1: the same client_submission_id was seen before (a retry) */
    int64_t submission_id;
    int round_number;
    int submissions_remaining; /* -1 = unlimited */
    int64_t reset_at;          /* when the next slot frees up, 0 if none is used */
};

struct reg_leaderboard_row {
    int rank;
    int64_t participant_id;
    const char *participant_name;
    int64_t submission_id;
    double score, score_secondary;
    int has_secondary;
    int submissions; /* graded submissions of this participant */
    int64_t best_at; /* time of the best submission */
};

/* Authentication outcome. */
enum reg_auth {
    REG_AUTH_OK = 0,
    REG_AUTH_BAD_KEY, /* unknown or revoked API key */
    REG_AUTH_UNKNOWN_CHALLENGE,
    REG_AUTH_CHALLENGE_CLOSED, /* its last round has ended */
    REG_AUTH_INTERNAL,
};

typedef void (*reg_auth_cb)(void *ud, enum reg_auth result, const struct reg_participant *p,
                            const struct reg_challenge *c);
typedef void (*reg_grader_cb)(void *ud, int ok, const char *grader_name);
typedef void (*reg_submit_cb)(void *ud, const struct reg_submit_result *r);
typedef void (*reg_submission_cb)(void *ud, int found, const struct reg_submission *s);
typedef void (*reg_challenge_cb)(void *ud, int found, const struct reg_challenge *c);
#define REG_SUB_STATES 6
/* Submissions per state (indexed by enum reg_sub_state); counts NULL on a backend error. */
typedef void (*reg_counts_cb)(void *ud, const int64_t *counts);
/* Called once per row, then once with row NULL at the end (count = rows delivered). */
typedef void (*reg_leaderboard_cb)(void *ud, const struct reg_leaderboard_row *row, int count);
/* Result of an update: 1 applied, 0 not applied because already applied or not allowed by
 * the current state (the exactly-once guard), -1 backend error (retry later). */
typedef void (*reg_update_cb)(void *ud, int result);
/* Called once per challenge (ordered by id), then once with c NULL at the end: count = rows
 * delivered, or -1 on a backend error. */
typedef void (*reg_challenges_cb)(void *ud, const struct reg_challenge *c, int count);
/* Called once per submission (newest first), then once with s NULL: count as above. */
typedef void (*reg_submissions_cb)(void *ud, const struct reg_submission *s, int count);

struct registry_ops {
    void (*authenticate)(struct registry *r, const char *api_key, const char *challenge_id,
                         reg_auth_cb cb, void *ud);
    void (*check_grader_key)(struct registry *r, const char *grader_key, reg_grader_cb cb,
                             void *ud);
    /* Whether a session token issued at issued_at still stands: 1 yes, 0 no (the participant's
     * key was rotated or revoked since, or the participant is gone), -1 backend error. */
    void (*check_session)(struct registry *r, int64_t participant_id, int64_t issued_at,
                          reg_update_cb cb, void *ud);
    void (*get_challenge)(struct registry *r, const char *challenge_id, reg_challenge_cb cb,
                          void *ud);
    /* Checks every rule and creates the submission (QUEUED), or returns the existing one for a
     * repeated client_submission_id with the same content. */
    void (*submit)(struct registry *r, const struct reg_submit_request *req, reg_submit_cb cb,
                   void *ud);
    void (*get_submission)(struct registry *r, int64_t submission_id, reg_submission_cb cb,
                           void *ud);
    /* State changes, each allowed only from a non-final state (QUEUED/RUNNING):
     * set_state to RUNNING, ERROR, TIMEOUT or CANCELLED with a message. */
    void (*set_state)(struct registry *r, int64_t submission_id, enum reg_sub_state state,
                      const char *message, reg_update_cb cb, void *ud);
    /* Records the scores and COMPLETE, exactly once per submission: a second call for the same
     * submission answers 0 and changes nothing. */
    void (*record_score)(struct registry *r, int64_t submission_id, double score, int has_secondary,
                         double score_secondary, reg_update_cb cb, void *ud);
    /* Best graded submission per participant, ranked by primary then secondary score in the
     * challenge's sort orders; round_number 0 = all rounds. At most limit rows. */
    void (*leaderboard)(struct registry *r, const char *challenge_id, int round_number, int limit,
                        reg_leaderboard_cb cb, void *ud);
    /* How many submissions are in each state, over every challenge (for /metrics). */
    void (*count_by_state)(struct registry *r, reg_counts_cb cb, void *ud);
    /* Every challenge (for the public list of challenges and the status page's pools). */
    void (*list_challenges)(struct registry *r, reg_challenges_cb cb, void *ud);
    /* A participant's own submissions to a challenge, newest first, at most limit. */
    void (*list_submissions)(struct registry *r, int64_t participant_id, const char *challenge_id,
                             int limit, reg_submissions_cb cb, void *ud);
    void (*close)(struct registry *r);
};

struct registry {
    const struct registry_ops *ops;
};

#endif
