/* Unit tests for engineio/eio_packet: text packets, the v4 \x1e payload, the v3 length-prefixed
 * text framing (UTF-16 lengths) and the v3 XHR2 binary framing, both ways. */
#include <stdlib.h>
#include <string.h>

#include "engineio/eio_packet.h"
#include "test.h"

/* ---- A callback that records every packet ---- */

struct got {
    enum eio_type type;
    int binary;
    char *data;
    size_t len;
};

struct sink {
    struct got pkts[64];
    size_t count;
    size_t total;   /* calls, including those beyond the recorded 64 */
    int stop_at;    /* return this value ... */
    size_t stop_on; /* ... from the stop_on-th call (1-based; 0: never) */
};

static int collect(void *ud, const struct eio_packet *pkt)
{
    struct sink *s = ud;
    s->total++;
    if (s->count < sizeof(s->pkts) / sizeof(s->pkts[0])) {
        struct got *g = &s->pkts[s->count++];
        g->type = pkt->type;
        g->binary = pkt->binary;
        g->len = pkt->len;
        g->data = malloc(pkt->len + 1);
        if (pkt->len > 0)
            memcpy(g->data, pkt->data, pkt->len);
        g->data[pkt->len] = '\0';
    }
    return s->stop_on != 0 && s->total == s->stop_on ? s->stop_at : 0;
}

static void sink_free(struct sink *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->pkts[i].data);
    memset(s, 0, sizeof(*s));
}

typedef int (*decoder_fn)(const char *, size_t, size_t, struct buf *, eio_packet_cb, void *);

static int decode(decoder_fn fn, const char *body, size_t len, size_t max_packets, struct sink *s)
{
    struct buf scratch;
    buf_init(&scratch, 1 << 20);
    int rc = fn(body, len, max_packets, &scratch, collect, s);
    buf_release(&scratch);
    return rc;
}

static int decode_v4(const char *body, struct sink *s)
{
    return decode(eio_payload_decode_v4, body, strlen(body), 100, s);
}

static int decode_v3t(const char *body, struct sink *s)
{
    return decode(eio_payload_decode_v3_text, body, strlen(body), 100, s);
}

static int decode_v3b(const char *body, size_t len, struct sink *s)
{
    return decode(eio_payload_decode_v3_binary, body, len, 100, s);
}

#define ASSERT_PKT(s, i, t, bin, bytes, n)                                                         \
    do {                                                                                           \
        ASSERT_TRUE((i) < (s).count);                                                              \
        ASSERT_EQ((s).pkts[i].type, (t));                                                          \
        ASSERT_EQ((s).pkts[i].binary, (bin));                                                      \
        ASSERT_MEM_EQ((s).pkts[i].data, (s).pkts[i].len, (bytes), (n));                            \
    } while (0)

#define ASSERT_TEXT_PKT(s, i, t, str) ASSERT_PKT(s, i, t, 0, str, strlen(str))

/* ---- Single text packets ---- */

TEST(eio_decode_text_packet)
{
    struct eio_packet pkt;
    ASSERT_EQ(eio_packet_decode_text("4hello", 6, &pkt), 0);
    ASSERT_EQ(pkt.type, EIO_MESSAGE);
    ASSERT_EQ(pkt.binary, 0);
    ASSERT_MEM_STR(pkt.data, pkt.len, "hello");
    ASSERT_EQ(eio_packet_decode_text("2probe", 6, &pkt), 0);
    ASSERT_EQ(pkt.type, EIO_PING);
    ASSERT_MEM_STR(pkt.data, pkt.len, "probe");
    for (char c = '0'; c <= '6'; c++) {
        ASSERT_EQ(eio_packet_decode_text(&c, 1, &pkt), 0);
        ASSERT_EQ(pkt.type, c - '0');
        ASSERT_EQ(pkt.len, 0);
    }
}

