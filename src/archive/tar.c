/* The tar reader and its checks; see tar.h. Headers are 512-byte blocks: ustar (with its
 * prefix field), pax extended headers ('x' per file, 'g' global, ignored) and GNU long names
 * ('L', 'K'); sizes in octal or GNU base-256. */
#include "archive/tar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/utf8.h"
#include "core/xalloc.h"

#define BLOCK          512
#define MAX_LONG_NAME  4096 /* bytes of a GNU long name or pax path */
#define MAX_PAX_HEADER 65536
#define MAX_TARGET     1024 /* bytes of a symbolic link's target */

void tar_limits_default(struct tar_limits *lim)
{
    lim->max_file = 10u << 20;
    lim->max_total = 100u << 20;
    lim->max_files = 1000;
    lim->max_path = 1024;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- paths ---- */

int tar_path_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca == cb) {
            if (ca == 0)
                return 0;
            continue;
        }
        ca = ca == '/' ? 1 : ca == 0 ? 0 : ca + 1;
        cb = cb == '/' ? 1 : cb == 0 ? 0 : cb + 1;
        return ca < cb ? -1 : 1;
    }
}

/* Whether a name is .git or a name some file system takes for it: any case, trailing dots
 * and spaces or an NTFS stream (":...") after it, its 8.3 short name GIT~1, or .git with
 * code points HFS+ ignores inside. */
static int is_dotgit(const char *c, size_t len)
{
    char n[16] = {0};
    size_t k = 0;
    for (size_t i = 0; i < len && c[i] != ':'; i++) {
        const unsigned char *u = (const unsigned char *)c + i;
        if (len - i >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
            ((u[2] >= 0x8c && u[2] <= 0x8f) || (u[2] >= 0xaa && u[2] <= 0xae))) {
            i += 2; /* U+200C..U+200F, U+202A..U+202E */
            continue;
        }
        if (len - i >= 3 && ((u[0] == 0xe2 && u[1] == 0x81 && u[2] >= 0xaa && u[2] <= 0xaf) ||
                             (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf))) {
            i += 2; /* U+206A..U+206F, U+FEFF */
            continue;
        }
        if (k == sizeof(n))
            return 0;
        n[k++] = (char)(c[i] >= 'A' && c[i] <= 'Z' ? c[i] + 32 : c[i]);
    }
    while (k > 0 && (n[k - 1] == '.' || n[k - 1] == ' '))
        k--;
    return (k == 4 && memcmp(n, ".git", 4) == 0) || (k == 5 && memcmp(n, "git~1", 5) == 0);
}

/* Checks one component of a path (len > 0, not "." or ".."). */
static int component_check(const char *c, size_t len, char *err, size_t errlen)
{
    if (c[0] == '-')
        return fail(err, errlen, "a name starts with '-' (%.*s): rename it", (int)len, c);
    if (is_dotgit(c, len))
        return fail(err, errlen,
                    "the archive contains a .git directory or file (or a name taken for one: "
                    "%.*s): leave it out",
                    (int)len, c);
    return 0;
}

int tar_path_clean(const char *raw, size_t rawlen, int dir, char *out, size_t outlen, char *err,
                   size_t errlen)
{
    size_t n = 0;
    if (rawlen == 0)
        return fail(err, errlen, "an entry has an empty name");
    for (size_t i = 0; i < rawlen; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if (ch < 0x20 || ch == 0x7f)
            return fail(err, errlen,
                        "a name contains a newline or another control character: rename it");
    }
    if (!utf8_valid(raw, rawlen))
        return fail(err, errlen, "a name is not valid UTF-8: rename it");
    if (raw[0] == '/')
        return fail(err, errlen, "an absolute path (%.*s) is outside the tree", (int)rawlen, raw);
    size_t i = 0;
    while (i < rawlen) {
        size_t j = i;
        while (j < rawlen && raw[j] != '/')
            j++;
        size_t len = j - i;
        const char *c = raw + i;
        i = j + 1;
        if (len == 0 || (len == 1 && c[0] == '.'))
            continue;
        if (len == 2 && c[0] == '.' && c[1] == '.')
            return fail(err, errlen, "a path with '..' (%.*s) leads outside the tree", (int)rawlen,
                        raw);
        if (component_check(c, len, err, errlen) != 0)
            return -1;
        if (n + (n > 0) + len + 1 > outlen)
            return fail(err, errlen, "a path is longer than %zu bytes", outlen - 1);
        if (n > 0)
            out[n++] = '/';
        memcpy(out + n, c, len);
        n += len;
    }
    out[n] = '\0';
    if (n == 0 && !dir)
        return fail(err, errlen, "a file has an empty name");
    return 0;
}

