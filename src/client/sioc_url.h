/* Parsing of the server URL given to the client (ws, wss, http, https) into what the
 * connection needs: host, port, TLS or not, the Host header and the request target with
 * Engine.IO's query parameters. Pure functions. */
#ifndef CLIENT_SIOC_URL_H
#define CLIENT_SIOC_URL_H

#define SIOC_URL_MAX      2048
#define SIOC_DEFAULT_PATH "/socket.io/"

struct sioc_url {
    int tls;           /* wss:// or https:// */
    char *host;        /* name or address, without IPv6 brackets; owned */
    int port;          /* 1..65535 */
    char *host_header; /* value for the Host header; owned */
    char *target;      /* request target: path?EIO=4&transport=websocket[&query]; owned */
};

/* Parses url into *out. Returns 0, or SIOC_ERR_BAD_URL (and *out holds nothing to
 * release). */
int sioc_url_parse(const char *url, struct sioc_url *out);
void sioc_url_release(struct sioc_url *u);

#endif
