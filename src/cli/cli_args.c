/* Option parsing for the commands; see cli_args.h. */
#include "cli/cli_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/utf8.h"

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "crowdai %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'crowdai %s --help' to see how to use it.\n", command);
    return CLI_EXIT_USAGE;
}

int cli_parse_id(const char *text, long long *id)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return -1;
    *id = v;
    return 0;
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *name, size_t len)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

static int set_value(const struct cli_command_line *cl, const struct cli_opt *o, const char *value)
{
    if (o->kind == CLI_OPT_TEXT) {
        size_t len = strlen(value);
        if (len == 0 || len > o->max_len)
            return cli_usage_error(cl->command, "--%s must be 1 to %zu bytes long.", o->name,
                                   o->max_len);
        if (!utf8_valid(value, len))
            return cli_usage_error(cl->command, "--%s is not valid UTF-8 text.", o->name);
        *(const char **)o->target = value;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max)
        return cli_usage_error(cl->command,
                               "--%s must be a whole number from %ld to %ld, not '%s'.", o->name,
                               o->min, o->max, value);
    *(long *)o->target = v;
    return 0;
}

/* Handles the option argv[*i] ("--name" or "--name=value"), taking its value from the next
 * argument when needed. */
static int parse_option(const struct cli_command_line *cl, const struct cli_opt *common, int argc,
                        char **argv, int *i)
{
    const char *arg = argv[*i];
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    if (arg[1] != '-' || len == 0)
        return cli_usage_error(cl->command, "unknown option '%s'.", arg);
    const struct cli_opt *o = find_opt(common, name, len);
    if (o == NULL)
        o = find_opt(cl->opts, name, len);
    if (o == NULL)
        return cli_usage_error(cl->command, "unknown option '--%.*s'.", (int)len, name);
    if (o->kind == CLI_OPT_FLAG) {
        if (eq != NULL)
            return cli_usage_error(cl->command, "--%s takes no value.", o->name);
        *(int *)o->target = 1;
        return 0;
    }
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (value == NULL && *i + 1 < argc)
        value = argv[++*i];
    if (value == NULL)
        return cli_usage_error(cl->command, "--%s needs a value.", o->name);
    return set_value(cl, o, value);
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int cli_args_parse(struct cli_command_line *cl, int argc, char **argv)
{
    struct cli_common *c = cl->common;
    const struct cli_opt common[] = {
        {"broker", CLI_OPT_TEXT, &c->broker, 0, 0, CLI_URL_MAX - 1},
        {"api-key", CLI_OPT_TEXT, &c->api_key, 0, 0, CLI_KEY_MAX - 1},
        {"json", CLI_OPT_FLAG, &c->json, 0, 0, 0},
        {NULL, CLI_OPT_FLAG, NULL, 0, 0, 0},
    };
    cl->n_positional = 0;
    if (wants_help(argc, argv)) {
        c->help = 1;
        return 0;
    }
    int options_done = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            if (parse_option(cl, common, argc, argv, &i) != 0)
                return CLI_EXIT_USAGE;
        } else if (cl->n_positional < cl->max_positional) {
            cl->positional[cl->n_positional++] = arg;
        } else {
            return cli_usage_error(cl->command, "unexpected argument '%s'.", arg);
        }
    }
    return 0;
}
