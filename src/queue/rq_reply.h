/* Checks and reads the replies of the queue's scripts without trusting their shape: every
 * type and count is checked, and a reply that does not fit gives -1. Pure functions. */
#ifndef QUEUE_RQ_REPLY_H
#define QUEUE_RQ_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "queue/rq.h"

struct redisReply;

/* An integer reply, or a string reply holding exactly a decimal int64. */
int rq_reply_int(const struct redisReply *r, int64_t *out);
/* A string reply (bulk or status), not copied. */
int rq_reply_str(const struct redisReply *r, const char **s, size_t *len);
/* "QUEUED", "RUNNING", "DONE", "ERROR", "TIMEOUT", "CANCELLED" or "UNKNOWN". */
int rq_reply_state(const struct redisReply *r, enum rq_state *out);
/* An array reply of exactly n elements (n 0: any length), else NULL. */
const struct redisReply *rq_reply_array(const struct redisReply *r, size_t n);

/* enqueue: {existing 0/1, position >= -1}. */
int rq_reply_enqueue(const struct redisReply *r, int *existing, int64_t *position);
/* dispatch: nil (*has_job 0) or {id, participant, attempt, token, deadline, payload}; the
 * job's payload points into the reply. */
int rq_reply_dispatch(const struct redisReply *r, int *has_job, struct rq_job *job);
/* progress, complete, release: 0 or 1. */
int rq_reply_fenced(const struct redisReply *r, int *ok);
/* fail: {ok, "QUEUED"|"ERROR"|state when fenced, retry_in_ms >= 0}. */
int rq_reply_fail(const struct redisReply *r, int *ok, enum rq_state *outcome,
                  int64_t *retry_in_ms);
/* cancel: {state before, grader or ""}; *grader NULL when empty, else into the reply. */
int rq_reply_cancel(const struct redisReply *r, enum rq_state *before, const char **grader);
/* reap: an array of {id > 0, state, grader} triples; checks them all. */
int rq_reply_reap(const struct redisReply *r, size_t *count);
/* The i-th triple of a checked reap reply; *grader NULL when empty. */
void rq_reply_reap_item(const struct redisReply *r, size_t i, int64_t *id, enum rq_state *now,
                        const char **grader);
/* events: an array of {seq > 0, event} pairs; checks them all. */
int rq_reply_events(const struct redisReply *r, size_t *count);
void rq_reply_events_item(const struct redisReply *r, size_t i, int64_t *seq, const char **event);
/* outbox_list, dlq_list: an array of ids > 0, written to a new array the caller frees. */
int rq_reply_ids(const struct redisReply *r, int64_t **ids, size_t *n);
/* stats: the 9 figures of struct rq_pool_stats in its order, then RQ_STATS_MINUTES finished
 * counts; every one >= 0 but oldest_queued_ms (>= -1). */
int rq_reply_stats(const struct redisReply *r, struct rq_pool_stats *s);
/* get: nil (*state RQ_UNKNOWN) or {state, result, message, attempt}. */
int rq_reply_get(const struct redisReply *r, enum rq_state *state, const char **result,
                 const char **message, int *attempt);

/* A message of the events channel, `{"submission_id":<id>,"seq":<n>` then `}` or `,`
 * and the event's members: the id, the seq and the event object (written to event). */
int rq_reply_live(const char *msg, size_t len, int64_t *id, int64_t *seq, struct buf *event);

#endif
