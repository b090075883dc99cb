-- The embedded search index (lib/search/clickhouse.search.ts): the same documents Elasticsearch
-- holds in server mode, with a token bloom filter over lower-cased text. Latest write wins per id.
CREATE TABLE IF NOT EXISTS search_documents
(
    org_id     LowCardinality(String),
    id         String,
    kind       LowCardinality(String),
    account_id String,
    platform   LowCardinality(String),
    post_id    String,
    text       String,
    sentiment  Float32,
    at         DateTime64(3, 'UTC'),
    indexed_at DateTime64(3, 'UTC'),
    INDEX text_tokens lower(text) TYPE tokenbf_v1(16384, 3, 0) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(indexed_at)
ORDER BY (org_id, id);
