/* RFC 6455 WebSocket framing with no I/O: a frame header encoder, and a reader that takes
 * bytes as they arrive, reassembles fragmented messages under a size cap and validates
 * everything a server must (masking, RSV bits, opcodes, control frames, UTF-8, close codes). */
#ifndef NET_WS_FRAME_H
#define NET_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum ws_opcode {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

/* Close codes the reader reports. */
#define WS_CLOSE_NORMAL       1000
#define WS_CLOSE_GOING_AWAY   1001
#define WS_CLOSE_PROTOCOL     1002
#define WS_CLOSE_INVALID_DATA 1007
#define WS_CLOSE_TOO_BIG      1009
#define WS_MAX_FRAME_HEADER   14
#define WS_MAX_FRAGMENTS      1024

/* Writes a frame header for a payload of len bytes into out; returns its length. With mask
 * non-NULL the frame is masked with those 4 bytes (client frames); the caller masks the
 * payload with ws_mask(). */
size_t ws_frame_header(uint8_t out[WS_MAX_FRAME_HEADER], enum ws_opcode op, int fin, uint64_t len,
                       const uint8_t *mask);
/* XORs data with mask, as if data started at byte `offset` of the payload. */
void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset);
/* Whether a peer may send this close code (RFC 6455 §7.4). */
int ws_close_code_valid(unsigned code);

/* Called once per complete message or control frame. op is WS_OP_TEXT or WS_OP_BINARY for
 * messages (fragments already joined), or a control opcode. data is borrowed. Return 0 to
 * go on, non-zero to stop: the reader is then not touched again by ws_reader_feed. */
typedef int (*ws_message_cb)(void *ud, enum ws_opcode op, uint8_t *data, size_t len);

struct ws_reader {
    struct buf in;  /* bytes of an incomplete frame */
    struct buf msg; /* fragments of an incomplete message */
    enum ws_opcode msg_op;
    unsigned fragments;
    int require_mask; /* 1 on the server side */
    size_t max_message;
    ws_message_cb cb;
    void *ud;
};

#define WS_READER_STOPPED (-1)

void ws_reader_init(struct ws_reader *r, int require_mask, size_t max_message, ws_message_cb cb,
                    void *ud);
void ws_reader_release(struct ws_reader *r);
/* Feeds bytes (which may be modified in place for unmasking). Returns 0 when all was
 * consumed, WS_READER_STOPPED if the callback stopped it, or a close code (1002, 1007,
 * 1009) when the peer broke the protocol. */
int ws_reader_feed(struct ws_reader *r, uint8_t *data, size_t len);

#endif
