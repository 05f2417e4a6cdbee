/* Unguessable identifiers from getrandom(2). */
#include "core/random_id.h"

#include <stdlib.h>
#include <sys/random.h>

void random_id(char out[RANDOM_ID_LEN + 1])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[RANDOM_ID_LEN];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        abort();
    for (int i = 0; i < RANDOM_ID_LEN; i++)
        out[i] = alphabet[raw[i] & 63];
    out[RANDOM_ID_LEN] = '\0';
}
