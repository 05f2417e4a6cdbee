/* crowdai-admin's commands that act on the queue in Redis: cancel a submission, list the
 * dead letters, requeue one. They run the queue's own Lua scripts (the same the broker runs)
 * over a plain hiredis connection to the broker's private Redis (DIR/redis/redis.sock) or
 * to --redis HOST:PORT, so every state change stays atomic and is published to the
 * brokers (which tell graders and participants). */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "queue/rq_scripts.h"
#include "registry/reg_submission.h"

#define PREFIX "crowdai:"

static redisContext *connect_redis(struct admin *a, const struct admin_args *args)
{
    const char *addr = admin_args_get(args, "redis");
    struct timeval timeout = {5, 0};
    redisContext *c;
    if (addr != NULL) {
        char host[128];
        const char *colon = strrchr(addr, ':');
        size_t n = colon != NULL ? (size_t)(colon - addr) : 0;
        if (n == 0 || n >= sizeof(host)) {
            admin_usage(a, "--redis needs HOST:PORT");
            return NULL;
        }
        long long port = 0;
        if (admin_parse_int(colon + 1, 1, 65535, &port) != 0) {
            admin_usage(a, "--redis needs HOST:PORT");
            return NULL;
        }
        memcpy(host, addr, n);
        host[n] = '\0';
        c = redisConnectWithTimeout(host, (int)port, timeout);
    } else {
        char path[600];
        snprintf(path, sizeof(path), "%s/redis/redis.sock", a->data_dir);
        c = redisConnectUnixWithTimeout(path, timeout);
    }
    if (c == NULL || c->err) {
        fprintf(stderr,
                "crowdai-admin: cannot reach Redis (%s). Is the broker running? With an "
                "external Redis, give --redis HOST:PORT.\n",
                c != NULL ? c->errstr : "out of memory");
        if (c != NULL)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, timeout);
    return c;
}

/* Runs one of the queue's scripts with ARGV prefix, a, b. */
static redisReply *run_script(redisContext *c, enum rq_script script, const char *a, const char *b)
{
    if (b != NULL)
        return redisCommand(c, "EVAL %s 0 %s %s %s", rq_scripts_body[script], PREFIX, a, b);
    return redisCommand(c, "EVAL %s 0 %s %s", rq_scripts_body[script], PREFIX, a);
}

/* Reads the submission id argument; prints a usage error and returns -1 if malformed. */
static int submission_id(struct admin *a, const char *text, int64_t *id)
{
    long long v = 0;
    if (admin_parse_int(text, 1, INT64_MAX, &v) != 0) {
        admin_usage(a, "SUBMISSION_ID must be a positive whole number, not \"%s\"", text);
        return -1;
    }
    *id = v;
    return 0;
}

/* One command's call to the queue: the submission id (id_arg), the connection, the reply. */
struct queue_call {
    int64_t id;
    char ids[24];
    redisContext *c;
    redisReply *r;
};

/* Reads the id argument (when id_arg), connects and runs script with ARGV prefix, the id
 * (or first), second. Returns 0 with q->r a reply that is not an error, or an exit status
 * after printing why. queue_call_end() releases it either way. */
static int queue_call(struct admin *a, const struct admin_args *args, struct queue_call *q,
                      enum rq_script script, const char *id_arg, const char *first,
                      const char *second)
{
    memset(q, 0, sizeof(*q));
    if (id_arg != NULL) {
        if (submission_id(a, id_arg, &q->id) != 0)
            return ADMIN_USAGE;
        snprintf(q->ids, sizeof(q->ids), "%" PRId64, q->id);
        second = first;
        first = q->ids;
    }
    q->c = connect_redis(a, args);
    if (q->c == NULL)
        return ADMIN_FAIL;
    q->r = run_script(q->c, script, first, second);
    if (q->r == NULL || q->r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "crowdai-admin: the queue refused: %s\n",
                q->r != NULL ? q->r->str : "no reply");
        return ADMIN_FAIL;
    }
    return 0;
}

static int queue_call_end(struct queue_call *q, int status)
{
    if (q->r != NULL)
        freeReplyObject(q->r);
    if (q->c != NULL)
        redisFree(q->c);
    return status;
}

