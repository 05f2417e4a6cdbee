/* Load generator for bench/: N WebSocket Socket.IO clients on 127.0.0.1 each keep K
 * "message-with-ack" events in flight and measure acked messages/s and round-trip latency;
 * with --idle it holds N connected clients idle so the driver can measure server memory. */
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

#include "bench_hist.h"
#include "bench_proc.h"

#define MAX_INFLIGHT   64
#define MAX_FRAME      (16 * 1024 * 1024)
#define MAX_HTTP_BYTES 16384
#define MAX_LOGGED     10
#define WS_GUID        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum conn_state {
    ST_CONNECTING,  /* TCP connect in progress */
    ST_HTTP,        /* upgrade request sent, waiting for 101 */
    ST_EIO_OPEN,    /* waiting for the Engine.IO open packet */
    ST_SIO_CONNECT, /* "40" sent, waiting for 40{"sid":...} */
    ST_READY,       /* Socket.IO connected */
    ST_DEAD,
};

enum phase { PH_CONNECT, PH_RUN, PH_IDLE, PH_DONE };

struct slot {
    uint64_t id;
    uint64_t sent_ns; /* 0 when the slot is free */
};

struct conn {
    int fd;
    enum conn_state state;
    bool polling_out;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_cap;
    char accept[32]; /* expected Sec-WebSocket-Accept */
    uint64_t next_id;
    struct slot slots[MAX_INFLIGHT];
};

struct options {
    int port;
    int clients;
    int inflight;
    int payload_len;
    int max_connecting;
    int server_pid;
    double warmup_s;
    double duration_s;
    double idle_s; /* > 0 selects idle mode */
    double connect_timeout_s;
};

struct bench {
    struct options opt;
    int epfd;
    struct conn *conns;
    int started, ready, dead;
    enum phase phase;
    uint64_t connect_deadline, t_measure, t_end;
    uint64_t acked, errors, logged;
    char msg_tail[256]; /* ["message-with-ack","<payload>"] */
    size_t msg_tail_len;
    char ack_body[256]; /* ["<payload>"] as the ack must carry it */
    size_t ack_body_len;
    struct bench_hist lat; /* ack latencies */
    uint64_t rng;
    bool measuring; /* the measured window has begun */
    double cpu_at_measure;
    long srv_ticks_at_measure;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t next_random(struct bench *b)
{
    /* xorshift64: cheap, good enough for masking keys and handshake nonces */
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void conn_fail(struct bench *b, struct conn *c, const char *why)
{
    if (c->state == ST_DEAD)
        return;
    if (b->logged < MAX_LOGGED) {
        fprintf(stderr, "loadgen: connection %d: %s\n", (int)(c - b->conns), why);
        b->logged++;
    }
    close(c->fd);
    c->fd = -1;
    c->state = ST_DEAD;
    b->dead++;
    b->errors++;
}

static void grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(2);
    }
    *buf = p;
    *cap = n;
}

