import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { createOlapSink } from '../../ingest/pipeline/olap-sink.consumer.ts';
import type { MessageOutcome } from '../../ingest/pipeline/outcome.ts';
import { METRICS } from '../../schema/event-envelope.ts';
import { knownBatch } from '../../test/support/known-batch.ts';
import { distinctUsers, recount, type Grain } from '../../test/support/recount.ts';
import { createMetricsStore, readAccountSeries } from './metrics.store.ts';
import { eventsBatch } from '../../test/support/events-batch.ts';

const END = Date.UTC(2026, 2, 3, 17, 30);
const batch = knownBatch({ end: END, hours: 24 * 40, size: 1500 });
const ORG = 'org-store-test';

describe('metrics store over chDB', () => {
  let olap: Olap;
  const letters: MessageOutcome[] = [];

  beforeAll(async () => {
    olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-metrics-')) });
    await applyOlapSchema(olap);
    const sink = createOlapSink({ olap });
    const { events } = batch;
    const first = await sink.handleBatch(eventsBatch(ORG, events, END, ['{"not":"an envelope"}']));
    expect(first.inserted).toBe(batch.events.length);
    letters.push(...first.outcomes);
    // Redelivery of the same batch, and of half of it in another split: nothing changes.
    const again = await sink.handleBatch(eventsBatch(ORG, events, END));
    expect(again).toEqual({ inserted: 0, duplicates: events.length, outcomes: [] });
    await sink.handleBatch(eventsBatch(ORG, events.slice(0, events.length / 2), END));
  });
  afterAll(() => olap.close());

  test('a malformed message is dead-lettered with its reason', () => {
    expect(letters).toHaveLength(1);
    expect(letters[0]?.kind).toBe('dlq');
    expect(letters[0]?.reason).toMatch(/orgId|event/);
  });

  for (const grain of ['hour', 'day', 'month'] as Grain[]) {
    test(`every ${grain} bucket equals a recount of the raw events`, async () => {
      const store = createMetricsStore({ olap });
      const series = await readAccountSeries(store, {
        orgId: ORG,
        accountId: batch.accountId,
        platform: 'instagram',
        from: batch.from,
        to: batch.to,
        granularity: grain,
        metrics: [...METRICS],
      });
      const expected = recount(batch.events, grain);
      for (const one of series) {
        const want = expected.get(one.metric) ?? new Map<number, number>();
        const got = new Map(one.points.filter((p) => p.value !== 0).map((p) => [p.at, p.value]));
        const wantNonZero = new Map([...want].filter(([, v]) => v !== 0));
        if (one.metric === 'unique_users') {
          // uniqCombined64 is exact below a few thousand distinct values.
          expect(got, one.metric).toEqual(wantNonZero);
          expect(one.total).toBe(distinctUsers(batch.events));
        } else {
          expect(got, one.metric).toEqual(wantNonZero);
          expect(one.total).toBe([...want.values()].reduce((a, b) => a + b, 0));
        }
      }
    });
  }

  test('a sub-range starts from the level before it, not from zero', async () => {
    const store = createMetricsStore({ olap });
    const from = batch.from + 10 * 86_400_000;
    const series = await readAccountSeries(store, {
      orgId: ORG,
      accountId: batch.accountId,
      platform: 'instagram',
      from,
      to: batch.to,
      granularity: 'day',
      metrics: ['impressions', 'followers'],
    });
    const expected = recount(batch.events, 'day');
    for (const one of series) {
      for (const point of one.points) {
        expect(point.value, `${one.metric} @ ${new Date(point.at).toISOString()}`).toBe(
          expected.get(one.metric)?.get(point.at) ?? 0,
        );
      }
    }
  });

  test('post metrics count only that post', async () => {
    const store = createMetricsStore({ olap });
    const postId = batch.postIds[1]!;
    const series = await readAccountSeries(store, {
      orgId: ORG,
      accountId: batch.accountId,
      platform: 'instagram',
      postId,
      from: batch.from,
      to: batch.to,
      granularity: 'day',
      metrics: ['likes', 'impressions'],
    });
    const expected = recount(batch.events, 'day', postId);
    for (const one of series) {
      const want = [...(expected.get(one.metric)?.values() ?? [])].reduce((a, b) => a + b, 0);
      expect(one.total, one.metric).toBe(want);
    }
  });

  test('another organisation sees nothing', async () => {
    const store = createMetricsStore({ olap });
    const series = await readAccountSeries(store, {
      orgId: 'someone-else',
      accountId: batch.accountId,
      platform: 'instagram',
      from: batch.from,
      to: batch.to,
      granularity: 'month',
      metrics: [...METRICS],
    });
    expect(series.every((s) => s.total === 0)).toBe(true);
  });
});
