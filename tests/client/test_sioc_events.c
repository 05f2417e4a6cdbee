/* The client against a real server ($SIOC_SERVER: our broker or the reference Node server,
 * with the conformance handlers of docs/CONFORMANCE.md): connecting, events and acks both
 * ways, binary attachments, namespaces with auth and their refusals, ack timeouts. */
#include <string.h>

#include "client_fixture.h"
#include "loop_util.h"
#include "server_proc.h"

#define WAIT_MS 10000

/* A started server and a client connected to "/". */
struct setup {
    struct server_proc server;
    struct fx fx;
    struct fx_socket *root;
};

static void setup_start(struct setup *t, const struct sioc_options *opts)
{
    server_start(&t->server, 0);
    fx_init(&t->fx, fx_url(t->server.port), opts);
    t->root = fx_socket(&t->fx, "/", NULL);
    ASSERT_EQ(sioc_client_connect(t->fx.c), 0);
    RUN_UNTIL(t->root->connects == 1, WAIT_MS);
}

static void setup_stop(struct setup *t)
{
    fx_free(&t->fx);
    server_kill(&t->server);
    loop_finish();
}

TEST(connect_gets_session_and_auth_event)
{
    struct setup t;
    setup_start(&t, NULL);
    ASSERT_EQ(t.fx.opens, 1);
    ASSERT_TRUE(sioc_client_is_open(t.fx.c));
    ASSERT_TRUE(sioc_socket_is_connected(t.root->s));
    /* The socket id comes from the server's CONNECT reply. */
    ASSERT_TRUE(strlen(t.root->sid) > 0);
    ASSERT_STR_EQ(sioc_socket_id(t.root->s), t.root->sid);
    /* The conformance servers send pingInterval 300 and pingTimeout 200. */
    ASSERT_EQ(sioc_client_stats(t.fx.c)->ping_interval_ms, 300);
    ASSERT_EQ(sioc_client_stats(t.fx.c)->ping_timeout_ms, 200);
    /* Server to client event on connection: the auth we sent (none: {}). */
    RUN_UNTIL(fx_count(t.root, "auth") == 1, WAIT_MS);
    ASSERT_STR_EQ(fx_event(t.root, "auth", 0)->args, "[{}]");
    ASSERT_EQ(fx_event(t.root, "auth", 0)->ack.id, -1);
    setup_stop(&t);
}

TEST(emit_with_ack_round_trip)
{
    struct setup t;
    struct fx_ack ack;
    setup_start(&t, NULL);
    fx_call(t.root, "message-with-ack", "[1,\"two\",{\"three\":[3,true,null]}]", NULL, 0, &ack);
    ASSERT_TRUE(ack.err == NULL);
    ASSERT_STR_EQ(ack.args, "[1,\"two\",{\"three\":[3,true,null]}]");
    ASSERT_EQ(ack.n_att, 0);
    fx_ack_release(&ack);
    /* No arguments at all: an empty array comes back. */
    fx_call(t.root, "message-with-ack", NULL, NULL, 0, &ack);
    ASSERT_TRUE(ack.err == NULL);
    ASSERT_STR_EQ(ack.args, "[]");
    fx_ack_release(&ack);
    /* Strings with characters JSON must escape come back byte for byte. */
    fx_call(t.root, "message-with-ack", "[\"quote \\\" backslash \\\\ tab \\t\"]", NULL, 0, &ack);
    ASSERT_STR_EQ(ack.args, "[\"quote \\\" backslash \\\\ tab \\t\"]");
    fx_ack_release(&ack);
    setup_stop(&t);
}

TEST(server_event_echoes_our_emit)
{
    struct setup t;
    setup_start(&t, NULL);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", "[\"hello\",42]", NULL, 0), 0);
    RUN_UNTIL(fx_count(t.root, "message-back") == 1, WAIT_MS);
    const struct fx_event *e = fx_event(t.root, "message-back", 0);
    ASSERT_STR_EQ(e->args, "[\"hello\",42]");
    ASSERT_EQ(e->ack.id, -1);
    setup_stop(&t);
}

static int named_calls;
static char named_args[128];

static void on_named(struct sioc_socket *s, const struct sioc_event *ev, void *ud)
{
    (void)s;
    (void)ud;
    named_calls++;
    snprintf(named_args, sizeof(named_args), "%s", ev->msg.args);
}

TEST(handler_by_name_then_catch_all)
{
    struct setup t;
    setup_start(&t, NULL);
    sioc_socket_on(t.root->s, "message-back", on_named, NULL);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", "[\"one\"]", NULL, 0), 0);
    RUN_UNTIL(named_calls == 1, WAIT_MS);
    ASSERT_STR_EQ(named_args, "[\"one\"]");
    ASSERT_EQ(fx_count(t.root, "message-back"), 0);
    /* Removed: the catch-all gets it. */
    sioc_socket_on(t.root->s, "message-back", NULL, NULL);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", "[\"two\"]", NULL, 0), 0);
    RUN_UNTIL(fx_count(t.root, "message-back") == 1, WAIT_MS);
    ASSERT_EQ(named_calls, 1);
    ASSERT_STR_EQ(fx_event(t.root, "message-back", 0)->args, "[\"two\"]");
    setup_stop(&t);
}

