/* Unit tests for net/ws_frame: the header encoder, masking, close codes, and the incremental
 * reader against every malformed-frame case of reliability.md §6.3. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ws_frame.h"
#include "test.h"

#define FIN 0x80

/* ---- A callback that records every message ---- */

struct message {
    enum ws_opcode op;
    uint8_t *data;
    size_t len;
};

struct sink {
    struct message *msgs;
    size_t count;
    size_t alloc;
    size_t stop_after; /* return non-zero once this many messages arrived (0: never) */
};

static int record(void *ud, enum ws_opcode op, uint8_t *data, size_t len)
{
    struct sink *s = ud;
    if (s->count == s->alloc) {
        s->alloc = s->alloc ? s->alloc * 2 : 8;
        s->msgs = realloc(s->msgs, s->alloc * sizeof(*s->msgs));
    }
    struct message *m = &s->msgs[s->count++];
    m->op = op;
    m->len = len;
    m->data = malloc(len + 1);
    if (len > 0)
        memcpy(m->data, data, len);
    return s->stop_after != 0 && s->count >= s->stop_after;
}

static void sink_free(struct sink *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->msgs[i].data);
    free(s->msgs);
    memset(s, 0, sizeof(*s));
}

/* ---- Frame building, written independently of ws_frame_header ---- */

static const uint8_t test_mask[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Appends a frame whose first byte is b0 (FIN, RSV, opcode), with its length in the shortest
 * form, masked with test_mask when `masked`. */
static void add_frame(struct buf *out, uint8_t b0, const void *payload, size_t len, int masked)
{
    uint8_t h[14];
    size_t n = 0;
    uint8_t m = masked ? 0x80 : 0;
    h[n++] = b0;
    if (len < 126) {
        h[n++] = (uint8_t)(m | len);
    } else if (len < 65536) {
        h[n++] = m | 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = m | 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (masked) {
        memcpy(h + n, test_mask, 4);
        n += 4;
    }
    buf_append(out, h, n);
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)(p[i] ^ (masked ? test_mask[i % 4] : 0));
        buf_append(out, &c, 1);
    }
}

static void add_masked(struct buf *out, uint8_t b0, const char *payload)
{
    add_frame(out, b0, payload, strlen(payload), 1);
}

/* Feeds a copy of data[0..len) in one call (the reader may modify its input). */
static int feed_copy(struct ws_reader *r, const void *data, size_t len)
{
    uint8_t *copy = malloc(len + 1);
    if (len > 0)
        memcpy(copy, data, len);
    int rc = ws_reader_feed(r, copy, len);
    free(copy);
    return rc;
}

