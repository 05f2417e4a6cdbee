/* Builds tar archives in memory; see tar_build.h. */
#include "tar_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put(struct tarb *t, const void *p, size_t n)
{
    if (t->len + n > t->alloc) {
        t->alloc = (t->len + n) * 2 + 4096;
        t->data = realloc(t->data, t->alloc);
        if (t->data == NULL)
            abort();
    }
    memcpy(t->data + t->len, p, n);
    t->len += n;
}

static void pad(struct tarb *t)
{
    static const uint8_t zero[512];
    if (t->len % 512 != 0)
        put(t, zero, 512 - t->len % 512);
}

void tarb_entry(struct tarb *t, char type, const char *name, unsigned mode, const void *data,
                size_t len, const char *link)
{
    uint8_t h[512];
    memset(h, 0, sizeof(h));
    size_t nlen = strlen(name);
    if (nlen > 100) {
        /* ustar: split at a '/' so that the name part fits in 100 bytes. */
        const char *split = name + nlen - 100;
        while (*split != '/' && *split != '\0')
            split++;
        size_t plen = (size_t)(split - name);
        memcpy(h + 345, name, plen < 155 ? plen : 155);
        memcpy(h, split + 1, strlen(split + 1) < 100 ? strlen(split + 1) : 100);
    } else {
        memcpy(h, name, nlen);
    }
    snprintf((char *)h + 100, 8, "%07o", mode);
    snprintf((char *)h + 108, 8, "%07o", 1000u);
    snprintf((char *)h + 116, 8, "%07o", 1000u);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)len);
    snprintf((char *)h + 136, 12, "%011o", 0u);
    h[156] = (uint8_t)type;
    if (link != NULL)
        memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    put(t, h, sizeof(h));
    if (len > 0)
        put(t, data, len);
    pad(t);
}

void tarb_file(struct tarb *t, const char *name, const char *content)
{
    tarb_entry(t, '0', name, 0644, content, strlen(content), NULL);
}

static void pax_record(char *out, size_t *n, const char *key, const char *value)
{
    size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
    size_t digits = 1, total;
    for (;;) {
        total = body + digits;
        size_t d = (size_t)snprintf(NULL, 0, "%zu", total);
        if (d == digits)
            break;
        digits = d;
    }
    *n += (size_t)snprintf(out + *n, total + 1, "%zu %s=%s\n", total, key, value);
}

void tarb_pax(struct tarb *t, const char *path, const char *linkpath)
{
    char *rec = malloc(strlen(path) + (linkpath ? strlen(linkpath) : 0) + 64);
    size_t n = 0;
    pax_record(rec, &n, "path", path);
    if (linkpath != NULL)
        pax_record(rec, &n, "linkpath", linkpath);
    tarb_entry(t, 'x', "PaxHeader", 0644, rec, n, NULL);
    free(rec);
}

void tarb_gnu_longname(struct tarb *t, const char *name)
{
    tarb_entry(t, 'L', "././@LongLink", 0644, name, strlen(name) + 1, NULL);
}

void tarb_end(struct tarb *t)
{
    static const uint8_t zero[1024];
    put(t, zero, sizeof(zero));
}

uint8_t *tarb_gzip(const uint8_t *data, size_t len, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&z, len) + 64;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

void tarb_free(struct tarb *t)
{
    free(t->data);
    memset(t, 0, sizeof(*t));
}
