/* SHA-256 through OpenSSL's EVP interface; see cli_hash.h. */
#include "cli/cli_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static void to_hex(const unsigned char *md, unsigned len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * len] = '\0';
}

/* Feeds the whole of fd to ctx; returns 0 or -1 with errno set. */
static int hash_fd(EVP_MD_CTX *ctx, int fd, uint64_t *size)
{
    static unsigned char chunk[CHUNK];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1) {
            errno = EIO;
            return -1;
        }
        *size += (uint64_t)n;
    }
}

int cli_hash_file(const char *path, char hex[CLI_HEX_LEN], uint64_t *size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    *size = 0;
    int rc = -1;
    if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
        hash_fd(ctx, fd, size) == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1) {
        to_hex(md, mdlen, hex);
        rc = 0;
    }
    int saved = errno;
    EVP_MD_CTX_free(ctx);
    close(fd);
    errno = saved;
    return rc;
}

void cli_hash_submission_id(const char *file_hex, const char *challenge, long round,
                            char out[CLI_CSID_LEN])
{
    cli_hash_submission_id_code(file_hex, NULL, challenge, round, out);
}

void cli_hash_submission_id_code(const char *file_hex, const char *code_hex, const char *challenge,
                                 long round, char out[CLI_CSID_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char text[384];
    int len = snprintf(text, sizeof(text), "crowdai-cli%c%s%c%s%c%ld", 0, file_hex, 0, challenge, 0,
                       round);
    if (code_hex != NULL)
        len += snprintf(text + len, sizeof(text) - (size_t)len, "%ccode%c%s", 0, 0, code_hex);
    EVP_Digest(text, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
    memcpy(out, "cli-", 4);
    to_hex(md, mdlen, out + 4);
}
