/* End-to-end load generator for the broker (bench/broker): participants submit over Socket.IO,
 * graders run each job at once (one progress, then complete); measures completed submissions/s
 * and the latency from a grader's progress emit to the participant receiving that event. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../bench_hist.h"
#include "../bench_proc.h"

#define MAX_PER_PARTICIPANT 8
#define MAX_FRAME           (16 * 1024 * 1024)
#define MAX_HTTP_HEAD       16384
#define MAX_LOGGED          12
#define MAX_TOKEN           512
#define MAX_KEY             160
#define WS_GUID             "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Progress emit times by submission id: a direct-mapped table, the id kept to detect reuse. */
#define PROGRESS_SLOTS (1u << 20)

enum role { ROLE_PARTICIPANT, ROLE_GRADER, ROLE_METRICS };

enum conn_state {
    ST_CONNECTING,  /* TCP connect in progress */
    ST_HTTP,        /* upgrade (or GET /metrics) sent, waiting for the response */
    ST_EIO_OPEN,    /* waiting for the Engine.IO open packet */
    ST_SIO_CONNECT, /* CONNECT sent, waiting for the namespace's answer */
    ST_AUTH,        /* participant: authenticate sent, waiting for its ack */
    ST_READY,
    ST_DONE, /* closed without error (a finished /metrics request) */
    ST_DEAD,
};

enum phase { PH_CONNECT, PH_RUN, PH_DRAIN, PH_DONE };

enum slot_state { SLOT_FREE, SLOT_SUBMITTING, SLOT_QUEUED };

/* One submission of a participant, from its submit to its COMPLETE. */
struct slot {
    enum slot_state state;
    long long ack_id;
    int64_t sub_id;
    int64_t last_seq;
    bool got_progress;
    uint64_t submitted_ns;
};

struct conn {
    int fd;
    enum role role;
    enum conn_state state;
    bool polling_out;
    bool dirty; /* on the list of connections to flush */
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_cap;
    char accept[32];
    long long next_ack;
    /* participants */
    const char *api_key;
    char token[MAX_TOKEN];
    long long auth_ack;
    struct slot slots[MAX_PER_PARTICIPANT];
    int busy;       /* slots in use */
    bool in_idle;   /* on the ring of participants that may submit */
    uint64_t count; /* submissions made, for client_submission_id */
    /* graders */
    const char *grader_key;
    int grader_no;
    int acks_due;
    /* the /metrics request */
    int metrics_no;
};

struct options {
    int port;
    const char *keys_file;
    const char *grader_keys_file;
    const char *challenge;
    const char *pool;
    const char *acked_file;
    int participants; /* 0: every key in the file */
    int graders;
    int capacity;
    int per_participant;
    int window;  /* submissions in flight overall; 0: participants * per_participant */
    double rate; /* > 0: submissions started per second (open loop) instead of a window */
    int max_connecting;
    int broker_pid;
    int redis_pid;
    double warmup_s;
    double duration_s;
    double drain_s;
    double connect_timeout_s;
};

struct progress_mark {
    int64_t sub_id;
    uint64_t at_ns;
};

struct proc_cpu {
    long start, end;                /* clock ticks, -1 when unknown */
    long long wait_start, wait_end; /* ns runnable but waiting for a CPU (main thread), or -1 */
};

struct bench {
    struct options opt;
    int epfd;
    struct conn *conns; /* graders first, then participants */
    struct conn metrics[2];
    int nconns, ngraders;
    int started, ready, dead;
    enum phase phase;
    uint64_t connect_deadline, t_measure, t_end, drain_deadline;
    bool measuring;
    /* keys */
    char (*api_keys)[MAX_KEY];
    int nkeys;
    char (*grader_keys)[MAX_KEY];
    int ngrader_keys;
    /* participants that may submit (a ring of conn indexes) */
    int *idle;
    int idle_head, idle_count, idle_cap;
    int in_flight;
    uint64_t t_run, rate_started, rate_skipped; /* --rate: start of the run, counts */
    /* results */
    uint64_t submitted, acked, completed, completed_window, jobs, jobs_window;
    uint64_t errors, logged, missing_progress, refused;
    struct bench_hist progress_lat, e2e_lat;
    struct progress_mark *marks;
    int64_t *acked_ids;
    size_t nacked_ids, acked_ids_cap;
    double scores_applied[2];
    uint64_t scores_at_ns[2];
    bool metrics_ok[2];
    double cpu_start, cpu_end;
    struct proc_cpu broker_cpu, redis_cpu;
    uint64_t measure_started_ns, measure_ended_ns;
    struct conn **dirty;
    int ndirty;
    uint64_t rng;
    char run_tag[32];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t next_random(struct bench *b)
{
    /* xorshift64 for masking keys and handshake nonces */
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

/* Time the process's main thread spent runnable but not running (/proc/<pid>/schedstat), in
 * ns, or -1: on a machine with few cores this is the share lost to other processes. */
static long long proc_wait_ns(int pid)
{
    if (pid <= 0)
        return -1;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long long on_cpu, waiting;
    int n = fscanf(f, "%llu %llu", &on_cpu, &waiting);
    fclose(f);
    return n == 2 ? (long long)waiting : -1;
}

static double proc_wait_share(const struct proc_cpu *p, double seconds)
{
    if (p->wait_start < 0 || p->wait_end < 0 || seconds <= 0)
        return -1;
    return (double)(p->wait_end - p->wait_start) / 1e9 / seconds;
}

static double proc_cores(const struct proc_cpu *p, double seconds)
{
    if (p->start < 0 || p->end < 0 || seconds <= 0)
        return -1;
    return (double)(p->end - p->start) / (double)sysconf(_SC_CLK_TCK) / seconds;
}

static void *xalloc_zero(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "broker_load: out of memory\n");
        exit(2);
    }
    return p;
}

static void grow_buffer(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 2048;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p) {
        fprintf(stderr, "broker_load: out of memory\n");
        exit(2);
    }
    *buf = p;
    *cap = n;
}

