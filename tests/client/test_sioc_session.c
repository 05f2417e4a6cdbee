/* The client's session against a real server ($SIOC_SERVER): heartbeats, the ping timeout,
 * reconnection with backoff after the server is killed and restarted on the same port,
 * giving up, leaving cleanly, and refusing an oversize message. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_fixture.h"
#include "loop_util.h"
#include "server_proc.h"

#define WAIT_MS 10000

static void start_client(struct server_proc *sp, struct fx *fx, const struct sioc_options *opts)
{
    server_start(sp, 0);
    fx_init(fx, fx_url(sp->port), opts);
}

static void stop_all(struct server_proc *sp, struct fx *fx)
{
    fx_free(fx);
    server_kill(sp);
    loop_finish();
}

/* A port where nothing listens (bound, then released). */
static int unused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(addr);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        test_fail(__FILE__, __LINE__, "no free port");
    close(fd);
    return ntohs(addr.sin_port);
}

TEST(heartbeat_keeps_the_session)
{
    struct server_proc sp;
    struct fx fx;
    start_client(&sp, &fx, NULL);
    struct fx_socket *root = fx_socket(&fx, "/", NULL);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(root->connects == 1, WAIT_MS);
    /* pingInterval is 300 ms and pingTimeout 200 ms: four pings take the session well past
     * the point where a client that did not answer would have been dropped. */
    RUN_UNTIL(sioc_client_stats(fx.c)->pings >= 4, WAIT_MS);
    ASSERT_EQ(fx.disconnects, 0);
    ASSERT_EQ(fx.opens, 1);
    ASSERT_EQ(root->disconnects, 0);
    struct fx_ack ack;
    fx_call(root, "message-with-ack", "[\"alive\"]", NULL, 0, &ack);
    ASSERT_STR_EQ(ack.args, "[\"alive\"]");
    fx_ack_release(&ack);
    stop_all(&sp, &fx);
}

TEST(ping_timeout_is_a_disconnect)
{
    struct server_proc sp;
    struct fx fx;
    struct sioc_options opts;
    sioc_options_init(&opts);
    opts.reconnect = 0;
    start_client(&sp, &fx, &opts);
    struct fx_socket *root = fx_socket(&fx, "/", NULL);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(root->connects == 1, WAIT_MS);
    /* A stopped server sends no pings but keeps the TCP connection up. */
    server_signal(&sp, SIGSTOP);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    server_signal(&sp, SIGCONT);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_ping_timeout);
    ASSERT_TRUE(root->disconnect_reason == sioc_reason_ping_timeout);
    ASSERT_FALSE(sioc_client_is_open(fx.c));
    ASSERT_EQ(fx.n_reconnecting, 0);
    stop_all(&sp, &fx);
}

