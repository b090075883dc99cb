-- Every profile snapshot, by event time, so the profile can be answered as of any instant and its
-- history read as versions (subgraphs/audience/profile-history.ts). `profiles` keeps only the latest.
-- event_id is in the key so two snapshots at the same instant both stay; readers pick one by id.
CREATE TABLE IF NOT EXISTS profile_snapshots
(
    org_id       LowCardinality(String),
    account_id   String,
    event_id     String,
    handle       String,
    display_name String,
    followers    UInt64,
    following    UInt64,
    post_count   UInt64,
    observed_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (org_id, account_id, observed_at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS profile_snapshots_mv TO profile_snapshots AS
SELECT
    org_id,
    account_id,
    event_id,
    JSONExtractString(payload, 'handle') AS handle,
    JSONExtractString(payload, 'displayName') AS display_name,
    JSONExtractUInt(payload, 'followers') AS followers,
    JSONExtractUInt(payload, 'following') AS following,
    JSONExtractUInt(payload, 'postCount') AS post_count,
    occurred_at AS observed_at
FROM events
WHERE type = 'profile';
