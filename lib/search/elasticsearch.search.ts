// Server search: one Elasticsearch index per deployment (`<prefix>texts`). The integ-test
// distribution has no analysis-common module, so no tokenizer can split text the way
// `searchWords` does; the adapter splits it itself and indexes the words as exact keywords, so
// the query and the index agree on every word boundary by construction. Relevance is Lucene's
// BM25 over `tokens`, every word in order with repeats, indexed with frequencies and lengths.
import { Client, errors, type estypes } from '@elastic/elasticsearch';
import { StoreUnavailableError } from '../store-errors.ts';
import type {
  IndexRefusal,
  SearchHit,
  SearchIndex,
  SearchQuery,
  TextDocument,
  TextKind,
} from './search.port.ts';
import { sentimentRanges } from './search-sentiment.ts';
import { queryWords, searchTokens, searchWords } from './search-words.ts';

export interface ElasticsearchSearchOptions {
  /** Base URL of the cluster, e.g. `http://127.0.0.1:9200`. */
  url: string;
  /** Prefix of the index name, so deployments (and test runs) can share one cluster. */
  indexPrefix: string;
  /** Milliseconds one request may take before it fails. */
  requestTimeoutMs?: number;
  /** Retries after a connection error or a 502/503/504; each waits a backoff of 1 s or more. */
  maxRetries?: number;
  /** Documents per bulk request. */
  bulkSize?: number;
  /**
   * How `index()` makes its documents searchable before it resolves: `now` refreshes the index
   * (fast, but each call writes a small segment); `wait_for` waits for the next periodic refresh
   * (up to `index.refresh_interval`, 1 s by default, per bulk request; cheaper under heavy load).
   */
  refresh?: 'now' | 'wait_for';
}

/** What is stored per document; `_source` carries it back. */
interface Source {
  org: string;
  id: string;
  kind: TextKind;
  account: string;
  platform: string;
  post: string | null;
  text: string;
  /** `searchWords(text)`: what matching uses. */
  words: string[];
  /** `searchTokens(text)`: what relevance counts; absent from documents indexed before it. */
  tokens?: string[];
  sentiment: number;
  scorer?: string;
  scorer_version?: string;
  at: number;
  version: number;
}

const keyword = { type: 'keyword' } as const;
/** Newest first, then by id: the tie-break of every order. */
const NEWEST: estypes.SortCombinations[] = [{ at: 'desc' }, { id: 'desc' }];

const MAPPINGS = {
  dynamic: 'strict',
  properties: {
    org: keyword,
    id: keyword,
    kind: keyword,
    account: keyword,
    platform: keyword,
    post: keyword,
    // Lucene refuses terms over 32766 bytes; 8191 characters stay below it in any encoding.
    words: { type: 'keyword', ignore_above: 8191 },
    // Frequencies and norms make term queries on a keyword field score as BM25 does on text.
    tokens: { type: 'keyword', ignore_above: 8191, index_options: 'freqs', norms: true },
    text: { type: 'text', index: false },
    sentiment: { type: 'float' },
    scorer: keyword,
    scorer_version: keyword,
    at: { type: 'date', format: 'epoch_millis' },
    version: { type: 'long' },
  },
} as const;

interface ErrorBody {
  error?: ErrorCause & { root_cause?: ErrorCause[] };
}
interface ErrorCause {
  type?: string;
  reason?: string;
}

/** Answers that a later try of the same request may not get: overload, or a node away. */
const TRANSIENT_STATUS = new Set([408, 429, 502, 503, 504]);

/**
 * An Error naming Elasticsearch and its reason, the driver's error as its cause; a
 * `StoreUnavailableError` when the cluster could not be reached or was overloaded.
 */
function failure(action: string, error: unknown): Error {
  let reason = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.ResponseError) {
    const detail = (error.body as ErrorBody | undefined)?.error;
    // The root cause says why; the outer error is often just "all shards failed".
    const cause = detail?.root_cause?.[0] ?? detail;
    if (cause?.reason) reason = `${cause.type ?? 'error'}: ${cause.reason}`;
    reason = `HTTP ${error.statusCode ?? '?'} ${reason}`;
  }
  const message = `Elasticsearch ${action} failed: ${reason}`;
  const unreachable =
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    (error instanceof errors.ResponseError && TRANSIENT_STATUS.has(error.statusCode ?? 0));
  if (unreachable) return new StoreUnavailableError('Elasticsearch', message, { cause: error });
  return new Error(message, { cause: error });
}

const alreadyExists = (error: unknown) =>
  error instanceof errors.ResponseError &&
  (error.body as ErrorBody | undefined)?.error?.type === 'resource_already_exists_exception';

