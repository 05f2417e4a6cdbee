/* Engine.IO packets and polling payloads, v3 and v4, with no I/O: decoding a POST body into
 * packets and encoding queued packets into a GET response. */
#ifndef ENGINEIO_EIO_PACKET_H
#define ENGINEIO_EIO_PACKET_H

#include <stddef.h>

#include "core/buf.h"

enum eio_type {
    EIO_OPEN = 0,
    EIO_CLOSE = 1,
    EIO_PING = 2,
    EIO_PONG = 3,
    EIO_MESSAGE = 4,
    EIO_UPGRADE = 5,
    EIO_NOOP = 6,
};

/* A borrowed view of one packet. Binary packets are always messages. */
struct eio_packet {
    enum eio_type type;
    int binary;
    const char *data;
    size_t len;
};

/* Called per decoded packet; data is borrowed for the call. Non-zero stops decoding and is
 * returned by the decoder. */
typedef int (*eio_packet_cb)(void *ud, const struct eio_packet *pkt);

#define EIO_DECODE_BAD      (-1) /* malformed payload or packet */
#define EIO_DECODE_TOO_MANY (-2) /* more packets than allowed */

/* Decodes a text packet "<type digit><data>". Returns 0 or EIO_DECODE_BAD. */
int eio_packet_decode_text(const char *s, size_t len, struct eio_packet *out);

/* v4 polling body: packets joined by 0x1e, binary ones as "b<base64>". scratch receives
 * decoded binary data. Returns 0, an EIO_DECODE_* code, or the callback's non-zero value. */
int eio_payload_decode_v4(const char *body, size_t len, size_t max_packets, struct buf *scratch,
                          eio_packet_cb cb, void *ud);
/* v3 text framing: "<utf16 length>:<packet>" repeated; binary packets as "b4<base64>". */
int eio_payload_decode_v3_text(const char *body, size_t len, size_t max_packets,
                               struct buf *scratch, eio_packet_cb cb, void *ud);
/* v3 binary (XHR2) framing: 0x00|0x01, length digits as bytes 0-9, 0xFF, packet bytes. */
int eio_payload_decode_v3_binary(const char *body, size_t len, size_t max_packets,
                                 struct buf *scratch, eio_packet_cb cb, void *ud);

/* Payload encoders: append one packet to a GET response body. `first` tells whether it is
 * the first packet of the body (v4 separators). Return 0, or -1 when out's cap is reached. */
int eio_payload_append_v4(struct buf *out, const struct eio_packet *pkt, int first);
int eio_payload_append_v3_text(struct buf *out, const struct eio_packet *pkt);
int eio_payload_append_v3_binary(struct buf *out, const struct eio_packet *pkt);

#endif
