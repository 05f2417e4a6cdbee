/* crowdai-admin: the registry's administration command line. The command table below maps
 * each command to one function; global options are --data DIR and --help. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/admin.h"
#include "core/xalloc.h"
#include "registry/reg_store.h"
#include "registry/reg_time.h"

#define DB_FILE "registry.sqlite3"

static const struct admin_cmd commands[] = {
    {"challenge create", "ID --title T --pool P --primary NAME[:asc|desc] [options]",
     "create a challenge",
     "  ID                          slug: 1-63 characters of a-z, 0-9 and '-'\n"
     "  --title T                   title shown to participants (required)\n"
     "  --pool P                    grader pool that grades it (required)\n"
     "  --primary NAME[:asc|desc]   primary score; desc (the default) = higher is better\n"
     "  --secondary NAME[:asc|desc] tie-breaking score\n"
     "  --max-upload BYTES          largest upload accepted (default 52428800)\n"
     "  --types .csv,.zip           accepted file extensions (default: any)\n"
     "  --time-limit SECONDS        per grading job (default 600)\n"
     "  --max-attempts N            deliveries before a job is dead-lettered (default 3)\n"
     "  --precision N               digits after the decimal point on leaderboards, 0-12\n"
     "                              (default 3)\n",
     "title= pool= primary= secondary= max-upload= types= time-limit= max-attempts= precision=", 1,
     1, admin_challenge_create},
    {"challenge update", "ID [--title T] [--pool P] [--primary NAME[:asc|desc]] [options]",
     "change a challenge (only the options given)",
     "  Takes the options of 'challenge create'; each one given replaces the stored value.\n"
     "  --secondary '' removes the secondary score.\n",
     "title= pool= primary= secondary= max-upload= types= time-limit= max-attempts= precision=", 1,
     1, admin_challenge_update},
    {"challenge import", "FILE.json",
     "create or update a challenge and its rounds from a definition file",
     "  FILE.json holds one challenge object with a \"rounds\" array (see docs/registry.md).\n"
     "  Everything is applied in one transaction: on any error nothing changes.\n",
     "", 1, 1, admin_import_challenge},
    {"challenge list", "[--json]", "list the challenges", "  --json   print JSON\n", "json", 0, 0,
     admin_challenge_list},
    {"round add", "CHALLENGE N --start ISO8601 --end ISO8601 [options]",
     "add round N to a challenge",
     "  --start, --end T      when it opens and closes, e.g. 2026-11-26T14:00:00Z (required)\n"
     "  --limit N             submissions per participant per period; 0 = unlimited (default)\n"
     "  --period P            day (rolling 24 h, default), week (rolling 7 days) or round\n"
     "  --refund N            failed submissions per period that do not count (default 0)\n"
     "  --parallel N          submissions in flight per participant; 0 = unlimited (default)\n"
     "  --min-score X|none    score needed here to qualify for round N+1 (default none)\n"
     "  --late yes|no         accept (and mark) submissions after the end (default no)\n",
     "start= end= limit= period= refund= parallel= min-score= late=", 2, 2,
     admin_challenge_round_add},
    {"round update", "CHALLENGE N [options]", "change a round (only the options given)",
     "  Takes the options of 'round add'; each one given replaces the stored value.\n",
     "start= end= limit= period= refund= parallel= min-score= late=", 2, 2,
     admin_challenge_round_update},
    {"round list", "CHALLENGE [--json]", "list a challenge's rounds", "  --json   print JSON\n",
     "json", 1, 1, admin_challenge_round_list},
    {"participant add", "NAME [--json]",
     "add a participant and print their API key (shown only once)", "  --json   print JSON\n",
     "json", 1, 1, admin_access_participant_add},
    {"participant list", "[--json]", "list the participants", "  --json   print JSON\n", "json", 0,
     0, admin_access_participant_list},
    {"key rotate", "PARTICIPANT_ID [--json]", "revoke a participant's API key and print a new one",
     "  --json   print JSON\n", "json", 1, 1, admin_access_key_rotate},
    {"key revoke", "PARTICIPANT_ID", "revoke a participant's API key",
     "  The participant cannot authenticate until 'key rotate' gives them a new key.\n", "", 1, 1,
     admin_access_key_revoke},
    {"grader-key add", "NAME [--json]", "add a grader key and print it (shown only once)",
     "  NAME names the grader (1-63 bytes); one active key per name.\n  --json   print JSON\n",
     "json", 1, 1, admin_access_grader_add},
    {"grader-key revoke", "NAME", "revoke a grader's key", "", "", 1, 1,
     admin_access_grader_revoke},
    {"submissions", "[--challenge ID] [--participant ID] [--state S] [--limit N] [--json]",
     "list submissions, newest first",
     "  --challenge ID     only this challenge\n"
     "  --participant ID   only this participant\n"
     "  --state S          QUEUED, RUNNING, COMPLETE, ERROR, TIMEOUT or CANCELLED\n"
     "  --limit N          at most N (default 100; 0 = all)\n"
     "  --json             print JSON\n",
     "challenge= participant= state= limit= json", 0, 0, admin_report_submissions},
    {"leaderboard", "CHALLENGE [--round N] [--limit N] [--json]", "show a challenge's leaderboard",
     "  --round N   only submissions to round N (default: all rounds)\n"
     "  --limit N   at most N rows (default: all)\n"
     "  --json      print JSON\n",
     "round= limit= json", 1, 1, admin_report_leaderboard},
    {"cancel", "SUBMISSION_ID [--redis HOST:PORT]",
     "cancel a queued or running submission (its grader is told to stop)",
     "  --redis HOST:PORT   the broker's Redis when it is not the private one in DIR/redis\n",
     "redis=", 1, 1, admin_queue_cancel},
    {"dead-letters", "[--json] [--redis HOST:PORT]", "list dead-lettered submissions",
     "  --json              print JSON\n"
     "  --redis HOST:PORT   the broker's Redis when it is not the private one in DIR/redis\n",
     "json redis=", 0, 0, admin_queue_dead_letters},
    {"requeue", "SUBMISSION_ID [--redis HOST:PORT]",
     "queue a dead-lettered submission again, its attempts reset",
     "  --redis HOST:PORT   the broker's Redis when it is not the private one in DIR/redis\n",
     "redis=", 1, 1, admin_queue_requeue},
    {"regrade", "SUBMISSION_ID [--redis HOST:PORT]",
     "grade an ended submission again (its score is replaced by the new one)",
     "  --redis HOST:PORT   the broker's Redis when it is not the private one in DIR/redis\n",
     "redis=", 1, 1, admin_queue_regrade},
    {"archive set", "CHALLENGE [options]",
     "set a challenge's code archive: remote, publishing, limits (only the options given)",
     "  --remote URL            where commits are pushed: a path, file://, https:// or\n"
     "                          ssh://user@host[:port]/path (private while the challenge runs);\n"
     "                          '' for none\n"
     "  --token-file FILE       file holding the token for an https remote and for GitHub\n"
     "  --ssh-key FILE          the private key (no passphrase) for an ssh:// remote\n"
     "  --known-hosts FILE      the known_hosts file the ssh:// remote's host key must be in\n"
     "  --github OWNER/REPO     the remote is this GitHub repository: publishing makes it public\n"
     "  --github-api URL        GitHub's REST API (default https://api.github.com)\n"
     "  --public-remote URL     otherwise, publishing pushes consenting participants' branches\n"
     "                          here\n"
     "  --publish-at-end yes|no publish when the last round ends (default yes)\n"
     "  --max-file-size BYTES   largest file in a code archive (default 10485760)\n"
     "  --max-files N           files in a code archive (default 1000)\n"
     "  --max-total BYTES       bytes of all files of a code archive (default 104857600)\n",
     "remote= token-file= ssh-key= known-hosts= github= github-api= public-remote= "
     "publish-at-end= max-file-size= max-files= max-total=",
     1, 1, admin_archive_set},
    {"archive list", "CHALLENGE [--json]", "show what a challenge's code archive holds",
     "  --json   print JSON\n", "json", 1, 1, admin_archive_list},
    {"archive publish", "CHALLENGE",
     "publish a challenge's code archive now (GitHub: make the repository public)",
     "  Pushes to the remote first; then makes the GitHub repository public, or pushes the\n"
     "  consenting participants' branches, their tags and the notes to the public remote.\n",
     "", 1, 1, admin_archive_publish},
};

#define NCOMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static void print_overview(FILE *out)
{
    fputs("usage: crowdai-admin --data DIR <command> [arguments] [options]\n\n"
          "Administers the crowdai-broker registry, the SQLite database DIR/" DB_FILE
          "\n(created if missing; DIR is created with mode 0700).\n\ncommands:\n",
          out);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'crowdai-admin <command> --help' for its arguments and options.\n"
          "Exit status: 0 done, 1 failed, 2 usage error.\n",
          out);
}

static void print_command_help(const struct admin_cmd *cmd)
{
    printf("usage: crowdai-admin --data DIR %s %s\n\n%c%s.\n", cmd->name, cmd->synopsis,
           toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
    if (cmd->help[0] != '\0')
        printf("\n%s", cmd->help);
}

/* Finds the command named by argv[0] (and argv[1] for a two-word command); *used is how many
 * words it took. */
