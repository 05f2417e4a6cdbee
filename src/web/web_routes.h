/* The broker's web pages on its HTTP server: / (challenges), /challenges/<id> (leaderboard),
 * /challenges/<id>/submit (sign in, upload, submit, watch), /status (grader pools), and their
 * files under /static/. The pages talk to the broker over Socket.IO. */
#ifndef WEB_WEB_ROUTES_H
#define WEB_WEB_ROUTES_H

#include "net/http_server.h"

void web_routes_install(struct http_server *http);

#endif
