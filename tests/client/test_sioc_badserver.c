/* The client against scripted servers on the test's own loop: exact bytes for what no real
 * server sends on purpose (a wrong accept key, masked or oversize frames, broken Engine.IO
 * and Socket.IO packets, silence), plus a well-formed script that checks packet routing and
 * what the client writes back (CONNECT packets, pongs, the echoed close frame). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sioc.h"
#include "client/sioc_ws.h"
#include "client_fixture.h"
#include "core/buf.h"
#include "loop_util.h"
#include "net/ws_frame.h"

#define WAIT_MS   5000
#define MAX_SEEN  32
#define OPEN_FAST "0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":100,\"pingTimeout\":100}"
#define OPEN_SLOW "0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":20000,\"pingTimeout\":20000}"

enum head_kind { HEAD_NONE, HEAD_GOOD, HEAD_BAD_ACCEPT, HEAD_404 };

/* One scripted server: answers the upgrade with `head`, then sends `frames` at once, and
 * reads back the client's frames. */
struct script {
    uv_tcp_t listener;
    uv_tcp_t peer;
    int port;
    int peer_open;
    enum head_kind head;
    struct buf frames;
    struct buf in; /* the client's upgrade request */
    int upgraded;
    struct ws_reader reader;
    int n_seen;
    char *seen[MAX_SEEN]; /* client text messages; close frames as "close <code>" */
};

static void record(struct script *s, char *text)
{
    if (s->n_seen < MAX_SEEN)
        s->seen[s->n_seen++] = text;
    else
        free(text);
}

static int on_client_frame(void *ud, enum ws_opcode op, uint8_t *data, size_t len)
{
    struct script *s = ud;
    char *text = malloc(len + 16);
    if (op == WS_OP_CLOSE)
        snprintf(text, len + 16, "close %u", len >= 2 ? (unsigned)(data[0] << 8 | data[1]) : 0);
    else {
        memcpy(text, data, len);
        text[len] = '\0';
    }
    record(s, text);
    return 0;
}

static int seen(const struct script *s, const char *text)
{
    for (int i = 0; i < s->n_seen; i++) {
        if (strcmp(s->seen[i], text) == 0)
            return 1;
    }
    return 0;
}

/* Appends an unmasked server frame. */
static void frame(struct buf *out, enum ws_opcode op, const void *data, size_t len)
{
    uint8_t head[WS_MAX_FRAME_HEADER];
    size_t n = ws_frame_header(head, op, 1, len, NULL);
    buf_append(out, head, n);
    buf_append(out, data, len);
}

static void text(struct script *s, const char *t)
{
    frame(&s->frames, WS_OP_TEXT, t, strlen(t));
}

static void write_bytes(struct script *s, const char *data, size_t len);

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
    free(req);
}

static void write_bytes(struct script *s, const char *data, size_t len)
{
    if (len == 0 || !s->peer_open)
        return;
    uv_write_t *req = malloc(sizeof(*req));
    req->data = malloc(len);
    memcpy(req->data, data, len);
    uv_buf_t b = uv_buf_init(req->data, (unsigned)len);
    uv_write(req, (uv_stream_t *)&s->peer, &b, 1, on_written);
}

