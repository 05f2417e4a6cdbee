/* The broker's settings: defaults, then command-line flags. */
#include "app/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct number_flag {
    const char *name;
    size_t offset;
    int is_u64;
    unsigned long long min, max;
    const char *help;
};

#define U64_FLAG(n, field, lo, hi, h)                                                              \
    {                                                                                              \
        n, offsetof(struct config, field), 1, lo, hi, h                                            \
    }
#define SIZE_FLAG(n, field, lo, hi, h)                                                             \
    {                                                                                              \
        n, offsetof(struct config, field), 0, lo, hi, h                                            \
    }

static const struct number_flag number_flags[] = {
    U64_FLAG("--ping-interval", ping_interval_ms, 10, 3600000, "ms between server pings"),
    U64_FLAG("--ping-timeout", ping_timeout_ms, 10, 3600000, "ms to wait for a pong"),
    U64_FLAG("--upgrade-timeout", upgrade_timeout_ms, 10, 3600000, "ms to finish an upgrade"),
    U64_FLAG("--connect-timeout", connect_timeout_ms, 10, 3600000,
             "ms for a client to join a namespace"),
    U64_FLAG("--header-timeout", header_timeout_ms, 10, 3600000,
             "ms to send a request's headers, or to stay idle between requests"),
    SIZE_FLAG("--max-payload", max_payload, 16, 1u << 30, "bytes in one message or POST"),
    SIZE_FLAG("--max-header-bytes", max_header_bytes, 256, 1u << 20, "bytes of request headers"),
    SIZE_FLAG("--max-headers", max_headers, 4, 10000, "request header count"),
    SIZE_FLAG("--max-connections", max_connections, 1, 1000000, "open TCP connections"),
    SIZE_FLAG("--max-output", max_output, 1024, 1u << 30,
              "bytes queued to a client that does not read"),
    SIZE_FLAG("--max-packets", max_packets, 1, 100000, "packets in one polling POST"),
    U64_FLAG("--lease", lease_ms, 100, 3600000,
             "ms a grader may stay silent about a job before it is requeued"),
    U64_FLAG("--janitor", janitor_ms, 10, 600000, "ms between passes over expired leases"),
    U64_FLAG("--waiting-repeat", waiting_repeat_ms, 100, 3600000,
             "ms between repeats of WAITING while no grader serves a submission's pool"),
    U64_FLAG("--token-ttl", token_ttl_ms, 1000, 31536000000ULL, "ms a session token lasts"),
    U64_FLAG("--retry-base", retry_base_ms, 1, 3600000,
             "ms before the first retry of a retryable grader failure (doubles each time)"),
    U64_FLAG("--retry-cap", retry_cap_ms, 1, 86400000, "longest wait before a retry, in ms"),
    U64_FLAG("--max-upload", max_upload, 1, 1ULL << 40,
             "bytes in one uploaded file, whatever a challenge allows"),
    U64_FLAG("--webapp-timeout", webapp_timeout_ms, 100, 600000,
             "ms for one request to the webapp (registry webapp)"),
    U64_FLAG("--webapp-key-cache", webapp_key_cache_ms, 0, 86400000,
             "ms a participant key the webapp said is valid is trusted without asking"),
};

static void set_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
    cfg->port = 8080;
    cfg->ping_interval_ms = 25000;
    cfg->ping_timeout_ms = 20000;
    cfg->upgrade_timeout_ms = 10000;
    cfg->connect_timeout_ms = 45000;
    cfg->header_timeout_ms = 10000;
    cfg->max_payload = 1000000;
    cfg->max_header_bytes = 16384;
    cfg->max_headers = 100;
    cfg->max_connections = 10000;
    cfg->max_output = 4 * 1024 * 1024;
    cfg->max_packets = 1024;
    cfg->max_attachments = 10;
    cfg->log_level = LOG_INFO;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "data");
    snprintf(cfg->redis_server, sizeof(cfg->redis_server), "redis-server");
    cfg->lease_ms = 30000;
    cfg->janitor_ms = 2000;
    cfg->waiting_repeat_ms = 30000;
    cfg->token_ttl_ms = 48ULL * 3600 * 1000;
    cfg->retry_base_ms = 2000;
    cfg->retry_cap_ms = 300000;
    cfg->max_upload = 1ULL << 30;
    snprintf(cfg->registry, sizeof(cfg->registry), "sqlite");
    cfg->webapp_timeout_ms = 10000;
    cfg->webapp_key_cache_ms = 60000;
}

/* The official suites' timings and port. */
static void set_conformance_defaults(struct config *cfg)
{
    cfg->port = 3000;
    cfg->ping_interval_ms = 300;
    cfg->ping_timeout_ms = 200;
    cfg->connect_timeout_ms = 1000;
}

