/* How a command that did not succeed says so: the broker's refusal in its own words with
 * when the quota resets and what to do next, or a problem of ours (connection, local file),
 * on stderr in plain words and, in JSON mode, as a last {"kind":"error",...} line. */
#ifndef CLI_CLI_REPORT_H
#define CLI_CLI_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "cli/cli_out.h"

/* Reports the broker's refusal ({ok:false, code, message, reset_at?, ...}); returns
 * CLI_EXIT_REFUSED. */
int cli_report_refusal(struct cli_out *o, json_t *refusal);
/* Reports problem (plain words) and ends with status; returns status. */
int cli_report_problem(struct cli_out *o, int status, const char *problem);
/* "2026-11-27 00:00:00 UTC (in 5 h 3 min)" for an ISO 8601 UTC time, in local time; the
 * text as given when it cannot be read. */
void cli_format_time(const char *iso, char *out, size_t n);

#endif
