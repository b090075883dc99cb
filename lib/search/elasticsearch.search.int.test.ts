// The search contract against a real Elasticsearch (LOUPE_ELASTICSEARCH_URL, else the local
// default that `npm run services -- up` starts). Every index carries a per-run prefix and is
// deleted afterwards.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { StoreUnavailableError } from '../store-errors.ts';
import { createElasticsearchSearch } from './elasticsearch.search.ts';
import { searchContract } from './search.contract.ts';
import type { TextDocument } from './search.port.ts';

const url = loadConfig().servers.elasticsearchUrl ?? 'http://127.0.0.1:9200';
const prefix = `loupe-test-${randomBytes(4).toString('hex')}-`;

afterAll(async () => {
  // By name: wildcard deletes are refused by default (action.destructive_requires_name).
  const listed = await fetch(`${url}/_cat/indices/${prefix}*?format=json&h=index`);
  const indices = (await listed.json()) as { index: string }[];
  for (const { index } of indices) await fetch(`${url}/${index}`, { method: 'DELETE' });
});

searchContract('elasticsearch', async () =>
  createElasticsearchSearch({ url, indexPrefix: prefix }),
);

const doc = (id: string, text: string, overrides: Partial<TextDocument> = {}): TextDocument => ({
  orgId: 'org-es',
  id,
  kind: 'comment',
  accountId: 'acct',
  platform: 'instagram',
  postId: 'post',
  text,
  sentiment: 0,
  scorer: { name: 'test', version: '1' },
  at: 1_700_000_000_000,
  ...overrides,
});

describe('elasticsearch search', () => {
  test('ignores replayed older versions across calls and bulk chunks, indexing the rest', async () => {
    const search = createElasticsearchSearch({ url, indexPrefix: prefix, bulkSize: 3 });
    const orgId = `org-replay-${randomBytes(4).toString('hex')}`;
    const ids = Array.from({ length: 7 }, (_, i) => `r${i}`);
    await search.index(ids.map((id) => doc(id, 'current wording', { orgId, version: 20 })));
    await search.index([
      ...ids.map((id) => doc(id, 'stale wording', { orgId, version: 10 })),
      doc('fresh', 'stale wording arrived', { orgId, version: 10 }),
    ]);
    expect((await search.search({ orgId, text: 'current', limit: 10 })).total).toBe(7);
    const stale = await search.search({ orgId, text: 'stale', limit: 10 });
    expect(stale.hits.map((h) => h.document.id)).toEqual(['fresh']);
    await search.close();
  });

  test('splits words exactly as searchWords does, not as the standard analyzer', async () => {
    const search = createElasticsearchSearch({ url, indexPrefix: prefix });
    const orgId = `org-words-${randomBytes(4).toString('hex')}`;
    await search.index([doc('w', "Don't STOP_now at 東京 x1.5", { orgId })]);
    // The standard analyzer would keep "don't", "stop_now" and "x1.5" whole and split 東京.
    for (const text of ["don't", 'don t', 'STOP', 'now', 'stop_now', '東京', 'x1.5', '5']) {
      expect((await search.search({ orgId, text, limit: 5 })).total, text).toBe(1);
    }
    for (const text of ['dont', 'stopnow', '東', 'x15']) {
      expect((await search.search({ orgId, text, limit: 5 })).total, text).toBe(0);
    }
    await search.close();
  });

  test("with refresh 'wait_for', a resolved index() is searchable too", async () => {
    const search = createElasticsearchSearch({ url, indexPrefix: prefix, refresh: 'wait_for' });
    const orgId = `org-wait-${randomBytes(4).toString('hex')}`;
    await search.index([doc('w', 'patiently indexed', { orgId })]);
    expect((await search.search({ orgId, text: 'patiently', limit: 5 })).total).toBe(1);
    await search.close();
  });

  test('adds the fields of scorers and relevance to an index made before them', async () => {
    const oldPrefix = `${prefix}old-`;
    const keyword = { type: 'keyword' };
    // The mapping as it was before scorers and tokens.
    const made = await fetch(`${url}/${oldPrefix}texts`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        mappings: {
          dynamic: 'strict',
          properties: {
            ...Object.fromEntries(
              ['org', 'id', 'kind', 'account', 'platform', 'post'].map((f) => [f, keyword]),
            ),
            words: { type: 'keyword', ignore_above: 8191 },
            text: { type: 'text', index: false },
            sentiment: { type: 'float' },
            at: { type: 'date', format: 'epoch_millis' },
            version: { type: 'long' },
          },
        },
      }),
    });
    expect(made.status).toBe(200);
    const search = createElasticsearchSearch({ url, indexPrefix: oldPrefix });
    const orgId = 'org-old-index';
    expect(
      await search.index([
        doc('o1', 'refund refund please', { orgId, scorer: { name: 'vader', version: '1.1.3' } }),
        doc('o2', 'refund me', { orgId }),
      ]),
    ).toEqual([]);
    const ranked = await search.search({ orgId, text: 'refund', limit: 5, order: 'relevance' });
    expect(ranked.hits.map((h) => [h.document.id, h.document.scorer.name])).toEqual([
      ['o1', 'vader'],
      ['o2', 'test'],
    ]);
    await search.close();
  });

  test('creates its index once, even when two instances race for it', async () => {
    const indexPrefix = `${prefix}race-`;
    const a = createElasticsearchSearch({ url, indexPrefix });
    const b = createElasticsearchSearch({ url, indexPrefix });
    await Promise.all([a.index([doc('a', 'first racer')]), b.index([doc('b', 'second racer')])]);
    expect((await a.search({ orgId: 'org-es', text: 'racer', limit: 5 })).total).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });

  test('answers which documents Elasticsearch refused, and why, indexing the others', async () => {
    const search = createElasticsearchSearch({ url, indexPrefix: prefix });
    const orgId = `org-refused-${randomBytes(4).toString('hex')}`;
    // Past the largest date Elasticsearch stores, so only this document of the bulk fails.
    const refused = doc('far', 'far future', { orgId, at: 1e20 });
    const answer = await search.index([doc('ok', 'near future', { orgId }), refused]);
    expect(answer.map((r) => [r.orgId, r.id])).toEqual([[orgId, 'far']]);
    expect(answer[0]?.reason).toMatch(/\[at\]/);
    expect((await search.search({ orgId, text: 'future', limit: 5 })).total).toBe(1);
    await search.close();
  });

  test('rejects a search on an unreachable server with a reason, within seconds', async () => {
    const search = createElasticsearchSearch({ url: 'http://127.0.0.1:1', indexPrefix: prefix });
    const started = Date.now();
    const failed = search.search({ orgId: 'o', text: 'anything', limit: 1 });
    await expect(failed).rejects.toThrow(/^Elasticsearch creating index .* failed: .*ECONNREFUSED/);
    // Unreachable, not refused: the pipeline waits for it rather than dead-lettering.
    await expect(failed).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
    await search.close();
  });
});