int tar_link_check(const char *path, const char *target, size_t target_len, char *err,
                   size_t errlen)
{
    int depth = 0; /* directories above the link */
    for (const char *p = path; *p != '\0'; p++)
        depth += *p == '/';
    if (target_len == 0)
        return fail(err, errlen, "the symbolic link %s has an empty target", path);
    if (target_len > MAX_TARGET)
        return fail(err, errlen, "the symbolic link %s has a target longer than %d bytes", path,
                    MAX_TARGET);
    for (size_t i = 0; i < target_len; i++) {
        unsigned char ch = (unsigned char)target[i];
        if (ch < 0x20 || ch == 0x7f)
            return fail(err, errlen, "the symbolic link %s has a control character in its target",
                        path);
    }
    if (target[0] == '/')
        return fail(err, errlen, "the symbolic link %s points outside the tree (absolute target)",
                    path);
    int ups = 0, down = 0;
    size_t i = 0;
    while (i < target_len) {
        size_t j = i;
        while (j < target_len && target[j] != '/')
            j++;
        size_t len = j - i;
        const char *c = target + i;
        i = j + 1;
        if (len == 0 || (len == 1 && c[0] == '.'))
            continue;
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            if (down)
                return fail(err, errlen,
                            "the symbolic link %s has '..' after a name in its target; only "
                            "leading '..' are accepted",
                            path);
            ups++;
            continue;
        }
        down = 1;
    }
    if (ups > depth)
        return fail(err, errlen, "the symbolic link %s points outside the tree", path);
    return 0;
}

/* ---- headers ---- */

/* An octal or base-256 number field; -1 when malformed or above 2^53. */
static int64_t header_number(const uint8_t *f, size_t len)
{
    uint64_t v = 0;
    if (f[0] & 0x80) { /* GNU base-256, big-endian, positive only */
        if (f[0] != 0x80)
            return -1;
        for (size_t i = 1; i < len; i++) {
            if (v >> 45)
                return -1;
            v = (v << 8) | f[i];
        }
        return (int64_t)v;
    }
    size_t i = 0;
    while (i < len && f[i] == ' ')
        i++;
    int digits = 0;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 50)
            return -1;
        v = (v << 3) | (uint64_t)(f[i] - '0');
    }
    for (; i < len; i++) {
        if (f[i] != ' ' && f[i] != '\0')
            return -1;
    }
    return digits > 0 ? (int64_t)v : -1;
}

static int header_checksum_ok(const uint8_t *h)
{
    int64_t want = header_number(h + 148, 8);
    uint64_t usum = 0;
    int64_t ssum = 0;
    for (int i = 0; i < BLOCK; i++) {
        uint8_t b = i >= 148 && i < 156 ? ' ' : h[i];
        usum += b;
        ssum += (int8_t)b;
    }
    return want >= 0 && ((uint64_t)want == usum || want == ssum);
}

static int block_is_zero(const uint8_t *h)
{
    for (int i = 0; i < BLOCK; i++) {
        if (h[i] != 0)
            return 0;
    }
    return 1;
}

static size_t field_len(const uint8_t *f, size_t max)
{
    const void *nul = memchr(f, 0, max);
    return nul != NULL ? (size_t)((const uint8_t *)nul - f) : max;
}

