-- Lifetime observations of every post, per metric, over all time: what Post.lifetime, top posts,
-- hashtag trends and best time to post read, so none of them walks the time-bucketed rollups.
-- As in the rollups, delta_sum adds changes and level keeps the latest lifetime total by event
-- time, so a total seen again or arriving out of order never adds anything twice.
CREATE TABLE IF NOT EXISTS post_metrics
(
    org_id      LowCardinality(String),
    account_id  String,
    post_id     String,
    metric      LowCardinality(String),
    delta_sum   SimpleAggregateFunction(sum, Int64),
    level       AggregateFunction(argMax, Int64, DateTime64(3, 'UTC')),
    level_count SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (org_id, account_id, post_id, metric);

CREATE MATERIALIZED VIEW IF NOT EXISTS post_metrics_mv TO post_metrics AS
SELECT
    org_id,
    account_id,
    post_id,
    metric,
    sumIf(value, mode = 'delta') AS delta_sum,
    argMaxStateIf(value, occurred_at, mode = 'total') AS level,
    countIf(mode = 'total') AS level_count
FROM events
ARRAY JOIN metric_names AS metric, metric_modes AS mode, metric_values AS value
WHERE post_id != ''
GROUP BY org_id, account_id, post_id, metric;
