// Text search over posts, comments and mentions. Embedded: ClickHouse text search.
// Server: Elasticsearch (`elasticsearch.search.ts`). Both pass `search.contract.ts`.
import type { SentimentClass } from '../sentiment/sentiment-class.ts';
import type { ScorerIdentity } from '../sentiment/sentiment.port.ts';

export type TextKind = 'post' | 'comment' | 'mention';

export interface TextDocument {
  orgId: string;
  /** Unique within the organisation: the event's post or comment id. */
  id: string;
  kind: TextKind;
  accountId: string;
  platform: string;
  postId: string | null;
  text: string;
  /** -1 (negative) … 1 (positive), as stored (`storedScore`). */
  sentiment: number;
  /** Who gave that score. */
  scorer: ScorerIdentity;
  /**
   * When it was scored, ms (default: now). Among revisions of one version the latest scored wins;
   * callers index a version's re-scores in the order they scored them, as the pipeline and
   * `npm run rescore` do, so that is also the last indexed (what Elasticsearch keeps).
   */
  scoredAt?: number;
  /** Milliseconds since the epoch. */
  at: number;
  /**
   * Orders revisions of one document (e.g. the event time, in ms): the highest stored wins, so an
   * old revision replayed later never replaces a newer one. Defaults to the time of indexing.
   */
  version?: number;
}

export interface SearchQuery {
  orgId: string;
  /** Words that must all appear (case-insensitive); see `searchWords` for what a word is. */
  text: string;
  /** Only these accounts; an empty list matches nothing. */
  accountIds?: readonly string[];
  /** Only these kinds; an empty list matches nothing. */
  kinds?: readonly TextKind[];
  /** Inclusive lower bound on `at`, ms. */
  from?: number;
  /** Exclusive upper bound on `at`, ms. */
  to?: number;
  /** Only texts whose sentiment is in one of these classes and within the score range. */
  sentiment?: SentimentFilter;
  /**
   * `newest` (the default): by `at`, then id, descending. `relevance`: by BM25 score (k1 1.2,
   * b 0.75) over the words of the query, then newest first; see `search.contract.ts` for what
   * every adapter agrees on.
   */
  order?: SearchOrder;
  /** Hits to return, 1 or more; `total` counts every match. */
  limit: number;
}

export type SearchOrder = 'newest' | 'relevance';

export interface SentimentFilter {
  /** Any of these classes (`lib/sentiment/sentiment-class.ts`); an empty list matches nothing. */
  classes?: readonly SentimentClass[];
  /** Inclusive bounds on the stored score. */
  min?: number;
  max?: number;
}

export interface SearchHit {
  document: TextDocument;
  /** The relevance score; comparable only within one answer of one adapter. */
  score: number;
}

/** A document the index refused on its own, while the others of the call were indexed. */
export interface IndexRefusal {
  orgId: string;
  id: string;
  reason: string;
}

export interface SearchIndex {
  /**
   * Upserts by (orgId, id): indexing the same document twice leaves one (highest version).
   * Resolves with the documents refused one by one (an older version is not a refusal); rejects
   * when the call as a whole failed, with a `StoreUnavailableError` when the index is unreachable.
   */
  index(documents: readonly TextDocument[]): Promise<IndexRefusal[]>;
  /** Matches in `query.order`. */
  search(query: SearchQuery): Promise<{ total: number; hits: SearchHit[] }>;
  close(): Promise<void>;
}