static void respond(struct script *s, const char *key)
{
    char accept[SIOC_WS_ACCEPT_LEN + 1];
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    if (s->head == HEAD_404) {
        buf_append_str(&out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    } else {
        if (sioc_ws_accept(key, accept) != 0)
            test_fail(__FILE__, __LINE__, "bad key from the client: %s", key);
        if (s->head == HEAD_BAD_ACCEPT)
            accept[0] = accept[0] == 'A' ? 'B' : 'A';
        buf_printf(&out,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                   accept);
        buf_append(&out, s->frames.data, s->frames.len);
    }
    write_bytes(s, out.data, out.len);
    buf_release(&out);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void on_peer_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct script *s = stream->data;
    if (nread < 0)
        uv_read_stop(stream);
    if (nread <= 0 || s->head == HEAD_NONE) {
        free(buf->base);
        return;
    }
    if (s->upgraded) {
        ws_reader_feed(&s->reader, (uint8_t *)buf->base, (size_t)nread);
        free(buf->base);
        return;
    }
    buf_append(&s->in, buf->base, (size_t)nread);
    free(buf->base);
    const char *end = s->in.data != NULL ? strstr(s->in.data, "\r\n\r\n") : NULL;
    const char *k = s->in.data != NULL ? strstr(s->in.data, "Sec-WebSocket-Key: ") : NULL;
    if (end == NULL || k == NULL)
        return;
    char key[SIOC_WS_KEY_LEN + 1];
    snprintf(key, sizeof(key), "%s", k + strlen("Sec-WebSocket-Key: "));
    s->upgraded = 1;
    respond(s, key);
    size_t used = (size_t)(end + 4 - s->in.data);
    if (s->in.len > used)
        ws_reader_feed(&s->reader, (uint8_t *)s->in.data + used, s->in.len - used);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct script *s = server->data;
    if (status != 0 || s->peer_open)
        return;
    uv_tcp_init(server->loop, &s->peer);
    s->peer.data = s;
    s->peer_open = 1;
    if (uv_accept(server, (uv_stream_t *)&s->peer) == 0)
        uv_read_start((uv_stream_t *)&s->peer, on_alloc, on_peer_read);
}

static void script_init(struct script *s, enum head_kind head)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    memset(s, 0, sizeof(*s));
    s->head = head;
    buf_init(&s->frames, BUF_NO_CAP);
    buf_init(&s->in, 65536);
    ws_reader_init(&s->reader, 1, 1 << 20, on_client_frame, s);
    uv_tcp_init(test_loop(), &s->listener);
    s->listener.data = s;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&s->listener, 8, on_connection) != 0 ||
        uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len) != 0)
        test_fail(__FILE__, __LINE__, "cannot listen");
    s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void script_free(struct script *s)
{
    uv_close((uv_handle_t *)&s->listener, NULL);
    if (s->peer_open)
        uv_close((uv_handle_t *)&s->peer, NULL);
    loop_finish();
    for (int i = 0; i < s->n_seen; i++)
        free(s->seen[i]);
    ws_reader_release(&s->reader);
    buf_release(&s->frames);
    buf_release(&s->in);
}

/* A client on the script's port, no reconnection, with socket "/" and the recorders. */
static void start(struct fx *fx, struct script *s, uint64_t handshake_timeout_ms)
{
    struct sioc_options opts;
    char url[64];
    sioc_options_init(&opts);
    opts.reconnect = 0;
    opts.handshake_timeout_ms = handshake_timeout_ms;
    opts.max_message = 4096;
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", s->port);
    fx_init(fx, url, &opts);
    fx_socket(fx, "/", NULL);
    ASSERT_EQ(sioc_client_connect(fx->c), 0);
}

static void finish(struct fx *fx, struct script *s)
{
    fx_free(fx);
    script_free(s);
}

/* ---- Refused handshakes ---- */

TEST(bad_accept_key_is_refused)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_BAD_ACCEPT);
    text(&s, OPEN_SLOW);
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_handshake_error);
    ASSERT_TRUE(strstr(fx.connect_error_detail, "Sec-WebSocket-Accept") != NULL);
    ASSERT_EQ(fx.opens, 0);
    finish(&fx, &s);
}

TEST(http_error_is_refused)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_404);
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_handshake_error);
    ASSERT_TRUE(strstr(fx.connect_error_detail, "404 Not Found") != NULL);
    finish(&fx, &s);
}

TEST(silent_server_times_out)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_NONE);
    start(&fx, &s, 300);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_handshake_timeout);
    finish(&fx, &s);
}