TEST(eio_decode_text_packet_bad_type)
{
    struct eio_packet pkt;
    ASSERT_EQ(eio_packet_decode_text("", 0, &pkt), EIO_DECODE_BAD);
    ASSERT_EQ(eio_packet_decode_text("7", 1, &pkt), EIO_DECODE_BAD);
    ASSERT_EQ(eio_packet_decode_text("9x", 2, &pkt), EIO_DECODE_BAD);
    ASSERT_EQ(eio_packet_decode_text("/4", 2, &pkt), EIO_DECODE_BAD);
    ASSERT_EQ(eio_packet_decode_text("a", 1, &pkt), EIO_DECODE_BAD);
    ASSERT_EQ(eio_packet_decode_text("\xe2\x82\xac", 3, &pkt), EIO_DECODE_BAD);
}

/* ---- v4 payloads ---- */

TEST(eio_v4_record_separator_split)
{
    struct sink s = {0};
    ASSERT_EQ(decode_v4("4hello\x1e"
                        "2\x1e"
                        "4world",
                        &s),
              0);
    ASSERT_EQ(s.count, 3);
    ASSERT_TEXT_PKT(s, 0, EIO_MESSAGE, "hello");
    ASSERT_TEXT_PKT(s, 1, EIO_PING, "");
    ASSERT_TEXT_PKT(s, 2, EIO_MESSAGE, "world");
    sink_free(&s);
}

