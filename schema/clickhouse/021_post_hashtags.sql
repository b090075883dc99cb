-- The hashtags of every version of every post, keyed for lookups by (org, hashtag). A hashtag is
-- '#' then letters, marks, digits or '_' (so trailing punctuation is not part of it), not glued
-- to a word before it ('x#y' is none), with at least one letter ('#2024' is none), NFC-normalised
-- and lower-cased: '#Café!' and '#CAFE\u0301' are both 'café'. Readers keep the rows of each
-- post's latest version, so an edit that drops a hashtag drops it from every answer.
CREATE TABLE IF NOT EXISTS post_hashtags
(
    org_id       LowCardinality(String),
    hashtag      String,
    account_id   String,
    post_id      String,
    published_at DateTime64(3, 'UTC'),
    version      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (org_id, hashtag, account_id, post_id, version);

CREATE MATERIALIZED VIEW IF NOT EXISTS post_hashtags_mv TO post_hashtags AS
SELECT
    org_id,
    hashtag,
    account_id,
    post_id,
    parseDateTime64BestEffort(JSONExtractString(payload, 'publishedAt'), 3, 'UTC') AS published_at,
    occurred_at AS version
FROM events
ARRAY JOIN arrayDistinct(arrayFilter(t -> match(t, '\\p{L}'), arrayMap(
    t -> lowerUTF8(normalizeUTF8NFC(t)),
    extractAll(concat(' ', JSONExtractString(payload, 'content')),
               '[^\\p{L}\\p{M}\\p{N}_&#]#([\\p{L}\\p{M}\\p{N}_]+)')))) AS hashtag
WHERE type = 'post';
