/* The broker's counters and the Prometheus text rendering of /metrics, plus /healthz.
 * Counters are plain integers bumped on the loop thread. */
#ifndef BROKER_METRICS_H
#define BROKER_METRICS_H

#include <stdint.h>

#include "core/buf.h"

#define METRICS_LATENCY_BUCKETS 11

struct broker_metrics {
    uint64_t submissions_accepted;
    uint64_t submissions_refused;
    uint64_t jobs_dispatched;
    uint64_t reports_ok;     /* progress/info/complete/fail applied */
    uint64_t reports_stale;  /* refused: stale lease token */
    uint64_t lease_expiries; /* jobs requeued by the janitor */
    uint64_t timeouts;
    uint64_t retries; /* retryable failures scheduled again */
    uint64_t dead_letters;
    uint64_t scores_applied; /* results applied to the registry by the outbox */
    /* Time from a grader's report to its event stored and published, in ms. */
    uint64_t latency_buckets[METRICS_LATENCY_BUCKETS];
    uint64_t latency_count;
    double latency_sum_ms;
};

/* Upper bounds of the latency buckets, in ms. */
extern const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS];

void metrics_observe_latency(struct broker_metrics *m, double ms);
/* Appends the counters and the histogram in Prometheus text format. */
void metrics_render(const struct broker_metrics *m, struct buf *out);

#endif
