/* Redis's own ceiling for the broker's queue (bench/broker): runs the Lua scripts one submission
 * goes through (enqueue, dispatch, progress, complete, outbox_remove) straight against a
 * redis-server with hiredis, pipelined in batches, and reports submissions per second. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../bench_proc.h"

#define MAX_BATCH 4096

enum script {
    S_ENQUEUE,
    S_DISPATCH,
    S_PROGRESS,
    S_COMPLETE,
    S_OUTBOX_REMOVE,
    S_EVENTS,
    S_GET,
    S_OUTBOX_LIST,
    S_COUNT
};

static const char *const script_names[S_COUNT] = {
    "enqueue", "dispatch", "progress", "complete", "outbox_remove", "events", "get", "outbox_list",
};

struct options {
    const char *socket_path;
    int port;
    const char *lua_dir;
    const char *prefix;
    const char *pool;
    int participants;
    int batch;
    int backlog;
    int redis_pid;
    bool full;
    double warmup_s;
    double duration_s;
};

/* A job as dispatch hands it out. */
struct job {
    char id[24];
    char token[24];
};

struct ceiling {
    struct options opt;
    redisContext *rc;
    redisContext *sub; /* --full: a subscriber to the events channel, like the broker's */
    char sha[S_COUNT][41];
    int64_t next_id;
    uint64_t errors;
    uint64_t since_list; /* submissions since the last outbox_list (--full) */
    struct job jobs[MAX_BATCH];
    int njobs;
    char payload[256], ev_enqueued[160], ev_running[160], ev_progress[160], ev_complete[200];
    char result[64];
};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "redis_ceiling: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* common.lua, a newline, then <name>.lua: the text the broker loads (src/queue/embed_lua.cmake). */
static char *read_script(const char *dir, const char *name)
{
    const char *files[2] = {"common", name};
    char *text = NULL;
    size_t len = 0;
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.lua", dir, files[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            die("cannot open", path);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = realloc(text, len + (size_t)size + 2);
        if (!text || fread(text + len, 1, (size_t)size, f) != (size_t)size)
            die("cannot read", path);
        fclose(f);
        len += (size_t)size;
        if (i == 0)
            text[len++] = '\n';
    }
    text[len] = '\0';
    return text;
}

static void load_scripts(struct ceiling *c)
{
    for (int i = 0; i < S_COUNT; i++) {
        char *body = read_script(c->opt.lua_dir, script_names[i]);
        redisReply *r = redisCommand(c->rc, "SCRIPT LOAD %s", body);
        free(body);
        if (!r || r->type != REDIS_REPLY_STRING || r->len != 40)
            die("SCRIPT LOAD failed for", script_names[i]);
        memcpy(c->sha[i], r->str, 41);
        freeReplyObject(r);
    }
}

/* Appends EVALSHA <script> 0 <prefix> <args...> to the pipeline. */
static void append_eval(struct ceiling *c, enum script s, int argc, const char **argv)
{
    const char *full[16];
    size_t lens[16];
    int n = 0;
    full[n++] = "EVALSHA";
    full[n++] = c->sha[s];
    full[n++] = "0";
    full[n++] = c->opt.prefix;
    for (int i = 0; i < argc; i++)
        full[n++] = argv[i];
    for (int i = 0; i < n; i++)
        lens[i] = strlen(full[i]);
    if (redisAppendCommandArgv(c->rc, n, full, lens) != REDIS_OK)
        die("cannot queue a command", c->rc->errstr);
}

static redisReply *next_reply(struct ceiling *c)
{
    void *r = NULL;
    if (redisGetReply(c->rc, &r) != REDIS_OK || !r)
        die("connection lost", c->rc->errstr);
    redisReply *reply = r;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (c->errors++ < 5)
            fprintf(stderr, "redis_ceiling: script error: %.*s\n", (int)reply->len, reply->str);
    }
    return reply;
}

/* A reply element as text (bulk strings and integers). */
static void reply_text(const redisReply *r, char *out, size_t cap)
{
    if (r->type == REDIS_REPLY_INTEGER)
        snprintf(out, cap, "%lld", r->integer);
    else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        snprintf(out, cap, "%.*s", (int)r->len, r->str);
    else
        out[0] = '\0';
}

/* Reads and drops whatever the subscriber has been sent (published events). */
static void drain_subscriber(struct ceiling *c)
{
    if (!c->sub)
        return;
    char buf[65536];
    while (read(c->sub->fd, buf, sizeof(buf)) > 0)
        ;
}

static void expect_replies(struct ceiling *c, int n)
{
    for (int i = 0; i < n; i++)
        freeReplyObject(next_reply(c));
}