int admin_queue_cancel(struct admin *a, const struct admin_args *args)
{
    struct queue_call q;
    int rc =
        queue_call(a, args, &q, RQ_SCRIPT_CANCEL, args->pos[0], "Cancelled by an organiser.", NULL);
    if (rc != 0)
        return queue_call_end(&q, rc);
    redisReply *r = q.r;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return queue_call_end(&q, admin_fail("unexpected answer from the queue"));
    const char *before = r->element[0]->str;
    if (strcmp(before, "QUEUED") == 0 || strcmp(before, "RUNNING") == 0) {
        printf("cancelled submission %" PRId64 " (it was %s)\n", q.id, before);
        return queue_call_end(&q, ADMIN_OK);
    }
    if (strcmp(before, "UNKNOWN") == 0)
        fprintf(stderr, "crowdai-admin: no submission %" PRId64 " in the queue\n", q.id);
    else
        fprintf(stderr, "crowdai-admin: submission %" PRId64 " has already ended (%s)\n", q.id,
                before);
    return queue_call_end(&q, ADMIN_FAIL);
}

int admin_queue_dead_letters(struct admin *a, const struct admin_args *args)
{
    struct queue_call q;
    int rc = queue_call(a, args, &q, RQ_SCRIPT_DLQ_LIST, NULL, "1000", NULL);
    if (rc != 0)
        return queue_call_end(&q, rc);
    if (q.r->type != REDIS_REPLY_ARRAY)
        return queue_call_end(&q, admin_fail("unexpected answer from the queue"));
    int json = admin_args_flag(args, "json");
    if (json)
        fputs("[", stdout);
    for (size_t i = 0; i < q.r->elements; i++) {
        const redisReply *e = q.r->element[i];
        const char *sep = json && i > 0 ? "," : "";
        if (e->type == REDIS_REPLY_INTEGER)
            printf(json ? "%s%lld" : "%s%lld\n", sep, e->integer);
        else
            printf(json ? "%s%s" : "%s%s\n", sep, e->type == REDIS_REPLY_STRING ? e->str : "?");
    }
    if (json)
        fputs("]\n", stdout);
    else if (q.r->elements == 0)
        puts("no dead letters");
    return queue_call_end(&q, ADMIN_OK);
}

/* After the queue took a submission back: the same change in the registry. */
static int registry_follows(struct admin *a, struct queue_call *q,
                            int (*change)(struct reg_store *, int64_t, int64_t))
{
    if (change(a->store, q->id, a->now) < 0) {
        fprintf(stderr, "crowdai-admin: queued in Redis, but the registry could not be "
                        "updated; run the command again\n");
        return ADMIN_FAIL;
    }
    return ADMIN_OK;
}

int admin_queue_requeue(struct admin *a, const struct admin_args *args)
{
    struct queue_call q;
    int rc = queue_call(a, args, &q, RQ_SCRIPT_DLQ_REQUEUE, args->pos[0], NULL, NULL);
    if (rc != 0)
        return queue_call_end(&q, rc);
    if (q.r->type != REDIS_REPLY_INTEGER || q.r->integer != 1) {
        fprintf(stderr, "crowdai-admin: submission %" PRId64 " is not a dead letter\n", q.id);
        return queue_call_end(&q, ADMIN_FAIL);
    }
    /* The registry had (or will have, from the outbox) ERROR: queued again there too. */
    rc = registry_follows(a, &q, reg_submission_requeue);
    if (rc == ADMIN_OK)
        printf("requeued submission %" PRId64 " (attempts reset)\n", q.id);
    return queue_call_end(&q, rc);
}

int admin_queue_regrade(struct admin *a, const struct admin_args *args)
{
    struct queue_call q;
    int rc = queue_call(a, args, &q, RQ_SCRIPT_REGRADE, args->pos[0], NULL, NULL);
    if (rc != 0)
        return queue_call_end(&q, rc);
    if (q.r->type != REDIS_REPLY_STRING)
        return queue_call_end(&q, admin_fail("unexpected answer from the queue"));
    if (strncmp(q.r->str, "no:", 3) == 0) {
        fprintf(stderr,
                "crowdai-admin: submission %" PRId64 " cannot be re-graded: it is %s (only "
                "COMPLETE, ERROR and TIMEOUT submissions can)\n",
                q.id, q.r->str + 3);
        return queue_call_end(&q, ADMIN_FAIL);
    }
    rc = registry_follows(a, &q, reg_submission_regrade);
    if (rc == ADMIN_OK)
        printf("submission %" PRId64 " will be graded again (it was %s)\n", q.id,
               strcmp(q.r->str, "DONE") == 0 ? "COMPLETE" : q.r->str);
    return queue_call_end(&q, rc);
}
