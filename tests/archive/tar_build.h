/* Builds tar archives in memory for the archive's tests: ustar entries of any type, pax and GNU
 * long-name headers, gzip compression. */
#ifndef TESTS_ARCHIVE_TAR_BUILD_H
#define TESTS_ARCHIVE_TAR_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct tarb {
    uint8_t *data;
    size_t len, alloc;
};

/* Appends one header (name split into ustar prefix/name when longer than 100 bytes) and the
 * data; type is the typeflag ('0', '2', '5', ...); link is the link target or NULL. */
void tarb_entry(struct tarb *t, char type, const char *name, unsigned mode, const void *data,
                size_t len, const char *link);
void tarb_file(struct tarb *t, const char *name, const char *content);
/* A pax 'x' header setting path (and linkpath if not NULL) for the next entry. */
void tarb_pax(struct tarb *t, const char *path, const char *linkpath);
/* A GNU 'L' header with a long name for the next entry. */
void tarb_gnu_longname(struct tarb *t, const char *name);
/* The two zero blocks. */
void tarb_end(struct tarb *t);
/* gzip of data[len] (caller frees). */
uint8_t *tarb_gzip(const uint8_t *data, size_t len, size_t *outlen);
void tarb_free(struct tarb *t);

#endif
