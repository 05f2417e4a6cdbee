/* Reconnection delays; see sioc_backoff.h. */
#include "client/sioc_backoff.h"

#include <openssl/rand.h>

uint64_t sioc_backoff_delay(const struct sioc_backoff *b, unsigned attempt, double rnd)
{
    uint64_t delay = b->base_ms;
    for (unsigned i = 1; i < attempt && delay < b->cap_ms; i++)
        delay = delay > UINT64_MAX / 2 ? UINT64_MAX : delay * 2;
    if (delay > b->cap_ms)
        delay = b->cap_ms;
    double jitter = b->jitter < 0 ? 0 : b->jitter > 1 ? 1 : b->jitter;
    if (rnd < 0 || rnd >= 1)
        rnd = 0.5;
    double scaled = (double)delay * (1.0 - jitter + 2.0 * jitter * rnd);
    if (scaled >= (double)b->cap_ms)
        return b->cap_ms;
    return (uint64_t)scaled;
}

double sioc_backoff_random(void)
{
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        return 0.5;
    return (double)r / 4294967296.0;
}
