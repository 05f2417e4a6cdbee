/* Unit tests for broker/metrics: histogram buckets are cumulative, and the text is in
 * Prometheus exposition format. */
#include <string.h>

#include "broker/metrics.h"
#include "test.h"

TEST(metrics_latency_buckets_are_cumulative)
{
    struct broker_metrics m = {0};
    metrics_observe_latency(&m, 0.3);
    metrics_observe_latency(&m, 3);
    metrics_observe_latency(&m, 2000);
    ASSERT_EQ(m.latency_buckets[0], 1);                           /* <= 0.5 */
    ASSERT_EQ(m.latency_buckets[2], 1);                           /* <= 2 */
    ASSERT_EQ(m.latency_buckets[3], 2);                           /* <= 5 */
    ASSERT_EQ(m.latency_buckets[METRICS_LATENCY_BUCKETS - 1], 2); /* <= 1000 */
    ASSERT_EQ(m.latency_count, 3);
    ASSERT_TRUE(m.latency_sum_ms > 2003.2 && m.latency_sum_ms < 2003.4);
}

TEST(metrics_render_prometheus_text)
{
    struct broker_metrics m = {0};
    m.submissions_accepted = 7;
    m.reports_stale = 2;
    metrics_observe_latency(&m, 4);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    metrics_render(&m, &out);
    ASSERT_TRUE(strstr(out.data, "# TYPE crowdai_submissions_accepted_total counter\n"
                                 "crowdai_submissions_accepted_total 7\n") != NULL);
    ASSERT_TRUE(strstr(out.data, "crowdai_grader_reports_stale_total 2\n") != NULL);
    ASSERT_TRUE(strstr(out.data, "crowdai_event_latency_ms_bucket{le=\"2\"} 0\n") != NULL);
    ASSERT_TRUE(strstr(out.data, "crowdai_event_latency_ms_bucket{le=\"5\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(out.data, "crowdai_event_latency_ms_bucket{le=\"+Inf\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(out.data, "crowdai_event_latency_ms_count 1\n") != NULL);
    ASSERT_EQ(out.data[out.len - 1], '\n');
    buf_release(&out);
}
