/* Unit tests for net/http_request: request events, query and header helpers, the 400/413/431
 * limits, pipelining, and requests split at every byte position. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_request.h"
#include "test.h"

#define MAX_HEADER_BYTES 8192
#define MAX_HEADERS      100
#define MAX_BODY         (1 << 20)

/* ---- A driver that feeds bytes the way the server does and records what comes out ---- */

struct seen {
    enum http_event event; /* HTTP_EV_MESSAGE, HTTP_EV_UPGRADE or HTTP_EV_ERROR */
    int method;
    int status;
    char url[512];
    char body[512];
    size_t body_len;
    char content_type[128];
    int has_content_type;
    int keep_alive;
    int upgrade;
    size_t rest; /* on HTTP_EV_UPGRADE: offset of the first byte after the request */
};

struct trace {
    struct seen reqs[8];
    size_t count;
    size_t headers_events;
    int stopped;
};

static void copy_out(char *dst, size_t cap, const struct buf *b)
{
    size_t n = b->len < cap - 1 ? b->len : cap - 1;
    if (n > 0)
        memcpy(dst, b->data, n);
    dst[n] = '\0';
}

static void record(struct http_reader *p, enum http_event ev, size_t rest, struct trace *t)
{
    if (t->count == sizeof(t->reqs) / sizeof(t->reqs[0]))
        test_fail(__FILE__, __LINE__, "too many requests");
    struct seen *s = &t->reqs[t->count++];
    memset(s, 0, sizeof(*s));
    s->event = ev;
    s->status = ev == HTTP_EV_ERROR ? p->status : 0;
    s->rest = rest;
    if (ev == HTTP_EV_ERROR)
        return;
    s->method = p->req.method;
    copy_out(s->url, sizeof(s->url), &p->req.url);
    copy_out(s->body, sizeof(s->body), &p->req.body);
    s->body_len = p->req.body.len;
    const char *ct = http_request_header(&p->req, HTTP_H_CONTENT_TYPE);
    s->has_content_type = ct != NULL;
    if (ct != NULL)
        snprintf(s->content_type, sizeof(s->content_type), "%s", ct);
    s->keep_alive = p->req.keep_alive;
    s->upgrade = p->req.upgrade;
}

/* Feeds one piece that starts at offset `base` of the whole stream. */
static void feed_piece(struct http_reader *p, const char *data, size_t len, size_t base,
                       struct trace *t)
{
    size_t off = 0;
    while (!t->stopped) {
        size_t used = 0;
        enum http_event ev = http_reader_feed(p, data + off, len - off, &used);
        if (used > len - off)
            test_fail(__FILE__, __LINE__, "used %zu > %zu", used, len - off);
        off += used;
        switch (ev) {
        case HTTP_EV_NEED_MORE:
            if (off != len)
                test_fail(__FILE__, __LINE__, "NEED_MORE with %zu bytes left", len - off);
            return;
        case HTTP_EV_HEADERS:
            t->headers_events++;
            break;
        case HTTP_EV_MESSAGE:
            record(p, ev, 0, t);
            http_reader_next(p);
            break;
        case HTTP_EV_UPGRADE:
        case HTTP_EV_ERROR:
            record(p, ev, base + off, t);
            t->stopped = 1;
            return;
        }
    }
}

/* Parses a stream fed as two pieces cut at `cut`. */
static void parse_split(const char *data, size_t len, size_t cut, size_t max_body, struct trace *t)
{
    struct http_reader p;
    memset(t, 0, sizeof(*t));
    http_reader_init(&p, MAX_HEADER_BYTES, MAX_HEADERS, max_body);
    feed_piece(&p, data, cut, 0, t);
    feed_piece(&p, data + cut, len - cut, cut, t);
    http_reader_release(&p);
}

static void parse_all(const char *data, struct trace *t)
{
    size_t len = strlen(data);
    parse_split(data, len, len, MAX_BODY, t);
}

