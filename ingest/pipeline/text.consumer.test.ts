import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BusBatch } from '../../lib/bus/bus.port.ts';
import { createLogger } from '../../lib/logger.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { createClickHouseSearch } from '../../lib/search/clickhouse.search.ts';
import type { SearchIndex } from '../../lib/search/search.port.ts';
import type { EventEnvelope, EventInput } from '../../schema/event-envelope.ts';
import type { SentimentScorer } from '../../lib/sentiment/sentiment.port.ts';
import { createVaderScorer } from '../../lib/sentiment/vader.sentiment.ts';
import { createTextConsumer, type TextScoring } from './text.consumer.ts';

const T0 = Date.UTC(2026, 3, 1, 9, 0);
const iso = (ms: number) => new Date(ms).toISOString();

let olap: Olap;
let search: SearchIndex;
const logger = createLogger('silent');
const sentiment: TextScoring = { scorer: createVaderScorer(), batchSize: 64 };

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-text-')) });
  await applyOlapSchema(olap);
  search = createClickHouseSearch(olap);
});
afterAll(async () => olap.close());

function batchOf(orgId: string, items: (EventInput | string)[]): BusBatch {
  return {
    topic: 'events',
    partition: 0,
    messages: items.map((item, offset) => ({
      topic: 'events',
      partition: 0,
      offset,
      key: orgId,
      value:
        typeof item === 'string'
          ? item
          : JSON.stringify({ orgId, receivedAt: T0, event: item } satisfies EventEnvelope),
    })),
  };
}

interface StoredText {
  id: string;
  kind: string;
  post_id: string;
  author_handle: string;
  text: string;
  sentiment: number;
  scorer: string;
  scorer_version: string;
  at: number;
}

async function texts(orgId: string): Promise<StoredText[]> {
  const rows = await olap.query<StoredText>(
    `SELECT id, kind, post_id, author_handle, text, round(sentiment, 4) AS sentiment,
            scorer, scorer_version, toUnixTimestamp64Milli(at) AS at
     FROM texts WHERE org_id = {org:String}
     ORDER BY id, version DESC LIMIT 1 BY id`,
    { org: orgId },
  );
  return rows.map((r) => ({ ...r, at: Number(r.at) }));
}

async function rawCount(orgId: string): Promise<number> {
  const [row] = await olap.query<{ n: number }>(
    'SELECT count() AS n FROM texts WHERE org_id = {org:String}',
    { org: orgId },
  );
  return Number(row?.n);
}

const base = { platform: 'instagram' as const, accountId: 'acct-1' };
const post = (
  id: string,
  content: string,
  occurredAt: number,
  action: 'published' | 'updated' = 'published',
) =>
  ({
    ...base,
    id: `ev-${id}-${occurredAt}`,
    type: 'post',
    action,
    postId: id,
    content,
    publishedAt: iso(T0),
    occurredAt: iso(occurredAt),
  }) satisfies EventInput;

describe('text scoring', () => {
  test('scores the texts of a batch through the port, batchSize at a time, and stores who scored', async () => {
    const org = 'org-text-score';
    const calls: number[] = [];
    const vader = createVaderScorer();
    const counting: SentimentScorer = {
      ...vader,
      score: (texts) => {
        calls.push(texts.length);
        return vader.score(texts);
      },
    };
    const consumer = createTextConsumer({
      olap,
      search,
      sentiment: { scorer: counting, batchSize: 64 },
      logger,
    });
    const comments = Array.from({ length: 150 }, (_, i) => ({
      ...base,
      id: `ev-s${i}`,
      type: 'comment' as const,
      kind: 'comment' as const,
      commentId: `s${String(i).padStart(3, '0')}`,
      postId: 'p1',
      text: i % 3 === 0 ? 'love it, great drop' : i % 3 === 1 ? 'awful, it broke' : 'it came today',
      occurredAt: iso(T0 + i),
    }));
    await consumer.handleBatch(batchOf(org, comments));
    expect(calls).toEqual([64, 64, 22]);
    const stored = await texts(org);
    expect(stored).toHaveLength(150);
    const expected = await vader.score(comments.map((c) => c.text));
    stored.forEach((row, i) => {
      expect(row.sentiment).toBeCloseTo(expected[i] ?? NaN, 4);
      expect([row.scorer, row.scorer_version]).toEqual(['vader', vader.version]);
    });
    const hit = (await search.search({ orgId: org, text: 'broke', limit: 1 })).hits[0];
    expect(hit?.document.scorer).toEqual({ name: 'vader', version: vader.version });
  });

  test('a scorer that fails fails the batch, writing nothing', async () => {
    const org = 'org-text-score-fail';
    const failing: SentimentScorer = {
      name: 'down',
      version: '0',
      score: () => Promise.reject(new Error('model server unreachable')),
      close: async () => undefined,
    };
    const consumer = createTextConsumer({
      olap,
      search,
      sentiment: { scorer: failing, batchSize: 64 },
      logger,
    });
    await expect(consumer.handleBatch(batchOf(org, [post('p1', 'hello', T0)]))).rejects.toThrow(
      /unreachable/,
    );
    expect(await rawCount(org)).toBe(0);
  });
});

