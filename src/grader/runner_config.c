/* crowdai-grader's settings: one table of options shared by the command line and the
 * configuration file, then the checks that turn relative paths into absolute ones. */
#include "grader/runner_config.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

enum opt_kind {
    K_STRING,  /* a string (or a path, made absolute by the checks) */
    K_LIST,    /* repeatable; the file may give a comma-separated list when split is set */
    K_COMMAND, /* an argv: whitespace-separated words, or a JSON array of strings */
    K_INT,
    K_MS,    /* milliseconds; suffixes ms, s, m, h */
    K_BYTES, /* bytes; suffixes k, M, G (binary) */
    K_BOOL,  /* a bare flag; in the file yes/no */
    K_LEVEL, /* a log level */
};

struct opt {
    const char *name; /* the flag without "--", and the file's setting */
    enum opt_kind kind;
    size_t offset;
    unsigned long long min, max;
    int split; /* K_LIST: the file's value is a comma-separated list */
    const char *arg;
    const char *help;
};

#define OPT(n, k, field, lo, hi, a, h)                                                             \
    {                                                                                              \
        n, k, offsetof(struct runner_config, field), lo, hi, 0, a, h                               \
    }
#define LIST_OPT(n, field, split, a, h)                                                            \
    {                                                                                              \
        n, K_LIST, offsetof(struct runner_config, field), 0, 0, split, a, h                        \
    }

#define DAY_MS  86400000ULL
#define MAX_LEN 4096 /* bytes of one string setting */

