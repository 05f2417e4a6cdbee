/* Socket.IO packets (protocol v5, and v4 as spoken over Engine.IO v3) with no I/O:
 * `<type>[<attachments>-][<nsp>,][<ack id>][<JSON>]`. Decoding validates the JSON and the
 * binary placeholders but keeps the original bytes, which are relayed as they are. */
#ifndef SOCKETIO_SIO_PACKET_H
#define SOCKETIO_SIO_PACKET_H

#include <stddef.h>

#include "core/buf.h"
#include "core/json_check.h"

enum sio_type {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6,
};

#define SIO_NO_ACK         (-1LL)
#define SIO_MAX_ACK_DIGITS 15

/* A decoded packet: every pointer borrows from the decoded text. */
struct sio_packet {
    enum sio_type type;
    long attachments; /* binary packets only */
    const char *nsp;  /* "/" when absent; never NUL-terminated */
    size_t nsp_len;
    const char *query; /* v4 "?query" after the namespace of a CONNECT, or NULL */
    size_t query_len;
    long long ack_id; /* SIO_NO_ACK when absent */
    const char *data; /* JSON text, possibly empty */
    size_t data_len;
    struct json_info info;
};

enum sio_decode_error {
    SIO_DECODE_OK = 0,
    SIO_DECODE_BAD_TYPE = -1,
    SIO_DECODE_BAD_ATTACHMENTS = -2,
    SIO_DECODE_BAD_NAMESPACE = -3,
    SIO_DECODE_BAD_ACK_ID = -4,
    SIO_DECODE_BAD_JSON = -5,
    SIO_DECODE_BAD_PAYLOAD = -6,
    SIO_DECODE_BAD_PLACEHOLDER = -7,
};

/* Decodes and validates one packet from a client. max_attachments caps binary packets.
 * Returns SIO_DECODE_OK or a negative sio_decode_error. */
int sio_packet_decode(const char *s, size_t len, long max_attachments, struct sio_packet *out);
const char *sio_decode_error_name(int err);

/* The event name of an EVENT/BINARY_EVENT: the raw content of the first array element when
 * it is a string (escapes kept), else NULL. */
const char *sio_packet_event_name(const struct sio_packet *pkt, size_t *len);
/* The arguments after the event name (EVENT) or all arguments (ACK), as the JSON text
 * between the brackets, without them: "1,\"2\"" for ["ev",1,"2"]. */
const char *sio_packet_args(const struct sio_packet *pkt, size_t *len);

/* Appends an encoded packet header `<type>[<n>-][<nsp>,][<id>]` to out; data is appended by
 * the caller. nsp "/" is omitted. Returns 0 or -1 when out's cap is reached. */
int sio_packet_header(struct buf *out, enum sio_type type, long attachments, const char *nsp,
                      long long ack_id);

#endif
