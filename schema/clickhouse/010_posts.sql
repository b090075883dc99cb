-- Latest version of every post, by event time, derived from `post` events. Rows of one post fold
-- at merge time; readers take the latest version themselves (argMax), so answers are exact before.
CREATE TABLE IF NOT EXISTS posts
(
    org_id       LowCardinality(String),
    account_id   String,
    post_id      String,
    platform     LowCardinality(String),
    content      String,
    url          String,
    media_type   LowCardinality(String),
    published_at DateTime64(3, 'UTC'),
    version      DateTime64(3, 'UTC'),
    INDEX post_id_bloom post_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, account_id, post_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS posts_mv TO posts AS
SELECT
    org_id,
    account_id,
    post_id,
    platform,
    JSONExtractString(payload, 'content') AS content,
    JSONExtractString(payload, 'url') AS url,
    JSONExtractString(payload, 'mediaType') AS media_type,
    parseDateTime64BestEffort(JSONExtractString(payload, 'publishedAt'), 3, 'UTC') AS published_at,
    occurred_at AS version
FROM events
WHERE type = 'post';