TEST(masked_server_frame_is_refused)
{
    struct script s;
    struct fx fx;
    uint8_t mask[4] = {1, 2, 3, 4};
    uint8_t head[WS_MAX_FRAME_HEADER];
    char payload[] = OPEN_SLOW;
    size_t len = strlen(payload);
    script_init(&s, HEAD_GOOD);
    size_t n = ws_frame_header(head, WS_OP_TEXT, 1, len, mask);
    ws_mask((uint8_t *)payload, len, mask, 0);
    buf_append(&s.frames, head, n);
    buf_append(&s.frames, payload, len);
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_parse_error);
    ASSERT_EQ(fx.opens, 0);
    RUN_UNTIL(seen(&s, "close 1002"), WAIT_MS); /* the client says why */
    finish(&fx, &s);
}

TEST(bad_open_packet_is_refused)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_GOOD);
    text(&s, "0{\"sid\":1,\"pingInterval\":100,\"pingTimeout\":100}");
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_parse_error);
    ASSERT_TRUE(strstr(fx.connect_error_detail, "open packet") != NULL);
    finish(&fx, &s);
}

/* ---- Broken sessions ---- */

static void expect_parse_error(const char *bad_frames_text, int binary, const char *detail)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_GOOD);
    text(&s, OPEN_SLOW);
    if (binary)
        frame(&s.frames, WS_OP_BINARY, bad_frames_text, strlen(bad_frames_text));
    else
        text(&s, bad_frames_text);
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_EQ(fx.opens, 1);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_parse_error);
    if (strstr(fx.disconnect_detail, detail) == NULL)
        test_fail(__FILE__, __LINE__, "detail \"%s\" lacks \"%s\"", fx.disconnect_detail, detail);
    RUN_UNTIL(seen(&s, "close 1002"), WAIT_MS);
    finish(&fx, &s);
}

TEST(invalid_socketio_json_ends_the_session)
{
    expect_parse_error("42[oops", 0, "invalid JSON");
}

TEST(unknown_socketio_type_ends_the_session)
{
    expect_parse_error("49[]", 0, "bad packet type");
}

TEST(unknown_engineio_type_ends_the_session)
{
    expect_parse_error("9", 0, "Engine.IO");
}

TEST(unannounced_binary_ends_the_session)
{
    expect_parse_error("\x01\x02", 1, "no packet announced");
}

TEST(too_many_attachments_end_the_session)
{
    expect_parse_error("4511-[\"a\"]", 0, "bad attachment count");
}

TEST(packet_while_attachments_due_ends_the_session)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_GOOD);
    text(&s, OPEN_SLOW);
    text(&s, "40{\"sid\":\"x\"}");
    text(&s, "451-[\"a\",{\"_placeholder\":true,\"num\":0}]");
    text(&s, "42[\"b\"]");
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_parse_error);
    ASSERT_TRUE(strstr(fx.disconnect_detail, "attachments were due") != NULL);
    ASSERT_EQ(fx.sockets[0].n_events, 0);
    finish(&fx, &s);
}

TEST(oversize_frame_header_is_refused_at_once)
{
    struct script s;
    struct fx fx;
    uint8_t head[WS_MAX_FRAME_HEADER];
    script_init(&s, HEAD_GOOD);
    text(&s, OPEN_SLOW);
    /* Announces a terabyte and sends none of it: refused from the header alone. */
    buf_append(&s.frames, head, ws_frame_header(head, WS_OP_BINARY, 1, 1ULL << 40, NULL));
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_too_big);
    RUN_UNTIL(seen(&s, "close 1009"), WAIT_MS);
    finish(&fx, &s);
}

TEST(no_pings_is_a_ping_timeout)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_GOOD);
    text(&s, OPEN_FAST);
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_EQ(fx.opens, 1);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_ping_timeout);
    finish(&fx, &s);
}

TEST(server_close_frame_is_echoed)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_GOOD);
    text(&s, OPEN_SLOW);
    frame(&s.frames, WS_OP_CLOSE,
          "\x0f\xa0"
          "bye",
          5); /* 4000 */
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_transport_close);
    ASSERT_TRUE(strstr(fx.disconnect_detail, "4000") != NULL);
    ASSERT_EQ(sioc_client_stats(fx.c)->last_close_code, 4000);
    RUN_UNTIL(seen(&s, "close 4000"), WAIT_MS);
    finish(&fx, &s);
}