void config_usage(const char *prog)
{
    printf("usage: %s [--conformance] [--host ADDR] [--port N] [options]\n\n"
           "Serves Engine.IO/Socket.IO (polling and WebSocket, EIO3 and EIO4).\n"
           "  --config FILE        read settings from FILE: \"name = value\" lines, names as\n"
           "                       the flags below without \"--\" (flags given here win)\n"
           "  --conformance        serve what the official protocol test suites expect\n"
           "                       (port 3000, ping 300/200 ms, connect timeout 1000 ms)\n"
           "  --host ADDR          address to listen on (default 127.0.0.1)\n"
           "  --port N             port (default 8080; 0 picks a free one)\n"
           "  --max-attachments N  binary attachments in one packet (default 10)\n"
           "  --log-level LEVEL    error, warn, info or debug (default info)\n"
           "  --data DIR           data directory: registry, secret, private Redis (default data)\n"
           "  --redis HOST:PORT    use this Redis instead of starting a private redis-server\n"
           "  --redis-server PATH  the redis-server binary for the private one\n"
           "  --registry KIND      sqlite (default) or webapp: the crowdAI webapp's API decides\n"
           "                       keys, quotas and scores (docs/webapp.md)\n"
           "  --webapp-url URL     the webapp, e.g. https://www.crowdai.org (registry webapp)\n"
           "  --webapp-key KEY     the webapp's API key (registry webapp; better in --config)\n"
           "  --gen2 POOL=HOST:PORT/DB/NAMESPACE[/CAPACITY]\n"
           "                       also feed crowdAI Gen-2 graders (Redis lists) with POOL's jobs\n"
           "  --allowed-origins LIST\n"
           "                       browser origins allowed on /socket.io/ besides the broker's\n"
           "                       own: comma-separated scheme://host[:port], or * for any\n"
           "                       (default: same origin only; others get 403)\n",
           prog);
    for (size_t i = 0; i < sizeof(number_flags) / sizeof(number_flags[0]); i++)
        printf("  %-20s %s\n", number_flags[i].name, number_flags[i].help);
    printf("\nOnce listening it prints \"READY port=N\" on standard output.\n");
}

