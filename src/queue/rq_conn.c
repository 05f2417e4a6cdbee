/* One Redis connection on the libuv loop, with reconnects, script loading, command timeouts
 * and a cap on pending commands; see rq_conn.h. The only file that uses hiredis's async API. */
#include "queue/rq_conn.h"

#include <fcntl.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "queue/rq.h"

#define SHA_LEN 40

const char rq_conn_err_full[] = "too many redis commands pending";

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_LOADING, CONN_READY };

enum cmd_kind { CMD_EVAL, CMD_LOAD, CMD_DEFERRED };

/* A command from the moment it is made until its callback ran and hiredis let go of it.
 * It sits in one of the connection's lists (waiting: not yet handed to hiredis; sent:
 * handed to hiredis, in reply order; done: failed, the callback to run from the idle
 * handle) and is unlinked once answered. */
struct cmd {
    struct list link;
    struct rq_conn *conn;
    enum cmd_kind kind;
    size_t script;
    rq_conn_reply_cb cb;
    void *ud;
    const char *err;   /* the failure decided for it (deferred error, timeout), or NULL */
    uint64_t deadline; /* uv_now() milliseconds */
    int answered;      /* callback done: only hiredis's callback is left, to free it */
    int retried;       /* sent again as EVAL after NOSCRIPT */
    size_t argc;
    char **argv;
    size_t *lens;
};

struct rq_conn {
    uv_loop_t *loop;
    struct rq_conn_config cfg; /* strings point at the owned copies below */
    char *name, *host, *unix_path, *channel;
    char (*shas)[SHA_LEN + 1];
    redisAsyncContext *ac; /* NULL while down (or once hiredis tears it down) */
    enum conn_state state;
    struct list waiting, sent, done;
    size_t pending;    /* EVAL commands in waiting or sent */
    size_t loads_left; /* SCRIPT LOAD replies still expected */
    uint64_t connect_deadline;
    unsigned retries; /* failed attempts since the last success */
    int ever_ready;   /* connected once: failures before that are a start-up race */
    uint64_t rng;
    rq_conn_message_cb on_message;
    void *message_ud;
    uv_timer_t deadline_timer;
    uv_timer_t retry_timer;
    uv_idle_t idle;
    int handles_open;
    int broken; /* set up failed inside a hiredis callback: drop from the timer */
    int closing;
};

static void conn_connect(struct rq_conn *c);
static void conn_drop(struct rq_conn *c, const char *why);
static void rearm(struct rq_conn *c);
static void on_retry(uv_timer_t *t);
static void on_idle(uv_idle_t *h);
static void on_deadline(uv_timer_t *t);

/* ---- event glue ----
 * hiredis's own libuv adapter (0.14.1) ignores a poll error, and libuv stops the handle when
 * it reports one (POLLERR: a reset connection, a refused connect), so a dead server would be
 * noticed only at the next timeout. This glue has the same hooks, and on an error lets
 * hiredis read the socket, which surfaces the error and tears the context down. */

struct poll_glue {
    uv_poll_t handle;
    redisAsyncContext *ac; /* NULL once hiredis has cleaned up */
    int events;
};

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct poll_glue *g = h->data;
    if (status < 0) {
        if (g->ac != NULL)
            redisAsyncHandleRead(g->ac);
        /* Still there (the read would block): the connection cannot be trusted. */
        if (g->ac != NULL && g->ac->data != NULL)
            conn_drop(g->ac->data, "socket error");
        return;
    }
    if (g->ac != NULL && (events & UV_READABLE))
        redisAsyncHandleRead(g->ac);
    if (g->ac != NULL && (events & UV_WRITABLE))
        redisAsyncHandleWrite(g->ac);
}

static void glue_update(struct poll_glue *g, int add, int del)
{
    g->events = (g->events | add) & ~del;
    if (g->events != 0)
        uv_poll_start(&g->handle, g->events, on_poll);
    else
        uv_poll_stop(&g->handle);
}

static void glue_add_read(void *data)
{
    glue_update(data, UV_READABLE, 0);
}

static void glue_del_read(void *data)
{
    glue_update(data, 0, UV_READABLE);
}

static void glue_add_write(void *data)
{
    glue_update(data, UV_WRITABLE, 0);
}

static void glue_del_write(void *data)
{
    glue_update(data, 0, UV_WRITABLE);
}