TEST(engineio_close_packet_ends_the_session)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_GOOD);
    text(&s, OPEN_SLOW);
    text(&s, "1");
    start(&fx, &s, 5000);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_transport_close);
    finish(&fx, &s);
}

/* ---- A well-formed script ---- */

TEST(packets_are_routed_and_answered)
{
    struct script s;
    struct fx fx;
    script_init(&s, HEAD_GOOD);
    text(&s, OPEN_SLOW);
    text(&s, "2");
    text(&s, "40{\"sid\":\"S1\"}");
    text(&s, "44/x,{\"message\":\"n\\u00f6pe\",\"data\":{\"code\":7}}");
    text(&s, "42[\"caf\\u00e9\",true,{\"k\":[1]}]");
    text(&s, "4212[\"wants-ack\"]");
    text(&s, "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]");
    frame(&s.frames, WS_OP_PING, "pp", 2);
    frame(&s.frames, WS_OP_BINARY, "\x00\x01\x02", 3);
    text(&s, "42/y,[\"not joined\"]");
    text(&s, "6");
    text(&s, "43/x,5[\"unknown ack\"]");
    start(&fx, &s, 5000);
    struct fx_socket *x = fx_socket(&fx, "/x", "{\"k\":1}");
    struct fx_socket *root = &fx.sockets[0];
    RUN_UNTIL(root->n_events == 3 && x->connect_errors == 1, WAIT_MS);
    ASSERT_EQ(root->connects, 1);
    ASSERT_STR_EQ(root->sid, "S1");
    ASSERT_STR_EQ(x->error_message, "n\xc3\xb6pe");
    ASSERT_STR_EQ(x->error_data, "{\"code\":7}");
    ASSERT_STR_EQ(root->events[0].name, "caf\xc3\xa9");
    ASSERT_STR_EQ(root->events[0].args, "[true,{\"k\":[1]}]");
    ASSERT_EQ(root->events[0].ack.id, -1);
    ASSERT_STR_EQ(root->events[1].name, "wants-ack");
    ASSERT_STR_EQ(root->events[1].args, "[]");
    ASSERT_EQ(root->events[1].ack.id, 12);
    ASSERT_STR_EQ(root->events[2].name, "bin");
    ASSERT_STR_EQ(root->events[2].args, "[{\"_placeholder\":true,\"num\":0}]");
    ASSERT_EQ(root->events[2].n_att, 1);
    ASSERT_MEM_EQ(root->events[2].att[0].data, root->events[2].att[0].len, "\x00\x01\x02", 3);
    /* What the client wrote: CONNECT for both namespaces (with the auth), the pong, and an
     * ack with binary. */
    ASSERT_EQ(sioc_socket_ack(root->s, root->events[1].ack, "[{\"_placeholder\":true,\"num\":0}]",
                              &(struct sioc_binary){"\xff", 1}, 1),
              0);
    RUN_UNTIL(seen(&s, "3") && seen(&s, "40") && seen(&s, "40/x,{\"k\":1}") &&
                  seen(&s, "461-12[{\"_placeholder\":true,\"num\":0}]") && seen(&s, "\xff"),
              WAIT_MS);
    ASSERT_EQ(fx.disconnects, 0);
    ASSERT_TRUE(sioc_client_is_open(fx.c));
    /* Emitting to /x, refused, is not possible; to "/" it is. */
    ASSERT_EQ(sioc_socket_emit(x->s, "e", "[]", NULL, 0), SIOC_ERR_NOT_CONNECTED);
    ASSERT_EQ(sioc_socket_emit(root->s, "e", "[\"\\u0000\"]", NULL, 0), 0);
    RUN_UNTIL(seen(&s, "42[\"e\",\"\\u0000\"]"), WAIT_MS);
    finish(&fx, &s);
}