static const struct opt opts[] = {
    OPT("broker", K_STRING, broker_url, 0, 0, "URL",
        "the broker: ws://, wss://, http:// or https://HOST[:PORT]"),
    OPT("key", K_STRING, key, 0, 0, "KEY",
        "the grader key (better in the file or in CROWDAI_GRADER_KEY:\n"
        "flags are visible to ps)"),
    LIST_OPT("pool", pools, 1, "POOL",
             "a pool to take jobs from; repeat for several (file: pool = a, b)"),
    OPT("capacity", K_INT, capacity, 1, RUNNER_MAX_CAPACITY, "N",
        "evaluators running at once (default 1)"),
    OPT("name", K_STRING, name, 0, 0, "NAME", "this grader's name (default: the host name)"),
    OPT("command", K_COMMAND, command, 0, 0, "'PROG ARG...'",
        "the evaluator: words split on spaces, or a JSON array of\n"
        "strings, or the words after \"--\"; {submission}, {answer},\n"
        "{submission_id} and {round} are replaced"),
    OPT("answer", K_STRING, answer, 0, 0, "FILE", "the answer file, for {answer}"),
    LIST_OPT("env", env, 0, "NAME=VALUE", "an environment variable for the evaluator; repeat"),
    OPT("workdir", K_STRING, workdir, 0, 0, "DIR",
        "a directory per job is made in it\n(default $TMPDIR/crowdai-grader)"),
    OPT("submission-name", K_STRING, submission_name, 0, 0, "NAME",
        "the submission file's name in the job directory\n(default submission)"),
    OPT("wall-time", K_MS, limits.wall_ms, 0, 30 * DAY_MS, "TIME",
        "wall-clock limit per job (default 10m; 0: none)"),
    OPT("cpu-time", K_MS, limits.cpu_ms, 0, 30 * DAY_MS, "TIME",
        "CPU time limit per process (default 0: none)"),
    OPT("memory", K_BYTES, limits.memory_bytes, 0, 1ULL << 50, "BYTES",
        "address-space limit per process (default 0: none)"),
    OPT("output", K_BYTES, limits.output_bytes, 0, 1ULL << 50, "BYTES",
        "stdout + stderr limit per job (default 10M; 0: none)"),
    OPT("kill-grace", K_MS, kill_grace_ms, 1, 600000, "TIME",
        "from SIGTERM to SIGKILL of an evaluator (default 2s)"),
    OPT("progress-interval", K_MS, progress_interval_ms, 0, 600000, "TIME",
        "at most one progress report per interval (default 1s)"),
    OPT("heartbeat", K_MS, heartbeat_ms, 100, DAY_MS, "TIME",
        "longest silence about a job: a progress report renews its\n"
        "lease (default 10s; keep it well under the broker's --lease)"),
    OPT("shutdown-grace", K_MS, shutdown_grace_ms, 0, 30 * DAY_MS, "TIME",
        "on SIGTERM, how long running jobs may finish before they\n"
        "are handed back (default 60s)"),
    OPT("report-retry", K_MS, report_retry_ms, 1000, 30 * DAY_MS, "TIME",
        "how long a report is retried while the broker is\n"
        "unreachable (default 10m)"),
    OPT("ack-timeout", K_MS, ack_timeout_ms, 100, 600000, "TIME",
        "wait for the broker's answer to a report before sending it\n"
        "again (default 10s)"),
    OPT("download-timeout", K_MS, download_timeout_ms, 100, 30 * DAY_MS, "TIME",
        "one submission file download (default 10m)"),
    OPT("max-download", K_BYTES, max_download, 1, 1ULL << 50, "BYTES",
        "largest submission file (default 1G)"),
    OPT("ca-file", K_STRING, ca_file, 0, 0, "FILE", "CA bundle for wss:// and https://"),
    OPT("tls-insecure", K_BOOL, tls_insecure, 0, 1, "",
        "no certificate check (tests only; file: yes/no)"),
    OPT("log-level", K_LEVEL, log_level, 0, 0, "LEVEL",
        "error, warn, info or debug (default info)"),
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void set_defaults(struct runner_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->capacity = 1;
    cfg->limits.wall_ms = 600000;
    cfg->limits.output_bytes = 10ULL << 20;
    cfg->kill_grace_ms = 2000;
    cfg->progress_interval_ms = 1000;
    cfg->heartbeat_ms = 10000;
    cfg->shutdown_grace_ms = 60000;
    cfg->report_retry_ms = 600000;
    cfg->ack_timeout_ms = 10000;
    cfg->download_timeout_ms = 600000;
    cfg->max_download = 1ULL << 30;
    cfg->log_level = LOG_INFO;
}

/* ---- lists ---- */

static void strlist_clear(struct runner_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void strlist_add(struct runner_strlist *l, const char *s, size_t len)
{
    l->v = xrealloc(l->v, (l->n + 2) * sizeof(*l->v));
    l->v[l->n++] = xmemdup0(s, len);
    l->v[l->n] = NULL;
}

void runner_config_release(struct runner_config *cfg)
{
    char **strings[] = {&cfg->broker_url, &cfg->key,     &cfg->name,
                        &cfg->answer,     &cfg->workdir, &cfg->submission_name,
                        &cfg->ca_file};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
    strlist_clear(&cfg->pools);
    strlist_clear(&cfg->command);
    strlist_clear(&cfg->env);
}

/* ---- values ---- */

/* A whole number with an optional unit; units maps suffixes to multipliers. */
struct unit {
    const char *suffix;
    unsigned long long mult;
};

static const struct unit time_units[] = {{"", 1},      {"ms", 1},      {"s", 1000},
                                         {"m", 60000}, {"h", 3600000}, {NULL, 0}};
static const struct unit size_units[] = {{"", 1},           {"k", 1ULL << 10}, {"K", 1ULL << 10},
                                         {"M", 1ULL << 20}, {"G", 1ULL << 30}, {NULL, 0}};
static const struct unit no_units[] = {{"", 1}, {NULL, 0}};

static int parse_number(const struct opt *o, const char *text, unsigned long long *out)
{
    const struct unit *units = o->kind == K_MS      ? time_units
                               : o->kind == K_BYTES ? size_units
                                                    : no_units;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    int ok = errno == 0 && end != text && text[0] != '-';
    for (const struct unit *u = units; ok && u->suffix != NULL; u++) {
        if (strcmp(end, u->suffix) != 0)
            continue;
        if (v > ULLONG_MAX / u->mult || v * u->mult < o->min || v * u->mult > o->max)
            break;
        *out = v * u->mult;
        return 0;
    }
    fprintf(stderr, "error: %s needs a whole number from %llu to %llu%s, not \"%s\"\n", o->name,
            o->min, o->max,
            o->kind == K_MS      ? " (ms; or with s, m, h)"
            : o->kind == K_BYTES ? " (bytes; or with k, M, G)"
                                 : "",
            text);
    return -1;
}

/* A JSON array of strings, or words split on spaces and tabs. */
static int parse_command(struct runner_strlist *l, const char *text)
{
    strlist_clear(l);
    if (text[0] != '[') {
        for (const char *p = text; *p != '\0';) {
            p += strspn(p, " \t");
            size_t len = strcspn(p, " \t");
            if (len > 0)
                strlist_add(l, p, len);
            p += len;
        }
        return 0;
    }
    json_error_t jerr;
    json_t *a = json_loads(text, 0, &jerr);
    for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
            break;
        strlist_add(l, json_string_value(s), json_string_length(s));
    }
    int ok = json_is_array(a) && l->n == json_array_size(a);
    json_decref(a);
    if (!ok)
        fprintf(stderr, "error: command needs a JSON array of strings or words\n");
    return ok ? 0 : -1;
}

static int parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"yes", "true", "1", "on"};
    static const char *const no[] = {"no", "false", "0", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
            *out = strcmp(text, yes[i]) == 0;
            return 0;
        }
    }
    fprintf(stderr, "error: tls-insecure is yes or no, not \"%s\"\n", text);
    return -1;
}

