/* The local record of submissions; see cli_record.h. */
#include "cli/cli_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_config.h"

#define RECORD_MAX  (1024 * 1024) /* past this size the file is trimmed ... */
#define RECORD_KEEP (256 * 1024)  /* ... to about its last this many bytes */

static int record_path(char *out, size_t n)
{
    char dir[CLI_URL_MAX];
    if (cli_state_dir(dir, sizeof(dir)) != 0)
        return -1;
    int len = snprintf(out, n, "%s/submissions", dir);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

/* Reads the last `max` bytes of path into a NUL-terminated buffer from its first whole line;
 * NULL when it cannot be read. */
static char *read_tail(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
    char *text = malloc(max + 1);
    ssize_t got = text != NULL ? pread(fd, text, max, from) : -1;
    close(fd);
    if (got < 0) {
        free(text);
        return NULL;
    }
    text[got] = '\0';
    size_t skip = 0;
    if (from > 0) {
        char *nl = strchr(text, '\n');
        skip = nl != NULL ? (size_t)(nl + 1 - text) : (size_t)got;
    }
    memmove(text, text + skip, (size_t)got - skip + 1);
    *len = (size_t)got - skip;
    return text;
}

/* Rewrites the file with only its last RECORD_KEEP bytes (whole lines). */
static void trim_file(const char *path)
{
    size_t len = 0;
    char tmp[CLI_URL_MAX + 16];
    char *text = read_tail(path, RECORD_KEEP, &len);
    if (text == NULL)
        return;
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0) {
        close(fd);
        if (rename(tmp, path) != 0)
            unlink(tmp);
    } else if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(text);
}

int cli_record_add(const char *broker, long long id, const char *challenge)
{
    char dir[CLI_URL_MAX], path[CLI_URL_MAX], line[CLI_URL_MAX + CLI_CHALLENGE_MAX + 32];
    if (cli_state_dir(dir, sizeof(dir)) != 0 || record_path(path, sizeof(path)) != 0 ||
        cli_make_private_dir(dir) != 0)
        return -1;
    if (strpbrk(broker, "\t\n") != NULL || strpbrk(challenge, "\t\n") != NULL)
        return -1;
    int len = snprintf(line, sizeof(line), "%s\t%lld\t%s\n", broker, id, challenge);
    if (len <= 0 || (size_t)len >= sizeof(line))
        return -1;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = write(fd, line, (size_t)len) == len ? 0 : -1;
    int big = fstat(fd, &st) == 0 && st.st_size > RECORD_MAX;
    close(fd);
    if (big)
        trim_file(path);
    return rc;
}

int cli_record_find(const char *broker, long long id, char *challenge, size_t n)
{
    char path[CLI_URL_MAX], want[CLI_URL_MAX + 32];
    size_t len = 0;
    if (record_path(path, sizeof(path)) != 0)
        return -1;
    char *text = read_tail(path, RECORD_MAX, &len);
    if (text == NULL)
        return -1;
    int wlen = snprintf(want, sizeof(want), "%s\t%lld\t", broker, id);
    int found = -1;
    /* The last matching line wins: walk the lines backwards. */
    for (char *end = text + len; found != 0 && end > text;) {
        char *start = end - 1;
        while (start > text && start[-1] != '\n')
            start--;
        if ((size_t)(end - start) > (size_t)wlen && strncmp(start, want, (size_t)wlen) == 0) {
            const char *ch = start + wlen;
            size_t chlen = (size_t)(end - ch);
            while (chlen > 0 && ch[chlen - 1] == '\n')
                chlen--;
            if (chlen > 0 && chlen < n && chlen < CLI_CHALLENGE_MAX) {
                memcpy(challenge, ch, chlen);
                challenge[chlen] = '\0';
                found = 0;
            }
        }
        end = start;
    }
    free(text);
    return found;
}