static void parse_limits(const char *data, size_t len, size_t max_header_bytes, size_t max_headers,
                         size_t max_body, struct trace *t)
{
    struct http_reader p;
    memset(t, 0, sizeof(*t));
    http_reader_init(&p, max_header_bytes, max_headers, max_body);
    feed_piece(&p, data, len, 0, t);
    http_reader_release(&p);
}

static void assert_same_trace(const struct trace *a, const struct trace *b)
{
    ASSERT_EQ(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const struct seen *x = &a->reqs[i], *y = &b->reqs[i];
        ASSERT_EQ(x->event, y->event);
        ASSERT_EQ(x->status, y->status);
        ASSERT_EQ(x->method, y->method);
        ASSERT_STR_EQ(x->url, y->url);
        ASSERT_MEM_EQ(x->body, x->body_len, y->body, y->body_len);
        ASSERT_EQ(x->has_content_type, y->has_content_type);
        ASSERT_STR_EQ(x->content_type, y->content_type);
        ASSERT_EQ(x->keep_alive, y->keep_alive);
        ASSERT_EQ(x->upgrade, y->upgrade);
        ASSERT_EQ(x->rest, y->rest);
    }
}

/* A request with only its url set, for the query helpers. */
static void url_request(struct http_request *req, const char *url)
{
    memset(req, 0, sizeof(*req));
    buf_init(&req->url, BUF_NO_CAP);
    buf_append_str(&req->url, url);
}

/* ---- Requests ---- */

