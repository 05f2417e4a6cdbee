/* Unit tests for socketio/sio_packet: decoding and validation of client packets (namespaces,
 * ack ids, attachments, placeholders, payload shapes) and the header encoder. Inputs are the
 * Socket.IO packet, i.e. the Engine.IO message without its leading '4'. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socketio/sio_packet.h"
#include "test.h"

#define MAX_ATTACHMENTS 10

static int dec(const char *s, struct sio_packet *p)
{
    return sio_packet_decode(s, strlen(s), MAX_ATTACHMENTS, p);
}

static int dec_rc(const char *s)
{
    struct sio_packet p;
    return dec(s, &p);
}

#define ASSERT_NSP(p, expected)  ASSERT_MEM_STR((p).nsp, (p).nsp_len, expected)
#define ASSERT_DATA(p, expected) ASSERT_MEM_STR((p).data, (p).data_len, expected)

static void assert_name_args(const struct sio_packet *p, const char *name, const char *args)
{
    size_t len = 0;
    const char *n = sio_packet_event_name(p, &len);
    if (name == NULL) {
        ASSERT_TRUE(n == NULL);
    } else {
        ASSERT_TRUE(n != NULL);
        ASSERT_MEM_STR(n, len, name);
    }
    const char *a = sio_packet_args(p, &len);
    ASSERT_MEM_STR(a, len, args);
}

/* ---- Events ---- */