/* ---- a little JSON scanning: only what the broker's compact replies need ---- */

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON value starting at p (just past it), or NULL if the text ends first. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;
    bool in_string = false;
    for (; p < end; p++) {
        if (in_string) {
            if (*p == '\\') {
                p++;
            } else if (*p == '"') {
                in_string = false;
                if (depth == 0)
                    return p + 1;
            }
            continue;
        }
        switch (*p) {
        case '"':
            in_string = true;
            break;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (depth == 0)
                return p; /* a scalar ended by its container */
            if (--depth == 0)
                return p + 1;
            break;
        case ',':
            if (depth == 0)
                return p;
            break;
        default:
            break;
        }
    }
    return depth == 0 ? p : NULL;
}

/* The value of a top-level member of the object that starts at obj, or NULL. */
static const char *json_member(const char *obj, const char *end, const char *key)
{
    size_t key_len = strlen(key);
    const char *p = skip_space(obj, end);
    if (p >= end || *p != '{')
        return NULL;
    p++;
    for (;;) {
        p = skip_space(p, end);
        if (p < end && *p == ',')
            p = skip_space(p + 1, end);
        if (p >= end || *p != '"')
            return NULL;
        const char *name = ++p;
        while (p < end && *p != '"')
            p += *p == '\\' ? 2 : 1;
        if (p >= end)
            return NULL;
        bool match = (size_t)(p - name) == key_len && memcmp(name, key, key_len) == 0;
        p = skip_space(p + 1, end);
        if (p >= end || *p != ':')
            return NULL;
        p = skip_space(p + 1, end);
        if (match)
            return p;
        p = skip_value(p, end);
        if (!p)
            return NULL;
    }
}

static bool json_int_at(const char *v, const char *end, int64_t *out)
{
    if (!v)
        return false;
    bool negative = v < end && *v == '-';
    const char *p = v + negative;
    int64_t n = 0;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9')
        n = n * 10 + (*p++ - '0');
    if (p == digits)
        return false;
    *out = negative ? -n : n;
    return true;
}

/* Copies a JSON string value (escapes reduced to the escaped byte); false if it does not fit. */
static bool json_string_at(const char *v, const char *end, char *out, size_t cap)
{
    if (!v || v >= end || *v != '"')
        return false;
    size_t n = 0;
    for (const char *p = v + 1; p < end; p++) {
        if (*p == '"') {
            out[n] = '\0';
            return true;
        }
        if (*p == '\\' && ++p >= end)
            return false;
        if (n + 1 >= cap)
            return false;
        out[n++] = *p;
    }
    return false;
}

static bool json_is_true(const char *v, const char *end)
{
    return v && end - v >= 4 && memcmp(v, "true", 4) == 0;
}

/* ---- connections and frames ---- */

static void log_error(struct bench *b, const struct conn *c, const char *what, const char *detail,
                      size_t detail_len)
{
    b->errors++;
    if (b->logged >= MAX_LOGGED)
        return;
    b->logged++;
    const char *role = c->role == ROLE_GRADER    ? "grader"
                       : c->role == ROLE_METRICS ? "metrics"
                                                 : "participant";
    int index = c->role == ROLE_METRICS ? c->metrics_no : (int)(c - b->conns);
    if (detail_len > 300)
        detail_len = 300;
    fprintf(stderr, "broker_load: %s %d: %s%s%.*s\n", role, index, what, detail ? ": " : "",
            detail ? (int)detail_len : 0, detail ? detail : "");
}

static void conn_fail(struct bench *b, struct conn *c, const char *why)
{
    if (c->state == ST_DEAD || c->state == ST_DONE)
        return;
    log_error(b, c, why, NULL, 0);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = ST_DEAD;
    if (c->role != ROLE_METRICS)
        b->dead++;
    if (c->role == ROLE_PARTICIPANT) {
        for (int i = 0; i < MAX_PER_PARTICIPANT; i++) {
            if (c->slots[i].state != SLOT_FREE) {
                c->slots[i].state = SLOT_FREE;
                b->in_flight--;
            }
        }
        c->busy = 0;
    }
}

static void mark_dirty(struct bench *b, struct conn *c)
{
    if (!c->dirty) {
        c->dirty = true;
        b->dirty[b->ndirty++] = c;
    }
}

