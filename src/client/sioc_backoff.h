/* Reconnection delays: exponential backoff from a base, capped, with random jitter so that
 * many clients cut off together do not all come back at the same instant. Pure functions. */
#ifndef CLIENT_SIOC_BACKOFF_H
#define CLIENT_SIOC_BACKOFF_H

#include <stdint.h>

struct sioc_backoff {
    uint64_t base_ms; /* delay of the first attempt */
    uint64_t cap_ms;  /* no delay is longer */
    double jitter;    /* 0..1 */
};

/* Delay before attempt (1-based): min(cap, base * 2^(attempt-1)) scaled by
 * 1 - jitter + 2 * jitter * rnd, then capped again. rnd is in [0, 1). */
uint64_t sioc_backoff_delay(const struct sioc_backoff *b, unsigned attempt, double rnd);
/* A uniform random number in [0, 1) from OpenSSL's generator. */
double sioc_backoff_random(void);

#endif
