-- Every followers total an account reported (profile snapshots), by event time: a post's
-- followers at the time of posting is the latest level at or before its publish time, found by
-- an ASOF join here instead of through rollup buckets that may also hold later levels.
CREATE TABLE IF NOT EXISTS follower_levels
(
    org_id     LowCardinality(String),
    account_id String,
    at         DateTime64(3, 'UTC'),
    event_id   String,
    followers  Int64
)
ENGINE = ReplacingMergeTree
ORDER BY (org_id, account_id, at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS follower_levels_mv TO follower_levels AS
SELECT org_id, account_id, occurred_at AS at, event_id, value AS followers
FROM events
ARRAY JOIN metric_names AS metric, metric_modes AS mode, metric_values AS value
WHERE metric = 'followers' AND mode = 'total' AND post_id = '';
