/* The latency histogram the benchmark programs share: 1 us buckets below 100 ms, then 1 ms
 * buckets up to 60 s; quantiles read as the upper edge of their bucket. Header-only (static
 * inline), like bench_proc.h, so each program still builds from its one .c file. */
#ifndef BENCH_BENCH_HIST_H
#define BENCH_BENCH_HIST_H

#include <stdint.h>
#include <stdlib.h>

#define HIST_LINEAR_US 100000
#define HIST_BUCKETS   (HIST_LINEAR_US + 60000)

struct bench_hist {
    uint64_t *buckets; /* HIST_BUCKETS counters */
    uint64_t total, max_us;
};

/* 0, or -1 when the counters cannot be allocated. */
static inline int bench_hist_init(struct bench_hist *h)
{
    h->total = h->max_us = 0;
    h->buckets = calloc(HIST_BUCKETS, sizeof(*h->buckets));
    return h->buckets != NULL ? 0 : -1;
}

static inline void bench_hist_release(struct bench_hist *h)
{
    free(h->buckets);
    h->buckets = NULL;
}

static inline void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
    uint64_t us = ns / 1000;
    size_t i;
    if (us < HIST_LINEAR_US)
        i = us;
    else if ((us - HIST_LINEAR_US) / 1000 < HIST_BUCKETS - HIST_LINEAR_US)
        i = HIST_LINEAR_US + (us - HIST_LINEAR_US) / 1000;
    else
        i = HIST_BUCKETS - 1;
    h->buckets[i]++;
    h->total++;
    if (us > h->max_us)
        h->max_us = us;
}

/* The latency in us below which a fraction q of the samples lie. */
static inline uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->total);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank)
            return i < HIST_LINEAR_US ? i + 1 : HIST_LINEAR_US + (i - HIST_LINEAR_US + 1) * 1000;
    }
    return h->max_us;
}

#endif