/* Feeds data in chunks of `step` bytes; returns the first non-zero result, or 0. */
static int feed_chunks(struct ws_reader *r, const void *data, size_t len, size_t step)
{
    const uint8_t *p = data;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        int rc = feed_copy(r, p + off, n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Runs a whole stream through a fresh server reader; returns the feed result. */
static int run_stream(const struct buf *stream, size_t max_message, struct sink *sink)
{
    struct ws_reader r;
    ws_reader_init(&r, 1, max_message, record, sink);
    int rc = feed_copy(&r, stream->data, stream->len);
    ws_reader_release(&r);
    return rc;
}

static int run_raw(const void *bytes, size_t len, size_t max_message, struct sink *sink)
{
    struct ws_reader r;
    ws_reader_init(&r, 1, max_message, record, sink);
    int rc = feed_copy(&r, bytes, len);
    ws_reader_release(&r);
    return rc;
}

/* ---- Header encoder, masking, close codes ---- */

TEST(ws_header_small)
{
    uint8_t h[WS_MAX_FRAME_HEADER];
    size_t n = ws_frame_header(h, WS_OP_TEXT, 1, 5, NULL);
    ASSERT_MEM_EQ(h, n, "\x81\x05", 2);
    n = ws_frame_header(h, WS_OP_BINARY, 0, 0, NULL);
    ASSERT_MEM_EQ(h, n, "\x02\x00", 2);
    n = ws_frame_header(h, WS_OP_CLOSE, 1, 125, NULL);
    ASSERT_MEM_EQ(h, n, "\x88\x7d", 2);
}

TEST(ws_header_16_and_64_bit_lengths)
{
    uint8_t h[WS_MAX_FRAME_HEADER];
    size_t n = ws_frame_header(h, WS_OP_TEXT, 1, 126, NULL);
    ASSERT_MEM_EQ(h, n, "\x81\x7e\x00\x7e", 4);
    n = ws_frame_header(h, WS_OP_TEXT, 1, 65535, NULL);
    ASSERT_MEM_EQ(h, n, "\x81\x7e\xff\xff", 4);
    n = ws_frame_header(h, WS_OP_BINARY, 1, 65536, NULL);
    ASSERT_MEM_EQ(h, n, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    n = ws_frame_header(h, WS_OP_BINARY, 1, 0x0102030405060708ULL, NULL);
    ASSERT_MEM_EQ(h, n, "\x82\x7f\x01\x02\x03\x04\x05\x06\x07\x08", 10);
}

TEST(ws_header_masked)
{
    uint8_t h[WS_MAX_FRAME_HEADER];
    size_t n = ws_frame_header(h, WS_OP_TEXT, 1, 5, test_mask);
    ASSERT_MEM_EQ(h, n, "\x81\x85\x37\xfa\x21\x3d", 6);
    n = ws_frame_header(h, WS_OP_PING, 1, 70000, test_mask);
    ASSERT_EQ(n, WS_MAX_FRAME_HEADER);
    ASSERT_MEM_EQ(h, n, "\x89\xff\x00\x00\x00\x00\x00\x01\x11\x70\x37\xfa\x21\x3d", 14);
}

TEST(ws_mask_with_offset)
{
    uint8_t data[4] = {'a', 'b', 'c', 'd'};
    const uint8_t mask[4] = {1, 2, 3, 4};
    ws_mask(data, 4, mask, 2);
    ASSERT_EQ(data[0], 'a' ^ 3);
    ASSERT_EQ(data[1], 'b' ^ 4);
    ASSERT_EQ(data[2], 'c' ^ 1);
    ASSERT_EQ(data[3], 'd' ^ 2);
    ws_mask(data, 4, mask, 2);
    ASSERT_MEM_EQ(data, 4, "abcd", 4);
    /* Masking in two pieces equals masking at once. */
    uint8_t whole[7] = "Hello!", split[7] = "Hello!";
    ws_mask(whole, 6, mask, 0);
    ws_mask(split, 3, mask, 0);
    ws_mask(split + 3, 3, mask, 3);
    ASSERT_MEM_EQ(split, 6, whole, 6);
}

TEST(ws_close_codes)
{
    static const unsigned valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
                                     1010, 1011, 3000, 3999, 4000, 4999};
    static const unsigned invalid[] = {0,    999,  1004, 1005, 1006, 1015,
                                       1016, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        ASSERT_EQ(ws_close_code_valid(valid[i]), 1);
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        ASSERT_EQ(ws_close_code_valid(invalid[i]), 0);
}

/* ---- Reader: valid traffic ---- */

TEST(ws_reader_rfc_example_masked_hello)
{
    /* RFC 6455 §5.7: a masked text frame carrying "Hello". */
    static const uint8_t frame[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                    0x7f, 0x9f, 0x4d, 0x51, 0x58};
    struct sink s = {0};
    ASSERT_EQ(run_raw(frame, sizeof(frame), 1024, &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_EQ(s.msgs[0].op, WS_OP_TEXT);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "Hello");
    sink_free(&s);
}

TEST(ws_reader_client_side_unmasked)
{
    /* RFC 6455 §5.7: an unmasked text frame, read by a client-side reader. */
    static const uint8_t frame[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
    struct sink s = {0};
    struct ws_reader r;
    ws_reader_init(&r, 0, 1024, record, &s);
    ASSERT_EQ(feed_copy(&r, frame, sizeof(frame)), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "Hello");
    /* A masked frame is a protocol error for a client. */
    uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    ASSERT_EQ(feed_copy(&r, masked, sizeof(masked)), WS_CLOSE_PROTOCOL);
    ws_reader_release(&r);
    sink_free(&s);
}

TEST(ws_reader_text_binary_ping_pong_close)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_masked(&st, FIN | WS_OP_TEXT, "4hello");
    add_frame(&st, FIN | WS_OP_BINARY, "\x00\x01\xff", 3, 1);
    add_masked(&st, FIN | WS_OP_PING, "probe");
    add_masked(&st, FIN | WS_OP_PONG, "");
    add_masked(&st, FIN | WS_OP_TEXT, "");
    add_frame(&st, FIN | WS_OP_CLOSE,
              "\x03\xe8"
              "bye",
              5, 1);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1024, &s), 0);
    ASSERT_EQ(s.count, 6);
    ASSERT_EQ(s.msgs[0].op, WS_OP_TEXT);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "4hello");
    ASSERT_EQ(s.msgs[1].op, WS_OP_BINARY);
    ASSERT_MEM_EQ(s.msgs[1].data, s.msgs[1].len, "\x00\x01\xff", 3);
    ASSERT_EQ(s.msgs[2].op, WS_OP_PING);
    ASSERT_MEM_STR(s.msgs[2].data, s.msgs[2].len, "probe");
    ASSERT_EQ(s.msgs[3].op, WS_OP_PONG);
    ASSERT_EQ(s.msgs[3].len, 0);
    ASSERT_EQ(s.msgs[4].op, WS_OP_TEXT);
    ASSERT_EQ(s.msgs[4].len, 0);
    ASSERT_EQ(s.msgs[5].op, WS_OP_CLOSE);
    ASSERT_MEM_EQ(s.msgs[5].data, s.msgs[5].len,
                  "\x03\xe8"
                  "bye",
                  5);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_16_and_64_bit_lengths)
{
    size_t sizes[] = {125, 126, 65535, 65536, 70000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        uint8_t *payload = malloc(n);
        for (size_t i = 0; i < n; i++)
            payload[i] = (uint8_t)(i * 7 + 3);
        struct buf st;
        buf_init(&st, BUF_NO_CAP);
        add_frame(&st, FIN | WS_OP_BINARY, payload, n, 1);
        struct sink s = {0};
        ASSERT_EQ(run_stream(&st, 100000, &s), 0);
        ASSERT_EQ(s.count, 1);
        ASSERT_MEM_EQ(s.msgs[0].data, s.msgs[0].len, payload, n);
        sink_free(&s);
        /* The same in 1000-byte pieces. */
        struct ws_reader r;
        ws_reader_init(&r, 1, 100000, record, &s);
        ASSERT_EQ(feed_chunks(&r, st.data, st.len, 1000), 0);
        ASSERT_EQ(s.count, 1);
        ASSERT_MEM_EQ(s.msgs[0].data, s.msgs[0].len, payload, n);
        ws_reader_release(&r);
        sink_free(&s);
        buf_release(&st);
        free(payload);
    }
}

TEST(ws_reader_message_exactly_at_cap)
{
    char payload[100];
    memset(payload, 'x', sizeof(payload));
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, FIN | WS_OP_TEXT, payload, 100, 1);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 100, &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_EQ(s.msgs[0].len, 100);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_reassembles_fragments)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_masked(&st, WS_OP_TEXT, "hel");
    add_masked(&st, WS_OP_CONT, "lo");
    add_masked(&st, WS_OP_CONT, "");
    add_masked(&st, FIN | WS_OP_CONT, " world");
    add_frame(&st, WS_OP_BINARY, "\x01", 1, 1);
    add_frame(&st, FIN | WS_OP_CONT, "\x02\x03", 2, 1);
    add_masked(&st, FIN | WS_OP_TEXT, "after");
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1024, &s), 0);
    ASSERT_EQ(s.count, 3);
    ASSERT_EQ(s.msgs[0].op, WS_OP_TEXT);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "hello world");
    ASSERT_EQ(s.msgs[1].op, WS_OP_BINARY);
    ASSERT_MEM_EQ(s.msgs[1].data, s.msgs[1].len, "\x01\x02\x03", 3);
    ASSERT_EQ(s.msgs[2].op, WS_OP_TEXT);
    ASSERT_MEM_STR(s.msgs[2].data, s.msgs[2].len, "after");
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_control_frames_inside_fragmented_message)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_masked(&st, WS_OP_TEXT, "ab");
    add_masked(&st, FIN | WS_OP_PING, "p1");
    add_masked(&st, WS_OP_CONT, "cd");
    add_masked(&st, FIN | WS_OP_PONG, "p2");
    add_masked(&st, FIN | WS_OP_CONT, "ef");
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1024, &s), 0);
    ASSERT_EQ(s.count, 3);
    ASSERT_EQ(s.msgs[0].op, WS_OP_PING);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "p1");
    ASSERT_EQ(s.msgs[1].op, WS_OP_PONG);
    ASSERT_MEM_STR(s.msgs[1].data, s.msgs[1].len, "p2");
    ASSERT_EQ(s.msgs[2].op, WS_OP_TEXT);
    ASSERT_MEM_STR(s.msgs[2].data, s.msgs[2].len, "abcdef");
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_utf8_split_across_fragments)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, WS_OP_TEXT, "4\xe2", 2, 1);
    add_frame(&st, FIN | WS_OP_CONT, "\x82\xac", 2, 1);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1024, &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "4\xe2\x82\xac");
    sink_free(&s);
    buf_release(&st);
}

