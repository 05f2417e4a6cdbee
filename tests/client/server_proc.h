/* The server a client test talks to, in a child process: our broker
 * (`crowdai-broker --conformance`, $BROKER_BIN) or the reference Node server
 * (tests/interop/reference-server.mjs), chosen by $SIOC_SERVER, both printing
 * `READY port=N`. Also any helper that prints the same line (the TLS proxy). Children die
 * with the test process (PR_SET_PDEATHSIG). */
#ifndef TESTS_CLIENT_SERVER_PROC_H
#define TESTS_CLIENT_SERVER_PROC_H

#include <sys/types.h>

struct server_proc {
    pid_t pid; /* 0 when not running */
    int port;
    int out_fd; /* its stdout, kept open so that it never gets SIGPIPE */
};

/* "broker" or "reference". */
const char *server_kind(void);
/* Starts the server under test in conformance mode on port (0: any free port) and waits for
 * its READY line; fails the test if it does not come within 20 s. */
void server_start(struct server_proc *sp, int port);
/* Starts argv (argv[0] looked up in PATH) and waits for its READY line. */
void server_spawn(struct server_proc *sp, char *const argv[]);
void server_signal(struct server_proc *sp, int sig);
/* kill -9 and reap (the port stays in sp->port, for a restart). */
void server_kill(struct server_proc *sp);
/* The repository root ($REPO_ROOT, else the current directory). */
const char *repo_root(void);
/* A fresh directory under the run's scratch directory (removed when the runner exits);
 * scratch_remove() removes it sooner. */
void scratch_dir(char *out, size_t len);
void scratch_remove(const char *dir);

#endif