TEST(reconnects_with_backoff_after_restart)
{
    struct server_proc sp;
    struct fx fx;
    struct sioc_options opts;
    struct fx_ack pending = {0};
    sioc_options_init(&opts);
    opts.reconnect_base_ms = 100;
    opts.reconnect_cap_ms = 400;
    opts.reconnect_jitter = 0;
    start_client(&sp, &fx, &opts);
    struct fx_socket *root = fx_socket(&fx, "/", NULL);
    struct fx_socket *custom = fx_socket(&fx, "/custom", "{\"token\":\"r1\"}");
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(root->connects == 1 && fx_count(custom, "auth") == 1, WAIT_MS);
    ASSERT_EQ(sioc_socket_emit_ack(root->s, "message", "[]", NULL, 0, 60000, fx_on_ack, &pending),
              0);

    server_kill(&sp);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_transport_close ||
                fx.disconnect_reason == sioc_reason_transport_error);
    ASSERT_EQ(root->disconnects, 1);
    ASSERT_EQ(custom->disconnects, 1);
    ASSERT_EQ(pending.done, 1); /* an ack cannot outlive its session */
    ASSERT_TRUE(pending.err == sioc_err_disconnected);
    /* While nothing listens every attempt fails and the delay doubles up to the cap. */
    RUN_UNTIL(fx.n_reconnecting >= 4, WAIT_MS);
    ASSERT_TRUE(fx.connect_errors >= 3);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_connect_error);

    server_start(&sp, sp.port);
    RUN_UNTIL(fx.opens == 2 && root->connects == 2 && custom->connects == 2, WAIT_MS);
    int n = fx.n_reconnecting;
    ASSERT_TRUE(n >= 4 && n <= FX_MAX);
    for (int i = 0; i < n; i++) {
        uint64_t expected = 100ULL << (i < 3 ? i : 3);
        ASSERT_EQ(fx.attempts[i], i + 1);
        ASSERT_EQ(fx.delays[i], expected > 400 ? 400 : expected);
    }
    ASSERT_EQ(sioc_client_stats(fx.c)->reconnect_attempts, (uint64_t)n);
    /* Both namespaces were joined again, /custom with its auth. */
    RUN_UNTIL(fx_count(custom, "auth") == 2, WAIT_MS);
    ASSERT_STR_EQ(fx_event(custom, "auth", 1)->args, "[{\"token\":\"r1\"}]");
    struct fx_ack ack;
    fx_call(custom, "message-with-ack", "[\"back\"]", NULL, 0, &ack);
    ASSERT_STR_EQ(ack.args, "[\"back\"]");
    fx_ack_release(&ack);
    /* The attempt counter starts again from 1 after a successful reconnection. */
    server_kill(&sp);
    RUN_UNTIL(fx.n_reconnecting > n, WAIT_MS);
    ASSERT_EQ(fx.attempts[n], 1);
    ASSERT_EQ(fx.delays[n], 100);
    stop_all(&sp, &fx);
}

TEST(reconnect_gives_up_after_max_attempts)
{
    struct fx fx;
    struct sioc_options opts;
    sioc_options_init(&opts);
    opts.reconnect_base_ms = 50;
    opts.reconnect_jitter = 0;
    opts.reconnect_max_attempts = 2;
    fx_init(&fx, fx_url(unused_port()), &opts);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(fx.reconnect_failed == 1, WAIT_MS);
    ASSERT_EQ(fx.n_reconnecting, 2);
    ASSERT_EQ(fx.connect_errors, 3); /* the first attempt and two reconnections */
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_connect_error);
    ASSERT_TRUE(strstr(fx.connect_error_detail, "connection refused") != NULL);
    ASSERT_EQ(fx.opens, 0);
    /* Nothing else is scheduled: the client can be started again by hand. */
    loop_run_for(200);
    ASSERT_EQ(fx.n_reconnecting, 2);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    ASSERT_EQ(sioc_client_connect(fx.c), SIOC_ERR_STATE);
    RUN_UNTIL(fx.connect_errors == 4, WAIT_MS);
    fx_free(&fx);
    loop_finish();
}

TEST(clean_disconnect)
{
    struct server_proc sp;
    struct fx fx;
    struct fx_ack pending = {0};
    start_client(&sp, &fx, NULL);
    struct fx_socket *root = fx_socket(&fx, "/", NULL);
    struct fx_socket *custom = fx_socket(&fx, "/custom", NULL);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(root->connects == 1 && custom->connects == 1, WAIT_MS);
    ASSERT_EQ(sioc_socket_emit_ack(root->s, "message", "[]", NULL, 0, 60000, fx_on_ack, &pending),
              0);
    sioc_client_disconnect(fx.c);
    /* Namespaces and acks are told at once. */
    ASSERT_EQ(root->disconnects, 1);
    ASSERT_EQ(custom->disconnects, 1);
    ASSERT_TRUE(root->disconnect_reason == sioc_reason_io_client_disconnect);
    ASSERT_TRUE(custom->disconnect_reason == sioc_reason_io_client_disconnect);
    ASSERT_EQ(pending.done, 1);
    ASSERT_TRUE(pending.err == sioc_err_disconnected);
    ASSERT_EQ(sioc_socket_emit(root->s, "message", "[]", NULL, 0), SIOC_ERR_NOT_CONNECTED);
    /* The client is told once the server has answered our close frame; its code 1000 says
     * it read a well-formed, masked close frame from us. */
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_io_client_disconnect);
    ASSERT_EQ(sioc_client_stats(fx.c)->last_close_code, 1000);
    loop_run_for(300);
    ASSERT_EQ(fx.n_reconnecting, 0);
    ASSERT_EQ(fx.opens, 1);
    /* Connecting again joins the namespaces again. */
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(root->connects == 2 && custom->connects == 2, WAIT_MS);
    ASSERT_EQ(fx.opens, 2);
    stop_all(&sp, &fx);
}