/* The stream used by the split tests: every frame kind and length form. */
static void mixed_stream(struct buf *st)
{
    char big[300];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    add_masked(st, FIN | WS_OP_TEXT, "2probe");
    add_masked(st, FIN | WS_OP_PING, "ping");
    add_masked(st, WS_OP_TEXT, "frag-");
    add_frame(st, WS_OP_CONT, big, sizeof(big), 1);
    add_masked(st, FIN | WS_OP_PONG, "");
    add_masked(st, FIN | WS_OP_CONT, "-end\xf0\x9f\x98\x80");
    add_frame(st, FIN | WS_OP_BINARY, big, 200, 1);
    add_frame(st, FIN | WS_OP_CLOSE, "\x03\xe9", 2, 1);
}

static void assert_same_messages(const struct sink *a, const struct sink *b)
{
    ASSERT_EQ(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        ASSERT_EQ(a->msgs[i].op, b->msgs[i].op);
        ASSERT_MEM_EQ(a->msgs[i].data, a->msgs[i].len, b->msgs[i].data, b->msgs[i].len);
    }
}

TEST(ws_reader_several_frames_in_one_feed)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    mixed_stream(&st);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 4096, &s), 0);
    ASSERT_EQ(s.count, 6);
    ASSERT_EQ(s.msgs[0].op, WS_OP_TEXT);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "2probe");
    ASSERT_EQ(s.msgs[1].op, WS_OP_PING);
    ASSERT_EQ(s.msgs[2].op, WS_OP_PONG);
    ASSERT_EQ(s.msgs[3].op, WS_OP_TEXT);
    ASSERT_EQ(s.msgs[3].len, 5 + 300 + 4 + 4);
    ASSERT_MEM_STR(s.msgs[3].data, 8, "frag-abc");
    ASSERT_EQ(s.msgs[4].op, WS_OP_BINARY);
    ASSERT_EQ(s.msgs[4].len, 200);
    ASSERT_EQ(s.msgs[5].op, WS_OP_CLOSE);
    ASSERT_MEM_EQ(s.msgs[5].data, s.msgs[5].len, "\x03\xe9", 2);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_one_byte_at_a_time)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    mixed_stream(&st);
    struct sink whole = {0}, bytewise = {0};
    ASSERT_EQ(run_stream(&st, 4096, &whole), 0);
    struct ws_reader r;
    ws_reader_init(&r, 1, 4096, record, &bytewise);
    ASSERT_EQ(feed_chunks(&r, st.data, st.len, 1), 0);
    ASSERT_EQ(r.in.len, 0);
    ws_reader_release(&r);
    assert_same_messages(&bytewise, &whole);
    sink_free(&whole);
    sink_free(&bytewise);
    buf_release(&st);
}

