/* Refusals and problems, in words and in JSON; see cli_report.h. */
#include "cli/cli_report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_json.h"

void cli_format_time(const char *iso, char *out, size_t n)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL) {
        snprintf(out, n, "%s", iso);
        return;
    }
    time_t at = timegm(&tm);
    time_t now = time(NULL);
    struct tm local;
    char when[64];
    localtime_r(&at, &local);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &local);
    long long left = (long long)(at - now);
    if (left <= 0)
        snprintf(out, n, "%s (now)", when);
    else if (left < 3600)
        snprintf(out, n, "%s (in %lld min)", when, (left + 59) / 60);
    else if (left < 86400 * 2)
        snprintf(out, n, "%s (in %lld h %lld min)", when, left / 3600, (left % 3600) / 60);
    else
        snprintf(out, n, "%s (in %lld days)", when, left / 86400);
}

/* What to do next after a refusal, when the broker's message does not say it already. */
static const char *hint(const char *code)
{
    static const struct {
        const char *code;
        const char *hint;
    } hints[] = {
        {"BAD_API_KEY", "Check your API key: run 'crowdai login' again, or give --api-key or "
                        "CROWDAI_API_KEY."},
        {"NOT_FOUND", "Check the submission id: you only see your own submissions, on the "
                      "broker that took them."},
        {"TOO_MANY_IN_FLIGHT", "Wait until one of your submissions is graded, then submit "
                               "again."},
        {"UNKNOWN_CHALLENGE", "Check the challenge id (--challenge)."},
        {"SESSION_REVOKED", "Your API key changed: run 'crowdai login' with the new one."},
    };
    for (size_t i = 0; code != NULL && i < sizeof(hints) / sizeof(hints[0]); i++) {
        if (strcmp(code, hints[i].code) == 0)
            return hints[i].hint;
    }
    return NULL;
}

int cli_report_refusal(struct cli_out *o, json_t *refusal)
{
    const char *message = cli_json_str(refusal, "message");
    const char *code = cli_json_str(refusal, "code");
    const char *reset = cli_json_str(refusal, "reset_at");
    int64_t remaining = -1;
    if (o->json) {
        json_t *line = json_pack("{s:i}", "exit_status", CLI_EXIT_REFUSED);
        json_object_update(line, refusal);
        json_object_del(line, "ok");
        cli_out_json(o, "error", line);
        json_decref(line);
    }
    cli_out_problem(o, "%s", message != NULL ? message : "The broker refused.");
    if (cli_json_int(refusal, "submissions_remaining", &remaining) == 0 && remaining >= 0)
        fprintf(stderr, "crowdai: Submissions left in this period: %lld.\n", (long long)remaining);
    if (reset != NULL) {
        char when[160];
        cli_format_time(reset, when, sizeof(when));
        fprintf(stderr, "crowdai: You can submit again after %s.\n", when);
    }
    if (hint(code) != NULL)
        fprintf(stderr, "crowdai: %s\n", hint(code));
    return CLI_EXIT_REFUSED;
}

int cli_report_problem(struct cli_out *o, int status, const char *problem)
{
    if (o->json) {
        json_t *line = json_pack("{s:i,s:s}", "exit_status", status, "message", problem);
        if (line != NULL)
            cli_out_json(o, "error", line);
        json_decref(line);
    }
    cli_out_problem(o, "%s", problem);
    return status;
}