TEST(sio_event_hello_jude)
{
    /* 42["hello","Jude"] on the wire. */
    struct sio_packet p;
    ASSERT_EQ(dec("2[\"hello\",\"Jude\"]", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_EVENT);
    ASSERT_NSP(p, "/");
    ASSERT_TRUE(p.query == NULL);
    ASSERT_EQ(p.ack_id, SIO_NO_ACK);
    ASSERT_DATA(p, "[\"hello\",\"Jude\"]");
    ASSERT_EQ(p.info.elems, 2);
    assert_name_args(&p, "hello", "\"Jude\"");
}

TEST(sio_event_in_namespace)
{
    /* 42/admin,["bar"] on the wire. */
    struct sio_packet p;
    ASSERT_EQ(dec("2/admin,[\"bar\"]", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_EVENT);
    ASSERT_NSP(p, "/admin");
    ASSERT_EQ(p.ack_id, SIO_NO_ACK);
    assert_name_args(&p, "bar", "");
}

TEST(sio_event_with_ack_id)
{
    struct sio_packet p;
    ASSERT_EQ(dec("212[\"foo\"]", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_EVENT);
    ASSERT_EQ(p.ack_id, 12);
    ASSERT_DATA(p, "[\"foo\"]");
    ASSERT_EQ(dec("2/admin,0[\"foo\",1,{\"a\":[2]}]", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/admin");
    ASSERT_EQ(p.ack_id, 0);
    assert_name_args(&p, "foo", "1,{\"a\":[2]}");
}

TEST(sio_event_name_forms)
{
    struct sio_packet p;
    ASSERT_EQ(dec("2[\"a\\\"b\",true]", &p), SIO_DECODE_OK);
    assert_name_args(&p, "a\\\"b", "true");           /* escapes are kept */
    ASSERT_EQ(dec("2[42,\"x\"]", &p), SIO_DECODE_OK); /* a number as the name */
    assert_name_args(&p, NULL, "\"x\"");
    ASSERT_EQ(dec("2[-1.5]", &p), SIO_DECODE_OK);
    assert_name_args(&p, NULL, "");
    ASSERT_EQ(dec("2[ \"sp\" , 1 , 2 ]", &p), SIO_DECODE_OK);
    assert_name_args(&p, "sp", "1 , 2");
    ASSERT_EQ(dec("2[\"\"]", &p), SIO_DECODE_OK);
    assert_name_args(&p, "", "");
}

TEST(sio_event_bad_payloads)
{
    ASSERT_EQ(dec_rc("2{}"), SIO_DECODE_BAD_PAYLOAD); /* 42{} */
    ASSERT_EQ(dec_rc("2[]"), SIO_DECODE_BAD_PAYLOAD); /* 42[] */
    ASSERT_EQ(dec_rc("2"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("2\"hello\""), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("242"), SIO_DECODE_BAD_PAYLOAD); /* an ack id and nothing else */
    ASSERT_EQ(dec_rc("2[null]"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("2[{}]"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("2[[\"a\"]]"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("2[true]"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("2/admin,"), SIO_DECODE_BAD_PAYLOAD);
}

TEST(sio_reserved_event_names)
{
    static const char *const names[] = {"connect",       "connect_error", "disconnect",
                                        "disconnecting", "newListener",   "removeListener"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char pkt[128];
        snprintf(pkt, sizeof(pkt), "2[\"%s\",1]", names[i]);
        ASSERT_EQ(dec_rc(pkt), SIO_DECODE_BAD_PAYLOAD);
        snprintf(pkt, sizeof(pkt), "2/admin,5[\"%s\"]", names[i]);
        ASSERT_EQ(dec_rc(pkt), SIO_DECODE_BAD_PAYLOAD);
        snprintf(pkt, sizeof(pkt), "51-[\"%s\",{\"_placeholder\":true,\"num\":0}]", names[i]);
        ASSERT_EQ(dec_rc(pkt), SIO_DECODE_BAD_PAYLOAD);
    }
    /* Near misses are ordinary events. */
    ASSERT_EQ(dec_rc("2[\"connection\"]"), SIO_DECODE_OK);
    ASSERT_EQ(dec_rc("2[\"Connect\"]"), SIO_DECODE_OK);
    ASSERT_EQ(dec_rc("2[\"connec\"]"), SIO_DECODE_OK);
    ASSERT_EQ(dec_rc("2[\"disconnected\"]"), SIO_DECODE_OK);
}

/* ---- Connect and disconnect ---- */

TEST(sio_connect_forms)
{
    struct sio_packet p;
    ASSERT_EQ(dec("0", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_CONNECT);
    ASSERT_NSP(p, "/");
    ASSERT_EQ(p.data_len, 0);
    /* 40/custom: the namespace ends at the end of the packet, no comma needed. */
    ASSERT_EQ(dec("0/custom", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/custom");
    ASSERT_EQ(p.data_len, 0);
    ASSERT_EQ(dec("0/custom,", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/custom");
    ASSERT_EQ(p.data_len, 0);
    ASSERT_EQ(dec("0{\"token\":\"123\"}", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/");
    ASSERT_DATA(p, "{\"token\":\"123\"}");
    ASSERT_EQ(dec("0/admin,{\"token\":\"abc\"}", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/admin");
    ASSERT_DATA(p, "{\"token\":\"abc\"}");
}

TEST(sio_connect_v4_query)
{
    struct sio_packet p;
    ASSERT_EQ(dec("0/admin?token=abc&x=1,", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/admin");
    ASSERT_MEM_STR(p.query, p.query_len, "token=abc&x=1");
    ASSERT_EQ(dec("0/admin?token=abc", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/admin");
    ASSERT_MEM_STR(p.query, p.query_len, "token=abc");
    ASSERT_EQ(dec("0/?", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/");
    ASSERT_EQ(p.query_len, 0);
}

TEST(sio_connect_bad_payloads)
{
    ASSERT_EQ(dec_rc("0[]"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("0\"tok\""), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("0/admin,[1]"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("0{\"token\":}"), SIO_DECODE_BAD_JSON);
}

TEST(sio_disconnect)
{
    struct sio_packet p;
    ASSERT_EQ(dec("1", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_DISCONNECT);
    ASSERT_NSP(p, "/");
    ASSERT_EQ(dec("1/admin,", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/admin");
    ASSERT_EQ(dec_rc("1{}"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("1[\"x\"]"), SIO_DECODE_BAD_PAYLOAD);
}

/* ---- Acks ---- */

TEST(sio_ack)
{
    struct sio_packet p;
    ASSERT_EQ(dec("3456[1,\"2\",{\"3\":[false]}]", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_ACK);
    ASSERT_EQ(p.ack_id, 456);
    const char *args;
    size_t len;
    args = sio_packet_args(&p, &len);
    ASSERT_MEM_STR(args, len, "1,\"2\",{\"3\":[false]}");
    ASSERT_EQ(dec("3/admin,13[\"bar\"]", &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/admin");
    ASSERT_EQ(p.ack_id, 13);
    args = sio_packet_args(&p, &len);
    ASSERT_MEM_STR(args, len, "\"bar\"");
    ASSERT_EQ(dec("37[]", &p), SIO_DECODE_OK);
    args = sio_packet_args(&p, &len);
    ASSERT_EQ(len, 0);
    ASSERT_EQ(dec("37[ 1 , 2 ]", &p), SIO_DECODE_OK);
    args = sio_packet_args(&p, &len);
    ASSERT_MEM_STR(args, len, "1 , 2");
}

TEST(sio_ack_bad)
{
    ASSERT_EQ(dec_rc("3[\"x\"]"), SIO_DECODE_BAD_PAYLOAD); /* no id */
    ASSERT_EQ(dec_rc("312"), SIO_DECODE_BAD_PAYLOAD);      /* no payload */
    ASSERT_EQ(dec_rc("312{}"), SIO_DECODE_BAD_PAYLOAD);
    ASSERT_EQ(dec_rc("312\"x\""), SIO_DECODE_BAD_PAYLOAD);
}

TEST(sio_ack_id_lengths)
{
    struct sio_packet p;
    ASSERT_EQ(dec("2123456789012345[\"a\"]", &p), SIO_DECODE_OK); /* 15 digits */
    ASSERT_EQ(p.ack_id, 123456789012345LL);
    ASSERT_EQ(dec("2999999999999999[\"a\"]", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.ack_id, 999999999999999LL);
    ASSERT_EQ(dec_rc("21234567890123456[\"a\"]"), SIO_DECODE_BAD_ACK_ID); /* 16 digits */
    ASSERT_EQ(dec_rc("299999999999999999999[\"a\"]"), SIO_DECODE_BAD_ACK_ID);
    ASSERT_EQ(dec_rc("31234567890123456[]"), SIO_DECODE_BAD_ACK_ID);
    ASSERT_EQ(dec_rc("2/admin,1234567890123456[\"a\"]"), SIO_DECODE_BAD_ACK_ID);
}

TEST(sio_ack_id_not_numeric)
{
    ASSERT_EQ(dec_rc("2abc[\"a\"]"), SIO_DECODE_BAD_JSON); /* 42abc[...] */
    ASSERT_EQ(dec_rc("2-1[\"a\"]"), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(dec_rc("3-5[]"), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(dec_rc("21a[\"a\"]"), SIO_DECODE_BAD_JSON);
}

/* ---- Binary packets ---- */

TEST(sio_binary_event)
{
    struct sio_packet p;
    ASSERT_EQ(dec("51-[\"baz\",{\"_placeholder\":true,\"num\":0}]", &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_BINARY_EVENT);
    ASSERT_EQ(p.attachments, 1);
    ASSERT_EQ(p.ack_id, SIO_NO_ACK);
    ASSERT_EQ(p.info.placeholders, 1);
    assert_name_args(&p, "baz", "{\"_placeholder\":true,\"num\":0}");
    ASSERT_EQ(dec("52-/admin,9[\"x\",{\"_placeholder\":true,\"num\":1},"
                  "{\"_placeholder\":true,\"num\":0}]",
                  &p),
              SIO_DECODE_OK);
    ASSERT_EQ(p.attachments, 2);
    ASSERT_NSP(p, "/admin");
    ASSERT_EQ(p.ack_id, 9);
    ASSERT_EQ(p.info.max_placeholder, 1);
}

TEST(sio_binary_ack)
{
    struct sio_packet p;
    ASSERT_EQ(
        dec("62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", &p),
        SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_BINARY_ACK);
    ASSERT_EQ(p.attachments, 2);
    ASSERT_EQ(p.ack_id, 789);
    ASSERT_EQ(dec_rc("62-[{\"_placeholder\":true,\"num\":0}]"), SIO_DECODE_BAD_PAYLOAD);
}

TEST(sio_placeholders_must_match_attachments)
{
    /* socket.io-client makes one placeholder per attachment, numbered from 0. */
    ASSERT_EQ(dec_rc("52-[\"a\",{\"_placeholder\":true,\"num\":0}]"), SIO_DECODE_BAD_PLACEHOLDER);
    ASSERT_EQ(dec_rc("51-[\"a\"]"), SIO_DECODE_BAD_PLACEHOLDER);
    ASSERT_EQ(dec_rc("52-[\"a\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,"
                     "\"num\":0}]"),
              SIO_DECODE_BAD_PLACEHOLDER);
    ASSERT_EQ(dec_rc("51-[\"a\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,"
                     "\"num\":0}]"),
              SIO_DECODE_BAD_PLACEHOLDER);
}

/* "5<n>-" followed by an event carrying placeholders 0..n-1. */
static char *binary_event(long n)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "5%ld-[\"up\"", n);
    for (long i = 0; i < n; i++)
        buf_printf(&b, ",{\"_placeholder\":true,\"num\":%ld}", i);
    buf_append_char(&b, ']');
    return buf_detach(&b, NULL);
}

TEST(sio_attachment_counts)
{
    struct sio_packet p;
    ASSERT_EQ(dec_rc("5-1-[\"a\"]"), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(dec_rc("5100000-[\"a\"]"), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(dec_rc("599999999999-[\"a\"]"), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(dec_rc("5[\"a\"]"), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(dec_rc("51[\"a\"]"), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(dec_rc("5"), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(dec_rc("51"), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(dec_rc("6a-1[]"), SIO_DECODE_BAD_ATTACHMENTS);
    /* The cap: 10 is allowed, 11 is not. */
    char *pkt = binary_event(10);
    ASSERT_EQ(dec(pkt, &p), SIO_DECODE_OK);
    ASSERT_EQ(p.attachments, 10);
    ASSERT_EQ(p.info.placeholders, 10);
    free(pkt);
    pkt = binary_event(11);
    ASSERT_EQ(dec_rc(pkt), SIO_DECODE_BAD_ATTACHMENTS);
    ASSERT_EQ(sio_packet_decode(pkt, strlen(pkt), 11, &p), SIO_DECODE_OK);
    free(pkt);
    pkt = binary_event(1);
    ASSERT_EQ(sio_packet_decode(pkt, strlen(pkt), 0, &p), SIO_DECODE_BAD_ATTACHMENTS);
    free(pkt);
    /* Six digits are read; a count that passes a large cap still needs its placeholders. */
    ASSERT_EQ(sio_packet_decode("5100000-[\"a\"]", 13, 1000000, &p), SIO_DECODE_BAD_PLACEHOLDER);
}

TEST(sio_zero_attachments_with_placeholder)
{
    ASSERT_EQ(dec_rc("50-[\"a\",{\"_placeholder\":true,\"num\":0}]"), SIO_DECODE_BAD_PLACEHOLDER);
    ASSERT_EQ(dec_rc("50-[\"a\"]"), SIO_DECODE_OK);
}

TEST(sio_bad_placeholders)
{
    static const char *const bad[] = {
        "51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]",      /* num as a string */
        "51-[\"a\",{\"_placeholder\":true,\"num\":\"splice\"}]", /* CVE-2022-2421 */
        "51-[\"a\",{\"_placeholder\":true,\"num\":0.5}]",        /* float */
        "52-[\"a\",{\"_placeholder\":true,\"num\":1.0}]",        /* float */
        "51-[\"a\",{\"_placeholder\":true,\"num\":-1}]",         /* negative */
        "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",          /* out of range */
        "51-[\"a\",{\"_placeholder\":true,\"num\":99999}]",      /* out of range */
        "51-[\"a\",{\"_placeholder\":true}]",                    /* missing */
        "51-[\"a\",{\"_placeholder\":true,\"num\":null}]",
        "61-1[{\"_placeholder\":true,\"num\":1}]",
        "51-[\"a\",[[{\"_placeholder\":true,\"num\":3}]]]", /* nested, out of range */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_EQ(dec_rc(bad[i]), SIO_DECODE_BAD_PLACEHOLDER);
}

TEST(sio_escaped_placeholder_key)
{
    /* A second placeholder spelt with an escape must be checked like any other. */
    ASSERT_EQ(dec_rc("51-[\"a\",{\"_placeholder\":true,\"num\":0},"
                     "{\"\\u005fplaceholder\":true,\"num\":\"splice\"}]"),
              SIO_DECODE_BAD_PLACEHOLDER);
    ASSERT_EQ(dec_rc("51-[\"a\",{\"\\u005fplaceholder\":true,\"num\":0}]"), SIO_DECODE_OK);
}

TEST(sio_placeholders_in_non_binary_packets_are_data)
{
    ASSERT_EQ(dec_rc("2[\"a\",{\"_placeholder\":true,\"num\":\"splice\"}]"), SIO_DECODE_OK);
}

/* ---- Types, namespaces, JSON ---- */

TEST(sio_bad_types)
{
    ASSERT_EQ(dec_rc(""), SIO_DECODE_BAD_TYPE);
    ASSERT_EQ(dec_rc("abc"), SIO_DECODE_BAD_TYPE); /* 4abc on the wire */
    ASSERT_EQ(dec_rc("7[\"a\"]"), SIO_DECODE_BAD_TYPE);
    ASSERT_EQ(dec_rc("9"), SIO_DECODE_BAD_TYPE);
    ASSERT_EQ(dec_rc("/admin,[\"a\"]"), SIO_DECODE_BAD_TYPE);
    ASSERT_EQ(dec_rc("[\"a\"]"), SIO_DECODE_BAD_TYPE);
    /* CONNECT_ERROR only goes from server to client. */
    ASSERT_EQ(dec_rc("4{\"message\":\"x\"}"), SIO_DECODE_BAD_TYPE);
    ASSERT_EQ(dec_rc("4/admin,\"Not authorized\""), SIO_DECODE_BAD_TYPE);
}

TEST(sio_bad_json)
{
    ASSERT_EQ(dec_rc("2[\"a\""), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(dec_rc("2[\"a\"]x"), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(dec_rc("2[\"a\",NaN]"), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(dec_rc("2['a']"), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(dec_rc("0{token:1}"), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(dec_rc("2/a,b,[\"x\"]"), SIO_DECODE_BAD_JSON);
}

TEST(sio_json_depth)
{
    char pkt[200];
    /* ["a", then 62 more arrays: the innermost is the 63rd level, inside the limit of 64. */
    size_t off = 0;
    pkt[off++] = '2';
    memcpy(pkt + off, "[\"a\",", 5);
    off += 5;
    memset(pkt + off, '[', 63);
    off += 63;
    memset(pkt + off, ']', 64);
    off += 64;
    ASSERT_EQ(sio_packet_decode(pkt, off, MAX_ATTACHMENTS, &(struct sio_packet){0}), SIO_DECODE_OK);
    /* One more level is refused. */
    off = 0;
    pkt[off++] = '2';
    memcpy(pkt + off, "[\"a\",", 5);
    off += 5;
    memset(pkt + off, '[', 64);
    off += 64;
    memset(pkt + off, ']', 65);
    off += 65;
    ASSERT_EQ(sio_packet_decode(pkt, off, MAX_ATTACHMENTS, &(struct sio_packet){0}),
              SIO_DECODE_BAD_JSON);
}

TEST(sio_namespace_10kb)
{
    /* The decoder does not cap namespaces: the server refuses unknown ones by name. */
    size_t n = 10 * 1024;
    char *pkt = malloc(n + 16);
    pkt[0] = '0';
    pkt[1] = '/';
    memset(pkt + 2, 'x', n);
    struct sio_packet p;
    ASSERT_EQ(sio_packet_decode(pkt, n + 2, MAX_ATTACHMENTS, &p), SIO_DECODE_OK);
    ASSERT_EQ(p.nsp_len, n + 1);
    ASSERT_TRUE(p.nsp == pkt + 1);
    memcpy(pkt + n + 2, ",[\"a\"]", 6);
    pkt[0] = '2';
    ASSERT_EQ(sio_packet_decode(pkt, n + 8, MAX_ATTACHMENTS, &p), SIO_DECODE_OK);
    ASSERT_EQ(p.nsp_len, n + 1);
    ASSERT_DATA(p, "[\"a\"]");
    free(pkt);
}

TEST(sio_decode_respects_length)
{
    struct sio_packet p;
    const char *s = "2[\"a\"]garbage";
    ASSERT_EQ(sio_packet_decode(s, 6, MAX_ATTACHMENTS, &p), SIO_DECODE_OK);
    ASSERT_EQ(sio_packet_decode(s, 5, MAX_ATTACHMENTS, &p), SIO_DECODE_BAD_JSON);
    ASSERT_EQ(sio_packet_decode("0/admin,", 6, MAX_ATTACHMENTS, &p), SIO_DECODE_OK);
    ASSERT_NSP(p, "/admi");
}

TEST(sio_error_names)
{
    ASSERT_STR_EQ(sio_decode_error_name(SIO_DECODE_OK), "ok");
    int codes[] = {SIO_DECODE_BAD_TYPE,       SIO_DECODE_BAD_ATTACHMENTS, SIO_DECODE_BAD_NAMESPACE,
                   SIO_DECODE_BAD_ACK_ID,     SIO_DECODE_BAD_JSON,        SIO_DECODE_BAD_PAYLOAD,
                   SIO_DECODE_BAD_PLACEHOLDER};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *name = sio_decode_error_name(codes[i]);
        ASSERT_TRUE(name != NULL);
        ASSERT_TRUE(strcmp(name, "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            ASSERT_TRUE(strcmp(name, sio_decode_error_name(codes[j])) != 0);
    }
    ASSERT_STR_EQ(sio_decode_error_name(-100), "unknown error");
}

/* ---- Header encoder ---- */

static void assert_header(enum sio_type type, long att, const char *nsp, long long ack,
                          const char *expected)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    ASSERT_EQ(sio_packet_header(&out, type, att, nsp, ack), 0);
    ASSERT_MEM_STR(out.data, out.len, expected);
    buf_release(&out);
}

TEST(sio_header_encoder)
{
    assert_header(SIO_EVENT, 0, "/", SIO_NO_ACK, "2");
    assert_header(SIO_EVENT, 0, NULL, SIO_NO_ACK, "2");
    assert_header(SIO_EVENT, 0, "/admin", 12, "2/admin,12");
    assert_header(SIO_ACK, 0, "/", 456, "3456");
    assert_header(SIO_CONNECT, 0, "/custom", SIO_NO_ACK, "0/custom,");
    assert_header(SIO_CONNECT_ERROR, 0, "/random", SIO_NO_ACK, "4/random,");
    assert_header(SIO_BINARY_EVENT, 1, "/", SIO_NO_ACK, "51-");
    assert_header(SIO_BINARY_ACK, 2, "/x", 789, "62-/x,789");
    assert_header(SIO_DISCONNECT, 3, "/", SIO_NO_ACK, "1"); /* attachments only for binary */
    assert_header(SIO_EVENT, 0, "/", 999999999999999LL, "2999999999999999");
}

TEST(sio_header_encoder_cap)
{
    struct buf out;
    buf_init(&out, 4);
    ASSERT_EQ(sio_packet_header(&out, SIO_EVENT, 0, "/admin", SIO_NO_ACK), -1);
    buf_reset(&out);
    ASSERT_EQ(sio_packet_header(&out, SIO_EVENT, 0, "/", 12345), -1);
    buf_reset(&out);
    ASSERT_EQ(sio_packet_header(&out, SIO_EVENT, 0, "/", 123), 0);
    ASSERT_MEM_STR(out.data, out.len, "2123");
    buf_release(&out);
}

TEST(sio_header_round_trip)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    ASSERT_EQ(sio_packet_header(&out, SIO_BINARY_EVENT, 2, "/admin", 77), 0);
    buf_append_str(&out, "[\"up\",{\"_placeholder\":true,\"num\":1},"
                         "{\"_placeholder\":true,\"num\":0}]");
    struct sio_packet p;
    ASSERT_EQ(sio_packet_decode(out.data, out.len, MAX_ATTACHMENTS, &p), SIO_DECODE_OK);
    ASSERT_EQ(p.type, SIO_BINARY_EVENT);
    ASSERT_EQ(p.attachments, 2);
    ASSERT_NSP(p, "/admin");
    ASSERT_EQ(p.ack_id, 77);
    assert_name_args(&p, "up",
                     "{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}");
    buf_release(&out);
}