TEST(client_answers_server_ack_request)
{
    struct setup t;
    setup_start(&t, NULL);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "server-ack-please", "[7]", NULL, 0), 0);
    RUN_UNTIL(fx_count(t.root, "server-ack-request") == 1, WAIT_MS);
    const struct fx_event *req = fx_event(t.root, "server-ack-request", 0);
    ASSERT_STR_EQ(req->args, "[7]");
    ASSERT_TRUE(req->ack.id >= 0);
    /* Answered after the callback returned, from the copied reference. */
    ASSERT_EQ(sioc_socket_ack(t.root->s, req->ack, "[\"pong\",8]", NULL, 0), 0);
    RUN_UNTIL(fx_count(t.root, "server-ack-result") == 1, WAIT_MS);
    ASSERT_STR_EQ(fx_event(t.root, "server-ack-result", 0)->args, "[\"pong\",8]");
    ASSERT_EQ(fx_count(t.root, "server-ack-timeout"), 0);
    /* An event that asked for no ack cannot be acked. */
    struct sioc_ack_ref none = fx_event(t.root, "auth", 0)->ack;
    ASSERT_EQ(sioc_socket_ack(t.root->s, none, "[]", NULL, 0), SIOC_ERR_BAD_ARGUMENT);
    setup_stop(&t);
}

static void fill_bytes(unsigned char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)(i * 7 + 3);
}

TEST(binary_attachments_both_ways)
{
    struct setup t;
    unsigned char big[70000], small[3] = {0x00, 0xFF, 0x0A};
    fill_bytes(big, sizeof(big));
    struct sioc_binary att[2] = {{big, sizeof(big)}, {small, sizeof(small)}};
    const char *args =
        "[\"bin\",{\"_placeholder\":true,\"num\":0},{\"n\":{\"_placeholder\":true,\"num\":1}}]";
    setup_start(&t, NULL);
    /* BINARY_EVENT out, BINARY_EVENT back. */
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", args, att, 2), 0);
    RUN_UNTIL(fx_count(t.root, "message-back") == 1, WAIT_MS);
    const struct fx_event *e = fx_event(t.root, "message-back", 0);
    ASSERT_STR_EQ(e->args, args);
    ASSERT_EQ(e->n_att, 2);
    ASSERT_MEM_EQ(e->att[0].data, e->att[0].len, big, sizeof(big));
    ASSERT_MEM_EQ(e->att[1].data, e->att[1].len, small, sizeof(small));
    /* BINARY_EVENT with an ack id out, BINARY_ACK back. */
    struct fx_ack ack;
    fx_call(t.root, "message-with-ack", "[{\"_placeholder\":true,\"num\":0}]", &att[1], 1, &ack);
    ASSERT_TRUE(ack.err == NULL);
    ASSERT_STR_EQ(ack.args, "[{\"_placeholder\":true,\"num\":0}]");
    ASSERT_EQ(ack.n_att, 1);
    ASSERT_MEM_EQ(ack.att[0].data, ack.att[0].len, small, sizeof(small));
    fx_ack_release(&ack);
    setup_stop(&t);
}

TEST(namespace_with_auth)
{
    struct setup t;
    setup_start(&t, NULL);
    struct fx_socket *custom = fx_socket(&t.fx, "/custom", "{\"token\":\"abc\"}");
    RUN_UNTIL(custom->connects == 1, WAIT_MS);
    RUN_UNTIL(fx_count(custom, "auth") == 1, WAIT_MS);
    ASSERT_STR_EQ(fx_event(custom, "auth", 0)->args, "[{\"token\":\"abc\"}]");
    /* Each namespace gets its own events and acks on the one session. */
    struct fx_ack ack;
    fx_call(custom, "message-with-ack", "[\"on custom\"]", NULL, 0, &ack);
    ASSERT_STR_EQ(ack.args, "[\"on custom\"]");
    fx_ack_release(&ack);
    ASSERT_EQ(fx_count(t.root, "auth"), 1);
    ASSERT_STR_EQ(fx_event(t.root, "auth", 0)->args, "[{}]");
    ASSERT_EQ(t.fx.opens, 1);
    setup_stop(&t);
}