TEST(ws_reader_split_at_every_position)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    mixed_stream(&st);
    struct sink whole = {0};
    ASSERT_EQ(run_stream(&st, 4096, &whole), 0);
    for (size_t cut = 0; cut <= st.len; cut++) {
        struct sink s = {0};
        struct ws_reader r;
        ws_reader_init(&r, 1, 4096, record, &s);
        ASSERT_EQ(feed_copy(&r, st.data, cut), 0);
        ASSERT_EQ(feed_copy(&r, st.data + cut, st.len - cut), 0);
        ws_reader_release(&r);
        assert_same_messages(&s, &whole);
        sink_free(&s);
    }
    sink_free(&whole);
    buf_release(&st);
}

TEST(ws_reader_pending_partial_frame_then_large_feed)
{
    /* A read that completes a pending frame may carry many more frames than one message
     * can hold; only a single frame is bounded by the message cap. */
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    for (int i = 0; i < 20; i++)
        add_masked(&st, FIN | WS_OP_TEXT, "0123456789");
    struct sink s = {0};
    struct ws_reader r;
    ws_reader_init(&r, 1, 16, record, &s);
    ASSERT_EQ(feed_copy(&r, st.data, 3), 0);
    ASSERT_EQ(feed_copy(&r, st.data + 3, st.len - 3), 0);
    ASSERT_EQ(s.count, 20);
    for (size_t i = 0; i < s.count; i++)
        ASSERT_MEM_STR(s.msgs[i].data, s.msgs[i].len, "0123456789");
    ws_reader_release(&r);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_split_control_frame_with_small_cap)
{
    /* A 125-byte ping is legal whatever the message cap, also when it arrives in pieces. */
    char payload[125];
    memset(payload, 'p', sizeof(payload));
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, FIN | WS_OP_PING, payload, sizeof(payload), 1);
    add_masked(&st, FIN | WS_OP_TEXT, "ok");
    for (size_t cut = 1; cut < st.len; cut += 7) {
        struct sink s = {0};
        struct ws_reader r;
        ws_reader_init(&r, 1, 16, record, &s);
        ASSERT_EQ(feed_copy(&r, st.data, cut), 0);
        ASSERT_EQ(feed_copy(&r, st.data + cut, st.len - cut), 0);
        ASSERT_EQ(s.count, 2);
        ASSERT_EQ(s.msgs[0].op, WS_OP_PING);
        ASSERT_MEM_EQ(s.msgs[0].data, s.msgs[0].len, payload, sizeof(payload));
        ASSERT_MEM_STR(s.msgs[1].data, s.msgs[1].len, "ok");
        ws_reader_release(&r);
        sink_free(&s);
    }
    buf_release(&st);
}