static void set_events(struct bench *b, struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Appends one masked client frame (RFC 6455 section 5.2). */
static void queue_frame(struct bench *b, struct conn *c, int opcode, const char *data, size_t len)
{
    grow_buffer(&c->out, &c->out_cap, c->out_len + len + 14);
    unsigned char *p = (unsigned char *)c->out + c->out_len;
    size_t h = 0;
    p[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        p[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        p[h++] = 0x80 | 126;
        p[h++] = (unsigned char)(len >> 8);
        p[h++] = (unsigned char)len;
    } else {
        p[h++] = 0x80 | 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            p[h++] = (unsigned char)((uint64_t)len >> shift);
    }
    uint32_t key = (uint32_t)next_random(b);
    unsigned char mask[4];
    memcpy(mask, &key, 4);
    memcpy(p + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        p[h + i] = (unsigned char)data[i] ^ mask[i & 3];
    c->out_len += h + len;
    mark_dirty(b, c);
}

static void queue_text(struct bench *b, struct conn *c, const char *text, size_t len)
{
    queue_frame(b, c, 1, text, len);
}

static void flush_out(struct bench *b, struct conn *c)
{
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_fail(b, c, strerror(errno));
            return;
        }
        off += (size_t)n;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    if (c->out_len > 0 && !c->polling_out) {
        set_events(b, c, EPOLLIN | EPOLLOUT);
        c->polling_out = true;
    } else if (c->out_len == 0 && c->polling_out) {
        set_events(b, c, EPOLLIN);
        c->polling_out = false;
    }
}

static void flush_dirty(struct bench *b)
{
    for (int i = 0; i < b->ndirty; i++) {
        struct conn *c = b->dirty[i];
        c->dirty = false;
        if (c->state != ST_DEAD && c->state != ST_DONE && c->state != ST_CONNECTING)
            flush_out(b, c);
    }
    b->ndirty = 0;
}

/* ---- participants ---- */

static void idle_push(struct bench *b, struct conn *c)
{
    if (c->in_idle || c->state != ST_READY || c->busy >= b->opt.per_participant)
        return;
    b->idle[(b->idle_head + b->idle_count) % b->idle_cap] = (int)(c - b->conns);
    b->idle_count++;
    c->in_idle = true;
}

static struct conn *idle_pop(struct bench *b)
{
    while (b->idle_count > 0) {
        struct conn *c = &b->conns[b->idle[b->idle_head]];
        b->idle_head = (b->idle_head + 1) % b->idle_cap;
        b->idle_count--;
        c->in_idle = false;
        if (c->state == ST_READY && c->busy < b->opt.per_participant)
            return c;
    }
    return NULL;
}

static void submit_one(struct bench *b, struct conn *c, uint64_t now)
{
    struct slot *s = NULL;
    for (int i = 0; i < b->opt.per_participant; i++) {
        if (c->slots[i].state == SLOT_FREE) {
            s = &c->slots[i];
            break;
        }
    }
    if (!s)
        return;
    *s = (struct slot){.state = SLOT_SUBMITTING, .ack_id = c->next_ack++, .submitted_ns = now};
    c->busy++;
    c->count++;
    b->in_flight++;
    b->submitted++;
    char msg[1024];
    int n = snprintf(msg, sizeof(msg),
                     "42%lld[\"submit\",{\"session_token\":\"%s\",\"challenge_id\":\"%s\","
                     "\"client_submission_id\":\"%s-%d-%llu\",\"data\":{\"n\":%llu}}]",
                     s->ack_id, c->token, b->opt.challenge, b->run_tag, (int)(c - b->conns),
                     (unsigned long long)c->count, (unsigned long long)c->count);
    queue_text(b, c, msg, (size_t)n);
}

/* Keeps the window of submissions in flight full, taking participants in turn. With --rate,
 * starts the submissions due by now instead; one due while every participant is busy is
 * skipped (counted), not made up later in a burst. */
static void fill_window(struct bench *b, uint64_t now)
{
    if (b->opt.rate > 0) {
        uint64_t due = (uint64_t)((double)(now - b->t_run) / 1e9 * b->opt.rate);
        while (b->phase == PH_RUN && b->rate_started < due) {
            struct conn *c = idle_pop(b);
            b->rate_started++;
            if (!c) {
                b->rate_skipped++;
                continue;
            }
            submit_one(b, c, now);
            idle_push(b, c);
        }
        return;
    }
    while (b->phase == PH_RUN && b->in_flight < b->opt.window) {
        struct conn *c = idle_pop(b);
        if (!c)
            return;
        submit_one(b, c, now);
        idle_push(b, c);
    }
}

static struct slot *slot_by_ack(struct conn *c, long long ack)
{
    for (int i = 0; i < MAX_PER_PARTICIPANT; i++) {
        if (c->slots[i].state == SLOT_SUBMITTING && c->slots[i].ack_id == ack)
            return &c->slots[i];
    }
    return NULL;
}

static struct slot *slot_by_sub(struct conn *c, int64_t sub_id)
{
    for (int i = 0; i < MAX_PER_PARTICIPANT; i++) {
        if (c->slots[i].state == SLOT_QUEUED && c->slots[i].sub_id == sub_id)
            return &c->slots[i];
    }
    return NULL;
}

static void release_slot(struct bench *b, struct conn *c, struct slot *s)
{
    s->state = SLOT_FREE;
    c->busy--;
    b->in_flight--;
    idle_push(b, c);
}

static bool in_window(const struct bench *b, uint64_t now)
{
    return b->measuring && now >= b->t_measure && now < b->t_end;
}

static void record_acked_id(struct bench *b, int64_t id)
{
    if (b->nacked_ids == b->acked_ids_cap) {
        b->acked_ids_cap = b->acked_ids_cap ? b->acked_ids_cap * 2 : 4096;
        int64_t *p = realloc(b->acked_ids, b->acked_ids_cap * sizeof(*p));
        if (!p) {
            fprintf(stderr, "broker_load: out of memory\n");
            exit(2);
        }
        b->acked_ids = p;
    }
    b->acked_ids[b->nacked_ids++] = id;
}

/* The ack of authenticate or of a submit. */
static void participant_ack(struct bench *b, struct conn *c, long long ack, const char *json,
                            const char *end)
{
    const char *obj = skip_space(json, end);
    if (obj < end && *obj == '[')
        obj++;
    bool ok = json_is_true(json_member(obj, end, "ok"), end);
    if (c->state == ST_AUTH && ack == c->auth_ack) {
        if (!ok || !json_string_at(json_member(obj, end, "session_token"), end, c->token,
                                   sizeof(c->token))) {
            log_error(b, c, "authenticate refused", json, (size_t)(end - json));
            conn_fail(b, c, "no session");
            return;
        }
        c->state = ST_READY;
        b->ready++;
        return;
    }
    struct slot *s = slot_by_ack(c, ack);
    if (!s) {
        log_error(b, c, "ack for an unknown id", json, (size_t)(end - json));
        return;
    }
    int64_t sub_id;
    if (!ok || !json_int_at(json_member(obj, end, "submission_id"), end, &sub_id)) {
        b->refused++;
        log_error(b, c, "submit refused", json, (size_t)(end - json));
        release_slot(b, c, s);
        fill_window(b, bench_now_ns());
        return;
    }
    b->acked++;
    record_acked_id(b, sub_id);
    s->state = SLOT_QUEUED;
    s->sub_id = sub_id;
    s->last_seq = 0;
}

/* 42["submission_event",{...}] */
static void participant_event(struct bench *b, struct conn *c, const char *json, const char *end,
                              uint64_t now)
{
    static const char name[] = "[\"submission_event\",";
    size_t name_len = sizeof(name) - 1;
    if ((size_t)(end - json) < name_len || memcmp(json, name, name_len) != 0) {
        log_error(b, c, "unexpected event", json, (size_t)(end - json));
        return;
    }
    const char *obj = json + name_len;
    int64_t sub_id, seq;
    char type[32];
    if (!json_int_at(json_member(obj, end, "submission_id"), end, &sub_id) ||
        !json_int_at(json_member(obj, end, "seq"), end, &seq) ||
        !json_string_at(json_member(obj, end, "type"), end, type, sizeof(type))) {
        log_error(b, c, "malformed submission_event", json, (size_t)(end - json));
        return;
    }
    struct slot *s = slot_by_sub(c, sub_id);
    if (!s) {
        log_error(b, c, "event for a submission not in flight", json, (size_t)(end - json));
        return;
    }
    if (seq != s->last_seq + 1)
        log_error(b, c, "events out of order or repeated", json, (size_t)(end - json));
    s->last_seq = seq;
    if (strcmp(type, "PROGRESS_UPDATE") == 0) {
        struct progress_mark *m = &b->marks[(uint64_t)sub_id & (PROGRESS_SLOTS - 1)];
        s->got_progress = true;
        if (m->sub_id != sub_id)
            b->missing_progress++;
        else if (in_window(b, now))
            bench_hist_add(&b->progress_lat, now - m->at_ns);
        return;
    }
    if (strcmp(type, "COMPLETE") == 0) {
        if (!s->got_progress)
            log_error(b, c, "COMPLETE without a PROGRESS_UPDATE before it", json,
                      (size_t)(end - json));
        b->completed++;
        if (in_window(b, now)) {
            b->completed_window++;
            bench_hist_add(&b->e2e_lat, now - s->submitted_ns);
        }
        release_slot(b, c, s);
        fill_window(b, now);
        return;
    }
    if (strcmp(type, "ENQUEUED") == 0 || strcmp(type, "RUNNING") == 0)
        return;
    /* WAITING, INFO, ERROR, TIMEOUT, CANCELLED: not expected with graders online */
    log_error(b, c, "unexpected event type", json, (size_t)(end - json));
    if (strcmp(type, "ERROR") == 0 || strcmp(type, "TIMEOUT") == 0 ||
        strcmp(type, "CANCELLED") == 0) {
        release_slot(b, c, s);
        fill_window(b, now);
    }
}

/* ---- graders ---- */

static void grader_job(struct bench *b, struct conn *c, const char *json, const char *end,
                       uint64_t now)
{
    static const char name[] = "[\"job\",";
    size_t name_len = sizeof(name) - 1;
    if ((size_t)(end - json) < name_len || memcmp(json, name, name_len) != 0) {
        log_error(b, c, "unexpected event", json, (size_t)(end - json));
        return;
    }
    const char *obj = json + name_len;
    int64_t sub_id;
    char lease[40];
    if (!json_int_at(json_member(obj, end, "submission_id"), end, &sub_id) ||
        !json_string_at(json_member(obj, end, "lease_token"), end, lease, sizeof(lease))) {
        log_error(b, c, "malformed job", json, (size_t)(end - json));
        return;
    }
    b->jobs++;
    if (in_window(b, now))
        b->jobs_window++;
    char msg[512];
    int n = snprintf(msg, sizeof(msg),
                     "42/grader,%lld[\"progress\",{\"submission_id\":%lld,\"lease_token\":\"%s\","
                     "\"percent\":50,\"message\":\"half way\"}]",
                     c->next_ack++, (long long)sub_id, lease);
    queue_text(b, c, msg, (size_t)n);
    n = snprintf(msg, sizeof(msg),
                 "42/grader,%lld[\"complete\",{\"submission_id\":%lld,\"lease_token\":\"%s\","
                 "\"score\":%lld.5,\"score_secondary\":null}]",
                 c->next_ack++, (long long)sub_id, lease, (long long)(sub_id % 1000));
    queue_text(b, c, msg, (size_t)n);
    c->acks_due += 2;
    /* sent at once, not at the end of this batch of events: the emit time is the send's */
    struct progress_mark *m = &b->marks[(uint64_t)sub_id & (PROGRESS_SLOTS - 1)];
    m->sub_id = sub_id;
    m->at_ns = bench_now_ns();
    flush_out(b, c);
}

static void grader_ack(struct bench *b, struct conn *c, const char *json, const char *end)
{
    const char *obj = skip_space(json, end);
    if (obj < end && *obj == '[')
        obj++;
    c->acks_due--;
    if (!json_is_true(json_member(obj, end, "ok"), end))
        log_error(b, c, "report refused", json, (size_t)(end - json));
}

/* ---- Socket.IO over Engine.IO ---- */

static void send_connect(struct bench *b, struct conn *c)
{
    char msg[512];
    int n;
    if (c->role == ROLE_GRADER)
        n = snprintf(msg, sizeof(msg),
                     "40/grader,{\"grader_key\":\"%s\",\"pools\":[\"%s\"],\"capacity\":%d,"
                     "\"name\":\"bench-g%d\"}",
                     c->grader_key, b->opt.pool, b->opt.capacity, c->grader_no);
    else
        n = snprintf(msg, sizeof(msg), "40");
    queue_text(b, c, msg, (size_t)n);
    c->state = ST_SIO_CONNECT;
}

static void send_authenticate(struct bench *b, struct conn *c)
{
    char msg[512];
    c->auth_ack = c->next_ack++;
    int n = snprintf(msg, sizeof(msg),
                     "42%lld[\"authenticate\",{\"api_key\":\"%s\",\"challenge_id\":\"%s\","
                     "\"client_version\":\"broker_load\"}]",
                     c->auth_ack, c->api_key, b->opt.challenge);
    queue_text(b, c, msg, (size_t)n);
    c->state = ST_AUTH;
}

/* One Socket.IO packet: <type>[/nsp,][ack id][json]. */
static void on_sio_packet(struct bench *b, struct conn *c, const char *p, size_t n, uint64_t now)
{
    const char *end = p + n;
    char type = *p++;
    if (p < end && *p == '/') {
        while (p < end && *p != ',')
            p++;
        if (p < end)
            p++;
    }
    long long ack = -1;
    if (p < end && *p >= '0' && *p <= '9') {
        ack = 0;
        while (p < end && *p >= '0' && *p <= '9')
            ack = ack * 10 + (*p++ - '0');
    }
    switch (type) {
    case '0':
        if (c->state != ST_SIO_CONNECT) {
            conn_fail(b, c, "unexpected CONNECT");
        } else if (c->role == ROLE_GRADER) {
            c->state = ST_READY;
            b->ready++;
        } else {
            send_authenticate(b, c);
        }
        return;
    case '2':
        if (c->role == ROLE_GRADER)
            grader_job(b, c, p, end, now);
        else
            participant_event(b, c, p, end, now);
        return;
    case '3':
        if (c->role == ROLE_GRADER)
            grader_ack(b, c, p, end);
        else
            participant_ack(b, c, ack, p, end);
        return;
    case '4':
        log_error(b, c, "CONNECT_ERROR", p, (size_t)(end - p));
        conn_fail(b, c, "refused");
        return;
    default:
        conn_fail(b, c, "Socket.IO DISCONNECT or an unknown packet");
        return;
    }
}

/* One Engine.IO packet carried in a text frame. */
static void on_eio_packet(struct bench *b, struct conn *c, const char *p, size_t n, uint64_t now)
{
    if (n == 0) {
        conn_fail(b, c, "empty packet");
        return;
    }
    if (c->state == ST_EIO_OPEN) {
        if (n < 2 || p[0] != '0' || p[1] != '{') {
            conn_fail(b, c, "expected the Engine.IO open packet");
            return;
        }
        send_connect(b, c);
        return;
    }
    switch (p[0]) {
    case '2':
        queue_text(b, c, "3", 1);
        return;
    case '4':
        if (n >= 2)
            on_sio_packet(b, c, p + 1, n - 1, now);
        return;
    case '1':
        conn_fail(b, c, "Engine.IO close from the server");
        return;
    default:
        return; /* noop */
    }
}

/* Consumes every complete server frame; keeps a trailing partial one. */
static void parse_frames(struct bench *b, struct conn *c, uint64_t now)
{
    size_t pos = 0;
    while (c->state != ST_DEAD && c->in_len - pos >= 2) {
        const unsigned char *h = (const unsigned char *)c->in + pos;
        size_t avail = c->in_len - pos;
        int opcode = h[0] & 0x0f;
        uint64_t len = h[1] & 0x7f;
        size_t head = 2;
        if ((h[0] & 0x80) == 0 || opcode == 0 || (h[1] & 0x80) != 0) {
            conn_fail(b, c, "fragmented or masked server frame");
            return;
        }
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t)h[2] << 8 | h[3];
            head = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 2; i < 10; i++)
                len = len << 8 | h[i];
            head = 10;
        }
        if (len > MAX_FRAME) {
            conn_fail(b, c, "server frame too large");
            return;
        }
        if (avail < head + len) {
            grow_buffer(&c->in, &c->in_cap, pos + head + len);
            break;
        }
        const char *payload = c->in + pos + head;
        pos += head + len;
        if (opcode == 1)
            on_eio_packet(b, c, payload, len, now);
        else if (opcode == 8)
            conn_fail(b, c, "WebSocket close from the server");
        else if (opcode == 9)
            queue_frame(b, c, 10, payload, len);
    }
    if (c->state == ST_DEAD)
        return;
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
}