static void set_events(struct bench *b, struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Appends one masked client frame (RFC 6455 section 5.2) to the output buffer. */
static void queue_frame(struct bench *b, struct conn *c, int opcode, const char *data, size_t len)
{
    grow(&c->out, &c->out_cap, c->out_len + len + 14);
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
    uint64_t r = next_random(b);
    unsigned char mask[4] = {(unsigned char)r, (unsigned char)(r >> 8), (unsigned char)(r >> 16),
                             (unsigned char)(r >> 24)};
    memcpy(p + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        p[h + i] = (unsigned char)data[i] ^ mask[i & 3];
    c->out_len += h + len;
}

static void queue_text(struct bench *b, struct conn *c, const char *s)
{
    queue_frame(b, c, 1, s, strlen(s));
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

static size_t format_u64(char *dst, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

static void send_message(struct bench *b, struct conn *c, uint64_t now)
{
    struct slot *s = NULL;
    for (int i = 0; i < b->opt.inflight; i++) {
        if (c->slots[i].sent_ns == 0) {
            s = &c->slots[i];
            break;
        }
    }
    if (!s)
        return;
    char msg[300];
    size_t n = 0;
    msg[n++] = '4';
    msg[n++] = '2';
    s->id = ++c->next_id;
    s->sent_ns = now;
    n += format_u64(msg + n, s->id);
    memcpy(msg + n, b->msg_tail, b->msg_tail_len);
    n += b->msg_tail_len;
    queue_frame(b, c, 1, msg, n);
}

/* "43<id>[...]": an ack for one of our messages. */
static void on_ack(struct bench *b, struct conn *c, const char *p, size_t n, uint64_t now)
{
    size_t i = 2;
    uint64_t id = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        id = id * 10 + (uint64_t)(p[i++] - '0');
    if (i == 2 || n - i != b->ack_body_len || memcmp(p + i, b->ack_body, n - i) != 0) {
        conn_fail(b, c, "malformed ack");
        return;
    }
    struct slot *s = NULL;
    for (int k = 0; k < b->opt.inflight; k++) {
        if (c->slots[k].sent_ns != 0 && c->slots[k].id == id) {
            s = &c->slots[k];
            break;
        }
    }
    if (!s) {
        conn_fail(b, c, "ack for an unknown id");
        return;
    }
    if (now >= b->t_measure && now < b->t_end) {
        bench_hist_add(&b->lat, now - s->sent_ns);
        b->acked++;
    }
    s->sent_ns = 0;
    if (b->phase == PH_RUN)
        send_message(b, c, now);
}

/* One Engine.IO packet carried in a text frame. */
static void on_packet(struct bench *b, struct conn *c, const char *p, size_t n, uint64_t now)
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
        queue_text(b, c, "40");
        c->state = ST_SIO_CONNECT;
        return;
    }
    if (p[0] == '2' && n == 1) {
        queue_text(b, c, "3");
        return;
    }
    if (p[0] != '4' || n < 2) {
        if (p[0] == '1')
            conn_fail(b, c, "Engine.IO close from server");
        return; /* noop, stray pong and the like */
    }
    switch (p[1]) {
    case '0':
        if (c->state != ST_SIO_CONNECT || n < 3 || p[2] != '{') {
            conn_fail(b, c, "unexpected CONNECT reply");
            return;
        }
        c->state = ST_READY;
        b->ready++;
        return;
    case '3':
        on_ack(b, c, p, n, now);
        return;
    case '2':
        return; /* events such as 42["auth",{}] */
    default:
        conn_fail(b, c, "Socket.IO DISCONNECT, CONNECT_ERROR or unknown packet");
        return;
    }
}

/* Consumes every complete server frame in the input buffer; keeps a trailing partial one. */
static void parse_frames(struct bench *b, struct conn *c, uint64_t now)
{
    size_t pos = 0;
    while (c->state != ST_DEAD && c->in_len - pos >= 2) {
        const unsigned char *h = (const unsigned char *)c->in + pos;
        size_t avail = c->in_len - pos;
        int opcode = h[0] & 0x0f;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2;
        if ((h[0] & 0x80) == 0 || opcode == 0 || (h[1] & 0x80) != 0) {
            conn_fail(b, c, "fragmented or masked server frame");
            return;
        }
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 2; i < 10; i++)
                len = len << 8 | h[i];
            hl = 10;
        }
        if (len > MAX_FRAME) {
            conn_fail(b, c, "server frame too large");
            return;
        }
        if (avail < hl + len) {
            grow(&c->in, &c->in_cap, pos + hl + len);
            break;
        }
        const char *payload = c->in + pos + hl;
        pos += hl + len;
        switch (opcode) {
        case 1:
            on_packet(b, c, payload, len, now);
            break;
        case 8:
            conn_fail(b, c, "WebSocket close from server");
            return;
        case 9:
            queue_frame(b, c, 10, payload, len);
            break;
        default:
            break; /* binary frames and pongs are not part of this workload */
        }
    }
    if (c->state == ST_DEAD)
        return;
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
}

static void send_handshake(struct bench *b, struct conn *c)
{
    unsigned char nonce[16], digest[SHA_DIGEST_LENGTH];
    char key[32], concat[96], req[512];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = next_random(b);
        memcpy(nonce + i, &r, 8);
    }
    EVP_EncodeBlock((unsigned char *)key, nonce, 16);
    snprintf(concat, sizeof(concat), "%s%s", key, WS_GUID);
    SHA1((unsigned char *)concat, strlen(concat), digest);
    EVP_EncodeBlock((unsigned char *)c->accept, digest, SHA_DIGEST_LENGTH);
    int n = snprintf(req, sizeof(req),
                     "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%d\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     b->opt.port, key);
    grow(&c->out, &c->out_cap, c->out_len + (size_t)n);
    memcpy(c->out + c->out_len, req, (size_t)n);
    c->out_len += (size_t)n;
    c->state = ST_HTTP;
    set_events(b, c, EPOLLIN);
    c->polling_out = false;
    flush_out(b, c);
}

/* Checks the 101 response and its Sec-WebSocket-Accept; returns the header length, 0 if the
 * response is incomplete, or -1 after failing the connection. */
