// One suite for every search adapter: ClickHouse here, Elasticsearch when one is configured.
// Each test uses its own organisation, so adapters that share an index across tests stay apart.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SearchIndex, SearchQuery, TextDocument } from './search.port.ts';

const T0 = Date.UTC(2026, 2, 1, 12, 0);
const MINUTE = 60_000;

function doc(orgId: string, id: string, text: string, overrides: Partial<TextDocument> = {}) {
  return {
    orgId,
    id,
    kind: 'comment',
    accountId: 'acct-1',
    platform: 'instagram',
    postId: 'post-1',
    text,
    sentiment: 0,
    scorer: { name: 'test', version: '1' },
    at: T0,
    ...overrides,
  } satisfies TextDocument;
}

export function searchContract(name: string, create: () => Promise<SearchIndex>): void {
  describe(`search contract: ${name}`, () => {
    let search: SearchIndex;
    const newOrg = () => `org-${randomUUID()}`;
    const ids = async (query: SearchQuery) =>
      (await search.search(query)).hits.map((h) => h.document.id);

    beforeAll(async () => {
      search = await create();
    });
    afterAll(() => search.close());

    test('finds documents containing every word, whatever the case, newest first', async () => {
      const org = newOrg();
      await search.index([
        doc(org, 'c1', 'Loved the NEW sneakers!', { at: T0 }),
        doc(org, 'c2', 'new colourway, same old sneakers', { at: T0 + MINUTE }),
        doc(org, 'c3', 'sneakers are fine', { at: T0 + 2 * MINUTE }),
        doc(org, 'c4', 'newsneakers is one word', { at: T0 + 3 * MINUTE }),
      ]);
      const result = await search.search({ orgId: org, text: 'sneakers new', limit: 10 });
      expect(result.total).toBe(2);
      expect(result.hits.map((h) => h.document.id)).toEqual(['c2', 'c1']);
      expect(result.hits[1]?.document).toEqual(doc(org, 'c1', 'Loved the NEW sneakers!'));
      expect(await ids({ orgId: org, text: '  SNEAKERS!! ', limit: 10 })).toEqual([
        'c3',
        'c2',
        'c1',
      ]);
      expect(await ids({ orgId: org, text: 'sneaker', limit: 10 })).toEqual([]);
    });

    test('splits words at punctuation and keeps accented letters', async () => {
      const org = newOrg();
      await search.index([
        doc(org, 'p1', 'Best café in town: order_now (really).', { kind: 'post', postId: 'p1' }),
      ]);
      for (const text of ['CAFÉ', 'order now', 'town really', 'in-town']) {
        expect(await ids({ orgId: org, text, limit: 5 }), text).toEqual(['p1']);
      }
      expect(await ids({ orgId: org, text: 'cafe', limit: 5 })).toEqual([]);
    });

    test('treats query text as data, never as syntax', async () => {
      const org = newOrg();
      await search.index([doc(org, 'q1', "it's a 'quoted' \\ {w0:String} OR 1=1 -- text")]);
      for (const text of ["it's", "'; DROP TABLE text_search; --", '{w0:String}', '*', 'OR 1=1']) {
        await expect(search.search({ orgId: org, text, limit: 5 })).resolves.toBeDefined();
      }
      expect(await ids({ orgId: org, text: "it's quoted", limit: 5 })).toEqual(['q1']);
      expect(await ids({ orgId: org, text: '*', limit: 5 })).toEqual([]);
    });

    test('upserts by (organisation, id): the latest text replaces the old one', async () => {
      const org = newOrg();
      await search.index([doc(org, 'u1', 'first draft')]);
      await search.index([doc(org, 'u1', 'first draft')]);
      expect((await search.search({ orgId: org, text: 'draft', limit: 5 })).total).toBe(1);
      await search.index([doc(org, 'u1', 'final version', { sentiment: 0.5 })]);
      expect(await ids({ orgId: org, text: 'draft', limit: 5 })).toEqual([]);
      const hits = (await search.search({ orgId: org, text: 'final', limit: 5 })).hits;
      expect(hits.map((h) => h.document.text)).toEqual(['final version']);
      expect(hits[0]?.document.sentiment).toBeCloseTo(0.5, 4);
    });

    test('keeps the highest version when an older revision arrives later', async () => {
      const org = newOrg();
      await search.index([doc(org, 'v1', 'edited wording', { version: T0 + MINUTE })]);
      await search.index([doc(org, 'v1', 'original wording', { version: T0 })]);
      expect(await ids({ orgId: org, text: 'original', limit: 5 })).toEqual([]);
      expect(await ids({ orgId: org, text: 'edited', limit: 5 })).toEqual(['v1']);
      // Within one call too.
      await search.index([
        doc(org, 'v2', 'newer words', { version: 2 }),
        doc(org, 'v2', 'older words', { version: 1 }),
      ]);
      expect(await ids({ orgId: org, text: 'words', limit: 5 })).toEqual(['v2']);
    });

    test('filters by accounts, kinds and a half-open time range', async () => {
      const org = newOrg();
      await search.index([
        doc(org, 'a', 'launch day', { accountId: 'acct-1', kind: 'post', at: T0 }),
        doc(org, 'b', 'launch day', { accountId: 'acct-2', kind: 'comment', at: T0 + MINUTE }),
        doc(org, 'c', 'launch day', {
          accountId: 'acct-2',
          kind: 'mention',
          postId: null,
          at: T0 + 2 * MINUTE,
        }),
        doc(org, 'd', 'launch day', { accountId: 'acct-3', kind: 'comment', at: T0 + 3 * MINUTE }),
      ]);
      const q = { orgId: org, text: 'launch', limit: 10 };
      expect(await ids({ ...q, accountIds: ['acct-2', 'acct-3'] })).toEqual(['d', 'c', 'b']);
      expect(await ids({ ...q, kinds: ['post', 'mention'] })).toEqual(['c', 'a']);
      expect(await ids({ ...q, from: T0 + MINUTE, to: T0 + 3 * MINUTE })).toEqual(['c', 'b']);
      expect(await ids({ ...q, accountIds: ['acct-2'], kinds: ['comment'], from: T0 })).toEqual([
        'b',
      ]);
      expect(await ids({ ...q, accountIds: [] })).toEqual([]);
      expect(await ids({ ...q, kinds: [] })).toEqual([]);
      const mention = (await search.search({ ...q, kinds: ['mention'] })).hits[0]?.document;
      expect(mention?.postId).toBeNull();
    });

    test('counts every match and returns at most `limit` hits', async () => {
      const org = newOrg();
      await search.index(
        Array.from({ length: 30 }, (_, i) =>
          doc(org, `m${String(i).padStart(2, '0')}`, `match number ${i}`, { at: T0 + i * MINUTE }),
        ),
      );
      const result = await search.search({ orgId: org, text: 'match', limit: 5 });
      expect(result.total).toBe(30);
      expect(result.hits.map((h) => h.document.id)).toEqual(['m29', 'm28', 'm27', 'm26', 'm25']);
      for (const hit of result.hits) expect(typeof hit.score).toBe('number');
    });

    test('orders hits at the same instant by id, descending', async () => {
      const org = newOrg();
      await search.index([doc(org, 's1', 'tie'), doc(org, 's3', 'tie'), doc(org, 's2', 'tie')]);
      expect(await ids({ orgId: org, text: 'tie', limit: 5 })).toEqual(['s3', 's2', 's1']);
    });

    test('keeps organisations apart, even with the same ids', async () => {
      const orgA = newOrg();
      const orgB = newOrg();
      await search.index([doc(orgA, 'same', 'secret plans'), doc(orgB, 'same', 'public notes')]);
      expect(await ids({ orgId: orgB, text: 'secret', limit: 5 })).toEqual([]);
      expect(await ids({ orgId: orgA, text: 'secret', limit: 5 })).toEqual(['same']);
      expect(await ids({ orgId: orgB, text: 'public', limit: 5 })).toEqual(['same']);
    });

    test('answers nothing for a query without words', async () => {
      const org = newOrg();
      await search.index([doc(org, 'n1', 'anything at all')]);
      expect(await search.search({ orgId: org, text: ' ?! ', limit: 5 })).toEqual({
        total: 0,
        hits: [],
      });
    });
  });
}