static int set_list(const struct opt *o, struct runner_strlist *l, const char *value, int file)
{
    if (!(file && o->split)) {
        strlist_add(l, value, strlen(value));
        return 0;
    }
    for (const char *p = value;;) {
        size_t len = strcspn(p, ",");
        const char *s = p + strspn(p, " \t");
        size_t n = len - (size_t)(s - p);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n > 0)
            strlist_add(l, s, n);
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

/* Applies one setting; file says it comes from the configuration file. */
static int set_option(struct runner_config *cfg, const struct opt *o, const char *value, int file)
{
    void *field = (char *)cfg + o->offset;
    unsigned long long v = 0;
    enum log_level level;
    if (o->kind != K_BOOL && strlen(value) > MAX_LEN) {
        fprintf(stderr, "error: %s is longer than %d bytes\n", o->name, MAX_LEN);
        return -1;
    }
    switch (o->kind) {
    case K_STRING:
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    case K_LIST:
        return set_list(o, field, value, file);
    case K_COMMAND:
        return parse_command(field, value);
    case K_BOOL:
        return parse_bool(value, field);
    case K_LEVEL:
        if (log_level_parse(value, &level) != 0) {
            fprintf(stderr, "error: log-level is one of error, warn, info, debug\n");
            return -1;
        }
        *(int *)field = (int)level;
        return 0;
    case K_INT:
    case K_MS:
    case K_BYTES:
        if (parse_number(o, value, &v) != 0)
            return -1;
        if (o->kind == K_INT)
            *(int *)field = (int)v;
        else
            *(uint64_t *)field = v;
        return 0;
    }
    return -1;
}

static const struct opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

/* ---- the configuration file ---- */

/* One "name = value" line (comments and surrounding blanks removed). */
static int file_line(struct runner_config *cfg, const char *path, int lineno, char *line)
{
    char *hash = strchr(line, '#');
    if (hash != NULL)
        *hash = '\0';
    char *name = line + strspn(line, " \t\r\n");
    if (*name == '\0')
        return 0;
    char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? strcspn(name, " \t=") : 0;
    const struct opt *o = name_len > 0 ? find_opt(name, name_len) : NULL;
    if (o == NULL) {
        fprintf(stderr, "error: %s:%d: expected \"name = value\" with a known name\n", path,
                lineno);
        return -1;
    }
    char *value = eq + 1 + strspn(eq + 1, " \t");
    size_t n = strlen(value);
    while (n > 0 && strchr(" \t\r\n", value[n - 1]) != NULL)
        value[--n] = '\0';
    if (set_option(cfg, o, value, 1) != 0) {
        fprintf(stderr, "error: %s:%d: bad setting %s\n", path, lineno, o->name);
        return -1;
    }
    return 0;
}

static int read_file(struct runner_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "error: cannot read the configuration file %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0)
        rc = file_line(cfg, path, ++lineno, line);
    free(line);
    fclose(f);
    return rc;
}

/* ---- the command line ---- */

/* Applies argv[*i] (and its value); lists seen on the command line replace the file's. */
static int flag(struct runner_config *cfg, int argc, char **argv, int *i, unsigned *lists_seen)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) - 2 : strlen(arg) - 2;
    const struct opt *o = strncmp(arg, "--", 2) == 0 ? find_opt(arg + 2, len) : NULL;
    if (o == NULL) {
        fprintf(stderr, "error: unknown option %s (see --help)\n", arg);
        return -1;
    }
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (value == NULL && o->kind == K_BOOL)
        value = "yes";
    if (value == NULL && *i + 1 >= argc) {
        fprintf(stderr, "error: %s needs a value (see --help)\n", arg);
        return -1;
    }
    if (value == NULL)
        value = argv[++*i];
    unsigned bit = 1u << (unsigned)(o - opts);
    if (o->kind == K_LIST && !(*lists_seen & bit)) {
        strlist_clear((struct runner_strlist *)(void *)((char *)cfg + o->offset));
        *lists_seen |= bit;
    }
    return set_option(cfg, o, value, 0);
}

