// Embedded search: ClickHouse token matching over `search_documents`. Every word of the query
// must appear as a whole token, case-insensitively; the token bloom filter skips granules.
import type { Olap } from '../olap/olap.port.ts';
import type { SearchHit, SearchIndex, SearchQuery, TextDocument, TextKind } from './search.port.ts';

/** Words of a query: runs of letters and digits, lower-cased, as ClickHouse tokenises text. */
export function queryTokens(text: string): string[] {
  return [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, 16);
}

interface Row {
  id: string;
  kind: TextKind;
  account_id: string;
  platform: string;
  post_id: string;
  text: string;
  sentiment: number;
  at_ms: number;
  total: number;
}

export function createClickHouseSearch(olap: Olap): SearchIndex {
  return {
    async index(documents: readonly TextDocument[]) {
      const indexedAt = Date.now();
      await olap.insert(
        'search_documents',
        documents.map((d) => ({
          org_id: d.orgId,
          id: d.id,
          kind: d.kind,
          account_id: d.accountId,
          platform: d.platform,
          post_id: d.postId ?? '',
          text: d.text,
          sentiment: d.sentiment,
          at: d.at,
          indexed_at: indexedAt,
        })),
      );
    },

    async search(query: SearchQuery) {
      const tokens = queryTokens(query.text);
      if (tokens.length === 0) return { total: 0, hits: [] };
      const matches = tokens.map((_, i) => `hasTokenCaseInsensitive(text, {t${i}:String})`);
      const filters = [...matches];
      if (query.accountIds?.length) filters.push('account_id IN {accounts:Array(String)}');
      if (query.kinds?.length) filters.push('kind IN {kinds:Array(String)}');
      if (query.from !== undefined)
        filters.push("at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')");
      if (query.to !== undefined) filters.push("at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')");
      // Candidates through the token index, then only their latest versions, filtered again.
      const rows = await olap.query<Row>(
        `SELECT id, kind, account_id, platform, post_id, text, sentiment,
                toInt64(toUnixTimestamp64Milli(at)) AS at_ms, count() OVER () AS total
         FROM (
           SELECT * FROM search_documents
           WHERE org_id = {org:String}
             AND id IN (SELECT id FROM search_documents WHERE org_id = {org:String} AND ${matches.join(' AND ')})
           ORDER BY indexed_at DESC
           LIMIT 1 BY id
         )
         WHERE ${filters.join(' AND ')}
         ORDER BY at DESC, id
         LIMIT {limit:UInt32}`,
        {
          org: query.orgId,
          ...Object.fromEntries(tokens.map((t, i) => [`t${i}`, t])),
          accounts: query.accountIds ?? [],
          kinds: query.kinds ?? [],
          from: query.from ?? 0,
          to: query.to ?? 0,
          limit: query.limit,
        },
      );
      const hits: SearchHit[] = rows.map((r) => ({
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
      }));
      return { total: Number(rows[0]?.total ?? 0), hits };
    },

    async close() {},
  };
}
