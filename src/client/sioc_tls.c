/* TLS over memory BIOs; see sioc_tls.h. */
#include "client/sioc_tls.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

struct sioc_tls_ctx {
    SSL_CTX *ssl_ctx;
    int insecure;
};

struct sioc_tls {
    SSL *ssl;
    BIO *rbio; /* ciphertext from the network, read by OpenSSL */
    BIO *wbio; /* ciphertext from OpenSSL, to write to the network */
};

/* The first queued OpenSSL error as text, or fallback. */
static void ssl_error(char *err, size_t errlen, const char *fallback)
{
    unsigned long e = ERR_get_error();
    if (e != 0)
        ERR_error_string_n(e, err, errlen);
    else
        snprintf(err, errlen, "%s", fallback);
    ERR_clear_error();
}

struct sioc_tls_ctx *sioc_tls_ctx_new(const char *ca_file, int insecure, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
    if (sc == NULL) {
        ssl_error(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION);
    SSL_CTX_set_mode(sc, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(sc, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (!insecure) {
        int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(sc, ca_file, NULL)
                                 : SSL_CTX_set_default_verify_paths(sc);
        if (ok != 1) {
            ssl_error(err, errlen, "cannot load the CA certificates");
            SSL_CTX_free(sc);
            return NULL;
        }
    }
    struct sioc_tls_ctx *ctx = xcalloc(1, sizeof(*ctx));
    ctx->ssl_ctx = sc;
    ctx->insecure = insecure;
    return ctx;
}

void sioc_tls_ctx_free(struct sioc_tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

static int is_ip_literal(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

struct sioc_tls *sioc_tls_new(struct sioc_tls_ctx *ctx, const char *host)
{
    struct sioc_tls *t = xcalloc(1, sizeof(*t));
    t->ssl = SSL_new(ctx->ssl_ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL)
        abort(); /* only fails without memory */
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_connect_state(t->ssl);
    int ip = is_ip_literal(host);
    if (!ip)
        SSL_set_tlsext_host_name(t->ssl, host);
    if (!ctx->insecure) {
        X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
        if (ip)
            X509_VERIFY_PARAM_set1_ip_asc(param, host);
        else
            SSL_set1_host(t->ssl, host);
    }
    return t;
}

void sioc_tls_free(struct sioc_tls *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl); /* frees both BIOs */
    free(t);
}

int sioc_tls_feed(struct sioc_tls *t, const void *data, size_t len)
{
    if (len > INT_MAX)
        return -1;
    return BIO_write(t->rbio, data, (int)len) == (int)len ? 0 : -1;
}

int sioc_tls_handshake(struct sioc_tls *t, char *err, size_t errlen)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1)
        return 1;
    int e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    long verify = SSL_get_verify_result(t->ssl);
    if (verify != X509_V_OK) {
        snprintf(err, errlen, "certificate verify failed: %s",
                 X509_verify_cert_error_string(verify));
        ERR_clear_error();
    } else {
        ssl_error(err, errlen, "TLS handshake failed");
    }
    return -1;
}

int sioc_tls_read(struct sioc_tls *t, void *out, size_t cap, char *err, size_t errlen)
{
    ERR_clear_error();
    int rc = SSL_read(t->ssl, out, cap > INT_MAX ? INT_MAX : (int)cap);
    if (rc > 0)
        return rc;
    int e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(err, errlen, "server closed the TLS session");
    else
        ssl_error(err, errlen, "TLS read failed");
    return -1;
}

int sioc_tls_write(struct sioc_tls *t, const void *data, size_t len)
{
    const char *p = data;
    ERR_clear_error();
    while (len > 0) {
        int chunk = len > (1 << 30) ? (1 << 30) : (int)len;
        int rc = SSL_write(t->ssl, p, chunk);
        if (rc <= 0) {
            ERR_clear_error();
            return -1;
        }
        p += rc;
        len -= (size_t)rc;
    }
    return 0;
}

void sioc_tls_shutdown(struct sioc_tls *t)
{
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}

char *sioc_tls_take_output(struct sioc_tls *t, size_t *len)
{
    size_t pending = BIO_ctrl_pending(t->wbio);
    if (pending == 0 || pending > INT_MAX)
        return NULL;
    char *out = xmalloc(pending);
    int n = BIO_read(t->wbio, out, (int)pending);
    if (n <= 0) {
        free(out);
        return NULL;
    }
    *len = (size_t)n;
    return out;
}
