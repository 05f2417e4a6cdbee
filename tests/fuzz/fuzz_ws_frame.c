/* libFuzzer target for net/ws_frame: the reader fed the whole input at once and in chunks must
 * agree, every delivered message must obey RFC 6455, and re-encoding it must read back. */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "fuzz_common.h"
#include "net/ws_frame.h"

static const size_t caps[4] = {16, 125, 1000, 65536};

struct run {
    uint64_t digest;
    size_t count;
    size_t max_message;
    size_t stop_after; /* the callback stops the reader after this many messages (0: never) */
    int round_trip;
};

/* The single message a round-trip reader got. */
struct echo {
    int count;
    enum ws_opcode op;
    uint64_t digest;
};

static int on_echo(void *ud, enum ws_opcode op, uint8_t *data, size_t len)
{
    struct echo *e = ud;
    e->count++;
    e->op = op;
    e->digest = digest_bytes(digest_u64(DIGEST_INIT, len), data, len);
    return 0;
}

/* Encodes one message as a single frame, masked or not, and reads it back. */
static void check_round_trip(enum ws_opcode op, const uint8_t *data, size_t len, size_t max_message)
{
    for (int masked = 0; masked <= 1; masked++) {
        static const uint8_t mask[4] = {0xa5, 0x01, 0x7e, 0xc3};
        uint8_t *frame = malloc(WS_MAX_FRAME_HEADER + len + 1);
        size_t n = ws_frame_header(frame, op, 1, len, masked ? mask : NULL);
        CHECK(n >= 2 && n <= WS_MAX_FRAME_HEADER);
        if (len > 0)
            memcpy(frame + n, data, len);
        if (masked)
            ws_mask(frame + n, len, mask, 0);
        struct echo e = {0};
        struct ws_reader r;
        ws_reader_init(&r, masked, max_message, on_echo, &e);
        int rc = ws_reader_feed(&r, frame, n + len);
        ws_reader_release(&r);
        free(frame);
        CHECK(rc == 0);
        CHECK(e.count == 1);
        CHECK(e.op == op);
        CHECK(e.digest == digest_bytes(digest_u64(DIGEST_INIT, len), data, len));
    }
}

static int on_message(void *ud, enum ws_opcode op, uint8_t *data, size_t len)
{
    struct run *r = ud;
    CHECK(op == WS_OP_TEXT || op == WS_OP_BINARY || op == WS_OP_CLOSE || op == WS_OP_PING ||
          op == WS_OP_PONG);
    if (op == WS_OP_TEXT || op == WS_OP_BINARY)
        CHECK(len <= r->max_message);
    else
        CHECK(len <= 125);
    if (op == WS_OP_TEXT)
        CHECK(utf8_valid((const char *)data, len));
    if (op == WS_OP_CLOSE) {
        CHECK(len != 1);
        if (len >= 2) {
            CHECK(ws_close_code_valid(((unsigned)data[0] << 8) | data[1]));
            CHECK(utf8_valid((const char *)data + 2, len - 2));
        }
    }
    r->count++;
    r->digest = digest_u64(r->digest, (uint64_t)op);
    r->digest = digest_u64(r->digest, len);
    r->digest = digest_bytes(r->digest, data, len);
    if (r->round_trip)
        check_round_trip(op, data, len, r->max_message);
    return r->stop_after != 0 && r->count >= r->stop_after;
}

/* Feeds a private copy of each chunk, so a read past a chunk is an ASan report. */
static int feed_in_chunks(struct ws_reader *r, const uint8_t *data, size_t size, size_t step)
{
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        uint8_t *copy = malloc(n);
        memcpy(copy, data + off, n);
        int rc = ws_reader_feed(r, copy, n);
        free(copy);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t cfg = data[0];
    size_t step = data[1] == 0 ? 1 : data[1];
    int require_mask = cfg & 1;
    size_t max_message = caps[(cfg >> 1) & 3];
    size_t stop_after = (cfg >> 3) & 3;
    data += 2;
    size -= 2;

    struct run whole = {DIGEST_INIT, 0, max_message, stop_after, 1};
    struct run chunked = {DIGEST_INIT, 0, max_message, stop_after, 0};
    struct ws_reader r;

    ws_reader_init(&r, require_mask, max_message, on_message, &whole);
    int rc_whole = feed_in_chunks(&r, data, size, size > 0 ? size : 1);
    ws_reader_release(&r);

    ws_reader_init(&r, require_mask, max_message, on_message, &chunked);
    int rc_chunked = feed_in_chunks(&r, data, size, step);
    ws_reader_release(&r);

    CHECK(rc_whole == 0 || rc_whole == WS_READER_STOPPED || rc_whole == WS_CLOSE_PROTOCOL ||
          rc_whole == WS_CLOSE_INVALID_DATA || rc_whole == WS_CLOSE_TOO_BIG);
    CHECK(rc_whole != WS_READER_STOPPED || stop_after != 0);
    CHECK(rc_whole == rc_chunked);
    CHECK(whole.count == chunked.count);
    CHECK(whole.digest == chunked.digest);
    return 0;
}
