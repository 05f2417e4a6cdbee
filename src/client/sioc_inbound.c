/* Socket.IO packets from the server: decoded and checked with sio_packet (the binary ones
 * held until their attachments have arrived), then routed to their namespace: CONNECT,
 * CONNECT_ERROR, DISCONNECT, events to their handler, acks to their callback. Anything
 * malformed ends the session with a parse error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sioc_internal.h"
#include "client/sioc_json.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "socketio/sio_packet.h"

/* ---- Per packet type ---- */

static void on_connect_packet(struct sioc_socket *s, const struct sio_packet *pkt)
{
    const char *v;
    size_t vlen;
    struct buf sid;
    if (s->state != SS_CONNECTING)
        return;
    buf_init(&sid, SIOC_MAX_NSP);
    if (pkt->data_len > 0 && sioc_json_member(pkt->data, pkt->data_len, "sid", &v, &vlen) == 0)
        sioc_json_string(v, vlen, &sid);
    free(s->sid);
    s->sid = xmemdup0(sid.data != NULL ? sid.data : "", sid.len);
    buf_release(&sid);
    s->state = SS_CONNECTED;
    if (s->cbs.on_connect != NULL)
        s->cbs.on_connect(s, s->sid, s->ud);
}

static void on_connect_error_packet(struct sioc_socket *s, const struct sio_packet *pkt)
{
    const char *v;
    size_t vlen;
    struct buf message, data;
    if (s->state != SS_CONNECTING)
        return;
    buf_init(&message, BUF_NO_CAP);
    buf_init(&data, BUF_NO_CAP);
    if (sioc_json_member(pkt->data, pkt->data_len, "message", &v, &vlen) == 0)
        sioc_json_string(v, vlen, &message);
    int has_data = sioc_json_member(pkt->data, pkt->data_len, "data", &v, &vlen) == 0;
    if (has_data)
        buf_append(&data, v, vlen);
    s->active = 0;
    s->state = SS_IDLE;
    if (s->cbs.on_connect_error != NULL)
        s->cbs.on_connect_error(s, message.data != NULL ? message.data : "",
                                has_data ? data.data : NULL, s->ud);
    buf_release(&message);
    buf_release(&data);
}

/* The arguments as a NUL-terminated JSON array in out. */
static void event_args(const struct sio_packet *pkt, struct buf *out)
{
    size_t len;
    const char *args = sio_packet_args(pkt, &len);
    buf_append_char(out, '[');
    buf_append(out, args, len);
    buf_append_char(out, ']');
}

/* The event name, decoded; a number's text if the server named the event with one. */
static void event_name(const struct sio_packet *pkt, struct buf *out)
{
    size_t len;
    const char *name = sio_packet_event_name(pkt, &len);
    if (name != NULL) {
        sioc_json_string(name - 1, len + 2, out); /* with its quotes */
        return;
    }
    const struct json_info *ji = &pkt->info;
    buf_append(out, pkt->data + ji->first_start, ji->first_end - ji->first_start);
}

static sioc_event_cb find_handler(const struct sioc_socket *s, const struct buf *name, void **ud)
{
    const struct list *pos;
    for (pos = s->handlers.next; pos != &s->handlers; pos = pos->next) {
        const struct sioc_handler *h = container_of(pos, struct sioc_handler, link);
        if (h->cb != NULL && strlen(h->name) == name->len &&
            memcmp(h->name, name->data, name->len) == 0) {
            *ud = h->ud;
            return h->cb;
        }
    }
    *ud = s->any_ud;
    return s->any_cb;
}

static void on_event(struct sioc_socket *s, const struct sio_packet *pkt,
                     const struct sioc_binary *att, size_t n)
{
    struct buf name, args;
    void *ud;
    if (s->state != SS_CONNECTED)
        return;
    buf_init(&name, BUF_NO_CAP);
    buf_init(&args, BUF_NO_CAP);
    event_name(pkt, &name);
    event_args(pkt, &args);
    if (name.data == NULL)
        buf_append_str(&name, "");
    sioc_event_cb cb = find_handler(s, &name, &ud);
    if (cb != NULL) {
        struct sioc_event ev = {
            .name = name.data,
            .msg = {args.data, args.len, att, n},
            .ack = {s->client->session, pkt->ack_id},
        };
        cb(s, &ev, ud);
    } else {
        log_debug(SIOC_LOG, "no handler for event nsp=%s name=%s", s->nsp, name.data);
    }
    buf_release(&name);
    buf_release(&args);
}

static void on_ack(struct sioc_socket *s, const struct sio_packet *pkt,
                   const struct sioc_binary *att, size_t n)
{
    struct buf args;
    buf_init(&args, BUF_NO_CAP);
    buf_append(&args, pkt->data, pkt->data_len);
    struct sioc_message reply = {args.data, args.len, att, n};
    sioc_ack_resolve(s->client, s, pkt->ack_id, &reply);
    buf_release(&args);
}

