-- Latest profile snapshot per account, by event time, derived from `profile` events.
CREATE TABLE IF NOT EXISTS profiles
(
    org_id       LowCardinality(String),
    account_id   String,
    platform     LowCardinality(String),
    handle       String,
    display_name String,
    followers    UInt64,
    following    UInt64,
    post_count   UInt64,
    observed_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(observed_at)
ORDER BY (org_id, account_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS profiles_mv TO profiles AS
SELECT
    org_id,
    account_id,
    platform,
    JSONExtractString(payload, 'handle') AS handle,
    JSONExtractString(payload, 'displayName') AS display_name,
    JSONExtractUInt(payload, 'followers') AS followers,
    JSONExtractUInt(payload, 'following') AS following,
    JSONExtractUInt(payload, 'postCount') AS post_count,
    occurred_at AS observed_at
FROM events
WHERE type = 'profile';
