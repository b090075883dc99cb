-- Person properties: what app events set on their user (`set`: the latest by event time wins;
-- `setOnce`: kept only while the person has no `set` value of that name, the earliest first).
-- One row per person and name, sorted by name so a filter on one finds its people in one read.
-- Values are raw JSON scalars ("US" with its quotes, 42, true, null).
CREATE TABLE IF NOT EXISTS person_properties
(
    org_id     LowCardinality(String),
    app_id     String,
    name       String,
    user_id    String,
    set_value  AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    set_count  SimpleAggregateFunction(sum, UInt64),
    once_value AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
    updated_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (org_id, app_id, name, user_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS person_properties_mv TO person_properties AS
SELECT
    org_id,
    account_id AS app_id,
    kv.1 AS name,
    user_id,
    argMaxStateIf(kv.2, occurred_at, kv.3) AS set_value,
    countIf(kv.3) AS set_count,
    argMinStateIf(kv.2, occurred_at, NOT kv.3) AS once_value,
    max(occurred_at) AS updated_at
FROM events
ARRAY JOIN arrayConcat(
    arrayMap(p -> (p.1, p.2, true), JSONExtractKeysAndValuesRaw(payload, 'set')),
    arrayMap(p -> (p.1, p.2, false), JSONExtractKeysAndValuesRaw(payload, 'setOnce'))
) AS kv
WHERE type = 'app' AND user_id != ''
GROUP BY org_id, app_id, name, user_id;
