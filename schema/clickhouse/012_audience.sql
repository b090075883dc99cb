-- Latest audience snapshot per account, by event time: each dimension as bucket -> value.
CREATE TABLE IF NOT EXISTS audience
(
    org_id      LowCardinality(String),
    account_id  String,
    age         Map(String, Float64),
    gender      Map(String, Float64),
    country     Map(String, Float64),
    city        Map(String, Float64),
    interests   Map(String, Float64),
    observed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(observed_at)
ORDER BY (org_id, account_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS audience_mv TO audience AS
SELECT
    org_id,
    account_id,
    JSONExtract(payload, 'age', 'Map(String, Float64)') AS age,
    JSONExtract(payload, 'gender', 'Map(String, Float64)') AS gender,
    JSONExtract(payload, 'country', 'Map(String, Float64)') AS country,
    JSONExtract(payload, 'city', 'Map(String, Float64)') AS city,
    JSONExtract(payload, 'interests', 'Map(String, Float64)') AS interests,
    occurred_at AS observed_at
FROM events
WHERE type = 'audience';