static long parse_http_response(struct bench *b, struct conn *c)
{
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) {
        if (c->in_len > MAX_HTTP_BYTES)
            conn_fail(b, c, "HTTP response headers too long");
        return c->in_len > MAX_HTTP_BYTES ? -1 : 0;
    }
    size_t head_len = (size_t)(end - c->in) + 4;
    if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0) {
        conn_fail(b, c, "upgrade refused (no 101)");
        return -1;
    }
    static const char name[] = "sec-websocket-accept:";
    size_t name_len = sizeof(name) - 1;
    bool ok = false;
    for (char *line = memchr(c->in, '\n', head_len); line && line < end;
         line = memchr(line, '\n', (size_t)(end - line))) {
        line++;
        if ((size_t)(end - line) > name_len && strncasecmp(line, name, name_len) == 0) {
            char *v = line + name_len;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t accept_len = strlen(c->accept);
            ok = (size_t)(end - v) >= accept_len && memcmp(v, c->accept, accept_len) == 0;
            break;
        }
    }
    if (!ok) {
        conn_fail(b, c, "missing or wrong Sec-WebSocket-Accept");
        return -1;
    }
    return (long)head_len;
}

static void read_input(struct bench *b, struct conn *c, uint64_t now)
{
    grow(&c->in, &c->in_cap, c->in_len + 4096);
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n == 0) {
        conn_fail(b, c, "connection closed by the server");
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_fail(b, c, strerror(errno));
        return;
    }
    c->in_len += (size_t)n;
    if (c->state == ST_HTTP) {
        long head = parse_http_response(b, c);
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
    if (c->state == ST_DEAD)
        return;
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            conn_fail(b, c, err ? strerror(err) : "connect failed");
            return;
        }
        send_handshake(b, c);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        read_input(b, c, bench_now_ns());
        if (c->state == ST_DEAD)
            return;
    }
    if (c->out_len > 0 || c->polling_out)
        flush_out(b, c);
}

/* Keeps at most max_connecting handshakes going at once, so the listen backlog never overflows. */
static void start_more(struct bench *b)
{
    while (b->started < b->opt.clients && b->started - b->ready - b->dead < b->opt.max_connecting)
        start_conn(b, &b->conns[b->started]);
}

static void begin_load(struct bench *b, uint64_t now)
{
    b->phase = PH_RUN;
    b->t_measure = now + (uint64_t)(b->opt.warmup_s * 1e9);
    b->t_end = b->t_measure + (uint64_t)(b->opt.duration_s * 1e9);
    for (int i = 0; i < b->opt.clients; i++) {
        struct conn *c = &b->conns[i];
        if (c->state != ST_READY)
            continue;
        for (int k = 0; k < b->opt.inflight; k++)
            send_message(b, c, now);
        flush_out(b, c);
    }
}

static void check_phase(struct bench *b, uint64_t now)
{
    if (stop_requested)
        b->phase = PH_DONE;
    switch (b->phase) {
    case PH_CONNECT:
        if (b->ready + b->dead < b->opt.clients && now >= b->connect_deadline) {
            for (int i = 0; i < b->started; i++)
                if (b->conns[i].state != ST_READY)
                    conn_fail(b, &b->conns[i], "not connected before --connect-timeout");
            b->dead += b->opt.clients - b->started;
            b->errors += (uint64_t)(b->opt.clients - b->started);
            b->started = b->opt.clients;
        }
        if (b->ready + b->dead < b->opt.clients)
            return;
        if (b->ready == 0) {
            b->phase = PH_DONE;
        } else if (b->opt.idle_s > 0) {
            printf("IDLE_READY connected=%d errors=%llu\n", b->ready,
                   (unsigned long long)b->errors);
            fflush(stdout);
            b->phase = PH_IDLE;
            b->t_end = now + (uint64_t)(b->opt.idle_s * 1e9);
        } else {
            begin_load(b, now);
        }
        return;
    case PH_RUN:
        if (!b->measuring && now >= b->t_measure) {
            b->measuring = true;
            b->cpu_at_measure = bench_self_cpu_seconds();
            b->srv_ticks_at_measure =
                b->opt.server_pid > 0 ? bench_proc_ticks(b->opt.server_pid) : -1;
        }
        if (now >= b->t_end)
            b->phase = PH_DONE;
        return;
    case PH_IDLE:
        if (now >= b->t_end)
            b->phase = PH_DONE;
        return;
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
        return b->t_end;
    }
}

