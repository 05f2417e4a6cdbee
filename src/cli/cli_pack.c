/* Packs a directory with the tar program; see cli_pack.h. */
#include "cli/cli_pack.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

extern char **environ;

static int make_temp_dir(struct cli_pack *p)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    int len = snprintf(p->dir, sizeof(p->dir), "%s/crowdai-code-XXXXXX", tmp);
    if (len < 0 || (size_t)len >= sizeof(p->dir) || mkdtemp(p->dir) == NULL) {
        snprintf(p->problem, sizeof(p->problem),
                 "Cannot make a temporary directory under %.300s to pack the code: %s.", tmp,
                 strerror(errno));
        p->dir[0] = '\0';
        return -1;
    }
    snprintf(p->path, sizeof(p->path), "%s/code.tar.gz", p->dir);
    return 0;
}

/* Runs tar and waits for it; returns its exit status, or -1 when it could not be run. */
static int run_tar(struct cli_pack *p, const char *src)
{
    char *argv[] = {(char *)"tar", (char *)"-C", (char *)src, (char *)"-czf",
                    p->path,       (char *)".",  NULL};
    pid_t pid;
    int err = posix_spawnp(&pid, "tar", NULL, NULL, argv, environ);
    if (err != 0) {
        snprintf(p->problem, sizeof(p->problem),
                 "Cannot run the tar program to pack the code: %s. Is tar installed?",
                 strerror(err));
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(p->problem, sizeof(p->problem), "Waiting for tar failed: %s.",
                     strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    snprintf(p->problem, sizeof(p->problem), "tar was killed by signal %d while packing %.300s.",
             WIFSIGNALED(status) ? WTERMSIG(status) : 0, src);
    return -1;
}

int cli_pack_dir(struct cli_pack *p, const char *src)
{
    struct stat st;
    p->dir[0] = p->path[0] = p->problem[0] = '\0';
    if (stat(src, &st) != 0) {
        snprintf(p->problem, sizeof(p->problem), "Cannot pack %.300s: %s.", src, strerror(errno));
        return CLI_EXIT_LOCAL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(p->problem, sizeof(p->problem), "Cannot pack %.300s: it is not a directory.", src);
        return CLI_EXIT_LOCAL;
    }
    if (make_temp_dir(p) != 0)
        return CLI_EXIT_LOCAL;
    int rc = run_tar(p, src);
    if (rc > 0)
        snprintf(p->problem, sizeof(p->problem),
                 "tar could not pack %.300s (exit status %d, its message is above).", src, rc);
    if (rc != 0) {
        cli_pack_remove(p);
        return CLI_EXIT_LOCAL;
    }
    return 0;
}

void cli_pack_remove(struct cli_pack *p)
{
    if (p->path[0] != '\0')
        unlink(p->path);
    if (p->dir[0] != '\0')
        rmdir(p->dir);
    p->path[0] = p->dir[0] = '\0';
}
