-- Posts, comments and mentions with their sentiment, written by the text pipeline; Post.comments
-- reads it. Keyed by (org, id); `version` is the event time, so replaying an old event never
-- brings back an older text. Readers take the latest version themselves (argMax).
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
    version       DateTime64(3, 'UTC'),
    INDEX post_id_bloom post_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, id);