static void on_glue_closed(uv_handle_t *h)
{
    free(h->data);
}

static void glue_cleanup(void *data)
{
    struct poll_glue *g = data;
    g->ac = NULL;
    uv_close((uv_handle_t *)&g->handle, on_glue_closed);
}

static int glue_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    struct poll_glue *g = xcalloc(1, sizeof(*g));
    if (uv_poll_init_socket(loop, &g->handle, ac->c.fd) != 0) {
        free(g);
        return -1;
    }
    g->handle.data = g;
    g->ac = ac;
    ac->ev.data = g;
    ac->ev.addRead = glue_add_read;
    ac->ev.delRead = glue_del_read;
    ac->ev.addWrite = glue_add_write;
    ac->ev.delWrite = glue_del_write;
    ac->ev.cleanup = glue_cleanup;
    return 0;
}

/* ---- commands ---- */

static struct cmd *cmd_new(struct rq_conn *c, enum cmd_kind kind, rq_conn_reply_cb cb, void *ud)
{
    struct cmd *cmd = xcalloc(1, sizeof(*cmd));
    list_init(&cmd->link);
    cmd->conn = c;
    cmd->kind = kind;
    cmd->cb = cb;
    cmd->ud = ud;
    cmd->deadline = uv_now(c->loop) + c->cfg.command_timeout_ms;
    return cmd;
}

static void cmd_copy_args(struct cmd *cmd, size_t argc, const char *const *argv, const size_t *lens)
{
    cmd->argc = argc;
    cmd->argv = xcalloc(argc, sizeof(*cmd->argv));
    cmd->lens = xcalloc(argc, sizeof(*cmd->lens));
    for (size_t i = 0; i < argc; i++) {
        cmd->argv[i] = xmemdup0(argv[i], lens[i]);
        cmd->lens[i] = lens[i];
    }
}

static void cmd_free(struct cmd *cmd)
{
    for (size_t i = 0; i < cmd->argc; i++)
        free(cmd->argv[i]);
    free(cmd->argv);
    free(cmd->lens);
    free(cmd);
}

/* Runs the callback once; the command stays allocated (hiredis may still hold it). */
static void cmd_answer(struct cmd *cmd, const char *err, const redisReply *reply)
{
    if (list_linked(&cmd->link))
        list_remove(&cmd->link);
    if (cmd->answered)
        return;
    cmd->answered = 1;
    if (cmd->kind == CMD_EVAL)
        cmd->conn->pending--;
    if (cmd->cb != NULL)
        cmd->cb(cmd->ud, err, reply);
}

/* Answers and frees a command that hiredis does not hold. */
static void cmd_finish(struct cmd *cmd, const char *err, const redisReply *reply)
{
    cmd_answer(cmd, err, reply);
    cmd_free(cmd);
}

static struct cmd *first_cmd(struct list *l)
{
    return list_empty(l) ? NULL : container_of(l->next, struct cmd, link);
}

static void defer_cmd(struct rq_conn *c, struct cmd *cmd, const char *err)
{
    cmd->err = err;
    if (list_linked(&cmd->link))
        list_remove(&cmd->link);
    list_insert_tail(&c->done, &cmd->link);
    if (!c->closing)
        uv_idle_start(&c->idle, on_idle);
}

/* ---- connection state ---- */

static const char *conn_where(const struct rq_conn *c)
{
    return c->host != NULL ? c->host : c->unix_path;
}

/* The first failure after a success is a warning, the retries that follow are debug. Before
 * the first success (Redis may be starting at the same time) the warning waits for the fifth
 * failed attempt. */
static void log_connect_failed(const struct rq_conn *c, const char *why)
{
    unsigned warn_at = c->ever_ready ? 0 : 4;
    enum log_level level = c->retries == warn_at ? LOG_WARN : LOG_DEBUG;
    log_at(level, "rq", "redis connect failed: conn=%s at=%s port=%d retries=%u error=\"%s\"",
           c->name, conn_where(c), c->cfg.port, c->retries, why != NULL ? why : "");
}

/* Forgets the hiredis context; whoever called decides whether it is still to be freed. */
static void conn_detach(struct rq_conn *c)
{
    if (c->ac != NULL)
        c->ac->data = NULL;
    c->ac = NULL;
    c->state = CONN_DOWN;
    c->loads_left = 0;
    c->broken = 0;
}