static void send_upgrade(struct bench *b, struct conn *c)
{
    unsigned char nonce[16], digest[SHA_DIGEST_LENGTH];
    char key[32], joined[96], req[512];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = next_random(b);
        memcpy(nonce + i, &r, 8);
    }
    EVP_EncodeBlock((unsigned char *)key, nonce, 16);
    snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID);
    SHA1((unsigned char *)joined, strlen(joined), digest);
    EVP_EncodeBlock((unsigned char *)c->accept, digest, SHA_DIGEST_LENGTH);
    int n = snprintf(req, sizeof(req),
                     "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     b->opt.port, key);
    grow_buffer(&c->out, &c->out_cap, c->out_len + (size_t)n);
    memcpy(c->out + c->out_len, req, (size_t)n);
    c->out_len += (size_t)n;
    c->state = ST_HTTP;
    mark_dirty(b, c);
}

/* The 101 response: returns its length, 0 while incomplete, -1 after failing the conn. */
static long check_upgrade(struct bench *b, struct conn *c)
{
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) {
        if (c->in_len <= MAX_HTTP_HEAD)
            return 0;
        conn_fail(b, c, "HTTP response headers too long");
        return -1;
    }
    size_t head_len = (size_t)(end - c->in) + 4;
    if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0) {
        conn_fail(b, c, "upgrade refused (no 101)");
        return -1;
    }
    static const char name[] = "sec-websocket-accept:";
    size_t name_len = sizeof(name) - 1;
    for (char *line = memchr(c->in, '\n', head_len); line && line < end;
         line = memchr(line, '\n', (size_t)(end - line))) {
        line++;
        if ((size_t)(end - line) > name_len && strncasecmp(line, name, name_len) == 0) {
            const char *v = skip_space(line + name_len, end);
            size_t accept_len = strlen(c->accept);
            if ((size_t)(end - v) >= accept_len && memcmp(v, c->accept, accept_len) == 0)
                return (long)head_len;
            break;
        }
    }
    conn_fail(b, c, "missing or wrong Sec-WebSocket-Accept");
    return -1;
}

