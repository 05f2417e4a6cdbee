/* crowdai-admin: parsing a command's options and values, and reporting errors in plain
 * words. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"

int admin_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("crowdai-admin: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return ADMIN_FAIL;
}

static void usage_vprint(const struct admin_cmd *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void usage_vprint(const struct admin_cmd *cmd, const char *fmt, va_list ap)
{
    fputs("crowdai-admin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    if (cmd != NULL)
        fprintf(stderr, "usage: crowdai-admin --data DIR %s %s\nTry 'crowdai-admin %s --help'.\n",
                cmd->name, cmd->synopsis, cmd->name);
}

int admin_usage(struct admin *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_vprint(a != NULL ? a->cmd : NULL, fmt, ap);
    va_end(ap);
    return ADMIN_USAGE;
}

static int usage_cmd(const struct admin_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_cmd(const struct admin_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_vprint(cmd, fmt, ap);
    va_end(ap);
    return ADMIN_USAGE;
}

/* Looks name (of length len) up in the command's option list: 1 takes a value, 0 a flag,
 * -1 unknown. */
static int opt_lookup(const char *spec, const char *name, size_t len)
{
    const char *p = spec;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " =");
        if (n > 0 && n == len && strncmp(p, name, len) == 0)
            return p[n] == '=' ? 1 : 0;
        p += n;
        if (*p == '=')
            p++;
    }
    return -1;
}

static int add_opt(const struct admin_cmd *cmd, struct admin_args *out, const char *name,
                   const char *value)
{
    for (int i = 0; i < out->nopts; i++) {
        if (strcmp(out->opts[i].name, name) == 0)
            return usage_cmd(cmd, "option --%s is given twice", name);
    }
    if (out->nopts == ADMIN_MAX_OPTS)
        return usage_cmd(cmd, "too many options");
    out->opts[out->nopts].name = name;
    out->opts[out->nopts].value = value;
    out->nopts++;
    return 0;
}

/* "--name value", "--name=value" or "--flag" at argv[*i]. */
static int parse_opt(const struct admin_cmd *cmd, int argc, char **argv, int *i,
                     struct admin_args *out)
{
    char *name = argv[*i] + 2;
    char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    int kind = opt_lookup(cmd->opts != NULL ? cmd->opts : "", name, len);
    if (kind < 0)
        return usage_cmd(cmd, "unknown option --%.*s", (int)len, name);
    if (kind == 0 && eq != NULL)
        return usage_cmd(cmd, "option --%.*s takes no value", (int)len, name);
    const char *value = NULL;
    if (kind == 1 && eq != NULL) {
        *eq = '\0';
        value = eq + 1;
    } else if (kind == 1) {
        if (*i + 1 >= argc)
            return usage_cmd(cmd, "option --%s needs a value", name);
        value = argv[++*i];
    }
    return add_opt(cmd, out, name, value);
}

int admin_args_parse(const struct admin_cmd *cmd, int argc, char **argv, struct admin_args *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
            int rc = parse_opt(cmd, argc, argv, &i, out);
            if (rc != 0)
                return rc;
        } else if (out->npos == cmd->max_pos || out->npos == ADMIN_MAX_POS) {
            return usage_cmd(cmd, "unexpected argument '%s'", arg);
        } else {
            out->pos[out->npos++] = arg;
        }
    }
    if (out->npos < cmd->min_pos)
        return usage_cmd(cmd, "missing arguments");
    return 0;
}

const char *admin_args_get(const struct admin_args *args, const char *name)
{
    for (int i = 0; i < args->nopts; i++) {
        if (strcmp(args->opts[i].name, name) == 0)
            return args->opts[i].value != NULL ? args->opts[i].value : "";
    }
    return NULL;
}

int admin_args_flag(const struct admin_args *args, const char *name)
{
    return admin_args_get(args, name) != NULL;
}

int admin_parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int admin_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int admin_args_int(struct admin *a, const struct admin_args *args, const char *name, long long min,
                   long long max, long long *out)
{
    const char *v = admin_args_get(args, name);
    if (v == NULL)
        return 1;
    if (admin_parse_int(v, min, max, out) != 0)
        return admin_usage(a, "--%s must be a whole number from %lld to %lld, not '%s'", name, min,
                           max, v);
    return 0;
}

int admin_copy(struct admin *a, char *dst, size_t size, const char *src, const char *what)
{
    if (strlen(src) >= size)
        return admin_usage(a, "%s is too long (at most %zu bytes)", what, size - 1);
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}