TEST(eio_v4_single_and_unicode)
{
    struct sink s = {0};
    ASSERT_EQ(decode_v4("4\xe2\x82\xac\xf0\x9f\x98\x80", &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_TEXT_PKT(s, 0, EIO_MESSAGE, "\xe2\x82\xac\xf0\x9f\x98\x80");
    sink_free(&s);
    ASSERT_EQ(decode_v4("1", &s), 0);
    ASSERT_TEXT_PKT(s, 0, EIO_CLOSE, "");
    sink_free(&s);
}

TEST(eio_v4_base64_binary)
{
    struct sink s = {0};
    ASSERT_EQ(decode_v4("bAQIDBA==", &s), 0);
    ASSERT_EQ(s.count, 1);
    ASSERT_PKT(s, 0, EIO_MESSAGE, 1, "\x01\x02\x03\x04", 4);
    sink_free(&s);
    ASSERT_EQ(decode_v4("451-[\"x\",{\"_placeholder\":true,\"num\":0}]\x1e"
                        "bAAH/\x1e"
                        "3",
                        &s),
              0);
    ASSERT_EQ(s.count, 3);
    ASSERT_TEXT_PKT(s, 0, EIO_MESSAGE, "51-[\"x\",{\"_placeholder\":true,\"num\":0}]");
    ASSERT_PKT(s, 1, EIO_MESSAGE, 1, "\x00\x01\xff", 3);
    ASSERT_TEXT_PKT(s, 2, EIO_PONG, "");
    sink_free(&s);
    ASSERT_EQ(decode_v4("b", &s), 0);
    ASSERT_PKT(s, 0, EIO_MESSAGE, 1, "", 0);
    sink_free(&s);
}

TEST(eio_v4_invalid_base64)
{
    static const char *const bad[] = {"bAQI", "b!!!!", "bAQ=B", "bA===", "4a\036b====", "b AQID"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sink s = {0};
        ASSERT_EQ(decode_v4(bad[i], &s), EIO_DECODE_BAD);
        sink_free(&s);
    }
}

TEST(eio_v4_malformed)
{
    static const char *const bad[] = {
        "", "\x1e", "4a\x1e", "\0364a", "4a\036\0364b", "7", "4a\036x", "hello",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sink s = {0};
        ASSERT_EQ(decode_v4(bad[i], &s), EIO_DECODE_BAD);
        sink_free(&s);
    }
}

TEST(eio_v4_max_packets)
{
    struct sink s = {0};
    const char *body = "2\x1e"
                       "3\x1e"
                       "4x";
    ASSERT_EQ(decode(eio_payload_decode_v4, body, strlen(body), 3, &s), 0);
    ASSERT_EQ(s.count, 3);
    sink_free(&s);
    ASSERT_EQ(decode(eio_payload_decode_v4, body, strlen(body), 2, &s), EIO_DECODE_TOO_MANY);
    sink_free(&s);
}

TEST(eio_v4_ten_thousand_separators)
{
    size_t n = 10000;
    char *body = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        body[2 * i] = '6';
        body[2 * i + 1] = '\x1e';
    }
    body[2 * n - 1] = '\0';
    struct sink s = {0};
    ASSERT_EQ(decode(eio_payload_decode_v4, body, 2 * n - 1, 100, &s), EIO_DECODE_TOO_MANY);
    ASSERT_EQ(s.total, 100);
    sink_free(&s);
    ASSERT_EQ(decode(eio_payload_decode_v4, body, 2 * n - 1, n, &s), 0);
    ASSERT_EQ(s.total, n);
    sink_free(&s);
    free(body);
}

TEST(eio_callback_stops_decoding)
{
    struct sink s = {0};
    s.stop_on = 2;
    s.stop_at = 42;
    const char *body = "4a\x1e"
                       "4b\x1e"
                       "4c";
    ASSERT_EQ(decode(eio_payload_decode_v4, body, strlen(body), 100, &s), 42);
    ASSERT_EQ(s.total, 2);
    sink_free(&s);
    s.stop_on = 1;
    s.stop_at = 7;
    ASSERT_EQ(decode_v3t("2:4a2:4b", &s), 7);
    ASSERT_EQ(s.total, 1);
    sink_free(&s);
    s.stop_on = 1;
    s.stop_at = -9;
    ASSERT_EQ(decode_v3b("\x00\x02\xff"
                         "4a\x00\x02\xff"
                         "4b",
                         10, &s),
              -9);
    ASSERT_EQ(s.total, 1);
    sink_free(&s);
}

/* ---- v3 text framing ---- */

TEST(eio_v3_text_utf16_lengths)
{
    struct sink s = {0};
    /* The example of the v3 spec: "€" is 3 bytes but one UTF-16 unit. */
    ASSERT_EQ(decode_v3t("6:4hello2:4\xe2\x82\xac", &s), 0);
    ASSERT_EQ(s.count, 2);
    ASSERT_TEXT_PKT(s, 0, EIO_MESSAGE, "hello");
    ASSERT_TEXT_PKT(s, 1, EIO_MESSAGE, "\xe2\x82\xac");
    sink_free(&s);
    /* An emoji is 4 bytes and two UTF-16 units. */
    ASSERT_EQ(decode_v3t("3:4\xf0\x9f\x98\x80"
                         "1:2",
                         &s),
              0);
    ASSERT_EQ(s.count, 2);
    ASSERT_TEXT_PKT(s, 0, EIO_MESSAGE, "\xf0\x9f\x98\x80");
    ASSERT_TEXT_PKT(s, 1, EIO_PING, "");
    sink_free(&s);
}

TEST(eio_v3_text_base64_binary)
{
    struct sink s = {0};
    ASSERT_EQ(decode_v3t("10:b4AQIDBA==6:4hello", &s), 0);
    ASSERT_EQ(s.count, 2);
    ASSERT_PKT(s, 0, EIO_MESSAGE, 1, "\x01\x02\x03\x04", 4);
    ASSERT_TEXT_PKT(s, 1, EIO_MESSAGE, "hello");
    sink_free(&s);
    ASSERT_EQ(decode_v3t("6:b4!!!!", &s), EIO_DECODE_BAD);
    sink_free(&s);
    ASSERT_EQ(decode_v3t("5:b4AQI", &s), EIO_DECODE_BAD);
    sink_free(&s);
}

TEST(eio_v3_text_malformed)
{
    static const char *const bad[] = {
        "",
        "4hello",              /* no length */
        ":4hello",             /* empty length */
        "0:",                  /* zero length */
        "0:4",                 /* zero length */
        "7:4hello",            /* longer than the body */
        "5:4hello",            /* leaves a tail that is not a packet */
        "6:4hello6",           /* truncated second length */
        "6:4hello6:",          /* truncated second packet */
        "2:4\xf0\x9f\x98\x80", /* would split a surrogate pair */
        "3:4\xe2\x82",         /* truncated UTF-8 */
        "2:4\xc0\x80",         /* overlong */
        "2:4\xed\xa0\x80",     /* surrogate */
        "1:9",                 /* unknown packet type */
        "12345678901:4",       /* 11 length digits */
        "-1:4",                /* sign */
        "1x:4",                /* junk in the length */
        "6:4hello\0362",       /* a v4 separator */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sink s = {0};
        ASSERT_EQ(decode_v3t(bad[i], &s), EIO_DECODE_BAD);
        sink_free(&s);
    }
}

TEST(eio_v3_text_max_packets)
{
    struct sink s = {0};
    const char *body = "1:21:21:2";
    ASSERT_EQ(decode(eio_payload_decode_v3_text, body, strlen(body), 3, &s), 0);
    ASSERT_EQ(s.count, 3);
    sink_free(&s);
    ASSERT_EQ(decode(eio_payload_decode_v3_text, body, strlen(body), 2, &s), EIO_DECODE_TOO_MANY);
    ASSERT_EQ(s.total, 2);
    sink_free(&s);
}

/* ---- v3 binary (XHR2) framing ---- */

TEST(eio_v3_binary_decode)
{
    static const char body[] = "\x00\x06\xff"
                               "4hello"
                               "\x01\x05\xff\x04\x01\x02\x03\xff"
                               "\x00\x01\x02\xff"
                               "4\xe2\x82\xac\xf0\x9f\x98\x80"
                               "abcd";
    struct sink s = {0};
    ASSERT_EQ(decode_v3b(body, sizeof(body) - 1, &s), 0);
    ASSERT_EQ(s.count, 3);
    ASSERT_TEXT_PKT(s, 0, EIO_MESSAGE, "hello");
    ASSERT_PKT(s, 1, EIO_MESSAGE, 1, "\x01\x02\x03\xff", 4);
    ASSERT_TEXT_PKT(s, 2, EIO_MESSAGE,
                    "\xe2\x82\xac\xf0\x9f\x98\x80"
                    "abcd");
    sink_free(&s);
}

TEST(eio_v3_binary_malformed)
{
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"", 0},
        {"\x02\x01\xff"
         "4",
         4}, /* bad kind byte */
        {"\x00\x01"
         "4",
         3}, /* no 0xFF */
        {"\x00\xff"
         "4",
         3}, /* no digits */
        {"\x00\x0a\xff"
         "4",
         4},                 /* digit byte > 9 */
        {"\x00\x00\xff", 3}, /* length 0 */
        {"\x00\x03\xff"
         "4a",
         5}, /* longer than the body */
        {"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\xff"
         "4",
         14},                        /* 11 digits */
        {"\x01\x02\xff\x02\x01", 5}, /* binary packet that is not a message */
        {"\x01\x02\xff"
         "4\x01",
         5}, /* type as a character, not a byte */
        {"\x00\x03\xff"
         "4\xc0\x80",
         6}, /* invalid UTF-8 in a string packet */
        {"\x00\x02\xff"
         "9a",
         5}, /* unknown type */
        {"\x00\x02\xff"
         "4a\x00",
         6}, /* truncated second packet */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sink s = {0};
        ASSERT_EQ(decode_v3b(bad[i].bytes, bad[i].len, &s), EIO_DECODE_BAD);
        sink_free(&s);
    }
}

