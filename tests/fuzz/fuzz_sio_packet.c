/* libFuzzer target for socketio/sio_packet: whatever decodes must satisfy the packet rules
 * (types, namespaces, ack ids, placeholders, payload shapes), stay inside the input, and
 * decode to the same packet after re-encoding with sio_packet_header. */
#include <string.h>

#include "core/json_check.h"
#include "fuzz_common.h"
#include "socketio/sio_packet.h"

static int within(const char *p, size_t n, const char *s, size_t len)
{
    return p >= s && p + n <= s + len;
}

static void check_packet(const struct sio_packet *p, const char *s, size_t len, long max_att)
{
    CHECK(p->type == SIO_CONNECT || p->type == SIO_DISCONNECT || p->type == SIO_EVENT ||
          p->type == SIO_ACK || p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK);
    CHECK(p->nsp_len >= 1 && p->nsp[0] == '/');
    CHECK(memchr(p->nsp, ',', p->nsp_len) == NULL);
    CHECK((p->nsp_len == 1 && memcmp(p->nsp, "/", 1) == 0) || within(p->nsp, p->nsp_len, s, len));
    CHECK(p->query == NULL || within(p->query, p->query_len, s, len));
    CHECK(within(p->data, p->data_len, s, len));
    CHECK(p->data + p->data_len == s + len);
    CHECK(p->ack_id == SIO_NO_ACK || (p->ack_id >= 0 && p->ack_id < 1000000000000000LL));
    int binary = p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK;
    if (binary) {
        CHECK(p->attachments >= 0 && p->attachments <= max_att);
        CHECK(!p->info.bad_placeholder);
        CHECK(p->info.placeholders == (size_t)p->attachments);
        CHECK(p->info.max_placeholder == p->attachments - 1);
    }
    if (p->data_len > 0)
        CHECK(json_check(p->data, p->data_len, JSON_CHECK_MAX_DEPTH, NULL) == 0);
    switch (p->type) {
    case SIO_CONNECT:
        CHECK(p->data_len == 0 || p->info.top == '{');
        break;
    case SIO_DISCONNECT:
        CHECK(p->data_len == 0);
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        CHECK(p->ack_id != SIO_NO_ACK && p->info.top == '[');
        break;
    default:
        CHECK(p->info.top == '[' && p->info.elems >= 1);
        break;
    }
    size_t n;
    const char *name = sio_packet_event_name(p, &n);
    if (name != NULL) {
        CHECK(p->info.top == '[');
        CHECK(within(name, n, p->data, p->data_len));
        CHECK(name[-1] == '"' && name[n] == '"');
    }
    if (p->info.top == '[') {
        const char *args = sio_packet_args(p, &n);
        CHECK(within(args, n, p->data, p->data_len));
    }
}

/* Re-encodes the packet and checks that it decodes the same. */
static void check_round_trip(const struct sio_packet *p, long max_att)
{
    if (memchr(p->nsp, '\0', p->nsp_len) != NULL ||
        (p->query != NULL && memchr(p->query, '\0', p->query_len) != NULL))
        return; /* sio_packet_header takes a C string */
    char *nsp = malloc(p->nsp_len + p->query_len + 2);
    memcpy(nsp, p->nsp, p->nsp_len);
    size_t n = p->nsp_len;
    if (p->query != NULL) {
        nsp[n++] = '?';
        memcpy(nsp + n, p->query, p->query_len);
        n += p->query_len;
    }
    nsp[n] = '\0';
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    CHECK(sio_packet_header(&out, p->type, p->attachments, nsp, p->ack_id) == 0);
    CHECK(buf_append(&out, p->data, p->data_len) == 0);
    struct sio_packet q;
    CHECK(sio_packet_decode(out.data, out.len, max_att, &q) == SIO_DECODE_OK);
    CHECK(q.type == p->type);
    CHECK(q.attachments == p->attachments);
    CHECK(q.nsp_len == p->nsp_len && memcmp(q.nsp, p->nsp, p->nsp_len) == 0);
    CHECK((q.query == NULL) == (p->query == NULL));
    CHECK(q.query_len == p->query_len);
    CHECK(q.query == NULL || memcmp(q.query, p->query, p->query_len) == 0);
    CHECK(q.ack_id == p->ack_id);
    CHECK(q.data_len == p->data_len && memcmp(q.data, p->data, p->data_len) == 0);
    CHECK(q.info.elems == p->info.elems && q.info.placeholders == p->info.placeholders);
    buf_release(&out);
    free(nsp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    long max_att = data[0] % 16;
    size_t len = size - 1;
    char *s = malloc(len + 1); /* a private copy: reads past len are ASan reports */
    memcpy(s, data + 1, len);
    struct sio_packet p;
    int rc = sio_packet_decode(s, len, max_att, &p);
    CHECK(rc <= 0 && rc >= SIO_DECODE_BAD_PLACEHOLDER);
    CHECK(sio_decode_error_name(rc) != NULL);
    if (rc == SIO_DECODE_OK) {
        check_packet(&p, s, len, max_att);
        check_round_trip(&p, max_att);
    }
    free(s);
    return 0;
}
