/* `crowdai login`: asks for (or takes) the broker URL and the API key, checks them with the
 * broker when a challenge is given, and stores them for the other commands (cli_config). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_command.h"
#include "cli/cli_report.h"
#include "core/utf8.h"

static const char help[] =
    "Usage: crowdai login [--broker URL] [--api-key KEY] [--challenge ID]\n"
    "\n"
    "Stores the broker URL and your API key in $XDG_CONFIG_HOME/crowdai/config (by default\n"
    "~/.config/crowdai/config), readable by you alone (mode 0600, in a 0700 directory).\n"
    "What is not given as an option is asked for (or read as a line from standard input\n"
    "when it is not a terminal; an empty answer keeps the value stored before).\n"
    "Later commands use them; CROWDAI_BROKER and CROWDAI_API_KEY, then --broker and\n"
    "--api-key, override them.\n"
    "\n"
    "Options:\n"
    "  --broker URL    the broker, as http(s)://HOST[:PORT]\n"
    "  --api-key KEY   your API key (from your profile page)\n"
    "  --challenge ID  check the key with the broker on this challenge before storing it\n"
    "  --json          one JSON object (the default when stdout is not a terminal)\n"
    "\n"
    "Exit status: 0 stored, 2 the broker refused the key, 3 connection failure,\n"
    "4 the file cannot be written, 64 usage error, 130 Ctrl-C.\n";

#define ANSWER_TIMEOUT_MS (5 * 60 * 1000) /* a question waits this long for its answer */

static volatile sig_atomic_t interrupted;

static void on_sigint(int signum)
{
    (void)signum;
    interrupted = 1;
}

/* Reads one line of at most n-1 bytes from stdin, a byte at a time (so that nothing after
 * the line is taken), waiting at most ANSWER_TIMEOUT_MS for each byte. Returns 0, or -1 at
 * the end of the input, on Ctrl-C or when no answer comes. */
static int read_line(char *out, size_t n)
{
    size_t len = 0;
    for (;;) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        char ch;
        int ready = poll(&pfd, 1, ANSWER_TIMEOUT_MS);
        if (ready < 0 && errno == EINTR && !interrupted)
            continue;
        if (ready <= 0 || interrupted)
            return -1;
        ssize_t got = read(STDIN_FILENO, &ch, 1);
        if (got < 0 && errno == EINTR && !interrupted)
            continue;
        if (got <= 0 && len == 0)
            return -1;
        if (got <= 0 || ch == '\n')
            break; /* a last line without its newline counts */
        if (len + 1 < n && ch != '\r')
            out[len++] = ch;
    }
    out[len] = '\0';
    return 0;
}

/* Asks question on the terminal (without echo for a secret) and reads the answer into out;
 * an empty answer keeps current. Returns 0, or -1 (see read_line). */
static int ask(const char *question, const char *current, int secret, char *out, size_t n)
{
    int tty = isatty(STDIN_FILENO);
    struct termios saved, quiet;
    struct sigaction sa, old;
    int hidden = 0;
    if (tty && secret && current[0] != '\0')
        fprintf(stderr, "%s [Enter keeps the stored one]: ", question);
    else if (tty && current[0] != '\0')
        fprintf(stderr, "%s [%s]: ", question, current);
    else if (tty)
        fprintf(stderr, "%s: ", question);
    if (tty && secret && tcgetattr(STDIN_FILENO, &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        hidden = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    /* Ctrl-C must not leave the terminal without echo: the read stops, then we restore. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    int rc = read_line(out, n);
    sigaction(SIGINT, &old, NULL);
    if (hidden) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (rc == 0 && out[0] == '\0')
        snprintf(out, n, "%s", current);
    return rc;
}

/* Fills broker and key from the flags or by asking. */
static int gather(struct cli_command *c, char *broker, char *key)
{
    if (c->common.broker != NULL)
        snprintf(broker, CLI_URL_MAX, "%s", c->common.broker);
    else if (ask("Broker URL", c->settings.broker, 0, broker, CLI_URL_MAX) != 0)
        return interrupted ? CLI_EXIT_INTERRUPTED
                           : cli_usage_error("login", "no broker URL was given.");
    if (c->common.api_key != NULL)
        snprintf(key, CLI_KEY_MAX, "%s", c->common.api_key);
    else if (ask("API key", c->settings.api_key, 1, key, CLI_KEY_MAX) != 0)
        return interrupted ? CLI_EXIT_INTERRUPTED
                           : cli_usage_error("login", "no API key was given.");
    if (broker[0] == '\0')
        return cli_usage_error("login", "no broker URL was given.");
    if (key[0] == '\0' || strpbrk(key, " \t") != NULL || !utf8_valid(key, strlen(key)))
        return cli_usage_error("login", "the API key must be one word of text.");
    char url[CLI_URL_MAX];
    if (cli_broker_url(broker, url, sizeof(url)) != 0 || strpbrk(url, " \t") != NULL)
        return cli_usage_error("login", "the broker URL must look like http://HOST:PORT or "
                                        "https://HOST.");
    snprintf(broker, CLI_URL_MAX, "%s", url);
    return 0;
}

/* Authenticates on challenge with the new settings: the key is refused or not. */
static int check(struct cli_command *c, const char *broker, const char *key, const char *challenge)
{
    snprintf(c->settings.broker, sizeof(c->settings.broker), "%s", broker);
    snprintf(c->settings.api_key, sizeof(c->settings.api_key), "%s", key);
    int rc = cli_command_connect(c, 30);
    if (rc == 0)
        rc = cli_command_authenticate(c, challenge);
    if (rc != 0)
        fprintf(stderr, "crowdai: Nothing was stored.\n");
    return rc;
}

int cli_cmd_login(int argc, char **argv)
{
    const char *challenge = NULL;
    char broker[CLI_URL_MAX], key[CLI_KEY_MAX], why[600];
    struct cli_command c = {.name = "login"};
    const struct cli_opt opts[] = {
        {"challenge", CLI_OPT_TEXT, &challenge, 0, 0, CLI_CHALLENGE_MAX - 1},
        {NULL, CLI_OPT_FLAG, NULL, 0, 0, 0},
    };
    struct cli_command_line cl = {"login", opts, &c.common, NULL, 0, 0};
    if (cli_args_parse(&cl, argc, argv) != 0)
        return CLI_EXIT_USAGE;
    if (c.common.help) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    cli_out_init(&c.out, c.common.json);
    int rc = cli_settings_load(&c.settings, NULL, NULL);
    if (rc == 0)
        rc = gather(&c, broker, key);
    if (rc == 0 && challenge != NULL)
        rc = check(&c, broker, key, challenge);
    if (rc == 0 && cli_config_save(broker, key, why, sizeof(why)) != 0)
        rc = cli_report_problem(&c.out, CLI_EXIT_LOCAL, why);
    if (rc == 0 && c.out.json) {
        json_t *line = json_pack("{s:s,s:s,s:b}", "config", c.settings.path, "broker", broker,
                                 "checked", challenge != NULL);
        cli_out_json(&c.out, "login", line);
        json_decref(line);
    } else if (rc == 0) {
        cli_out_text(&c.out, "Saved the broker URL and API key to %s (readable by you only).%s",
                     c.settings.path, challenge != NULL ? " The broker accepted the key." : "");
    }
    return cli_command_end(&c, rc);
}
