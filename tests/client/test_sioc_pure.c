/* The client's pure parts: URL parsing, the small JSON helpers, backoff delays, the
 * WebSocket handshake and masked frames (read back with the server's own frame reader). */
#include <stdlib.h>
#include <string.h>

#include "client/sioc.h"
#include "client/sioc_backoff.h"
#include "client/sioc_json.h"
#include "client/sioc_url.h"
#include "client/sioc_ws.h"
#include "core/base64.h"
#include "net/ws_frame.h"
#include "test.h"

/* ---- URL ---- */

TEST(url_defaults)
{
    struct sioc_url u;
    ASSERT_EQ(sioc_url_parse("ws://example.com", &u), 0);
    ASSERT_EQ(u.tls, 0);
    ASSERT_EQ(u.port, 80);
    ASSERT_STR_EQ(u.host, "example.com");
    ASSERT_STR_EQ(u.host_header, "example.com");
    ASSERT_STR_EQ(u.target, "/socket.io/?EIO=4&transport=websocket");
    sioc_url_release(&u);
    ASSERT_EQ(sioc_url_parse("HTTP://Example.com:8080/", &u), 0);
    ASSERT_EQ(u.tls, 0);
    ASSERT_EQ(u.port, 8080);
    ASSERT_STR_EQ(u.host_header, "Example.com:8080");
    ASSERT_STR_EQ(u.target, "/socket.io/?EIO=4&transport=websocket");
    sioc_url_release(&u);
}

TEST(url_tls_path_and_query)
{
    struct sioc_url u;
    ASSERT_EQ(sioc_url_parse("https://h.example:8443/custom/path/?token=a%20b&x=1#frag", &u), 0);
    ASSERT_EQ(u.tls, 1);
    ASSERT_EQ(u.port, 8443);
    ASSERT_STR_EQ(u.host, "h.example");
    ASSERT_STR_EQ(u.host_header, "h.example:8443");
    ASSERT_STR_EQ(u.target, "/custom/path/?EIO=4&transport=websocket&token=a%20b&x=1");
    sioc_url_release(&u);
    ASSERT_EQ(sioc_url_parse("wss://secure.example?k=v", &u), 0);
    ASSERT_EQ(u.tls, 1);
    ASSERT_EQ(u.port, 443);
    ASSERT_STR_EQ(u.host_header, "secure.example");
    ASSERT_STR_EQ(u.target, "/socket.io/?EIO=4&transport=websocket&k=v");
    sioc_url_release(&u);
}

TEST(url_ipv6)
{
    struct sioc_url u;
    ASSERT_EQ(sioc_url_parse("ws://[::1]:9000/", &u), 0);
    ASSERT_STR_EQ(u.host, "::1");
    ASSERT_EQ(u.port, 9000);
    ASSERT_STR_EQ(u.host_header, "[::1]:9000");
    sioc_url_release(&u);
    ASSERT_EQ(sioc_url_parse("wss://[2001:db8::2]", &u), 0);
    ASSERT_STR_EQ(u.host_header, "[2001:db8::2]");
    ASSERT_EQ(u.port, 443);
    sioc_url_release(&u);
}

TEST(url_rejects)
{
    static const char *const bad[] = {
        "ftp://x",     "ws://",         "ws://:80",  "ws://x:0",      "ws://x:65536",
        "ws://x:12a",  "ws://user@x",   "ws://[::1", "ws://[::1]x",   "ws://x/pa th",
        "nothing",     "ws://ex ample", "ws//x",     "ws://x:",       "ws://[zz]:1",
        "ws://x/\x01", "ws://x?q=\x7f", "://x",      "ws://x:123456",
    };
    struct sioc_url u;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sioc_url_parse(bad[i], &u) != SIOC_ERR_BAD_URL)
            test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
    }
    ASSERT_EQ(sioc_url_parse(NULL, &u), SIOC_ERR_BAD_URL);
}

/* ---- JSON ---- */

