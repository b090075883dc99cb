// Embedded search: the `text_search` table (schema/clickhouse/014_text_search.sql) on the OLAP
// store. Every word becomes a hasToken filter on lowerUTF8(text), which the token bloom filter
// answers by skipping granules; user text only ever travels as a query parameter.
import type { Olap, OlapParams } from '../olap/olap.port.ts';
import type {
  IndexRefusal,
  SearchHit,
  SearchIndex,
  SearchQuery,
  TextDocument,
  TextKind,
} from './search.port.ts';
import { queryWords } from './search-words.ts';

const TABLE = 'text_search';

interface SearchRow {
  id: string;
  kind: TextKind;
  account_id: string;
  platform: string;
  post_id: string;
  text: string;
  sentiment: number;
  /** 64-bit integers arrive as strings from a ClickHouse server and as numbers from chDB. */
  at_ms: number | string;
  total: number | string;
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
      const where = filters.join(' AND ');

      // Candidates are ids with any revision matching (the index finds those); the latest revision
      // of each is then taken and filtered again, so a replaced text never matches on old words.
      const rows = await olap.query<SearchRow>(
        `SELECT id, kind, account_id, platform, post_id, text, round(sentiment, 4) AS sentiment,
                toUnixTimestamp64Milli(at) AS at_ms, count() OVER () AS total
         FROM (
           SELECT id, kind, account_id, platform, post_id, text, sentiment, at
           FROM ${TABLE}
           WHERE org_id = {org:String}
             AND id IN (SELECT id FROM ${TABLE} WHERE org_id = {org:String} AND ${where})
           ORDER BY id, version DESC
           LIMIT 1 BY id
         )
         WHERE ${where}
         ORDER BY at DESC, id DESC
         LIMIT {limit:UInt32}`,
        params,
      );
      return {
        total: rows[0] ? Number(rows[0].total) : 0,
        hits: rows.map((r) => ({
          // ClickHouse has no relevance ranking here: every hit matches every word.
          score: 1,
          document: {
            orgId: query.orgId,
            id: r.id,
            kind: r.kind,
            accountId: r.account_id,
            platform: r.platform,
            postId: r.post_id === '' ? null : r.post_id,
            text: r.text,
            sentiment: r.sentiment,
            at: Number(r.at_ms),
          },
        })),
      };
    },

    async close(): Promise<void> {},
  };
}
