/* A participant's socket on namespace "/", shared by the protocols spoken there (ours and the
 * crowdAI client's): kept alive while calls on it are in flight; sock is NULL once the socket
 * is gone, and answers are then dropped. */
#ifndef BROKER_PSESS_H
#define BROKER_PSESS_H

#include <stdlib.h>

#include "socketio/sio_server.h"

struct broker;

struct psess {
    struct broker *b;
    struct sio_socket *sock;
    int refs;
    char board[64]; /* the challenge whose leaderboard this socket follows, or "" */
};

static inline struct psess *psess_of(struct sio_socket *sock)
{
    return sio_socket_data(sock);
}

static inline void psess_ref(struct psess *ps)
{
    ps->refs++;
}

static inline void psess_unref(struct psess *ps)
{
    if (--ps->refs == 0)
        free(ps);
}

#endif