static void print_result(struct bench *b, uint64_t now)
{
    if (b->opt.idle_s > 0) {
        printf("RESULT mode=idle clients=%d connected=%d errors=%llu\n", b->opt.clients, b->ready,
               (unsigned long long)b->errors);
        return;
    }
    double measured = b->measuring && now >= b->t_end ? b->opt.duration_s : 0;
    double lg_cpu = 0, srv_cpu = -1;
    if (measured > 0) {
        lg_cpu = (bench_self_cpu_seconds() - b->cpu_at_measure) / measured;
        long ticks = b->opt.server_pid > 0 ? bench_proc_ticks(b->opt.server_pid) : -1;
        if (ticks >= 0 && b->srv_ticks_at_measure >= 0)
            srv_cpu =
                (double)(ticks - b->srv_ticks_at_measure) / (double)sysconf(_SC_CLK_TCK) / measured;
    }
    printf("RESULT mode=load clients=%d inflight=%d connected=%d duration_s=%.2f acked=%llu "
           "msgs_per_s=%.0f p50_us=%llu p99_us=%llu max_us=%llu errors=%llu loadgen_cpu=%.2f "
           "server_cpu=%.2f\n",
           b->opt.clients, b->opt.inflight, b->ready, measured, (unsigned long long)b->acked,
           measured > 0 ? (double)b->acked / measured : 0.0,
           (unsigned long long)bench_hist_quantile(&b->lat, 0.50),
           (unsigned long long)bench_hist_quantile(&b->lat, 0.99),
           (unsigned long long)b->lat.max_us, (unsigned long long)b->errors, lg_cpu, srv_cpu);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --port N [--clients N] [--inflight K] [--warmup S] [--duration S]\n"
            "               [--payload BYTES] [--server-pid PID] [--connect-timeout S]\n"
            "               [--max-connecting N] [--idle HOLD_S]\n"
            "Connects only to 127.0.0.1. Prints one RESULT line (and IDLE_READY in idle mode).\n");
    exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"clients", required_argument, NULL, 'c'},
        {"inflight", required_argument, NULL, 'k'},
        {"warmup", required_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 'd'},
        {"payload", required_argument, NULL, 'b'},
        {"server-pid", required_argument, NULL, 's'},
        {"connect-timeout", required_argument, NULL, 't'},
        {"max-connecting", required_argument, NULL, 'm'},
        {"idle", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.clients = 1,
                          .inflight = 1,
                          .payload_len = 32,
                          .max_connecting = 256,
                          .warmup_s = 1,
                          .duration_s = 3,
                          .connect_timeout_s = 60};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'c':
            o->clients = atoi(optarg);
            break;
        case 'k':
            o->inflight = atoi(optarg);
            break;
        case 'w':
            o->warmup_s = atof(optarg);
            break;
        case 'd':
            o->duration_s = atof(optarg);
            break;
        case 'b':
            o->payload_len = atoi(optarg);
            break;
        case 's':
            o->server_pid = atoi(optarg);
            break;
        case 't':
            o->connect_timeout_s = atof(optarg);
            break;
        case 'm':
            o->max_connecting = atoi(optarg);
            break;
        case 'i':
            o->idle_s = atof(optarg);
            break;
        default:
            usage();
        }
    }
    if (o->port <= 0 || o->port > 65535 || o->clients < 1 || o->inflight < 1 ||
        o->inflight > MAX_INFLIGHT || o->payload_len < 0 || o->payload_len > 200 ||
        o->max_connecting < 1 || o->duration_s <= 0 || o->warmup_s < 0)
        usage();
}

int main(int argc, char **argv)
{
    struct bench *b = calloc(1, sizeof(*b));
    if (!b)
        return 2;
    parse_options(argc, argv, &b->opt);
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    char payload[256];
    for (int i = 0; i < b->opt.payload_len; i++)
        payload[i] = (char)('a' + i % 26);
    payload[b->opt.payload_len] = '\0';
    b->msg_tail_len = (size_t)snprintf(b->msg_tail, sizeof(b->msg_tail),
                                       "[\"message-with-ack\",\"%s\"]", payload);
    b->ack_body_len = (size_t)snprintf(b->ack_body, sizeof(b->ack_body), "[\"%s\"]", payload);

    b->rng = bench_now_ns() | 1;
    int hist_ok = bench_hist_init(&b->lat);
    b->conns = calloc((size_t)b->opt.clients, sizeof(*b->conns));
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (hist_ok != 0 || !b->conns || b->epfd < 0) {
        perror("loadgen: setup");
        return 2;
    }
    b->connect_deadline = bench_now_ns() + (uint64_t)(b->opt.connect_timeout_s * 1e9);

    struct epoll_event events[512];
    uint64_t now = bench_now_ns();
    while (b->phase != PH_DONE) {
        if (b->phase == PH_CONNECT)
            start_more(b);
        uint64_t deadline = next_deadline(b);
        int timeout_ms = deadline > now ? (int)((deadline - now) / 1000000 + 1) : 0;
        if (timeout_ms > 100)
            timeout_ms = 100;
        int n = epoll_wait(b->epfd, events, 512, timeout_ms);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++)
            on_event(b, events[i].data.ptr, events[i].events);
        now = bench_now_ns();
        check_phase(b, now);
    }
    print_result(b, now);
    fflush(stdout);
    return b->ready > 0 ? 0 : 1;
}