static void member(const char *obj, const char *key, const char *expected)
{
    const char *v = NULL;
    size_t len = 0;
    int rc = sioc_json_member(obj, strlen(obj), key, &v, &len);
    if (expected == NULL) {
        ASSERT_EQ(rc, -1);
        return;
    }
    ASSERT_EQ(rc, 0);
    ASSERT_MEM_STR(v, len, expected);
}

TEST(json_member)
{
    const char *obj = " { \"a\" : 1, \"n\":{\"sid\":2,\"s\":\"}\"}, \"l\":[1,{\"sid\":3}],"
                      "\"sid\" : \"x\\\"y\" , \"pingInterval\":25000,\"t\":true}";
    member(obj, "sid", "\"x\\\"y\"");
    member(obj, "a", "1");
    member(obj, "n", "{\"sid\":2,\"s\":\"}\"}");
    member(obj, "l", "[1,{\"sid\":3}]");
    member(obj, "pingInterval", "25000");
    member(obj, "t", "true");
    member(obj, "missing", NULL);
    member("[1,2]", "a", NULL);
    member("{}", "a", NULL);
    /* Escaped keys are compared decoded. */
    member("{\"\\u0073id\":\"k\"}", "sid", "\"k\"");
}

static void string_is(const char *literal, const char *expected, size_t expected_len)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    ASSERT_EQ(sioc_json_string(literal, strlen(literal), &b), 0);
    ASSERT_MEM_EQ(b.data != NULL ? b.data : "", b.len, expected, expected_len);
    buf_release(&b);
}

TEST(json_string)
{
    string_is("\"plain\"", "plain", 5);
    string_is("\"\"", "", 0);
    string_is("\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"", "a\"b\\c/d\n\t\r\b\f", 12);
    string_is("\"\\u00e9\\ud83d\\ude00\"", "\xc3\xa9\xf0\x9f\x98\x80", 6);
    string_is("\"\\ud800x\"", "\xef\xbf\xbdx", 4); /* a lone surrogate */
    string_is("\"\\u0000\"", "\0", 1);
    struct buf b;
    buf_init(&b, 3);
    ASSERT_EQ(sioc_json_string("\"abcd\"", 6, &b), -1); /* over the cap */
    ASSERT_EQ(sioc_json_string("abc", 3, &b), -1);
    ASSERT_EQ(sioc_json_string("\"\\x\"", 4, &b), -1);
    ASSERT_EQ(sioc_json_string("\"\\u12\"", 6, &b), -1);
    buf_release(&b);
}

TEST(json_uint)
{
    uint64_t v = 0;
    ASSERT_EQ(sioc_json_uint("25000", 5, 1000000, &v), 0);
    ASSERT_EQ(v, 25000);
    ASSERT_EQ(sioc_json_uint("0", 1, 10, &v), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(sioc_json_uint("10", 2, 10, &v), 0);
    ASSERT_EQ(sioc_json_uint("11", 2, 10, &v), -1);
    ASSERT_EQ(sioc_json_uint("9", 1, 5, &v), -1);
    ASSERT_EQ(sioc_json_uint("-1", 2, 10, &v), -1);
    ASSERT_EQ(sioc_json_uint("1.5", 3, 10, &v), -1);
    ASSERT_EQ(sioc_json_uint("", 0, 10, &v), -1);
    ASSERT_EQ(sioc_json_uint("99999999999999999999", 20, UINT64_MAX, &v), -1);
}

TEST(json_quote)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    ASSERT_EQ(sioc_json_quote(&b, "a\"b\\\x01\xc3\xa9", 7), 0);
    ASSERT_STR_EQ(b.data, "\"a\\\"b\\\\\\u0001\xc3\xa9\"");
    buf_release(&b);
    buf_init(&b, 4);
    ASSERT_EQ(sioc_json_quote(&b, "abcd", 4), -1);
    buf_release(&b);
}

/* ---- Backoff ---- */

