-- Every accepted event, as received: one row per event id. The sink never inserts an id twice
-- (ReplacingMergeTree also folds a duplicate that slips past it, at merge time). The numeric
-- observations an event carries sit beside it as parallel arrays, so one insert of a batch
-- feeds the raw table and every rollup together: engagement events carry one metric, a profile
-- snapshot carries followers/following/post_count levels, an app event carries app_events = 1.
CREATE TABLE IF NOT EXISTS events
(
    org_id        LowCardinality(String),
    account_id    String,
    event_id      String,
    type          LowCardinality(String),
    platform      LowCardinality(String),
    post_id       String,
    user_id       String,
    occurred_at   DateTime64(3, 'UTC'),
    received_at   DateTime64(3, 'UTC'),
    metric_names  Array(LowCardinality(String)),
    metric_modes  Array(Enum8('delta' = 1, 'total' = 2)),
    metric_values Array(Int64),
    payload       String CODEC(ZSTD(3)),
    INDEX event_id_bloom event_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (org_id, account_id, occurred_at, event_id);