/* ---- the /metrics request (scores applied to the registry) ---- */

static void metrics_start(struct bench *b, int no)
{
    struct conn *c = &b->metrics[no];
    c->role = ROLE_METRICS;
    c->metrics_no = no;
    c->state = ST_CONNECTING;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (c->fd < 0) {
        conn_fail(b, c, strerror(errno));
        return;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)b->opt.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(b->epfd, EPOLL_CTL_ADD, c->fd, &ev);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
        conn_fail(b, c, strerror(errno));
}

static void metrics_send(struct bench *b, struct conn *c)
{
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
                     b->opt.port);
    grow_buffer(&c->out, &c->out_cap, c->out_len + (size_t)n);
    memcpy(c->out + c->out_len, req, (size_t)n);
    c->out_len += (size_t)n;
    c->state = ST_HTTP;
    set_events(b, c, EPOLLIN);
    mark_dirty(b, c);
}

/* Whether the whole response is in (headers and Content-Length bytes of body). */
static bool metrics_complete(const struct conn *c)
{
    const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end)
        return false;
    static const char name[] = "\ncontent-length:";
    size_t name_len = sizeof(name) - 1;
    for (const char *p = c->in; p + name_len < end; p++) {
        if (strncasecmp(p, name, name_len) == 0) {
            size_t body = (size_t)strtoul(p + name_len, NULL, 10);
            return c->in_len >= (size_t)(end - c->in) + 4 + body;
        }
    }
    return false; /* no length: read to the close */
}

