/* Throughput and ack latency of the C Socket.IO client library (src/client/sioc.h) against
 * one server: N clients, each its own sioc_client (its own WebSocket connection) on one libuv
 * loop, join "/" and keep K `message-with-ack` emits in flight; every ack is checked (same
 * arguments back) and at once replaced by a new emit. After a warm-up it counts the acks of
 * a fixed window, records each round trip (emit call to ack callback, CLOCK_MONOTONIC) in a
 * 1 us histogram and reads this process's CPU time from /proc. Prints one RESULT line in the
 * same format as bench/client/node_bench.mjs. Never part of the test suite. */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "bench_hist.h"
#include "bench_proc.h"
#include "client/sioc.h"
#include "core/log.h"

#define MAX_INFLIGHT 64
#define MAX_PAYLOAD  200
#define ARGS_SIZE    (MAX_PAYLOAD + 8)

static const char event_name[] = "message-with-ack";

struct options {
    int port;
    int clients;
    int inflight;
    int payload_len;
    int server_pid;
    double warmup_s;
    double duration_s;
    double connect_timeout_s;
    uint64_t ack_timeout_ms;
};

enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DONE };

struct bench;
struct conn;

/* One emit in flight: its arguments (distinct per slot, so a misrouted ack is caught). */
struct slot {
    struct conn *conn;
    uint64_t sent_ns;
    char args[ARGS_SIZE];
    size_t args_len;
};

struct conn {
    struct bench *b;
    struct sioc_client *client;
    struct sioc_socket *sock;
    int joined;
    struct slot slots[MAX_INFLIGHT];
};

struct bench {
    struct options opt;
    uv_loop_t loop;
    uv_timer_t timer;
    enum phase phase;
    struct conn *conns;
    int joined;
    int closed;
    uint64_t acked;
    uint64_t errors;
    struct bench_hist lat; /* ack latencies */
    uint64_t t_measure_ns;
    double measured_s;
    long self_ticks0, self_ticks;
    long srv_ticks0, srv_ticks;
};

