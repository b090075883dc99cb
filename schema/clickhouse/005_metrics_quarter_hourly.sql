-- Quarter-hour rollup of the events' observations per account, metric and post (post_id '' =
-- the account). delta_sum adds changes; level keeps the latest lifetime total in the bucket by event time, so a
-- total seen again or arriving out of order never adds anything twice; users sketches app users.
-- Every zone offset in use is a multiple of 15 minutes, so any local hour, day, week or month
-- edge (Asia/Kolkata at +05:30, Asia/Kathmandu at +05:45) falls on one of these buckets.
CREATE TABLE IF NOT EXISTS metrics_quarter_hourly
(
    org_id      LowCardinality(String),
    account_id  String,
    metric      LowCardinality(String),
    post_id     String,
    bucket      DateTime('UTC'),
    delta_sum   SimpleAggregateFunction(sum, Int64),
    level       AggregateFunction(argMax, Int64, DateTime64(3, 'UTC')),
    level_count SimpleAggregateFunction(sum, UInt64),
    users       AggregateFunction(uniqCombined64, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, account_id, metric, bucket, post_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_quarter_hourly_mv TO metrics_quarter_hourly AS
SELECT
    org_id,
    account_id,
    metric,
    post_id,
    toStartOfFifteenMinutes(occurred_at) AS bucket,
    sumIf(value, mode = 'delta') AS delta_sum,
    argMaxStateIf(value, occurred_at, mode = 'total') AS level,
    countIf(mode = 'total') AS level_count,
    uniqCombined64StateIf(user_id, user_id != '') AS users
FROM events
ARRAY JOIN metric_names AS metric, metric_modes AS mode, metric_values AS value
GROUP BY org_id, account_id, metric, post_id, bucket;