/* The response is read to its end, then the counter is taken from it. */
static void metrics_finish(struct bench *b, struct conn *c, uint64_t now)
{
    static const char name[] = "\ncrowdai_scores_applied_total ";
    grow_buffer(&c->in, &c->in_cap, c->in_len + 1);
    c->in[c->in_len] = '\0';
    const char *p = strstr(c->in, name);
    if (p) {
        b->scores_applied[c->metrics_no] = strtod(p + sizeof(name) - 1, NULL);
        b->scores_at_ns[c->metrics_no] = now;
        b->metrics_ok[c->metrics_no] = true;
    } else {
        log_error(b, c, "no crowdai_scores_applied_total in /metrics", NULL, 0);
    }
    close(c->fd);
    c->fd = -1;
    c->state = ST_DONE;
}

/* ---- events ---- */

static void read_input(struct bench *b, struct conn *c)
{
    grow_buffer(&c->in, &c->in_cap, c->in_len + 16384);
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    uint64_t now = bench_now_ns();
    if (n == 0) {
        if (c->role == ROLE_METRICS)
            metrics_finish(b, c, now);
        else
            conn_fail(b, c, "connection closed by the server");
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_fail(b, c, strerror(errno));
        return;
    }
    c->in_len += (size_t)n;
    if (c->role == ROLE_METRICS) {
        if (metrics_complete(c))
            metrics_finish(b, c, now);
        return;
    }
    if (c->state == ST_HTTP) {
        long head = check_upgrade(b, c);
        if (head <= 0)
            return;
        memmove(c->in, c->in + head, c->in_len - (size_t)head);
        c->in_len -= (size_t)head;
        c->state = ST_EIO_OPEN;
    }
    parse_frames(b, c, now);
}

static void start_conn(struct bench *b, struct conn *c)
{
    b->started++;
    c->state = ST_CONNECTING;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (c->fd < 0) {
        conn_fail(b, c, strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)b->opt.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(b->epfd, EPOLL_CTL_ADD, c->fd, &ev);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
        conn_fail(b, c, strerror(errno));
}

static void on_event(struct bench *b, struct conn *c, uint32_t events)
{
    if (c->state == ST_DEAD || c->state == ST_DONE)
        return;
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            conn_fail(b, c, err ? strerror(err) : "connect failed");
            return;
        }
        set_events(b, c, EPOLLIN);
        c->polling_out = false;
        if (c->role == ROLE_METRICS)
            metrics_send(b, c);
        else
            send_upgrade(b, c);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_input(b, c);
    if (c->state != ST_DEAD && c->state != ST_DONE && c->polling_out && (events & EPOLLOUT))
        mark_dirty(b, c);
}

/* ---- phases ---- */

static void start_more(struct bench *b)
{
    while (b->started < b->nconns && b->started - b->ready - b->dead < b->opt.max_connecting)
        start_conn(b, &b->conns[b->started]);
}

static void begin_run(struct bench *b, uint64_t now)
{
    b->phase = PH_RUN;
    b->t_run = now;
    b->t_measure = now + (uint64_t)(b->opt.warmup_s * 1e9);
    b->t_end = b->t_measure + (uint64_t)(b->opt.duration_s * 1e9);
    for (int i = b->ngraders; i < b->nconns; i++)
        idle_push(b, &b->conns[i]);
    fill_window(b, now);
}

static void snapshot_cpu(struct bench *b, bool start)
{
    long broker = bench_proc_ticks(b->opt.broker_pid), redis = bench_proc_ticks(b->opt.redis_pid);
    long long broker_wait = proc_wait_ns(b->opt.broker_pid);
    long long redis_wait = proc_wait_ns(b->opt.redis_pid);
    if (start) {
        b->cpu_start = bench_self_cpu_seconds();
        b->broker_cpu.start = broker;
        b->redis_cpu.start = redis;
        b->broker_cpu.wait_start = broker_wait;
        b->redis_cpu.wait_start = redis_wait;
    } else {
        b->cpu_end = bench_self_cpu_seconds();
        b->broker_cpu.end = broker;
        b->redis_cpu.end = redis;
        b->broker_cpu.wait_end = broker_wait;
        b->redis_cpu.wait_end = redis_wait;
    }
}

static void check_phase(struct bench *b, uint64_t now)
{
    if (stop_requested && b->phase != PH_DONE) {
        fprintf(stderr, "broker_load: stopped by a signal\n");
        b->phase = PH_DONE;
    }
    switch (b->phase) {
    case PH_CONNECT:
        if (b->ready + b->dead < b->nconns && now >= b->connect_deadline) {
            fprintf(stderr, "broker_load: %d of %d connections ready at --connect-timeout\n",
                    b->ready, b->nconns);
            for (int i = 0; i < b->started; i++)
                if (b->conns[i].state != ST_READY)
                    conn_fail(b, &b->conns[i], "not ready before --connect-timeout");
            b->errors += (uint64_t)(b->nconns - b->started);
            b->dead += b->nconns - b->started;
            b->started = b->nconns;
        }
        if (b->ready + b->dead < b->nconns)
            return;
        if (b->ready < b->nconns)
            b->phase = PH_DONE;
        else
            begin_run(b, now);
        return;
    case PH_RUN:
        if (!b->measuring && now >= b->t_measure) {
            b->measuring = true;
            b->measure_started_ns = now;
            snapshot_cpu(b, true);
            metrics_start(b, 0);
        }
        if (now >= b->t_end) {
            b->measure_ended_ns = now;
            snapshot_cpu(b, false);
            metrics_start(b, 1);
            b->phase = PH_DRAIN;
            b->drain_deadline = now + (uint64_t)(b->opt.drain_s * 1e9);
        }
        return;
    case PH_DRAIN: {
        bool graders_quiet = true;
        for (int i = 0; i < b->ngraders; i++)
            graders_quiet &= b->conns[i].state != ST_READY || b->conns[i].acks_due == 0;
        bool metrics_done = b->metrics[1].state == ST_DONE || b->metrics[1].state == ST_DEAD;
        if ((b->in_flight == 0 && graders_quiet && metrics_done) || now >= b->drain_deadline)
            b->phase = PH_DONE;
        return;
    }
    case PH_DONE:
        return;
    }
}

