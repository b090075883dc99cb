-- Every audience snapshot per dimension, by event time, so demographics can be answered as of any
-- instant. `audience` keeps only the latest per dimension.
CREATE TABLE IF NOT EXISTS audience_snapshots
(
    org_id      LowCardinality(String),
    account_id  String,
    dimension   LowCardinality(String),
    event_id    String,
    buckets     Map(String, Float64),
    observed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (org_id, account_id, dimension, observed_at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS audience_snapshots_mv TO audience_snapshots AS
SELECT
    org_id,
    account_id,
    dimension,
    event_id,
    JSONExtract(payload, dimension, 'Map(String, Float64)') AS buckets,
    occurred_at AS observed_at
FROM events
ARRAY JOIN ['age', 'gender', 'country', 'city', 'interests'] AS dimension
WHERE type = 'audience' AND JSONHas(payload, dimension);