static int parse_args(struct runner_config *cfg, int argc, char **argv)
{
    unsigned lists_seen = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strcmp(argv[i], "--") == 0) {
            strlist_clear(&cfg->command);
            for (i++; i < argc; i++)
                strlist_add(&cfg->command, argv[i], strlen(argv[i]));
            return 0;
        }
        if (flag(cfg, argc, argv, &i, &lists_seen) != 0)
            return -1;
    }
    return 0;
}

/* ---- checks ---- */

/* path made absolute (it need not exist); NULL when the working directory is unknown. */
static char *absolute(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/')
        return xstrdup(path);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "%s/%s", cwd, path);
    return buf_detach(&b, NULL);
}

static int make_dirs(const char *path)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = strchr(p + 1, '/'); rc == 0; s = strchr(s + 1, '/')) {
        if (s != NULL)
            *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -1;
        if (s == NULL)
            break;
        *s = '/';
    }
    free(p);
    return rc;
}

static int check_workdir(struct runner_config *cfg)
{
    if (cfg->workdir == NULL) {
        const char *tmp = getenv("TMPDIR");
        struct buf b;
        buf_init(&b, BUF_NO_CAP);
        buf_printf(&b, "%s/crowdai-grader", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
        cfg->workdir = buf_detach(&b, NULL);
    }
    char *abs = absolute(cfg->workdir);
    struct stat st;
    if (abs == NULL || make_dirs(abs) != 0 || stat(abs, &st) != 0 || !S_ISDIR(st.st_mode) ||
        access(abs, W_OK | X_OK) != 0) {
        fprintf(stderr, "error: cannot use the work directory %s: %s\n", cfg->workdir,
                strerror(errno));
        free(abs);
        return -1;
    }
    free(cfg->workdir);
    cfg->workdir = abs;
    return 0;
}

/* The evaluator runs in its job's directory: arguments that name an existing file relative to
 * this directory become absolute (argv[0] only when it has a '/': else PATH finds it). */
static void absolute_command(struct runner_config *cfg)
{
    for (size_t i = 0; i < cfg->command.n; i++) {
        char *arg = cfg->command.v[i];
        if (arg[0] == '/' || strchr(arg, '{') != NULL || (i == 0 && strchr(arg, '/') == NULL) ||
            access(arg, F_OK) != 0)
            continue;
        char *abs = absolute(arg);
        if (abs == NULL)
            continue;
        free(arg);
        cfg->command.v[i] = abs;
    }
}

static int check_files(struct runner_config *cfg)
{
    char **paths[] = {&cfg->answer, &cfg->ca_file};
    for (size_t i = 0; i < 2; i++) {
        if (*paths[i] == NULL)
            continue;
        char *real = realpath(*paths[i], NULL);
        if (real == NULL || access(real, R_OK) != 0) {
            fprintf(stderr, "error: cannot read %s: %s\n", *paths[i], strerror(errno));
            free(real);
            return -1;
        }
        free(*paths[i]);
        *paths[i] = real;
    }
    return 0;
}

static int check_pools(const struct runner_config *cfg)
{
    if (cfg->pools.n == 0 || cfg->pools.n > RUNNER_MAX_POOLS) {
        fprintf(stderr, "error: give 1 to %d pools (--pool)\n", RUNNER_MAX_POOLS);
        return -1;
    }
    for (size_t i = 0; i < cfg->pools.n; i++) {
        size_t len = strlen(cfg->pools.v[i]);
        if (len == 0 || len > 63) {
            fprintf(stderr, "error: a pool name has 1 to 63 bytes\n");
            return -1;
        }
    }
    return 0;
}

static int check_env(const struct runner_config *cfg)
{
    for (size_t i = 0; i < cfg->env.n; i++) {
        const char *e = cfg->env.v[i];
        if (e[0] == '=' || strchr(e, '=') == NULL) {
            fprintf(stderr, "error: env needs NAME=VALUE, not \"%s\"\n", e);
            return -1;
        }
    }
    return 0;
}

static int check_url(const char *url)
{
    static const char *const schemes[] = {"ws://", "wss://", "http://", "https://"};
    for (size_t i = 0; url != NULL && i < 4; i++) {
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0 && url[strlen(schemes[i])] != '\0')
            return 0;
    }
    fprintf(stderr, "error: --broker needs a ws://, wss://, http:// or https:// URL\n");
    return -1;
}