TEST(backoff_doubles_up_to_the_cap)
{
    struct sioc_backoff b = {100, 400, 0};
    ASSERT_EQ(sioc_backoff_delay(&b, 1, 0.3), 100);
    ASSERT_EQ(sioc_backoff_delay(&b, 2, 0.3), 200);
    ASSERT_EQ(sioc_backoff_delay(&b, 3, 0.3), 400);
    ASSERT_EQ(sioc_backoff_delay(&b, 4, 0.3), 400);
    ASSERT_EQ(sioc_backoff_delay(&b, 100000, 0.3), 400);
    struct sioc_backoff huge = {UINT64_MAX / 3, UINT64_MAX, 0};
    ASSERT_TRUE(sioc_backoff_delay(&huge, 70, 0.5) >= UINT64_MAX / 3);
}

TEST(backoff_jitter)
{
    struct sioc_backoff b = {1000, 5000, 0.5};
    ASSERT_EQ(sioc_backoff_delay(&b, 1, 0.0), 500);
    ASSERT_EQ(sioc_backoff_delay(&b, 1, 0.5), 1000);
    ASSERT_EQ(sioc_backoff_delay(&b, 1, 0.75), 1250);
    ASSERT_EQ(sioc_backoff_delay(&b, 3, 0.99), 5000); /* 4000 * 1.49, capped */
    ASSERT_EQ(sioc_backoff_delay(&b, 4, 0.0), 2500);
    for (int i = 0; i < 100; i++) {
        double r = sioc_backoff_random();
        ASSERT_TRUE(r >= 0 && r < 1);
    }
}

/* ---- WebSocket handshake ---- */

