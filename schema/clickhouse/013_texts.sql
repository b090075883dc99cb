-- Posts, comments and mentions with their sentiment, written by the text pipeline; Post.comments
-- reads it. Keyed by (org, id); `version` is the event time, so replaying an old event never
-- brings back an older text. Readers take the latest version themselves, and among rows of one
-- version the latest `scored_at` (a re-score rewrites a text at its own version; 015 adds these
-- columns to tables made before them).
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
    -- Who gave the score (lib/sentiment): e.g. 'vader', '1.1.3'; '' for rows scored before.
    scorer         LowCardinality(String),
    scorer_version LowCardinality(String),
    scored_at      DateTime64(3, 'UTC'),
    at            DateTime64(3, 'UTC'),
    version       DateTime64(3, 'UTC'),
    INDEX post_id_bloom post_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, id);