static void default_name(struct runner_config *cfg)
{
    char host[256];
    if (cfg->name != NULL)
        return;
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "grader");
    host[sizeof(host) - 1] = '\0';
    host[strcspn(host, ".")] = '\0';
    cfg->name = xstrdup(host);
}

static int check(struct runner_config *cfg)
{
    if (check_url(cfg->broker_url) != 0)
        return -1;
    if (cfg->key == NULL || cfg->key[0] == '\0' || strpbrk(cfg->key, "\r\n") != NULL) {
        fprintf(stderr, "error: no grader key: set CROWDAI_GRADER_KEY, or key in the file\n");
        return -1;
    }
    if (cfg->command.n == 0) {
        fprintf(stderr, "error: no evaluator command (--command, or the words after --)\n");
        return -1;
    }
    default_name(cfg);
    if (strlen(cfg->name) > 60) {
        fprintf(stderr, "error: --name has at most 60 bytes\n");
        return -1;
    }
    if (cfg->submission_name == NULL)
        cfg->submission_name = xstrdup("submission");
    if (strchr(cfg->submission_name, '/') != NULL || cfg->submission_name[0] == '.' ||
        cfg->submission_name[0] == '\0') {
        fprintf(stderr, "error: --submission-name is a plain file name\n");
        return -1;
    }
    absolute_command(cfg);
    return check_pools(cfg) == 0 && check_env(cfg) == 0 && check_files(cfg) == 0 &&
                   check_workdir(cfg) == 0
               ? 0
               : -1;
}

int runner_config_parse(struct runner_config *cfg, int argc, char **argv)
{
    set_defaults(cfg);
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            runner_config_usage(argv[0]);
            return 1;
        }
    }
    /* The file first, then the environment, so that flags on the command line win. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--config") != 0)
            continue;
        if (i + 1 >= argc || read_file(cfg, argv[++i]) != 0) {
            if (i + 1 >= argc)
                fprintf(stderr, "error: --config needs a file\n");
            return -1;
        }
    }
    const char *key = getenv("CROWDAI_GRADER_KEY");
    if (key != NULL && key[0] != '\0') {
        free(cfg->key);
        cfg->key = xstrdup(key);
    }
    if (parse_args(cfg, argc, argv) != 0)
        return -1;
    return check(cfg);
}

/* A help text whose lines after the first are indented under the first. */
static void print_help(const char *help)
{
    for (const char *h = help; *h != '\0'; h++) {
        if (*h == '\n')
            printf("\n%27s", "");
        else
            putchar(*h);
    }
    putchar('\n');
}

void runner_config_usage(const char *prog)
{
    printf("usage: %s --broker URL --pool POOL [options] -- EVALUATOR [ARG...]\n\n"
           "Takes jobs from a crowdai-broker as a grader (namespace /grader), runs the\n"
           "challenge's evaluator for each one and reports its progress and result.\n"
           "Times are in ms unless suffixed s, m or h; sizes in bytes unless k, M or G.\n\n"
           "  --config FILE            read settings from FILE: \"name = value\" lines, names\n"
           "                           as the options below without \"--\" (flags win)\n",
           prog);
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s %s", opts[i].name, opts[i].arg);
        printf("  %-24s ", left);
        print_help(opts[i].help);
    }
    printf("\nThe grader key also comes from the environment variable CROWDAI_GRADER_KEY.\n"
           "SIGTERM or SIGINT: no new jobs; running ones may finish for --shutdown-grace,\n"
           "then they are handed back to the broker; exit status 0. See docs/grader.md.\n");
}