static void count_error(struct bench *b, const char *what, const char *detail)
{
    if (b->phase == PH_DONE)
        return;
    if (b->errors < 5)
        fprintf(stderr, "sioc_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    b->errors++;
}

static void on_ack(struct sioc_socket *s, const char *err, const struct sioc_message *reply,
                   void *ud);

static void emit_slot(struct slot *sl)
{
    struct bench *b = sl->conn->b;
    sl->sent_ns = bench_now_ns();
    int rc = sioc_socket_emit_ack(sl->conn->sock, event_name, sl->args, NULL, 0,
                                  b->opt.ack_timeout_ms, on_ack, sl);
    if (rc != 0)
        count_error(b, "emit failed", sioc_strerror(rc));
}

static void on_ack(struct sioc_socket *s, const char *err, const struct sioc_message *reply,
                   void *ud)
{
    struct slot *sl = ud;
    struct bench *b = sl->conn->b;
    (void)s;
    if (b->phase == PH_DONE)
        return;
    if (err != NULL) {
        count_error(b, "ack failed", err);
        return; /* the connection is gone or stuck: do not re-emit */
    }
    uint64_t now = bench_now_ns();
    if (reply->args_len != sl->args_len || memcmp(reply->args, sl->args, sl->args_len) != 0 ||
        reply->n_attachments != 0)
        count_error(b, "ack with other arguments", reply->args);
    else if (b->phase == PH_MEASURE) {
        b->acked++;
        bench_hist_add(&b->lat, now - sl->sent_ns);
    }
    emit_slot(sl);
}

static void start_window(struct bench *b);
static void end_window(struct bench *b);

static void on_timer(uv_timer_t *t)
{
    struct bench *b = t->data;
    switch (b->phase) {
    case PH_CONNECT:
        fprintf(stderr, "sioc_bench: only %d of %d clients joined within %.0f s\n", b->joined,
                b->opt.clients, b->opt.connect_timeout_s);
        b->errors++;
        end_window(b);
        break;
    case PH_WARMUP:
        start_window(b);
        break;
    case PH_MEASURE:
        end_window(b);
        break;
    case PH_DONE:
        break;
    }
}

static void start_window(struct bench *b)
{
    b->phase = PH_MEASURE;
    b->t_measure_ns = bench_now_ns();
    b->self_ticks0 = bench_proc_ticks((int)getpid());
    b->srv_ticks0 = bench_proc_ticks(b->opt.server_pid);
    uv_timer_start(&b->timer, on_timer, (uint64_t)(b->opt.duration_s * 1000), 0);
}

static void on_client_closed(struct sioc_client *c, void *ud)
{
    struct conn *cn = ud; /* the client's userdata */
    (void)c;
    cn->client = NULL;
    cn->b->closed++;
}

static void end_window(struct bench *b)
{
    if (b->phase == PH_MEASURE) {
        b->measured_s = (double)(bench_now_ns() - b->t_measure_ns) / 1e9;
        b->self_ticks = bench_proc_ticks((int)getpid());
        b->srv_ticks = bench_proc_ticks(b->opt.server_pid);
    }
    b->phase = PH_DONE;
    uv_close((uv_handle_t *)&b->timer, NULL);
    /* pending acks fail at once with sioc_err_closed; on_ack ignores them now */
    for (int i = 0; i < b->opt.clients; i++)
        if (b->conns[i].client != NULL)
            sioc_client_close(b->conns[i].client, on_client_closed);
}

/* ---- Client and namespace callbacks ---- */

static void on_connect_error(struct sioc_client *c, const char *reason, const char *detail,
                             void *ud)
{
    struct conn *cn = ud;
    (void)c;
    (void)detail;
    count_error(cn->b, "connect error", reason);
}

static void on_client_disconnect(struct sioc_client *c, const char *reason, const char *detail,
                                 void *ud)
{
    struct conn *cn = ud;
    (void)c;
    (void)detail;
    count_error(cn->b, "session lost", reason);
}

static const struct sioc_client_callbacks client_cbs = {
    .on_connect_error = on_connect_error,
    .on_disconnect = on_client_disconnect,
};

static void on_join(struct sioc_socket *s, const char *sid, void *ud)
{
    struct conn *cn = ud;
    struct bench *b = cn->b;
    (void)s;
    (void)sid;
    if (cn->joined || b->phase == PH_DONE)
        return;
    cn->joined = 1;
    for (int k = 0; k < b->opt.inflight; k++)
        emit_slot(&cn->slots[k]);
    if (++b->joined == b->opt.clients) {
        b->phase = PH_WARMUP;
        uv_timer_start(&b->timer, on_timer, (uint64_t)(b->opt.warmup_s * 1000), 0);
    }
}

static void on_join_error(struct sioc_socket *s, const char *message, const char *data, void *ud)
{
    struct conn *cn = ud;
    (void)s;
    (void)data;
    count_error(cn->b, "CONNECT refused", message);
}

static void on_leave(struct sioc_socket *s, const char *reason, void *ud)
{
    struct conn *cn = ud;
    (void)s;
    count_error(cn->b, "namespace left", reason);
}

static const struct sioc_socket_callbacks socket_cbs = {
    .on_connect = on_join,
    .on_connect_error = on_join_error,
    .on_disconnect = on_leave,
};

/* ---- Set-up ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: sioc_bench --port N [--clients N] [--inflight K] [--warmup S] [--duration S]\n"
            "                  [--payload BYTES] [--server-pid PID] [--connect-timeout S]\n"
            "Connects to ws://127.0.0.1:N/socket.io/ and prints one RESULT line.\n");
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
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.clients = 50,
                          .inflight = 4,
                          .payload_len = 32,
                          .warmup_s = 2,
                          .duration_s = 10,
                          .connect_timeout_s = 30,
                          .ack_timeout_ms = 20000};
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
        default:
            usage();
        }
    }
    if (optind != argc || o->port <= 0 || o->port > 65535 || o->clients < 1 || o->inflight < 1 ||
        o->inflight > MAX_INFLIGHT || o->payload_len < 16 || o->payload_len > MAX_PAYLOAD ||
        o->duration_s <= 0 || o->warmup_s < 0 || o->connect_timeout_s <= 0)
        usage();
}

/* ["<payload>"]: "c<client>s<slot>-" then letters up to payload_len characters. */
static void fill_args(struct slot *sl, int client, int slot, int payload_len)
{
    char payload[MAX_PAYLOAD + 1];
    int n = snprintf(payload, sizeof(payload), "c%ds%d-", client, slot);
    for (int i = n; i < payload_len; i++)
        payload[i] = (char)('a' + i % 26);
    payload[payload_len] = '\0';
    sl->args_len = (size_t)snprintf(sl->args, sizeof(sl->args), "[\"%s\"]", payload);
}

static void print_result(const struct bench *b)
{
    double clk_tck = (double)sysconf(_SC_CLK_TCK);
    double cpu_s = -1, srv_cpu = -1;
    if (b->measured_s > 0 && b->self_ticks0 >= 0 && b->self_ticks >= 0)
        cpu_s = (double)(b->self_ticks - b->self_ticks0) / clk_tck;
    if (b->measured_s > 0 && b->srv_ticks0 >= 0 && b->srv_ticks >= 0)
        srv_cpu = (double)(b->srv_ticks - b->srv_ticks0) / clk_tck / b->measured_s;
    printf("RESULT impl=c clients=%d inflight=%d connected=%d duration_s=%.2f acked=%llu "
           "acks_per_s=%.0f p50_us=%llu p99_us=%llu max_us=%llu errors=%llu cpu_s=%.2f "
           "cpu_s_per_100k=%.3f client_cpu=%.2f server_cpu=%.2f\n",
           b->opt.clients, b->opt.inflight, b->joined, b->measured_s, (unsigned long long)b->acked,
           b->measured_s > 0 ? (double)b->acked / b->measured_s : 0.0,
           (unsigned long long)bench_hist_quantile(&b->lat, 0.50),
           (unsigned long long)bench_hist_quantile(&b->lat, 0.99),
           (unsigned long long)b->lat.max_us, (unsigned long long)b->errors, cpu_s,
           cpu_s >= 0 && b->acked > 0 ? cpu_s * 1e5 / (double)b->acked : -1.0,
           cpu_s >= 0 ? cpu_s / b->measured_s : -1.0, srv_cpu);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static struct bench bench;
    struct bench *b = &bench;
    parse_options(argc, argv, &b->opt);
    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_WARN); /* no line per session opened */

    int hist_ok = bench_hist_init(&b->lat);
    b->conns = calloc((size_t)b->opt.clients, sizeof(*b->conns));
    if (hist_ok != 0 || b->conns == NULL || uv_loop_init(&b->loop) != 0) {
        fprintf(stderr, "sioc_bench: out of memory\n");
        return 2;
    }
    b->self_ticks0 = b->srv_ticks0 = -1;
    uv_timer_init(&b->loop, &b->timer);
    b->timer.data = b;

    struct sioc_options so;
    sioc_options_init(&so);
    so.reconnect = 0;
    so.connect_timeout_ms = (uint64_t)(b->opt.connect_timeout_s * 1000);
    so.handshake_timeout_ms = so.connect_timeout_ms;
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/socket.io/", b->opt.port);

    for (int i = 0; i < b->opt.clients; i++) {
        struct conn *cn = &b->conns[i];
        cn->b = b;
        for (int k = 0; k < b->opt.inflight; k++) {
            cn->slots[k].conn = cn;
            fill_args(&cn->slots[k], i, k, b->opt.payload_len);
        }
        int rc = sioc_client_new(&b->loop, url, &so, &client_cbs, cn, &cn->client);
        if (rc != 0) {
            fprintf(stderr, "sioc_bench: sioc_client_new: %s\n", sioc_strerror(rc));
            return 2;
        }
        cn->sock = sioc_client_socket(cn->client, "/");
        sioc_socket_set_callbacks(cn->sock, &socket_cbs, cn);
        if (sioc_socket_connect(cn->sock, NULL) != 0 || sioc_client_connect(cn->client) != 0) {
            fprintf(stderr, "sioc_bench: cannot start client %d\n", i);
            return 2;
        }
    }
    /* the connect deadline; replaced by the warm-up timer once every client has joined */
    uv_timer_start(&b->timer, on_timer, (uint64_t)(b->opt.connect_timeout_s * 1000), 0);

    uv_run(&b->loop, UV_RUN_DEFAULT);
    print_result(b);
    int rc = uv_loop_close(&b->loop);
    if (rc != 0 || b->closed != b->opt.clients)
        fprintf(stderr, "sioc_bench: loop not empty at exit (%d of %d clients closed)\n", b->closed,
                b->opt.clients);
    free(b->conns);
    bench_hist_release(&b->lat);
    return b->joined == b->opt.clients && b->errors == 0 ? 0 : 1;
}