TEST(leaving_and_joining_a_namespace)
{
    struct server_proc sp;
    struct fx fx;
    start_client(&sp, &fx, NULL);
    struct fx_socket *root = fx_socket(&fx, "/", NULL);
    struct fx_socket *custom = fx_socket(&fx, "/custom", "{\"token\":\"first\"}");
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(root->connects == 1 && fx_count(custom, "auth") == 1, WAIT_MS);
    sioc_socket_disconnect(custom->s);
    ASSERT_EQ(custom->disconnects, 1);
    ASSERT_TRUE(custom->disconnect_reason == sioc_reason_io_client_disconnect);
    ASSERT_FALSE(sioc_socket_is_connected(custom->s));
    ASSERT_EQ(sioc_socket_emit(custom->s, "message", "[]", NULL, 0), SIOC_ERR_NOT_CONNECTED);
    ASSERT_TRUE(sioc_client_is_open(fx.c));
    /* A round trip on "/" first: socket.io closes the whole connection when a CONNECT
     * reaches it before it has processed the DISCONNECT of the same namespace. */
    struct fx_ack ack;
    fx_call(root, "message-with-ack", "[]", NULL, 0, &ack);
    fx_ack_release(&ack);
    ASSERT_EQ(sioc_socket_connect(custom->s, "{\"token\":\"second\"}"), 0);
    RUN_UNTIL(custom->connects == 2 && fx_count(custom, "auth") == 2, WAIT_MS);
    ASSERT_STR_EQ(fx_event(custom, "auth", 1)->args, "[{\"token\":\"second\"}]");
    ASSERT_EQ(fx.opens, 1);
    stop_all(&sp, &fx);
}

TEST(oversize_message_is_refused)
{
    struct server_proc sp;
    struct fx fx;
    struct sioc_options opts;
    char args[1100];
    sioc_options_init(&opts);
    opts.max_message = 1024;
    opts.reconnect = 0;
    start_client(&sp, &fx, &opts);
    struct fx_socket *root = fx_socket(&fx, "/", NULL);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(root->connects == 1, WAIT_MS);
    /* Ours: 4 + 2["message","x..."] is 1022 bytes; the echo, named message-back, is 1027. */
    size_t fill = 1022 - strlen("42[\"message\",\"\"]");
    args[0] = '[';
    args[1] = '"';
    memset(args + 2, 'x', fill);
    memcpy(args + 2 + fill, "\"]", 3);
    /* What we may not send is refused before it leaves. */
    char big[1100];
    memcpy(big, args, sizeof(args));
    memcpy(big + 2 + fill, "xxxx\"]", 7);
    ASSERT_EQ(sioc_socket_emit(root->s, "message", big, NULL, 0), SIOC_ERR_TOO_BIG);
    ASSERT_EQ(sioc_socket_emit(root->s, "message", args, NULL, 0), 0);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_too_big);
    ASSERT_TRUE(strstr(fx.disconnect_detail, "1024") != NULL);
    ASSERT_EQ(fx_count(root, "message-back"), 0);
    ASSERT_FALSE(sioc_client_is_open(fx.c));
    stop_all(&sp, &fx);
}

TEST(connection_refused_is_reported)
{
    struct fx fx;
    struct sioc_options opts;
    sioc_options_init(&opts);
    opts.reconnect = 0;
    fx_init(&fx, fx_url(unused_port()), &opts);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_connect_error);
    ASSERT_TRUE(strstr(fx.connect_error_detail, "connection refused") != NULL);
    ASSERT_EQ(fx.n_reconnecting, 0);
    ASSERT_EQ(fx.disconnects, 0);
    fx_free(&fx);
    loop_finish();
}
