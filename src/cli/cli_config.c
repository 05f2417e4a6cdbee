/* The configuration file, the environment and the flags; see cli_config.h. */
#include "cli/cli_config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FILE_MAX (64 * 1024) /* a configuration file longer than this is refused */

static const char *home_dir(void)
{
    const char *home = getenv("HOME");
    if (home != NULL && home[0] == '/')
        return home;
    struct passwd *pw = getpwuid(getuid());
    return pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

/* $VAR/crowdai, or $HOME/fallback/crowdai. */
static int xdg_dir(const char *var, const char *fallback, char *out, size_t n)
{
    const char *base = getenv(var);
    int len;
    if (base != NULL && base[0] == '/') {
        len = snprintf(out, n, "%s/crowdai", base);
    } else {
        const char *home = home_dir();
        if (home == NULL)
            return -1;
        len = snprintf(out, n, "%s/%s/crowdai", home, fallback);
    }
    return len > 0 && (size_t)len < n ? 0 : -1;
}

int cli_config_dir(char *out, size_t n)
{
    return xdg_dir("XDG_CONFIG_HOME", ".config", out, n);
}

int cli_state_dir(char *out, size_t n)
{
    return xdg_dir("XDG_STATE_HOME", ".local/state", out, n);
}

int cli_make_private_dir(const char *dir)
{
    char path[CLI_URL_MAX];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return -1;
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return chmod(path, 0700);
}

int cli_broker_url(const char *given, char *out, size_t n)
{
    static const char *const schemes[] = {"http://", "https://", "ws://", "wss://"};
    const char *sep = strstr(given, "://");
    int len;
    if (sep == NULL) {
        len = snprintf(out, n, "http://%s", given);
    } else {
        int known = 0;
        for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
            known |= strncmp(given, schemes[i], strlen(schemes[i])) == 0;
        if (!known)
            return -1;
        len = snprintf(out, n, "%s", given);
    }
    return len > 0 && (size_t)len < n ? 0 : -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

/* Reads `key = value` lines; '#' starts a comment line. Unknown keys are ignored. */
static void parse_config(struct cli_settings *s, char *text)
{
    for (char *line = text; line != NULL;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        char *key = trim(line);
        if (eq != NULL && key[0] != '#') {
            *eq = '\0';
            key = trim(key);
            char *value = trim(eq + 1);
            if (strcmp(key, "broker") == 0)
                snprintf(s->broker, sizeof(s->broker), "%s", value);
            else if (strcmp(key, "api_key") == 0)
                snprintf(s->api_key, sizeof(s->api_key), "%s", value);
        }
        line = next;
    }
}

static int read_config(struct cli_settings *s)
{
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0) {
        fprintf(stderr, "crowdai: cannot read the configuration file %s: %s.\n", s->path,
                strerror(errno));
        return CLI_EXIT_LOCAL;
    }
    char *text = malloc(CONFIG_FILE_MAX + 1);
    ssize_t got = text != NULL ? read(fd, text, CONFIG_FILE_MAX + 1) : -1;
    struct stat st;
    int loose = fstat(fd, &st) == 0 && (st.st_mode & 077) != 0;
    close(fd);
    if (got < 0 || got > CONFIG_FILE_MAX) {
        fprintf(stderr,
                "crowdai: cannot read the configuration file %s (%s). Run 'crowdai login' "
                "to write it again.\n",
                s->path, got < 0 ? "read error" : "longer than 64 KiB");
        free(text);
        return CLI_EXIT_LOCAL;
    }
    text[got] = '\0';
    parse_config(s, text);
    free(text);
    if (loose)
        fprintf(stderr,
                "crowdai: warning: %s can be read by other users; it holds your API key. "
                "Fix it with: chmod 600 %s\n",
                s->path, s->path);
    return 0;
}

static void take(char *dst, size_t n, const char *value)
{
    if (value != NULL && value[0] != '\0')
        snprintf(dst, n, "%s", value);
}

int cli_settings_load(struct cli_settings *s, const char *flag_broker, const char *flag_key)
{
    char dir[CLI_URL_MAX - 8];
    memset(s, 0, sizeof(*s));
    if (cli_config_dir(dir, sizeof(dir)) == 0) {
        snprintf(s->path, sizeof(s->path), "%s/config", dir);
        int rc = read_config(s);
        if (rc != 0)
            return rc;
    }
    take(s->broker, sizeof(s->broker), getenv("CROWDAI_BROKER"));
    take(s->api_key, sizeof(s->api_key), getenv("CROWDAI_API_KEY"));
    take(s->broker, sizeof(s->broker), flag_broker);
    take(s->api_key, sizeof(s->api_key), flag_key);
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int cli_config_save(const char *broker, const char *api_key, char *why, size_t n)
{
    char dir[CLI_URL_MAX - 64], path[CLI_URL_MAX], tmp[CLI_URL_MAX];
    char text[CLI_URL_MAX + CLI_KEY_MAX + 128];
    if (cli_config_dir(dir, sizeof(dir)) != 0) {
        snprintf(why, n, "no home directory is known (set HOME or XDG_CONFIG_HOME)");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/config", dir);
    snprintf(tmp, sizeof(tmp), "%s/config.%ld.tmp", dir, (long)getpid());
    int len = snprintf(text, sizeof(text),
                       "# crowdai configuration, written by 'crowdai login'. Keep it private.\n"
                       "broker = %s\napi_key = %s\n",
                       broker, api_key);
    if (cli_make_private_dir(dir) != 0) {
        snprintf(why, n, "cannot create the directory %s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, text, (size_t)len) != 0 ||
        fsync(fd) != 0) {
        snprintf(why, n, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        snprintf(why, n, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
