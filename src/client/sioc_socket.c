/* Namespaces on the client: joining and leaving them, event handlers, and encoding what the
 * client sends (CONNECT with auth, DISCONNECT, EVENT/BINARY_EVENT, ACK/BINARY_ACK) with
 * sio_packet's header encoder and checked JSON arguments. */
#include <stdlib.h>
#include <string.h>

#include "client/sioc_internal.h"
#include "client/sioc_json.h"
#include "core/json_check.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "socketio/sio_packet.h"

static const char *const reserved_events[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

/* ---- Lookup and lifetime ---- */

struct sioc_socket *sioc_socket_find(struct sioc_client *c, const char *nsp, size_t len)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->sockets)
    {
        struct sioc_socket *s = container_of(pos, struct sioc_socket, link);
        if (strlen(s->nsp) == len && memcmp(s->nsp, nsp, len) == 0)
            return s;
    }
    return NULL;
}

static int valid_namespace(const char *nsp)
{
    size_t len = nsp != NULL ? strnlen(nsp, SIOC_MAX_NSP + 1) : 0;
    if (len == 0 || len > SIOC_MAX_NSP || nsp[0] != '/' || !utf8_valid(nsp, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)nsp[i] < 0x20 || nsp[i] == ',' || nsp[i] == '?')
            return 0;
    }
    return 1;
}

struct sioc_socket *sioc_client_socket(struct sioc_client *c, const char *nsp)
{
    if (c->state == CS_FREEING || !valid_namespace(nsp))
        return NULL;
    struct sioc_socket *s = sioc_socket_find(c, nsp, strlen(nsp));
    if (s != NULL)
        return s;
    s = xcalloc(1, sizeof(*s));
    s->client = c;
    s->nsp = xstrdup(nsp);
    s->state = SS_IDLE;
    list_init(&s->handlers);
    list_insert_tail(&c->sockets, &s->link);
    return s;
}

void sioc_socket_free(struct sioc_socket *s)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &s->handlers)
    {
        struct sioc_handler *h = container_of(pos, struct sioc_handler, link);
        list_remove(&h->link);
        free(h->name);
        free(h);
    }
    list_remove(&s->link);
    free(s->nsp);
    free(s->auth);
    free(s->sid);
    free(s);
}

void sioc_socket_set_callbacks(struct sioc_socket *s, const struct sioc_socket_callbacks *cbs,
                               void *ud)
{
    if (cbs != NULL)
        s->cbs = *cbs;
    else
        memset(&s->cbs, 0, sizeof(s->cbs));
    s->ud = ud;
}

int sioc_socket_is_connected(const struct sioc_socket *s)
{
    return s->state == SS_CONNECTED;
}

const char *sioc_socket_namespace(const struct sioc_socket *s)
{
    return s->nsp;
}

const char *sioc_socket_id(const struct sioc_socket *s)
{
    return s->state == SS_CONNECTED ? s->sid : NULL;
}

struct sioc_client *sioc_socket_client(const struct sioc_socket *s)
{
    return s->client;
}

/* ---- Handlers ---- */

void sioc_socket_on(struct sioc_socket *s, const char *name, sioc_event_cb cb, void *ud)
{
    struct list *pos, *tmp;
    if (name == NULL)
        return;
    list_for_each_safe(pos, tmp, &s->handlers)
    {
        struct sioc_handler *h = container_of(pos, struct sioc_handler, link);
        if (strcmp(h->name, name) == 0) {
            h->cb = cb;
            h->ud = ud;
            return;
        }
    }
    if (cb == NULL)
        return;
    struct sioc_handler *h = xcalloc(1, sizeof(*h));
    h->name = xstrdup(name);
    h->cb = cb;
    h->ud = ud;
    list_insert_tail(&s->handlers, &h->link);
}

void sioc_socket_on_any(struct sioc_socket *s, sioc_event_cb cb, void *ud)
{
    s->any_cb = cb;
    s->any_ud = ud;
}

/* ---- Encoding ---- */

static int reserved_name(const char *name)
{
    for (size_t i = 0; i < sizeof(reserved_events) / sizeof(reserved_events[0]); i++) {
        if (strcmp(reserved_events[i], name) == 0)
            return 1;
    }
    return 0;
}