TEST(eio_v3_binary_max_packets)
{
    static const char body[] = "\x00\x01\xff"
                               "2\x00\x01\xff"
                               "2\x00\x01\xff"
                               "2";
    struct sink s = {0};
    ASSERT_EQ(decode(eio_payload_decode_v3_binary, body, sizeof(body) - 1, 3, &s), 0);
    ASSERT_EQ(s.count, 3);
    sink_free(&s);
    ASSERT_EQ(decode(eio_payload_decode_v3_binary, body, sizeof(body) - 1, 2, &s),
              EIO_DECODE_TOO_MANY);
    sink_free(&s);
}

/* ---- Encoders ---- */

static struct eio_packet text_pkt(enum eio_type type, const char *data)
{
    struct eio_packet p = {type, 0, data, strlen(data)};
    return p;
}

static struct eio_packet bin_pkt(const char *data, size_t len)
{
    struct eio_packet p = {EIO_MESSAGE, 1, data, len};
    return p;
}

TEST(eio_encode_v4)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    struct eio_packet a = text_pkt(EIO_MESSAGE, "hello"), b = text_pkt(EIO_PING, "");
    struct eio_packet c = bin_pkt("\x01\x02\x03\x04", 4);
    ASSERT_EQ(eio_payload_append_v4(&out, &a, 1), 0);
    ASSERT_EQ(eio_payload_append_v4(&out, &b, 0), 0);
    ASSERT_EQ(eio_payload_append_v4(&out, &c, 0), 0);
    ASSERT_MEM_STR(out.data, out.len,
                   "4hello\x1e"
                   "2\x1e"
                   "bAQIDBA==");
    buf_release(&out);
}

