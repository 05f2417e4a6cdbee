/* Unit tests for core/base64: RFC 4648 vectors, round trips, and invalid input. */
#include <string.h>

#include "core/base64.h"
#include "test.h"

static const struct {
    const char *plain;
    const char *encoded;
} rfc4648_vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

#define NVECTORS (sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]))

TEST(base64_encode_rfc4648_vectors)
{
    for (size_t i = 0; i < NVECTORS; i++) {
        struct buf out;
        buf_init(&out, BUF_NO_CAP);
        const char *plain = rfc4648_vectors[i].plain;
        ASSERT_EQ(base64_encode(&out, plain, strlen(plain)), 0);
        ASSERT_MEM_STR(out.data, out.len, rfc4648_vectors[i].encoded);
        ASSERT_EQ(base64_encoded_len(strlen(plain)), strlen(rfc4648_vectors[i].encoded));
        buf_release(&out);
    }
}

TEST(base64_decode_rfc4648_vectors)
{
    for (size_t i = 0; i < NVECTORS; i++) {
        struct buf out;
        buf_init(&out, BUF_NO_CAP);
        const char *enc = rfc4648_vectors[i].encoded;
        ASSERT_EQ(base64_decode(&out, enc, strlen(enc)), 0);
        ASSERT_MEM_STR(out.data, out.len, rfc4648_vectors[i].plain);
        buf_release(&out);
    }
}

TEST(base64_encode_appends)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    buf_append_str(&out, "b");
    ASSERT_EQ(base64_encode(&out, "\x01\x02\x03\x04", 4), 0);
    ASSERT_MEM_STR(out.data, out.len, "bAQIDBA==");
    buf_release(&out);
}

TEST(base64_high_bits_and_websocket_accept)
{
    /* SHA-1 of the RFC 6455 sample key + GUID, and its published base64 form. */
    static const unsigned char sha1[20] = {0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f,
                                           0x16, 0x90, 0xf6, 0x46, 0x06, 0xcf, 0x38,
                                           0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea};
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    ASSERT_EQ(base64_encode(&out, sha1, sizeof(sha1)), 0);
    ASSERT_MEM_STR(out.data, out.len, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    buf_reset(&out);
    ASSERT_EQ(base64_encode(&out, "\xff\xfe\xfd", 3), 0);
    ASSERT_MEM_STR(out.data, out.len, "//79");
    buf_release(&out);
}

TEST(base64_round_trip_all_bytes)
{
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (size_t n = 0; n <= sizeof(all); n += 1) {
        struct buf enc, dec;
        buf_init(&enc, BUF_NO_CAP);
        buf_init(&dec, BUF_NO_CAP);
        ASSERT_EQ(base64_encode(&enc, all + (256 - n), n), 0);
        ASSERT_EQ(enc.len, base64_encoded_len(n));
        ASSERT_EQ(base64_decode(&dec, enc.data, enc.len), 0);
        ASSERT_MEM_EQ(dec.data, dec.len, all + (256 - n), n);
        buf_release(&enc);
        buf_release(&dec);
    }
}

static int decode_fails(const char *s)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    int rc = base64_decode(&out, s, strlen(s));
    buf_release(&out);
    return rc == -1;
}

TEST(base64_decode_rejects_bad_length)
{
    ASSERT_TRUE(decode_fails("Z"));
    ASSERT_TRUE(decode_fails("Zg"));
    ASSERT_TRUE(decode_fails("Zg="));
    ASSERT_TRUE(decode_fails("Zm9vY"));
}

TEST(base64_decode_rejects_bad_characters)
{
    ASSERT_TRUE(decode_fails("Zm9*"));
    ASSERT_TRUE(decode_fails("Zm 9"));
    ASSERT_TRUE(decode_fails("Zm9\n"));
    ASSERT_TRUE(decode_fails("Zm-_")); /* base64url is not accepted */
    ASSERT_TRUE(decode_fails("\xc3\xa9"
                             "AA"));
    ASSERT_TRUE(decode_fails("!!!!"));
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    ASSERT_EQ(base64_decode(&out, "Zm\0v", 4), -1);
    buf_release(&out);
}

TEST(base64_decode_rejects_misplaced_padding)
{
    ASSERT_TRUE(decode_fails("===="));
    ASSERT_TRUE(decode_fails("Z==="));
    ASSERT_TRUE(decode_fails("=AAA"));
    ASSERT_TRUE(decode_fails("Zg=A"));     /* data after padding */
    ASSERT_TRUE(decode_fails("Zg==Zg==")); /* padding before the last quad */
    ASSERT_TRUE(decode_fails("Zm8=Zm9v"));
}

TEST(base64_decode_respects_cap)
{
    struct buf out;
    buf_init(&out, 5);
    ASSERT_EQ(base64_decode(&out, "Zm9vYmFy", 8), -1);
    buf_reset(&out);
    ASSERT_EQ(base64_decode(&out, "Zm9vYg==", 8), 0);
    ASSERT_MEM_STR(out.data, out.len, "foob");
    buf_release(&out);
}

TEST(base64_encode_respects_cap)
{
    struct buf out;
    buf_init(&out, 7);
    ASSERT_EQ(base64_encode(&out, "foobar", 6), -1);
    buf_reset(&out);
    ASSERT_EQ(base64_encode(&out, "foo", 3), 0);
    ASSERT_MEM_STR(out.data, out.len, "Zm9v");
    buf_release(&out);
}

TEST(base64_encoded_len_values)
{
    ASSERT_EQ(base64_encoded_len(0), 0);
    ASSERT_EQ(base64_encoded_len(1), 4);
    ASSERT_EQ(base64_encoded_len(3), 4);
    ASSERT_EQ(base64_encoded_len(4), 8);
    ASSERT_EQ(base64_encoded_len(1000000), 1333336);
}