TEST(http_get_with_query)
{
    struct trace t;
    parse_all("GET /socket.io/?EIO=4&transport=polling&t=N8hyd6w HTTP/1.1\r\n"
              "Host: localhost\r\n\r\n",
              &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.headers_events, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    ASSERT_EQ(t.reqs[0].method, HTTP_GET);
    ASSERT_STR_EQ(t.reqs[0].url, "/socket.io/?EIO=4&transport=polling&t=N8hyd6w");
    ASSERT_EQ(t.reqs[0].keep_alive, 1);
    ASSERT_EQ(t.reqs[0].upgrade, 0);
    ASSERT_EQ(t.reqs[0].body_len, 0);
}

TEST(http_request_fields_and_helpers)
{
    const char *req = "GET /engine.io/?EIO=3&transport=websocket&b64=1 HTTP/1.1\r\n"
                      "Host: localhost\r\n"
                      "CONTENT-TYPE: text/plain;charset=UTF-8\r\n"
                      "Origin: http://example.com\r\n"
                      "X-Other: ignored\r\n\r\n";
    struct http_reader p;
    size_t used;
    http_reader_init(&p, MAX_HEADER_BYTES, MAX_HEADERS, MAX_BODY);
    ASSERT_EQ(http_reader_feed(&p, req, strlen(req), &used), HTTP_EV_HEADERS);
    ASSERT_EQ(used, strlen(req));
    ASSERT_EQ(http_reader_feed(&p, req + used, 0, &used), HTTP_EV_MESSAGE);
    size_t plen;
    const char *path = http_request_path(&p.req, &plen);
    ASSERT_MEM_STR(path, plen, "/engine.io/");
    char v[32];
    ASSERT_EQ(http_request_query(&p.req, "EIO", v, sizeof(v)), 1);
    ASSERT_STR_EQ(v, "3");
    ASSERT_EQ(http_request_query(&p.req, "transport", v, sizeof(v)), 9);
    ASSERT_STR_EQ(v, "websocket");
    ASSERT_EQ(http_request_query(&p.req, "b64", v, sizeof(v)), 1);
    ASSERT_STR_EQ(v, "1");
    ASSERT_EQ(http_request_query(&p.req, "sid", v, sizeof(v)), -1);
    ASSERT_STR_EQ(http_request_header(&p.req, HTTP_H_CONTENT_TYPE), "text/plain;charset=UTF-8");
    ASSERT_STR_EQ(http_request_header(&p.req, HTTP_H_ORIGIN), "http://example.com");
    ASSERT_TRUE(http_request_header(&p.req, HTTP_H_COOKIE) == NULL);
    ASSERT_TRUE(http_request_header(&p.req, HTTP_H_UPGRADE) == NULL);
    http_reader_release(&p);
}

TEST(http_query_parsing)
{
    struct http_request req;
    char v[64];
    url_request(&req, "/p?a=1&bb=two&EIOX=9&EIO=4&empty=&flag&last=z");
    ASSERT_EQ(http_request_query(&req, "a", v, sizeof(v)), 1);
    ASSERT_STR_EQ(v, "1");
    ASSERT_EQ(http_request_query(&req, "bb", v, sizeof(v)), 3);
    ASSERT_STR_EQ(v, "two");
    ASSERT_EQ(http_request_query(&req, "b", v, sizeof(v)), -1);
    ASSERT_EQ(http_request_query(&req, "EIO", v, sizeof(v)), 1);
    ASSERT_STR_EQ(v, "4");
    ASSERT_EQ(http_request_query(&req, "EI", v, sizeof(v)), -1);
    ASSERT_EQ(http_request_query(&req, "empty", v, sizeof(v)), 0);
    ASSERT_STR_EQ(v, "");
    ASSERT_EQ(http_request_query(&req, "flag", v, sizeof(v)), 0);
    ASSERT_STR_EQ(v, "");
    ASSERT_EQ(http_request_query(&req, "last", v, sizeof(v)), 1);
    ASSERT_STR_EQ(v, "z");
    ASSERT_EQ(http_request_query(&req, "1", v, sizeof(v)), -1);
    buf_release(&req.url);

    url_request(&req, "/no-query");
    ASSERT_EQ(http_request_query(&req, "a", v, sizeof(v)), -1);
    size_t plen;
    const char *path = http_request_path(&req, &plen);
    ASSERT_MEM_STR(path, plen, "/no-query");
    buf_release(&req.url);

    url_request(&req, "/x?");
    ASSERT_EQ(http_request_query(&req, "a", v, sizeof(v)), -1);
    path = http_request_path(&req, &plen);
    ASSERT_MEM_STR(path, plen, "/x");
    buf_release(&req.url);

    memset(&req, 0, sizeof(req));
    path = http_request_path(&req, &plen);
    ASSERT_EQ(plen, 0);
    ASSERT_EQ(http_request_query(&req, "a", v, sizeof(v)), -1);
}

TEST(http_query_percent_decoding)
{
    struct http_request req;
    char v[64];
    url_request(&req, "/p?a=a%20b%2Fc+d&b=%41%62&c=%zz%4&d=100%&e=%e2%82%ac&f=%2&g=x%2");
    ASSERT_EQ(http_request_query(&req, "a", v, sizeof(v)), 7);
    ASSERT_STR_EQ(v, "a b/c d");
    ASSERT_EQ(http_request_query(&req, "b", v, sizeof(v)), 2);
    ASSERT_STR_EQ(v, "Ab");
    ASSERT_EQ(http_request_query(&req, "c", v, sizeof(v)), 5);
    ASSERT_STR_EQ(v, "%zz%4"); /* malformed escapes are kept as they are */
    ASSERT_EQ(http_request_query(&req, "d", v, sizeof(v)), 4);
    ASSERT_STR_EQ(v, "100%");
    ASSERT_EQ(http_request_query(&req, "e", v, sizeof(v)), 3);
    ASSERT_STR_EQ(v, "\xe2\x82\xac");
    ASSERT_EQ(http_request_query(&req, "f", v, sizeof(v)), 2);
    ASSERT_STR_EQ(v, "%2");
    ASSERT_EQ(http_request_query(&req, "g", v, sizeof(v)), 3);
    ASSERT_STR_EQ(v, "x%2");
    buf_release(&req.url);

    url_request(&req, "/p?sid=abc%3D%3d");
    ASSERT_EQ(http_request_query(&req, "sid", v, sizeof(v)), 5);
    ASSERT_STR_EQ(v, "abc==");
    buf_release(&req.url);
}

TEST(http_query_output_too_small)
{
    struct http_request req;
    char v[8];
    url_request(&req, "/p?a=1234567&b=12345678&c=%41%41%41%41%41%41%41");
    ASSERT_EQ(http_request_query(&req, "a", v, sizeof(v)), 7);
    ASSERT_STR_EQ(v, "1234567");
    ASSERT_EQ(http_request_query(&req, "b", v, sizeof(v)), -1);
    ASSERT_EQ(http_request_query(&req, "c", v, sizeof(v)), 7);
    ASSERT_STR_EQ(v, "AAAAAAA");
    ASSERT_EQ(http_request_query(&req, "a", v, 1), -1);
    buf_release(&req.url);
}

TEST(http_header_tokens)
{
    ASSERT_EQ(http_header_has_token("Upgrade", "upgrade"), 1);
    ASSERT_EQ(http_header_has_token("keep-alive, Upgrade", "upgrade"), 1);
    ASSERT_EQ(http_header_has_token("keep-alive,Upgrade ,x", "upgrade"), 1);
    ASSERT_EQ(http_header_has_token(" \tUPGRADE\t ", "upgrade"), 1);
    ASSERT_EQ(http_header_has_token("Upgraded", "upgrade"), 0);
    ASSERT_EQ(http_header_has_token("pgrade", "upgrade"), 0);
    ASSERT_EQ(http_header_has_token("up grade", "upgrade"), 0);
    ASSERT_EQ(http_header_has_token("", "upgrade"), 0);
    ASSERT_EQ(http_header_has_token(",,,", "upgrade"), 0);
    ASSERT_EQ(http_header_has_token("a, websocket", "websocket"), 1);
}

TEST(http_repeated_and_unkept_headers)
{
    const char *req = "GET / HTTP/1.1\r\n"
                      "Content-Type: first\r\n"
                      "X-Long-Unkept-Header-Name-That-Is-Longer-Than-Sixty-Four-Bytes-For-Sure: "
                      "v\r\n"
                      "content-type: second\r\n"
                      "Cookie: a=1\r\n\r\n";
    struct trace t;
    parse_all(req, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    ASSERT_STR_EQ(t.reqs[0].content_type, "second");
}

TEST(http_post_with_body)
{
    const char *req = "POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n"
                      "Host: localhost\r\n"
                      "Content-Type: text/plain;charset=UTF-8\r\n"
                      "Content-Length: 11\r\n\r\n"
                      "4hello\x1e"
                      "2\x1e"
                      "4a";
    struct http_reader p;
    size_t used;
    http_reader_init(&p, MAX_HEADER_BYTES, MAX_HEADERS, MAX_BODY);
    ASSERT_EQ(http_reader_feed(&p, req, strlen(req), &used), HTTP_EV_HEADERS);
    ASSERT_EQ(p.req.method, HTTP_POST);
    ASSERT_EQ(p.req.has_content_length, 1);
    ASSERT_EQ(p.req.content_length, 11);
    size_t off = used;
    ASSERT_EQ(http_reader_feed(&p, req + off, strlen(req) - off, &used), HTTP_EV_MESSAGE);
    off += used;
    ASSERT_EQ(off, strlen(req));
    ASSERT_MEM_EQ(p.req.body.data, p.req.body.len,
                  "4hello\x1e"
                  "2\x1e"
                  "4a",
                  11);
    http_reader_release(&p);
}

TEST(http_post_chunked_body)
{
    struct trace t;
    parse_all("POST /x HTTP/1.1\r\n"
              "Transfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n"
              "6\r\n world\r\n"
              "0\r\n\r\n",
              &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    ASSERT_MEM_STR(t.reqs[0].body, t.reqs[0].body_len, "hello world");
}

TEST(http_http10_and_connection_close)
{
    struct trace t;
    parse_all("GET / HTTP/1.0\r\n\r\n", &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].keep_alive, 0);
    parse_all("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].keep_alive, 0);
    parse_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].keep_alive, 1);
}

static const char pipelined[] = "POST /a?x=1 HTTP/1.1\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "Content-Length: 5\r\n\r\n"
                                "\x00\x01\xff\x02\x03"
                                "GET /b HTTP/1.1\r\n"
                                "Host: h\r\n\r\n"
                                "POST /c HTTP/1.1\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n"
                                "3\r\nabc\r\n0\r\n\r\n"
                                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                                "Connection: Upgrade\r\n"
                                "Upgrade: websocket\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\n\r\n"
                                "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";

#define PIPELINED_LEN (sizeof(pipelined) - 1)

TEST(http_pipelined_requests)
{
    struct trace t;
    parse_split(pipelined, PIPELINED_LEN, PIPELINED_LEN, MAX_BODY, &t);
    ASSERT_EQ(t.count, 4);
    ASSERT_EQ(t.headers_events, 4);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    ASSERT_EQ(t.reqs[0].method, HTTP_POST);
    ASSERT_STR_EQ(t.reqs[0].url, "/a?x=1");
    ASSERT_MEM_EQ(t.reqs[0].body, t.reqs[0].body_len, "\x00\x01\xff\x02\x03", 5);
    ASSERT_STR_EQ(t.reqs[0].content_type, "application/octet-stream");
    ASSERT_EQ(t.reqs[1].event, HTTP_EV_MESSAGE);
    ASSERT_EQ(t.reqs[1].method, HTTP_GET);
    ASSERT_STR_EQ(t.reqs[1].url, "/b");
    ASSERT_EQ(t.reqs[1].body_len, 0);
    ASSERT_EQ(t.reqs[1].has_content_type, 0); /* nothing left over from the first request */
    ASSERT_EQ(t.reqs[2].event, HTTP_EV_MESSAGE);
    ASSERT_STR_EQ(t.reqs[2].url, "/c");
    ASSERT_MEM_STR(t.reqs[2].body, t.reqs[2].body_len, "abc");
    ASSERT_EQ(t.reqs[3].event, HTTP_EV_UPGRADE);
    ASSERT_EQ(t.reqs[3].upgrade, 1);
    ASSERT_STR_EQ(t.reqs[3].url, "/socket.io/?EIO=4&transport=websocket");
    /* The bytes after the upgrade request are left for the new protocol. */
    ASSERT_EQ(t.reqs[3].rest, PIPELINED_LEN - 11);
}

TEST(http_upgrade_headers)
{
    const char *req = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                      "Host: localhost\r\n"
                      "Connection: keep-alive, Upgrade\r\n"
                      "Upgrade: websocket\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    struct http_reader p;
    size_t used;
    http_reader_init(&p, MAX_HEADER_BYTES, MAX_HEADERS, MAX_BODY);
    ASSERT_EQ(http_reader_feed(&p, req, strlen(req), &used), HTTP_EV_HEADERS);
    ASSERT_EQ(p.req.upgrade, 1);
    ASSERT_TRUE(http_header_has_token(http_request_header(&p.req, HTTP_H_CONNECTION), "upgrade"));
    ASSERT_STR_EQ(http_request_header(&p.req, HTTP_H_UPGRADE), "websocket");
    ASSERT_STR_EQ(http_request_header(&p.req, HTTP_H_SEC_WEBSOCKET_KEY),
                  "dGhlIHNhbXBsZSBub25jZQ==");
    ASSERT_STR_EQ(http_request_header(&p.req, HTTP_H_SEC_WEBSOCKET_VERSION), "13");
    size_t off = used;
    ASSERT_EQ(http_reader_feed(&p, req + off, strlen(req) - off, &used), HTTP_EV_UPGRADE);
    ASSERT_EQ(off + used, strlen(req));
    http_reader_release(&p);
}

TEST(http_split_at_every_byte_position)
{
    struct trace whole;
    parse_split(pipelined, PIPELINED_LEN, PIPELINED_LEN, MAX_BODY, &whole);
    ASSERT_EQ(whole.count, 4);
    for (size_t cut = 0; cut <= PIPELINED_LEN; cut++) {
        struct trace t;
        parse_split(pipelined, PIPELINED_LEN, cut, MAX_BODY, &t);
        assert_same_trace(&t, &whole);
    }
}

TEST(http_one_byte_at_a_time)
{
    struct trace whole, t;
    parse_split(pipelined, PIPELINED_LEN, PIPELINED_LEN, MAX_BODY, &whole);
    struct http_reader p;
    memset(&t, 0, sizeof(t));
    http_reader_init(&p, MAX_HEADER_BYTES, MAX_HEADERS, MAX_BODY);
    for (size_t i = 0; i < PIPELINED_LEN && !t.stopped; i++)
        feed_piece(&p, pipelined + i, 1, i, &t);
    http_reader_release(&p);
    assert_same_trace(&t, &whole);
}

/* ---- Errors ---- */

static int error_status(const char *data)
{
    struct trace t;
    parse_all(data, &t);
    if (t.count == 0 || t.reqs[t.count - 1].event != HTTP_EV_ERROR)
        return 0;
    return t.reqs[t.count - 1].status;
}

TEST(http_content_length_and_transfer_encoding)
{
    const char *req = "POST /x HTTP/1.1\r\n"
                      "Content-Length: 5\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "0\r\n\r\n";
    ASSERT_EQ(error_status(req), 400);
    req = "POST /x HTTP/1.1\r\n"
          "Transfer-Encoding: chunked\r\n"
          "Content-Length: 5\r\n\r\n"
          "0\r\n\r\n";
    ASSERT_EQ(error_status(req), 400);
    /* Whatever the split. */
    size_t len = strlen(req);
    for (size_t cut = 0; cut <= len; cut++) {
        struct trace t;
        parse_split(req, len, cut, MAX_BODY, &t);
        ASSERT_EQ(t.count, 1);
        ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
        ASSERT_EQ(t.reqs[0].status, 400);
    }
}

TEST(http_bad_content_lengths)
{
    ASSERT_EQ(error_status("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
    ASSERT_EQ(error_status("POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"), 400);
    ASSERT_EQ(error_status("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
              400);
    /* Beyond 2^64: llhttp reports the overflow. */
    ASSERT_EQ(error_status("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
              400);
}

TEST(http_content_length_over_max_body)
{
    /* The caller sees the announced length with the headers (and answers 413 at once); a
     * caller that reads on anyway gets 413 from the body cap. */
    const char *head = "POST /x HTTP/1.1\r\nContent-Length: 1000001\r\n\r\n";
    struct http_reader p;
    size_t used;
    http_reader_init(&p, MAX_HEADER_BYTES, MAX_HEADERS, 1000000);
    ASSERT_EQ(http_reader_feed(&p, head, strlen(head), &used), HTTP_EV_HEADERS);
    ASSERT_EQ(used, strlen(head));
    ASSERT_EQ(p.req.has_content_length, 1);
    ASSERT_EQ(p.req.content_length, 1000001);
    char *body = malloc(1000001);
    memset(body, 'b', 1000001);
    ASSERT_EQ(http_reader_feed(&p, body, 1000001, &used), HTTP_EV_ERROR);
    ASSERT_EQ(p.status, 413);
    free(body);
    http_reader_release(&p);

    const char *huge = "POST /x HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n";
    http_reader_init(&p, MAX_HEADER_BYTES, MAX_HEADERS, 1000000);
    ASSERT_EQ(http_reader_feed(&p, huge, strlen(huge), &used), HTTP_EV_HEADERS);
    ASSERT_EQ(p.req.has_content_length, 1);
    ASSERT_TRUE(p.req.content_length == 18446744073709551615ULL);
    ASSERT_TRUE(p.req.content_length > p.req.body.max);
    ASSERT_EQ(http_reader_feed(&p, "xxxxxxxxxx", 10, &used), HTTP_EV_NEED_MORE);
    ASSERT_EQ(p.req.body.len, 10);
    http_reader_release(&p);

    /* Exactly max_body is fine. */
    struct trace t;
    const char *body_req = "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
    parse_limits(body_req, strlen(body_req), MAX_HEADER_BYTES, MAX_HEADERS, 10, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    ASSERT_MEM_STR(t.reqs[0].body, t.reqs[0].body_len, "0123456789");
    /* One byte more is refused once the body arrives. */
    body_req = "POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n0123456789A";
    parse_limits(body_req, strlen(body_req), MAX_HEADER_BYTES, MAX_HEADERS, 10, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.headers_events, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 413);
}

TEST(http_chunked_body_over_max_body)
{
    struct trace t;
    const char *req = "POST /x HTTP/1.1\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "6\r\nabcdef\r\n"
                      "6\r\nghijkl\r\n"
                      "0\r\n\r\n";
    parse_limits(req, strlen(req), MAX_HEADER_BYTES, MAX_HEADERS, 10, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 413);
    parse_limits(req, strlen(req), MAX_HEADER_BYTES, MAX_HEADERS, 12, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
}

/* A request whose single header value has n bytes. */
static char *request_with_header_value(size_t n)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append_str(&b, "GET / HTTP/1.1\r\nX-Big: ");
    for (size_t i = 0; i < n; i++)
        buf_append_char(&b, 'v');
    buf_append_str(&b, "\r\n\r\n");
    return buf_detach(&b, NULL);
}

TEST(http_header_bytes_over_cap)
{
    struct trace t;
    char *req = request_with_header_value(9000);
    parse_limits(req, strlen(req), 8192, MAX_HEADERS, MAX_BODY, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 431);
    free(req);
    /* A kept header over the cap, and the total of many small headers over it. */
    req = request_with_header_value(100);
    parse_limits(req, strlen(req), 8192, MAX_HEADERS, MAX_BODY, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    parse_limits(req, strlen(req), 50, MAX_HEADERS, MAX_BODY, &t);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 431);
    free(req);
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append_str(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 50; i++)
        buf_printf(&b, "Cookie: %0200d\r\n", i);
    buf_append_str(&b, "\r\n");
    parse_limits(b.data, b.len, 8192, MAX_HEADERS, MAX_BODY, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 431);
    buf_release(&b);
}

TEST(http_url_over_cap)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append_str(&b, "GET /");
    for (int i = 0; i < 9000; i++)
        buf_append_char(&b, 'u');
    buf_append_str(&b, " HTTP/1.1\r\n\r\n");
    struct trace t;
    parse_limits(b.data, b.len, 8192, MAX_HEADERS, MAX_BODY, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 431);
    buf_release(&b);
}

static char *request_with_headers(int n)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append_str(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < n; i++)
        buf_printf(&b, "X-H%d: %d\r\n", i, i);
    buf_append_str(&b, "\r\n");
    return buf_detach(&b, NULL);
}

TEST(http_too_many_headers)
{
    struct trace t;
    char *req = request_with_headers(200);
    parse_limits(req, strlen(req), 1 << 20, 100, MAX_BODY, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 431);
    free(req);
    req = request_with_headers(101);
    parse_limits(req, strlen(req), 1 << 20, 100, MAX_BODY, &t);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_ERROR);
    ASSERT_EQ(t.reqs[0].status, 431);
    free(req);
    req = request_with_headers(100);
    parse_limits(req, strlen(req), 1 << 20, 100, MAX_BODY, &t);
    ASSERT_EQ(t.count, 1);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    free(req);
}

TEST(http_header_limits_reset_between_requests)
{
    /* Two requests of 60 headers each on one connection, limit 100: both fine. */
    char *one = request_with_headers(60);
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append_str(&b, one);
    buf_append_str(&b, one);
    struct trace t;
    parse_limits(b.data, b.len, 1 << 20, 100, MAX_BODY, &t);
    ASSERT_EQ(t.count, 2);
    ASSERT_EQ(t.reqs[0].event, HTTP_EV_MESSAGE);
    ASSERT_EQ(t.reqs[1].event, HTTP_EV_MESSAGE);
    free(one);
    buf_release(&b);
}

TEST(http_malformed_requests)
{
    ASSERT_EQ(error_status("HELLO\r\n\r\n"), 400);
    ASSERT_EQ(error_status("GET / HTTP/1.1\r\nHost x\r\n\r\n"), 400);
    ASSERT_EQ(error_status("GET / HTTP/9.9\r\n\r\n"), 400);
    ASSERT_EQ(error_status("GET  HTTP/1.1\r\n\r\n"), 400);
    ASSERT_EQ(error_status("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n"), 400);
    ASSERT_EQ(error_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);
}
