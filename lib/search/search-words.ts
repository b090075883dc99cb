// What a searchable word is, for every search adapter and for input validation.

/** More words than this in one query is refused: each word is one more filter to evaluate. */
export const MAX_SEARCH_WORDS = 32;

/**
 * The distinct lower-case words of a query. Words are split at ASCII characters that are not
 * letters or digits (spaces, punctuation, `_`); other characters (é, ß, 東) belong to words.
 * This is how ClickHouse's hasToken and token bloom filters split text, so the query and the
 * index agree on every word boundary.
 */
export function searchWords(text: string): string[] {
  const words = text
    .toLowerCase()
    .split(/[^A-Za-z0-9\u{80}-\u{10FFFF}]+/u)
    .filter((w) => w.length > 0);
  return [...new Set(words)];
}
