// One suite for every search adapter: ClickHouse here, Elasticsearch in server mode.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SearchIndex, TextDocument } from './search.port.ts';

export function searchContract(name: string, create: () => Promise<SearchIndex>): void {
  describe(`search contract: ${name}`, () => {
    let search: SearchIndex;
    const org = `org-${randomUUID()}`;
    const doc = (id: string, text: string, extra: Partial<TextDocument> = {}): TextDocument => ({
      orgId: org,
      id,
      kind: 'comment',
      accountId: 'acc-a',
      platform: 'instagram',
      postId: 'post-1',
      text,
      sentiment: 0,
      at: Date.UTC(2026, 0, 1),
      ...extra,
    });

    beforeAll(async () => {
      search = await create();
      await search.index([
        doc('c1', 'Love the new Oat Latte!', { at: Date.UTC(2026, 0, 3), sentiment: 0.8 }),
        doc('c2', 'the oat latte was cold', { at: Date.UTC(2026, 0, 2), sentiment: -0.5 }),
        doc('c3', 'Latte art contest tonight', {
          kind: 'mention',
          accountId: 'acc-b',
          postId: null,
        }),
        doc('c4', 'nothing to see', { orgId: `other-${org}` }),
      ]);
      // Indexing the same id again replaces it.
      await search.index([
        doc('c3', 'Latte art contest tonight at 8', {
          kind: 'mention',
          accountId: 'acc-b',
          postId: null,
        }),
      ]);
    });
    afterAll(() => search.close());

    test('finds documents containing every word, case-insensitively, newest first', async () => {
      const result = await search.search({ orgId: org, text: 'OAT latte', limit: 10 });
      expect(result.total).toBe(2);
      expect(result.hits.map((h) => h.document.id)).toEqual(['c1', 'c2']);
      expect(result.hits[0]?.document).toMatchObject({
        text: 'Love the new Oat Latte!',
        sentiment: expect.closeTo(0.8, 5),
      });
    });

    test('upserts by id', async () => {
      const result = await search.search({ orgId: org, text: 'contest', limit: 10 });
      expect(result.hits.map((h) => h.document.text)).toEqual(['Latte art contest tonight at 8']);
      expect(result.hits[0]?.document.postId).toBeNull();
    });

    test('filters by account, kind and time, and limits', async () => {
      expect(
        (await search.search({ orgId: org, text: 'latte', accountIds: ['acc-b'], limit: 10 }))
          .total,
      ).toBe(1);
      expect(
        (await search.search({ orgId: org, text: 'latte', kinds: ['comment'], limit: 10 })).total,
      ).toBe(2);
      const ranged = await search.search({
        orgId: org,
        text: 'latte',
        from: Date.UTC(2026, 0, 2),
        to: Date.UTC(2026, 0, 3),
        limit: 10,
      });
      expect(ranged.hits.map((h) => h.document.id)).toEqual(['c2']);
      const limited = await search.search({ orgId: org, text: 'latte', limit: 1 });
      expect(limited.total).toBe(3);
      expect(limited.hits).toHaveLength(1);
    });

    test("never returns another organisation's documents", async () => {
      expect((await search.search({ orgId: org, text: 'nothing', limit: 10 })).total).toBe(0);
    });

    test('treats punctuation and quotes in the query as separators, not syntax', async () => {
      expect((await search.search({ orgId: org, text: "oat' OR 1=1 --", limit: 10 })).total).toBe(
        0,
      );
      expect((await search.search({ orgId: org, text: '!!!', limit: 10 })).total).toBe(0);
    });
  });
}