TEST(ws_reader_callback_stops)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_masked(&st, FIN | WS_OP_TEXT, "one");
    add_masked(&st, FIN | WS_OP_TEXT, "two");
    add_masked(&st, FIN | WS_OP_TEXT, "three");
    struct sink s = {0};
    s.stop_after = 2;
    ASSERT_EQ(run_stream(&st, 1024, &s), WS_READER_STOPPED);
    ASSERT_EQ(s.count, 2);
    ASSERT_MEM_STR(s.msgs[1].data, s.msgs[1].len, "two");
    sink_free(&s);
    /* Also when the frames come from the reader's pending bytes. */
    s.stop_after = 1;
    struct ws_reader r;
    ws_reader_init(&r, 1, 1024, record, &s);
    ASSERT_EQ(feed_copy(&r, st.data, 2), 0);
    ASSERT_EQ(feed_copy(&r, st.data + 2, st.len - 2), WS_READER_STOPPED);
    ASSERT_EQ(s.count, 1);
    ws_reader_release(&r);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_close_payloads)
{
    static const unsigned ok_codes[] = {1000, 1001, 1003, 1007, 1011, 3000, 4999};
    for (size_t i = 0; i < sizeof(ok_codes) / sizeof(ok_codes[0]); i++) {
        uint8_t p[2] = {(uint8_t)(ok_codes[i] >> 8), (uint8_t)ok_codes[i]};
        struct buf st;
        buf_init(&st, BUF_NO_CAP);
        add_frame(&st, FIN | WS_OP_CLOSE, p, 2, 1);
        struct sink s = {0};
        ASSERT_EQ(run_stream(&st, 1024, &s), 0);
        ASSERT_EQ(s.count, 1);
        ASSERT_EQ(s.msgs[0].op, WS_OP_CLOSE);
        sink_free(&s);
        buf_release(&st);
    }
    /* An empty close is fine too. */
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, FIN | WS_OP_CLOSE, "", 0, 1);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1024, &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_EQ(s.msgs[0].len, 0);
    sink_free(&s);
    buf_release(&st);
}

