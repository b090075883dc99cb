-- Posts, comments and mentions with their sentiment, written by the text pipeline; the embedded
-- search index and Post.comments read it. One row per (org, id) after merges.
CREATE TABLE IF NOT EXISTS texts
(
    org_id        LowCardinality(String),
    id            String,
    kind          LowCardinality(String),
    account_id    String,
    platform      LowCardinality(String),
    post_id       String,
    author_handle String,
    text          String,
    sentiment     Float32,
    at            DateTime64(3, 'UTC'),
    INDEX text_tokens lower(text) TYPE tokenbf_v1(8192, 3, 0) GRANULARITY 4,
    INDEX post_id_bloom post_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (org_id, account_id, id);
