/* Names given to blobs before they exist (the crowdAI client's s3_key): a symlink
 * DIR/blobs/alias/NAME -> ../ab/abcdef..., made once the blob is stored. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/blob.h"

#define ALIAS_MAX 100

int blob_alias_valid(const char *name)
{
    size_t n = 0;
    for (; name[n] != '\0'; n++) {
        char c = name[n];
        if (n >= ALIAS_MAX || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return n > 0;
}

int blob_alias_link(const struct blob_store *bs, const char *name, const char *key)
{
    char link[700], tmp[720], target[BLOB_KEY_LEN + 8];
    if (!blob_alias_valid(name) || !blob_key_valid(key))
        return -1;
    snprintf(link, sizeof(link), "%s/alias/%s", bs->dir, name);
    snprintf(tmp, sizeof(tmp), "%s/alias/.%s.new", bs->dir, name);
    snprintf(target, sizeof(target), "../%.2s/%s", key, key);
    unlink(tmp);
    /* A new link under a temporary name, renamed over the old one: never half there. */
    if (symlink(target, tmp) != 0)
        return -1;
    if (rename(tmp, link) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int blob_alias_resolve(const struct blob_store *bs, const char *name, char *key)
{
    char link[700], target[BLOB_KEY_LEN + 8];
    if (!blob_alias_valid(name))
        return -1;
    snprintf(link, sizeof(link), "%s/alias/%s", bs->dir, name);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n != 3 + 2 + 1 + BLOB_KEY_LEN)
        return -1;
    target[n] = '\0';
    memcpy(key, target + 6, BLOB_KEY_LEN + 1);
    return blob_key_valid(key) && strncmp(target + 3, key, 2) == 0 ? 0 : -1;
}