static void enqueue_batch(struct ceiling *c, int n)
{
    char id[24], participant[24];
    const char *pool = c->opt.pool;
    for (int i = 0; i < n; i++) {
        int64_t sub = ++c->next_id;
        snprintf(id, sizeof(id), "%lld", (long long)sub);
        snprintf(participant, sizeof(participant), "%lld",
                 (long long)(sub % c->opt.participants + 1));
        const char *argv[] = {pool, id, participant, c->payload, "3", "600000", c->ev_enqueued};
        append_eval(c, S_ENQUEUE, 7, argv);
        if (c->opt.full) {
            const char *events_argv[] = {id, "0"}; /* the submitter's watch replays from 0 */
            append_eval(c, S_EVENTS, 2, events_argv);
        }
    }
    expect_replies(c, c->opt.full ? 2 * n : n);
}

/* One batch: n submissions through every script, each stage pipelined. */
static int run_batch(struct ceiling *c, int n)
{
    enqueue_batch(c, n);
    drain_subscriber(c);
    for (int i = 0; i < n; i++) {
        const char *argv[] = {c->opt.pool, "bench-g1#ceiling", "30000", c->ev_running};
        append_eval(c, S_DISPATCH, 4, argv);
    }
    c->njobs = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r = next_reply(c);
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 4) {
            struct job *j = &c->jobs[c->njobs++];
            reply_text(r->element[0], j->id, sizeof(j->id));
            reply_text(r->element[3], j->token, sizeof(j->token));
        } else if (r->type != REDIS_REPLY_ERROR && c->errors++ < 5) {
            fprintf(stderr, "redis_ceiling: dispatch found nothing queued\n");
        }
        freeReplyObject(r);
    }
    drain_subscriber(c);
    for (int i = 0; i < c->njobs; i++) {
        const char *argv[] = {c->jobs[i].id, c->jobs[i].token, "30000", c->ev_progress};
        append_eval(c, S_PROGRESS, 4, argv);
    }
    expect_replies(c, c->njobs);
    drain_subscriber(c);
    for (int i = 0; i < c->njobs; i++) {
        const char *argv[] = {c->jobs[i].id, c->jobs[i].token, c->result, c->ev_complete};
        append_eval(c, S_COMPLETE, 4, argv);
    }
    expect_replies(c, c->njobs);
    drain_subscriber(c);
    int extra = 0;
    if (c->opt.full) {
        /* the outbox pass: one list per 50 results, then a get for each */
        c->since_list += (uint64_t)c->njobs;
        for (; c->since_list >= 50; c->since_list -= 50, extra++) {
            const char *argv[] = {"50"};
            append_eval(c, S_OUTBOX_LIST, 1, argv);
        }
        for (int i = 0; i < c->njobs; i++) {
            const char *argv[] = {c->jobs[i].id};
            append_eval(c, S_GET, 1, argv);
        }
        expect_replies(c, c->njobs + extra);
    }
    for (int i = 0; i < c->njobs; i++) {
        const char *argv[] = {c->jobs[i].id};
        append_eval(c, S_OUTBOX_REMOVE, 1, argv);
    }
    expect_replies(c, c->njobs);
    return c->njobs;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: redis_ceiling (--socket PATH | --port N) --lua DIR [--batch 128]\n"
            "         [--participants 1000] [--backlog 0] [--warmup S] [--duration S]\n"
            "         [--full] [--redis-pid PID] [--prefix crowdai:] [--pool bench]\n"
            "--full adds what else the broker asks per submission: events (the submitter's\n"
            "replay), get and outbox_list (the outbox pass), and a subscriber to the events.\n"
            "Prints one RESULT line. Needs an empty Redis (it writes the broker's keys).\n");
    exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"port", required_argument, NULL, 'p'},
        {"lua", required_argument, NULL, 'l'},
        {"prefix", required_argument, NULL, 'x'},
        {"pool", required_argument, NULL, 'P'},
        {"participants", required_argument, NULL, 'n'},
        {"batch", required_argument, NULL, 'b'},
        {"backlog", required_argument, NULL, 'q'},
        {"warmup", required_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 'd'},
        {"redis-pid", required_argument, NULL, 'r'},
        {"full", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.prefix = "crowdai:",
                          .pool = "bench",
                          .participants = 1000,
                          .batch = 128,
                          .warmup_s = 1,
                          .duration_s = 5};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            o->socket_path = optarg;
            break;
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'l':
            o->lua_dir = optarg;
            break;
        case 'x':
            o->prefix = optarg;
            break;
        case 'P':
            o->pool = optarg;
            break;
        case 'n':
            o->participants = atoi(optarg);
            break;
        case 'b':
            o->batch = atoi(optarg);
            break;
        case 'q':
            o->backlog = atoi(optarg);
            break;
        case 'w':
            o->warmup_s = atof(optarg);
            break;
        case 'd':
            o->duration_s = atof(optarg);
            break;
        case 'r':
            o->redis_pid = atoi(optarg);
            break;
        case 'f':
            o->full = true;
            break;
        default:
            usage();
        }
    }
    if ((!o->socket_path && o->port <= 0) || !o->lua_dir || o->participants < 1 || o->batch < 1 ||
        o->batch > MAX_BATCH || o->backlog < 0 || o->duration_s <= 0 || o->warmup_s < 0)
        usage();
}

