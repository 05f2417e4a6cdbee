/* Conformance mode handlers; see docs/CONFORMANCE.md. */
#include "app/conformance.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

#define SERVER_ACK_TIMEOUT_MS 5000

/* ---- raw Engine.IO echo ---- */

static void echo_open(struct eio_session *s, const struct http_request *req, void *ud)
{
    (void)s, (void)req, (void)ud;
}

static void echo_message(struct eio_session *s, int binary, const char *data, size_t len, void *ud)
{
    (void)ud;
    eio_session_send(s, binary, data, len);
}

static void echo_close(struct eio_session *s, const char *reason, void *ud)
{
    (void)s, (void)reason, (void)ud;
}

const struct eio_callbacks conformance_echo_callbacks = {echo_open, echo_message, echo_close};

/* ---- Socket.IO handlers ---- */

/* The first argument when it is a string without escapes (a room name), else NULL; *rest
 * points at the remaining arguments. The result is allocated. */
static char *first_string_arg(const struct sio_event *ev, const char **rest, size_t *rest_len)
{
    const char *a = ev->args;
    size_t n = ev->args_len;
    if (n < 2 || a[0] != '"')
        return NULL;
    const char *close = memchr(a + 1, '"', n - 1);
    if (close == NULL || memchr(a + 1, '\\', (size_t)(close - a - 1)) != NULL)
        return NULL;
    const char *after = close + 1;
    size_t left = n - (size_t)(after - a);
    while (left > 0 && (*after == ',' || *after == ' ')) {
        after++;
        left--;
    }
    *rest = after;
    *rest_len = left;
    return xmemdup0(a + 1, (size_t)(close - a - 1));
}

static const char *on_check(struct sio_socket *sock, const char *auth, size_t len, void *ud)
{
    (void)sock, (void)ud;
    /* The project's extra: {"reject": true} is refused. Matched on the compact form that
     * every client library sends. */
    const char *needle = "\"reject\":true";
    size_t nlen = strlen(needle);
    for (size_t i = 0; i + nlen <= len; i++) {
        if (memcmp(auth + i, needle, nlen) == 0)
            return "Not authorized";
    }
    return NULL;
}

static void on_connected(struct sio_socket *sock, const char *auth, size_t len, void *ud)
{
    (void)ud;
    sio_socket_emit(sock, "auth", auth, len, NULL, 0);
}

static void on_message(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ud;
    sio_socket_emit(sock, "message-back", ev->args, ev->args_len, ev->bins, ev->nbins);
}

static void on_message_with_ack(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ud;
    if (ev->ack_id != SIO_NO_ACK)
        sio_socket_ack(sock, ev->ack_id, ev->args, ev->args_len, ev->bins, ev->nbins);
}

static void on_server_ack_reply(struct sio_socket *sock, const struct sio_event *reply, void *ud)
{
    (void)ud;
    if (reply != NULL)
        sio_socket_emit(sock, "server-ack-result", reply->args, reply->args_len, reply->bins,
                        reply->nbins);
    else
        sio_socket_emit(sock, "server-ack-timeout", "", 0, NULL, 0);
}

static void on_server_ack_please(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ud;
    sio_socket_emit_ack(sock, "server-ack-request", ev->args, ev->args_len, ev->bins, ev->nbins,
                        on_server_ack_reply, NULL, SERVER_ACK_TIMEOUT_MS);
}

static void on_join_or_leave(struct sio_socket *sock, const struct sio_event *ev, int join)
{
    const char *rest;
    size_t rest_len;
    char *room = first_string_arg(ev, &rest, &rest_len);
    if (room == NULL)
        return;
    if (join)
        sio_socket_join(sock, room);
    else
        sio_socket_leave(sock, room);
    if (ev->ack_id != SIO_NO_ACK) {
        size_t token_len = strlen(room) + 2; /* the quoted room name, as it came */
        sio_socket_ack(sock, ev->ack_id, ev->args, token_len, NULL, 0);
    }
    free(room);
}

static void on_join(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ud;
    on_join_or_leave(sock, ev, 1);
}

static void on_leave(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ud;
    on_join_or_leave(sock, ev, 0);
}

static void on_to_room(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct sio_namespace *nsp = ud;
    const char *rest;
    size_t rest_len;
    char *room = first_string_arg(ev, &rest, &rest_len);
    (void)sock;
    if (room == NULL)
        return;
    sio_room_emit(nsp, room, "room-message", rest, rest_len, ev->bins, ev->nbins);
    free(room);
}

static void on_broadcast(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct sio_namespace *nsp = ud;
    (void)sock;
    sio_namespace_emit(nsp, "broadcast-message", ev->args, ev->args_len, ev->bins, ev->nbins);
}

static void on_disconnect_me(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    (void)ev, (void)ud;
    sio_socket_disconnect(sock);
}

static void install(struct sio_namespace *nsp)
{
    sio_namespace_on_connect(nsp, on_check, on_connected, NULL);
    sio_namespace_on(nsp, "message", on_message, NULL);
    sio_namespace_on(nsp, "message-with-ack", on_message_with_ack, NULL);
    sio_namespace_on(nsp, "server-ack-please", on_server_ack_please, NULL);
    sio_namespace_on(nsp, "join", on_join, NULL);
    sio_namespace_on(nsp, "leave", on_leave, NULL);
    sio_namespace_on(nsp, "to-room", on_to_room, nsp);
    sio_namespace_on(nsp, "broadcast", on_broadcast, nsp);
    sio_namespace_on(nsp, "disconnect-me", on_disconnect_me, NULL);
}

void conformance_install(struct sio_server *sio)
{
    install(sio_server_of(sio, "/"));
    install(sio_server_of(sio, "/custom"));
}
