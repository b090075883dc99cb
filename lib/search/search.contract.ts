// One suite for every search adapter: ClickHouse here, Elasticsearch when one is configured.
// Each test uses its own organisation, so adapters that share an index across tests stay apart.
//
// What every adapter agrees on:
// - matching: every word of the query (`searchWords`), any case; filters by account, kind, time
//   and sentiment (class or inclusive score bounds, compared as stored float32 scores);
// - `newest` order: `at` then id, descending; `total` counts every match whatever the order;
// - `relevance` order: BM25 (k1 1.2, b 0.75) over `searchTokens`: with the other words alike, more
//   occurrences of a word rank higher, a longer text with as many ranks lower, and a rarer word
//   weighs more than a common one; equal scores fall back to newest first. Scores themselves are
//   adapter-specific (Elasticsearch counts its statistics over the whole index, the embedded
//   adapter over the organisation's stored rows), so only these orderings are promised.
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

    test('stores who scored each text', async () => {
      const org = newOrg();
      await search.index([
        doc(org, 'w1', 'scored words', {
          sentiment: 0.4,
          scorer: { name: 'vader', version: '1.1.3' },
          version: T0,
          scoredAt: T0,
        }),
      ]);
      const [hit] = (await search.search({ orgId: org, text: 'scored', limit: 1 })).hits;
      expect(hit?.document.scorer).toEqual({ name: 'vader', version: '1.1.3' });
      // Re-scores of the same version, each scored later than the last, replace score and scorer.
      await search.index([
        doc(org, 'w1', 'scored words', {
          sentiment: -0.2,
          scorer: { name: 'model', version: '2' },
          version: T0,
          scoredAt: T0 + MINUTE,
        }),
      ]);
      await search.index([
        doc(org, 'w1', 'scored words', {
          sentiment: 0.7,
          scorer: { name: 'model', version: '3' },
          version: T0,
          scoredAt: T0 + 2 * MINUTE,
        }),
      ]);
      const [again] = (await search.search({ orgId: org, text: 'scored', limit: 1 })).hits;
      expect(again?.document.scorer).toEqual({ name: 'model', version: '3' });
      expect(again?.document.sentiment).toBeCloseTo(0.7, 4);
    });

    test('filters by sentiment class and by inclusive score bounds', async () => {
      const org = newOrg();
      const scores = [-1, -0.5, -0.05, -0.0499, 0, 0.0499, 0.05, 0.3, 1];
      await search.index(
        scores.map((sentiment, i) => doc(org, `s${i}`, 'mood words', { sentiment, at: T0 + i })),
      );
      const scoresOf = async (sentiment: SearchQuery['sentiment']) =>
        (await search.search({ orgId: org, text: 'mood', limit: 20, sentiment })).hits
          .map((h) => Math.round(h.document.sentiment * 10_000) / 10_000)
          .reverse();
      expect(await scoresOf({ classes: ['positive'] })).toEqual([0.05, 0.3, 1]);
      expect(await scoresOf({ classes: ['neutral'] })).toEqual([-0.0499, 0, 0.0499]);
      expect(await scoresOf({ classes: ['negative'] })).toEqual([-1, -0.5, -0.05]);
      expect(await scoresOf({ classes: ['negative', 'positive'] })).toEqual([
        -1, -0.5, -0.05, 0.05, 0.3, 1,
      ]);
      expect(await scoresOf({ min: -0.5, max: 0.3 })).toEqual([
        -0.5, -0.05, -0.0499, 0, 0.0499, 0.05, 0.3,
      ]);
      expect(await scoresOf({ classes: ['positive'], max: 0.3 })).toEqual([0.05, 0.3]);
      expect(await scoresOf({ classes: [] })).toEqual([]);
      expect(await scoresOf({ min: 0.5, max: 0.4 })).toEqual([]);
      const total = await search.search({
        orgId: org,
        text: 'mood',
        limit: 1,
        sentiment: { classes: ['neutral'] },
      });
      expect(total.total).toBe(3);
    });

    test('ranks by relevance: frequency, length and rarity, ties newest first', async () => {
      const org = newOrg();
      // "zorb" is in every text, "quix" in four of them: quix is the rarer word.
      await search.index([
        doc(org, 'once', 'zorb quix alpha beta', { at: T0 + 5 * MINUTE }),
        doc(org, 'twice', 'zorb quix quix beta', { at: T0 }),
        doc(org, 'long', 'zorb quix alpha beta gamma delta epsilon zeta', { at: T0 + 6 * MINUTE }),
        doc(org, 'twin', 'beta alpha quix zorb', { at: T0 + 4 * MINUTE }),
        ...Array.from({ length: 6 }, (_, i) =>
          doc(org, `filler${i}`, `zorb filler words ${i}`, { at: T0 + i }),
        ),
      ]);
      const rank = async (text: string) =>
        (await search.search({ orgId: org, text, limit: 10, order: 'relevance' })).hits;
      const quix = await rank('quix');
      expect(quix.map((h) => h.document.id)).toEqual(['twice', 'once', 'twin', 'long']);
      for (let i = 1; i < quix.length; i++) {
        expect(quix[i]!.score).toBeLessThanOrEqual(quix[i - 1]!.score);
      }
      expect(quix[1]!.score).toBe(quix[2]!.score);
      // Same set and total as newest first.
      const newest = await search.search({ orgId: org, text: 'quix', limit: 10 });
      expect(newest.total).toBe(4);
      expect(newest.hits.map((h) => h.document.id)).toEqual(['long', 'once', 'twin', 'twice']);
      // Two words: the text with the rarer word twice beats the one with the common word twice.
      await search.index([
        doc(org, 'rare2', 'zorb quix quix omega', { at: T0 }),
        doc(org, 'common2', 'zorb zorb quix omega', { at: T0 + 9 * MINUTE }),
      ]);
      expect((await rank('zorb quix omega')).map((h) => h.document.id)).toEqual([
        'rare2',
        'common2',
      ]);
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
