/* libFuzzer target for archive/tar: any input, raw or gzip-compressed, is read or refused
 * with a message, and what is read obeys every rule the reader promises (clean sorted unique
 * paths, sizes within the limits, links inside the tree). */
#include <stdlib.h>
#include <string.h>

#include "archive/tar.h"
#include "fuzz_common.h"

static void check_tree(const struct tar_tree *t, const struct tar_limits *lim)
{
    uint64_t total = 0;
    CHECK(t->n <= lim->max_files);
    for (size_t i = 0; i < t->n; i++) {
        const struct tar_file *f = &t->files[i];
        size_t len = strlen(f->path);
        CHECK(len > 0 && len <= lim->max_path);
        CHECK(f->path[0] != '/' && f->path[len - 1] != '/');
        CHECK(strstr(f->path, "//") == NULL);
        CHECK(f->mode == TAR_MODE_FILE || f->mode == TAR_MODE_EXEC || f->mode == TAR_MODE_LINK);
        char err[256], clean[1100];
        /* Cleaning a clean path changes nothing. */
        CHECK(tar_path_clean(f->path, len, 0, clean, sizeof(clean), err, sizeof(err)) == 0);
        CHECK(strcmp(clean, f->path) == 0);
        if (f->mode == TAR_MODE_LINK) {
            CHECK(f->target != NULL && f->len == strlen(f->target));
            CHECK(tar_link_check(f->path, f->target, f->len, err, sizeof(err)) == 0);
        } else {
            CHECK(f->len <= lim->max_file);
            total += f->len;
        }
        if (i > 0)
            CHECK(tar_path_cmp(t->files[i - 1].path, f->path) < 0);
    }
    CHECK(total == t->total && total <= lim->max_total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct tar_limits lim;
    tar_limits_default(&lim);
    if (data[0] & 1) { /* small limits, so that they are reached */
        lim.max_file = 64;
        lim.max_total = 200;
        lim.max_files = 4;
        lim.max_path = 32;
    }
    data++;
    size--;
    uint8_t *plain = NULL;
    size_t plen = 0;
    char err[512];
    if (tar_is_gzip(data, size)) {
        if (tar_gunzip(data, size, 1 << 20, &plain, &plen, err, sizeof(err)) != 0) {
            CHECK(err[0] != '\0');
            return 0;
        }
        CHECK(plen <= (1 << 20));
        data = plain;
        size = plen;
    }
    /* A private copy, so a read past the end is an ASan report. */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    struct tar_tree tree;
    err[0] = '\0';
    int rc = tar_read(copy, size, &lim, &tree, err, sizeof(err));
    if (rc == 0) {
        check_tree(&tree, &lim);
        tar_tree_release(&tree);
    } else {
        CHECK(rc == -1 && err[0] != '\0' && tree.n == 0);
    }
    free(copy);
    free(plain);
    return 0;
}