TEST(eio_encode_v3_text_counts_utf16_units)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    struct eio_packet p = text_pkt(EIO_MESSAGE, "hello");
    ASSERT_EQ(eio_payload_append_v3_text(&out, &p), 0);
    p = text_pkt(EIO_MESSAGE, "\xe2\x82\xac");
    ASSERT_EQ(eio_payload_append_v3_text(&out, &p), 0);
    ASSERT_MEM_STR(out.data, out.len, "6:4hello2:4\xe2\x82\xac");
    buf_reset(&out);
    p = text_pkt(EIO_MESSAGE, "\xf0\x9f\x98\x80");
    ASSERT_EQ(eio_payload_append_v3_text(&out, &p), 0);
    p = text_pkt(EIO_OPEN, "{\"sid\":\"x\"}");
    ASSERT_EQ(eio_payload_append_v3_text(&out, &p), 0);
    ASSERT_MEM_STR(out.data, out.len,
                   "3:4\xf0\x9f\x98\x80"
                   "12:0{\"sid\":\"x\"}");
    buf_reset(&out);
    p = bin_pkt("\x01\x02\x03\x04", 4);
    ASSERT_EQ(eio_payload_append_v3_text(&out, &p), 0);
    ASSERT_MEM_STR(out.data, out.len, "10:b4AQIDBA==");
    buf_release(&out);
}

TEST(eio_encode_v3_binary)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    struct eio_packet p = text_pkt(EIO_MESSAGE, "hello");
    ASSERT_EQ(eio_payload_append_v3_binary(&out, &p), 0);
    p = bin_pkt("\x01\x02\x03", 3);
    ASSERT_EQ(eio_payload_append_v3_binary(&out, &p), 0);
    ASSERT_MEM_EQ(out.data, out.len,
                  "\x00\x06\xff"
                  "4hello"
                  "\x01\x04\xff\x04\x01\x02\x03",
                  16);
    buf_reset(&out);
    /* A multi-digit length: 123 data bytes + the type = 124. */
    char data[123];
    memset(data, 'x', sizeof(data));
    p = bin_pkt(data, sizeof(data));
    ASSERT_EQ(eio_payload_append_v3_binary(&out, &p), 0);
    ASSERT_EQ(out.len, 5 + 1 + 123);
    ASSERT_MEM_EQ(out.data, 6, "\x01\x01\x02\x04\xff\x04", 6);
    buf_release(&out);
}

