// What a searchable word is, for every search adapter and for input validation.
import type { SearchQuery } from './search.port.ts';
import { sentimentRanges } from './search-sentiment.ts';

/** More words than this in one query is refused: each word is one more filter to evaluate. */
export const MAX_SEARCH_WORDS = 32;

/**
 * The distinct lower-case words of a query. Words are split at ASCII characters that are not
 * letters or digits (spaces, punctuation, `_`); other characters (é, ß, 東) belong to words.
 * This is how ClickHouse's hasToken and token bloom filters split text, so the query and the
 * index agree on every word boundary.
 */
export function searchWords(text: string): string[] {
  return [...new Set(searchTokens(text))];
}

/** Every word of a text in order, repeats kept: what relevance counts (term frequency, length). */
export function searchTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^A-Za-z0-9\u{80}-\u{10FFFF}]+/u)
    .filter((w) => w.length > 0);
}

/**
 * Checks a query's limit and word count (the same rules for every adapter) and returns its
 * words, or `null` when it can match nothing: no words, or an empty account or kind filter.
 */
export function queryWords(query: SearchQuery): string[] | null {
  if (!Number.isInteger(query.limit) || query.limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${query.limit}`);
  }
  const words = searchWords(query.text);
  if (words.length > MAX_SEARCH_WORDS) {
    throw new RangeError(`at most ${MAX_SEARCH_WORDS} words per search, got ${words.length}`);
  }
  if (
    words.length === 0 ||
    query.accountIds?.length === 0 ||
    query.kinds?.length === 0 ||
    sentimentRanges(query.sentiment)?.length === 0
  ) {
    return null;
  }
  return words;
}
