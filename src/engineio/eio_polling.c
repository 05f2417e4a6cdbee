/* Engine.IO's HTTP long-polling transport: the handshake, held GETs answered with queued
 * packets, POSTs carrying packets, and the v3 and v4 payload framings. */
#include "engineio/eio_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"

/* python-engineio 4.x refuses payloads of more than 16 packets; the rest waits for the
 * next GET. */
#define MAX_PACKETS_PER_RESPONSE 16

static const char text_type[] = "text/plain; charset=UTF-8";
static const char binary_type[] = "application/octet-stream";

void eio_queue_clear(struct eio_session *s)
{
    struct list *pos, *tmp;
    list_for_each_safe(pos, tmp, &s->queue)
    {
        struct eio_out *o = container_of(pos, struct eio_out, link);
        list_remove(&o->link);
        free(o);
    }
    s->queued_bytes = 0;
}

static int append_packet(struct eio_session *s, struct buf *body, const struct eio_packet *pkt,
                         int first)
{
    if (s->protocol == 4)
        return eio_payload_append_v4(body, pkt, first);
    if (s->b64)
        return eio_payload_append_v3_text(body, pkt);
    return eio_payload_append_v3_binary(body, pkt);
}

static const char *payload_type(const struct eio_session *s)
{
    return s->protocol == 3 && !s->b64 ? binary_type : text_type;
}

/* Answers hc with the given packets (or the whole queue when pkt is NULL). */
static void respond_packets(struct eio_session *s, struct http_conn *hc,
                            const struct eio_packet *pkt)
{
    struct buf body;
    buf_init(&body, BUF_NO_CAP);
    if (pkt != NULL) {
        append_packet(s, &body, pkt, 1);
    } else {
        int count = 0;
        struct list *pos, *tmp;
        list_for_each_safe(pos, tmp, &s->queue)
        {
            if (count == MAX_PACKETS_PER_RESPONSE)
                break;
            struct eio_out *o = container_of(pos, struct eio_out, link);
            struct eio_packet p = {o->type, o->binary, o->data, o->len};
            append_packet(s, &body, &p, count++ == 0);
            list_remove(&o->link);
            s->queued_bytes -= o->len;
            free(o);
        }
    }
    http_conn_respond(hc, 200, payload_type(s), NULL, body.data, body.len, 0);
    buf_release(&body);
}

void eio_polling_flush(struct eio_session *s)
{
    if (s->held_get == NULL || list_empty(&s->queue))
        return;
    struct http_conn *hc = s->held_get;
    s->held_get = NULL;
    respond_packets(s, hc, NULL);
}

void eio_polling_release_get(struct eio_session *s, enum eio_type type)
{
    struct http_conn *hc = s->held_get;
    if (hc == NULL)
        return;
    s->held_get = NULL;
    struct eio_packet p = {type, 0, "", 0};
    respond_packets(s, hc, &p);
}

static void on_get_aborted(struct http_conn *hc, void *ud)
{
    struct eio_session *s = ud;
    (void)hc;
    s->held_get = NULL;
    eio_session_shutdown(s, "poll connection closed prematurely", EIO_CLOSE);
}

void eio_polling_get(struct eio_session *s, struct http_conn *hc)
{
    if (s->held_get != NULL) {
        log_info("eio", "overlapping polling GET sid=%s", s->sid);
        eio_fail(hc, 3);
        eio_session_shutdown(s, "overlapping poll", EIO_CLOSE);
        return;
    }
    if (s->probe != NULL && s->probed) {
        struct eio_packet p = {EIO_NOOP, 0, "", 0};
        respond_packets(s, hc, &p);
        return;
    }
    if (!list_empty(&s->queue)) {
        respond_packets(s, hc, NULL);
        return;
    }
    s->held_get = hc;
    http_conn_hold(hc, on_get_aborted, s);
}

static int on_posted_packet(void *ud, const struct eio_packet *pkt)
{
    struct eio_session *s = ud;
    if (pkt->type == EIO_UPGRADE) {
        log_info("eio", "upgrade packet over polling sid=%s", s->sid);
        return EIO_DECODE_BAD;
    }
    eio_session_on_packet(s, pkt);
    return s->closed ? 1 : 0;
}

static int decode_body(struct eio_session *s, const struct http_request *req)
{
    const char *body = req->body.data != NULL ? req->body.data : "";
    size_t len = req->body.len;
    size_t max = s->srv->cfg.max_packets;
    const char *type = http_request_header(req, HTTP_H_CONTENT_TYPE);
    int binary = type != NULL && strncmp(type, binary_type, sizeof(binary_type) - 1) == 0;
    if (s->protocol == 4) {
        if (binary || !utf8_valid(body, len))
            return EIO_DECODE_BAD;
        return eio_payload_decode_v4(body, len, max, &s->scratch, on_posted_packet, s);
    }
    if (binary || (len > 0 && (unsigned char)body[0] <= 1))
        return eio_payload_decode_v3_binary(body, len, max, &s->scratch, on_posted_packet, s);
    if (!utf8_valid(body, len))
        return EIO_DECODE_BAD;
    return eio_payload_decode_v3_text(body, len, max, &s->scratch, on_posted_packet, s);
}

void eio_polling_post(struct eio_session *s, struct http_conn *hc, const struct http_request *req)
{
    int rc = decode_body(s, req);
    if (rc < 0) {
        log_info("eio", "bad polling payload sid=%s error=%d", s->sid, rc);
        eio_fail(hc, 3);
        eio_session_shutdown(s, "parse error", EIO_CLOSE);
        return;
    }
    http_conn_respond(hc, 200, "text/html", NULL, "ok", 2, 0);
}

void eio_polling_handshake(struct eio_server *e, struct http_conn *hc, const struct eio_query *q,
                           const struct http_request *req)
{
    struct eio_session *s = eio_session_new(e, q->protocol, EIO_POLLING);
    s->b64 = q->b64;
    struct buf open;
    buf_init(&open, BUF_NO_CAP);
    eio_open_packet(s, &open);
    struct eio_packet p = {EIO_OPEN, 0, open.data, open.len};
    respond_packets(s, hc, &p);
    buf_release(&open);
    e->cb.on_open(s, req, e->ud);
}