static const struct admin_cmd *find_command(int argc, char **argv, int *used)
{
    for (int i = 0; i < NCOMMANDS; i++) {
        const char *name = commands[i].name;
        const char *space = strchr(name, ' ');
        size_t len = space != NULL ? (size_t)(space - name) : strlen(name);
        if (strlen(argv[0]) != len || strncmp(argv[0], name, len) != 0)
            continue;
        if (space == NULL) {
            *used = 1;
            return &commands[i];
        }
        if (argc > 1 && strcmp(argv[1], space + 1) == 0) {
            *used = 2;
            return &commands[i];
        }
    }
    return NULL;
}

/* The commands of a group ("challenge", "round", ...) for 'crowdai-admin GROUP --help'. */
static void print_group(FILE *out, const char *group)
{
    size_t len = strlen(group);
    fprintf(out, "usage: crowdai-admin --data DIR %s <subcommand> [arguments] [options]\n\n",
            group);
    for (int i = 0; i < NCOMMANDS; i++) {
        if (strncmp(commands[i].name, group, len) == 0 && commands[i].name[len] == ' ')
            fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
    }
}

static int is_group(const char *word)
{
    size_t len = strlen(word);
    for (int i = 0; i < NCOMMANDS; i++) {
        if (strncmp(commands[i].name, word, len) == 0 && commands[i].name[len] == ' ')
            return 1;
    }
    return 0;
}