TEST(eio_encoders_respect_cap)
{
    struct buf out;
    buf_init(&out, 5);
    struct eio_packet p = text_pkt(EIO_MESSAGE, "hello");
    ASSERT_EQ(eio_payload_append_v4(&out, &p, 1), -1);
    buf_reset(&out);
    ASSERT_EQ(eio_payload_append_v3_text(&out, &p), -1);
    buf_reset(&out);
    ASSERT_EQ(eio_payload_append_v3_binary(&out, &p), -1);
    buf_reset(&out);
    p = bin_pkt("\x01\x02\x03\x04", 4);
    ASSERT_EQ(eio_payload_append_v4(&out, &p, 1), -1);
    buf_release(&out);
}

/* ---- Round trips ---- */

static void sample_packets(struct eio_packet *pkts, size_t *n, char *all_bytes)
{
    for (int i = 0; i < 256; i++)
        all_bytes[i] = (char)i;
    size_t k = 0;
    pkts[k++] = text_pkt(EIO_OPEN, "{\"sid\":\"abc\",\"upgrades\":[],\"pingInterval\":25000}");
    pkts[k++] = text_pkt(EIO_PING, "");
    pkts[k++] = text_pkt(EIO_PONG, "probe");
    pkts[k++] = text_pkt(EIO_MESSAGE, "2[\"hello\",\"Jude\"]");
    pkts[k++] = text_pkt(EIO_MESSAGE, "\xe2\x82\xac\xf0\x9f\x98\x80 mixed \xc3\xa9");
    pkts[k++] = text_pkt(EIO_MESSAGE, "");
    pkts[k++] = bin_pkt(all_bytes, 256);
    pkts[k++] = bin_pkt("", 0);
    pkts[k++] = bin_pkt("\x04", 1);
    pkts[k++] = text_pkt(EIO_NOOP, "");
    pkts[k++] = text_pkt(EIO_CLOSE, "");
    pkts[k++] = text_pkt(EIO_UPGRADE, "");
    *n = k;
}

typedef int (*encoder_fn)(struct buf *, const struct eio_packet *, int);

static int enc_v4(struct buf *out, const struct eio_packet *p, int first)
{
    return eio_payload_append_v4(out, p, first);
}

static int enc_v3_text(struct buf *out, const struct eio_packet *p, int first)
{
    (void)first;
    return eio_payload_append_v3_text(out, p);
}

static int enc_v3_binary(struct buf *out, const struct eio_packet *p, int first)
{
    (void)first;
    return eio_payload_append_v3_binary(out, p);
}

static void round_trip(encoder_fn enc, decoder_fn dec)
{
    struct eio_packet pkts[16];
    char all_bytes[256];
    size_t n;
    sample_packets(pkts, &n, all_bytes);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(enc(&out, &pkts[i], i == 0), 0);
    struct sink s = {0};
    ASSERT_EQ(decode(dec, out.data, out.len, n, &s), 0);
    ASSERT_EQ(s.count, n);
    for (size_t i = 0; i < n; i++)
        ASSERT_PKT(s, i, pkts[i].type, pkts[i].binary, pkts[i].data, pkts[i].len);
    sink_free(&s);
    /* Every packet on its own, too. */
    for (size_t i = 0; i < n; i++) {
        buf_reset(&out);
        ASSERT_EQ(enc(&out, &pkts[i], 1), 0);
        ASSERT_EQ(decode(dec, out.data, out.len, 1, &s), 0);
        ASSERT_EQ(s.count, 1);
        ASSERT_PKT(s, 0, pkts[i].type, pkts[i].binary, pkts[i].data, pkts[i].len);
        sink_free(&s);
    }
    buf_release(&out);
}

TEST(eio_round_trip_v4)
{
    round_trip(enc_v4, eio_payload_decode_v4);
}

TEST(eio_round_trip_v3_text)
{
    round_trip(enc_v3_text, eio_payload_decode_v3_text);
}

TEST(eio_round_trip_v3_binary)
{
    round_trip(enc_v3_binary, eio_payload_decode_v3_binary);
}
