-- Latest audience breakdown per account and dimension (age, gender, country, city, interests), by
-- event time. One row per dimension an event carries: a snapshot that reports only `age` updates
-- age and leaves the other dimensions as last reported.
CREATE TABLE IF NOT EXISTS audience
(
    org_id      LowCardinality(String),
    account_id  String,
    dimension   LowCardinality(String),
    buckets     Map(String, Float64),
    observed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(observed_at)
ORDER BY (org_id, account_id, dimension);

CREATE MATERIALIZED VIEW IF NOT EXISTS audience_mv TO audience AS
SELECT
    org_id,
    account_id,
    dimension,
    JSONExtract(payload, dimension, 'Map(String, Float64)') AS buckets,
    occurred_at AS observed_at
FROM events
ARRAY JOIN ['age', 'gender', 'country', 'city', 'interests'] AS dimension
WHERE type = 'audience' AND JSONHas(payload, dimension);