/* Checks args (a JSON array with one placeholder per attachment, numbered from 0). */
static int check_args(const char *args, size_t len, size_t n_attachments, struct json_info *ji)
{
    if (!utf8_valid(args, len) || json_check(args, len, JSON_CHECK_MAX_DEPTH, ji) != 0 ||
        ji->top != '[')
        return SIOC_ERR_BAD_JSON;
    if (ji->bad_placeholder || ji->placeholders != n_attachments ||
        ji->max_placeholder != (long)n_attachments - 1)
        return SIOC_ERR_BAD_ARGUMENT;
    return 0;
}

/* Encodes an EVENT (name non-NULL) or an ACK packet into out (capped to what one message
 * may hold). */
static int encode(struct buf *out, const struct sioc_socket *s, const char *name, long long ack_id,
                  const char *args, size_t n_attachments)
{
    struct json_info ji;
    if (args == NULL)
        args = "[]";
    size_t len = strlen(args);
    int rc = check_args(args, len, n_attachments, &ji);
    if (rc != 0)
        return rc;
    if (n_attachments > s->client->opts.max_attachments)
        return SIOC_ERR_BAD_ARGUMENT;
    int binary = n_attachments > 0;
    enum sio_type type = name != NULL ? (binary ? SIO_BINARY_EVENT : SIO_EVENT)
                                      : (binary ? SIO_BINARY_ACK : SIO_ACK);
    if (sio_packet_header(out, type, (long)n_attachments, s->nsp, ack_id) != 0)
        return SIOC_ERR_TOO_BIG;
    if (name == NULL)
        return buf_append(out, args, len) == 0 ? 0 : SIOC_ERR_TOO_BIG;
    if (buf_append_char(out, '[') != 0 || sioc_json_quote(out, name, strlen(name)) != 0)
        return SIOC_ERR_TOO_BIG;
    if (ji.elems > 0 && (buf_append_char(out, ',') != 0 ||
                         buf_append(out, args + ji.first_start, ji.rest_end - ji.first_start) != 0))
        return SIOC_ERR_TOO_BIG;
    return buf_append_char(out, ']') == 0 ? 0 : SIOC_ERR_TOO_BIG;
}

static int check_name(const char *name)
{
    if (name == NULL || !utf8_valid(name, strlen(name)) || reserved_name(name))
        return SIOC_ERR_BAD_ARGUMENT;
    return 0;
}

static int check_attachments(const struct sioc_binary *att, size_t n)
{
    if (n > 0 && att == NULL)
        return SIOC_ERR_BAD_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (att[i].data == NULL && att[i].len > 0)
            return SIOC_ERR_BAD_ARGUMENT;
    }
    return 0;
}

/* Encodes and sends an event or an ack. */
static int send_packet(struct sioc_socket *s, const char *name, long long ack_id, const char *args,
                       const struct sioc_binary *att, size_t n)
{
    struct sioc_client *c = s->client;
    int rc = check_attachments(att, n);
    if (rc != 0)
        return rc;
    struct buf out;
    buf_init(&out, c->opts.max_message - 1); /* the Engine.IO type byte comes first */
    rc = encode(&out, s, name, ack_id, args, n);
    if (rc == 0)
        rc = sioc_client_send(c, out.data, out.len, att, n);
    buf_release(&out);
    return rc;
}

/* CONNECT and DISCONNECT: no arguments, never big. */
static void send_control(struct sioc_socket *s, enum sio_type type)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    sio_packet_header(&out, type, 0, s->nsp, SIO_NO_ACK);
    if (type == SIO_CONNECT && s->auth != NULL) {
        buf_append_str(&out, s->auth);
    }
    if (sioc_client_send(s->client, out.data, out.len, NULL, 0) != 0)
        log_info(SIOC_LOG, "could not send packet type=%d nsp=%s", (int)type, s->nsp);
    buf_release(&out);
}

/* ---- Joining and leaving ---- */

int sioc_socket_connect(struct sioc_socket *s, const char *auth_json)
{
    struct sioc_client *c = s->client;
    struct json_info ji;
    if (c->state == CS_FREEING)
        return SIOC_ERR_STATE;
    if (auth_json != NULL) {
        size_t len = strlen(auth_json);
        if (!utf8_valid(auth_json, len) ||
            json_check(auth_json, len, JSON_CHECK_MAX_DEPTH, &ji) != 0 || ji.top != '{')
            return SIOC_ERR_BAD_JSON;
        if (len + SIOC_MAX_NSP + 8 > c->opts.max_message)
            return SIOC_ERR_TOO_BIG;
    }
    free(s->auth);
    s->auth = auth_json != NULL ? xstrdup(auth_json) : NULL;
    s->active = 1;
    if (c->state == CS_OPEN && s->state == SS_IDLE) {
        s->state = SS_CONNECTING;
        send_control(s, SIO_CONNECT);
    }
    return 0;
}

