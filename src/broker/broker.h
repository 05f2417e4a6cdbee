/* The broker: participants on namespace "/", graders on "/grader", the registry as the
 * system of record, the Redis queue for everything in flight. This file holds the shared
 * state; participant.c, grader.c and outbox.c hold the behaviour. */
#ifndef BROKER_BROKER_H
#define BROKER_BROKER_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "broker/blob.h"
#include "broker/metrics.h"
#include "broker/token.h"
#include "broker/watch.h"
#include "core/list.h"
#include "core/strmap.h"
#include "net/http_server.h"
#include "queue/rq.h"
#include "registry/registry.h"
#include "socketio/sio_server.h"

struct broker_config {
    int64_t token_ttl_ms;  /* session token lifetime (48 h) */
    int64_t lease_ms;      /* a grader must report within this (progress renews it) */
    uint64_t janitor_ms;   /* how often expired leases and due retries are handled */
    uint64_t outbox_ms;    /* how often the score outbox is retried */
    int64_t retry_base_ms; /* retry backoff for retryable grader failures */
    int64_t retry_cap_ms;
    uint64_t waiting_repeat_ms; /* WAITING is repeated this often while no grader is online */
    uint64_t max_upload;        /* bytes in one upload, whatever the challenge allows */
};

#define BROKER_MAX_POOLS 32

struct waiting_entry {
    int64_t sub_id;
    char pool[64];
};

struct gen2;

/* The Gen-2 grader bridge (gen2.c). */
struct gen2_config {
    char pool[64];
    char host[128];
    int port;
    int db;
    char ns[128]; /* the graders' redis_namespace: jobs go to <ns>::enqueue_job */
    int capacity; /* jobs out at once */
};

struct broker {
    uv_loop_t *loop;
    struct broker_config cfg;
    struct registry *reg;
    struct rq *rq;
    struct sio_server *sio;
    struct sio_namespace *participants;
    struct sio_namespace *graders_nsp;
    unsigned char secret[TOKEN_SECRET_LEN];
    struct watchers watchers;
    struct blob_store blobs;
    struct list graders; /* struct grader.link */
    uv_timer_t janitor;
    uv_timer_t outbox_timer;
    uv_timer_t waiting_timer;
    uv_timer_t presence_timer;
    struct waiting_entry *waiting; /* submissions told WAITING (waiting.c) */
    size_t nwaiting, waiting_alloc;
    int outbox_running;
    int outbox_full;            /* the last outbox pass had a full batch */
    uint64_t outbox_pass;       /* passes started so far */
    struct list outbox_waiters; /* struct outbox_waiter.link (outbox.c) */
    int stopping;
    struct broker_metrics metrics;
    struct gen2 *gen2;                /* NULL without --gen2 */
    char pools[BROKER_MAX_POOLS][64]; /* pools seen here (for /metrics) */
    size_t npools;
    int board_followers;         /* sockets following a leaderboard (board_follow.c) */
    struct strmap board_pending; /* challenges whose followers are told at the next tick */
    uv_timer_t board_timer;
    struct web_status_cache *status_cache; /* web_calls.c */
};

/* Wires the namespaces and starts the timers. reg and rq stay owned by the caller. */
void broker_init(struct broker *b, uv_loop_t *loop, const struct broker_config *cfg,
                 struct registry *reg, struct rq *rq, struct sio_server *sio,
                 const unsigned char secret[TOKEN_SECRET_LEN]);
/* Stops the timers (closing their handles). */
void broker_stop(struct broker *b);
void broker_release(struct broker *b);
/* Unix time in ms. */
int64_t broker_now(void);

/* participant.c */
void participant_install(struct broker *b);
/* archive_calls.c: the code archive's participant calls; plain_submit answers submits. */
void archive_calls_install(struct broker *b, sio_event_cb plain_submit);
/* Where a participant's archived code of a challenge is published ({url, branch}, a new
 * reference), or NULL: not published, or no consented commit. */
json_t *archive_code_link(const char *challenge_id, int64_t participant_id);
/* A session token for the participant on the challenge; 0, or -1 if it cannot be made. */
int participant_session_issue(struct broker *b, int64_t participant_id, const char *challenge_id,
                              char token[TOKEN_MAX_LEN], int64_t *expires_at);
/* session.c: a participant call's session token, checked at once (0, or -1 after answering
 * NO_SESSION, BAD_SESSION or SESSION_EXPIRED), then the registry's check_session result:
 * session_stands answers SESSION_REVOKED or REGISTRY_UNAVAILABLE and returns 0 unless it is 1
 * and the socket is still there. */
int session_token_check(const struct broker *b, struct sio_socket *sock, long long ack_id,
                        json_t *args, struct token_claims *claims);