static uint64_t next_deadline(const struct bench *b)
{
    switch (b->phase) {
    case PH_CONNECT:
        return b->connect_deadline;
    case PH_RUN:
        return b->measuring ? b->t_end : b->t_measure;
    default:
        return b->drain_deadline;
    }
}

/* ---- set-up and results ---- */

/* Reads the second word of each line ("id key" or just "key"); returns how many. */
static int read_keys(const char *path, char (**keys)[MAX_KEY])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "broker_load: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    int n = 0, cap = 0;
    char line[512];
    *keys = NULL;
    while (fgets(line, sizeof(line), f)) {
        char first[MAX_KEY], second[MAX_KEY];
        int words = sscanf(line, "%159s %159s", first, second);
        if (words < 1)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            *keys = realloc(*keys, (size_t)cap * sizeof(**keys));
            if (!*keys)
                exit(2);
        }
        snprintf((*keys)[n++], MAX_KEY, "%s", words == 2 ? second : first);
    }
    fclose(f);
    return n;
}

static void write_acked(const struct bench *b)
{
    if (!b->opt.acked_file)
        return;
    FILE *f = fopen(b->opt.acked_file, "w");
    if (!f) {
        fprintf(stderr, "broker_load: cannot write %s: %s\n", b->opt.acked_file, strerror(errno));
        return;
    }
    for (size_t i = 0; i < b->nacked_ids; i++)
        fprintf(f, "%lld\n", (long long)b->acked_ids[i]);
    fclose(f);
}

static void print_result(struct bench *b)
{
    double window = b->measure_ended_ns > b->measure_started_ns
                        ? (double)(b->measure_ended_ns - b->measure_started_ns) / 1e9
                        : 0;
    double scores_per_s = -1;
    if (b->metrics_ok[0] && b->metrics_ok[1] && b->scores_at_ns[1] > b->scores_at_ns[0])
        scores_per_s = (b->scores_applied[1] - b->scores_applied[0]) /
                       ((double)(b->scores_at_ns[1] - b->scores_at_ns[0]) / 1e9);
    int open = 0;
    for (int i = b->ngraders; i < b->nconns; i++)
        open += b->conns[i].state == ST_READY;
    printf("RESULT participants=%d graders=%d capacity=%d window=%d rate=%.0f skipped=%llu "
           "per_participant=%d "
           "connected=%d duration_s=%.2f completed=%llu subs_per_s=%.0f scores_per_s=%.0f "
           "progress_p50_us=%llu progress_p99_us=%llu progress_max_us=%llu progress_samples=%llu "
           "e2e_p50_us=%llu e2e_p99_us=%llu submitted=%llu acked=%llu completed_total=%llu "
           "incomplete=%d refused=%llu missing_progress=%llu errors=%llu loadgen_cpu=%.2f "
           "broker_cpu=%.2f redis_cpu=%.2f broker_runq=%.2f redis_runq=%.2f\n",
           b->nconns - b->ngraders, b->ngraders, b->opt.capacity, b->opt.window, b->opt.rate,
           (unsigned long long)b->rate_skipped, b->opt.per_participant, open, window,
           (unsigned long long)b->completed_window,
           window > 0 ? (double)b->completed_window / window : 0.0, scores_per_s,
           (unsigned long long)bench_hist_quantile(&b->progress_lat, 0.50),
           (unsigned long long)bench_hist_quantile(&b->progress_lat, 0.99),
           (unsigned long long)b->progress_lat.max_us, (unsigned long long)b->progress_lat.total,
           (unsigned long long)bench_hist_quantile(&b->e2e_lat, 0.50),
           (unsigned long long)bench_hist_quantile(&b->e2e_lat, 0.99),
           (unsigned long long)b->submitted, (unsigned long long)b->acked,
           (unsigned long long)b->completed, b->in_flight, (unsigned long long)b->refused,
           (unsigned long long)b->missing_progress, (unsigned long long)b->errors,
           window > 0 ? (b->cpu_end - b->cpu_start) / window : -1,
           proc_cores(&b->broker_cpu, window), proc_cores(&b->redis_cpu, window),
           proc_wait_share(&b->broker_cpu, window), proc_wait_share(&b->redis_cpu, window));
}

