// A hashtag as callers may type it (#Café, café, CAFÉ) in the form post_hashtags stores
// (schema/clickhouse/021_post_hashtags.sql): without the #, NFC-normalised, lower-cased.
export function normaliseHashtag(input: string): string {
  return input.trim().replace(/^#/, '').normalize('NFC').toLowerCase();
}
