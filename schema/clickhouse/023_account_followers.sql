-- The followers level of every account at every instant one was reported, one row per instant:
-- the largest when snapshots share it, kept by the engine, so a post's followers at the time of
-- posting is an ASOF join on rows read with FINAL instead of a grouping of every level per read.
CREATE TABLE IF NOT EXISTS account_followers
(
    org_id     LowCardinality(String),
    account_id String,
    at         DateTime64(3, 'UTC'),
    followers  Int64
)
ENGINE = ReplacingMergeTree(followers)
ORDER BY (org_id, account_id, at);

CREATE MATERIALIZED VIEW IF NOT EXISTS account_followers_mv TO account_followers AS
SELECT org_id, account_id, occurred_at AS at, value AS followers
FROM events
ARRAY JOIN metric_names AS metric, metric_modes AS mode, metric_values AS value
WHERE metric = 'followers' AND mode = 'total' AND post_id = '';
