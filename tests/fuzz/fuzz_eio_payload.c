/* libFuzzer target for engineio/eio_packet: the three payload decoders and the text packet
 * decoder on any input; whatever decodes must re-encode and decode to the same packets, in
 * its own framing and in the others where the packets fit them. */
#include <string.h>

#include "core/utf8.h"
#include "engineio/eio_packet.h"
#include "fuzz_common.h"

#define MAX_PACKETS 64

struct packet_copy {
    enum eio_type type;
    int binary;
    char *data;
    size_t len;
};

struct packet_list {
    struct packet_copy pkts[MAX_PACKETS];
    size_t count;
    const char *body; /* the decoded body, for the bounds check of text packets */
    size_t body_len;
};

static int collect(void *ud, const struct eio_packet *pkt)
{
    struct packet_list *l = ud;
    CHECK(l->count < MAX_PACKETS);
    CHECK(pkt->type >= EIO_OPEN && pkt->type <= EIO_NOOP);
    CHECK(!pkt->binary || pkt->type == EIO_MESSAGE);
    CHECK(pkt->data != NULL || pkt->len == 0);
    if (!pkt->binary && l->body != NULL)
        CHECK(pkt->data >= l->body && pkt->data + pkt->len <= l->body + l->body_len);
    struct packet_copy *c = &l->pkts[l->count++];
    c->type = pkt->type;
    c->binary = pkt->binary;
    c->len = pkt->len;
    c->data = malloc(pkt->len + 1);
    if (pkt->len > 0)
        memcpy(c->data, pkt->data, pkt->len);
    return 0;
}

static void list_free(struct packet_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->pkts[i].data);
    l->count = 0;
}

typedef int (*decoder_fn)(const char *, size_t, size_t, struct buf *, eio_packet_cb, void *);

static int decode(decoder_fn fn, const char *body, size_t len, size_t max_packets,
                  struct packet_list *out)
{
    struct buf scratch;
    buf_init(&scratch, 1 << 20);
    out->count = 0;
    out->body = body;
    out->body_len = len;
    int rc = fn(body, len, max_packets, &scratch, collect, out);
    buf_release(&scratch);
    CHECK(rc == 0 || rc == EIO_DECODE_BAD || rc == EIO_DECODE_TOO_MANY);
    CHECK(rc != 0 || (out->count >= 1 && out->count <= max_packets));
    return rc;
}

enum framing { V4, V3_TEXT, V3_BINARY };

static int append(enum framing f, struct buf *out, const struct packet_copy *c, int first)
{
    struct eio_packet pkt = {c->type, c->binary, c->data, c->len};
    switch (f) {
    case V4:
        return eio_payload_append_v4(out, &pkt, first);
    case V3_TEXT:
        return eio_payload_append_v3_text(out, &pkt);
    default:
        return eio_payload_append_v3_binary(out, &pkt);
    }
}

static decoder_fn decoder_of(enum framing f)
{
    return f == V4        ? eio_payload_decode_v4
           : f == V3_TEXT ? eio_payload_decode_v3_text
                          : eio_payload_decode_v3_binary;
}

/* Whether every packet can travel in framing f: the v3 framings carry text as UTF-8, and the
 * v4 separator cannot appear inside a text packet. */
static int fits(enum framing f, const struct packet_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        const struct packet_copy *c = &l->pkts[i];
        if (c->binary)
            continue;
        if (f != V4 && !utf8_valid(c->data, c->len))
            return 0;
        if (f == V4 && memchr(c->data, '\x1e', c->len) != NULL)
            return 0;
    }
    return 1;
}

static void check_reencode(enum framing f, const struct packet_list *l)
{
    if (!fits(f, l))
        return;
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    for (size_t i = 0; i < l->count; i++)
        CHECK(append(f, &out, &l->pkts[i], i == 0) == 0);
    struct packet_list again;
    CHECK(decode(decoder_of(f), out.data, out.len, l->count, &again) == 0);
    CHECK(again.count == l->count);
    for (size_t i = 0; i < l->count; i++) {
        const struct packet_copy *a = &l->pkts[i], *b = &again.pkts[i];
        CHECK(a->type == b->type && a->binary == b->binary && a->len == b->len);
        CHECK(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
    }
    list_free(&again);
    buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_packets = 1 + data[0] % MAX_PACKETS;
    size_t len = size - 1;
    char *body = malloc(len + 1); /* a private copy: reads past len are ASan reports */
    memcpy(body, data + 1, len);

    struct eio_packet one;
    if (eio_packet_decode_text(body, len, &one) == 0) {
        CHECK(len >= 1 && one.type == (enum eio_type)(body[0] - '0'));
        CHECK(one.data == body + 1 && one.len == len - 1 && !one.binary);
    }

    for (int f = V4; f <= V3_BINARY; f++) {
        struct packet_list l;
        if (decode(decoder_of((enum framing)f), body, len, max_packets, &l) == 0) {
            check_reencode(V4, &l);
            check_reencode(V3_TEXT, &l);
            check_reencode(V3_BINARY, &l);
        }
        list_free(&l);
    }
    free(body);
    return 0;
}