static uint64_t next_random(struct rq_conn *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}

/* Exponential backoff with jitter: base * 2^retries, capped, times a factor in [0.5, 1]. */
static void schedule_retry(struct rq_conn *c)
{
    if (c->closing)
        return;
    uint64_t delay = c->cfg.backoff_cap_ms;
    if (c->retries < 32 && (c->cfg.backoff_base_ms << c->retries) < delay)
        delay = c->cfg.backoff_base_ms << c->retries;
    delay = delay / 2 + next_random(c) % (delay / 2 + 1);
    c->retries++;
    uv_timer_start(&c->retry_timer, on_retry, delay, 0);
}

/* hiredis is tearing the context down itself (connection lost, or connect failed): it
 * frees the context once its callbacks return. */
static void conn_lost(struct rq_conn *c, const redisAsyncContext *ac)
{
    if (c->ac != ac || ac == NULL)
        return;
    log_warn("rq", "redis connection lost: conn=%s at=%s port=%d error=\"%s\"", c->name,
             conn_where(c), c->cfg.port, ac->errstr != NULL ? ac->errstr : "closed");
    conn_detach(c);
    schedule_retry(c);
    if (!c->closing)
        rearm(c);
}

/* We drop the connection (timeout, bad script load): every command sent on it fails. */
static void conn_drop(struct rq_conn *c, const char *why)
{
    redisAsyncContext *ac = c->ac;
    if (ac == NULL)
        return;
    log_warn("rq", "dropping the redis connection: conn=%s reason=\"%s\"", c->name, why);
    conn_detach(c);
    schedule_retry(c);
    redisAsyncFree(ac); /* runs on_reply with no reply for each command sent */
    if (!c->closing)
        rearm(c);
}

/* ---- sending ---- */

static void on_reply(redisAsyncContext *ac, void *r, void *privdata);

/* Hands a command to hiredis and puts it in sent; -1 if hiredis refuses it. */
static int cmd_send(struct rq_conn *c, struct cmd *cmd)
{
    size_t n = cmd->kind == CMD_LOAD ? 3 : cmd->argc + 3;
    const char **argv = xcalloc(n, sizeof(*argv));
    size_t *lens = xcalloc(n, sizeof(*lens));
    const char *body = c->cfg.scripts[cmd->script];
    if (cmd->kind == CMD_LOAD) {
        argv[0] = "SCRIPT";
        argv[1] = "LOAD";
        argv[2] = body;
    } else {
        argv[0] = cmd->retried ? "EVAL" : "EVALSHA";
        argv[1] = cmd->retried ? body : c->shas[cmd->script];
        argv[2] = "0"; /* no KEYS: the scripts build their keys from the prefix */
        for (size_t i = 0; i < cmd->argc; i++) {
            argv[i + 3] = cmd->argv[i];
            lens[i + 3] = cmd->lens[i];
        }
    }
    for (size_t i = 0; i < 3; i++)
        lens[i] = strlen(argv[i]);
    int rc = redisAsyncCommandArgv(c->ac, on_reply, cmd, (int)n, argv, lens);
    free(argv);
    free(lens);
    if (rc != REDIS_OK)
        return -1;
    list_insert_tail(&c->sent, &cmd->link);
    return 0;
}

static void send_or_fail(struct rq_conn *c, struct cmd *cmd)
{
    if (cmd_send(c, cmd) != 0)
        defer_cmd(c, cmd, rq_err_unavailable);
}

/* Setting up failed where the context may not be freed (hiredis 0.14 runs the connect
 * callback outside its callback guard): the deadline timer drops it at once. */
static void conn_drop_soon(struct rq_conn *c)
{
    c->broken = 1;
    uv_timer_start(&c->deadline_timer, on_deadline, 0, 0);
}

static void subscribe_now(struct rq_conn *c)
{
    const char *argv[2] = {"SUBSCRIBE", c->channel};
    size_t lens[2] = {9, strlen(c->channel)};
    if (redisAsyncCommandArgv(c->ac, on_reply, NULL, 2, argv, lens) != REDIS_OK)
        conn_drop_soon(c);
}

