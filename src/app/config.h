/* The broker's settings: defaults, then command-line flags, validated once at start. */
#ifndef APP_CONFIG_H
#define APP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "net/origin.h"

struct config {
    int conformance; /* serve the official test suites' expectations */
    char host[64];
    int port;
    uint64_t ping_interval_ms;
    uint64_t ping_timeout_ms;
    uint64_t upgrade_timeout_ms;
    uint64_t connect_timeout_ms;
    uint64_t header_timeout_ms;
    size_t max_payload;
    size_t max_header_bytes;
    size_t max_headers;
    size_t max_connections;
    size_t max_output;
    size_t max_packets;
    long max_attachments;
    int log_level;
    /* Broker mode (everything but --conformance). */
    char data_dir[256];   /* registry, blobs, secret, private Redis */
    char redis_host[128]; /* external Redis; "" = start a private redis-server */
    int redis_port;
    char redis_server[256]; /* the redis-server binary for the private one */
    uint64_t lease_ms;
    uint64_t janitor_ms;
    uint64_t waiting_repeat_ms;
    uint64_t token_ttl_ms;
    uint64_t retry_base_ms;
    uint64_t retry_cap_ms;
    uint64_t max_upload;
    char registry[16];    /* "sqlite" (embedded) or "webapp" (the crowdAI webapp's API) */
    char webapp_url[512]; /* registry webapp: the webapp's base URL */
    char webapp_key[256]; /* registry webapp: its API key (never logged) */
    uint64_t webapp_timeout_ms;
    uint64_t webapp_key_cache_ms;
    char gen2[300]; /* the Gen-2 grader bridge: POOL=HOST:PORT/DB/NAMESPACE[/CAPACITY], or "" */
    /* Browser origins allowed on /socket.io/ besides the broker's own (parsed once here;
     * empty: same origin only). Broker mode only. */
    struct origin_list allowed_origins;
};

/* Fills cfg from argv. Returns 0, 1 when --help was printed, or -1 after printing an error
 * to stderr. */
int config_parse(struct config *cfg, int argc, char **argv);
void config_usage(const char *prog);

#endif
