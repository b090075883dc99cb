// Text search over posts, comments and mentions. Embedded: ClickHouse text search.
// Server: Elasticsearch (next issue). Both pass `search.contract.ts`.

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
  /** -1 (negative) … 1 (positive). */
  sentiment: number;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface SearchQuery {
  orgId: string;
  /** Words that must all appear (case-insensitive). */
  text: string;
  accountIds?: readonly string[];
  kinds?: readonly TextKind[];
  from?: number;
  to?: number;
  limit: number;
}

export interface SearchHit {
  document: TextDocument;
  score: number;
}

export interface SearchIndex {
  /** Upserts by (orgId, id): indexing the same document twice leaves one. */
  index(documents: readonly TextDocument[]): Promise<void>;
  /** Newest first among matches. */
  search(query: SearchQuery): Promise<{ total: number; hits: SearchHit[] }>;
  close(): Promise<void>;
}
