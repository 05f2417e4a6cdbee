/* Reading a participant's code archive: a tar file (ustar, pax, GNU long names), optionally
 * gzip-compressed, checked against limits and turned into the list of files a git tree is
 * built from. Pure code: no I/O, no global state; every refusal comes with a message in plain
 * words for the participant. Fuzzed (tests/fuzz/fuzz_tar.c). */
#ifndef ARCHIVE_TAR_H
#define ARCHIVE_TAR_H

#include <stddef.h>
#include <stdint.h>

/* Git modes of the files of a tree. */
#define TAR_MODE_FILE 0100644u
#define TAR_MODE_EXEC 0100755u
#define TAR_MODE_LINK 0120000u

struct tar_limits {
    uint64_t max_file;  /* bytes in one file */
    uint64_t max_total; /* bytes in all files together */
    size_t max_files;   /* files and symbolic links */
    size_t max_path;    /* bytes in a path (after cleaning) */
};

/* One file of the tree. path is cleaned ("a/b/c": no "." or empty components). For a regular
 * file, data points into the buffer given to tar_read (which must outlive the tree); for a
 * symbolic link, data is the link's target (owned by the tree). */
struct tar_file {
    char *path;
    unsigned mode; /* TAR_MODE_* */
    const uint8_t *data;
    size_t len;
    char *target; /* symbolic links only, else NULL */
};

struct tar_tree {
    struct tar_file *files; /* sorted by path, '/' ordered before every other byte */
    size_t n, alloc;
    uint64_t total; /* bytes in all regular files */
};

/* Limits used when a challenge sets none. */
void tar_limits_default(struct tar_limits *lim);

/* Reads the tar archive buf[len] into out (initialised here). Refused, with a message in err:
 * malformed or truncated headers, paths that are absolute, contain "..", a ".git" component,
 * a component starting with '-', a control character (newline...) or bytes that are not
 * UTF-8; symbolic links whose target is absolute or leaves the tree; hard links, devices and
 * FIFOs; a path given twice or both as a file and a directory; too many files, a file or a
 * total too large. Returns 0, or -1 (out is then empty). */
int tar_read(const uint8_t *buf, size_t len, const struct tar_limits *lim, struct tar_tree *out,
             char *err, size_t errlen);
void tar_tree_release(struct tar_tree *t);

/* Whether buf starts like a gzip stream. */
int tar_is_gzip(const uint8_t *buf, size_t len);
/* Inflates the gzip stream in[len] (several members allowed) into a new buffer *out (caller
 * frees) of at most max_out bytes. Returns 0, or -1 with a message in err. */
int tar_gunzip(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *outlen,
               char *err, size_t errlen);

/* Cleans a path from an archive into out[outlen] (see tar_read for what is refused); dir is 1
 * for a directory entry (an empty result, the root, is then allowed). 0 or -1 with err. */
int tar_path_clean(const char *raw, size_t rawlen, int dir, char *out, size_t outlen, char *err,
                   size_t errlen);
/* Whether a symbolic link at path (cleaned) with this target stays inside the tree: a relative
 * target whose ".." components all come first and climb no higher than the link's directory.
 * 0 or -1 with err. */
int tar_link_check(const char *path, const char *target, size_t target_len, char *err,
                   size_t errlen);
/* Compares paths with '/' before every other byte (so a directory's entries follow it). */
int tar_path_cmp(const char *a, const char *b);

#endif
