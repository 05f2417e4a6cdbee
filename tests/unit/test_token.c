/* Unit tests for broker/token: issue and verify, tampering, expiry, malformed tokens. */
#include <stdio.h>
#include <string.h>

#include "broker/token.h"
#include "test.h"

static const unsigned char secret[TOKEN_SECRET_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char other_secret[TOKEN_SECRET_LEN] = "fedcba9876543210fedcba987654321";

static void issue(char out[TOKEN_MAX_LEN], int64_t participant, const char *challenge,
                  int64_t expires_at, struct token_claims *claims)
{
    memset(claims, 0, sizeof(*claims));
    claims->participant_id = participant;
    snprintf(claims->challenge_id, sizeof(claims->challenge_id), "%s", challenge);
    claims->issued_at = expires_at / 2;
    claims->expires_at = expires_at;
    ASSERT_EQ(token_issue(secret, claims, out), 0);
}

TEST(token_round_trip_carries_the_claims)
{
    char tok[TOKEN_MAX_LEN];
    struct token_claims in, out;
    issue(tok, 42, "demo-challenge", 2000, &in);
    ASSERT_EQ(token_verify(secret, tok, 1999, &out), TOKEN_OK);
    ASSERT_EQ(out.participant_id, 42);
    ASSERT_STR_EQ(out.challenge_id, "demo-challenge");
    ASSERT_EQ(out.expires_at, 2000);
    ASSERT_EQ(out.issued_at, 1000);
    ASSERT_STR_EQ(out.token_id, in.token_id);
    ASSERT_EQ(strlen(out.token_id), (size_t)TOKEN_ID_LEN);
}

TEST(token_ids_differ_between_issues)
{
    char a[TOKEN_MAX_LEN], b[TOKEN_MAX_LEN];
    struct token_claims ca, cb;
    issue(a, 1, "c", 10, &ca);
    issue(b, 1, "c", 10, &cb);
    ASSERT_TRUE(strcmp(ca.token_id, cb.token_id) != 0);
    ASSERT_TRUE(strcmp(a, b) != 0);
}

TEST(token_expires_at_its_expiry)
{
    char tok[TOKEN_MAX_LEN];
    struct token_claims c, out;
    issue(tok, 7, "c", 5000, &c);
    ASSERT_EQ(token_verify(secret, tok, 4999, &out), TOKEN_OK);
    ASSERT_EQ(token_verify(secret, tok, 5000, &out), TOKEN_EXPIRED);
    ASSERT_EQ(token_verify(secret, tok, 99999, &out), TOKEN_EXPIRED);
}

TEST(token_every_flipped_character_is_refused)
{
    char tok[TOKEN_MAX_LEN];
    struct token_claims c, out;
    issue(tok, 123, "chal", 1000000, &c);
    size_t len = strlen(tok);
    for (size_t i = 0; i < len; i++) {
        char copy[TOKEN_MAX_LEN];
        memcpy(copy, tok, len + 1);
        copy[i] = copy[i] == 'a' ? 'b' : 'a';
        if (strcmp(copy, tok) == 0)
            continue;
        enum token_error e = token_verify(secret, copy, 1, &out);
        if (e == TOKEN_OK)
            test_fail(__FILE__, __LINE__, "flipping byte %zu was accepted: %s", i, copy);
    }
}

TEST(token_signed_with_another_secret_is_refused)
{
    char tok[TOKEN_MAX_LEN];
    struct token_claims c, out;
    issue(tok, 5, "c", 1000, &c);
    ASSERT_EQ(token_verify(other_secret, tok, 1, &out), TOKEN_BAD_SIGNATURE);
}

TEST(token_changed_claims_break_the_signature)
{
    char tok[TOKEN_MAX_LEN];
    struct token_claims c, out;
    issue(tok, 5, "c", 1000, &c);
    /* Same length, other participant: the signature no longer matches. */
    char forged[TOKEN_MAX_LEN];
    memcpy(forged, tok, strlen(tok) + 1);
    forged[3] = '6';
    ASSERT_EQ(token_verify(secret, forged, 1, &out), TOKEN_BAD_SIGNATURE);
}

TEST(token_malformed_inputs)
{
    struct token_claims out;
    const char *bad[] = {
        "",
        "v2",
        "v2.1.c.1.2.id",
        "v1.1.c.1000.aaaaaaaaaaaaaaaaaaaa.0000000000000000000000000000000000000000000000000000000"
        "000000000",
        "v3.1.c.1.1000.aaaaaaaaaaaaaaaaaaaa.sig",
        /* an eighth field after a well-formed signature */
        ("v2.1.c.1.1000.aaaaaaaaaaaaaaaaaaaa.0000000000000000000000000000000000000000000000000000"
         "0000000000.extra"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_EQ(token_verify(secret, bad[i], 1, &out), TOKEN_MALFORMED);
    char huge[600];
    memset(huge, 'v', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    ASSERT_EQ(token_verify(secret, huge, 1, &out), TOKEN_MALFORMED);
}

TEST(token_refuses_challenge_ids_that_are_not_slugs)
{
    char tok[TOKEN_MAX_LEN];
    struct token_claims c = {0};
    c.participant_id = 1;
    c.expires_at = 10;
    snprintf(c.challenge_id, sizeof(c.challenge_id), "%s", "a.b");
    ASSERT_EQ(token_issue(secret, &c, tok), -1);
    snprintf(c.challenge_id, sizeof(c.challenge_id), "%s", "");
    ASSERT_EQ(token_issue(secret, &c, tok), -1);
}

TEST(token_messages_are_plain_words)
{
    ASSERT_TRUE(strstr(token_error_message(TOKEN_EXPIRED), "expired") != NULL);
    ASSERT_TRUE(strstr(token_error_message(TOKEN_MALFORMED), "Authenticate") != NULL);
}
