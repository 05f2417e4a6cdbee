/* The submissions this machine made, remembered so that `crowdai watch ID` (and status,
 * cancel) know which challenge to authenticate for without being told: one line
 * "BROKER<TAB>ID<TAB>CHALLENGE" per submission in $XDG_STATE_HOME/crowdai/submissions
 * (by default ~/.local/state/crowdai), mode 0600, trimmed to its last lines past 1 MiB. */
#ifndef CLI_CLI_RECORD_H
#define CLI_CLI_RECORD_H

#include <stddef.h>

/* Remembers that submission id on broker belongs to challenge. Returns 0 or -1 (the caller
 * only warns: the submission itself is fine). */
int cli_record_add(const char *broker, long long id, const char *challenge);
/* The challenge of submission id on broker, most recent line first. Returns 0, or -1 when
 * it is not remembered. */
int cli_record_find(const char *broker, long long id, char *challenge, size_t n);

#endif