/* What the headers before an entry said about it (GNU 'L'/'K', pax 'x'). */
struct pending {
    char *path;
    char *link;
    int64_t size; /* -1: none */
};

static void pending_clear(struct pending *p)
{
    free(p->path);
    free(p->link);
    p->path = p->link = NULL;
    p->size = -1;
}

/* Parses pax records "LEN key=value\n" of data[len]. */
static int pax_parse(const uint8_t *data, size_t len, struct pending *p, char *err, size_t errlen)
{
    size_t off = 0;
    while (off < len) {
        size_t rec = 0, i = off;
        while (i < len && data[i] >= '0' && data[i] <= '9' && rec < MAX_PAX_HEADER)
            rec = rec * 10 + (size_t)(data[i++] - '0');
        if (i == off || i >= len || data[i] != ' ' || rec <= i - off + 1 || rec > len - off ||
            data[off + rec - 1] != '\n')
            return fail(err, errlen, "the archive has a malformed pax header");
        const uint8_t *kv = data + i + 1, *end = data + off + rec - 1;
        const uint8_t *eq = memchr(kv, '=', (size_t)(end - kv));
        if (eq == NULL)
            return fail(err, errlen, "the archive has a malformed pax record");
        size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - eq - 1);
        if (klen == 4 && memcmp(kv, "path", 4) == 0) {
            free(p->path);
            p->path = xmemdup0(eq + 1, vlen);
        } else if (klen == 8 && memcmp(kv, "linkpath", 8) == 0) {
            free(p->link);
            p->link = xmemdup0(eq + 1, vlen);
        } else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
            int64_t v = 0;
            for (size_t k = 0; k < vlen; k++) {
                if (eq[1 + k] < '0' || eq[1 + k] > '9' || v > (INT64_C(1) << 50))
                    return fail(err, errlen, "the archive has a malformed pax size");
                v = v * 10 + (eq[1 + k] - '0');
            }
            if (vlen == 0)
                return fail(err, errlen, "the archive has a malformed pax size");
            p->size = v;
        }
        off += rec;
    }
    return 0;
}

/* ---- the tree ---- */

static void tree_add(struct tar_tree *t, char *path, unsigned mode, const uint8_t *data, size_t len,
                     char *target)
{
    if (t->n == t->alloc) {
        t->alloc = t->alloc ? t->alloc * 2 : 16;
        t->files = xrealloc(t->files, t->alloc * sizeof(*t->files));
    }
    struct tar_file *f = &t->files[t->n++];
    f->path = path;
    f->mode = mode;
    f->data = data;
    f->len = len;
    f->target = target;
}

void tar_tree_release(struct tar_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->files[i].path);
        free(t->files[i].target);
    }
    free(t->files);
    memset(t, 0, sizeof(*t));
}

static int file_cmp(const void *a, const void *b)
{
    return tar_path_cmp(((const struct tar_file *)a)->path, ((const struct tar_file *)b)->path);
}

/* Directory entries are kept (mode 0) only to find a file and a directory of the same name;
 * they are dropped at the end (git has no empty directories). */
static int tree_finish(struct tar_tree *t, char *err, size_t errlen)
{
    if (t->n > 1)
        qsort(t->files, t->n, sizeof(*t->files), file_cmp);
    for (size_t i = 0; i + 1 < t->n; i++) {
        const struct tar_file *a = &t->files[i], *b = &t->files[i + 1];
        size_t alen = strlen(a->path);
        if (strcmp(a->path, b->path) == 0) {
            if (a->mode == 0 && b->mode == 0)
                continue;
            if (a->mode == 0 || b->mode == 0)
                return fail(err, errlen, "%s is both a file and a directory", a->path);
            return fail(err, errlen, "%s appears twice in the archive", a->path);
        }
        if (a->mode != 0 && strncmp(a->path, b->path, alen) == 0 && b->path[alen] == '/')
            return fail(err, errlen, "%s is both a file and a directory", a->path);
    }
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->files[i].mode == 0)
            free(t->files[i].path);
        else
            t->files[w++] = t->files[i];
    }
    t->n = w;
    return 0;
}