static int unknown_command(int argc, char **argv)
{
    if (is_group(argv[0]) && argc > 1 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_group(stdout, argv[0]);
        return ADMIN_OK;
    }
    if (is_group(argv[0]) && argc > 1)
        fprintf(stderr, "crowdai-admin: unknown command '%s %s'\n", argv[0], argv[1]);
    else if (is_group(argv[0]))
        fprintf(stderr, "crowdai-admin: '%s' needs a subcommand\n", argv[0]);
    else
        fprintf(stderr, "crowdai-admin: unknown command '%s'\n", argv[0]);
    fputs("Run 'crowdai-admin --help' for the list of commands.\n", stderr);
    return ADMIN_USAGE;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

/* Creates DIR (mode 0700) if missing and opens DIR/registry.sqlite3. */
static struct reg_store *open_store(const char *dir)
{
    struct stat st;
    char err[256];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        admin_fail("cannot create the data directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        admin_fail("%s is not a directory", dir);
        return NULL;
    }
    size_t len = strlen(dir) + sizeof("/" DB_FILE);
    char *path = xmalloc(len);
    snprintf(path, len, "%s/" DB_FILE, dir);
    struct reg_store *s = reg_store_open(path, err, sizeof(err));
    if (s == NULL)
        admin_fail("%s: %s", path, err);
    free(path);
    return s;
}

/* Takes "--data DIR" or "--data=DIR" out of argv wherever it is. */
static int take_data_dir(int *argc, char **argv, const char **dir)
{
    for (int i = 0; i < *argc; i++) {
        int skip = 0;
        if (strcmp(argv[i], "--data") == 0) {
            if (i + 1 >= *argc)
                return -1;
            *dir = argv[i + 1];
            skip = 2;
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            *dir = argv[i] + 7;
            skip = 1;
        }
        if (skip > 0) {
            memmove(&argv[i], &argv[i + skip], (size_t)(*argc - i - skip) * sizeof(*argv));
            *argc -= skip;
            i--;
        }
    }
    return 0;
}

static int run_command(const struct admin_cmd *cmd, const char *dir, int argc, char **argv)
{
    struct admin a = {.cmd = cmd, .data_dir = dir, .now = reg_time_now()};
    struct admin_args args;
    if (wants_help(argc, argv)) {
        print_command_help(cmd);
        return ADMIN_OK;
    }
    int rc = admin_args_parse(cmd, argc, argv, &args);
    if (rc != 0)
        return rc;
    if (dir == NULL || dir[0] == '\0')
        return admin_usage(&a, "--data DIR is required");
    a.store = open_store(dir);
    if (a.store == NULL)
        return ADMIN_FAIL;
    rc = cmd->run(&a, &args);
    reg_store_close(a.store);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int used;
    umask(077);
    argc--;
    argv++;
    if (take_data_dir(&argc, argv, &dir) != 0) {
        fputs("crowdai-admin: --data needs a directory\n", stderr);
        return ADMIN_USAGE;
    }
    if (argc == 0) {
        print_overview(stderr);
        return ADMIN_USAGE;
    }
    if (wants_help(1, argv)) {
        print_overview(stdout);
        return ADMIN_OK;
    }
    const struct admin_cmd *cmd = find_command(argc, argv, &used);
    if (cmd == NULL)
        return unknown_command(argc, argv);
    int rc = run_command(cmd, dir, argc - used, argv + used);
    fflush(stdout);
    return ferror(stdout) && rc == ADMIN_OK ? ADMIN_FAIL : rc;
}
