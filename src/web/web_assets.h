/* The web pages and their scripts, styles and the socket.io-client browser bundle, embedded
 * in the binary at build time (src/web/embed_web.cmake), looked up by file name. */
#ifndef WEB_WEB_ASSETS_H
#define WEB_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *name; /* file name, e.g. "submit.js" */
    const char *content_type;
    const unsigned char *body;
    size_t len;
};

/* Generated: every embedded file. */
extern const struct web_asset web_asset_table[];
extern const size_t web_asset_count;

/* The asset called name[0..len), or NULL. */
const struct web_asset *web_asset_find(const char *name, size_t len);

#endif