static int parse_number(const char *flag, const char *text, unsigned long long min,
                        unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min || v > max) {
        fprintf(stderr, "error: %s needs a whole number from %llu to %llu, not \"%s\"\n", flag, min,
                max, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* "host:port" of an external Redis. */
static int parse_redis(struct config *cfg, const char *value)
{
    const char *colon = strrchr(value, ':');
    unsigned long long port;
    size_t host_len = colon != NULL ? (size_t)(colon - value) : 0;
    if (colon == NULL || host_len == 0 || host_len >= sizeof(cfg->redis_host) ||
        parse_number("--redis port", colon + 1, 1, 65535, &port) != 0) {
        fprintf(stderr, "error: --redis needs HOST:PORT, e.g. 127.0.0.1:6379\n");
        return -1;
    }
    memcpy(cfg->redis_host, value, host_len);
    cfg->redis_host[host_len] = '\0';
    cfg->redis_port = (int)port;
    return 0;
}

/* The --allowed-origins list, parsed once: an error names the bad entry. */
static int parse_origins(struct config *cfg, const char *value)
{
    char why[160];
    if (origin_list_parse(&cfg->allowed_origins, value, why, sizeof(why)) != 0) {
        fprintf(stderr, "error: --allowed-origins: %s\n", why);
        return -1;
    }
    return 0;
}

static int parse_flag(struct config *cfg, const char *flag, const char *value)
{
    unsigned long long v;
    for (size_t i = 0; i < sizeof(number_flags) / sizeof(number_flags[0]); i++) {
        const struct number_flag *f = &number_flags[i];
        if (strcmp(flag, f->name) != 0)
            continue;
        if (parse_number(flag, value, f->min, f->max, &v) != 0)
            return -1;
        char *field = (char *)cfg + f->offset;
        if (f->is_u64)
            *(uint64_t *)(void *)field = v;
        else
            *(size_t *)(void *)field = (size_t)v;
        return 0;
    }
    if (strcmp(flag, "--host") == 0) {
        if (strlen(value) >= sizeof(cfg->host)) {
            fprintf(stderr, "error: --host is too long\n");
            return -1;
        }
        snprintf(cfg->host, sizeof(cfg->host), "%s", value);
        return 0;
    }
    if (strcmp(flag, "--port") == 0) {
        if (parse_number(flag, value, 0, 65535, &v) != 0)
            return -1;
        cfg->port = (int)v;
        return 0;
    }
    if (strcmp(flag, "--max-attachments") == 0) {
        if (parse_number(flag, value, 0, 1000, &v) != 0)
            return -1;
        cfg->max_attachments = (long)v;
        return 0;
    }
    if (strcmp(flag, "--data") == 0 || strcmp(flag, "--redis-server") == 0) {
        char *dst = flag[2] == 'd' ? cfg->data_dir : cfg->redis_server;
        size_t cap = flag[2] == 'd' ? sizeof(cfg->data_dir) : sizeof(cfg->redis_server);
        if (strlen(value) == 0 || strlen(value) >= cap) {
            fprintf(stderr, "error: %s needs a path shorter than %zu bytes\n", flag, cap);
            return -1;
        }
        snprintf(dst, cap, "%s", value);
        return 0;
    }
    if (strcmp(flag, "--redis") == 0)
        return parse_redis(cfg, value);
    if (strcmp(flag, "--registry") == 0) {
        if (strcmp(value, "sqlite") != 0 && strcmp(value, "webapp") != 0) {
            fprintf(stderr, "error: --registry is sqlite or webapp\n");
            return -1;
        }
        snprintf(cfg->registry, sizeof(cfg->registry), "%s", value);
        return 0;
    }
    if (strcmp(flag, "--webapp-url") == 0 || strcmp(flag, "--webapp-key") == 0) {
        int is_url = strcmp(flag, "--webapp-url") == 0;
        char *dst = is_url ? cfg->webapp_url : cfg->webapp_key;
        size_t cap = is_url ? sizeof(cfg->webapp_url) : sizeof(cfg->webapp_key);
        /* The value is not echoed: it may be the key. */
        if (strlen(value) == 0 || strlen(value) >= cap) {
            fprintf(stderr, "error: %s needs a value shorter than %zu bytes\n", flag, cap);
            return -1;
        }
        snprintf(dst, cap, "%s", value);
        return 0;
    }
    if (strcmp(flag, "--gen2") == 0) {
        if (strlen(value) >= sizeof(cfg->gen2)) {
            fprintf(stderr, "error: --gen2 is too long\n");
            return -1;
        }
        snprintf(cfg->gen2, sizeof(cfg->gen2), "%s", value);
        return 0;
    }
    if (strcmp(flag, "--allowed-origins") == 0)
        return parse_origins(cfg, value);
    if (strcmp(flag, "--log-level") == 0) {
        enum log_level level;
        if (log_level_parse(value, &level) != 0) {
            fprintf(stderr, "error: --log-level is one of error, warn, info, debug\n");
            return -1;
        }
        cfg->log_level = (int)level;
        return 0;
    }
    fprintf(stderr, "error: unknown option %s (see --help)\n", flag);
    return -1;
}

/* Reads "name = value" lines (names are the flags without "--"; '#' starts a comment).
 * Returns 0 or -1 after printing the file, line and problem. */
static int read_config_file(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int n = 0;
    if (f == NULL) {
        fprintf(stderr, "error: cannot read the configuration file %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        n++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *eq = strchr(line, '=');
        char *name = line, *value = eq != NULL ? eq + 1 : NULL;
        if (eq != NULL)
            *eq = '\0';
        name += strspn(name, " \t");
        name[strcspn(name, " \t\r\n")] = '\0';
        if (name[0] == '\0' && value == NULL)
            continue; /* blank or comment */
        if (value == NULL || name[0] == '\0') {
            fprintf(stderr, "error: %s:%d: expected \"name = value\"\n", path, n);
            fclose(f);
            return -1;
        }
        value += strspn(value, " \t");
        value[strcspn(value, "\r\n")] = '\0';
        for (size_t len = strlen(value);
             len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t');)
            value[--len] = '\0';
        char flag[96];
        snprintf(flag, sizeof(flag), "--%s", name);
        if (strcmp(name, "conformance") == 0 || parse_flag(cfg, flag, value) != 0) {
            fprintf(stderr, "error: %s:%d: bad setting %s\n", path, n, name);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
    set_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--conformance") == 0) {
            cfg->conformance = 1;
            set_conformance_defaults(cfg);
        }
    }
    /* The file first, so that flags on the command line win. */
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && read_config_file(cfg, argv[i + 1]) != 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--conformance") == 0)
            continue;
        if (strcmp(arg, "--config") == 0 && i + 1 < argc) {
            i++;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_usage(argv[0]);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "error: %s needs a value (see --help)\n", arg);
            return -1;
        }
        if (parse_flag(cfg, arg, argv[++i]) != 0)
            return -1;
    }
    if (!cfg->conformance && strcmp(cfg->registry, "webapp") == 0 &&
        (cfg->webapp_url[0] == '\0' || cfg->webapp_key[0] == '\0')) {
        fprintf(stderr, "error: --registry webapp needs --webapp-url and --webapp-key\n");
        return -1;
    }
    return 0;
}
