/* crowdai-grader's settings: defaults, then a configuration file ("name = value" lines), then
 * the environment (CROWDAI_GRADER_KEY), then command-line flags; validated once at start.
 * docs/grader.md lists them all. */
#ifndef GRADER_RUNNER_CONFIG_H
#define GRADER_RUNNER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "grader/eval_run.h"

#define RUNNER_MAX_POOLS    8  /* as the broker accepts */
#define RUNNER_MAX_CAPACITY 64 /* likewise */

/* A NULL-terminated list of owned strings. */
struct runner_strlist {
    char **v; /* NULL when empty */
    size_t n;
};

struct runner_config {
    char *broker_url;              /* ws://, wss://, http:// or https:// */
    char *key;                     /* the grader key (never logged) */
    struct runner_strlist pools;   /* 1..RUNNER_MAX_POOLS */
    int capacity;                  /* evaluators at once, 1..RUNNER_MAX_CAPACITY */
    char *name;                    /* shown in the broker's logs */
    struct runner_strlist command; /* the evaluator's argv, placeholders kept */
    struct runner_strlist env;     /* extra NAME=VALUE for the evaluator */
    char *answer;                  /* absolute path of the answer file, or NULL */
    char *workdir;                 /* absolute; a directory per job is made inside */
    char *submission_name;         /* the downloaded file's name in the job directory */
    char *ca_file;                 /* PEM bundle for wss/https, or NULL: the system's */
    int tls_insecure;              /* no certificate check (tests only) */
    struct eval_limits limits;
    uint64_t kill_grace_ms;        /* SIGTERM to SIGKILL */
    uint64_t progress_interval_ms; /* at most one progress report per interval */
    uint64_t heartbeat_ms;         /* longest silence about a job (renews its lease) */
    uint64_t shutdown_grace_ms;    /* after SIGTERM, before running jobs are cancelled */
    uint64_t report_retry_ms;      /* how long one report is retried */
    uint64_t ack_timeout_ms;       /* for the broker's ack of one report */
    uint64_t download_timeout_ms;  /* one submission file download */
    uint64_t max_download;         /* bytes of one submission file */
    int log_level;
};

/* Fills cfg from the defaults, the file given with --config, CROWDAI_GRADER_KEY and argv
 * (later ones win; a list given on the command line replaces the file's). Everything after
 * "--" is the evaluator command. Returns 0, 1 when --help was printed, or -1 after printing
 * the problem to stderr. cfg must be released with runner_config_release in every case. */
int runner_config_parse(struct runner_config *cfg, int argc, char **argv);
void runner_config_release(struct runner_config *cfg);
void runner_config_usage(const char *prog);

#endif
