import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createChdbOlap } from '../olap/chdb.olap.ts';
import type { Olap } from '../olap/olap.port.ts';
import { applyOlapSchema } from '../olap/olap-schema.ts';
import { createClickHouseSearch } from './clickhouse.search.ts';
import { searchContract } from './search.contract.ts';
import { searchWords } from './search-words.ts';

// chDB opens one data directory per process: the contract and the tests below share it.
let olap: Olap | undefined;
async function sharedOlap(): Promise<Olap> {
  if (!olap) {
    olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-search-')) });
    await applyOlapSchema(olap);
  }
  return olap;
}
afterAll(async () => olap?.close());

searchContract('clickhouse (chDB)', async () => createClickHouseSearch(await sharedOlap()));

describe('clickhouse search', () => {
  test('splits words the way ClickHouse tokens do', () => {
    expect(searchWords("Don't STOP_now: café—crème 2026!")).toEqual([
      'don',
      't',
      'stop',
      'now',
      'café—crème',
      '2026',
    ]);
    expect(searchWords('a a A')).toEqual(['a']);
  });

  test('stays exact before merges and uses the token index', async () => {
    const db = await sharedOlap();
    const search = createClickHouseSearch(db);
    await db.command('SYSTEM STOP MERGES text_search');
    try {
      const base = {
        orgId: 'org-merge',
        kind: 'post' as const,
        accountId: 'a',
        platform: 'x',
        postId: 'p',
      };
      for (let v = 1; v <= 5; v++) {
        await search.index([
          {
            ...base,
            id: 'p',
            text: `revision r${v}`,
            sentiment: 0,
            scorer: { name: 'test', version: '1' },
            at: 1,
            version: v,
          },
        ]);
      }
      const parts = await db.query<{ n: number }>(
        `SELECT count() AS n FROM system.parts WHERE table = 'text_search' AND active`,
      );
      expect(Number(parts[0]?.n)).toBeGreaterThanOrEqual(5);
      expect(await search.search({ orgId: 'org-merge', text: 'r3', limit: 5 })).toEqual({
        total: 0,
        hits: [],
      });
      const hit = await search.search({ orgId: 'org-merge', text: 'revision', limit: 5 });
      expect(hit.total).toBe(1);
      expect(hit.hits[0]?.document.text).toBe('revision r5');
    } finally {
      await db.command('SYSTEM START MERGES text_search');
    }
    const plan = await db.query<{ explain: string }>(
      `EXPLAIN indexes = 1 SELECT id FROM text_search
       WHERE org_id = 'org-merge' AND hasToken(lowerUTF8(text), 'revision')`,
    );
    expect(plan.map((r) => r.explain).join('\n')).toContain('text_tokens');
  });

  test('refuses a limit below one and too many words', async () => {
    const search = createClickHouseSearch(await sharedOlap());
    await expect(search.search({ orgId: 'o', text: 'x', limit: 0 })).rejects.toThrow(RangeError);
    const many = Array.from({ length: 33 }, (_, i) => `w${i}`).join(' ');
    await expect(search.search({ orgId: 'o', text: many, limit: 1 })).rejects.toThrow(/at most 32/);
  });
});