/* The state of one read. */
struct reader {
    const struct tar_limits *lim;
    struct tar_tree *t;
    struct pending p;
    size_t nfiles, nentries;
    char *err;
    size_t errlen;
};

static int add_entry(struct reader *r, const uint8_t *h, const char *name, size_t nlen,
                     const uint8_t *data, uint64_t size)
{
    char type = (char)h[156];
    int dir = type == '5';
    char *clean = xmalloc(r->lim->max_path + 1);
    if (tar_path_clean(name, nlen, dir, clean, r->lim->max_path + 1, r->err, r->errlen) != 0) {
        free(clean);
        return -1;
    }
    if (dir) {
        if (clean[0] == '\0')
            free(clean);
        else
            tree_add(r->t, clean, 0, NULL, 0, NULL);
        return 0;
    }
    if (++r->nfiles > r->lim->max_files) {
        free(clean);
        return fail(r->err, r->errlen, "the archive has more than %zu files", r->lim->max_files);
    }
    if (type == '2') {
        const char *target = r->p.link != NULL ? r->p.link : (const char *)h + 157;
        size_t tlen = r->p.link != NULL ? strlen(r->p.link) : field_len(h + 157, 100);
        if (tar_link_check(clean, target, tlen, r->err, r->errlen) != 0) {
            free(clean);
            return -1;
        }
        char *copy = xmemdup0(target, tlen);
        tree_add(r->t, clean, TAR_MODE_LINK, (const uint8_t *)copy, tlen, copy);
        return 0;
    }
    if (size > r->lim->max_file) {
        fail(r->err, r->errlen, "%s is larger than %llu bytes", clean,
             (unsigned long long)r->lim->max_file);
        free(clean);
        return -1;
    }
    r->t->total += size;
    if (r->t->total > r->lim->max_total) {
        free(clean);
        return fail(r->err, r->errlen, "the files add up to more than %llu bytes",
                    (unsigned long long)r->lim->max_total);
    }
    int64_t mode = header_number(h + 100, 8);
    tree_add(r->t, clean, mode > 0 && (mode & 0111) ? TAR_MODE_EXEC : TAR_MODE_FILE, data,
             (size_t)size, NULL);
    return 0;
}

static int refuse_type(struct reader *r, char type)
{
    switch (type) {
    case '1':
        return fail(r->err, r->errlen, "hard links are not accepted: archive the file itself");
    case '3':
    case '4':
        return fail(r->err, r->errlen, "device files are not accepted");
    case '6':
        return fail(r->err, r->errlen, "FIFOs are not accepted");
    default:
        return fail(r->err, r->errlen, "the archive has an entry of unsupported type '%c'",
                    type >= 0x20 && type < 0x7f ? type : '?');
    }
}

/* Handles the header at h with its data; 0, -1 refused. */
static int read_entry(struct reader *r, const uint8_t *h, const uint8_t *data, uint64_t size)
{
    char type = (char)h[156];
    if (type == 'x' || type == 'g') {
        if (size > MAX_PAX_HEADER)
            return fail(r->err, r->errlen, "the archive has a pax header that is too large");
        return type == 'x' ? pax_parse(data, (size_t)size, &r->p, r->err, r->errlen) : 0;
    }
    if (type == 'L' || type == 'K') {
        if (size > MAX_LONG_NAME)
            return fail(r->err, r->errlen, "a name in the archive is too long");
        char **dst = type == 'L' ? &r->p.path : &r->p.link;
        free(*dst);
        *dst = xmemdup0(data, field_len(data, (size_t)size));
        return 0;
    }
    if (type != '0' && type != '\0' && type != '7' && type != '5' && type != '2')
        return refuse_type(r, type);
    char name[257];
    const char *nm = name;
    size_t nlen;
    if (r->p.path != NULL) {
        nm = r->p.path;
        nlen = strlen(nm);
    } else {
        size_t plen = memcmp(h + 257, "ustar\0", 6) == 0 ? field_len(h + 345, 155) : 0;
        size_t blen = field_len(h, 100);
        memcpy(name, h + 345, plen);
        nlen = plen;
        if (plen > 0)
            name[nlen++] = '/';
        memcpy(name + nlen, h, blen);
        nlen += blen;
        name[nlen] = '\0';
    }
    if (memchr(nm, '\0', nlen) != NULL)
        return fail(r->err, r->errlen, "a name contains a NUL byte");
    return add_entry(r, h, nm, nlen, data, size);
}