describe('text consumer', () => {
  test('writes posts, comments and mentions with sentiment to texts and the search index', async () => {
    const org = 'org-text-1';
    const consumer = createTextConsumer({ olap, search, sentiment, logger });
    await consumer.handleBatch(
      batchOf(org, [
        post('p1', 'Our new trail shoes are here and we love them', T0),
        {
          ...base,
          id: 'ev-c1',
          type: 'comment',
          kind: 'comment',
          commentId: 'c1',
          postId: 'p1',
          authorHandle: '@runner',
          text: 'These shoes are awful, they broke in a week',
          occurredAt: iso(T0 + 60_000),
        },
        {
          ...base,
          id: 'ev-m1',
          type: 'comment',
          kind: 'mention',
          commentId: 'm1',
          text: 'Spotted the trail shoes at the marathon',
          occurredAt: iso(T0 + 120_000),
        },
        {
          ...base,
          id: 'ev-e1',
          type: 'engagement',
          metric: 'likes',
          mode: 'delta',
          value: 3,
          postId: 'p1',
          occurredAt: iso(T0),
        },
      ]),
    );

    const stored = await texts(org);
    expect(
      stored.map(({ id, kind, post_id, author_handle, at }) => ({
        id,
        kind,
        post_id,
        author_handle,
        at,
      })),
    ).toEqual([
      { id: 'c1', kind: 'comment', post_id: 'p1', author_handle: '@runner', at: T0 + 60_000 },
      { id: 'm1', kind: 'mention', post_id: '', author_handle: '', at: T0 + 120_000 },
      { id: 'p1', kind: 'post', post_id: 'p1', author_handle: '', at: T0 },
    ]);
    const byId = new Map(stored.map((t) => [t.id, t]));
    expect(byId.get('p1')?.sentiment).toBeGreaterThan(0);
    expect(byId.get('c1')?.sentiment).toBeLessThan(0);
    expect(byId.get('m1')?.sentiment).toBe(0);

    const found = await search.search({ orgId: org, text: 'trail shoes', limit: 10 });
    expect(found.hits.map((h) => [h.document.id, h.document.kind, h.document.postId])).toEqual([
      ['m1', 'mention', null],
      ['p1', 'post', 'p1'],
    ]);
    expect(found.hits[1]?.document.sentiment).toBeCloseTo(byId.get('p1')?.sentiment ?? NaN, 4);
  });

  test('processing the same batch again changes nothing visible', async () => {
    const org = 'org-text-2';
    const consumer = createTextConsumer({ olap, search, sentiment, logger });
    const batch = batchOf(org, [
      post('p1', 'first words', T0),
      {
        ...base,
        id: 'ev-c1',
        type: 'comment',
        kind: 'comment',
        commentId: 'c1',
        postId: 'p1',
        text: 'nice words',
        occurredAt: iso(T0),
      },
    ]);
    await consumer.handleBatch(batch);
    const before = await texts(org);
    const searchBefore = await search.search({ orgId: org, text: 'words', limit: 10 });
    await consumer.handleBatch(batch);
    await consumer.handleBatch(batch);
    expect(await texts(org)).toEqual(before);
    expect(await search.search({ orgId: org, text: 'words', limit: 10 })).toEqual(searchBefore);
    expect(searchBefore.total).toBe(2);
  });

  test('a post update replaces its text, and replaying the older version does not bring it back', async () => {
    const org = 'org-text-3';
    const consumer = createTextConsumer({ olap, search, sentiment, logger });
    const published = batchOf(org, [post('p1', 'draft caption', T0)]);
    await consumer.handleBatch(published);
    await consumer.handleBatch(batchOf(org, [post('p1', 'final caption', T0 + 60_000, 'updated')]));
    await consumer.handleBatch(published);
    expect((await texts(org)).map((t) => t.text)).toEqual(['final caption']);
    expect((await search.search({ orgId: org, text: 'draft', limit: 5 })).total).toBe(0);
    expect(
      (await search.search({ orgId: org, text: 'caption', limit: 5 })).hits[0]?.document.text,
    ).toBe('final caption');
    // Both revisions in one batch: one row is written, the newer.
    const org2 = 'org-text-3b';
    await consumer.handleBatch(
      batchOf(org2, [post('p1', 'newer', T0 + 1), post('p1', 'older', T0)]),
    );
    expect(await rawCount(org2)).toBe(1);
    expect((await texts(org2)).map((t) => t.text)).toEqual(['newer']);
  });

  test('dead-letters malformed messages with their reason and keeps the rest', async () => {
    const org = 'org-text-4';
    const consumer = createTextConsumer({ olap, search, sentiment, logger });
    const { outcomes } = await consumer.handleBatch(
      batchOf(org, [
        '{not json',
        JSON.stringify({ orgId: org, receivedAt: T0, event: { type: 'comment', id: 'x' } }),
        post('p1', 'still indexed', T0),
      ]),
    );
    expect(outcomes.map((o) => [o.kind, o.message.offset])).toEqual([
      ['dlq', 0],
      ['dlq', 1],
    ]);
    expect(outcomes[0]?.reason).toBe('malformed: message is not JSON');
    expect(outcomes[1]?.reason).toMatch(/^malformed: .*(commentId|accountId|platform)/);
    expect((await texts(org)).map((t) => t.id)).toEqual(['p1']);
  });

  test('writes nothing for a batch without texts', async () => {
    const org = 'org-text-5';
    const consumer = createTextConsumer({ olap, search, sentiment, logger });
    await consumer.handleBatch(
      batchOf(org, [
        {
          ...base,
          id: 'ev-prof',
          type: 'profile',
          handle: 'shop',
          displayName: 'Shop',
          followers: 1,
          following: 2,
          postCount: 3,
          occurredAt: iso(T0),
        },
      ]),
    );
    expect(await rawCount(org)).toBe(0);
  });
});
