/* Lookup of the embedded web files by name (a handful of files: a linear scan). */
#include <string.h>

#include "web/web_assets.h"

const struct web_asset *web_asset_find(const char *name, size_t len)
{
    for (size_t i = 0; i < web_asset_count; i++) {
        const struct web_asset *a = &web_asset_table[i];
        if (strlen(a->name) == len && memcmp(a->name, name, len) == 0)
            return a;
    }
    return NULL;
}
