/* HMAC-SHA256 session tokens:
 * "v2.<participant>.<challenge>.<issued ms>.<expiry ms>.<id>.<signature>",
 * the signature being the hex HMAC of everything before it. */
#include "broker/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/random_id.h"

#define SIG_HEX_LEN 64

static void sign(const unsigned char secret[TOKEN_SECRET_LEN], const char *body, size_t len,
                 char hex[SIG_HEX_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret, TOKEN_SECRET_LEN, (const unsigned char *)body, len, mac, &mac_len);
    for (unsigned int i = 0; i < mac_len && i < SIG_HEX_LEN / 2; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    hex[SIG_HEX_LEN] = '\0';
}

static int valid_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int token_issue(const unsigned char secret[TOKEN_SECRET_LEN], struct token_claims *claims,
                char out[TOKEN_MAX_LEN])
{
    if (!valid_slug(claims->challenge_id))
        return -1;
    random_id(claims->token_id);
    int n = snprintf(out, TOKEN_MAX_LEN, "v2.%lld.%s.%lld.%lld.%s",
                     (long long)claims->participant_id, claims->challenge_id,
                     (long long)claims->issued_at, (long long)claims->expires_at, claims->token_id);
    if (n < 0 || (size_t)n + 1 + SIG_HEX_LEN >= TOKEN_MAX_LEN)
        return -1;
    char sig[SIG_HEX_LEN + 1];
    sign(secret, out, (size_t)n, sig);
    snprintf(out + n, TOKEN_MAX_LEN - (size_t)n, ".%s", sig);
    return 0;
}

#define TOKEN_FIELDS 7

/* Splits "v2.a.b.c.d.e.sig" into exactly TOKEN_FIELDS fields (pointers into copy, which is
 * modified). */
static int split(char *copy, char *fields[TOKEN_FIELDS])
{
    int n = 0;
    char *p = copy;
    for (;;) {
        if (n == TOKEN_FIELDS)
            return -1; /* one field too many */
        fields[n++] = p;
        char *dot = strchr(p, '.');
        if (dot == NULL)
            break;
        *dot = '\0';
        p = dot + 1;
    }
    return n == TOKEN_FIELDS ? 0 : -1;
}

static int parse_int64(const char *s, int64_t *out)
{
    char *end;
    if (*s == '\0' || *s == '-' || strlen(s) > 18)
        return -1;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

enum token_error token_verify(const unsigned char secret[TOKEN_SECRET_LEN], const char *token,
                              int64_t now, struct token_claims *claims)
{
    char copy[TOKEN_MAX_LEN];
    char *f[TOKEN_FIELDS];
    size_t len = strlen(token);
    if (len >= TOKEN_MAX_LEN || len <= SIG_HEX_LEN + 1)
        return TOKEN_MALFORMED;
    memcpy(copy, token, len + 1);
    if (split(copy, f) != 0 || strcmp(f[0], "v2") != 0 || strlen(f[6]) != SIG_HEX_LEN)
        return TOKEN_MALFORMED;
    char expected[SIG_HEX_LEN + 1];
    size_t body_len = len - SIG_HEX_LEN - 1;
    sign(secret, token, body_len, expected);
    if (CRYPTO_memcmp(expected, token + body_len + 1, SIG_HEX_LEN) != 0)
        return TOKEN_BAD_SIGNATURE;
    if (parse_int64(f[1], &claims->participant_id) != 0 ||
        parse_int64(f[3], &claims->issued_at) != 0 || parse_int64(f[4], &claims->expires_at) != 0 ||
        !valid_slug(f[2]) || strlen(f[5]) != TOKEN_ID_LEN)
        return TOKEN_MALFORMED;
    snprintf(claims->challenge_id, sizeof(claims->challenge_id), "%s", f[2]);
    snprintf(claims->token_id, sizeof(claims->token_id), "%s", f[5]);
    return now >= claims->expires_at ? TOKEN_EXPIRED : TOKEN_OK;
}

const char *token_error_message(enum token_error err)
{
    switch (err) {
    case TOKEN_OK:
        return "ok";
    case TOKEN_MALFORMED:
        return "The session token is not valid. Authenticate again with your API key.";
    case TOKEN_BAD_SIGNATURE:
        return "The session token was not issued by this broker. Authenticate again.";
    case TOKEN_EXPIRED:
        return "The session token has expired. Authenticate again with your API key.";
    }
    return "The session token is not valid.";
}