static void become_ready(struct rq_conn *c)
{
    c->state = CONN_READY;
    c->retries = 0;
    c->ever_ready = 1;
    log_info("rq", "redis connection ready: conn=%s at=%s port=%d scripts=%zu", c->name,
             conn_where(c), c->cfg.port, c->cfg.nscripts);
    if (c->channel != NULL) {
        subscribe_now(c);
        return;
    }
    struct cmd *cmd;
    while (c->state == CONN_READY && (cmd = first_cmd(&c->waiting)) != NULL) {
        list_remove(&cmd->link);
        send_or_fail(c, cmd);
    }
}

static void start_loading(struct rq_conn *c)
{
    c->state = CONN_LOADING;
    c->loads_left = c->cfg.nscripts;
    if (c->loads_left == 0) {
        become_ready(c);
        return;
    }
    for (size_t i = 0; i < c->cfg.nscripts; i++) {
        struct cmd *cmd = cmd_new(c, CMD_LOAD, NULL, NULL);
        cmd->script = i;
        if (cmd_send(c, cmd) != 0) {
            cmd_free(cmd);
            conn_drop_soon(c);
            return;
        }
    }
}

/* ---- hiredis callbacks ---- */

static void on_loaded(struct rq_conn *c, struct cmd *cmd, const redisReply *reply)
{
    size_t script = cmd->script;
    cmd_finish(cmd, NULL, NULL);
    if (reply->type != REDIS_REPLY_STRING || reply->len != SHA_LEN) {
        log_error("rq", "SCRIPT LOAD failed: conn=%s script=%zu error=\"%.200s\"", c->name, script,
                  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        conn_drop(c, "a script did not load");
        return;
    }
    memcpy(c->shas[script], reply->str, SHA_LEN);
    c->shas[script][SHA_LEN] = '\0';
    if (--c->loads_left == 0 && c->state == CONN_LOADING)
        become_ready(c);
}

static int is_noscript(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR && reply->str != NULL &&
           strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

static void on_message_reply(struct rq_conn *c, const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    const redisReply *kind = reply->element[0], *msg = reply->element[2];
    if (kind->type == REDIS_REPLY_STRING && strcmp(kind->str, "subscribe") == 0) {
        /* (Re)subscribed: whatever was published meanwhile is lost; say so. */
        if (c->on_message != NULL)
            c->on_message(c->message_ud, NULL, 0);
        return;
    }
    if (kind->type != REDIS_REPLY_STRING || strcmp(kind->str, "message") != 0 ||
        msg->type != REDIS_REPLY_STRING)
        return;
    if (c->on_message != NULL)
        c->on_message(c->message_ud, msg->str, msg->len);
}

static void on_sub_reply(redisAsyncContext *ac, redisReply *reply)
{
    struct rq_conn *c = ac->data;
    if (c == NULL || c->closing)
        return;
    if (reply == NULL) {
        conn_lost(c, ac);
        return;
    }
    on_message_reply(c, reply);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct cmd *cmd = privdata;
    redisReply *reply = r;
    if (cmd == NULL) {
        on_sub_reply(ac, reply);
        return;
    }
    struct rq_conn *c = cmd->conn;
    if (cmd->answered) {
        cmd_free(cmd);
        return;
    }
    if (reply == NULL) {
        conn_lost(c, ac);
        cmd_finish(cmd, cmd->err != NULL ? cmd->err : rq_err_unavailable, NULL);
        return;
    }
    list_remove(&cmd->link);
    if (cmd->kind == CMD_LOAD) {
        on_loaded(c, cmd, reply);
        return;
    }
    if (is_noscript(reply) && !cmd->retried && c->state == CONN_READY && !c->closing) {
        cmd->retried = 1;
        cmd->deadline = uv_now(c->loop) + c->cfg.command_timeout_ms;
        send_or_fail(c, cmd);
        rearm(c);
        return;
    }
    cmd_finish(cmd, NULL, reply);
    if (!c->closing)
        rearm(c);
}

static void on_connected(const redisAsyncContext *ac, int status)
{
    struct rq_conn *c = ac->data;
    if (c == NULL || c->ac != ac)
        return;
    if (status != REDIS_OK) {
        log_connect_failed(c, ac->errstr);
        conn_detach(c); /* hiredis frees the context after this callback */
        schedule_retry(c);
        rearm(c);
        return;
    }
    start_loading(c);
    rearm(c);
}

static void on_disconnected(const redisAsyncContext *ac, int status)
{
    struct rq_conn *c = ac->data;
    if (c != NULL)
        conn_lost(c, ac);
}

/* ---- connecting ---- */

static redisAsyncContext *open_context(struct rq_conn *c)
{
    redisAsyncContext *ac = c->host != NULL ? redisAsyncConnect(c->host, c->cfg.port)
                                            : redisAsyncConnectUnix(c->unix_path);
    if (ac == NULL)
        return NULL;
    if (ac->err != 0) {
        log_connect_failed(c, ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    /* Not inherited by processes the broker starts (a private redis-server, for one). */
    fcntl(ac->c.fd, F_SETFD, FD_CLOEXEC);
    if (glue_attach(ac, c->loop) != 0) {
        redisAsyncFree(ac);
        return NULL;
    }
    return ac;
}

static void conn_connect(struct rq_conn *c)
{
    redisAsyncContext *ac = open_context(c);
    if (ac == NULL) {
        schedule_retry(c);
        return;
    }
    ac->data = c;
    c->ac = ac;
    c->state = CONN_CONNECTING;
    c->connect_deadline = uv_now(c->loop) + c->cfg.command_timeout_ms;
    redisAsyncSetDisconnectCallback(ac, on_disconnected);
    redisAsyncSetConnectCallback(ac, on_connected);
    rearm(c);
}

static void on_retry(uv_timer_t *t)
{
    struct rq_conn *c = t->data;
    if (!c->closing && c->ac == NULL)
        conn_connect(c);
}

/* ---- deadlines ---- */

/* One timer per connection, set for the earliest deadline: replies come in order, so the
 * first command sent is always the first that can time out. */
static void rearm(struct rq_conn *c)
{
    uint64_t when = UINT64_MAX;
    struct cmd *cmd;
    if (c->broken)
        return; /* the timer is already set to fire at once */
    if ((cmd = first_cmd(&c->sent)) != NULL)
        when = cmd->deadline;
    if ((cmd = first_cmd(&c->waiting)) != NULL && cmd->deadline < when)
        when = cmd->deadline;
    if (c->state == CONN_CONNECTING && c->connect_deadline < when)
        when = c->connect_deadline;
    if (when == UINT64_MAX) {
        uv_timer_stop(&c->deadline_timer);
        return;
    }
    uint64_t now = uv_now(c->loop);
    uv_timer_start(&c->deadline_timer, on_deadline, when > now ? when - now : 0, 0);
}

/* Commands still waiting for a connection when their time is up: Redis is unavailable. */
static void expire_waiting(struct rq_conn *c, uint64_t now)
{
    struct cmd *cmd;
    while (!c->closing && (cmd = first_cmd(&c->waiting)) != NULL && cmd->deadline <= now)
        cmd_finish(cmd, rq_err_unavailable, NULL);
}

static void on_deadline(uv_timer_t *t)
{
    struct rq_conn *c = t->data;
    uint64_t now = uv_now(c->loop);
    struct cmd *cmd = first_cmd(&c->sent);
    if (c->broken) {
        conn_drop(c, "setting up the connection failed");
    } else if (c->state == CONN_CONNECTING && c->connect_deadline <= now) {
        conn_drop(c, "connect timed out");
    } else if (cmd != NULL && cmd->deadline <= now) {
        struct list *pos, *tmp;
        list_for_each_safe(pos, tmp, &c->sent)
        {
            cmd = container_of(pos, struct cmd, link);
            if (cmd->deadline <= now)
                cmd->err = rq_err_timeout;
        }
        conn_drop(c, "a command timed out");
    }
    if (c->closing)
        return;
    expire_waiting(c, now);
    if (!c->closing)
        rearm(c);
}

/* Runs the callbacks of deferred failures, those queued when this pass began. */
static void on_idle(uv_idle_t *h)
{
    struct rq_conn *c = h->data;
    size_t n = 0;
    struct list *pos;
    for (pos = c->done.next; pos != &c->done; pos = pos->next)
        n++;
    struct cmd *cmd;
    while (n-- > 0 && !c->closing && (cmd = first_cmd(&c->done)) != NULL)
        cmd_finish(cmd, cmd->err, NULL);
    if (!c->closing && list_empty(&c->done))
        uv_idle_stop(&c->idle);
}

/* ---- public ---- */

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

struct rq_conn *rq_conn_new(uv_loop_t *loop, const struct rq_conn_config *cfg)
{
    struct rq_conn *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->cfg = *cfg;
    c->name = xstrdup(cfg->name != NULL ? cfg->name : "redis");
    c->host = dup_or_null(cfg->host);
    c->unix_path = c->host == NULL ? xstrdup(cfg->unix_path != NULL ? cfg->unix_path : "") : NULL;
    c->cfg.name = c->name;
    c->cfg.host = c->host;
    c->cfg.unix_path = c->unix_path;
    if (c->cfg.backoff_base_ms == 0)
        c->cfg.backoff_base_ms = 1;
    if (c->cfg.backoff_cap_ms < c->cfg.backoff_base_ms)
        c->cfg.backoff_cap_ms = c->cfg.backoff_base_ms;
    c->shas = xcalloc(cfg->nscripts ? cfg->nscripts : 1, sizeof(*c->shas));
    list_init(&c->waiting);
    list_init(&c->sent);
    list_init(&c->done);
    c->rng = (uv_hrtime() ^ (uint64_t)(uintptr_t)c) | 1;
    uv_timer_init(loop, &c->deadline_timer);
    uv_timer_init(loop, &c->retry_timer);
    uv_idle_init(loop, &c->idle);
    c->deadline_timer.data = c->retry_timer.data = c->idle.data = c;
    c->handles_open = 3;
    conn_connect(c);
    return c;
}

int rq_conn_ready(const struct rq_conn *c)
{
    return c->state == CONN_READY;
}

void rq_conn_defer(struct rq_conn *c, const char *err, rq_conn_reply_cb cb, void *ud)
{
    defer_cmd(c, cmd_new(c, CMD_DEFERRED, cb, ud), err);
}

void rq_conn_eval(struct rq_conn *c, size_t script, size_t argc, const char *const *argv,
                  const size_t *lens, rq_conn_reply_cb cb, void *ud)
{
    if (c->closing || script >= c->cfg.nscripts || c->channel != NULL) {
        rq_conn_defer(c, rq_err_unavailable, cb, ud);
        return;
    }
    if (c->pending >= c->cfg.max_pending) {
        log_warn("rq", "redis command refused: conn=%s pending=%zu", c->name, c->pending);
        rq_conn_defer(c, rq_conn_err_full, cb, ud);
        return;
    }
    struct cmd *cmd = cmd_new(c, CMD_EVAL, cb, ud);
    cmd->script = script;
    cmd_copy_args(cmd, argc, argv, lens);
    c->pending++;
    if (c->state == CONN_READY)
        send_or_fail(c, cmd);
    else
        list_insert_tail(&c->waiting, &cmd->link);
    rearm(c);
}

void rq_conn_subscribe(struct rq_conn *c, const char *channel, rq_conn_message_cb cb, void *ud)
{
    c->on_message = cb;
    c->message_ud = ud;
    if (c->channel != NULL)
        return; /* already subscribed: only the callback changes */
    c->channel = xstrdup(channel);
    if (c->state == CONN_READY)
        subscribe_now(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct rq_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    free(c->name);
    free(c->host);
    free(c->unix_path);
    free(c->channel);
    free(c->shas);
    free(c);
}

/* Fails every pending command; callbacks may add more, which fail in turn. Commands that
 * hiredis holds are only answered: hiredis's callback frees them. */
static void fail_all(struct rq_conn *c)
{
    for (;;) {
        struct cmd *cmd = first_cmd(&c->done);
        if (cmd == NULL)
            cmd = first_cmd(&c->waiting);
        if (cmd != NULL) {
            cmd_finish(cmd, cmd->err != NULL ? cmd->err : rq_err_unavailable, NULL);
            continue;
        }
        if ((cmd = first_cmd(&c->sent)) == NULL)
            return;
        cmd_answer(cmd, cmd->err != NULL ? cmd->err : rq_err_unavailable, NULL);
    }
}

void rq_conn_free(struct rq_conn *c)
{
    if (c == NULL || c->closing)
        return;
    c->closing = 1;
    fail_all(c);
    if (c->ac != NULL) {
        redisAsyncContext *ac = c->ac;
        conn_detach(c);
        redisAsyncFree(ac); /* deferred by hiredis when called from one of its callbacks */
    }
    fail_all(c);
    uv_close((uv_handle_t *)&c->deadline_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->retry_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->idle, on_handle_closed);
}
