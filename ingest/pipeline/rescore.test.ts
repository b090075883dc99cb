import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../../lib/logger.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { createClickHouseSearch } from '../../lib/search/clickhouse.search.ts';
import type { SearchIndex } from '../../lib/search/search.port.ts';
import type { SentimentScorer } from '../../lib/sentiment/sentiment.port.ts';
import { createVaderScorer } from '../../lib/sentiment/vader.sentiment.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import { rescoreTexts, type RescoreProgress } from './rescore.ts';
import { createTextConsumer } from './text.consumer.ts';
import { eventsBatch } from '../../test/support/events-batch.ts';

const T0 = Date.UTC(2026, 3, 1, 9, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const logger = createLogger('silent');

let olap: Olap;
let search: SearchIndex;
const vader = createVaderScorer();
/** What scored the texts before: every text neutral. */
const old: SentimentScorer = {
  name: 'old',
  version: '0.9',
  score: async (texts) => texts.map(() => 0),
  close: async () => undefined,
};

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-rescore-')) });
  await applyOlapSchema(olap);
  await olap.command('SYSTEM STOP MERGES texts');
  await olap.command('SYSTEM STOP MERGES text_search');
  search = createClickHouseSearch(olap);
});
afterAll(async () => olap.close());

const TEXTS = ['love it, great work', 'awful, it broke again', 'arrived today'];

function comment(i: number, text: string, at = T0 + i): EventInput {
  return {
    id: `ev-${i}-${at}`,
    type: 'comment',
    kind: 'comment',
    platform: 'instagram',
    accountId: 'acct',
    commentId: `c${String(i).padStart(4, '0')}`,
    postId: 'p1',
    text,
    occurredAt: iso(at),
  };
}

async function ingest(orgId: string, events: EventInput[], scorer: SentimentScorer) {
  const consumer = createTextConsumer({
    olap,
    search,
    sentiment: { scorer, batchSize: 64 },
    logger,
  });
  await consumer.handleBatch(eventsBatch(orgId, events, T0));
}

async function stored(orgId: string) {
  return olap.query<{ id: string; text: string; sentiment: number; scorer: string }>(
    `SELECT id, text, round(sentiment, 4) AS sentiment, scorer FROM texts
     WHERE org_id = {org:String}
     ORDER BY id, version DESC, scored_at DESC LIMIT 1 BY id`,
    { org: orgId },
  );
}

describe('rescore', () => {
  test('re-scores every text another scorer scored, in pages, reporting progress', async () => {
    const events = Array.from({ length: 250 }, (_, i) => comment(i, TEXTS[i % 3]!));
    await ingest('org-r1', events, old);
    await ingest('org-r2', [comment(0, 'love it, great work')], old);
    // c0001 is edited after the old scoring, by the new scorer: nothing to redo there.
    await ingest('org-r1', [comment(1, 'now I hate it', T0 + 10_000)], vader);
    expect((await stored('org-r1')).filter((r) => r.scorer === 'old')).toHaveLength(249);

    const seen: RescoreProgress[] = [];
    const calls: number[] = [];
    const counting: SentimentScorer = {
      ...vader,
      score: (texts) => {
        calls.push(texts.length);
        return vader.score(texts);
      },
    };
    const result = await rescoreTexts({
      olap,
      search,
      sentiment: { scorer: counting, batchSize: 64 },
      orgId: 'org-r1',
      pageSize: 100,
      onProgress: (p) => seen.push(p),
    });
    expect(result).toEqual({ done: 249, total: 249, refused: 0 });
    expect(seen.map((p) => p.done)).toEqual([100, 200, 249]);
    expect(calls).toEqual([64, 36, 64, 36, 49]);

    const rows = await stored('org-r1');
    expect(rows).toHaveLength(250);
    const expected = await vader.score(rows.map((r) => r.text));
    rows.forEach((r, i) => {
      expect(r.scorer, r.id).toBe('vader');
      expect(r.sentiment, r.id).toBeCloseTo(expected[i]!, 4);
    });
    // The edit kept its text; the other organisation was left alone.
    expect(rows.find((r) => r.id === 'c0001')?.text).toBe('now I hate it');
    expect((await stored('org-r2')).map((r) => r.scorer)).toEqual(['old']);

    // The search index has the new scores and scorer too.
    const broke = await search.search({ orgId: 'org-r1', text: 'broke', limit: 500 });
    expect(broke.total).toBe(82); // 83 sent, one edited away
    for (const hit of broke.hits) {
      expect(hit.document.scorer).toEqual({ name: 'vader', version: vader.version });
      expect(hit.document.sentiment).toBeLessThan(-0.05);
    }
    const negative = await search.search({
      orgId: 'org-r1',
      text: 'it',
      limit: 1,
      sentiment: { classes: ['negative'] },
    });
    expect(negative.total).toBe(83); // those and the edit

    // A second run finds nothing left to do; --all redoes them.
    const again = await rescoreTexts({ olap, search, sentiment: { scorer: vader, batchSize: 64 } });
    expect(again).toEqual({ done: 1, total: 1, refused: 0 }); // org-r2's one text
    expect(
      await rescoreTexts({ olap, search, sentiment: { scorer: vader, batchSize: 64 } }),
    ).toEqual({ done: 0, total: 0, refused: 0 });
    const redo = await rescoreTexts({
      olap,
      search,
      sentiment: { scorer: vader, batchSize: 64 },
      orgId: 'org-r2',
      all: true,
    });
    expect(redo.done).toBe(1);
  });
});
