-- App events as product analytics reads them: one row per event, its properties in a JSON column
-- (each path a subcolumn of its own, so a filter or a breakdown reads only the paths it names),
-- sorted so that one event name over a range is one contiguous read per app. Fed by the same
-- insert as `events`; the sink never inserts an event id twice.
CREATE TABLE IF NOT EXISTS product_events
(
    org_id     LowCardinality(String),
    app_id     String,
    event      LowCardinality(String),
    event_id   String,
    user_id    String,
    -- What distinct users are counted by: 8 bytes a row to read and hash instead of the id's text
    -- (a third off a unique-users trend). Among a million users, the odds that two share one: 3e-8.
    user_key   UInt64 MATERIALIZED sipHash64(user_id),
    session_id String,
    post_id    String,
    timestamp  DateTime64(3, 'UTC'),
    properties JSON(max_dynamic_paths = 256)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (org_id, app_id, event, timestamp, event_id);

-- Stores made before user_key existed: their old parts compute it when read.
ALTER TABLE product_events ADD COLUMN IF NOT EXISTS user_key UInt64 MATERIALIZED sipHash64(user_id) AFTER user_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS product_events_mv TO product_events AS
SELECT
    org_id,
    account_id AS app_id,
    JSONExtractString(payload, 'name') AS event,
    event_id,
    user_id,
    JSONExtractString(payload, 'sessionId') AS session_id,
    post_id,
    occurred_at AS timestamp,
    CAST(if(JSONHas(payload, 'properties'), JSONExtractRaw(payload, 'properties'), '{}'), 'JSON(max_dynamic_paths = 256)') AS properties
FROM events
WHERE type = 'app';
