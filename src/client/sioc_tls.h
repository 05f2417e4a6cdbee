/* TLS for the client with OpenSSL memory BIOs and no I/O of its own: ciphertext read from
 * the socket is fed in, plaintext comes out, plaintext to send goes in and ciphertext to
 * write comes out. The peer is verified (chain and host name) unless told otherwise. */
#ifndef CLIENT_SIOC_TLS_H
#define CLIENT_SIOC_TLS_H

#include <stddef.h>

struct sioc_tls_ctx;
struct sioc_tls;

#define SIOC_TLS_ERR_LEN 256

/* A context for every connection of one client: ca_file (PEM) or, when NULL, the system's
 * CA store; insecure turns verification off. Returns NULL with err filled on failure. */
struct sioc_tls_ctx *sioc_tls_ctx_new(const char *ca_file, int insecure, char *err, size_t errlen);
void sioc_tls_ctx_free(struct sioc_tls_ctx *ctx);

/* A client session for host (SNI and the name or address its certificate must match). */
struct sioc_tls *sioc_tls_new(struct sioc_tls_ctx *ctx, const char *host);
void sioc_tls_free(struct sioc_tls *t);

/* Hands over ciphertext read from the network. Returns 0 or -1. */
int sioc_tls_feed(struct sioc_tls *t, const void *data, size_t len);
/* Advances the handshake: 1 done, 0 waiting for the peer, -1 failed (reason in err). */
int sioc_tls_handshake(struct sioc_tls *t, char *err, size_t errlen);
/* Reads decrypted bytes into out: returns how many (> 0), 0 when none are ready, or -1 when
 * the peer closed the TLS session or broke it (reason in err). */
int sioc_tls_read(struct sioc_tls *t, void *out, size_t cap, char *err, size_t errlen);
/* Encrypts data. Returns 0 or -1. */
int sioc_tls_write(struct sioc_tls *t, const void *data, size_t len);
/* Queues a close_notify alert. */
void sioc_tls_shutdown(struct sioc_tls *t);
/* Takes the ciphertext waiting to be written: a malloc'd block the caller frees, or NULL
 * when there is none. */
char *sioc_tls_take_output(struct sioc_tls *t, size_t *len);

#endif