static int read_all(struct reader *r, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    size_t max_entries = r->lim->max_files * 4 + 64;
    for (;;) {
        if (len - off < BLOCK)
            return fail(r->err, r->errlen, "the archive is truncated (no end marker)");
        const uint8_t *h = buf + off;
        if (block_is_zero(h))
            return 0;
        if (!header_checksum_ok(h))
            return fail(r->err, r->errlen, "this is not a tar archive (bad header checksum)");
        if (++r->nentries > max_entries)
            return fail(r->err, r->errlen, "the archive has too many entries");
        int64_t size = header_number(h + 124, 12);
        char type = (char)h[156];
        if (size < 0)
            return fail(r->err, r->errlen, "the archive has a malformed size field");
        if (r->p.size >= 0 && type != 'x' && type != 'g' && type != 'L' && type != 'K')
            size = r->p.size;
        if (type == '2' || type == '5' || type == '1')
            size = 0; /* links and directories carry no data, whatever the field says */
        off += BLOCK;
        if ((uint64_t)size > len - off)
            return fail(r->err, r->errlen, "the archive is truncated");
        if (read_entry(r, h, buf + off, (uint64_t)size) != 0)
            return -1;
        if (type != 'x' && type != 'g' && type != 'L' && type != 'K')
            pending_clear(&r->p);
        size_t padded = ((size_t)size + BLOCK - 1) / BLOCK * BLOCK;
        off += padded < len - off ? padded : len - off;
    }
}

int tar_read(const uint8_t *buf, size_t len, const struct tar_limits *lim, struct tar_tree *out,
             char *err, size_t errlen)
{
    struct reader r = {.lim = lim, .t = out, .p = {NULL, NULL, -1}, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    int rc = read_all(&r, buf, len);
    pending_clear(&r.p);
    if (rc == 0)
        rc = tree_finish(out, err, errlen);
    if (rc != 0)
        tar_tree_release(out);
    return rc;
}

/* ---- gzip ---- */

int tar_is_gzip(const uint8_t *buf, size_t len)
{
    return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

int tar_gunzip(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *outlen,
               char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return fail(err, errlen, "cannot start decompressing");
    size_t cap = max_out < 65536 ? (max_out > 0 ? max_out : 1) : 65536, n = 0;
    uint8_t *buf = xmalloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
    int rc = Z_OK;
    for (;;) {
        if (n == cap) {
            if (cap >= max_out) {
                rc = Z_BUF_ERROR;
                break;
            }
            cap = cap * 2 > max_out ? max_out : cap * 2;
            buf = xrealloc(buf, cap);
        }
        z.next_out = buf + n;
        z.avail_out = (uInt)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (rc == Z_STREAM_END && z.avail_in > 0 && tar_is_gzip(z.next_in, z.avail_in)) {
            inflateReset(&z); /* another member */
            continue;
        }
        if (rc != Z_OK)
            break;
        if (z.avail_in == 0 && z.avail_out > 0) {
            rc = Z_DATA_ERROR; /* the input ended inside the stream */
            break;
        }
    }
    inflateEnd(&z);
    if (rc == Z_STREAM_END) {
        *out = buf;
        *outlen = n;
        return 0;
    }
    free(buf);
    if (n >= max_out)
        return fail(err, errlen, "the archive unpacks to more than %zu bytes", max_out);
    return fail(err, errlen, "the archive is not valid gzip (corrupt or truncated)");
}