static redisContext *connect_redis(const struct options *o)
{
    redisContext *rc =
        o->socket_path ? redisConnectUnix(o->socket_path) : redisConnect("127.0.0.1", o->port);
    if (!rc || rc->err)
        die("cannot connect to Redis", rc ? rc->errstr : "out of memory");
    return rc;
}

/* Event texts shaped like the broker's (src/broker/reply.c), for realistic sizes. */
static void make_texts(struct ceiling *c)
{
    const char *at = "2026-11-26T02:10:00.123Z";
    snprintf(c->payload, sizeof(c->payload),
             "{\"submission_id\":1,\"participant_id\":1,\"challenge_id\":\"bench\",\"round\":1,"
             "\"data\":{\"n\":1},\"file_key\":\"\"}");
    snprintf(c->ev_enqueued, sizeof(c->ev_enqueued),
             "{\"type\":\"ENQUEUED\",\"percent\":0,\"message\":\"Queued for grading.\","
             "\"data\":null,\"at\":\"%s\"}",
             at);
    snprintf(c->ev_running, sizeof(c->ev_running),
             "{\"type\":\"RUNNING\",\"percent\":0,\"message\":\"A grader has started on your "
             "submission.\",\"data\":null,\"at\":\"%s\"}",
             at);
    snprintf(c->ev_progress, sizeof(c->ev_progress),
             "{\"type\":\"PROGRESS_UPDATE\",\"percent\":50,\"message\":\"half way\","
             "\"data\":null,\"at\":\"%s\"}",
             at);
    snprintf(c->ev_complete, sizeof(c->ev_complete),
             "{\"type\":\"COMPLETE\",\"percent\":100,\"message\":\"Graded: score 1.5.\","
             "\"data\":{\"score\":1.5,\"score_secondary\":null},\"at\":\"%s\"}",
             at);
    snprintf(c->result, sizeof(c->result), "{\"score\":1.5,\"score_secondary\":null}");
}

int main(int argc, char **argv)
{
    struct ceiling *c = calloc(1, sizeof(*c));
    if (!c)
        return 2;
    parse_options(argc, argv, &c->opt);
    c->rc = connect_redis(&c->opt);
    redisReply *size = redisCommand(c->rc, "DBSIZE");
    if (!size || size->type != REDIS_REPLY_INTEGER || size->integer != 0)
        die("needs an empty Redis (a fresh redis-server): it writes the broker's keys", NULL);
    freeReplyObject(size);
    load_scripts(c);
    make_texts(c);
    if (c->opt.full) {
        c->sub = connect_redis(&c->opt);
        char channel[128];
        snprintf(channel, sizeof(channel), "%sevents", c->opt.prefix);
        redisReply *r = redisCommand(c->sub, "SUBSCRIBE %s", channel);
        if (!r)
            die("SUBSCRIBE failed", c->sub->errstr);
        freeReplyObject(r);
        fcntl(c->sub->fd, F_SETFL, fcntl(c->sub->fd, F_GETFL) | O_NONBLOCK);
    }
    /* a standing queue: jobs that wait behind the ones being run, as in a busy broker */
    for (int done = 0; done < c->opt.backlog; done += c->opt.batch) {
        int n = c->opt.backlog - done < c->opt.batch ? c->opt.backlog - done : c->opt.batch;
        enqueue_batch(c, n);
        drain_subscriber(c);
    }

    uint64_t t0 = bench_now_ns();
    uint64_t t_measure = t0 + (uint64_t)(c->opt.warmup_s * 1e9);
    while (bench_now_ns() < t_measure)
        run_batch(c, c->opt.batch);
    double cpu0 = bench_self_cpu_seconds();
    long redis0 = bench_proc_ticks(c->opt.redis_pid);
    uint64_t start = bench_now_ns(), end = start + (uint64_t)(c->opt.duration_s * 1e9), t;
    uint64_t submissions = 0;
    while ((t = bench_now_ns()) < end)
        submissions += (uint64_t)run_batch(c, c->opt.batch);
    t = bench_now_ns();
    double seconds = (double)(t - start) / 1e9;
    long redis1 = bench_proc_ticks(c->opt.redis_pid);
    double redis_cpu = redis0 >= 0 && redis1 >= 0
                           ? (double)(redis1 - redis0) / (double)sysconf(_SC_CLK_TCK) / seconds
                           : -1;
    printf("RESULT mode=%s batch=%d backlog=%d participants=%d submissions=%llu duration_s=%.2f "
           "subs_per_s=%.0f redis_cpu=%.2f client_cpu=%.2f errors=%llu\n",
           c->opt.full ? "full" : "scripts", c->opt.batch, c->opt.backlog, c->opt.participants,
           (unsigned long long)submissions, seconds, (double)submissions / seconds, redis_cpu,
           (bench_self_cpu_seconds() - cpu0) / seconds, (unsigned long long)c->errors);
    int rc = c->errors ? 1 : 0;
    redisFree(c->rc);
    if (c->sub)
        redisFree(c->sub);
    free(c);
    return rc;
}