TEST(connect_error_reports_the_message)
{
    struct setup t;
    setup_start(&t, NULL);
    struct fx_socket *refused = fx_socket(&t.fx, "/custom", "{\"reject\":true}");
    struct fx_socket *unknown = fx_socket(&t.fx, "/nope", NULL);
    RUN_UNTIL(refused->connect_errors == 1 && unknown->connect_errors == 1, WAIT_MS);
    ASSERT_STR_EQ(refused->error_message, "Not authorized");
    ASSERT_STR_EQ(unknown->error_message, "Invalid namespace");
    ASSERT_EQ(refused->connects, 0);
    ASSERT_FALSE(sioc_socket_is_connected(refused->s));
    ASSERT_EQ(sioc_socket_emit(refused->s, "message", "[]", NULL, 0), SIOC_ERR_NOT_CONNECTED);
    /* The session and "/" are untouched. */
    struct fx_ack ack;
    fx_call(t.root, "message-with-ack", "[1]", NULL, 0, &ack);
    ASSERT_STR_EQ(ack.args, "[1]");
    fx_ack_release(&ack);
    /* Asking again with an acceptable auth works. */
    ASSERT_EQ(sioc_socket_connect(refused->s, "{\"token\":\"ok\"}"), 0);
    RUN_UNTIL(refused->connects == 1, WAIT_MS);
    RUN_UNTIL(fx_count(refused, "auth") == 1, WAIT_MS);
    ASSERT_STR_EQ(fx_event(refused, "auth", 0)->args, "[{\"token\":\"ok\"}]");
    setup_stop(&t);
}

TEST(ack_timeout)
{
    struct setup t;
    struct fx_ack ack = {0};
    setup_start(&t, NULL);
    /* "message" is answered with an event, never with an ack. */
    ASSERT_EQ(
        sioc_socket_emit_ack(t.root->s, "message", "[\"no ack\"]", NULL, 0, 300, fx_on_ack, &ack),
        0);
    RUN_UNTIL(ack.done == 1, WAIT_MS);
    ASSERT_TRUE(ack.err == sioc_err_timeout);
    ASSERT_TRUE(ack.args == NULL);
    RUN_UNTIL(fx_count(t.root, "message-back") == 1, WAIT_MS); /* it did reach the server */
    ASSERT_TRUE(sioc_client_is_open(t.fx.c));
    loop_run_for(100);
    ASSERT_EQ(ack.done, 1); /* exactly once */
    setup_stop(&t);
}

TEST(server_disconnects_a_namespace)
{
    struct setup t;
    setup_start(&t, NULL);
    struct fx_socket *custom = fx_socket(&t.fx, "/custom", NULL);
    RUN_UNTIL(custom->connects == 1, WAIT_MS);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "disconnect-me", NULL, NULL, 0), 0);
    RUN_UNTIL(t.root->disconnects == 1, WAIT_MS);
    ASSERT_TRUE(t.root->disconnect_reason == sioc_reason_io_server_disconnect);
    ASSERT_FALSE(sioc_socket_is_connected(t.root->s));
    /* The session and the other namespace stay. */
    ASSERT_TRUE(sioc_client_is_open(t.fx.c));
    struct fx_ack ack;
    fx_call(custom, "message-with-ack", "[2]", NULL, 0, &ack);
    ASSERT_STR_EQ(ack.args, "[2]");
    fx_ack_release(&ack);
    ASSERT_EQ(t.root->connects, 1); /* not re-joined on its own */
    ASSERT_EQ(t.fx.disconnects, 0);
    setup_stop(&t);
}

TEST(emit_refuses_bad_arguments)
{
    struct setup t;
    unsigned char b = 1;
    struct sioc_binary one = {&b, 1};
    setup_start(&t, NULL);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", "[1,", NULL, 0), SIOC_ERR_BAD_JSON);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", "{\"a\":1}", NULL, 0), SIOC_ERR_BAD_JSON);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", "[\"\xff\"]", NULL, 0), SIOC_ERR_BAD_JSON);
    ASSERT_EQ(sioc_socket_emit(t.root->s, "disconnect", "[]", NULL, 0), SIOC_ERR_BAD_ARGUMENT);
    ASSERT_EQ(sioc_socket_emit(t.root->s, NULL, "[]", NULL, 0), SIOC_ERR_BAD_ARGUMENT);
    /* Placeholders and attachments must match. */
    ASSERT_EQ(sioc_socket_emit(t.root->s, "message", "[]", &one, 1), SIOC_ERR_BAD_ARGUMENT);
    ASSERT_EQ(
        sioc_socket_emit(t.root->s, "message", "[{\"_placeholder\":true,\"num\":1}]", &one, 1),
        SIOC_ERR_BAD_ARGUMENT);
    ASSERT_EQ(sioc_socket_connect(t.root->s, "[1]"), SIOC_ERR_BAD_JSON);
    /* None of them reached the server: the session is fine. */
    struct fx_ack ack;
    fx_call(t.root, "message-with-ack", "[\"still fine\"]", NULL, 0, &ack);
    ASSERT_STR_EQ(ack.args, "[\"still fine\"]");
    fx_ack_release(&ack);
    ASSERT_EQ(t.fx.disconnects, 0);
    setup_stop(&t);
}
