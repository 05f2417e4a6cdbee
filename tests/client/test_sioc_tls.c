/* wss:// and https:// against the server under test ($SIOC_SERVER) behind a TLS-terminating
 * Node proxy, with a throwaway self-signed certificate for "localhost" made by the openssl
 * command: verified against it as CA, refused without it or for another host name, and
 * accepted unverified when asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_fixture.h"
#include "loop_util.h"
#include "server_proc.h"

#define WAIT_MS 15000

struct tls_setup {
    char dir[64];
    char cert[128];
    char key[128];
    struct server_proc server;
    struct server_proc proxy;
};

static void tls_start(struct tls_setup *t)
{
    char cmd[1024], script[512], target[16];
    scratch_dir(t->dir, sizeof(t->dir));
    snprintf(t->cert, sizeof(t->cert), "%s/cert.pem", t->dir);
    snprintf(t->key, sizeof(t->key), "%s/key.pem", t->dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost "
             "-keyout %s -out %s >/dev/null 2>&1",
             t->key, t->cert);
    if (system(cmd) != 0)
        test_fail(__FILE__, __LINE__, "openssl could not make a certificate");
    server_start(&t->server, 0);
    snprintf(script, sizeof(script), "%s/tests/client/tls-proxy.mjs", repo_root());
    snprintf(target, sizeof(target), "%d", t->server.port);
    char *argv[] = {"node", script, "--cert", t->cert, "--key", t->key, "--target", target, NULL};
    server_spawn(&t->proxy, argv);
}

static void tls_stop(struct tls_setup *t)
{
    server_kill(&t->proxy);
    server_kill(&t->server);
    scratch_remove(t->dir);
    loop_finish();
}

static void url_for(char *out, size_t len, const char *scheme, const char *host, int port)
{
    snprintf(out, len, "%s://%s:%d/", scheme, host, port);
}

/* Connects "/" and checks an ack round trip with a binary attachment through TLS. */
static void check_round_trip(struct fx *fx)
{
    unsigned char bytes[40000];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i ^ (i >> 8));
    struct sioc_binary att = {bytes, sizeof(bytes)};
    struct fx_socket *root = fx_socket(fx, "/", "{\"via\":\"tls\"}");
    ASSERT_EQ(sioc_client_connect(fx->c), 0);
    RUN_UNTIL(root->connects == 1 && fx_count(root, "auth") == 1, WAIT_MS);
    ASSERT_STR_EQ(fx_event(root, "auth", 0)->args, "[{\"via\":\"tls\"}]");
    struct fx_ack ack;
    fx_call(root, "message-with-ack", "[\"secure\",{\"_placeholder\":true,\"num\":0}]", &att, 1,
            &ack);
    ASSERT_TRUE(ack.err == NULL);
    ASSERT_STR_EQ(ack.args, "[\"secure\",{\"_placeholder\":true,\"num\":0}]");
    ASSERT_EQ(ack.n_att, 1);
    ASSERT_MEM_EQ(ack.att[0].data, ack.att[0].len, bytes, sizeof(bytes));
    fx_ack_release(&ack);
}

TEST(tls_verified_with_ca_file)
{
    struct tls_setup t;
    struct fx fx;
    struct sioc_options opts;
    char url[128];
    tls_start(&t);
    sioc_options_init(&opts);
    opts.ca_file = t.cert;
    url_for(url, sizeof(url), "wss", "localhost", t.proxy.port);
    fx_init(&fx, url, &opts);
    check_round_trip(&fx);
    /* Heartbeats go through TLS too. */
    RUN_UNTIL(sioc_client_stats(fx.c)->pings >= 2, WAIT_MS);
    ASSERT_EQ(fx.disconnects, 0);
    sioc_client_disconnect(fx.c);
    RUN_UNTIL(fx.disconnects == 1, WAIT_MS);
    ASSERT_TRUE(fx.disconnect_reason == sioc_reason_io_client_disconnect);
    fx_free(&fx);
    tls_stop(&t);
}

TEST(tls_https_scheme_is_tls_too)
{
    struct tls_setup t;
    struct fx fx;
    struct sioc_options opts;
    char url[128];
    tls_start(&t);
    sioc_options_init(&opts);
    opts.ca_file = t.cert;
    url_for(url, sizeof(url), "https", "localhost", t.proxy.port);
    fx_init(&fx, url, &opts);
    check_round_trip(&fx);
    fx_free(&fx);
    tls_stop(&t);
}

TEST(tls_untrusted_certificate_is_refused)
{
    struct tls_setup t;
    struct fx fx;
    struct sioc_options opts;
    char url[128];
    tls_start(&t);
    sioc_options_init(&opts);
    opts.reconnect = 0; /* the system's CA store does not know our certificate */
    url_for(url, sizeof(url), "wss", "localhost", t.proxy.port);
    fx_init(&fx, url, &opts);
    struct fx_socket *root = fx_socket(&fx, "/", NULL);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_tls_error);
    ASSERT_TRUE(strstr(fx.connect_error_detail, "certificate verify failed") != NULL);
    ASSERT_EQ(fx.opens, 0);
    ASSERT_EQ(root->connects, 0);
    fx_free(&fx);
    tls_stop(&t);
}

TEST(tls_wrong_host_name_is_refused)
{
    struct tls_setup t;
    struct fx fx;
    struct sioc_options opts;
    char url[128];
    tls_start(&t);
    sioc_options_init(&opts);
    opts.ca_file = t.cert; /* trusted, but issued for "localhost", not 127.0.0.1 */
    opts.reconnect = 0;
    url_for(url, sizeof(url), "wss", "127.0.0.1", t.proxy.port);
    fx_init(&fx, url, &opts);
    ASSERT_EQ(sioc_client_connect(fx.c), 0);
    RUN_UNTIL(fx.connect_errors == 1, WAIT_MS);
    ASSERT_TRUE(fx.connect_error_reason == sioc_reason_tls_error);
    ASSERT_TRUE(strstr(fx.connect_error_detail, "mismatch") != NULL);
    ASSERT_EQ(fx.opens, 0);
    fx_free(&fx);
    tls_stop(&t);
}

TEST(tls_insecure_skips_verification)
{
    struct tls_setup t;
    struct fx fx;
    struct sioc_options opts;
    char url[128];
    tls_start(&t);
    sioc_options_init(&opts);
    opts.tls_insecure = 1;
    url_for(url, sizeof(url), "wss", "127.0.0.1", t.proxy.port);
    fx_init(&fx, url, &opts);
    check_round_trip(&fx);
    fx_free(&fx);
    tls_stop(&t);
}

TEST(tls_missing_ca_file_fails_at_creation)
{
    struct sioc_options opts;
    struct sioc_client *c = (struct sioc_client *)&opts; /* must be reset to NULL */
    sioc_options_init(&opts);
    opts.ca_file = "/nonexistent/ca.pem";
    ASSERT_EQ(sioc_client_new(test_loop(), "wss://localhost/", &opts, NULL, NULL, &c),
              SIOC_ERR_TLS);
    ASSERT_TRUE(c == NULL);
    /* Plain URLs never load it. */
    ASSERT_EQ(sioc_client_new(test_loop(), "ws://localhost/", &opts, NULL, NULL, &c), 0);
    sioc_client_close(c, NULL);
    loop_finish();
}
