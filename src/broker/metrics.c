/* The broker's counters in Prometheus text format; see metrics.h. */
#include "broker/metrics.h"

#include <inttypes.h>

const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {0.5, 1,   2,   5,   10,  25,
                                                                50,  100, 250, 500, 1000};

void metrics_observe_latency(struct broker_metrics *m, double ms)
{
    for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
        if (ms <= metrics_latency_bounds[i])
            m->latency_buckets[i]++;
    }
    m->latency_count++;
    m->latency_sum_ms += ms;
}

static void counter(struct buf *out, const char *name, const char *help, uint64_t value)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name,
               value);
}

void metrics_render(const struct broker_metrics *m, struct buf *out)
{
    counter(out, "crowdai_submissions_accepted_total", "Submissions accepted and queued.",
            m->submissions_accepted);
    counter(out, "crowdai_submissions_refused_total", "Submissions refused by a rule.",
            m->submissions_refused);
    counter(out, "crowdai_jobs_dispatched_total", "Jobs handed to graders.", m->jobs_dispatched);
    counter(out, "crowdai_grader_reports_total", "Grader reports applied.", m->reports_ok);
    counter(out, "crowdai_grader_reports_stale_total",
            "Grader reports refused for a stale lease token.", m->reports_stale);
    counter(out, "crowdai_lease_expiries_total", "Jobs requeued after their lease expired.",
            m->lease_expiries);
    counter(out, "crowdai_timeouts_total", "Jobs ended by their time limit.", m->timeouts);
    counter(out, "crowdai_retries_total", "Retryable failures scheduled again.", m->retries);
    counter(out, "crowdai_dead_letters_total", "Jobs dead-lettered.", m->dead_letters);
    counter(out, "crowdai_scores_applied_total", "Final results applied to the registry.",
            m->scores_applied);
    const char *h = "crowdai_event_latency_ms";
    buf_printf(out,
               "# HELP %s Time from a grader's report to its event stored and published.\n"
               "# TYPE %s histogram\n",
               h, h);
    for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++)
        buf_printf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", h, metrics_latency_bounds[i],
                   m->latency_buckets[i]);
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.3f\n%s_count %" PRIu64 "\n", h,
               m->latency_count, h, m->latency_sum_ms, h, m->latency_count);
}
