/* Conformance mode: the raw Engine.IO echo and the Socket.IO handlers that the official
 * protocol test suites expect, plus the extras of docs/CONFORMANCE.md. */
#ifndef APP_CONFORMANCE_H
#define APP_CONFORMANCE_H

#include "engineio/eio_server.h"
#include "socketio/sio_server.h"

/* Serves the raw echo on eio (already initialised by the caller with conformance_echo_callbacks)
 * and installs the handlers on namespaces "/" and "/custom" of sio. */
void conformance_install(struct sio_server *sio);
extern const struct eio_callbacks conformance_echo_callbacks;

#endif