int session_stands(struct sio_socket *sock, long long ack_id, int result);
/* legacy.c: the crowdAI client's protocol (authenticate with API_KEY, execute_function,
 * close_session) on namespace "/". */
void legacy_install(struct broker *b);
void legacy_authenticate(struct broker *b, struct sio_socket *sock, long long ack_id, json_t *args);
/* grader.c */
void grader_install(struct broker *b);
/* Hands queued jobs to graders with free capacity. */
void grader_dispatch_all(struct broker *b);
/* Forwards a cancel to the local grader holding the job, if it is here (grader_id NULL:
 * whichever local grader holds it). */
void grader_forward_cancel(struct broker *b, const char *grader_id, int64_t sub_id,
                           const char *reason);
/* A grader let a lease expire: it gets no new job until it reports again. */
void grader_suspend(struct broker *b, const char *grader_id);
/* Whether a grader on this broker serves pool, and how many do (for any broker: rq_pool_online). */
int grader_pool_online(const struct broker *b, const char *pool);
int grader_count(const struct broker *b, const char *pool);
/* broker_http.c: /healthz and /metrics on the HTTP server; pools shown in /metrics. */
void broker_http_install(struct broker *b, struct http_server *http);
void broker_pool_seen(struct broker *b, const char *pool);
/* files.c: PUT /upload (participants) and GET /files (graders). */
void files_install(struct broker *b, struct http_server *http);
/* presign.c: the crowdAI client's presigned upload URLs. presign_check verifies an upload
 * request's signature: 0 (name and participant filled), -1 bad, -2 expired. */
void presign_install(struct broker *b, struct http_server *http);
/* webapp_enqueue.c: POST /enqueue_grading_job, the crowdAI webapp's way in. */
void webapp_enqueue_install(struct broker *b, struct http_server *http);
int presign_check(const struct broker *b, const struct http_request *req, char name[101],
                  int64_t *participant_id);
/* Records a grader's result (score a number, secondary a number, null or NULL) and its
 * COMPLETE event, fenced by token. */
void grader_report_complete(struct broker *b, int64_t sub_id, uint64_t token, json_t *score,
                            json_t *secondary, rq_fenced_cb cb, void *ud);
/* Announces every grader of this broker (presence.c calls it to refresh). */
void grader_announce_all(struct broker *b);
/* presence.c: graders online per pool, shared by every broker through Redis. */
void presence_announce(struct broker *b, const char *grader_id, const char (*pools)[64], int npools,
                       int capacity);
void presence_withdraw(struct broker *b, const char *grader_id, const char (*pools)[64],
                       int npools);
void presence_start(struct broker *b);
void presence_stop(struct broker *b);
/* board_follow.c: live leaderboards for the web pages. board_note_complete is told of every
 * COMPLETE event; board_forget of a socket that goes. */
struct psess;
void board_install(struct broker *b);
void board_note_complete(struct broker *b, int64_t sub_id);
void board_forget(struct broker *b, struct psess *ps);
void board_stop(struct broker *b);
void board_release(struct broker *b);
/* web_calls.c: the calls of the web pages (challenges, challenge, my_submissions,
 * queue_status). */
void web_calls_install(struct broker *b);
void web_calls_release(struct broker *b);
/* gen2.c: crowdAI's Gen-2 graders over Redis lists, for one pool. */
int gen2_config_parse(const char *spec, struct gen2_config *out, char *err, size_t errlen);
void gen2_start(struct broker *b, const struct gen2_config *cfg);
/* Closes the connection and the timer; gen2_release frees it once the loop let go. */
void gen2_stop(struct broker *b);
void gen2_release(struct broker *b);
void gen2_dispatch(struct broker *b);
/* Whether the bridge serves pool (graders count as online there). */
int gen2_pool_served(const struct broker *b, const char *pool);
/* waiting.c: tells a submission WAITING when no grader serves its pool, and repeats it. */
void waiting_check(struct broker *b, int64_t sub_id, const char *pool);
void waiting_start(struct broker *b);
void waiting_stop(struct broker *b);
/* outbox.c: applies final results in Redis to the registry (exactly once). */
void outbox_kick(struct broker *b);
/* Calls done once a whole outbox pass that started after this call is over, so that every
 * result already final in Redis has reached the registry (unless the registry refused it);
 * stopping is 1 when the broker stops first (done must then only clean up). */
typedef void (*outbox_done_cb)(void *ud, int stopping);
void outbox_wait(struct broker *b, outbox_done_cb done, void *ud);
/* Calls every waiter with stopping = 1. */
void outbox_stop(struct broker *b);

#endif
