/* libFuzzer target for net/http_request: requests fed whole and in chunks must give the same
 * requests, errors must carry a known status, and the query/header helpers must stay in
 * bounds on whatever was parsed. */
#include <string.h>

#include "fuzz_common.h"
#include "net/http_request.h"

static const size_t header_caps[4] = {32, 256, 1024, 16384};
static const size_t header_counts[4] = {1, 4, 16, 100};
static const size_t body_caps[4] = {0, 16, 1024, 1 << 20};

static const char *const query_names[] = {"EIO", "transport", "sid", "t", "b64", "j", "", "a"};

struct outcome {
    uint64_t digest;
    size_t messages;
    int error;
    int upgraded;
    size_t rest; /* bytes of the stream consumed when it upgraded */
};

static void check_request(const struct http_reader *p, size_t max_body, struct outcome *o)
{
    const struct http_request *req = &p->req;
    CHECK(req->body.len <= max_body);
    size_t plen;
    const char *path = http_request_path(req, &plen);
    CHECK(plen <= req->url.len);
    CHECK(plen == 0 || path == req->url.data);
    for (size_t i = 0; i < sizeof(query_names) / sizeof(query_names[0]); i++) {
        char small[8], big[512];
        int a = http_request_query(req, query_names[i], small, sizeof(small));
        int b = http_request_query(req, query_names[i], big, sizeof(big));
        CHECK(a >= -1 && a < (int)sizeof(small));
        CHECK(b >= -1 && b < (int)sizeof(big));
        if (a >= 0) {
            CHECK(small[a] == '\0');
            CHECK(b == a && memcmp(small, big, (size_t)a) == 0);
        }
        if (b >= 0)
            CHECK(big[b] == '\0' && (size_t)b <= req->url.len);
    }
    o->digest = digest_u64(o->digest, (uint64_t)req->method);
    o->digest = digest_bytes(digest_u64(o->digest, req->url.len), req->url.data, req->url.len);
    o->digest = digest_bytes(digest_u64(o->digest, req->body.len), req->body.data, req->body.len);
    for (int id = 0; id < HTTP_H_COUNT; id++) {
        const char *v = http_request_header(req, (enum http_header_id)id);
        o->digest = digest_u64(o->digest, v != NULL);
        if (v != NULL) {
            o->digest = digest_bytes(o->digest, v, strlen(v));
            o->digest = digest_u64(o->digest, (uint64_t)http_header_has_token(v, "upgrade"));
        }
    }
    o->digest = digest_u64(o->digest, (uint64_t)req->keep_alive);
    o->digest = digest_u64(o->digest, (uint64_t)req->upgrade);
    o->digest = digest_u64(o->digest, (uint64_t)req->has_content_length);
    if (req->has_content_length)
        o->digest = digest_u64(o->digest, req->content_length);
}

/* Feeds the stream in chunks of `step` bytes, each a private copy, the way the server does. */
static void run(const uint8_t *data, size_t size, size_t step, const size_t limits[3],
                struct outcome *o)
{
    struct http_reader p;
    http_reader_init(&p, limits[0], limits[1], limits[2]);
    memset(o, 0, sizeof(*o));
    o->digest = DIGEST_INIT;
    size_t rounds = 0;
    for (size_t base = 0; base < size && !o->error && !o->upgraded; base += step) {
        size_t n = size - base < step ? size - base : step;
        char *chunk = malloc(n);
        memcpy(chunk, data + base, n);
        size_t off = 0;
        for (;;) {
            CHECK(++rounds < 4 * size + 64);
            size_t used = (size_t)-1;
            enum http_event ev = http_reader_feed(&p, chunk + off, n - off, &used);
            CHECK(used <= n - off);
            off += used;
            if (ev == HTTP_EV_NEED_MORE) {
                CHECK(off == n);
                break;
            }
            if (ev == HTTP_EV_ERROR) {
                CHECK(p.status == 400 || p.status == 413 || p.status == 414 || p.status == 431);
                CHECK(p.reason != NULL);
                o->error = 1;
                break;
            }
            if (ev == HTTP_EV_HEADERS)
                continue;
            CHECK(ev == HTTP_EV_MESSAGE || ev == HTTP_EV_UPGRADE);
            check_request(&p, limits[2], o);
            o->messages++;
            if (ev == HTTP_EV_UPGRADE) {
                CHECK(p.req.upgrade);
                o->upgraded = 1;
                o->rest = base + off;
                break;
            }
            http_reader_next(&p);
        }
        free(chunk);
    }
    http_reader_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t limits[3] = {header_caps[data[0] & 3], header_counts[(data[0] >> 2) & 3],
                        body_caps[(data[0] >> 4) & 3]};
    size_t step = data[1] == 0 ? 1 : data[1];
    data += 2;
    size -= 2;
    struct outcome whole, chunked;
    run(data, size, size > 0 ? size : 1, limits, &whole);
    run(data, size, step, limits, &chunked);
    CHECK(whole.messages == chunked.messages);
    CHECK(whole.digest == chunked.digest);
    CHECK(whole.error == chunked.error);
    CHECK(whole.upgraded == chunked.upgraded);
    CHECK(whole.rest == chunked.rest);
    return 0;
}
