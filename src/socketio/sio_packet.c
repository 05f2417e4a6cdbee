/* Socket.IO packets with no I/O; see sio_packet.h. */
#include "socketio/sio_packet.h"

#include <string.h>

static const char *const reserved_events[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_attachments(const char *s, size_t len, size_t *pos, long max, long *out)
{
    size_t start = *pos;
    long n = 0;
    while (*pos < len && is_digit(s[*pos]) && *pos - start < 6)
        n = n * 10 + (s[(*pos)++] - '0');
    if (*pos == start || *pos >= len || s[*pos] != '-' || n > max)
        return SIO_DECODE_BAD_ATTACHMENTS;
    (*pos)++;
    *out = n;
    return 0;
}

static int parse_namespace(const char *s, size_t len, size_t *pos, struct sio_packet *out)
{
    out->nsp = "/";
    out->nsp_len = 1;
    out->query = NULL;
    out->query_len = 0;
    if (*pos >= len || s[*pos] != '/')
        return 0;
    size_t start = *pos;
    while (*pos < len && s[*pos] != ',')
        (*pos)++;
    size_t end = *pos;
    if (*pos < len)
        (*pos)++; /* the comma */
    const char *q = memchr(s + start, '?', end - start);
    if (q != NULL) {
        out->query = q + 1;
        out->query_len = (size_t)(s + end - q - 1);
        end = (size_t)(q - s);
    }
    out->nsp = s + start;
    out->nsp_len = end - start;
    return 0;
}

static int parse_ack_id(const char *s, size_t len, size_t *pos, long long *out)
{
    size_t start = *pos;
    long long id = 0;
    while (*pos < len && is_digit(s[*pos])) {
        if (*pos - start >= SIO_MAX_ACK_DIGITS)
            return SIO_DECODE_BAD_ACK_ID;
        id = id * 10 + (s[(*pos)++] - '0');
    }
    *out = *pos > start ? id : SIO_NO_ACK;
    return 0;
}

static int is_reserved(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(reserved_events) / sizeof(reserved_events[0]); i++) {
        if (strlen(reserved_events[i]) == len && memcmp(reserved_events[i], name, len) == 0)
            return 1;
    }
    return 0;
}

/* Checks the payload's shape for the packet type. */
static int check_payload(struct sio_packet *p)
{
    const struct json_info *info = &p->info;
    switch (p->type) {
    case SIO_CONNECT:
        return p->data_len == 0 || info->top == '{' ? 0 : SIO_DECODE_BAD_PAYLOAD;
    case SIO_DISCONNECT:
        return p->data_len == 0 ? 0 : SIO_DECODE_BAD_PAYLOAD;
    case SIO_EVENT:
    case SIO_BINARY_EVENT: {
        if (p->data_len == 0 || info->top != '[' || info->elems == 0)
            return SIO_DECODE_BAD_PAYLOAD;
        char first = p->data[info->first_start];
        size_t name_len;
        const char *name = sio_packet_event_name(p, &name_len);
        if (name != NULL)
            return is_reserved(name, name_len) ? SIO_DECODE_BAD_PAYLOAD : 0;
        return first == '-' || is_digit(first) ? 0 : SIO_DECODE_BAD_PAYLOAD;
    }
    case SIO_ACK:
    case SIO_BINARY_ACK:
        if (p->ack_id == SIO_NO_ACK || p->data_len == 0 || info->top != '[')
            return SIO_DECODE_BAD_PAYLOAD;
        return 0;
    default:
        return SIO_DECODE_BAD_TYPE; /* CONNECT_ERROR only goes from server to client */
    }
}

static int check_placeholders(const struct sio_packet *p)
{
    int binary = p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK;
    if (!binary)
        return 0;
    /* socket.io-client makes one placeholder per attachment, numbered from 0. */
    if (p->info.bad_placeholder || p->info.max_placeholder >= p->attachments ||
        p->info.placeholders != (size_t)p->attachments ||
        p->info.max_placeholder != p->attachments - 1)
        return SIO_DECODE_BAD_PLACEHOLDER;
    return 0;
}

int sio_packet_decode(const char *s, size_t len, long max_attachments, struct sio_packet *out)
{
    size_t pos = 1;
    int rc;
    memset(out, 0, sizeof(*out));
    if (len == 0 || s[0] < '0' || s[0] > '6')
        return SIO_DECODE_BAD_TYPE;
    out->type = (enum sio_type)(s[0] - '0');
    if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
        rc = parse_attachments(s, len, &pos, max_attachments, &out->attachments);
        if (rc != 0)
            return rc;
    }
    rc = parse_namespace(s, len, &pos, out);
    if (rc != 0)
        return rc;
    rc = parse_ack_id(s, len, &pos, &out->ack_id);
    if (rc != 0)
        return rc;
    out->data = s + pos;
    out->data_len = len - pos;
    out->info.max_placeholder = -1;
    if (out->data_len > 0 &&
        json_check(out->data, out->data_len, JSON_CHECK_MAX_DEPTH, &out->info) != 0)
        return SIO_DECODE_BAD_JSON;
    rc = check_payload(out);
    if (rc != 0)
        return rc;
    return check_placeholders(out);
}

const char *sio_decode_error_name(int err)
{
    switch (err) {
    case SIO_DECODE_OK:
        return "ok";
    case SIO_DECODE_BAD_TYPE:
        return "bad packet type";
    case SIO_DECODE_BAD_ATTACHMENTS:
        return "bad attachment count";
    case SIO_DECODE_BAD_NAMESPACE:
        return "bad namespace";
    case SIO_DECODE_BAD_ACK_ID:
        return "bad ack id";
    case SIO_DECODE_BAD_JSON:
        return "invalid JSON";
    case SIO_DECODE_BAD_PAYLOAD:
        return "payload not valid for the packet type";
    case SIO_DECODE_BAD_PLACEHOLDER:
        return "bad binary placeholder";
    default:
        return "unknown error";
    }
}

const char *sio_packet_event_name(const struct sio_packet *pkt, size_t *len)
{
    const struct json_info *info = &pkt->info;
    if (info->top != '[' || info->elems == 0 || pkt->data[info->first_start] != '"')
        return NULL;
    *len = info->first_end - info->first_start - 2;
    return pkt->data + info->first_start + 1;
}

const char *sio_packet_args(const struct sio_packet *pkt, size_t *len)
{
    const struct json_info *info = &pkt->info;
    int is_event = pkt->type == SIO_EVENT || pkt->type == SIO_BINARY_EVENT;
    size_t start = is_event ? info->rest_start : info->first_start;
    if (!is_event && info->elems == 0)
        start = info->rest_end;
    size_t end = info->rest_end;
    while (end > start && (pkt->data[end - 1] == ' ' || pkt->data[end - 1] == '\n' ||
                           pkt->data[end - 1] == '\t' || pkt->data[end - 1] == '\r'))
        end--;
    *len = end - start;
    return pkt->data + start;
}

int sio_packet_header(struct buf *out, enum sio_type type, long attachments, const char *nsp,
                      long long ack_id)
{
    if (buf_append_char(out, (char)('0' + type)) != 0)
        return -1;
    if ((type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK) &&
        buf_printf(out, "%ld-", attachments) != 0)
        return -1;
    if (nsp != NULL && strcmp(nsp, "/") != 0 && buf_printf(out, "%s,", nsp) != 0)
        return -1;
    if (ack_id != SIO_NO_ACK && buf_printf(out, "%lld", ack_id) != 0)
        return -1;
    return 0;
}
