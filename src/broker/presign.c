/* The crowdAI client's upload flow: `GET /api/external_graders/<API_KEY>/presign` answers
 * {message, participant_id, s3_key, presigned_url}, where presigned_url is this broker's
 * `PUT /upload` signed (HMAC with the broker's secret) for that participant and name, valid
 * for PRESIGN_TTL_MS. The upload stores the file in the blob store and names it s3_key
 * (files.c), which execute_function then accepts as a file_key. */
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "core/log.h"
#include "core/random_id.h"
#include "core/xalloc.h"

#define PRESIGN_TTL_MS (60 * 60 * 1000)
#define PRESIGN_PREFIX "/api/external_graders/"
#define SIG_HEX        64

static void sign(const struct broker *b, const char *name, int64_t participant, int64_t expires,
                 char hex[SIG_HEX + 1])
{
    char msg[256];
    int n =
        snprintf(msg, sizeof(msg), "presign:%s:%" PRId64 ":%" PRId64, name, participant, expires);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), b->secret, TOKEN_SECRET_LEN, (const unsigned char *)msg, (size_t)n, mac,
         &len);
    for (unsigned int i = 0; i < len && i < SIG_HEX / 2; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    hex[SIG_HEX] = '\0';
}

static int query_int(const struct http_request *req, const char *name, int64_t *out)
{
    char text[24];
    char *end;
    if (http_request_query(req, name, text, sizeof(text)) < 0 || text[0] == '\0')
        return -1;
    long long v = strtoll(text, &end, 10);
    if (*end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

int presign_check(const struct broker *b, const struct http_request *req, char name[101],
                  int64_t *participant_id)
{
    char sig[SIG_HEX + 2], expected[SIG_HEX + 1];
    int64_t expires;
    if (http_request_query(req, "key", name, 101) < 0 || !blob_alias_valid(name) ||
        query_int(req, "participant", participant_id) != 0 ||
        query_int(req, "expires", &expires) != 0 ||
        http_request_query(req, "sig", sig, sizeof(sig)) < 0 || strlen(sig) != SIG_HEX)
        return -1;
    sign(b, name, *participant_id, expires, expected);
    if (CRYPTO_memcmp(expected, sig, SIG_HEX) != 0)
        return -1;
    return broker_now() < expires ? 0 : -2;
}

struct presign_req {
    struct broker *b;
    struct http_conn *hc; /* NULL once gone */
    char host[256];
};

static void respond_json(struct http_conn *hc, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    http_conn_respond(hc, status, "application/json", NULL, text, strlen(text), 0);
    free(text);
    json_decref(body);
}

static void on_key_checked(void *ud, enum reg_auth result, const struct reg_participant *p,
                           const struct reg_challenge *c)
{
    struct presign_req *r = ud;
    (void)c;
    if (r->hc == NULL) {
        free(r);
        return;
    }
    /* No challenge is named: a valid key answers UNKNOWN_CHALLENGE with the participant. */
    if (p == NULL || (result != REG_AUTH_OK && result != REG_AUTH_UNKNOWN_CHALLENGE)) {
        respond_json(r->hc, result == REG_AUTH_BAD_KEY ? 401 : 503,
                     json_pack("{s:s}", "message",
                               result == REG_AUTH_BAD_KEY ? "Invalid API key"
                                                          : "The key could not be checked now"));
        free(r);
        return;
    }
    char id[RANDOM_ID_LEN + 1], name[64], sig[SIG_HEX + 1], url[700];
    random_id(id);
    snprintf(name, sizeof(name), "p%" PRId64 "-%s", p->id, id);
    int64_t expires = broker_now() + PRESIGN_TTL_MS;
    sign(r->b, name, p->id, expires, sig);
    snprintf(url, sizeof(url),
             "http://%s/upload?key=%s&participant=%" PRId64 "&expires=%" PRId64 "&sig=%s", r->host,
             name, p->id, expires, sig);
    respond_json(r->hc, 200,
                 json_pack("{s:s,s:I,s:s,s:s}", "message", "Presigned url generated",
                           "participant_id", (json_int_t)p->id, "s3_key", name, "presigned_url",
                           url));
    free(r);
}

static void on_presign_aborted(struct http_conn *hc, void *ud)
{
    struct presign_req *r = ud;
    (void)hc;
    r->hc = NULL;
}

static void presign_request(struct http_conn *hc, const struct http_request *req, void *ud)
{
    struct broker *b = ud;
    size_t len;
    const char *path = http_request_path(req, &len);
    const char *key = path + strlen(PRESIGN_PREFIX);
    size_t key_len = len - strlen(PRESIGN_PREFIX);
    static const char suffix[] = "/presign";
    if (req->method != HTTP_GET || key_len <= sizeof(suffix) - 1 || key_len > 200 ||
        memcmp(key + key_len - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) != 0) {
        respond_json(hc, 404, json_pack("{s:s}", "message", "Not found"));
        return;
    }
    char api_key[201];
    snprintf(api_key, sizeof(api_key), "%.*s", (int)(key_len - (sizeof(suffix) - 1)), key);
    const char *host = http_request_header(req, HTTP_H_HOST);
    struct presign_req *r = xcalloc(1, sizeof(*r));
    r->b = b;
    r->hc = hc;
    /* The URL must reach this broker as the client reached it. */
    snprintf(r->host, sizeof(r->host), "%s", host != NULL && host[0] != '\0' ? host : "localhost");
    for (char *q = r->host; *q; q++) {
        if (*q == '/' || *q == '?' || *q == '#' || *q == '"' || *q == '\\' ||
            (unsigned char)*q < 33)
            *q = '_';
    }
    http_conn_hold(hc, on_presign_aborted, r);
    b->reg->ops->authenticate(b->reg, api_key, "", on_key_checked, r);
}

static const struct http_route_ops presign_ops = {.on_request = presign_request};

void presign_install(struct broker *b, struct http_server *http)
{
    http_server_route_prefix(http, PRESIGN_PREFIX, &presign_ops, b);
}
