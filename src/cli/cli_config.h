/* Where the broker is and which API key to use: the configuration file that `crowdai login`
 * writes ($XDG_CONFIG_HOME/crowdai/config, by default ~/.config/crowdai/config; mode 0600
 * in a 0700 directory), overridden by CROWDAI_BROKER and CROWDAI_API_KEY, themselves
 * overridden by --broker and --api-key. */
#ifndef CLI_CLI_CONFIG_H
#define CLI_CLI_CONFIG_H

#include <stddef.h>

#include "cli/cli.h"

struct cli_settings {
    char broker[CLI_URL_MAX]; /* "" when none was given anywhere */
    char api_key[CLI_KEY_MAX];
    char path[CLI_URL_MAX]; /* the configuration file */
};

/* $XDG_CONFIG_HOME/crowdai (or ~/.config/crowdai) into out. Returns 0, or -1 when neither
 * XDG_CONFIG_HOME nor a home directory is known. */
int cli_config_dir(char *out, size_t n);
/* $XDG_STATE_HOME/crowdai (or ~/.local/state/crowdai). */
int cli_state_dir(char *out, size_t n);
/* Creates dir (and missing parents) with mode 0700, and sets 0700 on dir itself. */
int cli_make_private_dir(const char *dir);

/* Fills s from the file, the environment and the flags (NULL when not given). Returns 0,
 * or CLI_EXIT_LOCAL after saying why the file could not be read. */
int cli_settings_load(struct cli_settings *s, const char *flag_broker, const char *flag_key);
/* Writes broker and api_key to the configuration file (atomically, mode 0600). Returns 0,
 * or -1 with the reason in why. */
int cli_config_save(const char *broker, const char *api_key, char *why, size_t n);

/* The broker URL with a scheme: "host:port" becomes "http://host:port"; the rest as given.
 * Returns 0, or -1 when the result does not fit or the URL is not http(s)/ws(s). */
int cli_broker_url(const char *given, char *out, size_t n);

#endif
