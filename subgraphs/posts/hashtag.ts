// A hashtag as callers may type it (#Café, café, CAFÉ) in the form post_hashtags stores
// (schema/clickhouse/021_post_hashtags.sql): without the #, NFC-normalised, lower-cased.
export function normaliseHashtag(input: string): string {
  return input.trim().replace(/^#/, '').normalize('NFC').toLowerCase();
}

/**
 * The distinct hashtags of a text column, as post_hashtags_mv extracts them (hashtag.test.ts
 * checks that 021_post_hashtags.sql uses this very expression), so a read may take them from a
 * post's content instead of joining post_hashtags.
 */
export function hashtagsSql(text: string): string {
  return `arrayDistinct(arrayFilter(t -> match(t, '\\\\p{L}'), arrayMap(
    t -> lowerUTF8(normalizeUTF8NFC(t)),
    extractAll(concat(' ', ${text}),
               '[^\\\\p{L}\\\\p{M}\\\\p{N}_&#]#([\\\\p{L}\\\\p{M}\\\\p{N}_]+)'))))`;
}
