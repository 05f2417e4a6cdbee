/* The evaluator's command line and environment, built from a spec before the fork: the
 * placeholders in argv, the CROWDAI_* variables, the few variables passed on from this
 * process, and the program looked up in PATH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "grader/eval_internal.h"

#define MAX_ARGS     1024
#define MAX_ENV      1024
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* The only variables of this process the evaluator sees (the grader's own secrets stay). */
static const char *const passed_on[] = {"PATH",     "HOME", "LANG",  "LC_ALL",
                                        "LC_CTYPE", "TZ",   "TMPDIR"};

char *eval_substitute(const char *arg, const struct eval_spec *spec)
{
    char id[32], round[16];
    snprintf(id, sizeof(id), "%lld", (long long)spec->submission_id);
    snprintf(round, sizeof(round), "%d", spec->round);
    const char *names[] = {"{submission}", "{answer}", "{submission_id}", "{round}"};
    const char *values[] = {spec->submission_file != NULL ? spec->submission_file : "",
                            spec->answer_file != NULL ? spec->answer_file : "", id, round};
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    const char *p = arg;
    while (*p != '\0') {
        size_t i = 0;
        while (i < sizeof(names) / sizeof(names[0]) && strncmp(p, names[i], strlen(names[i])) != 0)
            i++;
        if (i < sizeof(names) / sizeof(names[0])) {
            buf_append_str(&b, values[i]);
            p += strlen(names[i]);
        } else {
            buf_append_char(&b, *p++);
        }
    }
    return buf_detach(&b, NULL);
}

char *eval_find_program(const char *name, const char *dirs)
{
    struct buf path;
    buf_init(&path, BUF_NO_CAP);
    const char *p = dirs;
    while (name[0] != '\0' && p != NULL) {
        const char *colon = strchr(p, ':');
        size_t n = colon != NULL ? (size_t)(colon - p) : strlen(p);
        buf_reset(&path);
        if (n == 0)
            buf_append_char(&path, '.'); /* an empty entry is the working directory */
        else
            buf_append(&path, p, n);
        buf_printf(&path, "/%s", name);
        struct stat st;
        if (stat(path.data, &st) == 0 && S_ISREG(st.st_mode) && access(path.data, X_OK) == 0)
            return buf_detach(&path, NULL);
        p = colon != NULL ? colon + 1 : NULL;
    }
    buf_release(&path);
    return NULL;
}

/* ---- the environment ---- */

struct env_list {
    char **items;
    size_t count;
};

static size_t name_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq != NULL ? (size_t)(eq - entry) : strlen(entry);
}

/* Adds NAME=value (taken), replacing an entry of the same name. */
static void env_put(struct env_list *env, char *entry)
{
    size_t n = name_len(entry);
    for (size_t i = 0; i < env->count; i++) {
        if (name_len(env->items[i]) == n && strncmp(env->items[i], entry, n) == 0) {
            free(env->items[i]);
            env->items[i] = entry;
            return;
        }
    }
    env->items = xrealloc(env->items, (env->count + 2) * sizeof(*env->items));
    env->items[env->count++] = entry;
    env->items[env->count] = NULL;
}

static void env_putf(struct env_list *env, const char *name, const char *value)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "%s=%s", name, value);
    env_put(env, buf_detach(&b, NULL));
}

static const char *env_get(const struct env_list *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < env->count; i++) {
        if (name_len(env->items[i]) == n && strncmp(env->items[i], name, n) == 0)
            return env->items[i] + n + 1;
    }
    return NULL;
}

/* Whether entry is NAME=value with a NAME of letters, digits and '_', not starting with a
 * digit. */
static int env_entry_valid(const char *entry)
{
    size_t n = name_len(entry);
    if (n == 0 || entry[n] != '=' || (entry[0] >= '0' && entry[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = entry[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

static int build_env(struct env_list *env, const struct eval_spec *spec, char *err, size_t errlen)
{
    char number[32];
    for (size_t i = 0; i < sizeof(passed_on) / sizeof(passed_on[0]); i++) {
        const char *value = getenv(passed_on[i]);
        if (value != NULL)
            env_putf(env, passed_on[i], value);
    }
    if (env_get(env, "PATH") == NULL)
        env_putf(env, "PATH", DEFAULT_PATH);
    env_putf(env, "PYTHONUNBUFFERED", "1"); /* progress lines arrive as they are printed */
    env_putf(env, "CROWDAI_SUBMISSION_FILE",
             spec->submission_file != NULL ? spec->submission_file : "");
    env_putf(env, "CROWDAI_ANSWER_FILE", spec->answer_file != NULL ? spec->answer_file : "");
    snprintf(number, sizeof(number), "%lld", (long long)spec->submission_id);
    env_putf(env, "CROWDAI_SUBMISSION_ID", number);
    snprintf(number, sizeof(number), "%d", spec->round);
    env_putf(env, "CROWDAI_ROUND", number);
    env_putf(env, "CROWDAI_DATA", spec->data_json != NULL ? spec->data_json : "null");
    snprintf(number, sizeof(number), "%d", EVAL_RESULT_FD);
    env_putf(env, "CROWDAI_RESULT_FD", number);
    for (size_t i = 0; spec->env != NULL && spec->env[i] != NULL; i++) {
        if (i >= MAX_ENV || !env_entry_valid(spec->env[i])) {
            snprintf(err, errlen, "bad environment entry %zu: expected NAME=value", i);
            return -1;
        }
        env_put(env, xstrdup(spec->env[i]));
    }
    return 0;
}

/* ---- the command ---- */

static void free_list(char **list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        free(list[i]);
    free(list);
}

static int check_spec(const struct eval_spec *spec, char *err, size_t errlen)
{
    if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] == '\0') {
        snprintf(err, errlen, "no evaluator command");
        return -1;
    }
    size_t n = 0;
    while (spec->argv[n] != NULL)
        n++;
    if (n > MAX_ARGS) {
        snprintf(err, errlen, "the evaluator command has more than %d arguments", MAX_ARGS);
        return -1;
    }
    if (spec->data_json != NULL && strlen(spec->data_json) > EVAL_DATA_MAX) {
        snprintf(err, errlen, "the submission's data is larger than %d bytes", EVAL_DATA_MAX);
        return -1;
    }
    return 0;
}

int eval_command_build(struct eval_command *c, const struct eval_spec *spec, char *err,
                       size_t errlen)
{
    struct env_list env = {NULL, 0};
    memset(c, 0, sizeof(*c));
    if (check_spec(spec, err, errlen) != 0)
        return -1;
    if (build_env(&env, spec, err, errlen) != 0) {
        free_list(env.items);
        return -1;
    }
    size_t n = 0;
    while (spec->argv[n] != NULL)
        n++;
    c->argv = xcalloc(n + 1, sizeof(*c->argv));
    for (size_t i = 0; i < n; i++)
        c->argv[i] = eval_substitute(spec->argv[i], spec);
    c->envp = env.items;
    if (strchr(c->argv[0], '/') != NULL)
        c->path = xstrdup(c->argv[0]); /* relative to the working directory, if relative */
    else
        c->path = eval_find_program(c->argv[0], env_get(&env, "PATH"));
    return 0;
}

void eval_command_release(struct eval_command *c)
{
    free_list(c->argv);
    free_list(c->envp);
    free(c->path);
    memset(c, 0, sizeof(*c));
}
