/* Broker mode's start-up and shutdown; see broker_app.h. */
#include "app/broker_app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "registry/reg_sqlite.h"
#include "registry/reg_webapp.h"
#include "web/web_routes.h"

/* Reads DIR/secret, creating it (mode 0600, random) the first time. */
static int load_secret(const char *dir, unsigned char secret[TOKEN_SECRET_LEN])
{
    char path[512];
    snprintf(path, sizeof(path), "%s/secret", dir);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, secret, TOKEN_SECRET_LEN);
        close(fd);
        if (n == TOKEN_SECRET_LEN)
            return 0;
        fprintf(stderr,
                "error: %s is shorter than %d bytes; remove it to make a new one "
                "(every session token will then be refused)\n",
                path, TOKEN_SECRET_LEN);
        return -1;
    }
    if (getrandom(secret, TOKEN_SECRET_LEN, 0) != TOKEN_SECRET_LEN)
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, secret, TOKEN_SECRET_LEN) != TOKEN_SECRET_LEN || fsync(fd) != 0) {
        fprintf(stderr, "error: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int open_queue(struct broker_app *a, uv_loop_t *loop, const struct config *cfg)
{
    struct rq_config rc;
    memset(&rc, 0, sizeof(rc));
    rc.prefix = "crowdai:";
    rc.command_timeout_ms = 5000;
    if (cfg->redis_host[0] != '\0') {
        rc.host = cfg->redis_host;
        rc.port = cfg->redis_port;
    } else {
        if (redis_proc_start(&a->redis, loop, cfg->data_dir, cfg->redis_server) != 0)
            return -1;
        a->has_redis_proc = 1;
        rc.unix_path = a->redis.socket_path;
    }
    a->rq = rq_new(loop, &rc);
    return a->rq != NULL ? 0 : -1;
}

int broker_app_start(struct broker_app *a, uv_loop_t *loop, const struct config *cfg,
                     struct sio_server *sio, struct http_server *http)
{
    unsigned char secret[TOKEN_SECRET_LEN];
    char path[512], err[256] = "";
    struct gen2_config gc;
    memset(a, 0, sizeof(*a));
    if (cfg->gen2[0] != '\0' && gen2_config_parse(cfg->gen2, &gc, err, sizeof(err)) != 0) {
        fprintf(stderr, "error: --gen2: %s\n", err);
        return -1;
    }
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "error: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
        return -1;
    }
    if (load_secret(cfg->data_dir, secret) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/registry.sqlite3", cfg->data_dir);
    if (strcmp(cfg->registry, "webapp") == 0) {
        struct reg_webapp_config wc = {
            .url = cfg->webapp_url,
            .api_key = cfg->webapp_key,
            .timeout_ms = cfg->webapp_timeout_ms,
            .key_cache_ms = (int64_t)cfg->webapp_key_cache_ms,
        };
        a->reg = reg_webapp_open(loop, path, &wc, err, sizeof(err));
    } else {
        a->reg = reg_sqlite_open(loop, path, err, sizeof(err));
    }
    if (a->reg == NULL) {
        fprintf(stderr, "error: cannot open the registry %s: %s\n", path, err);
        return -1;
    }
    if (open_queue(a, loop, cfg) != 0)
        return -1;
    struct broker_config bc = {
        .token_ttl_ms = (int64_t)cfg->token_ttl_ms,
        .lease_ms = (int64_t)cfg->lease_ms,
        .janitor_ms = cfg->janitor_ms,
        .outbox_ms = 1000,
        .retry_base_ms = (int64_t)cfg->retry_base_ms,
        .retry_cap_ms = (int64_t)cfg->retry_cap_ms,
        .waiting_repeat_ms = cfg->waiting_repeat_ms,
        .max_upload = cfg->max_upload,
    };
    broker_init(&a->broker, loop, &bc, a->reg, a->rq, sio, secret);
    if (blob_store_init(&a->broker.blobs, loop, cfg->data_dir) != 0) {
        if (a->has_redis_proc)
            redis_proc_stop(&a->redis); /* SIGTERM now: not left running after we exit */
        return -1;
    }
    broker_http_install(&a->broker, http);
    sio_server_set_origins(sio, &cfg->allowed_origins);
    web_routes_install(http);
    a->started = 1;
    if (cfg->gen2[0] != '\0')
        gen2_start(&a->broker, &gc);
    log_info("main", "broker ready data=%s redis=%s", cfg->data_dir,
             cfg->redis_host[0] ? cfg->redis_host : "private");
    return 0;
}

void broker_app_stop(struct broker_app *a)
{
    if (a->started)
        broker_stop(&a->broker);
    if (a->has_redis_proc)
        redis_proc_stop(&a->redis);
}

void broker_app_close(struct broker_app *a)
{
    if (a->rq != NULL)
        rq_free(a->rq);
    if (a->reg != NULL)
        a->reg->ops->close(a->reg);
    a->rq = NULL;
    a->reg = NULL;
}

void broker_app_release(struct broker_app *a)
{
    if (a->started)
        broker_release(&a->broker);
}