static void usage(void)
{
    fprintf(stderr,
            "usage: broker_load --port N --keys FILE --grader-keys FILE [--participants N]\n"
            "         [--graders 16] [--capacity 8] [--per-participant 1] [--window W | --rate R]\n"
            "         [--warmup S] [--duration S] [--drain S] [--connect-timeout S]\n"
            "         [--challenge bench] [--pool bench] [--broker-pid PID] [--redis-pid PID]\n"
            "         [--acked-file FILE]\n"
            "Closed loop: W submissions in flight overall (default: one per participant),\n"
            "each participant at most --per-participant. Open loop: --rate R starts R\n"
            "submissions per second. FILE lines: \"participant_id api_key\" (or just the\n"
            "key). Connects only to 127.0.0.1 and prints one RESULT line.\n");
    exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"keys", required_argument, NULL, 'k'},
        {"grader-keys", required_argument, NULL, 'K'},
        {"participants", required_argument, NULL, 'n'},
        {"graders", required_argument, NULL, 'g'},
        {"capacity", required_argument, NULL, 'c'},
        {"per-participant", required_argument, NULL, 'q'},
        {"window", required_argument, NULL, 'W'},
        {"rate", required_argument, NULL, 'R'},
        {"warmup", required_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 'd'},
        {"drain", required_argument, NULL, 'D'},
        {"connect-timeout", required_argument, NULL, 't'},
        {"max-connecting", required_argument, NULL, 'm'},
        {"challenge", required_argument, NULL, 'C'},
        {"pool", required_argument, NULL, 'P'},
        {"broker-pid", required_argument, NULL, 'b'},
        {"redis-pid", required_argument, NULL, 'r'},
        {"acked-file", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.challenge = "bench",
                          .pool = "bench",
                          .graders = 16,
                          .capacity = 8,
                          .per_participant = 1,
                          .max_connecting = 256,
                          .warmup_s = 2,
                          .duration_s = 5,
                          .drain_s = 30,
                          .connect_timeout_s = 60};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'k':
            o->keys_file = optarg;
            break;
        case 'K':
            o->grader_keys_file = optarg;
            break;
        case 'n':
            o->participants = atoi(optarg);
            break;
        case 'g':
            o->graders = atoi(optarg);
            break;
        case 'c':
            o->capacity = atoi(optarg);
            break;
        case 'q':
            o->per_participant = atoi(optarg);
            break;
        case 'W':
            o->window = atoi(optarg);
            break;
        case 'R':
            o->rate = atof(optarg);
            break;
        case 'w':
            o->warmup_s = atof(optarg);
            break;
        case 'd':
            o->duration_s = atof(optarg);
            break;
        case 'D':
            o->drain_s = atof(optarg);
            break;
        case 't':
            o->connect_timeout_s = atof(optarg);
            break;
        case 'm':
            o->max_connecting = atoi(optarg);
            break;
        case 'C':
            o->challenge = optarg;
            break;
        case 'P':
            o->pool = optarg;
            break;
        case 'b':
            o->broker_pid = atoi(optarg);
            break;
        case 'r':
            o->redis_pid = atoi(optarg);
            break;
        case 'a':
            o->acked_file = optarg;
            break;
        default:
            usage();
        }
    }
    if (o->port <= 0 || o->port > 65535 || !o->keys_file || !o->grader_keys_file ||
        o->participants < 0 || o->graders < 1 || o->capacity < 1 || o->per_participant < 1 ||
        o->per_participant > MAX_PER_PARTICIPANT || o->window < 0 || o->rate < 0 ||
        o->max_connecting < 1 || o->duration_s <= 0 || o->warmup_s < 0 || o->drain_s < 0)
        usage();
}

static void setup(struct bench *b)
{
    struct options *o = &b->opt;
    b->nkeys = read_keys(o->keys_file, &b->api_keys);
    b->ngrader_keys = read_keys(o->grader_keys_file, &b->grader_keys);
    if (o->participants == 0)
        o->participants = b->nkeys;
    if (o->participants > b->nkeys || b->ngrader_keys == 0 || o->participants == 0) {
        fprintf(stderr, "broker_load: %d participants wanted, %d keys; %d grader keys\n",
                o->participants, b->nkeys, b->ngrader_keys);
        exit(2);
    }
    if (o->window == 0 || o->rate > 0 || o->window > o->participants * o->per_participant)
        o->window = o->participants * o->per_participant;
    b->ngraders = o->graders;
    b->nconns = o->graders + o->participants;
    b->conns = xalloc_zero((size_t)b->nconns, sizeof(*b->conns));
    for (int i = 0; i < b->nconns; i++) {
        struct conn *c = &b->conns[i];
        c->fd = -1;
        c->next_ack = 1;
        if (i < o->graders) {
            c->role = ROLE_GRADER;
            c->grader_no = i;
            c->grader_key = b->grader_keys[i % b->ngrader_keys];
        } else {
            c->role = ROLE_PARTICIPANT;
            c->api_key = b->api_keys[i - o->graders];
        }
    }
    b->idle_cap = b->nconns;
    b->idle = xalloc_zero((size_t)b->idle_cap, sizeof(*b->idle));
    b->dirty = xalloc_zero((size_t)b->nconns + 2, sizeof(*b->dirty));
    b->marks = xalloc_zero(PROGRESS_SLOTS, sizeof(*b->marks));
    b->progress_lat.buckets = xalloc_zero(HIST_BUCKETS, sizeof(uint64_t));
    b->e2e_lat.buckets = xalloc_zero(HIST_BUCKETS, sizeof(uint64_t));
    b->broker_cpu = b->redis_cpu = (struct proc_cpu){-1, -1, -1, -1};
    b->rng = bench_now_ns() | 1;
    snprintf(b->run_tag, sizeof(b->run_tag), "r%llx", (unsigned long long)(b->rng & 0xffffffff));
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->epfd < 0) {
        perror("broker_load: epoll_create1");
        exit(2);
    }
    b->connect_deadline = bench_now_ns() + (uint64_t)(o->connect_timeout_s * 1e9);
}

int main(int argc, char **argv)
{
    struct bench *b = xalloc_zero(1, sizeof(*b));
    parse_options(argc, argv, &b->opt);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    setup(b);

    struct epoll_event events[512];
    uint64_t now = bench_now_ns();
    while (b->phase != PH_DONE) {
        if (b->phase == PH_CONNECT)
            start_more(b);
        flush_dirty(b);
        uint64_t deadline = next_deadline(b);
        int timeout_ms = deadline > now ? (int)((deadline - now) / 1000000 + 1) : 0;
        if (timeout_ms > 100)
            timeout_ms = 100;
        if (b->opt.rate > 0 && b->phase == PH_RUN)
            timeout_ms = 1; /* start the submissions due every millisecond */
        int n = epoll_wait(b->epfd, events, 512, timeout_ms);
        if (n < 0 && errno != EINTR) {
            perror("broker_load: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++)
            on_event(b, events[i].data.ptr, events[i].events);
        now = bench_now_ns();
        if (b->opt.rate > 0)
            fill_window(b, now);
        check_phase(b, now);
    }
    print_result(b);
    write_acked(b);
    fflush(stdout);
    return b->ready == b->nconns ? 0 : 1;
}
