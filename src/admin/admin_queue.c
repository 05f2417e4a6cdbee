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

static int script_failed(redisReply *r)
{
    if (r != NULL && r->type != REDIS_REPLY_ERROR)
        return 0;
    fprintf(stderr, "crowdai-admin: the queue refused: %s\n", r != NULL ? r->str : "no reply");
    return 1;
}

int admin_queue_cancel(struct admin *a, const struct admin_args *args)
{
    int64_t id = 0;
    if (submission_id(a, args->pos[0], &id) != 0)
        return ADMIN_USAGE;
    redisContext *c = connect_redis(a, args);
    if (c == NULL)
        return ADMIN_FAIL;
    char ids[24];
    snprintf(ids, sizeof(ids), "%" PRId64, id);
    redisReply *r = run_script(c, RQ_SCRIPT_CANCEL, ids, "Cancelled by an organiser.");
    int rc = ADMIN_FAIL;
    if (!script_failed(r) && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
        const char *before = r->element[0]->str;
        if (strcmp(before, "QUEUED") == 0 || strcmp(before, "RUNNING") == 0) {
            printf("cancelled submission %" PRId64 " (it was %s)\n", id, before);
            rc = ADMIN_OK;
        } else if (strcmp(before, "UNKNOWN") == 0) {
            fprintf(stderr, "crowdai-admin: no submission %" PRId64 " in the queue\n", id);
        } else {
            fprintf(stderr, "crowdai-admin: submission %" PRId64 " has already ended (%s)\n", id,
                    before);
        }
    }
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

int admin_queue_dead_letters(struct admin *a, const struct admin_args *args)
{
    redisContext *c = connect_redis(a, args);
    if (c == NULL)
        return ADMIN_FAIL;
    redisReply *r = run_script(c, RQ_SCRIPT_DLQ_LIST, "1000", NULL);
    int rc = ADMIN_FAIL;
    if (!script_failed(r) && r->type == REDIS_REPLY_ARRAY) {
        int json = admin_args_flag(args, "json");
        if (json)
            fputs("[", stdout);
        for (size_t i = 0; i < r->elements; i++) {
            const char *id = r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "?";
            if (r->element[i]->type == REDIS_REPLY_INTEGER)
                printf(json ? "%s%lld" : "%s%lld\n", json && i ? "," : "", r->element[i]->integer);
            else
                printf(json ? "%s%s" : "%s%s\n", json && i ? "," : "", id);
        }
        if (json)
            fputs("]\n", stdout);
        else if (r->elements == 0)
            puts("no dead letters");
        rc = ADMIN_OK;
    }
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

int admin_queue_requeue(struct admin *a, const struct admin_args *args)
{
    int64_t id = 0;
    if (submission_id(a, args->pos[0], &id) != 0)
        return ADMIN_USAGE;
    redisContext *c = connect_redis(a, args);
    if (c == NULL)
        return ADMIN_FAIL;
    char ids[24];
    snprintf(ids, sizeof(ids), "%" PRId64, id);
    redisReply *r = run_script(c, RQ_SCRIPT_DLQ_REQUEUE, ids, NULL);
    int rc = ADMIN_FAIL;
    if (!script_failed(r) && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        /* The registry had (or will have, from the outbox) ERROR: queued again there too. */
        if (reg_submission_requeue(a->store, id, a->now) < 0) {
            fprintf(stderr, "crowdai-admin: requeued in Redis, but the registry could not be "
                            "updated; run the command again\n");
        } else {
            printf("requeued submission %" PRId64 " (attempts reset)\n", id);
            rc = ADMIN_OK;
        }
    } else if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
        fprintf(stderr, "crowdai-admin: submission %" PRId64 " is not a dead letter\n", id);
    }
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

int admin_queue_regrade(struct admin *a, const struct admin_args *args)
{
    int64_t id = 0;
    if (submission_id(a, args->pos[0], &id) != 0)
        return ADMIN_USAGE;
    redisContext *c = connect_redis(a, args);
    if (c == NULL)
        return ADMIN_FAIL;
    char ids[24];
    snprintf(ids, sizeof(ids), "%" PRId64, id);
    redisReply *r = run_script(c, RQ_SCRIPT_REGRADE, ids, NULL);
    int rc = ADMIN_FAIL;
    if (!script_failed(r) && r->type == REDIS_REPLY_STRING && strncmp(r->str, "no:", 3) != 0) {
        if (reg_submission_regrade(a->store, id, a->now) < 0) {
            fprintf(stderr, "crowdai-admin: queued in Redis, but the registry could not be "
                            "updated; run the command again\n");
        } else {
            printf("submission %" PRId64 " will be graded again (it was %s)\n", id,
                   strcmp(r->str, "DONE") == 0 ? "COMPLETE" : r->str);
            rc = ADMIN_OK;
        }
    } else if (r != NULL && r->type == REDIS_REPLY_STRING) {
        fprintf(stderr,
                "crowdai-admin: submission %" PRId64 " cannot be re-graded: it is %s (only "
                "COMPLETE, ERROR and TIMEOUT submissions can)\n",
                id, r->str + 3);
    }
    freeReplyObject(r);
    redisFree(c);
    return rc;
}
