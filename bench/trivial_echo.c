/* trivial_echo --port N: the least WebSocket server bench/loadgen can talk to. It answers 40 with
 * 40{"sid":"x"} and 42<id>["event",args...] with 43<id>[args...], nothing else (no Engine.IO, no
 * timers): the ceiling the broker's throughput is compared with. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 16384

struct client {
    int fd;
    int upgraded;
    size_t len;
    char buf[BUF_SIZE];
};

static const char open_packet[] = "0{\"sid\":\"x\",\"upgrades\":[],\"pingInterval\":25000,"
                                  "\"pingTimeout\":20000,\"maxPayload\":1000000}";

/* Writes an unmasked text frame; payloads here are always under 64 KiB. */
static size_t put_frame(char *out, const char *data, size_t len)
{
    size_t h = 0;
    out[h++] = (char)0x81;
    if (len < 126) {
        out[h++] = (char)len;
    } else {
        out[h++] = 126;
        out[h++] = (char)(len >> 8);
        out[h++] = (char)len;
    }
    memcpy(out + h, data, len);
    return h + len;
}

/* Answers the upgrade request; returns its length, 0 if incomplete, -1 if unusable. */
static long handshake(struct client *c, char *out, size_t *out_len)
{
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return c->len == BUF_SIZE ? -1 : 0;
    *end = '\0';
    char *key = strcasestr(c->buf, "\r\nSec-WebSocket-Key:");
    if (!key)
        return -1;
    key += strlen("\r\nSec-WebSocket-Key:");
    key += strspn(key, " ");
    char concat[128];
    unsigned char digest[SHA_DIGEST_LENGTH];
    char accept[32];
    int n = snprintf(concat, sizeof(concat), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                     (int)strcspn(key, " \r"), key);
    SHA1((unsigned char *)concat, (size_t)n, digest);
    EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);
    *out_len = (size_t)sprintf(out,
                               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                               accept);
    *out_len += put_frame(out + *out_len, open_packet, strlen(open_packet));
    return end + 4 - c->buf;
}

/* Handles one unmasked text payload; appends any reply to out. */
static size_t on_message(const char *p, size_t n, char *out)
{
    if (n >= 2 && memcmp(p, "40", 2) == 0)
        return put_frame(out, "40{\"sid\":\"x\"}", 13);
    if (n < 3 || memcmp(p, "42", 2) != 0 || p[2] < '0' || p[2] > '9')
        return 0; /* pongs and events without an ack id need no answer */
    char reply[BUF_SIZE];
    size_t id_end = 2;
    while (id_end < n && p[id_end] >= '0' && p[id_end] <= '9')
        id_end++;
    const char *comma = memchr(p + id_end, ',', n - id_end);
    size_t len = id_end;
    memcpy(reply, "43", 2);
    memcpy(reply + 2, p + 2, id_end - 2);
    reply[len++] = '[';
    if (comma) {
        memcpy(reply + len, comma + 1, (size_t)(p + n - comma - 1));
        len += (size_t)(p + n - comma - 1);
    } else {
        reply[len++] = ']';
    }
    return put_frame(out, reply, len);
}

/* Reads what arrived, answers every complete frame with one write; returns -1 to close. */
static int on_readable(struct client *c)
{
    char out[2 * BUF_SIZE + 512]; /* replies are never more than twice the bytes read */
    size_t out_len = 0, pos = 0;
    ssize_t r = read(c->fd, c->buf + c->len, BUF_SIZE - c->len);
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    if (!c->upgraded) {
        long head = handshake(c, out, &out_len);
        if (head <= 0)
            return (int)head;
        pos = (size_t)head;
        c->upgraded = 1;
    }
    while (c->len - pos >= 6) {
        unsigned char *f = (unsigned char *)c->buf + pos;
        size_t len = f[1] & 0x7f, hl = 6;
        if (len == 126) {
            len = (size_t)f[2] << 8 | f[3];
            hl = 8;
        }
        if (len == 127 || !(f[1] & 0x80) || hl + len > BUF_SIZE - 16)
            return -1; /* 64-bit lengths, unmasked or oversized frames: not for this toy */
        if (c->len - pos < hl + len)
            break;
        for (size_t i = 0; i < len; i++)
            f[hl + i] ^= f[hl - 4 + (i & 3)];
        if ((f[0] & 0x0f) == 8)
            return -1;
        if ((f[0] & 0x0f) == 1)
            out_len += on_message((char *)f + hl, len, out + out_len);
        pos += hl + len;
    }
    memmove(c->buf, c->buf + pos, c->len - pos);
    c->len -= pos;
    /* nonblocking socket, replies bounded by the client's messages in flight: a short write
     * means the peer stopped reading, and this toy just drops it */
    if (out_len > 0 && write(c->fd, out, out_len) != (ssize_t)out_len)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("trivial_echo");
        return 1;
    }
    printf("READY port=%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, events[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            struct client *c = events[i].data.ptr;
            if (c) {
                if (on_readable(c) < 0) {
                    close(c->fd);
                    free(c);
                }
                continue;
            }
            int fd;
            while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                struct client *nc = malloc(sizeof(*nc));
                if (!nc) {
                    close(fd);
                    continue;
                }
                nc->fd = fd;
                nc->upgraded = 0;
                nc->len = 0;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = nc};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            }
        }
    }
}
