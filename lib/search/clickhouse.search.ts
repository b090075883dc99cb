// Embedded search: the `text_search` table (schema/clickhouse/014_text_search.sql) on the OLAP
// store. Every word becomes a hasToken filter on lowerUTF8(text), which the token bloom filter
// answers by skipping granules; user text only ever travels as a query parameter. Relevance is
// BM25 computed in SQL: term frequency and length from tokens(), which splits as hasToken does.
import type { Olap, OlapParams } from '../olap/olap.port.ts';
import type {
  IndexRefusal,
  SearchHit,
  SearchIndex,
  SearchQuery,
  TextDocument,
  TextKind,
} from './search.port.ts';
import { sentimentRanges, sentimentSql } from './search-sentiment.ts';
import { queryWords } from './search-words.ts';

const TABLE = 'text_search';
/** Lucene's BM25 defaults, so both adapters weigh frequency and length alike. */
const BM25 = { k1: 1.2, b: 0.75 };

interface SearchRow {
  id: string;
  kind: TextKind;
  account_id: string;
  platform: string;
  post_id: string;
  text: string;
  sentiment: number;
  scorer: string;
  scorer_version: string;
  /** 64-bit integers arrive as strings from a ClickHouse server and as numbers from chDB. */
  at_ms: number | string;
  total: number | string;
  relevance: number;
}

/**
 * The BM25 score of a row's `toks` for the query words `{w<i>}`. Corpus statistics (documents,
 * average length, documents per word) are counted over the organisation's stored rows: until
 * ClickHouse merges them, replaced revisions count too, so scores are close to, not exactly, BM25.
 */
function bm25Sql(words: readonly string[]): { with: string; score: string } {
  const org = `FROM ${TABLE} WHERE org_id = {org:String}`;
  const stats = [
    `(SELECT count() ${org}) AS n_docs`,
    `(SELECT avg(length(tokens(lowerUTF8(text)))) ${org}) AS avg_len`,
    ...words.map(
      (_, i) => `(SELECT count() ${org} AND hasToken(lowerUTF8(text), {w${i}:String})) AS df${i}`,
    ),
  ];
  const norm = `${BM25.k1} * (1 - ${BM25.b} + ${BM25.b} * length(toks) / avg_len)`;
  const terms = words.map(
    (_, i) =>
      `log(1 + (n_docs - df${i} + 0.5) / (df${i} + 0.5)) * countEqual(toks, {w${i}:String}) * ${BM25.k1 + 1}` +
      ` / (countEqual(toks, {w${i}:String}) + ${norm})`,
  );
  return { with: `WITH ${stats.join(', ')}`, score: terms.join(' + ') };
}

/** A search index over the OLAP store; `close()` leaves the store open for its owner. */
export function createClickHouseSearch(olap: Olap): SearchIndex {
  return {
    async index(documents: readonly TextDocument[]): Promise<IndexRefusal[]> {
      // One row per key in the block: within a batch, the highest version (else the last) wins.
      const now = Date.now();
      const latest = new Map<string, TextDocument & { version: number }>();
      for (const doc of documents) {
        const versioned = { ...doc, version: doc.version ?? now };
        const key = `${doc.orgId}\u0000${doc.id}`;
        const seen = latest.get(key);
        if (!seen || seen.version <= versioned.version) latest.set(key, versioned);
      }
      await olap.insert(
        TABLE,
        [...latest.values()].map((d) => ({
          org_id: d.orgId,
          id: d.id,
          kind: d.kind,
          account_id: d.accountId,
          platform: d.platform,
          post_id: d.postId ?? '',
          text: d.text,
          sentiment: d.sentiment,
          scorer: d.scorer.name,
          scorer_version: d.scorer.version,
          scored_at: d.scoredAt ?? now,
          at: d.at,
          version: d.version,
        })),
      );
      // One insert: the store takes the block whole or refuses it whole.
      return [];
    },

    async search(query: SearchQuery): Promise<{ total: number; hits: SearchHit[] }> {
      const words = queryWords(query);
      if (!words) return { total: 0, hits: [] };

      const params: OlapParams = { org: query.orgId, limit: query.limit };
      const filters = words.map((word, i) => {
        params[`w${i}`] = word;
        return `hasToken(lowerUTF8(text), {w${i}:String})`;
      });
      if (query.accountIds) {
        params['accounts'] = query.accountIds;
        filters.push('account_id IN {accounts:Array(String)}');
      }
      if (query.kinds) {
        params['kinds'] = query.kinds;
        filters.push('kind IN {kinds:Array(String)}');
      }
      if (query.from !== undefined) {
        params['from'] = query.from;
        filters.push(`at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')`);
      }
      if (query.to !== undefined) {
        params['to'] = query.to;
        filters.push(`at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`);
      }
      const ranges = sentimentRanges(query.sentiment);
      if (ranges) filters.push(sentimentSql('sentiment', ranges, params));
      const where = filters.join(' AND ');
      const relevance = query.order === 'relevance';
      const bm25 = relevance ? bm25Sql(words) : { with: '', score: '1' };

      // Candidates are ids with any revision matching (the index finds those); the latest revision
      // of each is then taken and filtered again, so a replaced text never matches on old words.
      // A re-score rewrites a revision at its own version: the latest scored_at wins among them.
      const rows = await olap.query<SearchRow>(
        `${bm25.with}
         SELECT id, kind, account_id, platform, post_id, text, round(sentiment, 4) AS sentiment,
                scorer, scorer_version, toUnixTimestamp64Milli(at) AS at_ms,
                count() OVER () AS total, ${bm25.score} AS relevance
         FROM (
           SELECT id, kind, account_id, platform, post_id, text, sentiment, scorer, scorer_version,
                  at, tokens(lowerUTF8(text)) AS toks
           FROM ${TABLE}
           WHERE org_id = {org:String}
             AND id IN (SELECT id FROM ${TABLE} WHERE org_id = {org:String} AND ${where})
           ORDER BY id, version DESC, scored_at DESC
           LIMIT 1 BY id
         )
         WHERE ${where}
         ORDER BY ${relevance ? 'relevance DESC, ' : ''}at DESC, id DESC
         LIMIT {limit:UInt32}`,
        params,
      );
      return {
        total: rows[0] ? Number(rows[0].total) : 0,
        hits: rows.map((r) => ({
          score: Number(r.relevance),
          document: {
            orgId: query.orgId,
            id: r.id,
            kind: r.kind,
            accountId: r.account_id,
            platform: r.platform,
            postId: r.post_id === '' ? null : r.post_id,
            text: r.text,
            sentiment: r.sentiment,
            scorer: { name: r.scorer, version: r.scorer_version },
            at: Number(r.at_ms),
          },
        })),
      };
    },

    async close(): Promise<void> {},
  };
}