static void dispatch(struct sioc_client *c, const struct sio_packet *pkt,
                     const struct sioc_binary *att, size_t n)
{
    struct sioc_socket *s = sioc_socket_find(c, pkt->nsp, pkt->nsp_len);
    if (s == NULL) {
        log_debug(SIOC_LOG, "packet for a namespace we never joined type=%d", (int)pkt->type);
        return;
    }
    switch (pkt->type) {
    case SIO_CONNECT:
        on_connect_packet(s, pkt);
        break;
    case SIO_CONNECT_ERROR:
        on_connect_error_packet(s, pkt);
        break;
    case SIO_DISCONNECT:
        if (s->state != SS_IDLE)
            sioc_socket_lost(s, sioc_reason_io_server_disconnect);
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        on_event(s, pkt, att, n);
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        on_ack(s, pkt, att, n);
        break;
    }
}

/* ---- Decoding ---- */

/* Decodes data, which is restored before returning. CONNECT_ERROR only travels from server
 * to client, so sio_packet refuses it: it is checked as a CONNECT (namespace, then a JSON
 * object) with its type byte swapped. */
static int decode(struct sioc_client *c, char *data, size_t len, struct sio_packet *pkt)
{
    char detail[SIOC_DETAIL_LEN];
    int connect_error = len > 0 && data[0] == '0' + SIO_CONNECT_ERROR;
    if (connect_error)
        data[0] = '0' + SIO_CONNECT;
    int rc = sio_packet_decode(data, len, (long)c->opts.max_attachments, pkt);
    if (connect_error) {
        data[0] = '0' + SIO_CONNECT_ERROR;
        pkt->type = SIO_CONNECT_ERROR;
        if (rc == 0 && pkt->data_len == 0)
            rc = SIO_DECODE_BAD_PAYLOAD;
    }
    if (rc == 0)
        return 0;
    snprintf(detail, sizeof(detail), "invalid Socket.IO packet from the server: %s",
             sio_decode_error_name(rc));
    sioc_client_protocol_error(c, detail);
    return -1;
}

static void release_inbound(struct sioc_inbound *in)
{
    for (size_t i = 0; i < in->want; i++)
        buf_release(&in->parts[i]);
    free(in->parts);
    buf_release(&in->text);
    memset(in, 0, sizeof(*in));
}

void sioc_inbound_reset(struct sioc_client *c)
{
    release_inbound(&c->inbound);
}

void sioc_inbound_text(struct sioc_client *c, char *data, size_t len)
{
    struct sio_packet pkt;
    struct sioc_inbound *in = &c->inbound;
    if (in->want > 0) {
        sioc_client_protocol_error(c, "a packet arrived while binary attachments were due");
        return;
    }
    if (decode(c, data, len, &pkt) != 0)
        return;
    int binary = pkt.type == SIO_BINARY_EVENT || pkt.type == SIO_BINARY_ACK;
    if (!binary || pkt.attachments == 0) {
        dispatch(c, &pkt, NULL, 0);
        return;
    }
    buf_init(&in->text, BUF_NO_CAP);
    buf_append(&in->text, data, len);
    in->want = (size_t)pkt.attachments;
    in->have = 0;
    in->parts = xcalloc(in->want, sizeof(*in->parts));
    for (size_t i = 0; i < in->want; i++)
        buf_init(&in->parts[i], c->opts.max_message);
}

void sioc_inbound_binary(struct sioc_client *c, const char *data, size_t len)
{
    struct sioc_inbound *in = &c->inbound;
    if (in->want == 0) {
        sioc_client_protocol_error(c, "a binary frame that no packet announced");
        return;
    }
    if (buf_append(&in->parts[in->have], data, len) != 0) {
        sioc_client_protocol_error(c, "attachment over the size limit");
        return;
    }
    if (++in->have < in->want)
        return;
    /* Take the packet out of the client first: a callback may end the session, which
     * resets c->inbound. */
    struct sioc_inbound done = *in;
    memset(in, 0, sizeof(*in));
    struct sioc_binary *att = xcalloc(done.want, sizeof(*att));
    for (size_t i = 0; i < done.want; i++)
        att[i] = (struct sioc_binary){done.parts[i].data != NULL ? done.parts[i].data : "",
                                      done.parts[i].len};
    struct sio_packet pkt;
    if (sio_packet_decode(done.text.data, done.text.len, (long)c->opts.max_attachments, &pkt) == 0)
        dispatch(c, &pkt, att, done.want);
    free(att);
    release_inbound(&done);
}
