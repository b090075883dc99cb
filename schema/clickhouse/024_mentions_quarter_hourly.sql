-- Mentions (comment events of kind `mention`) per account and quarter-hour: share of voice reads
-- whole quarter-hours here, and only a range's sub-quarter-hour ends from the events, instead of
-- scanning every event of the set's accounts over the range for the few that are mentions. The
-- sink never inserts an event id twice, so a row counts each mention once.
CREATE TABLE IF NOT EXISTS mentions_quarter_hourly
(
    org_id     LowCardinality(String),
    account_id String,
    bucket     DateTime('UTC'),
    mentions   SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, account_id, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS mentions_quarter_hourly_mv TO mentions_quarter_hourly AS
SELECT
    org_id,
    account_id,
    toStartOfFifteenMinutes(occurred_at) AS bucket,
    count() AS mentions
FROM events
WHERE type = 'comment' AND JSONExtractString(payload, 'kind') = 'mention'
GROUP BY org_id, account_id, bucket;
