-- Each version's hashtags, extracted once at insert by the expression post_hashtags_mv uses
-- (subgraphs/posts/hashtag.ts), so hashtag trends read them instead of running the regular
-- expression over every content at query time. Parts written before this column existed compute
-- it when read, until they merge.
ALTER TABLE posts ADD COLUMN IF NOT EXISTS hashtags Array(String) MATERIALIZED
arrayDistinct(arrayFilter(t -> match(t, '\\p{L}'), arrayMap(
    t -> lowerUTF8(normalizeUTF8NFC(t)),
    extractAll(concat(' ', content),
               '[^\\p{L}\\p{M}\\p{N}_&#]#([\\p{L}\\p{M}\\p{N}_]+)'))));