TEST(ws_accept_matches_rfc_example)
{
    char out[SIOC_WS_ACCEPT_LEN + 1];
    ASSERT_EQ(sioc_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    ASSERT_STR_EQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ASSERT_EQ(sioc_ws_accept("short", out), -1);
}

TEST(ws_key_is_random_16_bytes)
{
    char k1[SIOC_WS_KEY_LEN + 1], k2[SIOC_WS_KEY_LEN + 1];
    sioc_ws_key(k1);
    sioc_ws_key(k2);
    ASSERT_EQ(strlen(k1), 24);
    ASSERT_TRUE(strcmp(k1, k2) != 0);
    struct buf raw;
    buf_init(&raw, BUF_NO_CAP);
    ASSERT_EQ(base64_decode(&raw, k1, strlen(k1)), 0);
    ASSERT_EQ(raw.len, 16);
    buf_release(&raw);
}

TEST(ws_request)
{
    struct sioc_url u;
    struct buf b;
    ASSERT_EQ(sioc_url_parse("ws://h:1/p/?a=b", &u), 0);
    buf_init(&b, BUF_NO_CAP);
    sioc_ws_request(&b, &u, "KEY");
    const char *line = "GET /p/?EIO=4&transport=websocket&a=b HTTP/1.1\r\n";
    ASSERT_TRUE(strncmp(b.data, line, strlen(line)) == 0);
    ASSERT_TRUE(strstr(b.data, "\r\nHost: h:1\r\n") != NULL);
    ASSERT_TRUE(strstr(b.data, "\r\nUpgrade: websocket\r\n") != NULL);
    ASSERT_TRUE(strstr(b.data, "\r\nConnection: Upgrade\r\n") != NULL);
    ASSERT_TRUE(strstr(b.data, "\r\nSec-WebSocket-Key: KEY\r\n") != NULL);
    ASSERT_TRUE(strstr(b.data, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
    ASSERT_EQ(sioc_ws_head_end(b.data, b.len), b.len);
    ASSERT_EQ(sioc_ws_head_end(b.data, b.len - 1), 0);
    buf_release(&b);
    sioc_url_release(&u);
}

static int check(const char *head)
{
    char err[256];
    return sioc_ws_check_response(head, strlen(head), "dGhlIHNhbXBsZSBub25jZQ==", err, sizeof(err));
}

TEST(ws_response_checks)
{
    char err[256];
    ASSERT_EQ(check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                    "\r\n"),
              0);
    /* Header names in any case, tokens in lists. */
    ASSERT_EQ(check("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                    "SEC-WEBSOCKET-ACCEPT:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n\r\n"),
              0);
    ASSERT_EQ(check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"),
              -1);
    ASSERT_EQ(check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), -1);
    ASSERT_EQ(check("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
              -1);
    ASSERT_EQ(check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                    "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
              -1);
    ASSERT_EQ(check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
              -1);
    ASSERT_EQ(check("HTTP/1.1 101 OK\r\nno colon here\r\n\r\n"), -1);
    ASSERT_EQ(check("HTTP/1.0 101 OK\r\n\r\n"), -1);
    const char *refused = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    ASSERT_EQ(sioc_ws_check_response(refused, strlen(refused), "dGhlIHNhbXBsZSBub25jZQ==", err,
                                     sizeof(err)),
              -1);
    ASSERT_TRUE(strstr(err, "400 Bad Request") != NULL);
}

/* ---- Frames ---- */

struct got {
    int n;
    enum ws_opcode op;
    struct buf data;
};

static int on_message(void *ud, enum ws_opcode op, uint8_t *data, size_t len)
{
    struct got *g = ud;
    g->n++;
    g->op = op;
    buf_append(&g->data, data, len);
    return 0;
}

static void round_trip(enum ws_opcode op, const char *prefix, size_t plen, const char *data,
                       size_t len)
{
    struct buf frame;
    struct got g = {0};
    struct ws_reader r;
    buf_init(&frame, BUF_NO_CAP);
    buf_init(&g.data, BUF_NO_CAP);
    ASSERT_EQ(sioc_ws_frame(&frame, op, prefix, plen, data, len), 0);
    /* Masked, as RFC 6455 requires of a client: the mask bit is set... */
    ASSERT_TRUE(((uint8_t)frame.data[1] & 0x80) != 0);
    ASSERT_EQ((uint8_t)frame.data[0], 0x80 | op);
    /* ...and the server-side reader, which refuses unmasked frames, reads it back. */
    ws_reader_init(&r, 1, 1 << 20, on_message, &g);
    ASSERT_EQ(ws_reader_feed(&r, (uint8_t *)frame.data, frame.len), 0);
    ASSERT_EQ(g.n, 1);
    ASSERT_EQ(g.op, op);
    ASSERT_EQ(g.data.len, plen + len);
    ASSERT_TRUE(plen == 0 || memcmp(g.data.data, prefix, plen) == 0);
    ASSERT_TRUE(len == 0 || memcmp(g.data.data + plen, data, len) == 0);
    ws_reader_release(&r);
    buf_release(&frame);
    buf_release(&g.data);
}

TEST(ws_frames_are_masked_and_readable)
{
    round_trip(WS_OP_TEXT, "4", 1, "hello", 5);
    round_trip(WS_OP_TEXT, "3", 1, NULL, 0);
    char *big = malloc(70000);
    memset(big, 'z', 70000);
    round_trip(WS_OP_BINARY, NULL, 0, big, 70000); /* 64-bit length form */
    round_trip(WS_OP_TEXT, "4", 1, big, 300);      /* 16-bit length form */
    free(big);
    uint8_t code[2] = {0x03, 0xE8};
    round_trip(WS_OP_CLOSE, NULL, 0, (const char *)code, 2);
    struct buf capped;
    buf_init(&capped, 8);
    ASSERT_EQ(sioc_ws_frame(&capped, WS_OP_TEXT, "4", 1, "too long for it", 15), -1);
    ASSERT_EQ(capped.len, 0);
    buf_release(&capped);
}

TEST(strerror_names)
{
    ASSERT_STR_EQ(sioc_strerror(SIOC_ERR_NOT_CONNECTED), "not connected");
    ASSERT_STR_EQ(sioc_strerror(12345), "unknown error");
}
