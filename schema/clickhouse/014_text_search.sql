-- The embedded search index (lib/search/clickhouse.search.ts): one row per (org, id), latest
-- `version` wins. Words are matched with hasToken on lowerUTF8(text), which the token bloom filter
-- answers per granule; small granules keep each filter selective.
CREATE TABLE IF NOT EXISTS text_search
(
    org_id     LowCardinality(String),
    id         String,
    kind       LowCardinality(String),
    account_id String,
    platform   LowCardinality(String),
    post_id    String,
    text       String,
    sentiment  Float32,
    scorer         LowCardinality(String),
    scorer_version LowCardinality(String),
    scored_at      DateTime64(3, 'UTC'),
    at         DateTime64(3, 'UTC'),
    version    Int64,
    INDEX text_tokens lowerUTF8(text) TYPE tokenbf_v1(16384, 3, 0) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, id)
SETTINGS index_granularity = 1024;