void sioc_socket_lost(struct sioc_socket *s, const char *reason)
{
    int was_connected = s->state == SS_CONNECTED;
    s->active = 0;
    s->state = SS_IDLE;
    free(s->sid);
    s->sid = NULL;
    sioc_ack_fail(s->client, s, sioc_err_disconnected);
    if (was_connected && s->cbs.on_disconnect != NULL)
        s->cbs.on_disconnect(s, reason, s->ud);
}

void sioc_socket_disconnect(struct sioc_socket *s)
{
    struct sioc_client *c = s->client;
    if (c->state == CS_FREEING)
        return;
    if (s->state != SS_IDLE && c->state == CS_OPEN)
        send_control(s, SIO_DISCONNECT);
    sioc_socket_lost(s, sioc_reason_io_client_disconnect);
}

void sioc_sockets_on_open(struct sioc_client *c)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->sockets)
    {
        struct sioc_socket *s = container_of(pos, struct sioc_socket, link);
        if (s->active && s->state == SS_IDLE && c->state == CS_OPEN) {
            s->state = SS_CONNECTING;
            send_control(s, SIO_CONNECT);
        }
    }
}

void sioc_sockets_on_lost(struct sioc_client *c, const char *reason)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->sockets)
    {
        struct sioc_socket *s = container_of(pos, struct sioc_socket, link);
        int was_connected = s->state == SS_CONNECTED;
        s->state = SS_IDLE;
        free(s->sid);
        s->sid = NULL;
        if (was_connected && s->cbs.on_disconnect != NULL)
            s->cbs.on_disconnect(s, reason, s->ud);
    }
}

void sioc_sockets_leave_all(struct sioc_client *c)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &c->sockets)
    {
        struct sioc_socket *s = container_of(pos, struct sioc_socket, link);
        if (s->state != SS_IDLE)
            send_control(s, SIO_DISCONNECT);
    }
}

/* ---- Emitting ---- */

static int check_connected(const struct sioc_socket *s)
{
    if (s->client->state == CS_FREEING)
        return SIOC_ERR_STATE;
    if (s->client->state != CS_OPEN || s->state != SS_CONNECTED)
        return SIOC_ERR_NOT_CONNECTED;
    return 0;
}

int sioc_socket_emit(struct sioc_socket *s, const char *name, const char *args_json,
                     const struct sioc_binary *attachments, size_t n_attachments)
{
    int rc = check_connected(s);
    if (rc == 0)
        rc = check_name(name);
    if (rc == 0)
        rc = send_packet(s, name, SIO_NO_ACK, args_json, attachments, n_attachments);
    return rc;
}

int sioc_socket_emit_ack(struct sioc_socket *s, const char *name, const char *args_json,
                         const struct sioc_binary *attachments, size_t n_attachments,
                         uint64_t timeout_ms, sioc_ack_cb cb, void *ud)
{
    struct sioc_client *c = s->client;
    int rc = check_connected(s);
    if (rc == 0)
        rc = cb != NULL ? check_name(name) : SIOC_ERR_BAD_ARGUMENT;
    if (rc != 0)
        return rc;
    long long id = c->next_ack_id;
    rc = send_packet(s, name, id, args_json, attachments, n_attachments);
    if (rc != 0)
        return rc;
    c->next_ack_id = id >= SIOC_MAX_ACK_ID ? 0 : id + 1;
    sioc_ack_add(c, s, id, timeout_ms != 0 ? timeout_ms : c->opts.ack_timeout_ms, cb, ud);
    return 0;
}

int sioc_socket_ack(struct sioc_socket *s, struct sioc_ack_ref ref, const char *args_json,
                    const struct sioc_binary *attachments, size_t n_attachments)
{
    int rc = check_connected(s);
    if (rc != 0)
        return rc;
    if (ref.id < 0 || ref.id > SIOC_MAX_ACK_ID)
        return SIOC_ERR_BAD_ARGUMENT;
    if (ref.session != s->client->session)
        return SIOC_ERR_NOT_CONNECTED;
    return send_packet(s, NULL, ref.id, args_json, attachments, n_attachments);
}