/* ---- Reader: protocol errors ---- */

static int stream_result(const struct buf *st, size_t max_message)
{
    struct sink s = {0};
    int rc = run_stream(st, max_message, &s);
    sink_free(&s);
    return rc;
}

static int single_frame_result(uint8_t b0, const void *payload, size_t len, int masked,
                               size_t max_message)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, b0, payload, len, masked);
    int rc = stream_result(&st, max_message);
    buf_release(&st);
    return rc;
}

TEST(ws_reader_unmasked_client_frame)
{
    ASSERT_EQ(single_frame_result(FIN | WS_OP_TEXT, "hi", 2, 0, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(FIN | WS_OP_PING, "", 0, 0, 1024), WS_CLOSE_PROTOCOL);
    /* Detected from the first two bytes alone. */
    struct sink s = {0};
    ASSERT_EQ(run_raw("\x81\x02", 2, 1024, &s), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(s.count, 0);
    sink_free(&s);
}

TEST(ws_reader_rsv_bits)
{
    ASSERT_EQ(single_frame_result(FIN | 0x40 | WS_OP_TEXT, "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(FIN | 0x20 | WS_OP_TEXT, "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(FIN | 0x10 | WS_OP_BINARY, "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(FIN | 0x70 | WS_OP_PING, "", 0, 1, 1024), WS_CLOSE_PROTOCOL);
}

TEST(ws_reader_reserved_opcodes)
{
    static const uint8_t ops[] = {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF};
    for (size_t i = 0; i < sizeof(ops); i++)
        ASSERT_EQ(single_frame_result((uint8_t)(FIN | ops[i]), "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
}

TEST(ws_reader_64_bit_length_with_msb_set)
{
    static const uint8_t hdr[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 1, 2, 3, 4};
    struct sink s = {0};
    ASSERT_EQ(run_raw(hdr, sizeof(hdr), 1 << 20, &s), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(s.count, 0);
    static const uint8_t all_ones[] = {0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 1,    2,    3,    4};
    ASSERT_EQ(run_raw(all_ones, sizeof(all_ones), 1 << 20, &s), WS_CLOSE_PROTOCOL);
    sink_free(&s);
}

TEST(ws_reader_huge_lengths_too_big)
{
    /* 2^63 - 1: legal encoding, far over the cap. */
    static const uint8_t max63[] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 1,    2,    3,    4};
    struct sink s = {0};
    ASSERT_EQ(run_raw(max63, sizeof(max63), 1 << 20, &s), WS_CLOSE_TOO_BIG);
    /* 2^32: would truncate in a 32-bit size. */
    static const uint8_t four_g[] = {0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4};
    ASSERT_EQ(run_raw(four_g, sizeof(four_g), 1 << 20, &s), WS_CLOSE_TOO_BIG);
    /* 16-bit length over a small cap. */
    static const uint8_t len200[] = {0x81, 0xfe, 0x00, 0xc8, 1, 2, 3, 4};
    ASSERT_EQ(run_raw(len200, sizeof(len200), 199, &s), WS_CLOSE_TOO_BIG);
    ASSERT_EQ(s.count, 0);
    sink_free(&s);
    char payload[101];
    memset(payload, 'a', sizeof(payload));
    ASSERT_EQ(single_frame_result(FIN | WS_OP_TEXT, payload, 101, 1, 100), WS_CLOSE_TOO_BIG);
    ASSERT_EQ(single_frame_result(FIN | WS_OP_BINARY, payload, 101, 1, 100), WS_CLOSE_TOO_BIG);
}

TEST(ws_reader_fragmented_control_frame)
{
    ASSERT_EQ(single_frame_result(WS_OP_PING, "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(WS_OP_PONG, "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(WS_OP_CLOSE, "", 0, 1, 1024), WS_CLOSE_PROTOCOL);
}

TEST(ws_reader_control_frame_over_125_bytes)
{
    char payload[126];
    memset(payload, 'p', sizeof(payload));
    ASSERT_EQ(single_frame_result(FIN | WS_OP_PING, payload, 126, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(FIN | WS_OP_PONG, payload, 126, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(FIN | WS_OP_CLOSE, payload, 126, 1, 1024), WS_CLOSE_PROTOCOL);
    /* 125 is the largest allowed. */
    struct sink s = {0};
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, FIN | WS_OP_PING, payload, 125, 1);
    ASSERT_EQ(run_stream(&st, 1024, &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_EQ(s.msgs[0].len, 125);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_continuation_without_start)
{
    ASSERT_EQ(single_frame_result(FIN | WS_OP_CONT, "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(single_frame_result(WS_OP_CONT, "x", 1, 1, 1024), WS_CLOSE_PROTOCOL);
    /* Also right after a complete fragmented message. */
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_masked(&st, WS_OP_TEXT, "a");
    add_masked(&st, FIN | WS_OP_CONT, "b");
    add_masked(&st, FIN | WS_OP_CONT, "c");
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1024, &s), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(s.count, 1);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_data_frame_inside_fragmented_message)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_masked(&st, WS_OP_TEXT, "a");
    add_masked(&st, FIN | WS_OP_TEXT, "b");
    ASSERT_EQ(stream_result(&st, 1024), WS_CLOSE_PROTOCOL);
    buf_reset(&st);
    add_masked(&st, WS_OP_BINARY, "a");
    add_masked(&st, WS_OP_BINARY, "b");
    ASSERT_EQ(stream_result(&st, 1024), WS_CLOSE_PROTOCOL);
    buf_release(&st);
}

/* A fragmented message of `count` one-byte fragments, the last with FIN when `fin`. */
static void fragments(struct buf *st, size_t count, int fin)
{
    add_masked(st, count == 1 && fin ? FIN | WS_OP_TEXT : WS_OP_TEXT, "a");
    for (size_t i = 1; i < count; i++)
        add_masked(st, i + 1 == count && fin ? FIN | WS_OP_CONT : WS_OP_CONT, "a");
}

TEST(ws_reader_1024_fragments_accepted)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    fragments(&st, WS_MAX_FRAGMENTS, 1);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1 << 20, &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_EQ(s.msgs[0].len, WS_MAX_FRAGMENTS);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_1025_fragments_too_big)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    fragments(&st, WS_MAX_FRAGMENTS + 1, 1);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1 << 20, &s), WS_CLOSE_TOO_BIG);
    ASSERT_EQ(s.count, 0);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_endless_continuations)
{
    /* 10,000 one-byte continuation frames fed one frame per call: refused at 1025. */
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    fragments(&st, 10000, 0);
    struct sink s = {0};
    struct ws_reader r;
    ws_reader_init(&r, 1, 1 << 20, record, &s);
    const size_t frame_len = 2 + 4 + 1;
    ASSERT_EQ(st.len, 10000 * frame_len);
    int rc = 0;
    size_t i;
    for (i = 0; i < 10000; i++) {
        rc = feed_copy(&r, st.data + i * frame_len, frame_len);
        if (rc != 0)
            break;
    }
    ASSERT_EQ(rc, WS_CLOSE_TOO_BIG);
    ASSERT_EQ(i, WS_MAX_FRAGMENTS);
    ws_reader_release(&r);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_fragmented_message_over_cap)
{
    char chunk[40];
    memset(chunk, 'z', sizeof(chunk));
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, WS_OP_BINARY, chunk, 40, 1);
    add_frame(&st, WS_OP_CONT, chunk, 40, 1);
    add_frame(&st, FIN | WS_OP_CONT, chunk, 21, 1);
    ASSERT_EQ(stream_result(&st, 100), WS_CLOSE_TOO_BIG);
    /* One byte less fits. */
    buf_reset(&st);
    add_frame(&st, WS_OP_BINARY, chunk, 40, 1);
    add_frame(&st, WS_OP_CONT, chunk, 40, 1);
    add_frame(&st, FIN | WS_OP_CONT, chunk, 20, 1);
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 100, &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_EQ(s.msgs[0].len, 100);
    sink_free(&s);
    buf_release(&st);
}

TEST(ws_reader_invalid_utf8_text)
{
    static const char *const bad[] = {
        "\xc0\x80",         /* overlong NUL */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "ok\xff",           "\xe2\x82",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(single_frame_result(FIN | WS_OP_TEXT, bad[i], strlen(bad[i]), 1, 1024),
                  WS_CLOSE_INVALID_DATA);
        /* The same bytes are fine in a binary frame. */
        struct buf st;
        buf_init(&st, BUF_NO_CAP);
        add_frame(&st, FIN | WS_OP_BINARY, bad[i], strlen(bad[i]), 1);
        struct sink s = {0};
        ASSERT_EQ(run_stream(&st, 1024, &s), 0);
        ASSERT_EQ(s.count, 1);
        sink_free(&s);
        buf_release(&st);
    }
}

TEST(ws_reader_truncated_utf8_at_end_of_fragmented_message)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_frame(&st, WS_OP_TEXT, "4\xe2", 2, 1);
    add_frame(&st, FIN | WS_OP_CONT, "\x82", 1, 1);
    ASSERT_EQ(stream_result(&st, 1024), WS_CLOSE_INVALID_DATA);
    buf_release(&st);
}

TEST(ws_reader_close_one_byte_payload)
{
    ASSERT_EQ(single_frame_result(FIN | WS_OP_CLOSE, "\x03", 1, 1, 1024), WS_CLOSE_PROTOCOL);
}

TEST(ws_reader_close_invalid_codes)
{
    static const unsigned codes[] = {0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        uint8_t p[2] = {(uint8_t)(codes[i] >> 8), (uint8_t)codes[i]};
        ASSERT_EQ(single_frame_result(FIN | WS_OP_CLOSE, p, 2, 1, 1024), WS_CLOSE_PROTOCOL);
    }
}

TEST(ws_reader_close_reason_invalid_utf8)
{
    ASSERT_EQ(single_frame_result(FIN | WS_OP_CLOSE,
                                  "\x03\xe8"
                                  "\xc0\x80",
                                  4, 1, 1024),
              WS_CLOSE_INVALID_DATA);
}

TEST(ws_reader_error_after_valid_frames_in_same_feed)
{
    struct buf st;
    buf_init(&st, BUF_NO_CAP);
    add_masked(&st, FIN | WS_OP_TEXT, "first");
    add_frame(&st, FIN | 0x40 | WS_OP_TEXT, "x", 1, 1);
    add_masked(&st, FIN | WS_OP_TEXT, "never");
    struct sink s = {0};
    ASSERT_EQ(run_stream(&st, 1024, &s), WS_CLOSE_PROTOCOL);
    ASSERT_EQ(s.count, 1);
    ASSERT_MEM_STR(s.msgs[0].data, s.msgs[0].len, "first");
    sink_free(&s);
    buf_release(&st);
}