export function createElasticsearchSearch({
  url,
  indexPrefix,
  requestTimeoutMs = 10_000,
  maxRetries = 1,
  bulkSize = 1000,
  refresh = 'now',
}: ElasticsearchSearchOptions): SearchIndex {
  const client = new Client({ node: url, requestTimeout: requestTimeoutMs, maxRetries });
  const index = `${indexPrefix}texts`;

  let created: Promise<void> | undefined;
  /** Creates the index on first use; another process creating it first is as good. */
  // An index made before a field was added gets it: new fields may be added to a mapping.
  const ensureIndex = () =>
    (created ??= client.indices
      .create({ index, mappings: MAPPINGS })
      .then(
        () => undefined,
        (error: unknown) => {
          if (!alreadyExists(error)) throw error;
          return client.indices.putMapping({ index, ...MAPPINGS }).then(() => undefined);
        },
      )
      .catch((error: unknown) => {
        created = undefined;
        throw failure(`creating index ${index}`, error);
      }));

  /** Indexes one chunk; returns what Elasticsearch refused, other than older versions. */
  async function bulk(documents: readonly TextDocument[], now: number): Promise<IndexRefusal[]> {
    const operations = documents.flatMap((d) => {
      const version = d.version ?? now;
      const source: Source = {
        org: d.orgId,
        id: d.id,
        kind: d.kind,
        account: d.accountId,
        platform: d.platform,
        post: d.postId,
        text: d.text,
        words: searchWords(d.text),
        tokens: searchTokens(d.text),
        sentiment: d.sentiment,
        scorer: d.scorer.name,
        scorer_version: d.scorer.version,
        at: d.at,
        version,
      };
      // External versions make Elasticsearch keep the highest: an equal one still replaces (a
      // re-index), a lower one is refused with a conflict, which is the outcome we want.
      const action = {
        _id: JSON.stringify([d.orgId, d.id]),
        version,
        version_type: 'external_gte' as const,
      };
      return [{ index: action }, source];
    });
    const response = await client
      .bulk({ index, operations, refresh: refresh === 'wait_for' ? 'wait_for' : false })
      .catch((error: unknown) => {
        throw failure('bulk indexing', error);
      });
    if (!response.errors) return [];
    const refused: IndexRefusal[] = [];
    response.items.forEach((item, i) => {
      const result = item.index;
      if (!result?.error || result.error.type === 'version_conflict_engine_exception') return;
      const reason = `${result.error.type}: ${result.error.reason ?? ''}`;
      // A shard that is overloaded or moving refuses for now, not for good: the batch waits.
      if (TRANSIENT_STATUS.has(result.status)) {
        throw new StoreUnavailableError('Elasticsearch', `Elasticsearch bulk indexing: ${reason}`);
      }
      const document = documents[i]!;
      refused.push({ orgId: document.orgId, id: document.id, reason });
    });
    return refused;
  }

  return {
    async index(documents: readonly TextDocument[]): Promise<IndexRefusal[]> {
      if (documents.length === 0) return [];
      await ensureIndex();
      const now = Date.now();
      const refused: IndexRefusal[] = [];
      for (let i = 0; i < documents.length; i += bulkSize) {
        refused.push(...(await bulk(documents.slice(i, i + bulkSize), now)));
      }
      // Refreshed even after refusals, so what was accepted is searchable when this settles.
      if (refresh === 'now') {
        await client.indices.refresh({ index }).catch((error: unknown) => {
          throw failure(`refreshing index ${index}`, error);
        });
      }
      return refused;
    },

    async search(query: SearchQuery): Promise<{ total: number; hits: SearchHit[] }> {
      const words = queryWords(query);
      if (!words) return { total: 0, hits: [] };
      await ensureIndex();

      // The organisation is always a filter: tenants share the index.
      const filter: object[] = [{ term: { org: query.orgId } }];
      if (query.accountIds) filter.push({ terms: { account: query.accountIds } });
      if (query.kinds) filter.push({ terms: { kind: query.kinds } });
      if (query.from !== undefined || query.to !== undefined) {
        filter.push({ range: { at: { gte: query.from, lt: query.to } } });
      }
      // A float field compares in float32, as the embedded adapter casts its bounds to.
      const ranges = sentimentRanges(query.sentiment);
      if (ranges) {
        const should = ranges.map((r) => ({ range: { sentiment: { gte: r.min, lte: r.max } } }));
        filter.push({ bool: { should, minimum_should_match: 1 } });
      }
      for (const w of words) filter.push({ term: { words: w } });
      const relevance = query.order === 'relevance';
      const response = await client
        .search<Source>({
          index,
          size: query.limit,
          track_total_hits: true,
          // Every word must match (a filter); the scoring clauses only rank.
          track_scores: true,
          query: { bool: { should: words.map((w) => ({ term: { tokens: w } })), filter } },
          sort: relevance ? ['_score', ...NEWEST] : NEWEST,
          _source_excludes: ['words', 'tokens', 'version'],
        })
        .catch((error: unknown) => {
          throw failure('search', error);
        });
      const total = response.hits.total;
      return {
        total: typeof total === 'number' ? total : (total?.value ?? 0),
        hits: response.hits.hits.flatMap((hit) => {
          const s = hit._source;
          if (!s) return [];
          return [
            {
              score: hit._score ?? 0,
              document: {
                orgId: s.org,
                id: s.id,
                kind: s.kind,
                accountId: s.account,
                platform: s.platform,
                postId: s.post ?? null,
                text: s.text,
                sentiment: s.sentiment,
                scorer: { name: s.scorer ?? '', version: s.scorer_version ?? '' },
                at: s.at,
              },
            },
          ];
        }),
      };
    },

    close: () => client.close(),
  };
}
